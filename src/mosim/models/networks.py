"""Building blocks: :class:`ResNet` and :class:`MLP`, activations by name.

Both map ``(..., in_dim) -> (..., out_dim)``. Their output layer is initialized small
(``output_scale`` times PyTorch's default weights, zero bias; ``output_scale=0`` gives an exactly
zero output at initialization), so a freshly built model predicts (almost) zero in normalized units.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from mosim.errors import InvalidInputError
from mosim.registry import lookup

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "softplus": nn.Softplus,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
}
"""Activation constructors by name."""

OUTPUT_SCALE = 1e-2
"""Default factor on the output layer's initial weights."""

HIDDEN_DTYPES: dict[str, torch.dtype | None] = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
"""Precisions the residual blocks' matrix products can run in (:func:`set_hidden_dtype`); ``float32``: the
model's own dtype."""


def make_activation(name: str) -> nn.Module:
    """A new activation module by name (one of :data:`ACTIVATIONS`)."""
    return lookup(ACTIVATIONS, name, "activation")()


def init_output_layer(layer: nn.Linear, scale: float) -> None:
    """Scale a linear layer's default initial weights by ``scale`` and zero its bias."""
    with torch.no_grad():
        layer.weight.mul_(scale)
        if layer.bias is not None:
            layer.bias.zero_()


def linear(in_dim: int, out_dim: int) -> nn.Linear:
    """``nn.Linear``; an input of width 0 (a robot whose position features are all dropped) gives a
    constant layer, without PyTorch's warning about initializing an empty weight."""
    if in_dim > 0:
        return nn.Linear(in_dim, out_dim)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors is a no-op")
        return nn.Linear(in_dim, out_dim)


def _check_dims(**dims: int) -> None:
    for name, d in dims.items():
        if d < 0:
            raise InvalidInputError(f"{name} must be >= 0, got {d}")


class ResidualBlock(nn.Module):
    """``h -> act(h + W2 act(W1 h))``.

    ``compute_dtype`` (None: the input's dtype) runs the branch ``W2 act(W1 h)`` under :func:`torch.autocast` in
    that precision; the skip connection, the sum and everything outside the block keep the input's dtype.
    """

    compute_dtype: torch.dtype | None = None

    def __init__(self, width: int, activation: str) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.act = make_activation(activation)

    def forward(self, h: Tensor) -> Tensor:
        if self.compute_dtype is None:
            return self.act(h + self.fc2(self.act(self.fc1(h))))
        with torch.autocast(h.device.type, dtype=self.compute_dtype):
            branch = self.fc2(self.act(self.fc1(h)))
        return self.act(h + branch.to(h.dtype))


def set_hidden_dtype(module: nn.Module, name: str) -> int:
    """Run the matrix products of every :class:`ResidualBlock` in ``module`` in the precision ``name`` (one of
    :data:`HIDDEN_DTYPES`); input and output layers, the skip connections and the rest of the model keep their
    dtype. Returns the number of blocks set. Parameters and state dicts do not change."""
    dtype = lookup(HIDDEN_DTYPES, name, "hidden dtype")
    blocks = [m for m in module.modules() if isinstance(m, ResidualBlock)]
    for b in blocks:
        b.compute_dtype = dtype
    return len(blocks)


def hidden_dtype_of(module: nn.Module) -> str:
    """The name (in :data:`HIDDEN_DTYPES`) of the precision ``module``'s residual blocks run in; ``float32`` for a
    module without blocks."""
    dtype = next((m.compute_dtype for m in module.modules() if isinstance(m, ResidualBlock)), None)
    return next(name for name, d in HIDDEN_DTYPES.items() if d == dtype)


class ResNet(nn.Module):
    """Input linear layer, ``blocks`` residual blocks (linear-act-linear plus skip, then act), output linear.

    ``(..., in_dim) -> (..., out_dim)``. With ``blocks=0`` the network is affine.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int = 128,
        blocks: int = 2,
        activation: str = "softplus",
        output_scale: float = OUTPUT_SCALE,
    ) -> None:
        super().__init__()
        _check_dims(in_dim=in_dim, out_dim=out_dim, blocks=blocks)
        if width < 1:
            raise InvalidInputError(f"width must be >= 1, got {width}")
        self.in_dim, self.out_dim = in_dim, out_dim
        self.input = linear(in_dim, width)
        self.blocks = nn.Sequential(*(ResidualBlock(width, activation) for _ in range(blocks)))
        self.output = nn.Linear(width, out_dim)
        init_output_layer(self.output, output_scale)

    def forward(self, x: Tensor) -> Tensor:
        return self.output(self.blocks(self.input(x)))


class MLP(nn.Module):
    """Linear layers with an activation between them: ``in -> hidden[0] -> ... -> out``.

    ``(..., in_dim) -> (..., out_dim)``; ``hidden=()`` gives a single linear layer.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden: Sequence[int] = (64,),
        activation: str = "softplus",
        output_scale: float = OUTPUT_SCALE,
    ) -> None:
        super().__init__()
        _check_dims(in_dim=in_dim, out_dim=out_dim)
        if any(h < 1 for h in hidden):
            raise InvalidInputError(f"hidden widths must be >= 1, got {tuple(hidden)}")
        self.in_dim, self.out_dim = in_dim, out_dim
        sizes = [in_dim, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [linear(a, b), make_activation(activation)]
        self.hidden = nn.Sequential(*layers)
        self.output = linear(sizes[-1], out_dim)
        init_output_layer(self.output, output_scale)

    def forward(self, x: Tensor) -> Tensor:
        return self.output(self.hidden(x))


class StateActionResNet(nn.Module):
    """``f(p, w, u) -> (..., nv)``: one ResNet of the normalized position, velocity and action features,
    concatenated. The corrector, and the plain-ODE ablation's whole predictor."""

    def __init__(
        self, position_dim: int, nv: int, nu: int, width: int = 128, blocks: int = 2, activation: str = "softplus",
        velocity_dim: int | None = None, output_scale: float = OUTPUT_SCALE,
    ) -> None:
        super().__init__()
        self.net = ResNet(position_dim + (nv if velocity_dim is None else velocity_dim) + nu, nv, width, blocks,
                          activation, output_scale=output_scale)

    def forward(self, p: Tensor, w: Tensor, u: Tensor) -> Tensor:
        return self.net(torch.cat((p, w, u), dim=-1))
