"""True and predicted trajectories of the same start state and actions (no rendering)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from mosim.errors import InvalidInputError  # noqa: E402
from mosim.systems import System  # noqa: E402

@dataclass(frozen=True)
class Comparison:
    """True and predicted motion from one start state under one action sequence.

    ``true_qpos``/``pred_qpos (T+1, nq)``, ``true_qvel``/``pred_qvel (T+1, nv)``, ``actions (T, nu)``; index 0
    is the shared start state.
    """

    true_qpos: np.ndarray
    true_qvel: np.ndarray
    pred_qpos: np.ndarray
    pred_qvel: np.ndarray
    actions: np.ndarray
    dt: float
    source: str = ""
    """where the start state and actions came from, for titles"""

    @property
    def steps(self) -> int:
        return int(self.actions.shape[0])

    @property
    def true_states(self) -> np.ndarray:
        """``concat(qpos, qvel)`` of the true motion, ``(T+1, nq+nv)``."""
        return np.concatenate([self.true_qpos, self.true_qvel], axis=-1)

    @property
    def pred_states(self) -> np.ndarray:
        return np.concatenate([self.pred_qpos, self.pred_qvel], axis=-1)

    def diverged_at(self) -> int | None:
        """First step whose prediction is NaN/inf, or None."""
        bad = ~(np.isfinite(self.pred_qpos).all(-1) & np.isfinite(self.pred_qvel).all(-1))
        return int(np.argmax(bad)) if bad.any() else None

    def mse(self) -> float:
        """Mean squared error of the prediction over all predicted steps (raw qpos/qvel)."""
        err = self.pred_states[1:] - self.true_states[1:]
        return float(np.mean(err**2)) if err.size else 0.0


def simulate(system: System, qpos0: np.ndarray, qvel0: np.ndarray, actions: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """MuJoCo's motion: ``system`` stepped from ``(qpos0, qvel0)`` under ``actions (T, nu)``."""
    system.set_state(qpos0, qvel0)
    qs, vs = [np.asarray(qpos0, dtype=np.float64).copy()], [np.asarray(qvel0, dtype=np.float64).copy()]
    for a in actions:
        q, v = system.step(a)
        qs.append(q)
        vs.append(v)
    return np.stack(qs), np.stack(vs)


def compare(sim: Any, qpos0: np.ndarray, qvel0: np.ndarray, actions: np.ndarray, system: System | None = None,
            true: tuple[np.ndarray, np.ndarray] | None = None, warmup: tuple[Any, Any, Any] | None = None,
            source: str = "") -> Comparison:
    """Predict ``actions (T, nu)`` open loop from ``(qpos0, qvel0)`` with ``sim`` (a :class:`mosim.loading.Simulator`),
    next to the true motion: ``true=(qpos (T+1, nq), qvel (T+1, nv))`` if given (a dataset episode), else
    ``system`` stepped by MuJoCo."""
    actions = np.asarray(actions, dtype=np.float64)
    if true is None:
        if system is None:
            raise InvalidInputError("compare: give the true motion (true=(qpos, qvel)) or a system to simulate it")
        true = simulate(system, qpos0, qvel0, actions)
    q0, v0 = np.asarray(qpos0, dtype=np.float64), np.asarray(qvel0, dtype=np.float64)
    pq, pv = sim.rollout(q0, v0, actions, warmup=warmup)
    pq, pv = np.array(pq, dtype=np.float64), np.array(pv, dtype=np.float64)
    pq[0], pv[0] = q0, v0  # the start state itself (not its round trip through the model's float32)
    return Comparison(np.asarray(true[0], dtype=np.float64), np.asarray(true[1], dtype=np.float64), pq, pv, actions,
                      sim.spec.dt, source)


def random_actions(system: System, steps: int, seed: int = 0, hold: float = 3.0, p_zero: float = 0.2) -> np.ndarray:
    """``(steps, nu)`` random actions within the system's bounds (mosim's random collection policy)."""
    from mosim.data.policies import RandomPolicy

    policy = RandomPolicy(hold=hold, p_zero=p_zero)
    policy.bind(system.action_low, system.action_high)
    policy.reset(np.random.default_rng(np.random.SeedSequence([int(seed), 0x2E4D])))
    return policy.plan(int(steps))
