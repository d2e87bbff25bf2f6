"""MuJoCo itself as a model on the protocol: how predictable a system is at all.

:class:`MujocoModel` has the ``rollout(qpos0, qvel0, actions)`` of every scored model, and steps the dataset's own
system from the window's start. It sees what a learned model sees, the start's ``(qpos, qvel)``, and nothing of
the solver's warm start; unperturbed, it still replays the recorded runs to rounding error, contacts included (the
tests check it). Perturbed starts (``noise``), noise after every step (``step_noise``) and a state rounded to
float32 measure how fast errors of a given size grow: for each error size, about what a model that makes errors of
that size, independent from step to step, can reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError
from mosim.systems import System, make_system


@dataclass(frozen=True)
class Perturbation:
    """How the reference differs from the recorded run."""

    noise: float = 0.0
    """standard deviation of the start's noise, as a fraction of each qpos/qvel entry's std in the data"""
    step_noise: float = 0.0
    """standard deviation of noise added to the state after every step, as a fraction of the std of each entry's
    one-step change in the data (the scale a model's one-step error is measured in): what a model with that
    one-step error reaches if its errors were independent from step to step"""
    float32: str = "none"
    """round the state to float32: ``none``, ``start`` (the start only) or ``every_step``"""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("noise", "step_noise"):
            x = getattr(self, name)
            if x < 0 or not np.isfinite(x):
                raise InvalidInputError(f"{name} must be a finite fraction >= 0, got {x}")
        if self.float32 not in ("none", "start", "every_step"):
            raise InvalidInputError(f"float32 must be 'none', 'start' or 'every_step', got {self.float32!r}")


def state_std(dataset: Dataset) -> np.ndarray:
    """The std of each ``concat(qpos, qvel)`` entry over the training split: ``(nq + nv,)``."""
    train, spec = dataset.subset("train"), dataset.spec
    return np.concatenate([train.qpos.reshape(-1, spec.nq).std(0), train.qvel.reshape(-1, spec.nv).std(0)])


def step_std(dataset: Dataset) -> np.ndarray:
    """The std of each entry's one-step change over the training split, the scale models are trained on and one-step
    errors are measured in: ``(nq + nv,)``."""
    train, spec = dataset.subset("train"), dataset.spec
    return np.concatenate([np.diff(train.qpos, axis=1).reshape(-1, spec.nq).std(0),
                           np.diff(train.qvel, axis=1).reshape(-1, spec.nv).std(0)])


class MujocoModel:
    """The dataset's system stepped by MuJoCo from each window's start (see the module's docstring)."""

    def __init__(self, dataset: Dataset, perturbation: Perturbation | None = None, system: System | None = None):
        spec = dataset.spec
        self.system = system or make_system(spec.system_id, substeps=spec.substeps)
        mismatch = self.system.spec().mismatches(spec)
        if mismatch:
            raise InvalidInputError(f"the system does not match the dataset: {'; '.join(mismatch)}")
        self.perturbation = perturbation or Perturbation()
        self._std, self._delta_std = state_std(dataset), step_std(dataset)
        self._rng = np.random.default_rng(self.perturbation.seed)

    def _perturb(self, q: np.ndarray, v: np.ndarray, noise: float, scale: np.ndarray,
                 float32: bool) -> tuple[np.ndarray, np.ndarray]:
        nq = len(q)
        x = np.concatenate([q, v])
        if noise:
            x = x + noise * scale * self._rng.standard_normal(x.shape)
        if float32:
            x = x.astype(np.float32).astype(np.float64)
        q, v = x[:nq], x[nq:]
        for s in self.system.layout.quaternion_slices():
            q[s] /= np.linalg.norm(q[s])
        return q, v

    def rollout(self, qpos0: np.ndarray, qvel0: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(N, H+1, nq)``, ``(N, H+1, nv)`` from starts ``(N, nq)``, ``(N, nv)`` under actions ``(N, H, nu)``."""
        qpos0, qvel0, actions = (np.asarray(x, dtype=np.float64) for x in (qpos0, qvel0, actions))
        n, h = actions.shape[:2]
        sysm = self.system
        qs, vs = np.empty((n, h + 1, sysm.nq)), np.empty((n, h + 1, sysm.nv))
        p = self.perturbation
        every = p.float32 == "every_step"
        for i in range(n):
            q, v = self._perturb(qpos0[i], qvel0[i], p.noise, self._std, p.float32 != "none")
            sysm.set_state(q, v)
            qs[i, 0], vs[i, 0] = q, v
            for t in range(h):
                q, v = sysm.step(actions[i, t])
                if every or p.step_noise:
                    q, v = self._perturb(q, v, p.step_noise, self._delta_std, every)
                    sysm.data.qpos[:], sysm.data.qvel[:] = q, v
                qs[i, t + 1], vs[i, t + 1] = q, v
        return qs, vs
