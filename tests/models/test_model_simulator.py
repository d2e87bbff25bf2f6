"""NeuralSimulator: correctors, staged training, stepping, rollouts, validation, dtypes, checkpoints."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from model_helpers import TINY, ZOO_XML, assert_unit_quaternions, random_state, random_stats, spec_of

from mosim.errors import InvalidInputError, UnknownNameError
from mosim.integrators import step as integrate_step
from mosim.models import ModelConfig, NeuralSimulator, PlainDeltaModel, build_model, model_preset


@pytest.fixture
def zoo_sim(zoo_spec) -> NeuralSimulator:
    torch.manual_seed(0)
    return NeuralSimulator(zoo_spec, TINY, random_stats(zoo_spec))


def test_zero_initialized_corrector_changes_nothing(zoo_sim, zoo_spec):
    q, v, a = random_state(zoo_spec, 16, dtype=torch.float32)
    base = zoo_sim.acceleration(q, v, a, n_correctors=0)
    for n in (1, 2):
        assert torch.equal(zoo_sim.acceleration(q, v, a, n_correctors=n), base)
    zoo_sim.active_correctors = 2
    q1, v1 = zoo_sim.step(q, v, a)
    zoo_sim.active_correctors = 0
    q0, v0 = zoo_sim.step(q, v, a)
    assert torch.equal(q1, q0) and torch.equal(v1, v0)


def test_staged_training_leaves_frozen_parameters_bit_identical(zoo_sim, zoo_spec):
    groups = zoo_sim.parameter_groups()
    assert len(groups) == 1 + TINY.n_correctors
    assert sum(len(g) for g in groups) == len(list(zoo_sim.parameters()))
    before = [[p.detach().clone() for p in g] for g in groups]
    trainable = zoo_sim.configure_stage(1)
    assert zoo_sim.active_correctors == 1
    assert trainable == groups[1]
    opt = torch.optim.Adam(trainable, lr=1e-2)
    q, v, a = random_state(zoo_spec, 32, dtype=torch.float32)
    target = torch.randn(32, zoo_spec.nv)
    for _ in range(2):
        loss = (zoo_sim.normalized_acceleration(q, v, a) - target).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = [list(g) for g in zoo_sim.parameter_groups()]
    for k in (0, 2):
        assert all(torch.equal(b, p) for b, p in zip(before[k], after[k]))
        assert all(p.grad is None for p in after[k])
    assert any(not torch.equal(b, p) for b, p in zip(before[1], after[1]))
    # corrector 1 now contributes; everything trainable again for joint fine-tuning
    assert not torch.equal(zoo_sim.acceleration(q, v, a, 0), zoo_sim.acceleration(q, v, a, 1))
    assert len(zoo_sim.configure_stage(None)) == len(list(zoo_sim.parameters()))
    assert zoo_sim.active_correctors == 2 and all(p.requires_grad for p in zoo_sim.parameters())
    with pytest.raises(InvalidInputError):
        zoo_sim.configure_stage(3)
    with pytest.raises(InvalidInputError):
        zoo_sim.active_correctors = 3


def test_step_uses_the_integrator_and_rollout_feeds_back(zoo_sim, zoo_spec):
    q, v, a = random_state(zoo_spec, 4, dtype=torch.float32)
    q1, v1 = zoo_sim.step(q, v, a)
    expected = integrate_step(
        "semi_implicit_euler", zoo_spec.layout, lambda qq, vv: zoo_sim.acceleration(qq, vv, a), q, v, zoo_spec.dt
    )
    assert torch.allclose(q1, expected[0]) and torch.allclose(v1, expected[1])
    actions = torch.rand(4, 6, zoo_spec.nu) * 2 - 1
    actions[:, 0] = a
    qs, vs = zoo_sim.rollout(q, v, actions)
    assert qs.shape == (4, 7, zoo_spec.nq) and vs.shape == (4, 7, zoo_spec.nv)
    assert torch.equal(qs[:, 0], q) and torch.equal(vs[:, 0], v)
    assert torch.equal(qs[:, 1], q1) and torch.equal(vs[:, 1], v1)
    q2, v2 = zoo_sim.step(q1, v1, actions[:, 1])
    assert torch.equal(qs[:, 2], q2) and torch.equal(vs[:, 2], v2)
    assert_unit_quaternions(zoo_spec, qs)
    # unbatched and extra leading dimensions
    qs1, vs1 = zoo_sim.rollout(q[0], v[0], actions[0])
    assert qs1.shape == (7, zoo_spec.nq) and torch.allclose(qs1, qs[0], atol=1e-6)
    qs2, _ = zoo_sim.rollout(q.reshape(2, 2, -1), v.reshape(2, 2, -1), actions.reshape(2, 2, 6, -1))
    assert qs2.shape == (2, 2, 7, zoo_spec.nq)
    assert zoo_sim.rollout(q, v, actions[:, :0])[0].shape == (4, 1, zoo_spec.nq)


def test_horizontal_root_position_does_not_change_the_acceleration(zoo_sim, zoo_spec, planar_spec):
    q, v, a = random_state(zoo_spec, 8, dtype=torch.float32)
    moved = q.clone()
    moved[:, :2] += torch.tensor([50.0, -20.0])
    assert torch.equal(zoo_sim.acceleration(q, v, a), zoo_sim.acceleration(moved, v, a))
    planar = NeuralSimulator(planar_spec, TINY, random_stats(planar_spec))
    q, v, a = random_state(planar_spec, 8, dtype=torch.float32)
    moved = q.clone()
    moved[:, 0] += 1e3
    assert torch.equal(planar.acceleration(q, v, a), planar.acceleration(moved, v, a))


def test_invalid_inputs(zoo_sim, zoo_spec):
    q, v, a = random_state(zoo_spec, 3, dtype=torch.float32)
    with pytest.raises(InvalidInputError, match="qpos.*nq=14"):
        zoo_sim.step(q[:, :-1], v, a)
    with pytest.raises(InvalidInputError, match="qvel"):
        zoo_sim.acceleration(q, v[:, :5], a)
    with pytest.raises(InvalidInputError, match="action"):
        zoo_sim.step(q, v, a[:2])
    bad = v.clone()
    bad[1, 3] = float("nan")
    with pytest.raises(InvalidInputError, match="NaN"):
        zoo_sim.step(q, bad, a)
    with pytest.raises(InvalidInputError, match="NaN"):
        zoo_sim.acceleration(q, v, torch.full_like(a, float("inf")))
    with pytest.raises(InvalidInputError, match="actions"):
        zoo_sim.rollout(q, v, a)  # no time dimension
    with pytest.raises(InvalidInputError):
        zoo_sim.step(q.to(torch.complex64), v, a)
    with pytest.raises(InvalidInputError):
        zoo_sim.step("not a state", v, a)
    with pytest.raises(InvalidInputError):
        zoo_sim.acceleration(q, v, a, n_correctors=5)


def test_dtypes_follow_the_model(zoo_sim, zoo_spec):
    q, v, a = random_state(zoo_spec, 2, dtype=torch.float64)
    assert zoo_sim.step(q, v, a)[0].dtype == torch.float32
    assert zoo_sim.acceleration(q.numpy(), v.numpy(), a.numpy()).dtype == torch.float32
    zoo_sim.double()
    out = zoo_sim.acceleration(q.float(), v.float(), a.float())
    assert out.dtype == torch.float64
    assert zoo_sim.features.raw.dtype == torch.long


def test_state_dict_round_trip_without_stats(zoo_sim, zoo_spec):
    fresh = NeuralSimulator(zoo_spec, TINY)  # identity normalizers until loaded
    q, v, a = random_state(zoo_spec, 5, dtype=torch.float32)
    assert not torch.allclose(fresh.acceleration(q, v, a), zoo_sim.acceleration(q, v, a))
    fresh.load_state_dict(zoo_sim.state_dict())
    assert torch.equal(fresh.acceleration(q, v, a), zoo_sim.acceleration(q, v, a))
    assert "acceleration_norm.std" in zoo_sim.state_dict()
    assert not any(k.startswith("features.") for k in zoo_sim.state_dict())


def test_config_presets_kinds_and_integrators(zoo_spec):
    assert model_preset("small").n_correctors == 1 and model_preset("large").n_correctors == 3
    assert model_preset("small", kind="plain_ode").kind == "plain_ode"
    with pytest.raises(UnknownNameError, match="medium"):
        model_preset("meduim")
    with pytest.raises(InvalidInputError):
        model_preset("small", widht=3)
    with pytest.raises(UnknownNameError):
        ModelConfig(kind="lstm")
    with pytest.raises(InvalidInputError):
        ModelConfig(eps=0.0)
    cfg = dataclasses.replace(TINY, action_hidden=(4, 4))
    assert ModelConfig.from_json(cfg.to_json()) == cfg
    servo = dataclasses.replace(TINY, force_sees_action=True)
    assert ModelConfig.from_json(servo.to_json()) == servo
    old = json.loads(TINY.to_json())
    del old["force_sees_action"]  # a checkpoint from before the option: b(q, v) + tau(a), as trained
    assert ModelConfig.from_checkpoint_json(json.dumps(old)).force_sees_action is False
    assert NeuralSimulator(zoo_spec, servo).predictor.actuation is None
    rk4_spec = spec_of(ZOO_XML, "zoo", integrator="rk4")
    assert NeuralSimulator(rk4_spec, TINY).integrator == "rk4"
    assert NeuralSimulator(zoo_spec, TINY).integrator == "semi_implicit_euler"
    with pytest.raises(UnknownNameError):
        NeuralSimulator(zoo_spec, dataclasses.replace(TINY, integrator="leapfrog"))
    with pytest.raises(InvalidInputError):
        NeuralSimulator(zoo_spec, dataclasses.replace(TINY, kind="plain_delta"))
    assert isinstance(build_model(zoo_spec, dataclasses.replace(TINY, kind="plain_delta")), PlainDeltaModel)
    q, v, a = random_state(zoo_spec, 3, dtype=torch.float32)
    variants = (("plain_ode", "rk4", 2), ("structured", "dopri5", 1), ("structured", "euler", 1))
    for kind, integrator, substeps in variants:
        model = build_model(zoo_spec, dataclasses.replace(TINY, kind=kind, integrator=integrator, substeps=substeps))
        q1, v1 = model.step(q, v, a)
        assert q1.shape == q.shape and np.isfinite(v1.detach().numpy()).all()


def test_robot_without_position_features():
    """A lone horizontal slider: every position feature is dropped, the networks still work."""
    xml = """<mujoco><worldbody><geom type="plane" size="5 5 .1"/><body pos="0 0 .1">
      <joint name="x" type="slide" axis="1 0 0"/><geom type="sphere" size=".1"/></body></worldbody>
      <actuator><motor joint="x"/></actuator></mujoco>"""
    spec = spec_of(xml, "slider")
    zeros = torch.zeros(3, 1)
    sim = NeuralSimulator(spec, TINY)
    assert sim.features.position_feature_dim == 0
    assert sim.acceleration(zeros, zeros, zeros).shape == (3, 1)
    assert PlainDeltaModel(spec).rollout(zeros, zeros, torch.zeros(3, 4, 1))[0].shape == (3, 5, 1)


def test_the_loaded_simulator_names_bad_numpy_inputs(zoo_sim, zoo_spec):
    """The numpy path of ``mosim.Simulator`` leaves the conversion to the model, whose errors say what is wrong
    (it once converted to float64 itself, and a non-numeric input surfaced as numpy's bare ValueError)."""
    from mosim.loading import Simulator

    sim = Simulator(zoo_sim)
    q, v, a = (x.numpy() for x in random_state(zoo_spec, 3, dtype=torch.float32))
    assert sim.step(q, v, a)[0].dtype == np.float64
    assert sim.step(q.tolist(), v.tolist(), a.tolist())[0].shape == q.shape  # lists work as arrays
    with pytest.raises(InvalidInputError, match="actions must be a tensor or array of numbers"):
        sim.rollout(q, v, [["not", "numbers"]])
    with pytest.raises(InvalidInputError, match="NaN"):
        sim.rollout(q, np.full_like(v, np.nan), a[:, None])
