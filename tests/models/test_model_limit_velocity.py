"""The limit velocity features: each limited joint's velocity where it is past a limit, ``v [q < lo]`` and
``v [q > hi]``.

The oracle is MuJoCo: on random states of the cheetah around its joints' limits, a feature is non-zero exactly where
``mj_forward`` makes that joint's limit constraint, on that side, and equals the joint's velocity there.
"""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest
import torch

from mosim.errors import InvalidInputError
from mosim.models import ModelConfig, StateFeatures, build_model, model_preset
from mosim.models.normalization import compute_normalization, model_inputs
from mosim.systems import make_system
from mosim.systems.layout import HINGE, SLIDE


@pytest.fixture(scope="module")
def cheetah():
    system = make_system("cheetah-run")
    return system.model, system.spec()


def _states_near_limits(model: mujoco.MjModel, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random states whose limited joints sit anywhere from 0.2 below their lower limit to 0.2 above the upper."""
    rng = np.random.default_rng(seed)
    q = np.tile(model.qpos0, (n, 1))
    for j in range(model.njnt):
        if model.jnt_limited[j] and int(model.jnt_type[j]) in (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)):
            lo, hi = model.jnt_range[j]
            q[:, model.jnt_qposadr[j]] = rng.uniform(lo - 0.2, hi + 0.2, n)
    q[:, model.jnt_qposadr[0] + 1] = 2.0  # the root high above the floor: no contacts, only limits
    v = rng.normal(0.0, 3.0, (n, model.nv))
    return q, v


def _mujoco_active_limits(model: mujoco.MjModel, q: np.ndarray, v: np.ndarray) -> set[tuple[int, str]]:
    """``(joint, "lower" | "upper")`` of every joint limit constraint MuJoCo makes in this state."""
    data = mujoco.MjData(model)
    data.qpos[:], data.qvel[:] = q, v
    mujoco.mj_forward(model, data)
    active = set()
    for i in range(data.nefc):
        if int(data.efc_type[i]) == int(mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT):
            j = int(data.efc_id[i])
            lo, hi = model.jnt_range[j]
            active.add((j, "lower" if q[model.jnt_qposadr[j]] < 0.5 * (lo + hi) else "upper"))
    return active


def test_the_features_are_nonzero_where_mujoco_makes_a_limit_constraint(cheetah):
    model, spec = cheetah
    features = StateFeatures(spec.layout, limit_velocity=True).double()
    joints = [j for j, t in enumerate(spec.layout.types) if t in (HINGE, SLIDE) and spec.layout.limited[j]]
    assert features.limit_velocity_dim == 2 * len(joints) == 12
    q, v = _states_near_limits(model, 200)
    out = features.velocity_features(torch.as_tensor(q), torch.as_tensor(v)).numpy()
    assert out.shape == (200, spec.nv + 12)
    np.testing.assert_array_equal(out[:, :spec.nv], v)
    lim = out[:, spec.nv:]
    n_active = 0
    for i in range(len(q)):
        active = _mujoco_active_limits(model, q[i], v[i])
        n_active += len(active)
        for k, j in enumerate(joints):
            dof = spec.layout.qvel_adr[j]
            for side, col in (("lower", k), ("upper", len(joints) + k)):
                expected = v[i, dof] if (j, side) in active else 0.0
                assert lim[i, col] == expected, (i, j, side)
    assert 100 < n_active < 200 * len(joints)  # both kinds of state are well represented


def test_statistics_gate_like_the_contact_speeds(reacher_data):
    spec = reacher_data.spec
    stats = compute_normalization(reacher_data, limit_velocity=True)
    plain = compute_normalization(reacher_data)
    features = StateFeatures(spec.layout, limit_velocity=True)
    n = features.limit_velocity_dim
    assert n == 2  # the wrist; the shoulder is unlimited
    assert stats.velocity.mean.shape == (spec.nv + n,)
    torch.testing.assert_close(stats.velocity.mean[:spec.nv], plain.velocity.mean)
    assert torch.all(stats.velocity.mean[-n:] == 0)
    wrist = features.limited_dofs[0]
    torch.testing.assert_close(stats.velocity.std[-n:], plain.velocity.std[wrist].repeat(2))


def test_a_model_with_them_trains_a_step_and_has_gradients(reacher_data):
    config = model_preset("tiny", limit_velocity_features=True)
    spec, stats = model_inputs(reacher_data, config)
    for kind in ("structured", "plain_delta"):
        model = build_model(spec, replace(config, kind=kind), stats).double()
        assert model.features.limit_velocity_dim == 2
        q = torch.as_tensor(reacher_data.qpos[:4, 0]).double()
        v = torch.as_tensor(reacher_data.qvel[:4, 0]).double().requires_grad_(True)
        q[:, StateFeatures(spec.layout).index.limited[0]] = 3.0  # past the wrist's upper limit
        a = torch.zeros(4, spec.nu, dtype=torch.float64)
        _, v1 = model.step(q, v, a)
        v1.sum().backward()
        assert v.grad is not None and torch.isfinite(v.grad).all()


def test_they_need_the_limit_features():
    with pytest.raises(InvalidInputError, match="limit features"):
        ModelConfig(limit_features=False, limit_velocity_features=True)
    layout = make_system("reacher-easy").spec().layout
    with pytest.raises(InvalidInputError, match="limit_features"):
        StateFeatures(layout, limit_features=False, limit_velocity=True)
    assert not model_preset("tiny", limit_velocity_features=True, kind="ensemble").uses_limit_velocity_features
