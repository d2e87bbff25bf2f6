"""Side-by-side MuJoCo frames of true and predicted states, frame schedules and video files."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from mosim.errors import InvalidInputError  # noqa: E402
from mosim.systems import System  # noqa: E402
from mosim.systems.layout import FREE, SLIDE  # noqa: E402
from mosim.render.compare import Comparison  # noqa: E402

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
