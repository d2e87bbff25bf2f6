"""Standardization of network inputs and targets, and its statistics from a dataset.

A :class:`Normalizer` holds a per-dimension ``mean`` and ``std`` as buffers (saved in the
``state_dict``, moved and cast with the module). ``std`` is floored at ``min_std`` so constant
dimensions do not blow up. :func:`compute_normalization` measures everything a model needs from
a dataset's training split: position and velocity features of the states, actions,
finite-difference accelerations ``(v[t+1] - v[t]) / dt``, and the one-step changes of the state
(``q1 ⊖ q0`` in tangent coordinates, ``v1 - v0``) for models that predict state changes.

Statistics measured from data also keep each dimension's range (``low``, ``high``). A normalizer given
``bounded=True`` turns that range, widened by :data:`BOUND_MARGIN` of its width on each side, into
:meth:`Normalizer.bound`, a clamp in normalized units: models clamp what their networks see and what
they predict to what the data covered, so a rollout that leaves the data saturates instead of
extrapolating the networks into a blow-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError
from mosim.models.features import StateFeatures
from mosim.models.tangent import position_difference
from mosim.systems import with_mechanics
from mosim.systems.actuation import Actuation
from mosim.systems.base import SystemSpec
from mosim.systems.geometry import ContactGeometry

if TYPE_CHECKING:
    from mosim.models.config import ModelConfig

MIN_STD = 1e-3
"""Default floor of a standard deviation (in the raw units of the quantity)."""

BOUND_MARGIN = 0.1
"""How far past the data's range (as a share of its width, each side) :meth:`Normalizer.bound` lets values go."""

STATE_BOUND_MARGIN = 1.0
"""The same for a bounded model's predicted state (:func:`bound_state`): wide, since a real system may well go
past its training data (a policy runs faster than random actions did: cheetah's policy data spans 1.5x the random
data's speeds), while a runaway rollout goes far past it (27x on Go2)."""


@dataclass(frozen=True)
class MeanStd:
    """Per-dimension statistics: ``mean (D,)`` and ``std (D,)`` (float64 tensors, std already floored), and the
    range ``low (D,)``, ``high (D,)`` of the samples when measured from data (``None`` otherwise)."""

    mean: Tensor
    std: Tensor
    low: Tensor | None = None
    high: Tensor | None = None

    def __post_init__(self) -> None:
        if self.mean.dim() != 1 or self.mean.shape != self.std.shape:
            raise InvalidInputError(
                f"mean and std must be two (D,) tensors, got {tuple(self.mean.shape)} and {tuple(self.std.shape)}"
            )
        if not (torch.isfinite(self.mean).all() and torch.isfinite(self.std).all() and (self.std > 0).all()):
            raise InvalidInputError("mean and std must be finite and std > 0")
        if (self.low is None) != (self.high is None):
            raise InvalidInputError("give both low and high, or neither")
        if self.low is not None and self.high is not None:
            if self.low.shape != self.mean.shape or self.high.shape != self.mean.shape:
                raise InvalidInputError(f"low and high must have shape {tuple(self.mean.shape)}")
            if not (self.low <= self.high).all():
                raise InvalidInputError("low must be <= high in every dimension")

    @classmethod
    def of(cls, samples: Tensor, min_std: float = MIN_STD) -> MeanStd:
        """Statistics of ``samples (..., D)`` over all leading dimensions."""
        if samples.dim() < 2:
            raise InvalidInputError(f"samples must have shape (..., D) (2+ dimensions), got {tuple(samples.shape)}")
        x = samples.detach().to(torch.float64).reshape(math.prod(samples.shape[:-1]), samples.shape[-1])
        if x.shape[0] == 0:
            raise InvalidInputError("cannot compute statistics of zero samples")
        if not torch.isfinite(x).all():
            raise InvalidInputError("samples for normalization statistics contain NaN or inf")
        return cls(x.mean(0), x.std(0, unbiased=False).clamp_min(min_std), x.min(0).values, x.max(0).values)

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])


@dataclass(frozen=True)
class NormalizationStats:
    """All statistics a model needs; see :func:`compute_normalization`."""

    position: MeanStd
    """position features ``(P,)``"""
    velocity: MeanStd
    """velocity features ``(nv,)``, or ``(nv + contact and limit velocity features,)``
    (:meth:`StateFeatures.velocity_features`)"""
    action: MeanStd
    """action features ``(nu,)``, or ``(nu + nv,)`` with the actuator forces (:meth:`StateFeatures.action_features`)"""
    acceleration: MeanStd
    """finite-difference accelerations ``(v[t+1] - v[t]) / dt``, ``(nv,)`` (these and the changes below in the
    heading frame of ``q[t]`` for models that see it, :meth:`StateFeatures.to_heading`)"""
    delta_q: MeanStd
    """one-step position changes in tangent coordinates ``q[t+1] ⊖ q[t]``, ``(nv,)``"""
    delta_v: MeanStd
    """one-step velocity changes ``v[t+1] - v[t]``, ``(nv,)``"""


class Normalizer(nn.Module):
    """``normalize(x) = (x - mean) / std`` and its inverse, over the last dimension ``(..., D)``."""

    mean: Tensor
    std: Tensor
    low: Tensor
    high: Tensor

    def __init__(self, dim: int, min_std: float = MIN_STD) -> None:
        super().__init__()
        if min_std <= 0:
            raise InvalidInputError(f"min_std must be > 0, got {min_std}")
        self.dim = int(dim)
        self.min_std = float(min_std)
        self.register_buffer("mean", torch.zeros(self.dim))
        self.register_buffer("std", torch.ones(self.dim))
        # bounds of bound(), normalized units; infinite (no clamp) unless set from data
        self.register_buffer("low", torch.full((self.dim,), -math.inf))
        self.register_buffer("high", torch.full((self.dim,), math.inf))

    @classmethod
    def from_stats(cls, stats: MeanStd | None, dim: int, min_std: float = MIN_STD, bounded: bool = False) -> Normalizer:
        """A normalizer set to ``stats`` (identity when ``stats`` is None, e.g. before loading a checkpoint);
        ``bounded``: :meth:`bound` clamps to the range of ``stats`` (widened by :data:`BOUND_MARGIN`)."""
        out = cls(dim, min_std)
        if stats is not None:
            out.set_stats(stats, bounded)
        return out

    def set_stats(self, stats: MeanStd, bounded: bool = False) -> Normalizer:
        """Copy ``stats`` into the buffers (taken as they are: :meth:`MeanStd.of` already floors std); with
        ``bounded``, also the range of ``stats`` for :meth:`bound` (statistics without a range leave it unbounded)."""
        if stats.dim != self.dim:
            raise InvalidInputError(f"statistics of dimension {stats.dim} for a normalizer of dimension {self.dim}")
        with torch.no_grad():
            self.mean.copy_(stats.mean)
            self.std.copy_(stats.std)
            if bounded and stats.low is not None and stats.high is not None:
                low, high = (stats.low - stats.mean) / stats.std, (stats.high - stats.mean) / stats.std
                margin = BOUND_MARGIN * (high - low)
                self.low.copy_(low - margin)
                self.high.copy_(high + margin)
            else:
                self.low.fill_(-math.inf)
                self.high.fill_(math.inf)
        return self

    @property
    def is_bounded(self) -> bool:
        return bool(torch.isfinite(self.low).any() or torch.isfinite(self.high).any())

    def bound(self, y: Tensor) -> Tensor:
        """``y (..., D)`` in normalized units, clamped to the bounds (identity when unbounded)."""
        return torch.clamp(y, self.low.to(y.dtype), self.high.to(y.dtype))

    def bound_raw(self, x: Tensor, dims: slice = slice(None), margin: float = BOUND_MARGIN) -> Tensor:
        """``x`` in raw units, clamped to the data's range of dimensions ``dims`` (all by default) widened by
        ``margin`` of its width on each side (identity, bit for bit, when unbounded)."""
        low, high = (self.mean[dims] + self.std[dims] * b[dims] for b in (self.low, self.high))
        if margin != BOUND_MARGIN:
            extra = (margin - BOUND_MARGIN) * (high - low) / (1 + 2 * BOUND_MARGIN)
            low, high = low - extra, high + extra
        return torch.clamp(x, low.to(x.dtype), high.to(x.dtype))

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        # checkpoints written before normalizers had bounds: load them unbounded
        for name, fill in (("low", -math.inf), ("high", math.inf)):
            if prefix + "mean" in state_dict and prefix + name not in state_dict:
                state_dict[prefix + name] = torch.full_like(state_dict[prefix + "mean"], fill)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def fit(self, samples: Tensor) -> Normalizer:
        """Set mean and std from ``samples (..., D)``. Returns ``self``."""
        if samples.shape[-1] != self.dim:
            raise InvalidInputError(f"samples have last dimension {samples.shape[-1]}, expected {self.dim}")
        return self.set_stats(MeanStd.of(samples, self.min_std))

    def normalize(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def denormalize(self, y: Tensor) -> Tensor:
        return y * self.std + self.mean

    def forward(self, x: Tensor) -> Tensor:
        return self.normalize(x)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, min_std={self.min_std:g}"


def bound_state(features: StateFeatures, position_norm: Normalizer, velocity_norm: Normalizer, q: Tensor,
                v: Tensor) -> tuple[Tensor, Tensor]:
    """A predicted state ``q (..., nq)``, ``v (..., nv)`` with the coordinates fed raw to the networks (slides,
    limited hinges, a free joint's height) and the velocities clamped to the data's range widened by
    :data:`STATE_BOUND_MARGIN` (raw units, in the frame the networks see them in, :meth:`StateFeatures.to_heading`;
    identity for unbounded normalizers): a rollout that leaves the data cannot spin up without end."""
    raw = features.raw
    if raw.numel():
        q = q.clone()
        q[..., raw] = position_norm.bound_raw(q[..., raw], slice(0, raw.numel()), STATE_BOUND_MARGIN)
    w = velocity_norm.bound_raw(features.to_heading(q, v), slice(0, v.shape[-1]), STATE_BOUND_MARGIN)
    return q, features.to_world(q, w)


def add_state_normalizers(module: nn.Module, stats: NormalizationStats | None, position_dim: int, nv: int, nu: int,
                          dt: float, bounded: bool = False, velocity_dim: int | None = None) -> None:
    """Give ``module`` the normalizers of a model predicting state changes: ``position_norm``, ``velocity_norm``,
    ``action_norm``, ``delta_q_norm`` and ``delta_v_norm`` (identity when ``stats`` is None, to be loaded);
    ``bounded``: all but the action's get the data's range for :meth:`Normalizer.bound`."""
    module.position_norm = Normalizer.from_stats(stats.position if stats else None, position_dim, bounded=bounded)
    wdim = nv if velocity_dim is None else velocity_dim
    module.velocity_norm = Normalizer.from_stats(stats.velocity if stats else None, wdim, bounded=bounded)
    module.action_norm = Normalizer.from_stats(stats.action if stats else None, nu)
    module.delta_q_norm = Normalizer.from_stats(stats.delta_q if stats else None, nv, MIN_STD * dt, bounded)
    module.delta_v_norm = Normalizer.from_stats(stats.delta_v if stats else None, nv, MIN_STD * dt, bounded)


def transitions(dataset: Dataset, split: str = "train") -> dict[str, Tensor]:
    """The transitions of one split as float64 tensors, flattened over episodes and time:
    ``q0, q1 (N, nq)``, ``v0, v1 (N, nv)``, ``action (N, nu)``."""
    part = dataset.subset(split)
    if part.n_episodes == 0:
        raise InvalidInputError(f"the dataset has no {split!r} episodes to compute normalization statistics from")
    qpos, qvel, action = (
        torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)) for a in (part.qpos, part.qvel, part.action)
    )
    nq, nv, nu = qpos.shape[-1], qvel.shape[-1], action.shape[-1]
    return {
        "q0": qpos[:, :-1].reshape(-1, nq),
        "q1": qpos[:, 1:].reshape(-1, nq),
        "v0": qvel[:, :-1].reshape(-1, nv),
        "v1": qvel[:, 1:].reshape(-1, nv),
        "action": action.reshape(-1, nu),
    }


LIMIT_DEPTH_SCALE = 0.1
"""Scale of the joint-limit depth features (rad or m). Limits are hit rarely, so the data's spread of
these features can be tiny; standardizing by it would blow the rare active values up by orders of
magnitude (and diverge an untrained model). They get mean 0 and this fixed scale; indicators stay 0/1."""


def _position_stats(features: StateFeatures, q: Tensor, min_std: float) -> MeanStd:
    stats = MeanStd.of(features.positions(q), min_std)
    n_lim = len(features.index.limited)
    if n_lim == 0:
        return stats
    mean, std = stats.mean.clone(), stats.std.clone()
    mean[-4 * n_lim :] = 0.0
    std[-4 * n_lim : -2 * n_lim] = LIMIT_DEPTH_SCALE
    std[-2 * n_lim :] = 1.0
    return MeanStd(mean, std, stats.low, stats.high)


CONTACT_DEPTH_SCALE = 0.01
"""Scale of the contact depth features (m): as for the joint limits, mean 0 and this fixed scale (MuJoCo's soft
contacts sink millimetres to centimetres: cheetah's and Go2's feet 2 to 10 mm at the median, 2 to 3 cm at the 99th
percentile, random actions); the touching indicators stay 0/1, and the speeds of touching geoms get mean 0 and the
scale of the same speeds ungated."""


def _velocity_stats(features: StateFeatures, q: Tensor, v: Tensor, min_std: float, chunk: int = 50_000) -> MeanStd:
    """Statistics of the velocity features as the networks see them (in the heading frame with ``heading_frame``);
    gated features (a contact point's speed while touching, a joint's velocity past a limit) get mean 0 and the
    spread of the same quantity ungated: what rarely happens has a tiny spread of its own."""
    if features.contact is None and features.heading is None and not features.limit_velocity:
        return MeanStd.of(features.velocities(v), min_std)
    x = torch.cat([features.velocity_features(q[i:i + chunk], v[i:i + chunk]) for i in range(0, len(q), chunk)])
    stats = MeanStd.of(x, min_std)
    nv = features.layout.nv
    mean, std = stats.mean.clone(), stats.std.clone()
    if features.contact is not None:
        k = features.contact.geometry.n_pairs
        depth, touching = slice(nv + k, nv + 2 * k), slice(nv + 2 * k, nv + 3 * k)
        speed, gated = slice(nv + 3 * k, nv + 6 * k), slice(nv + 6 * k, nv + 9 * k)
        mean[depth], std[depth] = 0.0, CONTACT_DEPTH_SCALE
        mean[touching], std[touching] = 0.0, 1.0
        mean[gated], std[gated] = 0.0, std[speed]
    if features.limit_velocity:
        n = features.limit_velocity_dim
        mean[-n:], std[-n:] = 0.0, std[:nv][features.limited_dofs].repeat(2)
    return MeanStd(mean, std, stats.low, stats.high)


def model_inputs(dataset: Dataset, config: ModelConfig) -> tuple[SystemSpec, NormalizationStats]:
    """What a fresh model of ``config`` on ``dataset`` is built from: the dataset's spec, with the contact geometry,
    the actuation and the limit constraints the model needs (:attr:`~mosim.models.config.ModelConfig.contact_features`,
    :attr:`~mosim.models.config.ModelConfig.actuator_features`,
    :attr:`~mosim.models.config.ModelConfig.limit_constraints`,
    :attr:`~mosim.models.config.ModelConfig.contact_constraints`; the checkpoint then keeps them), and the
    normalization statistics of the training split for those features."""
    spec = with_mechanics(dataset.spec, geometry=config.contact_features or config.contact_constraints,
                          actuation=config.actuator_features or config.uses_known_actuation,
                          limits=config.uses_limit_constraints, contacts=config.contact_constraints,
                          inertias=config.known_inertia, self_contacts=config.uses_self_contacts)
    stats = compute_normalization(dataset, limit_features=config.uses_limit_features,
                                  geometry=config.geometry_of(spec), actuation=config.actuation_of(spec),
                                  heading_frame=config.uses_heading_frame,
                                  limit_velocity=config.uses_limit_velocity_features)
    return spec, stats


def compute_normalization(
    dataset: Dataset,
    split: str = "train",
    max_transitions: int | None = None,
    seed: int = 0,
    min_std: float = MIN_STD,
    limit_features: bool = True,
    geometry: ContactGeometry | None = None,
    actuation: Actuation | None = None,
    heading_frame: bool = True,
    limit_velocity: bool = False,
) -> NormalizationStats:
    """Normalization statistics from the transitions of one split of a dataset.

    :param max_transitions: use a random subset of at most this many transitions (all by default)
    :param seed: seed of that subset
    :param geometry: with the contact features of this geometry (``ModelConfig.contact_features``)
    :param actuation: with the actuator forces of this actuation (``ModelConfig.actuator_features``)
    :param heading_frame: velocities, accelerations and state changes in the heading frame
        (``ModelConfig.heading_frame``)
    :param limit_velocity: with the limit velocity features (``ModelConfig.limit_velocity_features``)
    """
    tr = transitions(dataset, split)
    n = tr["q0"].shape[0]
    if max_transitions is not None and n > max_transitions:
        if max_transitions < 1:
            raise InvalidInputError(f"max_transitions must be >= 1, got {max_transitions}")
        idx = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:max_transitions]
        tr = {k: x[idx] for k, x in tr.items()}
    spec = dataset.spec
    features = StateFeatures(spec.layout, limit_features, geometry, actuation, heading_frame,
                             limit_velocity).to(torch.float64)
    dv = features.to_heading(tr["q0"], tr["v1"] - tr["v0"])
    dq = features.to_heading(tr["q0"], position_difference(spec.layout, tr["q0"], tr["q1"]))
    return NormalizationStats(
        position=_position_stats(features, tr["q0"], min_std),
        velocity=_velocity_stats(features, tr["q0"], tr["v0"], min_std),
        action=MeanStd.of(features.action_features(tr["q0"], tr["v0"], tr["action"]), min_std),
        acceleration=MeanStd.of(dv / spec.dt, min_std),
        # one-step changes are rates times dt: floor them in rate units too
        delta_q=MeanStd.of(dq, min_std * spec.dt),
        delta_v=MeanStd.of(dv, min_std * spec.dt),
    )
