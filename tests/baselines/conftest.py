"""Fixtures of the baseline tests: a small hand-written robot (hinge, slide and free joints) and a tiny
reacher dataset. Tests run on one torch thread (the machine's cores are shared)."""

from __future__ import annotations

from pathlib import Path

import mujoco
import pytest
import torch

import mosim
from mosim.systems.base import SystemSpec
from mosim.systems.layout import JointLayout

torch.set_num_threads(1)

# A floating ball next to a two-joint arm (hinge + slide): nq = 7 + 2, nv = 6 + 2, nu = 2.
ROBOT_XML = """
<mujoco>
  <worldbody>
    <geom type="plane" size="5 5 .1"/>
    <body name="ball" pos="0 0 1"><freejoint/><geom type="sphere" size=".1"/></body>
    <body name="arm" pos="1 0 .5">
      <joint name="shoulder" type="hinge" axis="0 1 0"/>
      <geom type="capsule" fromto="0 0 0 .3 0 0" size=".04"/>
      <body name="fore" pos=".3 0 0">
        <joint name="slider" type="slide" axis="1 0 0" limited="true" range="0 .2"/>
        <geom type="box" size=".05 .02 .02"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="shoulder" ctrlrange="-2 2" ctrllimited="true"/>
    <motor joint="slider" ctrlrange="-1 1" ctrllimited="true"/>
  </actuator>
</mujoco>
"""


@pytest.fixture(scope="session")
def robot_spec() -> SystemSpec:
    model = mujoco.MjModel.from_xml_string(ROBOT_XML)
    return SystemSpec(
        system_id="robot", nq=model.nq, nv=model.nv, nu=model.nu, dt=0.01, physics_dt=0.01, substeps=1,
        integrator="euler", action_low=(-2.0, -1.0), action_high=(2.0, 1.0), layout=JointLayout.from_model(model),
    )


def random_inputs(spec: SystemSpec, batch: tuple[int, ...], steps: int, seed: int = 0):
    """Random ``q (..., nq)`` with unit quaternions, ``v (..., nv)``, ``actions (..., T, nu)`` in the control range."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, spec.nq, generator=g)
    for s in spec.layout.quaternion_slices():
        q[..., s] = q[..., s] / q[..., s].norm(dim=-1, keepdim=True)
    v = torch.randn(*batch, spec.nv, generator=g)
    low, high = torch.tensor(spec.action_low), torch.tensor(spec.action_high)
    a = low + (high - low) * torch.rand(*batch, steps, spec.nu, generator=g)
    return q, v, a


@pytest.fixture(scope="session")
def reacher(tmp_path_factory: pytest.TempPathFactory) -> mosim.Dataset:
    """12 random episodes of reacher-easy, 60 steps each (10 train / 1 val / 1 test)."""
    out = Path(tmp_path_factory.mktemp("data")) / "reacher.h5"
    cfg = mosim.CollectConfig(system="reacher-easy", out=str(out), episodes=12, steps=60, workers=1, seed=5)
    return mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))


@pytest.fixture(scope="session")
def make_inputs():
    """:func:`random_inputs` as a fixture (test modules cannot import a conftest)."""
    return random_inputs
