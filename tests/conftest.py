"""Test setup: offline Menagerie models, headless rendering, one torch thread, tiny MJCF fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_menagerie = REPO.parent / "shared" / "menagerie"
if "MENAGERIE_ROOT" not in os.environ and _menagerie.is_dir():
    os.environ["MENAGERIE_ROOT"] = str(_menagerie)
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def arm_xml() -> Path:
    """A two-link arm with a free-floating ball on a floor (hinge, ball and free joints, contacts)."""
    return FIXTURES / "two_link_arm.xml"
