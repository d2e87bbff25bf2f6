"""results/model_speed.md is generated: rebuilding it from the kept parts in results/model_speed/ gives the committed
page, and a part that is not rerun keeps its rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench_helpers import REPO, load_script


def _script():
    return load_script("model_speed")


def _without_versions(text: str) -> str:
    return re.sub(r"^Machine: .*$", "Machine: ...", text, count=1, flags=re.M)


def test_the_committed_page_is_the_report_of_the_kept_parts(tmp_path):
    script = _script()
    script.report(REPO / "results" / "model_speed", tmp_path / "model_speed")
    assert _without_versions((tmp_path / "model_speed.md").read_text()) == _without_versions(
        (REPO / "results" / "model_speed.md").read_text()), (
        "results/model_speed.md differs from what results/model_speed/*.json give: run python "
        "benchmarks/model_speed.py --report-only")


def test_every_kept_row_says_when_it_was_measured():
    for part in (REPO / "results" / "model_speed").glob("*.json"):
        rows = json.loads(part.read_text())
        for row in rows if isinstance(rows, list) else [rows]:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"]), (part.name, row)
