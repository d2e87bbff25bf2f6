"""M(q) from the model file's inertias (ModelConfig.known_inertia): against MuJoCo's own mj_fullM, and models that use
it."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from mosim.errors import InvalidInputError
from mosim.models import ModelConfig, build_model
from mosim.models.inertia import KnownInertia
from mosim.systems import make_system, with_mechanics
from mosim.systems.base import SystemSpec
from mosim.systems.geometry import ContactGeometry
from mosim.systems.inertia import BodyInertias

from model_helpers import TINY, ZOO_XML, random_stats


def _random_configurations(model: mujoco.MjModel, n: int, seed: int = 0) -> list[np.ndarray]:
    """Configurations far from the reference pose, quaternions unit."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        q = model.qpos0 + rng.normal(size=model.nq)
        for j in range(model.njnt):
            kind = model.jnt_type[j]
            if kind in (mujoco.mjtJoint.mjJNT_FREE, mujoco.mjtJoint.mjJNT_BALL):
                a = model.jnt_qposadr[j] + (3 if kind == mujoco.mjtJoint.mjJNT_FREE else 0)
                q[a:a + 4] /= np.linalg.norm(q[a:a + 4])
        out.append(q)
    return out


def _mujoco_mass_matrix(model: mujoco.MjModel, q: np.ndarray) -> np.ndarray:
    data = mujoco.MjData(model)
    data.qpos[:] = q
    mujoco.mj_forward(model, data)
    full = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, full)
    return full


@pytest.mark.parametrize("system", ["cheetah-run", "hopper-hop", "humanoid-run", "go2", "panda", "zoo"])
def test_mass_matrix_is_mujocos(system: str) -> None:
    """Free, ball, hinge and slide joints; armature (the Panda's, the Go2's), inertia frames off the body's."""
    model = mujoco.MjModel.from_xml_string(ZOO_XML) if system == "zoo" else make_system(system).model
    known = KnownInertia(ContactGeometry.from_model(model), BodyInertias.from_model(model), model.nv)
    qs = _random_configurations(model, 4)
    ours = known.mass_matrix(torch.tensor(np.stack(qs)))
    for q, m in zip(qs, ours):
        want = _mujoco_mass_matrix(model, q)
        np.testing.assert_allclose(m.numpy(), want, rtol=1e-10, atol=1e-12 * np.abs(want).max())
    np.testing.assert_allclose((known(torch.tensor(qs[0])) @ ours[0]).numpy(), np.eye(model.nv), atol=1e-9)


def test_mass_matrix_gradients() -> None:
    model = make_system("cheetah-run").model
    known = KnownInertia(ContactGeometry.from_model(model), BodyInertias.from_model(model), model.nv)
    q = torch.tensor(np.stack(_random_configurations(model, 2, seed=1)), requires_grad=True)
    assert torch.autograd.gradcheck(known, (q,))


def test_inertias_round_trip_and_bad_records() -> None:
    spec = with_mechanics(make_system("go2").spec(), inertias=True)
    assert spec.geometry is not None and spec.inertias is not None
    assert SystemSpec.from_json(spec.to_json()).inertias == spec.inertias
    assert BodyInertias.from_json(spec.inertias.to_json()) == spec.inertias
    with pytest.raises(InvalidInputError, match="body-inertias record"):
        BodyInertias.from_dict({"mass": [1.0]})
    with pytest.raises(InvalidInputError, match="expected 2"):
        BodyInertias((1.0, 1.0), ((0.0, 0.0, 0.0),), ((1.0, 0, 0, 0),) * 2, ((1.0, 1.0, 1.0),) * 2, (), ())
    with pytest.raises(InvalidInputError, match=">= 0"):
        BodyInertias((-1.0,), ((0.0, 0.0, 0.0),), ((1.0, 0, 0, 0),), ((1.0, 1.0, 1.0),), (), ())


def _air_state(model: mujoco.MjModel, seed: int) -> np.ndarray:
    """A configuration clear of the floor (the root lifted) and of the joints' limits, so that no constraint acts."""
    q = _random_configurations(model, 1, seed)[0] * 0.3 + model.qpos0 * 0.7
    for j in range(model.njnt):
        if model.jnt_limited[j]:
            lo, hi = model.jnt_range[j]
            q[model.jnt_qposadr[j]] = np.clip(q[model.jnt_qposadr[j]], lo + 0.3 * (hi - lo), hi - 0.3 * (hi - lo))
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
            a = model.jnt_qposadr[j]
            q[a + 2] = 3.0
            q[a + 3:a + 7] /= np.linalg.norm(q[a + 3:a + 7])
        elif model.jnt_type[j] == mujoco.mjtJoint.mjJNT_SLIDE and model.jnt_axis[j][2] > 0.5:
            q[model.jnt_qposadr[j]] = 3.0
    return q


@pytest.mark.parametrize("system", ["cheetah-run", "go2"])
def test_the_models_response_to_the_action_is_mujocos(system: str) -> None:
    """With M known and the actuators' force known, the networks' forces b(q, v) do not depend on the action, so the
    change of the model's acceleration between two actions is MuJoCo's, M⁻¹ Δqfrc_actuator, whatever the networks
    (random ones here, with random normalizers; the Go2 through its heading frame)."""
    sys_ = make_system(system)
    model = sys_.model
    spec = with_mechanics(sys_.spec(), inertias=True, actuation=True)
    config = ModelConfig(**{**TINY.__dict__, "known_inertia": True, "known_actuation": True, "n_correctors": 0,
                            "bound_to_data": False})
    sim = build_model(spec, config, random_stats(spec)).double()
    assert sim.predictor.inertia is None
    model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONSTRAINT  # the Go2's legs can touch each other
    rng = np.random.default_rng(3)
    data = mujoco.MjData(model)
    for seed in range(3):
        q, v = _air_state(model, seed), rng.normal(size=model.nv) * 0.5
        actions = rng.uniform(sys_.spec().action_low, sys_.spec().action_high, size=(2, model.nu))
        qacc = []
        for a in actions:
            data.qpos[:], data.qvel[:], data.ctrl[:] = q, v, a
            mujoco.mj_forward(model, data)
            assert data.nefc == 0
            qacc.append(data.qacc.copy())
        ours = sim.acceleration(torch.tensor(np.stack([q, q])), torch.tensor(np.stack([v, v])), torch.tensor(actions))
        got = (ours[1] - ours[0]).detach().numpy()
        np.testing.assert_allclose(got, qacc[1] - qacc[0], rtol=1e-7, atol=1e-9 * np.abs(qacc[1] - qacc[0]).max())


def test_force_scale_and_checkpoint_round_trip() -> None:
    """The networks' forces are scaled by 1 / diag M⁻¹(qpos0) in normalized units; a model rebuilt from the spec's
    JSON and the state dict predicts the same, and a state dict without the scale loads with 1."""
    system = make_system("cheetah-run")
    spec = with_mechanics(system.spec(), contacts=True, limits=True, actuation=True, inertias=True)
    stats = random_stats(spec)
    config = ModelConfig(**{**TINY.__dict__, "known_inertia": True, "contact_constraints": True})
    sim = build_model(spec, config, stats).double()
    std = stats.acceleration.std
    want = std ** 2 / torch.tensor(system.model.dof_invweight0)  # 1 / diag(S⁻¹ M⁻¹ S⁻¹) at qpos0
    np.testing.assert_allclose(sim.predictor.force_scale.double().numpy(), want.numpy(), rtol=1e-5)
    q, v = torch.tensor(system.model.qpos0)[None], torch.zeros(1, spec.nv, dtype=torch.float64)
    a = torch.full((1, spec.nu), 0.3, dtype=torch.float64)
    q1, v1 = sim.step(q, v, a)
    rebuilt = build_model(SystemSpec.from_json(spec.to_json()), config).double()
    rebuilt.load_state_dict(sim.state_dict())
    assert torch.equal(rebuilt.step(q, v, a)[1], v1)
    state = sim.state_dict()
    del state["predictor.force_scale"]
    rebuilt.load_state_dict(state)
    assert (rebuilt.predictor.force_scale == 1).all()


def test_known_inertia_is_refused_where_it_cannot_work() -> None:
    with pytest.raises(InvalidInputError, match="no start"):
        ModelConfig(known_inertia=True, inertia_start="mujoco", limit_constraints=True)
    with pytest.raises(InvalidInputError, match="structured model's M"):
        ModelConfig(known_inertia=True, kind="plain_delta")
    bare = make_system("cheetah-run").spec()
    with pytest.raises(InvalidInputError, match="with_mechanics\\(spec, inertias=True\\)"):
        build_model(bare, ModelConfig(**{**TINY.__dict__, "known_inertia": True}))
