"""``MosimEnv``: a Gymnasium environment whose dynamics are a trained mosim simulator.

Reset draws the task's own random initial state (or a state from a pool, such as a dataset's or a replay
buffer's); step advances the physical state with the learned model; the observation and the reward are the
task's own functions evaluated on the predicted state, so a policy trained here can be evaluated unchanged in
the real task. Nothing about the task is learned.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mosim.errors import InvalidInputError
from mosim.rl.common import (
    ModelLike,
    OODPenalty,
    RewardFn,
    StateRenderer,
    advance,
    as_simulator,
    check_action,
    check_reset_states,
    ood_penalties,
    resolve_episode_steps,
    resolve_frame_skip,
    task_system,
)
from mosim.systems import System


class MosimEnv(gym.Env):
    """An imagined environment: the learned model steps, the task observes and rewards.

    :param model: a :class:`~mosim.loading.Simulator`, a dynamics model, a checkpoint path (``best.pt``), or an
        ensemble (:func:`mosim.load_ensemble`, or a list of checkpoint paths; its members averaged at every step)
    :param system: the task system (reset distribution, observation, reward); default: made from the model's
        ``spec.system_id`` with its substeps. A system or id of another robot or task is refused.
    :param max_episode_steps: env steps per episode before ``truncated``; default: the task's time limit
        (dm_control: 1000 control steps), 1000 for systems without one
    :param reset_states: ``(qpos (N, nq), qvel (N, nv))`` or a Dataset: episodes start from a state drawn from
        this pool instead of the task's initial state (per-episode task randomization, such as reacher's target,
        is still drawn by the task)
    :param frame_skip: model steps per env step, the action held; default: the task's control step over the
        model's step (1 when the system has no control step)
    :param ood_penalty: ``f(qpos (N, nq), qvel (N, nv), action (N, nu)) -> (N,)``, evaluated on the state the
        action is applied in and added to the reward (e.g. ``sigmoid((log p - c) / s) - 1``); ``info`` then holds
        ``task_reward`` and ``ood_penalty``
    :param render_mode: ``None`` or ``"rgb_array"``
    :param reward_fn: ``f(qpos, qvel, action) -> float`` of the predicted state and the applied action; replaces
        the task's reward (systems without a task otherwise get 0)
    :param device: where a checkpoint path is loaded
    :param max_abs_state: a predicted ``|qpos|`` or ``|qvel|`` above this (or NaN/inf) counts as diverged: the
        episode terminates with ``info["diverged"] = True``, reward 0, and the last good state is kept
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        model: ModelLike,
        system: System | str | None = None,
        max_episode_steps: int | None = None,
        reset_states: Any = None,
        frame_skip: int | None = None,
        ood_penalty: OODPenalty | None = None,
        render_mode: str | None = None,
        *,
        reward_fn: RewardFn | None = None,
        device: str = "cpu",
        max_abs_state: float = 1e6,
        render_size: tuple[int, int] = (240, 320),
        camera: int | str | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise InvalidInputError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        for name, fn in (("ood_penalty", ood_penalty), ("reward_fn", reward_fn)):
            if fn is not None and not callable(fn):
                raise InvalidInputError(f"{name} must be callable, got {type(fn).__name__}")
        self.simulator = as_simulator(model, device)
        self.model_spec = self.simulator.spec
        self.system = task_system(self.model_spec, system)
        self.frame_skip = resolve_frame_skip(frame_skip, self.system, self.model_spec)
        self.dt = self.model_spec.dt * self.frame_skip
        """seconds per env step"""
        self.max_episode_steps = resolve_episode_steps(max_episode_steps, self.system, self.dt)
        self.reset_states = check_reset_states(reset_states, self.model_spec)
        self.ood_penalty = ood_penalty
        self.reward_fn = reward_fn
        self.max_abs_state = float(max_abs_state)
        self.render_mode = render_mode
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": max(1, int(round(1.0 / self.dt)))}
        self._low = np.asarray(self.system.action_low, dtype=np.float64)
        self._high = np.asarray(self.system.action_high, dtype=np.float64)
        self.action_space = spaces.Box(self._low.astype(np.float32), self._high.astype(np.float32), dtype=np.float32)
        self._qpos, self._qvel = self.system.reset(0)
        n_obs = self._observe(self._qpos, self._qvel).shape[0]
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(n_obs,), dtype=np.float32)
        self._steps = 0
        self._renderer = StateRenderer(self.system, *render_size, camera)

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the current (predicted) ``(qpos, qvel)``."""
        return self._qpos.copy(), self._qvel.copy()

    @property
    def elapsed_steps(self) -> int:
        """Env steps since the last reset."""
        return self._steps

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """Put the env in a physical state (the step count is kept); returns its observation."""
        self._qpos, self._qvel = self._checked_state(qpos, qvel)
        return self._observe(self._qpos, self._qvel)

    def _checked_state(self, qpos: Any, qvel: Any) -> tuple[np.ndarray, np.ndarray]:
        q, v = check_reset_states((np.asarray(qpos)[None], np.asarray(qvel)[None]), self.model_spec)  # type: ignore
        if q.shape[0] != 1:
            raise InvalidInputError(f"expected one state, got qpos {np.shape(qpos)} and qvel {np.shape(qvel)}")
        return q[0], v[0]

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode: the task's random initial state (and task randomization) from the env's seed.

        ``options={"qpos": ..., "qvel": ...}`` starts from that state instead (after the task's randomization).
        """
        super().reset(seed=seed)
        q, v = self.system.reset(int(self.np_random.integers(0, 2**63 - 1)))
        options = options or {}
        info: dict[str, Any] = {}
        if "qpos" in options or "qvel" in options:
            q, v = self._checked_state(options.get("qpos"), options.get("qvel"))
        elif self.reset_states is not None:
            i = int(self.np_random.integers(len(self.reset_states[0])))
            q, v = self.reset_states[0][i].copy(), self.reset_states[1][i].copy()
            info["reset_index"] = i
        self._qpos, self._qvel, self._steps = q, v, 0
        return self._observe(q, v), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        a = self.prepare_action(action)
        q, v, diverged = advance(self.simulator, self._qpos[None], self._qvel[None], a[None], self.frame_skip,
                                 self.max_abs_state)
        pen = ood_penalties(self.ood_penalty, self._qpos[None], self._qvel[None], a[None])
        return self.finish_step(q[0], v[0], a, bool(diverged[0]), None if pen is None else float(pen[0]))

    def render(self) -> np.ndarray | None:
        """An ``(H, W, 3)`` uint8 image of the current predicted state (``render_mode="rgb_array"``)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; make the env with render_mode='rgb_array'")
            return None
        return self._renderer.render(self._qpos, self._qvel)

    def close(self) -> None:
        self._renderer.close()

    # ------------------------------------------------------------------ the parts a batched env reuses
    def prepare_action(self, action: Any) -> np.ndarray:
        """The action as float64 ``(nu,)`` clipped to the task's bounds (wrong shape or NaN: InvalidInputError)."""
        return check_action(action, self._low, self._high, self.model_spec.system_id)

    def finish_step(self, qpos: np.ndarray, qvel: np.ndarray, action: np.ndarray, diverged: bool,
                    penalty: float | None) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Move to the predicted state and evaluate the task on it: ``(obs, reward, terminated, truncated, info)``."""
        self._steps += 1
        self._qpos, self._qvel = qpos, qvel
        info: dict[str, Any] = {"diverged": diverged}
        if diverged:
            reward, terminated = 0.0, True
            obs = self._observe(qpos, qvel)
        else:
            reward, obs = self._reward_and_observation(qpos, qvel, action)
            terminated = self._task_terminated()
        if penalty is not None:
            info["task_reward"], info["ood_penalty"] = reward, penalty
            reward += penalty
        truncated = self._steps >= self.max_episode_steps
        return obs, float(reward), terminated, truncated, info

    def _observe(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        return np.asarray(self.system.observation(qpos, qvel), dtype=np.float32)

    def _reward_and_observation(self, qpos: np.ndarray, qvel: np.ndarray,
                                action: np.ndarray) -> tuple[float, np.ndarray]:
        if self.reward_fn is not None:
            return float(self.reward_fn(qpos, qvel, action)), self._observe(qpos, qvel)
        if self.system.has_task:  # one evaluation of the state (one mj_forward) for both
            reward, obs = self.system.reward_and_observation(qpos, qvel, action)
            return float(reward), np.asarray(obs, dtype=np.float32)
        return 0.0, self._observe(qpos, qvel)

    def _task_terminated(self) -> bool:
        """dm_control tasks that end episodes (only ``lqr`` does) decide on the state just observed."""
        task, physics = getattr(self.system, "task", None), getattr(self.system, "physics", None)
        if task is None or physics is None:
            return False
        return task.get_termination(physics) is not None

    def __str__(self) -> str:
        return repr(self)

    def __repr__(self) -> str:
        return (f"MosimEnv({self.model_spec.system_id!r}, dt={self.dt:g}s = {self.frame_skip} model step(s), "
                f"{self.max_episode_steps} steps per episode)")
