"""Joint equality constraints: our rows and solve against MuJoCo's own, and the record that keeps them."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from mosim.models.limits import LimitSolver, equality_rows
from mosim.systems.limits import LimitConstraints

# Two hinges coupled by a quartic (every polycoef nonzero, both joints off qpos0 = their ref), a slide held at an
# offset alone, an impedance curve of both power pieces, refsafe raising a time constant, a direct solref, a limit
# beside them, the joints' damping (implicit in the Euler step) and an inactive equality, which is not read.
EQUALITY_XML = """
<mujoco>
  <compiler angle="radian"/>
  <option timestep="0.005"/>
  <worldbody>
    <body name="a">
      <joint name="h1" type="hinge" axis="0 1 0" ref="0.2" damping="0.05"/>
      <geom type="capsule" fromto="0 0 0 .3 0 0" size=".03" contype="0" conaffinity="0"/>
      <body name="b" pos=".3 0 0">
        <joint name="h2" type="hinge" axis="0 1 0" ref="-0.3" range="-1.2 1.2"/>
        <geom type="capsule" fromto="0 0 0 .3 0 0" size=".03" contype="0" conaffinity="0"/>
        <body name="c" pos=".3 0 0">
          <joint name="s1" type="slide" axis="1 0 0"/>
          <geom type="box" size=".05 .05 .05" contype="0" conaffinity="0"/>
          <body name="d" pos=".1 0 0">
            <joint name="h3" type="hinge" axis="0 0 1"/>
            <geom type="capsule" fromto="0 0 0 .2 0 0" size=".02" contype="0" conaffinity="0"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <equality>
    <joint joint1="h1" joint2="h2" polycoef="0.1 0.5 0.3 -0.2 0.05" solref="0.02 0.7" solimp="0.8 0.95 0.1 0.4 2"/>
    <joint joint1="s1" polycoef="0.05 0 0 0 0" solref="0.004 1" solimp="0.9 0.99 0.01 0.5 2"/>
    <joint joint1="h3" polycoef="0.3 0 0 0 0" solref="-3000 -40"/>
    <joint joint1="h3" joint2="h1" active="false"/>
  </equality>
</mujoco>
"""


def _model(extra: str = "") -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(EQUALITY_XML.replace("</equality>", extra + "</equality>"))


def _states(model: mujoco.MjModel, n: int, seed: int = 0):
    """States off every equality by up to a few tenths (both pieces of the impedance curves), speeds of a few units,
    MuJoCo's ``mj_forward`` run on each."""
    rng = np.random.default_rng(seed)
    data = mujoco.MjData(model)
    for _ in range(n):
        data.qpos[:] = model.qpos0 + rng.normal(size=model.nq) * rng.choice([0.003, 0.3])
        data.qvel[:] = rng.normal(size=model.nv) * 2.0
        mujoco.mj_forward(model, data)
        yield data


def _as_tensors(limits: LimitConstraints) -> list[torch.Tensor]:
    n = limits.n_equalities
    return [torch.tensor(limits.equality_qpos).reshape(n, 2), torch.tensor(limits.equality_dof).reshape(n, 2),
            *(torch.tensor(getattr(limits, f"equality_{k}"), dtype=torch.float64)
              for k in ("ref", "poly", "stiffness", "damping", "solimp", "diag"))]


def test_equality_rows_are_mujocos() -> None:
    """Each active joint equality's Jacobian row, aref and R equal MuJoCo's efc_J, efc_aref and efc_R; the pair's
    second row is the first's opposite; the inactive equality and the other kinds (a connect) are not read."""
    model = _model('<connect body1="d" body2="world" anchor="0 0 0"/>')
    limits = LimitConstraints.from_model(model)
    assert limits.n_equalities == 3 and limits.equality_qpos == ((0, 1), (2, -1), (3, -1))
    assert limits.equality_ref[0] == pytest.approx((0.2, -0.3))
    joint_eqs = {0: 0, 1: 1, 2: 2}  # MuJoCo's equality id -> our row
    width = set()
    for data in _states(model, 40):
        t = lambda x: torch.as_tensor(np.array(x))[None]  # noqa: E731
        jac, aref, reg, active = (x[0] for x in equality_rows(t(data.qpos), t(data.qvel), *_as_tensors(limits),
                                                              nv=model.nv))
        assert active.all() and torch.equal(jac[3:], -jac[:3]) and torch.equal(aref[3:], -aref[:3])
        efc_j = data.efc_J.reshape(data.nefc, model.nv) if data.nefc else np.zeros((0, model.nv))
        seen = 0
        for e in range(data.nefc):
            if data.efc_type[e] != mujoco.mjtConstraint.mjCNSTR_EQUALITY or data.efc_id[e] not in joint_eqs:
                continue
            i = joint_eqs[int(data.efc_id[e])]
            np.testing.assert_allclose(jac[i].numpy(), efc_j[e], rtol=1e-12, atol=1e-12)
            assert aref[i].item() == pytest.approx(data.efc_aref[e], rel=1e-9, abs=1e-9)
            assert reg[i].item() == pytest.approx(data.efc_R[e], rel=1e-9)
            width.add(abs(data.efc_pos[e]) < 0.1) if i == 0 else None
            seen += 1
        assert seen == 3
    assert width == {True, False}


def test_equality_solve_is_mujocos_step() -> None:
    """With MuJoCo's M⁻¹ and unconstrained acceleration, the equalities and the limit solved together (Newton's
    method: no contacts) give the velocity change of MuJoCo's Euler step, damping implicit; without the equalities
    the solve misses by far."""
    model = _model()
    limits = LimitConstraints.from_model(model)
    assert len(limits) == 1 and limits.implicit_damping
    solver = LimitSolver(limits, newton_iterations=30).double()
    without = LimitSolver(LimitConstraints.from_dict({**limits.to_dict(), **{
        k: () for k in limits.to_dict() if k.startswith("equality_")}})).double()
    worst_without = 0.0
    for data in _states(model, 40, seed=1):
        minv = np.zeros((model.nv, model.nv))
        mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
        a_net = data.qacc_smooth + minv @ (np.array(limits.implicit_damping) * data.qvel)
        t = lambda x: torch.as_tensor(np.array(x))[None]  # noqa: E731
        ours = solver(t(data.qpos), t(data.qvel), t(a_net), t(minv))[0].numpy()
        after = mujoco.MjData(model)
        after.qpos[:], after.qvel[:] = data.qpos, data.qvel
        mujoco.mj_step(model, after)
        want = (after.qvel - data.qvel) / model.opt.timestep
        scale = np.abs(want).max() + 1.0
        np.testing.assert_allclose(ours / scale, want / scale, atol=1e-7)
        other = without(t(data.qpos), t(data.qvel), t(a_net), t(minv))[0].numpy()
        worst_without = max(worst_without, np.abs(other - want).max() / scale)
    assert worst_without > 0.1


def test_equality_solve_gradients() -> None:
    """Gradients of the solve with the equalities with respect to the unconstrained acceleration, M⁻¹ and the
    positions (float64)."""
    model = _model()
    limits = LimitConstraints.from_model(model)
    solver = LimitSolver(limits, newton_iterations=30).double()
    data = next(iter(_states(model, 1, seed=5)))
    q, v = torch.tensor(data.qpos)[None].requires_grad_(), torch.tensor(data.qvel)[None]
    a0 = torch.tensor(data.qacc_smooth)[None].requires_grad_()
    chol = torch.linalg.cholesky(torch.eye(model.nv, dtype=torch.float64) * 2 + 0.3)[None].requires_grad_()
    assert torch.autograd.gradcheck(lambda q_, a, c: solver(q_, v, a, c @ c.transpose(-1, -2)), (q, a0, chol))


def test_records_without_equalities_load() -> None:
    """A record written before the equalities were kept loads with none, and its solve is the limits' alone."""
    limits = LimitConstraints.from_model(_model())
    old = {k: v for k, v in limits.to_dict().items() if not k.startswith("equality_")}
    again = LimitConstraints.from_dict(old)
    assert again.n_equalities == 0 and again.dof == limits.dof
    assert LimitConstraints.from_json(limits.to_json()) == limits
