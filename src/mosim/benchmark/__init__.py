"""The prediction benchmark: protocol, windows and scoring (one code path for every model)."""

from mosim.benchmark.protocol import Protocol, WindowSet, make_windows
from mosim.benchmark.scoring import (
    HorizonScore,
    bootstrap_ci,
    equivalent_horizon,
    per_step_errors,
    predict,
    score,
    score_horizon,
    squared_errors,
    state_groups,
)

__all__ = [
    "HorizonScore",
    "Protocol",
    "WindowSet",
    "bootstrap_ci",
    "equivalent_horizon",
    "make_windows",
    "per_step_errors",
    "predict",
    "score",
    "score_horizon",
    "squared_errors",
    "state_groups",
]
