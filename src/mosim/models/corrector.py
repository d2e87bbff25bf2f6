"""Correctors: residual accelerations ``eps_i(q, v, a)`` for what the rigid-body form misses
(contacts, friction, joint limits, unmodelled effects).

A corrector is a ResNet of the normalized inputs returning a normalized acceleration ``(..., nv)``.
Its output layer starts at exactly zero, so adding a fresh corrector leaves a model's predictions
unchanged (and it still learns: the output weights get gradients from the hidden activations).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mosim.models.networks import ResNet


class Corrector(nn.Module):
    """``eps(p, w, u) -> (..., nv)`` with ``p, w, u`` the normalized position, velocity and action features."""

    def __init__(
        self, position_dim: int, nv: int, nu: int, width: int = 128, blocks: int = 2, activation: str = "softplus",
        velocity_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.net = ResNet(position_dim + (nv if velocity_dim is None else velocity_dim) + nu, nv, width, blocks,
                          activation, output_scale=0.0)

    def forward(self, p: Tensor, w: Tensor, u: Tensor) -> Tensor:
        return self.net(torch.cat((p, w, u), dim=-1))
