"""Compiling the functions that step a model: :func:`torch.compile` with mosim's inductor settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from mosim.errors import InvalidInputError


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


COMPILE_PARTS = ("auto", "step", "forces")
"""what :func:`compile_model` can make a graph of (:meth:`mosim.loading.Simulator.compile` says which is which)"""
SMALL_BATCH = 16
"""the widest batch that ``"auto"`` steps through the whole step's graph where a model solves its contacts (wider
ones: the forces' graph, the solve eager)"""


def solves_contacts(model: torch.nn.Module) -> bool:
    """Whether ``model`` solves contacts in its step (its constraint solve has data-dependent rows and iterations)."""
    return getattr(getattr(model, "limit_solver", None), "contacts", None) is not None


def compiles_forces_apart(model: torch.nn.Module) -> bool:
    """Whether ``"auto"`` compiles ``model``'s forces apart from its solve for wide batches: a model that solves its
    contacts, on a CPU (on a GPU, the whole step's graph)."""
    return solves_contacts(model) and model.device.type == "cpu"


def compile_model(model: torch.nn.Module, part: str = "auto", **options: Any) -> None:
    """Compile ``model``'s step in place (:meth:`mosim.loading.Simulator.compile` describes the ``part`` s), with
    ``options`` for :func:`compile_fn`."""
    if part not in COMPILE_PARTS:
        raise InvalidInputError(f"part must be one of {COMPILE_PARTS}, got {part!r}")
    if part == "auto" and not compiles_forces_apart(model):
        part = "step"
    whole = compile_fn(type(model)._step.__get__(model), **options) if part in ("step", "auto") else None
    if part == "step":
        model._step = whole
        return
    if not hasattr(model, "_smooth_acceleration"):
        raise InvalidInputError(f"a {type(model).__name__} has no separate forces to compile: use part='step'")
    model._smooth_acceleration = compile_fn(type(model)._smooth_acceleration.__get__(model), **options)
    if whole is not None:  # auto: small batches through the whole step's graph
        eager_step = type(model)._step.__get__(model)

        def step(q: torch.Tensor, v: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return (whole if q[..., 0].numel() <= SMALL_BATCH else eager_step)(q, v, a)

        model._step = step
