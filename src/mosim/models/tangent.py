"""Position differences in velocity (tangent) coordinates: the inverse of ``integrate_positions``.

``position_difference(layout, q0, q1)`` returns ``dq (..., nv)`` with
``integrate_positions(layout, q0, dq, 1.0) == q1``, like MuJoCo's ``mj_differentiatePos`` with
``dt = 1``: hinge and slide joints ``q1 - q0``; free joints the world-frame translation and the
body-frame rotation vector of ``q0⁻¹ ⊗ q1``; ball joints the rotation vector of ``q0⁻¹ ⊗ q1``.
"""

from __future__ import annotations

from torch import Tensor

from mosim.errors import InvalidInputError
from mosim.models.quaternion import quat_conj, quat_mul, quat_to_rotvec
from mosim.systems.layout import BALL, FREE, JointLayout


def position_difference(layout: JointLayout, q0: Tensor, q1: Tensor) -> Tensor:
    """Tangent difference ``q1 ⊖ q0``. ``q0, q1 (..., nq) -> (..., nv)``."""
    if q0.shape != q1.shape or q0.shape[-1] != layout.nq:
        raise InvalidInputError(
            f"position_difference needs two (..., nq={layout.nq}) tensors of one shape, got "
            f"{tuple(q0.shape)} and {tuple(q1.shape)}"
        )
    out = q0.new_zeros(q0.shape[:-1] + (layout.nv,))
    for t, qa, va in zip(layout.types, layout.qpos_adr, layout.qvel_adr):
        if t == FREE:
            out[..., va : va + 3] = q1[..., qa : qa + 3] - q0[..., qa : qa + 3]
            out[..., va + 3 : va + 6] = _rotation_between(q0[..., qa + 3 : qa + 7], q1[..., qa + 3 : qa + 7])
        elif t == BALL:
            out[..., va : va + 3] = _rotation_between(q0[..., qa : qa + 4], q1[..., qa : qa + 4])
        else:
            out[..., va] = q1[..., qa] - q0[..., qa]
    return out


def _rotation_between(a: Tensor, b: Tensor) -> Tensor:
    """Body-frame rotation vector taking orientation ``a`` to ``b``. ``(..., 4) -> (..., 3)``."""
    return quat_to_rotvec(quat_mul(quat_conj(a), b))
