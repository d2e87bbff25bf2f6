"""The scripts of examples/ run end to end with their tiny budgets (each in its own process, one thread)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str, cwd: Path) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def own_robot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("own_robot")
    return out, run_example("train_own_robot.py", "--tiny", "--out", str(out / "robot"), cwd=out)


def test_train_own_robot(own_robot):
    out, stdout = own_robot
    assert (out / "robot" / "data.h5").is_file() and (out / "robot" / "run" / "best.pt").is_file()
    assert "ball" in stdout and "free" in stdout  # the joint layout it derived
    assert "MSE after" in stdout and "mosim render --model" in stdout


def test_batched_rollout_of_the_own_robot(own_robot):
    out, _ = own_robot
    stdout = run_example("batched_rollout.py", "--tiny", "--model", str(out / "robot" / "run" / "best.pt"), cwd=out)
    assert "256 trajectories x 20 steps" in stdout and "after   20 steps" in stdout
    assert "mosim render --model" in stdout


def test_sac_in_mosim(tmp_path):
    stdout = run_example("sac_in_mosim.py", "--tiny", cwd=tmp_path)
    assert "steps in the learned simulator" in stdout and "real task (reacher-easy): return" in stdout
