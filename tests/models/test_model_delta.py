"""PlainDeltaModel: the plain one-step network predicting the normalized state change."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from model_helpers import TINY, assert_unit_quaternions, random_state, random_stats

from mosim.errors import InvalidInputError
from mosim.integrators import integrate_positions
from mosim.models import PlainDeltaModel


@pytest.fixture
def zoo_delta(zoo_spec) -> PlainDeltaModel:
    torch.manual_seed(0)
    return PlainDeltaModel(zoo_spec, dataclasses.replace(TINY, kind="plain_delta"), random_stats(zoo_spec))


def test_fresh_model_predicts_about_the_mean_change(zoo_delta, zoo_spec):
    q, v, a = random_state(zoo_spec, 16, dtype=torch.float32)
    y = zoo_delta.normalized_delta(q, v, a)
    assert y.shape == (16, 2 * zoo_spec.nv) and y.abs().max() < 0.1
    _, v1 = zoo_delta.step(q, v, a)
    mean_dv = zoo_delta.delta_v_norm.mean  # in the heading frame of the zoo's free joint
    change = zoo_delta.features.to_heading(q, v1 - v)
    assert torch.allclose(change, mean_dv.expand_as(v), atol=0.1 * zoo_delta.delta_v_norm.std.max().item())


def test_target_is_consistent_with_step(zoo_delta, zoo_spec):
    q0, v0, _ = random_state(zoo_spec, 6, seed=1, dtype=torch.float32)
    g = torch.Generator().manual_seed(2)
    dq, dv = torch.randn(2, 6, zoo_spec.nv, generator=g)
    q1 = integrate_positions(zoo_spec.layout, q0, 0.05 * dq, 1.0)
    v1 = v0 + 0.1 * dv
    target = zoo_delta.normalized_delta_target(q0, v0, q1, v1)
    nv, world = zoo_spec.nv, zoo_delta.features.to_world  # the target is in the free joint's heading frame
    back_q = integrate_positions(zoo_spec.layout, q0, world(q0, zoo_delta.delta_q_norm.denormalize(target[:, :nv])), 1.0)
    back_v = v0 + world(q0, zoo_delta.delta_v_norm.denormalize(target[:, nv:]))
    assert torch.allclose(back_q, q1, atol=1e-5) and torch.allclose(back_v, v1, atol=1e-5)


def test_rollout_shapes_and_quaternions(zoo_delta, zoo_spec):
    q, v, _ = random_state(zoo_spec, 3, dtype=torch.float32)
    actions = torch.rand(3, 5, zoo_spec.nu)
    qs, vs = zoo_delta.rollout(q, v, actions)
    assert qs.shape == (3, 6, zoo_spec.nq) and vs.shape == (3, 6, zoo_spec.nv)
    q1, v1 = zoo_delta.step(q, v, actions[:, 0])
    assert torch.equal(qs[:, 1], q1) and torch.equal(vs[:, 1], v1)
    assert_unit_quaternions(zoo_spec, qs)
    assert zoo_delta.parameter_groups() == [list(zoo_delta.parameters())]
    assert zoo_delta.active_correctors == 0


def test_invalid_inputs_and_float64(zoo_delta, zoo_spec):
    q, v, a = random_state(zoo_spec, 2)
    with pytest.raises(InvalidInputError, match="nu=2"):
        zoo_delta.step(q, v, a[:, :1])
    with pytest.raises(InvalidInputError, match="NaN"):
        zoo_delta.step(q * float("nan"), v, a)
    assert zoo_delta.double().step(q, v, a)[1].dtype == torch.float64


def test_from_dataset(reacher_data):
    model = PlainDeltaModel.from_dataset(reacher_data)
    assert model.delta_v_norm.std.shape == (reacher_data.spec.nv,)
    q = torch.as_tensor(reacher_data.qpos[:2, 0])
    v = torch.as_tensor(reacher_data.qvel[:2, 0])
    assert model.rollout(q, v, torch.as_tensor(reacher_data.action[:2, :10]))[0].shape == (2, 11, 2)
