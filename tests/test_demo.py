"""The main job end to end on a tiny budget: it writes its table and plots, and a second run reuses them."""

from __future__ import annotations

from mosim.cli import main


def test_demo_runs_and_reuses(tmp_path, capsys):
    args = ["demo", "--episodes", "5", "--steps", "120", "--budget-min", "0.05", "--workdir", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "H=100" in out and "plain network" in out
    for name in ("error_vs_horizon.png", "trajectories.png", "mosim/best.pt", "plain/best.pt"):
        assert (tmp_path / name).stat().st_size > 0
    mtime = (tmp_path / "mosim" / "best.pt").stat().st_mtime
    assert main(args) == 0
    assert (tmp_path / "mosim" / "best.pt").stat().st_mtime == mtime  # finished training is not repeated
