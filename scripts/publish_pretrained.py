"""Copy the benchmark's trained mosim models into the package as pretrained models, each with a card.

    python scripts/publish_pretrained.py                      # from runs/bench (mosim bench ... --out runs/bench)
    python scripts/publish_pretrained.py --bench runs/bench --only cheetah-run go2

For every system with ``BENCH/runs/<system>/mosim/best.pt``: writes ``src/mosim/pretrained/<system>.pt`` (the
checkpoint without anything training-only) and ``<system>.md`` (data, budget, test errors, commands), so that
``mosim.load("<system>")`` works after install.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import torch

from mosim.atomic import atomic_path
from mosim.models import ModelConfig
from mosim.systems.base import SystemSpec

DEST = Path(__file__).resolve().parents[1] / "src" / "mosim" / "pretrained"
KEEP = ("format", "format_version", "mosim_version", "spec", "model_config", "train_config", "model_state",
        "active_correctors", "stage_name", "step")


def training_summary(run: Path) -> tuple[float, int]:
    """(minutes, samples) of a run's log."""
    with open(run / "log.csv") as f:
        rows = list(csv.DictReader(f))
    return float(rows[-1]["elapsed_s"]) / 60, int(rows[-1]["samples"])


def training_data(system: str, run: Path) -> tuple[str, str]:
    """What the card says of the training data, and the ``mosim bench`` option that trains on it again: the
    standard file, or (``--train-data``) the system's large file, as the run's config.json records it."""
    config = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {}
    path = (config.get("data") or {}).get("path")
    if path is None or Path(path).name == f"{system}-random.h5":
        return (f"`{system}-random.h5` from `python scripts/make_datasets.py --only {system}`: 300 random-action\n"
                "  episodes of 1000 model steps (seed 0), trained on the 240 training episodes (see "
                "`results/datasets.md`)."), ""
    name, episodes = Path(path).name, config["data"]["train_episodes"]
    return (f"`{name}` from `python scripts/make_datasets.py --large --only {system}`: random-action episodes\n"
            f"  of 1000 model steps (seed 1), trained on its {episodes} training episodes; scored on the test episodes of\n"
            f"  the standard `{system}-random.h5` (see `results/datasets.md`)."), f" --train-data {system}=data/{name}"


def start_note(ckpt: dict) -> str:
    """The card's word on a best checkpoint that is the untrained start (``physics_start``: no step beat it)."""
    step = ckpt.get("step")
    if step is None:  # saved before the step was kept: the start's force network has an all-zero output layer
        weight = ckpt["model_state"].get("predictor.force.output.weight")
        start = json.loads(ckpt["model_config"]).get("physics_start") and weight is not None and not weight.any()
        step = 0 if start else -1
    if step != 0:
        return ""
    return ("\n- **Best checkpoint: the untrained start.** The model starts at its model file's physics\n"
            "  (`ModelConfig.physics_start`) and no training step beat its validation error: its networks are at zero\n"
            "  output, and what it predicts is that physics (docs/concepts.md).")


def card(system: str, run: Path, bench: Path) -> str:
    ckpt = torch.load(run / "best.pt", map_location="cpu", weights_only=False)
    spec, model_cfg = json.loads(ckpt["spec"]), json.loads(ckpt["model_config"])
    minutes, samples = training_summary(run)
    scores = json.loads((run / "bench_scores_w1.json").read_text())
    protocol = json.loads(scores["protocol"])
    rows = "\n".join(f"| {s['horizon']} | {s['mse']:.3g} | [{s['ci_low']:.3g}, {s['ci_high']:.3g}] | {s['median']:.3g} |"
                     for s in scores["scores"])
    n_params = sum(v.numel() for v in ckpt["model_state"].values() if v.is_floating_point())
    integrator = ModelConfig.from_json(ckpt["model_config"]).resolved_integrator(SystemSpec.from_json(ckpt["spec"]))
    data, train_data = training_data(system, run)
    return f"""# Pretrained mosim model: {system}

- **Model**: {model_cfg['kind']} ({n_params:,} stored values), {model_cfg['n_correctors']} corrector(s), stage
  `{ckpt['stage_name']}`; model step {spec['dt']:g} s ({spec['substeps']} x {spec['physics_dt']:g} s physics steps,
  MuJoCo integrator {spec['integrator']}); the model integrates with `{integrator}`.
- **Data**: {data}
- **Budget**: {minutes:.1f} min of one CPU thread on a 2-core x86_64 machine, {samples:,} training samples, the
  system's preset (`mosim.presets`).{start_note(ckpt)}
- **Test error** (the benchmark protocol: {protocol['n_windows']} windows of the 30 test episodes, seed
  {protocol['seed']}; MSE on raw qpos/qvel averaged over the predicted steps):

| horizon | MSE | 95% CI | median window |
|---|---|---|---|
{rows}

Regenerate: `mosim bench --systems {system} --models mosim --budget-min {minutes:.0f}{train_data} --out {bench}`, then
`python scripts/publish_pretrained.py --bench {bench} --only {system}`.
"""


def publish(system: str, bench: Path) -> None:
    run = bench / "runs" / system / "mosim"
    ckpt = torch.load(run / "best.pt", map_location="cpu", weights_only=False)
    slim = {k: ckpt[k] for k in KEEP if k in ckpt}
    DEST.mkdir(parents=True, exist_ok=True)
    with atomic_path(DEST / f"{system}.pt") as tmp:
        torch.save(slim, tmp)
    (DEST / f"{system}.md").write_text(card(system, run, bench))
    print(f"wrote {DEST / system}.pt ({(DEST / f'{system}.pt').stat().st_size / 1e6:.2f} MB) and its card")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default="runs/bench", type=Path, help="the output folder of mosim bench")
    p.add_argument("--only", nargs="+", default=None,
                   help="system ids (default: all with a scored mosim run)")
    args = p.parse_args()
    systems = args.only or sorted(d.parent.name for d in (args.bench / "runs").glob("*/mosim")
                                  if (d / "bench_scores_w1.json").exists())
    for s in systems:
        publish(s, args.bench)


if __name__ == "__main__":
    main()
