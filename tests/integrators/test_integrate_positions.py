"""integrate_positions against MuJoCo's mj_integratePos, and its shapes and gradients."""

from __future__ import annotations

import functools

import mujoco
import numpy as np
import pytest
import torch

import mosim
from mosim.integrators import integrate_positions, position_plan, quat_exp
from mosim.systems.layout import JointLayout


@functools.cache
def _system_model(name: str) -> mujoco.MjModel:
    return mosim.make_system(name).model


def _model(name: str, make_tiny) -> mujoco.MjModel:
    return make_tiny() if name == "tiny" else _system_model(name)


@pytest.mark.parametrize("name", ["tiny", "go2", "humanoid-walk"])
@pytest.mark.parametrize("dt", [0.002, 0.05, 0.7])
def test_matches_mj_integrate_pos(name, dt, make_tiny, state_sampler):
    model = _model(name, make_tiny)
    layout = JointLayout.from_model(model)
    qpos, qvel = state_sampler(model, 50, np.random.default_rng(0))
    expected = qpos.copy()
    for i in range(len(qpos)):
        mujoco.mj_integratePos(model, expected[i], qvel[i], dt)
    got = integrate_positions(layout, torch.from_numpy(qpos), torch.from_numpy(qvel), dt)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-12)
    for sl in layout.quaternion_slices():
        np.testing.assert_allclose(torch.linalg.vector_norm(got[:, sl], dim=-1).numpy(), 1.0, atol=1e-14)


def test_non_unit_quaternions_are_normalized_like_mujoco(make_tiny, state_sampler):
    model = make_tiny()
    layout = JointLayout.from_model(model)
    qpos, qvel = state_sampler(model, 10, np.random.default_rng(4))
    for sl in layout.quaternion_slices():
        qpos[:, sl] *= np.random.default_rng(5).uniform(0.5, 2.0, size=(10, 1))
    expected = qpos.copy()
    for i in range(10):
        mujoco.mj_integratePos(model, expected[i], qvel[i], 0.03)
    got = integrate_positions(layout, torch.from_numpy(qpos), torch.from_numpy(qvel), 0.03)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)


def test_batched_shapes_and_per_state_dt(make_tiny, state_sampler):
    model = make_tiny()
    layout = JointLayout.from_model(model)
    qpos, qvel = state_sampler(model, 12, np.random.default_rng(1))
    q = torch.from_numpy(qpos).reshape(3, 4, model.nq)
    v = torch.from_numpy(qvel).reshape(3, 4, model.nv)
    dt = torch.linspace(0.01, 0.5, 12, dtype=torch.float64).reshape(3, 4)
    out = integrate_positions(layout, q, v, dt)
    assert out.shape == (3, 4, model.nq)
    for i in range(12):
        expected = qpos[i].copy()
        mujoco.mj_integratePos(model, expected, qvel[i], float(dt.flatten()[i]))
        np.testing.assert_allclose(out.reshape(12, -1)[i].numpy(), expected, atol=1e-12)
    # one velocity broadcast against a batch of positions
    out2 = integrate_positions(layout, q, v[0, 0], 0.1)
    assert out2.shape == (3, 4, model.nq)
    torch.testing.assert_close(out2[1, 2], integrate_positions(layout, q[1, 2], v[0, 0], 0.1))


def test_plan_is_cached_and_covers_qpos(make_tiny):
    layout = JointLayout.from_model(make_tiny())
    plan = position_plan(layout, torch.device("cpu"))
    assert position_plan(layout, torch.device("cpu")) is plan
    assert plan.quat_q.shape == (3, 4) and plan.quat_v.shape == (3, 3)
    covered = torch.cat([plan.lin_q, plan.quat_q.flatten()])
    assert sorted(covered.tolist()) == list(range(layout.nq))


def test_zero_angular_velocity_has_finite_gradients(make_tiny, state_sampler):
    model = make_tiny()
    layout = JointLayout.from_model(model)
    qpos, _ = state_sampler(model, 4, np.random.default_rng(2))
    q = torch.from_numpy(qpos).requires_grad_(True)
    v = torch.zeros(4, model.nv, dtype=torch.float64, requires_grad=True)
    out = integrate_positions(layout, q, v, 0.01)
    torch.testing.assert_close(out, q.detach())
    (out * torch.randn_like(out)).sum().backward()
    assert torch.isfinite(q.grad).all() and torch.isfinite(v.grad).all()
    # exp(u) at and near u = 0: Jacobian (0; I), finite
    for scale in (0.0, 1e-200, 1e-9):
        u = torch.full((3,), scale, dtype=torch.float64, requires_grad=True)
        jac = torch.autograd.functional.jacobian(quat_exp, u)
        expected = torch.cat([torch.zeros(1, 3, dtype=torch.float64), torch.eye(3, dtype=torch.float64)])
        torch.testing.assert_close(jac, expected, atol=1e-8, rtol=0)  # d cos|u| / du = -u


def test_gradcheck(make_tiny, state_sampler):
    model = make_tiny()
    layout = JointLayout.from_model(model)
    qpos, qvel = state_sampler(model, 3, np.random.default_rng(3), vmax=3.0)
    q = torch.from_numpy(qpos).requires_grad_(True)
    v = torch.from_numpy(qvel).requires_grad_(True)
    dt = torch.tensor([0.05, 0.2, 1e-4], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: integrate_positions(layout, a, b, c), (q, v, dt))
    # tiny rotations go through the Taylor branch
    v_small = (v.detach() * 1e-4).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: integrate_positions(layout, a, b, 0.01), (q, v_small))
