"""Hidden layers in a lower precision (``Simulator.set_hidden_dtype``): only the residual blocks' products change
precision, the rest of the model and its parameters do not, and the answer stays close to float32's."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from model_helpers import TINY, random_state, random_stats

import mosim
from mosim.errors import InvalidInputError, UnknownNameError
from mosim.loading import Simulator
from mosim.models import NeuralSimulator, set_hidden_dtype
from mosim.models.networks import ResidualBlock


def test_a_block_in_bfloat16_rounds_only_its_branch():
    torch.manual_seed(0)
    block = ResidualBlock(32, "silu")
    h = torch.randn(64, 32)
    full = block(h)
    block.compute_dtype = torch.bfloat16
    low = block(h)
    with torch.no_grad():
        x = h.bfloat16()
        branch = torch.nn.functional.linear(block.act(torch.nn.functional.linear(x, block.fc1.weight.bfloat16(),
                                                                                 block.fc1.bias.bfloat16())),
                                            block.fc2.weight.bfloat16(), block.fc2.bias.bfloat16())
        expected = block.act(h + branch.float())
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, expected, rtol=1e-2, atol=1e-2)
    assert not torch.equal(low, full)
    assert (low - full).abs().max() < 0.05 * full.abs().max()


def test_setting_float32_back_gives_the_same_bits_and_the_parameters_never_change(zoo_spec):
    torch.manual_seed(0)
    model = NeuralSimulator(zoo_spec, TINY, random_stats(zoo_spec))
    sim = Simulator(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    q, v, a = random_state(zoo_spec, 8, dtype=torch.float32)
    before = sim.step(q, v, a)
    assert sim.set_hidden_dtype("bfloat16") is sim and sim.hidden_dtype == "bfloat16"
    low = sim.step(q, v, a)
    assert not torch.equal(low[1], before[1])
    sim.set_hidden_dtype("float32")
    after = sim.step(q, v, a)
    assert torch.equal(after[0], before[0]) and torch.equal(after[1], before[1])
    assert model.state_dict().keys() == state.keys()
    assert all(torch.equal(model.state_dict()[k], t) for k, t in state.items())


def test_gradients_flow_through_lower_precision_blocks(zoo_spec):
    torch.manual_seed(0)
    sim = Simulator(NeuralSimulator(zoo_spec, TINY, random_stats(zoo_spec))).set_hidden_dtype("bfloat16")
    q, v, a = random_state(zoo_spec, 4, dtype=torch.float32)
    a.requires_grad_(True)
    q1, v1 = sim.rollout(q, v, torch.stack([a, a], dim=-2))
    v1.square().sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0


def test_bad_names_and_models_without_blocks_are_refused(zoo_spec):
    torch.manual_seed(0)
    sim = Simulator(NeuralSimulator(zoo_spec, TINY, random_stats(zoo_spec)))
    with pytest.raises(UnknownNameError, match="bfloat16"):
        sim.set_hidden_dtype("bf16")
    assert set_hidden_dtype(torch.nn.Linear(2, 2), "float32") == 0
    flat = NeuralSimulator(zoo_spec, replace(TINY, inertia_blocks=0, force_blocks=0, corrector_blocks=0),
                           random_stats(zoo_spec))
    with pytest.raises(InvalidInputError, match="no residual blocks"):
        Simulator(flat).set_hidden_dtype("bfloat16")


@pytest.mark.parametrize("name", ["go2"])
def test_a_pretrained_model_in_bfloat16_stays_far_closer_to_float32_than_to_its_own_error(name):
    """10 steps from 8 real states: rounding the blocks moves the prediction by under a tenth of the model's own
    squared error against MuJoCo (medians over the starts; measured 2026-12-06: go2 0.08%; the cheetah, which
    computed M and solved its contacts, 4% of its far smaller error, 2.3e-6, before it started at its model file's
    physics, below). Rounding the whole step instead (every product, the integration too) moves it by about as
    much as the model's own error."""
    sim = mosim.load(name, device="cpu")
    system = mosim.make_system(name, substeps=sim.spec.substeps)
    rng = np.random.default_rng(0)
    starts, actions, truth = [], [], []
    for seed in range(8):
        q, v = system.reset(seed)
        a = rng.uniform(system.action_low, system.action_high, size=(10, len(system.action_low)))
        steps = [system.step(x) for x in a]
        starts.append((q, v))
        actions.append(a)
        truth.append([np.concatenate(s) for s in steps])
    q0, v0 = (np.array(x) for x in zip(*starts))
    true = np.array(truth)

    def predict(model: Simulator) -> np.ndarray:
        q, v = model.rollout(q0, v0, np.array(actions))
        return np.concatenate([q[:, 1:], v[:, 1:]], axis=-1)

    full = predict(sim)
    low = mosim.load(name, device="cpu", hidden_dtype="bfloat16")
    assert low.hidden_dtype == "bfloat16"
    rounded = predict(low)
    # per start, the median over the 8: a contact the model makes a step early or late can move one start's
    # rollout by more than its error (the cheetah's, which solves its contacts: one start in 8, either way)
    moved = np.median(np.mean((rounded - full) ** 2, axis=(1, 2)))
    assert 0 < moved < 0.1 * np.median(np.mean((full - true) ** 2, axis=(1, 2)))


def test_a_model_at_its_physics_start_is_the_same_in_bfloat16():
    """The pretrained cheetah is its untrained start (networks at zero output): rounding its hidden layers changes
    no prediction at all."""
    sim = mosim.load("cheetah-run", device="cpu")
    assert sim.info.get("step") == 0 and not sim.model.predictor.force.output.weight.any()
    system = mosim.make_system("cheetah-run")
    q, v = system.reset(0)
    actions = np.random.default_rng(0).uniform(system.action_low, system.action_high, size=(20, 6))
    low = mosim.load("cheetah-run", device="cpu", hidden_dtype="bfloat16")
    for a, b in zip(sim.rollout(q, v, actions), low.rollout(q, v, actions)):
        np.testing.assert_array_equal(a, b)
