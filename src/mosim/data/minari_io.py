"""Exchange trajectories with Minari, the Farama Foundation's format for offline RL datasets.

mosim's own HDF5 file (:mod:`mosim.data.format`) stays the native format; these functions convert.

A Minari dataset is a folder ``<root>/<dataset_id>/data/`` holding ``metadata.json`` and (for its ``hdf5``
storage) ``main_data.hdf5`` with one group ``episode_<i>`` per episode: ``observations (T+1, ...)``,
``actions (T, ...)``, ``rewards``, ``terminations``, ``truncations`` ``(T,)`` and a group ``infos`` whose
entries are stacked per state, ``(T+1, ...)``: the reset's info, then each step's. Minari itself stores no
simulator state; MuJoCo datasets that can be replayed carry it as ``infos["qpos"]`` and ``infos["qvel"]``
(as the D4RL maze datasets on Minari do), and that is what mosim reads and writes.

- :func:`export_minari` writes a mosim dataset as a Minari dataset (HDF5 storage): observations are
  ``concat(qpos, qvel)`` or, with ``task=True``, the task's observations and rewards; ``infos`` hold
  ``qpos``/``qvel``; ``metadata.json`` also keeps mosim's system spec and split, so a round trip is exact.
  The layout is written with h5py, so exporting needs no ``minari`` package; ``minari.load_dataset`` reads it.
- :func:`import_minari` reads a Minari dataset (an id under Minari's root, or a folder) into a mosim
  :class:`~mosim.data.Dataset` of a given system, cutting episodes of different lengths into windows of one
  length. It uses the ``minari`` package when installed (any storage), else reads the HDF5 storage with h5py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mosim.data.dataset import Dataset, load_dataset
from mosim.data.format import DatasetMeta, _check_arrays, write_dataset
from mosim.data.splits import split_episodes
from mosim.errors import DatasetError, InvalidInputError
from mosim.systems.base import SystemSpec

MAIN_FILE = "main_data.hdf5"
METADATA_FILE = "metadata.json"
MINARI_FORMAT_VERSION = "0.5.4"
"""the Minari version written into ``metadata.json`` (the dataset layout of Minari 0.4 - 0.5)"""
DATASET_ID_RE = re.compile(r"^(?:[-_\w][-_\w/]*[-_\w]+/)?[-_\w]+?-v\d+$")
STATE_KEYS = ("qpos", "qvel")
NEEDS_STATE = (
    "mosim learns from the MuJoCo state at every step. Record it when collecting: with Minari's DataCollector, "
    "pass a StepDataCallback whose __call__ adds step_data['info']['qpos'] = env.unwrapped.data.qpos.copy() and "
    "step_data['info']['qvel'] = env.unwrapped.data.qvel.copy(), and have reset() return the same keys in its "
    "info (or collect with `mosim collect` and export with mosim.data.minari_io.export_minari)"
)


def minari_root() -> Path:
    """Minari's local datasets folder: ``$MINARI_DATASETS_PATH``, else ``~/.minari/datasets``."""
    env = os.environ.get("MINARI_DATASETS_PATH")
    return Path(env).expanduser() if env else Path.home() / ".minari" / "datasets"


# ------------------------------------------------------------------------------------------------ export
def _box(low: np.ndarray, high: np.ndarray, dtype: str = "float64") -> str:
    """A Gymnasium ``Box`` serialized as Minari does (``minari.serialization.serialize_space``)."""
    return json.dumps({"type": "Box", "dtype": dtype, "shape": list(low.shape), "low": low.tolist(),
                       "high": high.tolist()})


def export_minari(dataset: Dataset | str | os.PathLike[str], dataset_id: str,
                  path: str | os.PathLike[str] | None = None, *, task: bool = False, overwrite: bool = False,
                  description: str | None = None) -> Path:
    """Write a mosim dataset as a Minari dataset; return its folder ``<path>/<dataset_id>``.

    :param dataset: a :class:`~mosim.data.Dataset` or the path of a mosim dataset file
    :param dataset_id: Minari's id, ``(namespace/)name-v<version>``, e.g. ``mosim/reacher-easy/random-v0``
    :param path: Minari's datasets root (default :func:`minari_root`); ``minari.load_dataset(dataset_id)`` finds
        the result when ``MINARI_DATASETS_PATH`` points there, and ``minari.MinariDataset(<folder>/data)`` always
    :param task: observations and rewards of the system's task (dm_control tasks) instead of
        ``concat(qpos, qvel)`` and zero rewards; evaluates the task at every state (slower)
    :param overwrite: replace an existing dataset of that id
    :returns: the dataset folder (it holds ``data/metadata.json`` and ``data/main_data.hdf5``)
    """
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    if not DATASET_ID_RE.match(dataset_id):
        raise InvalidInputError(f"Minari dataset id {dataset_id!r} is malformed: use (namespace/)name-v<version>, "
                                "e.g. 'mosim/reacher-easy/random-v0'")
    folder = Path(path).expanduser() / dataset_id if path is not None else minari_root() / dataset_id
    if folder.exists() and not overwrite:
        raise InvalidInputError(f"a Minari dataset already exists at {folder}; pass overwrite=True, or another id "
                                "or version")
    spec = ds.spec
    e, t = ds.n_episodes, ds.steps
    obs, rewards = _observations_and_rewards(ds, task)
    low, high = np.asarray(spec.action_low), np.asarray(spec.action_high)
    obs_dim = obs.shape[-1]
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    try:
        with h5py.File(tmp / "data" / MAIN_FILE, "w", track_order=True) as f:
            for i in range(e):
                g = f.create_group(f"episode_{i}")
                g.attrs["id"] = i
                g.attrs["total_steps"] = t
                g.create_dataset("observations", data=obs[i])
                g.create_dataset("actions", data=ds.action[i])
                g.create_dataset("rewards", data=rewards[i])
                g.create_dataset("terminations", data=np.zeros(t, dtype=bool))
                trunc = np.zeros(t, dtype=bool)
                trunc[-1] = True  # mosim episodes end at a fixed length: a time limit
                g.create_dataset("truncations", data=trunc)
                info = g.create_group("infos")
                info.create_dataset("qpos", data=ds.qpos[i])
                info.create_dataset("qvel", data=ds.qvel[i])
        meta = {
            "dataset_id": dataset_id,
            "minari_version": MINARI_FORMAT_VERSION,
            "data_format": "hdf5",
            "jpeg_encoding": False,
            "total_episodes": e,
            "total_steps": e * t,
            "observation_space": _box(np.full(obs_dim, -np.inf), np.full(obs_dim, np.inf)),
            "action_space": _box(low, high),
            "algorithm_name": f"mosim {ds.meta.policy.get('name', '?')} policy",
            "description": description or (
                f"{spec.system_id}: {e} episodes of {t} steps of {spec.dt:g} s, exported from a mosim dataset. "
                f"Observations are {'the task observations' if task else 'concat(qpos, qvel)'}; infos hold the "
                "MuJoCo state qpos/qvel at every step."),
            "dataset_size": 0.0,
            "mosim": {"system_spec": json.loads(spec.to_json()), "split": ds.split.astype(int).tolist(),
                      "policy": ds.meta.policy, "seed": ds.meta.seed,
                      "split_fractions": list(ds.meta.split_fractions), "mosim_version": ds.meta.mosim_version,
                      "observations": "task" if task else "state"},
        }
        meta["dataset_size"] = round((tmp / "data" / MAIN_FILE).stat().st_size / 1e6, 1)
        (tmp / "data" / METADATA_FILE).write_text(json.dumps(meta))
        if folder.exists():  # overwrite: the old dataset goes only once the new one is complete
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _observations_and_rewards(ds: Dataset, task: bool) -> tuple[np.ndarray, np.ndarray]:
    e, t = ds.n_episodes, ds.steps
    if not task:
        return ds.states(), np.zeros((e, t))
    from mosim.systems import make_system

    system = make_system(ds.spec.system_id, substeps=ds.spec.substeps)
    if not system.has_task:
        raise InvalidInputError(f"{ds.spec.system_id} defines no task observation or reward; export with task=False")
    from mosim.data.episode import episode_rngs

    obs, rew, lost = [], [], 0
    for i in range(e):
        # the task's per-episode randomization that is not in the state (reacher's target, ...): as collected
        q0, v0 = system.reset(episode_rngs(ds.meta.seed, i)[0])
        lost += not (np.allclose(q0, ds.qpos[i, 0], rtol=0, atol=1e-9)
                     and np.allclose(v0, ds.qvel[i, 0], rtol=0, atol=1e-9))
        obs.append([system.observation(ds.qpos[i, k], ds.qvel[i, k]) for k in range(t + 1)])
        rew.append([system.reward(ds.qpos[i, k + 1], ds.qvel[i, k + 1], ds.action[i, k]) for k in range(t)])
    if lost:
        warnings.warn(f"{ds.path or ds.spec.system_id}: {lost} of {e} episodes could not be matched with their "
                      "collection seed (a subset or an imported dataset?); their observations and rewards use "
                      "another draw of the task's randomization (e.g. reacher's target)", stacklevel=3)
    return np.asarray(obs, dtype=np.float64), np.asarray(rew, dtype=np.float64)


# ------------------------------------------------------------------------------------------------ import
def _data_dir(path_or_id: str | os.PathLike[str]) -> Path:
    p = Path(path_or_id).expanduser()
    candidates = [p] if p.exists() else []
    if not candidates and not p.is_absolute():
        candidates = [minari_root() / str(path_or_id)]
    for c in candidates:
        if c.is_file() and c.name == MAIN_FILE:
            return c.parent
        if (c / METADATA_FILE).is_file():
            return c
        if (c / "data" / METADATA_FILE).is_file():
            return c / "data"
    if p.exists():
        raise DatasetError(f"{p}: not a Minari dataset (no {METADATA_FILE} in it or in its data/ folder). "
                           f"Pass a Minari dataset folder, its data/ folder, or a dataset id under {minari_root()}")
    raise DatasetError(f"{path_or_id}: no such file or folder, and no Minari dataset of that id under "
                       f"{minari_root()}. Download it with `minari download {path_or_id}` (or set "
                       "MINARI_DATASETS_PATH), or pass the dataset's folder")


def _episodes_with_minari(data_dir: Path) -> list[dict[str, Any]] | None:
    try:
        import minari
    except ImportError:
        return None
    try:
        md = minari.MinariDataset(str(data_dir))
        return [{"id": int(ep.id), "actions": ep.actions, "infos": ep.infos or {}} for ep in md.iterate_episodes()]
    except (ValueError, KeyError, OSError, AssertionError, TypeError) as e:
        raise DatasetError(f"{data_dir}: Minari cannot read this dataset ({type(e).__name__}: {e}). Check that the "
                           f"folder holds a complete Minari dataset of a version minari {minari.__version__} "
                           "supports") from None


def _episodes_with_h5py(data_dir: Path, meta: dict[str, Any]) -> list[dict[str, Any]]:
    fmt = meta.get("data_format", "hdf5")
    if fmt != "hdf5":
        raise DatasetError(f"{data_dir}: the Minari dataset uses the {fmt!r} storage, which mosim reads only through "
                           "the minari package. Install it: pip install minari")

    def read(g: h5py.Group) -> dict[str, Any]:
        return {k: read(v) if isinstance(v, h5py.Group) else v[()] for k, v in g.items()}

    out = []
    try:
        with h5py.File(data_dir / MAIN_FILE, "r") as f:
            names = sorted((k for k in f if k.startswith("episode_")), key=lambda k: int(k.split("_")[1]))
            for name in names:
                g = f[name]
                if "actions" not in g or isinstance(g["actions"], h5py.Group):
                    raise DatasetError(f"{data_dir}: {name} has no array of actions (dict or tuple action spaces "
                                       "cannot drive a MuJoCo model)")
                out.append({"id": int(name.split("_")[1]), "actions": g["actions"][()],
                            "infos": read(g["infos"]) if "infos" in g else {}})
    except DatasetError:
        raise
    except (OSError, KeyError, ValueError) as e:
        raise DatasetError(f"{data_dir / MAIN_FILE}: cannot be read as Minari HDF5 data, the file is truncated or "
                           f"corrupt ({type(e).__name__}: {e}). Download or export the dataset again") from None
    return out


def _resolve_spec(system: Any, meta: dict[str, Any], where: Path) -> SystemSpec:
    stored = meta.get("mosim", {}).get("system_spec")
    if system is None:
        if stored is None:
            raise InvalidInputError(f"{where}: name the system the data is of: import_minari(path, system='ID') "
                                    "(a system id, mjcf:PATH, a System or a SystemSpec)")
        return SystemSpec.from_json(json.dumps(stored))
    if isinstance(system, SystemSpec):
        return system
    if isinstance(system, str):
        from mosim.systems import make_system

        substeps = stored.get("substeps") if stored and stored.get("system_id") == system else None
        return make_system(system, substeps=substeps).spec()
    if hasattr(system, "spec") and callable(system.spec):
        return system.spec()
    raise InvalidInputError(f"system must be a system id, a System or a SystemSpec, got {type(system).__name__}")


def import_minari(path_or_id: str | os.PathLike[str], system: Any = None, *, steps: int | None = None,
                  split: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0,
                  out: str | os.PathLike[str] | None = None) -> Dataset:
    """Read a Minari dataset whose ``infos`` carry ``qpos``/``qvel`` as a mosim :class:`~mosim.data.Dataset`.

    :param path_or_id: a Minari dataset id (looked up under :func:`minari_root`), a dataset folder, its
        ``data/`` folder, or its ``main_data.hdf5``
    :param system: the system the data is of: a system id (``cheetah-run``, ``mjcf:PATH``), a System or a
        SystemSpec; may be None for datasets exported by mosim (their metadata keeps the spec). Its model step
        must be the data's: for an env that repeats ``k`` physics steps per action (Gymnasium's ``frame_skip``),
        pass ``mosim.make_system("mjcf:PATH", substeps=k)``
    :param steps: episode length of the result. Minari episodes may differ in length; each is cut into
        consecutive windows of ``steps`` steps (the remainder is dropped). Default: the shortest episode's length
        (so equal-length data is taken whole)
    :param split: train/val/test fractions, assigned by source episode (windows of one episode stay together),
        seeded by ``seed``; a dataset exported by mosim keeps its own split when taken whole
    :param out: if given, also write the result as a native mosim dataset file there
    :raises DatasetError: not a Minari dataset, no ``qpos``/``qvel`` in its infos, or shapes that do not fit
        the system
    """
    data_dir = _data_dir(path_or_id)
    try:
        meta = json.loads((data_dir / METADATA_FILE).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DatasetError(f"{data_dir / METADATA_FILE}: unreadable Minari metadata ({e}). Download or export the "
                           "dataset again") from None
    spec = _resolve_spec(system, meta, data_dir)
    episodes = _episodes_with_minari(data_dir)
    if episodes is None:
        episodes = _episodes_with_h5py(data_dir, meta)
    if not episodes:
        raise DatasetError(f"{data_dir}: the Minari dataset holds no episodes. Export or download it again")
    where = f"Minari dataset {meta.get('dataset_id', data_dir)} ({data_dir})"
    qs, vs, acts = [], [], []
    for ep in episodes:
        infos = ep["infos"] if isinstance(ep["infos"], dict) else {}
        missing = [k for k in STATE_KEYS if k not in infos]
        if missing:
            raise DatasetError(f"{where}: episode {ep['id']}'s infos lack {missing} (its infos hold "
                               f"{sorted(infos) or 'nothing'}). {NEEDS_STATE}")
        q, v = np.asarray(infos["qpos"], dtype=np.float64), np.asarray(infos["qvel"], dtype=np.float64)
        a = ep["actions"]
        if not isinstance(a, np.ndarray) or a.dtype == object:
            raise DatasetError(f"{where}: episode {ep['id']}'s actions are not an array (dict or tuple action "
                               "spaces cannot drive a MuJoCo model)")
        a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
        n = len(a)
        expected = {"qpos": (n + 1, spec.nq), "qvel": (n + 1, spec.nv), "actions": (n, spec.nu)}
        for name, arr in (("qpos", q), ("qvel", v), ("actions", a)):
            if arr.shape != expected[name]:
                raise DatasetError(
                    f"{where}: episode {ep['id']}: {name} has shape {arr.shape}, expected {expected[name]} for "
                    f"system {spec.system_id!r} (nq={spec.nq}, nv={spec.nv}, nu={spec.nu}; infos hold one state "
                    "per observation, T+1 for T actions). Pass the system the data was recorded on")
        qs.append(q)
        vs.append(v)
        acts.append(a)
    lengths = np.array([len(a) for a in acts])
    t = int(lengths.min()) if steps is None else int(steps)
    if t < 1:
        raise InvalidInputError(f"steps must be >= 1, got {t}")
    if lengths.max() < t:
        raise InvalidInputError(f"{where}: no episode has {t} steps (the longest has {lengths.max()}); "
                                "pass fewer steps")
    wq, wv, wa, source = [], [], [], []
    for i, (q, v, a) in enumerate(zip(qs, vs, acts)):
        for k in range(len(a) // t):
            sl = slice(k * t, (k + 1) * t)
            wq.append(q[k * t:(k + 1) * t + 1])
            wv.append(v[k * t:(k + 1) * t + 1])
            wa.append(a[sl])
            source.append(i)
    qpos, qvel, action = np.stack(wq), np.stack(wv), np.stack(wa)
    for sl in spec.layout.quaternion_slices():  # float32 data: bring quaternions back to unit length
        norm = np.linalg.norm(qpos[..., sl], axis=-1, keepdims=True)
        off = np.abs(norm - 1.0) > 1e-12  # float64 quaternions are left bit for bit
        qpos[..., sl] = np.where(off, qpos[..., sl] / norm, qpos[..., sl])
    low, high = np.asarray(spec.action_low), np.asarray(spec.action_high)
    outside = (action < low - 1e-9) | (action > high + 1e-9)
    if outside.any():
        warnings.warn(f"{where}: {int(outside.sum())} action entries lie outside the system's bounds and were clipped "
                      "(MuJoCo clamps them the same way when the actuators are ctrllimited)", stacklevel=2)
        action = np.clip(action, low, high)
    stored = meta.get("mosim", {})
    src = np.array(source)
    if stored.get("split") is not None and len(stored["split"]) == len(episodes) and len(src) == len(episodes):
        split_codes = np.asarray(stored["split"], dtype=np.uint8)[src]
        fractions = tuple(stored.get("split_fractions", split))
    else:
        split_codes = split_episodes(len(episodes), split, seed)[src]
        fractions = tuple(split)
    dmeta = DatasetMeta(spec=spec, policy=stored.get("policy") or {"name": "minari", "params": {
                            "dataset_id": meta.get("dataset_id"), "algorithm_name": meta.get("algorithm_name")}},
                        seed=int(stored.get("seed", seed)), split_fractions=fractions,  # type: ignore[arg-type]
                        mosim_version=str(stored.get("mosim_version", _version())))
    _check_arrays(where, qpos, qvel, action, split_codes, spec)
    if out is not None:
        write_dataset(out, qpos, qvel, action, split_codes, dmeta)
        return load_dataset(out, system=spec)
    return Dataset(dmeta, qpos, qvel, action, split_codes, None)


def _version() -> str:
    from mosim import __version__

    return __version__


__all__ = ["export_minari", "import_minari", "minari_root"]
