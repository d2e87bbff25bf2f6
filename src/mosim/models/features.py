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

- velocity features: ``v`` itself (``nv`` numbers).

The pure function :func:`position_features` does the work from precomputed index tensors;
:class:`StateFeatures` precomputes them from a :class:`~mosim.systems.layout.JointLayout` and
holds them as (non-persistent) buffers, so they move with the model's device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mosim.errors import InvalidInputError
from mosim.models.quaternion import gravity_in_body_frame, rotation_6d
from mosim.systems.layout import BALL, FREE, HINGE, QPOS_WIDTH, SLIDE, JointLayout


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

    @classmethod
    def from_layout(cls, layout: JointLayout) -> FeatureIndex:
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
        return cls(tuple(raw), tuple(angles), tuple(free_quats), tuple(ball_quats))

    @property
    def position_dim(self) -> int:
        return len(self.raw) + 2 * len(self.angles) + 3 * len(self.free_quats) + 6 * len(self.ball_quats)

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
        return out


def _quat_block(q: Tensor, starts: Tensor) -> Tensor:
    """Gather quaternions: ``q (..., nq)``, ``starts (k,)`` -> ``(..., k, 4)``."""
    idx = starts.unsqueeze(-1) + torch.arange(4, device=starts.device)
    return q[..., idx]


def position_features(q: Tensor, raw: Tensor, angles: Tensor, free_quats: Tensor, ball_quats: Tensor) -> Tensor:
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
    return torch.cat(parts, dim=-1)


class StateFeatures(nn.Module):
    """Feature map of one joint layout. ``positions(q (..., nq)) -> (..., position_dim)``;
    ``velocities(v (..., nv)) -> (..., nv)``; ``forward(q, v) -> (..., feature_dim)``."""

    raw: Tensor
    angles: Tensor
    free_quats: Tensor
    ball_quats: Tensor

    def __init__(self, layout: JointLayout) -> None:
        super().__init__()
        self.layout = layout
        self.index = FeatureIndex.from_layout(layout)
        for name in ("raw", "angles", "free_quats", "ball_quats"):
            self.register_buffer(name, torch.tensor(getattr(self.index, name), dtype=torch.long), persistent=False)

    @property
    def position_feature_dim(self) -> int:
        return self.index.position_dim

    @property
    def velocity_feature_dim(self) -> int:
        return self.layout.nv

    @property
    def feature_dim(self) -> int:
        return self.position_feature_dim + self.velocity_feature_dim

    def positions(self, q: Tensor) -> Tensor:
        if q.shape[-1] != self.layout.nq:
            raise InvalidInputError(f"qpos must have last dimension nq={self.layout.nq}, got shape {tuple(q.shape)}")
        return position_features(q, self.raw, self.angles, self.free_quats, self.ball_quats)

    def velocities(self, v: Tensor) -> Tensor:
        if v.shape[-1] != self.layout.nv:
            raise InvalidInputError(f"qvel must have last dimension nv={self.layout.nv}, got shape {tuple(v.shape)}")
        return v

    def forward(self, q: Tensor, v: Tensor) -> Tensor:
        return torch.cat((self.positions(q), self.velocities(v)), dim=-1)

    def extra_repr(self) -> str:
        i = self.index
        return (
            f"raw={len(i.raw)}, sincos={len(i.angles)}, free={len(i.free_quats)}, ball={len(i.ball_quats)}, "
            f"position_dim={self.position_feature_dim}, velocity_dim={self.velocity_feature_dim}"
        )


def position_feature_dim(layout: JointLayout) -> int:
    """Number of position features of a layout."""
    return FeatureIndex.from_layout(layout).position_dim


def feature_dim(layout: JointLayout) -> int:
    """Number of position plus velocity features of a layout."""
    return position_feature_dim(layout) + layout.nv
