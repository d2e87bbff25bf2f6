"""Configurations of the RL pipelines (frozen, JSON-serializable): what a run directory's ``config.json`` holds.

Step counts are env steps of the agent: imagined steps for zero-shot and few-shot, real steps for Dyna (an env
step is the task's control step, ``frame_skip`` model steps).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mosim.errors import InvalidInputError, UnknownNameError
from mosim.rl.finetune import FinetuneConfig


@dataclass(frozen=True)
class AgentConfig:
    """The learner: an off-policy algorithm of SB3 / sb3-contrib (see :mod:`mosim.rl.agents`)."""

    algo: str = "sac"
    """``sac``, ``td3``, ``tqc``, ``ddpg`` or ``crossq``"""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """constructor options (``buffer_size``, ``learning_starts``, ``batch_size``, ``gradient_steps``,
    ``policy_kwargs``, ...), JSON values"""

    def __post_init__(self) -> None:
        from mosim.rl.agents import ALGORITHM_NAMES

        if self.algo.lower() not in ALGORITHM_NAMES:
            raise UnknownNameError(f"unknown algorithm {self.algo!r}; valid: {', '.join(ALGORITHM_NAMES)}")


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation in the real task: every ``every`` agent steps (and at the end), ``episodes`` deterministic
    episodes with the fixed reset seeds ``seed, seed + 1, ...``."""

    every: int = 5000
    episodes: int = 10
    episode_steps: int | None = None
    """steps per evaluation episode (default: the task's time limit, 1000 for dm_control)"""
    seed: int = 1_000_000

    def __post_init__(self) -> None:
        if self.every < 1 or self.episodes < 1 or (self.episode_steps is not None and self.episode_steps < 1):
            raise InvalidInputError("EvalConfig: every, episodes and episode_steps must be >= 1")


@dataclass(frozen=True)
class OODConfig:
    """The out-of-distribution penalty ``weight * (sigmoid((log p - c) / s) - 1)`` on imagined steps."""

    enabled: bool = False
    data: str | None = None
    """the model's training dataset, to fit the density on (cached in ``density``)"""
    density: str | None = None
    """the density file (default: ``density.pt`` next to the model)"""
    c: float | None = None
    """default: from the data (see :mod:`mosim.rl.ood`)"""
    s: float | None = None
    weight: float = 1.0
    fit_steps: int = 2000
    """gradient steps of the density fit"""

    def __post_init__(self) -> None:
        if self.weight <= 0 or self.fit_steps < 1 or (self.s is not None and self.s <= 0):
            raise InvalidInputError("OODConfig: weight and s must be > 0, fit_steps >= 1")


def _check_common(cfg: Any) -> None:
    for name in ("steps", "threads"):
        if getattr(cfg, name) < 1:
            raise InvalidInputError(f"{type(cfg).__name__}.{name} must be >= 1, got {getattr(cfg, name)}")


@dataclass(frozen=True, kw_only=True)
class ZeroShotConfig:
    """Train an agent only inside a learned model; evaluate it in the real task."""

    model: str
    """checkpoint of the model (``best.pt``)"""
    out: str
    """run directory"""
    steps: int = 100_000
    """imagined env steps"""
    agent: AgentConfig = field(default_factory=AgentConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    ood: OODConfig = field(default_factory=OODConfig)
    task: str | None = None
    """the task to learn and be evaluated in (default: the model's system); another task of the model's robot
    (a reacher-easy model serves reacher-hard)"""
    n_envs: int = 1
    """imagined envs stepped in one batch"""
    horizon: int | None = None
    """imagined episode length in env steps (default: the task's)"""
    seed: int = 0
    device: str = "cpu"
    threads: int = 1
    """torch CPU threads"""
    select: bool = False
    """at every evaluation also run ``select_episodes`` episodes inside the model (no real data) and keep the
    agent with the best imagined return as ``agent_selected.zip``: the agent to deploy, chosen without the real
    task"""
    select_episodes: int = 20
    """imagined episodes per selection"""
    select_seed: int = 2_000_000
    """reset seeds of the selection episodes: ``select_seed, select_seed + 1, ...``, none of them an evaluation
    episode's, so the agent is not chosen on the episodes that then score it"""

    def __post_init__(self) -> None:
        _check_common(self)
        if self.n_envs < 1 or (self.horizon is not None and self.horizon < 1):
            raise InvalidInputError("n_envs and horizon must be >= 1")
        if self.select_episodes < 1:
            raise InvalidInputError(f"select_episodes must be >= 1, got {self.select_episodes}")
        ev, first, last = self.eval, self.select_seed, self.select_seed + self.select_episodes - 1
        if self.select and first < ev.seed + ev.episodes and ev.seed <= last:
            raise InvalidInputError(
                f"the selection episodes (reset seeds {first} to {last}) overlap the evaluation episodes ({ev.seed} "
                f"to {ev.seed + ev.episodes - 1}): an agent chosen on the episodes that score it looks better than "
                "it is; choose another select_seed")

    def to_json(self) -> str:
        d = asdict(self)
        if not self.select:  # the selection's settings mean nothing without it (and older runs lack them)
            d["select_episodes"] = d["select_seed"] = None
        return json.dumps({"pipeline": PIPELINE_NAMES[type(self)], **d}, sort_keys=True)


@dataclass(frozen=True, kw_only=True)
class FewShotConfig(ZeroShotConfig):
    """Zero-shot plus, every ``collect_every`` imagined steps, ``collect_steps`` real steps with the current
    agent, a model update on all real steps so far, and imagined episodes starting from real visited states."""

    collect_every: int = 5000
    collect_steps: int = 1000
    """real env steps per collection"""
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    real_starts: float = 0.5
    """fraction of imagined episodes that start from a real visited state (the rest: the task's initial state)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.collect_every < 1 or self.collect_steps < 1 or not 0.0 <= self.real_starts <= 1.0:
            raise InvalidInputError("collect_every and collect_steps must be >= 1 and real_starts in [0, 1]")


@dataclass(frozen=True, kw_only=True)
class DynaConfig:
    """A model-free learner in the real task whose replay buffer also gets short model rollouts from real
    states (MBPO style); the model is updated on the real steps."""

    out: str
    system: str | None = None
    """the task (default: the model's)"""
    model: str | None = None
    """a trained model to start from; without one a fresh model (``preset``) is fitted on the real steps"""
    steps: int = 50_000
    """real env steps"""
    agent: AgentConfig = field(default_factory=AgentConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    ood: OODConfig = field(default_factory=OODConfig)
    model_start: int = 1000
    """real steps before the first model update and rollouts"""
    model_every: int = 250
    """real steps between model updates (each followed by rollouts)"""
    rollouts: int = 100
    """imagined rollouts per update, from real visited states"""
    rollout_horizon: int = 5
    """env steps per rollout"""
    finetune: FinetuneConfig = field(default_factory=lambda: FinetuneConfig(steps=100))
    fit_steps: int = 1000
    """gradient steps of a fresh model's first fit (lr 1e-3)"""
    preset: str | None = None
    """model recipe of a fresh model (default: the system's, see :mod:`mosim.presets`)"""
    seed: int = 0
    device: str = "cpu"
    threads: int = 1

    def __post_init__(self) -> None:
        _check_common(self)
        if self.system is None and self.model is None:
            raise InvalidInputError("Dyna needs a system or a model")
        for name in ("model_every", "rollouts", "rollout_horizon", "fit_steps"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"DynaConfig.{name} must be >= 1")
        if self.model_start < 0:
            raise InvalidInputError("DynaConfig.model_start must be >= 0")

    def to_json(self) -> str:
        return json.dumps({"pipeline": "dyna", **asdict(self)}, sort_keys=True)


@dataclass(frozen=True, kw_only=True)
class ModelFreeConfig:
    """The reference every pipeline is measured against: the same learner trained in the real task only."""

    system: str
    out: str
    steps: int = 100_000
    """real env steps"""
    agent: AgentConfig = field(default_factory=AgentConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0
    device: str = "cpu"
    threads: int = 1

    def __post_init__(self) -> None:
        _check_common(self)

    def to_json(self) -> str:
        return json.dumps({"pipeline": "model-free", **asdict(self)}, sort_keys=True)


PIPELINE_NAMES = {ZeroShotConfig: "zero-shot", FewShotConfig: "few-shot", DynaConfig: "dyna",
                  ModelFreeConfig: "model-free"}
