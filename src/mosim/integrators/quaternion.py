"""Batched, differentiable quaternion helpers (``wxyz`` convention, as MuJoCo).

All functions broadcast over leading dimensions and are safe to differentiate everywhere that matters for
integration, including at zero rotation.
"""

from __future__ import annotations

import torch
from torch import Tensor

_SMALL = 1e-6
"""below this squared half-angle, cos and sinc are evaluated by their Taylor series"""


def quat_mul(a: Tensor, b: Tensor) -> Tensor:
    """Hamilton product ``a ⊗ b`` of quaternions ``(..., 4)`` (wxyz); broadcasts."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        (
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ),
        dim=-1,
    )


def quat_normalize(q: Tensor) -> Tensor:
    """``q / |q|`` for quaternions ``(..., 4)``."""
    return q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)


def quat_exp(u: Tensor) -> Tensor:
    """Unit quaternion ``exp(u) = (cos|u|, sin|u| u/|u|)`` of a pure quaternion ``u`` ``(..., 3)`` -> ``(..., 4)``.

    ``u`` is half the rotation vector (``u = ω dt / 2`` rotates by angle ``|ω| dt`` about ``ω``). Near ``u = 0``
    the cosine and ``sin(x)/x`` are replaced by their Taylor series, so values and gradients stay finite.
    """
    h2 = (u * u).sum(dim=-1, keepdim=True)
    small = h2 < _SMALL
    h = torch.sqrt(torch.where(small, torch.ones_like(h2), h2))
    cos = torch.where(small, 1.0 - h2 / 2.0 + h2 * h2 / 24.0, torch.cos(h))
    sinc = torch.where(small, 1.0 - h2 / 6.0 + h2 * h2 / 120.0, torch.sin(h) / h)
    return torch.cat((cos, sinc * u), dim=-1)


def quat_integrate(quat: Tensor, omega: Tensor, dt: float | Tensor) -> Tensor:
    """MuJoCo's ``mju_quatIntegrate``: rotate ``quat`` ``(..., 4)`` by the body-frame angular velocity ``omega``
    ``(..., 3)`` for time ``dt`` (a float, or a tensor broadcastable to ``(..., 1)``).

    ``quat_new = normalize(normalize(quat) ⊗ exp(omega dt / 2))``; the result is a unit quaternion.
    """
    rot = quat_exp(omega * (0.5 * dt))
    return quat_normalize(quat_mul(quat_normalize(quat), rot))
