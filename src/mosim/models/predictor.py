"""Predictors of the (normalized) acceleration from normalized inputs.

All predictors here take normalized position features ``p (..., P)``, normalized velocity
features ``w (..., nv)`` and the normalized action ``u (..., nu)``, and return the acceleration in
*normalized* units ``(..., nv)`` (raw = ``acc_std * out + acc_mean``, done by the simulator).

:class:`StructuredPredictor` has the rigid-body form ``M(q) [b(q, v) + tau(a)]``. The form survives
the per-dimension affine normalization of the acceleration: with ``S = diag(acc_std)``,
``S M (b + tau) + acc_mean = (S M S) [S⁻¹ b + (S M S)⁻¹ acc_mean + S⁻¹ tau]``, again an SPD matrix of
``q`` times a force of ``(q, v)`` plus a force of ``a``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mosim.errors import InvalidInputError
from mosim.models.networks import MLP, ResNet, StateActionResNet

DIAG_OFFSET = math.log(math.e - 1.0)
"""Added to the raw diagonal of ``L`` before softplus, so a zero network output gives ``L = I``."""


def tril_size(n: int) -> int:
    """Number of entries of an ``n x n`` lower-triangular matrix, ``n (n + 1) / 2``."""
    return n * (n + 1) // 2


def lower_triangular(entries: Tensor, n: int, diag_offset: float = DIAG_OFFSET) -> Tensor:
    """Lower-triangular ``L (..., n, n)`` from ``entries (..., n(n+1)/2)`` in ``torch.tril_indices`` order.

    The diagonal is ``softplus(entry + diag_offset) > 0``; the strict lower part is the entries as they are.
    """
    if entries.shape[-1] != tril_size(n):
        raise InvalidInputError(f"expected {tril_size(n)} entries for a {n}x{n} triangle, got {entries.shape[-1]}")
    row, col = torch.tril_indices(n, n, device=entries.device)
    diag = row == col
    values = torch.where(diag, F.softplus(entries + diag_offset), entries)
    out = entries.new_zeros(entries.shape[:-1] + (n, n))
    out[..., row, col] = values
    return out


def inverse_inertia(chol: Tensor, eps: float | Tensor) -> Tensor:
    """``M = L Lᵀ + eps I``: symmetric positive definite for any ``L (..., n, n)`` when ``eps > 0`` (a number, or
    ``(n,)`` for ``diag(eps)``)."""
    eye = torch.eye(chol.shape[-1], dtype=chol.dtype, device=chol.device)
    return chol @ chol.transpose(-1, -2) + eps * eye


def apply_inverse_inertia(chol: Tensor, force: Tensor, eps: float | Tensor) -> Tensor:
    """``(L Lᵀ + eps I) f`` without forming the matrix: ``L (..., n, n)``, ``f (..., n) -> (..., n)``."""
    lt_f = (chol.transpose(-1, -2) @ force.unsqueeze(-1)).squeeze(-1)
    return (chol @ lt_f.unsqueeze(-1)).squeeze(-1) + eps * force


class StructuredPredictor(nn.Module):
    """``acc = M(p) [b(p, w) + tau(u)]`` in normalized units, with ``M = L Lᵀ + eps I``.

    - ``L``: a ResNet of the position features, ``nv (nv + 1) / 2`` outputs, softplus diagonal;
      at initialization ``L ≈ I`` (so ``M ≈ (1 + eps) I``);
    - ``b``: a ResNet of position and velocity features; ``tau``: an MLP of the action;
      both start near zero, so the initial prediction is near zero (the mean acceleration);
    - ``force_sees_action``: one ResNet ``f(p, w, u)`` in place of ``b + tau`` (forces that depend on the state and
      the command together, such as position servos with force limits);
    - ``learned_inertia=False``: no network for ``L``, the model computes ``M`` (:mod:`mosim.models.inertia`) and
      calls :meth:`generalized_force`.

    The networks' forces are multiplied by a fixed per-dof scale (:meth:`scale_forces`; 1 unless set), so that they
    stay of order one where ``M`` starts far from ``I``.
    """

    def __init__(
        self,
        position_dim: int,
        nv: int,
        nu: int,
        inertia_width: int = 128,
        inertia_blocks: int = 2,
        force_width: int = 128,
        force_blocks: int = 2,
        action_hidden: Sequence[int] = (64,),
        activation: str = "softplus",
        eps: float = 1e-3,
        force_sees_action: bool = False,
        velocity_dim: int | None = None,
        learned_inertia: bool = True,
    ) -> None:
        super().__init__()
        wdim = nv if velocity_dim is None else velocity_dim
        if eps <= 0:
            raise InvalidInputError(f"eps must be > 0 for a positive definite M, got {eps}")
        self.nv, self.eps = nv, float(eps)
        self.inertia = (ResNet(position_dim, tril_size(nv), inertia_width, inertia_blocks, activation)
                        if learned_inertia else None)
        self.force = ResNet(position_dim + wdim + (nu if force_sees_action else 0), nv, force_width, force_blocks,
                            activation)
        self.actuation = None if force_sees_action else MLP(nu, nv, tuple(action_hidden), activation)
        self.register_buffer("tril_offset", torch.zeros(tril_size(nv)))
        self.register_buffer("eps_scale", torch.ones(nv))
        self.register_buffer("force_scale", torch.ones(nv))

    def start_inertia_at(self, diagonal: Tensor) -> None:
        """Make a zero network output give ``M = (1 + eps) diag(diagonal)`` (normalized units, ``diagonal (nv,) > 0``)
        instead of ``(1 + eps) I``: an offset added to the entries of ``L``'s diagonal before their softplus, and the
        floor ``eps I`` of ``M`` scaled to ``eps diag(diagonal)``. Where the actuators' force is known, MuJoCo's ``M⁻¹``
        in normalized units can be far below ``eps`` (cheetah's legs: 1.5e-4 against 1e-3), which the unscaled floor
        keeps ``M`` from reaching. Both kept in the state dict (:attr:`~mosim.models.config.ModelConfig.inertia_start`;
        checkpoints from before them load with the identity start)."""
        root = diagonal.to(torch.float64).clamp_min(1e-12).sqrt()
        row, col = torch.tril_indices(self.nv, self.nv)
        offset = torch.zeros(tril_size(self.nv), dtype=torch.float64)
        offset[row == col] = root + torch.log(-torch.expm1(-root)) - DIAG_OFFSET  # softplus⁻¹(√d), less the default
        self.tril_offset = offset.to(self.tril_offset)
        self.eps_scale = diagonal.to(self.eps_scale)
        self.scale_forces(1.0 / diagonal)

    def scale_forces(self, scale: Tensor) -> None:
        """Multiply the networks' forces by ``scale (nv,) > 0`` (normalized units; kept in the state dict): ``1 / d``
        for an ``M`` near ``diag(d)``, so that the networks' outputs for accelerations of order one are of order one
        (cheetah's legs in normalized units: ``d`` = 1.5e-4, forces of 7e3 otherwise). Checkpoints from before it load
        with 1."""
        self.force_scale = scale.to(self.force_scale)

    def eps_diagonal(self, like: Tensor) -> Tensor:
        """The floor of ``M``'s diagonal, ``eps`` times :meth:`start_inertia_at`'s diagonal (``eps`` where unset),
        ``(nv,)`` in ``like``'s dtype."""
        return self.eps * self.eps_scale.to(like)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        state_dict.setdefault(prefix + "tril_offset", torch.zeros_like(self.tril_offset))  # older checkpoints: none
        state_dict.setdefault(prefix + "eps_scale", torch.ones_like(self.eps_scale))
        state_dict.setdefault(prefix + "force_scale", torch.ones_like(self.force_scale))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def cholesky_factor(self, p: Tensor) -> Tensor:
        """``L (..., nv, nv)`` from normalized position features ``p (..., P)``."""
        if self.inertia is None:
            raise InvalidInputError("this predictor has no inertia network (learned_inertia=False): its model computes M")
        return lower_triangular(self.inertia(p) + self.tril_offset.to(p.dtype), self.nv)

    def inverse_inertia(self, p: Tensor) -> Tensor:
        """``M (..., nv, nv)``, symmetric positive definite."""
        return inverse_inertia(self.cholesky_factor(p), self.eps_diagonal(p))

    def generalized_force(self, p: Tensor, w: Tensor, u: Tensor, actuation: Tensor | None = None) -> Tensor:
        """``b(p, w) + tau(u)``, or ``f(p, w, u)`` when the force network sees the action (normalized units);
        ``b(p, w) + actuation`` where the actuators' force is given (``(..., nv)``, normalized units)."""
        scale = self.force_scale.to(p.dtype)
        if actuation is not None:
            if self.actuation is None:
                raise InvalidInputError("a given actuator force needs b(q, v) + tau(a) (force_sees_action=False)")
            return scale * self.force(torch.cat((p, w), dim=-1)) + actuation
        if self.actuation is None:
            return scale * self.force(torch.cat((p, w, u), dim=-1))
        return scale * (self.force(torch.cat((p, w), dim=-1)) + self.actuation(u))

    def forward(self, p: Tensor, w: Tensor, u: Tensor) -> Tensor:
        return self.with_cholesky_factor(p, w, u)[0]

    def with_cholesky_factor(self, p: Tensor, w: Tensor, u: Tensor,
                             actuation: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The acceleration and the ``L`` it used (``M = L Lᵀ + eps I``), for what needs the same ``M``; the
        actuators' force given (:meth:`generalized_force`) or ``tau(u)``."""
        chol = self.cholesky_factor(p)
        return apply_inverse_inertia(chol, self.generalized_force(p, w, u, actuation), self.eps_diagonal(p)), chol


class PlainODEPredictor(StateActionResNet):
    """The unstructured ablation: ``acc = f(p, w, u)`` with one ResNet (normalized units)."""
