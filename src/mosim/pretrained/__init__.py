"""Pretrained simulators that ship with mosim: ``mosim.load("cheetah-run")`` predicts without training.

Each model is ``<system id>.pt`` (a checkpoint as :func:`mosim.load` reads it) with a card ``<system id>.md``
beside it: the data it was trained on, the training budget and command, and its test errors on the benchmark
protocol. They are the ``mosim`` models of the benchmark table (``docs/benchmarks.md``), copied here by
``python scripts/publish_pretrained.py``. A domain name picks its task's model (``cheetah`` -> ``cheetah-run``).
All eight systems of the table have one. The panda and humanoid-walk files are the large ones (8-9 MB: their
presets' five 256-wide networks); at the table's 5-minute budget they are behind the plain network (see their cards
and docs/benchmarks.md).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _folder() -> Path:
    return Path(str(resources.files(__name__)))


def available() -> list[str]:
    """System ids with a pretrained model."""
    return sorted(p.stem for p in _folder().glob("*.pt"))


def resolve(name: str) -> Path | None:
    """The checkpoint of a pretrained model by system id or domain name, or ``None``."""
    names = available()
    if name in names:
        return _folder() / f"{name}.pt"
    matches = [n for n in names if n.split("-")[0] == name]
    return _folder() / f"{matches[0]}.pt" if len(matches) == 1 else None


def card(name: str) -> str:
    """The model card (markdown) of a pretrained model."""
    path = resolve(name)
    if path is None:
        raise KeyError(f"no pretrained model {name!r}; available: {', '.join(available()) or 'none'}")
    return path.with_suffix(".md").read_text()


__all__ = ["available", "card", "resolve"]
