"""MuJoCo's constraint problem solved by Newton's method, in torch: the joint limits' and the floor contacts' rows
together (:mod:`mosim.models.limits`, :mod:`mosim.models.contacts`)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def solve_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype a linear solve runs in: ``dtype``, or float32 for bfloat16 and float16 (no low-precision solve)."""
    return torch.float32 if dtype in (torch.bfloat16, torch.float16) else dtype


def cholesky(matrix: Tensor) -> Tensor:
    """The lower Cholesky factor of the SPD ``matrix (..., n, n)``, NaN where the factorization fails (a state gone to
    NaN or infinity in a diverged rollout) instead of raising: the step passes such a state on as the networks do,
    a benchmark scores its window as infinite, and the trainer stops on the NaN with its message."""
    factor, info = torch.linalg.cholesky_ex(matrix)
    return torch.where((info != 0)[..., None, None], torch.full_like(factor, math.nan), factor)


def join_rows(first: tuple[Tensor, ...], second: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Two sets of rows ``(J (..., R, nv), aref, R, active (..., R))`` as one, the first broadcast to the second's
    batch shape (the limits' Jacobian has no batch dimensions)."""
    jac = torch.cat((first[0].expand(*second[0].shape[:-2], *first[0].shape[-2:]), second[0]), dim=-2)
    rest = (torch.cat((a.expand(*b.shape[:-1], a.shape[-1]), b), dim=-1) for a, b in zip(first[1:], second[1:]))
    return (jac, *rest)


ITERATIONS = 8
"""Newton iterations at most (eager, they stop once the set of pushing rows repeats, after two or three on
cheetah-run; compiled, all of them run, in a graph of fixed shapes)"""


def solve_rows(a0: Tensor, minv: Tensor, jac: Tensor, aref: Tensor, reg: Tensor, active: Tensor,
               iterations: int = ITERATIONS, mass: Tensor | None = None, stop_early: bool = True) -> Tensor:
    """The constrained acceleration ``(..., nv)`` of the rows ``jac (..., R, nv)`` (``aref``, ``reg``, ``active (...,
    R)``), by Newton's method on MuJoCo's primal problem, from the unconstrained ``a0 (..., nv)``:

        minimize  1/2 (a - a0)ᵀ M (a - a0) + sum over acting rows of  1/2 (J a - aref)² / R  where  J a < aref,

    ``M = minv⁻¹``: each iteration solves the quadratic of the rows that push at the current ``a``, which is the
    optimum once that set stops changing (four iterations reproduce MuJoCo's ``qacc`` to its solver's tolerance on
    cheetah-run's states; one of 30 hopper-hop states with contacts between its own bodies needed five to eight).
    Equal to ``a0 + M⁻¹ Jᵀ f``, ``f >= 0`` the rows' forces. ``mass``: ``M``, where known (else ``minv`` is
    inverted). ``stop_early``: stop once no state's set of pushing rows changes, where a further iteration would
    solve the same quadratic again: the same ``a`` and, as each iteration's ``a`` is that quadratic's minimum
    whatever it started from, the same gradients. Under ``torch.compile`` the iterations cannot stop early: all
    of them run."""
    work = solve_dtype(a0.dtype)  # then back to a0's
    a0w, jac, aref = a0.to(work), jac.to(work), aref.to(work)
    mass = torch.cholesky_inverse(cholesky(minv.to(work))) if mass is None else mass.to(work)
    weight = torch.where(active, 1.0 / reg.to(work), torch.zeros_like(aref))
    if stop_early and not torch.compiler.is_compiling():
        return _solve_each(a0w, mass, jac, aref, weight, active, iterations).to(a0.dtype)
    a = a0w
    for _ in range(iterations):
        jar = (jac @ a.unsqueeze(-1)).squeeze(-1) - aref
        a = _newton_step(a, a0w, mass, jac, jar, (jar < 0) & active, weight)
    return a.to(a0.dtype)


def _newton_step(a: Tensor, a0: Tensor, mass: Tensor, jac: Tensor, jar: Tensor, push: Tensor, weight: Tensor) -> Tensor:
    """One Newton iteration from ``a`` (``jar = J a - aref``): the minimum of the quadratic of the rows that ``push``
    there, weighted ``weight`` (``1 / R``)."""
    w = torch.where(push, weight, torch.zeros_like(weight))
    jt = jac.transpose(-1, -2)
    grad = (mass @ (a - a0).unsqueeze(-1)).squeeze(-1) + (jt @ (w * jar).unsqueeze(-1)).squeeze(-1)
    hessian = mass + jt @ (w.unsqueeze(-1) * jac)
    return a - torch.cholesky_solve(grad.unsqueeze(-1), cholesky(hessian)).squeeze(-1)  # SPD


def _solve_each(a0: Tensor, mass: Tensor, jac: Tensor, aref: Tensor, weight: Tensor, active: Tensor,
                iterations: int) -> Tensor:
    """:func:`solve_rows`' iterations, each state's stopping once its own set of pushing rows repeats (a state where
    none pushes at ``a0`` keeps ``a0``): the later iterations run on the few states still changing. Each stopped
    state's ``a`` is its last quadratic's minimum, as a further iteration would give it again."""
    batch = torch.broadcast_shapes(a0.shape[:-1], mass.shape[:-2], jac.shape[:-2], active.shape[:-1])
    a0, mass, jac, aref, weight, active = (
        x.expand(*batch, *x.shape[-k:]).reshape(math.prod(batch), *x.shape[-k:])
        for x, k in ((a0, 1), (mass, 2), (jac, 2), (aref, 1), (weight, 1), (active, 1)))
    a = a_sub = a0
    index = torch.arange(a.shape[0], device=a.device)    # the states still iterating: their rows in ``a``
    acting = torch.zeros_like(active)                    # none pushing: the unconstrained a0
    for _ in range(iterations):
        jar = (jac @ a_sub.unsqueeze(-1)).squeeze(-1) - aref
        push = (jar < 0) & active
        going = (push != acting).any(-1)
        if not bool(going.any()):
            break
        if not bool(going.all()):
            keep = going.nonzero().squeeze(-1)
            index, push, jar, a_sub, a0, mass, jac, aref, weight, active = (
                x[keep] for x in (index, push, jar, a_sub, a0, mass, jac, aref, weight, active))
        acting = push
        a_sub = _newton_step(a_sub, a0, mass, jac, jar, push, weight)
        a = a.index_copy(0, index, a_sub)
    return a.reshape(*batch, a.shape[-1])
