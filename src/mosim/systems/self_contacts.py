"""Contacts between a robot's own bodies, as plain data a learned model can keep.

Hopper-hop's torso, nose, thigh, calf and foot are capsules that touch one another: in its random-action episodes
12.6% of the steps have such a contact, and a model that leaves them to its networks makes most of its error there
(benchmarks/prediction_findings.md). MuJoCo solves them as it solves the floor's (:mod:`mosim.systems.contacts`):
one contact per pair of touching geoms, four friction-pyramid rows in the frame of the contact's normal, the
parameters mixed from the two geoms. :class:`SelfContacts` holds, for every pair of the robot's geoms that MuJoCo's
collision filter lets touch, the two geoms' shapes and places on their bodies and the pair's mixed parameters;
:mod:`mosim.models.self_contacts` finds the contacts and their rows in torch.

Which pairs: geoms of two different bodies of the robot, neither welded to the other nor (unless the model disables
``filterparent``) a parent and its child, with compatible ``contype``/``conaffinity`` bits, not in the model's
``<exclude>`` list. Covered: spheres and capsules, ``condim`` 3 and 1. A robot with other shapes in such pairs, or with
explicit ``<pair>`` elements, gets a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from mosim.errors import InvalidInputError
from mosim.systems.contacts import contact_reference, mix_parameters
from mosim.systems.geometry import CAPSULE, SPHERE, ContactGeometry, Quat, Vec3
from mosim.systems.record import JsonRecord

_NO_CONTACTS = int(mujoco.mjtDisableBit.mjDSBL_CONSTRAINT) | int(mujoco.mjtDisableBit.mjDSBL_CONTACT)
_NO_FILTERPARENT = int(mujoco.mjtDisableBit.mjDSBL_FILTERPARENT)

SOLVED_SHAPES = (SPHERE, CAPSULE)
"""the shapes whose contacts with one another are solved (MuJoCo's sphere and capsule narrow phase)"""


def colliding_pairs(m: mujoco.MjModel) -> list[tuple[int, int]]:
    """The pairs ``(g1, g2)`` of MuJoCo geoms of the robot's own bodies that MuJoCo's collision filter lets touch, in
    the order MuJoCo puts a contact's geoms (the lower geom type first, else the lower id)."""
    excluded = {(int(b1), int(b2)) for b1, b2 in
                (divmod(int(sig), 1 << 16) for sig in np.asarray(m.exclude_signature).ravel())}
    weld, parent = m.body_weldid, m.body_parentid
    pairs = []
    for g1 in range(m.ngeom):
        for g2 in range(g1 + 1, m.ngeom):
            b1, b2 = int(m.geom_bodyid[g1]), int(m.geom_bodyid[g2])
            if b1 == 0 or b2 == 0:
                continue  # the floor's and the world's geoms: the floor contacts (mosim.systems.contacts)
            w1, w2 = int(weld[b1]), int(weld[b2])
            if w1 == w2:
                continue
            if not m.opt.disableflags & _NO_FILTERPARENT and (w1 == int(weld[parent[w2]]) or w2 == int(weld[parent[w1]])):
                continue
            if not ((m.geom_contype[g1] & m.geom_conaffinity[g2]) or (m.geom_contype[g2] & m.geom_conaffinity[g1])):
                continue
            if (b1, b2) in excluded or (b2, b1) in excluded:
                continue
            pairs.append((g1, g2) if m.geom_type[g1] <= m.geom_type[g2] else (g2, g1))
    return pairs


@dataclass(frozen=True)
class SelfContacts(JsonRecord):
    """The robot's pairs of geoms that can touch each other: each geom's body (an index of
    :class:`ContactGeometry`'s bodies), shape, offset and size, and the pair's mixed parameters (as
    :class:`~mosim.systems.contacts.FloorContacts`' for a floor pair)."""

    geom_name: tuple[tuple[str, str], ...]
    body: tuple[tuple[int, int], ...]
    shape: tuple[tuple[int, int], ...]
    """sphere or capsule (:data:`~mosim.systems.geometry.SHAPES`)"""
    pos: tuple[tuple[Vec3, Vec3], ...]
    """each geom's centre in its body's frame"""
    quat: tuple[tuple[Quat, Quat], ...]
    size: tuple[tuple[tuple[float, float], tuple[float, float]], ...]
    """``(radius, half length)``; a sphere's half length is 0"""
    friction: tuple[float, ...]
    stiffness: tuple[float, ...]
    damping: tuple[float, ...]
    solimp: tuple[tuple[float, float, float, float, float], ...]
    margin: tuple[float, ...]
    weight: tuple[float, ...]
    """the two bodies' translational ``body_invweight0`` added: the scale of the regularizer"""
    condim: tuple[int, ...] = ()
    """each pair's ``condim``, 3 (a friction pyramid) or 1 (frictionless: the normal's row alone); empty in records
    from before it was kept, all 3"""

    def __post_init__(self) -> None:
        self.check_lengths(len(self.friction), ("geom_name", "body", "shape", "pos", "quat", "size", "stiffness",
                                                "damping", "solimp", "margin", "weight"))
        if self.condim and len(self.condim) != len(self.friction):
            raise InvalidInputError(f"SelfContacts.condim has {len(self.condim)} entries, expected {len(self.friction)}")

    @property
    def frictionless(self) -> tuple[bool, ...]:
        """Whether each pair's contact is frictionless (``condim`` 1)."""
        return tuple(c == 1 for c in self.condim) if self.condim else (False,) * len(self)

    def __len__(self) -> int:
        return len(self.friction)

    @classmethod
    def from_model(cls, model: mujoco.MjModel, geometry: ContactGeometry | None = None) -> SelfContacts:
        """Read the self-contact pairs of a compiled model (bodies indexed as in ``geometry``, by default
        :meth:`ContactGeometry.from_model` of the model). A clear error for what is not covered (module docstring)."""
        m = model
        geometry = geometry or ContactGeometry.from_model(m)
        if len(geometry.body_parent) != m.nbody - 1:
            raise InvalidInputError(f"a geometry of {len(geometry.body_parent)} bodies for a model of {m.nbody - 1}")
        pairs = [] if m.opt.disableflags & _NO_CONTACTS else colliding_pairs(m)
        name = lambda g: m.geom(g).name or f"geom{g}"  # noqa: E731
        bad = sorted({name(g) for p in pairs for g in p if m.geom_type[g] not in SOLVED_SHAPES})
        if bad:
            raise InvalidInputError(f"contacts between the robot's own bodies are solved for spheres and capsules; the "
                                    f"geoms {bad} that can touch another of its bodies are other shapes: drop the self "
                                    "contacts (mosim train --no-self-contacts)")
        if m.npair and any(m.pair_geom1[i] in {g for p in pairs for g in p} for i in range(m.npair)):
            raise InvalidInputError("explicit contact pairs (<pair>) between the robot's geoms are not solved: drop the "
                                    "self contacts (mosim train --no-self-contacts)")
        rows: list[tuple[Any, ...]] = []
        for g1, g2 in pairs:
            mixed = mix_parameters(m, g1, g2)
            if mixed["condim"] not in (1, 3):
                raise InvalidInputError(f"contacts between the robot's own bodies are solved for condim 1 and 3, and "
                                        f"{name(g1)!r} with {name(g2)!r} has condim {mixed['condim']}: drop the self "
                                        "contacts (mosim train --no-self-contacts)")
            solimp, k, b = contact_reference(m, mixed)
            b1, b2 = int(m.geom_bodyid[g1]), int(m.geom_bodyid[g2])
            rows.append(((name(g1), name(g2)), (b1 - 1, b2 - 1), (int(m.geom_type[g1]), int(m.geom_type[g2])),
                         tuple(_vec(m.geom_pos[g]) for g in (g1, g2)),
                         tuple(tuple(float(x) for x in m.geom_quat[g]) for g in (g1, g2)),
                         tuple(_radius_half(m, g) for g in (g1, g2)),
                         mixed["friction"], k, b, solimp, mixed["margin"],
                         float(m.body_invweight0[b1, 0] + m.body_invweight0[b2, 0]), int(mixed["condim"])))
        if not rows:
            return cls((), (), (), (), (), (), (), (), (), (), (), (), ())
        return cls(*(tuple(c) for c in zip(*rows)))  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SelfContacts:
        def tuples(x: Any) -> Any:
            return tuple(tuples(y) for y in x) if isinstance(x, list) else x
        try:
            return cls(**{k: tuples(d[k]) for k in cls.__dataclass_fields__ if k != "condim"},
                       condim=tuple(int(c) for c in d.get("condim", ())))
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(f"not a self-contacts record: {e!r}") from None


def _vec(x: Any) -> Vec3:
    return (float(x[0]), float(x[1]), float(x[2]))


def _radius_half(m: mujoco.MjModel, g: int) -> tuple[float, float]:
    return float(m.geom_size[g][0]), float(m.geom_size[g][1]) if m.geom_type[g] == int(mujoco.mjtGeom.mjGEOM_CAPSULE) else 0.0


__all__ = ["SelfContacts", "colliding_pairs"]
