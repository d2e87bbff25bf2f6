"""Configurations of the baseline world models (frozen, JSON-serializable) and their size presets.

:class:`RSSMConfig` describes a DreamerV3 RSSM (the v1 column of ``docs/BASELINES.md``), stored in
``ModelConfig.rssm``; :class:`EnsembleConfig` a PETS / MBPO probabilistic ensemble, stored in
``ModelConfig.ensemble``. This module imports nothing from mosim but the errors and the registry, so that
:mod:`mosim.models.config` can import it lazily.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from mosim.errors import InvalidInputError
from mosim.registry import lookup

EVAL_MODES = ("mean", "sample", "mode")
"""RSSM latent sampling at prediction time: ``mean`` averages the decoded states of ``eval_samples``
latent rollouts (the MSE-appropriate point prediction), ``sample`` is one sampled rollout (what the
official code does), ``mode`` takes the argmax class at every step."""

ENSEMBLE_MODES = ("mean", "members", "ts1", "tsinf")
"""Ensemble propagation: ``mean`` (the elites' mean delta, deterministic), ``members`` (each elite rolls out on
its own mean delta and the rollouts are averaged: ``tsinf`` without the Gaussian samples, deterministic, what
:mod:`mosim.ensemble` does with ``trajectories``), ``ts1`` (every step a random elite and a Gaussian sample),
``tsinf`` (each particle keeps one elite for the whole window)."""


def _from_dict(cls: Any, d: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise InvalidInputError(f"unknown {cls.__name__} fields {unknown}; valid: {sorted(known)}")
    return cls(**d)


def _positive(obj: Any, names: tuple[str, ...], minimum: float = 1) -> None:
    for name in names:
        if not getattr(obj, name) >= minimum:
            raise InvalidInputError(f"{type(obj).__name__}.{name} must be >= {minimum}, got {getattr(obj, name)}")


@dataclass(frozen=True)
class RSSMConfig:
    """A DreamerV3 (v1) RSSM on state vectors. Defaults: the ``dv3-cpu`` preset of BASELINES.md 1.9."""

    deter: int = 256
    """size of the GRU state ``h``"""
    hidden: int = 256
    """width of the RSSM's MLP layers (sequence-model input, prior and posterior hidden layers)"""
    stoch: int = 32
    """number of categorical groups of the latent ``z``"""
    classes: int = 16
    """classes per group"""
    units: int = 256
    """width of the encoder and decoder MLPs"""
    layers: int = 2
    """hidden layers of the encoder and of the decoder"""
    unimix: float = 0.01
    """uniform mixture of the categorical probabilities: ``p = (1 - unimix) softmax + unimix / classes``"""
    free_nats: float = 1.0
    """KL free bits, applied to the KL summed over the groups (one clamp per step)"""
    pred_scale: float = 1.0
    dyn_scale: float = 0.5
    """weight of ``KL[sg(posterior) || prior]`` (v1: 0.5, current code: 1.0)"""
    rep_scale: float = 0.1
    """weight of ``KL[posterior || sg(prior)]``"""
    norm_eps: float = 1e-3
    """LayerNorm epsilon (the PyTorch port's 1e-3)"""
    learned_initial: bool = True
    """v1: ``h0 = tanh(w)`` with ``w`` learned from zero, ``z0`` the mode of the prior; False: zeros"""
    eval_mode: str = "mean"
    """latent sampling of :meth:`rollout` (one of :data:`EVAL_MODES`)"""
    eval_samples: int = 16
    """K of the K-sample mean"""
    eval_seed: int = 0
    """seed of the sampling at prediction time (predictions are reproducible)"""

    def __post_init__(self) -> None:
        _positive(self, ("deter", "hidden", "stoch", "classes", "units", "eval_samples"))
        _positive(self, ("layers",), 0)
        if not 0.0 <= self.unimix < 1.0:
            raise InvalidInputError(f"RSSMConfig.unimix must be in [0, 1), got {self.unimix}")
        for name in ("free_nats", "pred_scale", "dyn_scale", "rep_scale"):
            if not getattr(self, name) >= 0:
                raise InvalidInputError(f"RSSMConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not self.norm_eps > 0:
            raise InvalidInputError(f"RSSMConfig.norm_eps must be > 0, got {self.norm_eps}")
        if self.eval_mode not in EVAL_MODES:
            raise InvalidInputError(f"RSSMConfig.eval_mode must be one of {list(EVAL_MODES)}, got {self.eval_mode!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RSSMConfig:
        return _from_dict(cls, d)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EnsembleConfig:
    """A probabilistic ensemble of Gaussian MLPs (PETS / MBPO, mbrl-lib ``GaussianMLP``)."""

    members: int = 7
    """ensemble size (MBPO and mbrl-lib: 7; PETS: 5)"""
    elites: int = 5
    """members that predict once :meth:`~mosim.baselines.ensemble.EnsembleModel.select_elites` has run
    (before that, all members predict)"""
    width: int = 200
    hidden_layers: int = 4
    """hidden layers of ``width`` units, each Linear -> SiLU"""
    max_logvar: float = 0.5
    """initial upper bound of the log-variance"""
    min_logvar: float = -10.0
    """initial lower bound of the log-variance"""
    learn_logvar_bounds: bool = True
    """train the bounds with the ``0.01 (sum max - sum min)`` penalty (PETS, MBPO); False freezes them (mbrl-lib)"""
    weight_decays: tuple[float, ...] = (2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4)
    """L2 terms ``w_l * 0.5 * ||W_l||^2`` per layer (PETS / MBPO); the last entry is the output layer's, the
    hidden layers beyond the list repeat its second-to-last entry; ``()`` turns weight decay off"""
    bootstrap: bool = True
    """each member trains on its own with-replacement resample of every batch; False: all see the batch"""
    normalize_targets: bool = True
    """predict the standardized state change (a labelled variant, what mosim's plain model does); False:
    the raw change, as PETS / MBPO / mbrl-lib"""
    eval_mode: str = "mean"
    """propagation of :meth:`rollout` (one of :data:`ENSEMBLE_MODES`)"""
    particles: int = 20
    """particles of the sampled modes (the prediction is their average)"""
    eval_seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight_decays", tuple(float(w) for w in self.weight_decays))
        _positive(self, ("members", "elites", "width", "particles"))
        _positive(self, ("hidden_layers",), 0)
        if self.elites > self.members:
            raise InvalidInputError(f"EnsembleConfig.elites ({self.elites}) must be <= members ({self.members})")
        if not self.min_logvar < self.max_logvar:
            raise InvalidInputError("EnsembleConfig.min_logvar must be < max_logvar")
        if any(w < 0 for w in self.weight_decays):
            raise InvalidInputError(f"EnsembleConfig.weight_decays must be >= 0, got {self.weight_decays}")
        if self.eval_mode not in ENSEMBLE_MODES:
            raise InvalidInputError(
                f"EnsembleConfig.eval_mode must be one of {list(ENSEMBLE_MODES)}, got {self.eval_mode!r}")

    def layer_decays(self) -> tuple[float, ...]:
        """The L2 weight of each of the ``hidden_layers + 1`` weight matrices (all zero if disabled)."""
        n = self.hidden_layers + 1
        w = self.weight_decays
        if not w:
            return (0.0,) * n
        hidden = list(w[:-1]) or [0.0]
        hidden += [hidden[-1]] * (n - 1 - len(hidden))
        return (*hidden[: n - 1], w[-1])

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnsembleConfig:
        return _from_dict(cls, d)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


RSSM_PRESETS: dict[str, RSSMConfig] = {
    "tiny": RSSMConfig(deter=32, hidden=32, stoch=4, classes=4, units=32, layers=1, eval_samples=4),
    "dv3-cpu-small": RSSMConfig(deter=256, hidden=128, stoch=32, classes=8, units=128, layers=2),
    "dv3-cpu": RSSMConfig(),
    "dv3-cpu-32x32": RSSMConfig(classes=32),
    "v1-s-core": RSSMConfig(deter=512, hidden=512, stoch=32, classes=32, units=512, layers=2),
    "v1-s": RSSMConfig(deter=512, hidden=512, stoch=32, classes=32, units=1024, layers=5),
}
"""RSSM sizes (BASELINES.md 1.3 and 1.9): ``dv3-cpu`` (recommended for a 2-core CPU: 256 / 256 / 32x16 /
2x256), ``dv3-cpu-small`` (256 / 128 / 32x8 / 2x128), ``dv3-cpu-32x32`` (``dv3-cpu`` with v1's 32x32
latent), ``v1-s-core`` (v1 ``small`` with the encoder/decoder reduced to 2x512), ``v1-s`` (v1 ``small`` as
used for DMC proprio: 512 / 512 / 32x32 / 5x1024), ``tiny`` (tests)."""

ENSEMBLE_PRESETS: dict[str, EnsembleConfig] = {
    "tiny": EnsembleConfig(members=3, elites=2, width=32, hidden_layers=2, particles=4),
    "pets": EnsembleConfig(members=5, elites=5),
    "mbpo": EnsembleConfig(),
}
"""Ensemble sizes (BASELINES.md 2.1, 2.7): ``mbpo`` (7 members, 5 elites, 4 x 200 SiLU; the CPU
recommendation), ``pets`` (5 members, 4 x 200), ``tiny`` (tests)."""


def _preset(table: dict[str, Any], name: str, what: str, overrides: dict[str, Any]) -> Any:
    base = lookup(table, name, f"{what} preset")
    try:
        return replace(base, **overrides)
    except TypeError as e:
        raise InvalidInputError(f"bad {what} override: {e}") from None


def rssm_config(name: str = "dv3-cpu", **overrides: Any) -> RSSMConfig:
    """An RSSM size preset with fields replaced by ``overrides``."""
    return _preset(RSSM_PRESETS, name, "RSSM", overrides)


def ensemble_config(name: str = "mbpo", **overrides: Any) -> EnsembleConfig:
    """An ensemble size preset with fields replaced by ``overrides``."""
    return _preset(ENSEMBLE_PRESETS, name, "ensemble", overrides)
