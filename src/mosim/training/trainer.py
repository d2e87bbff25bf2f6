"""The training loop: staged schedules, validation by rollout error, checkpoints, exact resume.

:func:`train` owns the loop; models only supply ``rollout`` and ``configure_stage``. Every
``val_every_steps`` gradient steps (and at the end of each stage) the model rolls out fixed
validation windows on its own predictions (the untrained model too, before the first step); the best
model so far is written to ``best.pt`` and the full training state to ``last.pt``, both atomically. Running the same call again resumes from
``last.pt`` exactly (same batches, same optimizer state). Ctrl-C stops at the next step boundary
after saving. A non-finite loss stops the run and keeps the last good checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError, MosimError
from mosim.integrators import compile_fn, compile_model, compiles_forces_apart
from mosim.models import ModelConfig, build_model
from mosim.models.heading import isotropic_scale
from mosim.models.identified import optimizer_groups
from mosim.models.normalization import NormalizationStats, model_inputs
from mosim.registry import lookup
from mosim.systems.base import SystemSpec
from mosim.training.averaging import WeightAverage
from mosim.training.checkpoint import load_checkpoint, save_checkpoint
from mosim.training.config import StageConfig, TrainConfig
from mosim.training.logger import RunLogger
from mosim.training.losses import ERROR_SCALES, rollout_mse_per_window, trajectory_loss
from mosim.training.windows import Windows, WindowSampler, fixed_windows, perturb_start


class TrainingDivergedError(MosimError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    best_val_mse: float
    best_path: Path
    steps: int
    samples: int
    elapsed_s: float


def cosine_lr(lr: float, progress: float, min_ratio: float) -> float:
    """Cosine decay from ``lr`` to ``lr * min_ratio`` as ``progress`` goes from 0 to 1."""
    p = min(max(progress, 0.0), 1.0)
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@contextlib.contextmanager
def _deferred_interrupt(flag: dict[str, bool]) -> Iterator[None]:
    """Turn Ctrl-C into a flag checked at step boundaries (main thread only)."""
    def handler(signum: int, frame: Any) -> None:
        flag["stop"] = True

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@torch.no_grad()
def validate(model: torch.nn.Module, windows: Windows) -> float:
    """Mean rollout MSE (raw qpos/qvel) of the model over fixed windows."""
    q, v = model.rollout(windows.qpos[:, 0], windows.qvel[:, 0], windows.action)
    err = rollout_mse_per_window(q.double(), v.double(), windows.qpos.to(q.device).double(),
                                 windows.qvel.to(q.device).double())
    return float(err.mean()) if bool(torch.isfinite(err).all()) else float("inf")


def _header(spec: SystemSpec, model_config: ModelConfig, config: TrainConfig) -> dict[str, Any]:
    return {"spec": spec.to_json(), "model_config": model_config.to_json(), "train_config": config.to_json()}


def _canonical_header(header: dict[str, Any]) -> dict[str, Any]:
    """A run's header with its training config re-serialized, so a checkpoint written before a field was added
    (with that field's default) still resumes."""
    out = {k: header.get(k) for k in ("spec", "model_config", "train_config")}
    try:
        out["train_config"] = TrainConfig.from_json(out["train_config"]).to_json()
    except (KeyError, TypeError, ValueError, MosimError):
        pass
    return out


def train(
    dataset: Dataset,
    model_config: ModelConfig,
    config: TrainConfig,
    run_dir: str | Path,
    resume: bool = True,
    progress: bool = True,
    stop_after_steps: int | None = None,
) -> TrainResult:
    """Train a model on ``dataset`` into ``run_dir`` (``best.pt``, ``last.pt``, ``log.csv``, ``tb/``).

    :param resume: continue from ``run_dir/last.pt`` if it exists (it must be the same run)
    :param stop_after_steps: stop (as if interrupted) after this many gradient steps in total
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    spec, stats = model_inputs(dataset, model_config)
    header = _header(spec, model_config, config)
    torch.manual_seed(config.seed)  # the initial weights
    model = build_model(spec, model_config, stats).to(device)
    state: dict[str, Any] = {"stage": 0, "stage_step": 0, "stage_elapsed": 0.0, "step": 0, "samples": 0,
                             "elapsed": 0.0, "best": float("inf"), "opt": None, "gen": None,
                             "stage_best": float("inf"), "since_best": 0, "carry_s": 0.0, "carry_steps": 0,
                             "ema": None}
    last = run_dir / "last.pt"
    if resume and last.exists():
        ckpt = load_checkpoint(last, map_location=device)
        if _canonical_header(ckpt) != _canonical_header(header):
            raise InvalidInputError(f"{run_dir} holds a different run (other data, model or training config); "
                                    "use another output folder or pass resume=False (--restart)")
        model.load_state_dict(ckpt["model_state"])
        state.update(ckpt["train_state"])
    else:
        if config.init_from is not None:
            _init_weights(model, config.init_from, spec, model_config, device)
        data = {"path": dataset.path, "train_episodes": len(dataset.episodes("train")),
                "val_episodes": len(dataset.episodes("val"))}  # what the run learned from, for the record
        (run_dir / "config.json").write_text(json.dumps({**{k: json.loads(v) for k, v in header.items()},
                                                         "data": data}, indent=2))
    ema = WeightAverage(model, config.ema_decay) if config.ema_decay > 0 else None
    if ema is not None and state["ema"] is not None:
        ema.load_state_dict(state["ema"])
    gen = torch.Generator().manual_seed(config.seed)
    if state["gen"] is not None:
        gen.set_state(state["gen"].cpu())  # a CPU generator's state, moved with the checkpoint to ``device``
    sampler = WindowSampler(dataset, "train", device, max_episodes=config.max_train_episodes,
                            speed_sampling=config.speed_sampling, limit_sampling=config.limit_sampling)
    horizon = min(config.val_horizon, dataset.steps)
    val = fixed_windows(dataset, "val", horizon, config.val_windows, config.seed, dtype=torch.float32)
    val = Windows(val.qpos.to(device), val.qvel.to(device), val.action.to(device))
    q_scale, v_scale = (s.to(device=device, dtype=torch.float32)
                        for s in loss_scales(spec, model_config, stats, config.error_scale))
    logger = RunLogger(run_dir)
    flag = {"stop": False}
    rollout_loss = training_loss_fn(model, q_scale, v_scale, config.compile)

    def draw(length: int) -> Windows:
        batch = sampler.sample(config.batch_size, length, gen)
        if config.input_noise:
            batch = perturb_start(batch, spec.layout, q_scale, v_scale, config.input_noise, gen)
        return batch

    def save(path: Path, full: bool) -> None:
        payload = {**header, "model_state": model.state_dict(), "active_correctors": model.active_correctors,
                   "stage_name": config.stages[min(state["stage"], len(config.stages) - 1)].name,
                   "step": state["step"]}  # 0: the untrained start
        if full:
            payload["train_state"] = {**state, "gen": gen.get_state(),
                                      "ema": None if ema is None else ema.state_dict()}
        save_checkpoint(path, payload)

    if state["step"] == 0 and not (run_dir / "best.pt").exists():  # the start is a candidate too (physics_start)
        start = validate(model, val)
        state["best"] = start if math.isfinite(start) else float("inf")
        save(run_dir / "best.pt", full=False)
    bar = tqdm(total=len(config.stages), desc="train", unit="stage", disable=not progress)
    bar.set_postfix(best=f"{state['best']:.3g}", step=state["step"])  # before the first step: the start's
    try:
        with _deferred_interrupt(flag):
            while state["stage"] < len(config.stages):
                stage = config.stages[state["stage"]]
                groups = optimizer_groups(model, model.configure_stage(stage.group), config.factor_lr_scale)
                opt = torch.optim.Adam(groups, lr=stage.lr, weight_decay=config.weight_decay)
                if state["opt"] is not None:
                    opt.load_state_dict(state["opt"])
                elif ema is not None and state["stage_step"] == 0:
                    ema.reset(model)
                bar.set_description(f"train [{stage.name}]")
                stopped = _run_stage(model, stage, config, draw, val, rollout_loss, opt, state, logger,
                                     save, run_dir, flag, stop_after_steps, bar, ema)
                if stopped:
                    save(last, full=True)
                    if flag["stop"]:
                        raise KeyboardInterrupt
                    break
                if ema is not None:
                    ema.copy_to(model)  # the stage's result, and what later stages build on, is the average
                _carry_leftover(stage, state)
                state.update(stage=state["stage"] + 1, stage_step=0, stage_elapsed=0.0, opt=None,
                             stage_best=float("inf"), since_best=0)
                save(last, full=True)
                bar.update()
    finally:
        bar.close()
        logger.close()
    return TrainResult(run_dir, state["best"], run_dir / "best.pt", state["step"], state["samples"], state["elapsed"])


def _init_weights(model: torch.nn.Module, path: str, spec: SystemSpec, model_config: ModelConfig,
                  device: torch.device) -> None:
    """Load the weights (and normalization statistics) of the checkpoint ``path`` into a fresh ``model``."""
    ckpt = load_checkpoint(path, map_location=device)
    for what, theirs, ours in (("system", SystemSpec.from_json(ckpt["spec"]), spec),
                               ("model config", ModelConfig.from_checkpoint_json(ckpt["model_config"]), model_config)):
        if theirs != ours:
            raise InvalidInputError(f"{path}: a checkpoint of another {what} than this run's; init_from needs a "
                                    "checkpoint of the same system and model config")
    model.load_state_dict(ckpt["model_state"])


def stage_progress(stage: StageConfig, state: dict[str, Any]) -> float:
    """Fraction of the stage's budget used, the budget including what earlier stages left over."""
    p = 0.0
    if stage.budget_s is not None:
        p = max(p, state["stage_elapsed"] / (stage.budget_s + state["carry_s"]))
    if stage.max_steps is not None:
        p = max(p, state["stage_step"] / (stage.max_steps + state["carry_steps"]))
    return p


def _carry_leftover(stage: StageConfig, state: dict[str, Any]) -> None:
    """After a stage ends on a plateau, hand its unused budget to the next stage."""
    if stage.budget_s is not None:
        state["carry_s"] = max(0.0, stage.budget_s + state["carry_s"] - state["stage_elapsed"])
    if stage.max_steps is not None:
        state["carry_steps"] = max(0, stage.max_steps + state["carry_steps"] - state["stage_step"])


def loss_scales(spec: SystemSpec, model_config: ModelConfig, stats: NormalizationStats,
                error_scale: str = "standardized") -> tuple[torch.Tensor, torch.Tensor]:
    """The per-entry scales of the trajectory loss's position and velocity errors: the std of the one-step changes,
    made the same for a free joint's ``x`` and ``y`` when measured in heading frames (the loss compares states in
    MuJoCo's world frame), then :data:`~mosim.training.losses.ERROR_SCALES` ``[error_scale]``."""
    q_scale, v_scale = stats.delta_q.std, stats.delta_v.std
    if model_config.uses_heading_frame:
        q_scale, v_scale = (isotropic_scale(spec.layout, s) for s in (q_scale, v_scale))
    scale = lookup(ERROR_SCALES, error_scale, "error scale")
    return scale(q_scale), scale(v_scale)


def training_loss_fn(model: torch.nn.Module, q_scale: torch.Tensor, v_scale: torch.Tensor,
                     compile_: bool) -> Callable[[Windows], torch.Tensor]:
    """The training loss of a batch of windows: the model's own objective if it has one (the baselines), else
    the trajectory loss of its rollout (compiled with ``compile_``: the loss and the model's rollout, forward and
    backward, one graph; for a model that solves its contacts on a CPU, its forces only, the solve eager, where the
    whole graph ran 0.38x the eager samples per second on cheetah-run and the forces' graph 1.33x)."""
    if hasattr(model, "training_loss"):
        return lambda batch: model.training_loss(batch, q_scale, v_scale)
    layout = model.spec.layout

    def loss(q0: torch.Tensor, v0: torch.Tensor, action: torch.Tensor, q_true: torch.Tensor,
             v_true: torch.Tensor) -> torch.Tensor:
        q, v = model.rollout(q0, v0, action)
        return trajectory_loss(layout, q, v, q_true, v_true, q_scale, v_scale)

    if compile_ and compiles_forces_apart(model):
        compile_model(model, "forces")  # as compile_model's auto at a training batch
    elif compile_:
        loss = compile_fn(loss)
    return lambda b: loss(b.qpos[:, 0], b.qvel[:, 0], b.action, b.qpos, b.qvel)


def _run_stage(model, stage: StageConfig, config: TrainConfig, draw: Callable[[int], Windows], val: Windows,
               rollout_loss, opt, state, logger, save, run_dir: Path, flag, stop_after_steps, bar,
               ema: WeightAverage | None = None) -> bool:
    """Train one stage from ``state``; return True when stopped early (interrupt or ``stop_after_steps``)."""
    losses: list[float] = []
    t_last = time.perf_counter()

    def progress() -> float:
        return stage_progress(stage, state)

    while progress() < 1.0:
        if flag["stop"] or (stop_after_steps is not None and state["step"] >= stop_after_steps):
            state["opt"] = opt.state_dict()
            return True
        lr = cosine_lr(stage.lr, progress(), config.min_lr_ratio)
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)
        loss = rollout_loss(draw(stage.horizon))
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"the training loss became {loss.item()} at step {state['step']} (stage {stage.name!r}); training "
                f"stopped. The last good checkpoints are {run_dir / 'best.pt'} and {run_dir / 'last.pt'}. "
                "Try a lower learning rate or a smaller grad_clip")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], config.grad_clip)
        opt.step()
        if ema is not None:
            ema.update(model)
        losses.append(loss.item())
        now = time.perf_counter()
        state["stage_elapsed"] += now - t_last
        state["elapsed"] += now - t_last
        t_last = now
        state["step"] += 1
        state["stage_step"] += 1
        state["samples"] += config.batch_size * stage.horizon
        if state["stage_step"] % config.val_every_steps == 0 or progress() >= 1.0:
            with ema.swapped_in(model) if ema is not None else nullcontext():
                val_mse = validate(model, val)
                if val_mse < state["best"] or not (run_dir / "best.pt").exists():
                    state["best"] = min(val_mse, state["best"])
                    save(run_dir / "best.pt", full=False)
            row = {"stage": state["stage"], "stage_name": stage.name, "step": state["step"],
                   "stage_step": state["stage_step"], "samples": state["samples"],
                   "elapsed_s": round(state["elapsed"], 3), "lr": lr, "train_loss": float(np.mean(losses)),
                   "val_mse": val_mse}
            logger.log(row)
            losses.clear()
            state["opt"] = opt.state_dict()
            if val_mse < state["stage_best"] * (1 - config.min_improvement):
                state["stage_best"], state["since_best"] = val_mse, 0
            else:
                state["since_best"] += 1
            save(run_dir / "last.pt", full=True)
            bar.set_postfix(val_mse=f"{val_mse:.3g}", best=f"{state['best']:.3g}", step=state["step"])
            t_last = time.perf_counter()  # validation and saving do not count against the budget
            last_stage = state["stage"] == len(config.stages) - 1
            plateau = config.patience and state["since_best"] >= config.patience
            if plateau and progress() >= config.min_stage_share and (not last_stage or config.plateau_ends_training):
                break  # plateau: the stage's leftover budget goes to the next stage
    state["opt"] = None
    return False
