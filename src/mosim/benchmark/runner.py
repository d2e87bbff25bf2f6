"""``mosim bench``: train (or reuse) the named models on the named systems, score them on the protocol,
and write a CSV of raw results, a markdown table and plots.

Every (system, model) trains in its own process with one torch thread, ``jobs`` at a time; a run that
finished is reused, an interrupted one resumes. Scores are cached per run and protocol.

    python -m mosim.benchmark.runner train-one SYSTEM MODEL BUDGET_MIN DATA RUN_DIR SEED   (internal)
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from mosim.benchmark.protocol import Protocol
from mosim.benchmark.recipes import recipe
from mosim.benchmark.scoring import score_with_curve


def run_dir(out: Path, system: str, model: str) -> Path:
    return out / "runs" / system / model


def train_one(system: str, model: str, budget_min: float, data: str, out: str, seed: int) -> None:
    from mosim.data.dataset import load_dataset
    from mosim.training.trainer import train

    r = recipe(model, system, budget_min, seed)
    train(load_dataset(data, system=system), r.model, r.train, out, progress=False)
    (Path(out) / "done").write_text("")


def run_parallel(jobs: list[tuple[str, list[str], Path]], n: int, poll_s: float = 2.0) -> None:
    """Run ``(name, command, log file)`` jobs as subprocesses, ``n`` at a time, one torch thread each, appending
    each job's output to its log file and printing when it starts and ends."""
    todo, running = list(jobs), []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    while todo or running:
        while todo and len(running) < n:
            name, cmd, log = todo.pop(0)
            log.parent.mkdir(parents=True, exist_ok=True)
            print(f"start {name}", flush=True)
            running.append((name, subprocess.Popen(cmd, env=env, stdout=open(log, "a"), stderr=subprocess.STDOUT)))
        time.sleep(poll_s)
        for item in list(running):
            if item[1].poll() is not None:
                running.remove(item)
                print(f"done  {item[0]} (exit {item[1].returncode})", flush=True)


def dataset_file(data_root: Path, system: str) -> Path:
    """The system's standard random-action dataset, whose test split scores every model."""
    return data_root / f"{system}-random.h5"


def check_train_data(train_data: dict[str, Path], data_root: Path) -> None:
    """Raise :class:`~mosim.data.format.DatasetError` unless every training file was collected as the system's
    standard file was (same spec: system, step, layout), before any training starts (reading their attributes
    only)."""
    from mosim.data.format import read_spec

    for system, path in train_data.items():
        read_spec(path, expect=read_spec(dataset_file(data_root, system), expect=system))


def train_all(pairs: list[tuple[str, str]], budget_min: float, data_root: Path, out: Path, jobs: int, seed: int,
              train_data: dict[str, Path] | None = None) -> None:
    """Train the ``(system, model)`` pairs not done yet, on ``train_data[system]`` or the system's standard file."""
    files = {s: Path((train_data or {}).get(s, dataset_file(data_root, s))) for s, _ in pairs}
    todo = [(s, m) for s, m in pairs if not (run_dir(out, s, m) / "done").exists()]
    run_parallel([(f"train {s} / {m} ({budget_min:g} min, {files[s]}) -> {run_dir(out, s, m)}",
                   [sys.executable, "-m", "mosim.benchmark.runner", "train-one", s, m, str(budget_min),
                    str(files[s]), str(run_dir(out, s, m)), str(seed)],
                   run_dir(out, s, m) / "train.log") for s, m in todo], jobs)


def scores_of(run: Path, data: Any, protocol: Protocol, warmup: int, tag: str = "bench") -> dict[str, Any]:
    """Scores and the per-step curve of run/best.pt on ``data``, cached per ``tag`` (which test data), protocol and
    warm-up."""
    from mosim.loading import load

    cache = run / f"{tag}_scores_w{warmup}.json"
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached["protocol"] == protocol.to_json():
            return cached
    sim = load(run / "best.pt", device="cpu")
    scores, curve = score_with_curve(sim, data, protocol, warmup)
    result = {"protocol": protocol.to_json(), "scores": [s.as_dict() for s in scores], "curve": curve.tolist()}
    cache.write_text(json.dumps(result))
    return result


def bench(systems: list[str], models: list[str], budget_min: float, data_root: Path, out: Path,
          protocol: Protocol | None = None, jobs: int = 2, seed: int = 0,
          train_data: dict[str, Path] | None = None) -> list[dict[str, Any]]:
    """Train what is missing, score everything, write ``results.csv``, ``table.md`` and plots into ``out``.

    Models train on ``data_root/<system>-random.h5``, or on ``train_data[system]`` (a bigger collection of the same
    kind: every model of that system then trains on it), and are scored on the test split of the standard file."""
    from mosim.data.dataset import load_dataset
    from mosim.plots import plot_error_vs_horizon

    protocol = protocol or Protocol()
    check_train_data(train_data or {}, data_root)
    out.mkdir(parents=True, exist_ok=True)
    (out / "protocol.json").write_text(protocol.to_json())
    train_all([(s, m) for s in systems for m in models], budget_min, data_root, out, jobs, seed, train_data)
    rows = []
    for s in systems:
        data = load_dataset(dataset_file(data_root, s), system=s)
        curves = {}
        for m in models:
            d = run_dir(out, s, m)
            if not (d / "best.pt").exists():
                print(f"skip {s} / {m}: no best.pt (see {d / 'train.log'})")
                continue
            for w in recipe(m, s, budget_min, seed).warmups:
                name = m if w == 1 and len(recipe(m, s, budget_min, seed).warmups) == 1 else f"{m} (W={w})"
                res = scores_of(d, data, protocol, w)
                curves[name] = np.asarray(res["curve"])
                for sc in res["scores"]:
                    rows.append({"system": s, "model": name, "warmup": w, "budget_min": budget_min, **{
                        k: v for k, v in sc.items() if k != "groups"}, **{f"mse_{g}": v for g, v in sc["groups"].items()}})
        if curves:
            plot_error_vs_horizon(curves, out / f"{s}_error_vs_horizon.png", data.spec.dt, s)
            plot_examples(s, data, [m for m in models if (run_dir(out, s, m) / "best.pt").exists()], out, protocol,
                          budget_min, seed)
    write_tables(rows, out)
    return rows


def plot_examples(system: str, data: Any, models: list[str], out: Path, protocol: Protocol, budget_min: float,
                  seed: int, n_examples: int = 2) -> None:
    """``<system>_examples.png``: true vs predicted state entries (the 2 positions and 2 velocities that move
    most) over the first test windows of the longest horizon, every model with its largest warm-up."""
    from mosim.benchmark.protocol import make_windows
    from mosim.benchmark.scoring import predict
    from mosim.loading import load
    from mosim.plots import plot_trajectories, state_labels

    horizon = max(protocol.horizons)
    part, windows = make_windows(data, protocol, horizon)
    windows = replace(windows, episode=windows.episode[:n_examples], t0=windows.t0[:n_examples])
    q_true, v_true, _ = windows.true_states(part)
    nq = data.spec.nq
    preds = {}
    for m in models:
        w = max(recipe(m, system, budget_min, seed).warmups)
        q, v = predict(load(run_dir(out, system, m) / "best.pt", device="cpu"), part, windows, w)
        preds[m if w == 1 else f"{m} (W={w})"] = np.concatenate([q, v], axis=-1)
    true = np.concatenate([q_true, v_true], axis=-1)
    for i in range(n_examples):
        spread = true[i].std(axis=0)
        entries = sorted(np.argsort(spread[:nq])[-2:].tolist()) + sorted((nq + np.argsort(spread[nq:])[-2:]).tolist())
        plot_trajectories(true[i], {k: p[i] for k, p in preds.items()}, state_labels(data.spec.layout), entries,
                          out / f"{system}_example{i + 1}.png", data.spec.dt,
                          f"{system}: test window {i + 1}, {horizon} steps open loop")


def write_tables(rows: list[dict[str, Any]], out: Path) -> None:
    if not rows:
        return
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k.startswith("mse_"), k))
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    horizons = sorted({r["horizon"] for r in rows})
    lines = ["| system | model | " + " | ".join(f"H={h}" for h in horizons) + " |",
             "|---|---|" + "---|" * len(horizons)]
    for key in dict.fromkeys((r["system"], r["model"]) for r in rows):
        cells = {r["horizon"]: r for r in rows if (r["system"], r["model"]) == key}
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(
            f"{cells[h]['mse']:.3g} [{cells[h]['ci_low']:.2g}, {cells[h]['ci_high']:.2g}]" if h in cells else "-"
            for h in horizons) + " |")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 8 and sys.argv[1] == "train-one":
        _, _, system, model, budget, data, run, seed = sys.argv
        train_one(system, model, float(budget), data, run, int(seed))
    else:
        sys.exit(__doc__)
