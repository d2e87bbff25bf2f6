"""The prediction benchmark's protocol, as a frozen, recorded object, and its test windows.

A window is a start index ``t0`` in a held-out episode: the model gets the true state at ``t0`` and the
true actions ``t0 .. t0+H-1`` and rolls out ``H`` steps on its own predictions. Models that build a
latent state first (the RSSM) also get the ``W - 1`` true states before ``t0`` and the actions between
them (``W = 1``: the start state alone); those warm-up steps are never scored. Starts are drawn once,
seeded, from ``[max_warmup - 1, T - H]`` so that every model, with or without warm-up, is scored on
the same windows, and no window crosses an episode's end.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError


@dataclass(frozen=True)
class Protocol:
    """What is scored, and how. Saved next to every result."""

    horizons: tuple[int, ...] = (3, 16, 100)
    """rollout lengths H scored"""
    n_windows: int = 1000
    """windows per horizon (errors are heavy-tailed: compare on at least 1000)"""
    split: str = "test"
    """dataset split the windows come from"""
    seed: int = 0
    """seed of the window starts (and of the bootstrap)"""
    max_warmup: int = 5
    """largest warm-up W any model gets; window starts leave room for it"""
    equivalent_max: int = 500
    """longest rollout searched for the equivalent horizon"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "horizons", tuple(int(h) for h in self.horizons))
        if not self.horizons or min(self.horizons) < 1:
            raise InvalidInputError(f"horizons must be positive integers, got {self.horizons}")
        if self.n_windows < 1 or self.max_warmup < 1:
            raise InvalidInputError("n_windows and max_warmup must be >= 1")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class WindowSet:
    """Windows of one horizon: ``episode (N,)`` indices into the split and start steps ``t0 (N,)``."""

    horizon: int
    episode: np.ndarray
    t0: np.ndarray

    def true_states(self, ds: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``qpos (N, H+1, nq)``, ``qvel (N, H+1, nv)`` from the start state, ``action (N, H, nu)``."""
        t = self.t0[:, None] + np.arange(self.horizon + 1)[None, :]
        e = self.episode[:, None]
        return ds.qpos[e, t], ds.qvel[e, t], ds.action[e, t[:, :-1]]

    def warmup(self, ds: Dataset, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The ``w - 1`` true states before each start and the actions after each of them (``None`` for w = 1)."""
        if w <= 1:
            return None
        t = self.t0[:, None] + np.arange(-(w - 1), 0)[None, :]
        if t.min() < 0:
            raise InvalidInputError(f"warm-up {w} reaches before the episode start; raise Protocol.max_warmup")
        e = self.episode[:, None]
        return ds.qpos[e, t], ds.qvel[e, t], ds.action[e, t]


def make_windows(dataset: Dataset, protocol: Protocol, horizon: int) -> tuple[Dataset, WindowSet]:
    """The split's episodes and ``protocol.n_windows`` seeded windows of ``horizon`` steps in them."""
    part = dataset.subset(protocol.split)
    if part.n_episodes == 0:
        raise InvalidInputError(f"{dataset.path}: no {protocol.split!r} episodes to benchmark on")
    lo, hi = protocol.max_warmup - 1, part.steps - horizon
    if hi < lo:
        raise InvalidInputError(f"{dataset.path}: episodes of {part.steps} steps are too short for horizon {horizon} "
                                f"with warm-up {protocol.max_warmup}")
    rng = np.random.default_rng(np.random.SeedSequence([protocol.seed, horizon, 0xBE4C]))
    episode = rng.integers(part.n_episodes, size=protocol.n_windows)
    t0 = rng.integers(lo, hi + 1, size=protocol.n_windows)
    return part, WindowSet(horizon, episode, t0)
