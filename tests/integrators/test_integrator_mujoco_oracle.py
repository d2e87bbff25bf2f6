"""One step of our integrators with MuJoCo's own forward dynamics as acc_fn equals mj_step."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

import mosim
from mosim.integrators import step
from mosim.systems.layout import JointLayout


def _mj_steps(model: mujoco.MjModel, qpos: np.ndarray, qvel: np.ndarray, ctrl: np.ndarray | None, n: int = 1):
    data = mujoco.MjData(model)
    data.qpos[:], data.qvel[:] = qpos, qvel
    if ctrl is not None:
        data.ctrl[:] = ctrl
    for _ in range(n):
        mujoco.mj_step(model, data)
    return data.qpos.copy(), data.qvel.copy()


def _compare(method: str, model: mujoco.MjModel, mj_acc, qpos, qvel, ctrl=None, substeps: int = 1) -> None:
    expected_q, expected_v = _mj_steps(model, qpos, qvel, ctrl, n=substeps)
    q, v = step(
        method,
        JointLayout.from_model(model),
        mj_acc(model, ctrl),
        torch.from_numpy(qpos)[None],
        torch.from_numpy(qvel)[None],
        model.opt.timestep * substeps,
        substeps=substeps,
    )
    np.testing.assert_allclose(q[0].numpy(), expected_q, rtol=0, atol=1e-10)
    np.testing.assert_allclose(v[0].numpy(), expected_v, rtol=0, atol=1e-10)


def test_rk4_equals_mj_step_on_acrobot(mj_acc):
    model = mosim.make_system("acrobot-swingup").model
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4
    rng = np.random.default_rng(0)
    for _ in range(10):
        qpos = rng.uniform(-np.pi, np.pi, model.nq)
        qvel = rng.uniform(-5, 5, model.nv)
        ctrl = rng.uniform(-1, 1, model.nu)
        _compare("rk4", model, mj_acc, qpos, qvel, ctrl)


@pytest.mark.parametrize("method, integrator", [("rk4", "RK4"), ("semi_implicit_euler", "Euler")])
def test_equals_mj_step_with_ball_and_free_joints(method, integrator, make_tiny, state_sampler, mj_acc):
    model = make_tiny(integrator)
    qpos, qvel = state_sampler(model, 10, np.random.default_rng(1))
    for i in range(10):
        _compare(method, model, mj_acc, qpos[i], qvel[i])


def test_substeps_equal_repeated_mj_steps(make_tiny, state_sampler, mj_acc):
    model = make_tiny("RK4")
    qpos, qvel = state_sampler(model, 1, np.random.default_rng(2))
    _compare("rk4", model, mj_acc, qpos[0], qvel[0], substeps=3)
