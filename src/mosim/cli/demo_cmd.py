"""The main job on a small default: collect -> train (staged) -> evaluate -> plot.

Collects random-action data of a small system, trains mosim's structured simulator (predictor,
then corrector) and, side by side in a second process, the plain one-step network baseline, each on
one CPU thread for the same budget; scores both on held-out test windows at horizons 3, 16 and 100;
plots error vs horizon and predicted vs true trajectories. Everything goes under --workdir; a second
run reuses what exists (finished trainings are not repeated, interrupted ones resume).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HELP = "run the main job on a small default (collect, train, evaluate, plot)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--system", default="reacher-easy", help="system id")
    p.add_argument("--episodes", type=int, default=60, help="episodes to collect")
    p.add_argument("--steps", type=int, default=1000, help="steps per episode")
    p.add_argument("--budget-min", type=float, default=4.0, help="training minutes per model")
    p.add_argument("--workdir", default="runs/demo", help="folder for everything the job writes")
    p.add_argument("--seed", type=int, default=0, help="random seed")


def _train_args(data: Path, out: Path, budget: float, seed: int, extra: list[str]) -> list[str]:
    return ["train", "--data", str(data), "--out", str(out), "--budget-min", str(budget), "--seed", str(seed),
            "--threads", "1", "--no-score", *extra]


def run(args: argparse.Namespace) -> int:
    from mosim.cli import main as cli_main
    from mosim.data.collect import CollectConfig, collect
    from mosim.data.dataset import load_dataset
    from mosim.benchmark import per_step_errors, score
    from mosim.loading import load
    from mosim.plots import plot_error_vs_horizon, plot_trajectories, state_labels

    work = Path(args.workdir)
    data_path = work / f"{args.system}-random.h5"
    print(f"[1/4] data: {data_path}")
    if not data_path.exists():
        collect(CollectConfig(system=args.system, out=str(data_path), episodes=args.episodes, steps=args.steps,
                              seed=args.seed))
    ds = load_dataset(data_path, system=args.system)
    runs = {"mosim": work / "mosim", "plain network": work / "plain"}
    print(f"[2/4] training mosim (structured, staged) and the plain one-step network, {args.budget_min:g} min each, "
          "side by side")
    log = open(work / "plain-train.log", "a")
    baseline = subprocess.Popen([sys.executable, "-m", "mosim.cli",
                                 *_train_args(data_path, runs["plain network"], args.budget_min, args.seed,
                                              ["--kind", "plain_delta", "--quiet"])],
                                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        rc = cli_main(_train_args(data_path, runs["mosim"], args.budget_min, args.seed, []))
        if rc:
            return rc
        if baseline.wait():
            print(f"the baseline's training failed; see {work / 'plain-train.log'}", file=sys.stderr)
            return 1
    finally:
        if baseline.poll() is None:
            baseline.terminate()
    print("[3/4] scoring on held-out test windows (1000 per horizon)")
    sims = {name: load(path / "best.pt", device="cpu") for name, path in runs.items()}
    table = {name: score(sim, ds) for name, sim in sims.items()}
    print(f"\n{'model':<16}" + "".join(f"{'H=' + str(h):>22}" for h in (3, 16, 100)))
    for name, scores in table.items():
        cells = "".join(f"{s.mse:>12.3g} ±{(s.ci_high - s.ci_low) / 2:<8.2g}" for s in scores)
        print(f"{name:<16}{cells}")
    print("(MSE on raw qpos/qvel averaged over the predicted steps; ± half the 95% bootstrap interval)\n")
    print("[4/4] plots")
    curves = {name: per_step_errors(sim, ds, 100) for name, sim in sims.items()}
    p1 = plot_error_vs_horizon(curves, work / "error_vs_horizon.png", ds.spec.dt, f"{args.system}: open-loop error")
    test = ds.subset("test")
    q0, v0, a = test.qpos[0, 0], test.qvel[0, 0], test.action[0, :200]
    true = ds.states()[ds.episodes("test")[0], :201]
    preds = {name: np.concatenate(sim.rollout(q0, v0, a), -1) for name, sim in sims.items()}
    nq = ds.spec.nq
    p2 = plot_trajectories(true, preds, state_labels(ds.spec.layout), list(range(nq)) + [nq], work / "trajectories.png",
                           ds.spec.dt, f"{args.system}: 200-step open-loop prediction from a test state")
    print("wrote:")
    for path in (data_path, runs["mosim"] / "best.pt", runs["plain network"] / "best.pt", p1, p2):
        print(f"  {path}")
    return 0
