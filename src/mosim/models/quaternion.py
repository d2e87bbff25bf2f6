"""Quaternion helpers (MuJoCo convention: ``w, x, y, z``; a quaternion maps body to world frame).

Pure, batched, differentiable torch functions. Quaternions are normalized before use, so
slightly non-unit quaternions (as stored after float rounding) are accepted.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mosim.integrators.quaternion import quat_mul  # noqa: F401  (re-exported: one Hamilton product)

_TINY = 1e-12


def quat_normalize(quat: Tensor) -> Tensor:
    """Unit quaternion. ``(..., 4) -> (..., 4)``."""
    return quat / quat.norm(dim=-1, keepdim=True).clamp_min(_TINY)


def quat_to_rotmat(quat: Tensor) -> Tensor:
    """Rotation matrix ``R`` (body to world) of a quaternion. ``(..., 4) -> (..., 3, 3)``."""
    w, x, y, z = quat_normalize(quat).unbind(-1)
    rows = (
        (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
        (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
        (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
    )
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


def gravity_in_body_frame(quat: Tensor) -> Tensor:
    """The world's down direction ``[0, 0, -1]`` in the body frame, ``Rᵀ @ [0, 0, -1]``. ``(..., 4) -> (..., 3)``.

    It is minus the third row of ``R``; it does not depend on the heading (rotation about world z).
    """
    w, x, y, z = quat_normalize(quat).unbind(-1)
    return torch.stack((-2 * (x * z - w * y), -2 * (y * z + w * x), -(1 - 2 * (x * x + y * y))), dim=-1)


def rotation_6d(quat: Tensor) -> Tensor:
    """The first two columns of ``R``, concatenated (a continuous rotation code). ``(..., 4) -> (..., 6)``."""
    r = quat_to_rotmat(quat)
    return torch.cat((r[..., :, 0], r[..., :, 1]), dim=-1)


def quat_conj(quat: Tensor) -> Tensor:
    """Conjugate (the inverse of a unit quaternion). ``(..., 4) -> (..., 4)``."""
    return torch.cat((quat[..., :1], -quat[..., 1:]), dim=-1)


def quat_to_rotvec(quat: Tensor) -> Tensor:
    """Rotation vector (axis times angle, angle in ``[0, π]``) of a quaternion. ``(..., 4) -> (..., 3)``.

    The inverse of the exponential map used by MuJoCo's ``mju_quatIntegrate``; ``q`` and ``-q`` give
    the same result (the shorter rotation is taken).
    """
    q = quat_normalize(quat)
    q = torch.where(q[..., :1] < 0, -q, q)
    w, xyz = q[..., 0], q[..., 1:]
    n = xyz.norm(dim=-1)
    small = n < 1e-8
    n_safe = torch.where(small, torch.ones_like(n), n)
    factor = torch.where(small, 2.0 / w.clamp_min(_TINY), 2.0 * torch.atan2(n_safe, w) / n_safe)
    return xyz * factor.unsqueeze(-1)
