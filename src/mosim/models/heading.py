"""The heading frame: free-floating robots seen the same whichever way they face.

On a flat floor under gravity, a robot's dynamics do not change when the whole robot turns about the vertical
axis. MuJoCo stores a free joint's linear velocity in the world frame, though, so a network fed ``qvel`` as it is
sees the same motion as different inputs for every heading, and cannot know which way its legs push (the
heading is not among the position features, which keep only the gravity direction in the body frame). On
humanoid-walk and Go2, whose random-action episodes start at random headings, the root's horizontal velocity
changes had the largest one-step errors of all state entries (on the humanoid, 5-minute models left 0.90 and 0.85
of their variance unexplained in the world frame, 0.62 and 0.59 in the heading frame).

With ``ModelConfig.heading_frame`` a model sees and predicts those vectors in the frame of the robot's heading:
the world frame turned about ``z`` by the heading ``ψ`` of the free joint's orientation, so ``z`` stays up and
the floor stays the ``xy`` plane. The heading is the twist about the world's ``z`` axis of the swing-twist
decomposition ``quat = twist(ψ) ⊗ swing`` (the swing about a horizontal axis): ``ψ = 2 atan2(z, w)``. It is
defined for every orientation but one, upside down (``w = z = 0``), where it falls back to ``ψ = 0``.

What turns with the heading: each free joint's linear velocity ``qvel[adr:adr+3]`` and, in the same places,
accelerations, velocity changes and the tangent-space position changes of :mod:`mosim.models.tangent` (the
angular parts are body-frame already); the tangential speeds of the contact features (by the first free joint's
heading). The integrators still evolve MuJoCo's own state: models turn their predictions back to the world frame.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mosim.systems.layout import FREE, JointLayout

_TINY = 1e-12


def heading_cos_sin(quat: Tensor) -> tuple[Tensor, Tensor]:
    """``cos ψ`` and ``sin ψ`` of the heading of unit or non-unit quaternions ``(..., 4)`` (``w, x, y, z``), each
    ``(...)``; ``ψ = 0`` where it is undefined (upside down)."""
    w, z = quat[..., 0], quat[..., 3]
    n2 = w * w + z * z
    undefined = n2 < _TINY
    n2 = torch.where(undefined, torch.ones_like(n2), n2)
    cos = torch.where(undefined, torch.ones_like(n2), (w * w - z * z) / n2)
    sin = torch.where(undefined, torch.zeros_like(n2), 2.0 * w * z / n2)
    return cos, sin


def rotate_xy(x: Tensor, y: Tensor, cos: Tensor, sin: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
    """The vector ``(x, y)`` turned by ``-ψ`` (world to heading frame; ``inverse``: by ``+ψ``, back)."""
    if inverse:
        return cos * x - sin * y, sin * x + cos * y
    return cos * x + sin * y, -sin * x + cos * y


class HeadingFrame:
    """The heading frames of a layout's free joints. ``to_heading(q, x)`` turns the linear part of every free
    joint of a velocity-like vector ``x (..., nv)`` into the frame of that joint's heading at ``q (..., nq)``;
    ``to_world`` turns it back. Identity (the same tensor) for layouts without a free joint."""

    def __init__(self, layout: JointLayout) -> None:
        free = [j for j, t in enumerate(layout.types) if t == FREE]
        self.quat_adr = tuple(layout.qpos_adr[j] + 3 for j in free)
        """``qpos`` index of each free joint's quaternion"""
        self.vel_adr = tuple(layout.qvel_adr[j] for j in free)
        """``qvel`` index of each free joint's linear velocity"""

    @property
    def active(self) -> bool:
        return bool(self.quat_adr)

    def cos_sin(self, q: Tensor, joint: int = 0) -> tuple[Tensor, Tensor]:
        """``cos ψ``, ``sin ψ`` of free joint number ``joint`` (in layout order) at ``q (..., nq)``."""
        a = self.quat_adr[joint]
        return heading_cos_sin(q[..., a:a + 4])

    def _turn(self, q: Tensor, x: Tensor, inverse: bool) -> Tensor:
        if not self.active:
            return x
        out = x.clone()
        for k, va in enumerate(self.vel_adr):
            cos, sin = self.cos_sin(q, k)
            out[..., va], out[..., va + 1] = rotate_xy(x[..., va], x[..., va + 1], cos, sin, inverse)
        return out

    def to_heading(self, q: Tensor, x: Tensor) -> Tensor:
        """``x (..., nv)`` with each free joint's linear part in its heading frame."""
        return self._turn(q, x, inverse=False)

    def to_world(self, q: Tensor, x: Tensor) -> Tensor:
        """The inverse of :meth:`to_heading`."""
        return self._turn(q, x, inverse=True)


def isotropic_scale(layout: JointLayout, scale: Tensor) -> Tensor:
    """A per-entry scale ``(nv,)`` of velocity-like errors with each free joint's ``x`` and ``y`` entries replaced by
    their root mean square: measured in heading frames (forward and sideways may differ), it then weighs an error
    in MuJoCo's world frame the same whichever way it points."""
    out = scale.clone()
    for j in HeadingFrame(layout).vel_adr:
        out[j] = out[j + 1] = torch.sqrt((scale[j] ** 2 + scale[j + 1] ** 2) / 2)
    return out
