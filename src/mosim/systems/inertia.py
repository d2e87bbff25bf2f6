"""The mass properties of a MuJoCo model's bodies, as plain data a learned model can keep.

MuJoCo's joint-space inertia ``M(q)`` (``mj_fullM``, made by its composite rigid-body algorithm) is a
function of the configuration and of constants of the model file alone: each body's mass, the place of its centre of
mass and the orientation and principal moments of its inertia in the body's frame, and each dof's armature,

    M(q) = sum_b  m_b Jc_bᵀ Jc_b  +  Jw_bᵀ R_b I_b R_bᵀ Jw_b   +  diag(armature),

``Jc_b`` the Jacobian of body ``b``'s centre of mass and ``Jw_b`` of its angular velocity (both ``3 x nv``, world
frame), ``R_b`` its inertia frame. :class:`BodyInertias` holds those constants for the bodies of a
:class:`~mosim.systems.geometry.ContactGeometry` (same order: MuJoCo's bodies but the world) and round-trips through
JSON, so a checkpoint holds it; :mod:`mosim.models.inertia` evaluates ``M(q)`` in torch with the geometry's forward
kinematics, equal to MuJoCo's (tests/models/test_inertia.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco

from mosim.errors import InvalidInputError
from mosim.systems.record import JsonRecord

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]


@dataclass(frozen=True)
class BodyInertias(JsonRecord):
    """Per body (world excluded, MuJoCo's order): mass, centre of mass and inertia; per dof: armature; the joints'
    springs."""

    mass: tuple[float, ...]
    com: tuple[Vec3, ...]
    """the centre of mass in the body's frame (MuJoCo's ``body_ipos``)"""
    frame: tuple[Quat, ...]
    """the orientation of the principal axes of inertia in the body's frame (``body_iquat``, ``w x y z``)"""
    moments: tuple[Vec3, ...]
    """the principal moments of inertia about the centre of mass (``body_inertia``)"""
    armature: tuple[float, ...]
    """every dof's armature (``dof_armature``), added to ``M``'s diagonal"""
    qpos0: tuple[float, ...]
    """the reference configuration (MuJoCo's ``qpos0``), where a model takes the scale of its forces"""
    gravity: tuple[float, float, float] = (0.0, 0.0, -9.81)
    """MuJoCo's ``opt.gravity`` (zero where the model disables gravity): what the bias forces hold up against
    (:mod:`mosim.models.bias`); records from before it was kept get MuJoCo's default"""
    spring_qpos: tuple[int, ...] = ()
    """the hinge and slide joints with a spring (``jnt_stiffness > 0``, unless the model disables springs; empty in
    records from before they were kept): each one's ``qpos`` index. MuJoCo's passive force on its dof is
    ``-stiffness (q - springref)`` (:func:`mosim.models.bias.spring_forces`)"""
    spring_dof: tuple[int, ...] = ()
    """each spring's dof"""
    spring_stiffness: tuple[float, ...] = ()
    spring_ref: tuple[float, ...] = ()
    """each spring's rest position, MuJoCo's ``qpos_spring``"""
    other_springs: int = 0
    """how many ball and free joints have a spring, which the springs above do not cover"""
    damping: tuple[float, ...] = ()
    """every dof's damping (``dof_damping``, ``nv``; empty where there is none, the model disables dampers, and in
    records from before it was kept): MuJoCo's passive force ``-damping v``, which a model adds where its limit
    solve does not already (:class:`~mosim.models.limits.LimitSolver` integrates it implicitly, as MuJoCo's Euler
    step does)"""

    def __post_init__(self) -> None:
        self.check_lengths(len(self.mass), ("com", "frame", "moments"))
        self.check_lengths(len(self.spring_dof), ("spring_qpos", "spring_stiffness", "spring_ref"))
        if any(m < 0 for m in self.mass) or any(i < 0 for mom in self.moments for i in mom):
            raise InvalidInputError("BodyInertias: masses and moments of inertia must be >= 0")

    @property
    def n_bodies(self) -> int:
        return len(self.mass)

    @classmethod
    def from_model(cls, model: mujoco.MjModel) -> BodyInertias:
        """Read the mass properties of a compiled model."""
        m = model
        bodies = range(1, m.nbody)

        def vec(x: Any) -> tuple[float, ...]:
            return tuple(float(c) for c in x)

        springs = [j for j in range(m.njnt) if m.jnt_stiffness[j] > 0
                   and not m.opt.disableflags & int(mujoco.mjtDisableBit.mjDSBL_SPRING)]
        simple = [j for j in springs if m.jnt_type[j] in (int(mujoco.mjtJoint.mjJNT_HINGE),
                                                          int(mujoco.mjtJoint.mjJNT_SLIDE))]
        return cls(mass=tuple(float(m.body_mass[b]) for b in bodies),
                   com=tuple(vec(m.body_ipos[b]) for b in bodies),  # type: ignore[misc]
                   frame=tuple(vec(m.body_iquat[b]) for b in bodies),  # type: ignore[misc]
                   moments=tuple(vec(m.body_inertia[b]) for b in bodies),  # type: ignore[misc]
                   armature=vec(m.dof_armature), qpos0=vec(m.qpos0),
                   gravity=(0.0, 0.0, 0.0) if m.opt.disableflags & int(mujoco.mjtDisableBit.mjDSBL_GRAVITY)
                   else vec(m.opt.gravity),  # type: ignore[arg-type]
                   spring_qpos=tuple(int(m.jnt_qposadr[j]) for j in simple),
                   spring_dof=tuple(int(m.jnt_dofadr[j]) for j in simple),
                   spring_stiffness=tuple(float(m.jnt_stiffness[j]) for j in simple),
                   spring_ref=tuple(float(m.qpos_spring[m.jnt_qposadr[j]]) for j in simple),
                   other_springs=len(springs) - len(simple),
                   damping=() if m.opt.disableflags & int(mujoco.mjtDisableBit.mjDSBL_DAMPER)
                   or not (m.dof_damping > 0).any() else vec(m.dof_damping))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BodyInertias:
        try:
            return cls(mass=tuple(map(float, d["mass"])),
                       com=tuple(tuple(map(float, x)) for x in d["com"]),  # type: ignore[misc]
                       frame=tuple(tuple(map(float, x)) for x in d["frame"]),  # type: ignore[misc]
                       moments=tuple(tuple(map(float, x)) for x in d["moments"]),  # type: ignore[misc]
                       armature=tuple(map(float, d["armature"])), qpos0=tuple(map(float, d["qpos0"])),
                       gravity=tuple(map(float, d.get("gravity", (0.0, 0.0, -9.81)))),  # type: ignore[arg-type]
                       spring_qpos=tuple(map(int, d.get("spring_qpos", ()))),
                       spring_dof=tuple(map(int, d.get("spring_dof", ()))),
                       spring_stiffness=tuple(map(float, d.get("spring_stiffness", ()))),
                       spring_ref=tuple(map(float, d.get("spring_ref", ()))),
                       other_springs=int(d.get("other_springs", 0)),
                       damping=tuple(map(float, d.get("damping", ()))))
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(f"not a body-inertias record: {e!r}") from None


__all__ = ["BodyInertias"]
