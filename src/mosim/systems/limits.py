"""MuJoCo's joint-limit constraints, as plain data a learned model can keep.

A limited hinge or slide joint past its range (closer than its ``margin``) gets one soft constraint. For the joint
coordinate ``x``, the side nearer the violation gives the distance ``pos = x - lo`` (Jacobian row ``+e_dof``) or
``pos = hi - x`` (row ``-e_dof``); MuJoCo then asks for the reference acceleration along that row

    aref = -B (J v) - K imp(r) r,      r = pos - margin,

with ``K``, ``B`` from the joint's ``solref`` (a time constant, kept at least twice the time step, and a damping
ratio) and ``imp`` its ``solimp`` impedance, and solves for forces ``f >= 0`` (a limit only pushes)

    minimize  1/2 fᵀ (A + R) f + fᵀ (J a0 - aref),     A = J M⁻¹ Jᵀ,  R = (1 - imp) / imp · invweight0,

``a0`` being the acceleration without constraints; the acceleration is ``a0 + M⁻¹ Jᵀ f``. MuJoCo's Euler (and
implicit) integrators then treat the joints' damping ``D`` implicitly: the step's velocity change is ``h (M +
h D)⁻¹ M`` times that acceleration, ``h`` the time step. Where ``h D`` is not small against ``M`` (reacher's wrist:
``h D = 2e-4``, its inertia ``1.9e-4``) that halves the step's response, so the constants keep ``D`` and ``h`` too. :class:`LimitConstraints`
reads those constants from a compiled ``MjModel`` (:meth:`LimitConstraints.from_model`; ``K`` and ``B`` exactly as
MuJoCo computes them, tested against its ``efc_KBIP``) and round-trips through JSON, so a checkpoint holds it;
:mod:`mosim.models.limits` evaluates the constraint in torch with a learned ``M⁻¹``.

Ball joints' cone limits are not covered (no built-in robot has one); a model with them gets the hinge and slide
limits only. The record also keeps the dofs' dry friction rows (``dof_frictionloss``, :func:`dry_friction`), which
the elliptic cones' solve adds (:mod:`mosim.models.cones`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from mosim.errors import InvalidInputError
from mosim.systems.equality import EQUALITY_FIELDS, joint_equalities
from mosim.systems.record import JsonRecord

MIN_IMP, MAX_IMP = 0.0001, 0.9999
"""MuJoCo's ``mjMINIMP`` and ``mjMAXIMP``: the range impedances are clamped to"""
MIN_VAL = 1e-15
"""MuJoCo's ``mjMINVAL``"""

_HINGE, _SLIDE = int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)
_NO_LIMITS = int(mujoco.mjtDisableBit.mjDSBL_CONSTRAINT) | int(mujoco.mjtDisableBit.mjDSBL_LIMIT)
_NO_REFSAFE = int(mujoco.mjtDisableBit.mjDSBL_REFSAFE)


def clamp_solimp(solimp: Any) -> tuple[float, float, float, float, float]:
    """A ``solimp`` ``(d0, dwidth, width, midpoint, power)`` clamped as MuJoCo clamps it: the impedances and the
    midpoint to the impedance range, the width to ``>= 0``, the power to ``>= 1``."""
    d0, dwidth, width, mid, power = (float(x) for x in solimp)
    return (min(max(d0, MIN_IMP), MAX_IMP), min(max(dwidth, MIN_IMP), MAX_IMP), max(width, 0.0),
            min(max(mid, MIN_IMP), MAX_IMP), max(power, 1.0))


def reference_gains(solref: tuple[float, float], solimp: tuple[float, ...], timestep: float,
                    refsafe: bool = True) -> tuple[float, float]:
    """``(K, B)`` of a constraint, as MuJoCo's ``getsolparam`` derives them from ``solref`` and ``solimp``.

    Positive ``solref = (timeconst, dampratio)``: ``K = 1 / (dmax² timeconst² dampratio²)``, ``B = 2 / (dmax
    timeconst)``, the time constant raised to ``2 timestep`` where ``refsafe``; non-positive ``solref = (-stiffness,
    -damping)``: ``K = stiffness / dmax²``, ``B = damping / dmax``. ``dmax = solimp[1]`` clamped to the impedance
    range."""
    dmax = min(max(float(solimp[1]), MIN_IMP), MAX_IMP)
    if solref[0] > 0:
        timeconst, dampratio = float(solref[0]), float(solref[1])
        if refsafe:
            timeconst = max(timeconst, 2.0 * timestep)
        return 1.0 / (dmax * dmax * timeconst * timeconst * dampratio * dampratio), 2.0 / (dmax * timeconst)
    return -float(solref[0]) / (dmax * dmax), -float(solref[1]) / dmax


def implicit_damping(model: mujoco.MjModel) -> tuple[float, ...]:
    """The dofs' damping that MuJoCo's integrator treats implicitly (``()`` where none: RK4, damping disabled or
    zero, Euler's implicit damping disabled)."""
    flags, integrator = model.opt.disableflags, int(model.opt.integrator)
    if flags & int(mujoco.mjtDisableBit.mjDSBL_DAMPER) or integrator == int(mujoco.mjtIntegrator.mjINT_RK4):
        return ()
    if integrator == int(mujoco.mjtIntegrator.mjINT_EULER) and flags & int(mujoco.mjtDisableBit.mjDSBL_EULERDAMP):
        return ()
    if not (model.dof_damping > 0).any():
        return ()
    return tuple(float(x) for x in model.dof_damping)


def implicit_actuators(model: mujoco.MjModel) -> tuple[tuple[float, ...], ...]:
    """Which entries of the actuators' velocity damping MuJoCo's integrator treats implicitly, ``(nv, nv)`` of 1 and
    0 (``()`` where none). Its implicitfast and implicit integrators add ``h ∂qfrc_actuator/∂qvel`` (the velocity
    bias of each actuator whose force its ``forcerange`` does not clip) to the damping of the step, unless the model
    disables actuation; only on the entries of ``M``'s sparsity, the pairs of dofs one of which is the other's
    ancestor (a tendon across the Panda's two fingers couples them in the derivative, and the step drops that)."""
    implicit = int(model.opt.integrator) in (int(mujoco.mjtIntegrator.mjINT_IMPLICIT),
                                              int(mujoco.mjtIntegrator.mjINT_IMPLICITFAST))
    if not implicit or model.nu == 0 or model.opt.disableflags & int(mujoco.mjtDisableBit.mjDSBL_ACTUATION):
        return ()
    mask = np.eye(model.nv)
    for i in range(model.nv):
        j = int(model.dof_parentid[i])
        while j >= 0:
            mask[i, j] = mask[j, i] = 1.0
            j = int(model.dof_parentid[j])
    return tuple(tuple(float(x) for x in row) for row in mask)


def dry_friction(model: mujoco.MjModel) -> dict[str, tuple[Any, ...]]:
    """The fields ``friction_*`` of :class:`LimitConstraints`: MuJoCo's dof friction rows (``mj_instantiateFriction``,
    ``mj_makeImpedance``); none where the model disables friction loss or constraints, or has none. A free joint's
    dofs with friction are refused (its rows would need the heading frame's map)."""
    off = int(mujoco.mjtDisableBit.mjDSBL_CONSTRAINT) | int(mujoco.mjtDisableBit.mjDSBL_FRICTIONLOSS)
    dofs = [] if model.opt.disableflags & off else [i for i in range(model.nv) if model.dof_frictionloss[i] > 0]
    free = [i for i in dofs if model.jnt_type[model.dof_jntid[i]] == int(mujoco.mjtJoint.mjJNT_FREE)]
    if free:
        raise InvalidInputError(f"the free joint's dofs {free} have dry friction (dof_frictionloss), which is not "
                                "covered: set it to 0 in the model file")
    refsafe = not model.opt.disableflags & _NO_REFSAFE
    loss, reg, damping = [], [], []
    for i in dofs:
        solimp = clamp_solimp(model.dof_solimp[i])
        imp = solimp[0]  # MuJoCo's impedance at distance 0: the low end
        loss.append(float(model.dof_frictionloss[i]))
        reg.append(max(MIN_VAL, (1 - imp) / imp * float(model.dof_invweight0[i])))
        damping.append(reference_gains(tuple(model.dof_solref[i]), solimp, float(model.opt.timestep), refsafe)[1])
    return {"friction_dof": tuple(dofs), "friction_loss": tuple(loss), "friction_reg": tuple(reg),
            "friction_damping": tuple(damping)}


@dataclass(frozen=True)
class LimitConstraints(JsonRecord):
    """The constants of a model's joint-limit constraints, one entry per limited hinge or slide joint."""

    qpos: tuple[int, ...]
    """the joint's ``qpos`` index"""
    dof: tuple[int, ...]
    """the joint's ``qvel`` index (its row of the constraint Jacobian)"""
    low: tuple[float, ...]
    high: tuple[float, ...]
    margin: tuple[float, ...]
    """the constraint switches on when the joint is closer than this to its limit"""
    stiffness: tuple[float, ...]
    """``K`` of the reference acceleration"""
    damping: tuple[float, ...]
    """``B`` of the reference acceleration"""
    solimp: tuple[tuple[float, float, float, float, float], ...]
    """``(d0, dwidth, width, midpoint, power)`` of the impedance, clamped as MuJoCo clamps them"""
    invweight0: tuple[float, ...]
    """MuJoCo's ``dof_invweight0``: the diagonal of ``M⁻¹`` at ``qpos0``, the scale of the regularizer ``R``"""
    qpos0: tuple[float, ...]
    """the model's reference pose (``nq``), where ``invweight0`` was taken"""
    implicit_damping: tuple[float, ...] = ()
    """per dof (``nv``, or empty for none): the damping the integrator treats implicitly, MuJoCo's ``dof_damping``
    for its Euler, implicit and implicitfast integrators (unless the model disables damping or Euler's implicit
    damping); implicitfast's actuator velocity terms are in :attr:`implicit_actuators`"""
    timestep: float = 0.0
    """MuJoCo's time step ``h``"""
    dof_invweight0: tuple[float, ...] = ()
    """every dof's ``dof_invweight0`` (``nv``; empty in records from before it was kept): where a model's ``M(q)``
    may start (``ModelConfig.inertia_start``)"""
    implicit_actuators: tuple[tuple[float, ...], ...] = ()
    """``(nv, nv)``, or empty for none: the entries of the actuators' velocity damping the integrator treats
    implicitly too, 1 or 0 (:func:`implicit_actuators`; empty in records from before it was kept)"""
    friction_dof: tuple[int, ...] = ()
    """the dofs with dry friction (``dof_frictionloss > 0``, hinges, slides and balls; empty where the model
    disables it, and in records from before it was kept): MuJoCo's friction rows ``J = e_dof``, each with a force
    of at most :attr:`friction_loss` either way, solved on elliptic cones (:mod:`mosim.models.cones`)"""
    friction_loss: tuple[float, ...] = ()
    """each friction row's largest force, ``dof_frictionloss``"""
    friction_reg: tuple[float, ...] = ()
    """each friction row's ``R = (1 - imp) / imp · dof_invweight0`` (``imp`` of its ``dof_solimp`` at distance 0)"""
    friction_damping: tuple[float, ...] = ()
    """each friction row's ``B`` (``aref = -B v_dof``: no position term), from its ``dof_solref``"""
    equality_qpos: tuple[tuple[int, int], ...] = ()
    """the joint equalities (:mod:`mosim.systems.equality`; empty in records from before they were kept): each one's
    two joints' ``qpos`` indices (the second ``-1`` where it holds one joint alone)"""
    equality_dof: tuple[tuple[int, int], ...] = ()
    """each joint equality's two dofs (the second ``-1`` where none)"""
    equality_ref: tuple[tuple[float, float], ...] = ()
    """each joint equality's two joints' ``qpos0``, from which their coordinates count"""
    equality_poly: tuple[tuple[float, float, float, float, float], ...] = ()
    """each joint equality's ``polycoef``"""
    equality_stiffness: tuple[float, ...] = ()
    """each joint equality's ``K``"""
    equality_damping: tuple[float, ...] = ()
    """each joint equality's ``B``"""
    equality_solimp: tuple[tuple[float, float, float, float, float], ...] = ()
    """each joint equality's ``solimp``, clamped as MuJoCo clamps it"""
    equality_diag: tuple[float, ...] = ()
    """each joint equality's scale of ``R``: the sum of its dofs' ``dof_invweight0``"""

    def __post_init__(self) -> None:
        self.check_lengths(len(self.dof), ("qpos", "low", "high", "margin", "stiffness", "damping", "solimp",
                                           "invweight0"))
        self.check_lengths(len(self.friction_dof), ("friction_loss", "friction_reg", "friction_damping"))
        self.check_lengths(len(self.equality_dof), EQUALITY_FIELDS)

    def __len__(self) -> int:
        return len(self.dof)

    @property
    def n_equalities(self) -> int:
        """How many joint equalities the record keeps."""
        return len(self.equality_dof)

    @classmethod
    def from_model(cls, model: mujoco.MjModel) -> LimitConstraints:
        """Read the limit constraints of a compiled model (none where the model disables limits or constraints)."""
        rows: list[tuple[Any, ...]] = []
        if not model.opt.disableflags & _NO_LIMITS:
            refsafe = not model.opt.disableflags & _NO_REFSAFE
            for j in range(model.njnt):
                if not model.jnt_limited[j] or model.jnt_type[j] not in (_HINGE, _SLIDE):
                    continue
                solimp = clamp_solimp(model.jnt_solimp[j])
                k, b = reference_gains(tuple(model.jnt_solref[j]), solimp, float(model.opt.timestep), refsafe)
                dof = int(model.jnt_dofadr[j])
                rows.append((int(model.jnt_qposadr[j]), dof, float(model.jnt_range[j, 0]), float(model.jnt_range[j, 1]),
                             float(model.jnt_margin[j]), k, b, solimp, float(model.dof_invweight0[dof])))
        columns = list(zip(*rows)) if rows else [()] * 9
        return cls(*(tuple(c) for c in columns), qpos0=tuple(float(x) for x in model.qpos0),  # type: ignore[arg-type]
                   implicit_damping=implicit_damping(model), timestep=float(model.opt.timestep),
                   dof_invweight0=tuple(float(x) for x in model.dof_invweight0),
                   implicit_actuators=implicit_actuators(model), **dry_friction(model), **joint_equalities(model))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LimitConstraints:
        try:
            return cls(tuple(map(int, d["qpos"])), tuple(map(int, d["dof"])),
                       *(tuple(map(float, d[k])) for k in ("low", "high", "margin", "stiffness", "damping")),
                       tuple(tuple(map(float, s)) for s in d["solimp"]),  # type: ignore[misc]
                       tuple(map(float, d["invweight0"])), tuple(map(float, d["qpos0"])),
                       tuple(map(float, d["implicit_damping"])), float(d["timestep"]),
                       tuple(map(float, d.get("dof_invweight0", ()))), tuple(tuple(map(float, r)) for r in d.get("implicit_actuators", ())),
                       tuple(map(int, d.get("friction_dof", ()))),
                       *(tuple(map(float, d.get(k, ()))) for k in ("friction_loss", "friction_reg", "friction_damping")),
                       *(tuple(tuple(map(int, x)) for x in d.get(k, ())) for k in ("equality_qpos", "equality_dof")),
                       *(tuple(tuple(map(float, x)) for x in d.get(k, ())) for k in ("equality_ref", "equality_poly")),
                       *(tuple(map(float, d.get(k, ()))) for k in ("equality_stiffness", "equality_damping")),
                       tuple(tuple(map(float, x)) for x in d.get("equality_solimp", ())),  # type: ignore[misc]
                       tuple(map(float, d.get("equality_diag", ()))))
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(f"not a limit-constraints record: {e!r}") from None

