"""Correctors: residual accelerations ``eps_i(q, v, a)`` for what the rigid-body form misses
(contacts, friction, joint limits, unmodelled effects).

A corrector is a ResNet of the normalized inputs returning a normalized acceleration ``(..., nv)`` (the same
network, :class:`StateActionResNet`, is the whole predictor of the plain-ODE ablation).
Its output layer starts at exactly zero, so adding a fresh corrector leaves a model's predictions
unchanged (and it still learns: the output weights get gradients from the hidden activations).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mosim.models.networks import OUTPUT_SCALE, ResNet


class StateActionResNet(nn.Module):
    """``f(p, w, u) -> (..., nv)``: one ResNet of the normalized position, velocity and action features,
    concatenated. The corrector, and the plain-ODE ablation's whole predictor."""

    def __init__(
        self, position_dim: int, nv: int, nu: int, width: int = 128, blocks: int = 2, activation: str = "softplus",
        velocity_dim: int | None = None, output_scale: float = OUTPUT_SCALE,
    ) -> None:
        super().__init__()
        self.net = ResNet(position_dim + (nv if velocity_dim is None else velocity_dim) + nu, nv, width, blocks,
                          activation, output_scale=output_scale)

    def forward(self, p: Tensor, w: Tensor, u: Tensor) -> Tensor:
        return self.net(torch.cat((p, w, u), dim=-1))


class Corrector(StateActionResNet):
    """``eps(p, w, u) -> (..., nv)`` with ``p, w, u`` the normalized position, velocity and action features; its
    output starts at zero."""

    def __init__(
        self, position_dim: int, nv: int, nu: int, width: int = 128, blocks: int = 2, activation: str = "softplus",
        velocity_dim: int | None = None,
    ) -> None:
        super().__init__(position_dim, nv, nu, width, blocks, activation, velocity_dim, output_scale=0.0)
