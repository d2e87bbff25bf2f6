"""Minari interop: export a mosim dataset, import it back (exactly), read what Minari itself writes, and refuse
Minari data without the MuJoCo state in its infos with a message that says what to do."""

from __future__ import annotations

import json
import warnings

import h5py
import numpy as np
import pytest

import mosim
from mosim.data import minari_io
from mosim.data.minari_io import export_minari, import_minari
from mosim.errors import DatasetError, InvalidInputError
from mosim.render import restore_episode_task


@pytest.fixture(scope="module")
def arm_data(tmp_path_factory: pytest.TempPathFactory) -> mosim.Dataset:
    """5 episodes of the two-link arm (hinge, ball and free joints: quaternions in qpos), 20 steps each."""
    from pathlib import Path

    xml = Path(__file__).resolve().parents[1] / "fixtures" / "two_link_arm.xml"
    out = tmp_path_factory.mktemp("minari_src") / "arm.h5"
    cfg = mosim.CollectConfig(system=f"mjcf:{xml}", out=str(out), episodes=5, steps=20, workers=1, seed=4)
    return mosim.load_dataset(mosim.collect(cfg, progress=False))


def assert_same(a: mosim.Dataset, b: mosim.Dataset) -> None:
    for k in ("qpos", "qvel", "action", "split"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert a.spec == b.spec
    assert a.meta.policy == b.meta.policy and a.meta.seed == b.meta.seed


@pytest.mark.parametrize("reader", ["h5py", "minari"])
def test_round_trip_is_exact(arm_data, tmp_path, monkeypatch, reader):
    if reader == "minari":
        pytest.importorskip("minari")
    else:  # as without the minari package
        monkeypatch.setattr(minari_io, "_episodes_with_minari", lambda data_dir: None)
    folder = export_minari(arm_data, "mosim/arm/random-v0", tmp_path)
    assert folder == tmp_path / "mosim" / "arm" / "random-v0"
    assert sorted(p.name for p in (folder / "data").iterdir()) == ["main_data.hdf5", "metadata.json"]
    back = import_minari(folder, system=arm_data.spec.system_id)
    assert_same(arm_data, back)
    # by id under Minari's root, with the system taken from the metadata mosim wrote, into a native file
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    native = import_minari("mosim/arm/random-v0", out=tmp_path / "back.h5")
    assert_same(arm_data, native)
    assert_same(arm_data, mosim.load_dataset(tmp_path / "back.h5", system=arm_data.spec))


def test_the_export_is_minaris_layout_and_minari_reads_it(arm_data, tmp_path, monkeypatch):
    folder = export_minari(arm_data, "arm-random-v0", tmp_path)
    meta = json.loads((folder / "data" / "metadata.json").read_text())
    assert meta["dataset_id"] == "arm-random-v0" and meta["data_format"] == "hdf5"
    assert meta["total_episodes"] == 5 and meta["total_steps"] == 100
    with h5py.File(folder / "data" / "main_data.hdf5") as f:
        ep = f["episode_3"]
        assert ep.attrs["id"] == 3 and ep.attrs["total_steps"] == 20
        assert ep["observations"].shape == (21, 13 + 11) and ep["actions"].shape == (20, 2)
        assert ep["rewards"].shape == ep["terminations"].shape == ep["truncations"].shape == (20,)
        assert ep["truncations"][-1] and not ep["terminations"][()].any()
        assert np.array_equal(ep["infos/qpos"][()], arm_data.qpos[3])
    minari = pytest.importorskip("minari")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    md = minari.load_dataset("arm-random-v0")
    assert md.total_episodes == 5 and md.total_steps == 100
    eps = list(md.iterate_episodes())
    assert np.array_equal(eps[2].infos["qvel"], arm_data.qvel[2]) and np.array_equal(eps[2].actions, arm_data.action[2])
    assert md.spec.action_space.contains(eps[0].actions[0])


def test_export_refuses_a_bad_id_and_an_existing_dataset(arm_data, tmp_path):
    with pytest.raises(InvalidInputError, match="malformed"):
        export_minari(arm_data, "no version", tmp_path)
    export_minari(arm_data, "arm-v1", tmp_path)
    with pytest.raises(InvalidInputError, match="already exists"):
        export_minari(arm_data, "arm-v1", tmp_path)
    export_minari(arm_data, "arm-v1", tmp_path, overwrite=True)


def test_task_observations_and_rewards(tmp_path):
    cfg = mosim.CollectConfig(system="reacher-easy", out=str(tmp_path / "r.h5"), episodes=3, steps=10, workers=1)
    ds = mosim.load_dataset(mosim.collect(cfg, progress=False))
    folder = export_minari(ds, "reacher-task-v0", tmp_path, task=True)
    system = mosim.make_system("reacher-easy")
    assert restore_episode_task(system, ds.meta.seed, 1, ds.qpos[1, 0], ds.qvel[1, 0])  # episode 1's target
    with h5py.File(folder / "data" / "main_data.hdf5") as f:
        obs, rew = f["episode_1/observations"][()], f["episode_1/rewards"][()]
    assert obs.shape == (11, system.observation(ds.qpos[1, 0], ds.qvel[1, 0]).shape[0])
    np.testing.assert_allclose(obs[4], system.observation(ds.qpos[1, 4], ds.qvel[1, 4]))
    assert rew[3] == system.reward(ds.qpos[1, 4], ds.qvel[1, 4], ds.action[1, 3])
    assert_same(ds, import_minari(folder, "reacher-easy"))


def _minari_buffers(system: mosim.System, lengths: list[int], with_state: bool = True, seed: int = 0) -> list:
    """Episodes as Minari's DataCollector records them (observations and infos one longer than actions),
    stepped by MuJoCo, stored as float32 as a Gymnasium env would."""
    from minari.data_collector import EpisodeBuffer

    rng = np.random.default_rng(seed)
    out = []
    for i, n in enumerate(lengths):
        q, v = system.reset(seed + i)
        qs, vs = [q], [v]
        acts = rng.uniform(system.action_low, system.action_high, size=(n, system.nu))
        for a in acts:
            q, v = system.step(a)
            qs.append(q)
            vs.append(v)
        obs = np.concatenate([qs, vs], -1).astype(np.float32)
        infos = {"qpos": np.asarray(qs, np.float32), "qvel": np.asarray(vs, np.float32)} if with_state else \
            {"success": np.zeros(n + 1, bool)}
        out.append(EpisodeBuffer(id=i, observations=list(obs), actions=list(acts.astype(np.float32)),
                                 rewards=list(np.zeros(n)), terminations=[False] * n,
                                 truncations=[False] * (n - 1) + [True],
                                 infos=infos))
    return out


def test_import_what_minari_writes_cut_into_windows(arm_data, tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    from gymnasium import spaces

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    system = mosim.make_system(arm_data.spec.system_id)
    n_obs = system.nq + system.nv
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Minari asks for an author, a description, ...
        minari.create_dataset_from_buffers(
            "arm/minari-v0", _minari_buffers(system, [25, 12, 31]),
            observation_space=spaces.Box(-np.inf, np.inf, (n_obs,), np.float32),
            action_space=spaces.Box(system.action_low.astype(np.float32), system.action_high.astype(np.float32)))
    ds = import_minari("arm/minari-v0", system.system_id, split=(0.34, 0.33, 0.33))
    # episodes of 25, 12 and 31 steps -> windows of the shortest length, 12: 2 + 1 + 2
    assert ds.qpos.shape == (5, 13, system.nq) and ds.action.shape == (5, 12, system.nu)
    assert set(ds.split.tolist()) == {0, 1, 2} and ds.split[0] == ds.split[1] and ds.split[3] == ds.split[4]
    src = minari.load_dataset("arm/minari-v0")
    first = next(src.iterate_episodes())
    np.testing.assert_allclose(ds.qvel[1], first.infos["qvel"][12:25], rtol=0, atol=0)
    for sl in ds.spec.layout.quaternion_slices():  # float32 quaternions are renormalized
        np.testing.assert_allclose(np.linalg.norm(ds.qpos[..., sl], axis=-1), 1.0, atol=1e-12)
    assert ds.meta.policy["name"] == "minari"
    assert import_minari("arm/minari-v0", system.system_id, steps=30).n_episodes == 1  # only the 31-step one
    # windows of one episode share its split
    ds10 = import_minari("arm/minari-v0", system.system_id, steps=10, split=(0.34, 0.33, 0.33))
    assert ds10.n_episodes == 2 + 1 + 3
    assert len(set(ds10.split[:2].tolist())) == 1 and len(set(ds10.split[3:].tolist())) == 1


def test_minari_data_without_the_state_is_refused_with_the_fix(arm_data, tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    from gymnasium import spaces

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    system = mosim.make_system(arm_data.spec.system_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        minari.create_dataset_from_buffers(
            "arm/nostate-v0", _minari_buffers(system, [8, 8], with_state=False),
            observation_space=spaces.Box(-np.inf, np.inf, (system.nq + system.nv,), np.float32),
            action_space=spaces.Box(system.action_low.astype(np.float32), system.action_high.astype(np.float32)))
    for use_minari in (True, False):
        if not use_minari:
            monkeypatch.setattr(minari_io, "_episodes_with_minari", lambda data_dir: None)
        fix = r"lack \['qpos', 'qvel'\].*success.*StepDataCallback.*\['info'\]\['qpos'\]"
        with pytest.raises(DatasetError, match=fix):
            import_minari("arm/nostate-v0", system.system_id)


def test_import_errors_name_the_problem(arm_data, tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    with pytest.raises(DatasetError, match="minari download nothing/here-v0"):
        import_minari("nothing/here-v0", "reacher-easy")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="not a Minari dataset"):
        import_minari(tmp_path / "empty", "reacher-easy")
    folder = export_minari(arm_data, "arm-v0", tmp_path)
    with pytest.raises(DatasetError, match=r"qpos has shape \(21, 13\), expected \(21, 2\).*reacher-easy"):
        import_minari(folder / "data" / "main_data.hdf5", "reacher-easy")
    # without mosim's metadata, the system must be named
    meta_path = folder / "data" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    del meta["mosim"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InvalidInputError, match="name the system"):
        import_minari(folder)
    back = import_minari(folder, arm_data.spec.system_id, split=(0.6, 0.2, 0.2), seed=1)
    assert np.array_equal(back.qpos, arm_data.qpos) and back.meta.policy["name"] == "minari"
