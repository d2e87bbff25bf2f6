"""The joint layout of a MuJoCo model: what a learned model needs to integrate its state.

MuJoCo stores positions ``qpos`` (``nq`` values) and velocities ``qvel`` (``nv`` values). Free
joints take 7 positions (xyz, unit quaternion wxyz) and 6 velocities (linear velocity in the world
frame, angular velocity in the body frame); ball joints take 4 positions (a quaternion) and 3
velocities; hinge and slide joints one of each. :class:`JointLayout` records, for every joint, its
type, its addresses in ``qpos``/``qvel``, its range and whether it is limited, so that position
integration (``mj_integratePos``) and feature maps can be derived for any robot.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import mujoco
import numpy as np

FREE, BALL, SLIDE, HINGE = 0, 1, 2, 3
JOINT_TYPE_NAMES = {FREE: "free", BALL: "ball", SLIDE: "slide", HINGE: "hinge"}
QPOS_WIDTH = {FREE: 7, BALL: 4, SLIDE: 1, HINGE: 1}
QVEL_WIDTH = {FREE: 6, BALL: 3, SLIDE: 1, HINGE: 1}


@dataclass(frozen=True)
class JointLayout:
    """Per-joint description of a model's state vector (all tuples have one entry per joint)."""

    nq: int
    """number of position coordinates (``qpos``)"""
    nv: int
    """number of velocity coordinates (``qvel``)"""
    names: tuple[str, ...]
    """joint names (``""`` for unnamed joints)"""
    types: tuple[int, ...]
    """MuJoCo joint types: 0 free, 1 ball, 2 slide, 3 hinge"""
    qpos_adr: tuple[int, ...]
    """first index of each joint in ``qpos``"""
    qvel_adr: tuple[int, ...]
    """first index of each joint in ``qvel``"""
    limited: tuple[bool, ...]
    """whether the joint has a range limit"""
    ranges: tuple[tuple[float, float], ...]
    """joint range (meaningful where limited)"""
    axes: tuple[tuple[float, float, float], ...]
    """hinge/slide axis in world coordinates at the model's reference pose ``qpos0``"""
    on_root: tuple[bool, ...]
    """whether the joint moves a body attached directly to the world (the robot's root)"""

    def __post_init__(self) -> None:
        n = len(self.types)
        for field in ("names", "qpos_adr", "qvel_adr", "limited", "ranges", "axes", "on_root"):
            if len(getattr(self, field)) != n:
                raise ValueError(f"JointLayout.{field} has {len(getattr(self, field))} entries, expected {n}")
        for t in self.types:
            if t not in QPOS_WIDTH:
                raise ValueError(f"unknown MuJoCo joint type {t}; expected one of {sorted(QPOS_WIDTH)}")
        if sum(QPOS_WIDTH[t] for t in self.types) != self.nq:
            raise ValueError(f"joint widths add up to {sum(QPOS_WIDTH[t] for t in self.types)} qpos entries, nq is {self.nq}")
        if sum(QVEL_WIDTH[t] for t in self.types) != self.nv:
            raise ValueError(f"joint widths add up to {sum(QVEL_WIDTH[t] for t in self.types)} qvel entries, nv is {self.nv}")

    @classmethod
    def from_model(cls, model: mujoco.MjModel) -> JointLayout:
        """Read the layout of a compiled MuJoCo model."""
        names = tuple(model.joint(i).name for i in range(model.njnt))
        data = mujoco.MjData(model)
        mujoco.mj_kinematics(model, data)
        return cls(
            nq=int(model.nq),
            nv=int(model.nv),
            names=names,
            types=tuple(int(t) for t in model.jnt_type),
            qpos_adr=tuple(int(a) for a in model.jnt_qposadr),
            qvel_adr=tuple(int(a) for a in model.jnt_dofadr),
            limited=tuple(bool(x) for x in model.jnt_limited),
            ranges=tuple((float(lo), float(hi)) for lo, hi in model.jnt_range),
            axes=tuple(tuple(float(x) for x in data.xaxis[i]) for i in range(model.njnt)),
            on_root=tuple(bool(model.body_parentid[model.jnt_bodyid[i]] == 0) for i in range(model.njnt)),
        )

    def horizontal_root_qpos(self) -> list[int]:
        """``qpos`` indices of the root's horizontal position: free-joint x, y and unlimited root slides along a
        horizontal axis. On a flat floor the dynamics do not depend on them."""
        out = []
        for j, t in enumerate(self.types):
            if t == FREE:
                out += [self.qpos_adr[j], self.qpos_adr[j] + 1]
            elif t == SLIDE and self.on_root[j] and not self.limited[j] and abs(self.axes[j][2]) < 1e-6:
                out.append(self.qpos_adr[j])
        return out

    @property
    def njnt(self) -> int:
        return len(self.types)

    def joints_of_type(self, joint_type: int) -> list[int]:
        """Indices of the joints of one type."""
        return [i for i, t in enumerate(self.types) if t == joint_type]

    @property
    def has_quaternions(self) -> bool:
        return any(t in (FREE, BALL) for t in self.types)

    def quaternion_slices(self) -> list[slice]:
        """``qpos`` slices of every quaternion (free and ball joints)."""
        out = []
        for t, a in zip(self.types, self.qpos_adr):
            if t == FREE:
                out.append(slice(a + 3, a + 7))
            elif t == BALL:
                out.append(slice(a, a + 4))
        return out

    def describe(self) -> str:
        """One line per joint, for humans."""
        rows = []
        for i in range(self.njnt):
            lim = f"[{self.ranges[i][0]:.3g}, {self.ranges[i][1]:.3g}]" if self.limited[i] else "unlimited"
            rows.append(
                f"{self.names[i] or f'joint{i}':<24} {JOINT_TYPE_NAMES[self.types[i]]:<6} "
                f"qpos[{self.qpos_adr[i]}:{self.qpos_adr[i] + QPOS_WIDTH[self.types[i]]}] "
                f"qvel[{self.qvel_adr[i]}:{self.qvel_adr[i] + QVEL_WIDTH[self.types[i]]}] {lim}"
            )
        return "\n".join(rows)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JointLayout:
        d: dict[str, Any] = json.loads(text)
        return cls(
            nq=int(d["nq"]),
            nv=int(d["nv"]),
            names=tuple(d["names"]),
            types=tuple(int(t) for t in d["types"]),
            qpos_adr=tuple(int(a) for a in d["qpos_adr"]),
            qvel_adr=tuple(int(a) for a in d["qvel_adr"]),
            limited=tuple(bool(x) for x in d["limited"]),
            ranges=tuple((float(lo), float(hi)) for lo, hi in d["ranges"]),
            axes=tuple((float(a), float(b), float(c)) for a, b, c in d["axes"]),
            on_root=tuple(bool(x) for x in d["on_root"]),
        )

    def same_as(self, other: JointLayout) -> bool:
        """Structural equality (names and ranges compared too; ranges to float tolerance)."""
        return (
            self.nq == other.nq
            and self.nv == other.nv
            and self.types == other.types
            and self.qpos_adr == other.qpos_adr
            and self.qvel_adr == other.qvel_adr
            and self.limited == other.limited
            and self.names == other.names
            and np.allclose(np.asarray(self.ranges), np.asarray(other.ranges))
        )
