"""Contact features: our forward kinematics, floor distances and contact-point velocities against MuJoCo's own
(``mj_kinematics``, ``mj_geomDistance``, ``mj_jac``), and models that use them."""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest
import torch
from model_helpers import TINY, ZOO_XML, random_state, spec_of

import mosim
from mosim.errors import InvalidInputError
from mosim.models import build_model, compute_normalization
from mosim.models.contact import FEATURE_KINDS, ContactFeatures, forward_kinematics
from mosim.systems import make_system, with_geometry
from mosim.systems.base import SystemSpec
from mosim.systems.geometry import ContactGeometry

# Every supported shape on a floating, jointed body; a mesh that is a box; a geom the collision filter drops
# (contype 0) and a body pair excluded from contacts.
SHAPES_XML = """
<mujoco>
  <asset>
    <mesh name="brick" vertex="-.1 -.05 -.02  .1 -.05 -.02  -.1 .05 -.02  .1 .05 -.02
                               -.1 -.05  .02  .1 -.05  .02  -.1 .05  .02  .1 .05  .02"/>
  </asset>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 .1" pos="0 0 -.2"/>
    <body name="base" pos="0 0 1">
      <freejoint/>
      <geom name="ball" type="sphere" size=".1" pos=".1 .05 0"/>
      <geom name="ghost" type="sphere" size=".3" contype="0" conaffinity="0"/>
      <body name="arm" pos=".2 0 0" quat=".9 .1 .3 .2">
        <joint name="shoulder" type="ball" pos=".05 0 0"/>
        <geom name="pill" type="capsule" fromto="0 0 0 .3 .1 0" size=".04"/>
        <geom name="egg" type="ellipsoid" size=".05 .08 .12" pos=".1 0 .1" euler="20 30 40"/>
        <body name="fore" pos=".3 0 0">
          <joint name="elbow" type="hinge" axis="0 1 1" pos=".02 .01 0" range="-90 90"/>
          <joint name="slider" type="slide" axis="1 .5 0" range="-.1 .1"/>
          <geom name="can" type="cylinder" size=".05 .1" euler="10 70 0"/>
          <geom name="block" type="box" size=".05 .02 .03" pos=".2 0 0" euler="5 15 25"/>
          <geom name="brick" type="mesh" mesh="brick" pos="0 .2 0" euler="30 0 60"/>
        </body>
      </body>
      <body name="skipped" pos="-.3 0 0">
        <joint type="hinge" axis="1 0 0"/>
        <geom name="excluded" type="sphere" size=".05"/>
      </body>
    </body>
  </worldbody>
  <contact>
    <exclude body1="world" body2="skipped"/>
  </contact>
</mujoco>
"""


def _random_states(model: mujoco.MjModel, n: int, seed: int, spread: float = 0.5):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        qpos = model.qpos0 + spread * rng.standard_normal(model.nq)
        for j in range(model.njnt):
            if model.jnt_type[j] in (mujoco.mjtJoint.mjJNT_FREE, mujoco.mjtJoint.mjJNT_BALL):
                a = model.jnt_qposadr[j] + (3 if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE else 0)
                qpos[a:a + 4] /= np.linalg.norm(qpos[a:a + 4])
        yield qpos, rng.standard_normal(model.nv)


def _models() -> dict[str, mujoco.MjModel]:
    return {"shapes": mujoco.MjModel.from_xml_string(SHAPES_XML), "zoo": mujoco.MjModel.from_xml_string(ZOO_XML),
            "cheetah-run": make_system("cheetah-run").model, "humanoid-walk": make_system("humanoid-walk").model,
            "go2": make_system("go2").model}


@pytest.fixture(scope="module")
def models() -> dict[str, mujoco.MjModel]:
    return _models()


@pytest.mark.parametrize("name", ["shapes", "zoo", "cheetah-run", "humanoid-walk", "go2"])
def test_forward_kinematics_and_body_velocities_match_mujoco(models, name):
    model = models[name]
    data = mujoco.MjData(model)
    geometry = ContactGeometry.from_model(model)
    consts = ContactFeatures(geometry).constants(torch.float64)
    for qpos, qvel in _random_states(model, 5, seed=1):
        data.qpos[:], data.qvel[:] = qpos, qvel
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        bodies = forward_kinematics(torch.tensor(qpos), torch.tensor(qvel), geometry, consts)
        np.testing.assert_allclose(bodies.pos.numpy(), data.xpos[1:], atol=1e-12)
        np.testing.assert_allclose(bodies.rot.numpy().reshape(-1, 9), data.xmat[1:], atol=1e-12)
        for b in range(1, model.nbody):  # the velocity of each body's origin: MuJoCo's Jacobian times qvel
            jacp = np.zeros((3, model.nv))
            mujoco.mj_jac(model, data, jacp, None, data.xpos[b], b)
            ours = bodies.linear[b - 1] + torch.linalg.cross(bodies.angular[b - 1], bodies.pos[b - 1])
            np.testing.assert_allclose(ours.numpy(), jacp @ qvel, atol=1e-10)


@pytest.mark.parametrize("name", ["shapes", "cheetah-run", "go2"])
def test_heights_are_mujocos_floor_distances(models, name):
    """Every pair's height plus its margin is MuJoCo's signed distance of the geom to the plane, for every shape
    (the box-shaped mesh included: its bounding box is itself)."""
    model = models[name]
    data = mujoco.MjData(model)
    geometry = ContactGeometry.from_model(model)
    features = ContactFeatures(geometry)
    planes = [g for g in range(model.ngeom) if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE]
    geom_ids = [g for g in range(model.ngeom) if model.geom_bodyid[g] != 0 and
                (model.geom(g).name or f"geom{g}") in geometry.geom_name]
    assert len(geom_ids) == len(geometry.geom_name)
    k = geometry.n_pairs
    for qpos, qvel in _random_states(model, 5, seed=2):
        data.qpos[:], data.qvel[:] = qpos, qvel
        mujoco.mj_kinematics(model, data)
        heights = features(torch.tensor(qpos), torch.tensor(qvel))[:k]
        for i, (g, p) in enumerate(zip(geometry.pair_geom, geometry.pair_plane)):
            dist = mujoco.mj_geomDistance(model, data, planes[p], geom_ids[g], 10.0, None)
            assert float(heights[i]) + geometry.pair_margin[i] == pytest.approx(dist, abs=1e-9)


def test_the_collision_filter_picks_the_pairs(models):
    g = ContactGeometry.from_model(models["shapes"])
    assert set(g.geom_name) == {"ball", "pill", "egg", "can", "block", "brick"}  # not "ghost", not "excluded"
    assert g.n_pairs == 6
    assert ContactGeometry.from_json(g.to_json()) == g


def test_contact_point_velocity_and_features():
    """The speed of the lowest point is MuJoCo's Jacobian at that point times qvel; depth, touching and the gated
    speeds follow from the height."""
    model = mujoco.MjModel.from_xml_string(SHAPES_XML)
    data = mujoco.MjData(model)
    geometry = ContactGeometry.from_model(model)
    features = ContactFeatures(geometry)
    k = geometry.n_pairs
    seen = []
    for z, (qpos, qvel) in zip((-0.1, 0.0, 0.1, 0.2, 0.3), _random_states(model, 5, seed=3)):
        qpos[2] = z  # low: some geoms below the floor
        data.qpos[:], data.qvel[:] = qpos, qvel
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        f = features(torch.tensor(qpos), torch.tensor(qvel)).reshape(len(FEATURE_KINDS), k).numpy()
        height, depth, touching = f[0], f[1], f[2]
        np.testing.assert_array_equal(depth, np.maximum(-height, 0))
        np.testing.assert_array_equal(touching, (height < 0).astype(float))
        np.testing.assert_array_equal(f[6:9], f[3:6] * touching)
        for i, g in enumerate(geometry.pair_geom):
            gid = model.geom(geometry.geom_name[g]).id
            fromto = np.zeros(6)
            mujoco.mj_geomDistance(model, data, 0, gid, 10.0, fromto)
            point = fromto[3:]  # the geom's end of the shortest segment: its lowest point
            jacp = np.zeros((3, model.nv))
            mujoco.mj_jac(model, data, jacp, None, point, model.geom_bodyid[gid])
            vel = jacp @ qvel
            np.testing.assert_allclose(f[3:6, i], [vel[2], vel[0], vel[1]], atol=1e-9)
        seen += list(touching)
    assert 0 < sum(seen) < len(seen)


def test_contact_features_have_gradients():
    model = mujoco.MjModel.from_xml_string(SHAPES_XML)
    features = ContactFeatures(ContactGeometry.from_model(model))
    qpos, qvel = next(_random_states(model, 1, seed=4))
    q = torch.tensor(qpos, requires_grad=True)
    v = torch.tensor(qvel, requires_grad=True)
    assert torch.autograd.gradcheck(lambda q, v: features(q, v)[..., :features.geometry.n_pairs * 1], (q, v))
    assert torch.autograd.gradcheck(lambda q, v: features(q, v)[..., 3 * features.geometry.n_pairs:], (q, v))


def test_spec_json_keeps_the_geometry_only_when_set():
    spec = make_system("cheetah-run").spec()
    assert "geometry" not in spec.to_json()
    full = with_geometry(spec)
    assert full.geometry is not None and full.geometry.n_pairs == 8
    assert SystemSpec.from_json(full.to_json()) == full
    assert full.mismatches(spec) == []


def test_a_model_with_contact_features_needs_the_geometry():
    spec = make_system("cheetah-run").spec()
    config = replace(TINY, contact_features=True)
    with pytest.raises(InvalidInputError, match="with_geometry"):
        build_model(spec, config)
    model = build_model(with_geometry(spec), config)
    assert model.features.velocity_feature_dim == spec.nv + 9 * 8
    with pytest.raises(InvalidInputError, match="contact_features"):
        mosim.models.ModelConfig(kind="ensemble", contact_features=True)
    with pytest.raises(InvalidInputError, match="continuous"):
        mosim.models.ModelConfig(integrator="dopri5", limit_features=False, contact_features=True)


@pytest.fixture(scope="module")
def cheetah_data(tmp_path_factory: pytest.TempPathFactory) -> mosim.Dataset:
    out = tmp_path_factory.mktemp("data") / "cheetah.h5"
    cfg = mosim.CollectConfig(system="cheetah-run", out=str(out), episodes=6, steps=100, workers=1, seed=1)
    return mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))


@pytest.mark.parametrize("kind", ["structured", "plain_delta"])
def test_checkpoint_with_contact_features_predicts_the_same_without_the_system(cheetah_data, tmp_path, kind):
    from mosim.presets import get_preset
    from mosim.training.trainer import train

    config = replace(TINY, kind=kind, contact_features=True, n_correctors=0 if kind == "plain_delta" else 1)
    preset = replace(get_preset("tiny"), model=config, schedule="end_to_end", val_every_steps=10)
    result = train(cheetah_data, config, preset.train_config(max_steps=20), tmp_path / kind,
                   progress=False)
    sim = mosim.load(result.best_path)
    assert sim.spec.geometry is not None and sim.model.features.contact is not None
    # the normalization saw the contact features: depth and touching keep their fixed scales
    k = sim.spec.geometry.n_pairs
    std = sim.model.velocity_norm.std[cheetah_data.spec.nv:].reshape(9, k)
    assert torch.all(std[1] == 0.01) and torch.all(std[2] == 1.0)
    q0 = cheetah_data.qpos[:4, 0]
    v0 = cheetah_data.qvel[:4, 0]
    actions = cheetah_data.action[:4, :10]
    q, v = sim.rollout(q0, v0, actions)
    again = mosim.load(result.best_path)
    q2, v2 = again.rollout(q0, v0, actions)
    assert torch.equal(torch.as_tensor(q), torch.as_tensor(q2)) and torch.isfinite(torch.as_tensor(v)).all()


def test_normalization_of_contact_features(cheetah_data):
    spec = with_geometry(cheetah_data.spec)
    stats = compute_normalization(cheetah_data, geometry=spec.geometry)
    nv, k = spec.nv, spec.geometry.n_pairs
    assert stats.velocity.dim == nv + 9 * k
    mean, std = stats.velocity.mean[nv:].reshape(9, k), stats.velocity.std[nv:].reshape(9, k)
    assert torch.all(mean[1:3] == 0) and torch.all(mean[6:] == 0)
    assert torch.equal(std[6:], std[3:6])  # gated speeds on the scale of the speeds
    plain = compute_normalization(cheetah_data)
    torch.testing.assert_close(plain.velocity.mean, stats.velocity.mean[:nv], rtol=1e-12, atol=1e-12)


def test_random_states_of_a_spec_with_geometry_run_through_a_model():
    spec = spec_of(ZOO_XML, "zoo")
    spec = replace(spec, geometry=ContactGeometry.from_model(mujoco.MjModel.from_xml_string(ZOO_XML)))
    model = build_model(spec, replace(TINY, contact_features=True))
    q, v, a = random_state(spec, 7)
    q1, v1 = model.step(q.float(), v.float(), a.float())
    assert q1.shape == (7, spec.nq) and torch.isfinite(v1).all()
