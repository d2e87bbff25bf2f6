"""A MuJoCo model's actuators, as plain data a learned model can keep.

MuJoCo turns a control into joint forces by a known, per-model formula. For the actuators without internal
state (``dyntype="none"``) with a fixed gain and an affine bias, acting on hinges, slides or fixed tendons, it is

    length   = gear · (coefficients · qpos)         (the joint's coordinate, or the fixed tendon's length)
    velocity = gear · (coefficients · qvel)
    force    = clip(gain · clip(ctrl, ctrlrange) + bias0 + bias1 · length + bias2 · velocity, forcerange)
    qfrc     = Σ_actuators moment · force,  moment = gear · coefficients (per degree of freedom),

then clipped per joint to its ``actuatorfrcrange``. Motors are the case ``bias = 0`` (``qfrc`` linear in the
control); position and velocity servos with force limits (the Panda's: ``clip(kp (a - q) - kd v, ±F)``) are not:
their force depends on the state and the command together, and saturates. :class:`Actuation` reads those
constants from a compiled ``MjModel`` (:meth:`Actuation.from_model`) and round-trips through JSON, so a checkpoint
holds it; :mod:`mosim.models.actuation` evaluates the formula in torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import mujoco
import numpy as np

from mosim.errors import InvalidInputError
from mosim.systems.record import JsonRecord

_JOINT, _JOINTINPARENT, _TENDON = (int(mujoco.mjtTrn.mjTRN_JOINT), int(mujoco.mjtTrn.mjTRN_JOINTINPARENT),
                                   int(mujoco.mjtTrn.mjTRN_TENDON))
_HINGE, _SLIDE = int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)
_WRAP_JOINT = int(mujoco.mjtWrap.mjWRAP_JOINT)
_BIAS_NONE, _BIAS_AFFINE = int(mujoco.mjtBias.mjBIAS_NONE), int(mujoco.mjtBias.mjBIAS_AFFINE)

Row = tuple[float, ...]


@dataclass(frozen=True)
class Actuation(JsonRecord):
    """The constants of MuJoCo's actuator forces (see the module docstring); ``nu`` actuators, ``nv`` dofs.

    Unlimited ranges are stored as ``(-inf, inf)`` (written to JSON as ``null``).
    """

    length_map: tuple[Row, ...]
    """``(nu, nq)``: actuator length ``= length_map @ qpos``"""
    moment: tuple[Row, ...]
    """``(nu, nv)``: actuator velocity ``= moment @ qvel``, and ``qfrc = momentᵀ force``"""
    gain: Row
    """``(nu,)``"""
    bias: tuple[tuple[float, float, float], ...]
    """``(nu, 3)``: ``bias0 + bias1 length + bias2 velocity``"""
    ctrl_range: tuple[tuple[float, float], ...]
    """``(nu, 2)``: controls are clipped to it (MuJoCo's ``ctrllimited``, unless the model disables the clamp)"""
    force_range: tuple[tuple[float, float], ...]
    """``(nu, 2)``: each actuator's force is clipped to it"""
    dof_force_range: tuple[tuple[float, float], ...]
    """``(nv, 2)``: the summed actuator force on each dof is clipped to its joint's ``actuatorfrcrange``"""

    @property
    def nu(self) -> int:
        return len(self.gain)

    @property
    def nv(self) -> int:
        return len(self.dof_force_range)

    @property
    def is_linear(self) -> bool:
        """Whether the joint forces are linear in the control alone (motors without force limits)."""
        unlimited = all(np.isinf(r).all() for r in (*self.ctrl_range, *self.force_range, *self.dof_force_range))
        return unlimited and not np.any(np.asarray(self.bias, dtype=float))

    @classmethod
    def from_model(cls, model: mujoco.MjModel) -> Actuation:
        """Read the actuators of a compiled model; a clear error for the kinds not covered (actuators with
        activation dynamics, gains or biases other than fixed / affine, transmissions other than a hinge, a slide
        or a fixed tendon)."""
        nq, nv, nu = model.nq, model.nv, model.nu
        length_map, moment = np.zeros((nu, nq)), np.zeros((nu, nv))
        clamp_ctrl = not model.opt.disableflags & int(mujoco.mjtDisableBit.mjDSBL_CLAMPCTRL)
        unlimited = (-np.inf, np.inf)
        ctrl_range, force_range = [], []
        for i in range(nu):
            try:
                _check_force_law(model, i)
                pairs = _transmission(model, i)
            except ValueError as e:
                name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i) or f"#{i}"
                raise InvalidInputError(f"actuator {name!r}: {e}; the actuator features cover actuators without "
                                        "activation dynamics, with a fixed gain and an affine bias, on hinges, "
                                        "slides and fixed tendons (turn them off: actuator_features=False, "
                                        "mosim train --no-actuator-features)") from None
            gear = float(model.actuator_gear[i, 0])
            for jnt, coef in pairs:
                length_map[i, model.jnt_qposadr[jnt]] += gear * coef
                moment[i, model.jnt_dofadr[jnt]] += gear * coef
            ctrl_range.append(tuple(map(float, model.actuator_ctrlrange[i]))
                              if clamp_ctrl and model.actuator_ctrllimited[i] else unlimited)
            force_range.append(tuple(map(float, model.actuator_forcerange[i]))
                               if model.actuator_forcelimited[i] else unlimited)
        dof_range = [unlimited] * nv
        for j in range(model.njnt):
            if model.jnt_actfrclimited[j] and model.jnt_type[j] in (_HINGE, _SLIDE):
                dof_range[model.jnt_dofadr[j]] = tuple(map(float, model.jnt_actfrcrange[j]))
        bias = [tuple(map(float, model.actuator_biasprm[i, :3])) if model.actuator_biastype[i] == _BIAS_AFFINE
                else (0.0, 0.0, 0.0) for i in range(nu)]
        return cls(_rows(length_map), _rows(moment), tuple(float(g) for g in model.actuator_gainprm[:, 0]),
                   tuple(bias), tuple(ctrl_range), tuple(force_range), tuple(dof_range))

    def to_dict(self) -> dict[str, Any]:
        def finite(x: Any) -> Any:
            if isinstance(x, (tuple, list)):
                return [finite(y) for y in x]
            return None if np.isinf(x) else x

        return {k: finite(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Actuation:
        def ranges(rows: list[list[float | None]]) -> tuple[tuple[float, float], ...]:
            return tuple((-np.inf if lo is None else float(lo), np.inf if hi is None else float(hi)) for lo, hi in rows)

        try:
            return cls(
                tuple(tuple(map(float, r)) for r in d["length_map"]), tuple(tuple(map(float, r)) for r in d["moment"]),
                tuple(map(float, d["gain"])), tuple(tuple(map(float, b)) for b in d["bias"]),  # type: ignore[misc]
                ranges(d["ctrl_range"]), ranges(d["force_range"]), ranges(d["dof_force_range"]))
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(f"not an actuation record: {e!r}") from None


def _rows(a: np.ndarray) -> tuple[Row, ...]:
    return tuple(tuple(float(x) for x in row) for row in a)


def _check_force_law(model: mujoco.MjModel, i: int) -> None:
    """A ``ValueError`` saying why actuator ``i``'s force is not the formula of the module docstring, if it is not."""
    if model.actuator_dyntype[i] != int(mujoco.mjtDyn.mjDYN_NONE):
        raise ValueError("it has activation dynamics (its force depends on a state the data does not hold)")
    if model.actuator_gaintype[i] != int(mujoco.mjtGain.mjGAIN_FIXED):
        raise ValueError("its gain is not fixed")
    if model.actuator_biastype[i] not in (_BIAS_NONE, _BIAS_AFFINE):
        raise ValueError("its bias is not affine")


def _transmission(model: mujoco.MjModel, i: int) -> list[tuple[int, float]]:
    """(joint, coefficient) pairs of actuator ``i``'s length, before the gear."""
    trn, target = int(model.actuator_trntype[i]), int(model.actuator_trnid[i, 0])
    if trn in (_JOINT, _JOINTINPARENT):
        if model.jnt_type[target] not in (_HINGE, _SLIDE):
            raise ValueError("it drives a ball or free joint")
        return [(target, 1.0)]
    if trn == _TENDON:
        start, n = int(model.tendon_adr[target]), int(model.tendon_num[target])
        if any(model.wrap_type[k] != _WRAP_JOINT for k in range(start, start + n)):
            raise ValueError("it pulls a spatial tendon")
        pairs = [(int(model.wrap_objid[k]), float(model.wrap_prm[k])) for k in range(start, start + n)]
        if any(model.jnt_type[j] not in (_HINGE, _SLIDE) for j, _ in pairs):
            raise ValueError("its tendon couples a ball or free joint")
        return pairs
    raise ValueError(f"its transmission is {mujoco.mjtTrn(trn).name}")
