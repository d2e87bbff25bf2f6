"""A loaded trajectory dataset: arrays, metadata, splits and a human summary."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mosim.data.format import DatasetMeta, read_dataset
from mosim.data.splits import SPLIT_CODES, SPLIT_NAMES
from mosim.errors import InvalidInputError
from mosim.systems.base import SystemSpec
from mosim.systems.layout import JOINT_TYPE_NAMES


@dataclass(frozen=True)
class Dataset:
    """Episodes of one system, all of the same length ``steps``.

    ``qpos (E, T+1, nq)``, ``qvel (E, T+1, nv)``, ``action (E, T, nu)``, ``split (E,)``; ``action[e, t]``
    is applied between states ``t`` and ``t + 1``.
    """

    meta: DatasetMeta
    qpos: np.ndarray
    qvel: np.ndarray
    action: np.ndarray
    split: np.ndarray
    path: str | None = None

    @property
    def spec(self) -> SystemSpec:
        return self.meta.spec

    @property
    def n_episodes(self) -> int:
        return int(self.qpos.shape[0])

    @property
    def steps(self) -> int:
        return int(self.action.shape[1])

    @property
    def n_transitions(self) -> int:
        return self.n_episodes * self.steps

    def episodes(self, split: str) -> np.ndarray:
        """Indices of the episodes of one split (``train``, ``val`` or ``test``)."""
        if split not in SPLIT_CODES:
            raise InvalidInputError(f"unknown split {split!r}; valid: {list(SPLIT_NAMES)}")
        return np.flatnonzero(self.split == SPLIT_CODES[split])

    def subset(self, split: str) -> Dataset:
        """The episodes of one split, as a dataset of their own."""
        idx = self.episodes(split)
        return Dataset(self.meta, self.qpos[idx], self.qvel[idx], self.action[idx], self.split[idx], self.path)

    def states(self) -> np.ndarray:
        """``concat(qpos, qvel)`` of shape ``(E, T+1, nq+nv)``."""
        return np.concatenate([self.qpos, self.qvel], axis=-1)

    def summary(self) -> str:
        """What ``mosim data info`` prints."""
        s, m = self.spec, self.meta
        counts = {name: len(self.episodes(name)) for name in SPLIT_NAMES}
        size = ""
        if self.path and Path(self.path).exists():
            size = f" ({Path(self.path).stat().st_size / 2**20:.1f} MiB)"
        lines = [
            f"file:        {self.path}{size}",
            f"system:      {s.system_id}   nq={s.nq} nv={s.nv} nu={s.nu}",
            f"time step:   {s.dt:g} s per step = {s.substeps} x {s.physics_dt:g} s physics steps ({s.integrator} integrator)",
            f"episodes:    {self.n_episodes} x {self.steps} steps = {self.n_transitions:,} transitions "
            f"(train {counts['train']}, val {counts['val']}, test {counts['test']})",
            f"policy:      {m.policy.get('name')} {m.policy.get('params', {})}",
            f"seed:        {m.seed}    written by mosim {m.mosim_version} (format v{m.format_version})",
            "joints:",
        ]
        lines += ["  " + row for row in s.layout.describe().splitlines()]
        lines.append("ranges:      min / mean / max per group")
        for name, arr in (("qpos", self.qpos), ("qvel", self.qvel), ("action", self.action)):
            lines.append(f"  {name:<7} {arr.min():+.3g} / {arr.mean():+.3g} / {arr.max():+.3g}   (std {arr.std():.3g})")
        types = sorted({JOINT_TYPE_NAMES[t] for t in s.layout.types})
        lines.append(f"joint types: {', '.join(types)}")
        return "\n".join(lines)


def load_dataset(path: str | os.PathLike[str], system: SystemSpec | str | None = None) -> Dataset:
    """Read and validate a dataset file.

    :param path: a file written by :func:`mosim.collect` / ``mosim collect``
    :param system: if given, a system id or spec the data must have been collected on
    :raises mosim.errors.DatasetError: the file is missing, corrupt, invalid or of another system
    """
    meta, arrays = read_dataset(path, expect=system)
    return Dataset(meta, arrays["qpos"], arrays["qvel"], arrays["action"], arrays["split"], str(path))
