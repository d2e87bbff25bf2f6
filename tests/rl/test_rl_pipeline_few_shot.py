"""Few-shot RL and Dyna: real steps, model updates that change the parameters, imagined starts from real states,
model rollouts in the replay buffer, and the model fine-tuning function itself."""

from __future__ import annotations

import copy

import numpy as np
import torch

import mosim
from mosim.rl.callbacks import read_curve
from mosim.rl.dyna import Imaginer
from mosim.rl.finetune import FinetuneConfig, finetune
from mosim.rl.pipelines import (AgentConfig, DynaConfig, EvalConfig, FewShotConfig, StartPool, dyna,
                                few_shot)
from mosim.rl.real_env import RealEnv

TINY_AGENT = {"buffer_size": 2000, "learning_starts": 50, "batch_size": 32, "policy_kwargs": {"net_arch": [32, 32]}}
TINY_TUNE = FinetuneConfig(steps=5, batch_size=32, chunk=20)


def max_change(path_a, path_b) -> float:
    a, b = mosim.load(path_a, device="cpu").model, mosim.load(path_b, device="cpu").model
    return max((x - y).abs().max().item() for x, y in zip(a.parameters(), b.parameters()))


def test_few_shot_collects_real_steps_and_updates_the_model(model_path, tmp_path):
    cfg = FewShotConfig(model=str(model_path), out=str(tmp_path / "fs"), steps=240, agent=AgentConfig("sac", TINY_AGENT),
                        eval=EvalConfig(every=240, episodes=2, episode_steps=30), horizon=60, seed=1,
                        collect_every=120, collect_steps=50, finetune=TINY_TUNE)
    result = few_shot(cfg)
    assert result.real_steps == 50 and result.model_updates == 1 and result.timesteps == 240
    row = read_curve(result.curve)[-1]
    assert int(row["real_steps"]) == 50 and int(row["model_updates"]) == 1
    assert max_change(model_path, tmp_path / "fs" / "model.pt") > 0  # the parameters moved


def test_start_pool_mixes_real_and_initial_states():
    pool = StartPool("reacher-easy", 1, real_starts=0.25, seed=0)
    q, v = np.full((10, 2), 0.5), np.zeros((10, 2))
    sq, sv = pool.states(q, v)
    assert len(sq) == 40 and np.all(sq[:10] == 0.5) and not np.any(np.all(sq[10:] == 0.5, axis=1))
    assert StartPool("reacher-easy", 1, 0.0, 0).states(q, v) is None


def test_finetune_lowers_the_loss_in_place_and_restores_the_model_mode(simulator, reacher_dataset):
    sim = copy.deepcopy(simulator)  # the session's model is shared: work on a copy
    before = [p.detach().clone() for p in sim.model.parameters()]
    res = finetune(sim, reacher_dataset, FinetuneConfig(steps=30, batch_size=64, lr=1e-3, chunk=20), seed=0)
    assert res.steps == 30 and res.loss_last < res.loss_first
    assert any(not torch.equal(b, p) for b, p in zip(before, sim.model.parameters()))
    assert not sim.model.training and all(p.requires_grad for p in sim.model.parameters())


def test_dyna_with_a_fresh_model(tmp_path):
    cfg = DynaConfig(system="reacher-easy", out=str(tmp_path / "dyna"), steps=300, seed=2,
                     agent=AgentConfig("sac", TINY_AGENT), eval=EvalConfig(every=150, episodes=2, episode_steps=30),
                     model_start=100, model_every=100, rollouts=4, rollout_horizon=3, finetune=TINY_TUNE,
                     fit_steps=20, preset="tiny")
    result = dyna(cfg)
    assert result.timesteps == 300 and result.real_steps == 300 and result.model_updates == 3
    rows = read_curve(result.curve)
    assert [int(r["timesteps"]) for r in rows] == [150, 300]
    assert int(rows[-1]["imagined_steps"]) == 3 * 4 * 3  # 3 updates x 4 rollouts x 3 steps, none diverged
    assert mosim.load(tmp_path / "dyna" / "model.pt", device="cpu").spec.system_id == "reacher-easy"


def test_imagined_rollouts_start_in_the_real_episode_task(simulator):
    real = RealEnv(simulator.spec, log=True)
    observed = []
    for seed in (3, 4):
        obs, _ = real.reset(seed=seed)
        observed.append(obs)
        for _ in range(5):
            obs, *_ = real.step(np.array([0.5, -0.5]))
            observed.append(obs)
    observed = np.array([o for i, o in enumerate(observed) if i % 6 != 5])  # states an action was applied in
    q, v, seeds = real.log.states()
    assert len(q) == 10 and len(set(seeds.tolist())) == 2
    imaginer = Imaginer(simulator, 10, 2, None, 0)
    np.testing.assert_allclose(imaginer.start(q, v, seeds), observed, atol=1e-6)  # incl. each episode's target


def test_finetune_leaves_inactive_correctors_alone(reacher_dataset):
    from mosim.models import build_model, model_preset
    from mosim.models.normalization import compute_normalization

    model = build_model(reacher_dataset.spec, model_preset("tiny", n_correctors=1), compute_normalization(reacher_dataset))
    model.active_correctors = 0
    predictor, corrector = (list(g) for g in model.parameter_groups())
    before = [p.detach().clone() for p in predictor + corrector]
    finetune(model, reacher_dataset, FinetuneConfig(steps=3, batch_size=16, lr=1e-3, chunk=20))
    assert any(not torch.equal(b, p) for b, p in zip(before, predictor))
    assert all(torch.equal(b, p) for b, p in zip(before[len(predictor):], corrector))
    assert model.active_correctors == 0


def test_model_free_reference_learns_in_the_real_task_only(tmp_path):
    from mosim.rl.pipelines import ModelFreeConfig, model_free

    cfg = ModelFreeConfig(system="reacher-easy", out=str(tmp_path / "mf"), steps=200, seed=4,
                          agent=AgentConfig("sac", TINY_AGENT), eval=EvalConfig(every=100, episodes=2, episode_steps=30))
    result = model_free(cfg)
    rows = read_curve(result.curve)
    assert [int(r["timesteps"]) for r in rows] == [100, 200]
    assert [int(r["real_steps"]) for r in rows] == [100, 200] and result.real_steps == 200
    assert result.pipeline == "model-free" and result.model_updates == 0
    assert model_free(cfg).cached


def test_zero_shot_in_another_task_of_the_models_robot(model_path, tmp_path):
    from mosim.rl.pipelines import ZeroShotConfig, zero_shot

    cfg = ZeroShotConfig(model=str(model_path), task="reacher-hard", out=str(tmp_path / "zs"), steps=100, seed=1,
                         agent=AgentConfig("sac", TINY_AGENT), eval=EvalConfig(every=100, episodes=2, episode_steps=30),
                         horizon=50)
    result = zero_shot(cfg)
    assert result.timesteps == 100 and result.evaluations == 1
