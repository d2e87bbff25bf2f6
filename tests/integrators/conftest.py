"""Fixtures of the integrator tests: small MJCF models, MuJoCo as an acceleration oracle, hand-made layouts."""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np
import pytest
import torch

from mosim.systems.layout import BALL, FREE, HINGE, SLIDE, JointLayout

AccFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# two chained ball joints and a hinge, a free box with an asymmetric inertia, a slider; no contacts, no damping
TINY_XML = """
<mujoco>
  <option timestep="{timestep}" integrator="{integrator}"><flag contact="disable"/></option>
  <worldbody>
    <body name="a" pos="0 0 1">
      <joint name="ball1" type="ball"/>
      <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.05"/>
      <body name="b" pos="0.3 0 0">
        <joint name="ball2" type="ball"/>
        <geom type="box" size="0.1 0.05 0.02" pos="0.1 0 0"/>
        <body name="c" pos="0.2 0 0">
          <joint name="hinge" type="hinge" axis="0 1 0"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.2" size="0.03"/>
        </body>
      </body>
    </body>
    <body name="box" pos="1 0 1">
      <freejoint/>
      <geom type="box" size="0.05 0.15 0.3"/>
    </body>
    <body name="slider" pos="-1 0 1">
      <joint name="slide" type="slide" axis="1 0 0"/>
      <geom type="sphere" size="0.1"/>
    </body>
  </worldbody>
</mujoco>
"""


def tiny_model(integrator: str = "Euler", timestep: float = 0.01) -> mujoco.MjModel:
    """The tiny model (nq = 4+4+1+7+1 = 17, nv = 3+3+1+6+1 = 14) with the given MuJoCo integrator."""
    return mujoco.MjModel.from_xml_string(TINY_XML.format(integrator=integrator, timestep=timestep))


@pytest.fixture
def make_tiny() -> Callable[..., mujoco.MjModel]:
    return tiny_model


def random_state(
    model: mujoco.MjModel, n: int, rng: np.random.Generator, vmax: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random states: qpos around ``qpos0`` with random unit quaternions, qvel uniform in ``[-vmax, vmax]``."""
    qpos = model.qpos0 + rng.uniform(-1.0, 1.0, size=(n, model.nq))
    for j in range(model.njnt):
        jtype = int(model.jnt_type[j])
        adr = int(model.jnt_qposadr[j]) + (3 if jtype == FREE else 0)
        if jtype in (FREE, BALL):
            quat = rng.normal(size=(n, 4))
            qpos[:, adr : adr + 4] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
    return qpos, rng.uniform(-vmax, vmax, size=(n, model.nv))


@pytest.fixture
def state_sampler() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    return random_state


def mujoco_acc(model: mujoco.MjModel, ctrl: np.ndarray | None = None) -> AccFn:
    """MuJoCo's forward dynamics as an ``acc_fn``: ``qacc`` at ``(q, v)`` with ``ctrl`` held (no gradients)."""
    data = mujoco.MjData(model)
    if ctrl is not None:
        data.ctrl[:] = ctrl

    @torch.no_grad()
    def acc(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        qs = q.detach().cpu().double().numpy().reshape(-1, model.nq)
        vs = v.detach().cpu().double().numpy().reshape(-1, model.nv)
        out = np.empty_like(vs)
        for i in range(len(qs)):
            data.qpos[:] = qs[i]
            data.qvel[:] = vs[i]
            mujoco.mj_forward(model, data)
            out[i] = data.qacc
        return torch.from_numpy(out).reshape(v.shape).to(v)

    return acc


@pytest.fixture
def mj_acc() -> Callable[..., AccFn]:
    return mujoco_acc


def linear_layout(types: tuple[int, ...]) -> JointLayout:
    """A layout of hinge/slide joints only (one coordinate each), without a MuJoCo model."""
    n = len(types)
    assert all(t in (HINGE, SLIDE) for t in types)
    return JointLayout(
        nq=n,
        nv=n,
        names=tuple(f"j{i}" for i in range(n)),
        types=types,
        qpos_adr=tuple(range(n)),
        qvel_adr=tuple(range(n)),
        limited=(False,) * n,
        ranges=((0.0, 0.0),) * n,
        axes=((0.0, 0.0, 1.0),) * n,
        on_root=(True,) * n,
    )


def rigid_body_layout(joint_type: int) -> JointLayout:
    """One ball joint (nq 4, nv 3) or one free joint (nq 7, nv 6), without a MuJoCo model."""
    nq, nv = (4, 3) if joint_type == BALL else (7, 6)
    return JointLayout(
        nq=nq,
        nv=nv,
        names=("root",),
        types=(joint_type,),
        qpos_adr=(0,),
        qvel_adr=(0,),
        limited=(False,),
        ranges=((0.0, 0.0),),
        axes=((0.0, 0.0, 1.0),),
        on_root=(True,),
    )


def rigid_body_acc(inertia: tuple[float, float, float], gravity: float = 9.81) -> AccFn:
    """Torque-free rigid body: Euler's equations ``dω/dt = I^-1 (-ω × Iω)`` for the body-frame angular velocity
    (the last 3 velocities); a free joint's linear velocity falls with ``gravity`` along -z."""

    def acc(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        diag = torch.tensor(inertia, dtype=v.dtype)
        w = v[..., -3:]
        dw = -torch.linalg.cross(w, diag * w, dim=-1) / diag
        if v.shape[-1] == 3:
            return dw
        lin = torch.zeros_like(w)
        lin[..., 2] = -gravity
        return torch.cat([lin, dw], dim=-1)

    return acc


@pytest.fixture
def spinning_body() -> Callable[[int], tuple]:
    """``make(joint_type) -> (layout, acc_fn, q0 (1, nq), v0 (1, nv))``: an asymmetric body (inertia 1, 2, 3) on a
    ball or free joint, spinning near its unstable middle axis, so that its angular velocity turns fast."""

    def make(joint_type: int) -> tuple:
        layout = rigid_body_layout(joint_type)
        quat = torch.tensor([0.3, -0.5, 0.7, 0.4], dtype=torch.float64)
        quat = quat / quat.norm()
        w = torch.tensor([2.0, 0.3, -1.5], dtype=torch.float64)
        if joint_type == FREE:
            q0 = torch.cat([torch.tensor([0.1, 0.2, 1.0], dtype=torch.float64), quat])[None]
            v0 = torch.cat([torch.tensor([0.5, -0.2, 3.0], dtype=torch.float64), w])[None]
        else:
            q0, v0 = quat[None], w[None]
        return layout, rigid_body_acc((1.0, 2.0, 3.0)), q0, v0

    return make


@pytest.fixture
def oscillator_layout() -> JointLayout:
    """A hinge and a slide: two independent harmonic oscillators."""
    return linear_layout((HINGE, SLIDE))
