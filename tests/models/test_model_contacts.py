"""Floor contact constraints: our rows, parameters and solve against MuJoCo's own, and models that use them."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from mosim.errors import InvalidInputError
from mosim.models import ModelConfig, build_model, compute_normalization
from mosim.models.actuation import ActuatorForces
from mosim.models.contact import ContactFeatures
from mosim.models.contacts import ContactSolver, body_jacobians
from mosim.models.limits import LimitSolver
from mosim.models.newton import solve_rows
from mosim.systems import make_system, with_mechanics
from mosim.systems.actuation import Actuation
from mosim.systems.base import SystemSpec
from mosim.systems.contacts import FloorContacts, make_frame
from mosim.systems.geometry import ContactGeometry
from mosim.systems.limits import LimitConstraints

# Spheres and capsules on a floor, with the parameters MuJoCo mixes per pair: a geom of higher priority than the
# floor (its own friction and solref win), solmix weights, a direct solref, margins and a gap, a damped joint; a
# ball and a hinge joint on a slide-and-hinge base (a free joint: the humanoid's test below). The robot's geoms
# touch the floor only (contacts between its own bodies: tests/models/test_self_contacts.py).
FLOOR_XML = """
<mujoco>
  <option timestep="0.005"/>
  <default><geom contype="1" conaffinity="0"/></default>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 .1" friction="0.8 0.01 0.001" solmix="2" conaffinity="1"/>
    <body name="base" pos="0 0 .3">
      <joint name="x" type="slide" axis="1 0 0"/>
      <joint name="z" type="slide" axis="0 0 1"/>
      <joint name="pitch" type="hinge" axis="0 1 0" damping="0.05"/>
      <geom name="torso" type="capsule" fromto="-.2 0 0 .2 0 0" size=".05" solref="0.01 0.7"/>
      <body name="arm" pos=".2 0 0">
        <joint name="shoulder" type="ball"/>
        <geom name="upper" type="capsule" fromto="0 0 0 0 0 -.2" size=".03" friction="1.2 0.01 0.001" margin="0.01"
              gap="0.004" solimp="0.8 0.95 0.01 0.4 3"/>
        <body name="fore" pos="0 0 -.2">
          <joint name="elbow" type="hinge" axis="0 1 0" range="-1.5 1.5"/>
          <geom name="hand" type="sphere" size=".04" priority="1" friction="0.5 0.01 0.001" solref="-8000 -60"/>
        </body>
      </body>
      <body name="leg" pos="-.2 0 0">
        <joint name="hip" type="hinge" axis="0 1 0" range="-1 1"/>
        <geom name="foot" type="sphere" pos="0 0 -.25" size=".04" solmix="0.5"/>
        <geom name="shin" type="capsule" fromto="0 0 0 0 0 -.2" size=".02"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="hip" ctrlrange="-1 1"/>
    <motor joint="elbow" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
"""


SHAPES_XML = FLOOR_XML.replace('type="sphere" size=".04" priority', 'type="box" size=".04 .03 .02" euler="0 .3 .2" priority'
                               ).replace('type="sphere" pos="0 0 -.25" size=".04"',
                                         'type="cylinder" pos="0 0 -.25" size=".04 .03" euler=".4 0 0"')
"""The same robot with a box for its hand and a cylinder for its foot (the plane-box and plane-cylinder tests)"""


def _model(system: str) -> mujoco.MjModel:
    if system in ("xml", "xml-shapes"):
        return mujoco.MjModel.from_xml_string(FLOOR_XML if system == "xml" else SHAPES_XML)
    return make_system(system).model


def _contact_states(model: mujoco.MjModel, n: int, seed: int = 0):
    """States with contacts from random-action rollouts (each after ``mj_forward``): random pushes and kicks so that
    geoms land, slide and stick."""
    rng = np.random.default_rng(seed)
    data = mujoco.MjData(model)
    mujoco.mj_resetData(model, data)
    found = 0
    for t in range(20000):
        if t % 200 == 0:
            mujoco.mj_resetData(model, data)
            data.qvel[:] = rng.normal(size=model.nv)
        data.ctrl[:] = rng.uniform(-1, 1, size=model.nu)
        if rng.random() < 0.05:
            data.qvel[:] += rng.normal(size=model.nv) * 2.0
        mujoco.mj_step(model, data)
        mujoco.mj_forward(model, data)
        if data.ncon and rng.random() < 0.3:
            yield data
            found += 1
            if found == n:
                return


def _solver(model: mujoco.MjModel, slots: int | None = None) -> tuple[LimitSolver, LimitConstraints]:
    """The solver of the models' default (rows for the candidates that touch at once in the batch), or of a fixed
    number of the candidates nearest the floor."""
    geometry = ContactGeometry.from_model(model)
    limits = LimitConstraints.from_model(model)
    contacts = ContactSolver(geometry, FloorContacts.from_model(model, geometry), model.nv, slots=slots)
    return LimitSolver(limits, contacts=contacts).double(), limits


def _as_mujoco(model: mujoco.MjModel, data: mujoco.MjData, solver: LimitSolver, limits: LimitConstraints,
               actuators: ActuatorForces | None = None) -> np.ndarray:
    """Our step's acceleration with MuJoCo's own ``M⁻¹`` and acceleration without constraints (nor the damping where
    the step treats it implicitly; ``actuators``: their velocity damping too, implicitfast's)."""
    minv = np.zeros((model.nv, model.nv))
    mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
    a_net = data.qacc_smooth + minv @ (np.array(limits.implicit_damping or np.zeros(model.nv)) * data.qvel)
    t = lambda x: torch.as_tensor(np.array(x))[None]  # noqa: E731
    damping = None if actuators is None else actuators.velocity_damping(t(data.qpos), t(data.qvel), t(data.ctrl))
    return solver(t(data.qpos), t(data.qvel), t(a_net), t(minv), actuators=damping)[0].numpy()


def _step_acceleration(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    after = mujoco.MjData(model)
    after.qpos[:], after.qvel[:], after.ctrl[:] = data.qpos, data.qvel, data.ctrl
    mujoco.mj_step(model, after)
    return (after.qvel - data.qvel) / model.opt.timestep


@pytest.mark.parametrize("system", ["cheetah-run", "hopper-hop", "xml", "xml-shapes"])
def test_contact_acceleration_is_mujocos(system: str) -> None:
    """With MuJoCo's M⁻¹ and unconstrained acceleration, the contacts' and limits' solve and the implicit damping give
    the velocity change of MuJoCo's step, on states with one or several contacts (and limits) acting."""
    model = _model(system)
    solver, limits = _solver(model)
    several = 0
    for data in _contact_states(model, 40):
        ours, want = _as_mujoco(model, data, solver, limits), _step_acceleration(model, data)
        scale = np.abs(want).max() + 1.0
        np.testing.assert_allclose(ours / scale, want / scale, atol=1e-6)
        several += int(data.ncon > 1)
    assert several >= 5


def test_panda_floor_contacts_are_mujocos() -> None:
    """The Panda's boxes, capsules and cylinders on the floor, with its limits and its implicitfast servos: MuJoCo's
    step, with its fingers' equality constraint (states where the fingers touch each other left out)."""
    model = make_system("panda").model
    solver, limits = _solver(model)
    actuators = ActuatorForces(Actuation.from_model(model)).double()
    rng = np.random.default_rng(3)  # a seed whose fingers stay apart often enough
    data = mujoco.MjData(model)
    shapes: set[int] = set()
    checked = 0
    for t in range(30000):
        if t % 50 == 0:
            data.ctrl[:] = rng.uniform(*model.actuator_ctrlrange.T)
        mujoco.mj_step(model, data)
        if t % 5 or not data.ncon or any(model.geom_bodyid[c.geom[0]] != 0 for c in data.contact[:data.ncon]):
            continue
        mujoco.mj_forward(model, data)
        ours, want = _as_mujoco(model, data, solver, limits, actuators), _step_acceleration(model, data)
        scale = np.abs(want).max() + 1.0
        np.testing.assert_allclose(ours / scale, want / scale, atol=1e-6)
        shapes |= {int(model.geom_type[c.geom[1]]) for c in data.contact[:data.ncon]}
        checked += 1
        if checked == 40:
            break
    assert checked >= 20 and {int(mujoco.mjtGeom.mjGEOM_BOX), int(mujoco.mjtGeom.mjGEOM_CAPSULE)} <= shapes


def _floor_only(model: mujoco.MjModel, data: mujoco.MjData) -> bool:
    """Whether every contact of ``data`` is with the world body (the floor), none between the robot's own bodies."""
    return all(model.geom_bodyid[c.geom[0]] == 0 for c in data.contact[:data.ncon])


def test_free_floating_floor_contacts_are_mujocos_in_any_heading() -> None:
    """The humanoid (a free joint) on the floor: the solve equals MuJoCo's step, and solved in a frame turned about
    the vertical (its heading frame's kind: v, M⁻¹ and a0 turned, the rows made in MuJoCo's frame and mapped, ``J
    Hᵀ``) it gives the same acceleration turned."""
    model = make_system("humanoid-walk").model
    solver, limits = _solver(model)
    c, s_ = np.cos(0.7), np.sin(0.7)
    h = torch.eye(model.nv, dtype=torch.float64)
    h[:2, :2] = torch.tensor([[c, -s_], [s_, c]])                             # the free joint's linear velocity
    checked = 0
    for data in _contact_states(model, 200):
        if not _floor_only(model, data):
            continue
        ours, want = _as_mujoco(model, data, solver, limits), _step_acceleration(model, data)
        scale = np.abs(want).max() + 1.0
        np.testing.assert_allclose(ours / scale, want / scale, atol=1e-6)
        minv = np.zeros((model.nv, model.nv))
        mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
        a_net = data.qacc_smooth + minv @ (np.array(limits.implicit_damping or np.zeros(model.nv)) * data.qvel)
        t = lambda x: torch.as_tensor(np.array(x))[None]  # noqa: E731
        turned = solver(t(data.qpos), t(data.qvel) @ h.T, t(a_net) @ h.T, h @ t(minv) @ h.T,
                        world=(t(data.qvel), lambda rows: rows @ h.T))
        np.testing.assert_allclose((turned @ h)[0].numpy() / scale, ours / scale, atol=1e-9)
        checked += 1
        if checked == 15:
            break
    assert checked >= 10


@pytest.mark.parametrize("system", ["xml", "xml-shapes"])
def test_rows_and_parameters_are_mujocos(system: str) -> None:
    """Each contact MuJoCo makes is one of our candidates, with its distance, friction, K, B and impedance mixed as
    MuJoCo mixes them (priority, solmix, a direct solref, a margin), its rows equal MuJoCo's Jacobian rows
    (as a set: the pyramid does not depend on the tangents' signs), and its R and aref MuJoCo's; for spheres and
    capsules, and for a box's corners and a cylinder's rim points."""
    model = _model(system)
    solver, _ = _solver(model)
    seen: set[str] = set()
    for data in _contact_states(model, 60, seed=3):
        q, v = torch.tensor(data.qpos)[None], torch.tensor(data.qvel)[None]
        assert solver.contacts is not None
        jac, aref, reg, active = (x[0].numpy() for x in solver.contacts(q, v))
        efc = [e for e in range(data.nefc) if data.efc_type[e] == mujoco.mjtConstraint.mjCNSTR_CONTACT_PYRAMIDAL]
        assert active.sum() == len(efc)  # a contact within the gap has no rows
        rows = data.efc_J.reshape(data.nefc, model.nv)
        for e in efc:
            err = np.abs(jac[active] - rows[e]).max(axis=1)
            i = int(np.argmin(err))
            assert err[i] < 1e-9
            assert reg[active][i] == pytest.approx(data.efc_R[e], rel=1e-9)
            assert aref[active][i] == pytest.approx(data.efc_aref[e], rel=1e-7, abs=1e-7)
        for c in range(data.ncon):
            if data.contact[c].efc_address >= 0:
                seen.add(model.geom(data.contact[c].geom2).name)
    assert {"hand", "foot"} <= seen and len(seen) >= 3


def test_mixed_parameters_and_frame() -> None:
    model = _model("xml")
    geometry = ContactGeometry.from_model(model)
    contacts = FloorContacts.from_model(model, geometry)
    by_name = {geometry.geom_name[g]: i for i, g in enumerate(geometry.pair_geom)}
    hand, upper, foot = by_name["hand"], by_name["upper"], by_name["foot"]
    assert contacts.friction[hand] == 0.5            # the higher priority's
    assert contacts.friction[upper] == 1.2           # else the larger
    assert contacts.margin[upper] == 0.01  # the floor's 0 and its 0.01 added; its gap does not act
    assert contacts.stiffness[hand] == pytest.approx(8000 / 0.95 ** 2)   # direct solref
    # solmix: the floor's 2 against the foot's 0.5 weighs the floor's default solref 4:1 (both 0.02, 1)
    assert contacts.solimp[foot][0] == pytest.approx(0.9)
    assert make_frame((0.0, 0.0, 1.0)) == ((0.0, 1.0, 0.0), (-1.0, 0.0, 0.0))
    again = SystemSpec.from_json(with_mechanics(make_system("cheetah-run").spec(), contacts=True).to_json())
    assert again.contacts == make_system("cheetah-run").contacts and again.geometry is not None
    assert FloorContacts.from_json(contacts.to_json()) == contacts
    with pytest.raises(InvalidInputError, match="floor-contacts record"):
        FloorContacts.from_dict({"friction": [1.0]})


def test_body_jacobians_are_mujocos() -> None:
    """Every body's point Jacobian (at its frame's origin and at a point off it) equals MuJoCo's ``mj_jac``, on a
    robot with a free, a ball, a hinge and a slide joint."""
    from model_helpers import ZOO_XML

    model = mujoco.MjModel.from_xml_string(ZOO_XML)
    geometry = ContactGeometry.from_model(model)
    consts = ContactFeatures(geometry).constants(torch.float64)
    data = mujoco.MjData(model)
    rng = np.random.default_rng(0)
    for _ in range(5):
        data.qpos[:] = model.qpos0 + rng.normal(size=model.nq) * 0.5
        mujoco.mj_normalizeQuat(model, data.qpos)
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        pos, _, ang, lin = body_jacobians(torch.tensor(data.qpos), geometry, consts, model.nv)
        np.testing.assert_allclose(pos.numpy(), data.xpos[1:], atol=1e-12)
        for b in range(1, model.nbody):
            point = data.xpos[b] + rng.normal(size=3) * 0.1
            jacp, jacr = np.zeros((3, model.nv)), np.zeros((3, model.nv))
            mujoco.mj_jac(model, data, jacp, jacr, point, b)
            ours = lin[b - 1] + torch.linalg.cross(ang[b - 1], torch.tensor(point)[:, None].expand(3, model.nv), dim=0)
            np.testing.assert_allclose(ours.numpy(), jacp, atol=1e-12)
            np.testing.assert_allclose(ang[b - 1].numpy(), jacr, atol=1e-12)


def test_newton_solve_gradients() -> None:
    """Gradients of the solve with respect to the unconstrained acceleration and M⁻¹ (float64, away from the kinks)."""
    model = make_system("cheetah-run").model
    solver, limits = _solver(model)
    data = next(d for d in _contact_states(model, 50, seed=5) if d.ncon >= 2)
    q, v = torch.tensor(data.qpos)[None], torch.tensor(data.qvel)[None]
    minv = np.zeros((model.nv, model.nv))
    mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
    chol = torch.linalg.cholesky(torch.tensor(minv))[None].requires_grad_()
    a0 = torch.tensor(data.qacc_smooth)[None].requires_grad_()
    assert (solver(q, v, a0, torch.tensor(minv)[None]) - a0).abs().max() > 1.0  # the forces act
    assert torch.autograd.gradcheck(lambda a, c: solver(q, v, a, c @ c.transpose(-1, -2)), (a0, chol))


def _batch(model: mujoco.MjModel, n: int, seed: int) -> tuple[torch.Tensor, ...]:
    """``n`` contact states as a batch: qpos, qvel, MuJoCo's ``M⁻¹``, ``M`` and ``qacc_smooth``."""
    rows = []
    for data in _contact_states(model, n, seed=seed):
        minv, mass = np.zeros((model.nv, model.nv)), np.zeros((model.nv, model.nv))
        mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
        mujoco.mj_fullM(model, data, mass)
        rows.append((data.qpos.copy(), data.qvel.copy(), minv, mass, data.qacc_smooth.copy()))
    return tuple(torch.tensor(np.stack(x)) for x in zip(*rows))


@pytest.mark.parametrize("system", ["cheetah-run", "xml"])
def test_rows_for_the_touching_candidates_solve_as_all_rows(system: str) -> None:
    """The default solve makes rows only for as many candidates as touch the floor at once in the batch; it equals the
    solve over every candidate's rows, and over the rows of MuJoCo's M rather than of M⁻¹ inverted, and stopping once
    the set of pushing rows repeats equals running every Newton iteration."""
    model = _model(system)
    q, v, minv, mass, a0 = _batch(model, 30, seed=3)
    compact, _ = _solver(model)
    full, _ = _solver(model, slots=compact.contacts.candidates)
    rows = compact.contacts(q, v)[0].shape[-2]
    assert 0 < rows < full.contacts(q, v)[0].shape[-2]
    want = full(q, v, a0, minv)
    assert (want - a0).abs().max() > 1.0  # the forces act
    torch.testing.assert_close(compact(q, v, a0, minv), want, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(compact(q, v, a0, minv, mass), want, rtol=1e-9, atol=1e-9)
    jac, aref, reg, active = compact.contacts(q, v)
    once = solve_rows(a0, minv, jac, aref, reg, active, iterations=4)
    every = solve_rows(a0, minv, jac, aref, reg, active, iterations=4, stop_early=False)
    torch.testing.assert_close(once, every, rtol=1e-12, atol=1e-12)
    shaped = [x.reshape(3, 10, *x.shape[1:]) for x in (a0, minv, jac, aref, reg, active)]  # each state stops alone
    torch.testing.assert_close(solve_rows(*shaped, iterations=4), every.reshape(3, 10, -1), rtol=1e-12, atol=1e-12)


def test_no_touching_candidate_makes_no_contact_rows() -> None:
    model = make_system("cheetah-run").model
    solver, _ = _solver(model)
    q = torch.tensor(model.qpos0)[None].clone()
    q[0, 1] = 2.0  # lifted 2 m: nothing touches
    jac, aref, reg, active = solver.contacts(q, torch.zeros(1, model.nv, dtype=torch.float64))
    assert jac.shape == (1, 0, model.nv) and aref.shape == reg.shape == active.shape == (1, 0)


def test_solve_without_acting_rows_is_the_unconstrained_acceleration() -> None:
    a0 = torch.randn(4, 3, dtype=torch.float64)
    minv = torch.eye(3, dtype=torch.float64).expand(4, 3, 3)
    jac = torch.randn(4, 5, 3, dtype=torch.float64)
    out = solve_rows(a0, minv, jac, torch.zeros(4, 5, dtype=torch.float64), torch.ones(4, 5, dtype=torch.float64),
                     torch.zeros(4, 5, dtype=torch.bool))
    assert torch.equal(out, a0)


def test_what_the_contact_solve_does_not_cover_is_refused() -> None:
    elliptic = mujoco.MjModel.from_xml_string(FLOOR_XML.replace('<option timestep="0.005"/>',
                                                                '<option timestep="0.005" cone="elliptic"/>'))
    with pytest.raises(InvalidInputError, match="elliptic"):  # its own bodies' contacts: pyramids only
        ContactSolver(ContactGeometry.from_model(elliptic), FloorContacts.from_model(elliptic), elliptic.nv,
                      self_rows=torch.nn.Identity())
    egg = mujoco.MjModel.from_xml_string(FLOOR_XML.replace('type="sphere" size=".04" priority',
                                                           'type="ellipsoid" size=".04 .03 .02" priority'))
    with pytest.raises(InvalidInputError, match="spheres, capsules, boxes and cylinders.*hand"):
        FloorContacts.from_model(egg)
    torsion = mujoco.MjModel.from_xml_string(FLOOR_XML.replace('solmix="0.5"', 'solmix="0.5" condim="4"'))
    with pytest.raises(InvalidInputError, match="condim 3.*foot"):  # on a pyramid (an elliptic cone solves it)
        FloorContacts.from_model(torsion)
    for kind in ("plain_ode", "plain_delta"):
        with pytest.raises(InvalidInputError, match="structured model's M"):
            ModelConfig(kind=kind, contact_constraints=True)
    with pytest.raises(InvalidInputError, match="dopri5"):
        ModelConfig(integrator="dopri5", contact_constraints=True)
    with pytest.raises(InvalidInputError, match="contact_slots"):
        ModelConfig(contact_constraints=True, contact_slots=-1)
    config = ModelConfig(contact_constraints=True)
    assert config.uses_limit_constraints and config.uses_known_actuation
    go2 = with_mechanics(make_system("go2").spec(), geometry=True)  # a free joint: solved in its heading frame
    empty = FloorContacts((), (), (), (), (), (), (), ())
    assert config.contacts_of(go2.__class__(**{**go2.__dict__, "contacts": empty})) == (go2.geometry, empty)


def test_a_model_with_contact_constraints_builds_steps_and_round_trips(tmp_path) -> None:
    """A cheetah model with the contacts solved: built from the mechanics of its spec, its step differs from the
    networks' alone where a foot is in the floor, and its spec round-trips with what the solve needs."""
    from model_helpers import TINY

    system = make_system("cheetah-run")
    spec = with_mechanics(system.spec(), contacts=True, limits=True, actuation=True)
    config = ModelConfig(**{**TINY.__dict__, "contact_constraints": True})
    model = build_model(spec, config).double()
    data = next(d for d in _contact_states(system.model, 5, seed=2))
    q, v = torch.tensor(data.qpos)[None], torch.tensor(data.qvel)[None]
    a = torch.zeros(1, system.nu, dtype=torch.float64)
    assert model.limit_solver is not None and model.limit_solver.contacts is not None
    q1, v1 = model.step(q, v, a)
    assert torch.isfinite(q1).all() and torch.isfinite(v1).all()
    again = SystemSpec.from_json(spec.to_json())
    rebuilt = build_model(again, config).double()
    rebuilt.load_state_dict(model.state_dict())
    assert torch.equal(rebuilt.step(q, v, a)[1], v1)


def _yawed(q: torch.Tensor, v: torch.Tensor, angle: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A free-floating robot's state turned by ``angle`` about the vertical (its root position and quaternion, and
    the root's linear velocity, which MuJoCo keeps in the world frame; the angular one is the body's)."""
    c, s = np.cos(angle), np.sin(angle)
    rz = torch.tensor([[c, -s], [s, c]], dtype=q.dtype)
    turn = torch.tensor([np.cos(angle / 2), 0.0, 0.0, np.sin(angle / 2)], dtype=q.dtype)
    w1, x1, y1, z1 = turn
    w2, x2, y2, z2 = q[..., 3:7].unbind(-1)
    quat = torch.stack((w1 * w2 - z1 * z2, w1 * x2 - z1 * y2, w1 * y2 + z1 * x2, w1 * z2 + z1 * w2), -1)
    q2, v2 = q.clone(), v.clone()
    q2[..., :2], q2[..., 3:7], v2[..., :2] = q[..., :2] @ rz.T, quat, v[..., :2] @ rz.T
    return q2, v2


def test_a_free_floating_model_with_contacts_solved_is_the_same_in_any_heading() -> None:
    """A humanoid model with its floor contacts solved and M(q) computed, in its heading frame: turning the robot a
    quarter turn about the vertical turns its predicted step (float64, random networks), on states where it touches
    the floor. (A quarter turn: a sphere's friction pyramid has its edges along the floor's fixed tangents, as
    MuJoCo's, so other turns change its friction, in MuJoCo too; a quarter turn maps the pyramid onto itself.)"""
    from model_helpers import TINY

    system = make_system("humanoid-walk")
    spec = with_mechanics(system.spec(), contacts=True, limits=True, actuation=True, inertias=True)
    config = ModelConfig(**{**TINY.__dict__, "contact_constraints": True, "known_inertia": True,
                            "self_contacts": False, "substeps": 5})  # MuJoCo's time step
    torch.manual_seed(0)
    model = build_model(spec, config).double()
    assert model.limit_solver is not None and model.limit_solver.contacts is not None
    states = [d for d in _contact_states(system.model, 30, seed=4) if _floor_only(system.model, d)][:6]
    q = torch.tensor(np.stack([d.qpos for d in states]))
    v = torch.tensor(np.stack([d.qvel for d in states]))
    a = torch.rand(len(states), system.nu, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    q1, v1 = model.step(q, v, a)
    q1_turned, v1_turned = _yawed(q1, v1, np.pi / 2)
    q2, v2 = model.step(*_yawed(q, v, np.pi / 2), a)
    assert torch.isfinite(v1).all() and (v1 - v).abs().max() > 1e-3
    torch.testing.assert_close(q2, q1_turned, rtol=0, atol=1e-9)
    torch.testing.assert_close(v2, v1_turned, rtol=0, atol=1e-8)


def test_inertia_starts_at_mujocos_and_is_kept() -> None:
    """inertia_start='mujoco': with the inertia network's output zero, M(q) is the diagonal of MuJoCo's inverse
    inertia at the reference pose (normalized units: here identity normalizers); the offset is in the state dict,
    and a state dict from before it (none) loads as the identity start."""
    from model_helpers import TINY

    system = make_system("cheetah-run")
    spec = with_mechanics(system.spec(), contacts=True, limits=True, actuation=True)
    config = ModelConfig(**{**TINY.__dict__, "contact_constraints": True, "inertia_start": "mujoco"})
    model = build_model(spec, config).double()
    for p in model.predictor.inertia.parameters():
        torch.nn.init.zeros_(p)
    p = torch.zeros(1, model.features.position_feature_dim, dtype=torch.float64)
    want = np.diag(system.model.dof_invweight0) * (1 + config.eps)
    np.testing.assert_allclose(model.predictor.inverse_inertia(p)[0].detach().numpy(), want, rtol=1e-6)  # float32 offset
    state = model.state_dict()
    assert "predictor.tril_offset" in state
    plain = build_model(spec, ModelConfig(**{**TINY.__dict__, "contact_constraints": True})).double()
    plain.load_state_dict(state)
    assert torch.equal(plain.predictor.tril_offset, model.predictor.tril_offset)
    del state["predictor.tril_offset"], state["predictor.eps_scale"]
    plain.load_state_dict(state)
    assert not plain.predictor.tril_offset.any() and (plain.predictor.eps_scale == 1).all()
    with pytest.raises(InvalidInputError, match="inertia_start"):
        ModelConfig(inertia_start="mujoco")
    with pytest.raises(InvalidInputError, match="inertia_start"):
        ModelConfig(inertia_start="guess", limit_constraints=True)
