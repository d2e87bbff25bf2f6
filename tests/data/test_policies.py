"""The random exploration policy follows the paper's protocol; policy lookup errors are clear."""

from __future__ import annotations

import numpy as np
import pytest

from mosim.data.policies import CallablePolicy, RandomPolicy, make_policy
from mosim.errors import InvalidInputError, UnknownNameError


def planned(hold: float, p_zero: float, steps: int = 200_000, seed: int = 0) -> np.ndarray:
    p = RandomPolicy(hold=hold, p_zero=p_zero)
    p.bind(np.array([-1.0, -2.0]), np.array([1.0, 3.0]))
    p.reset(np.random.default_rng(seed))
    return p.plan(steps)


@pytest.mark.parametrize("hold", [1.0, 3.0, 5.0])
def test_holding_times_are_geometric_with_mean_hold(hold):
    a = planned(hold, 0.0)
    changes = np.flatnonzero(np.any(np.diff(a, axis=0) != 0, axis=1))
    runs = np.diff(changes)
    assert runs.mean() == pytest.approx(hold, rel=0.03)
    if hold > 1:  # geometric: P(run == 1) = 1/hold
        assert np.mean(runs == 1) == pytest.approx(1 / hold, rel=0.05)


def test_zero_action_probability_and_bounds():
    a = planned(1.0, 0.25)
    assert np.all(a >= [-1, -2]) and np.all(a <= [1, 3])
    assert np.mean(np.all(a == 0, axis=1)) == pytest.approx(0.25, abs=0.01)
    nonzero = a[np.any(a != 0, axis=1)]
    assert nonzero[:, 1].mean() == pytest.approx(0.5, abs=0.02)  # uniform on [-2, 3]


def test_same_generator_same_actions():
    np.testing.assert_array_equal(planned(3, 0.2, 1000, seed=4), planned(3, 0.2, 1000, seed=4))
    assert not np.array_equal(planned(3, 0.2, 1000, seed=4), planned(3, 0.2, 1000, seed=5))


def test_bad_parameters_and_names():
    with pytest.raises(InvalidInputError, match="hold"):
        RandomPolicy(hold=0.5)
    with pytest.raises(InvalidInputError, match="p_zero"):
        RandomPolicy(p_zero=1.5)
    with pytest.raises(UnknownNameError, match="Did you mean 'random'"):
        make_policy("randon")
    with pytest.raises(UnknownNameError, match="cannot import"):
        make_policy("no_such_module:policy")
    with pytest.raises(InvalidInputError, match="bad parameters"):
        make_policy("random", speed=3)


def test_callable_policy_checks_its_output():
    p = CallablePolicy(lambda obs: np.zeros(3))
    p.bind(np.zeros(2) - 1, np.zeros(2) + 1)
    p.reset(np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match="shape"):
        p(np.zeros(4))
    assert isinstance(make_policy("numpy:zeros_like"), CallablePolicy)
