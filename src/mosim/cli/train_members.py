"""``mosim train --members K``: an ensemble of K runs of one recipe, differing only in their seed.

Member k trains into ``OUT/member-k`` with seed ``SEED + k``, as its own ``mosim train`` process (``--jobs``
at a time, ``--threads`` each: on a CPU, one thread per job and as many jobs as cores). Each member keeps
the budget given, so the wall time is about ``K / jobs`` budgets. Running the same command again resumes
every member where it stopped (a finished member returns at once). Then the ensemble, the members'
rollouts averaged (:func:`mosim.load_ensemble`), is scored on the test split into ``OUT/scores.json``, and
``OUT/ensemble.json`` lists the members with their own scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mosim.errors import InvalidInputError

OWN_OPTIONS = ("--members", "--jobs", "--out", "--seed")
"""options of the ensemble run that each member gets its own value of (or none)"""


def member_argv(argv: list[str], out: Path, seed: int) -> list[str]:
    """``argv`` of ``mosim train`` without :data:`OWN_OPTIONS` (spelled ``--opt V`` or ``--opt=V``), plus the member's
    own ``--out`` and ``--seed``."""
    kept, skip = [], False
    for tok in argv:
        if skip:
            skip = False
            continue
        name = tok.split("=", 1)[0]
        if name in OWN_OPTIONS:
            skip = "=" not in tok
            continue
        kept.append(tok)
    return [*kept, "--out", str(out), "--seed", str(seed)]


def train_members(args: argparse.Namespace, out: Path, test_ds: Any) -> int:
    """Train the members (see the module docstring), then score their ensemble on ``test_ds``'s test split."""
    from mosim.benchmark.runner import run_parallel
    from mosim.cli import build_parser
    from mosim.cli.train_cmd import write_scores
    from mosim.ensemble import load_ensemble

    argv = list(getattr(args, "_argv", None) or [])
    if not argv:
        raise InvalidInputError("--members needs the command line it was given (run it through `mosim train`)")
    jobs = []
    for k in range(args.members):
        m_out = out / f"member-{k}"
        m_argv = member_argv(argv, m_out, args.seed + k)
        check = build_parser().parse_args(["train", *m_argv])
        if check.members != 1 or check.out != str(m_out):
            raise InvalidInputError("spell --members, --jobs, --out and --seed in full with --members (abbreviated, "
                                    "they cannot be told apart from the members' own options)")
        cmd = [sys.executable, "-m", "mosim.cli", "train", *m_argv, *([] if "--quiet" in m_argv else ["--quiet"])]
        jobs.append((f"member {k} (seed {args.seed + k})", cmd, m_out / "stdout.txt"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"training {args.members} members into {out}/member-*, {args.jobs} at a time (logs: member-*/stdout.txt)")
    run_parallel(jobs, args.jobs)
    failed = [str(out / f"member-{k}") for k in range(args.members) if not (out / f"member-{k}" / "best.pt").exists()]
    if failed:
        raise InvalidInputError(f"members without a best.pt: {', '.join(failed)}; see their stdout.txt, then run the "
                                "same command again to resume")
    members = {f"member-{k}": {"seed": args.seed + k} for k in range(args.members)}
    for name, info in members.items():
        path = out / name / "scores.json"
        if path.exists():
            info["scores"] = json.loads(path.read_text())
    if not args.no_score:
        def alone(s: Any) -> str:
            solo = [x["mse"] for m in members.values() for x in m.get("scores", []) if x["horizon"] == s.horizon]
            return f"  (members alone: {min(solo):.4g} to {max(solo):.4g})" if solo else ""

        write_scores(load_ensemble(out, device="cpu"), test_ds, out, "ensemble test", alone)
    (out / "ensemble.json").write_text(json.dumps({"members": members, "combine": "trajectories"}, indent=2))
    print(f"wrote {out}/member-*/ and {out}/ensemble.json; load the ensemble with mosim.load_ensemble({str(out)!r})")
    return 0
