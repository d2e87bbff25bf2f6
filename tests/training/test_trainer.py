"""The training loop: determinism, exact resume, frozen stages, divergence, checkpoints."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

import mosim
from mosim.errors import InvalidInputError, UnknownNameError
from mosim.models import model_preset
from mosim.training.checkpoint import CheckpointError
from mosim.training.config import StageConfig, TrainConfig, staged_schedule
from mosim.training.logger import read_log
from mosim.training.trainer import TrainingDivergedError, cosine_lr, train

MODEL = model_preset("tiny", n_correctors=1)


def config(**kw) -> TrainConfig:
    base = dict(stages=staged_schedule(1, max_steps=40, predictor_share=0.5), batch_size=32, val_every_steps=10,
                val_windows=8, val_horizon=20, seed=1)
    base.update(kw)
    return TrainConfig(**base)


def weights(run_dir, name="last.pt"):
    return torch.load(run_dir / name, weights_only=False)["model_state"]


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_same_seed_same_training_curve(small_dataset, tmp_path):
    train(small_dataset, MODEL, config(), tmp_path / "a", progress=False)
    train(small_dataset, MODEL, config(), tmp_path / "b", progress=False)
    la, lb = read_log(tmp_path / "a"), read_log(tmp_path / "b")
    assert [r["val_mse"] for r in la] == [r["val_mse"] for r in lb]
    assert [r["train_loss"] for r in la] == [r["train_loss"] for r in lb]
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    train(small_dataset, MODEL, config(seed=2), tmp_path / "c", progress=False)
    assert [r["val_mse"] for r in read_log(tmp_path / "c")] != [r["val_mse"] for r in la]


@pytest.mark.parametrize("stop_at,ema", [(13, 0.0), (20, 0.0), (27, 0.0), (13, 0.9), (20, 0.9)])
def test_stop_and_resume_equals_an_uninterrupted_run(small_dataset, tmp_path, stop_at, ema):
    train(small_dataset, MODEL, config(ema_decay=ema), tmp_path / "full", progress=False)
    train(small_dataset, MODEL, config(ema_decay=ema), tmp_path / "cut", progress=False, stop_after_steps=stop_at)
    partial = torch.load(tmp_path / "cut" / "last.pt", weights_only=False)["train_state"]
    assert partial["step"] == stop_at
    train(small_dataset, MODEL, config(ema_decay=ema), tmp_path / "cut", progress=False)
    assert_same_weights(weights(tmp_path / "full"), weights(tmp_path / "cut"))
    assert_same_weights(weights(tmp_path / "full", "best.pt"), weights(tmp_path / "cut", "best.pt"))


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_later_stage_leaves_frozen_parameters_bit_identical(small_dataset, tmp_path, ema):
    run = tmp_path / "staged"
    train(small_dataset, MODEL, config(ema_decay=ema), run, progress=False, stop_after_steps=20)  # end of stage 0
    after_predictor = weights(run)
    train(small_dataset, MODEL, config(ema_decay=ema), run, progress=False)
    final = weights(run)
    pred_keys = [k for k in final if k.startswith("predictor.")]
    corr_keys = [k for k in final if k.startswith("correctors.")]
    assert pred_keys and corr_keys
    for k in pred_keys:
        assert torch.equal(after_predictor[k], final[k]), k
    assert any(not torch.equal(after_predictor[k], final[k]) for k in corr_keys)


def test_resume_refuses_another_run(small_dataset, tmp_path):
    train(small_dataset, MODEL, config(), tmp_path / "r", progress=False, stop_after_steps=5)
    with pytest.raises(InvalidInputError, match="different run"):
        train(small_dataset, MODEL, config(batch_size=16), tmp_path / "r", progress=False)


def test_a_run_from_before_a_new_config_field_still_resumes(small_dataset, tmp_path):
    """A checkpoint whose training config lacks a field added since (here ``compile``) resumes with its default."""
    import json

    from mosim.training.checkpoint import load_checkpoint, save_checkpoint

    run = tmp_path / "old"
    train(small_dataset, MODEL, config(), run, progress=False, stop_after_steps=5)
    ckpt = load_checkpoint(run / "last.pt")
    old = json.loads(ckpt["train_config"])
    del old["compile"]
    ckpt["train_config"] = json.dumps(old, sort_keys=True)
    save_checkpoint(run / "last.pt", ckpt)
    train(small_dataset, MODEL, config(), run, progress=False)
    train(small_dataset, MODEL, config(), tmp_path / "new", progress=False)
    assert_same_weights(weights(run), weights(tmp_path / "new"))


def test_init_from_starts_from_the_checkpoint_weights(small_dataset, tmp_path):
    train(small_dataset, MODEL, config(), tmp_path / "a", progress=False)
    # a learning rate too small to move a float32 weight: the fine-tune run keeps the weights it started from
    still = config(stages=(StageConfig("all", None, max_steps=10, lr=1e-30),), init_from=str(tmp_path / "a" / "last.pt"))
    train(small_dataset, MODEL, still, tmp_path / "b", progress=False)
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert read_log(tmp_path / "b")[0]["val_mse"] == pytest.approx(read_log(tmp_path / "a")[-1]["val_mse"])
    fresh = config(stages=still.stages)
    train(small_dataset, MODEL, fresh, tmp_path / "c", progress=False)
    assert read_log(tmp_path / "c")[0]["val_mse"] != pytest.approx(read_log(tmp_path / "a")[-1]["val_mse"])
    with pytest.raises(InvalidInputError, match="another model config"):
        train(small_dataset, replace(MODEL, n_correctors=2), still, tmp_path / "d", progress=False)


@pytest.mark.slow
def test_compiled_training_step_learns_like_the_eager_one(small_dataset, tmp_path):
    """``TrainConfig.compile``: the same seed follows the eager run's curve (to float rounding) and writes a
    checkpoint that loads as usual."""
    cfg = config(stages=(StageConfig("all", None, max_steps=30),))
    eager = train(small_dataset, MODEL, cfg, tmp_path / "eager", progress=False)
    compiled = train(small_dataset, MODEL, replace(cfg, compile=True), tmp_path / "compiled", progress=False)
    le, lc = read_log(tmp_path / "eager"), read_log(tmp_path / "compiled")
    assert np.allclose([float(r["train_loss"]) for r in lc], [float(r["train_loss"]) for r in le], rtol=1e-3)
    assert compiled.best_val_mse == pytest.approx(eager.best_val_mse, rel=1e-2)
    sim = mosim.load(compiled.best_path)
    q, v = sim.rollout(small_dataset.qpos[0, 0], small_dataset.qvel[0, 0], small_dataset.action[0, :10])
    assert np.isfinite(q).all() and np.isfinite(v).all()


@pytest.mark.slow
def test_compiled_training_of_a_contact_solve_compiles_its_forces_and_learns_like_the_eager_one(tmp_path):
    """Hopper with its floor contacts, limits and self contacts solved: ``TrainConfig.compile`` compiles its forces
    alone (the solve stays eager: its rows and iterations follow the batch), and the same seed follows the eager
    run's curve."""
    data = mosim.collect(mosim.CollectConfig(system="hopper-hop", out=str(tmp_path / "hopper.h5"), episodes=4,
                                             steps=100, workers=1, seed=1), progress=False)
    ds = mosim.load_dataset(data)
    model = replace(MODEL, contact_constraints=True, known_inertia=True, substeps=4)
    cfg = config(stages=(StageConfig("all", None, max_steps=15),))
    torch._dynamo.reset()
    train(ds, model, cfg, tmp_path / "eager", progress=False)
    train(ds, model, replace(cfg, compile=True), tmp_path / "compiled", progress=False)
    le, lc = read_log(tmp_path / "eager"), read_log(tmp_path / "compiled")
    assert len(lc) == len(le) > 0
    assert np.allclose([float(r["train_loss"]) for r in lc], [float(r["train_loss"]) for r in le], rtol=1e-3)


def test_divergence_stops_and_keeps_the_last_good_checkpoint(small_dataset, tmp_path):
    stages = (StageConfig("predictor", 0, max_steps=20, lr=1e-3), StageConfig("corrector1", 1, max_steps=50, lr=1e30))
    run = tmp_path / "nan"
    unbounded = replace(MODEL, bound_to_data=False)  # bounds keep even these weights' outputs finite
    with pytest.raises(TrainingDivergedError, match="best.pt"):
        train(small_dataset, unbounded, config(stages=stages, grad_clip=1e30), run, progress=False)
    sim = mosim.load(run / "best.pt")
    q, v = sim.rollout(small_dataset.qpos[:2, 0], small_dataset.qvel[:2, 0], small_dataset.action[:2, :10])
    assert np.all(np.isfinite(q)) and np.all(np.isfinite(v))


def test_checkpoint_predicts_the_same_in_a_fresh_process_without_the_dataset(small_dataset, tmp_path):
    run = tmp_path / "ck"
    train(small_dataset, MODEL, config(), run, progress=False)
    sim = mosim.load(run / "best.pt")
    q0, v0, a = small_dataset.qpos[:3, 0], small_dataset.qvel[:3, 0], small_dataset.action[:3, :25]
    q, v = sim.rollout(q0, v0, a)
    np.savez(tmp_path / "inputs.npz", q0=q0, v0=v0, a=a)
    code = (
        "import numpy as np, mosim, sys; d = np.load(sys.argv[2]); s = mosim.load(sys.argv[1]);"
        "q, v = s.rollout(d['q0'], d['v0'], d['a']); np.savez(sys.argv[3], q=q, v=v)"
    )
    subprocess.run([sys.executable, "-c", code, str(run / "best.pt"), str(tmp_path / "inputs.npz"),
                    str(tmp_path / "out.npz")], check=True, cwd=tmp_path)
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(out["q"], q)
    np.testing.assert_array_equal(out["v"], v)


def test_bad_checkpoints_and_inputs_give_clear_errors(small_dataset, tmp_path):
    run = tmp_path / "bad"
    train(small_dataset, MODEL, config(stages=staged_schedule(1, max_steps=10)), run, progress=False)
    good = run / "best.pt"
    broken = tmp_path / "broken.pt"
    broken.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        mosim.load(broken)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        mosim.load(tmp_path / "none.pt")
    with pytest.raises(CheckpointError, match="another system"):
        mosim.load(good, system="cheetah-run")
    sim = mosim.load(good, system="reacher-easy")
    with pytest.raises(InvalidInputError, match="qpos"):
        sim.step(np.zeros(3), np.zeros(2), np.zeros(2))
    with pytest.raises(InvalidInputError, match="NaN"):
        sim.step(np.array([np.nan, 0.0]), np.zeros(2), np.zeros(2))


def test_cosine_schedule():
    assert cosine_lr(1.0, 0.0, 0.1) == pytest.approx(1.0)
    assert cosine_lr(1.0, 0.5, 0.1) == pytest.approx(0.55)
    assert cosine_lr(1.0, 1.0, 0.1) == pytest.approx(0.1)
    assert cosine_lr(1.0, 2.0, 0.1) == pytest.approx(0.1)


def test_schedules():
    stages = staged_schedule(2, budget_s=100, predictor_share=0.5, finetune_share=0.1)
    assert [s.name for s in stages] == ["predictor", "corrector1", "corrector2", "finetune"]
    assert [s.group for s in stages] == [0, 1, 2, None]
    assert sum(s.budget_s for s in stages) == pytest.approx(100)
    assert [s.name for s in staged_schedule(0, max_steps=10)] == ["predictor"]
    with pytest.raises(InvalidInputError, match="budget"):
        StageConfig("x", 0)
    assert TrainConfig.from_json(config().to_json()) == config()
    assert replace(config(), seed=5).seed == 5


def test_plateau_ends_a_stage_and_hands_on_its_budget(small_dataset, tmp_path):
    stages = staged_schedule(1, max_steps=80, predictor_share=0.5)  # 40 + 40 planned steps
    cfg = config(stages=stages, patience=1, min_improvement=0.99)  # every validation after the first is "no progress"
    run = tmp_path / "plateau"
    train(small_dataset, MODEL, cfg, run, progress=False, stop_after_steps=20)
    state = torch.load(run / "last.pt", weights_only=False)["train_state"]
    assert state["stage"] == 1 and state["carry_steps"] == 20  # the predictor stopped after 20 of its 40 steps
    log = read_log(run)
    assert [r["stage_step"] for r in log] == ["10", "20"]
    # a minimum share: the same plateau cannot end the predictor before 30 of its 40 steps (75%)
    run = tmp_path / "share"
    train(small_dataset, MODEL, replace(cfg, min_stage_share=0.75), run, progress=False, stop_after_steps=40)
    state = torch.load(run / "last.pt", weights_only=False)["train_state"]
    assert state["stage"] == 1 and state["carry_steps"] == 10
    assert [r["stage_step"] for r in read_log(run)][:3] == ["10", "20", "30"]
    with pytest.raises(InvalidInputError, match="min_stage_share"):
        replace(cfg, min_stage_share=1.5)


def test_error_scales_of_the_loss(small_dataset, tmp_path):
    from mosim.models.normalization import model_inputs
    from mosim.training.losses import common_scale
    from mosim.training.trainer import loss_scales

    s = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    assert torch.allclose(common_scale(s), torch.full((3,), (21 / 3) ** 0.5, dtype=torch.float64))
    spec, stats = model_inputs(small_dataset, MODEL)
    q_std, v_std = loss_scales(spec, MODEL, stats, "standardized")
    assert torch.equal(v_std, stats.delta_v.std)  # reacher: no free joint, nothing made isotropic
    q_raw, v_raw = loss_scales(spec, MODEL, stats, "raw")
    assert torch.unique(v_raw).numel() == 1 and torch.unique(q_raw).numel() == 1
    with pytest.raises(UnknownNameError, match="error scale 'absolute'.*raw, standardized"):
        config(error_scale="absolute")
    # a raw-scaled run is another run: it trains and does not resume a standardized one
    train(small_dataset, MODEL, config(error_scale="raw"), tmp_path / "raw", progress=False)
    train(small_dataset, MODEL, config(), tmp_path / "std", progress=False)
    assert read_log(tmp_path / "raw")[-1]["train_loss"] != read_log(tmp_path / "std")[-1]["train_loss"]
