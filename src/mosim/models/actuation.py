"""MuJoCo's actuator forces in torch: the joint forces a control produces in a state.

:func:`actuator_forces` evaluates the formula of :mod:`mosim.systems.actuation` (MuJoCo's ``qfrc_actuator``
for actuators without activation dynamics); :class:`ActuatorForces` holds an :class:`Actuation`'s constants as
buffers. A model given them (``ModelConfig.actuator_features``) sees, next to the action, the force it actually
applies: for position servos that run into their force limits (the Panda's), a function of the action and the
state together that the action alone does not tell.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mosim.models.identified import LogScales, scaled
from mosim.systems.actuation import Actuation


def actuator_forces(q: Tensor, v: Tensor, a: Tensor, length_map: Tensor, moment: Tensor, gain: Tensor, bias: Tensor,
                    ctrl_low: Tensor, ctrl_high: Tensor, force_low: Tensor, force_high: Tensor, dof_low: Tensor,
                    dof_high: Tensor) -> Tensor:
    """``qfrc_actuator (..., nv)`` of ``q (..., nq)``, ``v (..., nv)``, ``a (..., nu)``; constants as in
    :class:`~mosim.systems.actuation.Actuation` (``length_map (nu, nq)``, ``moment (nu, nv)``, ``gain (nu,)``,
    ``bias (nu, 3)``, ranges ``(nu,)`` / ``(nv,)``, infinite where unlimited)."""
    force = torch.clamp(unclipped_forces(q, v, a, length_map, moment, gain, bias, ctrl_low, ctrl_high), force_low,
                        force_high)
    return torch.clamp(force @ moment, dof_low, dof_high)


def unclipped_forces(q: Tensor, v: Tensor, a: Tensor, length_map: Tensor, moment: Tensor, gain: Tensor, bias: Tensor,
                     ctrl_low: Tensor, ctrl_high: Tensor) -> Tensor:
    """Each actuator's force ``(..., nu)`` before its ``forcerange`` clips it (arguments as
    :func:`actuator_forces`')."""
    ctrl = torch.clamp(a, ctrl_low, ctrl_high)
    length, velocity = q @ length_map.T, v @ moment.T
    return gain * ctrl + bias[:, 0] + bias[:, 1] * length + bias[:, 2] * velocity


def velocity_damping(q: Tensor, v: Tensor, a: Tensor, length_map: Tensor, moment: Tensor, gain: Tensor, bias: Tensor,
                     ctrl_low: Tensor, ctrl_high: Tensor, force_low: Tensor, force_high: Tensor) -> Tensor:
    """``-∂qfrc_actuator/∂qvel (..., nv, nv)``: ``momentᵀ diag(-bias2) moment`` over the actuators whose force
    ``forcerange`` does not clip (a clipped force does not change with the velocity), the damping MuJoCo's
    implicitfast integrator adds to its step's (arguments as :func:`actuator_forces`')."""
    force = unclipped_forces(q, v, a, length_map, moment, gain, bias, ctrl_low, ctrl_high)
    gains = torch.where((force > force_low) & (force < force_high), -bias[:, 2], torch.zeros_like(force))
    return (moment.T * gains.unsqueeze(-2)) @ moment


class ActuatorForces(nn.Module):
    """``forward(q, v, a) -> qfrc_actuator (..., nv)`` of one :class:`Actuation` (constants in non-persistent
    buffers: they move and cast with the model, and the checkpoint keeps the :class:`Actuation` itself)."""

    _NAMES = ("length_map", "moment", "gain", "bias", "ctrl_low", "ctrl_high", "force_low", "force_high", "dof_low",
              "dof_high")

    def __init__(self, actuation: Actuation) -> None:
        super().__init__()
        self.actuation = actuation
        self.strength: LogScales | None = None
        """learned factors on the actuators' forces (``ModelConfig.identify``), where set"""
        ctrl, force, dof = (torch.tensor(r, dtype=torch.float64).reshape(-1, 2)
                            for r in (actuation.ctrl_range, actuation.force_range, actuation.dof_force_range))
        values = (torch.tensor(actuation.length_map, dtype=torch.float64).reshape(actuation.nu, -1),
                  torch.tensor(actuation.moment, dtype=torch.float64).reshape(actuation.nu, actuation.nv),
                  torch.tensor(actuation.gain, dtype=torch.float64),
                  torch.tensor(actuation.bias, dtype=torch.float64).reshape(actuation.nu, 3),
                  ctrl[:, 0], ctrl[:, 1], force[:, 0], force[:, 1], dof[:, 0], dof[:, 1])
        for name, value in zip(self._NAMES, values):
            self.register_buffer(name, value, persistent=False)

    @property
    def dim(self) -> int:
        return self.actuation.nv

    def _constants(self, dtype: torch.dtype, names: tuple[str, ...]) -> list[Tensor]:
        """The constants ``names`` in ``dtype``, the gain and the bias times the learned factors where set (the force
        before its range clips it, times the factor)."""
        return [scaled(getattr(self, n).to(dtype), self.strength) if n in ("gain", "bias") else getattr(self, n).to(dtype)
                for n in names]

    def forward(self, q: Tensor, v: Tensor, a: Tensor) -> Tensor:
        return actuator_forces(q, v, a, *self._constants(q.dtype, self._NAMES))

    def velocity_damping(self, q: Tensor, v: Tensor, a: Tensor) -> Tensor:
        """:func:`velocity_damping`: ``-∂ forward(q, v, a) / ∂v (..., nv, nv)``, where the dofs' clip
        (``actuatorfrcrange``) does not act."""
        names = tuple(n for n in self._NAMES if not n.startswith("dof_"))
        return velocity_damping(q, v, a, *self._constants(q.dtype, names))

    def extra_repr(self) -> str:
        return f"nu={self.actuation.nu}, nv={self.actuation.nv}, linear={self.actuation.is_linear}"
