"""Does a learned model score an agent as the real task does? Every trained agent of benchmarks/rl_results.py,
evaluated on the same 10 episodes in the real task and inside mosim models.

    python benchmarks/rl_fidelity.py                  # every agent under runs/rl (finished agents are cached)
    python benchmarks/rl_fidelity.py --tasks reacher-easy cartpole-balance

Episode ``i`` starts from the same task randomization in both (reset seed ``--seed + i``, as the RL runs'
evaluations do, so the real return repeats the run's last evaluation). The agents act deterministically. The
models: the pretrained model of the task's robot (``mosim.load("<robot's task>")``) and the 2026-11-25 models kept
in benchmarks/models (with which the older RL runs were made). A model that is faithful where the agent goes
gives the agent's real return: the gap between the two is what a policy can gain by exploiting the model.
Few-shot agents are scored in these models, not in the fine-tuned copies they last trained in.

Writes results/rl_fidelity.{md,csv,png}; per-agent results are cached in runs/rl_fidelity/.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # rl_results: the runs' commands

# task -> {model label: model (pretrained name or checkpoint)}
MODELS = {
    # results/rl_fidelity.md's "pretrained" reacher rows were measured with the model of 2026-11-27, kept as
    # benchmarks/models/reacher-easy-2026-11-27.pt; the pretrained reacher-easy solves its wrist's limit since
    # 2026-11-28 (ModelConfig.limit_constraints)
    "reacher-easy": {"pretrained": "reacher-easy", "2026-11-25": "benchmarks/models/reacher-easy-2026-11-25.pt"},
    # likewise cartpole's "pretrained" rows: the model of 2026-11-27, kept as
    # benchmarks/models/cartpole-balance-2026-11-27.pt (the pretrained one solves its cart's limit since 2026-11-28)
    "cartpole-balance": {"pretrained": "cartpole-balance",
                         "2026-11-25": "benchmarks/models/cartpole-balance-2026-11-25.pt"},
    "acrobot-swingup": {"pretrained": "acrobot-swingup",
                        "2026-11-25": "benchmarks/models/acrobot-swingup-2026-11-25.pt"},
    # results/rl_fidelity.md's "pretrained" cheetah rows were measured with the model of 2026-11-26, kept as
    # benchmarks/models/cheetah-run-2026-11-26.pt; the pretrained cheetah-run sees its floor contacts since 2026-11-27
    "cheetah-run": {"pretrained": "cheetah-run", "2026-11-25": "benchmarks/models/cheetah-run-2026-11-25.pt"},
}
MODELS["reacher-hard"] = MODELS["reacher-easy"]  # the same robot: its tasks differ in the target's size
MODEL_LABELS = ("pretrained", "2026-11-25")


def agents(root: Path, tasks: list[str] | None) -> list[Path]:
    """Run folders under ``root`` holding a saved agent, for the tasks with models."""
    found = sorted(p.parent for p in root.glob("*/*/agent.zip"))
    return [p for p in found if p.parent.name in MODELS and (tasks is None or p.parent.name in tasks)]


def trained_in(task: str, run: str, config: dict) -> str:
    """Where the agent learned, from its command in benchmarks/rl_results.py (run configs name the pretrained
    model of their day, which may since have been replaced)."""
    from rl_recipe import RUNS

    if config["pipeline"] == "model-free":
        return "real task"
    if config["pipeline"] == "dyna":
        return "real task + its own model"
    args = RUNS[f"{task}/{run}"][2] if f"{task}/{run}" in RUNS else ["--model", config.get("model") or ""]
    model = args[args.index("--model") + 1] if "--model" in args else ""
    return "2026-11-25 model" if model.endswith("2026-11-25.pt") else "pretrained model"


class Envs:
    """One real env per task and one :class:`~mosim.rl.evaluation.ModelEvaluator` per task and model, made on
    first use and reused for every agent (a model is loaded, and its batch of task envs built, once)."""

    def __init__(self, episodes: int, seed: int) -> None:
        self.episodes, self.seed = episodes, seed
        self._real: dict[str, object] = {}
        self._models: dict[tuple[str, str], object] = {}

    def real(self, task: str):  # noqa: ANN201
        from mosim.rl import RealEnv

        if task not in self._real:
            self._real[task] = RealEnv(task)
        return self._real[task]

    def model(self, task: str, label: str):  # noqa: ANN201
        from mosim.rl import ModelEvaluator

        if (task, label) not in self._models:
            self._models[task, label] = ModelEvaluator(MODELS[task][label], task, self.episodes, self.seed)
        return self._models[task, label]


def score(run: Path, config: dict, envs: Envs, cache: Path) -> dict:
    """Per-episode returns of the run's agent in the real task and in each model (cached by the agent's mtime)."""
    from mosim.rl import evaluate
    from mosim.rl.agents import load_agent

    task = run.parent.name
    key = cache / task / f"{run.name}.json"
    stamp = (run / "agent.zip").stat().st_mtime
    if key.exists():
        cached = json.loads(key.read_text())
        if cached["agent_mtime"] == stamp and cached["episodes"] == envs.episodes and cached["seed"] == envs.seed:
            return cached
    agent = load_agent(run / "agent.zip")
    t0 = time.perf_counter()
    out = {"task": task, "run": run.name, "pipeline": config["pipeline"],
           "episodes": envs.episodes, "seed": envs.seed, "agent_mtime": stamp,
           "real": list(evaluate(agent, envs.real(task), envs.episodes, envs.seed).returns)}
    for label in MODELS[task]:
        out[label] = list(envs.model(task, label)(agent).returns)
    out["seconds"] = time.perf_counter() - t0
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text(json.dumps(out, indent=1))
    return out


def summary(rows: list[dict], label: str) -> dict[str, float]:
    """Over all agents and episodes: mean |model - real| per episode, the same for the agents' means, the
    correlation of per-episode returns, and the largest gap of an agent's mean."""
    real = np.concatenate([r["real"] for r in rows])
    model = np.concatenate([r[label] for r in rows])
    gap = np.array([np.mean(r[label]) - np.mean(r["real"]) for r in rows])
    corr = float(np.corrcoef(real, model)[0, 1]) if real.std() > 0 and model.std() > 0 else float("nan")
    return {"episode_abs_gap": float(np.mean(np.abs(model - real))), "agent_abs_gap": float(np.mean(np.abs(gap))),
            "worst_agent_gap": float(gap[np.argmax(np.abs(gap))]), "corr": corr, "n_agents": len(rows),
            "n_episodes": len(real)}


def report(rows: list[dict], out: Path, episodes: int, seed: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "rl_fidelity.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["task", "run", "pipeline", "trained_in", "env", "mean", "std", "returns"])
        for r in rows:
            for env in ("real", *MODEL_LABELS):
                w.writerow([r["task"], r["run"], r["pipeline"], r["trained_in"], env, f"{np.mean(r[env]):.2f}",
                            f"{np.std(r[env]):.2f}", ";".join(f"{x:.1f}" for x in r[env])])
    head = ["| task | agents | episodes | model | mean abs gap per episode | mean abs gap of an agent's mean | "
            "worst agent (model - real) | correlation per episode |", "|---|---|---|---|---|---|---|---|"]
    for task in tasks:
        sel = [r for r in rows if r["task"] == task]
        for label in MODEL_LABELS:
            s = summary(sel, label)
            head.append(f"| {task} | {s['n_agents']} | {s['n_episodes']} | {label} | {s['episode_abs_gap']:.1f} | "
                        f"{s['agent_abs_gap']:.1f} | {s['worst_agent_gap']:+.1f} | {s['corr']:.3f} |")
    per_agent = ["| task | agent (runs/rl/...) | trained in | real | " + " | ".join(MODEL_LABELS) + " |",
                 "|---|---|---|---|" + "---|" * len(MODEL_LABELS)]
    for r in rows:
        cells = " | ".join(f"{np.mean(r[label]):.1f}" for label in MODEL_LABELS)
        per_agent.append(f"| {r['task']} | {r['run']} | {r['trained_in']} | {np.mean(r['real']):.1f} | {cells} |")
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.8 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        sel = [r for r in rows if r["task"] == task]
        hi = max(max(max(r[k]) for k in ("real", *MODEL_LABELS)) for r in sel) * 1.05 + 1
        ax.plot([0, hi], [0, hi], color="gray", lw=0.8)
        for label, marker in zip(MODEL_LABELS, ("o", "x")):
            ax.scatter(np.concatenate([r["real"] for r in sel]), np.concatenate([r[label] for r in sel]), s=10,
                       marker=marker, alpha=0.6, label=f"{label} model")
        ax.set_title(f"{task}: {len(sel)} agents")
        ax.set_xlabel("return in the real task (one episode)")
        ax.set_ylabel("return inside the model (same episode)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "rl_fidelity.png", dpi=110)
    plt.close(fig)
    text = f"""# Do the models score agents as the real task does?

Every agent trained by `benchmarks/rl_results.py` (zero-shot, few-shot, Dyna and model-free), evaluated on the same
{episodes} deterministic episodes (reset seeds {seed} + i, the runs' own evaluation episodes) in the real task and
inside two models of its robot: the pretrained one (`mosim.load`) and the 2026-11-25 one kept in benchmarks/models.
Returns are per episode of 1000 steps (the task's reward, 0 to 1 per step).
{platform.processor() or platform.machine()}, one torch thread, {date.today()}.
Regenerate: `python benchmarks/rl_fidelity.py` (`mosim.rl.evaluate_in_model` does the imagined episodes).

{chr(10).join(head)}

![model vs real returns](rl_fidelity.png)

## Each agent (mean return over the {episodes} episodes)

{chr(10).join(per_agent)}
"""
    (out / "rl_fidelity.md").write_text(text)
    print("\n".join(head))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default="runs/rl", type=Path, help="RL runs (task/run/agent.zip)")
    p.add_argument("--tasks", nargs="+", default=None)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--seed", type=int, default=1_000_000, help="the runs' evaluation seed")
    p.add_argument("--cache", default="runs/rl_fidelity", type=Path)
    p.add_argument("--out", default="results", type=Path)
    args = p.parse_args()
    torch.set_num_threads(1)
    runs = agents(args.root, args.tasks)
    envs = Envs(args.episodes, args.seed)
    rows = []
    for i, run in enumerate(runs):
        config = json.loads((run / "config.json").read_text())
        r = score(run, config, envs, args.cache)
        r["trained_in"] = trained_in(r["task"], r["run"], config)
        print(f"[{i + 1}/{len(runs)}] {r['task']}/{r['run']}: real {np.mean(r['real']):.1f}, "
              + ", ".join(f"{k} {np.mean(r[k]):.1f}" for k in MODEL_LABELS) + f" ({r['seconds']:.0f} s)", flush=True)
        rows.append(r)
    report(rows, args.out, args.episodes, args.seed)


if __name__ == "__main__":
    main()
