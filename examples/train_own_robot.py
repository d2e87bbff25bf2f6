"""Your own robot, end to end: an MJCF file -> collect random-action data -> train a simulator -> roll it out.

    python examples/train_own_robot.py                          # the two-link arm of tests/fixtures
    python examples/train_own_robot.py --mjcf my_robot.xml --budget-min 10
    python examples/train_own_robot.py --tiny                   # a few seconds: checks that everything runs

Everything goes under --out (default runs/own_robot): data.h5, the run folder with best.pt, and the
command that renders the prediction next to MuJoCo. The same steps from the shell:

    mosim collect --mjcf my_robot.xml --episodes 50 --steps 500 --out runs/own_robot/data.h5
    mosim train --data runs/own_robot/data.h5 --preset small --budget-min 10 --out runs/own_robot/run
    mosim render --model runs/own_robot/run/best.pt --data runs/own_robot/data.h5 --out runs/own_robot/video.mp4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import mosim
from mosim.presets import get_preset
from mosim.training.trainer import train

DEFAULT_ROBOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "two_link_arm.xml"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mjcf", default=str(DEFAULT_ROBOT), help="the robot's MJCF (MuJoCo XML) file")
    p.add_argument("--out", default="runs/own_robot", help="folder for the data, the run and the video")
    p.add_argument("--episodes", type=int, default=60, help="episodes to collect")
    p.add_argument("--steps", type=int, default=500, help="model steps per episode")
    p.add_argument("--budget-min", type=float, default=5.0, help="training minutes (one CPU thread)")
    p.add_argument("--tiny", action="store_true", help="seconds, not minutes: tiny data, model and training")
    args = p.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    episodes, steps = (6, 60) if args.tiny else (args.episodes, args.steps)

    # 1. The robot. mosim derives the joint layout (free/ball joints with quaternions, limits, the root) from
    #    the compiled model; actions are the actuators' controls within their ctrlrange.
    system = mosim.make_system(f"mjcf:{args.mjcf}")
    print(system)
    print(system.layout.describe())

    # 2. Data: random actions, held for a few steps, from random states around the first keyframe.
    data_path = mosim.collect(mosim.CollectConfig(system=system.system_id, out=str(out / "data.h5"),
                                                  episodes=episodes, steps=steps, workers=1, seed=0),
                              progress=not args.tiny, overwrite=True)
    data = mosim.load_dataset(data_path)
    print(f"collected {data.n_episodes} episodes x {data.steps} steps -> {data_path}")

    # 3. Training: a preset is a model size plus a schedule (predictor, then correctors) and a budget.
    if args.tiny:
        preset = get_preset("tiny", val_every_steps=15)
        config = preset.train_config(max_steps=30, val_windows=8)
    else:
        preset = get_preset("small", budget_min=args.budget_min)  # a small model with one corrector
        config = preset.train_config()
    result = train(data, preset.model, config, out / "run", resume=False, progress=not args.tiny)
    print(f"trained {result.steps} steps; best validation rollout MSE {result.best_val_mse:.4g} -> {result.best_path}")

    # 4. Use it: an open-loop rollout of a held-out episode, next to the truth.
    sim = mosim.load(result.best_path, device="cpu")
    test = data.subset("test")
    horizon = min(100, test.steps)
    qpos, qvel = sim.rollout(test.qpos[:, 0], test.qvel[:, 0], test.action[:, :horizon])  # all test episodes at once
    err = (np.concatenate([qpos, qvel], -1) - test.states()[:, : horizon + 1]) ** 2
    for h in sorted({1, min(10, horizon), horizon}):
        print(f"  MSE after {h:>3} steps ({h * sim.dt:.3f} s): {err[:, h].mean():.4g}")

    print("see it:")
    print(f"  mosim render --model {result.best_path} --data {data_path} --out {out / 'video.mp4'} "
          f"--plot {out / 'plot.png'}")


if __name__ == "__main__":
    main()
