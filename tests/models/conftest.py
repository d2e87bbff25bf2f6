"""Fixtures of the model tests: the hand-written robots of ``model_helpers`` and a tiny reacher dataset.
Tests run on one thread (the machine's cores are shared)."""

from __future__ import annotations

from pathlib import Path

import mujoco
import pytest
import torch
from model_helpers import PLANAR_XML, ZOO_XML, spec_of

import mosim
from mosim.systems.base import SystemSpec

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def zoo_model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(ZOO_XML)


@pytest.fixture(scope="session")
def zoo_spec() -> SystemSpec:
    return spec_of(ZOO_XML, "zoo")


@pytest.fixture(scope="session")
def planar_spec() -> SystemSpec:
    return spec_of(PLANAR_XML, "planar")


@pytest.fixture(scope="session")
def reacher_data(tmp_path_factory: pytest.TempPathFactory) -> mosim.Dataset:
    out = Path(tmp_path_factory.mktemp("data")) / "reacher.h5"
    cfg = mosim.CollectConfig(system="reacher-easy", out=str(out), episodes=10, steps=200, workers=1, seed=3)
    return mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))
