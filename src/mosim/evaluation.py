"""Open-loop prediction error on held-out windows: the paper's metric, with confidence intervals.

The model gets the true state at a window's start and the window's true actions and rolls out
``H`` steps on its own predictions; the score is the MSE on raw ``(qpos, qvel)`` averaged over the
``H`` predicted steps and all state entries, then over windows. Windows start at seeded random
points of the held-out episodes and never cross an episode's end. Errors are heavy-tailed, so the
95% interval is a seeded bootstrap over windows, and the median is reported too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mosim.data.dataset import Dataset
from mosim.training.windows import fixed_windows


@dataclass(frozen=True)
class HorizonScore:
    horizon: int
    n_windows: int
    mse: float
    ci_low: float
    ci_high: float
    median: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_errors(model: Any, dataset: Dataset, horizon: int, n_windows: int = 1000, split: str = "test",
                  seed: int = 0, batch: int = 500) -> np.ndarray:
    """Per-window rollout MSE ``(n_windows,)`` of a model with ``rollout(q0, v0, actions)`` (numpy in/out)."""
    w = fixed_windows(dataset, split, horizon, n_windows, seed)
    q_true, v_true, act = w.qpos.numpy(), w.qvel.numpy(), w.action.numpy()
    out = np.empty(n_windows)
    for i in range(0, n_windows, batch):
        sl = slice(i, i + batch)
        q, v = model.rollout(q_true[sl, 0], v_true[sl, 0], act[sl])
        err = np.concatenate([np.asarray(q)[:, 1:] - q_true[sl, 1:], np.asarray(v)[:, 1:] - v_true[sl, 1:]], -1)
        out[sl] = np.mean(err**2, axis=(1, 2))
    return out


def per_step_errors(model: Any, dataset: Dataset, horizon: int, n_windows: int = 1000, split: str = "test",
                    seed: int = 0, batch: int = 500) -> np.ndarray:
    """MSE at each predicted step ``1..H`` averaged over windows and state entries: ``(H,)``."""
    w = fixed_windows(dataset, split, horizon, n_windows, seed)
    q_true, v_true, act = w.qpos.numpy(), w.qvel.numpy(), w.action.numpy()
    total = np.zeros(horizon)
    for i in range(0, n_windows, batch):
        sl = slice(i, i + batch)
        q, v = model.rollout(q_true[sl, 0], v_true[sl, 0], act[sl])
        err = np.concatenate([np.asarray(q)[:, 1:] - q_true[sl, 1:], np.asarray(v)[:, 1:] - v_true[sl, 1:]], -1)
        total += np.sum(np.mean(err**2, axis=-1), axis=0)
    return total / n_windows


def bootstrap_ci(values: np.ndarray, seed: int = 0, n_boot: int = 2000, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(len(values), size=(n_boot, len(values)))
    means = values[idx].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def score(model: Any, dataset: Dataset, horizons: tuple[int, ...] = (3, 16, 100), n_windows: int = 1000,
          split: str = "test", seed: int = 0) -> list[HorizonScore]:
    """Rollout MSE with a 95% bootstrap interval and the median, per horizon."""
    out = []
    for h in horizons:
        e = window_errors(model, dataset, h, n_windows, split, seed)
        if not np.all(np.isfinite(e)):
            out.append(HorizonScore(h, n_windows, float("inf"), float("inf"), float("inf"), float(np.median(e))))
            continue
        lo, hi = bootstrap_ci(e, seed)
        out.append(HorizonScore(h, n_windows, float(e.mean()), lo, hi, float(np.median(e))))
    return out
