"""``MosimVecEnv``: N imagined environments stepped by ONE batched model call, as a Stable-Baselines3 VecEnv.

Each of the N environments is a :class:`~mosim.rl.env.MosimEnv` with its own task system (so per-episode task
randomization such as reacher's target is per env) and its own random generator, all sharing one simulator.
``step`` validates the N actions, advances the N states in one call of the model (torch, no gradients), then
evaluates each env's observation and reward with the task's functions; finished envs are reset at once, the
last observation of the episode going to ``infos[i]["terminal_observation"]`` (SB3 semantics). Stepped with
the same seeds, it gives what N separate ``MosimEnv`` give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from mosim.errors import InvalidInputError
from mosim.rl.common import ModelLike, advance, as_simulator, ood_penalties
from mosim.rl.env import MosimEnv


class MosimVecEnv(VecEnv):
    """N imagined environments of one model, stepped in one batch.

    :param model: a Simulator, a dynamics model, a checkpoint path (loaded once, on ``device``), or an ensemble
        (:func:`mosim.load_ensemble`, or a list of checkpoint paths)
    :param n_envs: number of environments
    :param seed: if given, the seeds of the first reset are ``seed + i`` (as :meth:`seed` does)
    :param env_kwargs: passed to each :class:`MosimEnv` (``system`` may be an id or None, not a System
        instance, since every env needs a task system of its own)
    """

    def __init__(self, model: ModelLike, n_envs: int = 1, seed: int | None = None, device: str = "cpu",
                 **env_kwargs: Any) -> None:
        if isinstance(n_envs, bool) or not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
            raise InvalidInputError(f"n_envs must be an integer >= 1, got {n_envs!r}")
        if env_kwargs.get("system") is not None and not isinstance(env_kwargs["system"], str):
            raise InvalidInputError("MosimVecEnv: pass system as an id (or None); each env makes its own task system")
        self.simulator = as_simulator(model, device)
        self.envs = [MosimEnv(self.simulator, **env_kwargs) for _ in range(int(n_envs))]
        first = self.envs[0]
        self.frame_skip, self.max_abs_state, self.ood_penalty = first.frame_skip, first.max_abs_state, first.ood_penalty
        super().__init__(len(self.envs), first.observation_space, first.action_space)
        self._actions: np.ndarray | None = None
        self._obs = np.zeros((self.num_envs, *first.observation_space.shape), dtype=np.float32)
        if seed is not None:
            self.seed(seed)

    # ------------------------------------------------------------------ VecEnv API
    def reset(self) -> VecEnvObs:
        for i, env in enumerate(self.envs):
            obs, self.reset_infos[i] = env.reset(seed=self._seeds[i], options=self._options[i] or None)
            self._obs[i] = obs
        self._reset_seeds()
        self._reset_options()
        return self._obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        try:
            a = np.asarray(actions, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"actions must be an array of numbers: {e}") from None
        want = (self.num_envs, *self.action_space.shape)
        if a.shape != want:
            raise InvalidInputError(f"{self.simulator.spec.system_id}: actions must have shape {want}, got {a.shape}")
        self._actions = a

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise InvalidInputError("step_wait() called without step_async(actions)")
        a = np.stack([env.prepare_action(self._actions[i]) for i, env in enumerate(self.envs)])
        self._actions = None
        q0 = np.stack([env._qpos for env in self.envs])
        v0 = np.stack([env._qvel for env in self.envs])
        q, v, diverged = advance(self.simulator, q0, v0, a, self.frame_skip, self.max_abs_state)
        pen = ood_penalties(self.ood_penalty, q0, v0, a)
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        dones = np.zeros(self.num_envs, dtype=bool)
        infos: list[dict[str, Any]] = []
        for i, env in enumerate(self.envs):
            obs, rewards[i], terminated, truncated, info = env.finish_step(
                q[i], v[i], a[i], bool(diverged[i]), None if pen is None else float(pen[i]))
            dones[i] = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            if dones[i]:
                info["terminal_observation"] = obs
                obs, self.reset_infos[i] = env.reset()
            self._obs[i] = obs
            infos.append(info)
        return self._obs.copy(), rewards, dones, infos

    def close(self) -> None:
        for env in self.envs:
            env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [env.render() for env in self.envs]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self.envs[i], attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for i in self._get_indices(indices):
            setattr(self.envs[i], attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        return [getattr(self.envs[i], method_name)(*method_args, **method_kwargs) for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        from stable_baselines3.common import env_util

        return [env_util.is_wrapped(self.envs[i], wrapper_class) for i in self._get_indices(indices)]

    # ------------------------------------------------------------------ extras
    @property
    def states(self) -> tuple[np.ndarray, np.ndarray]:
        """The current predicted ``qpos (N, nq)``, ``qvel (N, nv)``."""
        return np.stack([env._qpos for env in self.envs]), np.stack([env._qvel for env in self.envs])

    def __repr__(self) -> str:
        return f"MosimVecEnv({self.num_envs} x {self.envs[0]!r})"
