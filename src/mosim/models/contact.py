"""Contact features: how far each collision geom is from the floor, and how fast its lowest point moves.

MuJoCo's contact force switches on when a geom's distance to the floor drops below the contact margin,
with a size set by the penetration and the velocity of the contact point (soft constraints, friction
opposing the slip). Those are nonlinear functions of the whole state that a network otherwise has to
discover from ``(q, v)``: on cheetah-run the steps where the set of contacts changes carry most of every
model's one-step error (results/predictability.md). So a model can be given them directly
(``ModelConfig.contact_features``): for every (geom, floor plane) pair of a
:class:`~mosim.systems.geometry.ContactGeometry`,

- ``height``: signed distance of the geom's lowest point along the plane's normal, minus the pair's margin
  (what MuJoCo compares against 0 to make a contact);
- ``depth = relu(-height)`` and ``touching = [height < 0]``;
- ``speed_n``, ``speed_t1``, ``speed_t2``: the velocity of that point, along the normal and two tangents;
- the same three velocities times ``touching`` (the approach speed and the slip of a touching geom).

The pure functions :func:`forward_kinematics` (MuJoCo's ``mj_kinematics`` for hinge, slide, ball and free
joints, plus each body's spatial velocity) and :func:`support_points` do the geometry;
:class:`ContactFeatures` holds the constants as buffers.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from mosim.models.quaternion import quat_to_rotmat
from mosim.systems.geometry import BOX, CAPSULE, CYLINDER, ELLIPSOID, SHAPES, SPHERE, ContactGeometry
from mosim.systems.layout import BALL, FREE, HINGE, QVEL_WIDTH, SLIDE

FEATURES_PER_PAIR = 9
FEATURE_KINDS = ("height", "depth", "touching", "speed_n", "speed_t1", "speed_t2", "touching_speed_n",
                 "touching_speed_t1", "touching_speed_t2")
_TINY = 1e-12


class BodyState(NamedTuple):
    """World-frame pose and spatial velocity of every body: the velocity of a point ``p`` fixed to body ``b``
    is ``linear[b] + angular[b] x p`` (the spatial velocity taken at the world origin)."""

    pos: Tensor
    """``(..., nbody, 3)``"""
    rot: Tensor
    """``(..., nbody, 3, 3)``, body to world"""
    angular: Tensor
    linear: Tensor


def axis_angle_rotmat(axis: Tensor, angle: Tensor) -> Tensor:
    """Rotation by ``angle (...)`` about a unit ``axis (3,)`` (Rodrigues). ``-> (..., 3, 3)``."""
    k = torch.zeros(3, 3, dtype=axis.dtype, device=axis.device)
    k[0, 1], k[0, 2], k[1, 0], k[1, 2], k[2, 0], k[2, 1] = -axis[2], axis[1], axis[2], -axis[0], -axis[1], axis[0]
    s, c = torch.sin(angle)[..., None, None], torch.cos(angle)[..., None, None]
    return torch.eye(3, dtype=axis.dtype, device=axis.device) + s * k + (1 - c) * (k @ k)


def _apply(rot: Tensor, x: Tensor) -> Tensor:
    """``rot (..., 3, 3) @ x (..., 3)`` (as a product and a sum when compiled, see :func:`_compose`)."""
    if torch.compiler.is_compiling():
        return (rot * x.unsqueeze(-2)).sum(-1)
    return (rot @ x.unsqueeze(-1)).squeeze(-1)


def cross_columns(cols: Tensor, point: Tensor) -> Tensor:
    """``cols[..., :, k] x point`` for every column ``k`` of ``cols (..., 3, n)``, ``point (..., 3)``: ``(..., 3,
    n)``. Written out, in six products: :func:`torch.linalg.cross` on the columns, with ``point`` expanded to
    their shape, took 4.7x as long (cheetah's bodies' Jacobians at batch 4096, 3.7 ms against 0.8 ms)."""
    c0, c1, c2 = cols.unbind(-2)
    p0, p1, p2 = (x.unsqueeze(-1) for x in point.unbind(-1))
    return torch.stack((c1 * p2 - c2 * p1, c2 * p0 - c0 * p2, c0 * p1 - c1 * p0), -2)


def _compose(a: Tensor, b: Tensor) -> Tensor:
    """``a (..., 3, 3) @ b (..., 3, 3)``. When compiled, as a product and a sum, which the compiler fuses with the
    pointwise work around it, where ``@`` calls a small matrix product for each (the cheetah's compiled step on a
    2-core CPU: 13.4 ms against 15.0 ms at batch 4096). Eager, ``@`` is the faster: half the time of the
    product and sum."""
    if torch.compiler.is_compiling():
        return (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2)
    return a @ b


def joint_frame(q: Tensor, x: Tensor, r: Tensor, j: int, geometry: ContactGeometry,
                consts: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """A body's frame ``x (..., 3)``, ``r (..., 3, 3)`` moved by its joint ``j`` at the state ``q`` as MuJoCo's
    ``mj_kinematics`` moves it, with the joint's anchor and axis in the world frame (both taken before the joint
    turns the frame; ``None`` for a free joint, which sets the frame from ``q``)."""
    t, qa = geometry.joint_type[j], geometry.joint_qpos[j]
    if t == FREE:
        return q[..., qa:qa + 3], quat_to_rotmat(q[..., qa + 3:qa + 7]), None, None
    anchor = x + _apply(r, consts["joint_pos"][j])
    axis = _apply(r, consts["joint_axis"][j])
    if t == SLIDE:
        return x + axis * (q[..., qa] - geometry.joint_qpos0[j]).unsqueeze(-1), r, anchor, axis
    if t == HINGE:
        r = _compose(r, axis_angle_rotmat(consts["joint_axis"][j], q[..., qa] - geometry.joint_qpos0[j]))
    elif t == BALL:
        r = _compose(r, quat_to_rotmat(q[..., qa:qa + 4]))
    return anchor - _apply(r, consts["joint_pos"][j]), r, anchor, axis


def forward_kinematics(q: Tensor, v: Tensor, geometry: ContactGeometry, consts: dict[str, Tensor]) -> BodyState:
    """Body poses and velocities of the state ``q (..., nq)``, ``v (..., nv)`` as MuJoCo's ``mj_kinematics``
    computes the poses (``consts``: :meth:`ContactFeatures.constants`)."""
    batch = q.shape[:-1]
    zero = q.new_zeros((*batch, 3))
    world_rot = torch.eye(3, dtype=q.dtype, device=q.device).expand(*batch, 3, 3)
    pos: list[Tensor] = []
    rot: list[Tensor] = []
    ang: list[Tensor] = []
    lin: list[Tensor] = []
    for b, parent in enumerate(geometry.body_parent):
        p_pos, p_rot = (zero, world_rot) if parent < 0 else (pos[parent], rot[parent])
        w, u = (zero, zero) if parent < 0 else (ang[parent], lin[parent])
        x = p_pos + _apply(p_rot, consts["body_pos"][b])
        r = _compose(p_rot, consts["body_rot"][b])
        for j in geometry.body_joints[b]:
            t, va = geometry.joint_type[j], geometry.joint_qvel[j]
            x, r, anchor, axis = joint_frame(q, x, r, j, geometry, consts)
            if t == FREE:
                omega = _apply(r, v[..., va + 3:va + 6])
                w, u = w + omega, u + v[..., va:va + 3] + torch.linalg.cross(x, omega)
                continue
            if t == SLIDE:
                u = u + axis * v[..., va].unsqueeze(-1)
                continue
            omega = axis * v[..., va].unsqueeze(-1) if t == HINGE else _apply(r, v[..., va:va + 3])
            w, u = w + omega, u + torch.linalg.cross(anchor, omega)
        pos.append(x)
        rot.append(r)
        ang.append(w)
        lin.append(u)
    return BodyState(torch.stack(pos, -2), torch.stack(rot, -3), torch.stack(ang, -2), torch.stack(lin, -2))


def support_points(center: Tensor, rot: Tensor, shape: Tensor, size: Tensor, direction: Tensor,
                   shapes: frozenset[int] | None = None) -> Tensor:
    """The point of each geom farthest along ``direction``: ``center (..., K, 3)``, ``rot (..., K, 3, 3)``
    (geom to world), ``shape (K,)`` and ``size (K, 3)`` as in :class:`ContactGeometry`, ``direction (K, 3)``
    unit, world frame; ``shapes``: the shapes present (all by default; fewer skip work). ``-> (..., K, 3)``."""
    shapes = frozenset(SHAPES) if shapes is None else shapes
    d = _apply(rot.transpose(-1, -2), direction)  # in the geom's frame
    sgn = torch.sign(d)
    r, hl = size[:, 0, None], size[:, 1, None]
    if CAPSULE in shapes or CYLINDER in shapes:
        ez = torch.zeros_like(d)
        ez[..., 2] = sgn[..., 2]
    branches: list[tuple[int, Tensor]] = []
    if SPHERE in shapes:
        branches.append((SPHERE, r * d))
    if CAPSULE in shapes:
        branches.append((CAPSULE, hl * ez + r * d))
    if CYLINDER in shapes:
        radial = torch.cat((d[..., :2], torch.zeros_like(d[..., 2:])), dim=-1)
        radial = radial / torch.sqrt((radial * radial).sum(-1, keepdim=True) + _TINY)
        branches.append((CYLINDER, hl * ez + r * radial))
    if ELLIPSOID in shapes:
        sd = size * d
        branches.append((ELLIPSOID, size * sd / torch.sqrt((sd * sd).sum(-1, keepdim=True) + _TINY)))
    if BOX in shapes:
        branches.append((BOX, sgn * size))  # a corner
    local = branches[0][1]
    for kind, value in branches[1:]:
        local = torch.where((shape == kind)[:, None], value, local)
    return center + _apply(rot, local)


def contact_features(q: Tensor, v: Tensor, geometry: ContactGeometry, consts: dict[str, Tensor]) -> Tensor:
    """The :data:`FEATURE_KINDS` of every pair, ``(..., 9 * n_pairs)`` grouped by kind (all heights, then all
    depths, ...)."""
    bodies = forward_kinematics(q, v, geometry, consts)
    gb = consts["pair_body"]
    center = bodies.pos[..., gb, :] + _apply(bodies.rot[..., gb, :, :], consts["pair_geom_pos"])
    rot = _compose(bodies.rot[..., gb, :, :], consts["pair_geom_rot"])
    normal = consts["pair_normal"]
    point = support_points(center, rot, consts["pair_shape"], consts["pair_size"], -normal, geometry.pair_shapes)
    height = ((point - consts["pair_plane_point"]) * normal).sum(-1) - consts["pair_margin"]
    vel = bodies.linear[..., gb, :] + torch.linalg.cross(bodies.angular[..., gb, :], point)
    speeds = [(vel * axis).sum(-1) for axis in (normal, consts["pair_tangent1"], consts["pair_tangent2"])]
    touching = (height < 0).to(q.dtype)
    parts = [height, torch.relu(-height), touching, *speeds, *(touching * s for s in speeds)]
    return torch.cat(parts, dim=-1)


def _tangents(normal: Tensor) -> tuple[Tensor, Tensor]:
    """Two unit tangents of each unit normal ``(K, 3)`` (``x`` and ``y`` for the normal ``z``)."""
    ex = torch.zeros_like(normal)
    ex[:, 0] = 1.0
    ey = torch.zeros_like(normal)
    ey[:, 1] = 1.0
    e = torch.where(((normal * ex).sum(-1).abs() < 0.9)[:, None], ex, ey)
    t1 = e - (e * normal).sum(-1, keepdim=True) * normal
    t1 = t1 / t1.norm(dim=-1, keepdim=True)
    return t1, torch.linalg.cross(normal, t1)


def dof_support(geometry: ContactGeometry) -> list[list[float]]:
    """``(nbody, nv)``: 1 where the dof moves the body (its joint is the body's or an ancestor's), else 0."""
    joints = list(zip(geometry.joint_qvel, geometry.joint_type))
    nv = max((start + QVEL_WIDTH[t] for start, t in joints), default=0)
    rows: list[list[float]] = []
    for b, parent in enumerate(geometry.body_parent):
        row = [0.0] * nv if parent < 0 else list(rows[parent])
        for start, t in (joints[j] for j in geometry.body_joints[b]):
            row[start:start + QVEL_WIDTH[t]] = [1.0] * QVEL_WIDTH[t]
        rows.append(row)
    return rows


class ContactFeatures(nn.Module):
    """``forward(q (..., nq), v (..., nv)) -> (..., 9 * n_pairs)``: :func:`contact_features` of a geometry."""

    def __init__(self, geometry: ContactGeometry) -> None:
        super().__init__()
        self.geometry = g = geometry
        f64 = torch.float64

        def t(x: object) -> Tensor:
            return torch.tensor(x, dtype=f64).reshape(-1, 3) if x else torch.zeros(0, 3, dtype=f64)

        def rots(quats: tuple) -> Tensor:
            return quat_to_rotmat(torch.tensor(quats, dtype=f64)) if quats else torch.zeros(0, 3, 3, dtype=f64)

        normal = t([g.plane_normal[p] for p in g.pair_plane])
        t1, t2 = _tangents(normal)
        consts = {
            "body_pos": t(g.body_pos), "body_rot": rots(g.body_quat),
            "joint_pos": t(g.joint_pos), "joint_axis": t(g.joint_axis),
            "pair_body": torch.tensor([g.geom_body[i] for i in g.pair_geom], dtype=torch.long),
            "pair_geom_pos": t([g.geom_pos[i] for i in g.pair_geom]),
            "pair_geom_rot": rots(tuple(g.geom_quat[i] for i in g.pair_geom)),
            "pair_shape": torch.tensor([g.geom_shape[i] for i in g.pair_geom], dtype=torch.long),
            "pair_size": t([g.geom_size[i] for i in g.pair_geom]),
            "pair_normal": normal, "pair_tangent1": t1, "pair_tangent2": t2,
            "pair_plane_point": t([g.plane_point[p] for p in g.pair_plane]),
            "pair_margin": torch.tensor(g.pair_margin, dtype=f64),
            "dof_support": torch.tensor(dof_support(g), dtype=f64).reshape(len(g.body_parent), -1),
        }
        self._names = tuple(consts)
        for name, value in consts.items():
            self.register_buffer(name, value, persistent=False)
        self._cache: dict[torch.dtype, dict[str, Tensor]] = self._converted()

    @property
    def dim(self) -> int:
        return FEATURES_PER_PAIR * self.geometry.n_pairs

    def _convert(self, dtype: torch.dtype) -> dict[str, Tensor]:
        return {n: (b if not b.is_floating_point() else b.to(dtype)) for n in self._names for b in (getattr(self, n),)}

    def _converted(self) -> dict[torch.dtype, dict[str, Tensor]]:
        """The buffers in float32 and float64, converted up front: a cache that a first call fills would change
        what a compiled step guards on and make it compile again at its second call."""
        return {d: self._convert(d) for d in (torch.float32, torch.float64)}

    def constants(self, dtype: torch.dtype) -> dict[str, Tensor]:
        """The buffers, floats in ``dtype`` (float32 and float64 ready; others converted once, until the module
        moves)."""
        if dtype not in self._cache:
            self._cache[dtype] = self._convert(dtype)
        return self._cache[dtype]

    def _apply(self, fn, recurse=True):  # noqa: ANN001, ANN202  (.to(), .cuda(), .double(): convert again)
        out = super()._apply(fn, recurse)
        self._cache = self._converted()
        return out

    def forward(self, q: Tensor, v: Tensor) -> Tensor:
        if self.geometry.n_pairs == 0:
            return q.new_zeros((*q.shape[:-1], 0))
        return contact_features(q, v, self.geometry, self.constants(q.dtype))

    def names(self) -> list[str]:
        pairs = self.geometry.pair_names()
        return [f"{kind}({p})" for kind in FEATURE_KINDS for p in pairs]

    def extra_repr(self) -> str:
        return f"pairs={self.geometry.n_pairs}, dim={self.dim}"
