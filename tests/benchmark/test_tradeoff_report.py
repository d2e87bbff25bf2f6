"""results/tradeoff.md is generated: rebuilding it from its .csv gives the committed page."""

from __future__ import annotations

from bench_helpers import REPO, load_script


def test_the_committed_page_is_the_report_of_the_committed_rows(tmp_path):
    script = load_script("tradeoff")
    rows = script.read_rows(REPO / "results" / "tradeoff.csv")
    assert {r["system"] for r in rows} == set(script.SYSTEMS)
    want = {(system, v) for system, bench in script.SYSTEMS.items() for v in bench.variants}
    assert {(r["system"], r["variant"]) for r in rows} == want
    script.report(rows, tmp_path / "tradeoff")
    assert (tmp_path / "tradeoff.md").read_text() == (REPO / "results" / "tradeoff.md").read_text(), (
        "results/tradeoff.md differs from its .csv: run python benchmarks/tradeoff.py --report-only")
    assert (tmp_path / "tradeoff.png").stat().st_size > 0
