"""MuJoCo's floor contacts in torch, solved with a learned inverse inertia.

On the robots that run on a floor (cheetah, hopper) the contacts are where the dynamics jump: a foot landing loses
its speed into the floor within a step or two, and friction holds it or lets it slip, a nonlinear function of the
whole state that the networks fitted poorly even when shown each geom's height and speed
(:mod:`mosim.models.contact`; cheetah-run's best single model stayed 1.5x above its target). Here the contacts are
not learned: as for the joint limits (:mod:`mosim.models.limits`), the networks predict the acceleration without
them, ``a0``, and MuJoCo's soft contact constraint (:mod:`mosim.systems.contacts`) adds their forces, found with the
model's own ``M⁻¹``:

    a = a0 + M⁻¹ Jᵀ f,   f >= 0 minimizing  1/2 fᵀ (A + R) f + fᵀ (J a0 - aref),   A = J M⁻¹ Jᵀ,

over the rows of the friction pyramids of the touching geoms and of the active joint limits together, by
Newton's method on MuJoCo's primal problem (:func:`mosim.models.newton.solve_rows`, as MuJoCo's default
solver). The geometry is the robot's own forward kinematics
(:func:`body_jacobians`, MuJoCo's ``mj_kinematics`` and ``mj_jac``): each candidate contact point (a sphere's centre,
a capsule's two end spheres, a box's lower corners, a cylinder's rim points) gets its distance to the floor,
MuJoCo's contact point halfway into the penetration, and its Jacobian in the contact frame. Rows are made for the
candidates nearest the floor, as many as touch it at once anywhere in the batch (the others exert no force; a batch
is one tensor), or for a fixed number of them (``slots``, :attr:`~mosim.models.config.ModelConfig.contact_slots`,
where the rest must be clear of the floor).

With MuJoCo's own ``M⁻¹`` and ``qacc_smooth`` it reproduces MuJoCo's step (tests/models/test_model_contacts.py).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mosim.errors import InvalidInputError
from mosim.models.cones import elliptic_rows, solve_with_cones
from mosim.models.contact import ContactFeatures, _apply, _compose, cross_columns, joint_frame
from mosim.models.identified import LogScales, scaled
from mosim.models.limits import impedance
from mosim.models.newton import join_rows, solve_rows
from mosim.systems.contacts import MIN_VAL, FloorContacts
from mosim.systems.geometry import BOX, CAPSULE, CYLINDER, SPHERE, ContactGeometry
from mosim.systems.layout import FREE, HINGE, SLIDE

ROWS_PER_CONTACT = 4
"""the edges of a condim-3 friction pyramid"""


def body_jacobians(q: Tensor, geometry: ContactGeometry, consts: dict[str, Tensor],
                   nv: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Every body's pose and Jacobians at the state ``q (..., nq)``: ``pos (..., nbody, 3)``, ``rot (..., nbody, 3,
    3)``, and ``ang``, ``lin (..., nbody, 3, nv)`` such that a point ``p`` fixed to body ``b`` moves with velocity
    ``(lin[b] + ang[b] x p) v`` (column by column), as :func:`mosim.models.contact.forward_kinematics` computes the
    velocities (``consts``: :meth:`ContactFeatures.constants`). A dof's columns are its joint's, the same for every
    body below it, and zero for the others (:func:`~mosim.models.contact.dof_support`)."""
    batch = q.shape[:-1]
    zero = q.new_zeros((*batch, 3))
    world_rot = torch.eye(3, dtype=q.dtype, device=q.device).expand(*batch, 3, 3)
    pos: list[Tensor] = []
    rot: list[Tensor] = []
    ang: list[Tensor] = [zero] * nv
    lin: list[Tensor] = [zero] * nv
    for b, parent in enumerate(geometry.body_parent):
        p_pos, p_rot = (zero, world_rot) if parent < 0 else (pos[parent], rot[parent])
        x = p_pos + _apply(p_rot, consts["body_pos"][b])
        r = _compose(p_rot, consts["body_rot"][b])
        for j in geometry.body_joints[b]:
            t, va = geometry.joint_type[j], geometry.joint_qvel[j]
            x, r, anchor, axis = joint_frame(q, x, r, j, geometry, consts)
            if t == FREE:
                for k in range(3):
                    unit = zero.clone()
                    unit[..., k] = 1.0
                    lin[va + k] = unit
                    ang[va + 3 + k] = r[..., :, k]
                    lin[va + 3 + k] = torch.linalg.cross(x, r[..., :, k])
                continue
            if t == SLIDE:
                lin[va] = axis
                continue
            for dof, w in [(va, axis)] if t == HINGE else [(va + k, r[..., :, k]) for k in range(3)]:
                ang[dof], lin[dof] = w, torch.linalg.cross(anchor, w)
        pos.append(x)
        rot.append(r)
    support = consts["dof_support"]                                             # (nbody, nv of the joints)
    support = torch.nn.functional.pad(support, (0, nv - support.shape[-1])).unsqueeze(-2)
    return (torch.stack(pos, -2), torch.stack(rot, -3), torch.stack(ang, -1).unsqueeze(-3) * support,
            torch.stack(lin, -1).unsqueeze(-3) * support)


def candidates(geometry: ContactGeometry) -> tuple[list[int], list[float], list[bool]]:
    """The candidate contact points of a geometry's pairs: each one's pair, its offset from the geom's centre along
    the geom's axis (a capsule's two ends: ``±`` its half length; a sphere's centre: 0) and whether it is a capsule's.
    Capsules' first ends, their second ends, then the spheres (a box's and a cylinder's points: :func:`box_corners`,
    :func:`cylinder_points`)."""
    capsule = [i for i, g in enumerate(geometry.pair_geom) if geometry.geom_shape[g] == CAPSULE]
    half = [geometry.geom_size[geometry.pair_geom[i]][1] for i in capsule]
    spheres = [i for i in range(geometry.n_pairs) if geometry.geom_shape[geometry.pair_geom[i]] == SPHERE]
    return (capsule + capsule + spheres, half + [-h for h in half] + [0.0] * len(spheres),
            [True] * 2 * len(capsule) + [False] * len(spheres))


def box_corners(geometry: ContactGeometry) -> tuple[list[int], list[tuple[float, float, float]]]:
    """The candidate contact points of a geometry's box pairs: each box's eight corners in ``mjc_PlaneBox``'s order
    (``x`` the fastest), their pairs and their offsets in the geom's frame."""
    pairs, corners = [], []
    for i, g in enumerate(geometry.pair_geom):
        if geometry.geom_shape[g] == BOX:
            sx, sy, sz = geometry.geom_size[g]
            for c in range(8):
                pairs.append(i)
                corners.append((sx if c & 1 else -sx, sy if c & 2 else -sy, sz if c & 4 else -sz))
    return pairs, corners


def box_points(center: Tensor, rot: Tensor, consts: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """The corners of the boxes (:func:`box_corners`) and their distances to the floor ``(..., 8 nbox)``, as
    ``mjc_PlaneBox`` makes its contacts: a corner touches below the margin only where it points down (its offset from
    the centre against the normal), and a box touches with its first four such corners; the others are put a unit
    past the margin, where they exert no force (``center``, ``rot``: every pair geom's pose)."""
    pair = consts["box_pair"]
    offset = _apply(rot[..., pair, :, :], consts["box_corner"])
    normal = consts["pair_normal"][pair]
    point = center[..., pair, :] + offset
    dist = ((point - consts["pair_plane_point"][pair]) * normal).sum(-1)
    margin = consts["margin"][pair]
    down = (offset * normal).sum(-1) <= 0
    touch = (down & (dist < margin)).to(dist.dtype)
    rank = touch.unflatten(-1, (-1, 8)).cumsum(-1).flatten(-2)                  # the box's touching corners so far
    return point, torch.where(down & (rank <= 4), dist, margin + 1.0)


def cylinder_points(center: Tensor, rot: Tensor, consts: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """Four candidate points of each cylinder pair and their distances to the floor ``(..., 4 ncyl)``, as
    ``mjc_PlaneCylinder`` makes its contacts: the lowest point of each rim, then two more on the lower rim, a third
    of a turn to either side (each touches only where the first does, which its distance implies)."""
    pair = consts["cylinder_pair"]
    c, r = center[..., pair, :], rot[..., pair, :, :]
    normal, plane = consts["pair_normal"][pair], consts["pair_plane_point"][pair]
    radius, half = consts["pair_size"][pair, 0, None], consts["pair_size"][pair, 1, None]
    axis = r[..., :, 2]
    along = (normal * axis).sum(-1, keepdim=True)
    axis, along = torch.where(along > 0, -axis, axis), -along.abs()            # the axis points at the floor
    d0 = ((c - plane) * normal).sum(-1, keepdim=True)
    rim = axis * along - normal                                                 # down the disk, across the axis
    size = (rim * rim).sum(-1, keepdim=True)
    rim = torch.where(size >= MIN_VAL * MIN_VAL, rim * radius / size.clamp_min(MIN_VAL * MIN_VAL).sqrt(),
                      r[..., :, 0] * radius)                                    # a disk flat on the floor: its x axis
    low = (rim * normal).sum(-1, keepdim=True)
    axis, along = axis * half, along * half
    side = torch.linalg.cross(rim, axis, dim=-1)
    side = side / side.norm(dim=-1, keepdim=True).clamp_min(MIN_VAL) * radius * 3 ** 0.5 / 2
    points = (c + rim + axis, c + rim - axis, c + side + axis - rim / 2, c - side + axis - rim / 2)
    dists = (d0 + along + low, d0 - along + low, d0 + along - low / 2, d0 + along - low / 2)
    return torch.stack(points, -2).flatten(-3, -2), torch.cat(dists, -1).flatten(-2)


def contact_candidates(q: Tensor, geometry: ContactGeometry, consts: dict[str, Tensor], nv: int,
                       kinematics: tuple[Tensor, ...] | None = None,
                       slots: int | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The candidate contacts (:func:`candidates`, their constants in ``consts``: :meth:`ContactSolver.constants`)
    nearest the floor: their pairs ``(..., k)`` (long), their distances to it ``(..., k)``, the Jacobians of
    MuJoCo's contact points (halfway into the penetration) ``(..., k, 3, nv)``, world frame, and the direction each
    frame's first tangent follows ``(..., k, 3)``: a capsule's axis (MuJoCo aligns the frame of a capsule's contacts
    with it), zero for a sphere (whose frame is the floor's).

    ``k``: :func:`nearest`'s (for ``slots=None`` as many as touch the floor at once in the batch: the solve is the
    same, and a few times cheaper on cheetah-run, where 4 or 5 of its 16 touch at once in a batch of 4096 random
    states). ``kinematics``: :func:`body_jacobians` of ``q``, where already computed."""
    pos, rot, ang, lin = body_jacobians(q, geometry, consts, nv) if kinematics is None else kinematics
    gb, pair = consts["pair_body"], consts["candidate_pair"]
    center = pos[..., gb, :] + _apply(rot[..., gb, :, :], consts["pair_geom_pos"])
    geom_rot = _compose(rot[..., gb, :, :], consts["pair_geom_rot"])
    axis = geom_rot[..., pair, :, 2]
    point = center[..., pair, :] + axis * consts["candidate_offset"][:, None]
    along = axis * consts["candidate_capsule"][:, None]
    normal, radius = consts["pair_normal"][pair], consts["candidate_radius"]
    dist = ((point - consts["pair_plane_point"][pair]) * normal).sum(-1) - radius
    for points, of in ((box_points, consts["box_pair"]), (cylinder_points, consts["cylinder_point_pair"])):
        if of.numel():  # points of radius 0, their frames the floor's (as a sphere's)
            more, far = points(center, geom_rot, consts)
            point, dist = torch.cat((point, more), -2), torch.cat((dist, far), -1)
            along = torch.cat((along, torch.zeros_like(more)), -2)
            pair, radius = torch.cat((pair, of)), torch.cat((radius, radius.new_zeros(of.shape)))
    chosen = nearest(dist, consts["margin"][pair], slots)
    if chosen is not None:                                                    # (..., k)
        pick = chosen.unsqueeze(-1).expand(*chosen.shape, 3)
        dist, point, along, pair = dist.gather(-1, chosen), point.gather(-2, pick), along.gather(-2, pick), pair[chosen]
        radius = radius[chosen]
    else:
        pair = pair.expand_as(dist)
    normal = consts["pair_normal"][pair]
    contact = point - normal * (radius + 0.5 * dist).unsqueeze(-1)
    return pair, dist, point_jacobian(ang, lin, gb[pair], contact), along


def contact_rows(q: Tensor, v: Tensor, geometry: ContactGeometry, consts: dict[str, Tensor], slots: int | None,
                 nv: int, kinematics: tuple[Tensor, ...] | None = None, cone_dims: int = 0) -> tuple[Tensor, ...]:
    """The pyramid rows of the ``k`` candidates nearest the floor (:func:`contact_candidates`; ``slots``: a fixed
    ``k``, ``None`` for every candidate that can touch): ``J (..., 4 k, nv)``, ``aref``, ``R`` and whether each acts
    ``(..., 4 k)`` (``consts``: :meth:`ContactSolver.constants`). With ``cone_dims``, the rows of elliptic cones of
    that many rows each instead (:func:`mosim.models.cones.elliptic_rows`)."""
    kinematics = body_jacobians(q, geometry, consts, nv) if kinematics is None else kinematics
    pair, dist, jac, along = contact_candidates(q, geometry, consts, nv, kinematics, slots)
    normal = consts["pair_normal"][pair]
    t1 = along - normal * (along * normal).sum(-1, keepdim=True)  # MuJoCo's mju_makeFrame of (normal, along)
    size = t1.norm(dim=-1, keepdim=True)
    t1 = torch.where(size > 1e-6, t1 / size.clamp_min(1e-6), consts["tangent1"][pair])
    normal = normal.expand_as(t1)
    frame = torch.stack((normal, t1, torch.linalg.cross(normal, t1)), -2)
    if cone_dims:
        params = {name: consts[name][pair] for name in PAIR_PARAMETERS + CONE_PARAMETERS}
        return elliptic_rows(jac, of_bodies(kinematics[2], consts["pair_body"][pair]), frame, dist, v, params,
                             consts["impratio"], cone_dims)
    return pyramid_rows(jac, frame, dist, v, {name: consts[name][pair] for name in PAIR_PARAMETERS},
                        consts["impratio"])


PAIR_PARAMETERS = ("friction", "stiffness", "damping", "margin", "weight", "solimp")
"""a contact's mixed parameters (:class:`~mosim.systems.contacts.FloorContacts`, and the same of
:class:`~mosim.systems.self_contacts.SelfContacts`)"""
CONE_PARAMETERS = ("condim", "spin", "roll")
"""and on an elliptic cone"""


def pyramid_rows(jac: Tensor, frame: Tensor, dist: Tensor, v: Tensor, params: dict[str, Tensor],
                 impratio: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """MuJoCo's four friction-pyramid rows of each of ``k`` contacts: ``J (..., 4 k, nv)``, ``aref``, ``R`` and
    whether each acts ``(..., 4 k)``, from each contact's Jacobian ``jac (..., k, 3, nv)`` (world frame), its frame
    ``(..., k, 3, 3)`` (normal, then the two tangents, as rows), its distance ``(..., k)`` and its parameters
    ``params`` (:data:`PAIR_PARAMETERS`, each ``(..., k)``, ``solimp (..., k, 5)``), at the velocity ``v (..., nv)``.

    A frictionless contact (``params["frictionless"] (..., k)``, where given: ``condim`` 1) has MuJoCo's one row,
    the normal's, with ``R = (1 - imp) / imp · w``: here four copies of it, each with ``4 R``, which make the same
    cost, and so the same solve, as the one row (its friction is not used)."""
    k, nv = dist.shape[-1], jac.shape[-1]
    jf = frame @ jac                                                          # (..., k, 3, nv)
    frictionless = params.get("frictionless")
    mu = params["friction"] if frictionless is None else torch.where(frictionless, 0.0, params["friction"])
    jn, jt = jf[..., :1, :], jf[..., 1:, :]
    edges = torch.stack((jn + mu[..., None, None] * jt, jn - mu[..., None, None] * jt), dim=-2)  # (..., k, 2, 2, nv)
    rows = edges.transpose(-3, -2).reshape(*dist.shape, ROWS_PER_CONTACT, nv)  # t1 +, t1 -, t2 +, t2 -
    r = dist - params["margin"]
    imp = impedance(r, params["solimp"])
    r0 = ((1 - imp) / imp * params["weight"] * (1 + mu * mu)).clamp_min(MIN_VAL)
    reg = 2 * mu * mu / impratio * r0
    if frictionless is not None:
        reg = torch.where(frictionless, 4 * r0, reg)
    active = dist < params["margin"]
    vel = (rows @ v[..., None, :, None]).squeeze(-1)                         # (..., k, 4)
    aref = -params["damping"][..., None] * vel - (params["stiffness"] * imp * r)[..., None]
    flat = (*dist.shape[:-1], k * ROWS_PER_CONTACT)
    return (rows.reshape(*flat, nv), aref.reshape(flat), reg[..., None].expand(*dist.shape, ROWS_PER_CONTACT).reshape(
        flat), active[..., None].expand(*dist.shape, ROWS_PER_CONTACT).reshape(flat))


def nearest(dist: Tensor, margin: Tensor, slots: int | None) -> Tensor | None:
    """Which of ``n`` candidate contacts ``dist (..., n)`` get rows: the indices ``(..., k)`` of the ``k`` nearest to
    acting (``dist - margin`` the smallest), or ``None`` for all of them. ``k``: ``slots`` where it is given (at most
    ``n``); else, outside ``torch.compile``, the most candidates closer than their ``margin`` at once in the batch
    (each state's touching ones are among its ``k`` nearest, so the rows dropped exert no force), and all of them
    under ``torch.compile`` (a graph of fixed shapes)."""
    n = dist.shape[-1]
    if slots is not None or torch.compiler.is_compiling():
        k = n if slots is None else min(slots, n)
    else:
        k = int((dist < margin).sum(-1).max()) if dist.numel() else 0
    return None if k >= n else torch.topk(dist - margin, k, dim=-1, largest=False)[1]


def point_jacobian(ang: Tensor, lin: Tensor, body: Tensor, point: Tensor) -> Tensor:
    """The Jacobian ``(..., k, 3, nv)`` of the points ``point (..., k, 3)`` (world frame) fixed to the bodies ``body
    (..., k)`` (long), from :func:`body_jacobians`' ``ang`` and ``lin (..., nbody, 3, nv)``."""
    ang, lin = of_bodies(ang, body), of_bodies(lin, body)
    return lin + cross_columns(ang, point)


def of_bodies(jac: Tensor, body: Tensor) -> Tensor:
    """The Jacobians ``(..., k, 3, nv)`` of the bodies ``body (..., k)`` (long) among :func:`body_jacobians`' ``jac
    (..., nbody, 3, nv)``."""
    return jac.gather(-3, body.unsqueeze(-1).unsqueeze(-1).expand(*body.shape, 3, jac.shape[-1]))


class ContactSolver(nn.Module):
    """The rows of :func:`contact_rows` for one :class:`ContactGeometry` and its :class:`FloorContacts`, their
    constants as non-persistent buffers (the checkpoint keeps the two records, in the spec), and after them the rows
    of the robot's contacts with itself where ``self_rows`` is given
    (:class:`~mosim.models.self_contacts.SelfContactRows`)."""

    def __init__(self, geometry: ContactGeometry, contacts: FloorContacts, nv: int, slots: int | None = None,
                 self_rows: nn.Module | None = None) -> None:
        super().__init__()
        if len(contacts) != geometry.n_pairs:
            raise ValueError(f"{len(contacts)} floor contacts for {geometry.n_pairs} geometry pairs")
        self.geometry, self.contacts, self.nv = geometry, contacts, int(nv)
        self.slots = None if slots is None else int(slots)
        if contacts.elliptic and self_rows is not None:
            raise InvalidInputError("the contacts between a robot's own bodies are solved on pyramidal cones, and this "
                                    "model's are elliptic: leave them to the networks (self_contacts=False, mosim "
                                    "train --no-self-contacts)")
        self.self_rows = self_rows
        self.friction_scale: LogScales | None = None
        """learned factors on the pairs' sliding friction (``ModelConfig.identify``), where set"""
        self.cone_dims = contacts.dims if contacts.elliptic else 0
        """rows per contact of an elliptic cone, 0 on a pyramid"""
        self.kinematics = ContactFeatures(geometry)
        f64 = torch.float64
        for name in ("friction", "stiffness", "damping", "margin", "weight"):
            self.register_buffer(name, torch.tensor(getattr(contacts, name), dtype=f64), persistent=False)
        self.register_buffer("solimp", torch.tensor(contacts.solimp, dtype=f64).reshape(-1, 5), persistent=False)
        for name in ("tangent1", "tangent2"):
            self.register_buffer(name, torch.tensor(getattr(contacts, name), dtype=f64).reshape(-1, 3),
                                 persistent=False)
        self.register_buffer("impratio", torch.tensor(max(contacts.impratio, MIN_VAL), dtype=f64), persistent=False)
        n = len(contacts) if contacts.elliptic else 0
        self.register_buffer("condim", torch.tensor(contacts.condim[:n], dtype=f64), persistent=False)
        for name in ("spin", "roll"):
            self.register_buffer(name, torch.tensor(getattr(contacts, name)[:n], dtype=f64), persistent=False)
        pair, offset, capsule = candidates(geometry)
        self.register_buffer("candidate_pair", torch.tensor(pair, dtype=torch.long), persistent=False)
        self.register_buffer("candidate_offset", torch.tensor(offset, dtype=f64), persistent=False)
        self.register_buffer("candidate_capsule", torch.tensor(capsule, dtype=f64), persistent=False)
        self.register_buffer("candidate_radius", torch.tensor([geometry.geom_size[geometry.pair_geom[i]][0]
                                                               for i in pair], dtype=f64), persistent=False)
        boxes, corners = box_corners(geometry)
        self.register_buffer("box_pair", torch.tensor(boxes, dtype=torch.long), persistent=False)
        self.register_buffer("box_corner", torch.tensor(corners, dtype=f64).reshape(-1, 3), persistent=False)
        cylinders = torch.tensor([i for i, g in enumerate(geometry.pair_geom) if geometry.geom_shape[g] == CYLINDER],
                                 dtype=torch.long)
        self.register_buffer("cylinder_pair", cylinders, persistent=False)
        self.register_buffer("cylinder_point_pair", cylinders.repeat_interleave(4), persistent=False)  # 4 points each

    _NAMES = ("friction", "stiffness", "damping", "margin", "weight", "solimp", "tangent1", "tangent2", "impratio",
              "condim", "spin", "roll",
              "candidate_pair", "candidate_offset", "candidate_capsule", "candidate_radius", "box_pair", "box_corner",
              "cylinder_pair", "cylinder_point_pair")

    @property
    def candidates(self) -> int:
        """Candidate contact points: one per sphere, two per capsule, eight per box, four per cylinder."""
        return self.candidate_pair.numel() + self.box_pair.numel() + self.cylinder_point_pair.numel()

    def constants(self, dtype: torch.dtype) -> dict[str, Tensor]:
        consts = dict(self.kinematics.constants(dtype))
        for name in self._NAMES:
            value = getattr(self, name)
            consts[name] = value.to(dtype) if value.is_floating_point() else value
        consts["friction"] = scaled(consts["friction"], self.friction_scale)
        return consts

    def forward(self, q: Tensor, v: Tensor, kinematics: tuple[Tensor, ...] | None = None,
                body_weight: Tensor | None = None) -> tuple[Tensor, ...]:
        """:func:`contact_rows` of the state ``q (..., nq)``, ``v (..., nv)``, then the self contacts' rows
        (``kinematics``: :func:`body_jacobians` of ``q``, where already computed; ``body_weight``: the bodies'
        translational ``body_invweight0 (nbody,)`` in place of the model file's, which scale the floor contacts'
        regularizers)."""
        consts = self.constants(q.dtype)
        if body_weight is not None:  # the floor's own is 0
            consts["weight"] = body_weight[consts["pair_body"]]
        if self.self_rows is None:
            return contact_rows(q, v, self.geometry, consts, self.slots, self.nv, kinematics, self.cone_dims)
        kinematics = body_jacobians(q, self.geometry, consts, self.nv) if kinematics is None else kinematics
        return join_rows(contact_rows(q, v, self.geometry, consts, self.slots, self.nv, kinematics),  # type: ignore[return-value]
                         self.self_rows(kinematics, v))

    def solve(self, a0: Tensor, minv: Tensor, rows: tuple[Tensor, ...], contacts: tuple[Tensor, ...],
              iterations: int, mass: Tensor | None = None, friction: tuple[Tensor, ...] | None = None) -> Tensor:
        """The acceleration with the pushing-only ``rows`` (the limits') and :meth:`forward`'s ``contacts`` solved
        together from ``a0``: by :func:`~mosim.models.newton.solve_rows` (``iterations`` at most) on pyramids, by
        :func:`~mosim.models.cones.solve_with_cones` on elliptic cones, with the joints' dry ``friction`` rows
        there."""
        if self.cone_dims:
            return solve_with_cones(a0, minv, rows, contacts, mass=mass, friction=friction)
        jac, aref, reg, active = join_rows(rows, contacts)
        return solve_rows(a0, minv, jac, aref, reg, active, iterations, mass)

    def extra_repr(self) -> str:
        cone = f", elliptic cones of {self.cone_dims} rows" if self.cone_dims else ""
        return f"pairs={self.geometry.n_pairs}, candidates={self.candidates}, slots={self.slots}{cone}"
