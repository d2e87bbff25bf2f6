"""Training losses and the rollout error metric (pure functions of predictions and targets).

Errors are measured per state entry in standardized units: positions as tangent differences
(``q_true ⊖ q_pred``, so quaternions compare as rotations) divided by the standard deviation of the
one-step position change, velocities divided by that of the one-step velocity change. In these units
every entry of a one-step prediction has unit variance, whatever its physical scale. The k-step
rollout loss weights step ``t`` by ``1/t``: errors of a rollout grow with ``t``, and the weight keeps
late steps from drowning out the early ones.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mosim.models.tangent import position_difference
from mosim.systems.layout import JointLayout


def per_entry_scale(scale: Tensor) -> Tensor:
    """Each entry's own scale: every entry of a one-step prediction counts alike (the default)."""
    return scale


def common_scale(scale: Tensor) -> Tensor:
    """One scale for all entries, the root mean square of theirs: the loss then weighs the entries' errors as the
    raw-state metric does (the paper's MSE on raw ``qpos``/``qvel``), where entries with large changes dominate."""
    return scale.pow(2).mean().sqrt().expand_as(scale).clone()


ERROR_SCALES = {"standardized": per_entry_scale, "raw": common_scale}
"""``TrainConfig.error_scale``: how the trajectory loss scales the errors of the state entries, applied to the
position and the velocity scales separately (positions and velocities keep their balance)"""


def standardized_errors(
    layout: JointLayout, q_pred: Tensor, v_pred: Tensor, q_true: Tensor, v_true: Tensor,
    q_scale: Tensor, v_scale: Tensor,
) -> tuple[Tensor, Tensor]:
    """Position and velocity errors in standardized units: ``(..., nv)`` each."""
    eq = position_difference(layout, q_pred, q_true) / q_scale
    ev = (v_true - v_pred) / v_scale
    return eq, ev


def trajectory_loss(
    layout: JointLayout, q_pred: Tensor, v_pred: Tensor, q_true: Tensor, v_true: Tensor,
    q_scale: Tensor, v_scale: Tensor, position_weight: float = 1.0,
) -> Tensor:
    """Mean standardized squared error of predicted steps ``1..T``, step ``t`` weighted ``1/t``.

    ``q_* (B, T+1, nq)``, ``v_* (B, T+1, nv)`` including the start state at index 0 (not scored).
    With ``T = 1`` this is the one-step loss.
    """
    eq, ev = standardized_errors(layout, q_pred[:, 1:], v_pred[:, 1:], q_true[:, 1:], v_true[:, 1:], q_scale, v_scale)
    per_step = ev.pow(2).mean(-1) + position_weight * eq.pow(2).mean(-1)  # (B, T)
    t = torch.arange(1, per_step.shape[1] + 1, dtype=per_step.dtype, device=per_step.device)
    weights = (1.0 / t) / (1.0 / t).sum()
    return (per_step * weights).sum(-1).mean()


def rollout_mse_per_window(q_pred: Tensor, v_pred: Tensor, q_true: Tensor, v_true: Tensor) -> Tensor:
    """The paper's metric per window: MSE on raw ``(qpos, qvel)`` averaged over predicted steps ``1..H``
    and all state entries. Inputs ``(B, H+1, ·)`` with the start state at index 0; returns ``(B,)``."""
    err = torch.cat([q_pred[:, 1:] - q_true[:, 1:], v_pred[:, 1:] - v_true[:, 1:]], dim=-1)
    return err.pow(2).mean(dim=(-1, -2))
