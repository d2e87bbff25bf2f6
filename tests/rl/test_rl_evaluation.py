"""``evaluate_in_model``: an agent's imagined return, batched, equals the single-env episodes with the same
seeds; with the pretrained reacher model a fixed policy's imagined return is its real return."""

from __future__ import annotations

import numpy as np
import pytest

import mosim
from mosim.errors import InvalidInputError
from mosim.rl.env import MosimEnv
from mosim.rl.evaluation import evaluate_in_model
from mosim.rl.real_env import RealEnv, evaluate


class Proportional:
    """A fixed deterministic policy of the observation (SB3's ``predict`` signature, batched or not)."""

    def predict(self, obs, deterministic=True):
        obs = np.asarray(obs, dtype=np.float64)
        a = np.tanh(obs[..., :2] - obs[..., 2:4]) if obs.shape[-1] >= 4 else np.zeros((*obs.shape[:-1], 2))
        return a.astype(np.float32), None


def test_batched_equals_single_envs(simulator) -> None:
    agent = Proportional()
    batched = evaluate_in_model(agent, simulator, episodes=3, seed=7, max_episode_steps=40)
    single = evaluate(agent, MosimEnv(simulator, max_episode_steps=40), episodes=3, seed=7)
    np.testing.assert_allclose(batched.returns, single.returns, rtol=1e-5, atol=1e-4)
    again = evaluate_in_model(agent, simulator, episodes=3, seed=7, max_episode_steps=40)
    assert again.returns == batched.returns


def test_pretrained_model_scores_a_policy_as_the_real_task_does() -> None:
    """The pretrained reacher-easy model and MuJoCo agree on a fixed policy's per-episode returns."""
    agent = Proportional()
    imagined = evaluate_in_model(agent, mosim.load("reacher-easy", device="cpu"), "reacher-easy", episodes=4,
                                 seed=3, max_episode_steps=200)
    real = evaluate(agent, RealEnv("reacher-easy", max_episode_steps=200), episodes=4, seed=3)
    assert sum(real.returns) > 0, "the test policy should reach some targets"
    np.testing.assert_allclose(imagined.returns, real.returns, atol=5)  # returns here: 0 to 84


def test_bad_episode_count(simulator) -> None:
    with pytest.raises(InvalidInputError, match="episodes"):
        evaluate_in_model(Proportional(), simulator, episodes=0)
