"""MuJoCo as a reference model on the protocol: it replays the recorded runs, and its perturbations behave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mosim.benchmark import Protocol, score
from mosim.benchmark.reference import MujocoModel, Perturbation
from mosim.data import CollectConfig, collect, load_dataset
from mosim.errors import InvalidInputError
from mosim.systems import make_system

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROTOCOL = Protocol(horizons=(16,), n_windows=40, max_warmup=1)


@pytest.fixture(scope="module")
def cheetah(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "cheetah.h5"
    collect(CollectConfig(system="cheetah-run", out=str(path), episodes=10, steps=60, workers=1), progress=False)
    return load_dataset(path)


@pytest.fixture(scope="module")
def arm(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "arm.h5"
    collect(CollectConfig(system=f"mjcf:{FIXTURES / 'two_link_arm.xml'}", out=str(path), episodes=10, steps=60, workers=1, seed=3),
            progress=False)
    return load_dataset(path)


def _mse(model, ds) -> float:
    return score(model, ds, PROTOCOL)[0].mse


@pytest.mark.parametrize("name", ["cheetah", "arm"])
def test_unperturbed_mujoco_replays_the_recorded_runs(name, request):
    """Contacts included: restarting from (qpos, qvel) alone reproduces what the collector recorded."""
    ds = request.getfixturevalue(name)
    assert _mse(MujocoModel(ds), ds) < 1e-20


def test_errors_grow_with_the_noise_and_float32_rounding_is_tiny(cheetah):
    errors = [_mse(MujocoModel(cheetah, Perturbation(step_noise=s)), cheetah) for s in (1e-3, 1e-2, 1e-1)]
    assert errors[0] < errors[1] < errors[2]
    assert 1e-30 < _mse(MujocoModel(cheetah, Perturbation(float32="every_step")), cheetah) < 1e-8
    start = _mse(MujocoModel(cheetah, Perturbation(noise=1e-2)), cheetah)
    assert start > 0


def test_same_seed_same_errors_and_other_seeds_differ(cheetah):
    a, b, c = (_mse(MujocoModel(cheetah, Perturbation(step_noise=1e-2, seed=s)), cheetah) for s in (0, 0, 1))
    assert a == b != c


def test_noisy_quaternions_stay_unit(arm):
    model = MujocoModel(arm, Perturbation(noise=0.05, step_noise=0.05))
    idx = np.arange(5)
    q, _ = model.rollout(arm.qpos[idx, 0], arm.qvel[idx, 0], arm.action[idx, :20])
    for s in model.system.layout.quaternion_slices():
        np.testing.assert_allclose(np.linalg.norm(q[..., s], axis=-1), 1.0, atol=1e-12)


def test_bad_perturbations_and_another_systems_dataset_are_clear_errors(cheetah):
    with pytest.raises(InvalidInputError, match="step_noise"):
        Perturbation(step_noise=-1.0)
    with pytest.raises(InvalidInputError, match="float32"):
        Perturbation(float32="always")
    with pytest.raises(InvalidInputError, match="does not match the dataset"):
        MujocoModel(cheetah, system=make_system("reacher-easy"))
