"""The kinematic tree and floor contacts of a MuJoCo model, as plain data a learned model can keep.

A model that sees how far each body's collision geometry is from the floor
(:mod:`mosim.models.contact`) needs the robot's forward kinematics: for every body its parent and its
offset from it, for every joint its axis and anchor, and for every geom that can touch a floor plane its
shape and its place on its body. :class:`ContactGeometry` reads them from a compiled ``MjModel``
(:meth:`ContactGeometry.from_model`) and round-trips through JSON, so a checkpoint holds it and predicts
without the MuJoCo model.

Which pairs: every geom of a moving body that MuJoCo's collision filter lets touch a plane of the world
body (``contype``/``conaffinity`` bits, pairs of the model's ``<exclude>`` list dropped). Supported shapes:
sphere, capsule, ellipsoid, cylinder, box; a mesh counts as its bounding box (``geom_aabb``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import mujoco
import numpy as np

from mosim.errors import InvalidInputError

SPHERE, CAPSULE, ELLIPSOID, CYLINDER, BOX = (int(mujoco.mjtGeom.mjGEOM_SPHERE), int(mujoco.mjtGeom.mjGEOM_CAPSULE),
                                              int(mujoco.mjtGeom.mjGEOM_ELLIPSOID),
                                              int(mujoco.mjtGeom.mjGEOM_CYLINDER), int(mujoco.mjtGeom.mjGEOM_BOX))
SHAPES = {SPHERE: "sphere", CAPSULE: "capsule", ELLIPSOID: "ellipsoid", CYLINDER: "cylinder", BOX: "box"}
_PLANE, _MESH = int(mujoco.mjtGeom.mjGEOM_PLANE), int(mujoco.mjtGeom.mjGEOM_MESH)

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]


@dataclass(frozen=True)
class ContactGeometry:
    """Bodies (world excluded, MuJoCo's order: parents first), joints, and (geom, floor plane) pairs.

    Body ``b`` of these tuples is MuJoCo body ``b + 1``; a parent of ``-1`` is the world.
    """

    body_parent: tuple[int, ...]
    body_pos: tuple[Vec3, ...]
    """offset from the parent body's frame, in that frame"""
    body_quat: tuple[Quat, ...]
    joint_body: tuple[int, ...]
    """the body each joint moves (joints of a body in MuJoCo's order)"""
    joint_type: tuple[int, ...]
    joint_qpos: tuple[int, ...]
    joint_qvel: tuple[int, ...]
    joint_axis: tuple[Vec3, ...]
    """in the body's frame"""
    joint_pos: tuple[Vec3, ...]
    """the anchor, in the body's frame"""
    joint_qpos0: tuple[float, ...]
    """reference position of hinges and slides (their angle or offset is ``qpos - qpos0``)"""
    geom_name: tuple[str, ...]
    geom_body: tuple[int, ...]
    geom_shape: tuple[int, ...]
    """one of :data:`SHAPES` (a mesh is its bounding box)"""
    geom_pos: tuple[Vec3, ...]
    geom_quat: tuple[Quat, ...]
    geom_size: tuple[Vec3, ...]
    """MuJoCo's sizes: sphere (r), capsule and cylinder (r, half length), ellipsoid and box (half sizes)"""
    plane_normal: tuple[Vec3, ...]
    """unit normal of each floor plane, world frame"""
    plane_point: tuple[Vec3, ...]
    pair_geom: tuple[int, ...]
    """the geom (index into the ``geom_*`` tuples) of each contact pair"""
    pair_plane: tuple[int, ...]
    pair_margin: tuple[float, ...]
    """MuJoCo's contact margin of the pair (the larger of the two geoms'): a contact is made below it"""

    def __post_init__(self) -> None:
        nb, nj, ng, npl = len(self.body_parent), len(self.joint_body), len(self.geom_body), len(self.plane_normal)
        for name, n in (("body_pos", nb), ("body_quat", nb), ("joint_type", nj), ("joint_qpos", nj),
                        ("joint_qvel", nj), ("joint_axis", nj), ("joint_pos", nj), ("joint_qpos0", nj),
                        ("geom_name", ng), ("geom_shape", ng), ("geom_pos", ng), ("geom_quat", ng),
                        ("geom_size", ng), ("plane_point", npl), ("pair_plane", len(self.pair_geom)),
                        ("pair_margin", len(self.pair_geom))):
            if len(getattr(self, name)) != n:
                raise InvalidInputError(f"ContactGeometry.{name} has {len(getattr(self, name))} entries, expected {n}")
        if any(p >= b for b, p in enumerate(self.body_parent)):
            raise InvalidInputError("ContactGeometry bodies must come after their parents")
        # derived once here, not as functools.cached_property: on Python 3.11 that takes a lock, which torch.compile
        # cannot trace (a compiled model step with contact features would not be one graph)
        body_joints = tuple(tuple(j for j, jb in enumerate(self.joint_body) if jb == b) for b in range(nb))
        object.__setattr__(self, "_body_joints", body_joints)
        object.__setattr__(self, "_pair_shapes", frozenset(self.geom_shape[g] for g in self.pair_geom))

    @property
    def n_pairs(self) -> int:
        return len(self.pair_geom)

    @property
    def body_joints(self) -> tuple[tuple[int, ...], ...]:
        """The joints of each body, in MuJoCo's order."""
        return self._body_joints  # type: ignore[attr-defined, no-any-return]

    @property
    def pair_shapes(self) -> frozenset[int]:
        """The shapes of the geoms of the contact pairs."""
        return self._pair_shapes  # type: ignore[attr-defined, no-any-return]

    @classmethod
    def from_model(cls, model: mujoco.MjModel) -> ContactGeometry:
        """Read the tree and the floor contact pairs of a compiled model."""
        m = model
        bodies = range(1, m.nbody)
        planes = [g for g in range(m.ngeom) if m.geom_type[g] == _PLANE and m.geom_bodyid[g] == 0]
        excluded = {(int(b1), int(b2)) for b1, b2 in
                    (divmod(int(sig), 1 << 16) for sig in np.asarray(m.exclude_signature).ravel())}
        geoms, pairs = [], []
        for g in range(m.ngeom):
            if m.geom_bodyid[g] == 0 or m.geom_type[g] == _PLANE:
                continue
            if m.geom_type[g] not in SHAPES and m.geom_type[g] != _MESH:
                continue  # height fields, SDFs: no floor pair
            touching = []
            for p in planes:
                filtered = not ((m.geom_contype[g] & m.geom_conaffinity[p]) or (m.geom_contype[p] & m.geom_conaffinity[g]))
                b1, b2 = int(m.geom_bodyid[g]), int(m.geom_bodyid[p])
                if not filtered and (b1, b2) not in excluded and (b2, b1) not in excluded:
                    touching.append(p)
            if touching:
                pairs += [(len(geoms), planes.index(p), max(float(m.geom_margin[g]), float(m.geom_margin[p])))
                          for p in touching]
                geoms.append(g)
        data = mujoco.MjData(m)
        mujoco.mj_kinematics(m, data)
        shapes, gpos, gsize = [], [], []
        for g in geoms:
            if m.geom_type[g] == _MESH:  # its bounding box: centre offset and half sizes in the geom's frame
                centre, half = np.asarray(m.geom_aabb[g][:3]), np.asarray(m.geom_aabb[g][3:])
                rot = np.zeros(9)
                mujoco.mju_quat2Mat(rot, m.geom_quat[g])
                shapes.append(BOX)
                gpos.append(_vec(m.geom_pos[g] + rot.reshape(3, 3) @ centre))
                gsize.append(_vec(half))
            else:
                shapes.append(int(m.geom_type[g]))
                gpos.append(_vec(m.geom_pos[g]))
                gsize.append(_vec(m.geom_size[g]))
        return cls(
            body_parent=tuple(int(m.body_parentid[b]) - 1 for b in bodies),
            body_pos=tuple(_vec(m.body_pos[b]) for b in bodies),
            body_quat=tuple(_quat(m.body_quat[b]) for b in bodies),
            joint_body=tuple(int(m.jnt_bodyid[j]) - 1 for j in range(m.njnt)),
            joint_type=tuple(int(t) for t in m.jnt_type),
            joint_qpos=tuple(int(a) for a in m.jnt_qposadr),
            joint_qvel=tuple(int(a) for a in m.jnt_dofadr),
            joint_axis=tuple(_vec(m.jnt_axis[j]) for j in range(m.njnt)),
            joint_pos=tuple(_vec(m.jnt_pos[j]) for j in range(m.njnt)),
            joint_qpos0=tuple(float(m.qpos0[m.jnt_qposadr[j]]) for j in range(m.njnt)),
            geom_name=tuple(m.geom(g).name or f"geom{g}" for g in geoms),
            geom_body=tuple(int(m.geom_bodyid[g]) - 1 for g in geoms),
            geom_shape=tuple(shapes),
            geom_pos=tuple(gpos),
            geom_quat=tuple(_quat(m.geom_quat[g]) for g in geoms),
            geom_size=tuple(gsize),
            plane_normal=tuple(_vec(data.geom_xmat[p].reshape(3, 3)[:, 2]) for p in planes),
            plane_point=tuple(_vec(data.geom_xpos[p]) for p in planes),
            pair_geom=tuple(p[0] for p in pairs),
            pair_plane=tuple(p[1] for p in pairs),
            pair_margin=tuple(p[2] for p in pairs),
        )

    def pair_names(self) -> list[str]:
        """``geom/plane index`` of each pair, for feature names."""
        return [f"{self.geom_name[g]}/floor{p}" if len(self.plane_normal) > 1 else self.geom_name[g]
                for g, p in zip(self.pair_geom, self.pair_plane)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContactGeometry:
        def tuples(x: Any) -> Any:
            return tuple(tuples(y) for y in x) if isinstance(x, list) else x
        try:
            return cls(**{k: tuples(v) for k, v in d.items()})
        except TypeError as e:
            raise InvalidInputError(f"not a ContactGeometry: {e}") from None

    @classmethod
    def from_json(cls, text: str) -> ContactGeometry:
        return cls.from_dict(json.loads(text))


def _vec(x: Any) -> Vec3:
    return (float(x[0]), float(x[1]), float(x[2]))


def _quat(x: Any) -> Quat:
    return (float(x[0]), float(x[1]), float(x[2]), float(x[3]))
