"""Collecting datasets: many episodes, in parallel, resumable, byte-identical for a seed.

Each finished episode is written at once (atomically) to ``<out>.parts/episode_XXXXXX.npz``; an
interrupted run loses at most the episodes in flight, and running the same command again resumes.
When all episodes exist they are assembled, in episode order, into the final HDF5 file (written
atomically), and the parts folder is removed. Episode ``i`` depends only on ``(seed, i)``, never on
the number of workers or on which worker ran it.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from mosim.atomic import atomic_path
from mosim.data.episode import Episode, run_episode
from mosim.data.format import DatasetMeta, write_dataset
from mosim.data.policies import Policy, make_policy, policy_metadata
from mosim.data.splits import split_episodes
from mosim.errors import InvalidInputError
from mosim.systems import System, make_system


@dataclass(frozen=True)
class CollectConfig:
    """What to collect. Saved in the parts folder while collecting; the dataset records it too."""

    system: str
    """system id (``cheetah-run``, ``go2``, ``mjcf:path.xml``, ...)"""
    out: str
    """output HDF5 file"""
    episodes: int = 100
    """number of episodes"""
    steps: int = 1000
    """model steps per episode"""
    policy: str = "random"
    """``random``, ``zero`` or ``module:attribute`` (a Policy class or an ``obs -> action`` function)"""
    policy_params: dict[str, Any] = field(default_factory=lambda: {"hold": 3.0, "p_zero": 0.2})
    """keyword arguments of the policy (random: ``hold``, mean holding time; ``p_zero``)"""
    seed: int = 0
    """the dataset is a function of the seed alone"""
    substeps: int | None = None
    """physics steps per model step (default: the task's control step; 1 for Menagerie/MJCF robots)"""
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    """train/val/test fractions of the episodes"""
    workers: int = 0
    """worker processes (0: one per CPU core)"""

    def __post_init__(self) -> None:
        if self.episodes < 1 or self.steps < 1:
            raise InvalidInputError(f"episodes and steps must be >= 1, got {self.episodes} and {self.steps}")
        if self.substeps is not None and self.substeps < 1:
            raise InvalidInputError(f"substeps must be >= 1, got {self.substeps}")
        if self.workers < 0:
            raise InvalidInputError(f"workers must be >= 0, got {self.workers}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @property
    def parts_dir(self) -> Path:
        return Path(self.out).with_name(Path(self.out).name + ".parts")


# ---------------------------------------------------------------------------- per-process state
_WORKER: dict[str, Any] = {}


def _init_worker(config: CollectConfig, policy: Policy | None, system: System | None = None) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    system = system or make_system(config.system, substeps=config.substeps)
    pol = policy if policy is not None else make_policy(config.policy, **config.policy_params)
    pol.bind(system.action_low, system.action_high)
    _WORKER.update(system=system, policy=pol, config=config)


def _collect_one(index: int) -> int:
    cfg: CollectConfig = _WORKER["config"]
    ep = run_episode(_WORKER["system"], _WORKER["policy"], cfg.steps, cfg.seed, index)
    _save_part(cfg.parts_dir, index, ep)
    return index


def _part_path(parts: Path, index: int) -> Path:
    return parts / f"episode_{index:06d}.npz"


def _save_part(parts: Path, index: int, ep: Episode) -> None:
    # parts are scratch files: a part lost to a power cut is detected and collected again
    with atomic_path(_part_path(parts, index), durable=False) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, qpos=ep.qpos, qvel=ep.qvel, action=ep.action)


def _load_part(parts: Path, index: int) -> Episode | None:
    try:
        with np.load(_part_path(parts, index)) as z:
            return Episode(z["qpos"], z["qvel"], z["action"])
    except (OSError, ValueError, KeyError):
        return None


# ---------------------------------------------------------------------------- driver
def collect(
    config: CollectConfig, policy: Policy | Any | None = None, progress: bool = True, overwrite: bool = False
) -> Path:
    """Collect ``config.episodes`` episodes into ``config.out``; resume an interrupted run.

    :param policy: a :class:`~mosim.data.policies.Policy` or ``obs -> action`` callable, used instead
        of ``config.policy`` (with worker processes it is inherited by fork, so closures work)
    :param overwrite: replace an existing output file instead of refusing
    :returns: the path of the dataset
    """
    out = Path(config.out)
    if out.exists() and not overwrite:
        raise InvalidInputError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    pol = make_policy(policy) if policy is not None else make_policy(config.policy, **config.policy_params)
    probe: System = make_system(config.system, substeps=config.substeps)
    pol.bind(probe.action_low, probe.action_high)

    parts = config.parts_dir
    parts.mkdir(parents=True, exist_ok=True)
    cfg_file = parts / "config.json"
    if cfg_file.exists() and cfg_file.read_text() != config.to_json():
        raise InvalidInputError(
            f"{parts} holds episodes of a different collection ({cfg_file.read_text()}); "
            f"delete that folder or repeat the same options to resume it"
        )
    cfg_file.write_text(config.to_json())
    todo = [i for i in range(config.episodes) if not _part_path(parts, i).exists()]
    workers = min(config.workers or os.cpu_count() or 1, max(len(todo), 1))
    bar = tqdm(total=config.episodes, initial=config.episodes - len(todo), desc=f"collect {config.system}",
               unit="ep", disable=not progress)
    try:
        if workers <= 1:
            _init_worker(config, pol, probe)
            for i in todo:
                _collect_one(i)
                bar.update()
        elif todo:
            fork = "fork" in mp.get_all_start_methods()
            ctx = mp.get_context("fork" if fork else "spawn")
            # forked workers inherit the compiled probe system (each gets its own copy-on-write copy)
            with ctx.Pool(workers, initializer=_init_worker, initargs=(config, pol, probe if fork else None)) as pool:
                for _ in pool.imap_unordered(_collect_one, todo):
                    bar.update()
    finally:
        bar.close()
        _WORKER.clear()
    return _assemble(config, probe, pol)


def _assemble(config: CollectConfig, system: System, policy: Policy) -> Path:
    parts = config.parts_dir
    spec = system.spec()
    e, t = config.episodes, config.steps
    qpos = np.empty((e, t + 1, spec.nq))
    qvel = np.empty((e, t + 1, spec.nv))
    action = np.empty((e, t, spec.nu))
    for i in range(e):
        ep = _load_part(parts, i)
        if ep is None:
            _part_path(parts, i).unlink(missing_ok=True)
            raise InvalidInputError(f"episode {i} in {parts} is unreadable and was deleted; run the same command again")
        qpos[i], qvel[i], action[i] = ep.qpos, ep.qvel, ep.action
    meta = DatasetMeta(
        spec=spec,
        policy=json.loads(policy_metadata(policy)),
        seed=config.seed,
        split_fractions=tuple(config.split),
        mosim_version=_version(),
    )
    split = split_episodes(e, tuple(config.split), config.seed)
    path = write_dataset(config.out, qpos, qvel, action, split, meta)
    shutil.rmtree(parts, ignore_errors=True)
    return path


def _version() -> str:
    from mosim import __version__

    return __version__
