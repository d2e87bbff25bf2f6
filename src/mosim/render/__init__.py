"""See a learned simulator's predictions: MuJoCo's motion and mosim's, side by side, in a video.

Both halves are rendered by MuJoCo (``mujoco.Renderer`` on the system's own model) from the same start
state under the same actions: the left half shows the true states (a dataset episode, or MuJoCo stepped
from the start state), the right half the states the learned model predicted open loop. A label bar on
top of each half names it ("MuJoCo" / "mosim"); the camera is shared, so a drift of the prediction shows
as a drift on screen. ::

    from mosim.render import render
    render("runs/reacher/best.pt", "reacher.mp4", data="data/reacher.h5", episode=0, steps=200,
           plot="reacher.png")

or ``mosim render --model runs/reacher/best.pt --data data/reacher.h5 --out reacher.mp4 --plot reacher.png``.

Rendering is offscreen: ``MUJOCO_GL=egl`` is used unless ``MUJOCO_GL`` is set (set it to ``osmesa`` where
there is no EGL, or ``glfw`` on a desktop).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from mosim.errors import InvalidInputError  # noqa: E402
from mosim.systems import System, make_system  # noqa: E402
from mosim.systems.base import SystemSpec  # noqa: E402
from mosim.render.compare import Comparison, compare, random_actions, simulate  # noqa: E402
from mosim.render.frames import (  # noqa: E402
    SideBySideRenderer,
    frame_schedule,
    render_frames,
    write_video,
)

def default_entries(spec: SystemSpec) -> list[int]:
    """State entries worth plotting: up to 3 positions (not the root's horizontal position) and the first velocity."""
    skip = set(spec.layout.horizontal_root_qpos())
    return [i for i in range(spec.nq) if i not in skip][:3] + [spec.nq]


def plot_comparison(comparison: Comparison, spec: SystemSpec, path: str | os.PathLike[str],
                    entries: Sequence[int] | None = None) -> Path:
    """A PNG of chosen entries of ``concat(qpos, qvel)`` over time: true, predicted, and the error
    (predicted - true)."""
    from mosim.plots import plot_trajectories, state_labels

    entries = list(default_entries(spec) if entries is None else entries)
    n = spec.nq + spec.nv
    bad = [i for i in entries if not 0 <= int(i) < n]
    if bad or not entries:
        raise InvalidInputError(f"plot entries must be indices into concat(qpos, qvel), 0..{n - 1}; "
                                f"got {bad or entries}")
    true, pred = comparison.true_states, comparison.pred_states
    title = (f"{spec.system_id}: {comparison.steps}-step open-loop prediction"
             f"{' (' + comparison.source + ')' if comparison.source else ''}; MSE {comparison.mse():.3g}")
    return plot_trajectories(true, {"mosim": pred, "error (mosim - MuJoCo)": pred - true}, state_labels(spec.layout),
                             [int(i) for i in entries], path, comparison.dt, title)


# --------------------------------------------------------------------------------------------- one call
@dataclass(frozen=True)
class RenderResult:
    """What :func:`render` wrote."""

    video: Path | None
    plot: Path | None
    frames: int
    fps: float
    comparison: Comparison


def resolve_system(spec: SystemSpec, system: System | str | None = None, mjcf: str | os.PathLike[str] | None = None
                   ) -> System:
    """The system that draws (and, without a dataset, simulates) a model of ``spec``: the model's own system id, or
    another id / MJCF file of the same robot (e.g. when the MJCF file has moved since training)."""
    from mosim.systems import load_mjcf

    if mjcf is not None:
        system = load_mjcf(mjcf, substeps=spec.substeps)
    elif system is None or isinstance(system, str):
        system = make_system(system or spec.system_id, substeps=spec.substeps)
    problems = [p for p in system.spec().mismatches(spec) if not p.startswith("system_id")]
    if problems:
        raise InvalidInputError(f"the model is of system {spec.system_id!r}, which differs from {system.system_id!r} "
                                f"({'; '.join(problems)}); render with the robot the model was trained on")
    return system


def render(model: Any, out: str | os.PathLike[str] | None = None, *, data: Any = None, episode: int = 0,
           split: str = "test", start: int = 0, steps: int | None = None, seed: int = 0,
           system: System | str | None = None, mjcf: str | os.PathLike[str] | None = None, width: int = 320,
           height: int = 240, camera: str | int = "auto", max_fps: float = 60.0,
           plot: str | os.PathLike[str] | None = None, entries: Sequence[int] | None = None, labels: bool = True,
           progress: bool = True, device: str = "cpu") -> RenderResult:
    """Render true vs predicted motion side by side into ``out`` (``.mp4`` or ``.gif``), and optionally a plot.

    :param model: a checkpoint path (``best.pt``) or a loaded :class:`mosim.loading.Simulator`
    :param out: the video file (None: no video, e.g. only ``plot``)
    :param data: a dataset (path or :class:`mosim.Dataset`) of the model's system: the start state, the actions
        and the true motion are those of an episode. None: the system's own random initial state (``seed``) and
        random actions within its bounds, the true motion simulated by MuJoCo.
    :param episode: index of the episode within ``split`` (``all``: the file's own numbering)
    :param split: ``train``, ``val``, ``test`` or ``all``
    :param start: first step of the episode shown
    :param steps: steps shown (default: 200, or the rest of the episode if shorter)
    :param system: system id (or System) that draws the robot (default: the model's); ``mjcf``: an MJCF file
    :param width: width of each half; ``height``: frame height
    :param camera: see :class:`SideBySideRenderer`
    :param max_fps: the video plays in real time (``1/dt`` frames per second) up to this rate; above it, every
        k-th step is shown
    :param plot: a PNG of ``entries`` of ``concat(qpos, qvel)`` over time, true vs predicted with the error
    """
    from mosim.loading import Simulator, load

    sim = model if isinstance(model, Simulator) else load(model, device=device)
    spec = sim.spec
    sys_ = resolve_system(spec, system, mjcf)
    if steps is not None and steps < 1:
        raise InvalidInputError(f"steps must be >= 1, got {steps}")
    if data is not None:
        comparison = _from_dataset(sim, sys_, data, episode, split, start, steps)
    else:
        n = 200 if steps is None else int(steps)
        q0, v0 = sys_.reset(seed)
        comparison = compare(sim, q0, v0, random_actions(sys_, n, seed), system=sys_,
                             source=f"random actions, seed {seed}")
    video, n_frames, fps = None, 0, 0.0
    if out is not None:
        indices, fps = frame_schedule(comparison.steps, comparison.dt, max_fps)
        with SideBySideRenderer(sys_, width, height, camera, labels) as r:
            n_frames = write_video(render_frames(comparison, r, indices, progress), out, fps)
        video = Path(out)
    plot_path = plot_comparison(comparison, spec, plot, entries) if plot is not None else None
    return RenderResult(video, plot_path, n_frames, fps, comparison)


def restore_episode_task(system: System, seed: int, index: int, qpos0: np.ndarray, qvel0: np.ndarray) -> bool:
    """Reset ``system`` as ``mosim collect`` did for episode ``index`` of a dataset collected with ``seed``, so that
    the task's per-episode randomization that is not part of the state (reacher's target, ...) is the episode's.
    Returns whether the reset reproduced the episode's start state (else the randomization is another one)."""
    from mosim.data.episode import episode_rngs

    q, v = system.reset(episode_rngs(seed, index)[0])
    return bool(np.allclose(q, qpos0, rtol=0, atol=1e-9) and np.allclose(v, qvel0, rtol=0, atol=1e-9))


def _from_dataset(sim: Any, system: System, data: Any, episode: int, split: str, start: int, steps: int | None
                  ) -> Comparison:
    from mosim.data.dataset import Dataset, load_dataset
    from mosim.data.format import check_system

    ds = data if isinstance(data, Dataset) else load_dataset(data)
    check_system(str(ds.path), ds.spec, sim.spec)
    if split == "all":
        pool = np.arange(ds.n_episodes)
    else:
        pool = ds.episodes(split)
    if len(pool) == 0:
        raise InvalidInputError(f"{ds.path}: the {split} split has no episodes; pass --split all or another split")
    if not 0 <= episode < len(pool):
        raise InvalidInputError(f"{ds.path}: episode {episode} does not exist; the {split} split has {len(pool)} "
                                f"episodes (0..{len(pool) - 1})")
    if not 0 <= start < ds.steps:
        raise InvalidInputError(f"start must be in 0..{ds.steps - 1} (episodes have {ds.steps} steps), got {start}")
    n = min(200, ds.steps - start) if steps is None else int(steps)
    if start + n > ds.steps:
        raise InvalidInputError(f"start {start} + steps {n} runs past the episode's end ({ds.steps} steps); "
                                f"use at most --steps {ds.steps - start}")
    e = int(pool[episode])
    restore_episode_task(system, ds.meta.seed, e, ds.qpos[e, 0], ds.qvel[e, 0])  # draw the episode's own scene
    sl = slice(start, start + n + 1)
    w = min(start, 4)  # the start state and up to 4 true states before it
    warmup = None
    if w and getattr(sim, "needs_warmup", False):
        warmup = (ds.qpos[e, start - w:start], ds.qvel[e, start - w:start], ds.action[e, start - w:start])
    where = f"{'' if split == 'all' else split + ' '}episode {episode}, steps {start}-{start + n}"
    return compare(sim, ds.qpos[e, start], ds.qvel[e, start], ds.action[e, start:start + n],
                   true=(ds.qpos[e, sl], ds.qvel[e, sl]), warmup=warmup, source=where)


__all__ = [
    "Comparison",
    "RenderResult",
    "SideBySideRenderer",
    "compare",
    "default_entries",
    "frame_schedule",
    "plot_comparison",
    "random_actions",
    "render",
    "render_frames",
    "resolve_system",
    "restore_episode_task",
    "simulate",
    "write_video",
]
