"""Shared helpers of the integrators: the acceleration-function type and input validation."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

from torch import Tensor

from mosim.errors import InvalidInputError
from mosim.systems.layout import JointLayout

AccelFn = Callable[[Tensor, Tensor], Tensor]
"""``acc_fn(q (B, nq), v (B, nv)) -> dv/dt (B, nv)``; the action is held constant and closed over by the caller.
Leading dimensions are passed through as given, so ``(..., nq)`` works where the function supports it."""


def check_state(layout: JointLayout, qpos: Tensor, qvel: Tensor, same_batch: bool = False) -> tuple[int, ...]:
    """Check ``qpos (..., nq)`` and ``qvel (..., nv)`` against ``layout``; return the (broadcast) batch shape.

    Raises :class:`InvalidInputError` naming the expected shapes when they do not fit.
    """
    for name, x in (("qpos", qpos), ("qvel", qvel)):
        if not isinstance(x, Tensor):
            raise InvalidInputError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise InvalidInputError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    expected = f"expected qpos (..., nq={layout.nq}) and qvel (..., nv={layout.nv})"
    if qpos.ndim == 0 or qvel.ndim == 0 or qpos.shape[-1] != layout.nq or qvel.shape[-1] != layout.nv:
        raise InvalidInputError(f"{expected}, got qpos {tuple(qpos.shape)} and qvel {tuple(qvel.shape)}")
    if same_batch and qpos.shape[:-1] != qvel.shape[:-1]:
        raise InvalidInputError(
            f"{expected} with the same leading dimensions, got qpos {tuple(qpos.shape)} and qvel {tuple(qvel.shape)}"
        )
    batch = _broadcast(tuple(qpos.shape[:-1]), tuple(qvel.shape[:-1]))
    if batch is None:
        got = f"got qpos {tuple(qpos.shape)} and qvel {tuple(qvel.shape)}"
        raise InvalidInputError(f"{expected} with broadcastable leading dimensions, {got}")
    return batch


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """The broadcast of two shapes, or ``None`` (``torch.broadcast_shapes`` imports sympy on first use)."""
    if a == b:
        return a
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
        return None
    return tuple(y if x == 1 else x for x, y in zip(a, b))


def check_dt(dt: float, substeps: int) -> float:
    """Validate a step length ``dt > 0`` and ``substeps >= 1``; return the sub-step length ``dt / substeps``."""
    if isinstance(substeps, bool) or not isinstance(substeps, int) or substeps < 1:
        raise InvalidInputError(f"substeps must be an integer >= 1, got {substeps!r}")
    if isinstance(dt, Tensor):
        if dt.numel() != 1:
            raise InvalidInputError(f"dt must be a scalar, got a tensor of shape {tuple(dt.shape)}")
        dt = float(dt)
    # a chained comparison, not math.isfinite: torch.compile traces math.isfinite as an op and breaks the graph there
    if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not 0 < dt < math.inf:
        raise InvalidInputError(f"dt must be a finite number > 0, got {dt!r}")
    return float(dt) / substeps


def check_options(method: str, impl: Callable[..., Any], options: dict[str, Any]) -> None:
    """Raise :class:`InvalidInputError` if ``options`` holds a keyword that ``impl`` does not take."""
    params = inspect.signature(impl).parameters
    allowed = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        takes = ", ".join(allowed) if allowed else "no options"
        raise InvalidInputError(f"integrator {method!r} got unknown option(s) {', '.join(unknown)}; it takes {takes}")


def checked_acc(acc_fn: AccelFn, nv: int) -> AccelFn:
    """Wrap ``acc_fn`` so that an output of the wrong shape raises :class:`InvalidInputError`."""

    def acc(q: Tensor, v: Tensor) -> Tensor:
        a = acc_fn(q, v)
        if not isinstance(a, Tensor) or a.shape != v.shape:
            shape = tuple(a.shape) if isinstance(a, Tensor) else type(a).__name__
            raise InvalidInputError(f"acc_fn must return the shape of v {tuple(v.shape)} (..., nv={nv}), got {shape}")
        return a

    acc.__wrapped__ = acc_fn  # type: ignore[attr-defined]  # lets dopri5 find an nn.Module's parameters
    return acc
