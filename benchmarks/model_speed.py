"""Speed of the learned simulator, measured in one run on this machine.

1. Training throughput (samples/s, one torch thread, batch 512, one-step loss) of our default
   structured model, the plain one-step network, and the original's recipe (the same structured
   network integrated by adaptive dopri5 with adjoint gradients).
2. Batched open-loop rollout speed (model steps/s, no gradients, float32, both cores) at batch 1,
   256 and 4096, against MuJoCo stepping the same system on the same two cores (batch 1: a Python
   loop of mj_step; larger batches: ``mujoco.rollout`` with two threads).
3. Time to equal accuracy: our default recipe and the original's recipe trained side by side for the
   same wall-clock budget (one thread each) on reacher-easy; the speed-up is the ratio of the times
   at which each first reached the original recipe's best validation error.

    python benchmarks/model_speed.py              # writes results/model_speed.{md,csv}
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
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
from mosim.models import build_model
from mosim.models.normalization import compute_normalization
from mosim.presets import get_preset
from mosim.training.losses import trajectory_loss
from mosim.training.windows import WindowSampler

SYSTEMS = ("reacher-easy", "cheetah-run")


def recipes(system: str) -> dict:
    base = get_preset(system).model
    return {"mosim default": base, "plain one-step network": replace(base, kind="plain_delta"),
            "original recipe (dopri5 + adjoint)": replace(base, integrator="dopri5", adjoint=True)}


def train_throughput(ds, config, seconds: float = 8.0) -> float:
    torch.set_num_threads(1)
    stats = compute_normalization(ds, limit_features=config.limit_features)
    model = build_model(ds.spec, config, stats)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    sampler = WindowSampler(ds, "train", torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    qs, vs = stats.delta_q.std.float(), stats.delta_v.std.float()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        b = sampler.sample(512, 1, gen)
        q, v = model.rollout(b.qpos[:, 0], b.qvel[:, 0], b.action)
        loss = trajectory_loss(ds.spec.layout, q, v, b.qpos, b.qvel, qs, vs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        n += 512
    return n / (time.perf_counter() - t0)


@torch.no_grad()
def model_rollout_speed(ds, config, batch: int, steps: int = 100) -> float:
    torch.set_num_threads(2)
    model = build_model(ds.spec, config, compute_normalization(ds, limit_features=config.limit_features))
    idx = np.arange(batch) % ds.n_episodes
    q0 = torch.tensor(ds.qpos[idx, 0], dtype=torch.float32)
    v0 = torch.tensor(ds.qvel[idx, 0], dtype=torch.float32)
    a = torch.tensor(ds.action[idx, :steps], dtype=torch.float32)
    model.rollout(q0[:1], v0[:1], a[:1, :5])  # warm-up
    t0 = time.perf_counter()
    model.rollout(q0, v0, a)
    return batch * steps / (time.perf_counter() - t0)


def mujoco_speed(system_id: str, batch: int, steps: int = 100) -> float:
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
    datas = [mujoco.MjData(m) for _ in range(2)]
    ctrl_k = np.repeat(ctrl, k, axis=1)
    t0 = time.perf_counter()
    mj_rollout.rollout(m, datas, np.tile(state0, (batch, 1)), ctrl_k)
    return batch * steps / (time.perf_counter() - t0)


def time_to_accuracy(data: str, minutes: float, root: Path) -> dict:
    runs = {"ours": [], "original": ["--integrator", "dopri5", "--loss", "one_step"]}
    procs = []
    for name, extra in runs.items():
        cmd = [sys.executable, "-m", "mosim.cli", "train", "--data", data, "--preset", "reacher", "--budget-min",
               str(minutes), "--out", str(root / name), "--threads", "1", "--quiet", "--no-score", *extra]
        if name == "original":
            cmd += ["--adjoint"]
        if not (root / name / "best.pt").exists() or not (root / name / "done").exists():
            procs.append((name, subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"})))
    for name, p in procs:
        p.wait()
        (root / name / "done").write_text("")
    logs = {n: list(csv.DictReader(open(root / n / "log.csv"))) for n in runs}
    target = min(float(r["val_mse"]) for r in logs["original"])

    def first_time(log: list[dict]) -> tuple[float, int]:
        for r in log:
            if float(r["val_mse"]) <= target:
                return float(r["elapsed_s"]), int(r["samples"])
        return float("inf"), -1

    t_ours, s_ours = first_time(logs["ours"])
    t_orig, s_orig = first_time(logs["original"])
    return {"target_val_mse": target, "ours_s": t_ours, "ours_samples": s_ours, "original_s": t_orig,
            "original_samples": s_orig, "speedup": t_orig / t_ours,
            "ours_final": min(float(r["val_mse"]) for r in logs["ours"])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/model_speed")
    p.add_argument("--data-root", default="data")
    p.add_argument("--minutes", type=float, default=6.0, help="budget of each time-to-accuracy run")
    args = p.parse_args()
    lines = ["# Speed of the learned simulator", "",
             f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), PyTorch {torch.__version__}, MuJoCo "
             f"{mujoco.__version__}; {date.today()}. Regenerate: `python benchmarks/model_speed.py`.", ""]
    rows = []
    lines += ["## Training throughput (samples/s, one thread, batch 512)", "", "| system | recipe | samples/s |",
              "|---|---|---|"]
    for system in SYSTEMS:
        ds = mosim.load_dataset(Path(args.data_root) / f"{system}-random.h5")
        for name, cfg in recipes(system).items():
            sps = train_throughput(ds, cfg)
            rows.append({"kind": "train", "system": system, "recipe": name, "value": sps})
            lines.append(f"| {system} | {name} | {sps:,.0f} |")
            print(rows[-1], flush=True)
    lines += ["", "## Batched rollout speed (model steps/s, 100-step rollouts, two cores)", "",
              "| system | batch | mosim default | MuJoCo | ratio |", "|---|---|---|---|---|"]
    for system in SYSTEMS:
        ds = mosim.load_dataset(Path(args.data_root) / f"{system}-random.h5")
        cfg = recipes(system)["mosim default"]
        for batch in (1, 256, 4096):
            ours = model_rollout_speed(ds, cfg, batch)
            ref = mujoco_speed(system, batch)
            rows.append({"kind": "rollout", "system": system, "recipe": f"batch {batch}", "value": ours, "mujoco": ref})
            lines.append(f"| {system} | {batch} | {ours:,.0f} | {ref:,.0f} | {ours / ref:.2f}x |")
            print(rows[-1], flush=True)
    tta = time_to_accuracy(str(Path(args.data_root) / "reacher-easy-random.h5"), args.minutes,
                           Path("runs/model_speed"))
    rows.append({"kind": "time_to_accuracy", "system": "reacher-easy", "recipe": "ours vs original", "value": tta["speedup"]})
    lines += ["", f"## Time to equal accuracy (reacher-easy, {args.minutes:g} min each, side by side)", "",
              f"The original recipe's best validation rollout error (100 steps) was {tta['target_val_mse']:.3g}, "
              f"reached after {tta['original_s'] / 60:.1f} min ({tta['original_samples']:,} samples). Our default "
              f"reached it after {tta['ours_s'] / 60:.2f} min ({tta['ours_samples']:,} samples): "
              f"**{tta['speedup']:.1f}x faster** in wall-clock time; its own best was {tta['ours_final']:.3g}.", ""]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["kind", "system", "recipe", "value", "mujoco"])
        w.writeheader()
        w.writerows(rows)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
