"""Checkpoints: self-contained, atomically written, validated when read.

A checkpoint is one ``torch.save`` file holding the system spec (with its joint layout), the model
config, the model's ``state_dict`` (normalization statistics included), the number of active
correctors, the stage it came from, the mosim version and, for ``last.pt``, everything needed to
resume training exactly (optimizer, generator state, counters, history).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from mosim.atomic import atomic_path
from mosim.errors import MosimError

FORMAT_NAME = "mosim.checkpoint"
FORMAT_VERSION = 1


class CheckpointError(MosimError):
    """A checkpoint file is missing, corrupt, of another format or of another system."""


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus format fields) to ``path`` atomically: temporary file, fsync, rename."""
    from mosim import __version__

    path = Path(path)
    data = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "mosim_version": __version__, **payload}
    with atomic_path(path) as tmp:
        torch.save(data, tmp)
    return path


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and check a checkpoint; :class:`CheckpointError` names the file, the problem and the fix."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such checkpoint file. Train one with `mosim train` (it writes best.pt)")
    try:
        data = torch.load(p, map_location=map_location, weights_only=False)
    except Exception as e:  # torch raises many types for a damaged file
        raise CheckpointError(
            f"{p}: cannot be read as a checkpoint, the file is truncated or corrupt ({type(e).__name__}: {e}). "
            "Use another checkpoint of the run (best.pt / last.pt) or train again"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{p}: not a mosim checkpoint. Pass a best.pt or last.pt written by `mosim train`")
    if int(data.get("format_version", -1)) != FORMAT_VERSION:
        raise CheckpointError(
            f"{p}: checkpoint format version {data.get('format_version')}, this mosim reads {FORMAT_VERSION}. "
            "Install the mosim version that wrote it"
        )
    for key in ("spec", "model_config", "model_state"):
        if key not in data:
            raise CheckpointError(f"{p}: checkpoint lacks {key!r}; the file is incomplete. Train again")
    return data
