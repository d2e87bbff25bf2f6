"""An agent's return inside a learned model, for comparison with its return in the real task.

:func:`evaluate_in_model` runs the episodes that :func:`~mosim.rl.real_env.evaluate` runs in the real task
(the same reset seeds, so the same task randomization, such as reacher's target) inside a mosim model, all
episodes in one batched model call. If the model is faithful where the agent goes, the two returns agree:
this is how a model is checked as a simulator for RL (``benchmarks/rl_fidelity.py``), and how an agent can be
scored without touching the real system.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mosim.errors import InvalidInputError
from mosim.rl.common import ModelLike
from mosim.rl.real_env import Evaluation


class ModelEvaluator:
    """Runs the same ``episodes`` imagined episodes of any agent, each call (one batched env, kept between calls).

    :param model: a Simulator, a dynamics model or a checkpoint path or pretrained name
    :param task: the task id (default: the model's own system, e.g. ``"reacher-hard"`` in a reacher-easy model)
    :param seed: episode ``i`` starts as ``MosimEnv.reset(seed=seed + i)``, as ``evaluate(agent, RealEnv(task),
        episodes, seed)`` starts its episode ``i`` in the real task
    :param env_kwargs: passed to each :class:`~mosim.rl.env.MosimEnv` (``max_episode_steps``, ``ood_penalty`` ...)

    An episode that the model ends early (a diverged state, or the task's own termination) counts what it
    collected until then.
    """

    def __init__(self, model: ModelLike, task: str | None = None, episodes: int = 10, seed: int = 0,
                 device: str = "cpu", **env_kwargs: Any) -> None:
        from mosim.rl.vec_env import MosimVecEnv

        if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 1:
            raise InvalidInputError(f"episodes must be an integer >= 1, got {episodes!r}")
        self.seed = int(seed)
        self.venv = MosimVecEnv(model, n_envs=int(episodes), device=device, system=task, **env_kwargs)

    def __call__(self, agent: Any, deterministic: bool = True) -> Evaluation:
        """Returns of the episodes with ``agent`` (anything with SB3's ``predict``)."""
        venv = self.venv
        venv.seed(self.seed)
        obs = venv.reset()
        totals = np.zeros(venv.num_envs)
        running = np.ones(venv.num_envs, dtype=bool)
        while running.any():
            actions, _ = agent.predict(obs, deterministic=deterministic)
            obs, rewards, dones, _ = venv.step(actions)
            totals += np.where(running, rewards.astype(np.float64), 0.0)
            running &= ~dones
        return Evaluation(tuple(float(t) for t in totals))

    def close(self) -> None:
        self.venv.close()


def evaluate_in_model(agent: Any, model: ModelLike, task: str | None = None, episodes: int = 10, seed: int = 0,
                      deterministic: bool = True, device: str = "cpu", **env_kwargs: Any) -> Evaluation:
    """Returns of ``episodes`` imagined episodes of ``agent``: one call of a :class:`ModelEvaluator` (same
    parameters)."""
    evaluator = ModelEvaluator(model, task, episodes, seed, device, **env_kwargs)
    try:
        return evaluator(agent, deterministic)
    finally:
        evaluator.close()
