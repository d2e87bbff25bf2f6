"""Contacts between a robot's own bodies in torch, as MuJoCo makes and solves them.

For each pair of :class:`~mosim.systems.self_contacts.SelfContacts` (spheres and capsules), MuJoCo's narrow phase
(``mjc_SphereSphere``, ``mjc_SphereCapsule``, ``mjc_CapsuleCapsule``) finds one point on each geom's segment (a
sphere's is its centre; two capsules' are the nearest points of their axes, clipped to the segments in MuJoCo's
order), and the two spheres there touch when their distance is below the pair's margin. The contact's normal points
from the first geom to the second, its point lies halfway into the penetration, its frame's tangents are
``mju_makeFrame``'s for a normal alone, and its Jacobian is the second body's point Jacobian minus the first's
(``mj_jacDifPair``). Its rows are the friction pyramid's, as a floor contact's
(:func:`mosim.models.contacts.pyramid_rows`), solved with them and the joint limits by Newton's method.

Not reproduced: MuJoCo's second contact between two capsules whose axes are parallel to rounding (``det`` below
``mjMINVAL``): one contact is made there, at the clipped nearest points.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mosim.models.contact import _apply
from mosim.models.contacts import PAIR_PARAMETERS, nearest, point_jacobian, pyramid_rows
from mosim.models.quaternion import quat_to_rotmat
from mosim.systems.contacts import MIN_VAL
from mosim.systems.geometry import CAPSULE
from mosim.systems.self_contacts import SelfContacts


def segment_points(c1: Tensor, a1: Tensor, c2: Tensor, a2: Tensor, capsule1: Tensor,
                   capsule2: Tensor) -> tuple[Tensor, Tensor]:
    """The points MuJoCo tests as two spheres, on the segments ``c ± a`` (``(..., P, 3)``, a sphere's ``a`` zero):
    ``c1 + x1 a1`` and ``c2 + x2 a2``, ``x`` in ``[-1, 1]`` as ``mjc_CapsuleCapsule`` (both capsules; a first geom
    is never a capsule with a second a sphere: MuJoCo orders the pair's geoms by type) and ``mjc_SphereCapsule``
    clip them."""
    dif = c1 - c2
    ma, mb, mc = (a1 * a1).sum(-1), -(a1 * a2).sum(-1), (a2 * a2).sum(-1)
    u, v = -(a1 * dif).sum(-1), (a2 * dif).sum(-1)
    det = ma * mc - mb * mb
    det = torch.where(det.abs() >= MIN_VAL, det, torch.full_like(det, MIN_VAL))
    ma_, mc_ = ma.clamp_min(MIN_VAL), mc.clamp_min(MIN_VAL)
    x1, x2 = (mc * u - mb * v) / det, (ma * v - mb * u) / det
    x2 = torch.where(x1 > 1, (v - mb) / mc_, torch.where(x1 < -1, (v + mb) / mc_, x2))
    x1 = x1.clamp(-1.0, 1.0)
    x1 = torch.where(x2 > 1, ((u - mb) / ma_).clamp(-1.0, 1.0), torch.where(x2 < -1, ((u + mb) / ma_).clamp(-1.0, 1.0), x1))
    x2 = x2.clamp(-1.0, 1.0)
    sphere_capsule = (v / mc_).clamp(-1.0, 1.0)  # mjc_SphereCapsule: the sphere's centre projected on the segment
    x1 = torch.where(capsule1 & capsule2, x1, torch.zeros_like(x1))
    x2 = torch.where(capsule1 & capsule2, x2, torch.where(capsule2, sphere_capsule, torch.zeros_like(x2)))
    return c1 + x1.unsqueeze(-1) * a1, c2 + x2.unsqueeze(-1) * a2


def normal_frame(normal: Tensor) -> Tensor:
    """``mju_makeFrame`` of a unit normal alone ``(..., 3)``: rows normal, ``t1`` (``y``, or ``z`` where the normal is
    within 60° of ``y``, made orthogonal to it) and ``n x t1``, ``(..., 3, 3)``."""
    y = torch.zeros_like(normal)
    near_y = normal[..., 1].abs() >= 0.5
    y[..., 1] = torch.where(near_y, 0.0, 1.0).to(normal.dtype)
    y[..., 2] = torch.where(near_y, 1.0, 0.0).to(normal.dtype)
    t1 = y - normal * (normal * y).sum(-1, keepdim=True)
    t1 = t1 / t1.norm(dim=-1, keepdim=True).clamp_min(MIN_VAL)
    return torch.stack((normal, t1, torch.linalg.cross(normal, t1)), -2)


class SelfContactRows(nn.Module):
    """``forward(kinematics, v)``: the pyramid rows of the pairs of one :class:`SelfContacts` that touch,
    ``(J (..., 4 k, nv), aref, R, active (..., 4 k))``, from :func:`~mosim.models.contacts.body_jacobians`' of the
    state (``k``: :func:`~mosim.models.contacts.nearest`'s for ``slots``). Constants as non-persistent buffers (the
    checkpoint keeps the record, in the spec)."""

    def __init__(self, pairs: SelfContacts, impratio: float, slots: int | None = None) -> None:
        super().__init__()
        self.pairs, self.slots = pairs, slots
        f64 = torch.float64
        n = len(pairs)
        self.register_buffer("body", torch.tensor(pairs.body, dtype=torch.long).reshape(n, 2), persistent=False)
        self.register_buffer("capsule", torch.tensor(pairs.shape, dtype=torch.long).reshape(n, 2) == CAPSULE,
                             persistent=False)
        geoms: dict[tuple, int] = {}  # each geom once (a geom is in several pairs): its body, centre and axis
        geom_of = [[geoms.setdefault((pairs.body[i][side], pairs.pos[i][side], pairs.quat[i][side]), len(geoms))
                    for side in (0, 1)] for i in range(n)]
        self.register_buffer("geom_of", torch.tensor(geom_of, dtype=torch.long).reshape(n, 2), persistent=False)
        keys = list(geoms)
        self.register_buffer("geom_body", torch.tensor([k[0] for k in keys], dtype=torch.long), persistent=False)
        self.register_buffer("geom_offset", torch.tensor([k[1] for k in keys], dtype=f64).reshape(-1, 3),
                             persistent=False)
        quats = torch.tensor([k[2] for k in keys], dtype=f64).reshape(-1, 4)
        self.register_buffer("geom_axis", quat_to_rotmat(quats)[..., :, 2] if keys else torch.zeros(0, 3, dtype=f64),
                             persistent=False)                                 # in its body's frame
        self.register_buffer("size", torch.tensor(pairs.size, dtype=f64).reshape(n, 2, 2), persistent=False)
        for name in PAIR_PARAMETERS:
            value = torch.tensor(getattr(pairs, name), dtype=f64)
            self.register_buffer(name, value.reshape(n, 5) if name == "solimp" else value, persistent=False)
        self.register_buffer("impratio", torch.tensor(max(impratio, MIN_VAL), dtype=f64), persistent=False)
        self.register_buffer("frictionless", torch.tensor(pairs.frictionless, dtype=torch.bool), persistent=False)
        self.has_frictionless = any(pairs.frictionless)

    def __len__(self) -> int:
        return len(self.pairs)

    def forward(self, kinematics: tuple[Tensor, ...], v: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        pos, rot, ang, lin = kinematics
        dtype = pos.dtype
        body_rot = rot[..., self.geom_body, :, :]                               # each geom once, (..., G, 3, 3)
        centre = pos[..., self.geom_body, :] + _apply(body_rot, self.geom_offset.to(dtype))
        axis = _apply(body_rot, self.geom_axis.to(dtype))
        centres = [centre[..., self.geom_of[:, side], :] for side in (0, 1)]
        axes = [axis[..., self.geom_of[:, side], :] * self.size[:, side, 1].to(dtype).unsqueeze(-1) for side in (0, 1)]
        p1, p2 = segment_points(centres[0], axes[0], centres[1], axes[1], self.capsule[:, 0], self.capsule[:, 1])
        radius = self.size[..., 0].to(dtype)                                    # (P, 2)
        dif = p2 - p1
        cdist = dif.norm(dim=-1)
        dist = cdist - radius[:, 0] - radius[:, 1]                              # (..., P)
        params = {name: getattr(self, name).to(dtype) for name in PAIR_PARAMETERS}
        if self.has_frictionless:
            params["frictionless"] = self.frictionless
        pair = torch.arange(len(self), device=pos.device).expand_as(dist)
        chosen = nearest(dist, params["margin"], self.slots)
        if chosen is not None:
            pick = chosen.unsqueeze(-1).expand(*chosen.shape, 3)
            dist, dif, cdist, p1, pair = (dist.gather(-1, chosen), dif.gather(-2, pick), cdist.gather(-1, chosen),
                                          p1.gather(-2, pick), pair.gather(-1, chosen))
        normal = dif / cdist.clamp_min(MIN_VAL).unsqueeze(-1)
        point = p1 + normal * (radius[pair, 0] + 0.5 * dist).unsqueeze(-1)
        jac = point_jacobian(ang, lin, self.body[:, 1][pair], point) - point_jacobian(ang, lin, self.body[:, 0][pair],
                                                                                     point)
        return pyramid_rows(jac, normal_frame(normal), dist, v, {k: x[pair] for k, x in params.items()},
                            self.impratio.to(dtype))

    def extra_repr(self) -> str:
        return f"pairs={len(self)}, slots={self.slots}"


__all__ = ["SelfContactRows", "normal_frame", "segment_points"]
