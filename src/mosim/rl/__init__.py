"""Reinforcement learning inside a trained mosim simulator (the ``rl`` extra: gymnasium, stable-baselines3).

- :class:`MosimEnv`: a Gymnasium env; the model steps, the task's own observation and reward are evaluated on
  the predicted state.
- :class:`MosimVecEnv`: N such envs in one batched model call, as a Stable-Baselines3 ``VecEnv``.
- :func:`evaluate_in_model`: an agent's return inside a model, on the episodes ``evaluate`` runs in the real task.
- Gymnasium ids ``mosim/<system-id>-v0`` and ``mosim/Model-v0``, registered on import::

      import gymnasium, mosim.rl
      env = gymnasium.make("mosim/reacher-easy-v0", model="runs/reacher/best.pt")
"""

from __future__ import annotations

from typing import Any

from mosim.rl.env import MosimEnv
from mosim.rl.evaluation import ModelEvaluator, evaluate_in_model
from mosim.rl.real_env import Evaluation, RealEnv, evaluate
from mosim.rl.registration import GENERIC_ID, env_id, make_env, register_envs

register_envs()


def __getattr__(name: str) -> Any:  # stable-baselines3 is imported only when the VecEnv is asked for
    if name == "MosimVecEnv":
        from mosim.rl.vec_env import MosimVecEnv

        return MosimVecEnv
    raise AttributeError(f"module 'mosim.rl' has no attribute {name!r}")


__all__ = ["GENERIC_ID", "Evaluation", "ModelEvaluator", "MosimEnv", "MosimVecEnv", "RealEnv", "env_id", "evaluate",
           "evaluate_in_model", "make_env", "register_envs"]
