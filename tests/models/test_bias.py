"""MuJoCo's bias forces (Coriolis, centrifugal, gravity) computed from the kinematics and inertias, against mj_rne."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from mosim.errors import InvalidInputError
from mosim.models import ModelConfig
from mosim.models.bias import bias_forces
from mosim.models.inertia import KnownInertia
from mosim.systems import BodyInertias, ContactGeometry, make_system

from model_helpers import ZOO_XML


def _states(model: mujoco.MjModel, n: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """``n`` random states (positions about ``qpos0``, quaternions made unit) and MuJoCo's ``qfrc_bias`` there."""
    rng = np.random.default_rng(seed)
    data = mujoco.MjData(model)
    rows = []
    for _ in range(n):
        data.qpos[:] = model.qpos0 + rng.normal(size=model.nq) * 0.3
        mujoco.mj_normalizeQuat(model, data.qpos)
        data.qvel[:] = rng.normal(size=model.nv) * 2.0
        mujoco.mj_forward(model, data)
        rows.append((data.qpos.copy(), data.qvel.copy(), data.qfrc_bias.copy()))
    return tuple(torch.tensor(np.stack(x)) for x in zip(*rows))


def _known(system: str) -> tuple[mujoco.MjModel, KnownInertia]:
    model = mujoco.MjModel.from_xml_string(ZOO_XML) if system == "zoo" else make_system(system).model
    return model, KnownInertia(ContactGeometry.from_model(model), BodyInertias.from_model(model), model.nv).double()


@pytest.mark.parametrize("system", ["panda", "go2", "humanoid-walk", "cheetah-run", "acrobot-swingup", "zoo"])
def test_bias_forces_are_mujocos(system: str) -> None:
    """Hinges, slides, a free joint (go2, humanoid), and free, ball, hinge and slide joints in one robot (zoo): MuJoCo's qfrc_bias to rounding, at random states, also of one
    unbatched state in float32."""
    model, inertia = _known(system)
    q, v, want = _states(model, 16)
    got = bias_forces(q, v, inertia.geometry, inertia.constants(torch.float64), model.nv)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10 * (1 + want.abs().max().item()))
    one = bias_forces(q[0].float(), v[0].float(), inertia.geometry, inertia.constants(torch.float32), model.nv)
    torch.testing.assert_close(one, want[0].float(),
                               rtol=1e-4, atol=1e-4 * (1 + want.abs().max().item()))  # unbatched, float32


def test_gravity_is_read_and_old_records_get_mujocos_default() -> None:
    model = make_system("cheetah-run").model
    assert BodyInertias.from_model(model).gravity == tuple(float(g) for g in model.opt.gravity)
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_GRAVITY)
    record = BodyInertias.from_model(model)
    assert record.gravity == (0.0, 0.0, 0.0) and BodyInertias.from_json(record.to_json()) == record
    old = {k: v for k, v in record.to_dict().items() if k != "gravity"}
    assert BodyInertias.from_dict(old).gravity == (0.0, 0.0, -9.81)


def test_bias_gradients() -> None:
    """Gradients in the state against finite differences (float64)."""
    model, inertia = _known("acrobot-swingup")
    q, v, _ = _states(model, 2, seed=1)
    consts = inertia.constants(torch.float64)
    assert torch.autograd.gradcheck(lambda q_, v_: bias_forces(q_, v_, inertia.geometry, consts, model.nv),
                                    (q.requires_grad_(), v.requires_grad_()))


def test_known_bias_needs_the_inertia_and_the_actuation_known() -> None:
    with pytest.raises(InvalidInputError, match="known_bias"):
        ModelConfig(known_bias=True, contact_constraints=True)
    with pytest.raises(InvalidInputError, match="known_bias"):
        ModelConfig(known_bias=True, known_inertia=True)
    assert ModelConfig(known_bias=True, known_inertia=True, known_actuation=True).known_bias


SPRINGS_XML = """
<mujoco>
  <worldbody>
    <body name="a">
      <joint name="h" type="hinge" axis="0 1 0" stiffness="3" springref="0.4" ref="0.1"/>
      <geom type="capsule" fromto="0 0 0 .3 0 0" size=".03"/>
      <body name="b" pos=".3 0 0">
        <joint name="s" type="slide" axis="1 0 0" stiffness="50" springref="-0.05"/>
        <geom type="box" size=".05 .05 .05"/>
        <body name="c" pos=".1 0 0">
          <joint name="b" type="ball" stiffness="2"/>
          <geom type="capsule" fromto="0 0 0 .2 0 0" size=".02"/>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


@pytest.mark.parametrize("system", ["cheetah-run", "humanoid-walk", "xml"])
def test_spring_forces_are_mujocos(system: str) -> None:
    """The hinges' and slides' springs (a springref, a joint ref) equal MuJoCo's qfrc_spring; a ball joint's spring
    is counted as not covered; a model that disables springs has none."""
    model = mujoco.MjModel.from_xml_string(SPRINGS_XML) if system == "xml" else make_system(system).model
    inertia = KnownInertia(ContactGeometry.from_model(model), BodyInertias.from_model(model), model.nv).double()
    record = inertia.inertias
    assert record.spring_dof and record.other_springs == (1 if system == "xml" else 0)
    assert BodyInertias.from_json(record.to_json()) == record
    rng = np.random.default_rng(0)
    data = mujoco.MjData(model)
    for _ in range(10):
        data.qpos[:] = model.qpos0 + rng.normal(size=model.nq) * 0.3
        mujoco.mj_normalizeQuat(model, data.qpos)
        mujoco.mj_forward(model, data)
        got = inertia.passive(torch.tensor(data.qpos), torch.tensor(data.qvel), damped=False).numpy()
        want = data.qfrc_spring.copy()
        if system == "xml":
            want[2:] = 0.0  # the ball joint's three dofs: not covered
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_SPRING)
    assert not BodyInertias.from_model(model).spring_dof


def test_known_passive_needs_the_bias_known() -> None:
    with pytest.raises(InvalidInputError, match="known_passive"):
        ModelConfig(known_passive=True, known_inertia=True, known_actuation=True)
    assert ModelConfig(known_passive=True, known_bias=True, known_inertia=True, known_actuation=True).known_passive
