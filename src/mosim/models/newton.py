"""MuJoCo's constraint problem solved by Newton's method, in torch: the joint limits' and the floor contacts' rows
together (:mod:`mosim.models.limits`, :mod:`mosim.models.contacts`)."""

from __future__ import annotations

import torch
from torch import Tensor


def solve_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype a linear solve runs in: ``dtype``, or float32 for bfloat16 and float16 (no low-precision solve)."""
    return torch.float32 if dtype in (torch.bfloat16, torch.float16) else dtype


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
    mass = torch.cholesky_inverse(torch.linalg.cholesky(minv.to(work))) if mass is None else mass.to(work)
    weight = torch.where(active, 1.0 / reg.to(work), torch.zeros_like(aref))
    jt = jac.transpose(-1, -2)
    a = a0w
    acting = None
    for _ in range(iterations):
        jar = (jac @ a.unsqueeze(-1)).squeeze(-1) - aref
        push = (jar < 0) & active
        if stop_early and acting is not None and not torch.compiler.is_compiling() and torch.equal(push, acting):
            break
        acting = push
        w = torch.where(push, weight, torch.zeros_like(weight))
        grad = (mass @ (a - a0w).unsqueeze(-1)).squeeze(-1) + (jt @ (w * jar).unsqueeze(-1)).squeeze(-1)
        hessian = mass + jt @ (w.unsqueeze(-1) * jac)
        a = a - torch.cholesky_solve(grad.unsqueeze(-1), torch.linalg.cholesky(hessian)).squeeze(-1)  # SPD
    return a.to(a0.dtype)
