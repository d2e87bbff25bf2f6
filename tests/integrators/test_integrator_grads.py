"""Gradients through the integrators: gradcheck of rk4 and semi-implicit Euler, adjoint dopri5 vs backprop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mosim.errors import InvalidInputError
from mosim.integrators import step
from mosim.systems.layout import JointLayout


class SmoothAcc(nn.Module):
    """A smooth torch acceleration: ``tanh(W [q, v] + b)``, with a fixed random init."""

    def __init__(self, nq: int, nv: int, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.lin = nn.Linear(nq + nv, nv, dtype=torch.float64)
        with torch.no_grad():
            self.lin.weight.copy_(torch.randn(nv, nq + nv, generator=gen, dtype=torch.float64) * 0.5)
            self.lin.bias.copy_(torch.randn(nv, generator=gen, dtype=torch.float64) * 0.5)

    def forward(self, q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return 3.0 * torch.tanh(self.lin(torch.cat([q, v], dim=-1)))


def _setup(make_tiny, state_sampler, n: int = 2, vmax: float = 3.0):
    model = make_tiny()
    layout = JointLayout.from_model(model)
    qpos, qvel = state_sampler(model, n, np.random.default_rng(0), vmax=vmax)
    q = torch.from_numpy(qpos).requires_grad_(True)
    v = torch.from_numpy(qvel).requires_grad_(True)
    return layout, SmoothAcc(model.nq, model.nv), q, v


@pytest.mark.parametrize(
    "method, options", [("rk4", {}), ("rk4", {"chart": True}), ("semi_implicit_euler", {}), ("constant_acceleration", {})]
)
def test_gradcheck_one_step(method, options, make_tiny, state_sampler):
    layout, acc, q, v = _setup(make_tiny, state_sampler, n=1)

    def f(q: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return step(method, layout, acc, q, v, 0.1, **options)

    assert torch.autograd.gradcheck(f, (q, v))


def test_dopri5_adjoint_gradients_equal_backprop(make_tiny, state_sampler):
    layout, acc, q, v = _setup(make_tiny, state_sampler)
    w_q, w_v = torch.randn(q.shape, dtype=torch.float64), torch.randn(v.shape, dtype=torch.float64)
    grads = []
    for adjoint in (False, True):
        q1, v1 = step("dopri5", layout, acc, q, v, 0.1, rtol=1e-10, atol=1e-12, adjoint=adjoint)
        loss = (q1 * w_q).sum() + (v1 * w_v).sum()
        grads.append(torch.autograd.grad(loss, (q, v, *acc.parameters())))
    for direct, adj in zip(*grads):
        torch.testing.assert_close(adj, direct, atol=1e-7, rtol=1e-6)


def test_dopri5_adjoint_with_closure_needs_adjoint_params(make_tiny, state_sampler):
    layout, acc, q, v = _setup(make_tiny, state_sampler)
    action = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)

    def closure(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return acc(q, v) + action

    with pytest.raises(InvalidInputError, match="adjoint_params"):
        step("dopri5", layout, closure, q, v, 0.05, adjoint=True)
    grads = []
    for adjoint in (False, True):
        extra = {"adjoint": True, "adjoint_params": [action]} if adjoint else {}
        q1, v1 = step("dopri5", layout, closure, q, v, 0.05, rtol=1e-10, atol=1e-12, **extra)
        grads.append(torch.autograd.grad(q1.sum() + v1.sum(), (q, v, action)))
    for direct, adj in zip(*grads):
        torch.testing.assert_close(adj, direct, atol=1e-7, rtol=1e-6)
