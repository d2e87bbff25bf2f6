"""The on-disk dataset format (HDF5) and its validating reader.

One file holds fixed-length episodes of one system::

    /qpos     float64 (E, T+1, nq)   positions, state 0 is the reset state
    /qvel     float64 (E, T+1, nv)   velocities
    /action   float64 (E, T, nu)     action applied between state t and t+1 (clipped to the bounds)
    /split    uint8   (E,)           0 train, 1 val, 2 test (whole episodes)

Root attributes: ``format`` (``"mosim.trajectories"``), ``format_version``, ``mosim_version``,
``system_id``, ``system_spec`` (JSON: nq, nv, nu, dt, physics_dt, substeps, integrator, action
bounds, joint layout), ``policy`` (JSON: name and parameters), ``seed``, ``split_fractions``
(JSON), ``steps``. No timestamps: the same collection gives the same bytes.

Files are written to a temporary name in the same folder, flushed to disk and renamed into place,
so a crash never leaves a half-written file under the final name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mosim.atomic import atomic_path
from mosim.data.splits import SPLIT_NAMES
from mosim.errors import DatasetError
from mosim.systems.base import SystemSpec

FORMAT_NAME = "mosim.trajectories"
FORMAT_VERSION = 1
QUATERNION_TOLERANCE = 1e-6


@dataclass(frozen=True)
class DatasetMeta:
    """The metadata of a dataset file."""

    spec: SystemSpec
    policy: dict
    """``{"name": ..., "params": {...}}``"""
    seed: int
    split_fractions: tuple[float, float, float]
    mosim_version: str
    format_version: int = FORMAT_VERSION

    @property
    def system_id(self) -> str:
        return self.spec.system_id


def _mosim_version() -> str:
    from mosim import __version__

    return __version__


def write_dataset(
    path: str | os.PathLike[str],
    qpos: np.ndarray,
    qvel: np.ndarray,
    action: np.ndarray,
    split: np.ndarray,
    meta: DatasetMeta,
) -> Path:
    """Validate the arrays against ``meta`` and write them atomically to ``path``."""
    path = Path(path)
    _check_arrays(str(path), qpos, qvel, action, split, meta.spec)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", libver="latest", track_order=False) as f:
            attrs = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "mosim_version": meta.mosim_version,
                "system_id": meta.spec.system_id,
                "system_spec": meta.spec.to_json(),
                "policy": json.dumps(meta.policy, sort_keys=True),
                "seed": int(meta.seed),
                "split_fractions": json.dumps(list(meta.split_fractions)),
                "steps": int(action.shape[1]),
            }
            for k, v in attrs.items():
                f.attrs[k] = v
            for name, arr, dtype in (
                ("qpos", qpos, np.float64),
                ("qvel", qvel, np.float64),
                ("action", action, np.float64),
                ("split", split, np.uint8),
            ):
                f.create_dataset(name, data=np.asarray(arr, dtype=dtype), track_times=False)
    return path


def _fail(path: str, problem: str, fix: str) -> DatasetError:
    return DatasetError(f"{path}: {problem}. {fix}")


REGENERATE = "Regenerate the file with `mosim collect ...` (see `mosim collect --help`)"


def _check_arrays(
    path: str, qpos: np.ndarray, qvel: np.ndarray, action: np.ndarray, split: np.ndarray, spec: SystemSpec
) -> None:
    if qpos.ndim != 3 or qvel.ndim != 3 or action.ndim != 3:
        raise _fail(path, f"qpos/qvel/action must be 3-D (episodes, time, dim), got {qpos.shape}, {qvel.shape}, {action.shape}", REGENERATE)
    e, t1 = qpos.shape[:2]
    expected = {"qpos": (e, t1, spec.nq), "qvel": (e, t1, spec.nv), "action": (e, t1 - 1, spec.nu), "split": (e,)}
    for name, arr in (("qpos", qpos), ("qvel", qvel), ("action", action), ("split", split)):
        if arr.shape != expected[name]:
            raise _fail(path, f"{name} has shape {arr.shape}, expected {expected[name]} for system {spec.system_id!r} (nq={spec.nq}, nv={spec.nv}, nu={spec.nu})", REGENERATE)
    if e == 0 or t1 < 2:
        raise _fail(path, f"holds {e} episodes of {t1 - 1} steps; need at least one episode of one step", REGENERATE)
    for name, arr in (("qpos", qpos), ("qvel", qvel), ("action", action)):
        bad = ~np.isfinite(arr)
        if bad.any():
            ep, t, i = np.argwhere(bad)[0]
            raise _fail(path, f"{name} has {int(bad.sum())} NaN/inf values (first: episode {ep}, step {t}, entry {i})", "Drop the episode or recollect the data; the simulation probably diverged")
    if np.any(split > 2):
        raise _fail(path, f"split codes must be 0 (train), 1 (val) or 2 (test), found {sorted(set(split.tolist()))}", REGENERATE)
    for sl in spec.layout.quaternion_slices():
        norms = np.linalg.norm(qpos[..., sl], axis=-1)
        if np.max(np.abs(norms - 1.0)) > QUATERNION_TOLERANCE:
            raise _fail(path, f"quaternion qpos[{sl.start}:{sl.stop}] is not unit length (norm off by {np.max(np.abs(norms - 1)):.2e})", REGENERATE)
    low, high = np.asarray(spec.action_low), np.asarray(spec.action_high)
    if np.any(action < low - 1e-9) or np.any(action > high + 1e-9):
        raise _fail(path, "actions lie outside the system's action bounds", REGENERATE)


@contextmanager
def _open_dataset(p: str) -> Iterator[tuple[h5py.File, dict[str, Any]]]:
    """The open file ``p`` and its attributes, checked to be a mosim dataset of this format version; an error while
    reading it (in the ``with`` body too) becomes a :class:`DatasetError` naming the file."""
    if not Path(p).is_file():
        raise _fail(p, "no such file", "Check the path, or create the dataset with `mosim collect --out " + p + "`")
    try:
        with h5py.File(p, "r") as f:
            attrs = dict(f.attrs)
            if attrs.get("format") != FORMAT_NAME:
                raise _fail(p, f"not a mosim dataset (format attribute {attrs.get('format')!r}, expected {FORMAT_NAME!r})", "Pass a file written by `mosim collect`, or convert yours with mosim.data.write_dataset")
            version = int(attrs.get("format_version", -1))
            if version != FORMAT_VERSION:
                raise _fail(p, f"format version {version}, this mosim reads version {FORMAT_VERSION}", "Install the mosim version that wrote it, or recollect the data")
            yield f, attrs
    except DatasetError:
        raise
    except (OSError, KeyError, ValueError, TypeError, json.JSONDecodeError) as e:
        raise _fail(p, f"cannot be read as a mosim dataset, the file is truncated or corrupt ({type(e).__name__}: {e})", REGENERATE) from None


def read_dataset(
    path: str | os.PathLike[str], expect: SystemSpec | str | None = None
) -> tuple[DatasetMeta, dict[str, np.ndarray]]:
    """Read and validate a dataset file; return its metadata and arrays.

    :param expect: a system spec or id the dataset must have been collected on
    :raises DatasetError: naming the file, the problem and the fix
    """
    p = str(path)
    with _open_dataset(p) as (f, attrs):
        missing = [k for k in ("qpos", "qvel", "action", "split") if k not in f]
        if missing:
            raise _fail(p, f"missing datasets {missing}", REGENERATE)
        arrays = {k: f[k][()] for k in ("qpos", "qvel", "action", "split")}
        meta = DatasetMeta(
            spec=SystemSpec.from_json(attrs["system_spec"]),
            policy=json.loads(attrs["policy"]),
            seed=int(attrs["seed"]),
            split_fractions=tuple(json.loads(attrs["split_fractions"])),
            mosim_version=str(attrs["mosim_version"]),
            format_version=FORMAT_VERSION,  # _open_dataset refuses any other
        )
    _check_arrays(p, arrays["qpos"], arrays["qvel"], arrays["action"], arrays["split"], meta.spec)
    if expect is not None:
        check_system(p, meta.spec, expect)
    return meta, arrays


def read_spec(path: str | os.PathLike[str], expect: SystemSpec | str | None = None) -> SystemSpec:
    """The system spec a dataset file was collected with, read from its attributes alone (not its arrays);
    ``expect`` as in :func:`read_dataset`. Raises :class:`DatasetError` naming the file."""
    p = str(path)
    with _open_dataset(p) as (_, attrs):
        spec = SystemSpec.from_json(attrs["system_spec"])
    if expect is not None:
        check_system(p, spec, expect)
    return spec


def check_system(path: str, spec: SystemSpec, expect: SystemSpec | str) -> None:
    """Raise unless a dataset's system matches the expected one."""
    if isinstance(expect, str):
        if expect != spec.system_id:
            raise _fail(path, f"was collected on system {spec.system_id!r}, not {expect!r}", f"Use a dataset of {expect!r}, or pass --system {spec.system_id}")
        return
    diffs = spec.mismatches(expect)
    if diffs:
        raise _fail(path, f"was collected on a different system ({'; '.join(diffs)})", f"Use a dataset of {expect.system_id!r} with these settings, or recollect it")


def split_name(code: int) -> str:
    return SPLIT_NAMES[code]
