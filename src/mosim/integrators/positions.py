"""Position integration on the configuration manifold: a batched, differentiable ``mj_integratePos``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from mosim.integrators.common import check_state
from mosim.integrators.quaternion import quat_integrate, so3_log_rate
from mosim.systems.layout import BALL, FREE, JointLayout


@dataclass(frozen=True)
class PositionPlan:
    """Index tensors that vectorize :func:`integrate_positions` over a layout's joints (built once per layout
    and device by :func:`position_plan`).

    Positions split into ``L`` linear coordinates (hinge, slide, free-joint xyz: ``q += v dt``) and ``K``
    quaternions (free and ball joints); ``inverse`` puts ``cat(linear, quaternions.flatten())`` back in
    ``qpos`` order.
    """

    lin_q: Tensor
    """``(L,)`` qpos indices of the linear coordinates"""
    lin_v: Tensor
    """``(L,)`` matching qvel indices"""
    quat_q: Tensor
    """``(K, 4)`` qpos indices of each quaternion (wxyz)"""
    quat_v: Tensor
    """``(K, 3)`` qvel indices of each quaternion's angular velocity (body frame)"""
    inverse: Tensor
    """``(nq,)`` position of every qpos entry in ``cat(linear, quaternions.flatten())``"""


@lru_cache(maxsize=128)
def position_plan(layout: JointLayout, device: torch.device = torch.device("cpu")) -> PositionPlan:
    """The (cached) :class:`PositionPlan` of ``layout`` with its index tensors on ``device``."""
    lin_q: list[int] = []
    lin_v: list[int] = []
    quat_q: list[list[int]] = []
    quat_v: list[list[int]] = []
    for t, qa, va in zip(layout.types, layout.qpos_adr, layout.qvel_adr):
        if t == FREE:
            lin_q += [qa, qa + 1, qa + 2]
            lin_v += [va, va + 1, va + 2]
            qa, va = qa + 3, va + 3
        if t in (FREE, BALL):
            quat_q.append([qa, qa + 1, qa + 2, qa + 3])
            quat_v.append([va, va + 1, va + 2])
        else:
            lin_q.append(qa)
            lin_v.append(va)
    order = lin_q + [i for quat in quat_q for i in quat]
    inverse = [0] * layout.nq
    for pos, i in enumerate(order):
        inverse[i] = pos

    def long(x: list[int] | list[list[int]]) -> Tensor:
        return torch.tensor(x, dtype=torch.long, device=device)

    return PositionPlan(
        lin_q=long(lin_q),
        lin_v=long(lin_v),
        quat_q=long(quat_q).reshape(-1, 4),
        quat_v=long(quat_v).reshape(-1, 3),
        inverse=long(inverse),
    )


def integrate_positions(layout: JointLayout, qpos: Tensor, qvel: Tensor, dt: float | Tensor) -> Tensor:
    """Advance positions ``qpos (..., nq)`` by velocities ``qvel (..., nv)`` for time ``dt``: MuJoCo's
    ``mj_integratePos``, batched and differentiable.

    - hinge and slide joints: ``q += v dt``;
    - free joints: ``xyz += v_lin dt`` (world frame), and the quaternion rotates like a ball joint;
    - ball joints (and free-joint rotations): ``quat = normalize(quat ⊗ exp(ω dt / 2))`` with ``ω`` the angular
      velocity in the body frame; quaternions come out unit length.

    ``dt`` is a number, a scalar tensor or a tensor of the batch shape ``...`` (one step length per state).
    Leading dimensions of ``qpos`` and ``qvel`` broadcast. Returns ``(..., nq)``.
    """
    check_state(layout, qpos, qvel)
    plan = position_plan(layout, qpos.device)
    if isinstance(dt, Tensor) and dt.ndim > 0:
        dt = dt.unsqueeze(-1)  # (..., 1): broadcasts over coordinates
    parts = []
    if plan.lin_q.numel():
        parts.append(qpos.index_select(-1, plan.lin_q) + qvel.index_select(-1, plan.lin_v) * dt)
    if plan.quat_q.numel():
        dt_quat = dt.unsqueeze(-1) if isinstance(dt, Tensor) and dt.ndim > 0 else dt  # (..., 1, 1)
        quat = qpos.index_select(-1, plan.quat_q.flatten()).unflatten(-1, plan.quat_q.shape)  # (..., K, 4)
        omega = qvel.index_select(-1, plan.quat_v.flatten()).unflatten(-1, plan.quat_v.shape)  # (..., K, 3)
        quats = quat_integrate(quat, omega, dt_quat)
        parts.append(quats.flatten(-2))
    if not parts:  # a model without joints
        return qpos.clone()
    out = torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]
    return out.index_select(-1, plan.inverse)


def chart_rate(layout: JointLayout, dq: Tensor, v: Tensor) -> Tensor:
    """``d(dq)/dt (..., nv)`` in the chart ``q = q0 ⊕ dq`` for velocities ``v (..., nv)``: ``v`` itself for
    linear coordinates, ``J_r(phi)^-1 ω`` for every quaternion's rotation vector ``phi`` (see
    :func:`~mosim.integrators.quaternion.so3_log_rate`)."""
    plan = position_plan(layout, v.device)
    if not plan.quat_v.numel():
        return v
    rates = so3_log_rate(dq[..., plan.quat_v], v[..., plan.quat_v])  # (..., K, 3)
    return v.index_copy(-1, plan.quat_v.flatten(), rates.flatten(-2))
