"""MuJoCo's elliptic friction cones in torch: each floor contact's rows and their share of the constraint problem,
solved by Newton's method with a line search (MuJoCo's Newton solver on ``cone="elliptic"`` models, such as the Go2).

A contact of ``condim`` c has c rows (:mod:`mosim.systems.contacts`): the normal, the two tangents, the spin about
the normal, the rolling about the tangents, each ``jar = J a - aref``. In the cone's own coordinates ``U_0 = mu
jar_0``, ``U_j = mu_j jar_j`` (``mu`` the regularized cone's friction, ``mu_j`` the row's), with ``N = U_0`` and ``T =
|U_1..|``, the contact's cost is MuJoCo's (``mj_constraintUpdate``):

- ``N >= mu T`` (the top zone): no force, no cost;
- ``mu N + T <= 0`` (the bottom zone): every row acts, ``1/2 sum D_j jar_j²`` (``D = 1 / R``);
- otherwise (the middle zone): ``1/2 Dm (N - mu T)²``, ``Dm = D_0 / (mu² (1 + mu²))``, a force on the cone's rim.

The cost is smooth but not quadratic in the middle zone, so each Newton step is followed by a line search: eager, an
exact one as MuJoCo's solver does, to where the cost's slope along the step vanishes (:func:`_exact_search`);
compiled, in a graph of fixed shapes, the cheapest of the step scaled by each of :data:`STEPS` or not taken. (The
fixed sizes alone left a few of a thousand Go2 states far from the optimum, where the cost's minimum along a step lay
below the smallest size and the solve stopped there, 0.14 off MuJoCo's acceleration relative to its largest entry.)

The Hessian is the cost's own, ``Jᵀ H_c J`` per contact (MuJoCo's cone Hessian, assembled from its parts:
:func:`cone_derivatives`). Pushing-only rows (the joint limits') join as in :mod:`mosim.models.newton`, and the
joints' dry friction rows with MuJoCo's cost for them: quadratic near zero, linear beyond (a bounded force).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from mosim.models.limits import impedance
from mosim.models.newton import cholesky, solve_dtype
from mosim.systems.contacts import MIN_VAL

CONE_ITERATIONS = 100
"""Newton iterations at most, eager: each state stops once Newton's full step is below the tolerance, after 6.1 on
average on 4096 of the pretrained Go2's data states (MuJoCo's own solver takes 5.3 on its data), the last after 30"""
COMPILED_CONE_ITERATIONS = 30
"""Newton iterations of the compiled solve, which runs every one (its graph unrolls them)"""
LINE_ITERATIONS = 8
"""the exact line search's tries at most (each state stops once its slope is within tolerance)"""
LINE_TOLERANCE = 0.01
"""the exact line search stops where the slope along the step is this share of its slope at the start (MuJoCo's
``ls_tolerance``)"""
STEPS = (1.0, 0.5, 0.25, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0)
"""the compiled solve's line search: the cheapest of these step sizes is taken (0: the state stays where it is)"""


def elliptic_rows(jac: Tensor, ang: Tensor, frame: Tensor, dist: Tensor, v: Tensor, params: dict[str, Tensor],
                  impratio: Tensor, dims: int) -> tuple[Tensor, ...]:
    """The elliptic cone rows of ``k`` contacts: ``J (..., k, dims, nv)``, ``aref`` and ``D (..., k, dims)``, the
    cone's scale of each row ``(..., k, dims)`` (``mu`` on the normal, the row's friction on the others, 0 on the rows
    past a contact's ``condim``), ``mu`` and whether each contact acts ``(..., k)``. From each contact's point
    Jacobian ``jac`` and its body's angular one ``ang (..., k, 3, nv)`` (world frame), its frame ``(..., k, 3, 3)``
    (normal, then the two tangents, as rows), its distance ``(..., k)`` and its parameters ``params``
    (:data:`~mosim.models.contacts.PAIR_PARAMETERS` and ``condim``, ``spin``, ``roll``), at the velocity ``v (...,
    nv)``."""
    rows = frame @ jac                                                       # normal, t1, t2
    if dims > 3:
        rows = torch.cat((rows, (frame @ ang)[..., : dims - 3, :]), -2)      # spin, roll about t1 and t2
    mu1, condim = params["friction"], params["condim"]
    r = dist - params["margin"]
    imp = impedance(r, params["solimp"])
    reg_n = ((1 - imp) / imp * params["weight"]).clamp_min(MIN_VAL)
    reg_1 = reg_n / impratio
    mu = mu1 * (reg_1 / reg_n).sqrt()
    row_mu = [mu1, mu1, params["spin"], params["roll"], params["roll"]][: dims - 1]
    zero = torch.zeros_like(mu1)
    scale = torch.stack([mu] + [torch.where(condim > j + 1, m, zero) for j, m in enumerate(row_mu)], -1)
    reg = torch.stack([reg_n] + [reg_1 * mu1 * mu1 / (m * m) for m in row_mu], -1)
    d = torch.where(scale > 0, 1.0 / reg, torch.zeros_like(reg))
    vel = (rows @ v[..., None, :, None]).squeeze(-1)                         # (..., k, dims)
    position = torch.nn.functional.pad((params["stiffness"] * imp * r)[..., None], (0, dims - 1))
    aref = -params["damping"][..., None] * vel - position
    return rows, aref, d, scale, mu, dist < params["margin"]


def _zones(jar: Tensor, scale: Tensor, mu: Tensor, active: Tensor) -> tuple[Tensor, ...]:
    """The cone's coordinates at ``jar``: ``N (..., k)``, the tangential ``U_1.. (..., k, dims - 1)`` and ``T``, and
    which acting contacts are in the bottom zone and in the middle one (the others exert no force)."""
    u = jar * scale
    n, ut = u[..., 0], u[..., 1:]
    t = ut.norm(dim=-1)
    bottom = active & (mu * n + t <= 0)
    return n, ut, t, bottom, active & ~bottom & (n < mu * t)


def _middle_weight(d: Tensor, mu: Tensor) -> Tensor:
    """The middle zone's ``Dm = D_0 / (mu² (1 + mu²))`` of each contact ``(..., k)``, from its rows' ``D (..., k,
    dims)``."""
    return d[..., 0] / (mu * mu * (1 + mu * mu))


def cone_cost(jar: Tensor, d: Tensor, scale: Tensor, mu: Tensor, active: Tensor) -> Tensor:
    """Each contact's cost ``(..., k)`` at ``jar (..., k, dims)`` (module docstring; arguments as
    :func:`elliptic_rows` gives them)."""
    n, _, t, bottom, middle = _zones(jar, scale, mu, active)
    dm = _middle_weight(d, mu)
    cost = torch.where(middle, 0.5 * dm * (n - mu * t) ** 2, torch.zeros_like(n))
    return torch.where(bottom, 0.5 * (d * jar * jar).sum(-1), cost)


def cone_derivatives(jar: Tensor, d: Tensor, scale: Tensor, mu: Tensor, active: Tensor) -> tuple[Tensor, ...]:
    """The gradient ``(..., k, dims)`` of :func:`cone_cost` in ``jar`` and its Hessian in parts: ``H = diag(w) + a p
    pᵀ - b r rᵀ`` for each contact, from ``w``, ``p``, ``r (..., k, dims)`` and ``a``, ``b (..., k)`` (in the middle
    zone, with ``U = S jar``, ``g = N - mu T``, ``û`` the tangential unit vector: ``Dm`` times ``(S ∇g)(S ∇g)ᵀ`` plus
    ``c (S² - (S û)(S û)ᵀ)`` on the tangential rows, ``c = -g mu / T >= 0``; in the bottom zone ``diag(D)``), so
    that ``Jᵀ H J`` is a weighted sum of the rows' outer products (:func:`dense_hessian` makes ``H`` itself)."""
    n, ut, t, bottom, middle = _zones(jar, scale, mu, active)
    middle = middle & (t > 0)
    dm = torch.where(middle, _middle_weight(d, mu), torch.zeros_like(n))
    g = n - mu * t                                                           # < 0 in the middle zone
    unit = ut / t.clamp_min(MIN_VAL).unsqueeze(-1)
    p = torch.cat((torch.ones_like(n).unsqueeze(-1), -mu.unsqueeze(-1) * unit), -1) * scale  # S ∇g
    c = dm * (-g * mu / t.clamp_min(MIN_VAL))
    r = torch.nn.functional.pad(unit, (1, 0)) * scale
    tangential = torch.nn.functional.pad(scale[..., 1:] ** 2, (1, 0))
    grad = torch.where(middle[..., None], (dm * g).unsqueeze(-1) * p,
                       torch.where(bottom[..., None], d * jar, torch.zeros_like(jar)))
    weight = torch.where(middle[..., None], c.unsqueeze(-1) * tangential,
                         torch.where(bottom[..., None], d, torch.zeros_like(d)))
    return grad, weight, p, dm, r, c


def dense_hessian(weight: Tensor, p: Tensor, a: Tensor, r: Tensor, b: Tensor) -> Tensor:
    """``diag(w) + a p pᵀ - b r rᵀ`` ``(..., k, dims, dims)`` of :func:`cone_derivatives`' parts."""
    return (torch.diag_embed(weight) + a[..., None, None] * p.unsqueeze(-1) * p.unsqueeze(-2)
            - b[..., None, None] * r.unsqueeze(-1) * r.unsqueeze(-2))


def solve_with_cones(a0: Tensor, minv: Tensor, rows: tuple[Tensor, ...], cones: tuple[Tensor, ...],
                     iterations: int = CONE_ITERATIONS, mass: Tensor | None = None, stop_early: bool = True,
                     friction: tuple[Tensor, ...] | None = None) -> Tensor:
    """The constrained acceleration ``(..., nv)`` from the unconstrained ``a0``: MuJoCo's primal problem over the
    pushing-only ``rows`` ``(J (..., R, nv), aref, R, active (..., R))`` and the elliptic ``cones``
    (:func:`elliptic_rows`), by Newton's method with a line search, from ``a0``. ``mass``: ``M``, where known (else
    ``minv`` is inverted). ``stop_early``: each state stops once Newton's full step is below the tolerance; under
    ``torch.compile`` every iteration runs, :data:`COMPILED_CONE_ITERATIONS` at most. ``friction``: the joints' dry
    friction rows ``(J (..., F, nv), aref (..., F), R (F,), largest force (F,))``, each with MuJoCo's cost ``1/2 jar²
    / R`` where ``|jar| < R f``, linear beyond (a force of at most ``f`` either way)."""
    work = solve_dtype(a0.dtype)
    mass = torch.cholesky_inverse(cholesky(minv.to(work))) if mass is None else mass.to(work)
    jac, aref, reg, active = rows
    weight = torch.where(active, 1.0 / reg.to(work), torch.zeros_like(aref, dtype=work))
    cjac, caref, cd, scale, mu, cactive = cones
    if friction is None:
        friction = (jac.new_zeros(0, jac.shape[-1]), aref.new_zeros(0), aref.new_ones(0), aref.new_zeros(0))
    fjac, faref, freg, floss = friction
    batch = torch.broadcast_shapes(a0.shape[:-1], mass.shape[:-2], jac.shape[:-2], cjac.shape[:-3], fjac.shape[:-2])
    flat = math.prod(batch)
    tensors = [(a0, 1), (mass, 2), (jac, 2), (aref, 1), (weight, 1), (active, 1),
               (cjac, 3), (caref, 2), (cd, 2), (scale, 2), (mu, 1), (cactive, 1),
               (fjac, 2), (faref, 1), (1.0 / freg, 1), (floss, 1)]
    state = [x.expand(*batch, *x.shape[x.dim() - k:]).reshape(flat, *x.shape[x.dim() - k:]) for x, k in tensors]
    state = [x.to(work) if x.is_floating_point() else x for x in state]
    tol = 1e-10 if work == torch.float64 else 1e-5
    compiling = torch.compiler.is_compiling()
    early = stop_early and not compiling
    iterations = min(iterations, COMPILED_CONE_ITERATIONS) if compiling else iterations
    grad = torch.is_grad_enabled() and any(x.requires_grad for x in state)
    with torch.no_grad():
        a = _iterate([x.detach() for x in state], iterations, tol, early, exact=not compiling)
    if grad:  # one Newton step from the solution, where the gradient is 0: the implicit function's gradient
        a = a + _cone_step(a, *state, search=False)[0]
    return a.reshape(*batch, a.shape[-1]).to(a0.dtype)


def _iterate(state: list[Tensor], iterations: int, tol: float, early: bool, exact: bool) -> Tensor:
    """:func:`solve_with_cones`' iterations on the flattened ``state``, each state stopping once Newton's full step
    is below ``tol`` relative to its acceleration (where ``early``); the line search exact where ``exact``."""
    a = a_sub = state[0]
    index = torch.arange(a.shape[0], device=a.device)
    for _ in range(iterations):
        step, direction = _cone_step(a_sub, *state, exact=exact)
        a_sub = a_sub + step
        a = a.index_copy(0, index, a_sub) if early else a_sub
        if not early:
            continue
        # on Newton's full step, not the one taken: a line search cut short may take a tiny one far from the optimum
        going = direction.abs().amax(-1) > tol * (1 + a_sub.abs().amax(-1))
        if not bool(going.any()):
            break
        if not bool(going.all()):
            keep = going.nonzero().squeeze(-1)
            index, a_sub = index[keep], a_sub[keep]
            state = [x[keep] for x in state]
    return a


def _cone_step(a: Tensor, a0: Tensor, mass: Tensor, jac: Tensor, aref: Tensor, weight: Tensor, active: Tensor,
               cjac: Tensor, caref: Tensor, cd: Tensor, scale: Tensor, mu: Tensor, cactive: Tensor,
               fjac: Tensor, faref: Tensor, fweight: Tensor, floss: Tensor, search: bool = True,
               exact: bool = True) -> tuple[Tensor, Tensor]:
    """One Newton step from ``a``, with its line search where ``search`` (:func:`_exact_search` where ``exact``, else
    :func:`_grid_search`): the step taken and Newton's full step ``(n, nv)``."""
    n, k, dims, nv = cjac.shape
    cflat = cjac.reshape(n, k * dims, nv)
    e = (mass @ (a - a0).unsqueeze(-1)).squeeze(-1)
    jar = (jac @ a.unsqueeze(-1)).squeeze(-1) - aref
    w = torch.where((jar < 0) & active, weight, torch.zeros_like(weight))
    cjar = ((cflat @ a.unsqueeze(-1)).squeeze(-1)).reshape(n, k, dims) - caref
    cgrad, cw, p, pw, r, rw = cone_derivatives(cjar, cd, scale, mu, cactive)
    fjar = (fjac @ a.unsqueeze(-1)).squeeze(-1) - faref
    fgrad, fw = _friction_derivatives(fjar, fweight, floss)
    # every term of the Hessian a weighted outer product of a row: the limits', the cones' and the friction's rows,
    # and each cone's Jᵀp and Jᵀr (its two rank-one parts)
    jp, jr = (p.unsqueeze(-1) * cjac).sum(-2), (r.unsqueeze(-1) * cjac).sum(-2)   # (n, k, nv)
    jt, ct, ft = jac.transpose(-1, -2), cflat.transpose(-1, -2), fjac.transpose(-1, -2)
    grad = (e + (jt @ (w * jar).unsqueeze(-1)).squeeze(-1) + (ct @ cgrad.reshape(n, k * dims, 1)).squeeze(-1)
            + (ft @ fgrad.unsqueeze(-1)).squeeze(-1))
    hessian = (mass + jt @ (w.unsqueeze(-1) * jac) + ct @ (cw.reshape(n, k * dims, 1) * cflat)
               + ft @ (fw.unsqueeze(-1) * fjac) + jp.transpose(-1, -2) @ (pw.unsqueeze(-1) * jp)
               - jr.transpose(-1, -2) @ (rw.unsqueeze(-1) * jr))
    direction = -torch.cholesky_solve(grad.unsqueeze(-1), cholesky(hessian)).squeeze(-1)
    if not search:
        return direction, direction
    md = (mass @ direction.unsqueeze(-1)).squeeze(-1)
    smooth, curve = ((a - a0) * md).sum(-1), (direction * md).sum(-1)
    jd, fjd = (jac @ direction.unsqueeze(-1)).squeeze(-1), (fjac @ direction.unsqueeze(-1)).squeeze(-1)
    cjd = (cflat @ direction.unsqueeze(-1)).squeeze(-1).reshape(n, k, dims)
    if not exact:
        return _grid_search((smooth, curve, jar, jd, weight, active, cjar, cjd, cd, scale, mu, cactive, fjar, fjd,
                             fweight, floss)).unsqueeze(-1) * direction, direction
    line = (smooth, curve, jar, jd, weight, active, *_cone_lines(cjar, cjd, cd, scale, mu), cactive, fjar, fjd,
            fweight, floss)
    return _exact_search(line, (grad * direction).sum(-1)).unsqueeze(-1) * direction, direction


def _friction_derivatives(fjar: Tensor, fweight: Tensor, floss: Tensor) -> tuple[Tensor, Tensor]:
    """The dry friction rows' cost's gradient in ``fjar`` and its curvature: quadratic where ``|fjar| < floss /
    fweight`` (``fweight fjar`` and ``fweight``), linear beyond (``floss sign(fjar)`` and 0)."""
    fw = torch.where(fjar.abs() < floss / fweight, fweight, torch.zeros_like(fweight))
    return torch.where(fw > 0, fw * fjar, floss * fjar.sign()), fw


def _cone_lines(jar: Tensor, jd: Tensor, d: Tensor, scale: Tensor, mu: Tensor) -> tuple[Tensor, ...]:
    """Each cone along the step ``jar + alpha jd (n, k, dims)`` as scalars per contact ``(n, k)``: its ``N = n0 +
    alpha dn``, its ``T² = t2 + 2 alpha tb + alpha² tc``, its bottom zone's cost's slope ``bottom + alpha bend``, and
    ``mu`` and the middle zone's ``Dm`` (:func:`cone_cost`)."""
    u, du = jar * scale, jd * scale
    ut, dut = u[..., 1:], du[..., 1:]
    dm = _middle_weight(d, mu)
    return (u[..., 0], du[..., 0], (ut * ut).sum(-1), (ut * dut).sum(-1), (dut * dut).sum(-1),
            (d * jar * jd).sum(-1), (d * jd * jd).sum(-1), mu, dm)


def _line_slopes(alpha: Tensor, smooth: Tensor, curve: Tensor, jar: Tensor, jd: Tensor, weight: Tensor,
                 active: Tensor, n0: Tensor, dn: Tensor, t2: Tensor, tb: Tensor, tc: Tensor, bottom: Tensor,
                 bottom_bend: Tensor, mu: Tensor, dm: Tensor, cactive: Tensor, fjar: Tensor, fjd: Tensor,
                 fweight: Tensor, floss: Tensor) -> tuple[Tensor, Tensor]:
    """The cost's first and second derivatives ``(n,)`` along the step at ``a + alpha d`` (``alpha (n,)``): the
    smooth part's ``smooth + alpha curve`` and ``curve`` (``(a - a0)ᵀ M d`` and ``dᵀ M d``), each row's from its
    ``jar`` at ``a`` and ``J d``, each cone's from :func:`_cone_lines`' scalars: in the middle zone, with ``g = N - mu
    T``, ``Dm g g'`` and ``Dm (g'² + g g'')``."""
    at = alpha.unsqueeze(-1)
    j = jar + at * jd
    w = torch.where((j < 0) & active, weight, torch.zeros_like(weight))
    slope = smooth + alpha * curve + (w * j * jd).sum(-1)
    bend = curve + (w * jd * jd).sum(-1)
    f = fjar + at * fjd
    fgrad, fw = _friction_derivatives(f, fweight, floss)
    slope = slope + (fgrad * fjd).sum(-1)
    bend = bend + (fw * fjd * fjd).sum(-1)
    n = n0 + at * dn
    t = (t2 + at * (2 * tb + at * tc)).clamp_min(0).sqrt()
    low = cactive & (mu * n + t <= 0)
    middle = cactive & ~low & (n < mu * t)
    safe = t.clamp_min(MIN_VAL)
    dt = (tb + at * tc) / safe
    g, dg = n - mu * t, dn - mu * dt
    ddg = -mu * (tc - dt * dt).clamp_min(0) / safe  # T'' >= 0 (Cauchy-Schwarz); below only by rounding, near T = 0
    zero = torch.zeros_like(n)
    slope = slope + torch.where(middle, dm * g * dg, torch.where(low, bottom + at * bottom_bend, zero)).sum(-1)
    bend = bend + torch.where(middle, dm * (dg * dg + g * ddg), torch.where(low, bottom_bend, zero)).sum(-1)
    return slope, bend


def _exact_search(line: tuple[Tensor, ...], slope0: Tensor) -> Tensor:
    """The step size ``(n,)`` where the cost's slope along the step vanishes (to :data:`LINE_TOLERANCE` of its slope
    at 0, ``slope0 < 0``, or to the float's resolution), in :data:`LINE_ITERATIONS` tries at most. The cost is convex
    along the line, so its slope grows, and each size tried either falls short (slope < 0) or overshoots, which
    brackets the answer. The first try is the full step; then Newton's step on the slope (the smooth part's curvature
    ``dᵀ M d > 0`` makes it defined) where it stays inside the bracket and is at most half the one before (else it
    may cycle over a bend, where a contact changes zone), or while nothing has overshot yet; else the secant of the
    bracket's ends, or its middle where the try before did not halve it, or twice the size where nothing has
    overshot (a safeguard: Newton's step on the slope needs a positive curvature, whose formula is singular where a
    cone's tangential force passes through 0 along the line). Each state stops on its own; once half of them have,
    the others search on alone."""
    out = alpha = torch.ones_like(slope0)
    index = torch.arange(slope0.shape[0], device=slope0.device)
    bound, last = LINE_TOLERANCE * slope0.abs(), torch.full_like(slope0, math.inf)
    low, high, width = torch.zeros_like(slope0), torch.full_like(slope0, math.inf), torch.full_like(slope0, math.inf)
    slope_low, slope_high = slope0, torch.zeros_like(slope0)
    resolution = math.sqrt(torch.finfo(slope0.dtype).eps)
    for _ in range(LINE_ITERATIONS):
        slope, bend = _line_slopes(alpha, *line)
        short = slope < 0
        low, slope_low = torch.where(short, alpha, low), torch.where(short, slope, slope_low)
        high, slope_high = torch.where(short, high, alpha), torch.where(short, slope_high, slope)
        done = (slope.abs() <= bound) | (high - low <= resolution * low)   # inf until bracketed
        finished = int(done.sum())
        if finished == done.shape[0]:
            break
        newton = alpha - slope / bend
        secant = torch.where(high - low > 0.5 * width, 0.5 * (low + high),
                             low - slope_low * (high - low) / (slope_high - slope_low))
        secant = torch.where(high == math.inf, 2 * low, secant)  # nothing overshot yet, Newton's step no good: farther
        take = (newton > low) & (newton < high) & (((newton - alpha).abs() <= 0.5 * last) | (high == math.inf))
        new = torch.where(done, alpha, torch.where(take, newton, secant))
        last, alpha, width = (new - alpha).abs(), new, high - low
        if 2 * finished >= done.shape[0]:
            out = out.index_copy(0, index, alpha)
            keep = (~done).nonzero().squeeze(-1)
            index, alpha, bound, last, low, high, slope_low, slope_high, width = (
                x[keep] for x in (index, alpha, bound, last, low, high, slope_low, slope_high, width))
            line = tuple(x[keep] for x in line)
    return out.index_copy(0, index, alpha)


def row_costs(jar: Tensor, weight: Tensor, active: Tensor, fjar: Tensor, fweight: Tensor, floss: Tensor) -> Tensor:
    """The pushing-only rows' cost ``1/2 w jar²`` where they push, and the dry friction rows' (quadratic where
    ``|fjar| < floss / fweight``, linear beyond), summed over each set's rows (the last axis)."""
    limit = 0.5 * torch.where((jar < 0) & active, weight * jar * jar, torch.zeros_like(jar)).sum(-1)
    f, bound = fjar.abs(), floss / fweight
    return limit + torch.where(f < bound, 0.5 * fweight * f * f, floss * (f - 0.5 * bound)).sum(-1)


def _grid_search(line: tuple[Tensor, ...]) -> Tensor:
    """The cheapest of :data:`STEPS` along the step ``(n,)``: each size's cost evaluated at once (a graph of fixed
    shapes, for the compiled solve)."""
    smooth, curve, jar, jd, weight, active, cjar, cjd, cd, scale, mu, cactive, fjar, fjd, fweight, floss = line
    steps = torch.tensor(STEPS, dtype=jar.dtype, device=jar.device)
    cost = steps * smooth.unsqueeze(-1) + 0.5 * steps * steps * curve.unsqueeze(-1)
    at = steps[:, None]
    cost = cost + row_costs(jar.unsqueeze(-2) + at * jd.unsqueeze(-2), weight.unsqueeze(-2), active.unsqueeze(-2),
                            fjar.unsqueeze(-2) + at * fjd.unsqueeze(-2), fweight.unsqueeze(-2),
                            floss.unsqueeze(-2))   # (n, steps)
    cjar_s = cjar.unsqueeze(1) + steps[:, None, None] * cjd.unsqueeze(1)   # (n, steps, k, dims)
    cost = cost + cone_cost(cjar_s, cd.unsqueeze(1), scale.unsqueeze(1), mu.unsqueeze(1), cactive.unsqueeze(1)).sum(-1)
    return steps[cost.argmin(-1)]


__all__ = ["COMPILED_CONE_ITERATIONS", "CONE_ITERATIONS", "cone_cost", "cone_derivatives", "dense_hessian",
           "elliptic_rows", "row_costs", "solve_with_cones"]
