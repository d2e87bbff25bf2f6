"""Fixed-step integrators: one sub-step of length ``h`` each.

Every function takes ``(layout, acc_fn, qpos (..., nq), qvel (..., nv), h)`` and returns the new
``(qpos (..., nq), qvel (..., nv))``. Positions always move on the manifold through
:func:`~mosim.integrators.positions.integrate_positions`, so quaternions stay unit length.
"""

from __future__ import annotations

from torch import Tensor

from mosim.integrators.common import AccelFn
from mosim.integrators.positions import chart_rate, integrate_positions
from mosim.systems.layout import JointLayout

RK4_A = ((0.5,), (0.0, 0.5), (0.0, 0.0, 1.0))
"""classic RK4 tableau, rows of ``A`` below the diagonal (MuJoCo's ``RK4_A``)"""
RK4_B = (1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0)
"""classic RK4 weights (MuJoCo's ``RK4_B``)"""


def euler(layout: JointLayout, acc_fn: AccelFn, qpos: Tensor, qvel: Tensor, h: float) -> tuple[Tensor, Tensor]:
    """Explicit Euler: ``q1 = q0 ⊕ v0 h``, ``v1 = v0 + h acc(q0, v0)``."""
    acc = acc_fn(qpos, qvel)
    return integrate_positions(layout, qpos, qvel, h), qvel + h * acc


def semi_implicit_euler(
    layout: JointLayout, acc_fn: AccelFn, qpos: Tensor, qvel: Tensor, h: float
) -> tuple[Tensor, Tensor]:
    """Semi-implicit (symplectic) Euler, MuJoCo's ``Euler`` integrator without damping:
    ``v1 = v0 + h acc(q0, v0)``, then ``q1 = q0 ⊕ v1 h`` with the *new* velocity."""
    qvel1 = qvel + h * acc_fn(qpos, qvel)
    return integrate_positions(layout, qpos, qvel1, h), qvel1


def constant_acceleration(
    layout: JointLayout, acc_fn: AccelFn, qpos: Tensor, qvel: Tensor, h: float
) -> tuple[Tensor, Tensor]:
    """One acceleration held over the sub-step: ``v1 = v0 + h acc(q0, v0)``, ``q1 = q0 ⊕ h (v0 + v1) / 2``
    (``q0 + h v0 + h² acc / 2`` for a hinge or slide: exact kinematics under constant acceleration).

    One evaluation per step, like the Euler schemes, but its position update is second order. That is what lets
    a *learned* acceleration fit data made with RK4 at a quarter of RK4's cost: the network learns the
    acceleration averaged over the step, which sets ``v1`` exactly, and the position then misses RK4's by
    ``h³ (da/dt) / 12``, against ``h² acc / 2`` for semi-implicit Euler, which cannot fit RK4 data.
    """
    qvel1 = qvel + h * acc_fn(qpos, qvel)
    return integrate_positions(layout, qpos, 0.5 * (qvel + qvel1), h), qvel1


def _combine(weights: tuple[float, ...], xs: list[Tensor]) -> Tensor:
    """``sum_j weights[j] * xs[j]``, skipping zero weights."""
    terms = [w * x for w, x in zip(weights, xs) if w != 0.0]
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def rk4(
    layout: JointLayout, acc_fn: AccelFn, qpos: Tensor, qvel: Tensor, h: float, *, chart: bool = False
) -> tuple[Tensor, Tensor]:
    """Classic RK4 on the manifold, by default exactly as MuJoCo's ``mj_RungeKutta(m, d, 4)``.

    Stage ``i`` starts from ``q0`` moved by a *velocity* combination, ``q_i = q0 ⊕ h sum_j A_ij v_j`` and
    ``v_i = v0 + h sum_j A_ij a_j`` with ``a_j = acc(q_j, v_j)``; the step ends at
    ``q1 = q0 ⊕ h sum_i B_i v_i`` and ``v1 = v0 + h sum_i B_i a_i``.

    MuJoCo's scheme is 4th order for hinge, slide and free-joint translation, but only 2nd order for a
    rotation whose axis turns within the step (adding angular velocities is not composing rotations).
    ``chart=True`` instead combines the chart rates ``J_r(dq_j)^-1 ω_j`` (see
    :func:`~mosim.integrators.positions.chart_rate`), which makes it 4th order for rotations too; it then no
    longer reproduces ``mj_step``.
    """
    rates = [qvel]
    accs = [acc_fn(qpos, qvel)]
    for row in RK4_A:
        dq = _combine(row, rates)
        q_i = integrate_positions(layout, qpos, dq, h)
        v_i = qvel + h * _combine(row, accs)
        rates.append(chart_rate(layout, h * dq, v_i) if chart else v_i)
        accs.append(acc_fn(q_i, v_i))
    qpos1 = integrate_positions(layout, qpos, _combine(RK4_B, rates), h)
    return qpos1, qvel + h * _combine(RK4_B, accs)
