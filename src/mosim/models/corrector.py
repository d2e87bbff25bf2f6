"""Correctors: residual accelerations ``eps_i(q, v, a)`` for what the rigid-body form misses
(contacts, friction, joint limits, unmodelled effects).

A corrector is a ResNet of the normalized inputs returning a normalized acceleration ``(..., nv)`` (the same
network, :class:`~mosim.models.networks.StateActionResNet`, is the whole predictor of the plain-ODE ablation).
Its output layer starts at exactly zero, so adding a fresh corrector leaves a model's predictions
unchanged (and it still learns: the output weights get gradients from the hidden activations).
"""

from __future__ import annotations

from mosim.models.networks import StateActionResNet


class Corrector(StateActionResNet):
    """``eps(p, w, u) -> (..., nv)`` with ``p, w, u`` the normalized position, velocity and action features; its
    output starts at zero."""

    def __init__(
        self, position_dim: int, nv: int, nu: int, width: int = 128, blocks: int = 2, activation: str = "softplus",
        velocity_dim: int | None = None,
    ) -> None:
        super().__init__(position_dim, nv, nu, width, blocks, activation, velocity_dim, output_scale=0.0)
