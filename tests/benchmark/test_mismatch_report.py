"""results/mismatch.md is generated: rebuilding it from its .csv and the factors' .json gives the committed page."""

from __future__ import annotations

import csv
import json

from bench_helpers import REPO, load_script


def test_the_committed_page_is_the_report_of_the_committed_rows(monkeypatch):
    script = load_script("mismatch")
    monkeypatch.chdir(REPO)
    rows = list(csv.DictReader(open(REPO / "results" / "mismatch.csv")))
    assert {r["system"] for r in rows} == set(script.WORLDS)
    assert {r["model"] for r in rows} == {script.START, *script.MODELS}
    factors = json.loads((REPO / "results" / "mismatch_factors.json").read_text())
    assert {s: f["world"] for s, f in factors.items()} == script.WORLDS
    assert script.report(rows) == (REPO / "results" / "mismatch.md").read_text(), (
        "results/mismatch.md differs from its .csv: run python benchmarks/mismatch.py --report-only")
