"""Scoring any model on the protocol: one code path for mosim and every baseline.

A model is anything with ``rollout(qpos0, qvel0, actions) -> (qpos, qvel)`` on numpy arrays (e.g.
:class:`mosim.loading.Simulator`); models with ``needs_warmup = True`` also get ``warmup=(qpos, qvel,
actions)`` of the ``W - 1`` true steps before the start. The metric is the MSE on raw ``(qpos, qvel)``
averaged over the predicted steps ``1..H`` and all state entries, per window; reported are its mean
over windows with a 95% bootstrap interval, the median, per-step curves, errors per state group, and
the equivalent horizon against a reference error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mosim.benchmark.protocol import Protocol, WindowSet, make_windows
from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError
from mosim.systems.layout import FREE, QPOS_WIDTH, QVEL_WIDTH, SLIDE, JointLayout


@dataclass(frozen=True)
class HorizonScore:
    horizon: int
    n_windows: int
    mse: float
    ci_low: float
    ci_high: float
    median: float
    groups: dict[str, float] = field(default_factory=dict)
    """MSE per state group: qpos, qvel, and root/joints parts of each"""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_model_fits(model: Any, ds: Dataset) -> None:
    """Raise :class:`InvalidInputError` if ``model`` (anything with a ``spec``) is of another system, or steps
    another ``dt``, than the dataset ``ds``: its rollouts would be scored against states they do not predict."""
    spec = getattr(model, "spec", None)
    problems = spec.mismatches(ds.spec) if spec is not None else []
    if problems:
        source = f" {ds.path}" if getattr(ds, "path", None) else ""
        raise InvalidInputError(f"the model does not fit the dataset{source} ({'; '.join(problems)}): score it on "
                                "data of its own system and step, collected as its training data were")


def predict(model: Any, ds: Dataset, windows: WindowSet, warmup: int = 1, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Predicted ``qpos (N, H+1, nq)``, ``qvel (N, H+1, nv)`` for every window (index 0: the true start)."""
    check_model_fits(model, ds)
    q_true, v_true, act = windows.true_states(ds)
    wu = windows.warmup(ds, warmup) if getattr(model, "needs_warmup", False) else None
    qs, vs = [], []
    for i in range(0, len(windows.t0), batch):
        sl = slice(i, i + batch)
        kwargs = {"warmup": tuple(x[sl] for x in wu)} if wu is not None else {}
        q, v = model.rollout(q_true[sl, 0], v_true[sl, 0], act[sl], **kwargs)
        qs.append(np.asarray(q, dtype=np.float64))
        vs.append(np.asarray(v, dtype=np.float64))
    return np.concatenate(qs), np.concatenate(vs)


def squared_errors(q_pred: np.ndarray, v_pred: np.ndarray, q_true: np.ndarray, v_true: np.ndarray) -> np.ndarray:
    """``(N, H, nq + nv)`` squared errors of the predicted steps ``1..H`` (the start state is not scored)."""
    err = np.concatenate([q_pred[:, 1:] - q_true[:, 1:], v_pred[:, 1:] - v_true[:, 1:]], axis=-1)
    return err**2


def state_groups(layout: JointLayout) -> dict[str, np.ndarray]:
    """Column indices of ``concat(qpos, qvel)`` per group: ``qpos``, ``qvel``, and where the robot has a
    floating root (a free joint or root slides), ``qpos_root``, ``qpos_joints``, ``qvel_root``, ``qvel_joints``."""
    nq, nv = layout.nq, layout.nv
    groups = {"qpos": np.arange(nq), "qvel": nq + np.arange(nv)}
    root = [j for j, t in enumerate(layout.types) if layout.on_root[j] and (t == FREE or t == SLIDE)]
    if root:
        rq = sorted({layout.qpos_adr[j] + k for j in root for k in range(QPOS_WIDTH[layout.types[j]])})
        rv = sorted({layout.qvel_adr[j] + k for j in root for k in range(QVEL_WIDTH[layout.types[j]])})
        groups["qpos_root"] = np.array(rq)
        groups["qpos_joints"] = np.setdiff1d(np.arange(nq), rq)
        groups["qvel_root"] = nq + np.array(rv)
        groups["qvel_joints"] = nq + np.setdiff1d(np.arange(nv), rv)
    return {k: v for k, v in groups.items() if len(v)}


def bootstrap_ci(values: np.ndarray, seed: int = 0, n_boot: int = 2000, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean."""
    rng = np.random.default_rng(seed)
    means = values[rng.integers(len(values), size=(n_boot, len(values)))].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def _score_horizon(model: Any, dataset: Dataset, protocol: Protocol, horizon: int,
                   warmup: int) -> tuple[HorizonScore, np.ndarray]:
    """The score at one horizon and the MSE at each of its steps ``(H,)``, from one set of predictions."""
    part, windows = make_windows(dataset, protocol, horizon)
    q_true, v_true, _ = windows.true_states(part)
    q, v = predict(model, part, windows, warmup)
    se = squared_errors(q, v, q_true, v_true)
    curve = se.mean(axis=(0, 2))
    per_window = se.mean(axis=(1, 2))
    groups = {name: float(se[..., cols].mean()) for name, cols in state_groups(dataset.spec.layout).items()}
    if not np.all(np.isfinite(per_window)):
        inf = float("inf")
        return HorizonScore(horizon, len(per_window), inf, inf, inf, float(np.median(per_window)), groups), curve
    lo, hi = bootstrap_ci(per_window, protocol.seed)
    score_ = HorizonScore(horizon, len(per_window), float(per_window.mean()), lo, hi, float(np.median(per_window)),
                          groups)
    return score_, curve


def score_horizon(model: Any, dataset: Dataset, protocol: Protocol, horizon: int, warmup: int = 1) -> HorizonScore:
    return _score_horizon(model, dataset, protocol, horizon, warmup)[0]


def score(model: Any, dataset: Dataset, protocol: Protocol | None = None, warmup: int = 1) -> list[HorizonScore]:
    """The model's score at every horizon of the protocol (default: 3, 16, 100 on 1000 test windows)."""
    protocol = protocol or Protocol()
    return [score_horizon(model, dataset, protocol, h, warmup) for h in protocol.horizons]


def score_with_curve(model: Any, dataset: Dataset, protocol: Protocol | None = None,
                     warmup: int = 1) -> tuple[list[HorizonScore], np.ndarray]:
    """:func:`score` and the per-step errors of the longest horizon (as :func:`per_step_errors`), without
    predicting the longest windows twice."""
    protocol = protocol or Protocol()
    results = [_score_horizon(model, dataset, protocol, h, warmup) for h in protocol.horizons]
    longest = int(np.argmax(protocol.horizons))
    return [r[0] for r in results], results[longest][1]


def per_step_errors(model: Any, dataset: Dataset, horizon: int, protocol: Protocol | None = None,
                    warmup: int = 1) -> np.ndarray:
    """MSE at each predicted step ``1..H`` over windows and state entries: ``(H,)``."""
    protocol = protocol or Protocol()
    part, windows = make_windows(dataset, protocol, horizon)
    q_true, v_true, _ = windows.true_states(part)
    q, v = predict(model, part, windows, warmup)
    return squared_errors(q, v, q_true, v_true).mean(axis=(0, 2))


def equivalent_horizon(step_errors: np.ndarray, reference: float) -> int | None:
    """How many steps a model rolls out before its error, averaged over steps ``1..h`` as the metric
    does, reaches ``reference`` (e.g. a baseline's 16-step score); ``None`` if never within the curve."""
    running = np.cumsum(step_errors) / np.arange(1, len(step_errors) + 1)
    hit = np.flatnonzero(running >= reference)
    return int(hit[0]) + 1 if len(hit) else None
