"""results/model_file.md is generated: rebuilding it from its .csv gives the committed page."""

from __future__ import annotations

import csv

from bench_helpers import REPO, load_script


def test_the_committed_page_is_the_report_of_the_committed_rows(monkeypatch):
    script = load_script("model_file")
    monkeypatch.chdir(REPO)
    rows = list(csv.DictReader(open(REPO / "results" / "model_file.csv")))
    assert {r["system"] for r in rows} == set(script.SYSTEMS) and {r["horizon"] for r in rows} == {"3", "16", "100"}
    assert script.report(rows) == (REPO / "results" / "model_file.md").read_text(), (
        "results/model_file.md differs from its .csv: run python benchmarks/model_file.py --report-only")
