"""The moving average of the weights: closed form, frozen parameters, swapping in and out."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mosim.training.averaging import WeightAverage, ema_decay_at


def test_average_follows_the_closed_form():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    avg = WeightAverage(net, decay=0.5)
    expected = net.weight.detach().clone().double()
    for k in range(20):
        with torch.no_grad():
            net.weight.add_(torch.randn_like(net.weight))
        d = ema_decay_at(0.5, k)
        expected = d * expected + (1 - d) * net.weight.detach().double()
        avg.update(net)
    torch.testing.assert_close(avg.avg["weight"].double(), expected, rtol=1e-6, atol=1e-6)
    assert ema_decay_at(0.999, 0) == pytest.approx(0.1) and ema_decay_at(0.999, 10**6) == 0.999


def test_frozen_parameters_stay_bit_identical_and_swapping_restores_the_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    for p in net[0].parameters():
        p.requires_grad_(False)
    frozen = [p.detach().clone() for p in net[0].parameters()]
    avg = WeightAverage(net, decay=0.9)
    for _ in range(5):
        with torch.no_grad():
            net[1].weight.add_(1.0)
        avg.update(net)
    own = net[1].weight.detach().clone()
    with avg.swapped_in(net):
        assert not torch.equal(net[1].weight, own)
        for p, f in zip(net[0].parameters(), frozen):
            assert torch.equal(p, f)
    assert torch.equal(net[1].weight, own)
    state = avg.state_dict()
    other = WeightAverage(net, decay=0.9)
    other.load_state_dict(state)
    assert other.updates == 5 and torch.equal(other.avg["1.weight"], avg.avg["1.weight"])
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(net, decay=1.0)
