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
from time_to_accuracy import time_to_accuracy  # noqa: E402

SYSTEMS = ("reacher-easy", "cheetah-run")
ROLLOUT_SYSTEMS = ("reacher-easy", "cheetah-run", "go2", "humanoid-walk")
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


ACTIVATION_ACCURACY = (
    "Accuracy does not suffer from the switch. Trained 5 minutes each with the presets, side by side on one core each "
    "(`mosim train --data data/<system>-random.h5 --budget-min 5 --activation silu|softplus`, 2026-11-26), the "
    "100-step test errors were:\n\n"
    "- reacher-easy: SiLU 2.07e-4 [1.38e-4, 2.87e-4] on 14.3M samples, softplus 1.93e-4 [1.18e-4, 2.75e-4] on "
    "12.9M;\n"
    "- cheetah-run: SiLU 0.354 [0.335, 0.372] on 5.4M samples, softplus 0.357 [0.339, 0.374] on 4.9M. At 3 steps "
    "SiLU was lower: 0.023 against 0.034.\n\n"
    "A longer run agreed (cheetah-run, 30 minutes on its large file, SiLU with the compiled training step: 0.158 "
    "against softplus 0.168; results/accuracy.md), "
    "so on 2026-11-27 the reacher and cheetah presets moved to SiLU (the humanoid's had that morning) and their "
    "benchmark rows and pretrained models were retrained with it. Pairs on the other systems followed (results/"
    "accuracy.md, \"Softplus against SiLU\"), and SiLU became every model's default.")
"""measured by hand (one-off runs with the commands given), shown under the activation table"""

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


COMPILE_NOTE = (
    "Since the evening of 2026-12-07 a compiled model that solves its contacts (cheetah-run, go2, humanoid-walk "
    "above) is compiled in two graphs (`Simulator.compile(part=\"auto\")`): batches of up to 16 states step "
    "through the whole step's graph, wider ones through a graph of the step's forces (the networks, the kinematics, "
    "M(q), the bias forces), the contact solve eager, as uncompiled: rows for the contacts that touch, each state's "
    "iterations stopped at convergence. The whole step's graph, with every candidate's rows and every iteration, ran "
    "slower than the eager step at batch 4096 (cheetah-run 63k steps/s against 75k, the pretrained model, 20-step "
    "rollouts, two threads), the forces' graph 123k; at batch 1 the whole step's graph ran 2x the forces' on "
    "cheetah-run (1,032 against 520 steps/s) and 1.5x on the Go2 (258 against 171). Compiling the cones' Newton "
    "step too, with symbolic shapes, gained 1.3x on the Go2 at batch 4096 but recompiled as the number of states "
    "still iterating changed (7 steps/s at batch 1), so it stays eager. The same evening the eager step computes "
    "the bodies' kinematics and centres of mass once for M(q) and the bias forces, and writes out the cross "
    "products of their Jacobians' columns (4.7x faster than `torch.linalg.cross` on them): 1.14x the eager steps "
    "per second on cheetah-run at batch 4096 (85k against 74k, the pretrained model), 1.08x on the Go2, 1.21x on "
    "the humanoid (one-off, two threads). The rows above are of untrained models at their presets' start, which "
    "for the Go2 converges in fewer Newton iterations than the pretrained model (16k steps/s eager at batch 4096 "
    "against 10k). Outrunning MuJoCo on cheetah-run with its contacts solved is out of reach on these two cores: "
    "the forces' graph and the networks alone take about 12 ms of a batch-4096 step, MuJoCo its whole step in 11.")
"""measured by hand (one-off runs), shown under the rollout table"""

SPLIT_NOTE = (
    "Splitting the batch instead of each operation, two halves rolled out at once on two threads with one PyTorch "
    "thread each (as `mujoco.rollout` splits its batch), does not pay on a quiet machine: compiled, batch 4096, "
    "reacher-easy 437k steps/s against 657k for one call on two threads, cheetah-run 139k against 118k to 134k "
    "(one-off measurement, 2026-11-27). The models' steps are bound by their matrix products, which MKL already "
    "spreads over both cores. It only wins when the cores are busy with other work (compiled 1.4x to 2x the steps "
    "per second while two RL trainings ran), where one thread per rollout is the better setting anyway.")
"""measured by hand (one-off runs), shown under the rollout table"""

TAIL_NOTE = (
    "The compiled rows use mosim's inductor settings (`mosim.integrators.INDUCTOR_OPTIONS`), which turn off "
    "inductor's tail-loop vectorization. With PyTorch's default the compiled cheetah-run step ran no faster than the "
    "eager one at batch 4096 (182k steps/s against 178k): one generated kernel, the inverse inertia `L Lᵀ` applied "
    "to the force (9 velocities), took 5 to 6 ms of the step's 25 ms, against 0.25 ms eager; the same kernel is "
    "slow for 8 to 12 velocities and fine below or above. Without it: cheetah-run 276k (1.5x), reacher-easy 1.18M "
    "against 1.14M, go2 123k against 116k, humanoid-walk 151k against 148k (timed in alternation, one-off "
    "measurement, 2026-11-27); the compiled training step's throughput did not change. Then the contact features' "
    "3 x 3 rotations, compiled as products and sums that fuse with the pointwise work around them instead of one "
    "small matrix product each (`mosim.models.contact`; eager keeps `@`, twice as fast there), took the compiled "
    "batch-4096 rollout of cheetah-run from 276k to 346k steps/s and go2's from 122k to 139k (the rows above).")
"""measured by hand (one-off runs), shown under the rollout table"""

GPU_BATCHES = (256, 4096, 65536)
GPU_NOTE = ("Eager, a rollout step costs about the same at batch 256 as at 4096 (PyTorch launches the same kernels, "
            "each far from filling the card), so throughput grows with the batch until the card is full. Compiling "
            "fuses those kernels: 1.7x to 2.9x the eager steps at batch 256 and 4096, 1.1x to 2.0x at 65536, where "
            "the card is busy with the arithmetic. Compilation took 8 s (reacher) to 51 s (go2) on that machine, once "
            "per model: `mosim.load(..., device='cuda').compile(dynamic=True)`, where `dynamic=True` makes the batch "
            "size symbolic, so a new batch size does not compile again. MuJoCo's rows at the "
            "widest batch roll out 15 steps (its throughput is steady after a few; go2 and the humanoid start with "
            "different contacts than at 100 steps, which moves their MuJoCo rows). For many parallel environments "
            "(RL, planning), batch wide and compile.")
"""measured by hand on a CUDA machine, shown under the GPU table"""


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


CONTACT_SOLVE_NOTE = (
    "Cheetah-run's preset since 2026-12-06 adds MuJoCo's own work to its step: M(q) computed from the bodies' "
    "inertias, and the floor contacts solved by Newton's method, each iteration a batched Cholesky factorization "
    "(docs/concepts.md). That made its 100-step error 3.4x lower at equal training time (0.0618 against 0.186 in 10 "
    "minutes; results/accuracy.md) and, as first written, its rollout 4.5x slower: at batch 4096 44k steps/s eager "
    "and 76k compiled, against 201k and 346k for the preset before (2026-11-28), and its training 16k samples/s "
    "against 27k. Since the evening of 2026-12-06 the eager step makes contact rows only for as many candidate points "
    "as touch the floor at once in the batch (4 or 5 of cheetah's 16 at batch 4096), stops Newton's iterations once "
    "the set of pushing rows repeats (after 2 or 3 of 4), solves with the computed M instead of inverting M⁻¹ back, "
    "and computes M as one matrix product per state: 110k steps/s eager at batch 4096 (2.5x) and 1.6x the training "
    "throughput, with predictions equal to rounding (100-step rollouts of the pretrained model within 1e-4 on "
    "velocities of up to 16). A compiled step keeps every candidate's rows and runs every iteration (a graph of fixed "
    "shapes); since the solve allows up to eight (one hopper state with contacts between its own bodies needed more "
    "than four) the whole step's compiled rows fell from 87k to 65k steps/s at batch 4096 and from 79k to 57k at 256: at "
    "batch 4096 the eager step is now the faster on this CPU. Solving cheetah's 19 pairs of its own geoms, which "
    "never touch in its data, cost 1.4x eager (78k) and 1.7x compiled (39k), so its preset leaves them out. "
    "Humanoid-walk's preset since 2026-12-07 does the same work for 27 dofs: M(q) computed, its floor contacts and "
    "the contacts between its 142 pairs of its own geoms solved with its limits. Its 100-step error fell from 8.24 "
    "to 3.90 at 5 minutes (docs/benchmarks.md), and its batch-4096 rollout from 121k steps/s eager and 148k compiled "
    "(7.1x and 8.7x MuJoCo's) to 12k and 2.1k (0.67x and 0.12x): MuJoCo solves those contacts in C, "
    "sparse, a few at a time, where the compiled step makes every pair's rows and runs all eight Newton iterations. "
    "Since 2026-12-07 each state of the eager solve stops once its own pushing rows repeat, and the later iterations "
    "run only on the states still changing (a few of a humanoid batch's states changed for all eight): humanoid-walk "
    "17.8k steps/s eager at batch 4096 against 11.7k (1.5x; 1.0x MuJoCo), cheetah-run 123k against 108k. "
    "Go2's preset since 2026-12-07 solves its floor contacts on MuJoCo's "
    "elliptic cones (six rows per contact, Newton's method with a line search, up to 30 iterations; "
    "mosim.models.cones; its joints' dry friction in the same solve), with M(q) computed: its 100-step error fell "
    "from 0.198 to 0.0420 at 5 minutes "
    "(docs/benchmarks.md), and its rollout, measured the same day with the new pretrained model (one-off, two "
    "threads): 151 steps/s eager and 342 compiled at batch 1, 9.5k and 1.2k at 256 (0.20x and 0.03x MuJoCo's 47k), "
    "7.0k eager at 4096 (0.14x MuJoCo's 49k; 7.5k with the dry friction rows, a 20-step rollout); in training it "
    "drew 1.4M samples in 5 minutes against 4.7M before. The solve takes about 7 Newton iterations per state "
    "there; MuJoCo's own Newton solver takes 5.3 on the same data states from its unconstrained acceleration (4.9 "
    "warm-started from the step before, which gave ours 6.6 against 7.1), so the gap is each iteration's cost, dense "
    "and batched against MuJoCo's sparse C. "
    "Since the evening of 2026-12-07 the humanoid's and the Panda's presets compute their bias forces too (Coriolis, "
    "centrifugal, gravity: a recursive Newton-Euler pass over the same kinematics, mosim.models.bias), which took "
    "the humanoid's 100-step error from 3.90 to 0.421 at 5 minutes; its rollout runs 0.82x the speed of the model "
    "without them (batch 1024, one thread, timed in alternation; the rows above are of the preset with them). "
    "For speed over accuracy, train without the solve (`mosim train --no-contact-constraints --no-known-inertia`).")
"""the cost of cheetah-run's contact solve, measured 2026-12-06 against the rows of 2026-11-28, and what made it
cheaper"""

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
                  " " + COMPILE_NOTE + " The compiled step "
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
                  f"{t['original_s'] / 60:.1f} min ({t['original_samples']:,} samples). mosim's default recipe reached "
                  f"that error after {t['ours_s'] / 60:.2f} min ({t['ours_samples']:,} samples): **{t['speedup']:.1f}x "
                  f"faster** in wall-clock time (a lower bound: both validate every {every} steps, {every * 512:,} "
                  f"samples); its own best in the same budget was {t['ours_final']:.3g}. The two runs trained side by "
                  f"side, one core each (`--val-every {every}`)."]
        if "ours_samples_fine" in t:
            lines[-1] += (f" Trained again, validated after every step ({t['fine_val_every'] * 512:,} samples) until "
                          f"it reached that error, mosim's recipe needed {t['ours_samples_fine']:,} samples: "
                          f"**{t['original_samples'] / t['ours_samples_fine']:.1f}x fewer** than the original recipe "
                          f"({t['original_samples']:,}, when its best was validated).")
        else:
            lines[-1] += f" In samples: {t['original_samples'] / t['ours_samples']:.1f}x (a lower bound, as above)."
        lines += [lines.pop() + " " + measured(t), ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
