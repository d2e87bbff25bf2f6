"""The ``mosim`` command. Each subcommand lives in its own module and calls importable functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from mosim.cli import bench_cmd, collect_cmd, data_cmd, demo_cmd, render_cmd, rl_cmd, systems_cmd, train_cmd
from mosim.errors import MosimError

# name -> (module with add_arguments(parser) and run(args)), in the order of `mosim --help`
COMMANDS = {
    "demo": demo_cmd,
    "collect": collect_cmd,
    "train": train_cmd,
    "bench": bench_cmd,
    "rl": rl_cmd,
    "render": render_cmd,
    "data": data_cmd,
    "systems": systems_cmd,
}


def build_parser() -> argparse.ArgumentParser:
    from mosim import __version__

    parser = argparse.ArgumentParser(prog="mosim", description="mosim: the neural motion simulator")
    parser.add_argument("--version", action="version", version=f"mosim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    tokens = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(tokens)
    args._argv = tokens[tokens.index(args.command) + 1:]  # the subcommand's own arguments, e.g. to re-run it
    run: Callable[[argparse.Namespace], int | None] = args._run
    try:
        return int(run(args) or 0)
    except MosimError as e:
        print(f"mosim {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mosim {args.command}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
