"""Inspect and validate dataset files."""

from __future__ import annotations

import argparse

HELP = "inspect dataset files (mosim data info FILE)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    info = sub.add_parser("info", help="validate a dataset and print a summary")
    info.add_argument("files", nargs="+", help="dataset .h5 files")
    info.add_argument("--system", default=None, help="fail unless the data is of this system id")


def run(args: argparse.Namespace) -> int:
    from mosim.data.dataset import load_dataset

    for i, f in enumerate(args.files):
        if i:
            print()
        print(load_dataset(f, system=args.system).summary())
    return 0
