"""Learning on top of a wrong model file: data from a world that differs from the robot's MuJoCo model file, models
that start at (or read) the nominal file, scored on that world's held-out windows.

    python benchmarks/mismatch.py                        # every world: collect, train, score, write the page
    python benchmarks/mismatch.py --worlds cheetah-run   # one world's rows again; the others stay
    python benchmarks/mismatch.py --report-only          # the page again from the .csv

On data simulated from the model file itself, mosim's untrained start is already MuJoCo's step
(results/model_file.md), so the prediction benchmark's rows measure the solve rather than learning. Here each world
is a system id with changes (:mod:`mosim.systems.perturbation`: heavier bodies, less friction, weaker motors, more
damping), its data collected as the standard files are (300 random-action episodes of 1000 steps, seed 0: 240
train / 30 val / 30 test). Every model reads only the nominal model file, never the changes:

- ``model file``: mosim's preset untrained, at the nominal file's physics (its networks at zero output);
- ``mosim-physics``: the same model trained from that start on the world's data;
- ``mosim-identify``: the same, also learning factors on the file's masses, actuator forces, damping and friction
  (``ModelConfig.identify``); the page lists the factors it found against the world's changes;
- ``mosim-learned``: the preset with M(q), the bias and the passive forces learned rather than computed (the
  constraints it solves stay);
- ``plain``: the plain one-step network on (q, v, a).

Each trained model gets the same wall-clock budget (one thread, ``--jobs`` side by side); scores are the benchmark's
protocol (1000 test windows per horizon, MSE on raw qpos/qvel, 95% bootstrap interval).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from make_datasets import DATASETS, EPISODES, SEED, STEPS  # noqa: E402
from model_file import read_rows, write_rows  # noqa: E402
from prediction import fmt  # noqa: E402

from mosim.atomic import atomic_path  # noqa: E402

WORLDS = {
    "cheetah-run": "cheetah-run@mass:torso=1.25,friction=0.6,gear=0.85,damping=1.5",
    "reacher-easy": "reacher-easy@mass=1.2,gear=0.85,damping=1.5",
}
"""system -> the world its data come from"""
MODELS = ["mosim-physics", "mosim-identify", "mosim-learned", "plain"]
"""the trained models, by their benchmark recipe (mosim.benchmark.recipes); the untrained start is scored too"""
NOTES = {
    "reacher-easy": "The reacher moves in a horizontal plane, where gravity does no work: scaling every mass, every "
                    "motor and every damper by one factor leaves its motion unchanged, so the data say only the "
                    "motors' and the dampers' ratios to the masses. Those it found: 0.776 / 1.10 = 0.705 for the "
                    "world's 0.85 / 1.2 = 0.708, 1.37 / 1.10 = 1.25 for 1.5 / 1.2 = 1.25.",
    "cheetah-run": "Friction moves only on the pairs the data slid on: the torso's, the head's and the front thigh's "
                   "stay at the file's.",
}
"""what to know when reading a world's factors"""
START = "model file"
BUDGET_MIN = 5.0
OUT = Path("results/mismatch")
"""``.md`` and ``.csv`` written next to each other"""


def dataset_path(root: Path, system: str) -> Path:
    return root / "mismatch" / f"{system}-perturbed-random.h5"


def collect_world(system: str, root: Path) -> Path:
    """The world's dataset (collected once, resumed if cut short)."""
    from mosim.data import CollectConfig, collect

    path = dataset_path(root, system)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        collect(CollectConfig(system=WORLDS[system], out=str(path), episodes=EPISODES, steps=STEPS, seed=SEED,
                              **DATASETS[system]))
    return path


def untrained(system: str, data):  # noqa: ANN001, ANN201
    """mosim's preset for ``system`` at its nominal model file's physics, normalized on the world's training split."""
    from mosim.benchmark.recipes import recipe
    from mosim.loading import Simulator
    from mosim.models.simulator import NeuralSimulator

    config = recipe("mosim-physics", system, BUDGET_MIN).model
    return Simulator(NeuralSimulator.from_dataset(data, config))


def run_world(system: str, root: Path, out: Path, budget_min: float, jobs: int) -> list[dict]:
    """Collect, train what is missing, score: the world's rows."""
    from mosim.benchmark.protocol import Protocol
    from mosim.benchmark.runner import run_dir, run_parallel, scores_of
    from mosim.benchmark.scoring import score
    from mosim.data.dataset import load_dataset

    world = WORLDS[system]
    path = collect_world(system, root)
    data = load_dataset(path, system=world)
    todo = [m for m in MODELS if not (run_dir(out, system, m) / "done").exists()]
    run_parallel([(f"train {system} / {m} ({budget_min:g} min on {world})",
                   [sys.executable, "-m", "mosim.benchmark.runner", "train-one", world, m, str(budget_min), str(path),
                    str(run_dir(out, system, m)), "0"], run_dir(out, system, m) / "train.log") for m in todo], jobs)
    identify = run_dir(out, system, "mosim-identify") / "best.pt"
    if identify.exists():
        _write_factors(system, identify)
    protocol = Protocol()
    found = {START: [s.as_dict() for s in score(untrained(system, data), data, protocol)]}
    for m in MODELS:
        if (run_dir(out, system, m) / "best.pt").exists():
            found[m] = scores_of(run_dir(out, system, m), data, protocol, 1, tag="mismatch")["scores"]
    return [{"system": system, "world": world, "model": m, "horizon": s["horizon"], "mse": s["mse"],
             "ci_low": s["ci_low"], "ci_high": s["ci_high"], "budget_min": 0 if m == START else budget_min,
             "date": str(date.today())} for m, scores in found.items() for s in scores]


def named_factors(system: str, identified: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """The learned factors by the names of the nominal model's bodies, actuators, dofs' joints and floor pairs."""
    from mosim.systems import make_system

    s = make_system(system)
    m = s.model
    names = {"mass": [m.body(b).name for b in range(1, m.nbody)],
             "actuators": [m.actuator(i).name for i in range(m.nu)],
             "damping": [m.joint(int(m.dof_jntid[i])).name for i in range(m.nv)],
             "friction": s.geometry.pair_names()}
    keep = {"damping": [float(d) > 0 for d in m.dof_damping]}  # an undamped dof's factor scales nothing
    return {k: {n: round(f, 4) for n, f, ok in zip(names[k], v, keep.get(k, [True] * len(v))) if ok}
            for k, v in identified.items()}


def _write_factors(system: str, checkpoint: Path) -> None:
    """The factors of the ``mosim-identify`` model into OUT_factors.json, by system."""
    from mosim.loading import load

    path = OUT.parent / f"{OUT.name}_factors.json"
    table = json.loads(path.read_text()) if path.exists() else {}
    table[system] = {"world": WORLDS[system], "factors": named_factors(system, load(checkpoint).model.identified())}
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(table, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=list(WORLDS), help="their systems")
    parser.add_argument("--data-root", type=Path, default=Path("data"))
    parser.add_argument("--out", type=Path, default=Path("runs/mismatch"), help="the trained models")
    parser.add_argument("--budget-min", type=float, default=BUDGET_MIN, help="training minutes per model")
    parser.add_argument("--jobs", type=int, default=2, help="trainings side by side (one thread each)")
    parser.add_argument("--report-only", action="store_true", help="rebuild the page from the .csv")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    keep = (lambda r: True) if args.report_only else (lambda r: r["system"] not in args.worlds)
    rows = [r for r in read_rows(OUT.with_suffix(".csv")) if keep(r)]
    for system in [] if args.report_only else args.worlds:
        rows += run_world(system, args.data_root, args.out, args.budget_min, args.jobs)
    order = [START, *MODELS]
    rows.sort(key=lambda r: (list(WORLDS).index(r["system"]), order.index(r["model"]), int(r["horizon"])))
    write_rows(OUT, rows, report(rows))
    return 0


def report(rows: list[dict]) -> str:
    """The page: per world each model's error at each horizon."""
    lines = ["# Learning on top of a wrong model file", "",
             "Data from worlds that differ from the robot's MuJoCo model file (`mosim.systems.perturbation`); every",
             "model reads only the nominal file. `model file`: mosim's untrained start at the nominal physics;",
             "`mosim-physics`: that model trained from the start; `mosim-identify`: the same, also learning factors on",
             "the file's masses, motors, damping and friction (`ModelConfig.identify`); `mosim-learned`: the preset",
             "with M(q) and the bias and passive forces learned instead of computed; `plain`: the plain one-step",
             "network. MSE on raw qpos/qvel,",
             "1000 test windows of the world's data per horizon, 95% bootstrap interval; float32.",
             "Regenerate: `python benchmarks/mismatch.py` (the trainings ran one at a time, beside two RL runs on",
             "the machine's two cores).", "",
             "| world | model | training (min) | H=3 | H=16 | H=100 [95% CI] | measured |", "|---|---|---|---|---|---|---|"]
    keys = dict.fromkeys((r["world"], r["model"]) for r in rows)
    for world, model in keys:
        by = {int(r["horizon"]): r for r in rows if (r["world"], r["model"]) == (world, model)}
        h = by[100]
        lines.append(f"| `{world}` | {model} | {float(h['budget_min']):g} | {fmt(float(by[3]['mse']))} | "
                     f"{fmt(float(by[16]['mse']))} | {fmt(float(h['mse']))} [{fmt(float(h['ci_low']))}, "
                     f"{fmt(float(h['ci_high']))}] | {h['date']} |")
    path = OUT.parent / f"{OUT.name}_factors.json"
    if path.exists():
        lines += ["", "## What `mosim-identify` found", "",
                  "The factors it learned on the nominal model file's constants (1: the file's value), next to the "
                  "world's changes; a pair's friction moves only where the data slid on it "
                  f"([{path.name}]({path.name}) has them all).", ""]
        for system, entry in json.loads(path.read_text()).items():
            lines.append(f"- `{entry['world']}`:")
            for kind, by_name in entry["factors"].items():
                shown = ", ".join(f"{n} {f:.3g}" for n, f in by_name.items())
                lines.append(f"  - {kind}: {shown}")
            if system in NOTES:
                lines.append(f"  - {NOTES[system]}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
