"""Helpers of the model tests (a module with a unique name, imported by the test files): small hand-written
robots covering every joint type, spec construction and random states."""

from __future__ import annotations

import mujoco
import torch

from mosim.models import ModelConfig
from mosim.systems.base import SystemSpec
from mosim.systems.layout import JointLayout

# A floating torso with a ball-jointed arm, a limited elbow, an unlimited wrist and a slide finger:
# nq = 7 + 4 + 1 + 1 + 1 = 14, nv = 6 + 3 + 1 + 1 + 1 = 12.
ZOO_XML = """
<mujoco>
  <worldbody>
    <geom type="plane" size="5 5 .1"/>
    <body name="torso" pos="0 0 1">
      <freejoint name="root"/>
      <geom type="sphere" size=".1"/>
      <body name="arm" pos=".2 0 0">
        <joint name="shoulder" type="ball"/>
        <geom type="capsule" fromto="0 0 0 .3 0 0" size=".04"/>
        <body name="fore" pos=".3 0 0">
          <joint name="elbow" type="hinge" axis="0 1 0" limited="true" range="-90 90"/>
          <geom type="capsule" fromto="0 0 0 .3 0 0" size=".03"/>
          <body name="hand" pos=".3 0 0">
            <joint name="wrist" type="hinge" axis="1 0 0"/>
            <joint name="finger" type="slide" axis="1 0 0" limited="true" range="0 .1"/>
            <geom type="box" size=".05 .02 .02"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="elbow" ctrlrange="-1 1" ctrllimited="true"/>
    <motor joint="wrist" ctrlrange="-1 1" ctrllimited="true"/>
  </actuator>
</mujoco>
"""

# A planar runner like dm_control's cheetah: horizontal root slide, vertical slide, pitch hinge, a leg.
PLANAR_XML = """
<mujoco>
  <worldbody>
    <geom type="plane" size="5 5 .1"/>
    <body name="torso" pos="0 0 1">
      <joint name="rootx" type="slide" axis="1 0 0"/>
      <joint name="rootz" type="slide" axis="0 0 1"/>
      <joint name="rooty" type="hinge" axis="0 1 0"/>
      <geom type="capsule" fromto="-.5 0 0 .5 0 0" size=".05"/>
      <body name="thigh" pos="0 0 0">
        <joint name="hip" type="hinge" axis="0 1 0" limited="true" range="-60 60"/>
        <geom type="capsule" fromto="0 0 0 0 0 -.4" size=".04"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="hip" ctrlrange="-1 1" ctrllimited="true"/>
  </actuator>
</mujoco>
"""

TINY = ModelConfig(
    inertia_width=16, inertia_blocks=1, force_width=16, force_blocks=1, action_hidden=(8,),
    n_correctors=2, corrector_width=16, corrector_blocks=1,
)


def spec_of(xml: str, system_id: str, integrator: str = "euler", dt: float = 0.01) -> SystemSpec:
    model = mujoco.MjModel.from_xml_string(xml)
    layout = JointLayout.from_model(model)
    return SystemSpec(
        system_id=system_id, nq=model.nq, nv=model.nv, nu=model.nu, dt=dt, physics_dt=dt, substeps=1,
        integrator=integrator, action_low=(-1.0,) * model.nu, action_high=(1.0,) * model.nu, layout=layout,
    )


def random_state(spec: SystemSpec, batch: int, seed: int = 0, dtype: torch.dtype = torch.float64):
    """Random ``(q (B, nq), v (B, nv), a (B, nu))`` with unit quaternions."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, spec.nq, generator=g, dtype=dtype)
    for s in spec.layout.quaternion_slices():
        q[:, s] = q[:, s] / q[:, s].norm(dim=-1, keepdim=True)
    v = torch.randn(batch, spec.nv, generator=g, dtype=dtype)
    a = torch.rand(batch, spec.nu, generator=g, dtype=dtype) * 2 - 1
    return q, v, a


def assert_unit_quaternions(spec: SystemSpec, q: torch.Tensor, tol: float = 1e-5) -> None:
    for s in spec.layout.quaternion_slices():
        norms = q[..., s].norm(dim=-1)
        assert torch.allclose(norms, torch.ones_like(norms), atol=tol), norms


def random_stats(spec: SystemSpec, seed: int = 0):
    """Non-trivial normalization statistics (random means, stds in [0.5, 2]) for a spec without data."""
    from mosim.models import MeanStd, NormalizationStats, position_feature_dim

    g = torch.Generator().manual_seed(seed)

    def ms(d: int, scale: float = 1.0) -> MeanStd:
        return MeanStd(
            torch.randn(d, generator=g, dtype=torch.float64) * 0.1 * scale,
            (0.5 + 1.5 * torch.rand(d, generator=g, dtype=torch.float64)) * scale,
        )

    nv = spec.nv
    return NormalizationStats(
        position=ms(position_feature_dim(spec.layout)), velocity=ms(nv), action=ms(spec.nu),
        acceleration=ms(nv, 10.0), delta_q=ms(nv, spec.dt), delta_v=ms(nv, 10.0 * spec.dt),
    )
