"""`mosim bench` end to end on a tiny budget and two systems (the CI smoke test of the benchmark): every model
trains, is scored, and a rerun reuses it."""

from __future__ import annotations

import csv

import pytest

import mosim
from mosim.cli import main


@pytest.mark.slow
def test_bench_trains_scores_and_reuses(tmp_path, capsys):
    root = tmp_path / "data"
    for system in ("reacher-easy", "cartpole-balance"):
        mosim.collect(mosim.CollectConfig(system=system, out=str(root / f"{system}-random.h5"), episodes=8, steps=100,
                                          workers=1), progress=False)
    args = ["bench", "--systems", "reacher-easy", "cartpole-balance", "--models", "mosim", "plain", "ensemble", "rssm", "--budget-min",
            "0.05", "--data-root", str(root), "--out", str(tmp_path / "bench"), "--windows", "40", "--horizons", "3", "16"]
    assert main(args) == 0
    rows = list(csv.DictReader(open(tmp_path / "bench" / "results.csv")))
    models = {r["model"] for r in rows}
    assert models == {"mosim", "plain", "ensemble", "rssm (W=1)", "rssm (W=5)"}
    assert all(float(r["mse"]) >= 0 for r in rows) and len(rows) == 20
    for system in ("reacher-easy", "cartpole-balance"):
        assert (tmp_path / "bench" / f"{system}_error_vs_horizon.png").stat().st_size > 0
        assert (tmp_path / "bench" / f"{system}_example1.png").stat().st_size > 0
    assert "cartpole-balance" in (tmp_path / "bench" / "table.md").read_text()
    capsys.readouterr()
    assert main(args) == 0
    assert "train " not in capsys.readouterr().out  # nothing retrained
