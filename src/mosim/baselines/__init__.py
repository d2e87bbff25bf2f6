"""The world models mosim is benchmarked against, as :class:`~mosim.models.base.DynamicsModel` subclasses.

::

    from mosim.baselines import rssm_preset, ensemble_preset
    from mosim.training.config import StageConfig, TrainConfig
    from mosim.training.trainer import train

    # DreamerV3 (v1) RSSM, CPU size; 16 chunks of 64 states (horizon 63), Adam 1e-4 eps 1e-8, clip 1000
    cfg = TrainConfig(stages=(StageConfig("model", None, budget_s=1200, lr=1e-4, loss="rollout", horizon=63),),
                      batch_size=16, grad_clip=1000.0, min_lr_ratio=1.0)
    train(dataset, rssm_preset("dv3-cpu"), cfg, "runs/rssm")
    # PETS / MBPO ensemble: 7 x (4 x 200 SiLU), batch 256 transitions, lr 1e-3
    cfg = TrainConfig(stages=(StageConfig("model", None, budget_s=1200, lr=1e-3),), batch_size=256,
                      grad_clip=1e9, min_lr_ratio=1.0)
    train(dataset, ensemble_preset("mbpo"), cfg, "runs/ensemble")

- :class:`RSSMModel` (kind ``rssm``): ``rollout(q0, v0, actions, warmup=None)`` filters the warm-up and the
  start state with the posterior, then imagines with the prior (K-sample mean by default).
- :class:`EnsembleModel` (kind ``ensemble``): Gaussian MLP ensemble, mean propagation (TS1 / TS-inf as options).
- Both define ``training_loss(windows, q_scale, v_scale)``, which :func:`mosim.training.trainer.train` uses in
  place of the rollout loss; both load with :func:`mosim.load`.
- Score them like any model with :func:`mosim.benchmark.score` (``warmup=W`` for the RSSM: models with
  ``needs_warmup = True`` get the ``W - 1`` true steps before each window's start).
"""

from __future__ import annotations

from typing import Any

from mosim.baselines.config import (
    ENSEMBLE_MODES,
    ENSEMBLE_PRESETS,
    EVAL_MODES,
    RSSM_PRESETS,
    EnsembleConfig,
    RSSMConfig,
    ensemble_config,
    rssm_config,
)
from mosim.baselines.ensemble import EnsembleModel, gaussian_nll, select_checkpoint_elites
from mosim.baselines.rssm import RSSMModel
from mosim.baselines.rssm_parts import LayerNormGRUCell, kl_balance_loss, symexp, symlog, unimix_log_probs
from mosim.models.config import ModelConfig


def rssm_preset(name: str = "dv3-cpu", **overrides: Any) -> ModelConfig:
    """``ModelConfig(kind="rssm")`` with an RSSM size preset (:data:`RSSM_PRESETS`), fields overridden."""
    return ModelConfig(kind="rssm", rssm=rssm_config(name, **overrides))


def ensemble_preset(name: str = "mbpo", **overrides: Any) -> ModelConfig:
    """``ModelConfig(kind="ensemble")`` with an ensemble preset (:data:`ENSEMBLE_PRESETS`), fields overridden."""
    return ModelConfig(kind="ensemble", ensemble=ensemble_config(name, **overrides))


__all__ = [
    "ENSEMBLE_MODES",
    "ENSEMBLE_PRESETS",
    "EVAL_MODES",
    "RSSM_PRESETS",
    "EnsembleConfig",
    "EnsembleModel",
    "LayerNormGRUCell",
    "RSSMConfig",
    "RSSMModel",
    "ensemble_config",
    "ensemble_preset",
    "gaussian_nll",
    "kl_balance_loss",
    "rssm_config",
    "rssm_preset",
    "select_checkpoint_elites",
    "symexp",
    "symlog",
    "unimix_log_probs",
]
