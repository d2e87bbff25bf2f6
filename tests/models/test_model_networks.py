"""ResNet, MLP and activations."""

from __future__ import annotations

import pytest
import torch

from mosim.errors import InvalidInputError, UnknownNameError
from mosim.models import ACTIVATIONS, MLP, ResNet, make_activation


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_resnet_shapes_and_small_output(activation):
    torch.manual_seed(0)
    net = ResNet(5, 3, width=32, blocks=2, activation=activation)
    x = torch.randn(7, 4, 5)
    y = net(x)
    assert y.shape == (7, 4, 3)
    assert y.abs().max() < 0.2  # output layer initialized small
    assert len(net.blocks) == 2


def test_zero_output_scale_gives_zero_and_still_learns():
    net = ResNet(4, 2, width=8, blocks=1, output_scale=0.0)
    x = torch.randn(10, 4)
    assert torch.equal(net(x), torch.zeros(10, 2))
    net(x).sum().backward()
    assert net.output.weight.grad is not None and net.output.weight.grad.abs().sum() > 0


def test_mlp_shapes():
    assert MLP(3, 2, hidden=(8, 8))(torch.randn(4, 3)).shape == (4, 2)
    assert MLP(3, 2, hidden=())(torch.randn(4, 3)).shape == (4, 2)


def test_bad_arguments():
    with pytest.raises(UnknownNameError, match="softplus"):
        make_activation("softpluss")
    with pytest.raises(InvalidInputError):
        ResNet(3, 2, width=0)
    with pytest.raises(InvalidInputError):
        MLP(3, 2, hidden=(0,))
