"""MuJoCo's joint equality constraints, as plain data a learned model can keep.

A joint equality couples two joints by a polynomial, or holds one joint at a fixed offset (MuJoCo's
``mj_instantiateEquality``): with ``x1``, ``x2`` the two joints' coordinates less their ``qpos0`` and ``c`` the
five ``polycoef``,

    pos = x1 - c0 - (c1 d + c2 d² + c3 d³ + c4 d⁴),   d = x2,       J = e_dof1 - (c1 + 2 c2 d + 3 c3 d² + 4 c4 d³) e_dof2

(``pos = x1 - c0``, ``J = e_dof1`` without a second joint). The row is soft as every MuJoCo constraint is, but
two-sided: its force has either sign, and MuJoCo's solver keeps its cost ``1/2 (J a - aref)² / R`` whatever the
sign of ``J a - aref``, with ``aref = -B (J v) - K imp(pos) pos`` (``K``, ``B`` from the equality's ``solref``,
``imp`` from its ``solimp``) and ``R = (1 - imp) / imp`` times the sum of the two dofs' ``dof_invweight0``. The
Panda's two fingers are such a pair (``finger_joint1 = finger_joint2``, a stiff ``solref`` of 5 ms): left to the
networks, its force was the largest term they had to learn.

Only the joint equalities that are active at the start (``eq_active0``) of a model that does not disable
equalities or constraints are read; the other kinds (connect, weld, tendon, flex) are not covered: a model with them
leaves them to the networks.
"""

from __future__ import annotations

from typing import Any

import mujoco

_JOINT = int(mujoco.mjtEq.mjEQ_JOINT)
_OFF = (int(mujoco.mjtDisableBit.mjDSBL_CONSTRAINT) | int(mujoco.mjtDisableBit.mjDSBL_EQUALITY))


def joint_equalities(model: mujoco.MjModel) -> dict[str, tuple[Any, ...]]:
    """The fields ``equality_*`` of :class:`~mosim.systems.limits.LimitConstraints`, one entry per active joint
    equality of ``model`` (none where it disables equalities or constraints)."""
    from mosim.systems.limits import _NO_REFSAFE, clamp_solimp, reference_gains  # that module keeps these fields

    if model.opt.disableflags & _OFF:
        return {name: () for name in EQUALITY_FIELDS}
    fields: dict[str, list[Any]] = {name: [] for name in EQUALITY_FIELDS}
    refsafe = not model.opt.disableflags & _NO_REFSAFE
    for i in range(model.neq):
        if int(model.eq_type[i]) != _JOINT or not model.eq_active0[i]:
            continue
        joints = (int(model.eq_obj1id[i]), int(model.eq_obj2id[i]))
        qpos = tuple(int(model.jnt_qposadr[j]) if j >= 0 else -1 for j in joints)
        dof = tuple(int(model.jnt_dofadr[j]) if j >= 0 else -1 for j in joints)
        solimp = clamp_solimp(model.eq_solimp[i])
        fields["equality_qpos"].append(qpos)
        fields["equality_dof"].append(dof)
        fields["equality_ref"].append(tuple(float(model.qpos0[a]) if a >= 0 else 0.0 for a in qpos))
        fields["equality_poly"].append(tuple(float(c) for c in model.eq_data[i, :5]))
        k, b = reference_gains(tuple(model.eq_solref[i]), solimp, float(model.opt.timestep), refsafe)
        fields["equality_stiffness"].append(k)
        fields["equality_damping"].append(b)
        fields["equality_solimp"].append(solimp)
        fields["equality_diag"].append(sum(float(model.dof_invweight0[a]) for a in dof if a >= 0))
    return {name: tuple(value) for name, value in fields.items()}


EQUALITY_FIELDS = ("equality_qpos", "equality_dof", "equality_ref", "equality_poly", "equality_stiffness",
                   "equality_damping", "equality_solimp", "equality_diag")
"""the names of :class:`~mosim.systems.limits.LimitConstraints`' joint equality fields, in their order there"""

__all__ = ["EQUALITY_FIELDS", "joint_equalities"]
