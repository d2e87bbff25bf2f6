"""The model file's constants as parameters: factors on them, learned from the data with the networks.

A model that computes its mechanics from the robot's MuJoCo model file (``known_inertia``, ``known_bias``, the
actuators' forces, the solved contacts and limits) is as right as the file. A real robot is heavier or lighter than
its file says, its motors weaker, its joints more damped, its floor slipperier; a network that adds a force can
correct some of that, but not a constraint it does not solve (a contact's friction cone stays the file's), and
every error of M(q) becomes a force to learn that depends on the whole state and action. With
:attr:`~mosim.models.config.ModelConfig.identify` the model learns factors on those constants instead, each
``exp(s)`` with ``s`` a parameter starting at 0 (the untrained model is still the file's physics), trained by
gradient through the step and its solves with the networks (the predictor's stage) -- the classic grey-box system
identification, here with the learned residual on top:

- ``mass``: each body's mass and inertia, by one factor per body (M(q), the bias forces and the scales of the limits',
  floor contacts' and dry friction's regularizers follow, MuJoCo's ``invweight0``; the joint equalities' and the
  robot's contacts with itself keep the file's);
- ``actuators``: each actuator's force, one factor per actuator (a motor's gear, a servo's gains);
- ``damping``: each dof's damping, one factor per dof (implicit in the solve or explicit, as the model integrates
  it);
- ``friction``: each floor contact pair's sliding friction (its cone's rows and their regularization).

:meth:`~mosim.models.simulator.NeuralSimulator.identified` reads the factors learned.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

IDENTIFIABLE = ("mass", "actuators", "damping", "friction")
"""the constants :attr:`~mosim.models.config.ModelConfig.identify` can learn factors on"""


class LogScales(nn.Module):
    """``n`` factors ``exp(s)`` on a constant, ``s (n,)`` a parameter starting at 0."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(int(n)))

    def forward(self, dtype: torch.dtype) -> Tensor:
        """The factors ``(n,)`` in ``dtype`` (differentiable)."""
        return self.log_scale.to(dtype).exp()

    def extra_repr(self) -> str:
        return f"n={self.log_scale.numel()}"


def optimizer_groups(model: nn.Module, params: list[nn.Parameter], factor_lr_scale: float) -> list[dict]:
    """An optimizer's groups of ``params``: the networks', and the factors of ``model`` among them with
    ``lr_scale`` (the factor on the learning rate the caller applies) ``factor_lr_scale``, where it has any."""
    factors = {id(m.log_scale) for m in model.modules() if isinstance(m, LogScales)}
    nets = [p for p in params if id(p) not in factors]
    own = [p for p in params if id(p) in factors]
    return ([{"params": nets}] if nets or not own else []) + (
        [{"params": own, "lr_scale": factor_lr_scale}] if own else [])


def scaled(value: Tensor, scales: LogScales | None) -> Tensor:
    """``value (n, ...)`` times its factors along the first dimension (``value`` itself without factors)."""
    if scales is None:
        return value
    factor = scales(value.dtype)
    return value * factor.reshape(-1, *([1] * (value.dim() - 1)))


__all__ = ["IDENTIFIABLE", "LogScales", "optimizer_groups", "scaled"]
