"""The time-to-accuracy part of benchmarks/model_speed.py (``--parts tta``): mosim's default recipe against the
original's (dopri5 with adjoint gradients), trained side by side on reacher-easy until the original's best
validation error, in wall-clock time and in samples."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from mosim.presets import get_preset

TTA_VAL_EVERY = 50
"""gradient steps between the time-to-accuracy runs' validations: when each first reaches the error is known to that"""

TTA_FINE_VAL_EVERY = 1
"""validations of the third run, mosim's recipe again, validated after every step until it reaches the error"""

TTA_FINE_SEEDS = (0, 1, 2)
"""the seeds of that third run (0: the first run's), each run until it reaches the error (under a minute here)"""


def _train_until(cmd: list[str], log: Path, target: float, timeout_s: float) -> None:
    """Run a training command and stop it once its ``log.csv`` has a validation error at or below ``target``."""
    proc = subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"})
    t0 = time.perf_counter()
    try:
        while proc.poll() is None and time.perf_counter() - t0 < timeout_s:
            time.sleep(0.5)
            if log.exists() and any(float(r["val_mse"]) <= target for r in csv.DictReader(open(log))):
                break
    finally:
        proc.terminate()
        proc.wait()


def time_to_accuracy(data: str, minutes: float, root: Path, jobs: int = 2, val_every: int = TTA_VAL_EVERY) -> dict:
    """The original recipe's best validation error in ``minutes``, and when each recipe first reached it. Both
    validate every ``val_every`` steps, which bounds when they reached it from above; then mosim's recipe trains a
    third time, validated after every step, until it reaches that error: its samples to the error to one batch (its
    learning rate is the first run's within 0.2% over those steps: the cosine schedule is over the time budget), from
    each seed of :data:`TTA_FINE_SEEDS`."""
    runs = {"ours": [], "original": ["--integrator", "dopri5", "--loss", "one_step"]}

    def command(name: str, out: Path, every: int, seed: int = 0) -> list[str]:
        cmd = [sys.executable, "-m", "mosim.cli", "train", "--data", data, "--preset", "reacher", "--budget-min",
               str(minutes), "--out", str(out), "--threads", "1", "--quiet", "--no-score", *runs[name]]
        if name == "original":  # dopri5 needs continuous dynamics: no limit features, no limit solved
            cmd += ["--adjoint", "--no-limit-features", "--no-limit-constraints"]
        return cmd + ["--val-every", str(every), "--seed", str(seed)]

    procs = [(name, command(name, root / name, val_every)) for name in runs if not (root / name / "done").exists()]
    running = []
    for name, cmd in procs:
        running.append((name, subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"})))
        if len(running) >= jobs:
            running.pop(0)[1].wait()
    for _, proc in running:
        proc.wait()
    for name, _ in procs:
        (root / name / "done").write_text("")
    logs = {n: list(csv.DictReader(open(root / n / "log.csv"))) for n in runs}
    measured_on = date.fromtimestamp((root / "ours" / "log.csv").stat().st_mtime).isoformat()  # reused runs keep theirs
    target = min(float(r["val_mse"]) for r in logs["original"])

    def first_time(log: list[dict]) -> tuple[float, int]:
        for r in log:
            if float(r["val_mse"]) <= target:
                return float(r["elapsed_s"]), int(r["samples"])
        return float("inf"), -1

    t_ours, s_ours = first_time(logs["ours"])
    t_orig, s_orig = first_time(logs["original"])
    fine_samples = []
    for seed in TTA_FINE_SEEDS:
        fine = root / ("ours-fine" if seed == 0 else f"ours-fine-seed-{seed}")
        if not (fine / "done").exists():
            shutil.rmtree(fine, ignore_errors=True)
            _train_until(command("ours", fine, TTA_FINE_VAL_EVERY, seed), fine / "log.csv", target,
                         timeout_s=60 * minutes)
            (fine / "done").write_text("")
        fine_samples.append(first_time(list(csv.DictReader(open(fine / "log.csv"))))[1])
    s_fine = fine_samples[0]
    return {"target_val_mse": target, "lr": get_preset("reacher").lr, "ours_s": t_ours, "ours_samples": s_ours,
            "original_s": t_orig, "original_samples": s_orig, "speedup": t_orig / t_ours, "ours_samples_fine": s_fine,
            "fine_val_every": TTA_FINE_VAL_EVERY, "fine_seeds": list(TTA_FINE_SEEDS),
            "ours_samples_fine_seeds": fine_samples,
            "ours_final": min(float(r["val_mse"]) for r in logs["ours"]), "date": measured_on, "val_every": val_every}
