"""List the built-in systems, or describe one."""

from __future__ import annotations

import argparse

HELP = "list systems, or describe one (mosim systems cheetah-run)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("system", nargs="?", default=None, help="a system id to describe")
    p.add_argument("--substeps", type=int, default=None, help="physics steps per model step")


def run(args: argparse.Namespace) -> int:
    from mosim.systems import list_systems, make_system

    if args.system is None:
        print("\n".join(list_systems()))
        print("mjcf:PATH   (any MuJoCo XML file)")
        return 0
    s = make_system(args.system, substeps=args.substeps)
    print(s)
    print(f"actions: low {s.action_low.round(4).tolist()}\n         high {s.action_high.round(4).tolist()}")
    print(f"task observation/reward: {'yes' if s.has_task else 'no'}")
    print(s.layout.describe())
    return 0
