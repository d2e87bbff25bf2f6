"""Robots from MJCF files (any file a user has, and MuJoCo Menagerie's Panda and Go2).

Without a task, the reset distribution is a keyframe (the first one, usually ``home``) perturbed
by uniform noise: ``qpos_noise`` on hinge and slide joints (clipped to their ranges), a small
position and orientation perturbation of free joints, and ``qvel_noise`` on every velocity.
"""

from __future__ import annotations

import os
from pathlib import Path

import mujoco
import numpy as np

from mosim.errors import InvalidInputError
from mosim.systems.base import System
from mosim.systems.layout import BALL, FREE, HINGE, SLIDE


def _random_small_rotation(rng: np.random.Generator, scale: float) -> np.ndarray:
    """A unit quaternion of a rotation by a random axis and angle in [0, scale]."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis) + 1e-12
    angle = rng.uniform(0.0, scale)
    quat = np.empty(4)
    mujoco.mju_axisAngle2Quat(quat, axis, angle)
    return quat


class MJCFSystem(System):
    """A MuJoCo model reset around a keyframe.

    :param model: a compiled model
    :param system_id: the name recorded in datasets (``mjcf:<path>`` for user files)
    :param substeps: physics steps per model step
    :param keyframe: name of the keyframe to reset around (default: the first, or ``qpos0``)
    :param qpos_noise: half-width of the uniform noise on hinge/slide positions (rad or m)
    :param qvel_noise: half-width of the uniform noise on velocities
    :param free_pos_noise: half-width of the uniform noise on free-joint positions (m)
    :param free_rot_noise: largest random rotation of free/ball joints (rad)
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        system_id: str,
        substeps: int = 1,
        keyframe: str | None = None,
        qpos_noise: float = 0.1,
        qvel_noise: float = 0.1,
        free_pos_noise: float = 0.02,
        free_rot_noise: float = 0.1,
    ) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.system_id = system_id
        self.substeps = int(substeps)
        self.qpos_noise, self.qvel_noise = qpos_noise, qvel_noise
        self.free_pos_noise, self.free_rot_noise = free_pos_noise, free_rot_noise
        if keyframe is not None:
            key_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_KEY, keyframe)
            if key_id < 0:
                names = [model.key(i).name for i in range(model.nkey)]
                raise InvalidInputError(f"{system_id}: no keyframe {keyframe!r}; the model has {names}")
            self.key_id: int | None = key_id
        else:
            self.key_id = 0 if model.nkey > 0 else None
        self._finish_init()

    def _initialize_episode(self, rng: np.random.Generator, seed: int | None) -> None:
        m, d = self.model, self.data
        if self.key_id is not None:
            mujoco.mj_resetDataKeyframe(m, d, self.key_id)
        qpos, qvel = d.qpos.copy(), d.qvel.copy()
        lay = self.layout
        for j, (t, a) in enumerate(zip(lay.types, lay.qpos_adr)):
            if t in (HINGE, SLIDE):
                qpos[a] += rng.uniform(-self.qpos_noise, self.qpos_noise)
                if lay.limited[j]:
                    lo, hi = lay.ranges[j]
                    qpos[a] = np.clip(qpos[a], lo, hi)
            elif t == FREE:
                qpos[a : a + 3] += rng.uniform(-self.free_pos_noise, self.free_pos_noise, size=3)
                out = np.empty(4)
                mujoco.mju_mulQuat(out, qpos[a + 3 : a + 7], _random_small_rotation(rng, self.free_rot_noise))
                qpos[a + 3 : a + 7] = out / np.linalg.norm(out)
            elif t == BALL:
                out = np.empty(4)
                mujoco.mju_mulQuat(out, qpos[a : a + 4], _random_small_rotation(rng, self.free_rot_noise))
                qpos[a : a + 4] = out / np.linalg.norm(out)
        qvel += rng.uniform(-self.qvel_noise, self.qvel_noise, size=self.nv)
        d.qpos[:] = qpos
        d.qvel[:] = qvel
        if self.key_id is not None and m.nu:
            d.ctrl[:] = m.key_ctrl[self.key_id]


def load_mjcf(path: str | os.PathLike[str], substeps: int = 1, **reset_kwargs: float) -> MJCFSystem:
    """A system from any MJCF file: ``mosim collect --system mjcf:path/to/robot.xml``."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidInputError(f"MJCF file {str(p)!r} does not exist; give the path of a MuJoCo XML model")
    try:
        model = mujoco.MjModel.from_xml_path(str(p))
    except ValueError as e:
        raise InvalidInputError(f"MuJoCo cannot compile {str(p)!r}: {e}") from None
    return MJCFSystem(model, f"mjcf:{p.resolve()}", substeps=substeps, **reset_kwargs)


MENAGERIE_ROBOTS = {
    "panda": ("franka_emika_panda", {"qpos_noise": 0.2, "qvel_noise": 0.1}),
    "go2": ("unitree_go2", {"qpos_noise": 0.1, "qvel_noise": 0.1, "free_pos_noise": 0.02, "free_rot_noise": 0.1}),
}


def load_menagerie(name: str, substeps: int = 1) -> MJCFSystem:
    """The Panda or the Go2 from MuJoCo Menagerie (``scene.xml``, with the floor), via ``mujoco_menagerie``."""
    import mujoco_menagerie

    robot, reset_kwargs = MENAGERIE_ROBOTS[name]
    try:
        model = mujoco_menagerie.load(robot)
    except Exception as e:  # the package raises several types for missing/undownloadable models
        raise InvalidInputError(
            f"could not load Menagerie robot {robot!r} for system {name!r}: {e}. Offline, set MENAGERIE_ROOT "
            "to a folder holding <robot>/scene.xml (e.g. a mujoco_menagerie checkout)."
        ) from None
    return MJCFSystem(model, name, substeps=substeps, keyframe="home", **reset_kwargs)
