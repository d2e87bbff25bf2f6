"""What the contact features cost: training samples per second (one thread, batch 512, one-step loss) and batched
rollout steps per second (batch 4096, no gradients, two threads) of the cheetah and go2 presets with and without
``ModelConfig.contact_features``, timed in alternation in one process (fresh models: speed does not depend on the
weights).

    python benchmarks/contact_cost.py        # writes results/contact_cost.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from dataclasses import replace
from datetime import date
from pathlib import Path

import torch
from model_speed import _samples_per_s, _train_step, model_rollout_speed

from mosim.data.dataset import load_dataset
from mosim.models import model_inputs
from mosim.presets import get_preset

SYSTEMS = ("cheetah-run", "go2")


def measure(system: str, data_root: Path, rounds: int = 3) -> dict[str, float]:
    """Median training samples/s and batch-4096 rollout steps/s without (``*_off``) and with (``*_on``) the contact
    features, each round timing all four in turn."""
    ds = load_dataset(data_root / f"{system}-random.h5")
    arms = {}
    for on in (False, True):
        config = replace(get_preset(system).model, contact_features=on)
        inputs = model_inputs(ds, config)
        arms[on] = (config, inputs, _train_step(ds, config, False, inputs))
    train: dict[bool, list[float]] = {on: [] for on in arms}
    roll: dict[bool, list[float]] = {on: [] for on in arms}
    for _ in range(rounds):
        for on, (config, (spec, stats), step) in arms.items():
            torch.set_num_threads(1)
            train[on].append(_samples_per_s(step, 2.0))
            roll[on].append(model_rollout_speed(ds, config, spec, stats, 4096, steps=20))
    return {f"{what}_{'on' if on else 'off'}": statistics.median(values[on])
            for what, values in (("train", train), ("roll", roll)) for on in arms}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, default=Path("data"))
    p.add_argument("--out", type=Path, default=Path("results/contact_cost.md"))
    args = p.parse_args()
    rows = ["| system | train samples/s without | with | ratio | rollout steps/s (batch 4096) without | with | ratio |",
            "|---|---|---|---|---|---|---|"]
    for system in SYSTEMS:
        r = measure(system, args.data_root)
        rows.append(f"| {system} | {r['train_off']:,.0f} | {r['train_on']:,.0f} | {r['train_on'] / r['train_off']:.2f}x | "
                    f"{r['roll_off']:,.0f} | {r['roll_on']:,.0f} | {r['roll_on'] / r['roll_off']:.2f}x |")
        print(rows[-1])
    text = "\n".join([
        "# What the contact features cost", "",
        f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), PyTorch {torch.__version__}; {date.today()}. "
        "Regenerate: `python benchmarks/contact_cost.py`.", "",
        "The presets' models with and without `ModelConfig.contact_features`, timed in alternation in one process "
        "(median of three rounds): training on one thread for 2 s (batch 512, one-step loss), a 20-step rollout of "
        "4096 states on two threads without gradients (`benchmarks/model_speed.py`'s measurements).", "", *rows, ""])
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
