"""One model step with a named integrator: :func:`step` and the :data:`INTEGRATORS` table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from mosim.integrators.adaptive import dopri5
from mosim.integrators.common import AccelFn, check_dt, check_options, check_state, checked_acc
from mosim.integrators.explicit import constant_acceleration, euler, rk4, semi_implicit_euler
from mosim.registry import lookup
from mosim.systems.layout import JointLayout

Integrator = Callable[..., tuple[Tensor, Tensor]]
"""``impl(layout, acc_fn, qpos (..., nq), qvel (..., nv), h, **options) -> (qpos, qvel)``: one sub-step."""

INTEGRATORS: dict[str, Integrator] = {
    "semi_implicit_euler": semi_implicit_euler,
    "euler": euler,
    "rk4": rk4,
    "constant_acceleration": constant_acceleration,
    "dopri5": dopri5,
}
"""integrator name -> implementation of one sub-step"""


def step(
    method: str,
    layout: JointLayout,
    acc_fn: AccelFn,
    qpos: Tensor,
    qvel: Tensor,
    dt: float,
    substeps: int = 1,
    **options: Any,
) -> tuple[Tensor, Tensor]:
    """Advance ``(qpos (..., nq), qvel (..., nv))`` by one model step of length ``dt``, made of ``substeps``
    equal sub-steps of the integrator ``method`` (a key of :data:`INTEGRATORS`).

    ``acc_fn(q, v) -> (..., nv)`` gives the acceleration with the action held constant. ``options`` go to the
    integrator (``dopri5``: ``rtol``, ``atol``, ``adjoint``, ``adjoint_params``, ``solver_options``; the
    fixed-step methods take none). Returns ``(qpos (..., nq), qvel (..., nv))``; differentiable.

    Raises :class:`~mosim.errors.UnknownNameError` for an unknown ``method`` and
    :class:`~mosim.errors.InvalidInputError` for wrong shapes, ``dt``, ``substeps`` or options.
    """
    impl = lookup(INTEGRATORS, method, "integrator")
    check_options(method, impl, options)
    check_state(layout, qpos, qvel, same_batch=True)
    h = check_dt(dt, substeps)
    acc = checked_acc(acc_fn, layout.nv)
    for _ in range(substeps):
        qpos, qvel = impl(layout, acc, qpos, qvel, h, **options)
    return qpos, qvel
