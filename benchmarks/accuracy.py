"""Accuracy in a CPU budget: train the runs of benchmarks/accuracy_runs.py (two at a time, one thread each) and
tabulate their test rollout MSE at horizons 3, 16 and 100, plus validation-error-vs-wall-time plots.

    python benchmarks/accuracy.py                   # everything (resumes; finished runs are reused)
    python benchmarks/accuracy.py --group table     # only the main table
    python benchmarks/accuracy.py --report-only     # rebuild results/accuracy.md from finished runs

Data: `python scripts/make_datasets.py` first. Runs go to runs/accuracy/<name>/ (not committed); the table, the
raw CSV and the plots go to results/ (committed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))  # make_datasets: the dataset files
from make_datasets import dataset_path, large_dataset_path  # noqa: E402

from accuracy_runs import ENSEMBLES, GROUPS, LARGE_RUNS, RUNS, TRAIN_EPISODES  # noqa: E402

FINDINGS = Path(__file__).with_name("accuracy_findings.md")
"""what the numbers say, written by hand after a run and placed under the targets table"""


def run_dir(root: Path, name: str) -> Path:
    return root / name


def train_data_args(name: str, data_root: Path) -> list[str]:
    """``--data`` of a run, and for the runs of :data:`LARGE_RUNS` ``--score-data``: the standard file, whose test
    split scores every run."""
    system = RUNS[name][1]
    if name in LARGE_RUNS:
        return ["--data", str(large_dataset_path(data_root, system)),
                "--score-data", str(dataset_path(data_root, system))]
    return ["--data", str(dataset_path(data_root, system))]


def command(name: str, root: Path, data_root: Path) -> list[str]:
    _, system, preset, extra = RUNS[name]
    return [sys.executable, "-m", "mosim.cli", "train", *train_data_args(name, data_root),
            "--preset", preset, "--out", str(run_dir(root, name)), "--threads", "1", "--quiet", *extra]


def run_all(names: list[str], root: Path, data_root: Path, jobs: int) -> None:
    from mosim.benchmark.runner import run_parallel

    todo = [n for n in names if not (run_dir(root, n) / "scores.json").exists()]
    run_parallel([(f"{n}: {' '.join(command(n, root, data_root))}", command(n, root, data_root),
                   run_dir(root, n) / "stdout.txt") for n in todo], jobs, poll_s=5.0)


def protocol_scores(run: Path, data: Path, members: list[Path] | None = None, combine: str = "trajectories") -> list[dict]:
    """Scores of run/best.pt under the benchmark protocol, or with ``members`` of the ensemble of their best.pt
    combined as ``combine`` (:mod:`mosim.ensemble`); cached in run/protocol_scores.json."""
    from mosim.benchmark import Protocol, score
    from mosim.data import load_dataset
    from mosim.ensemble import load_ensemble
    from mosim.loading import load

    protocol = Protocol()
    cache = run / "protocol_scores.json"
    key = protocol.to_json() + (f" {combine} of {[m.name for m in members]}" if members else "")
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached["protocol"] == key:
            return cached["scores"]
    model = (load_ensemble([m / "best.pt" for m in members], device="cpu", combine=combine) if members
             else load(run / "best.pt", device="cpu"))
    scores = [s.as_dict() for s in score(model, load_dataset(data), protocol)]
    run.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"protocol": key, "scores": scores}, indent=1))
    return scores


def score_row(name: str, group: str, system: str, args: str, minutes: float, samples: int, scores: list[dict]) -> dict:
    """A row of the table from a run's (or an ensemble's) protocol scores."""
    by_h = {s["horizon"]: s for s in scores}
    return {"name": name, "group": group, "system": system, "args": args, "minutes": minutes, "samples": samples,
            **{f"mse_{h}": by_h[h]["mse"] for h in (3, 16, 100)},
            **{f"ci_{h}": f"[{by_h[h]['ci_low']:.3g}, {by_h[h]['ci_high']:.3g}]" for h in (3, 16, 100)},
            "median_100": by_h[100]["median"]}


def ensemble_rows(root: Path, data_root: Path, kept: dict[str, dict]) -> list[dict]:
    """The rows of :data:`ENSEMBLES` whose members all finished here (else the committed rows): minutes are a
    member's (they train side by side, two at a time), samples all members'."""
    rows = []
    for name, (members, combine) in ENSEMBLES.items():
        dirs = [run_dir(root, m) for m in members]
        if not all((d / "scores.json").exists() for d in dirs):
            if name in kept:
                rows.append(kept[name])
            continue
        group, system, _, _ = RUNS[members[0]]
        logs = [list(csv.DictReader(open(d / "log.csv")))[-1] for d in dirs]
        scores = protocol_scores(run_dir(root, name), dataset_path(data_root, system), dirs, combine)
        rows.append(score_row(name, group, system, f"{len(members)} members ({combine} averaged): "
                              + ", ".join(m.split("/")[1] for m in members),
                              max(float(x["elapsed_s"]) for x in logs) / 60, sum(int(x["samples"]) for x in logs),
                              scores))
    return rows


def committed_rows(out: Path) -> dict[str, dict]:
    """The rows of the committed table (``out``.csv) by run name, numbers parsed: the report keeps the rows of
    runs whose folders are not on this machine."""
    path = out.with_suffix(".csv")
    if not path.exists():
        return {}
    rows = {}
    for r in csv.DictReader(open(path)):
        for k in ("minutes", "mse_3", "mse_16", "mse_100", "median_100"):
            r[k] = float(r[k])
        r["samples"] = int(r["samples"])
        rows[r["name"]] = r
    return rows


def report(names: list[str], root: Path, out: Path, data_root: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    kept = committed_rows(out)
    for name in names:
        if not (run_dir(root, name) / "scores.json").exists():  # written when training finished
            if name in kept:
                rows.append(kept[name])
            continue
        group, system, preset, extra = RUNS[name]
        scores = protocol_scores(run_dir(root, name), dataset_path(data_root, system))
        log = list(csv.DictReader(open(run_dir(root, name) / "log.csv")))
        data_args = train_data_args(name, Path("data"))[:2] if name in LARGE_RUNS else []
        rows.append(score_row(name, group, system, " ".join(data_args + extra), float(log[-1]["elapsed_s"]) / 60,
                              int(log[-1]["samples"]), scores))
    rows += ensemble_rows(root, data_root, kept)
    out.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        with open(out.with_suffix(".csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    lines = ["# Prediction accuracy in a CPU budget", "",
             f"Test-split rollout MSE on raw qpos/qvel (the paper's metric), 1000 windows per horizon, 95% bootstrap "
             f"interval. Each run: one torch thread on a {os.cpu_count()}-core {platform.machine()} CPU, two runs "
             f"side by side; {date.today()}. Regenerate: `python benchmarks/accuracy.py`.", ""]
    paper = {"reacher-easy": 0.0009, "acrobot-swingup": 0.1043, "cheetah-run": 0.2185}
    target = {"reacher-easy": 1e-4, "acrobot-swingup": 1e-4, "cheetah-run": 0.1}
    lines += ["## Against the targets (100-step test MSE)", "",
              "| system | training episodes | mosim structured | plain network | paper's MoSim (GPU-days) | our target |",
              "|---|---|---|---|---|---|"]
    for system in paper:
        for group, episodes in TRAIN_EPISODES.items():
            got = {r["name"].split("/")[1]: r["mse_100"] for r in rows if r["group"] == group and r["system"] == system}
            if not got:
                continue
            cell = lambda k: f"{got[k]:.3g}" if k in got else "not run"  # noqa: E731
            lines.append(f"| {system} | {episodes} | {cell('structured')} | {cell('plain')} | {paper[system]} | "
                         f"<= {target[system]:g} |")
    lines.append("")
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    for group, title in GROUPS.items():
        lines += [f"## {title}", "", "| run | minutes | samples | H=3 | H=16 | H=100 (95% CI) | median H=100 | options |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if r["group"] == group:
                lines.append(f"| {r['name']} | {r['minutes']:.1f} | {r['samples']:,} | {r['mse_3']:.3g} | "
                             f"{r['mse_16']:.3g} | {r['mse_100']:.3g} {r['ci_100']} | {r['median_100']:.3g} | "
                             f"`{r['args']}` |")
        lines.append("")
        png = out.parent / f"accuracy_{group}.png"
        logs_here = [n for n in names if RUNS[n][0] == group and (run_dir(root, n) / "log.csv").exists()]
        if len(logs_here) < sum(r["group"] == group and r["name"] in RUNS for r in rows) and png.exists():
            lines += [f"![{title}]({png.name})", ""]  # runs of the plot are not on this machine: keep it
            continue
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name in names:
            if RUNS[name][0] != group or not (run_dir(root, name) / "log.csv").exists():
                continue
            log = list(csv.DictReader(open(run_dir(root, name) / "log.csv")))
            ax.plot([float(x["elapsed_s"]) / 60 for x in log], [float(x["val_mse"]) for x in log], label=name)
        ax.set_xlabel("training wall time (min)")
        ax.set_ylabel("validation rollout MSE (100 steps)")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(png, dpi=110)
        plt.close(fig)
        lines += [f"![{title}]({png.name})", ""]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--group", choices=tuple(GROUPS), default=None)
    p.add_argument("--only", nargs="*", default=None, help="run names")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--root", default="runs/accuracy")
    p.add_argument("--data-root", default="data")
    p.add_argument("--out", default="results/accuracy")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    names = [n for n in RUNS if (args.group is None or RUNS[n][0] == args.group) and (not args.only or n in args.only)]
    if not args.report_only:
        run_all(names, Path(args.root), Path(args.data_root), args.jobs)
    report(list(RUNS), Path(args.root), Path(args.out), Path(args.data_root))


if __name__ == "__main__":
    main()
