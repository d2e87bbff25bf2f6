"""What the RL pipelines share: run directories (finished runs are not repeated), the result record, the OOD
penalty of a configuration and the imagined training env.

A run directory holds ``config.json`` (written first), ``curve.csv`` (one row per evaluation), ``agent.zip``
(saved at every evaluation and at the end), ``agent_selected.zip`` (zero-/few-shot with ``select``: the agent
with the best return inside the model), ``model.pt`` (few-shot and Dyna: the updated model) and
``result.json`` (written last). Calling a pipeline on a directory with a ``result.json`` of the same config
returns that result without training; a directory of another config is refused unless ``restart``; an
interrupted run (no ``result.json``) starts over.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch

from mosim.atomic import atomic_path
from mosim.errors import InvalidInputError
from mosim.loading import Simulator
from mosim.rl.configs import OODConfig

RESULT_FILE, CONFIG_FILE = "result.json", "config.json"


@dataclass(frozen=True)
class RLResult:
    """The outcome of a pipeline run."""

    out: str
    pipeline: str
    timesteps: int
    """agent env steps (imagined for zero-/few-shot, real for Dyna)"""
    real_steps: int
    """real env steps used for learning"""
    model_updates: int
    final_mean: float
    """real-task return of the final agent (mean over the evaluation episodes)"""
    final_std: float
    best_mean: float
    """the best evaluation of the run"""
    evaluations: int
    elapsed_s: float
    agent: str
    curve: str
    cached: bool = False
    """True when the run had already finished and nothing was trained"""
    selected_step: int | None = None
    """zero-/few-shot with ``select``: the step of the agent with the best return inside the model
    (``agent_selected.zip``)"""
    selected_mean: float | None = None
    """its real-task return (measured by that evaluation; the selection itself saw no real data)"""
    selected_std: float | None = None
    selected_model_mean: float | None = None
    """its return inside the model"""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def _write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


# Fields added to the configurations since runs were first saved, whose absence from a saved config.json
# does not mean their default: what a run of before them did, as the value they would have had. The agent
# selection of zero-/few-shot runs used the evaluation episodes themselves before select_seed existed.
LEGACY_VALUES: dict[str, Any] = {"select_episodes": None, "select_seed": None}


def with_new_defaults(saved: dict[str, Any], config: Any) -> dict[str, Any]:
    """A saved ``config.json`` with the top-level fields added to ``config``'s class since then set to their
    defaults (so a run finished before a field existed matches a config that leaves it at its default), or to
    what they stand for in runs of before them (:data:`LEGACY_VALUES`)."""
    out = dict(saved)
    for f in fields(config):
        if f.name not in out and f.default is not MISSING:
            out[f.name] = LEGACY_VALUES.get(f.name, f.default)
    return out


def start_run(config: Any, restart: bool = False) -> tuple[Path, RLResult | None]:
    """Prepare ``config.out``; returns ``(run dir, cached result or None)``."""
    out = Path(config.out)
    text = config.to_json()
    done = out / RESULT_FILE
    if done.is_file() and not restart:
        old = (out / CONFIG_FILE).read_text() if (out / CONFIG_FILE).is_file() else ""
        if old and with_new_defaults(json.loads(old), config) == json.loads(text):
            return out, RLResult(**{**json.loads(done.read_text()), "cached": True})
        raise InvalidInputError(f"{out} holds a finished run of another configuration; use another output "
                                "folder or restart (--restart)")
    if restart and out.exists():
        for name in (RESULT_FILE, CONFIG_FILE, "curve.csv", "agent.zip", "agent_selected.zip", "model.pt"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "tb", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    _write(out / CONFIG_FILE, json.dumps(json.loads(text), indent=2, sort_keys=True))
    return out, None


def finish_run(out: Path, pipeline: str, callback: Any, agent: Any, elapsed_s: float, real_steps: int = 0,
               model_updates: int = 0) -> RLResult:
    evals = callback.evaluations
    step, final = evals[-1]
    selected = {}
    if getattr(callback, "selected", None) is not None:
        sel_step, sel_real, sel_model = callback.selected
        selected = {"selected_step": sel_step, "selected_mean": sel_real.mean, "selected_std": sel_real.std,
                    "selected_model_mean": sel_model.mean}
    result = RLResult(out=str(out), pipeline=pipeline, timesteps=int(agent.num_timesteps), real_steps=int(real_steps),
                      model_updates=int(model_updates), final_mean=final.mean, final_std=final.std,
                      best_mean=max(e.mean for _, e in evals), evaluations=len(evals), elapsed_s=round(elapsed_s, 2),
                      agent=str(out / "agent.zip"), curve=str(out / "curve.csv"), **selected)
    _write(out / RESULT_FILE, result.to_json())
    return result


def make_ood(config: OODConfig, sim: Simulator, model_path: str | None, progress: bool = False) -> Any:
    """The :class:`~mosim.rl.ood.OODPenalty` of a configuration (``None`` when disabled)."""
    if not config.enabled:
        return None
    from mosim.data.dataset import load_dataset
    from mosim.rl.ood import DensityConfig, DensityModel, OODPenalty, density_for

    if config.density:
        path = Path(config.density)
    elif model_path:
        path = Path(model_path).parent / "density.pt"
    else:
        raise InvalidInputError("the OOD penalty needs a density file (density=...) or a model path to put it beside")
    if config.data:
        data = load_dataset(config.data, system=sim.spec.system_id)
        density = density_for(data, path, DensityConfig(steps=config.fit_steps), progress=progress)
    elif path.is_file():
        density = DensityModel.load(path, sim.spec)
    else:
        raise InvalidInputError(f"no density at {path}: pass the model's training data (--data) to fit one")
    return OODPenalty(density, c=config.c, s=config.s, weight=config.weight)


def imagined_env(sim: Simulator, n_envs: int, seed: int, horizon: int | None, ood: Any, task: str | None = None) -> Any:
    """A :class:`~mosim.rl.vec_env.MosimVecEnv` under SB3's ``VecMonitor`` (episode returns for the curve)."""
    from stable_baselines3.common.vec_env import VecMonitor

    from mosim.rl.vec_env import MosimVecEnv

    return VecMonitor(MosimVecEnv(sim, n_envs, seed=seed, max_episode_steps=horizon, ood_penalty=ood, system=task))


def set_threads(n: int) -> None:
    torch.set_num_threads(int(n))
