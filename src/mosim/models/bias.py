"""MuJoCo's bias forces in torch: ``qfrc_bias = C(q, v) v + g(q)``, the Coriolis, centrifugal and gravity forces of
the robot's rigid bodies, computed from its kinematics and its bodies' masses and inertias (as ``M(q)`` is,
:mod:`mosim.models.inertia`), for models that take them as known instead of learning them.

For each body, with its centre of mass's Jacobian ``J_c`` and its angular one ``J_w`` (:func:`~mosim.models.contacts.
body_jacobians`), mass ``m`` and world inertia ``I``, at zero joint acceleration its centre accelerates by ``J̇_c v``
and it turns with ``ω = J_w v`` and ``ω̇ = J̇_w v``; Newton's and Euler's equations give the force each needs,
and the joints' share of them is

    qfrc_bias = sum over bodies of  J_cᵀ m (J̇_c v - gravity) + J_wᵀ (I ω̇ + ω x I ω).

``J̇ v`` is the derivative of ``J(q) v`` along the motion: forward-mode differentiation of the kinematics at ``q``
moved by ``v`` for a time ``h`` (:func:`~mosim.integrators.positions.integrate_positions`, MuJoCo's
``mj_integratePos``, so free and ball joints move as MuJoCo's do), at ``h = 0``. Tested against ``mj_rne``'s
``qfrc_bias`` (tests/models/test_bias.py).
"""

from __future__ import annotations

import torch
from torch import Tensor

from mosim.integrators.positions import integrate_positions
from mosim.models.contact import _apply, _compose
from mosim.models.contacts import body_jacobians
from mosim.systems.geometry import ContactGeometry
from mosim.systems.layout import JointLayout


def _point_velocities(q: Tensor, v: Tensor, geometry: ContactGeometry, consts: dict[str, Tensor],
                      nv: int) -> tuple[Tensor, ...]:
    """Each body's centre-of-mass Jacobian ``(..., nb, 3, nv)``, angular Jacobian and inertia frame ``(..., nb, 3,
    3)`` at ``q``, and the velocities ``J_c v``, ``J_w v (..., nb, 3)`` they give ``v``."""
    pos, rot, ang, lin = body_jacobians(q, geometry, consts, nv)
    com = pos + _apply(rot, consts["com"])
    jc = lin + torch.linalg.cross(ang, com.unsqueeze(-1).expand_as(ang), dim=-2)
    vv = v.unsqueeze(-2).unsqueeze(-1)                                          # (..., 1, nv, 1)
    return jc, ang, _compose(rot, consts["inertia_rot"]), (jc @ vv).squeeze(-1), (ang @ vv).squeeze(-1)


def bias_forces(q: Tensor, v: Tensor, layout: JointLayout, geometry: ContactGeometry, consts: dict[str, Tensor],
                nv: int) -> Tensor:
    """``qfrc_bias (..., nv)`` at the state ``q (..., nq)``, ``v (..., nv)`` (``consts``:
    :meth:`~mosim.models.inertia.KnownInertia.constants`, with ``gravity``)."""
    if q.dim() == 1:  # forward-mode differentiation of an unbatched state's kinematics mixed dtypes: one of a batch
        return bias_forces(q.unsqueeze(0), v.unsqueeze(0), layout, geometry, consts, nv).squeeze(0)

    def moved(h: Tensor) -> tuple[Tensor, Tensor]:
        _, _, _, vc, w = _point_velocities(integrate_positions(layout, q, v, h), v, geometry, consts, nv)
        return vc, w

    jc, jw, frame, vc, w = _point_velocities(q, v, geometry, consts, nv)
    h = q.new_zeros(())
    _, (acc, dw) = torch.func.jvp(moved, (h,), (torch.ones_like(h),))        # J̇_c v, J̇_w v
    moments = consts["moments"]

    def inertia(x: Tensor) -> Tensor:                                          # I x, I = F diag(moments) Fᵀ
        return _apply(frame, moments * _apply(frame.transpose(-1, -2), x))

    force = consts["mass"][:, None] * (acc - consts["gravity"])               # (..., nb, 3)
    torque = inertia(dw) + torch.linalg.cross(w, inertia(w), dim=-1)
    return ((jc.transpose(-1, -2) @ force.unsqueeze(-1)).squeeze(-1).sum(-2)
            + (jw.transpose(-1, -2) @ torque.unsqueeze(-1)).squeeze(-1).sum(-2))


__all__ = ["bias_forces"]
