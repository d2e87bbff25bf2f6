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

import math
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from mosim.errors import InvalidInputError  # noqa: E402
from mosim.systems import System, make_system  # noqa: E402
from mosim.systems.base import SystemSpec  # noqa: E402
from mosim.systems.layout import FREE, SLIDE  # noqa: E402

VIDEO_SUFFIXES = (".mp4", ".gif", ".mov", ".mkv", ".webm", ".avi")
TRUE_COLOR = (40, 40, 40)
"""label bar of the true (MuJoCo) half: near black, as the true line of the plots"""
PRED_COLOR = (31, 119, 180)
"""label bar of the predicted (mosim) half: matplotlib's first color, as the predicted line of the plots"""
DIVERGED_COLOR = (200, 40, 40)


def _use_headless_gl() -> None:
    """Make ``mujoco.Renderer`` work without a display when the user did not choose a GL backend.

    MuJoCo reads ``MUJOCO_GL`` once, when it is imported; mosim imports it early, so setting the variable
    here can come too late. Then the default (GLFW, which needs a display) is swapped for EGL.
    """
    if sys.platform != "linux" or os.environ.get("MUJOCO_GL", "").lower().strip() != "egl":
        return
    try:
        from mujoco.rendering.classic import gl_context
    except ImportError:  # another MuJoCo layout: rely on the environment variable
        return
    if getattr(gl_context, "_MUJOCO_GL", None) == "":  # MuJoCo was imported before MUJOCO_GL was set
        try:
            from mujoco.egl import GLContext
        except (ImportError, OSError, AttributeError):
            return
        gl_context.GLContext = GLContext

# --------------------------------------------------------------------------------------------- trajectories
@dataclass(frozen=True)
class Comparison:
    """True and predicted motion from one start state under one action sequence.

    ``true_qpos``/``pred_qpos (T+1, nq)``, ``true_qvel``/``pred_qvel (T+1, nv)``, ``actions (T, nu)``; index 0
    is the shared start state.
    """

    true_qpos: np.ndarray
    true_qvel: np.ndarray
    pred_qpos: np.ndarray
    pred_qvel: np.ndarray
    actions: np.ndarray
    dt: float
    source: str = ""
    """where the start state and actions came from, for titles"""

    @property
    def steps(self) -> int:
        return int(self.actions.shape[0])

    @property
    def true_states(self) -> np.ndarray:
        """``concat(qpos, qvel)`` of the true motion, ``(T+1, nq+nv)``."""
        return np.concatenate([self.true_qpos, self.true_qvel], axis=-1)

    @property
    def pred_states(self) -> np.ndarray:
        return np.concatenate([self.pred_qpos, self.pred_qvel], axis=-1)

    def diverged_at(self) -> int | None:
        """First step whose prediction is NaN/inf, or None."""
        bad = ~(np.isfinite(self.pred_qpos).all(-1) & np.isfinite(self.pred_qvel).all(-1))
        return int(np.argmax(bad)) if bad.any() else None

    def mse(self) -> float:
        """Mean squared error of the prediction over all predicted steps (raw qpos/qvel)."""
        err = self.pred_states[1:] - self.true_states[1:]
        return float(np.mean(err**2)) if err.size else 0.0


def simulate(system: System, qpos0: np.ndarray, qvel0: np.ndarray, actions: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """MuJoCo's motion: ``system`` stepped from ``(qpos0, qvel0)`` under ``actions (T, nu)``."""
    system.set_state(qpos0, qvel0)
    qs, vs = [np.asarray(qpos0, dtype=np.float64).copy()], [np.asarray(qvel0, dtype=np.float64).copy()]
    for a in actions:
        q, v = system.step(a)
        qs.append(q)
        vs.append(v)
    return np.stack(qs), np.stack(vs)


def compare(sim: Any, qpos0: np.ndarray, qvel0: np.ndarray, actions: np.ndarray, system: System | None = None,
            true: tuple[np.ndarray, np.ndarray] | None = None, warmup: tuple[Any, Any, Any] | None = None,
            source: str = "") -> Comparison:
    """Predict ``actions (T, nu)`` open loop from ``(qpos0, qvel0)`` with ``sim`` (a :class:`mosim.loading.Simulator`),
    next to the true motion: ``true=(qpos (T+1, nq), qvel (T+1, nv))`` if given (a dataset episode), else
    ``system`` stepped by MuJoCo."""
    actions = np.asarray(actions, dtype=np.float64)
    if true is None:
        if system is None:
            raise InvalidInputError("compare: give the true motion (true=(qpos, qvel)) or a system to simulate it")
        true = simulate(system, qpos0, qvel0, actions)
    q0, v0 = np.asarray(qpos0, dtype=np.float64), np.asarray(qvel0, dtype=np.float64)
    pq, pv = sim.rollout(q0, v0, actions, warmup=warmup)
    pq, pv = np.array(pq, dtype=np.float64), np.array(pv, dtype=np.float64)
    pq[0], pv[0] = q0, v0  # the start state itself (not its round trip through the model's float32)
    return Comparison(np.asarray(true[0], dtype=np.float64), np.asarray(true[1], dtype=np.float64), pq, pv, actions,
                      sim.spec.dt, source)


def random_actions(system: System, steps: int, seed: int = 0, hold: float = 3.0, p_zero: float = 0.2) -> np.ndarray:
    """``(steps, nu)`` random actions within the system's bounds (mosim's random collection policy)."""
    from mosim.data.policies import RandomPolicy

    policy = RandomPolicy(hold=hold, p_zero=p_zero)
    policy.bind(system.action_low, system.action_high)
    policy.reset(np.random.default_rng(np.random.SeedSequence([int(seed), 0x2E4D])))
    return policy.plan(int(steps))


# --------------------------------------------------------------------------------------------- rendering
def _root_body(model: mujoco.MjModel, system: System) -> int | None:
    """The body of a robot whose root moves horizontally (free joint, or a horizontal root slide) as its first
    joint: a locomotion system, which the camera should follow. None for fixed-base robots."""
    lay = system.layout
    if lay.njnt == 0:
        return None
    t = lay.types[0]
    if lay.on_root[0] and (t == FREE or (t == SLIDE and not lay.limited[0] and abs(lay.axes[0][2]) < 1e-6)):
        return int(model.jnt_bodyid[0])
    return None


def _label_font(size: int) -> Any:
    try:
        from PIL import ImageFont
    except ImportError:
        return None
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()
    except OSError:
        return None


class SideBySideRenderer:
    """Renders a true and a predicted state of one system into one ``(H, 2W, 3)`` uint8 frame.

    :param system: the system whose MuJoCo model draws both halves
    :param width: width of each half in pixels (rounded up to an even number: video codecs need one)
    :param height: height in pixels (rounded up to an even number), label bar included
    :param camera: ``auto`` (follow the root of a locomotion robot; else the model's first camera, else MuJoCo's
        default free camera), ``track`` (follow body 1), ``free`` (MuJoCo's default free camera), or a camera
        name or index of the model
    :param labels: draw a label bar ("MuJoCo" / "mosim") on top of each half
    """

    def __init__(self, system: System, width: int = 320, height: int = 240, camera: str | int = "auto",
                 labels: bool = True) -> None:
        if int(width) < 16 or int(height) < 16:
            raise InvalidInputError(f"frame size must be at least 16 x 16 pixels, got {width} x {height}")
        _use_headless_gl()
        self.system = system
        self.model = system.model
        self.width, self.height = int(width) + int(width) % 2, int(height) + int(height) % 2
        self.labels = labels
        self.label_height = max(12, self.height // 12) if labels else 0
        vis = self.model.vis.global_
        vis.offwidth, vis.offheight = max(int(vis.offwidth), self.width), max(int(vis.offheight), self.height)
        self._data = mujoco.MjData(self.model)
        self._camera, self._follow = self._make_camera(camera)
        self._font = _label_font(max(8, self.label_height - 4)) if labels else None
        try:
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
        except Exception as e:  # noqa: BLE001  (MuJoCo raises several types when no GL context can be made)
            raise InvalidInputError(
                f"MuJoCo cannot render offscreen here ({type(e).__name__}: {e}). Set MUJOCO_GL=egl (a GPU or "
                "Mesa's EGL), MUJOCO_GL=osmesa (software) or MUJOCO_GL=glfw (a desktop) before starting Python"
            ) from None

    def _make_camera(self, camera: str | int) -> tuple[Any, int | None]:
        model = self.model
        if isinstance(camera, str) and camera not in ("auto", "track", "free"):
            if camera.lstrip("-").isdigit():
                camera = int(camera)
            elif mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
                names = [model.camera(i).name for i in range(model.ncam)]
                raise InvalidInputError(f"{self.system.system_id}: no camera {camera!r}; the model has {names} "
                                        "(or use auto, track, free)")
            else:
                return camera, None
        if isinstance(camera, (int, np.integer)):
            if not -1 <= int(camera) < model.ncam:
                raise InvalidInputError(f"{self.system.system_id}: camera index {camera} out of range; the model has "
                                        f"{model.ncam} cameras (-1: the default free camera)")
            if int(camera) >= 0:
                return int(camera), None
            camera = "free"
        follow = None
        if camera == "track":
            follow = 1 if model.nbody > 1 else None
        elif camera == "auto":
            follow = _root_body(model, self.system)
            if follow is None and model.ncam > 0:
                return 0, None
        cam = mujoco.MjvCamera()
        mujoco.mjv_defaultFreeCamera(model, cam)
        if follow is not None:
            # a free camera whose target follows the TRUE root: both halves share it, so drift shows; seen from
            # the side (looking along +y), slightly from above, at the distance of MuJoCo's default view
            cam.azimuth, cam.elevation = 90.0, -15.0
        return cam, follow

    def _set(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        d = self._data
        if self.model.nmocap:  # scenery a task places with mocap bodies lives in the system's data
            d.mocap_pos[:], d.mocap_quat[:] = self.system.data.mocap_pos, self.system.data.mocap_quat
        d.qpos[:] = qpos
        d.qvel[:] = qvel
        mujoco.mj_forward(self.model, d)

    def _draw(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        self._set(qpos, qvel)
        self._renderer.update_scene(self._data, camera=self._camera)
        return np.asarray(self._renderer.render(), dtype=np.uint8).copy()

    def frame(self, true_qpos: np.ndarray, true_qvel: np.ndarray, pred_qpos: np.ndarray, pred_qvel: np.ndarray,
              time_s: float | None = None, diverged: bool = False) -> np.ndarray:
        """One ``(height, 2 * width, 3)`` uint8 frame: the true state left, the predicted state right."""
        if self._follow is not None:
            self._set(true_qpos, true_qvel)
            self._camera.lookat[:] = self._data.subtree_com[self._follow]
        left = self._draw(true_qpos, true_qvel)
        right = self._draw(pred_qpos, pred_qvel)
        if self.labels:
            t = "" if time_s is None else f"  t={time_s:.2f}s"
            self._label(left, "MuJoCo" + t, TRUE_COLOR)
            self._label(right, "mosim (diverged)" if diverged else "mosim", DIVERGED_COLOR if diverged else PRED_COLOR)
        return np.concatenate([left, right], axis=1)

    def _label(self, img: np.ndarray, text: str, color: tuple[int, int, int]) -> None:
        img[: self.label_height] = color
        if self._font is None:
            return
        from PIL import Image, ImageDraw

        bar = Image.fromarray(img[: self.label_height])
        ImageDraw.Draw(bar).text((4, 1), text, fill=(255, 255, 255), font=self._font)
        img[: self.label_height] = np.asarray(bar)

    def close(self) -> None:
        self._renderer.close()

    def __enter__(self) -> SideBySideRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def frame_schedule(steps: int, dt: float, max_fps: float) -> tuple[list[int], float]:
    """Steps to show and the playback rate: real time (``1/dt`` frames per second), every ``k``-th step when
    ``1/dt`` exceeds ``max_fps``. The last step is always shown."""
    if max_fps <= 0:
        raise InvalidInputError(f"max_fps must be positive, got {max_fps}")
    every = max(1, math.ceil((1.0 / dt) / max_fps - 1e-9))
    idx = list(range(0, steps + 1, every))
    if idx[-1] != steps:
        idx.append(steps)
    return idx, 1.0 / (every * dt)


def render_frames(comparison: Comparison, renderer: SideBySideRenderer, indices: Iterable[int] | None = None,
                  progress: bool = False) -> Iterable[np.ndarray]:
    """Frames of a comparison (all steps unless ``indices``); a diverged prediction holds its last finite state."""
    from tqdm.auto import tqdm

    idx = list(range(comparison.steps + 1)) if indices is None else list(indices)
    div = comparison.diverged_at()
    c = comparison
    for i in tqdm(idx, desc="render", unit="frame", disable=not progress):
        diverged = div is not None and i >= div
        j = max(div - 1, 0) if diverged else i
        yield renderer.frame(c.true_qpos[i], c.true_qvel[i], c.pred_qpos[j], c.pred_qvel[j], time_s=i * c.dt,
                             diverged=diverged)


def write_video(frames: Iterable[np.ndarray], path: str | os.PathLike[str], fps: float) -> int:
    """Write frames to ``path``: MP4 (and other ffmpeg containers) via imageio-ffmpeg, GIF via imageio.

    Written beside ``path`` under a temporary name and renamed into place; returns the number of frames.
    (A GIF writer may merge identical consecutive frames; an MP4 keeps every frame.)
    """
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise InvalidInputError("writing videos needs imageio and imageio-ffmpeg: pip install 'mosim[video]'") from None

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise InvalidInputError(f"{path}: unknown video type {path.suffix!r}; use one of {', '.join(VIDEO_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    if suffix == ".gif":
        writer = imageio.get_writer(tmp, mode="I", duration=1000.0 / fps, loop=0)
    else:
        writer = imageio.get_writer(tmp, fps=fps, codec="libx264" if suffix in (".mp4", ".mov", ".mkv", ".avi")
                                    else None, quality=7, macro_block_size=2, ffmpeg_log_level="error")
    n = 0
    try:
        with writer:
            for f in frames:
                writer.append_data(f)
                n += 1
        if n == 0:
            raise InvalidInputError("no frames to write")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n


# --------------------------------------------------------------------------------------------- plots
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
