"""The main job on a small default: collect a dataset of a small system and summarise it.

Everything it writes goes under --workdir; a second run reuses what exists.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "run the main job on a small default (collect -> summary)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--system", default="reacher-easy", help="system id")
    p.add_argument("--episodes", type=int, default=50, help="episodes to collect")
    p.add_argument("--steps", type=int, default=1000, help="steps per episode")
    p.add_argument("--workdir", default="runs/demo", help="folder for everything the job writes")
    p.add_argument("--seed", type=int, default=0, help="random seed")


def run(args: argparse.Namespace) -> int:
    from mosim.data.collect import CollectConfig, collect
    from mosim.data.dataset import load_dataset

    work = Path(args.workdir)
    data_path = work / f"{args.system}-random.h5"
    if data_path.exists():
        print(f"reusing {data_path}")
    else:
        collect(CollectConfig(system=args.system, out=str(data_path), episodes=args.episodes, steps=args.steps,
                              seed=args.seed))
    print(load_dataset(data_path, system=args.system).summary())
    print(f"\nwrote: {data_path}")
    return 0
