"""MuJoCo's floor contact constraints, as plain data a learned model can keep.

A geom of the robot closer to a floor plane than the pair's margin makes a contact; MuJoCo then solves a soft
constraint for it, as for a joint limit (:mod:`mosim.systems.limits`), with one row per edge of the friction pyramid
(``cone="pyramidal"``, MuJoCo's default): for the contact frame ``(n, t1, t2)`` and tangential friction ``mu``, the
rows ``J_n ± mu J_t1`` and ``J_n ± mu J_t2``, each pushing only (``f >= 0``), each asking for

    aref = -B (J v) - K imp(r) r,      r = dist - margin,

with the regularizer ``R = 2 mu² / impratio · (1 - imp) / imp · w (1 + mu²)`` the same on the four rows, ``w`` the
body's translational ``body_invweight0``. :class:`FloorContacts` holds, for every (geom, floor) pair of a
:class:`~mosim.systems.geometry.ContactGeometry` (same order), the pair's mixed parameters as MuJoCo's
``mj_contactParam`` mixes the two geoms' (the higher priority's, else friction the larger, ``solref`` and
``solimp`` weighted by ``solmix``; the margins added, as MuJoCo 3.17 adds them: its constraint acts below the sum,
and a geom's ``gap`` only widens which contacts it lists without rows); tested against the contacts MuJoCo makes.
:mod:`mosim.models.contacts` solves them in torch with a learned ``M⁻¹``.

With ``cone="elliptic"`` a contact of ``condim`` c has c rows instead: the normal, the two tangents, then (``condim``
4 and 6) the spin about the normal and (6) the rolling about the tangents, each row's ``R`` from the normal's: ``R_n
= (1 - imp) / imp · w``, ``R_1 = R_n / impratio`` on the tangents, ``R_j = R_1 mu_1² / mu_j²`` on the others, the
cone's ``mu = mu_1 / sqrt(impratio)``; the friction rows' ``aref`` lacks the position term (MuJoCo's
``mj_makeImpedance``; solved by :mod:`mosim.models.cones`).

Covered: spheres, capsules (a capsule touches with either end's sphere, as MuJoCo's plane-capsule test does),
boxes (their lowest corners, at most four, as ``mjc_PlaneBox``) and cylinders (the lowest points of its two rims
and two more of the lower disk, as ``mjc_PlaneCylinder``); pyramidal cones of ``condim`` 3, elliptic cones of
``condim`` 1, 3, 4 and 6. Other shapes (meshes, ellipsoids) and pyramids of other ``condim`` give a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from mosim.errors import InvalidInputError
from mosim.systems.record import JsonRecord
from mosim.systems.geometry import BOX, CAPSULE, CYLINDER, SHAPES, SPHERE, ContactGeometry
from mosim.systems.limits import MIN_VAL, clamp_solimp, reference_gains

MIN_MU = 1e-5
"""MuJoCo's ``mjMINMU``: the smallest friction coefficient a contact gets"""
SOLVED_SHAPES = (SPHERE, CAPSULE, BOX, CYLINDER)
CONES = ("pyramidal", "elliptic")
_NO_CONTACTS = int(mujoco.mjtDisableBit.mjDSBL_CONSTRAINT) | int(mujoco.mjtDisableBit.mjDSBL_CONTACT)
_NO_REFSAFE = int(mujoco.mjtDisableBit.mjDSBL_REFSAFE)


def make_frame(normal: tuple[float, float, float]) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The contact frame's tangents ``(t1, t2)`` MuJoCo completes a unit normal with (``mju_makeFrame``): ``t1`` is
    ``y`` (or ``z`` where the normal is close to ``y``) made orthogonal to the normal, ``t2 = n x t1``."""
    n = np.asarray(normal, dtype=float)
    t = np.array([0.0, 1.0, 0.0]) if abs(n[1]) < 0.5 else np.array([0.0, 0.0, 1.0])
    t = t - n * (n @ t)
    t = t / np.linalg.norm(t)
    t2 = np.cross(n, t)
    return (float(t[0]), float(t[1]), float(t[2])), (float(t2[0]), float(t2[1]), float(t2[2]))


def mix_parameters(m: mujoco.MjModel, g1: int, g2: int) -> dict[str, Any]:
    """The parameters of a contact between geoms ``g1`` and ``g2``, mixed as MuJoCo's ``mj_contactParam`` mixes
    them: ``condim``, ``friction`` (tangential; ``spin`` and ``roll`` the torsional and rolling ones), ``solref``,
    ``solimp`` and ``margin`` (the distance below which the constraint acts: the geoms' margins added)."""
    margin = float(m.geom_margin[g1]) + float(m.geom_margin[g2])
    p1, p2 = int(m.geom_priority[g1]), int(m.geom_priority[g2])
    if p1 != p2:
        g = g1 if p1 > p2 else g2
        return {"condim": int(m.geom_condim[g]), "friction": max(float(m.geom_friction[g][0]), MIN_MU),
                "spin": max(float(m.geom_friction[g][1]), MIN_MU), "roll": max(float(m.geom_friction[g][2]), MIN_MU),
                "solref": tuple(float(x) for x in m.geom_solref[g]),
                "solimp": tuple(float(x) for x in m.geom_solimp[g]), "margin": margin}
    s1, s2 = float(m.geom_solmix[g1]), float(m.geom_solmix[g2])
    if s1 >= MIN_VAL and s2 >= MIN_VAL:
        mix = s1 / (s1 + s2)
    elif s1 < MIN_VAL and s2 < MIN_VAL:
        mix = 0.5
    else:
        mix = 0.0 if s1 < MIN_VAL else 1.0
    r1, r2 = np.asarray(m.geom_solref[g1], float), np.asarray(m.geom_solref[g2], float)
    solref = mix * r1 + (1 - mix) * r2 if r1[0] > 0 and r2[0] > 0 else np.minimum(r1, r2)
    solimp = mix * np.asarray(m.geom_solimp[g1], float) + (1 - mix) * np.asarray(m.geom_solimp[g2], float)
    return {"condim": max(int(m.geom_condim[g1]), int(m.geom_condim[g2])),
            "friction": max(float(m.geom_friction[g1][0]), float(m.geom_friction[g2][0]), MIN_MU),
            "spin": max(float(m.geom_friction[g1][1]), float(m.geom_friction[g2][1]), MIN_MU),
            "roll": max(float(m.geom_friction[g1][2]), float(m.geom_friction[g2][2]), MIN_MU),
            "solref": tuple(float(x) for x in solref), "solimp": tuple(float(x) for x in solimp),
            "margin": margin}


def contact_reference(m: mujoco.MjModel, mixed: dict[str, Any]) -> tuple[tuple[float, ...], float, float]:
    """A contact's ``solimp`` clamped as MuJoCo clamps it, and the ``K`` and ``B`` of its reference acceleration,
    from the parameters :func:`mix_parameters` mixed."""
    solimp = clamp_solimp(mixed["solimp"])
    k, b = reference_gains(mixed["solref"], solimp, float(m.opt.timestep), not m.opt.disableflags & _NO_REFSAFE)
    return solimp, k, b


@dataclass(frozen=True)
class FloorContacts(JsonRecord):
    """The constants of a model's floor contact constraints, one entry per pair of its :class:`ContactGeometry`."""

    friction: tuple[float, ...]
    """tangential friction coefficient ``mu`` of each pair"""
    stiffness: tuple[float, ...]
    """``K`` of the reference acceleration"""
    damping: tuple[float, ...]
    """``B`` of the reference acceleration"""
    solimp: tuple[tuple[float, float, float, float, float], ...]
    """``(d0, dwidth, width, midpoint, power)``, clamped as MuJoCo clamps them"""
    margin: tuple[float, ...]
    """the constraint acts below this distance (MuJoCo's ``includemargin``: the two geoms' margins added)"""
    weight: tuple[float, ...]
    """translational ``body_invweight0`` of the geom's body (the floor's is 0): the scale of the regularizer"""
    tangent1: tuple[tuple[float, float, float], ...]
    """first tangent of the contact frame of a sphere (:func:`make_frame` of the floor's normal); a capsule's contacts
    take theirs along its axis, as MuJoCo's plane-capsule test does"""
    tangent2: tuple[tuple[float, float, float], ...]
    impratio: float = 1.0
    """MuJoCo's ``opt.impratio``"""
    cone: str = "pyramidal"
    """MuJoCo's ``opt.cone``: ``pyramidal`` or ``elliptic``"""
    condim: tuple[int, ...] = ()
    """each pair's ``condim`` (1, 3, 4 or 6) on an elliptic cone; empty on a pyramid (all 3)"""
    spin: tuple[float, ...] = ()
    """each pair's torsional friction (``condim`` 4 and 6), with :attr:`condim`"""
    roll: tuple[float, ...] = ()
    """each pair's rolling friction (``condim`` 6), with :attr:`condim`"""

    def __post_init__(self) -> None:
        self.check_lengths(len(self.friction), ("stiffness", "damping", "solimp", "margin", "weight", "tangent1",
                                                "tangent2"))
        if self.cone not in CONES:
            raise InvalidInputError(f"FloorContacts.cone is {self.cone!r}, expected one of {CONES}")
        if self.condim:
            self.check_lengths(len(self.friction), ("condim", "spin", "roll"))

    def __len__(self) -> int:
        return len(self.friction)

    @property
    def elliptic(self) -> bool:
        return self.cone == "elliptic"

    @property
    def dims(self) -> int:
        """Rows per contact on an elliptic cone: the largest ``condim`` of the pairs."""
        return max(self.condim, default=3)

    @classmethod
    def from_model(cls, model: mujoco.MjModel, geometry: ContactGeometry | None = None) -> FloorContacts:
        """Read the floor contacts of a compiled model, for the pairs of ``geometry`` (by default
        :meth:`ContactGeometry.from_model` of the model). A clear error for what is not covered (module docstring)."""
        m = model
        geometry = geometry or ContactGeometry.from_model(m)
        elliptic = int(m.opt.cone) == int(mujoco.mjtCone.mjCONE_ELLIPTIC)
        cone = "elliptic" if elliptic else "pyramidal"
        if m.opt.disableflags & _NO_CONTACTS or not geometry.n_pairs:
            return cls((), (), (), (), (), (), (), (), float(m.opt.impratio), cone)
        names = {m.geom(g).name or f"geom{g}": g for g in range(m.ngeom)}
        bad = sorted({geometry.geom_name[g] for g in geometry.pair_geom  # a mesh is a box in the geometry: not here
                      if int(m.geom_type[names[geometry.geom_name[g]]]) not in SOLVED_SHAPES})
        if bad:
            raise InvalidInputError(f"contact constraints are solved for spheres, capsules, boxes and cylinders; the "
                                    f"geoms {bad} touching the floor are other shapes: drop contact_constraints (mosim "
                                    "train --no-contact-constraints)")
        planes = [g for g in range(m.ngeom)
                  if m.geom_type[g] == int(mujoco.mjtGeom.mjGEOM_PLANE) and m.geom_bodyid[g] == 0]
        rows: list[tuple[Any, ...]] = []
        dims: list[tuple[int, float, float]] = []
        for g, p in zip(geometry.pair_geom, geometry.pair_plane):
            mg, mp = names[geometry.geom_name[g]], planes[p]
            mixed = mix_parameters(m, mp, mg)
            if mixed["condim"] not in ((1, 3, 4, 6) if elliptic else (3,)):
                raise InvalidInputError(f"contact constraints are solved for condim 3 on pyramidal cones (and 1, 3, 4 "
                                        f"and 6 on elliptic ones), and the contact of {geometry.geom_name[g]!r} with "
                                        f"the floor has condim {mixed['condim']} on a {cone} cone: drop "
                                        "contact_constraints (mosim train --no-contact-constraints)")
            solimp, k, b = contact_reference(m, mixed)
            t1, t2 = make_frame(geometry.plane_normal[p])
            weight = float(m.body_invweight0[m.geom_bodyid[mg], 0] + m.body_invweight0[m.geom_bodyid[mp], 0])
            rows.append((mixed["friction"], k, b, solimp, mixed["margin"], weight, t1, t2))
            dims.append((mixed["condim"], mixed["spin"], mixed["roll"]))
        columns = list(zip(*rows))
        condim, spin, roll = (tuple(c) for c in zip(*dims)) if elliptic else ((), (), ())
        return cls(*(tuple(c) for c in columns), impratio=float(m.opt.impratio), cone=cone,  # type: ignore[arg-type]
                   condim=condim, spin=spin, roll=roll)  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FloorContacts:
        try:  # records from before elliptic cones were solved lack cone, condim, spin and roll
            return cls(*(tuple(map(float, d[k])) for k in ("friction", "stiffness", "damping")),
                       tuple(tuple(map(float, s)) for s in d["solimp"]),  # type: ignore[misc]
                       *(tuple(map(float, d[k])) for k in ("margin", "weight")),
                       *(tuple(tuple(map(float, t)) for t in d[k]) for k in ("tangent1", "tangent2")),  # type: ignore[misc]
                       impratio=float(d["impratio"]), cone=str(d.get("cone", "pyramidal")),
                       condim=tuple(int(c) for c in d.get("condim", ())),
                       spin=tuple(map(float, d.get("spin", ()))), roll=tuple(map(float, d.get("roll", ()))))
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(f"not a floor-contacts record: {e!r}") from None


__all__ = ["FloorContacts", "SHAPES", "contact_reference", "make_frame", "mix_parameters"]
