"""Benchmark open-loop prediction: train (or reuse) models on systems, score them at horizons 3, 16 and 100
on held-out windows, write results.csv, table.md and error-vs-horizon plots.

Models: mosim (structured, the system's preset), plain (plain one-step network), plain-ode and end-to-end
(the paper's ablations), ensemble (PETS/MBPO), rssm (DreamerV3, scored with warm-up 1 and 5); mosim-physics,
mosim-identify and mosim-learned (the preset at the model file's physics, the same identifying the file's constants,
the mechanics learned instead; benchmarks/mismatch.py).
Datasets: DATA_ROOT/<system>-random.h5 (python scripts/make_datasets.py); --train-data SYSTEM=FILE trains that
system's models on a bigger file of the same kind instead (they are still scored on the standard file's test
split). Resumable.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "benchmark models on systems (mosim bench --systems reacher-easy --models mosim plain rssm)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--systems", nargs="+", required=True, help="system ids")
    p.add_argument("--models", nargs="+", default=["mosim", "plain", "ensemble", "rssm"], help="model names")
    p.add_argument("--budget-min", type=float, default=10.0, help="training minutes per model (one thread)")
    p.add_argument("--data-root", default="data", help="folder of <system>-random.h5 datasets")
    p.add_argument("--train-data", nargs="+", default=[], metavar="SYSTEM=FILE",
                   help="train that system's models on FILE (collected as the standard file was, e.g. "
                        "scripts/make_datasets.py --large) instead of DATA_ROOT/<system>-random.h5")
    p.add_argument("--out", default="runs/bench", help="output folder")
    p.add_argument("--horizons", type=int, nargs="+", default=[3, 16, 100])
    p.add_argument("--windows", type=int, default=1000, help="test windows per horizon")
    p.add_argument("--jobs", type=int, default=2, help="trainings side by side (one thread each)")
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from mosim.benchmark.protocol import Protocol
    from mosim.benchmark.recipes import RECIPES
    from mosim.benchmark.runner import bench
    from mosim.errors import InvalidInputError
    from mosim.registry import lookup

    for m in args.models:
        lookup(RECIPES, m, "benchmark model")
    train_data = {}
    for item in args.train_data:
        system, sep, path = item.partition("=")
        if not sep or system not in args.systems:
            raise InvalidInputError(f"--train-data takes SYSTEM=FILE for one of --systems {' '.join(args.systems)}, "
                                    f"got {item!r}")
        train_data[system] = Path(path)
    protocol = Protocol(horizons=tuple(args.horizons), n_windows=args.windows, seed=args.seed)
    bench(args.systems, args.models, args.budget_min, Path(args.data_root), Path(args.out), protocol, args.jobs,
          args.seed, train_data)
    print(f"wrote {args.out}/results.csv, table.md, *_error_vs_horizon.png")
    return 0
