"""CUDA when present: the same model predicts the same on the GPU as on the CPU, training runs on the GPU and
its checkpoint loads on a CPU-only machine, and the baselines roll out on the GPU. Skipped without CUDA."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import mosim
from mosim import pretrained
from mosim.presets import get_preset
from mosim.training.config import StageConfig
from mosim.training.trainer import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

ARM = Path(__file__).resolve().parent / "fixtures" / "two_link_arm.xml"


def _random_start(sim, batch: int, steps: int, seed: int = 0):
    """Random states near rest (unit quaternions) and random actions in the control range."""
    spec = sim.spec
    g = np.random.default_rng(seed)
    q = 0.1 * g.standard_normal((batch, spec.nq))
    for s in spec.layout.quaternion_slices():
        q[:, s] = [1.0, 0.0, 0.0, 0.0] + 0.05 * g.standard_normal((batch, 4))
        q[:, s] /= np.linalg.norm(q[:, s], axis=-1, keepdims=True)
    v = 0.1 * g.standard_normal((batch, spec.nv))
    a = g.uniform(spec.action_low, spec.action_high, size=(batch, steps, spec.nu))
    return q, v, a


@pytest.mark.parametrize("name", pretrained.available())
def test_a_pretrained_model_predicts_the_same_on_cuda_as_on_cpu(name):
    cpu, gpu = mosim.load(name, device="cpu"), mosim.load(name, device="cuda")
    q, v, a = _random_start(cpu, batch=64, steps=10)
    qc, vc = cpu.rollout(q, v, a)
    qg, vg = gpu.rollout(q, v, a)
    assert isinstance(qg, np.ndarray)  # numpy in, numpy out, wherever the model runs
    np.testing.assert_allclose(qg, qc, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(vg, vc, rtol=1e-3, atol=1e-3)
    qt, vt = gpu.step(torch.as_tensor(q, device="cuda"), torch.as_tensor(v, device="cuda"),
                      torch.as_tensor(a[:, 0], device="cuda"))
    assert qt.device.type == "cuda"  # torch in, torch out on the model's device


def _arm_data_and_model(tmp_path: Path, seed: int):
    """A small dataset of the arm fixture, the reacher preset with narrow networks, and that preset."""
    cfg = mosim.CollectConfig(system=f"mjcf:{ARM}", out=str(tmp_path / "arm.h5"), episodes=6, steps=40, workers=1,
                              seed=seed)
    data = mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))
    preset = get_preset("reacher-easy", budget_min=0.05)
    return data, replace(preset.model, inertia_width=32, force_width=32, corrector_width=32), preset


def test_training_on_cuda_writes_a_checkpoint_that_loads_on_cpu(tmp_path):
    data, model, preset = _arm_data_and_model(tmp_path, seed=1)
    train(data, model, replace(preset.train_config(seed=0), device="cuda"), tmp_path / "run", progress=False)
    on_gpu, on_cpu = (mosim.load(tmp_path / "run" / "best.pt", device=d) for d in ("cuda", "cpu"))
    q, v, a = _random_start(on_cpu, batch=8, steps=5)
    np.testing.assert_allclose(on_gpu.rollout(q, v, a)[1], on_cpu.rollout(q, v, a)[1], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("kind", ["ensemble", "rssm"])
def test_the_baselines_roll_out_on_cuda_like_on_cpu(kind, tmp_path):
    from mosim.baselines import ensemble_preset, rssm_preset
    from mosim.benchmark.recipes import recipe

    cfg = mosim.CollectConfig(system=f"mjcf:{ARM}", out=str(tmp_path / "arm.h5"), episodes=6, steps=80, workers=1,
                              seed=2)
    data = mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))
    r = recipe(kind, data.spec.system_id, budget_min=0.05)
    # the RSSM samples its latents from the device's own random stream: compare its deterministic mode
    small = ensemble_preset("tiny") if kind == "ensemble" else rssm_preset("tiny", eval_mode="mode")
    train(data, small, replace(r.train, device="cuda"), tmp_path / "run", progress=False)
    on_gpu, on_cpu = (mosim.load(tmp_path / "run" / "best.pt", device=d) for d in ("cuda", "cpu"))
    q, v, a = _random_start(on_cpu, batch=8, steps=5)
    np.testing.assert_allclose(on_gpu.rollout(q, v, a)[0], on_cpu.rollout(q, v, a)[0], rtol=1e-3, atol=1e-3)


def test_training_on_cuda_stops_and_resumes_exactly(tmp_path):
    # the checkpoint's generator state is loaded onto the training device; the generator itself lives on the CPU
    data, model, preset = _arm_data_and_model(tmp_path, seed=3)
    stage = StageConfig("predictor", 0, max_steps=30, lr=1e-3)
    tc = replace(preset.train_config(seed=0), device="cuda", stages=(stage,), val_every_steps=10, batch_size=32)
    train(data, model, tc, tmp_path / "full", progress=False)
    train(data, model, tc, tmp_path / "cut", progress=False, stop_after_steps=13)
    train(data, model, tc, tmp_path / "cut", progress=False)
    full, cut = (torch.load(tmp_path / r / "last.pt", weights_only=False)["model_state"] for r in ("full", "cut"))
    for k in full:
        assert torch.equal(full[k], cut[k]), k


def test_imagined_envs_step_a_cuda_model_like_a_cpu_one():
    from mosim.rl import MosimVecEnv

    envs = {d: MosimVecEnv("reacher-easy", n_envs=4, seed=0, device=d) for d in ("cpu", "cuda")}
    assert envs["cuda"].simulator.device.type == "cuda"
    first = {d: e.reset() for d, e in envs.items()}
    np.testing.assert_array_equal(first["cuda"], first["cpu"])  # the task's own reset: no model involved
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.uniform(-1.0, 1.0, size=(4, 2))
        (oc, rc, dc, _), (og, rg, dg, _) = envs["cpu"].step(a), envs["cuda"].step(a)
        np.testing.assert_allclose(og, oc, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(rg, rc, atol=1e-3)
        np.testing.assert_array_equal(dg, dc)
