"""What running the networks' hidden layers in bfloat16 buys and costs (``Simulator.set_hidden_dtype``).

1. Speed: the compiled batch-256 and batch-4096 rollouts of each default model (the sizes of
   results/model_speed.md, float32 against bfloat16 residual blocks) and MuJoCo's ``mujoco.rollout`` on the same
   two cores, timed in alternation (median of three rounds).
2. Accuracy: every pretrained model scored on the benchmark's test windows (results/prediction.md's protocol:
   horizons 3, 16 and 100, 1000 windows each) in float32 and with bfloat16 blocks.

    python benchmarks/precision.py                          # both parts, every system; resumes
    python benchmarks/precision.py --parts speed --systems cheetah-run
    python benchmarks/precision.py --report-only            # rebuild results/precision.md

Each system's rows are kept in results/precision/<part>.json with the date measured; a run replaces only the
systems it measures.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
from datetime import date
from pathlib import Path

import mujoco
import torch

import mosim
from mosim import pretrained
from mosim.benchmark.scoring import score
from mosim.loading import Simulator
from mosim.models import build_model

sys.path.insert(0, str(Path(__file__).parent))
from model_speed import ROLLOUT_SYSTEMS, default_model_inputs, mujoco_speed, rollout_speed  # noqa: E402

DTYPES = ("float32", "bfloat16")
BATCHES = (256, 4096)


def speed(data_root: Path, system: str, rounds: int = 3) -> list[dict]:
    """Compiled rollout steps/s of the default model with float32 and with bfloat16 blocks, and MuJoCo's, per
    batch, timed in alternation (median of ``rounds``); both models compiled once, up front."""
    torch.set_num_threads(2)
    ds, cfg, spec, stats = default_model_inputs(data_root, system)
    torch._dynamo.reset()
    torch.manual_seed(0)
    base = build_model(spec, cfg, stats)
    models = {name: Simulator(copy.deepcopy(base)).set_hidden_dtype(name).compile().model for name in DTYPES}
    rows = []
    for batch in BATCHES:
        runs: dict[str, list[float]] = {name: [] for name in (*DTYPES, "mujoco")}
        for _ in range(rounds):
            for name in DTYPES:
                runs[name].append(rollout_speed(models[name], ds, batch))
            runs["mujoco"].append(mujoco_speed(system, batch))
        rows.append({"system": system, "batch": batch, **{k: statistics.median(v) for k, v in runs.items()},
                     "date": str(date.today())})
        print(rows[-1], flush=True)
    return rows


def accuracy(data_root: Path, system: str) -> dict:
    """Test scores of the pretrained model of ``system`` in each precision."""
    torch.set_num_threads(2)
    ds = mosim.load_dataset(data_root / f"{system}-random.h5")
    row: dict = {"system": system, "date": str(date.today())}
    for name in DTYPES:
        sim = mosim.load(system, device="cpu", hidden_dtype=name)
        row[name] = {str(s.horizon): {"mse": s.mse, "ci": [s.ci_low, s.ci_high], "median": s.median}
                     for s in score(sim, ds)}
    print(system, {k: row[k]["100"] for k in DTYPES}, flush=True)
    return row


def _update(path: Path, rows: list[dict], systems: list[str]) -> list[dict]:
    kept = json.loads(path.read_text()) if path.exists() else []
    merged = sorted([r for r in kept if r["system"] not in systems] + rows,
                    key=lambda r: (r["system"], r.get("batch", 0)))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged, indent=1))
    os.replace(tmp, path)
    return merged


def _dates(rows: list[dict]) -> str:
    return ", ".join(sorted({r["date"] for r in rows}))


def bf16_units() -> str:
    """The CPU's bfloat16 instruction sets, as the page names them."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        flags = set()
    units = [name for flag, name in (("amx_bf16", "AMX"), ("avx512_bf16", "AVX-512 BF16")) if flag in flags]
    return " and ".join(units) if units else "no bfloat16 units"


def report(cache: Path, out: Path) -> str:
    lines = ["# bfloat16 hidden layers: speed and accuracy", "",
             "`mosim.load(name, hidden_dtype=\"bfloat16\")` (or `Simulator.set_hidden_dtype`) runs the residual blocks "
             "of the networks, most of a step's arithmetic, in bfloat16 under `torch.autocast`; the state, its "
             "integration, the input and output layers and the skip connections stay in float32. Machine: "
             f"{os.cpu_count()} CPU cores ({platform.machine()}, {bf16_units()}), PyTorch {torch.__version__}, "
             f"MuJoCo {mujoco.__version__}. Regenerate: `python benchmarks/precision.py`.", ""]
    if (cache / "speed.json").exists():
        rows = json.loads((cache / "speed.json").read_text())
        lines += ["## Speed (compiled, 100-step rollouts, no gradients, two cores; steps/s)", "",
                  "| system | batch | float32 | bfloat16 blocks | MuJoCo (mujoco.rollout, 2 threads) | bfloat16 / float32 "
                  "| float32 / MuJoCo | bfloat16 / MuJoCo |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['system']} | {r['batch']} | {r['float32']:,.0f} | {r['bfloat16']:,.0f} | {r['mujoco']:,.0f} | "
                  f"{r['bfloat16'] / r['float32']:.2f}x | {r['float32'] / r['mujoco']:.2f}x | "
                  f"{r['bfloat16'] / r['mujoco']:.2f}x |" for r in rows]
        big = [r for r in rows if r["batch"] == max(BATCHES)]
        small = [r for r in rows if r["batch"] == min(BATCHES)]
        ahead = [r["system"] for r in big if r["bfloat16"] > r["mujoco"]]
        lines += ["", f"Measured {_dates(rows)}: the models of results/model_speed.md (default sizes, fresh weights, "
                  "the same weights in both precisions), compiled once each, then timed in alternation with MuJoCo "
                  f"(median of three rounds). At batch {max(BATCHES)} the bfloat16 blocks run "
                  f"{min(r['bfloat16'] / r['float32'] for r in big):.2f}x to "
                  f"{max(r['bfloat16'] / r['float32'] for r in big):.2f}x the float32 step, and the rollout outruns "
                  f"MuJoCo on {', '.join(ahead) or 'none'} of the {len(big)} systems. At batch {min(BATCHES)} they "
                  f"are slower ({min(r['bfloat16'] / r['float32'] for r in small):.2f}x to "
                  f"{max(r['bfloat16'] / r['float32'] for r in small):.2f}x): the products are too small for the "
                  "bfloat16 units to repay the conversions around them. Use bfloat16 for wide batches.", ""]
    if (cache / "accuracy.json").exists():
        rows = json.loads((cache / "accuracy.json").read_text())
        lines += ["## Accuracy of the pretrained models (test windows, raw qpos/qvel MSE)", "",
                  "| system | H=3 float32 | H=3 bfloat16 | H=100 float32 [95% CI] | H=100 bfloat16 [95% CI] | "
                  "H=100 bfloat16 / float32 | median window at H=100, float32 / bfloat16 |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            f, b = r["float32"], r["bfloat16"]
            lines.append(
                f"| {r['system']} | {f['3']['mse']:.3g} | {b['3']['mse']:.3g} | {f['100']['mse']:.3g} "
                f"[{f['100']['ci'][0]:.3g}, {f['100']['ci'][1]:.3g}] | {b['100']['mse']:.3g} "
                f"[{b['100']['ci'][0]:.3g}, {b['100']['ci'][1]:.3g}] | {b['100']['mse'] / f['100']['mse']:.2f}x | "
                f"{f['100']['median']:.3g} / {b['100']['median']:.3g} |")
        same = [r["system"] for r in rows if r["bfloat16"]["100"]["mse"] <= 1.05 * r["float32"]["100"]["mse"]]
        worse = [f"{r['system']} ({r['bfloat16']['100']['mse'] / r['float32']['100']['mse']:.2f}x)" for r in rows
                 if r["system"] not in same]
        lines += ["", f"Measured {_dates(rows)}: `mosim.load(system)` and `mosim.load(system, "
                  "hidden_dtype=\"bfloat16\")`, scored as in results/prediction.md. The 100-step error stays within "
                  f"5% of float32's on {', '.join(same)}; it grows on {', '.join(worse) or 'none'}. Rounding the "
                  "blocks' inputs and outputs to bfloat16 (8 bits of mantissa) adds an error per step that matters "
                  "only where the model's own error is that small: the models predicting to 1e-4 and below. "
                  "Rounding every product of the step instead (`torch.autocast` around the whole rollout, the "
                  "integration and the inertia `L Lᵀ` included) cost far more in a one-off check (2026-11-28, the "
                  "pretrained models of then): cheetah-run 0.284 against 0.212 at 100 steps, 0.047 against 0.0060 at "
                  "3; reacher-easy 3.1e-4 against 2.1e-4. Five of the pretrained models now start at their model "
                  "file's physics and keep that start as their best checkpoint (cheetah-run, hopper-hop, "
                  "humanoid-walk, panda, acrobot-swingup): their networks add nothing, in either precision.", ""]
    text = "\n".join(lines)
    out.write_text(text)
    return text


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="speed,accuracy", help="comma-separated: speed, accuracy")
    p.add_argument("--systems", nargs="+", help="default: the rollout systems (speed), every pretrained model "
                   "(accuracy)")
    p.add_argument("--data-root", default="data")
    p.add_argument("--out", default="results/precision")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    cache, root = Path(args.out), Path(args.data_root)
    cache.mkdir(parents=True, exist_ok=True)
    parts = set() if args.report_only else set(args.parts.split(","))
    if "speed" in parts:
        for system in args.systems or ROLLOUT_SYSTEMS:
            _update(cache / "speed.json", speed(root, system), [system])
    if "accuracy" in parts:
        for system in args.systems or pretrained.available():
            _update(cache / "accuracy.json", [accuracy(root, system)], [system])
    print(report(cache, cache.with_suffix(".md")))


if __name__ == "__main__":
    main()
