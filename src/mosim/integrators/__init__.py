"""Integrators of the learned dynamics ``dv/dt = f(q, v, a)`` on a robot's configuration manifold.

::

    from mosim.integrators import integrate_positions, step

    q1 = integrate_positions(layout, q0, v, dt)                        # MuJoCo's mj_integratePos, batched
    q1, v1 = step("rk4", layout, acc_fn, q0, v0, dt, substeps=2)       # acc_fn(q, v) -> dv/dt

Methods (:data:`INTEGRATORS`): ``semi_implicit_euler`` (MuJoCo's Euler), ``euler`` (explicit), ``rk4``
(MuJoCo's RK4 on the manifold), ``constant_acceleration`` (one evaluation, second-order positions: a
cheap fit to RK4 data) and ``dopri5`` (adaptive, torchdiffeq, optionally with the adjoint method).
"""

from mosim.integrators.adaptive import dopri5, IntegrationError
from mosim.integrators.common import AccelFn
from mosim.integrators.explicit import constant_acceleration, euler, rk4, semi_implicit_euler
from mosim.integrators.compilation import (COMPILE_PARTS, INDUCTOR_OPTIONS, SMALL_BATCH, compile_fn, compile_model,
                                           compile_options, compiles_forces_apart, solves_contacts)
from mosim.integrators.positions import PositionPlan, integrate_positions, position_plan
from mosim.integrators.quaternion import quat_exp, quat_integrate, quat_mul, quat_normalize
from mosim.integrators.stepping import INTEGRATORS, Integrator, step

__all__ = [
    "IntegrationError",
    "INDUCTOR_OPTIONS",
    "INTEGRATORS",
    "AccelFn",
    "Integrator",
    "PositionPlan",
    "COMPILE_PARTS",
    "SMALL_BATCH",
    "compile_fn",
    "compile_model",
    "compile_options",
    "compiles_forces_apart",
    "solves_contacts",
    "constant_acceleration",
    "dopri5",
    "euler",
    "integrate_positions",
    "position_plan",
    "quat_exp",
    "quat_integrate",
    "quat_mul",
    "quat_normalize",
    "rk4",
    "semi_implicit_euler",
    "step",
]
