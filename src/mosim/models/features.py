"""Network inputs derived from a robot's joint layout (never hard-coded per robot).

From a state ``(q, v)`` the networks see

- position features, grouped by kind (each group in layout order):

  1. *raw* coordinates: slide joints, limited hinges, and the free joint's height ``z``
     (the root's horizontal position, :meth:`JointLayout.horizontal_root_qpos`, is dropped: on
     a flat floor the dynamics do not depend on it);
  2. ``sin`` then ``cos`` of the unlimited hinges (angles that wrap around);
  3. for each free joint, the gravity direction in its body frame ``Rᵀ [0, 0, -1]`` (3 numbers,
     roll and pitch but not heading);
  4. for each ball joint, the first two columns of its rotation matrix (6 numbers);
  5. for each limited hinge or slide (optional, on by default), how far it is past its lower and
     upper limit, ``relu(lo - q)`` and ``relu(q - hi)``, and whether it is, ``[q < lo]`` and
     ``[q > hi]``: MuJoCo's limit constraint switches on there, a kink the smooth networks
     otherwise spend most of their capacity on (on reacher, 9% of transitions near the wrist
     limit carried over 90% of a model's one-step error without these features);

- velocity features: ``v`` itself (``nv`` numbers; with ``heading_frame``, each free joint's linear velocity in the
  frame of its heading, :mod:`mosim.models.heading`), then, when the model is given the robot's contact
  geometry (``ModelConfig.contact_features``), the contact features of :mod:`mosim.models.contact` (each
  collision geom's height above the floor and the velocity of its lowest point): functions of ``q`` and
  ``v`` together, so they go with the velocity features (the inertia network, a function of position
  alone, does not see them; with ``heading_frame``, their tangential speeds in the heading frame too), then,
  with ``limit_velocity`` (``ModelConfig.limit_velocity_features``), each limited joint's velocity where it is past
  its lower and where it is past its upper limit, ``v [q < lo]`` and ``v [q > hi]``: MuJoCo's limit constraint
  pushes back in proportion to the penetration and to that velocity, a product of a step and a velocity that smooth
  networks approximate poorly;

- action features: the action ``a`` itself, then, when the model is given the robot's actuation
  (``ModelConfig.actuator_features``), the joint forces MuJoCo's actuators apply for it in the state
  (:mod:`mosim.models.actuation`; ``nv`` numbers): for servos, a function of the action and the state together.

The pure function :func:`position_features` does the work from precomputed index tensors;
:class:`StateFeatures` precomputes them from a :class:`~mosim.systems.layout.JointLayout` and
holds them as (non-persistent) buffers, so they move with the model's device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mosim.errors import InvalidInputError
from mosim.models.actuation import ActuatorForces
from mosim.models.contact import FEATURE_KINDS, ContactFeatures
from mosim.models.heading import HeadingFrame, rotate_xy
from mosim.models.quaternion import gravity_in_body_frame, rotation_6d
from mosim.systems.actuation import Actuation
from mosim.systems.geometry import ContactGeometry
from mosim.systems.layout import BALL, FREE, HINGE, QPOS_WIDTH, SLIDE, JointLayout


TANGENTIAL_SPEEDS = tuple((FEATURE_KINDS.index(f"{g}speed_t1"), FEATURE_KINDS.index(f"{g}speed_t2"))
                          for g in ("", "touching_"))
"""the contact feature kinds that are the two tangential speeds of a contact point, plain and gated"""


@dataclass(frozen=True)
class FeatureIndex:
    """``qpos`` indices that each kind of position feature reads (plain lists, for any layout)."""

    raw: tuple[int, ...]
    """coordinates fed as they are"""
    angles: tuple[int, ...]
    """unlimited hinges, fed as ``sin`` and ``cos``"""
    free_quats: tuple[int, ...]
    """first ``qpos`` index of each free joint's quaternion (4 entries from there)"""
    ball_quats: tuple[int, ...]
    """first ``qpos`` index of each ball joint's quaternion"""
    limited: tuple[int, ...] = ()
    """limited hinges and slides, for the limit features"""
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    limited_dofs: tuple[int, ...] = ()
    """``qvel`` indices of the limited joints, in the order of :attr:`limited`"""

    @classmethod
    def from_layout(cls, layout: JointLayout, limit_features: bool = True) -> FeatureIndex:
        horizontal = set(layout.horizontal_root_qpos())
        raw: list[int] = []
        angles: list[int] = []
        free_quats: list[int] = []
        ball_quats: list[int] = []
        for t, adr, limited in zip(layout.types, layout.qpos_adr, layout.limited):
            if t == FREE:
                raw += [i for i in (adr, adr + 1, adr + 2) if i not in horizontal]
                free_quats.append(adr + 3)
            elif t == BALL:
                ball_quats.append(adr)
            elif t == SLIDE:
                if adr not in horizontal:
                    raw.append(adr)
            elif t == HINGE:
                (raw if limited else angles).append(adr)
        lim = [j for j, t in enumerate(layout.types) if t in (HINGE, SLIDE) and layout.limited[j]] if limit_features else []
        return cls(tuple(raw), tuple(angles), tuple(free_quats), tuple(ball_quats),
                   tuple(layout.qpos_adr[j] for j in lim), tuple(layout.ranges[j][0] for j in lim),
                   tuple(layout.ranges[j][1] for j in lim), tuple(layout.qvel_adr[j] for j in lim))

    @property
    def position_dim(self) -> int:
        return (len(self.raw) + 2 * len(self.angles) + 3 * len(self.free_quats) + 6 * len(self.ball_quats)
                + 4 * len(self.limited))

    def names(self, layout: JointLayout) -> list[str]:
        """A readable name for each position feature (same order as :func:`position_features`)."""
        owner: dict[int, str] = {}
        for j, (t, adr) in enumerate(zip(layout.types, layout.qpos_adr)):
            name = layout.names[j] or f"joint{j}"
            for k in range(QPOS_WIDTH[t]):
                owner[adr + k] = f"{name}.{'xyz'[k]}" if t == FREE and k < 3 else name
        out = [owner[i] for i in self.raw]
        out += [f"sin({owner[i]})" for i in self.angles] + [f"cos({owner[i]})" for i in self.angles]
        out += [f"gravity_{c}({owner[i]})" for i in self.free_quats for c in "xyz"]
        out += [f"R{r}{c}({owner[i]})" for i in self.ball_quats for c in "01" for r in "012"]
        out += [f"{kind}({owner[i]})" for kind in ("below", "above", "is_below", "is_above") for i in self.limited]
        return out


def _quat_block(q: Tensor, starts: Tensor) -> Tensor:
    """Gather quaternions: ``q (..., nq)``, ``starts (k,)`` -> ``(..., k, 4)``."""
    idx = starts.unsqueeze(-1) + torch.arange(4, device=starts.device)
    return q[..., idx]


def position_features(q: Tensor, raw: Tensor, angles: Tensor, free_quats: Tensor, ball_quats: Tensor,
                      limited: Tensor | None = None, lower: Tensor | None = None, upper: Tensor | None = None) -> Tensor:
    """Position features of ``q (..., nq)`` -> ``(..., P)``; the index tensors as in :class:`FeatureIndex`."""
    parts = [q[..., raw]]
    if angles.numel():
        a = q[..., angles]
        parts += [torch.sin(a), torch.cos(a)]
    if free_quats.numel():
        g = gravity_in_body_frame(_quat_block(q, free_quats))
        parts.append(g.flatten(-2))
    if ball_quats.numel():
        r = rotation_6d(_quat_block(q, ball_quats))
        parts.append(r.flatten(-2))
    if limited is not None and limited.numel():
        x = q[..., limited]
        below, above = torch.relu(lower.to(x.dtype) - x), torch.relu(x - upper.to(x.dtype))
        parts += [below, above, (below > 0).to(x.dtype), (above > 0).to(x.dtype)]
    return torch.cat(parts, dim=-1)


def limit_velocity_features(q: Tensor, v: Tensor, limited: Tensor, limited_dofs: Tensor, lower: Tensor,
                            upper: Tensor) -> Tensor:
    """``v [q < lo]`` then ``v [q > hi]`` of each limited joint: ``q (..., nq)``, ``v (..., nv)`` -> ``(..., 2 L)``
    (index tensors as in :class:`FeatureIndex`)."""
    x, w = q[..., limited], v[..., limited_dofs]
    zero = torch.zeros((), dtype=w.dtype, device=w.device)
    return torch.cat((torch.where(x < lower.to(x.dtype), w, zero), torch.where(x > upper.to(x.dtype), w, zero)), dim=-1)


class StateFeatures(nn.Module):
    """Feature map of one joint layout. ``positions(q (..., nq)) -> (..., position_dim)``;
    ``velocity_features(q, v) -> (..., velocity_dim)`` (``v`` then the contact features of ``geometry``, if
    given); ``action_features(q, v, a) -> (..., action_dim)`` (``a`` then the actuator forces of ``actuation``, if
    given); ``forward(q, v) -> (..., feature_dim)``. With ``heading_frame`` (and a free joint in the layout), the
    velocity-like vectors are seen in the heading frame (:mod:`mosim.models.heading`): :meth:`to_heading` and
    :meth:`to_world` turn a model's targets and predictions the same way."""

    raw: Tensor
    angles: Tensor
    free_quats: Tensor
    ball_quats: Tensor

    limited: Tensor
    limited_dofs: Tensor
    lower: Tensor
    upper: Tensor

    def __init__(self, layout: JointLayout, limit_features: bool = True,
                 geometry: ContactGeometry | None = None, actuation: Actuation | None = None,
                 heading_frame: bool = False, limit_velocity: bool = False) -> None:
        super().__init__()
        if limit_velocity and not limit_features:
            raise InvalidInputError("limit_velocity features need the limit features (limit_features=True)")
        self.layout = layout
        frame = HeadingFrame(layout)
        self.heading = frame if heading_frame and frame.active else None
        self.contact = None if geometry is None else ContactFeatures(geometry)
        if actuation is not None and actuation.nv != layout.nv:
            raise InvalidInputError(f"the actuation acts on {actuation.nv} dofs, the layout has nv={layout.nv}")
        self.actuator = None if actuation is None else ActuatorForces(actuation)
        self.index = FeatureIndex.from_layout(layout, limit_features)
        self.limit_velocity = bool(limit_velocity and self.index.limited)
        for name in ("raw", "angles", "free_quats", "ball_quats", "limited", "limited_dofs"):
            self.register_buffer(name, torch.tensor(getattr(self.index, name), dtype=torch.long), persistent=False)
        for name in ("lower", "upper"):
            self.register_buffer(name, torch.tensor(getattr(self.index, name), dtype=torch.float64), persistent=False)

    @property
    def position_feature_dim(self) -> int:
        return self.index.position_dim

    @property
    def limit_velocity_dim(self) -> int:
        """Width of the limit velocity features (0 without ``limit_velocity``)."""
        return 2 * len(self.index.limited) if self.limit_velocity else 0

    @property
    def velocity_feature_dim(self) -> int:
        return self.layout.nv + (0 if self.contact is None else self.contact.dim) + self.limit_velocity_dim

    def action_feature_dim(self, nu: int) -> int:
        """Width of :meth:`action_features` for ``nu`` actions."""
        return nu + (0 if self.actuator is None else self.actuator.dim)

    @property
    def feature_dim(self) -> int:
        return self.position_feature_dim + self.velocity_feature_dim

    def _check_q(self, q: Tensor) -> Tensor:
        if q.shape[-1] != self.layout.nq:
            raise InvalidInputError(f"qpos must have last dimension nq={self.layout.nq}, got shape {tuple(q.shape)}")
        return q

    def positions(self, q: Tensor) -> Tensor:
        q = self._check_q(q)
        return position_features(q, self.raw, self.angles, self.free_quats, self.ball_quats, self.limited, self.lower,
                                 self.upper)

    def velocities(self, v: Tensor) -> Tensor:
        if v.shape[-1] != self.layout.nv:
            raise InvalidInputError(f"qvel must have last dimension nv={self.layout.nv}, got shape {tuple(v.shape)}")
        return v

    def to_heading(self, q: Tensor, x: Tensor) -> Tensor:
        """A velocity-like vector ``x (..., nv)`` (velocity, acceleration, state change) at ``q`` in the frame the
        networks see it in: each free joint's linear part in its heading frame; ``x`` itself without
        ``heading_frame``."""
        return x if self.heading is None else self.heading.to_heading(q, x)

    def to_world(self, q: Tensor, x: Tensor) -> Tensor:
        """The inverse of :meth:`to_heading`: a prediction in the networks' frame back in MuJoCo's."""
        return x if self.heading is None else self.heading.to_world(q, x)

    def velocity_features(self, q: Tensor, v: Tensor) -> Tensor:
        """``v``, then the contact features of ``(q, v)`` if the map has a geometry, then the limit velocity features
        with ``limit_velocity``. ``-> (..., velocity_dim)``."""
        v = self.velocities(v)
        if self.heading is None and self.contact is None and not self.limit_velocity:
            return v
        q = self._check_q(q)
        parts = [self.to_heading(q, v)]
        if self.contact is not None:
            c = self.contact(q, v)
            parts.append(c if self.heading is None else self._contact_speeds_to_heading(q, c))
        if self.limit_velocity:
            parts.append(limit_velocity_features(q, v, self.limited, self.limited_dofs, self.lower, self.upper))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def _contact_speeds_to_heading(self, q: Tensor, c: Tensor) -> Tensor:
        """Contact features with each pair's two tangential speeds (and their gated copies) turned by the first free
        joint's heading (``c`` grouped by kind, :data:`~mosim.models.contact.FEATURE_KINDS`)."""
        assert self.heading is not None and self.contact is not None
        k = self.contact.geometry.n_pairs
        cos, sin = (x.unsqueeze(-1) for x in self.heading.cos_sin(q))
        parts = list(c.split(k, dim=-1))
        for t1, t2 in TANGENTIAL_SPEEDS:
            parts[t1], parts[t2] = rotate_xy(parts[t1], parts[t2], cos, sin, inverse=False)
        return torch.cat(parts, dim=-1)

    def action_features(self, q: Tensor, v: Tensor, a: Tensor) -> Tensor:
        """``a``, then the actuator forces of ``(q, v, a)`` if the map has an actuation. ``-> (..., action_dim)``."""
        if self.actuator is None:
            return a
        q = self._check_q(q)
        return torch.cat((a, self.to_heading(q, self.actuator(q, self.velocities(v), a))), dim=-1)

    def forward(self, q: Tensor, v: Tensor) -> Tensor:
        return torch.cat((self.positions(q), self.velocity_features(q, v)), dim=-1)

    def extra_repr(self) -> str:
        i = self.index
        return (
            f"raw={len(i.raw)}, sincos={len(i.angles)}, free={len(i.free_quats)}, ball={len(i.ball_quats)}, "
            f"limits={len(i.limited)}, contact_pairs={0 if self.contact is None else self.contact.geometry.n_pairs}, "
            f"actuator_forces={self.actuator is not None}, heading_frame={self.heading is not None}, "
            f"limit_velocity={self.limit_velocity}, "
            f"position_dim={self.position_feature_dim}, velocity_dim={self.velocity_feature_dim}"
        )


def position_feature_dim(layout: JointLayout, limit_features: bool = True) -> int:
    """Number of position features of a layout."""
    return FeatureIndex.from_layout(layout, limit_features).position_dim


def feature_dim(layout: JointLayout, limit_features: bool = True) -> int:
    """Number of position plus velocity features of a layout."""
    return position_feature_dim(layout, limit_features) + layout.nv
