"""Elliptic friction cones: our rows and solve against MuJoCo's step, the cone's derivatives, the solve's gradients."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from mosim.models import cones
from mosim.models.cones import cone_cost, cone_derivatives, dense_hessian, row_costs, solve_with_cones
from mosim.systems import make_system
from mosim.systems.contacts import FloorContacts
from mosim.systems.limits import LimitConstraints

from test_model_contacts import FLOOR_XML, _as_mujoco, _contact_states, _floor_only, _solver, _step_acceleration

# FLOOR_XML on elliptic cones: the torso's capsule with spin friction (condim 4), the foot's sphere with rolling
# friction too (condim 6), the others condim 3, the hand frictionless (condim 1); impratio 10
ELLIPTIC_XML = (FLOOR_XML.replace('<option timestep="0.005"/>', '<option timestep="0.005" cone="elliptic" impratio="10"/>')
                .replace('size=".05" solref', 'size=".05" condim="4" solref')
                .replace('solmix="0.5"', 'solmix="0.5" condim="6"')
                .replace('priority="1"', 'priority="1" condim="1"'))


def _converged(model: mujoco.MjModel) -> mujoco.MjModel:
    """``model`` with MuJoCo's solver run to convergence (its default tolerance stops within 1e-4 of the optimum on
    the Go2's stiff cones)."""
    model.opt.tolerance, model.opt.iterations = 1e-14, 1000
    return model


@pytest.mark.parametrize("system", ["go2", "xml"])
def test_elliptic_contact_acceleration_is_mujocos(system: str) -> None:
    """With MuJoCo's M⁻¹ and unconstrained acceleration, the elliptic cones' solve with the limits and the implicit
    damping gives the velocity change of MuJoCo's step: the Go2 (feet of condim 6, impratio 100, the rest condim
    3, dry friction in its joints) and a robot with contacts of condim 1, 3, 4 and 6, on states with one or several
    contacts acting, and the Go2's friction rows both holding and slipping."""
    model = _converged(make_system("go2").model if system == "go2" else mujoco.MjModel.from_xml_string(ELLIPTIC_XML))
    solver, limits = _solver(model)
    assert solver.contacts.cone_dims == 6
    checked = several = 0
    dims: set[int] = set()
    zones: set[int] = set()
    for data in _contact_states(model, 400, seed=1):
        if not _floor_only(model, data):  # its own bodies' contacts are not solved on elliptic cones
            continue
        ours, want = _as_mujoco(model, data, solver, limits), _step_acceleration(model, data)
        scale = np.abs(want).max() + 1.0
        np.testing.assert_allclose(ours / scale, want / scale, atol=1e-6)
        several += int(data.ncon > 1)
        dims |= {int(c.dim) for c in data.contact[:data.ncon]}
        friction = data.efc_type[:data.nefc] == int(mujoco.mjtConstraint.mjCNSTR_FRICTION_DOF)
        zones |= {int(z) for z in data.efc_state[:data.nefc][friction]}
        checked += 1
        if checked == 80:
            break
    assert checked == 80 and several >= 5 and dims >= ({6} if system == "go2" else {1, 3, 4, 6})
    slipping = {int(mujoco.mjtConstraintState.mjCNSTRSTATE_LINEARNEG), int(mujoco.mjtConstraintState.mjCNSTRSTATE_LINEARPOS)}
    if system == "go2":
        assert int(mujoco.mjtConstraintState.mjCNSTRSTATE_QUADRATIC) in zones and zones & slipping


def test_elliptic_records_round_trip_and_old_records_are_pyramids() -> None:
    model = make_system("go2").model
    contacts = FloorContacts.from_model(model)
    assert contacts.elliptic and contacts.dims == 6 and set(contacts.condim) == {3, 6}
    assert FloorContacts.from_json(contacts.to_json()) == contacts
    old = {k: v for k, v in contacts.to_dict().items() if k not in ("cone", "condim", "spin", "roll")}
    assert FloorContacts.from_dict(old).cone == "pyramidal"
    limits = LimitConstraints.from_model(model)  # the joints' dry friction: the 12 leg joints
    assert len(limits.friction_dof) == 12 and set(limits.friction_loss) == {0.2}
    assert LimitConstraints.from_json(limits.to_json()) == limits
    old = {k: v for k, v in limits.to_dict().items() if not k.startswith("friction_")}
    assert LimitConstraints.from_dict(old).friction_dof == ()


def _cone_problem(seed: int, n: int = 64, k: int = 3, dims: int = 6) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    jar = torch.randn(n, k, dims, generator=g, dtype=torch.float64) * 3
    d = torch.rand(n, k, dims, generator=g, dtype=torch.float64) + 0.5
    scale = torch.rand(n, k, dims, generator=g, dtype=torch.float64) + 0.1
    scale[..., 4:] = 0.0  # rows past a contact's condim
    d[..., 4:] = 0.0
    return jar, d, scale, scale[..., 0], torch.rand(n, k, generator=g) < 0.9


def test_cone_derivatives_are_the_costs_in_every_zone() -> None:
    """The cone's gradient and Hessian equal autograd's of its cost, on points in all three zones."""
    jar, d, scale, mu, active = _cone_problem(0)
    u = jar * scale
    n, t = u[..., 0], u[..., 1:].norm(dim=-1)
    assert bool(((n >= mu * t) & active).any() and ((mu * n + t <= 0) & active).any()
                and ((n < mu * t) & (mu * n + t > 0) & active).any())
    grad, *parts = cone_derivatives(jar, d, scale, mu, active)
    hess = dense_hessian(*parts)
    x = jar.clone().requires_grad_()
    want = torch.autograd.grad(cone_cost(x, d, scale, mu, active).sum(), x, create_graph=True)[0]
    torch.testing.assert_close(grad, want.detach(), rtol=1e-10, atol=1e-10)
    for j in range(jar.shape[-1]):
        row = torch.autograd.grad(want[..., j].sum(), x, retain_graph=True)[0]
        torch.testing.assert_close(hess[..., j, :], row, rtol=1e-10, atol=1e-10)


def _go2_problem(n: int) -> tuple[torch.Tensor, ...]:
    model = _converged(make_system("go2").model)
    rows = []
    for data in _contact_states(model, 10 * n, seed=2):
        if _floor_only(model, data):
            minv = np.zeros((model.nv, model.nv))
            mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
            rows.append((data.qpos.copy(), data.qvel.copy(), minv, data.qacc_smooth.copy()))
            if len(rows) == n:
                break
    return (model, *(torch.tensor(np.stack(x)) for x in zip(*rows)))


def test_elliptic_solve_gradients_and_early_stop() -> None:
    """The solve's gradient (one Newton step from the solution: the implicit function's) against finite differences
    in the unconstrained acceleration and M⁻¹ (float64), with the joints' dry friction; each state stopping alone
    equals running every iteration."""
    model, q, v, minv, a0 = _go2_problem(6)
    solver, _ = _solver(model)
    contacts = solver.contacts(q, v)
    rows = (torch.zeros(1, 0, model.nv, dtype=torch.float64), torch.zeros(1, 0, dtype=torch.float64),
            torch.ones(1, 0, dtype=torch.float64), torch.zeros(1, 0, dtype=torch.bool))
    friction = solver.friction_rows(v)  # the joints' dry friction too
    every = solve_with_cones(a0, minv, rows, contacts, iterations=40, stop_early=False, friction=friction)
    assert (every - a0).abs().max() > 1.0  # the forces act
    torch.testing.assert_close(solve_with_cones(a0, minv, rows, contacts, iterations=40, friction=friction), every,
                               rtol=1e-9, atol=1e-7)
    chol = torch.linalg.cholesky(minv[:1]).requires_grad_()
    a = a0[:1].clone().requires_grad_()
    one, dry = [c[:1] for c in contacts], (friction[0], friction[1][:1], *friction[2:])
    assert torch.autograd.gradcheck(
        lambda a_, c_: solve_with_cones(a_, c_ @ c_.transpose(-1, -2), rows, one, iterations=40, friction=dry),
        (a, chol), eps=1e-6, atol=1e-4, rtol=1e-3)


def test_elliptic_solve_is_mujocos_on_a_thousand_go2_states_in_both_precisions() -> None:
    """The whole batch of the Go2's contact states solved at once, in float64 and in the models' float32, against
    MuJoCo's step run to convergence: the exact line search reaches the optimum where fixed step sizes stopped short
    (one state of these, 0.14 off, whose cost's minimum along a step lay below the smallest size)."""
    model = _converged(make_system("go2").model)
    solver, limits = _solver(model)
    problems = []
    for data in _contact_states(model, 1500, seed=1):
        if _floor_only(model, data):
            minv = np.zeros((model.nv, model.nv))
            mujoco.mj_solveM(model, data, minv, np.eye(model.nv))
            a_net = data.qacc_smooth + minv @ (np.array(limits.implicit_damping) * data.qvel)
            problems.append((data.qpos.copy(), data.qvel.copy(), a_net, minv, _step_acceleration(model, data)))
    assert len(problems) > 1000
    q, v, a0, minv, want = (torch.tensor(np.stack(x)) for x in zip(*problems))
    scale = want.abs().amax(-1) + 1.0
    for dtype, atol in ((torch.float64, 1e-5), (torch.float32, 1e-3)):
        ours = solver(q.to(dtype), v.to(dtype), a0.to(dtype), minv.to(dtype)).double()
        assert ((ours - want).abs().amax(-1) / scale).max() < atol, dtype


def test_exact_line_search_finds_the_minimum_along_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The line search's step size against the cheapest of 8001 sizes in [0, 4] along Newton's direction (the
    fixed sizes of the compiled solve fall short of it by more than the bound here), from points of the Go2's
    problems scattered so that cones sit in every zone and friction rows both hold and slip."""
    model, q, v, minv, a0 = _go2_problem(6)
    solver, _ = _solver(model)
    contacts = solver.contacts(q, v)
    rows = (torch.zeros(1, 0, model.nv, dtype=torch.float64), torch.zeros(1, 0, dtype=torch.float64),
            torch.ones(1, 0, dtype=torch.float64), torch.zeros(1, 0, dtype=torch.bool))
    friction = solver.friction_rows(v)
    captured = []  # the solve's flattened problem
    monkeypatch.setattr(cones, "_iterate", lambda state, *args, **kw: captured.append(state) or state[0])
    solve_with_cones(a0, minv, rows, contacts, friction=friction)
    monkeypatch.undo()
    state = captured[0]
    generator = torch.Generator().manual_seed(0)
    sizes = torch.linspace(0, 4, 8001, dtype=torch.float64)
    for spread in (0.1, 1.0, 10.0):
        noise = torch.randn(state[0].shape, generator=generator, dtype=torch.float64)
        a = state[0] + spread * noise * state[0].abs().mean()
        step, direction = cones._cone_step(a, *state)
        alpha = (step / direction).nanmedian(-1).values
        along = torch.stack([_total_cost(a + s * direction, state) for s in sizes], -1)
        best, start = along.min(-1).values, along[:, 0]
        ours = _total_cost(a + alpha.unsqueeze(-1) * direction, state)
        # its slope within 1% of the start's leaves it within 1e-3 of the decrease the step could give
        assert bool((ours <= best + 1e-3 * (start - best) + 1e-9 * start.abs()).all()), (spread, ours - best)


def _total_cost(a: torch.Tensor, state: list[torch.Tensor]) -> torch.Tensor:
    """The solve's whole cost at ``a (n, nv)`` from :func:`~mosim.models.cones.solve_with_cones`' flattened state:
    ``1/2 (a - a0)ᵀ M (a - a0)``, the pushing rows', the cones' and the dry friction's."""
    a0, mass, jac, aref, weight, active, cjac, caref, cd, scale, mu, cactive, fjac, faref, fweight, floss = state
    e = a - a0
    cost = 0.5 * (e * (mass @ e.unsqueeze(-1)).squeeze(-1)).sum(-1)
    n, k, dims, nv = cjac.shape
    cjar = (cjac.reshape(n, k * dims, nv) @ a.unsqueeze(-1)).squeeze(-1).reshape(n, k, dims) - caref
    jar, fjar = (jac @ a.unsqueeze(-1)).squeeze(-1) - aref, (fjac @ a.unsqueeze(-1)).squeeze(-1) - faref
    return cost + cone_cost(cjar, cd, scale, mu, cactive).sum(-1) + row_costs(jar, weight, active, fjar, fweight, floss)


def _lines_through_the_cone_tip(n: int, dtype: torch.dtype) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """Line searches along which one cone's tangential force passes within 1e-5 to 1e-2 of zero at the full step,
    in the middle zone there (``N = 0``), each with ``(the line, its slope at 0)`` as :func:`_exact_search` takes
    them: no limit or friction rows, the smooth part's minimum between half and twice the full step."""
    g = torch.Generator().manual_seed(3)
    rand = lambda *shape: torch.rand(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    ut = (rand(n, 1, 2) - 0.5) * 4
    miss = (rand(n, 1, 2) - 0.5) * 10 ** (-2 - 3 * rand(n, 1, 1))        # the tangential force at the full step
    n0 = (rand(n, 1, 1) - 0.5) * 2
    cjar, cjd = torch.cat((n0, ut), -1), torch.cat((-n0, miss - ut), -1)
    d, scale = rand(n, 1, 3) + 0.5, rand(n, 1, 3) + 0.1
    scale[..., 1:] = scale[..., 1:2]
    curve = rand(n) + 0.5
    smooth = -curve * (0.5 + 1.5 * rand(n))
    empty = torch.zeros(n, 0, dtype=torch.float64)
    line = (smooth, curve, empty, empty, empty, empty.bool(), *cones._cone_lines(cjar, cjd, d, scale, scale[..., 0]),
            torch.ones(n, 1, dtype=torch.bool), empty, empty, empty, empty)
    slope0 = cones._line_slopes(torch.zeros(n, dtype=torch.float64), *line)[0]
    return tuple(x.to(dtype) if x.is_floating_point() else x for x in line), slope0.to(dtype)


def test_line_search_stays_finite_where_a_cones_tangential_force_passes_through_zero() -> None:
    """Near the cone's tip ``T = |U_t| -> 0`` the middle zone's curvature along the line, ``Dm (g'² + g g'')`` with
    ``g'' = -mu T''``, is a difference of large terms: in float32 it came out negative (``T'' < 0``, which
    Cauchy-Schwarz rules out), Newton's step on the slope went backwards, and the search, with nothing overshot
    yet, stepped to an infinite size: a NaN acceleration for one state of a trained Go2's batch, 73 steps into
    a test rollout. The curvature stays at least the smooth part's, and the search finds the float64 minimum."""
    line64, slope64 = _lines_through_the_cone_tip(2000, torch.float64)
    line32, slope32 = _lines_through_the_cone_tip(2000, torch.float32)
    for alpha in (0.9, 0.99, 0.999, 1.0, 1.001, 1.01):
        _, bend = cones._line_slopes(torch.full_like(slope32, alpha), *line32)
        assert bool((bend >= line32[1] * (1 - 1e-5)).all()), (alpha, (bend - line32[1]).min())
    got, want = cones._exact_search(line32, slope32), cones._exact_search(line64, slope64)
    assert bool(torch.isfinite(got).all())
    cost = lambda x: _line_cost(x, line64)  # noqa: E731
    gain = cost(torch.zeros_like(want)) - cost(want)
    assert bool((cost(got.double()) - cost(want) <= 1e-3 * gain + 1e-6).all())


def _line_cost(alpha: torch.Tensor, line: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The cost along the line, up to its value at 0, by integrating :func:`_line_slopes`' slope (Simpson's rule
    over 2000 intervals, float64)."""
    grid = torch.linspace(0, 1, 2001, dtype=torch.float64)
    slopes = torch.stack([cones._line_slopes(s * alpha, *line)[0] for s in grid], -1)
    w = torch.ones(2001, dtype=torch.float64)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return alpha * (slopes * w).sum(-1) / (3 * 2000)
