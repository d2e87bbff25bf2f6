from __future__ import annotations

import pytest

from mosim.data import CollectConfig, collect, load_dataset


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    """12 random episodes of reacher-easy, 60 steps each (10 train / 1 val / 1 test)."""
    path = tmp_path_factory.mktemp("data") / "reacher.h5"
    collect(CollectConfig(system="reacher-easy", out=str(path), episodes=12, steps=60, workers=1), progress=False)
    return load_dataset(path)
