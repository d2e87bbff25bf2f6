"""Imagined against real environment steps per second, on the same machine and in the same process.

    python benchmarks/rl_speed.py                         # reacher-easy and cheetah-run, one thread
    python benchmarks/rl_speed.py --systems go2 --seconds 5

Real: :class:`mosim.rl.RealEnv` (MuJoCo steps, the task's observation and reward), one env, random actions.
Imagined: :class:`mosim.rl.MosimVecEnv` of the pretrained model with N envs stepped in one model call (the
task's observation and reward of each predicted state included), random actions. Reported: env steps per
second summed over the envs, and the ratio to the real env. Writes results/rl_speed.md and .csv.
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch


def rate(step, seconds: float) -> float:
    """Calls of ``step() -> n steps`` per second over about ``seconds``."""
    step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        n += step()
    return n / (time.perf_counter() - t0)


def measure(system: str, batches: list[int], seconds: float) -> list[dict]:
    import mosim
    from mosim.rl import MosimVecEnv
    from mosim.rl.real_env import RealEnv

    sim = mosim.load(system, device="cpu")
    rng = np.random.default_rng(0)
    real = RealEnv(sim.spec)
    real.reset(seed=0)
    low, high = real.action_space.low, real.action_space.high

    def real_step() -> int:
        _, _, term, trunc, _ = real.step(rng.uniform(low, high))
        if term or trunc:
            real.reset()
        return 1

    base = rate(real_step, seconds)
    rows = [{"system": system, "env": "real (MuJoCo)", "n_envs": 1, "steps_per_s": base, "ratio": 1.0}]
    for n in batches:
        venv = MosimVecEnv(sim, n, seed=0)
        venv.reset()

        def imagined_step() -> int:
            venv.step(rng.uniform(low, high, size=(n, len(low))))
            return n

        r = rate(imagined_step, seconds)
        rows.append({"system": system, "env": "imagined (mosim)", "n_envs": n, "steps_per_s": r, "ratio": r / base})
        venv.close()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--systems", nargs="+", default=["reacher-easy", "cheetah-run"])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 16, 256])
    p.add_argument("--seconds", type=float, default=4.0, help="measuring time per row")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("results"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = [r for s in args.systems for r in measure(s, args.batches, args.seconds)]
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "rl_speed.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    lines = ["| system | env | envs per call | env steps/s | vs real |", "|---|---|---|---|---|"]
    lines += [f"| {r['system']} | {r['env']} | {r['n_envs']} | {r['steps_per_s']:,.0f} | {r['ratio']:.2f}x |"
              for r in rows]
    (args.out / "rl_speed.md").write_text(
        f"# Imagined vs real environment steps per second\n\n"
        f"One process, {args.threads} torch thread(s), {platform.machine()} CPU (2 cores), {date.today()}; random "
        f"actions; the pretrained models; observation and reward of every step included.\n"
        f"Regenerate: `python benchmarks/rl_speed.py --threads {args.threads}`.\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
