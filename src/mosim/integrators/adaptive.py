"""Adaptive Dormand–Prince (``dopri5``) through torchdiffeq, in a local chart of the configuration manifold."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torchdiffeq import odeint, odeint_adjoint

from mosim.errors import InvalidInputError, MosimError
from mosim.integrators.common import AccelFn
from mosim.integrators.positions import chart_rate, integrate_positions
from mosim.systems.layout import JointLayout


class IntegrationError(MosimError):
    """An adaptive integrator could not advance the state."""


@contextlib.contextmanager
def _explain_underflow() -> Iterator[None]:
    """torchdiffeq asserts when the step size underflows; say why in mosim's terms."""
    try:
        yield
    except AssertionError as e:
        if "underflow" not in str(e):
            raise
        raise IntegrationError(
            "dopri5's step size underflowed to zero: the dynamics are stiff, diverging, or discontinuous in the state "
            "(e.g. joint-limit indicator features: use limit_features=False with dopri5), or use a fixed-step integrator"
        ) from None


class ChartDynamics(nn.Module):
    """The ODE in the chart centred at ``q0``: state ``(dq (..., nv), v (..., nv))`` with the position
    ``q = q0 ⊕ dq`` (``integrate_positions(q0, dq, 1)``); ``d(dq)/dt = chart_rate(dq, v)`` and
    ``dv/dt = acc(q, v)``.

    Without quaternion joints ``q = q0 + dq`` and ``d(dq)/dt = v``. For a quaternion joint ``dq`` holds the
    rotation vector of ``q0^-1 q`` and moves with ``J_r^-1 ω`` rather than the angular velocity ``ω`` itself,
    which keeps the chart exact (``d(dq)/dt = v`` alone would be wrong at second order in the rotation within
    the step whenever ``ω`` turns, e.g. under gyroscopic precession).
    """

    def __init__(self, layout: JointLayout, acc_fn: AccelFn, qpos0: Tensor) -> None:
        super().__init__()
        self.layout = layout
        self.acc_fn = acc_fn
        self.qpos0 = qpos0

    def forward(self, t: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        dq, v = state
        q = integrate_positions(self.layout, self.qpos0, dq, 1.0)
        return chart_rate(self.layout, dq, v), self.acc_fn(q, v)


def _adjoint_params(acc_fn: AccelFn, qpos: Tensor, given: Sequence[Tensor] | None) -> tuple[Tensor, ...]:
    """The tensors the adjoint pass differentiates: ``given`` (or the parameters of an ``nn.Module`` acc_fn),
    plus ``qpos`` when it requires grad (the chart's centre is closed over by the dynamics)."""
    if given is None:
        acc_fn = getattr(acc_fn, "__wrapped__", acc_fn)
        if not isinstance(acc_fn, nn.Module):
            raise InvalidInputError(
                "dopri5 with adjoint=True needs adjoint_params (the tensors acc_fn closes over that need gradients, "
                "e.g. list(model.parameters()) plus the action) unless acc_fn is an nn.Module; pass adjoint_params=() "
                "if there are none"
            )
        given = list(acc_fn.parameters())
    params = tuple(given)
    if qpos.requires_grad and not any(p is qpos for p in params):
        params = params + (qpos,)
    return params


def dopri5(
    layout: JointLayout,
    acc_fn: AccelFn,
    qpos: Tensor,
    qvel: Tensor,
    h: float,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    adjoint: bool = False,
    adjoint_params: Sequence[Tensor] | None = None,
    solver_options: dict[str, Any] | None = None,
) -> tuple[Tensor, Tensor]:
    """Integrate ``(qpos (..., nq), qvel (..., nv))`` over time ``h`` with adaptive Dormand–Prince (torchdiffeq).

    ``adjoint=True`` backpropagates with the adjoint method (``odeint_adjoint``, constant memory);
    ``adjoint_params`` lists the tensors ``acc_fn`` closes over that need gradients (default: the parameters of
    an ``nn.Module`` acc_fn). ``solver_options`` goes to torchdiffeq as ``options`` (e.g. ``max_num_steps``).
    The whole batch shares one adaptive step size. Returns ``(qpos (..., nq), qvel (..., nv))``.
    """
    func = ChartDynamics(layout, acc_fn, qpos)
    t = torch.tensor([0.0, h], dtype=qvel.dtype, device=qvel.device)
    state0 = (torch.zeros_like(qvel), qvel)
    kwargs: dict[str, Any] = dict(rtol=rtol, atol=atol, method="dopri5", options=solver_options)
    if adjoint:
        params = _adjoint_params(acc_fn, qpos, adjoint_params)
        with _explain_underflow():
            dqs, vs = odeint_adjoint(func, state0, t, adjoint_params=params, **kwargs)
    else:
        with _explain_underflow():
            dqs, vs = odeint(func, state0, t, **kwargs)
    return integrate_positions(layout, qpos, dqs[-1], 1.0), vs[-1]
