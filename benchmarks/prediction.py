"""The prediction benchmark of docs/benchmarks.md: mosim against the RSSM, the plain network and the ensemble on
eight systems, at horizons 3, 16 and 100, on the paper's protocol. One command regenerates all of it:

    python scripts/make_datasets.py                # the datasets (once)
    python benchmarks/prediction.py                # train what is missing, score, write docs/benchmarks.md
    python benchmarks/prediction.py --systems go2  # rerun one system's models; the other rows stay
    python benchmarks/prediction.py --report-only  # rebuild docs/benchmarks.md from results/prediction.csv

It runs `mosim bench` (two trainings side by side, one thread each; finished models are reused, interrupted
ones resume), puts the rows of the systems it ran into results/prediction.csv (committed: every row of the table,
each with the date it was measured), then writes the page with the paper's numbers beside ours and copies the
plots of those systems to docs/img/bench/.

The systems of LARGE_ROWS get a second row: every model trained on the system's large file (`python
scripts/make_datasets.py --large`, the same kind of data, 8x the episodes) for the minutes given there, scored on
the same test windows (into OUT-large).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

from mosim.atomic import atomic_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))  # make_datasets: the dataset files
from make_datasets import large_dataset_path  # noqa: E402

SYSTEMS = ["reacher-easy", "cartpole-balance", "acrobot-swingup", "cheetah-run", "hopper-hop", "go2", "panda",
           "humanoid-walk"]
MODELS = ["mosim", "plain", "ensemble", "rssm"]
BUDGET_MIN = 5.0
# the paper's 100-step MSE (humanoid: 16 steps), DreamerV3-r vs MoSim (docs: MOSIM.md section 5)
PAPER = {"cheetah-run": (0.2297, 0.2185), "reacher-easy": (0.0988, 0.0009), "acrobot-swingup": (4.8957, 0.1043),
         "panda": (0.0971, 0.0043), "hopper-hop": (0.3199, 0.2507), "go2": (0.4165, 0.1282),
         "humanoid-walk": (2.1291, 1.2737)}
LARGE_ROWS: dict[str, float] = {"humanoid-walk": 15.0}
"""system -> training minutes of its second row, every model trained on its large file: the humanoid's models
overfit the 240 standard episodes (benchmarks/prediction_findings.md)"""
LARGE_SUFFIX = " (large data)"
"""what the second row's system label ends with"""
DOCS = Path("docs")
RESULTS = Path("results/prediction.csv")
"""every row of the table (``mosim bench``'s columns, plus the date and mosim's equivalent horizon); a run
replaces the rows of the systems it ran"""
FINDINGS = Path(__file__).with_name("prediction_findings.md")
"""what the numbers say, written by hand after a run and placed under the summary"""


def bench_command(args: argparse.Namespace, systems: list[str], budget_min: float, out: Path,
                  train_data: list[str] = ()) -> list[str]:
    extra = ["--train-data", *train_data] if train_data else []
    return [sys.executable, "-m", "mosim.cli", "bench", "--systems", *systems, "--models", *MODELS,
            "--budget-min", f"{budget_min:g}", "--out", str(out), "--jobs", str(args.jobs), *extra]


def large_label(system: str) -> str:
    """The system label of a system's large-data row."""
    return system + LARGE_SUFFIX


def base_system(label: str) -> str:
    return label.removesuffix(LARGE_SUFFIX)


def plot_stem(label: str) -> str:
    """File name stem of a row's plots in docs/img/bench/."""
    return base_system(label) + ("-large" if label.endswith(LARGE_SUFFIX) else "")


def fmt(x: float) -> str:
    return "diverged" if x != x or x == float("inf") else f"{x:.3g}"


def equivalent_horizons(out: Path, system: str) -> str:
    """mosim's equivalent horizon against the RSSM (W=5) 16-step error, from the cached per-step curves."""
    import numpy as np

    from mosim.benchmark.scoring import equivalent_horizon

    try:
        ours = json.loads((out / "runs" / system / "mosim" / "bench_scores_w1.json").read_text())
        rssm = json.loads((out / "runs" / system / "rssm" / "bench_scores_w5.json").read_text())
    except FileNotFoundError:
        return "-"
    ref = next(s["mse"] for s in rssm["scores"] if s["horizon"] == 16)
    h = equivalent_horizon(np.asarray(ours["curve"]), ref)
    return f"> {len(ours['curve'])}" if h is None else str(h)


def merge(out: Path, systems: list[str], large: bool = False) -> list[str]:
    """Put the rows of the systems just run (``out/results.csv``) into :data:`RESULTS`, in place of their earlier
    rows (of the same data: ``large`` labels them as large-data rows), and copy their plots to docs/img/bench/.
    Returns the row labels merged."""
    label = large_label if large else str
    new = [r for r in csv.DictReader(open(out / "results.csv")) if r["system"] in systems]
    horizon = {s: equivalent_horizons(out, s) for s in dict.fromkeys(r["system"] for r in new)}
    for r in new:
        r["date"] = str(date.today())
        r["equivalent_horizon"] = horizon[r["system"]] if r["model"] == "mosim" else ""
        r["system"] = label(r["system"])
    ran = list(dict.fromkeys(r["system"] for r in new))
    old = list(csv.DictReader(open(RESULTS))) if RESULTS.exists() else []
    order = {s: i for i, s in enumerate(SYSTEMS)}
    rows = sorted([r for r in old if r["system"] not in ran] + new,
                  key=lambda r: (order.get(base_system(r["system"]), len(order)), r["system"]))
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_path(RESULTS) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    img = DOCS / "img" / "bench"
    img.mkdir(parents=True, exist_ok=True)
    for s in ran:
        for kind in ("error_vs_horizon", "example1"):
            if (out / f"{base_system(s)}_{kind}.png").exists():
                shutil.copy(out / f"{base_system(s)}_{kind}.png", img / f"{plot_stem(s)}_{kind}.png")
    return ran


def report(args: argparse.Namespace) -> None:
    rows = list(csv.DictReader(open(RESULTS)))
    table: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
    for r in rows:
        table[(r["system"], r["model"])][int(r["horizon"])] = r
    systems = list(dict.fromkeys(r["system"] for r in rows))
    when = {s: sorted({(float(r["budget_min"]), r["date"]) for r in rows if r["system"] == s}) for s in systems}
    lines = ["| system | model | H=3 | H=16 | H=100 (95% CI) |", "|---|---|---|---|---|"]
    summary = ["| system | mosim H=100 | best other model at H=100 | mosim / best other | RSSM (W=5) / mosim | "
               "mosim's equivalent horizon vs RSSM's 16-step error | paper: DreamerV3-r / MoSim | trained |",
               "|---|---|---|---|---|---|---|---|"]
    for s in systems:
        models = [k[1] for k in table if k[0] == s]
        best100 = min(float(table[(s, m)][100]["mse"]) for m in models if 100 in table[(s, m)])
        for m in models:
            c = table[(s, m)]
            cells = [fmt(float(c[h]["mse"])) if h in c else "-" for h in (3, 16)]
            h100 = c.get(100)
            cell100 = "-" if h100 is None else f"{fmt(float(h100['mse']))} [{fmt(float(h100['ci_low']))}, " \
                f"{fmt(float(h100['ci_high']))}]"
            if h100 is not None and float(h100["mse"]) == best100:
                cell100 = f"**{cell100}**"
            lines.append(f"| {s} | {m} | {cells[0]} | {cells[1]} | {cell100} |")
        ours = float(table[(s, "mosim")][100]["mse"]) if (s, "mosim") in table else float("nan")
        others = {m: float(table[(s, m)][100]["mse"]) for m in models if m != "mosim" and 100 in table[(s, m)]}
        best_m = min(others, key=others.get) if others else None
        rssm = float(table[(s, "rssm (W=5)")][100]["mse"]) if (s, "rssm (W=5)") in table else float("nan")
        paper = PAPER.get(base_system(s))
        finite = ours == ours and ours != float("inf")
        summary.append(
            f"| {s} | {fmt(ours)} | {best_m} {fmt(others[best_m]) if best_m else ''} | "
            f"{f'{ours / others[best_m]:.2g}x' if finite and best_m else '-'} | "
            f"{f'{rssm / ours:.1f}x' if finite else '-'} | "
            f"{table[(s, 'mosim')][100].get('equivalent_horizon') or '-' if (s, 'mosim') in table else '-'} | "
            f"{'-' if paper is None else f'{paper[0]:g} / {paper[1]:g}'} | "
            f"{', '.join(f'{b:g} min, {d}' for b, d in when[s])} |")
    plots = "\n".join(f"![{s}: error vs horizon](img/bench/{plot_stem(s)}_error_vs_horizon.png) "
                      f"![{s}: an example window](img/bench/{plot_stem(s)}_example1.png)" for s in systems)
    cmd = f"python benchmarks/prediction.py --budget-min {args.budget_min:g}"
    text = f"""# Prediction benchmark

Open-loop prediction error of mosim and the baselines it ships, on the paper's protocol
([benchmark-protocol.md](benchmark-protocol.md)): 1000 test windows per system and horizon, cut at seeded
random starts from the 30 held-out test episodes of each random-action dataset; each model gets the true start
state (the RSSM also W = 1 or 5 true steps first, not scored) and the window's true actions, and rolls out on
its own predictions. Metric: MSE on raw qpos/qvel averaged over the predicted steps, the state entries and the
windows, with a 95% bootstrap interval over windows. Lower is better; the best H=100 of each system is bold.

- **Budget**: every model trained for the minutes of wall clock in the summary's last column, on one CPU thread,
  two trainings side by side on a 2-core x86_64 machine (no GPU), on the date given there (every model of a
  system the same day); the same data (240 training episodes of 1000 steps, `python scripts/make_datasets.py`).
  The rows marked "{LARGE_SUFFIX.strip()}" train every model of their system on 1900 episodes of the same kind
  instead (`python scripts/make_datasets.py --large`), for {", ".join(f"{b:g} minutes ({s})" for s, b in
  LARGE_ROWS.items())}, scored on the same test windows.
- **Models**: `mosim`: the structured model with the system's preset (`mosim.presets`: predictor and
  correctors, staged on the small systems and end to end on the large ones, one-step loss, integrated as the
  data was made; the contact features on cheetah, hopper and go2, the actuator forces as features on panda; on
  reacher and cartpole the joint limits; on cheetah, hopper and the humanoid the joint limits and the floor contacts
  (on hopper and the humanoid the contacts between the robot's own bodies too), on go2 the same on its elliptic
  friction cones, on panda with its implicitfast step's servo damping, solved as MuJoCo solves them, and `M(q)`
  computed from the model file on those five, the Coriolis, centrifugal and gravity forces too on all but go2; on
  acrobot the motors' force, `M(q)` and the bias forces computed, as it has no limits or contacts; on panda its
  fingers' equality constraint solved too; on acrobot, cheetah, hopper, panda and the humanoid the joints' springs
  and dampers computed as well, and the model starts at that physics, its networks at zero output, so that
  training learns what the model file leaves out and the best checkpoint can be the start itself). So mosim reads
  what the robot's MuJoCo model says of its mechanics (masses and inertias, contact and limit parameters, actuator
  gains, springs) where its preset asks, and the baselines see the (q, v, a) trajectories alone: a gray-box model
  against black-box ones. On these simulated data that physics is MuJoCo's own step, up to what the solve leaves
  out (the Panda's fingers' contacts with each other, the Go2's own bodies'): what the untrained models score is in
  [../results/model_file.md](../results/model_file.md). `plain`: a
  normalized ResNet on (q, v, a) predicting the state change, one-step loss, the same training loop. `ensemble`: MBPO's probabilistic
  ensemble (7 members, 5 elites, 4 x 200 SiLU, Gaussian NLL with learned log-variance bounds, bootstrapped
  batches of 256, lr 1e-3), rolled out on its mean. `rssm`: DreamerV3's RSSM on state vectors, sized for this
  CPU (`dv3-cpu`: GRU state 256, 32 x 16 categorical latents with 1% unimix, 2 x 256 encoder/decoder, symlog,
  KL balance 0.5/0.1 with 1 nat free bits, sequences of 64, batch 16, lr 1e-4), see
  [../src/mosim/baselines](../src/mosim/baselines). Tuning: the baselines use their references' settings; the
  plain network shares mosim's optimizer settings (Adam, the preset's learning rate: 2e-3 on cheetah, hopper and
  go2, where a sweep of both models found it best, 1e-3 elsewhere; [../results/accuracy.md](../results/accuracy.md),
  "Learning rate and batch size").
- **Regenerate**: `python scripts/make_datasets.py --large`, then `{cmd}` (about
  {(len(SYSTEMS) * args.budget_min + sum(LARGE_ROWS.values())) * len(MODELS) / 2 / 60 + 0.5:.1f} hours here;
  resumes where it stopped and reuses trained models; `--systems S ...` reruns only those systems (and their
  large-data rows), whose rows then replace theirs in [results/prediction.csv](../results/prediction.csv)), then
  `python scripts/publish_pretrained.py` and `python scripts/publish_pretrained.py --bench runs/bench-large` to
  refresh the pretrained models in `mosim.pretrained` (a system with a large-data row ships the model of the
  row with the lower 100-step error: the humanoid's standard row since 2026-12-07, `--bench runs/bench --only humanoid-walk`).

## Summary at 100 steps

{chr(10).join(summary)}

The paper's figures took GPU-days of training on its own data; ours are minutes on a CPU, on our datasets
(the same kind: random actions, the paper's holding scheme), so they compare in kind, not digit for digit.

{FINDINGS.read_text() if FINDINGS.exists() else ""}
## All horizons

{chr(10).join(lines)}

## Plots

Error at each prediction step (log scale), and one 100-step test window: the two positions and two velocities
that move most, true (black) against every model.

{plots}
"""
    (DOCS / "benchmarks.md").write_text(text)
    print("\n".join(summary))
    print(f"wrote {DOCS / 'benchmarks.md'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--systems", nargs="+", default=SYSTEMS)
    p.add_argument("--budget-min", type=float, default=BUDGET_MIN, help="training minutes per model")
    p.add_argument("--out", type=Path, default=Path("runs/bench"))
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    if not args.report_only:
        subprocess.run(bench_command(args, args.systems, args.budget_min, args.out), check=True)
        merge(args.out, args.systems)
        large_out = args.out.with_name(args.out.name + "-large")
        for s in (s for s in args.systems if s in LARGE_ROWS):
            train = f"{s}={large_dataset_path(Path('data'), s)}"
            subprocess.run(bench_command(args, [s], LARGE_ROWS[s], large_out, [train]), check=True)
            merge(large_out, [s], large=True)
    report(args)


if __name__ == "__main__":
    main()
