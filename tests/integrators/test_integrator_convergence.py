"""Convergence orders of the fixed-step integrators and accuracy of dopri5 on known solutions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mosim.integrators import step
from mosim.systems.layout import BALL, FREE

OMEGA = torch.tensor([2.0, 3.0], dtype=torch.float64)
Q0 = torch.tensor([[0.5, -0.3]], dtype=torch.float64)
V0 = torch.tensor([[1.0, 0.4]], dtype=torch.float64)
T = 1.0


def oscillator_acc(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return -(OMEGA**2) * q


def oscillator_exact(t: float) -> tuple[torch.Tensor, torch.Tensor]:
    c, s = torch.cos(OMEGA * t), torch.sin(OMEGA * t)
    return Q0 * c + V0 / OMEGA * s, -Q0 * OMEGA * s + V0 * c


def oscillator_error(method: str, layout, substeps: int, **options) -> float:
    q, v = step(method, layout, oscillator_acc, Q0, V0, T, substeps=substeps, **options)
    qe, ve = oscillator_exact(T)
    return float(torch.cat([q - qe, v - ve], -1).abs().max())


def slope(substeps: list[int], errors: list[float]) -> float:
    return float(np.polyfit(np.log(T / np.asarray(substeps)), np.log(errors), 1)[0])


@pytest.mark.parametrize(
    "method, substeps, order",
    [
        ("rk4", [8, 16, 32, 64], 4),
        ("semi_implicit_euler", [100, 200, 400, 800], 1),
        ("euler", [100, 200, 400, 800], 1),
        ("constant_acceleration", [100, 200, 400, 800], 1),
    ],
)
def test_order_on_harmonic_oscillator(method, substeps, order, oscillator_layout):
    errors = [oscillator_error(method, oscillator_layout, n) for n in substeps]
    assert abs(slope(substeps, errors) - order) < 0.15, errors


def test_dopri5_matches_closed_form(oscillator_layout):
    assert oscillator_error("dopri5", oscillator_layout, 1) < 1e-5
    assert oscillator_error("dopri5", oscillator_layout, 1, rtol=1e-10, atol=1e-12) < 1e-9


@pytest.mark.parametrize("joint_type", [BALL, FREE])
def test_rotation_orders_and_dopri5_chart_on_a_spinning_body(joint_type, spinning_body):
    layout, acc, q0, v0 = spinning_body(joint_type)
    # reference: one dopri5 step over the whole second (the body turns by ~2.5 rad), so its chart must be exact
    q_ref, v_ref = step("dopri5", layout, acc, q0, v0, T, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(q_ref[..., -4:].norm(dim=-1), torch.ones(1, dtype=torch.float64))

    def error(q: torch.Tensor, v: torch.Tensor) -> float:
        return float(torch.cat([q - q_ref, v - v_ref], -1).abs().max())

    substeps = [16, 32, 64]
    # rk4 with the exact chart: 4th order on the rotation
    errors = [error(*step("rk4", layout, acc, q0, v0, T, substeps=n, chart=True)) for n in substeps]
    assert abs(slope(substeps, errors) - 4) < 0.2, errors
    # MuJoCo's rk4 adds angular velocities across stages: 2nd order when the rotation axis turns
    errors = [error(*step("rk4", layout, acc, q0, v0, T, substeps=n)) for n in substeps]
    assert abs(slope(substeps, errors) - 2) < 0.2, errors
    # and a loose dopri5 step over the second is still accurate to its tolerance
    assert error(*step("dopri5", layout, acc, q0, v0, T, rtol=1e-7, atol=1e-9)) < 1e-5


def test_constant_acceleration_is_exact_for_a_constant_acceleration(oscillator_layout):
    """Ballistic motion: one step of any length lands exactly on ``q0 + v0 t + a t² / 2``, where semi-implicit Euler
    overshoots by ``a t² / 2``."""
    layout = oscillator_layout  # a hinge and a slide
    acc = torch.tensor([[-9.81, 3.0]], dtype=torch.float64)
    q, v = step("constant_acceleration", layout, lambda q, v: acc.expand_as(v), Q0, V0, T)
    torch.testing.assert_close(q, Q0 + V0 * T + 0.5 * acc * T**2, rtol=0, atol=1e-14)
    torch.testing.assert_close(v, V0 + acc * T, rtol=0, atol=1e-14)
    q_sie, _ = step("semi_implicit_euler", layout, lambda q, v: acc.expand_as(v), Q0, V0, T)
    torch.testing.assert_close(q_sie - q, 0.5 * acc * T**2)


def test_constant_acceleration_fits_rk4_steps_to_third_order(oscillator_layout):
    """Given the velocity change of an RK4 step (what a learned acceleration fits), the position update misses
    RK4's by O(h³), semi-implicit Euler's by O(h²): the reason it can stand in for RK4 on RK4 data."""
    hs = [0.04, 0.02, 0.01]
    errors: dict[str, list[float]] = {"constant_acceleration": [], "semi_implicit_euler": []}
    for h in hs:
        q1, v1 = step("rk4", oscillator_layout, oscillator_acc, Q0, V0, h)
        a_eff = (v1 - V0) / h
        for method, errs in errors.items():
            q, v = step(method, oscillator_layout, lambda q, v: a_eff, Q0, V0, h)
            torch.testing.assert_close(v, v1)
            errs.append(float((q - q1).abs().max()))
    steps = [T / h for h in hs]
    assert abs(slope(steps, errors["constant_acceleration"]) - 3) < 0.15, errors
    assert abs(slope(steps, errors["semi_implicit_euler"]) - 2) < 0.15, errors
