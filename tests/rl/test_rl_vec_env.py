"""MosimVecEnv: one batched model call equals N single envs; SB3 VecEnv semantics; SAC runs inside it."""

from __future__ import annotations

import time
from functools import partial

import gymnasium
import numpy as np
import pytest

from mosim.errors import InvalidInputError
from mosim.loading import Simulator
from mosim.rl import MosimEnv, MosimVecEnv
from rl_helpers import Exploding, RowByRow


def run_side_by_side(vec_sim, single_sim, n: int, limit: int, steps: int, exact: bool) -> int:
    """Step a MosimVecEnv and n MosimEnv with the same seeds and actions; compare everything; return episodes done."""
    same = np.testing.assert_array_equal if exact else partial(np.testing.assert_allclose, rtol=0, atol=1e-5)
    vec = MosimVecEnv(vec_sim, n, max_episode_steps=limit)
    singles = [MosimEnv(single_sim, max_episode_steps=limit) for _ in range(n)]
    vec.seed(10)
    obs = vec.reset()
    np.testing.assert_array_equal(obs, np.stack([env.reset(seed=10 + i)[0] for i, env in enumerate(singles)]))
    rng = np.random.default_rng(0)
    n_done = 0
    for _ in range(steps):
        acts = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        obs, rewards, dones, infos = vec.step(acts)
        for i, env in enumerate(singles):
            o, r, terminated, truncated, _ = env.step(acts[i])
            same(rewards[i], np.float32(r))
            assert dones[i] == (terminated or truncated)
            assert infos[i]["TimeLimit.truncated"] == (truncated and not terminated)
            if dones[i]:
                n_done += 1
                same(infos[i]["terminal_observation"], o)
                o, _ = env.reset()  # continues the env's own random generator, as the VecEnv does
            same(obs[i], o)
            same(vec.states[0][i], env.state[0])
    vec.close()
    return n_done


def test_batched_env_equals_n_single_envs_exactly(simulator):
    """Same seeds, same actions: identical observations, rewards, dones, terminal observations and auto-resets,
    with one model call per step for all envs."""
    model = RowByRow(simulator)
    n, limit, steps = 3, 6, 14
    assert run_side_by_side(Simulator(model), Simulator(model), n, limit, steps, exact=True) == 2 * n
    assert model.calls == steps + n * steps  # the VecEnv: 1 call per step; the n single envs: 1 each


def test_batched_env_matches_n_single_envs_with_the_batched_model(simulator):
    """The real batched call: equal up to float32 rounding (a few ulps that depend on the batch size)."""
    assert run_side_by_side(simulator, simulator, 4, 8, 10, exact=False) == 4


def test_a_diverged_env_is_reset_alone(simulator):
    vec = MosimVecEnv(simulator, 2, seed=0)
    vec.reset()
    vec.simulator = Exploding(simulator, after=0, rows=slice(1, 2))
    _, _, dones, infos = vec.step(np.zeros((2, 2)))
    assert dones.tolist() == [False, True]
    assert infos[1]["diverged"] and not infos[0]["diverged"] and "terminal_observation" in infos[1]


def test_vec_env_api(simulator):
    vec = MosimVecEnv(simulator, 2, max_episode_steps=50, render_mode="rgb_array")
    assert vec.num_envs == 2 and vec.observation_space.shape == (6,)
    assert vec.get_attr("max_episode_steps") == [50, 50]
    vec.set_attr("max_episode_steps", 7, indices=1)
    assert vec.get_attr("max_episode_steps") == [50, 7]
    assert vec.env_is_wrapped(gymnasium.Wrapper) == [False, False]
    assert vec.has_attr("frame_skip") and not vec.has_attr("no_such_thing")
    vec.reset()
    q, v = vec.states
    obs = vec.env_method("set_state", q[0] + 1.0, v[0], indices=0)
    assert len(obs) == 1 and obs[0].shape == (6,)
    np.testing.assert_array_equal(vec.states[0][0], q[0] + 1.0)
    img = vec.render(mode="rgb_array")
    assert img.dtype == np.uint8 and img.ndim == 3
    with pytest.raises(InvalidInputError, match=r"actions must have shape \(2, 2\)"):
        vec.step(np.zeros((3, 2)))
    with pytest.raises(InvalidInputError, match="n_envs"):
        MosimVecEnv(simulator, 0)
    with pytest.raises(InvalidInputError, match="model is of system"):
        MosimVecEnv(simulator, 2, system="cartpole-swingup")
    vec.close()


def test_sac_learns_inside_the_vec_env_without_error(simulator):
    from stable_baselines3 import SAC

    vec = MosimVecEnv(simulator, 2, max_episode_steps=50)
    start = time.perf_counter()
    agent = SAC("MlpPolicy", vec, learning_starts=50, batch_size=32, policy_kwargs={"net_arch": [32, 32]},
                seed=0, device="cpu")
    agent.learn(200)
    assert agent.num_timesteps >= 200
    assert time.perf_counter() - start < 30
    vec.close()
