"""Speed of the learned simulator, measured in one run on this machine.

1. Training throughput (samples/s, one torch thread, batch 512, one-step loss) of our default
   structured model, the plain one-step network, and the original's recipe (the same structured
   network integrated by adaptive dopri5 with adjoint gradients).
2. Batched open-loop rollout speed (model steps/s, no gradients, float32, both cores) at batch 1,
   256 and 4096, against MuJoCo stepping the same system on the same two cores (batch 1: a Python
   loop of mj_step; larger batches: ``mujoco.rollout`` with two threads); eager and compiled
   (``Simulator.compile``, i.e. ``torch.compile``).
3. What a cheaper activation would buy: the batch-4096 rollout of the same models with SiLU networks instead of
   softplus, where the default is slower than MuJoCo (reacher, cheetah), timed in alternation.
4. Time to equal accuracy: our default recipe and the original's recipe trained side by side for the
   same wall-clock budget (one thread each) on reacher-easy; the speed-up is the ratio of the times
   at which each first reached the original recipe's best validation error.
5. On a CUDA machine (``--parts gpu``, not in the default): batched rollouts on the GPU at batch 256 to 65536
   against MuJoCo on all of that machine's CPU cores.

    python benchmarks/model_speed.py                       # everything; writes results/model_speed.{md,csv}
    python benchmarks/model_speed.py --parts tta --jobs 1  # only the time-to-accuracy runs, one at a time
    python benchmarks/model_speed.py --parts rollout --systems go2   # rollout rows of some systems (others kept)
    python benchmarks/model_speed.py --parts activation            # softplus against SiLU networks
    python benchmarks/model_speed.py --parts gpu --systems reacher-easy cheetah-run   # on a CUDA machine
    python benchmarks/model_speed.py --report-only                 # rebuild results/model_speed.md

Each part's numbers are kept in results/model_speed/<part>.json (committed), every row with the date it was measured;
a run of some parts (or of some systems of the rollout part) replaces only those, and the page is rebuilt from all of
them. The time-to-accuracy trainings run in runs/model_speed/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import mujoco
import numpy as np
import torch
from mujoco import rollout as mj_rollout

import mosim
from mosim.benchmark.recipes import BASELINE_INPUTS
from mosim.loading import Simulator
from mosim.models import build_model
from mosim.models.normalization import model_inputs
from mosim.presets import get_preset
from mosim.training.trainer import training_loss_fn
from mosim.training.windows import WindowSampler

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own modules
from model_speed_notes import (ACTIVATION_ACCURACY, COMPILE_NOTE, CONTACT_SOLVE_NOTE, GPU_NOTE,  # noqa: E402
                               SMALL_SYSTEMS_NOTE, SPLIT_NOTE, TAIL_NOTE, TTA_HISTORY)
from time_to_accuracy import time_to_accuracy  # noqa: E402

SYSTEMS = ("reacher-easy", "cheetah-run")
ROLLOUT_SYSTEMS = ("reacher-easy", "cheetah-run", "go2", "humanoid-walk", "acrobot-swingup", "cartpole-balance")
"""rollout speed also on the contact-rich robots, where MuJoCo's step costs most"""


def recipes(system: str) -> dict:
    base = get_preset(system).model
    return {"mosim default": base, "plain one-step network": replace(base, kind="plain_delta", **BASELINE_INPUTS),
            "original recipe (dopri5 + adjoint)": replace(base, integrator="dopri5", adjoint=True, limit_features=False,
                                                          **BASELINE_INPUTS)}


COMPILED = ("mosim default", "plain one-step network")
"""recipes also timed with the compiled training step (``mosim train --compile``)"""


def _train_step(ds, config, compile_: bool, inputs=None):
    """One training step (batch 512, one-step loss, Adam) of a fresh model, as a function; called twice here
    (the first call compiles). ``inputs``: the model's ``(spec, stats)`` if already computed (``model_inputs``)."""
    torch.set_num_threads(1)
    spec, stats = inputs or model_inputs(ds, config)
    if compile_:
        torch._dynamo.reset()
    model = build_model(spec, config, stats)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    sampler = WindowSampler(ds, "train", torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    loss_fn = training_loss_fn(model, stats.delta_q.std.float(), stats.delta_v.std.float(), compile_)

    def step() -> None:
        loss = loss_fn(sampler.sample(512, 1, gen))
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    step()
    return step


def _samples_per_s(step, seconds: float) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 512
    return n / (time.perf_counter() - t0)


def train_throughput(ds, config, seconds: float = 8.0) -> float:
    """Training samples per second (batch 512, one-step loss, Adam)."""
    return _samples_per_s(_train_step(ds, config, False), seconds)


def train_throughput_pair(ds, config, rounds: int = 4, seconds: float = 2.0) -> tuple[float, float]:
    """Samples per second of the eager and the compiled training step, timed in alternation (``rounds`` times
    ``seconds`` each), so that other load on the machine weighs on both alike."""
    steps = (_train_step(ds, config, False), _train_step(ds, config, True))
    totals = [0.0, 0.0]
    for _ in range(rounds):
        for i, step in enumerate(steps):
            totals[i] += _samples_per_s(step, seconds)
    return totals[0] / rounds, totals[1] / rounds


def default_model_inputs(data_root: Path, system: str):
    """The random-data dataset of ``system``, its default model config, and the spec and normalization statistics
    a model of that config is built from: what a rollout-speed measurement builds its model from."""
    ds = mosim.load_dataset(data_root / f"{system}-random.h5")
    cfg = recipes(system)["mosim default"]
    return ds, cfg, *model_inputs(ds, cfg)


def model_rollout_speed(ds, config, spec, stats, batch: int, steps: int = 100, compiled: bool = False,
                        device: str = "cpu") -> float:
    """Model steps per second of one ``batch``-wide rollout on ``device``; ``compiled``: :meth:`Simulator.compile`
    first (the compilation, at the warm-up, is not timed)."""
    torch.set_num_threads(2)
    model = build_model(spec, config, stats).to(device)
    return rollout_speed(compiled_afresh(model) if compiled else model, ds, batch, steps, device)


def compiled_afresh(model, **options):
    """``model`` with its step compiled (:meth:`Simulator.compile`), without the guards and cache entries of the
    models compiled before it."""
    torch._dynamo.reset()
    return Simulator(model).compile(**options).model


@torch.no_grad()
def rollout_speed(model, ds, batch: int, steps: int = 100, device: str = "cpu") -> float:
    """Steps per second of one ``batch``-wide, ``steps``-long rollout of ``model`` from the starts and actions of the
    dataset ``ds``, after two short warm-up rollouts (which compile a compiled step: not timed)."""
    idx = np.arange(batch) % ds.n_episodes
    q0 = torch.tensor(ds.qpos[idx, 0], dtype=torch.float32, device=device)
    v0 = torch.tensor(ds.qvel[idx, 0], dtype=torch.float32, device=device)
    a = torch.tensor(ds.action[idx, :steps], dtype=torch.float32, device=device)
    model.rollout(q0, v0, a[:, :3])  # warm-up (and compilation)
    model.rollout(q0, v0, a[:, :3])  # a second time: anything compiled again at a second call is not timed either
    _sync(device)
    t0 = time.perf_counter()
    model.rollout(q0, v0, a)
    _sync(device)
    return batch * steps / (time.perf_counter() - t0)


def _sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


ACTIVATION_SYSTEMS = ("reacher-easy", "cheetah-run")
"""the systems whose batch-4096 rollout trailed MuJoCo's with softplus networks (their presets now use SiLU)"""


def activation_speed(data_root: Path, system: str, rounds: int = 3) -> dict:
    """Batch-4096 rollout steps/s of the default model with its softplus networks and with SiLU networks of the same
    sizes, and of MuJoCo, timed in alternation (median of ``rounds``)."""
    import statistics

    ds, base, spec, stats = default_model_inputs(data_root, system)
    speeds: dict[str, list[float]] = {"softplus": [], "silu": [], "mujoco": []}
    for _ in range(rounds):
        for act in ("softplus", "silu"):
            speeds[act].append(model_rollout_speed(ds, replace(base, activation=act), spec, stats, 4096))
        speeds["mujoco"].append(mujoco_speed(system, 4096))
    row = {"system": system, **{k: statistics.median(v) for k, v in speeds.items()}}
    print(row, flush=True)
    return row


GPU_BATCHES = (256, 4096, 65536)


def gpu_rollout(data_root: Path, systems: list[str], out: Path | None = None) -> list[dict]:
    """Batched rollout speed of the default model on the CUDA device, eager and compiled (one compilation per system,
    with the batch size symbolic: ``Simulator.compile(dynamic=True)``), against MuJoCo's ``mujoco.rollout`` on all of
    the same machine's CPU cores. ``out``: a JSON file rewritten after every row, so that a run cut short keeps what
    it measured."""
    if not torch.cuda.is_available():
        raise SystemExit("--parts gpu needs a CUDA device")
    rows = []
    for system in systems:
        ds, cfg, spec, stats = default_model_inputs(data_root, system)
        eager = build_model(spec, cfg, stats).to("cuda")
        compiled = compiled_afresh(build_model(spec, cfg, stats).to("cuda"), dynamic=True)
        for batch in GPU_BATCHES:
            row = {"system": system, "batch": batch, "gpu": torch.cuda.get_device_name(),
                   "cpu_cores": os.cpu_count(), "torch": torch.__version__,
                   "mosim": rollout_speed(eager, ds, batch, device="cuda")}
            t0 = time.perf_counter()
            try:
                row["compiled"] = rollout_speed(compiled, ds, batch, device="cuda")
            except Exception as e:  # noqa: BLE001 - a failed compilation is a finding, not the end of the run
                row["compiled_error"] = f"{type(e).__name__}: {str(e)[:300]}"
            row["compile_and_time_s"] = time.perf_counter() - t0
            # MuJoCo's throughput is steady after a few steps: fewer of them at the widest batches
            row["mujoco"] = mujoco_speed(system, batch, steps=min(100, max(10, 1_000_000 // batch)),
                                         threads=os.cpu_count() or 1)
            rows.append(row)
            print(row, flush=True)
            if out is not None:
                out.write_text(json.dumps(rows, indent=1))
    return rows


def mujoco_speed(system_id: str, batch: int, steps: int = 100, threads: int = 2) -> float:
    """MuJoCo steps per second of the same system: batch 1 a Python loop of ``mj_step``, larger batches
    ``mujoco.rollout`` on ``threads`` threads."""
    s = mosim.make_system(system_id)
    m, d, k = s.model, s.data, s.substeps
    rng = np.random.default_rng(0)
    ctrl = rng.uniform(s.action_low, s.action_high, size=(batch, steps, s.nu))
    s.reset(0)
    if batch == 1:
        t0 = time.perf_counter()
        for t in range(steps):
            d.ctrl[:] = ctrl[0, t]
            mujoco.mj_step(m, d, k)
            _ = d.qpos.copy(), d.qvel.copy()
        return steps / (time.perf_counter() - t0)
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state0 = np.empty(mujoco.mj_stateSize(m, spec))
    mujoco.mj_getState(m, d, state0, spec)
    datas = [mujoco.MjData(m) for _ in range(threads)]
    ctrl_k = np.repeat(ctrl, k, axis=1)
    t0 = time.perf_counter()
    mj_rollout.rollout(m, datas, np.tile(state0, (batch, 1)), ctrl_k)
    return batch * steps / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/model_speed")
    p.add_argument("--data-root", default="data")
    p.add_argument("--minutes", type=float, default=6.0, help="budget of each time-to-accuracy run")
    p.add_argument("--parts", default="train,rollout,activation,tta",
                   help="comma-separated: train, rollout, activation, tta, gpu (on a CUDA machine; not in the default)")
    p.add_argument("--jobs", type=int, default=2, help="time-to-accuracy runs side by side")
    p.add_argument("--systems", nargs="+", default=list(ROLLOUT_SYSTEMS), help="systems of the rollout part")
    p.add_argument("--report-only", action="store_true", help="rebuild the page from the kept parts, measure nothing")
    args = p.parse_args()
    cache, runs = Path(args.out), Path("runs/model_speed")
    cache.mkdir(parents=True, exist_ok=True)
    parts = set() if args.report_only else set(args.parts.split(","))
    today = str(date.today())
    if "train" in parts:
        rows = []
        for system in SYSTEMS:
            ds = mosim.load_dataset(Path(args.data_root) / f"{system}-random.h5")
            for name, cfg in recipes(system).items():
                if name in COMPILED:
                    eager, compiled = train_throughput_pair(ds, cfg)
                    rows += [{"system": system, "recipe": name, "samples_per_s": eager, "date": today},
                             {"system": system, "recipe": f"{name}, compiled", "samples_per_s": compiled,
                              "date": today}]
                else:
                    rows.append({"system": system, "recipe": name, "samples_per_s": train_throughput(ds, cfg),
                                 "date": today})
                print(rows[-1], flush=True)
        (cache / "train.json").write_text(json.dumps(rows, indent=1))
    if "rollout" in parts:
        done = json.loads((cache / "rollout.json").read_text()) if (cache / "rollout.json").exists() else []
        rows = [r for r in done if r["system"] not in args.systems]
        for system in args.systems:
            ds, cfg, spec, stats = default_model_inputs(Path(args.data_root), system)
            for batch in (1, 256, 4096):
                rows.append({"system": system, "batch": batch, "mosim": model_rollout_speed(ds, cfg, spec, stats, batch),
                             "compiled": model_rollout_speed(ds, cfg, spec, stats, batch, compiled=True),
                             "mujoco": mujoco_speed(system, batch), "date": today})
                print(rows[-1], flush=True)
        order = {s: i for i, s in enumerate(dict.fromkeys([*ROLLOUT_SYSTEMS, *args.systems]))}
        rows.sort(key=lambda r: (order[r["system"]], r["batch"]))
        (cache / "rollout.json").write_text(json.dumps(rows, indent=1))
    if "gpu" in parts:
        rows = [{**r, "date": today} for r in gpu_rollout(Path(args.data_root), args.systems, cache / "gpu.json")]
        (cache / "gpu.json").write_text(json.dumps(rows, indent=1))
    if "activation" in parts:
        rows = [{**activation_speed(Path(args.data_root), system), "date": today} for system in ACTIVATION_SYSTEMS]
        (cache / "activation.json").write_text(json.dumps(rows, indent=1))
    if "tta" in parts:
        tta = time_to_accuracy(str(Path(args.data_root) / "reacher-easy-random.h5"), args.minutes, runs, args.jobs)
        tta.update(minutes=args.minutes)
        (cache / "tta.json").write_text(json.dumps(tta, indent=1))
    report(cache, Path(args.out))


def measured(rows: list[dict] | dict) -> str:
    """The dates a part's rows were measured, as the page says it."""
    rows = rows if isinstance(rows, list) else [rows]
    return "Measured " + ", ".join(sorted({str(r.get("date", "?")) for r in rows})) + "."


def _duration(seconds: float) -> str:
    return f"{seconds:.2g} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def report(cache: Path, out: Path) -> None:
    lines = ["# Speed of the learned simulator", "",
             f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), PyTorch {torch.__version__}, MuJoCo "
             f"{mujoco.__version__}. Regenerate: `python benchmarks/model_speed.py` (all parts; `--parts ...` and "
             "`--systems ...` rerun some, and the others keep their rows and dates, kept in "
             f"`{cache}/`).", ""]
    if (cache / "train.json").exists():
        lines += ["## Training throughput (samples/s, one thread, batch 512, one-step loss)", "",
                  "| system | recipe | samples/s |", "|---|---|---|"]
        train = json.loads((cache / "train.json").read_text())
        lines += [f"| {r['system']} | {r['recipe']} | {r['samples_per_s']:,.0f} |" for r in train]
        lines += ["", measured(train) + " Compiled: `mosim train --compile` (`TrainConfig.compile`), timed in alternation with the eager "
                  "step of the row above (four rounds of 2 s each), after the first steps, which compile (about a "
                  "minute here, counted against a training run's budget). Cheetah-run's model solves its contacts: "
                  "compiled, its forces are the graph and its solve runs eager (`mosim.integrators.compile_model`, "
                  "since 2026-12-07); compiled whole, every row and every Newton iteration in one graph, the same "
                  "training step ran 0.38x the eager one (8.9k samples/s against 23.3k, one-off, timed in "
                  "alternation with the forces' graph at 31.1k)."]
        lines.append("")
    if (cache / "rollout.json").exists():
        rollout = json.loads((cache / "rollout.json").read_text())
        lines += ["## Batched rollout speed (model steps/s, 100-step rollouts, no gradients, two cores)", "",
                  "| system | batch | mosim default | mosim compiled (`Simulator.compile`) | MuJoCo (batch 1: Python "
                  "mj_step loop; else mujoco.rollout, 2 threads) | mosim / MuJoCo | compiled / MuJoCo |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['system']} | {r['batch']} | {r['mosim']:,.0f} | {r.get('compiled', float('nan')):,.0f} | "
                  f"{r['mujoco']:,.0f} | {r['mosim'] / r['mujoco']:.2g}x | "
                  f"{r.get('compiled', float('nan')) / r['mujoco']:.2g}x |" for r in rollout]
        big = [r for r in rollout if r["batch"] == 4096]
        faster = [r["system"] for r in big if r.get("compiled", r["mosim"]) > r["mujoco"]]
        slower = [r["system"] for r in big if r["system"] not in faster]
        lines += ["", measured(rollout) + f" At batch 4096 mosim outruns MuJoCo on {', '.join(faster) or 'none'} and not on "
                  f"{', '.join(slower) or 'none'}: a model step costs its networks' arithmetic, about the same for "
                  "every robot, while MuJoCo's step grows with degrees of freedom and contacts. " + CONTACT_SOLVE_NOTE +
                  " " + SMALL_SYSTEMS_NOTE + " " + COMPILE_NOTE + " The compiled step "
                  f"(`mosim.load(..., compile=True)`, compiled once per batch shape) runs "
                  f"{min(r['compiled'] / r['mosim'] for r in rollout):.1f}x to "
                  f"{max(r['compiled'] / r['mosim'] for r in rollout):.1f}x the eager one, most at small batches, "
                  "where the eager step is bound by per-operation overhead.", "", TAIL_NOTE, "", SPLIT_NOTE, "",
                  "The same compiled rollouts with the networks' hidden layers in bfloat16 (`mosim.load(..., "
                  "hidden_dtype=\"bfloat16\")`), and what that costs in accuracy: [precision.md](precision.md)."]
        lines.append("")
    if (cache / "gpu.json").exists():
        gpu = json.loads((cache / "gpu.json").read_text())
        lines += [f"## On a GPU: {gpu[0]['gpu']} against MuJoCo on {gpu[0]['cpu_cores']} CPU cores", "",
                  "The same default models (float32, no gradients, 100-step rollouts, PyTorch "
                  f"{gpu[0]['torch']}) on one GPU, eager and compiled, against `mujoco.rollout` with one thread per "
                  "core of the same machine (on that machine: `python scripts/make_datasets.py --only "
                  f"{' '.join(dict.fromkeys(r['system'] for r in gpu))} --episodes 64`, then `python "
                  "benchmarks/model_speed.py --parts gpu --systems ...` with the same systems):", "",
                  "| system | batch | mosim eager (steps/s) | mosim compiled (steps/s) | MuJoCo, all CPU cores "
                  "(steps/s) | eager / MuJoCo | compiled / MuJoCo |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['system']} | {r['batch']} | {r['mosim']:,.0f} | {r.get('compiled', float('nan')):,.0f} | "
                  f"{r['mujoco']:,.0f} | {r['mosim'] / r['mujoco']:.2f}x | "
                  f"{r.get('compiled', float('nan')) / r['mujoco']:.2f}x |" for r in gpu]
        lines += ["", measured(gpu) + " " + GPU_NOTE, ""]
    if (cache / "activation.json").exists():
        lines += ["## Why the networks use SiLU (batch 4096, two cores)", "",
                  "Softplus, the presets' activation until 2026-11-27, costs about 4.7 ns per element on this CPU "
                  "against 1.3 ns for SiLU (one thread, 4096 x 128). The default models' sizes with each, eager, timed "
                  "in alternation (median of three rounds; `python benchmarks/model_speed.py --parts activation`):",
                  "", "| system | softplus | SiLU | MuJoCo | SiLU / softplus | SiLU / MuJoCo |",
                  "|---|---|---|---|---|---|"]
        act = json.loads((cache / "activation.json").read_text())
        lines += [f"| {r['system']} | {r['softplus']:,.0f} | {r['silu']:,.0f} | {r['mujoco']:,.0f} | "
                  f"{r['silu'] / r['softplus']:.2f}x | {r['silu'] / r['mujoco']:.2f}x |" for r in act]
        lines += ["", measured(act) + " " + ACTIVATION_ACCURACY, ""]
    if (cache / "tta.json").exists():
        t = json.loads((cache / "tta.json").read_text())
        every = t.get("val_every", 500)
        lines += [f"## Time to equal accuracy (reacher-easy, {t['minutes']:g} min of training each)", "",
                  f"The original recipe (the same networks, integrated by dopri5 with adjoint gradients, one-step loss; "
                  f"without the joint-limit features and without the limit solved, since dopri5 needs continuous "
                  f"dynamics) reached a best validation rollout error (100 steps) of {t['target_val_mse']:.3g} after "
                  f"{_duration(t['original_s'])} ({t['original_samples']:,} samples). mosim's default recipe reached "
                  f"that error after {_duration(t['ours_s'])} ({t['ours_samples']:,} samples): **{t['speedup']:.1f}x "
                  f"faster** in wall-clock time (a lower bound: both validate every {every} steps, {every * 512:,} "
                  f"samples); its own best in the same budget was {t['ours_final']:.3g}. The two runs trained side by "
                  f"side, one core each (`--val-every {every}`)" + (
                      f", both at the reacher preset's learning rate, {t['lr']:g}." if "lr" in t else ".")]
        if "ours_samples_fine" in t:
            lines[-1] += (f" Trained again, validated after every step ({t['fine_val_every'] * 512:,} samples) until "
                          f"it reached that error, mosim's recipe needed {t['ours_samples_fine']:,} samples: "
                          f"**{t['original_samples'] / t['ours_samples_fine']:.1f}x fewer** than the original recipe "
                          f"({t['original_samples']:,}, when its best was validated).")
            seeds = list(zip(t.get("fine_seeds", [])[1:], t.get("ours_samples_fine_seeds", [])[1:]))
            if seeds:
                lines[-1] += (" From other seeds: " + ", ".join(
                    f"{n:,} samples ({t['original_samples'] / n:.1f}x; seed {s})" for s, n in seeds) + ".")
        else:
            lines[-1] += f" In samples: {t['original_samples'] / t['ours_samples']:.1f}x (a lower bound, as above)."
        lines += [lines.pop() + " " + measured(t) + " " + TTA_HISTORY, ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
