"""Collection throughput: `mosim collect` against raw MuJoCo stepping of the same system, same run.

Baselines, one core each:
  * raw-python: a Python loop of ``data.ctrl = a; mj_step(model, data, substeps)`` recording qpos/qvel,
    with the actions drawn beforehand (the least a user's own collection script does);
  * raw-rollout: ``mujoco.rollout`` of the same actions in C, one thread (the upper bound).
mosim collect is timed end to end (resets, the random policy, writing parts, assembling the HDF5 file)
with 1 and 2 worker processes.

    python benchmarks/collect_throughput.py            # writes results/collect_throughput.{csv,md}
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import mujoco
import numpy as np
from mujoco import rollout

from mosim.data import CollectConfig, collect
from mosim.systems import make_system

SYSTEMS = {"cheetah-run": 150, "humanoid-walk": 16, "go2": 48}  # episodes of 1000 steps per measurement
STEPS = 1000


def raw_python(system_id: str, episodes: int) -> float:
    s = make_system(system_id)
    m, d, k = s.model, s.data, s.substeps
    rng = np.random.default_rng(0)
    actions = rng.uniform(s.action_low, s.action_high, size=(episodes, STEPS, s.nu))
    qpos = np.empty((STEPS + 1, s.nq))
    qvel = np.empty((STEPS + 1, s.nv))
    t0 = time.perf_counter()
    for e in range(episodes):
        s.reset(e)
        qpos[0], qvel[0] = d.qpos, d.qvel
        for t in range(STEPS):
            d.ctrl[:] = actions[e, t]
            mujoco.mj_step(m, d, k)
            qpos[t + 1] = d.qpos
            qvel[t + 1] = d.qvel
    return episodes * STEPS / (time.perf_counter() - t0)


def raw_rollout(system_id: str, episodes: int) -> float:
    s = make_system(system_id)
    m, d, k = s.model, s.data, s.substeps
    rng = np.random.default_rng(0)
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state0 = np.empty(mujoco.mj_stateSize(m, spec))
    t0 = time.perf_counter()
    for e in range(episodes):
        s.reset(e)
        mujoco.mj_getState(m, d, state0, spec)
        ctrl = np.repeat(rng.uniform(s.action_low, s.action_high, size=(STEPS, s.nu)), k, axis=0)
        rollout.rollout(m, d, state0, ctrl)
    return episodes * STEPS / (time.perf_counter() - t0)


def mosim_collect(system_id: str, episodes: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = CollectConfig(system=system_id, out=os.path.join(tmp, "d.h5"), episodes=episodes, steps=STEPS,
                            workers=workers)
        t0 = time.perf_counter()
        collect(cfg, progress=False)
        return episodes * STEPS / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/collect_throughput")
    parser.add_argument("--repeats", type=int, default=3, help="best of N for every measurement")
    args = parser.parse_args()
    rows = []
    for system_id, episodes in SYSTEMS.items():
        best = lambda f, *a: max(f(system_id, episodes, *a) for _ in range(args.repeats))  # noqa: E731
        r = {
            "system": system_id,
            "raw_python_per_s": best(raw_python),
            "raw_rollout_per_s": best(raw_rollout),
            "mosim_1_worker_per_s": best(mosim_collect, 1),
            "mosim_2_workers_per_s": best(mosim_collect, 2),
        }
        r["mosim_1w_vs_raw_python"] = r["mosim_1_worker_per_s"] / r["raw_python_per_s"]
        r["mosim_1w_vs_raw_rollout"] = r["mosim_1_worker_per_s"] / r["raw_rollout_per_s"]
        r["speedup_2_workers"] = r["mosim_2_workers_per_s"] / r["mosim_1_worker_per_s"]
        rows.append(r)
        print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    lines = [
        "# Collection throughput",
        "",
        f"Transitions (model steps) per second, random policy, episodes of {STEPS} steps, best of {args.repeats}.",
        f"Machine: {os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, MuJoCo {mujoco.__version__}; {date.today()}.",
        "Regenerate: `python benchmarks/collect_throughput.py`.",
        "",
        "| system | raw MuJoCo, Python loop (1 core) | raw MuJoCo, `mujoco.rollout` (1 core) | mosim collect, 1 worker | vs Python loop | vs rollout | mosim collect, 2 workers | 2-worker speed-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['system']} | {r['raw_python_per_s']:,.0f} | {r['raw_rollout_per_s']:,.0f} | "
            f"{r['mosim_1_worker_per_s']:,.0f} | {r['mosim_1w_vs_raw_python']:.2f}x | {r['mosim_1w_vs_raw_rollout']:.2f}x | "
            f"{r['mosim_2_workers_per_s']:,.0f} | {r['speedup_2_workers']:.2f}x |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
