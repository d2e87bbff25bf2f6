"""Collect (or resume) the random-action datasets the training and the benchmark use.

    python scripts/make_datasets.py                 # all systems into data/
    python scripts/make_datasets.py --only reacher-easy cheetah-run
    python scripts/make_datasets.py --large          # also the bigger training sets of benchmarks/accuracy.py

Each dataset: 300 episodes of 1000 model steps (240 train / 30 val / 30 test), the paper's random
protocol (uniform actions, geometric holding times with mean 3 steps, zero action with probability
0.2), seed 0. Model steps follow the paper: the task's control step for the suite's acrobot,
cartpole, cheetah and reacher (0.01-0.02 s), the physics step for hopper and humanoid (0.005 s) and
for the Panda and the Go2 (0.002 s). Existing files are validated and kept; interrupted collections
resume. A summary goes to results/datasets.md.

With --large, also the bigger training sets of the accuracy targets (benchmarks/accuracy.py): 2000 episodes
of acrobot-swingup, reacher-easy and cheetah-run under the same protocol, seed 1 (so none of their episodes is one of the
standard files' test episodes, which score the models trained on them), split 1900 train / 100 val / 0 test.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from mosim.data import CollectConfig, collect, load_dataset

DATASETS: dict[str, dict] = {
    "acrobot-swingup": {},
    "cartpole-balance": {},
    "cheetah-run": {},
    "reacher-easy": {},
    "hopper-hop": {"substeps": 1},
    "humanoid-walk": {"substeps": 1},
    "panda": {"substeps": 1},
    "go2": {"substeps": 1},
}
EPISODES, STEPS, SEED = 300, 1000, 0
LARGE: dict[str, int] = {"acrobot-swingup": 2000, "reacher-easy": 2000, "cheetah-run": 2000, "humanoid-walk": 2000}
"""system id -> episodes of its bigger training set (``--large``)"""
LARGE_SEED, LARGE_SPLIT = 1, (0.95, 0.05, 0.0)


def dataset_path(root: Path, system_id: str) -> Path:
    return root / f"{system_id}-random.h5"


def large_dataset_path(root: Path, system_id: str) -> Path:
    return root / f"{system_id}-random-{LARGE[system_id]}.h5"


def summary_row(path: Path, system_id: str, label: str) -> str:
    """The results/datasets.md row of a dataset file (validating it)."""
    ds = load_dataset(path, system=system_id)  # validates everything
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    s = ds.spec
    return (f"| {label} | {s.nq}/{s.nv}/{s.nu} | {s.dt:g} s "
            f"({s.substeps} x {s.physics_dt:g}, {s.integrator}) | {ds.n_episodes} x {ds.steps} | "
            f"{len(ds.episodes('train'))}/{len(ds.episodes('val'))}/{len(ds.episodes('test'))} | "
            f"{path.stat().st_size / 2**20:.0f} MiB | `{digest}` |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="data", help="folder for the .h5 files")
    parser.add_argument("--only", nargs="*", default=None, help="system ids to make (default: all)")
    parser.add_argument("--episodes", type=int, default=EPISODES)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--large", action="store_true", help="also the bigger training sets (see above)")
    parser.add_argument("--summary", default="results/datasets.md")
    args = parser.parse_args()
    root = Path(args.root)
    rows = []
    for system_id, opts in DATASETS.items():
        if args.only and system_id not in args.only:
            continue
        path = dataset_path(root, system_id)
        if not path.exists():
            collect(CollectConfig(system=system_id, out=str(path), episodes=args.episodes, steps=args.steps,
                                  seed=SEED, **opts))
        rows.append(summary_row(path, system_id, system_id))
        print(f"ok {path}")
    for system_id, episodes in LARGE.items():
        if not args.large or (args.only and system_id not in args.only):
            continue
        path = large_dataset_path(root, system_id)
        if not path.exists():
            collect(CollectConfig(system=system_id, out=str(path), episodes=episodes, steps=STEPS, seed=LARGE_SEED,
                                  split=LARGE_SPLIT, **DATASETS[system_id]))  # the standard file's step
        rows.append(summary_row(path, system_id, f"{system_id} (large, seed {LARGE_SEED})"))
        print(f"ok {path}")
    if args.only is None:
        text = [
            "# Datasets",
            "",
            "Random-action datasets used for training and benchmarking, made by `python scripts/make_datasets.py`",
            f"(seed {SEED}; the files are not in the repository: the command rebuilds them byte for byte). The large "
            f"training sets come with `--large`.",
            "",
            "| system | nq/nv/nu | model step | episodes | train/val/test | size | sha256 (first 16) |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
        Path(args.summary).parent.mkdir(parents=True, exist_ok=True)
        Path(args.summary).write_text("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
