"""DeepMind Control Suite tasks as mosim systems, using dm_control's own task code.

The physics is dm_control's compiled model; reset calls the task's ``initialize_episode`` (so the
initial-state distribution and per-episode task randomization, such as reacher's target, are the
task's own); observation and reward call the task's ``get_observation`` / ``get_reward`` on a
physics whose state was set to the given ``(qpos, qvel)``. Stepping uses raw ``mj_step`` on the
same model, which is what ``dm_control`` does for every task whose ``before_step`` only sets the
control; tasks that do more in ``before_step``/``after_step`` are stepped through those hooks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import mujoco
import numpy as np

from mosim.errors import UnknownNameError
from mosim.registry import unknown_name
from mosim.systems.base import System

os.environ.setdefault("MUJOCO_GL", "egl")


@contextlib.contextmanager
def _quiet_absl() -> Iterator[None]:
    """dm_control's XML loader logs deprecation warnings about its own files; hide them."""
    from absl import logging as absl_logging

    level = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        yield
    finally:
        absl_logging.set_verbosity(level)


def dmc_task_ids() -> list[str]:
    """Every ``domain-task`` id of the suite."""
    from dm_control import suite

    return [f"{d}-{t}" for d, t in suite.ALL_TASKS]


def parse_dmc_id(system_id: str) -> tuple[str, str]:
    """``'cheetah-run'`` -> ``('cheetah', 'run')``; ball_in_cup's underscore is kept."""
    from dm_control import suite

    domain, sep, task = system_id.partition("-")
    if not sep or (domain, task) not in set(suite.ALL_TASKS):
        raise unknown_name(system_id, "system", dmc_task_ids() + ["panda", "go2", "mjcf:PATH"])
    return domain, task


class DMCSystem(System):
    """A dm_control suite task (``domain-task``) as a :class:`System`.

    :param system_id: e.g. ``"cheetah-run"``
    :param substeps: physics steps per model step; default: the task's own control step
    """

    def __init__(self, system_id: str, substeps: int | None = None) -> None:
        from dm_control import suite
        from dm_control.suite import base

        domain, task = parse_dmc_id(system_id)
        with _quiet_absl():
            self.env = suite.load(domain, task)
        self.physics = self.env.physics
        self.task = self.env.task
        self.model = self.physics.model.ptr
        self.data = self.physics.data.ptr
        self.system_id = system_id
        task_substeps = int(round(self.env.control_timestep() / self.physics.model.opt.timestep))
        self.substeps = task_substeps if substeps is None else int(substeps)
        self.task_substeps = task_substeps
        self._plain_hooks = (
            type(self.task).before_step is base.Task.before_step and type(self.task).after_step is base.Task.after_step
        )
        self._finish_init()

    def _action_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        spec = self.env.action_spec()
        return np.asarray(spec.minimum, dtype=np.float64).copy(), np.asarray(spec.maximum, dtype=np.float64).copy()

    def _initialize_episode(self, rng: np.random.Generator, seed: int | None) -> None:
        task_seed = int(rng.integers(0, 2**32 - 1))
        self.task.random.seed(task_seed)
        with self.physics.reset_context():
            self.task.initialize_episode(self.physics)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        action = self.clip_action(action)
        if self._plain_hooks:
            self.data.ctrl[:] = action
            mujoco.mj_step(self.model, self.data, nstep=self.substeps)
        else:
            self.task.before_step(action, self.physics)
            mujoco.mj_step(self.model, self.data, nstep=self.substeps)
            self.task.after_step(self.physics)
        return self.get_state()

    @property
    def has_task(self) -> bool:
        return True

    def _set_for_task(self, qpos: np.ndarray, qvel: np.ndarray, action: np.ndarray | None) -> None:
        if action is not None:  # before mj_forward: what it derives sees the action, as after a real step
            self.data.ctrl[:] = self.clip_action(action)
        self.set_state(qpos, qvel)

    def _flat_observation(self) -> np.ndarray:
        obs = self.task.get_observation(self.physics)
        return np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in obs.values()])

    def observation(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        self._set_for_task(qpos, qvel, None)
        return self._flat_observation()

    def observation_dict(self, qpos: np.ndarray, qvel: np.ndarray) -> dict[str, np.ndarray]:
        self._set_for_task(qpos, qvel, None)
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.task.get_observation(self.physics).items()}

    def reward(self, qpos: np.ndarray, qvel: np.ndarray, action: np.ndarray) -> float:
        self._set_for_task(qpos, qvel, action)
        return float(self.task.get_reward(self.physics))

    def reward_and_observation(self, qpos: np.ndarray, qvel: np.ndarray,
                               action: np.ndarray) -> tuple[float, np.ndarray]:
        self._set_for_task(qpos, qvel, action)  # one mj_forward for both
        return float(self.task.get_reward(self.physics)), self._flat_observation()


def is_dmc_id(system_id: str) -> bool:
    try:
        parse_dmc_id(system_id)
    except UnknownNameError:
        return False
    return True
