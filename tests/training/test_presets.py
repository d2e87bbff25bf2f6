"""Presets: every benchmark system has one, found by name or by system id; they build valid configs."""

from __future__ import annotations

import pytest

from mosim.errors import UnknownNameError
from mosim.presets import PRESETS, get_preset

SYSTEM_IDS = ["acrobot-swingup", "cartpole-balance", "cheetah-run", "hopper-hop", "reacher-easy", "humanoid-walk",
              "panda", "go2"]


@pytest.mark.parametrize("system_id", SYSTEM_IDS)
def test_every_benchmark_system_has_a_preset(system_id):
    preset = get_preset(system_id)
    cfg = preset.train_config()
    assert sum(s.budget_s for s in cfg.stages) == pytest.approx(preset.budget_min * 60)
    assert len(cfg.stages) == (1 + preset.model.n_correctors if preset.schedule == "staged" else 1)
    steps = preset.train_config(max_steps=1000)
    assert all(s.budget_s is None and s.max_steps >= 1 for s in steps.stages)


def test_unknown_preset_lists_the_choices():
    with pytest.raises(UnknownNameError, match="cheetah"):
        get_preset("cheeta")
    assert set(PRESETS) >= {"acrobot", "cartpole", "cheetah", "hopper", "reacher", "humanoid", "panda", "go2"}


def test_overrides():
    p = get_preset("cheetah", budget_min=1.0, loss="one_step", horizon=1)
    assert p.budget_min == 1.0 and p.train_config().stages[0].loss == "one_step"


def test_min_stage_share_reaches_the_train_config():
    assert get_preset("acrobot").train_config().min_stage_share == 1.0  # its stages keep their planned shares
    assert get_preset("reacher").train_config().min_stage_share == 0.0
    assert get_preset("reacher", min_stage_share=0.5).train_config().min_stage_share == 0.5


@pytest.mark.parametrize("name", ["small", "medium"])
def test_generic_presets_read_nothing_from_the_robots_model(name):
    """A robot of one's own gets a model of a size, with no part that needs MuJoCo constants or a model step equal to
    the physics step (the reacher preset's limit constraints do)."""
    model = get_preset(name).model
    assert model.kind == "structured" and model.n_correctors == 1
    assert not (model.limit_constraints or model.uses_known_actuation or model.contact_features
                or model.actuator_features)
    assert model.force_width == {"small": 64, "medium": 128}[name]
