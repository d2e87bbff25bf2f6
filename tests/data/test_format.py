"""The dataset format: bad files give errors that name the file, the problem and the fix."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from mosim.data import CollectConfig, collect, load_dataset, write_dataset
from mosim.data.format import read_dataset
from mosim.data.splits import split_counts
from mosim.errors import DatasetError, InvalidInputError
from mosim.systems import make_system


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    d = tmp_path_factory.mktemp("ds")
    return collect(CollectConfig(system="humanoid-walk", out=str(d / "good.h5"), episodes=4, steps=10, workers=1),
                   progress=False)


def copy(good, tmp_path, name="copy.h5"):
    dst = tmp_path / name
    shutil.copy(good, dst)
    return dst


def test_round_trip_metadata(good):
    ds = load_dataset(good, system="humanoid-walk")
    assert ds.spec == make_system("humanoid-walk").spec()
    assert ds.meta.policy == {"name": "random", "params": {"hold": 3.0, "p_zero": 0.2}}
    assert ds.qpos.shape == (4, 11, 28) and ds.action.shape == (4, 10, 21)
    assert "humanoid-walk" in ds.summary()


def test_truncated_file(good, tmp_path):
    bad = tmp_path / "trunc.h5"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DatasetError, match=r"trunc\.h5.*truncated or corrupt.*mosim collect"):
        load_dataset(bad)


def test_garbage_and_missing_files(tmp_path):
    bad = tmp_path / "garbage.h5"
    bad.write_bytes(b"not an hdf5 file at all" * 100)
    with pytest.raises(DatasetError, match="garbage.h5"):
        load_dataset(bad)
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "missing.h5")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(DatasetError, match="not a mosim dataset"):
        load_dataset(other)


def test_nan_in_a_trajectory(good, tmp_path):
    bad = copy(good, tmp_path)
    with h5py.File(bad, "r+") as f:
        f["qvel"][2, 5, 3] = np.nan
    with pytest.raises(DatasetError, match=r"qvel has 1 NaN/inf values \(first: episode 2, step 5, entry 3\)"):
        load_dataset(bad)


def test_wrong_shapes(good, tmp_path):
    bad = copy(good, tmp_path)
    with h5py.File(bad, "r+") as f:
        a = f["action"][()]
        del f["action"]
        f["action"] = a[:, :, :-1]
    with pytest.raises(DatasetError, match=r"action has shape \(4, 10, 20\), expected \(4, 10, 21\)"):
        load_dataset(bad)


def test_broken_quaternion(good, tmp_path):
    bad = copy(good, tmp_path)
    with h5py.File(bad, "r+") as f:
        f["qpos"][0, 0, 3] = 2.0
    with pytest.raises(DatasetError, match="not unit length"):
        load_dataset(bad)


def test_wrong_system(good):
    with pytest.raises(DatasetError, match="collected on system 'humanoid-walk', not 'cheetah-run'"):
        load_dataset(good, system="cheetah-run")
    other_spec = make_system("humanoid-walk", substeps=1).spec()
    with pytest.raises(DatasetError, match="substeps"):
        read_dataset(good, expect=other_spec)


def test_write_refuses_invalid_arrays_and_leaves_nothing(good, tmp_path):
    ds = load_dataset(good)
    qvel = ds.qvel.copy()
    qvel[0, 0, 0] = np.inf
    target = tmp_path / "new.h5"
    with pytest.raises(DatasetError, match="NaN/inf"):
        write_dataset(target, ds.qpos, qvel, ds.action, ds.split, ds.meta)
    assert not target.exists()


def test_crash_while_writing_keeps_the_old_file(good, tmp_path, monkeypatch):
    """A failure before the final rename leaves the previous file intact and no temporary behind."""
    import mosim.atomic as atomic

    target = copy(good, tmp_path, "keep.h5")
    before = target.read_bytes()
    ds = load_dataset(good)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(OSError):
        write_dataset(target, ds.qpos, ds.qvel * 2, ds.action, ds.split, ds.meta)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.h5"]


def test_split_counts():
    assert split_counts(100, (0.8, 0.1, 0.1)) == (80, 10, 10)
    assert split_counts(3, (0.8, 0.1, 0.1)) == (1, 1, 1)
    assert split_counts(2, (0.8, 0.1, 0.1)) == (2, 0, 0)
    with pytest.raises(InvalidInputError):
        split_counts(10, (0.5, 0.5, 0.5))
