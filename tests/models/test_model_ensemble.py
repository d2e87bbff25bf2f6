"""EnsembleSimulator: averaging members' rollouts or steps, quaternion means, checks of its members."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import TINY, assert_unit_quaternions, random_state, random_stats, spec_of

import mosim
from mosim.ensemble import EnsembleSimulator, mean_qpos
from mosim.errors import InvalidInputError
from mosim.integrators.quaternion import quat_mul
from mosim.loading import Simulator
from mosim.models import NeuralSimulator


def members(spec, n: int) -> list[Simulator]:
    out = []
    for seed in range(n):
        torch.manual_seed(seed)
        out.append(Simulator(NeuralSimulator(spec, TINY, random_stats(spec))))
    return out


def actions(spec, batch: int, steps: int) -> np.ndarray:
    return np.random.default_rng(1).uniform(-1, 1, (batch, steps, spec.nu))


def test_one_member_predicts_as_the_member(zoo_spec):
    (m,) = members(zoo_spec, 1)
    q, v, _ = random_state(zoo_spec, 4)
    a = actions(zoo_spec, 4, 6)
    want = m.rollout(q.numpy(), v.numpy(), a)
    for combine in ("trajectories", "steps"):
        got = EnsembleSimulator([m], combine=combine).rollout(q.numpy(), v.numpy(), a)
        # float32 members: renormalizing their quaternions in float64 moves them by float32's rounding
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-6)
        np.testing.assert_allclose(got[1], want[1], rtol=0, atol=1e-6)


def test_trajectories_average_the_members_rollouts(planar_spec):
    ens = EnsembleSimulator(members(planar_spec, 3))
    q, v, _ = random_state(planar_spec, 5)
    a = actions(planar_spec, 5, 8)
    qs, vs = ens.rollout_members(q.numpy(), v.numpy(), a)
    assert qs.shape == (3, 5, 9, planar_spec.nq) and vs.shape == (3, 5, 9, planar_spec.nv)
    assert np.abs(qs[0] - qs[1]).max() > 1e-4  # the members differ
    q_mean, v_mean = ens.rollout(q.numpy(), v.numpy(), a)
    np.testing.assert_allclose(q_mean, qs.mean(0), atol=1e-12)
    np.testing.assert_allclose(v_mean, vs.mean(0), atol=1e-12)


def test_steps_feed_the_average_back(planar_spec):
    ens = EnsembleSimulator(members(planar_spec, 2), combine="steps")
    q, v, _ = random_state(planar_spec, 3)
    a = actions(planar_spec, 3, 5)
    q_roll, v_roll = ens.rollout(q.numpy(), v.numpy(), a)
    qt, vt = q.numpy(), v.numpy()
    for t in range(5):
        qt, vt = ens.step(qt, vt, a[:, t])
        m0 = ens.members[0].step(q_roll[:, t], v_roll[:, t], a[:, t])
        m1 = ens.members[1].step(q_roll[:, t], v_roll[:, t], a[:, t])
        np.testing.assert_allclose(q_roll[:, t + 1], (m0[0] + m1[0]) / 2, atol=1e-12)
        np.testing.assert_allclose(v_roll[:, t + 1], vt, atol=1e-12)
    np.testing.assert_allclose(q_roll[:, 0], q.numpy())
    # differs from averaging the members' own trajectories, at second order in their difference: 40 steps
    a = actions(planar_spec, 3, 40)
    _, v_steps = ens.rollout(q.numpy(), v.numpy(), a)
    _, v_traj = ens.rollout(q.numpy(), v.numpy(), a, combine="trajectories")
    assert np.abs(v_traj - v_steps).max() > 1e-6  # float32 rounding is 1e-7


def test_quaternion_mean_is_the_halfway_rotation_whatever_the_signs():
    spec = spec_of(  # one free joint: qpos = position (3), quaternion (4)
        '<mujoco><worldbody><body><freejoint/><geom size="0.1"/></body></worldbody></mujoco>', "ball")
    g = torch.Generator().manual_seed(0)
    q0 = torch.randn(16, 4, generator=g, dtype=torch.float64)
    q0 = q0 / q0.norm(dim=-1, keepdim=True)
    axis = torch.randn(16, 3, generator=g, dtype=torch.float64)
    axis = axis / axis.norm(dim=-1, keepdim=True)
    half = 0.4  # rotation of 0.8 rad between the two members; halfway is 0.4 rad from each
    r = lambda angle: torch.cat([torch.full((16, 1), np.cos(angle / 2), dtype=torch.float64),  # noqa: E731
                                 np.sin(angle / 2) * axis], -1)
    q1 = quat_mul(q0, r(2 * half))
    pos = torch.randn(2, 16, 3, generator=g, dtype=torch.float64)
    for sign in (1.0, -1.0):  # q and -q are the same rotation: the mean must not cancel them out
        qpos = torch.stack([torch.cat([pos[0], q0], -1), torch.cat([pos[1], sign * q1], -1)])
        mean = mean_qpos(qpos, spec.layout)
        torch.testing.assert_close(mean[:, :3], pos.mean(0))
        assert_unit_quaternions(spec, mean, tol=1e-12)
        want = quat_mul(q0, r(half))
        torch.testing.assert_close(mean[:, 3:], want, atol=1e-12, rtol=0)


def test_rollout_keeps_quaternions_unit_and_gradients_flow(zoo_spec):
    ens = EnsembleSimulator(members(zoo_spec, 2))
    q, v, a = random_state(zoo_spec, 4, dtype=torch.float32)
    v.requires_grad_(True)
    acts = torch.as_tensor(actions(zoo_spec, 4, 5), dtype=torch.float32)
    q_out, v_out = ens.rollout(q, v, acts)
    assert isinstance(q_out, torch.Tensor) and q_out.shape == (4, 6, zoo_spec.nq)
    assert_unit_quaternions(zoo_spec, q_out)
    (q_out.sum() + v_out.sum()).backward()
    assert v.grad is not None and torch.isfinite(v.grad).all() and v.grad.abs().sum() > 0


def test_bad_members_and_options_give_clear_errors(zoo_spec, planar_spec):
    with pytest.raises(InvalidInputError, match="member 1 does not fit member 0"):
        EnsembleSimulator([*members(zoo_spec, 1), *members(planar_spec, 1)])
    with pytest.raises(InvalidInputError, match="at least one member"):
        EnsembleSimulator([])
    with pytest.raises(InvalidInputError, match="combine must be one of"):
        EnsembleSimulator(members(planar_spec, 1), combine="median")
    ens = EnsembleSimulator(members(planar_spec, 1))
    q, v, _ = random_state(planar_spec, 2)
    with pytest.raises(InvalidInputError, match="combine must be one of"):
        ens.rollout(q.numpy(), v.numpy(), actions(planar_spec, 2, 3), combine="mode")
    with pytest.raises(InvalidInputError, match="actions must have shape"):
        ens.rollout(q.numpy(), v.numpy(), np.zeros(planar_spec.nu), combine="steps")
    with pytest.raises(InvalidInputError, match="list of checkpoints"):
        mosim.load_ensemble("reacher-easy")


def test_load_ensemble_of_checkpoints(tmp_path):
    two = mosim.load_ensemble(["reacher-easy", "reacher-easy"], device="cpu")
    one = mosim.load("reacher-easy", device="cpu")
    q0, v0 = np.zeros(one.spec.nq), np.zeros(one.spec.nv)
    a = np.random.default_rng(0).uniform(-1, 1, (20, one.spec.nu))
    for got, want in zip(two.rollout(q0, v0, a), one.rollout(q0, v0, a)):
        np.testing.assert_allclose(got, want, atol=1e-12)
    with pytest.raises(InvalidInputError, match="does not fit member 0"):
        mosim.load_ensemble(["reacher-easy", "cheetah-run"], device="cpu")

