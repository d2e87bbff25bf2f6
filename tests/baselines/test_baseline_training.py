"""Training the baselines through mosim's trainer, checkpoints through ``mosim.load``, warm-up scoring."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import mosim
from mosim.baselines import ensemble_preset, rssm_preset, select_checkpoint_elites
from mosim.benchmark import Protocol, score
from mosim.models import build_model, model_preset
from mosim.training.checkpoint import load_checkpoint, save_checkpoint
from mosim.training.config import StageConfig, TrainConfig
from mosim.training.logger import read_log
from mosim.training.trainer import train, validate
from mosim.training.windows import fixed_windows

RSSM = rssm_preset("tiny")
ENSEMBLE = ensemble_preset("tiny")


def rssm_config(**kw) -> TrainConfig:
    stage = StageConfig("model", None, max_steps=kw.pop("steps", 40), lr=3e-3, loss="rollout", horizon=15)
    base = dict(stages=(stage,), batch_size=8, grad_clip=1000.0, min_lr_ratio=1.0, val_every_steps=10,
                val_windows=8, val_horizon=20, seed=1, device="cpu")
    return TrainConfig(**{**base, **kw})


def ensemble_config(**kw) -> TrainConfig:
    stage = StageConfig("model", None, max_steps=40, lr=3e-3)
    base = dict(stages=(stage,), batch_size=64, grad_clip=1e6, min_lr_ratio=1.0, val_every_steps=10,
                val_windows=8, val_horizon=20, seed=1, device="cpu")
    return TrainConfig(**{**base, **kw})


def weights(path):
    return torch.load(path, weights_only=False)["model_state"]


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def rssm_run(reacher, tmp_path_factory):
    out = tmp_path_factory.mktemp("rssm")
    train(reacher, RSSM, rssm_config(), out, progress=False)
    return out


@pytest.fixture(scope="module")
def ensemble_run(reacher, tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble")
    train(reacher, ENSEMBLE, ensemble_config(), out, progress=False)
    return out


@pytest.mark.parametrize("run", ["rssm_run", "ensemble_run"])
def test_training_reduces_the_loss_and_the_checkpoint_predicts_identically(run, reacher, request, tmp_path):
    run_dir = request.getfixturevalue(run)
    log = read_log(run_dir)
    assert len(log) == 4
    assert float(log[-1]["train_loss"]) < float(log[0]["train_loss"])
    sim = mosim.load(run_dir / "best.pt", device="cpu")
    cfg = rssm_config() if run == "rssm_run" else ensemble_config()
    val = fixed_windows(reacher, "val", cfg.val_horizon, cfg.val_windows, cfg.seed, dtype=torch.float32)
    assert math.isclose(validate(sim.model, val), min(float(r["val_mse"]) for r in log), rel_tol=1e-6)
    # save the loaded model again and load it back: the same predictions, bit for bit
    ckpt = load_checkpoint(run_dir / "best.pt")
    ckpt["model_state"] = sim.model.state_dict()
    for key in ("format", "format_version", "mosim_version"):
        ckpt.pop(key)
    save_checkpoint(tmp_path / "again.pt", ckpt)
    again = mosim.load(tmp_path / "again.pt", device="cpu")
    w = fixed_windows(reacher, "test", 16, 5, 0)
    args = (w.qpos[:, 0].numpy(), w.qvel[:, 0].numpy(), w.action.numpy())
    for a, b in zip(sim.rollout(*args), again.rollout(*args)):
        assert a.dtype == np.float64 and np.array_equal(a, b)


def test_same_seed_same_run_and_exact_resume(reacher, rssm_run, tmp_path):
    train(reacher, RSSM, rssm_config(), tmp_path / "b", progress=False)
    assert_same_weights(weights(rssm_run / "last.pt"), weights(tmp_path / "b" / "last.pt"))
    assert [r["train_loss"] for r in read_log(rssm_run)] == [r["train_loss"] for r in read_log(tmp_path / "b")]
    train(reacher, RSSM, rssm_config(), tmp_path / "cut", progress=False, stop_after_steps=15)
    train(reacher, RSSM, rssm_config(), tmp_path / "cut", progress=False)
    assert_same_weights(weights(rssm_run / "last.pt"), weights(tmp_path / "cut" / "last.pt"))
    train(reacher, RSSM, rssm_config(seed=2, steps=10), tmp_path / "c", progress=False)
    assert read_log(tmp_path / "c")[0]["train_loss"] != read_log(rssm_run)[0]["train_loss"]


def test_ensemble_same_seed_same_weights(reacher, ensemble_run, tmp_path):
    train(reacher, ENSEMBLE, ensemble_config(), tmp_path / "b", progress=False)
    assert_same_weights(weights(ensemble_run / "last.pt"), weights(tmp_path / "b" / "last.pt"))


def test_elites_are_written_into_the_checkpoint(reacher, ensemble_run, tmp_path):
    path = tmp_path / "best.pt"
    path.write_bytes((ensemble_run / "best.pt").read_bytes())
    mse = select_checkpoint_elites(path, reacher, n_windows=100)
    assert mse.shape == (3,)
    mask = mosim.load(path, device="cpu").model.elite_mask
    assert mask.tolist() == [bool(m) for m in np.isin(np.arange(3), np.argsort(mse.numpy())[:2])]


def test_benchmark_scoring_with_a_warmup(reacher, rssm_run, ensemble_run):
    protocol = Protocol(horizons=(16,), n_windows=20, max_warmup=5)
    rssm = mosim.load(rssm_run / "best.pt", device="cpu")
    assert rssm.needs_warmup
    [w1], [w5] = score(rssm, reacher, protocol, warmup=1), score(rssm, reacher, protocol, warmup=5)
    assert math.isfinite(w1.mse) and math.isfinite(w5.mse) and w1.mse != w5.mse
    ens = mosim.load(ensemble_run / "best.pt", device="cpu")
    assert not ens.needs_warmup
    assert score(ens, reacher, protocol, warmup=1)[0].mse == score(ens, reacher, protocol, warmup=5)[0].mse


def test_models_without_warmup_ignore_it_or_reject_it(reacher, ensemble_run):
    torch.manual_seed(0)
    plain = build_model(reacher.spec, model_preset("tiny", kind="plain_delta", n_correctors=0))
    w = fixed_windows(reacher, "test", 6, 3, 0, dtype=torch.float32)
    q0, v0, act = w.qpos[:, 2], w.qvel[:, 2], w.action[:, 2:]
    warm = (w.qpos[:, :2], w.qvel[:, :2], w.action[:, :2])
    with pytest.raises(TypeError, match="warmup"):
        plain.rollout(q0, v0, act, warmup=warm)
    ens = mosim.load(ensemble_run / "best.pt", device="cpu").model
    assert torch.equal(ens.rollout(q0, v0, act, warmup=warm)[0], ens.rollout(q0, v0, act)[0])
