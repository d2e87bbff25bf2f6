"""Fixtures of the RL tests: one tiny reacher-easy model trained once per session (a few seconds, one thread)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import mosim
from mosim.models import model_preset
from mosim.training.config import TrainConfig, staged_schedule
from mosim.training.trainer import train

torch.set_num_threads(1)
SYSTEM = "reacher-easy"


@pytest.fixture(scope="session")
def reacher_dataset(tmp_path_factory: pytest.TempPathFactory) -> mosim.Dataset:
    out = Path(tmp_path_factory.mktemp("rl_data")) / "reacher.h5"
    cfg = mosim.CollectConfig(system=SYSTEM, out=str(out), episodes=6, steps=100, workers=1, seed=5)
    return mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))


@pytest.fixture(scope="session")
def model_path(reacher_dataset: mosim.Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``best.pt`` of a tiny reacher-easy model (predictor only, 60 gradient steps)."""
    cfg = TrainConfig(stages=staged_schedule(0, max_steps=60), batch_size=64, val_every_steps=30, val_windows=4,
                      val_horizon=10, seed=0, device="cpu")
    result = train(reacher_dataset, model_preset("tiny", n_correctors=0), cfg,
                   Path(tmp_path_factory.mktemp("rl_run")) / "run", progress=False)
    return result.best_path


@pytest.fixture(scope="session")
def simulator(model_path: Path):
    return mosim.load(model_path, device="cpu")
