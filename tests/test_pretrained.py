"""The pretrained models that ship with the package: loadable by name, of the right system, with a card, and
their predictions close to MuJoCo's over a few steps from a real state."""

from __future__ import annotations

import numpy as np
import pytest

import mosim
from mosim import pretrained
from mosim.training.checkpoint import CheckpointError


def test_the_benchmark_systems_ship_pretrained_models():
    assert {"reacher-easy", "cheetah-run"} <= set(pretrained.available())


@pytest.mark.parametrize("name", pretrained.available())
def test_a_pretrained_model_loads_by_name_and_predicts_like_mujoco(name):
    sim = mosim.load(name, device="cpu")
    assert sim.spec.system_id == name
    assert "Test error" in pretrained.card(name)
    system = mosim.make_system(name, substeps=sim.spec.substeps)
    q, v = system.reset(0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(system.action_low, system.action_high, size=(3, len(system.action_low)))
    qp, vp = sim.rollout(q, v, actions)
    true = [system.step(a) for a in actions]
    q_true, v_true = np.array([t[0] for t in true]), np.array([t[1] for t in true])
    assert np.all(np.isfinite(qp)) and qp.shape == (4, sim.spec.nq)
    scale = 1.0 + np.abs(v_true).max()
    assert np.abs(vp[1:] - v_true).max() < 0.5 * scale  # 3 steps: a trained model, not noise


def test_a_domain_name_picks_its_task_and_an_unknown_name_says_what_exists():
    assert mosim.load("reacher", device="cpu").spec.system_id == "reacher-easy"
    with pytest.raises(CheckpointError, match="no pretrained model of that name.*reacher-easy"):
        mosim.load("no-such-robot")
    with pytest.raises(CheckpointError):
        mosim.load("missing/best.pt")
