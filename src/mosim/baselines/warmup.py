"""Open-loop scoring with a warm-up (``docs/BASELINES.md`` 1.7): the same windows for every model.

Windows start at ``t0 >= context`` (default 4) and carry the ``context`` true states before ``t0``, so a
model that filters ``W <= context`` of them (the RSSM) and a Markov model that sees only ``s_{t0}`` score
exactly the same targets ``s_{t0+1..t0+H}``. :func:`rollout_with_warmup` passes the warm-up to models
that use one (``uses_warmup = True``) and drops it for the others; it accepts a model or a
:class:`mosim.loading.Simulator` and numpy arrays (float64 numpy out, no gradients) or tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mosim.errors import InvalidInputError
from mosim.training.windows import gather


@dataclass(frozen=True)
class ContextWindows:
    """``qpos (B, C+H+1, nq)``, ``qvel (B, C+H+1, nv)``, ``action (B, C+H, nu)``: ``C = context`` states
    before the start state (index ``C``), then ``H`` predicted steps."""

    qpos: Tensor
    qvel: Tensor
    action: Tensor
    context: int

    @property
    def horizon(self) -> int:
        return int(self.action.shape[1]) - self.context

    def start(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(qpos0 (B, nq), qvel0 (B, nv), actions (B, H, nu))``."""
        c = self.context
        return self.qpos[:, c], self.qvel[:, c], self.action[:, c:]

    def targets(self) -> tuple[Tensor, Tensor]:
        """True ``qpos (B, H+1, nq)``, ``qvel (B, H+1, nv)`` from the start state on."""
        return self.qpos[:, self.context:], self.qvel[:, self.context:]

    def warmup(self, w: int) -> tuple[Tensor, Tensor, Tensor] | None:
        """The last ``w`` states before the start and the actions applied in them (``None`` for ``w = 0``)."""
        if not 0 <= w <= self.context:
            raise InvalidInputError(f"warm-up must be in [0, {self.context}] states, got {w}")
        c = self.context
        return None if w == 0 else (self.qpos[:, c - w:c], self.qvel[:, c - w:c], self.action[:, c - w:c])


def context_windows(dataset: Any, split: str, horizon: int, n: int, seed: int, context: int = 4,
                    dtype: torch.dtype = torch.float64) -> ContextWindows:
    """``n`` windows of ``horizon`` steps at seeded random starts ``t0 >= context`` of the episodes of ``split``."""
    part = dataset.subset(split)
    if part.n_episodes == 0:
        raise InvalidInputError(f"{dataset.path}: no {split!r} episodes for windows")
    if context < 0 or horizon < 1 or context + horizon > part.steps:
        raise InvalidInputError(f"context {context} + horizon {horizon} must fit the episode length {part.steps}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, horizon, context, 0xB45E]))
    ep = rng.integers(part.n_episodes, size=n)
    t0 = rng.integers(part.steps - horizon - context + 1, size=n)  # index of the first context state
    tensors = [torch.as_tensor(np.asarray(a), dtype=dtype) for a in (part.qpos, part.qvel, part.action)]
    w = gather(*tensors, torch.as_tensor(ep), torch.as_tensor(t0), context + horizon)
    return ContextWindows(w.qpos, w.qvel, w.action, context)


def rollout_with_warmup(model: Any, qpos0: Any, qvel0: Any, actions: Any, warmup: Any = None,
                        **kwargs: Any) -> tuple[Any, Any]:
    """``model.rollout`` with the warm-up where the model uses one (``uses_warmup``), without it otherwise."""
    inner = getattr(model, "model", model)  # a mosim.loading.Simulator wraps the model
    extra = dict(kwargs)
    if getattr(inner, "uses_warmup", False):
        extra["warmup"] = warmup
    args = (qpos0, qvel0, actions)
    if any(isinstance(a, Tensor) for a in args):
        return inner.rollout(*args, **extra)
    if extra.get("warmup") is not None:
        extra["warmup"] = tuple(np.asarray(x, dtype=np.float64) for x in extra["warmup"])
    with torch.no_grad():
        q, v = inner.rollout(*(np.asarray(a, dtype=np.float64) for a in args), **extra)
    return q.cpu().double().numpy(), v.cpu().double().numpy()


def warmup_window_errors(model: Any, dataset: Any, horizon: int, warmup: int = 0, n_windows: int = 1000,
                         split: str = "test", seed: int = 0, context: int = 4, batch: int = 250,
                         **kwargs: Any) -> np.ndarray:
    """Per-window open-loop MSE on raw ``(qpos, qvel)`` ``(n_windows,)`` with ``warmup`` true states before the
    start (``warmup = 4`` is the paper's ``W = 5``); the windows do not depend on ``warmup``."""
    w = context_windows(dataset, split, horizon, n_windows, seed, context)
    q0, v0, act = (x.numpy() for x in w.start())
    q_true, v_true = (x.numpy() for x in w.targets())
    wu = w.warmup(warmup)
    out = np.empty(n_windows)
    for i in range(0, n_windows, batch):
        sl = slice(i, i + batch)
        wb = None if wu is None else tuple(x[sl].numpy() for x in wu)
        q, v = rollout_with_warmup(model, q0[sl], v0[sl], act[sl], wb, **kwargs)
        err = np.concatenate([np.asarray(q)[:, 1:] - q_true[sl, 1:], np.asarray(v)[:, 1:] - v_true[sl, 1:]], -1)
        out[sl] = np.mean(err**2, axis=(1, 2))
    return out
