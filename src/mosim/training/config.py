"""Training configuration: the stage schedule and the loop's settings (frozen, JSON-serializable).

A schedule is an ordered list of :class:`StageConfig`. The paper's multi-stage training is
``predictor`` (correctors off), then ``corrector1`` ... ``correctorN`` (each with everything before
it frozen), then an optional joint ``finetune``. End-to-end training is one stage training
everything with all correctors on; a plain network is one stage training ``model``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from mosim.errors import InvalidInputError
from mosim.registry import lookup

LOSSES = ("one_step", "rollout")


@dataclass(frozen=True)
class StageConfig:
    """One stage of training."""

    name: str
    """``predictor``, ``corrector<k>``, ``finetune``, ``all``, ``model`` (for logs and checkpoints)"""
    group: int | None = 0
    """parameter group trained (index into ``model.parameter_groups()``: 0 the predictor, k corrector k,
    with correctors 1..k on and everything else frozen); ``None`` trains everything with all correctors on"""
    budget_s: float | None = None
    """wall-clock budget of the stage in seconds"""
    max_steps: int | None = None
    """gradient steps of the stage (a deterministic budget)"""
    lr: float = 1e-3
    """peak learning rate (cosine decay to ``lr * min_lr_ratio`` over the budget)"""
    loss: str = "one_step"
    """``one_step`` (the paper's) or ``rollout`` (k-step, through the model's own predictions)"""
    horizon: int = 1
    """k of the rollout loss"""

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise InvalidInputError(f"stage {self.name!r}: unknown loss {self.loss!r}; valid: {list(LOSSES)}")
        if self.budget_s is None and self.max_steps is None:
            raise InvalidInputError(f"stage {self.name!r} needs a budget: budget_s and/or max_steps")
        if self.horizon < 1 or (self.loss == "one_step" and self.horizon != 1):
            raise InvalidInputError(f"stage {self.name!r}: horizon must be 1 for one_step and >= 1 for rollout")
        if not self.lr > 0:
            raise InvalidInputError(f"stage {self.name!r}: lr must be > 0")


@dataclass(frozen=True)
class TrainConfig:
    """Everything about a training run except the model and the data."""

    stages: tuple[StageConfig, ...]
    batch_size: int = 512
    """windows per gradient step"""
    grad_clip: float = 1.0
    """global gradient-norm clip"""
    min_lr_ratio: float = 0.05
    """the cosine schedule ends at ``lr * min_lr_ratio``"""
    weight_decay: float = 0.0
    factor_lr_scale: float = 10.0
    """the learning rate of the factors on the model file's constants (``ModelConfig.identify``) over the
    networks'. At the networks' own rate the networks take over part of what the factors should say: on a perturbed
    cheetah-run (results/mismatch.md), 5 min, its torso's mass factor reached 1.18 of the world's 1.25 and its
    motors' 0.93 of 0.85, at 0.039 MSE over 100 steps; at 10x 1.25 and 0.85, and 0.0070 (2026-12-07, one core
    each beside other jobs)"""
    val_every_steps: int = 500
    """validate (and checkpoint) every this many gradient steps"""
    val_windows: int = 256
    """validation windows (fixed, from the validation split)"""
    val_horizon: int = 100
    """validation rollout length: the model rolls out on its own predictions"""
    patience: int = 0
    """end a stage after this many validations without a ``min_improvement`` gain on the stage's best
    (0: never); its unused budget goes to the next stage (see ``plateau_ends_training`` for the last one)"""
    plateau_ends_training: bool = False
    """whether a plateau in the last stage ends training before its budget (otherwise only earlier stages
    end early, handing their budget on)"""
    min_improvement: float = 0.01
    """relative gain of the validation error that counts as progress for ``patience``"""
    min_stage_share: float = 0.0
    """a plateau ends a stage only once the stage has used this share of its planned budget (its own plus any
    handed on to it): on a noisy validation error, ``patience`` alone can end a stage within its first minute"""
    seed: int = 0
    threads: int = 1
    """torch CPU threads (one per job: run two jobs side by side rather than one on two threads)"""
    device: str = "auto"
    """``cpu``, ``cuda`` or ``auto`` (CUDA when available)"""
    compile: bool = False
    """compile the loss computation (the model's rollout and the loss, forward and backward) with
    :func:`torch.compile`: on a one-thread CPU training, 1.3x to 1.5x the samples per second for the structured
    model and 1.2x to 1.3x for the plain network (reacher, cheetah; ``results/model_speed.md``), after a compilation of
    about a minute that counts against the budget (and happens again at each stage of a staged schedule). A model
    that solves its contacts, on a CPU, compiles its forces alone, the solve eager (1.33x on cheetah-run, where the
    whole graph ran 0.38x; :func:`mosim.integrators.compile_model`). Models with their own objective (the
    baselines) train eagerly"""
    max_train_episodes: int | None = None
    """use only the first N training episodes (for data-size studies)"""
    ema_decay: float = 0.0
    """validate, keep (``best.pt``) and freeze at each stage's end an exponential moving average of the weights
    with this decay per step (:class:`~mosim.training.averaging.WeightAverage`; e.g. 0.999); 0: the raw weights"""
    speed_sampling: float = 0.0
    """draw training windows with probability ``1 + speed_sampling * mean_i (v_i / std_i)^2`` of their start
    velocity (:func:`~mosim.training.windows.speed_weights`) instead of uniformly (0): more of the rare fast
    states, where rollout errors grow fastest"""
    limit_sampling: float = 0.0
    """draw the training windows whose first transition has a joint limit acting (at either end) ``1 +
    limit_sampling`` times as often (:func:`~mosim.training.windows.limit_weights`); adds to speed sampling"""
    input_noise: float = 0.0
    """std of Gaussian noise added to each training window's start state, in units of each entry's one-step change
    (the loss's scales; :func:`~mosim.training.windows.perturb_start`): the model is asked to bring the velocity back
    to the data from a perturbed state, as its own rollouts must. 0: the windows as recorded"""
    error_scale: str = "standardized"
    """how the trajectory loss weighs the state entries' errors (:data:`~mosim.training.losses.ERROR_SCALES`):
    ``standardized``, each by the std of its one-step change, or ``raw``, all positions by one scale and all
    velocities by another, as the raw-state benchmark metric weighs them"""
    init_from: str | None = None
    """start from the weights of this checkpoint (a ``best.pt`` / ``last.pt`` of the same system and model
    config, e.g. to fine-tune a trained model with another loss or on new data) instead of a fresh model;
    its normalization statistics come with it. A resumed run continues from its own ``last.pt``"""
    extra: dict[str, Any] = field(default_factory=dict)
    """free-form notes saved with the run"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        if not self.stages:
            raise InvalidInputError("TrainConfig needs at least one stage")
        for name in ("batch_size", "val_every_steps", "val_windows", "val_horizon", "threads"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.min_stage_share <= 1.0:
            raise InvalidInputError(f"TrainConfig.min_stage_share must be in [0, 1], got {self.min_stage_share}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InvalidInputError(f"TrainConfig.ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.input_noise < 0:
            raise InvalidInputError(f"TrainConfig.input_noise must be >= 0, got {self.input_noise}")
        if not self.factor_lr_scale > 0:
            raise InvalidInputError(f"TrainConfig.factor_lr_scale must be > 0, got {self.factor_lr_scale}")
        from mosim.training.losses import ERROR_SCALES

        lookup(ERROR_SCALES, self.error_scale, "error scale")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        d = json.loads(text)
        d["stages"] = tuple(StageConfig(**s) for s in d["stages"])
        return cls(**d)


def staged_schedule(
    n_correctors: int,
    budget_s: float | None = None,
    max_steps: int | None = None,
    predictor_share: float = 0.5,
    finetune_share: float = 0.0,
    lr: float = 1e-3,
    loss: str = "one_step",
    horizon: int = 1,
) -> tuple[StageConfig, ...]:
    """The paper's multi-stage schedule, splitting a total budget (seconds and/or steps) over the stages.

    The predictor gets ``predictor_share`` of the budget, the optional joint fine-tune
    ``finetune_share``, and the correctors share the rest equally.
    """
    if n_correctors == 0:
        predictor_share, finetune_share = 1.0, 0.0
    corrector_share = (1 - predictor_share - finetune_share) / n_correctors if n_correctors else 0.0
    shares = [predictor_share] + [corrector_share] * n_correctors
    names = ["predictor"] + [f"corrector{k}" for k in range(1, n_correctors + 1)]
    groups: list[int | None] = list(range(n_correctors + 1))
    if finetune_share > 0:
        shares.append(finetune_share)
        names.append("finetune")
        groups.append(None)
    stages = []
    for name, share, group in zip(names, shares, groups):
        stages.append(StageConfig(
            name=name,
            group=group,
            budget_s=None if budget_s is None else budget_s * share,
            max_steps=None if max_steps is None else max(1, int(round(max_steps * share))),
            lr=lr if name != "finetune" else lr * 0.1,
            loss=loss,
            horizon=horizon,
        ))
    return tuple(stages)


def end_to_end_schedule(budget_s: float | None = None, max_steps: int | None = None,
                        lr: float = 1e-3, loss: str = "one_step", horizon: int = 1) -> tuple[StageConfig, ...]:
    """One stage training the whole model jointly: the predictor with all correctors on (the paper's
    ablation), or a plain network (one parameter group)."""
    return (StageConfig("all", None, budget_s, max_steps, lr, loss, horizon),)


def with_stages(config: TrainConfig, stages: tuple[StageConfig, ...]) -> TrainConfig:
    return replace(config, stages=stages)
