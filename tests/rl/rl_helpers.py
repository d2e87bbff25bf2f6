"""Stand-in models for the RL tests: row-by-row prediction and predictions that blow up."""

from __future__ import annotations

import numpy as np
import torch

from mosim.models.base import DynamicsModel


class RowByRow(DynamicsModel):
    """The trained model applied to one row at a time, so that a row's prediction cannot depend on the batch size
    (torch's CPU kernels round a few ulps differently for different batch sizes); counts the batched calls."""

    def __init__(self, sim) -> None:
        super().__init__()
        self.inner, self.spec, self.calls = sim.model, sim.spec, 0

    def _step(self, q, v, a):
        self.calls += 1
        rows = [self.inner.step(q[i : i + 1], v[i : i + 1], a[i : i + 1]) for i in range(len(q))]
        return torch.cat([r[0] for r in rows]), torch.cat([r[1] for r in rows])


class Exploding:
    """A stand-in simulator: the real one, except that after ``after`` calls the rows in ``rows`` (default: all)
    are predicted as NaN."""

    def __init__(self, sim, after: int, rows: slice = slice(None)) -> None:
        self.sim, self.after, self.rows, self.spec = sim, after, rows, sim.spec

    def step(self, q, v, a):
        self.after -= 1
        q1, v1 = self.sim.step(q, v, a)
        if self.after < 0:
            q1[self.rows] = np.nan
        return q1, v1
