"""A quick learning sanity check on real data (a few seconds)."""

from __future__ import annotations

import torch

from mosim.models import NeuralSimulator, compute_normalization, model_preset, transitions


def test_one_step_velocity_loss_drops_5x(reacher_data):
    torch.manual_seed(0)
    stats = compute_normalization(reacher_data)
    model = NeuralSimulator(reacher_data.spec, model_preset("tiny"), stats)
    tr = {k: x.float() for k, x in transitions(reacher_data).items()}
    scale = stats.delta_v.std.float()
    opt = torch.optim.Adam(model.configure_stage(0), lr=3e-3)

    def loss() -> torch.Tensor:
        _, v1 = model.step(tr["q0"], tr["v0"], tr["action"])
        return ((v1 - tr["v1"]) / scale).pow(2).mean()

    first = loss().item()
    assert 0.5 < first < 2.0  # a fresh model predicts about the mean acceleration
    for _ in range(200):
        value = loss()
        opt.zero_grad()
        value.backward()
        opt.step()
    last = loss().item()
    assert last < first / 5, (first, last)
