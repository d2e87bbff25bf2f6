"""Input validation of the integrators: unknown names, wrong shapes, bad step sizes and options."""

from __future__ import annotations

import pytest
import torch

from mosim.errors import InvalidInputError, UnknownNameError
from mosim.integrators import INTEGRATORS, integrate_positions, step


def _acc(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return -q


def _state(b: int = 3, n: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.zeros(b, n, dtype=torch.float64), torch.ones(b, n, dtype=torch.float64)


def test_unknown_method_lists_valid_names(oscillator_layout):
    q, v = _state()
    with pytest.raises(UnknownNameError) as err:
        step("rk5", oscillator_layout, _acc, q, v, 0.01)
    for name in INTEGRATORS:
        assert name in str(err.value)
    assert "'rk4'" in str(err.value)  # close match suggested


def test_wrong_shapes(oscillator_layout, make_tiny):
    from mosim.systems.layout import JointLayout

    q, v = _state()
    with pytest.raises(InvalidInputError, match=r"qpos \(\.\.\., nq=2\) and qvel \(\.\.\., nv=2\)"):
        integrate_positions(oscillator_layout, q[:, :1], v, 0.1)
    with pytest.raises(InvalidInputError, match="nv=2"):
        step("rk4", oscillator_layout, _acc, q, torch.ones(3, 3, dtype=torch.float64), 0.1)
    with pytest.raises(InvalidInputError, match="same leading dimensions"):
        step("rk4", oscillator_layout, _acc, q, v[:2], 0.1)
    with pytest.raises(InvalidInputError, match="broadcastable"):
        integrate_positions(oscillator_layout, q, v[:2], 0.1)
    with pytest.raises(InvalidInputError, match="floating-point"):
        integrate_positions(oscillator_layout, q.long(), v, 0.1)
    with pytest.raises(InvalidInputError, match="nq=17"):  # ball, ball, hinge, free, slide
        layout = JointLayout.from_model(make_tiny())
        integrate_positions(layout, torch.zeros(16, dtype=torch.float64), torch.zeros(14, dtype=torch.float64), 0.1)


def test_bad_step_arguments(oscillator_layout):
    q, v = _state()
    for dt, substeps in ((0.0, 1), (-0.1, 1), (float("nan"), 1), (0.1, 0), (0.1, 1.5)):
        with pytest.raises(InvalidInputError):
            step("semi_implicit_euler", oscillator_layout, _acc, q, v, dt, substeps=substeps)
    with pytest.raises(InvalidInputError, match="unknown option.*rtol"):
        step("rk4", oscillator_layout, _acc, q, v, 0.1, rtol=1e-3)
    with pytest.raises(InvalidInputError, match="acc_fn must return"):
        step("euler", oscillator_layout, lambda q, v: q[..., :1], q, v, 0.1)
