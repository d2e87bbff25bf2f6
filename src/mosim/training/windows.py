"""Windows of consecutive transitions from a dataset, as torch tensors.

Training samples windows uniformly over (episode, start) with a ``torch.Generator`` (whose state
is checkpointed, so a resumed run draws the same batches); validation uses a fixed, seeded set.
A window never crosses an episode's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError
from mosim.integrators.positions import integrate_positions
from mosim.models.features import FeatureIndex
from mosim.systems.layout import JointLayout


@dataclass(frozen=True)
class Windows:
    """A batch of windows: ``qpos (B, L+1, nq)``, ``qvel (B, L+1, nv)``, ``action (B, L, nu)``."""

    qpos: Tensor
    qvel: Tensor
    action: Tensor

    @property
    def length(self) -> int:
        return int(self.action.shape[1])


class WindowSampler:
    """Random windows of ``length`` transitions from one split, kept on ``device`` as ``dtype``."""

    def __init__(self, dataset: Dataset, split: str, device: torch.device, dtype: torch.dtype = torch.float32,
                 max_episodes: int | None = None, speed_sampling: float = 0.0, limit_sampling: float = 0.0) -> None:
        part = dataset.subset(split)
        n = part.n_episodes if max_episodes is None else min(part.n_episodes, max_episodes)
        if n == 0:
            raise InvalidInputError(f"{dataset.path}: no {split!r} episodes to train on")
        self.qpos = torch.as_tensor(part.qpos[:n], dtype=dtype, device=device)
        self.qvel = torch.as_tensor(part.qvel[:n], dtype=dtype, device=device)
        self.action = torch.as_tensor(part.action[:n], dtype=dtype, device=device)
        self.n_episodes, self.steps = n, int(part.action.shape[1])
        for name, x in (("speed_sampling", speed_sampling), ("limit_sampling", limit_sampling)):
            if x < 0:
                raise InvalidInputError(f"{name} must be >= 0, got {x}")
        self.start_weights = None
        if speed_sampling:
            self.start_weights = speed_weights(self.qvel[:, :-1], speed_sampling)
        if limit_sampling:
            lw = limit_weights(self.qpos, dataset.spec.layout, limit_sampling)
            self.start_weights = lw if self.start_weights is None else self.start_weights + lw - 1.0
        self._cdf: dict[int, Tensor] = {}

    def sample(self, batch: int, length: int, generator: torch.Generator) -> Windows:
        if length > self.steps:
            raise InvalidInputError(f"window length {length} exceeds the episode length {self.steps}")
        if self.start_weights is None:
            ep = torch.randint(self.n_episodes, (batch,), generator=generator).to(self.qpos.device)
            t0 = torch.randint(self.steps - length + 1, (batch,), generator=generator).to(self.qpos.device)
        else:
            n_starts = self.steps - length + 1
            if n_starts not in self._cdf:  # cumulative weights of the flattened starts, float64
                self._cdf[n_starts] = self.start_weights[:, :n_starts].reshape(-1).cpu().double().cumsum(0)
            cdf = self._cdf[n_starts]
            u = torch.rand(batch, generator=generator, dtype=torch.float64) * cdf[-1]
            flat = torch.searchsorted(cdf, u, right=True).clamp_max(len(cdf) - 1).to(self.qpos.device)
            ep, t0 = flat // n_starts, flat % n_starts
        return gather(self.qpos, self.qvel, self.action, ep, t0, length)


def speed_weights(qvel: Tensor, alpha: float) -> Tensor:
    """Sampling weights of start states ``qvel (..., nv)``: ``1 + alpha * mean_i (v_i / std_i)^2``.

    Fast states are rare in random-action data, and a rollout's error grows fastest from them: the
    100-step error of a chaotic system (acrobot) is mostly a few fast windows. With ``alpha > 0`` training
    draws them more often, in proportion to their kinetic-energy-like speed (standardized per joint)."""
    flat = qvel.reshape(-1, qvel.shape[-1]).double()
    std = flat.std(dim=0).clamp_min(1e-12)
    return (1.0 + alpha * ((qvel.double() / std) ** 2).mean(-1)).float()


def at_limit(qpos: Tensor, layout: JointLayout) -> Tensor:
    """Whether any limited hinge or slide joint of ``qpos (..., nq)`` is at or past an end of its range, where
    MuJoCo's limit constraint acts (with the default margin of 0): ``(...)`` booleans. The joints and ranges are
    those of the models' limit features (:class:`~mosim.models.features.FeatureIndex`)."""
    index = FeatureIndex.from_layout(layout)
    if not index.limited:
        return torch.zeros(qpos.shape[:-1], dtype=torch.bool, device=qpos.device)
    q = qpos[..., list(index.limited)]
    lo = torch.tensor(index.lower, dtype=q.dtype, device=q.device)
    hi = torch.tensor(index.upper, dtype=q.dtype, device=q.device)
    return ((q <= lo) | (q >= hi)).any(-1)


def limit_weights(qpos: Tensor, layout: JointLayout, beta: float) -> Tensor:
    """Sampling weights of the starts of ``qpos (E, T+1, nq)``: ``1 + beta`` for a transition ``t -> t+1`` during
    which a joint limit acts (at either end), else 1: ``(E, T)``.

    Such transitions are rare in random-action data (7% of reacher's, 1% where the limit starts or stops acting)
    yet hold most of a model's one-step error there (results/predictability.md); with ``beta > 0`` training sees
    them more often."""
    active = at_limit(qpos, layout)
    return 1.0 + beta * (active[:, :-1] | active[:, 1:]).float()


def perturb_start(windows: Windows, layout: JointLayout, q_scale: Tensor, v_scale: Tensor, sigma: float,
                  generator: torch.Generator) -> Windows:
    """``windows`` with Gaussian noise on their start states, for training (``TrainConfig.input_noise``).

    A learned simulator's rollout feeds it its own, slightly wrong states; trained only on recorded states it has
    never seen one, and its errors compound (the training noise of Sanchez-Gonzalez et al., 2020, "Learning to
    simulate complex physics with graph networks"). Each window's start velocity gets noise of std ``sigma *
    v_scale`` and its positions a tangent displacement of std ``sigma * q_scale`` (``(nv,)`` each, the one-step
    changes' scales), integrated as MuJoCo integrates positions, so quaternions stay unit. The displacement moves
    the whole window's positions (the targets shift with it: a position error persists, the model is not asked to
    undo it in a step); the velocity targets stay as recorded, so the model learns to bring a perturbed velocity
    back to the data's. The noise is drawn on the CPU from ``generator`` (checkpointed: a resumed run draws the
    same)."""
    b, nv = windows.qvel.shape[0], windows.qvel.shape[-1]
    dq, dv = (torch.randn(b, nv, generator=generator).to(windows.qvel) * sigma * s for s in (q_scale, v_scale))
    qpos = integrate_positions(layout, windows.qpos, dq.unsqueeze(1).expand_as(windows.qvel), 1.0)
    qvel = torch.cat([windows.qvel[:, :1] + dv.unsqueeze(1), windows.qvel[:, 1:]], dim=1)
    return Windows(qpos, qvel, windows.action)


def gather(qpos: Tensor, qvel: Tensor, action: Tensor, ep: Tensor, t0: Tensor, length: int) -> Windows:
    """Windows starting at ``(ep[i], t0[i])`` of ``length`` transitions."""
    offsets = torch.arange(length + 1, device=qpos.device)
    t = t0[:, None] + offsets[None, :]
    e = ep[:, None]
    return Windows(qpos[e, t], qvel[e, t], action[e, t[:, :-1]])


def fixed_windows(dataset: Dataset, split: str, horizon: int, n: int, seed: int,
                  dtype: torch.dtype = torch.float64) -> Windows:
    """``n`` windows of ``horizon`` transitions at seeded random starts in the episodes of ``split``."""
    part = dataset.subset(split)
    if part.n_episodes == 0:
        raise InvalidInputError(f"{dataset.path}: no {split!r} episodes for validation windows")
    if horizon > part.steps:
        raise InvalidInputError(f"horizon {horizon} exceeds the episode length {part.steps}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, horizon, 0xA11]))
    ep = rng.integers(part.n_episodes, size=n)
    t0 = rng.integers(part.steps - horizon + 1, size=n)
    tensors = [torch.as_tensor(a, dtype=dtype) for a in (part.qpos, part.qvel, part.action)]
    return gather(*tensors, torch.as_tensor(ep), torch.as_tensor(t0), horizon)
