"""An exponential moving average of a model's trained weights (Polyak averaging).

The 100-step error of a learned simulator is sensitive to the last steps of stochastic gradient noise in
its weights: on acrobot a fresh optimizer at a moderate learning rate moves the validation rollout error by
10x between validations at an unchanged one-step loss. The average of the recent weights sits nearer the
minimum than any single iterate; it is what :mod:`mosim.training.trainer` validates, keeps as ``best.pt``,
and freezes at the end of a stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn


def ema_decay_at(decay: float, updates: int) -> float:
    """The decay of update number ``updates`` (0-based): ``min(decay, (1 + n) / (10 + n))``, so the first
    updates average over what there is instead of holding on to the starting weights."""
    return min(decay, (1.0 + updates) / (10.0 + updates))


class WeightAverage:
    """``avg <- avg + (1 - d) (w - avg)`` over the parameters that train, after each optimizer step.

    Frozen parameters are left alone, so they stay bit-identical in the average too.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.avg: dict[str, Tensor] = {n: p.detach().clone() for n, p in model.named_parameters()}

    def reset(self, model: nn.Module) -> None:
        """Restart the average at the model's current weights (a new stage)."""
        self.updates = 0
        for n, p in model.named_parameters():
            self.avg[n].copy_(p.detach())

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        w = 1.0 - ema_decay_at(self.decay, self.updates)
        for n, p in model.named_parameters():
            if p.requires_grad:
                self.avg[n].lerp_(p.detach(), w)
        self.updates += 1

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        """Write the averaged weights into the model."""
        for n, p in model.named_parameters():
            p.copy_(self.avg[n])

    @contextmanager
    def swapped_in(self, model: nn.Module) -> Iterator[None]:
        """The model holds the averaged weights inside the block and its own weights again after it."""
        backup = {n: p.detach().clone() for n, p in model.named_parameters()}
        self.copy_to(model)
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in model.named_parameters():
                    p.copy_(backup[n])

    def state_dict(self) -> dict[str, object]:
        return {"updates": self.updates, "avg": {n: t.clone() for n, t in self.avg.items()}}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.updates = int(state["updates"])  # type: ignore[arg-type]
        for n, t in state["avg"].items():  # type: ignore[union-attr]
            self.avg[n].copy_(t)
