"""Reinforcement learning inside the pretrained mosim models, scored in the real tasks.

    python benchmarks/rl_results.py                       # every run of rl_recipe.py (two at a time; finished runs are reused)
    python benchmarks/rl_results.py --only reacher-easy   # the runs of some tasks
    python benchmarks/rl_results.py --report-only         # rebuild results/rl.md from finished runs

Each run is one `mosim rl ...` command (printed, and stored in its run folder's config.json) with one torch
thread; the models are the pretrained ones (`mosim.load("<system>")`, see docs/benchmarks.md), trained on
random data only. Every agent is evaluated in the real task every --eval-every steps (10 episodes, fixed seeds).
The reference of each task is the same algorithm trained in the real task for the same number of steps
(`mosim rl model-free`). Runs go to runs/rl/<name>/ (not committed: the agents are megabytes each). The small
files of every finished run (result.json, config.json, curve.csv) are copied to results/rl_runs/<name>/, which is
committed, so the report rebuilds on any checkout; the table and the curves go to results/. Runs finished before
that archive existed are kept as their rows of the committed rl.csv, and their curves as the figure drawn then
(results/rl_curves_unarchived.png).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import re
import shutil
import sys
from datetime import date
from pathlib import Path

import numpy as np
from rl_recipe import RUNS, SELECTIONS, seed_group, seed_of, selected_on_evaluation_episodes, selection_of

ARCHIVE = Path("results/rl_runs")
ARCHIVED = ("result.json", "config.json", "curve.csv")  # a run's small files; agent.zip stays in the run folder


def command(name: str, root: Path) -> list[str]:
    _, pipeline, args = RUNS[name]
    return [sys.executable, "-m", "mosim.cli", "rl", pipeline, *args, "--out", str(root / name), "--threads", "1",
            "--quiet"]


def run_all(names: list[str], root: Path, jobs: int) -> None:
    from mosim.benchmark.runner import run_parallel

    todo = [n for n in names if not (root / n / "result.json").exists() and not selected_on_evaluation_episodes(n)]
    run_parallel([(f"{n}: mosim rl {' '.join(command(n, root)[4:])}", command(n, root), root / n / "stdout.txt")
                  for n in todo], jobs, poll_s=5.0)


def archive_runs(names: list[str], root: Path, archive: Path) -> None:
    """Copy the small files of every run finished under ``root`` to ``archive`` (committed)."""
    for n in names:
        if (root / n / "result.json").exists():
            (archive / n).mkdir(parents=True, exist_ok=True)
            for f in ARCHIVED:
                if (root / n / f).exists():
                    shutil.copyfile(root / n / f, archive / n / f)


def run_folder(name: str, root: Path, archive: Path) -> Path | None:
    """Where a finished run's files are: its run folder, else its archived copy (None: neither)."""
    return next((d for d in (root / name, archive / name) if (d / "result.json").exists()), None)


def committed_results(path: Path) -> dict[str, dict]:
    """The runs of a committed rl.csv, as result dicts (for runs whose files are neither here nor archived)."""
    if not path.exists():
        return {}

    def number(x: str, kind: type = float) -> float | int | None:
        return kind(float(x)) if x not in ("", "None") else None

    out = {}
    for r in read_rows(path):
        out[r["run"]] = {"pipeline": r["pipeline"], "timesteps": number(r["timesteps"], int),
                         "real_steps": number(r["real_steps"], int), "final_mean": number(r["final_mean"]),
                         "final_std": number(r["final_std"]), "best_mean": number(r["best_mean"]),
                         "selected_mean": number(r["selected_mean"]), "selected_std": number(r.get("selected_std", "")),
                         "selected_step": number(r["selected_step"], int), "elapsed_s": number(r["elapsed_s"])}
    return out


def committed_lines(md: Path, header: str) -> dict[str, str]:
    """The rows of the markdown table under ``header`` in a committed report, by their first cell."""
    if not md.exists():
        return {}
    text = md.read_text()
    if header not in text:
        return {}
    rows = [ln for ln in text.split(header, 1)[1].split("\n## ", 1)[0].splitlines() if ln.startswith("| ")]
    return {ln.split("|")[1].strip(): ln for ln in rows[1:]}  # without the header row


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path) as f:
        return list(csv.DictReader(f))


def first_reaching(rows: list[dict[str, str]], target: float) -> int | None:
    """Real steps at the first evaluation whose mean return reaches ``target`` (None: never)."""
    for r in rows:
        if float(r["eval_mean"]) >= target:
            return int(r["real_steps"]) if int(r["real_steps"]) > 0 else int(r["timesteps"])
    return None


DYNA_HEADER = "## Dyna: real steps to the same return"


def dyna_comparison(curves: dict[str, list[dict[str, str]] | None], kept: dict[str, str]) -> str:
    """Markdown: real steps Dyna and plain SAC need to reach the same return, per task (``kept``: the committed
    rows, standing for the tasks whose curves are not here)."""
    lines = dict(kept)
    for n in [n for n in curves if n.endswith("/dyna")]:
        task = RUNS[n][0]
        free, dyna = curves.get(f"{task}/model-free"), curves[n]  # the model-free run: same real-step budget
        if free is None or dyna is None:
            continue
        # a return both runs reach: 90% of the lower of their best evaluations
        target = 0.9 * min(max(float(r["eval_mean"]) for r in free), max(float(r["eval_mean"]) for r in dyna))
        f, d = first_reaching(free, target), first_reaching(dyna, target)
        ratio = f"{f / d:.1f}x fewer" if f and d else "-"
        control = curves.get(f"{task}/model-free-4-updates")
        if control is None:
            c_text = "curve not kept" if f"{task}/model-free-4-updates" in curves else "not run"
        else:
            c_text = first_reaching(control, target) or "not reached"
        lines[task] = (f"| {task} | {target:.1f} | {f if f else 'not reached'} | {c_text} | "
                       f"{d if d else 'not reached'} | {ratio} |")
    if not lines:
        return ""
    return (f"\n{DYNA_HEADER}\n\nThe target is 90% of the lower of the two runs' best "
            "evaluations, so both reach it; steps are those of the first evaluation at or above it.\n\n"
            "| task | target return | model-free SAC real steps | SAC with 4 updates per step, no model | Dyna real steps "
            "| Dyna vs SAC |\n|---|---|---|---|---|---|\n"
            + "\n".join(lines.values()) + "\n")


def ratio_interval(a: np.ndarray, b: np.ndarray, n: int = 10_000) -> tuple[float, float]:
    """95% bootstrap interval of ``mean(a) / mean(b)``, resampling the seeds of each arm."""
    rng = np.random.default_rng(0)
    ra = a[rng.integers(0, len(a), (n, len(a)))].mean(1)
    rb = b[rng.integers(0, len(b), (n, len(b)))].mean(1)
    ok = rb > 0
    lo, hi = np.percentile(ra[ok] / rb[ok], [2.5, 97.5])
    return float(lo), float(hi)


def seed_groups(done: list[str], results: dict[str, dict]) -> str:
    """Markdown: runs repeated with several seeds (names differing only by ``-seed<k>``), their final returns
    averaged over seeds, against the model-free runs of the same task and steps averaged over theirs."""
    by_seed: dict[str, dict[str, str]] = {}  # group -> seed -> run; a selecting run stands for its twin
    selecting: dict[tuple[str, str], dict[str, str]] = {}  # (group, selection mark) -> seed -> run
    for n in sorted(done, key=lambda n: results[n].get("selected_mean") is not None):
        by_seed.setdefault(seed_group(n), {})[seed_of(n)] = n
        if results[n].get("selected_mean") is not None:
            selecting.setdefault((seed_group(n), selection_of(n)), {})[seed_of(n)] = n
    groups = {g: list(runs.values()) for g, runs in by_seed.items()}
    every = dict(groups)  # the references may have one seed
    groups = {g: ns for g, ns in groups.items() if len(ns) > 1}
    if not groups:
        return ""

    def finals(ns: list[str], key: str = "final_mean") -> np.ndarray:
        return np.array([results[n][key] for n in sorted(ns, key=lambda n: int(seed_of(n)))])

    lines = []
    for g, ns in groups.items():
        task, pipeline, _ = RUNS[ns[0]]
        steps = results[ns[0]]["timesteps"]
        ref = [(h, hs) for h, hs in every.items() if RUNS[hs[0]][:2] == (task, "model-free")
               and results[hs[0]]["timesteps"] == steps and not h.endswith("-4-updates")]
        kinds = [("final_mean", "", ns)]
        kinds += [("selected_mean", label, list(selecting[g, mark].values())) for mark, label in SELECTIONS.items()
                  if len(selecting.get((g, mark), {})) > 1]
        for key, label, runs in kinds:
            f = finals(runs, key)
            ratio = "-"
            if pipeline != "model-free" and ref:
                r = finals(ref[0][1])
                if r.mean() > 0:
                    lo, hi = ratio_interval(f, r)
                    ratio = f"{f.mean() / r.mean():.0%} [{lo:.0%}, {hi:.0%}] (model-free: {len(r)} seeds)"
            seeds = sorted(int(seed_of(n)) for n in runs)
            which = "" if seeds == list(range(len(seeds))) else f" (seeds {', '.join(map(str, seeds))})"
            lines.append(f"| {task} | {g.split('/', 1)[1]}{label} | {steps:,} | {len(f)}{which} | "
                         f"{', '.join(f'{x:.0f}' for x in f)} | **{f.mean():.1f}** ± {f.std(ddof=1):.1f} | {ratio} |")
    return ("\n## Several seeds\n\nA run's final return varies a lot from seed to seed (reacher's episodes are "
            "bimodal: the target is reached or not). Runs repeated with seeds 0, 1, ...: the final return of each "
            "seed, their mean ± the standard deviation over seeds, and the mean over seeds against the model-free "
            "runs' mean over theirs, with a 95% bootstrap interval over the seeds of both arms.\n\n| task | runs | agent steps | seeds | final return per seed (0, 1, ...) | "
            "mean over seeds | vs model-free, mean over seeds |\n|---|---|---|---|---|---|---|\n"
            + "\n".join(lines) + "\n")


def gather(names: list[str], root: Path, archive: Path, committed: Path
           ) -> tuple[dict[str, dict], dict[str, list[dict[str, str]] | None]]:
    """Every finished run's result and curve: from its run folder, else its archived copy, else (result only)
    its row of the committed rl.csv."""
    old = committed_results(committed)
    results, curves = {}, {}
    for n in names:
        folder = run_folder(n, root, archive)
        if folder is not None:
            results[n] = json.loads((folder / "result.json").read_text())
            curves[n] = read_rows(folder / "curve.csv")
        elif n in old:
            results[n], curves[n] = old[n], None
    return results, curves


def plot_curves(curves: dict[str, list[dict[str, str]] | None], path: Path) -> None:
    """Real-task return against agent steps, one panel per task: runs repeated over seeds as one line, the mean
    over seeds (each seed thin); the "-select" runs repeat the training of their twins and are not drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = {n: c for n, c in curves.items() if c is not None}
    tasks = list(dict.fromkeys(RUNS[n][0] for n in drawn))
    fig, axes = plt.subplots(1, max(1, len(tasks)), figsize=(4.2 * max(1, len(tasks)), 3.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        groups: dict[str, list[str]] = {}
        for n in drawn:
            if RUNS[n][0] == task and "-select" not in n:
                groups.setdefault(seed_group(n), []).append(n)
        for g, ns in groups.items():
            k = min(len(drawn[n]) for n in ns)
            x = np.array([int(r["timesteps"]) for r in drawn[ns[0]][:k]])
            means = np.array([[float(r["eval_mean"]) for r in drawn[n][:k]] for n in ns])
            if len(ns) == 1:
                s = np.array([float(r["eval_std"]) for r in drawn[ns[0]][:k]])
                ax.plot(x, means[0], marker="o", ms=3, label=g.split("/", 1)[1])
                ax.fill_between(x, means[0] - s, means[0] + s, alpha=0.15)
                continue
            line, = ax.plot(x, means.mean(0), marker="o", ms=3, lw=2,
                            label=f"{g.split('/', 1)[1]} (mean of {len(ns)} seeds)")
            for m in means:
                ax.plot(x, m, lw=0.6, alpha=0.35, color=line.get_color())
        ax.set_title(task)
        ax.set_xlabel("agent steps (imagined for zero/few-shot)")
        ax.set_ylabel("real-task return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def measured_on(md: Path) -> str | None:
    """The date the committed page ``md`` gives its runs (``None`` without one): a page rebuilt from runs that
    are not new keeps it."""
    found = re.search(r"side by side on .*?, (\d{4}-\d{2}-\d{2})\.", md.read_text(), re.S) if md.exists() else None
    return found.group(1) if found else None


def report(names: list[str], root: Path, out: Path, archive: Path = ARCHIVE, measured: str | None = None) -> None:
    """Write ``out``/rl.md, its CSV and plots; ``measured``: the date the page gives its runs (today's if ``None``)."""
    archive_runs(names, root, archive)
    results, curves = gather(names, root, archive, out / "rl.csv")
    done = list(results)
    tasks = list(dict.fromkeys(RUNS[n][0] for n in done))
    lines = ["| task | pipeline | agent steps | real steps used | final return (mean ± std, 10 episodes) | best | "
             "vs model-free (same steps) | agent selected inside the model: real return (step) | minutes |",
             "|---|---|---|---|---|---|---|---|---|"]
    csv_rows = []
    for task in tasks:
        refs = {(results[n]["timesteps"], seed_of(n)): results[n] for n in done
                if RUNS[n][:2] == (task, "model-free") and not n.endswith("-4-updates")}  # SAC's default settings
        for n in [n for n in done if RUNS[n][0] == task]:
            r = results[n]
            ref = refs.get((r["timesteps"], seed_of(n)))  # the model-free run of as many steps, same seed
            ratio = f"{r['final_mean'] / ref['final_mean']:.0%}" if ref and ref["final_mean"] > 0 and \
                RUNS[n][1] != "model-free" else "-"
            sel = "-" if r.get("selected_mean") is None else \
                f"{r['selected_mean']:.1f}" + ("" if r.get("selected_std") is None else f" ± {r['selected_std']:.1f}") \
                + f" ({r['selected_step']:,})"
            lines.append(f"| {task} | {n.split('/', 1)[1]} | {r['timesteps']:,} | {r['real_steps']:,} | "
                         f"{r['final_mean']:.1f} ± {r['final_std']:.1f} | {r['best_mean']:.1f} | {ratio} | {sel} | "
                         f"{r['elapsed_s'] / 60:.1f} |")
            csv_rows.append({"task": task, "run": n, **{k: r.get(k) for k in ("pipeline", "timesteps", "real_steps",
                             "final_mean", "final_std", "best_mean", "selected_mean", "selected_std",
                             "selected_step", "elapsed_s")},
                             "command": "mosim rl " + " ".join(command(n, Path("runs/rl"))[4:])})
    kept_dyna = committed_lines(out / "rl.md", DYNA_HEADER)  # replaced by the rows the curves here give
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "rl.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(csv_rows[0]) if csv_rows else ["task"])
        w.writeheader()
        w.writerows(csv_rows)
    plot_curves(curves, out / "rl_curves.png")
    unarchived = [n for n in done if curves[n] is None]
    figures = "![returns vs steps](rl_curves.png)\n"
    if unarchived:
        figures += (f"\nThe curves of the {len(unarchived)} runs finished before their files were archived "
                    "(their rows above come from the committed rl.csv), as drawn then:\n\n"
                    "![returns vs steps, runs before the archive](rl_curves_unarchived.png)\n")
    sections = dyna_comparison(curves, kept_dyna) + seed_groups(done, results)
    cmds = "\n".join(f"    mosim rl {' '.join(command(n, Path('runs/rl'))[4:])}" for n in done)
    text = f"""# RL inside mosim: real-task returns

SAC (Stable-Baselines3 defaults) trained inside the pretrained mosim models (random data only: zero-shot), with
a few real steps (few-shot), with model rollouts in a real learner's buffer (Dyna), and the same SAC trained in
the real task for the same number of steps (model-free, the reference). Every agent is scored in the real task
(MuJoCo, the task's own reward): 10 deterministic episodes of 1000 steps. One torch thread per run, two runs
side by side on a 2-core x86_64 CPU ({platform.processor() or platform.machine()}), {measured or date.today()}.
Regenerate: `python benchmarks/rl_results.py` (resumes; `--report-only` rebuilds this page from the run folders
and their copies in `{archive}/`).

{chr(10).join(lines)}

{figures}{sections}
Commands (each run's folder, and its copy in `{archive}/`, also holds its full config.json and curve.csv):

{cmds}
"""
    (out / "rl.md").write_text(text)
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", default=None, help="tasks or run names")
    p.add_argument("--root", default="runs/rl", type=Path)
    p.add_argument("--out", default="results", type=Path)
    p.add_argument("--archive", default=ARCHIVE, type=Path, help="where the runs' small files are copied")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args()
    names = [n for n in RUNS if args.only is None or n in args.only or RUNS[n][0] in args.only]
    if args.only:  # in the order given
        names.sort(key=lambda n: args.only.index(n) if n in args.only else args.only.index(RUNS[n][0]))
    if not args.report_only:
        run_all(names, args.root, args.jobs)
    measured = measured_on(args.out / "rl.md") if args.report_only else None  # no new run: the page's date stays
    report(list(RUNS), args.root, args.out, args.archive, measured)  # the whole page, whatever --only ran


if __name__ == "__main__":
    main()
