"""The heading frame: MuJoCo's dynamics turn with a free-floating robot's heading, and so must a model's.

The oracle is MuJoCo itself: turning a humanoid lying on the floor about the vertical axis turns its next state
the same way. A model with ``heading_frame`` does so to float precision; one without it does not.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from mosim.models import ModelConfig, build_model, model_preset
from mosim.models.heading import HeadingFrame, heading_cos_sin, isotropic_scale
from mosim.models.quaternion import quat_mul
from mosim.systems import make_system, with_geometry
from mosim.systems.layout import FREE

ANGLES = (0.7, -2.3)


def _yaw_quat(angle: float) -> np.ndarray:
    return np.array([math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)])


def _turn(layout, q: np.ndarray, v: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """The state of the whole robot turned by ``angle`` about the world's vertical axis through the origin."""
    q, v = q.copy(), v.copy()
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    yaw = torch.as_tensor(_yaw_quat(angle))
    for t, qa, va in zip(layout.types, layout.qpos_adr, layout.qvel_adr):
        if t == FREE:
            q[..., qa:qa + 2] = q[..., qa:qa + 2] @ rot.T
            q[..., qa + 3:qa + 7] = quat_mul(yaw, torch.as_tensor(q[..., qa + 3:qa + 7])).numpy()
            v[..., va:va + 2] = v[..., va:va + 2] @ rot.T  # linear velocity (world frame); angular is body frame
    return q, v


@pytest.fixture(scope="module")
def humanoid_states():
    """States of a humanoid flailing on the floor under random actions (contacts, limits), and actions."""
    system = make_system("humanoid-walk")
    rng = np.random.default_rng(0)
    qs, vs, acts = [], [], []
    for seed in range(3):
        system.reset(seed)
        for t in range(60):
            a = rng.uniform(system.action_low, system.action_high)
            if t % 20 == 19:
                q, v = system.get_state()
                qs.append(q)
                vs.append(v)
                acts.append(a)
            system.step(a)
    return system, np.array(qs), np.array(vs), np.array(acts)


def test_heading_is_the_twist_about_vertical():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        psi = float(torch.rand(1, generator=g)) * 2 * math.pi - math.pi
        axis = torch.randn(3, generator=g, dtype=torch.float64)
        axis[2] = 0.0
        axis = axis / axis.norm()
        theta = float(torch.rand(1, generator=g)) * 3.0  # any tilt short of upside down
        swing = torch.cat((torch.tensor([math.cos(theta / 2)], dtype=torch.float64), axis * math.sin(theta / 2)))
        quat = quat_mul(torch.as_tensor(_yaw_quat(psi)), swing)
        cos, sin = heading_cos_sin(quat * 1.7)  # not unit: the heading does not depend on the norm
        assert cos.item() == pytest.approx(math.cos(psi), abs=1e-12)
        assert sin.item() == pytest.approx(math.sin(psi), abs=1e-12)
    cos, sin = heading_cos_sin(torch.tensor([0.0, 1.0, 0.0, 0.0]))  # upside down: heading 0, not NaN
    assert (cos.item(), sin.item()) == (1.0, 0.0)


def test_to_heading_and_back(humanoid_states):
    system, q, v, _ = humanoid_states
    frame = HeadingFrame(system.spec().layout)
    qt, vt = torch.as_tensor(q), torch.as_tensor(v)
    h = frame.to_heading(qt, vt)
    assert torch.allclose(frame.to_world(qt, h), vt, atol=1e-12)
    assert torch.equal(h[:, 2:], vt[:, 2:])  # only the horizontal linear velocity turns
    assert torch.allclose(h[:, :2].norm(dim=-1), vt[:, :2].norm(dim=-1))
    assert not HeadingFrame(make_system("cheetah-run").spec().layout).active  # planar: nothing to turn


def test_mujoco_turns_with_the_heading(humanoid_states):
    """The symmetry the models rely on, checked on MuJoCo: stepping a turned state gives the turned next state, up to
    the humanoid's pyramidal friction cones (their edges follow the floor's axes, not the robot: about 0.01 in a
    velocity here). Turning the position but not the linear velocity misses by 0.1 to 1."""
    system, q, v, a = humanoid_states
    layout = system.spec().layout
    for angle in ANGLES:
        for i in range(len(q)):
            system.set_state(q[i], v[i])
            q1, v1 = system.step(a[i])
            system.set_state(*_turn(layout, q[i], v[i], angle))
            q1t, v1t = system.step(a[i])
            want_q, want_v = _turn(layout, q1, v1, angle)
            np.testing.assert_allclose(q1t, want_q, atol=1e-3)
            np.testing.assert_allclose(v1t, want_v, atol=0.03)


@pytest.mark.parametrize("kind", ["structured", "plain_delta"])
@pytest.mark.parametrize("contact", [False, True])
def test_a_model_in_the_heading_frame_turns_with_the_robot(humanoid_states, kind, contact):
    system, q, v, a = humanoid_states
    spec = with_geometry(system.spec()) if contact else system.spec()
    layout = spec.layout
    config = model_preset("tiny", kind=kind, contact_features=contact, bound_to_data=False)
    torch.manual_seed(0)
    model = build_model(spec, config).double()
    torch.manual_seed(0)
    world = build_model(spec, replace(config, heading_frame=False)).double()
    qt, vt, at = (torch.as_tensor(x) for x in (q, v, a))
    for angle in ANGLES:
        qr, vr = (torch.as_tensor(x) for x in _turn(layout, q, v, angle))
        feats = model.features
        assert torch.allclose(feats.velocity_features(qr, vr), feats.velocity_features(qt, vt), atol=1e-10)
        with torch.no_grad():
            q1, v1 = model.step(qt, vt, at)
            q1r, v1r = model.step(qr, vr, at)
            want_q, want_v = _turn(layout, q1.numpy(), v1.numpy(), angle)
            assert np.allclose(q1r.numpy(), want_q, atol=1e-9) and np.allclose(v1r.numpy(), want_v, atol=1e-9)
            # the same (fresh, nearly silent) network without the heading frame sees another state and predicts
            # another motion, by orders of magnitude more than float precision
            w1, u1 = world.step(qt, vt, at)
            w1r, u1r = world.step(qr, vr, at)
            assert np.abs(u1r.numpy() - _turn(layout, w1.numpy(), u1.numpy(), angle)[1]).max() > 1e-5


def test_isotropic_scale_and_old_checkpoints(humanoid_states):
    layout = humanoid_states[0].spec().layout
    scale = torch.arange(1.0, layout.nv + 1.0, dtype=torch.float64)
    iso = isotropic_scale(layout, scale)
    assert iso[0] == iso[1] == pytest.approx(math.sqrt((1 + 4) / 2))
    assert torch.equal(iso[2:], scale[2:])
    old = json.loads(ModelConfig().to_json())
    del old["heading_frame"]
    assert ModelConfig.from_checkpoint_json(json.dumps(old)).heading_frame is False
    assert ModelConfig().heading_frame and not ModelConfig(kind="ensemble").uses_heading_frame


def test_velocity_statistics_are_those_of_what_the_networks_see(tmp_path):
    """The velocity normalizer's statistics are the heading-frame velocities' (until 2026-11-27 a robot with a free
    joint and no contact features, the humanoid, got those of the world-frame velocities)."""
    import mosim
    from mosim.models.features import StateFeatures
    from mosim.models.normalization import MeanStd, compute_normalization, transitions

    cfg = mosim.CollectConfig(system="humanoid-walk", out=str(tmp_path / "h.h5"), episodes=4, steps=60, workers=1,
                              substeps=1, split=(0.5, 0.5, 0.0))
    ds = mosim.load_dataset(mosim.collect(cfg, progress=False))
    tr = transitions(ds, "train")
    features = StateFeatures(ds.spec.layout, heading_frame=True).double()
    expected = MeanStd.of(features.velocity_features(tr["q0"], tr["v0"]), 1e-6)
    got = compute_normalization(ds, heading_frame=True, min_std=1e-6).velocity
    torch.testing.assert_close(got.mean, expected.mean)
    torch.testing.assert_close(got.std, expected.std)
    world = compute_normalization(ds, heading_frame=False, min_std=1e-6).velocity
    assert not torch.allclose(world.mean[:2], got.mean[:2])  # the frames differ on this data
