"""Collect trajectories of a system into a dataset file (resumable: rerun the same command)."""

from __future__ import annotations

import argparse
import json

from mosim.errors import InvalidInputError

HELP = "collect trajectories into an HDF5 dataset"


def parse_split(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--split wants three comma-separated fractions, got {text!r}") from None
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"--split wants three comma-separated fractions, got {text!r}")
    return parts  # type: ignore[return-value]


def parse_param(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--policy-param wants KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--system", default=None, help="system id: a dm_control task (cheetah-run, ...), panda, go2, or mjcf:PATH")
    p.add_argument("--mjcf", default=None, help="path of an MJCF robot file (same as --system mjcf:PATH)")
    p.add_argument("--out", required=True, help="output .h5 file")
    p.add_argument("--episodes", type=int, default=100, help="number of episodes")
    p.add_argument("--steps", type=int, default=1000, help="model steps per episode")
    p.add_argument("--policy", default="random", help="random, zero, or module:attribute (a Policy or obs->action function)")
    p.add_argument("--hold", type=float, default=3.0, help="random policy: mean holding time of an action, in steps")
    p.add_argument("--p-zero", type=float, default=0.2, help="random policy: probability that a new action is zero")
    p.add_argument("--policy-param", type=parse_param, action="append", default=[], metavar="KEY=VALUE",
                   help="extra keyword argument for the policy (repeatable; values parsed as JSON)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    p.add_argument("--substeps", type=int, default=None, help="physics steps per model step (default: the task's control step)")
    p.add_argument("--split", type=parse_split, default=(0.8, 0.1, 0.1), help="train,val,test fractions of the episodes")
    p.add_argument("--workers", type=int, default=0, help="worker processes (0: one per CPU core)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace):  # noqa: ANN201
    from mosim.data.collect import CollectConfig

    system = args.system
    if args.mjcf:
        if args.system:
            raise InvalidInputError("give either --system or --mjcf, not both")
        system = f"mjcf:{args.mjcf}"
    if not system:
        raise InvalidInputError("name the system: --system ID (see `mosim systems`) or --mjcf PATH")
    params: dict[str, object] = dict(args.policy_param)
    if args.policy == "random":
        params = {"hold": args.hold, "p_zero": args.p_zero, **params}
    return CollectConfig(system=system, out=args.out, episodes=args.episodes, steps=args.steps, policy=args.policy,
                         policy_params=params, seed=args.seed, substeps=args.substeps, split=args.split,
                         workers=args.workers)


def run(args: argparse.Namespace) -> int:
    from mosim.data.collect import collect
    from mosim.data.dataset import load_dataset

    path = collect(config_from_args(args), progress=not args.quiet, overwrite=args.overwrite)
    print(load_dataset(path).summary())
    return 0
