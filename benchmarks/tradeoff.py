"""Speed against accuracy: the batch-4096 rollout speed and the 100-step error of the same robot's model variants.

Where mosim's preset trails MuJoCo's batch-4096 rollout on two cores (cheetah-run, go2, acrobot-swingup:
results/model_speed.md), the preset computes MuJoCo's own mechanics in its step (M(q), the bias forces, the
contacts solved by Newton's method; acrobot's RK4, four accelerations a step, as its data) because that is what
makes it accurate. This benchmark puts numbers on the choice: each variant below,
trained for the same budget (5 minutes, one core each, two at a time), scored on the test split by the benchmark's
protocol, then rolled out at batch 4096 (100 steps, no gradients, two threads; eager and compiled), against
``mujoco.rollout`` on the same two cores in the same process.

    python benchmarks/tradeoff.py                  # trains what is missing (runs/tradeoff/, resumes), times, reports
    python benchmarks/tradeoff.py --systems go2    # one system's rows (the others' are kept)
    python benchmarks/tradeoff.py --report-only    # rebuild results/tradeoff.md and the plot from the CSV

Data: ``python scripts/make_datasets.py`` first. Writes results/tradeoff.{md,csv,png} (committed).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
from datetime import date
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own modules
from accuracy import protocol_scores  # noqa: E402
from accuracy_runs import BASELINE  # noqa: E402

NO_SOLVE = ["--no-contact-constraints", "--no-known-inertia"]
ROBOT_VARIANTS = {
    "preset": [],
    "no solve": NO_SOLVE,  # the networks learn M(q), the forces and the contacts (with the contact features)
    "no solve, small networks": [*NO_SOLVE, "--size", "small"],
    "plain network": BASELINE,  # the prediction benchmark's plain network: (q, v, a) in, the state change out
}
"""variant -> its ``mosim train`` arguments on top of the system's preset, for the robots with floor contacts"""
ACROBOT_VARIANTS = {
    "preset": [],  # RK4 as its data: four accelerations a step
    "one acceleration a step": ["--integrator", "constant_acceleration"],  # the networks learn what RK4 adds
    "plain network": BASELINE,
}
"""the same for acrobot, whose preset's cost is its RK4"""


class Bench(NamedTuple):
    """A system of this benchmark: its preset, its target and the variants trained on top of the preset."""

    preset: str
    target: float | None
    """our 100-step target (results/accuracy.md), where there is one"""
    variants: dict[str, list[str]]


SYSTEMS = {"cheetah-run": Bench("cheetah", 0.1, ROBOT_VARIANTS), "go2": Bench("go2", None, ROBOT_VARIANTS),
           "acrobot-swingup": Bench("acrobot", 1e-4, ACROBOT_VARIANTS)}
BUDGET_MIN = 5
BATCH = 4096
STEPS = 100
FIELDS = ("system", "variant", "args", "samples", "mse_3", "mse_100", "ci_100", "eager", "compiled", "mujoco", "date")


def command(system: str, variant: str, root: Path, data_root: Path) -> list[str]:
    return [sys.executable, "-m", "mosim.cli", "train", "--data", str(data_root / f"{system}-random.h5"),
            "--preset", SYSTEMS[system].preset, "--out", str(root / system / _slug(variant)), "--threads", "1",
            "--quiet",
            "--budget-min", str(BUDGET_MIN), *SYSTEMS[system].variants[variant]]


def _slug(variant: str) -> str:
    return variant.replace(", ", "-").replace(" ", "-")


def train_missing(systems: list[str], root: Path, data_root: Path, jobs: int) -> None:
    from mosim.benchmark.runner import run_parallel

    todo = [(s, v) for s in systems for v in SYSTEMS[s].variants if not (root / s / _slug(v) / "scores.json").exists()]
    run_parallel([(f"{s} {v}", command(s, v, root, data_root), root / s / _slug(v) / "stdout.txt") for s, v in todo],
                 jobs, poll_s=5.0)


def measure(system: str, root: Path, data_root: Path) -> list[dict]:
    """Each variant's row: its test scores, its training samples, its batch-4096 rollout speed (eager and compiled)
    and MuJoCo's (the mean of a measurement before and one after the models'), all in this process."""
    import torch

    import mosim
    from model_speed import compiled_afresh, mujoco_speed, rollout_speed

    torch.set_num_threads(2)
    data = data_root / f"{system}-random.h5"
    ds = mosim.load_dataset(data)
    mujoco_before = mujoco_speed(system, BATCH, STEPS)
    rows = []
    for variant, extra in SYSTEMS[system].variants.items():
        run = root / system / _slug(variant)
        scores = {s["horizon"]: s for s in protocol_scores(run, data)}
        log = list(csv.DictReader(open(run / "log.csv")))
        model = mosim.load(run / "best.pt", device="cpu").model
        eager = rollout_speed(model, ds, BATCH, STEPS)
        compiled = rollout_speed(compiled_afresh(model), ds, BATCH, STEPS)
        print(f"{system} {variant}: {eager:,.0f} eager, {compiled:,.0f} compiled steps/s", flush=True)
        rows.append({"system": system, "variant": variant, "args": " ".join(extra), "samples": int(log[-1]["samples"]),
                     "mse_3": scores[3]["mse"], "mse_100": scores[100]["mse"],
                     "ci_100": f"[{scores[100]['ci_low']:.3g}, {scores[100]['ci_high']:.3g}]",
                     "eager": eager, "compiled": compiled, "date": str(date.today())})
    mujoco = (mujoco_before + mujoco_speed(system, BATCH, STEPS)) / 2
    return [{**r, "mujoco": mujoco} for r in rows]


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = list(csv.DictReader(open(path)))
    for r in rows:
        for k in ("mse_3", "mse_100", "eager", "compiled", "mujoco"):
            r[k] = float(r[k])
        r["samples"] = int(r["samples"])
    return rows


def _fastest(row: dict) -> float:
    """A row's rollout speed: the faster of its eager and compiled steps."""
    return max(row["eager"], row["compiled"])


def report(rows: list[dict], out: Path) -> None:
    """Write ``out``.csv, .md and .png from ``rows`` (the page's notes: benchmarks/tradeoff_findings.md)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    rows = sorted(rows, key=lambda r: (list(SYSTEMS).index(r["system"]),
                                       list(SYSTEMS[r["system"]].variants).index(r["variant"])))
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    systems = list(dict.fromkeys(r["system"] for r in rows))
    lines = ["# Speed against accuracy", "",
             f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}). Regenerate: `python benchmarks/tradeoff.py` "
             f"(trains what runs/tradeoff/ lacks, then times). Each variant: the system's preset with the arguments "
             f"shown, `mosim train --budget-min {BUDGET_MIN}` on one core, two at a time; test-split rollout MSE "
             f"(raw qpos/qvel, 1000 windows, 95% bootstrap interval); rollout speed at batch {BATCH}, {STEPS} steps, "
             f"no gradients, two threads, eager and compiled (`Simulator.compile`), against `mujoco.rollout` on the "
             f"same two threads in the same process.", ""]
    for system in systems:
        target = SYSTEMS[system].target
        mine = [r for r in rows if r["system"] == system]
        lines += [f"## {system}", "", "| variant | `mosim train` arguments | samples in "
                  f"{BUDGET_MIN} min | 3-step MSE | 100-step MSE (95% CI) | eager steps/s | compiled steps/s | "
                  f"MuJoCo steps/s | faster / MuJoCo |", "|---|---|---|---|---|---|---|---|---|"]
        for r in mine:
            lines.append(f"| {r['variant']} | `{r['args'] or '(the preset)'}` | {r['samples']:,} | {r['mse_3']:.3g} | "
                         f"{r['mse_100']:.3g} {r['ci_100']} | {r['eager']:,.0f} | {r['compiled']:,.0f} | "
                         f"{r['mujoco']:,.0f} | {_fastest(r) / r['mujoco']:.2f}x |")
        lines += ["", f"Measured {mine[0]['date']}." + (f" Our target at 100 steps: <= {target:g}, in up to 30 "
                                                        "minutes of training (results/accuracy.md)." if target else ""),
                  ""]
    notes = Path(__file__).with_name("tradeoff_findings.md")
    if notes.exists():
        lines += [notes.read_text().strip(), ""]
    fig, axes = plt.subplots(1, len(systems), figsize=(5.5 * len(systems), 4.2), squeeze=False)
    for ax, system in zip(axes[0], systems):
        mine = [r for r in rows if r["system"] == system]
        for r in mine:
            ax.scatter(_fastest(r), r["mse_100"], s=40)
            ax.annotate(r["variant"], (_fastest(r), r["mse_100"]), textcoords="offset points", xytext=(5, 4),
                        fontsize=8)
        ax.axvline(mine[0]["mujoco"], color="k", ls="--", lw=1, label="MuJoCo (mujoco.rollout)")
        target = SYSTEMS[system].target
        if target:
            ax.axhline(target, color="r", ls=":", lw=1, label=f"target {target:g} (30 min)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # a narrow range labels every minor tick, one over another
        ax.set_xlabel(f"rollout steps/s at batch {BATCH} (the faster of eager and compiled)")
        ax.set_ylabel("100-step test MSE")
        ax.set_title(f"{system}, {BUDGET_MIN} min of training each")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=110)
    plt.close(fig)
    lines += [f"![speed against accuracy]({out.with_suffix('.png').name})", ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    print(out.with_suffix(".md").read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--systems", nargs="*", choices=tuple(SYSTEMS), default=list(SYSTEMS))
    p.add_argument("--jobs", type=int, default=2, help="trainings at a time (one thread each)")
    p.add_argument("--root", default="runs/tradeoff")
    p.add_argument("--data-root", default="data")
    p.add_argument("--out", default="results/tradeoff")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    root, data_root, out = Path(args.root), Path(args.data_root), Path(args.out)
    rows = read_rows(out.with_suffix(".csv"))
    if not args.report_only:
        train_missing(args.systems, root, data_root, args.jobs)
        for system in args.systems:
            rows = [r for r in rows if r["system"] != system] + measure(system, root, data_root)
            report(rows, out)  # after each system: its rows are kept if a later one fails
    report(rows, out)


if __name__ == "__main__":
    main()
