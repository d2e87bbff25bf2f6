"""Joint-limit constraints: our solve against MuJoCo's own ``qacc``, and models that use it."""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest
import torch
from model_helpers import TINY

import mosim
from mosim.errors import InvalidInputError
from mosim.models import ModelConfig, build_model, compute_normalization
from mosim.models.actuation import ActuatorForces
from mosim.models.limits import LimitSolver, impedance, implicitly_damped
from mosim.systems import make_system, with_mechanics
from mosim.systems.base import SystemSpec
from mosim.systems.actuation import Actuation
from mosim.systems.limits import LimitConstraints

# Every case the constants cover: a margin, a slide, MuJoCo's direct solref (-stiffness, -damping), a time constant
# below twice the step (refsafe raises it), a wide impedance curve with its two power pieces, and a flat one
# (d0 == dwidth), on three limited joints that can be active together, plus an unlimited one; a damped joint, which
# MuJoCo's Euler step damps implicitly.
LIMITS_XML = """
<mujoco>
  <compiler angle="radian"/>
  <option timestep="0.01"/>
  <worldbody>
    <body name="a">
      <joint name="h1" type="hinge" axis="0 1 0" range="-0.5 0.7" margin="0.05" solreflimit="0.005 0.8"
             solimplimit="0.3 0.9 0.08 0.3 3"/>
      <geom type="capsule" fromto="0 0 0 .3 0 0" size=".03"/>
      <body name="b" pos=".3 0 0">
        <joint name="s1" type="slide" axis="1 0 0" range="-0.1 0.2" solreflimit="-2000 -30"
               solimplimit="0.8 0.95 0.05 0.6 1"/>
        <geom type="box" size=".05 .05 .05"/>
        <body name="c" pos=".1 0 0">
          <joint name="h2" type="hinge" axis="0 0 1" range="-1 1" solimplimit="0.9 0.9 0.01" damping="0.02"/>
          <geom type="capsule" fromto="0 0 0 .2 0 0" size=".02"/>
          <body name="d" pos=".2 0 0">
            <joint name="h3" type="hinge" axis="0 1 0"/>
            <geom type="capsule" fromto="0 0 0 .1 0 0" size=".02"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


def _near_limits(model: mujoco.MjModel, limits: LimitConstraints, n: int, seed: int = 0):
    """States with each limited joint, at random, inside its range or up to 0.15 past (or 0.02 short of) a limit;
    speeds of a few units; MuJoCo's ``mj_forward`` run on each."""
    rng = np.random.default_rng(seed)
    data = mujoco.MjData(model)
    for _ in range(n):
        data.qpos[:] = model.qpos0 + rng.normal(size=model.nq) * 0.05
        for qi, lo, hi in zip(limits.qpos, limits.low, limits.high):
            if rng.random() < 0.6:
                data.qpos[qi] = lo - rng.uniform(-0.02, 0.15) if rng.random() < 0.5 else hi + rng.uniform(-0.02, 0.15)
        data.qvel[:] = rng.normal(size=model.nv) * 2.0
        data.ctrl[:] = rng.uniform(-1, 1, size=model.nu)
        mujoco.mj_forward(model, data)
        yield data


def _solve_like_mujoco(model: mujoco.MjModel, data: mujoco.MjData, solver: LimitSolver,
                       limits: LimitConstraints) -> np.ndarray:
    """Our solve with MuJoCo's own ``M⁻¹`` and acceleration without the limits (and without the
    damping, where the step treats it implicitly: ``qacc_smooth + M⁻¹ D v``)."""
    minv = np.zeros((model.nv, model.nv))
    mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
    a_net = data.qacc_smooth + minv @ (np.array(limits.implicit_damping or np.zeros(model.nv)) * data.qvel)
    t = lambda x: torch.as_tensor(np.array(x))[None]  # noqa: E731
    out = solver(t(data.qpos), t(data.qvel), t(a_net), t(minv))
    return out[0].numpy()


def _step_acceleration(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """The acceleration MuJoCo's step integrates from ``data``'s state: its velocity change over the time step."""
    after = mujoco.MjData(model)
    after.qpos[:], after.qvel[:], after.ctrl[:] = data.qpos, data.qvel, data.ctrl
    mujoco.mj_step(model, after)
    return (after.qvel - data.qvel) / model.opt.timestep


@pytest.mark.parametrize("system", ["reacher-easy", "cheetah-run", "hopper-hop", "xml"])
def test_limit_acceleration_is_mujocos(system: str) -> None:
    """With MuJoCo's M⁻¹ and unconstrained acceleration, the limits' solve and the implicit damping give the velocity
    change of MuJoCo's step, including states with several limits active at once (cheetah's and hopper's legs);
    contact states are left out (not ours to solve)."""
    if system == "xml":
        model = mujoco.MjModel.from_xml_string(LIMITS_XML)
    else:
        model = make_system(system).model
    limits = LimitConstraints.from_model(model)
    assert len(limits) == int(model.jnt_limited.sum())
    solver = LimitSolver(limits, sweeps=60).double()
    checked = several = 0
    for data in _near_limits(model, limits, 80):
        if data.ncon:
            continue
        ours, want = _solve_like_mujoco(model, data, solver, limits), _step_acceleration(model, data)
        scale = np.abs(want).max() + 1.0
        np.testing.assert_allclose(ours / scale, want / scale, atol=1e-7)
        checked += 1
        several += int(data.nefc > 1)
    assert checked >= 20
    assert system == "reacher-easy" or several >= 5


def test_gains_and_impedance_are_mujocos() -> None:
    """K, B and the impedance of every active limit equal MuJoCo's efc_KBIP, and the reference acceleration its
    efc_aref: a time constant raised by refsafe, a direct solref, both pieces of the power curve, a flat curve."""
    model = mujoco.MjModel.from_xml_string(LIMITS_XML)
    limits = LimitConstraints.from_model(model)
    rows = {dof: i for i, dof in enumerate(limits.dof)}
    solimp = torch.tensor(limits.solimp, dtype=torch.float64)
    seen = set()
    for data in _near_limits(model, limits, 200, seed=1):
        for e in range(data.nefc):
            if data.efc_type[e] != mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT:
                continue
            i = rows[int(model.jnt_dofadr[data.efc_id[e]])]
            k, b, imp = data.efc_KBIP[e, :3]
            assert limits.stiffness[i] == pytest.approx(k, rel=1e-12)
            assert limits.damping[i] == pytest.approx(b, rel=1e-12)
            r = torch.full((len(limits),), data.efc_pos[e] - data.efc_margin[e], dtype=torch.float64)
            assert impedance(r, solimp)[i].item() == pytest.approx(imp, rel=1e-10)
            aref = -b * data.efc_vel[e] - k * imp * (data.efc_pos[e] - data.efc_margin[e])
            assert data.efc_aref[e] == pytest.approx(aref, rel=1e-9, abs=1e-9)
            seen.add((i, bool(abs(data.efc_pos[e] - data.efc_margin[e]) < limits.solimp[i][2])))
    assert {(0, True), (0, False), (1, True), (1, False), (2, False)} <= seen
    # refsafe: h1's time constant 0.005 was raised to 2 x 0.01
    assert limits.damping[0] == pytest.approx(2 / (0.9 * 0.02))


def test_implicitfast_damps_the_unclipped_actuators() -> None:
    """On the Panda (implicitfast, position servos with force limits), MuJoCo's step treats the velocity term of
    each servo whose force its forcerange does not clip implicitly, with the joints' damping: our solve with the
    actuators' velocity damping gives the velocity change of MuJoCo's step, and leaving it out misses by far (with
    its fingers' equality constraint, violated by up to 0.04 here; the contacts turned off)."""
    model = make_system("panda").model
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_CONTACT)
    limits = LimitConstraints.from_model(model)
    assert len(limits.implicit_actuators) == model.nv and len(limits) == 9 and limits.n_equalities == 1
    assert limits.implicit_actuators[7][8] == 0.0 and limits.implicit_actuators[8][0] == 1.0  # M's sparsity
    solver = LimitSolver(limits, sweeps=60).double()
    actuators = ActuatorForces(Actuation.from_model(model)).double()
    rng = np.random.default_rng(3)
    worst_without = clipped = unclipped = 0.0
    for data in _near_limits(model, limits, 60):
        data.ctrl[:] = rng.uniform(*model.actuator_ctrlrange.T)   # targets anywhere: some servos clip, some not
        mujoco.mj_forward(model, data)
        force = data.actuator_force
        clip = np.isclose(np.abs(force), model.actuator_forcerange[:, 1])
        clipped, unclipped = clipped + clip.sum(), unclipped + (~clip).sum()
        t = lambda x: torch.as_tensor(np.array(x))[None]  # noqa: E731
        damping = actuators.velocity_damping(t(data.qpos), t(data.qvel), t(data.ctrl))
        minv = np.zeros((model.nv, model.nv))
        mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
        a_net = data.qacc_smooth + minv @ (np.array(limits.implicit_damping) * data.qvel)
        ours = solver(t(data.qpos), t(data.qvel), t(a_net), t(minv), actuators=damping)[0].numpy()
        without = solver(t(data.qpos), t(data.qvel), t(a_net), t(minv))[0].numpy()
        want = _step_acceleration(model, data)
        scale = np.abs(want).max() + 1.0
        np.testing.assert_allclose(ours / scale, want / scale, atol=1e-7)
        worst_without = max(worst_without, np.abs(without - want).max() / scale)
    assert clipped > 50 and unclipped > 50
    assert worst_without > 0.01  # 1e5 times the tolerance above


@pytest.mark.parametrize("option, damped", [
    ('<option timestep="0.01"/>', True),
    ('<option timestep="0.01" integrator="implicitfast"/>', True),
    ('<option timestep="0.01" integrator="RK4"/>', False),
    ('<option timestep="0.01"><flag eulerdamp="disable"/></option>', False),
    ('<option timestep="0.01"><flag damper="disable"/></option>', False),
])
def test_implicit_damping_follows_the_integrator(option: str, damped: bool) -> None:
    model = mujoco.MjModel.from_xml_string(LIMITS_XML.replace('<option timestep="0.01"/>', option))
    limits = LimitConstraints.from_model(model)
    assert limits.implicit_damping == ((0.0, 0.0, 0.02, 0.0) if damped else ())
    assert limits.timestep == 0.01


def test_no_limits_where_the_model_disables_them() -> None:
    model = mujoco.MjModel.from_xml_string(LIMITS_XML.replace(
        '<option timestep="0.01"/>', '<option timestep="0.01"><flag limit="disable" damper="disable"/></option>'))
    limits = LimitConstraints.from_model(model)
    assert len(limits) == 0
    a0 = torch.randn(3, model.nv)
    out = LimitSolver(limits)(torch.zeros(3, model.nq), torch.zeros(3, model.nv), a0, torch.eye(model.nv).expand(3, -1, -1))
    assert torch.equal(out, a0)


def test_limit_constraints_round_trip_through_the_spec() -> None:
    system = make_system("reacher-easy")
    spec = with_mechanics(system.spec(), limits=True)
    assert spec.limits == system.limits and len(spec.limits) == 1
    again = SystemSpec.from_json(spec.to_json())
    assert again.limits == spec.limits
    assert LimitConstraints.from_json(spec.limits.to_json()) == spec.limits
    with pytest.raises(InvalidInputError, match="limit-constraints record"):
        LimitConstraints.from_dict({"qpos": [1]})


def test_limit_solve_gradients() -> None:
    """Gradients of the solve with respect to the unconstrained acceleration and M⁻¹ (float64, away from the kinks)."""
    model = mujoco.MjModel.from_xml_string(LIMITS_XML)
    limits = LimitConstraints.from_model(model)
    solver = LimitSolver(limits, sweeps=3).double()
    data = next(iter(_near_limits(model, limits, 1, seed=13)))  # two limits active, no contact
    assert data.ncon == 0 and (data.efc_force > 1.0).sum() == 2
    q, v = torch.tensor(data.qpos)[None], torch.tensor(data.qvel)[None]
    minv = np.zeros((model.nv, model.nv))
    mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
    chol = torch.linalg.cholesky(torch.tensor(minv))[None].requires_grad_()
    a0 = torch.tensor(data.qacc_smooth)[None].requires_grad_()
    assert (solver(q, v, a0, torch.tensor(minv)[None]) - a0).abs().min() > 1.0  # the forces act
    assert torch.autograd.gradcheck(lambda a, c: solver(q, v, a, c @ c.transpose(-1, -2)), (a0, chol))


def test_limit_constraints_need_the_structured_model() -> None:
    for kind in ("plain_ode", "plain_delta"):
        for name in ("limit_constraints", "known_actuation"):
            with pytest.raises(InvalidInputError, match="structured model's M"):
                ModelConfig(kind=kind, **{name: True})
    with pytest.raises(InvalidInputError, match="force_sees_action"):
        ModelConfig(known_actuation=True, force_sees_action=True)
    assert ModelConfig(limit_constraints=True).uses_known_actuation
    with pytest.raises(InvalidInputError, match="dopri5"):
        ModelConfig(integrator="dopri5", limit_constraints=True)
    spec = make_system("reacher-easy").spec()
    with pytest.raises(InvalidInputError, match="with_mechanics"):
        ModelConfig(limit_constraints=True).limits_of(spec)
    # a model step of several physics steps: the constraint's spring would act over the longer step
    hopper = with_mechanics(make_system("hopper-hop").spec(), limits=True, actuation=True)
    assert hopper.substeps == 4
    with pytest.raises(InvalidInputError, match="--substeps 4"):
        build_model(hopper, replace(TINY, limit_constraints=True))
    assert build_model(hopper, replace(TINY, limit_constraints=True, substeps=4)).limit_solver is not None


def test_model_with_limit_constraints(reacher_data: mosim.Dataset, tmp_path) -> None:
    """The action acts through MuJoCo's actuator force, integrated with the damping implicit, as in MuJoCo's step;
    past the limit the constraint pushes back (a wrist driven on into its limit slows down); a trained checkpoint
    keeps the constraints and the actuation and predicts the same after loading."""
    from mosim.presets import get_preset
    from mosim.training.trainer import train

    cfg = replace(TINY, limit_constraints=True)
    spec = with_mechanics(reacher_data.spec, limits=True, actuation=True)
    stats = compute_normalization(reacher_data)
    model = build_model(spec, cfg, stats).double()
    plain = build_model(reacher_data.spec, TINY, stats).double()
    plain.load_state_dict(model.state_dict())
    q, v = torch.tensor([[0.3, 1.0]], dtype=torch.float64), torch.tensor([[0.5, 2.0]], dtype=torch.float64)
    a1, a2 = torch.tensor([[0.2, -0.1]], dtype=torch.float64), torch.tensor([[-0.4, 0.3]], dtype=torch.float64)
    p = model.normalized_inputs(q, v, a1)[0]
    scale = model.acceleration_norm.std
    minv = scale.unsqueeze(-1) * model.predictor.inverse_inertia(p) * scale
    damping = torch.tensor(spec.limits.implicit_damping, dtype=torch.float64)
    assert damping.tolist() == [0.01, 0.01]
    gear = torch.tensor([0.05, 0.05], dtype=torch.float64)  # reacher's motors
    force = (a1 - a2) * gear
    want = implicitly_damped(force @ minv[0], minv, damping, 0.02)
    torch.testing.assert_close(model.acceleration(q, v, a1) - model.acceleration(q, v, a2), want)
    past_q = torch.tensor([[0.3, 2.85]], dtype=torch.float64)  # past the wrist's upper limit, moving further out
    fast = torch.tensor([[0.5, 8.0]], dtype=torch.float64)
    pushed = model.acceleration(past_q, fast, a1)
    model.limit_solver.high.fill_(10.0)  # the same model with the limit moved out of reach
    assert pushed[0, 1] < model.acceleration(past_q, fast, a1)[0, 1] - 50.0

    preset = replace(get_preset("tiny"), model=cfg, schedule="end_to_end", val_every_steps=10)
    result = train(reacher_data, cfg, preset.train_config(max_steps=20), tmp_path / "run", progress=False)
    sim = mosim.load(result.best_path)
    assert sim.spec.limits == make_system("reacher-easy").limits and sim.spec.actuation is not None
    q0, v0, actions = reacher_data.qpos[:4, 0], reacher_data.qvel[:4, 0], reacher_data.action[:4, :10]
    q, _ = sim.rollout(q0, v0, actions)
    q2, _ = mosim.load(result.best_path).rollout(q0, v0, actions)
    assert torch.equal(torch.as_tensor(q), torch.as_tensor(q2))


def test_known_actuation_without_limits(reacher_data: mosim.Dataset) -> None:
    """known_actuation alone: the action acts through MuJoCo's actuator force and M, with no limit solve."""
    cfg = replace(TINY, known_actuation=True)
    spec = with_mechanics(reacher_data.spec, actuation=True)
    model = build_model(spec, cfg, compute_normalization(reacher_data)).double()
    assert model.limit_solver is None and model.known_actuation is not None
    q, v = torch.tensor([[0.3, 1.0]], dtype=torch.float64), torch.tensor([[0.5, 2.0]], dtype=torch.float64)
    a1, a2 = torch.tensor([[0.2, -0.1]], dtype=torch.float64), torch.tensor([[-0.4, 0.3]], dtype=torch.float64)
    scale = model.acceleration_norm.std
    minv = scale.unsqueeze(-1) * model.predictor.inverse_inertia(model.normalized_inputs(q, v, a1)[0]) * scale
    want = ((a1 - a2) * 0.05) @ minv[0]  # reacher's motors: gear 0.05
    torch.testing.assert_close(model.acceleration(q, v, a1) - model.acceleration(q, v, a2), want)
