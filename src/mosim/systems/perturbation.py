"""A world that differs from its model file: ``<system>@<change>,<change>...``.

``cheetah-run@mass:torso=1.3,friction=0.6,gear=0.85`` is the cheetah-run task in a world whose torso is 30% heavier,
whose geoms' sliding friction is 60% of the model file's and whose motors are 15% weaker. Data collected from it
stand for data recorded on a real robot that its model file describes only approximately: datasets, checkpoints,
the benchmark's MuJoCo reference and the RL pipelines' real task all run the perturbed world, while what a model
reads from the model file (:func:`mosim.systems.with_mechanics`: M(q), the bias forces, the actuators, the contact
and limit parameters) is read from the system *without* the suffix, the nominal model file. Training a model that
starts at the model file's physics (``ModelConfig.physics_start``) on such data measures what learning adds on top
of a wrong physics.

A change is ``field=scale`` (every body, geom, joint or actuator the field has) or ``field:name=scale`` (the one
named). The fields, each a factor on the model file's value:

- ``mass``: a body's mass and its inertia (the mass distribution's shape is kept);
- ``friction``: a geom's sliding friction (MuJoCo combines a contact's two geoms by their maximum);
- ``damping``: a joint's dof damping (every dof of the joint);
- ``armature``: a joint's rotor inertia (every dof of the joint);
- ``gear``: an actuator's gear (a motor's force for the same control; a servo's lever on its joint).

After the changes the model's derived constants are computed again (``mj_setConst``), as compiling the changed file
would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from mosim.errors import InvalidInputError

SEPARATOR = "@"
"""between a system id and its changes"""

FIELDS = {  # field -> (MuJoCo object type, the arrays the factor multiplies; "dof" arrays are per joint's dofs)
    "mass": (mujoco.mjtObj.mjOBJ_BODY, ("body_mass", "body_inertia")),
    "friction": (mujoco.mjtObj.mjOBJ_GEOM, ("geom_friction",)),
    "damping": (mujoco.mjtObj.mjOBJ_JOINT, ("dof_damping",)),
    "armature": (mujoco.mjtObj.mjOBJ_JOINT, ("dof_armature",)),
    "gear": (mujoco.mjtObj.mjOBJ_ACTUATOR, ("actuator_gear",)),
}


@dataclass(frozen=True)
class Change:
    """One factor on one field: of every object the field has (``name`` ``None``) or of the one named."""

    field: str
    scale: float
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.field}{'' if self.name is None else ':' + self.name}={self.scale:g}"


@dataclass(frozen=True)
class Perturbation:
    """Changes applied in order to a compiled MuJoCo model (see the module docstring)."""

    changes: tuple[Change, ...]

    @classmethod
    def parse(cls, text: str) -> Perturbation:
        """``"mass:torso=1.3,friction=0.6"`` -> the changes (a clear error for an unknown field or a bad scale)."""
        changes = []
        for item in filter(None, (s.strip() for s in text.split(","))):
            key, eq, value = item.partition("=")
            field, _, name = key.partition(":")
            if not eq or field not in FIELDS:
                raise InvalidInputError(f"cannot read the change {item!r} of {text!r}: write field=scale or "
                                        f"field:name=scale, with field one of {', '.join(FIELDS)}")
            try:
                scale = float(value)
            except ValueError:
                scale = math.nan
            if not math.isfinite(scale) or scale < 0 or (scale == 0 and field in ("mass", "gear")):
                raise InvalidInputError(f"the scale of {item!r} must be a finite number >= 0 (> 0 for mass and gear)")
            changes.append(Change(field, scale, name or None))
        if not changes:
            raise InvalidInputError(f"no change in {text!r}: write e.g. mass:torso=1.3,friction=0.6")
        return cls(tuple(changes))

    def __str__(self) -> str:
        return ",".join(str(c) for c in self.changes)

    def apply(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        """Scale ``model``'s fields in place, then compute its derived constants again."""
        for c in self.changes:
            kind, arrays = FIELDS[c.field]
            rows = self._rows(model, c, kind, len(getattr(model, arrays[0])))
            for array in arrays:
                values = getattr(model, array)
                if c.field in ("friction", "gear"):  # the sliding coefficient (torsional and rolling stay); the
                    values[rows, 0] *= c.scale        # gear's first entry (the other five are its direction)
                else:
                    values[rows] *= c.scale
        mujoco.mj_setConst(model, data)

    @staticmethod
    def _rows(model: mujoco.MjModel, c: Change, kind: mujoco.mjtObj, n: int) -> np.ndarray:
        """The rows, of the ``n`` of its field's arrays, that the change ``c`` multiplies."""
        if c.name is None:
            rows = np.arange(n)
            return rows[1:] if kind == mujoco.mjtObj.mjOBJ_BODY else rows  # not the world body
        i = mujoco.mj_name2id(model, kind, c.name)
        if i < 0:
            plural, count = _KINDS[kind]
            names = [mujoco.mj_id2name(model, kind, k) for k in range(getattr(model, count))]
            raise InvalidInputError(f"the change {str(c)!r} names no {c.field} object of this model: its "
                                    f"{plural} are {', '.join(repr(s) for s in names if s)}")
        if kind == mujoco.mjtObj.mjOBJ_JOINT:  # a joint's dofs
            start = model.jnt_dofadr[i]
            width = {0: 6, 1: 3}.get(int(model.jnt_type[i]), 1)  # free, ball, else one
            return np.arange(start, start + width)
        return np.array([i])


_KINDS = {mujoco.mjtObj.mjOBJ_BODY: ("bodies", "nbody"), mujoco.mjtObj.mjOBJ_GEOM: ("geoms", "ngeom"),
          mujoco.mjtObj.mjOBJ_JOINT: ("joints", "njnt"), mujoco.mjtObj.mjOBJ_ACTUATOR: ("actuators", "nu")}
"""each kind of object a change names: how errors call them, and the model's count of them"""


def split_id(system_id: str) -> tuple[str, Perturbation | None]:
    """``"cheetah-run@friction=0.6"`` -> ``("cheetah-run", Perturbation(...))``; an id without changes -> ``(id,
    None)``. The last ``@`` separates them (an ``mjcf:`` path may hold one of its own)."""
    base, sep, changes = system_id.rpartition(SEPARATOR)
    if not sep or "=" not in changes:
        return system_id, None
    return base, Perturbation.parse(changes)


def nominal_id(system_id: str) -> str:
    """The id of the model file's system: ``system_id`` without its changes."""
    return split_id(system_id)[0]
