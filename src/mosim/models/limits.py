"""MuJoCo's joint-limit constraints in torch, solved with a learned inverse inertia.

A joint hitting its limit is the one place where reacher's dynamics jump: within one 20 ms step MuJoCo's soft
constraint takes up to a few rad/s off the wrist's speed, a nonlinear function of the penetration, the speed and
the unconstrained acceleration that a smooth network fits poorly from the few limit hits of a random dataset
(benchmarks/accuracy_findings.md). Here it is not learned: :func:`limit_acceleration` applies MuJoCo's constraint
(:mod:`mosim.systems.limits`) to the model's unconstrained acceleration ``a0``, with the model's own ``M⁻¹`` (the
structured predictor's ``M(q)``) as the inertia the constraint pushes against:

    a = a0 + M⁻¹ Jᵀ f,   f >= 0 minimizing  1/2 fᵀ (A + R) f + fᵀ (J a0 - aref),   A = J M⁻¹ Jᵀ.

Then, as MuJoCo's Euler integrator does, the joints' damping ``D`` is treated implicitly: the step integrates
``(I + h M⁻¹ D)⁻¹ a``. For the smooth part that changes nothing a learned ``M`` could not absorb, but the constraint
must be solved with the inertia before it: on reacher's wrist ``h D`` is as large as the inertia, and solving with
the damped inertia gives velocity errors twice the size of the limit's own effect.

One active limit is solved exactly; several (cheetah's legs) by projected Gauss-Seidel sweeps. With MuJoCo's own
``M⁻¹`` and ``a0`` (``qacc_smooth``) it reproduces MuJoCo's step (tested). The learned ``M`` is known only up
to the scale the data leave free, so the regularizer ``R = (1 - imp) / imp · A0`` takes ``A0`` from that same
``M`` at MuJoCo's reference pose ``qpos0``, where MuJoCo takes its ``invweight0``: the ratio ``A / A0``, which sets
the constraint's strength, is then scale-free.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mosim.systems.limits import LimitConstraints


def impedance(r: Tensor, solimp: Tensor) -> Tensor:
    """MuJoCo's impedance ``imp (...)`` of the violation ``r = pos - margin (..., L)`` (``getimpedance``):
    ``d0`` at ``r = 0`` rising to ``dwidth`` at ``|r| >= width`` along a two-piece power curve (the mean of the two
    where they are equal or the width is zero); ``solimp (L, 5)``."""
    d0, dwidth, width, mid, power = solimp.unbind(-1)
    x = (r.abs() / width.clamp_min(1e-15)).clamp(0.0, 1.0)
    low = x.pow(power) / mid.pow(power - 1)
    high = 1 - (1 - x).pow(power) / (1 - mid).pow(power - 1)
    y = torch.where(x <= mid, low, high)
    flat = (d0 == dwidth) | (width <= 1e-15)  # MuJoCo's flat case: the mean of the two
    return torch.where(flat, 0.5 * (d0 + dwidth), d0 + y * (dwidth - d0))


def limit_acceleration(q: Tensor, v: Tensor, a0: Tensor, minv: Tensor, diag0: Tensor, qpos_index: Tensor,
                       dof_index: Tensor, low: Tensor, high: Tensor, margin: Tensor, stiffness: Tensor, damping: Tensor,
                       solimp: Tensor, sweeps: int = 4) -> Tensor:
    """The acceleration ``(..., nv)`` with the joint limits' constraint forces added to ``a0 (..., nv)``.

    :param q: positions ``(..., nq)``
    :param v: velocities ``(..., nv)``
    :param minv: the inverse inertia ``(..., nv, nv)`` (symmetric positive definite)
    :param diag0: the scale of the regularizer per limit ``(..., L)``: ``M⁻¹``'s diagonal entry of the limit's dof
        at ``qpos0`` (MuJoCo's ``invweight0`` for MuJoCo's own ``M⁻¹``)
    :param sweeps: projected Gauss-Seidel sweeps over the limits (one solves a single active limit exactly)
    The other tensors are :class:`~mosim.systems.limits.LimitConstraints`' fields, ``(L,)`` (``solimp (L, 5)``).
    """
    if qpos_index.numel() == 0:
        return a0
    x = q[..., qpos_index]
    to_low, to_high = x - low, high - x
    lower = to_low <= to_high
    pos = torch.where(lower, to_low, to_high)
    sign = torch.where(lower, 1.0, -1.0).to(q.dtype)
    active = pos < margin
    r = pos - margin
    imp = impedance(r, solimp)
    aref = -damping * (sign * v[..., dof_index]) - stiffness * imp * r
    columns = minv[..., :, dof_index]                                   # M⁻¹ Jᵀ up to the signs, (..., nv, L)
    a_ll = columns[..., dof_index, :] * sign.unsqueeze(-1) * sign.unsqueeze(-2)   # A = J M⁻¹ Jᵀ, (..., L, L)
    reg = (1 - imp) / imp * diag0
    gap = aref - sign * a0[..., dof_index]                              # aref - J a0
    n = qpos_index.numel()
    forces = [torch.zeros_like(gap[..., 0]) for _ in range(n)]
    for _ in range(sweeps if n > 1 else 1):
        for i in range(n):
            pushed = sum((a_ll[..., i, j] * forces[j] for j in range(n) if j != i), torch.zeros_like(forces[i]))
            f = (gap[..., i] - pushed) / (a_ll[..., i, i] + reg[..., i])
            forces[i] = torch.where(active[..., i], torch.relu(f), torch.zeros_like(f))
    force = torch.stack(forces, dim=-1) * sign
    return a0 + (columns @ force.unsqueeze(-1)).squeeze(-1)


def implicitly_damped(acc: Tensor, minv: Tensor, damping: Tensor, timestep: float) -> Tensor:
    """``(I + h M⁻¹ D)⁻¹ acc``: the acceleration MuJoCo's Euler step integrates, ``(M + h D)⁻¹ M acc``, for
    ``acc (..., nv)``, ``minv (..., nv, nv)`` and the dofs' damping ``D = diag(damping (nv,))``."""
    eye = torch.eye(acc.shape[-1], dtype=acc.dtype, device=acc.device)
    return torch.linalg.solve(eye + timestep * minv * damping, acc)


class LimitSolver(nn.Module):
    """:func:`limit_acceleration` with one :class:`LimitConstraints`' constants as non-persistent buffers (they move
    and cast with the model; the checkpoint keeps the :class:`LimitConstraints` itself, in the spec)."""

    _NAMES = ("low", "high", "margin", "stiffness", "damping", "solimp")

    def __init__(self, limits: LimitConstraints, sweeps: int = 4) -> None:
        super().__init__()
        self.limits, self.sweeps = limits, int(sweeps)
        self.register_buffer("qpos_index", torch.tensor(limits.qpos, dtype=torch.long), persistent=False)
        self.register_buffer("dof_index", torch.tensor(limits.dof, dtype=torch.long), persistent=False)
        self.register_buffer("qpos0", torch.tensor(limits.qpos0, dtype=torch.float64), persistent=False)
        self.register_buffer("damping_implicit", torch.tensor(limits.implicit_damping, dtype=torch.float64),
                             persistent=False)
        for name in self._NAMES:
            value = torch.tensor(getattr(limits, name), dtype=torch.float64).reshape(len(limits), *(
                (5,) if name == "solimp" else ()))
            self.register_buffer(name, value, persistent=False)

    def __len__(self) -> int:
        return len(self.limits)

    def forward(self, q: Tensor, v: Tensor, a0: Tensor, minv: Tensor, diag0: Tensor) -> Tensor:
        """The acceleration the step integrates: the limits' forces added to ``a0``, the damping implicit."""
        consts = (getattr(self, n).to(q.dtype) for n in self._NAMES)
        acc = limit_acceleration(q, v, a0, minv, diag0, self.qpos_index, self.dof_index, *consts, sweeps=self.sweeps)
        if self.damping_implicit.numel():
            acc = implicitly_damped(acc, minv, self.damping_implicit.to(acc.dtype), self.limits.timestep)
        return acc

    def extra_repr(self) -> str:
        return f"limits={len(self.limits)}, sweeps={self.sweeps}"
