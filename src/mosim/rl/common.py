"""What the single and the batched imagined environments share: resolving the model and the task system,
the episode's time step and length, start-state pools, the batched model step and rendering.

The model advances the physical state; the task system (a :class:`~mosim.systems.base.System` of the same
robot) only supplies the reset distribution, the observation and the reward, evaluated on predicted states.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, Union

import numpy as np

from mosim.ensemble import EnsembleSimulator
from mosim.errors import InvalidInputError
from mosim.loading import Simulator
from mosim.models.base import DynamicsModel
from mosim.systems import System, make_system
from mosim.systems.base import SystemSpec

ModelLike = Union[Simulator, EnsembleSimulator, DynamicsModel, str, os.PathLike, list, tuple]
RewardFn = Callable[[np.ndarray, np.ndarray, np.ndarray], float]
OODPenalty = Callable[[np.ndarray, np.ndarray, np.ndarray], Any]

DEFAULT_EPISODE_STEPS = 1000


def as_simulator(model: ModelLike, device: str = "cpu") -> Simulator | EnsembleSimulator:
    """A :class:`Simulator` from a simulator, a bare dynamics model or a checkpoint path (loaded on ``device``); an
    :class:`~mosim.ensemble.EnsembleSimulator` as it is, or from a list of checkpoint paths (its members' next
    states averaged at every step)."""
    if isinstance(model, (Simulator, EnsembleSimulator)):
        return model
    if isinstance(model, DynamicsModel):
        return Simulator(model)
    if isinstance(model, (str, os.PathLike)):
        from mosim.loading import load

        return load(model, device=device)
    if isinstance(model, (list, tuple)) and model and all(isinstance(m, (str, os.PathLike)) for m in model):
        from mosim.ensemble import load_ensemble

        return load_ensemble(model, device=device, combine="steps")
    raise InvalidInputError(
        "model must be a mosim Simulator (mosim.load(...)), an ensemble (mosim.load_ensemble(...)), a DynamicsModel, "
        f"a checkpoint path or a list of them, got {type(model).__name__}"
    )


def task_system(spec: SystemSpec, system: System | str | None = None) -> System:
    """The system that evaluates reset, observation and reward for a model of ``spec``.

    ``None`` makes it from the model's system id (with the model's substeps). A given system or id may be
    another task of the same robot (a reacher-easy model serves reacher-hard: the tasks differ in their reset,
    observation and reward, not in the dynamics): its joint layout, actuation and physics step must be the
    model's (its substeps may differ: only the model steps the state).
    """
    if system is None:
        return make_system(spec.system_id, substeps=spec.substeps)
    if isinstance(system, str):
        system = make_system(system, substeps=spec.substeps)
    if not isinstance(system, System):
        raise InvalidInputError(f"system must be a mosim System, a system id or None, got {type(system).__name__}")
    problems = [p for p in system.spec().mismatches(spec) if not p.startswith(("substeps", "dt", "system_id"))]
    if problems:
        raise InvalidInputError(
            f"the model is of system {spec.system_id!r} but system is {system.system_id!r} "
            f"({'; '.join(problems)}): pass a task of the model's robot, or use a model trained on "
            f"{system.system_id!r}"
        )
    return system


def resolve_frame_skip(frame_skip: int | None, system: System, spec: SystemSpec) -> int:
    """Model steps per env step: given, or the task's control step over the model's step (1 without a task step)."""
    if frame_skip is not None:
        if isinstance(frame_skip, bool) or not isinstance(frame_skip, (int, np.integer)) or frame_skip < 1:
            raise InvalidInputError(f"frame_skip must be an integer >= 1, got {frame_skip!r}")
        return int(frame_skip)
    task_substeps = getattr(system, "task_substeps", None)
    if task_substeps is None:
        return 1
    if task_substeps % spec.substeps:
        raise InvalidInputError(
            f"{spec.system_id}: the model's step ({spec.substeps} physics steps) does not divide the task's control "
            f"step ({task_substeps} physics steps); pass frame_skip explicitly"
        )
    return task_substeps // spec.substeps


def resolve_episode_steps(max_episode_steps: int | None, system: System, env_dt: float) -> int:
    """Env steps per episode: given, or the task's time limit (dm_control: 1000 control steps), else 1000."""
    if max_episode_steps is not None:
        if isinstance(max_episode_steps, bool) or not isinstance(max_episode_steps, (int, np.integer)) \
                or max_episode_steps < 1:
            raise InvalidInputError(f"max_episode_steps must be an integer >= 1, got {max_episode_steps!r}")
        return int(max_episode_steps)
    dm_env = getattr(system, "env", None)
    step_limit = float(getattr(dm_env, "_step_limit", math.inf))
    task_substeps = getattr(system, "task_substeps", None)
    if not math.isfinite(step_limit) or task_substeps is None:
        return DEFAULT_EPISODE_STEPS
    time_limit = step_limit * task_substeps * system.physics_dt
    return max(1, int(round(time_limit / env_dt)))


def check_reset_states(reset_states: Any, spec: SystemSpec) -> tuple[np.ndarray, np.ndarray] | None:
    """``(qpos (N, nq), qvel (N, nv))`` or a :class:`~mosim.data.Dataset` (all its states) as float64 arrays."""
    if reset_states is None:
        return None
    if hasattr(reset_states, "qpos") and hasattr(reset_states, "qvel"):
        q, v = reset_states.qpos, reset_states.qvel
    elif isinstance(reset_states, (tuple, list)) and len(reset_states) == 2:
        q, v = reset_states
    else:
        raise InvalidInputError("reset_states must be (qpos (N, nq), qvel (N, nv)) or a Dataset")
    try:
        q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"states must be arrays of numbers: {e}") from None
    if q.ndim < 1 or v.ndim < 1 or q.shape[-1] != spec.nq or v.shape[-1] != spec.nv:
        raise InvalidInputError(f"{spec.system_id}: states must be qpos (..., nq={spec.nq}) and "
                                f"qvel (..., nv={spec.nv}), got {q.shape} and {v.shape}")
    q, v = q.reshape(-1, spec.nq), v.reshape(-1, spec.nv)
    if len(q) != len(v) or len(q) == 0:
        raise InvalidInputError(f"reset_states: need N >= 1 states with as many qpos as qvel, "
                                f"got {len(q)} and {len(v)}")
    if not (np.isfinite(q).all() and np.isfinite(v).all()):
        raise InvalidInputError("reset_states contain NaN or inf")
    return q.copy(), v.copy()


def check_action(action: Any, low: np.ndarray, high: np.ndarray, system_id: str) -> np.ndarray:
    """A float64 ``(nu,)`` action clipped to the bounds, or :class:`InvalidInputError`."""
    try:
        a = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(
            f"{system_id}: action must be an array of numbers, got {type(action).__name__}: {e}"
        ) from None
    if a.shape != low.shape:
        raise InvalidInputError(f"{system_id}: action must have shape {low.shape}, got {a.shape}")
    if not np.isfinite(a).all():
        raise InvalidInputError(f"{system_id}: action contains NaN or inf: {a}")
    return np.clip(a, low, high)


def advance(sim: Simulator | EnsembleSimulator, qpos: np.ndarray, qvel: np.ndarray, action: np.ndarray, frame_skip: int,
            max_abs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``frame_skip`` batched model steps (no gradients) with the action held.

    Returns ``(qpos (N, nq), qvel (N, nv), diverged (N,))``. A row whose prediction becomes non-finite or larger
    than ``max_abs`` in magnitude is diverged: it keeps its last good state and stops being advanced.
    """
    q, v = qpos, qvel
    diverged = np.zeros(len(q), dtype=bool)
    for _ in range(frame_skip):
        q1, v1 = sim.step(q, v, action)
        bad = ~((np.abs(q1) <= max_abs).all(-1) & (np.abs(v1) <= max_abs).all(-1))  # NaN compares False
        diverged |= bad
        q = np.where(diverged[:, None], q, q1)
        v = np.where(diverged[:, None], v, v1)
    return q, v, diverged


def ood_penalties(fn: OODPenalty | None, qpos: np.ndarray, qvel: np.ndarray, action: np.ndarray) -> np.ndarray | None:
    """The out-of-distribution penalty of each ``(state, action)`` row, as float64 ``(N,)`` (``None`` without one)."""
    if fn is None:
        return None
    out = fn(qpos, qvel, action)
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    p = np.asarray(out, dtype=np.float64).reshape(-1)
    if p.shape != (len(qpos),):
        raise InvalidInputError(f"ood_penalty must return one value per state, got shape {np.shape(out)} "
                                f"for {len(qpos)} states")
    return p


class StateRenderer:
    """Renders a system at given physical states with ``mujoco.Renderer`` (offscreen; MUJOCO_GL=egl works headless)."""

    def __init__(self, system: System, height: int, width: int, camera: int | str | None) -> None:
        self.system, self.height, self.width = system, int(height), int(width)
        self.camera = (0 if system.model.ncam > 0 else -1) if camera is None else camera
        self._renderer: Any = None

    def render(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        import mujoco

        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.system.model, self.height, self.width)
        self.system.set_state(qpos, qvel)
        self._renderer.update_scene(self.system.data, camera=self.camera)
        return np.asarray(self._renderer.render(), dtype=np.uint8).copy()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
