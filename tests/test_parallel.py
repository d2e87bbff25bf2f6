"""Batch-parallel rollouts (``Simulator.rollout(..., workers=N)``): the same predictions as one call."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mosim
from mosim.errors import InvalidInputError
from mosim.parallel import split_batch


@pytest.fixture(scope="module")
def sim() -> mosim.Simulator:
    return mosim.load("cheetah-run", device="cpu")  # contact features, correctors: every part of a model step


def _inputs(sim: mosim.Simulator, batch: int, steps: int = 12, seed: int = 0):
    system = mosim.make_system(sim.spec.system_id)
    rng = np.random.default_rng(seed)
    qpos = np.stack([system.reset(int(s))[0] for s in rng.integers(0, 10**6, batch)])
    qvel = rng.normal(0.0, 0.5, (batch, sim.spec.nv))
    actions = rng.uniform(-1.0, 1.0, (batch, steps, sim.spec.nu))
    return qpos, qvel, actions


@pytest.mark.parametrize("workers", [2, 3])
def test_split_rollout_equals_one_call(sim: mosim.Simulator, workers: int) -> None:
    qpos, qvel, actions = _inputs(sim, batch=37)
    q1, v1 = sim.rollout(qpos, qvel, actions)
    qn, vn = sim.rollout(qpos, qvel, actions, workers=workers)
    assert isinstance(qn, np.ndarray) and qn.shape == q1.shape and vn.shape == v1.shape
    np.testing.assert_allclose(qn, q1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(vn, v1, rtol=1e-5, atol=1e-5)


def test_gradients_flow_through_the_parts(sim: mosim.Simulator) -> None:
    qpos, qvel, actions = _inputs(sim, batch=8, steps=5)
    grads = []
    for workers in (1, 2):
        a = torch.tensor(actions, dtype=torch.float32, requires_grad=True)
        _, v = sim.rollout(torch.tensor(qpos), torch.tensor(qvel), a, workers=workers)
        v[:, -1].square().sum().backward()
        grads.append(a.grad)
    assert grads[1].abs().sum() > 0
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-5)


def test_the_callers_grad_mode_and_thread_count_hold(sim: mosim.Simulator) -> None:
    qpos, qvel, actions = (torch.tensor(x) for x in _inputs(sim, batch=6, steps=3))
    before = torch.get_num_threads()
    with torch.no_grad():
        q, _ = sim.rollout(qpos, qvel, actions.requires_grad_(), workers=2)
    assert not q.requires_grad
    assert torch.get_num_threads() == before


def test_small_batches_and_unbatched_inputs_run_as_one_call(sim: mosim.Simulator) -> None:
    qpos, qvel, actions = _inputs(sim, batch=1, steps=4)
    q1, _ = sim.rollout(qpos, qvel, actions)
    np.testing.assert_array_equal(sim.rollout(qpos, qvel, actions, workers=4)[0], q1)
    unbatched = qpos[0], qvel[0], actions[0]
    np.testing.assert_array_equal(sim.rollout(*unbatched, workers=2)[0], sim.rollout(*unbatched)[0])


def test_bad_input_names_the_problem(sim: mosim.Simulator) -> None:
    qpos, qvel, actions = _inputs(sim, batch=4, steps=3)
    with pytest.raises(InvalidInputError, match="workers must be >= 1"):
        sim.rollout(qpos, qvel, actions, workers=0)
    with pytest.raises(InvalidInputError, match="actions"):
        sim.rollout(qpos, qvel, "not numbers", workers=2)
    with pytest.raises(InvalidInputError, match="NaN"):
        sim.rollout(qpos, np.full_like(qvel, np.nan), actions, workers=2)


def test_split_batch_of_a_plain_function() -> None:
    x = torch.arange(10.0).reshape(5, 2)
    (out,) = split_batch(lambda t: (t * 2,), [x], workers=2)
    torch.testing.assert_close(out, x * 2)


def test_split_step_equals_one_call(sim: mosim.Simulator) -> None:
    qpos, qvel, actions = _inputs(sim, batch=9, steps=1)
    q1, v1 = sim.step(qpos, qvel, actions[:, 0])
    q2, v2 = sim.step(qpos, qvel, actions[:, 0], workers=2)
    np.testing.assert_allclose(q2, q1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v2, v1, rtol=1e-5, atol=1e-5)
