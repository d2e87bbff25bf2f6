"""MuJoCo's bias forces in torch: ``qfrc_bias = C(q, v) v + g(q)``, the Coriolis, centrifugal and gravity forces of
the robot's rigid bodies, computed from its kinematics and its bodies' masses and inertias (as ``M(q)`` is,
:mod:`mosim.models.inertia`), for models that take them as known instead of learning them.

The recursive Newton-Euler algorithm's forward pass at zero joint acceleration, in world coordinates: each body's
spatial velocity ``V = (ω, v0)`` (``v0`` the velocity of its point at the world's origin) is its parent's plus its
joints' ``S v`` (``S`` the dofs' columns of :func:`~mosim.models.contacts.body_jacobians`), and its acceleration
adds ``Ṡ v = V x S v``, ``V`` the velocity before that joint (a free joint's translation first, then its turn); the
world accelerates against gravity, so every body's acceleration includes it. Newton's and Euler's equations give the
force each body needs, and the joints' share of them is

    qfrc_bias = sum over bodies of  J_cᵀ m a_c + J_wᵀ (I α + ω x I ω),

``J_c`` the Jacobian of the body's centre of mass, ``a_c`` that centre's acceleration, ``I`` the body's inertia in
the world frame. Tested against ``mj_rne``'s ``qfrc_bias`` (tests/models/test_bias.py). The joints' springs
(:func:`spring_forces`, MuJoCo's ``qfrc_spring``) are here too: the other force the model file says in full.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mosim.models.contact import _apply
from mosim.models.contacts import body_jacobians
from mosim.models.inertia import centres
from mosim.systems.geometry import ContactGeometry
from mosim.systems.layout import BALL, FREE, HINGE, SLIDE

DOFS = {FREE: 6, BALL: 3, HINGE: 1, SLIDE: 1}
"""dofs per joint type"""


def bias_forces(q: Tensor, v: Tensor, geometry: ContactGeometry, consts: dict[str, Tensor], nv: int,
                kinematics: tuple[Tensor, ...] | None = None,
                centre: tuple[Tensor, Tensor, Tensor] | None = None) -> Tensor:
    """``qfrc_bias (..., nv)`` at the state ``q (..., nq)``, ``v (..., nv)`` (MuJoCo's frame; ``consts``:
    :meth:`~mosim.models.inertia.KnownInertia.constants`, with ``gravity``; ``kinematics``:
    :func:`~mosim.models.contacts.body_jacobians` of ``q``, and ``centre``: :func:`~mosim.models.inertia.centres` of
    them, where already computed)."""
    pos, rot, ang, lin = body_jacobians(q, geometry, consts, nv) if kinematics is None else kinematics
    zero = q.new_zeros((*q.shape[:-1], 3))
    spin: list[Tensor] = []                                                      # each body's ω, v0, α, a0
    drift: list[Tensor] = []
    turn: list[Tensor] = []
    pull: list[Tensor] = []
    for b, parent in enumerate(geometry.body_parent):
        if parent < 0:  # the world: at rest, accelerating against gravity (gravity then acts on every body)
            w, v0, al, a0 = zero, zero, zero, -consts["gravity"].expand_as(zero)
        else:
            w, v0, al, a0 = spin[parent], drift[parent], turn[parent], pull[parent]
        for j in geometry.body_joints[b]:
            first, n = geometry.joint_qvel[j], DOFS[geometry.joint_type[j]]
            # a free joint moves its body's origin, then turns it about that origin: two parts
            for part in ((first, 3), (first + 3, 3)) if geometry.joint_type[j] == FREE else ((first, n),):
                k = slice(part[0], part[0] + part[1])
                sw = (ang[..., b, :, k] * v[..., None, k]).sum(-1)               # the part's spatial velocity S v
                sl = (lin[..., b, :, k] * v[..., None, k]).sum(-1)
                al, a0 = al + _cross(w, sw), a0 + _cross(w, sl) + _cross(v0, sw)  # Ṡ v = V x S v
                w, v0 = w + sw, v0 + sl
        spin.append(w)
        drift.append(v0)
        turn.append(al)
        pull.append(a0)
    w, v0, al, a0 = (torch.stack(x, -2) for x in (spin, drift, turn, pull))      # (..., nb, 3)
    com, jc, frame = centres(pos, rot, ang, lin, consts) if centre is None else centre
    acc = a0 + _cross(al, com) + _cross(w, v0 + _cross(w, com))                 # of each centre of mass

    def inertia(x: Tensor) -> Tensor:                                          # I x, I = F diag(moments) Fᵀ
        return _apply(frame, consts["moments"] * _apply(frame.transpose(-1, -2), x))

    force = consts["mass"][:, None] * acc
    torque = inertia(al) + _cross(w, inertia(w))
    return ((jc.transpose(-1, -2) @ force.unsqueeze(-1)).squeeze(-1).sum(-2)
            + (ang.transpose(-1, -2) @ torque.unsqueeze(-1)).squeeze(-1).sum(-2))


def spring_forces(q: Tensor, qpos_index: Tensor, dof_index: Tensor, stiffness: Tensor, ref: Tensor,
                  nv: int) -> Tensor:
    """MuJoCo's spring forces of hinge and slide joints (its ``qfrc_spring``), ``-stiffness (q - ref)`` on each
    spring's dof, ``(..., nv)``, for ``q (..., nq)`` and the springs' indices and constants ``(S,)``
    (:class:`~mosim.systems.inertia.BodyInertias`' ``spring_*``)."""
    force = torch.zeros(*q.shape[:-1], nv, dtype=q.dtype, device=q.device)
    return force.index_add(-1, dof_index, -stiffness * (q[..., qpos_index] - ref))


def _cross(a: Tensor, b: Tensor) -> Tensor:
    return torch.linalg.cross(a, b, dim=-1)


__all__ = ["bias_forces", "spring_forces"]
