"""Continue training a loaded model on new transitions (few-shot RL, Dyna), in place, with its own loss.

The model keeps its normalization statistics and its active correctors; the parameters of the predictor and
of the active correctors are trained jointly for a fixed number of gradient steps on windows of the new data
with :func:`mosim.training.losses.trajectory_loss` (or the model's own ``training_loss`` for the baselines),
the loss scales being the spread of the new data's one-step changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError
from mosim.loading import Simulator
from mosim.models.base import DynamicsModel
from mosim.models.identified import optimizer_groups
from mosim.models.normalization import compute_normalization
from mosim.training.losses import trajectory_loss
from mosim.training.windows import WindowSampler


@dataclass(frozen=True)
class FinetuneConfig:
    """How a model is updated on real transitions."""

    steps: int = 200
    """gradient steps per update (0: no update)"""
    lr: float = 1e-4
    batch_size: int = 256
    horizon: int = 1
    """transitions per training window (1: the one-step loss; k: the k-step rollout loss)"""
    chunk: int = 50
    """real trajectories are cut into dataset episodes of this many model steps"""
    grad_clip: float = 1.0
    factor_lr_scale: float = 10.0
    """the learning rate of the factors on the model file's constants (``ModelConfig.identify``) over the
    networks', as in training (:attr:`mosim.training.config.TrainConfig.factor_lr_scale`)"""

    def __post_init__(self) -> None:
        if self.steps < 0 or self.batch_size < 1 or self.horizon < 1 or self.chunk < self.horizon:
            raise InvalidInputError("FinetuneConfig: need steps >= 0, batch_size >= 1 and 1 <= horizon <= chunk")
        if not self.lr > 0:
            raise InvalidInputError(f"FinetuneConfig.lr must be > 0, got {self.lr}")
        if not self.factor_lr_scale > 0:
            raise InvalidInputError(f"FinetuneConfig.factor_lr_scale must be > 0, got {self.factor_lr_scale}")


@dataclass(frozen=True)
class FinetuneResult:
    steps: int
    loss_first: float
    """mean loss of the first tenth of the steps"""
    loss_last: float
    """mean loss of the last tenth of the steps"""


def trainable_parameters(model: DynamicsModel) -> list[torch.nn.Parameter]:
    """The predictor's and the active correctors' parameters (correctors switched off stay untouched)."""
    groups = model.parameter_groups()
    active = model.active_correctors if len(groups) > 1 else 0
    return [p for g in groups[: active + 1] for p in g]


def finetune(model: Simulator | DynamicsModel, dataset: Dataset, config: FinetuneConfig | None = None,
             seed: int = 0, **overrides: Any) -> FinetuneResult:
    """Train ``model`` in place for ``config.steps`` gradient steps on windows of ``dataset`` (all its episodes).

    :param overrides: fields of :class:`FinetuneConfig` (``steps=100, lr=3e-4``)
    """
    from dataclasses import replace

    config = replace(config or FinetuneConfig(), **overrides) if overrides else (config or FinetuneConfig())
    net: DynamicsModel = model.model if isinstance(model, Simulator) else model
    if dataset.spec.mismatches(net.spec):
        raise InvalidInputError(f"the data are of another system ({'; '.join(dataset.spec.mismatches(net.spec))})")
    if config.steps == 0:
        return FinetuneResult(0, float("nan"), float("nan"))
    if config.horizon > dataset.steps:
        raise InvalidInputError(f"horizon {config.horizon} exceeds the data's episodes of {dataset.steps} steps")
    device = next(net.parameters()).device
    everything = Dataset(dataset.meta, dataset.qpos, dataset.qvel, dataset.action,
                         np.zeros(dataset.n_episodes, dtype=np.uint8), dataset.path)
    stats = compute_normalization(everything, limit_features=False, heading_frame=False)  # the loss's world frame
    q_scale = stats.delta_q.std.to(device=device, dtype=torch.float32)
    v_scale = stats.delta_v.std.to(device=device, dtype=torch.float32)
    sampler = WindowSampler(everything, "train", device)
    gen = torch.Generator().manual_seed(seed)
    params = trainable_parameters(net)
    flags = [p.requires_grad for p in net.parameters()]
    for p in net.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    groups = optimizer_groups(net, params, config.factor_lr_scale)
    opt = torch.optim.Adam([{**g, "lr": config.lr * g.get("lr_scale", 1.0)} for g in groups], lr=config.lr)
    losses: list[float] = []
    net.train()
    try:
        for _ in range(config.steps):
            batch = sampler.sample(config.batch_size, config.horizon, gen)
            if hasattr(net, "training_loss"):
                loss = net.training_loss(batch, q_scale, v_scale)
            else:
                q, v = net.rollout(batch.qpos[:, 0], batch.qvel[:, 0], batch.action)
                loss = trajectory_loss(net.spec.layout, q, v, batch.qpos, batch.qvel, q_scale, v_scale)
            if not torch.isfinite(loss):
                raise InvalidInputError(f"fine-tuning loss became {loss.item()}; try a lower lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            opt.step()
            losses.append(loss.item())
    finally:
        net.eval()
        for p, f in zip(net.parameters(), flags):
            p.requires_grad_(f)
    k = max(1, len(losses) // 10)
    return FinetuneResult(len(losses), float(np.mean(losses[:k])), float(np.mean(losses[-k:])))


def save_simulator(sim: Simulator, path: Any, **extra: Any) -> Any:
    """Write the (fine-tuned) model as a checkpoint that :func:`mosim.load` reads (atomically)."""
    from mosim.training.checkpoint import save_checkpoint

    for key in ("spec", "model_config"):
        if key not in sim.info:
            raise InvalidInputError(f"the simulator lacks {key!r} in its info; it cannot be saved as a checkpoint")
    return save_checkpoint(path, {**sim.info, "model_state": sim.model.state_dict(),
                                  "active_correctors": sim.model.active_correctors, **extra})
