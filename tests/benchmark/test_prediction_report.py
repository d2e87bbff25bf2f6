"""docs/benchmarks.md is generated: rebuilding it from results/prediction.csv gives the committed page."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("prediction_script", REPO / "benchmarks" / "prediction.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_page_is_the_report_of_the_committed_results(tmp_path, monkeypatch):
    script = _script()
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(script, "DOCS", tmp_path)
    script.report(argparse.Namespace(budget_min=script.BUDGET_MIN))
    assert (tmp_path / "benchmarks.md").read_text() == (REPO / "docs" / "benchmarks.md").read_text(), (
        "docs/benchmarks.md differs from what results/prediction.csv and benchmarks/prediction_findings.md give: "
        "edit the findings file, not the page, and run python benchmarks/prediction.py --report-only")
