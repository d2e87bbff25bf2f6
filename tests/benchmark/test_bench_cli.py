"""`mosim bench` end to end on a tiny budget: every model trains, is scored, and a rerun reuses it."""

from __future__ import annotations

import csv

import pytest

import mosim
from mosim.cli import main


@pytest.mark.slow
def test_bench_trains_scores_and_reuses(tmp_path, capsys):
    root = tmp_path / "data"
    mosim.collect(mosim.CollectConfig(system="reacher-easy", out=str(root / "reacher-easy-random.h5"), episodes=8,
                                      steps=100, workers=1), progress=False)
    args = ["bench", "--systems", "reacher-easy", "--models", "mosim", "plain", "ensemble", "rssm", "--budget-min",
            "0.05", "--data-root", str(root), "--out", str(tmp_path / "bench"), "--windows", "40", "--horizons", "3", "16"]
    assert main(args) == 0
    rows = list(csv.DictReader(open(tmp_path / "bench" / "results.csv")))
    models = {r["model"] for r in rows}
    assert models == {"mosim", "plain", "ensemble", "rssm (W=1)", "rssm (W=5)"}
    assert all(float(r["mse"]) >= 0 for r in rows) and len(rows) == 10
    assert (tmp_path / "bench" / "reacher-easy_error_vs_horizon.png").stat().st_size > 0
    assert (tmp_path / "bench" / "reacher-easy_example1.png").stat().st_size > 0
    capsys.readouterr()
    assert main(args) == 0
    assert "train reacher-easy" not in capsys.readouterr().out  # nothing retrained
