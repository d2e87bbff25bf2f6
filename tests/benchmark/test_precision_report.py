"""results/precision.md is generated: rebuilding it from results/precision/*.json gives the committed page, and a
run of some systems keeps the rows of the others."""

from __future__ import annotations

import json
import re

from bench_helpers import REPO, load_script


def _without_versions(text: str) -> str:
    return re.sub(r"Machine: .*?\. Regenerate", "Machine: ... Regenerate", text, count=1)


def test_the_committed_page_is_the_report_of_the_kept_rows(tmp_path):
    script = load_script("precision")
    text = script.report(REPO / "results" / "precision", tmp_path / "precision.md")
    assert _without_versions(text) == _without_versions((REPO / "results" / "precision.md").read_text()), (
        "results/precision.md differs from what results/precision/*.json give: run python "
        "benchmarks/precision.py --report-only")


def test_a_run_of_one_system_replaces_its_rows_only(tmp_path):
    script = load_script("precision")
    path = tmp_path / "speed.json"
    old = [{"system": s, "batch": b, "date": "2026-01-01"} for s in ("a", "b") for b in (256, 4096)]
    path.write_text(json.dumps(old))
    new = [{"system": "b", "batch": 256, "date": "2026-02-02"}]
    merged = script._update(path, new, ["b"])
    assert merged == json.loads(path.read_text())
    assert [(r["system"], r["batch"], r["date"]) for r in merged] == [
        ("a", 256, "2026-01-01"), ("a", 4096, "2026-01-01"), ("b", 256, "2026-02-02")]
