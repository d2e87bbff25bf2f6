"""Learning curves: evaluation in the real task every N agent steps, written to a CSV as it goes."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from mosim.atomic import atomic_path
from mosim.rl.configs import EvalConfig
from mosim.rl.real_env import Evaluation, RealEnv, evaluate

CURVE_FIELDS = ("timesteps", "real_steps", "model_updates", "imagined_steps", "eval_mean", "eval_std", "eval_min", "eval_max",
                "train_return", "train_ood_penalty", "diverged", "elapsed_s", "eval_returns", "model_eval_mean")
"""columns of ``curve.csv``: agent steps, real env steps used for learning so far, model updates, imagined
transitions put into the replay buffer (Dyna), the real
task's return over the evaluation episodes (mean, std, min, max), the mean return of recent training episodes
(imagined for zero-/few-shot, with the penalty), the mean OOD penalty per step and the number of diverged
imagined episodes since the previous row, wall-clock seconds, every episode's return (``;``-separated), and
(zero-/few-shot with ``select``) the return of the same episodes inside the model"""


class CurveLog:
    """The rows of ``curve.csv``, rewritten atomically after each row."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append({k: row.get(k, "") for k in CURVE_FIELDS})
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CURVE_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        with atomic_path(self.path, durable=False) as tmp:
            tmp.write_text(buf.getvalue())


def read_curve(path: str | Path) -> list[dict[str, str]]:
    """The rows of a ``curve.csv`` as dicts of strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


class RealEvalCallback(BaseCallback):
    """Every ``config.every`` agent steps: evaluate the agent in ``env`` and log a row (and call ``on_eval``).

    :param counters: extra columns at evaluation time (``real_steps``, ``model_updates``)
    :param in_model: also evaluate the agent inside the model (``agent -> Evaluation``, e.g. a
        :class:`~mosim.rl.evaluation.ModelEvaluator`); the evaluation with the best imagined return so far is
        :attr:`selected`, and ``on_select`` is called when it changes (to save that agent)
    """

    def __init__(self, env: RealEnv, config: EvalConfig, log: CurveLog,
                 counters: Callable[[], dict[str, Any]] | None = None,
                 on_eval: Callable[[], None] | None = None, progress: bool = False,
                 in_model: Callable[[Any], Evaluation] | None = None,
                 on_select: Callable[[], None] | None = None) -> None:
        super().__init__(verbose=0)
        self.env, self.config, self.log = env, config, log
        self.counters, self.on_eval, self.progress = counters, on_eval, progress
        self.in_model, self.on_select = in_model, on_select
        self.selected: tuple[int, Evaluation, Evaluation] | None = None
        """``(step, real evaluation, imagined evaluation)`` of the agent with the best imagined return"""
        self.next_eval = config.every
        self.last_eval_step = -1
        self.evaluations: list[tuple[int, Evaluation]] = []
        self.t0 = time.perf_counter()
        self._penalties: list[float] = []
        self._diverged = 0

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            if "ood_penalty" in info:
                self._penalties.append(float(info["ood_penalty"]))
            self._diverged += bool(info.get("diverged", False))
        if self.num_timesteps >= self.next_eval:
            self.evaluate_now()
            while self.next_eval <= self.num_timesteps:
                self.next_eval += self.config.every
        return True

    def finish(self) -> None:
        """Evaluate at the end of training unless the last evaluation was at the final step."""
        if self.last_eval_step != self.model.num_timesteps:
            self.evaluate_now()

    def evaluate_now(self) -> Evaluation:
        c = self.config
        ev = evaluate(self.model, self.env, c.episodes, c.seed)
        step = int(self.model.num_timesteps)
        self.last_eval_step = step
        self.evaluations.append((step, ev))
        ep_info = getattr(self.model, "ep_info_buffer", None) or []
        row = {"timesteps": step, "real_steps": 0, "model_updates": 0, "imagined_steps": 0, "eval_mean": ev.mean, "eval_std": ev.std,
               "eval_min": min(ev.returns), "eval_max": max(ev.returns),
               "train_return": float(np.mean([e["r"] for e in ep_info])) if ep_info else "",
               "train_ood_penalty": float(np.mean(self._penalties)) if self._penalties else "",
               "diverged": self._diverged, "elapsed_s": round(time.perf_counter() - self.t0, 2),
               "eval_returns": ";".join(f"{r:.6g}" for r in ev.returns), **(self.counters() if self.counters else {})}
        self._penalties, self._diverged = [], 0
        if self.in_model is not None:
            imagined = self.in_model(self.model)
            row["model_eval_mean"] = imagined.mean
            if self.selected is None or imagined.mean > self.selected[2].mean:
                self.selected = (step, ev, imagined)
                if self.on_select is not None:
                    self.on_select()
        self.log.add(row)
        if self.on_eval is not None:
            self.on_eval()
        if self.progress:
            print(f"step {step:>8}: real return {ev.mean:8.2f} ± {ev.std:.2f} ({c.episodes} episodes)"
                  + (f", in the model {row['model_eval_mean']:.2f}" if self.in_model is not None else "")
                  + (f", real steps {row['real_steps']}" if row["real_steps"] else ""), flush=True)
        return ev
