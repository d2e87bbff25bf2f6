"""The out-of-distribution penalty: a flow of the training (state, action) pairs, penalty in (-1, 0), lower far
from the data, c and s from the data by default, files, caching, and use in the imagined env."""

from __future__ import annotations

import numpy as np
import pytest

from mosim.errors import InvalidInputError
from mosim.rl import MosimEnv
from mosim.rl import ood as ood_module
from mosim.rl.ood import DensityConfig, DensityModel, OODPenalty, dataset_pairs, density_for, fit_density

TINY = DensityConfig(transforms=2, hidden=(32, 32), steps=80, batch_size=128, seed=1)


@pytest.fixture(scope="module")
def density(reacher_dataset) -> DensityModel:
    return fit_density(reacher_dataset, config=TINY)


def test_penalty_is_in_the_open_interval_and_lower_far_from_the_data(density, reacher_dataset):
    pen = OODPenalty(density)
    q, v, a = dataset_pairs(reacher_dataset, "train")
    near = pen(q, v, a)
    assert near.shape == (len(q),) and near.dtype == np.float64
    assert np.all(near > -1) and np.all(near < 0)
    assert np.median(near) > -0.1  # typical training pairs are barely penalized
    previous = near
    for k in (3.0, 10.0, 100.0):  # velocities and actions further and further outside the data
        far = pen(q, v * k + k, np.clip(a * k, -1, 1))
        assert np.all(far > -1) and np.all(far < 0)  # still strictly inside, even at the far end
        assert far.mean() < previous.mean()
        previous = far
    assert np.all(pen(q, v + 1e3, a) < near)  # every pair: far away is penalized more
    assert pen(q, v + 1e3, a).max() < -0.99


def test_c_and_s_default_to_quantiles_of_held_out_log_densities(density, reacher_dataset):
    logp = density.log_prob(*dataset_pairs(reacher_dataset, "val"))  # the fixture's data has a validation split
    assert density.calibration["split"] == "val" and density.calibration["n"] == len(logp)
    pen = OODPenalty(density)
    c = np.quantile(logp, 0.01)
    assert pen.c == pytest.approx(c, rel=1e-5, abs=1e-5)
    assert pen.s == pytest.approx((np.median(logp) - c) / 4, rel=1e-5, abs=1e-5)
    assert pen.from_log_prob(np.array([pen.c]))[0] == pytest.approx(-0.5)
    assert np.mean(pen.from_log_prob(logp) > -0.5) >= 0.98  # 99% of held-out pairs are above -1/2
    mine = OODPenalty(density, c=-3.0, s=2.0, weight=0.5)
    assert (mine.c, mine.s) == (-3.0, 2.0)
    assert mine.from_log_prob(np.array([-3.0]))[0] == pytest.approx(-0.25)
    with pytest.raises(InvalidInputError):
        OODPenalty(density, s=-1.0)


def test_fit_is_deterministic_and_files_round_trip(density, reacher_dataset, tmp_path):
    q, v, a = dataset_pairs(reacher_dataset, "test")
    again = fit_density(reacher_dataset, config=TINY)
    np.testing.assert_array_equal(again.log_prob(q, v, a), density.log_prob(q, v, a))
    path = density.save(tmp_path / "d.pt")
    loaded = DensityModel.load(path, reacher_dataset.spec)
    np.testing.assert_array_equal(loaded.log_prob(q, v, a), density.log_prob(q, v, a))
    assert loaded.calibration == density.calibration
    assert OODPenalty(path).c == OODPenalty(density).c
    (tmp_path / "bad.pt").write_bytes(b"junk")
    with pytest.raises(ood_module.DensityError):
        DensityModel.load(tmp_path / "bad.pt")


def test_density_is_cached_next_to_the_model(reacher_dataset, tmp_path, monkeypatch):
    path = tmp_path / "density.pt"
    first = density_for(reacher_dataset, path, TINY)
    assert path.is_file()

    def refit(*args, **kwargs):  # the cached file must be used
        raise AssertionError("refitted")

    monkeypatch.setattr(ood_module, "fit_density", refit)
    second = density_for(reacher_dataset, path, TINY)
    q, v, a = dataset_pairs(reacher_dataset, "val")
    np.testing.assert_array_equal(first.log_prob(q, v, a), second.log_prob(q, v, a))


def test_penalty_is_added_to_the_imagined_reward(density, simulator):
    pen = OODPenalty(density)
    env = MosimEnv(simulator, ood_penalty=pen)
    obs, _ = env.reset(seed=0)
    q, v = env.state
    a = np.array([0.3, -0.2])
    _, reward, *_, info = env.step(a)
    assert -1 < info["ood_penalty"] < 0
    assert info["ood_penalty"] == pytest.approx(pen(q[None], v[None], a[None])[0])
    assert reward == pytest.approx(info["task_reward"] + info["ood_penalty"])
