"""The models the benchmark trains, by name: mosim, its ablations and the baselines, on equal budgets.

Each recipe gives, for a system and a wall-clock budget, a model config, a training config and the
warm-ups it is scored with. The baselines follow the settings of their references (see
``mosim.baselines``); mosim and its ablations follow the system's preset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from mosim.models import ModelConfig
from mosim.models.config import STRUCTURE_ONLY
from mosim.presets import get_preset
from mosim.registry import lookup
from mosim.training.config import StageConfig, TrainConfig


@dataclass(frozen=True)
class Recipe:
    model: ModelConfig
    train: TrainConfig
    warmups: tuple[int, ...] = (1,)
    """warm-ups W it is scored with (only models that use warm-up get more than W = 1)"""


def _mosim(system: str, budget_min: float, seed: int) -> Recipe:
    p = get_preset(system, budget_min=budget_min)
    return Recipe(p.model, p.train_config(seed=seed))


def _variant(schedule: str | None = None, **model_overrides: object) -> Callable[[str, float, int], Recipe]:
    def make(system: str, budget_min: float, seed: int) -> Recipe:
        p = get_preset(system, budget_min=budget_min)
        p = replace(p, model=replace(p.model, **model_overrides), schedule=schedule or p.schedule)
        return Recipe(p.model, p.train_config(seed=seed))

    return make


def _learned_mechanics(system: str, budget_min: float, seed: int) -> Recipe:
    """The preset with M(q), the bias and passive forces learned; M(q) starting at the model file's diagonal where the
    preset solves constraints (``inertia_start="mujoco"``: from the identity the first contact solves fail)."""
    p = get_preset(system, budget_min=budget_min)
    model = replace(p.model, known_inertia=False, known_bias=False, known_passive=False, physics_start=False)
    model = replace(model, inertia_start="mujoco" if model.uses_limit_constraints else "identity")
    return Recipe(model, replace(p, model=model).train_config(seed=seed))


def _identifying(system: str, budget_min: float, seed: int) -> Recipe:
    """``mosim-physics`` that also learns factors on the model file's masses, actuator forces, damping and (where it
    solves contacts) friction (``ModelConfig.identify``)."""
    r = RECIPES["mosim-physics"](system, budget_min, seed)
    names = ("mass", "actuators", "damping", *(("friction",) if r.model.contact_constraints else ()))
    return replace(r, model=replace(r.model, identify=names))


def _ensemble(system: str, budget_min: float, seed: int) -> Recipe:
    from mosim.baselines import ensemble_preset

    stage = StageConfig("model", None, budget_s=budget_min * 60, lr=1e-3)
    return Recipe(ensemble_preset("mbpo"),
                  TrainConfig(stages=(stage,), batch_size=256, grad_clip=1e9, min_lr_ratio=1.0, seed=seed))


def _rssm_with(batch_size: int, lr: float) -> Callable[[str, float, int], Recipe]:
    def make(system: str, budget_min: float, seed: int) -> Recipe:
        from mosim.baselines import rssm_preset

        stage = StageConfig("model", None, budget_s=budget_min * 60, lr=lr, loss="rollout", horizon=63)
        return Recipe(rssm_preset("dv3-cpu"),
                      TrainConfig(stages=(stage,), batch_size=batch_size, grad_clip=1000.0, min_lr_ratio=1.0,
                                  val_every_steps=300, val_windows=64, seed=seed),
                      warmups=(1, 5))

    return make


BASELINE_INPUTS = {"contact_features": False, "actuator_features": False, **STRUCTURE_ONLY}
"""``ModelConfig`` fields that keep a model on the ``(q, v, a)`` inputs of the baselines it stands for (the plain
network, the original's recipe): none of what some presets read from the robot's MuJoCo model (inputs, the limit
constraints, the actuators' force)"""


RECIPES: dict[str, Callable[[str, float, int], Recipe]] = {
    "mosim": _mosim,
    "plain": _variant(schedule="end_to_end", kind="plain_delta", **BASELINE_INPUTS),
    "plain-ode": _variant(schedule="end_to_end", kind="plain_ode", **STRUCTURE_ONLY),
    "end-to-end": _variant(schedule="end_to_end"),
    "mosim-physics": _variant(known_inertia=True, known_bias=True, known_passive=True, physics_start=True),
    "mosim-learned": _learned_mechanics,
    "mosim-identify": _identifying,
    "ensemble": _ensemble,
    "rssm": _rssm_with(batch_size=16, lr=1e-4),
    "rssm-b256": _rssm_with(batch_size=256, lr=3e-4),
}
"""``mosim``: the structured model with the system's preset; ``plain``: the plain one-step network (on ``(q, v, a)``
features only: not the contact or actuator features of the presets that use them);
``plain-ode`` and ``end-to-end``: the paper's ablations; ``mosim-physics``: the preset starting at the model file's
physics (M(q), the bias and passive forces computed, ``physics_start``), whether the preset does or not;
``mosim-identify``: ``mosim-physics`` learning factors on the model file's masses,
actuator forces, damping and friction too (``identify``); ``mosim-learned``: the preset with M(q) and the bias and
passive forces learned from the data instead of computed from the model file (``known_inertia``, ``known_bias``,
``known_passive`` and ``physics_start`` off; the constraints it solves stay, M(q) starting at the model file's
diagonal where it solves them); ``ensemble``: PETS/MBPO; ``rssm``: DreamerV3 (its batch of 16 sequences of 64 steps, learning
rate 1e-4); ``rssm-b256``: the same RSSM with 256 sequences a batch and learning rate 3e-4, for a GPU, where an
update costs about the same at either batch size."""


def recipe(name: str, system: str, budget_min: float, seed: int = 0) -> Recipe:
    return lookup(RECIPES, name, "benchmark model")(system, budget_min, seed)
