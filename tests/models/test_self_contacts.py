"""Contacts between a robot's own bodies: our pairs, rows and solve against MuJoCo's own."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from mosim.errors import InvalidInputError
from mosim.models.contacts import ContactSolver
from mosim.models.limits import LimitSolver
from mosim.models.self_contacts import SelfContactRows, segment_points
from mosim.systems import make_system, with_mechanics
from mosim.systems.base import SystemSpec
from mosim.systems.contacts import FloorContacts
from mosim.systems.geometry import ContactGeometry
from mosim.systems.limits import LimitConstraints
from mosim.systems.self_contacts import SelfContacts, colliding_pairs

# Two arms of capsules and a sphere that swing into each other and into a capsule torso: sphere-capsule,
# capsule-capsule and sphere-sphere pairs, a pair of higher priority, mixed solref and friction, a margin; a parent
# and its child never collide (MuJoCo's filterparent), and an excluded pair does not either.
SELF_XML = """
<mujoco>
  <option timestep="0.005" gravity="0 0 0"/>
  <worldbody>
    <body name="torso">
      <joint name="x" type="slide" axis="1 0 0"/>
      <geom name="torso" type="capsule" fromto="0 0 -.3 0 0 .3" size=".05"/>
      <body name="left" pos="-.1 0 .2">
        <joint name="l1" type="hinge" axis="0 1 0"/>
        <geom name="lupper" type="capsule" fromto="0 0 0 -.3 0 0" size=".04" friction="1.3 0.01 0.001"/>
        <body name="lfore" pos="-.3 0 0">
          <joint name="l2" type="hinge" axis="0 1 0"/>
          <geom name="lfore" type="capsule" fromto="0 0 0 0 0 -.3" size=".03" solref="0.01 0.8" margin=".005"/>
          <geom name="lhand" type="sphere" pos="0 0 -.33" size=".05" priority="1" friction="0.4 0.01 0.001"/>
        </body>
      </body>
      <body name="right" pos=".1 0 .2">
        <joint name="r1" type="hinge" axis="0 1 0"/>
        <geom name="rupper" type="capsule" fromto="0 0 0 .3 0 0" size=".04"/>
        <body name="rfore" pos=".3 0 0">
          <joint name="r2" type="hinge" axis="0 1 0"/>
          <geom name="rfore" type="capsule" fromto="0 0 0 0 0 -.3" size=".03" solimp="0.8 0.95 0.01 0.4 3"/>
          <geom name="rhand" type="sphere" pos="0 0 -.33" size=".05"/>
        </body>
      </body>
    </body>
  </worldbody>
  <contact><exclude body1="torso" body2="lfore"/></contact>
  <actuator>
    <motor joint="l1" gear="5"/><motor joint="l2" gear="5"/><motor joint="r1" gear="5"/><motor joint="r2" gear="5"/>
  </actuator>
</mujoco>
"""


FRICTIONLESS_XML = SELF_XML.replace('<worldbody>', '<default><geom condim="1"/></default>\n  <worldbody>', 1)
"""The same arms with every contact frictionless (``condim`` 1: the normal's row alone, as the humanoid's own)"""


def _model(system: str) -> mujoco.MjModel:
    if system.startswith("xml"):
        return mujoco.MjModel.from_xml_string(SELF_XML if system == "xml" else FRICTIONLESS_XML)
    return make_system(system).model


def _self_contact_states(model: mujoco.MjModel, n: int, seed: int = 0):
    """States after ``mj_forward`` in which MuJoCo has at least one contact between two of the robot's bodies."""
    rng = np.random.default_rng(seed)
    data = mujoco.MjData(model)
    found = 0
    for t in range(40000):
        if t % 300 == 0:
            mujoco.mj_resetData(model, data)
            data.qvel[:] = rng.normal(size=model.nv) * 2
        data.ctrl[:] = rng.uniform(-1, 1, size=model.nu)
        mujoco.mj_step(model, data)
        mujoco.mj_forward(model, data)
        own = [c for c in data.contact[:data.ncon] if model.geom_bodyid[c.geom1] and model.geom_bodyid[c.geom2]]
        if own and rng.random() < 0.5:
            yield data
            found += 1
            if found == n:
                return


def _solver(model: mujoco.MjModel, self_contacts: bool = True) -> tuple[LimitSolver, LimitConstraints]:
    geometry = ContactGeometry.from_model(model)
    limits = LimitConstraints.from_model(model)
    floor = FloorContacts.from_model(model, geometry)
    rows = SelfContactRows(SelfContacts.from_model(model, geometry), floor.impratio) if self_contacts else None
    contacts = ContactSolver(geometry, floor, model.nv, self_rows=rows)
    return LimitSolver(limits, contacts=contacts).double(), limits


def _ours_and_mujocos(model: mujoco.MjModel, data: mujoco.MjData, solver: LimitSolver,
                      limits: LimitConstraints) -> tuple[np.ndarray, np.ndarray]:
    """Our acceleration with MuJoCo's own ``M⁻¹`` and unconstrained acceleration, and the velocity change of MuJoCo's
    step."""
    minv = np.zeros((model.nv, model.nv))
    mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
    a_net = data.qacc_smooth + minv @ (np.array(limits.implicit_damping or np.zeros(model.nv)) * data.qvel)
    t = lambda x: torch.as_tensor(np.array(x))[None]  # noqa: E731
    ours = solver(t(data.qpos), t(data.qvel), t(a_net), t(minv))[0].numpy()
    after = mujoco.MjData(model)
    after.qpos[:], after.qvel[:], after.ctrl[:] = data.qpos, data.qvel, data.ctrl
    mujoco.mj_step(model, after)
    return ours, (after.qvel - data.qvel) / model.opt.timestep


def test_pairs_are_the_ones_mujoco_collides() -> None:
    """Every contact MuJoCo makes between two of the robot's bodies is one of our pairs, its geoms in MuJoCo's
    order; parents and children, and excluded bodies, make no pair."""
    for system in ("xml", "hopper-hop"):
        model = _model(system)
        pairs = set(colliding_pairs(model))
        seen = set()
        for data in _self_contact_states(model, 60):
            seen |= {(int(c.geom1), int(c.geom2)) for c in data.contact[:data.ncon]
                     if model.geom_bodyid[c.geom1] and model.geom_bodyid[c.geom2]}
        assert seen and seen <= pairs
    model = _model("xml")
    names = {(model.geom(a).name, model.geom(b).name) for a, b in colliding_pairs(model)}
    assert ("torso", "lupper") not in names and ("lupper", "lfore") not in names  # parent and child
    assert ("torso", "lfore") not in names and ("torso", "lhand") not in names    # excluded
    assert ("lhand", "rhand") in names and ("lhand", "rfore") in names            # sphere first


@pytest.mark.parametrize("system", ["xml", "hopper-hop", "xml-frictionless", "humanoid-walk"])
def test_self_contact_acceleration_is_mujocos(system: str) -> None:
    """With MuJoCo's M⁻¹ and unconstrained acceleration, the solve with the self contacts gives MuJoCo's step on
    states with contacts between the robot's bodies (sphere-sphere, sphere-capsule, capsule-capsule), where the
    solve without them does not."""
    model = _model(system)
    solver, limits = _solver(model)
    without, _ = _solver(model, self_contacts=False)
    missed = 0
    for data in _self_contact_states(model, 30, seed=1):
        ours, want = _ours_and_mujocos(model, data, solver, limits)
        scale = np.abs(want).max() + 1.0
        np.testing.assert_allclose(ours / scale, want / scale, atol=1e-6)
        floor_only, _ = _ours_and_mujocos(model, data, without, limits)
        missed += int(np.abs(floor_only - want).max() / scale > 1e-3)
    assert missed >= 10


@pytest.mark.parametrize("system", ["xml", "xml-frictionless"])
def test_rows_and_parameters_are_mujocos(system: str) -> None:
    """Each self contact's rows, R and aref equal MuJoCo's (as a set of rows), with the mixed friction, solref,
    solimp and margin; a frictionless contact's one row is four copies of it, each with four times its R."""
    model = _model(system)
    copies = 4 if system == "xml-frictionless" else 1
    solver, _ = _solver(model)
    assert solver.contacts is not None and solver.contacts.self_rows is not None
    checked = 0
    for data in _self_contact_states(model, 40, seed=2):
        q, v = torch.tensor(data.qpos)[None], torch.tensor(data.qvel)[None]
        jac, aref, reg, active = (x[0].numpy() for x in solver.contacts(q, v))
        rows = data.efc_J.reshape(data.nefc, model.nv)
        for e in range(data.nefc):
            kind = (mujoco.mjtConstraint.mjCNSTR_CONTACT_FRICTIONLESS if copies > 1
                    else mujoco.mjtConstraint.mjCNSTR_CONTACT_PYRAMIDAL)
            if data.efc_type[e] != kind:
                continue
            err = np.abs(jac[active] - rows[e]).max(axis=1)
            i = int(np.argmin(err))
            assert err[i] < 1e-9 and (err < 1e-9).sum() >= copies
            assert reg[active][i] == pytest.approx(copies * data.efc_R[e], rel=1e-9)
            assert aref[active][i] == pytest.approx(data.efc_aref[e], rel=1e-7, abs=1e-7)
            checked += 1
    assert checked >= 40


def test_segment_points_clip_as_mujoco() -> None:
    """Two crossing segments meet at their crossing; a segment's end beyond the other's clips to that end; a sphere's
    point is its centre and the capsule's the clipped projection on its axis."""
    d = torch.float64
    c1, a1 = torch.tensor([[0.0, 0, 0]], dtype=d), torch.tensor([[1.0, 0, 0]], dtype=d)
    c2, a2 = torch.tensor([[0.5, 0, 1]], dtype=d), torch.tensor([[0.0, 0, 2]], dtype=d)
    yes, no = torch.tensor([True]), torch.tensor([False])
    p1, p2 = segment_points(c1, a1, c2, a2, yes, yes)
    torch.testing.assert_close(p1, torch.tensor([[0.5, 0, 0]], dtype=d))
    torch.testing.assert_close(p2, torch.tensor([[0.5, 0, 0]], dtype=d))
    p1, p2 = segment_points(c1, a1, c2 + torch.tensor([[0, 0, 3.0]], dtype=d), a2, yes, yes)
    torch.testing.assert_close(p2, torch.tensor([[0.5, 0, 2]], dtype=d))
    torch.testing.assert_close(p1, torch.tensor([[0.5, 0, 0]], dtype=d))
    p1, p2 = segment_points(torch.tensor([[3.0, 0, 1]], dtype=d), torch.zeros(1, 3, dtype=d), c1, a1, no, yes)
    torch.testing.assert_close(p1, torch.tensor([[3.0, 0, 1]], dtype=d))
    torch.testing.assert_close(p2, torch.tensor([[1.0, 0, 0]], dtype=d))


def test_self_contact_gradients() -> None:
    """Gradients of the solve with the self contacts with respect to the unconstrained acceleration, M⁻¹ and the
    state (float64, on a state with a self contact acting)."""
    model = _model("xml")
    solver, _ = _solver(model)
    data = next(_self_contact_states(model, 1, seed=4))
    minv = np.zeros((model.nv, model.nv))
    mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
    chol = torch.linalg.cholesky(torch.tensor(minv))[None].requires_grad_()
    a0 = torch.tensor(data.qacc_smooth)[None].requires_grad_()
    q = torch.tensor(data.qpos)[None].requires_grad_()
    v = torch.tensor(data.qvel)[None]
    assert (solver(q, v, a0, torch.tensor(minv)[None]) - a0).abs().max() > 1.0  # the forces act
    assert torch.autograd.gradcheck(lambda qq, a, c: solver(qq, v, a, c @ c.transpose(-1, -2)), (q, a0, chol))


def test_record_round_trip_and_errors() -> None:
    model = _model("xml")
    record = SelfContacts.from_model(model)
    assert SelfContacts.from_json(record.to_json()) == record
    by_name = {names: i for i, names in enumerate(record.geom_name)}
    assert record.friction[by_name[("lhand", "rhand")]] == 0.4      # the higher priority's
    assert record.friction[by_name[("lupper", "rupper")]] == 1.3    # else the larger
    assert record.margin[by_name[("lhand", "rfore")]] == 0.0 and record.margin[by_name[("lfore", "rupper")]] == 0.005
    with pytest.raises(InvalidInputError, match="self-contacts record"):
        SelfContacts.from_dict({"friction": [1.0]})
    boxed = mujoco.MjModel.from_xml_string(SELF_XML.replace('name="rhand" type="sphere" pos="0 0 -.33" size=".05"', 'name="rhand" type="box" pos="0 0 -.33" size=".05 .05 .05"'))
    with pytest.raises(InvalidInputError, match="spheres and capsules.*rhand.*--no-self-contacts"):
        SelfContacts.from_model(boxed)
    spec = with_mechanics(make_system("hopper-hop").spec(), contacts=True, self_contacts=True)
    again = SystemSpec.from_json(spec.to_json())
    assert again.self_contacts == spec.self_contacts and len(spec.self_contacts) == 9
    assert len(make_system("cheetah-run").self_contacts) == 19
