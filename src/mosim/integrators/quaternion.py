"""Batched, differentiable quaternion helpers (``wxyz`` convention, as MuJoCo).

All functions broadcast over leading dimensions and are safe to differentiate everywhere that matters for
integration, including at zero rotation.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor

# a ⊗ b: component k is sum_n _SIGN[k, n] * a[i] * b[j] with i * 4 + j = _PAIR[k, n]
_PAIR = ((0, 5, 10, 15), (1, 4, 11, 14), (2, 7, 8, 13), (3, 6, 9, 12))
_SIGN = ((1, -1, -1, -1), (1, 1, 1, -1), (1, -1, 1, 1), (1, 1, -1, 1))


@lru_cache(maxsize=16)
def _hamilton(dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    """``(_PAIR.flatten(), _SIGN)`` as tensors on ``device``."""
    return (
        torch.tensor(_PAIR, dtype=torch.long, device=device).flatten(),
        torch.tensor(_SIGN, dtype=dtype, device=device),
    )


def quat_mul(a: Tensor, b: Tensor) -> Tensor:
    """Hamilton product ``a ⊗ b`` of quaternions ``(..., 4)`` (wxyz); broadcasts. Elementwise (no matmul, so no
    reduced-precision TF32 path on GPUs)."""
    outer = (a.unsqueeze(-1) * b.unsqueeze(-2)).flatten(-2)  # (..., 16): a_i b_j at i * 4 + j
    pair, sign = _hamilton(outer.dtype, outer.device)
    return (outer.index_select(-1, pair).unflatten(-1, (4, 4)) * sign).sum(dim=-1)


def quat_normalize(q: Tensor) -> Tensor:
    """``q / |q|`` for quaternions ``(..., 4)``."""
    return q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)


def quat_exp(u: Tensor) -> Tensor:
    """Unit quaternion ``exp(u) = (cos|u|, sin|u| u/|u|)`` of a pure quaternion ``u`` ``(..., 3)`` -> ``(..., 4)``.

    ``u`` is half the rotation vector (``u = ω dt / 2`` rotates by angle ``|ω| dt`` about ``ω``). Written as
    ``(cos|u|, sinc|u| u)`` with torch's ``sinc``, whose value and derivative at 0 are exact, and the norm's
    zero subgradient, so first derivatives are finite and correct at ``u = 0`` too.
    """
    h = torch.linalg.vector_norm(u, dim=-1, keepdim=True)
    return torch.cat((torch.cos(h), torch.sinc(h / math.pi) * u), dim=-1)


def quat_integrate(quat: Tensor, omega: Tensor, dt: float | Tensor) -> Tensor:
    """MuJoCo's ``mju_quatIntegrate``: rotate ``quat`` ``(..., 4)`` by the body-frame angular velocity ``omega``
    ``(..., 3)`` for time ``dt`` (a float, or a tensor broadcastable to ``(..., 1)``).

    ``quat_new = normalize(normalize(quat) ⊗ exp(omega dt / 2))``; the result is a unit quaternion.
    """
    rot = quat_exp(omega * (0.5 * dt))
    return quat_normalize(quat_mul(quat_normalize(quat), rot))


def so3_log_rate(phi: Tensor, omega: Tensor) -> Tensor:
    """Rate of the rotation vector ``phi (..., 3)`` of ``R = R0 Exp(phi)`` under body angular velocity
    ``omega (..., 3)``: ``d(phi)/dt = J_r(phi)^-1 omega`` (``J_r`` the right Jacobian of SO(3)).

    ``J_r^-1 w = w + phi × w / 2 + c(θ) phi × (phi × w)`` with ``θ = |phi|`` and
    ``c = 1/θ² - cot(θ/2) / (2θ)`` (Taylor series near 0); valid for ``θ < 2π``.
    """
    t2 = (phi * phi).sum(dim=-1, keepdim=True)
    small = t2 < 1e-3
    t = torch.sqrt(torch.where(small, torch.ones_like(t2), t2))
    direct = 1.0 / (t * t) - torch.cos(t / 2.0) / (2.0 * t * torch.sin(t / 2.0))
    c = torch.where(small, 1.0 / 12.0 + t2 / 720.0 + t2 * t2 / 30240.0, direct)
    pxw = torch.linalg.cross(phi, omega, dim=-1)
    return omega + 0.5 * pxw + c * torch.linalg.cross(phi, pxw, dim=-1)
