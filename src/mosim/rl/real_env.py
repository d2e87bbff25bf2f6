"""The real task as a Gymnasium env, its transitions as a dataset, and evaluation of an agent in it.

:class:`RealEnv` is the twin of :class:`~mosim.rl.env.MosimEnv` with MuJoCo instead of the learned model:
the same system id and model step, the same env step (``frame_skip`` model steps, the action held), episode
length, observation, reward and seeding (so ``reset(seed=s)`` draws the same task randomization in both).
It records every model step it takes in a :class:`TransitionLog`, which :meth:`TransitionLog.dataset` cuts
into a :class:`~mosim.data.Dataset` of the model's system for fine-tuning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mosim.data.dataset import Dataset
from mosim.data.format import DatasetMeta
from mosim.errors import InvalidInputError
from mosim.rl.common import check_action, resolve_episode_steps, resolve_frame_skip
from mosim.systems import make_system
from mosim.systems.base import SystemSpec


@dataclass
class TransitionLog:
    """Model steps taken in the real task: states ``qpos (N+1, nq)`` per episode segment, actions, and the
    task seed of each episode (what :meth:`RealEnv.reset` passed to ``system.reset``)."""

    segments: list[dict[str, Any]] = field(default_factory=list)
    """each ``{"qpos": [...], "qvel": [...], "action": [...], "task_seed": int}``"""

    def start(self, qpos: np.ndarray, qvel: np.ndarray, task_seed: int) -> None:
        self.segments.append({"qpos": [qpos.copy()], "qvel": [qvel.copy()], "action": [], "task_seed": task_seed})

    def add(self, action: np.ndarray, qpos: np.ndarray, qvel: np.ndarray) -> None:
        seg = self.segments[-1]
        seg["action"].append(np.asarray(action, dtype=np.float64).copy())
        seg["qpos"].append(qpos.copy())
        seg["qvel"].append(qvel.copy())

    @property
    def n_steps(self) -> int:
        return sum(len(s["action"]) for s in self.segments)

    def states(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every visited state that an action was applied in: ``qpos (N, nq)``, ``qvel (N, nv)``, and the
        task seed of its episode ``(N,)``."""
        segs = [s for s in self.segments if s["action"]]
        if not segs:
            raise InvalidInputError("no real transitions recorded yet")
        q = np.concatenate([np.asarray(s["qpos"][:-1]) for s in segs])
        v = np.concatenate([np.asarray(s["qvel"][:-1]) for s in segs])
        seeds = np.concatenate([np.full(len(s["action"]), s["task_seed"], dtype=np.int64) for s in segs])
        return q, v, seeds

    def dataset(self, spec: SystemSpec, chunk: int) -> Dataset:
        """All segments cut into episodes of ``chunk`` model steps (the leftover of a segment is dropped),
        all in the training split."""
        if chunk < 1:
            raise InvalidInputError(f"chunk must be >= 1, got {chunk}")
        qs, vs, acts = [], [], []
        for s in self.segments:
            q, v, a = np.asarray(s["qpos"]), np.asarray(s["qvel"]), np.asarray(s["action"])
            for t in range(0, len(a) - chunk + 1, chunk):
                qs.append(q[t : t + chunk + 1])
                vs.append(v[t : t + chunk + 1])
                acts.append(a[t : t + chunk])
        if not acts:
            raise InvalidInputError(f"no real segment holds {chunk} consecutive model steps yet")
        from mosim import __version__

        meta = DatasetMeta(spec=spec, policy={"name": "agent", "params": {}}, seed=0,
                           split_fractions=(1.0, 0.0, 0.0), mosim_version=__version__)
        return Dataset(meta, np.stack(qs), np.stack(vs), np.stack(acts), np.zeros(len(acts), dtype=np.uint8))


class RealEnv(gym.Env):
    """The real task of a model's system: MuJoCo steps, the task observes and rewards.

    :param spec: the model's system spec (``system_id`` and model step); or a system id, with ``substeps``
        defaulting to the task's control step
    :param frame_skip: model steps per env step; default as :class:`~mosim.rl.env.MosimEnv`'s
    :param max_episode_steps: default: the task's time limit
    :param log: record the model steps taken (for fine-tuning a model on them)
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, spec: SystemSpec | str, frame_skip: int | None = None, max_episode_steps: int | None = None,
                 log: bool = False) -> None:
        if isinstance(spec, str):
            spec = make_system(spec).spec()
        self.spec = spec
        self.system = make_system(spec.system_id, substeps=spec.substeps)
        self.frame_skip = resolve_frame_skip(frame_skip, self.system, spec)
        self.dt = spec.dt * self.frame_skip
        self.max_episode_steps = resolve_episode_steps(max_episode_steps, self.system, self.dt)
        self.log = TransitionLog() if log else None
        self._low = np.asarray(self.system.action_low, dtype=np.float64)
        self._high = np.asarray(self.system.action_high, dtype=np.float64)
        self.action_space = spaces.Box(self._low.astype(np.float32), self._high.astype(np.float32), dtype=np.float32)
        q, v = self.system.reset(0)
        n_obs = len(self.system.observation(q, v))
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(n_obs,), dtype=np.float32)
        self._steps = 0

    @property
    def state(self) -> tuple[np.ndarray, np.ndarray]:
        return self.system.get_state()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        task_seed = int(self.np_random.integers(0, 2**63 - 1))  # as MosimEnv.reset draws it
        q, v = self.system.reset(task_seed)
        self._steps = 0
        if self.log is not None:
            self.log.start(q, v, task_seed)
        return self._observe(q, v), {"task_seed": task_seed}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        a = check_action(action, self._low, self._high, self.spec.system_id)
        for _ in range(self.frame_skip):
            q, v = self.system.step(a)
            if self.log is not None:
                self.log.add(a, q, v)
        if self.system.has_task:
            reward, obs = self.system.reward_and_observation(q, v, a)
            reward, obs = float(reward), np.asarray(obs, dtype=np.float32)
        else:
            reward, obs = 0.0, self._observe(q, v)
        task, physics = getattr(self.system, "task", None), getattr(self.system, "physics", None)
        terminated = task is not None and physics is not None and task.get_termination(physics) is not None
        self._steps += 1
        truncated = self._steps >= self.max_episode_steps
        return obs, reward, bool(terminated), truncated, {}

    def _observe(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.asarray(self.system.observation(q, v), dtype=np.float32)

    def __repr__(self) -> str:
        return (f"RealEnv({self.spec.system_id!r}, dt={self.dt:g}s = {self.frame_skip} model step(s), "
                f"{self.max_episode_steps} steps per episode)")


@dataclass(frozen=True)
class Evaluation:
    """Returns of deterministic episodes of an agent in the real task."""

    returns: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        return float(np.std(self.returns))


def evaluate(agent: Any, env: RealEnv, episodes: int = 10, seed: int = 0, deterministic: bool = True) -> Evaluation:
    """Run ``episodes`` episodes (reset seeds ``seed + i``) with ``agent.predict``; the same seeds give the same
    episodes, so successive evaluations of a run differ only by the agent."""
    returns = []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            action, _ = agent.predict(obs, deterministic=deterministic)
            obs, r, terminated, truncated, _ = env.step(action)
            total += r
            done = terminated or truncated
        returns.append(total)
    return Evaluation(tuple(returns))
