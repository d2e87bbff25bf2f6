"""Learning checks: the structured predictor alone learns a frictionless pendulum from MuJoCo data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mosim
from mosim.data import CollectConfig, collect, load_dataset
from mosim.models import model_preset
from mosim.training.config import TrainConfig, staged_schedule
from mosim.training.trainer import train

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.slow
@pytest.mark.parametrize("integrator", ["auto", "constant_acceleration"])  # RK4 data: "auto" integrates with RK4
def test_predictor_alone_fits_a_frictionless_pendulum(tmp_path, integrator):
    path = collect(CollectConfig(system=f"mjcf:{FIXTURES / 'pendulum.xml'}", out=str(tmp_path / "pend.h5"),
                                 episodes=40, steps=200, workers=1, policy_params={"hold": 3.0, "p_zero": 0.2}),
                   progress=False)
    ds = load_dataset(path)
    model = model_preset("small", n_correctors=0, integrator=integrator)
    cfg = TrainConfig(stages=staged_schedule(0, max_steps=2500), batch_size=256, val_every_steps=500, val_horizon=50,
                      val_windows=64, seed=0)
    result = train(ds, model, cfg, tmp_path / "run", progress=False)
    sim = mosim.load(result.best_path)
    test = ds.subset("test")
    q0, v0, a = (x.reshape(-1, x.shape[-1]) for x in (test.qpos[:, :-1], test.qvel[:, :-1], test.action))
    q1, v1 = sim.step(q0, v0, a)
    dv_true = test.qvel[:, 1:].reshape(-1, 1) - v0
    rel = np.mean((v1 - test.qvel[:, 1:].reshape(-1, 1)) ** 2) / np.var(dv_true)
    assert rel < 1e-3, f"one-step velocity error is {rel:.2e} of the velocity-change variance"
    dq_true = test.qpos[:, 1:].reshape(-1, 1) - q0
    rel_q = np.mean((q1 - test.qpos[:, 1:].reshape(-1, 1)) ** 2) / np.var(dq_true)
    assert rel_q < 1e-3, f"one-step position error is {rel_q:.2e} of the position-change variance"
