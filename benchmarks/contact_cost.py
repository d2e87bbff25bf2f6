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
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import torch

from mosim.data.dataset import load_dataset
from mosim.models import build_model
from mosim.models.normalization import compute_normalization
from mosim.presets import get_preset
from mosim.systems import with_geometry
from mosim.training.trainer import training_loss_fn
from mosim.training.windows import WindowSampler

SYSTEMS = ("cheetah-run", "go2")


def _models(system: str, data_root: Path) -> tuple:
    ds = load_dataset(data_root / f"{system}-random.h5")
    out = {}
    for on in (False, True):
        config = replace(get_preset(system).model, contact_features=on)
        spec = with_geometry(ds.spec) if on else ds.spec
        stats = compute_normalization(ds, limit_features=config.uses_limit_features, geometry=config.geometry_of(spec))
        torch.manual_seed(0)
        out[on] = (build_model(spec, config, stats), stats)
    return ds, out


def _rate(fn, units: int, seconds: float) -> float:
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n * units / (time.perf_counter() - t0)


def measure(system: str, data_root: Path, rounds: int = 3) -> dict[str, float]:
    ds, models = _models(system, data_root)
    sampler = WindowSampler(ds, "train", torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, ds.n_episodes, 4096)
    q0 = torch.tensor(ds.qpos[idx, 0], dtype=torch.float32)
    v0 = torch.tensor(ds.qvel[idx, 0], dtype=torch.float32)
    actions = torch.tensor(ds.action[idx, :10], dtype=torch.float32)
    steps: dict[bool, object] = {}
    for on, (model, stats) in models.items():
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        loss_fn = training_loss_fn(model, stats.delta_q.std.float(), stats.delta_v.std.float(), False)

        def step(model=model, opt=opt, loss_fn=loss_fn) -> None:
            loss = loss_fn(sampler.sample(512, 1, gen))
            opt.zero_grad()
            loss.backward()
            opt.step()

        steps[on] = step
    train = {on: [] for on in models}
    roll = {on: [] for on in models}
    for _ in range(rounds):
        for on, (model, _) in models.items():
            torch.set_num_threads(1)
            train[on].append(_rate(steps[on], 512, 2.0))
            torch.set_num_threads(2)
            with torch.no_grad():
                roll[on].append(_rate(lambda m=model: m.rollout(q0, v0, actions), 4096 * 10, 2.0))
    return {"train_off": float(np.median(train[False])), "train_on": float(np.median(train[True])),
            "roll_off": float(np.median(roll[False])), "roll_on": float(np.median(roll[True]))}


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
        "(median of three rounds of 2 s): training on one thread (batch 512, one-step loss), 10-step rollouts of "
        "4096 states on two threads without gradients.", "", *rows, ""])
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
