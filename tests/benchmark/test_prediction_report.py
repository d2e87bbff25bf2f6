"""docs/benchmarks.md is generated: rebuilding it from results/prediction.csv gives the committed page."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_helpers import REPO, load_script


def _script():
    return load_script("prediction")


def test_the_committed_page_is_the_report_of_the_committed_results(tmp_path, monkeypatch):
    script = _script()
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(script, "DOCS", tmp_path)
    script.report(argparse.Namespace(budget_min=script.BUDGET_MIN))
    assert (tmp_path / "benchmarks.md").read_text() == (REPO / "docs" / "benchmarks.md").read_text(), (
        "docs/benchmarks.md differs from what results/prediction.csv and benchmarks/prediction_findings.md give: "
        "edit the findings file, not the page, and run python benchmarks/prediction.py --report-only")


def test_a_run_of_one_system_replaces_only_its_rows(tmp_path, monkeypatch):
    import csv
    import shutil
    from datetime import date

    script = _script()
    results = tmp_path / "prediction.csv"
    shutil.copy(REPO / "results" / "prediction.csv", results)
    monkeypatch.setattr(script, "RESULTS", results)
    monkeypatch.setattr(script, "DOCS", tmp_path / "docs")
    before = list(csv.DictReader(open(results)))
    out = tmp_path / "bench"
    out.mkdir()
    fresh = [{"system": "go2", "model": m, "horizon": h, "mse": 0.5, "ci_low": 0.4, "ci_high": 0.6, "budget_min": 5.0,
              "warmup": 1} for m in ("mosim", "plain") for h in (3, 16, 100)]
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(fresh[0]))
        writer.writeheader()
        writer.writerows(fresh)
    assert script.merge(out, ["go2", "panda"]) == ["go2"]
    after = list(csv.DictReader(open(results)))
    assert [r for r in after if r["system"] != "go2"] == [r for r in before if r["system"] != "go2"]
    go2 = [r for r in after if r["system"] == "go2"]
    assert len(go2) == 6 and {r["date"] for r in go2} == {str(date.today())}
    assert [r["system"] for r in after].index("go2") == [r["system"] for r in before].index("go2")  # order kept

    # the same results as a large-data row: a row of its own, next to the system's, which stays
    assert script.merge(out, ["go2"], large=True) == ["go2 (large data)"]
    again = list(csv.DictReader(open(results)))
    assert [r for r in again if r["system"] != "go2 (large data)"] == after
    systems = list(dict.fromkeys(r["system"] for r in again))
    assert systems.index("go2 (large data)") == systems.index("go2") + 1
