"""Compiling the functions that step a model: :func:`torch.compile` with mosim's inductor settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


INDUCTOR_OPTIONS: dict[str, Any] = {"cpp.enable_loop_tail_vec": False}
"""Inductor settings every compilation of mosim starts from (:func:`compile_options`).

Tail-loop vectorization is off: with it, on a CPU, inductor turns the small matrix-vector products of a model
step (``M(q) = L Lᵀ`` applied to the force, for 8 to 12 velocities) into a kernel 20x slower than eager PyTorch
(5.3 ms against 0.25 ms at batch 4096 for 9 velocities, PyTorch 2.13; 0.1 ms without it). Without it the compiled
cheetah-run step runs 1.5x faster; reacher, humanoid and Go2 steps the same or a little faster, and training the
same (results/model_speed.md). GPU compilation does not read the setting."""


def compile_options(options: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`torch.compile` for ``options``: :data:`INDUCTOR_OPTIONS` under the caller's
    own ``options={...}``, which win; left out when the caller names a ``mode`` (torch.compile takes one of
    the two)."""
    if options.get("mode") is not None:
        return dict(options)
    return {**options, "options": {**INDUCTOR_OPTIONS, **(options.get("options") or {})}}


def compile_fn(fn: Callable[..., Any], **options: Any) -> Callable[..., Any]:
    """``torch.compile(fn, **options)`` with mosim's inductor settings (:func:`compile_options`), for a function
    that integrates positions, without the warning that :func:`~mosim.integrators.positions.position_plan`'s
    cache is read while tracing: plans are built once per layout and device, then constant, so the compiled code
    may keep them."""
    import warnings

    warnings.filterwarnings("ignore", message=".*lru_cache.*")
    return torch.compile(fn, **compile_options(options))
