"""Render a video of MuJoCo's motion (left) and the learned simulator's prediction (right), side by side.

Both halves start from the same state and get the same actions: those of a dataset episode
(--data F --episode E --start T --steps N) or, without --data, the system's random initial state and random
actions within its bounds (--seed). Both are drawn by MuJoCo with the system's own model. The video is an
MP4 (or a GIF when --out ends in .gif) that plays in real time up to --max-fps; --plot also writes a PNG of
chosen state entries over time, true vs predicted, with the error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "render true vs predicted motion side by side (mosim render --model runs/x/best.pt)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="checkpoint of a trained simulator (best.pt)")
    p.add_argument("--out", default=None, help="video file, .mp4 or .gif (default: render.mp4 beside the checkpoint)")
    p.add_argument("--data", default=None, help="dataset .h5 of the model's system: show one of its episodes "
                   "(default: random actions from the system's random initial state)")
    p.add_argument("--episode", type=int, default=0, help="episode index within --split")
    p.add_argument("--split", choices=("train", "val", "test", "all"), default="test",
                   help="split the episode is taken from (all: the file's own numbering)")
    p.add_argument("--start", type=int, default=0, help="first step of the episode shown")
    p.add_argument("--steps", type=int, default=None, help="steps shown (default: 200, or the rest of the episode)")
    p.add_argument("--seed", type=int, default=0, help="without --data: seed of the start state and actions")
    p.add_argument("--system", default=None, help="system id that draws the robot (default: the model's)")
    p.add_argument("--mjcf", default=None, help="MJCF file that draws the robot (e.g. when it moved since training)")
    p.add_argument("--width", type=int, default=320, help="width of each half, pixels")
    p.add_argument("--height", type=int, default=240, help="frame height, pixels")
    p.add_argument("--camera", default="auto", help="auto, track (follow body 1), free, or a camera name/index")
    p.add_argument("--max-fps", type=float, default=60.0, help="frame rate cap; the video plays in real time "
                   "(1/dt frames per second) below it, and shows every k-th step above it")
    p.add_argument("--plot", default=None, help="also write a PNG of state entries over time (true, predicted, error)")
    p.add_argument("--entries", type=int, nargs="+", default=None, metavar="I",
                   help="entries of concat(qpos, qvel) to plot (default: 3 positions and the first velocity)")
    p.add_argument("--no-labels", action="store_true", help="no label bars on the halves")
    p.add_argument("--no-video", action="store_true", help="only the --plot")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from mosim.errors import InvalidInputError
    from mosim.render import render

    if args.system and args.mjcf:
        raise InvalidInputError("give either --system or --mjcf, not both")
    if args.no_video and not args.plot:
        raise InvalidInputError("--no-video writes nothing without --plot FILE")
    out = None if args.no_video else (args.out or str(Path(args.model).parent / "render.mp4"))
    result = render(args.model, out, data=args.data, episode=args.episode, split=args.split, start=args.start,
                    steps=args.steps, seed=args.seed, system=args.system, mjcf=args.mjcf, width=args.width,
                    height=args.height, camera=args.camera, max_fps=args.max_fps, plot=args.plot,
                    entries=args.entries, labels=not args.no_labels, progress=not args.quiet, device=args.device)
    c = result.comparison
    print(f"{c.source}: {c.steps} steps of {c.dt:g} s, open-loop MSE {c.mse():.4g}"
          + (f" (prediction diverged at step {c.diverged_at()})" if c.diverged_at() is not None else ""))
    if result.video is not None:
        print(f"wrote {result.video} ({result.frames} frames at {result.fps:.3g} fps; left MuJoCo, right mosim)")
    if result.plot is not None:
        print(f"wrote {result.plot}")
    return 0
