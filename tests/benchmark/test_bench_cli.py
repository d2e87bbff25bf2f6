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


def test_bench_trains_on_another_file_and_scores_on_the_standard_one(tmp_path):
    """``--train-data SYSTEM=FILE``: the models learn from FILE (its training split; it needs no test split) and
    are scored on the standard file's test windows; a file collected with another step is refused before any
    training, naming it."""
    import json

    root = tmp_path / "data"
    mosim.collect(mosim.CollectConfig(system="reacher-easy", out=str(root / "reacher-easy-random.h5"), episodes=6,
                                      steps=60, workers=1), progress=False)
    big = tmp_path / "big.h5"
    mosim.collect(mosim.CollectConfig(system="reacher-easy", out=str(big), episodes=8, steps=60, workers=1, seed=1,
                                      split=(0.9, 0.1, 0.0)), progress=False)
    common = ["bench", "--systems", "reacher-easy", "--models", "mosim", "--budget-min", "0.02", "--data-root",
              str(root), "--windows", "20", "--horizons", "3"]
    assert main([*common, "--out", str(tmp_path / "bench"), "--train-data", f"reacher-easy={big}"]) == 0
    run = tmp_path / "bench" / "runs" / "reacher-easy" / "mosim"
    assert json.loads((run / "config.json").read_text())["data"]["path"] == str(big)
    rows = list(csv.DictReader(open(tmp_path / "bench" / "results.csv")))
    assert len(rows) == 1 and float(rows[0]["mse"]) >= 0 and int(rows[0]["n_windows"]) == 20
    coarse = tmp_path / "coarse.h5"
    mosim.collect(mosim.CollectConfig(system="reacher-easy", out=str(coarse), episodes=3, steps=20, workers=1,
                                      substeps=2), progress=False)
    assert main([*common, "--out", str(tmp_path / "b2"), "--train-data", f"reacher-easy={coarse}"]) == 2
    assert not (tmp_path / "b2").exists()
    assert main([*common, "--out", str(tmp_path / "b3"), "--train-data", "cheetah-run=x.h5"]) == 2
