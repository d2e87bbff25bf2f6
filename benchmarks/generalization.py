"""Generalization (the paper's table 2): models trained on random data ("-r") and on policy data ("-e"), each
tested on the held-out episodes of both kinds.

    python benchmarks/generalization.py                    # reacher-easy and cheetah-run
    python benchmarks/generalization.py --report-only

Needs: the random datasets (`python scripts/make_datasets.py`), the "-r" models of `benchmarks/prediction.py`
(runs/bench) and a trained agent per system (runs/rl/<system>/model-free/agent.zip from
`python benchmarks/rl_results.py`). Steps, each reused when done:
1. policy data: `mosim rl collect` with the agent, Gaussian action noise (10% of the bound width), 100 episodes
   of 1000 steps (80/10/10) -> data/<system>-policy.h5;
2. "-e" models: the same recipes and budget as the "-r" ones, trained on the policy data -> runs/generalization;
3. scores on the protocol (1000 test windows per horizon) of every model on both test sets -> results/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

SYSTEMS = ["reacher-easy", "cheetah-run"]
MODELS = ["mosim", "plain"]
BUDGET_MIN = 5.0


def policy_data(system: str, data_root: Path, agent: Path, episodes: int) -> Path:
    out = data_root / f"{system}-policy.h5"
    if not out.exists():
        subprocess.run([sys.executable, "-m", "mosim.cli", "rl", "collect", "--agent", str(agent), "--system", system,
                        "--out", str(out), "--episodes", str(episodes), "--noise", "0.1", "--workers", "2",
                        "--quiet"], check=True)
    return out


def train_e(pairs: list[tuple[str, str]], data_root: Path, root: Path, budget: float, jobs: int) -> None:
    from mosim.benchmark.runner import run_parallel

    todo = [(s, m) for s, m in pairs if not (root / s / f"{m}-e" / "done").exists()]
    run_parallel([(f"train {s} / {m}-e ({budget:g} min)",
                   [sys.executable, "-m", "mosim.benchmark.runner", "train-one", s, m, str(budget),
                    str(data_root / f"{s}-policy.h5"), str(root / s / f"{m}-e"), "0"],
                   root / s / f"{m}-e" / "train.log") for s, m in todo], jobs)


def report(systems: list[str], data_root: Path, bench: Path, root: Path, out: Path, budget: float) -> None:
    from mosim.benchmark import Protocol
    from mosim.benchmark.runner import scores_of
    from mosim.data import load_dataset

    def mse(run: Path, data: object, tag: str) -> dict[int, float]:
        # "bench" on the random test data: the cache `mosim bench` already wrote for the "-r" models
        return {s["horizon"]: s["mse"] for s in scores_of(run, data, Protocol(), 1, tag)["scores"]}

    lines = ["| system | model | trained on | test -r H=16 | test -r H=100 | test -e H=16 | test -e H=100 |",
             "|---|---|---|---|---|---|---|"]
    for s in systems:
        random_data, policy_data_ = load_dataset(data_root / f"{s}-random.h5"), load_dataset(data_root / f"{s}-policy.h5")
        for m in MODELS:
            for kind, run in (("-r", bench / "runs" / s / m), ("-e", root / s / f"{m}-e")):
                if not (run / "best.pt").exists():
                    continue
                r, e = mse(run, random_data, "bench"), mse(run, policy_data_, "policy")
                lines.append(f"| {s} | {m} | {kind} | {r[16]:.3g} | {r[100]:.3g} | {e[16]:.3g} | {e[100]:.3g} |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "generalization.md").write_text(
        "# Generalization: random-data and policy-data models on both kinds of test data\n\n"
        "MSE on raw qpos/qvel, 1000 test windows per horizon (the benchmark protocol). \"-r\": trained on the random "
        "datasets (240 episodes); \"-e\": trained on policy data (80 episodes of a SAC agent trained in the real task, "
        f"with 10% Gaussian action noise); every model trained {budget:g} minutes on one CPU thread.\n"
        "Regenerate: `python benchmarks/generalization.py`.\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--systems", nargs="+", default=SYSTEMS)
    p.add_argument("--data-root", type=Path, default=Path("data"))
    p.add_argument("--bench", type=Path, default=Path("runs/bench"))
    p.add_argument("--agents", type=Path, default=Path("runs/rl"))
    p.add_argument("--root", type=Path, default=Path("runs/generalization"))
    p.add_argument("--out", type=Path, default=Path("results"))
    p.add_argument("--budget-min", type=float, default=BUDGET_MIN)
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    if not args.report_only:
        for s in args.systems:
            policy_data(s, args.data_root, args.agents / s / "model-free" / "agent.zip", args.episodes)
        train_e([(s, m) for s in args.systems for m in MODELS], args.data_root, args.root, args.budget_min, args.jobs)
    report(args.systems, args.data_root, args.bench, args.root, args.out, args.budget_min)


if __name__ == "__main__":
    main()
