"""Run logs: a CSV file anyone can plot, and TensorBoard event files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

FIELDS = ("stage", "stage_name", "step", "stage_step", "samples", "elapsed_s", "lr", "train_loss", "val_mse")


class RunLogger:
    """Appends one row per validation to ``log.csv`` and mirrors scalars to TensorBoard (``tb/``)."""

    def __init__(self, run_dir: Path, tensorboard: bool = True) -> None:
        self.path = run_dir / "log.csv"
        new = not self.path.exists()
        self._file = open(self.path, "a", newline="")
        self._csv = csv.DictWriter(self._file, fieldnames=FIELDS)
        if new:
            self._csv.writeheader()
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(run_dir / "tb"))
            except ImportError:  # tensorboard not installed: the CSV is enough
                self._tb = None

    def log(self, row: dict[str, Any]) -> None:
        self._csv.writerow({k: row.get(k) for k in FIELDS})
        self._file.flush()
        if self._tb is not None:
            for k in ("lr", "train_loss", "val_mse"):
                if row.get(k) is not None:
                    self._tb.add_scalar(k, row[k], row["step"])

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def read_log(run_dir: str | Path) -> list[dict[str, str]]:
    with open(Path(run_dir) / "log.csv", newline="") as f:
        return list(csv.DictReader(f))
