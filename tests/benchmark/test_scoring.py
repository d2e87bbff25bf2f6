"""The benchmark's scoring: oracles with known answers, windows, warm-up, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from mosim.benchmark import Protocol, equivalent_horizon, make_windows, per_step_errors, score, state_groups
from mosim.data import CollectConfig, collect, load_dataset
from mosim.errors import InvalidInputError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "cheetah.h5"
    collect(CollectConfig(system="cheetah-run", out=str(path), episodes=10, steps=120, workers=1), progress=False)
    return load_dataset(path)


class Replay:
    """A perfect model: looks the true future up in the dataset (keyed by the start state)."""

    def __init__(self, ds, offset_q=0.0, offset_v=0.0):
        self.ds, self.offset_q, self.offset_v = ds, offset_q, offset_v
        self.index = {ds.qpos[e, t].tobytes(): (e, t) for e in range(ds.n_episodes) for t in range(ds.steps + 1)}

    def rollout(self, q0, v0, actions):
        h = actions.shape[1]
        qs, vs = [], []
        for q in q0:
            e, t = self.index[q.tobytes()]
            qs.append(self.ds.qpos[e, t : t + h + 1].copy())
            vs.append(self.ds.qvel[e, t : t + h + 1].copy())
        q, v = np.stack(qs), np.stack(vs)
        q[:, 1:] += self.offset_q
        v[:, 1:] += self.offset_v
        return q, v


class WarmupProbe(Replay):
    """Records the warm-up it gets; predicts perfectly."""

    needs_warmup = True

    def rollout(self, q0, v0, actions, warmup=None):
        self.seen = warmup
        return super().rollout(q0, v0, actions)


PROTOCOL = Protocol(horizons=(3, 16, 50), n_windows=300)


def test_perfect_model_scores_zero(dataset):
    for s in score(Replay(dataset), dataset, PROTOCOL):
        assert s.mse == 0.0 and s.ci_high == 0.0 and all(v == 0.0 for v in s.groups.values())


def test_constant_offset_scores_the_analytic_mse(dataset):
    nq, nv = dataset.spec.nq, dataset.spec.nv
    for s in score(Replay(dataset, offset_q=0.1, offset_v=-0.3), dataset, PROTOCOL):
        assert s.mse == pytest.approx((nq * 0.1**2 + nv * 0.3**2) / (nq + nv), rel=1e-12)
        assert s.groups["qpos"] == pytest.approx(0.01) and s.groups["qvel"] == pytest.approx(0.09)
        assert s.groups["qpos_root"] == pytest.approx(0.01)


def test_warmup_is_given_but_never_scored(dataset):
    probe = WarmupProbe(dataset)
    s = score(probe, dataset, PROTOCOL, warmup=5)
    assert all(x.mse == 0.0 for x in s)
    qw, vw, aw = probe.seen
    assert qw.shape[1:] == (4, dataset.spec.nq) and aw.shape[1:] == (4, dataset.spec.nu)
    # the warm-up states are the 4 true states right before each window's start
    part, windows = make_windows(dataset, PROTOCOL, 50)
    e, t0 = windows.episode[-1], windows.t0[-1]
    np.testing.assert_array_equal(qw[-1], part.qpos[e, t0 - 4 : t0])
    with pytest.raises(InvalidInputError, match="max_warmup"):
        score(WarmupProbe(dataset), dataset, PROTOCOL, warmup=6)


def test_windows_stay_inside_episodes_and_are_seeded(dataset):
    part, w = make_windows(dataset, PROTOCOL, 100)
    assert w.t0.min() >= PROTOCOL.max_warmup - 1 and (w.t0 + 100).max() <= part.steps
    assert set(w.episode.tolist()) <= set(range(part.n_episodes))
    _, again = make_windows(dataset, PROTOCOL, 100)
    np.testing.assert_array_equal(w.t0, again.t0)
    _, other = make_windows(dataset, Protocol(horizons=(100,), n_windows=300, seed=1), 100)
    assert not np.array_equal(w.t0, other.t0)
    with pytest.raises(InvalidInputError, match="too short"):
        make_windows(dataset, PROTOCOL, 200)


def test_same_seed_same_numbers(dataset):
    a = score(Replay(dataset, offset_v=np.linspace(0, 1, dataset.spec.nv)), dataset, PROTOCOL)
    b = score(Replay(dataset, offset_v=np.linspace(0, 1, dataset.spec.nv)), dataset, PROTOCOL)
    assert a == b


def test_per_step_errors_and_equivalent_horizon(dataset):
    curve = per_step_errors(Replay(dataset, offset_v=0.5), dataset, 20, PROTOCOL)
    assert curve.shape == (20,) and np.allclose(curve, 0.25 * dataset.spec.nv / (dataset.spec.nq + dataset.spec.nv))
    growing = np.arange(1, 101, dtype=float)  # running mean after h steps is (h + 1) / 2
    assert equivalent_horizon(growing, 10.0) == 19
    assert equivalent_horizon(growing, 1e9) is None


def test_state_groups_for_fixed_base_robots():
    from mosim.systems import make_system

    groups = state_groups(make_system("reacher-easy").layout)
    assert set(groups) == {"qpos", "qvel"}


def test_score_with_curve_equals_score_and_per_step_errors(dataset):
    from mosim.benchmark.scoring import score_with_curve

    class Drift(Replay):
        def rollout(self, q0, v0, actions):
            q, v = super().rollout(q0, v0, actions)
            steps = np.arange(q.shape[1])[None, :, None]
            return q + 0.01 * steps, v - 0.02 * steps

    model = Drift(dataset)
    scores, curve = score_with_curve(model, dataset, PROTOCOL)
    assert [s.as_dict() for s in scores] == [s.as_dict() for s in score(model, dataset, PROTOCOL)]
    np.testing.assert_allclose(curve, per_step_errors(model, dataset, 50, PROTOCOL))
    assert curve.shape == (50,) and np.all(np.diff(curve) > 0)


def test_a_model_of_another_step_is_refused_before_scoring(dataset):
    """A model that steps another ``dt`` than the data (here: two physics steps per model step) would be scored
    against states it does not predict; the error names the difference."""
    from dataclasses import replace

    model = Replay(dataset)
    model.spec = replace(dataset.spec, substeps=2 * dataset.spec.substeps, dt=2 * dataset.spec.dt)
    with pytest.raises(InvalidInputError, match="substeps.*dt"):
        score(model, dataset, PROTOCOL)
    model.spec = dataset.spec
    assert score(model, dataset, PROTOCOL)[0].mse == 0.0
