"""Batched prediction: 256 start states, one call of the learned simulator, compared with MuJoCo.

    python examples/batched_rollout.py --model runs/reacher/best.pt
    python examples/batched_rollout.py --model runs/cheetah/best.pt --n 1024 --steps 200 --device cuda
    python examples/batched_rollout.py --tiny      # no checkpoint: trains a throwaway tiny model first

The start states are the system's own random initial states (``system.reset(seed)``), the actions random
within the bounds; MuJoCo steps each of the N trajectories one after the other, mosim predicts all of them
in one batched ``rollout`` (numpy in, numpy out; torch tensors work too and stay differentiable).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import mosim
from mosim.render import random_actions


def tiny_model(folder: Path) -> Path:
    """A throwaway reacher-easy model trained for a few seconds (for trying the script without a checkpoint)."""
    from mosim.presets import get_preset
    from mosim.training.trainer import train

    data = mosim.load_dataset(mosim.collect(mosim.CollectConfig(system="reacher-easy", out=str(folder / "data.h5"),
                                                                episodes=6, steps=60, workers=1), progress=False))
    preset = get_preset("tiny", val_every_steps=15)
    return train(data, preset.model, preset.train_config(max_steps=30, val_windows=8), folder / "run",
                 progress=False).best_path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="checkpoint (best.pt); --tiny without it trains a throwaway one")
    p.add_argument("--n", type=int, default=256, help="start states (the batch)")
    p.add_argument("--steps", type=int, default=100, help="steps predicted open loop")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tiny", action="store_true", help="seconds: 20 steps, and a throwaway model if none is given")
    args = p.parse_args()
    torch.set_num_threads(1)
    steps = min(args.steps, 20) if args.tiny else args.steps

    throwaway = args.model is None
    with tempfile.TemporaryDirectory() as tmp:
        if throwaway:
            if not args.tiny:
                p.error("pass --model runs/<run>/best.pt (or --tiny to try the script with a throwaway model)")
            print("no --model: training a throwaway tiny reacher-easy model (a few seconds; not accurate)")
            args.model = tiny_model(Path(tmp))
        sim = mosim.load(args.model, device=args.device)
        print(sim)

        # The system of the checkpoint (same robot, same model step) gives start states and MuJoCo's truth.
        system = mosim.make_system(sim.spec.system_id, substeps=sim.spec.substeps)
        starts = [system.reset(seed=args.seed + i) for i in range(args.n)]
        qpos0 = np.stack([q for q, _ in starts])  # (N, nq)
        qvel0 = np.stack([v for _, v in starts])  # (N, nv)
        # random actions within the bounds, the ones `mosim render --seed S` uses for the start state of seed S
        actions = np.stack([random_actions(system, steps, seed=args.seed + i) for i in range(args.n)])  # (N, T, nu)

        t0 = time.perf_counter()
        qpos, qvel = sim.rollout(qpos0, qvel0, actions)  # (N, T+1, nq), (N, T+1, nv): one batched call
        t_model = time.perf_counter() - t0

        t0 = time.perf_counter()
        true_q = np.empty_like(qpos)
        true_v = np.empty_like(qvel)
        for i in range(args.n):
            system.set_state(qpos0[i], qvel0[i])
            true_q[i, 0], true_v[i, 0] = qpos0[i], qvel0[i]
            for t in range(steps):
                true_q[i, t + 1], true_v[i, t + 1] = system.step(actions[i, t])
        t_mujoco = time.perf_counter() - t0

    n_steps = args.n * steps
    print(f"{args.n} trajectories x {steps} steps ({steps * sim.dt:.2f} s each) of {sim.spec.system_id}:")
    print(f"  mosim : {t_model:7.3f} s  ({n_steps / t_model:,.0f} steps/s, one batched call on {sim.device})")
    print(f"  MuJoCo: {t_mujoco:7.3f} s  ({n_steps / t_mujoco:,.0f} steps/s, one step at a time)")
    err = (np.concatenate([qpos, qvel], -1) - np.concatenate([true_q, true_v], -1)) ** 2  # (N, T+1, nq+nv)
    print("open-loop error (MSE over trajectories and state entries; median trajectory in brackets):")
    for h in sorted({1, min(10, steps), steps}):
        per_traj = err[:, h].mean(-1)
        print(f"  after {h:>4} steps: {per_traj.mean():.4g}  [{np.median(per_traj):.4g}]")
    worst = int(np.argmax(err[:, -1].mean(-1)))
    print(f"worst trajectory: #{worst} (start state and actions of seed {args.seed + worst})")
    if not throwaway:
        print(f"see it next to MuJoCo: mosim render --model {args.model} --seed {args.seed + worst} --steps {steps}")


if __name__ == "__main__":
    main()
