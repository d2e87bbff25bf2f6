"""MuJoCo's joint-limit constraints in torch, solved with a learned inverse inertia.

A joint hitting its limit is the one place where reacher's dynamics jump: within one 20 ms step MuJoCo's soft
constraint takes up to a few rad/s off the wrist's speed, a nonlinear function of the penetration, the speed and
the unconstrained acceleration that a smooth network fits poorly from the few limit hits of a random dataset
(benchmarks/accuracy_findings.md). Here it is not learned: :func:`limit_acceleration` applies MuJoCo's constraint
(:mod:`mosim.systems.limits`) to the model's unconstrained acceleration ``a0``, with the model's own ``M⁻¹`` (the
structured predictor's ``M(q)``) as the inertia the constraint pushes against:

    a = a0 + M⁻¹ Jᵀ f,   f >= 0 minimizing  1/2 fᵀ (A + R) f + fᵀ (J a0 - aref),   A = J M⁻¹ Jᵀ.

Where MuJoCo's integrator treats the joints' damping ``D`` implicitly (its Euler step), the damping is split out of
the networks' job as well: they predict the acceleration of every force but the damping, ``a_net``; the damping
force is known, so ``a0 = a_net - M⁻¹ D v``; and the step integrates ``(I + h M⁻¹ D)⁻¹ a``, as MuJoCo's does. On
reacher's wrist ``h D`` is as large as the inertia: the damping force alone gives accelerations five times the
data's range, which the implicit step then all but cancels, and solving the limit with the damped inertia instead
gives velocity errors twice the size of the limit's own effect.

One active limit is solved exactly; several (cheetah's legs) by projected Gauss-Seidel sweeps. With MuJoCo's own
``M⁻¹`` and ``a0`` (``qacc_smooth``) it reproduces MuJoCo's step (tested).

Trajectories alone do not determine a learned ``M``: ``b(q, v)``, ``tau(a)`` and the correctors absorb any
choice, and the limits' forces, which do depend on it, act on 1% of reacher's steps. Learned that way (``tau(a)`` a
network), the wrist's ``M`` drifted to 10x to 50x MuJoCo's, and the limits' response with it (reacher, 2-minute
runs: 100-step error 0.0023 to 0.046 against 2.1e-4 without the constraint). So a model with the constraint takes
the actuators' force as known, MuJoCo's ``qfrc_actuator`` of the model file (:mod:`mosim.models.actuation`), in
place of ``tau(a)``: how the acceleration answers the action then measures ``M`` on the actuated joints, in
MuJoCo's units, and ``R`` uses MuJoCo's ``invweight0`` as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from mosim.models.identified import LogScales, scaled
from mosim.models.newton import ITERATIONS, join_rows, solve_dtype, solve_rows
from mosim.systems.limits import MIN_VAL, LimitConstraints

if TYPE_CHECKING:
    from mosim.models.contacts import ContactSolver


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
    sign, aref, reg, active = limit_terms(q, v, diag0, qpos_index, dof_index, low, high, margin, stiffness, damping,
                                          solimp)
    columns = minv[..., :, dof_index]                                   # M⁻¹ Jᵀ up to the signs, (..., nv, L)
    a_ll = columns[..., dof_index, :] * sign.unsqueeze(-1) * sign.unsqueeze(-2)   # A = J M⁻¹ Jᵀ, (..., L, L)
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


def limit_terms(q: Tensor, v: Tensor, diag0: Tensor, qpos_index: Tensor, dof_index: Tensor, low: Tensor,
                high: Tensor, margin: Tensor, stiffness: Tensor, damping: Tensor,
                solimp: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Each limit's side (``+1`` at the lower end, the Jacobian row ``sign e_dof``), ``aref``, ``R`` and whether it
    acts, ``(..., L)``; arguments as :func:`limit_acceleration`'s."""
    x = q[..., qpos_index]
    to_low, to_high = x - low, high - x
    lower = to_low <= to_high
    pos = torch.where(lower, to_low, to_high)
    sign = torch.where(lower, 1.0, -1.0).to(q.dtype)
    r = pos - margin
    imp = impedance(r, solimp)
    aref = -damping * (sign * v[..., dof_index]) - stiffness * imp * r
    return sign, aref, (1 - imp) / imp * diag0, pos < margin


def limit_rows(q: Tensor, v: Tensor, diag0: Tensor, qpos_index: Tensor, dof_index: Tensor, low: Tensor,
               high: Tensor, margin: Tensor, stiffness: Tensor, damping: Tensor, solimp: Tensor,
               nv: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The limits as rows for :func:`mosim.models.newton.solve_rows`: ``J (..., L, nv)`` (``±e_dof``), ``aref``,
    ``R`` and whether each acts ``(..., L)``; arguments as :func:`limit_acceleration`'s."""
    sign, aref, reg, active = limit_terms(q, v, diag0, qpos_index, dof_index, low, high, margin, stiffness, damping,
                                          solimp)
    unit = torch.nn.functional.one_hot(dof_index, nv).to(q.dtype)           # (L, nv)
    return sign.unsqueeze(-1) * unit, aref, reg, active


def equality_rows(q: Tensor, v: Tensor, qpos_index: Tensor, dof_index: Tensor, ref: Tensor, poly: Tensor,
                  stiffness: Tensor, damping: Tensor, solimp: Tensor, diag: Tensor,
                  nv: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The joint equalities as pushing-only row pairs: ``J (..., 2E, nv)``, ``aref``, ``R`` and whether each acts
    (all do) ``(..., 2E)``, the ``E`` rows ``(J, aref)`` then their opposites.

    An equality row is two-sided: MuJoCo's primal cost keeps ``1/2 (J a - aref)² / R`` whatever its sign. The
    solves take pushing-only rows, whose cost is that quadratic where ``J a < aref`` and zero elsewhere; so each
    equality goes in as two of them, ``(J, aref)`` and ``(-J, -aref)``: exactly one pushes at any ``a`` off the
    row's optimum, and the two costs sum to the equality's. Nothing in the solves changes, for one more row.

    ``qpos_index``, ``dof_index`` ``(E, 2)`` (the second ``-1`` for none), ``ref (E, 2)``, ``poly (E, 5)``,
    ``solimp (E, 5)``, the rest ``(E,)``: :class:`~mosim.systems.limits.LimitConstraints`' ``equality_*``."""
    second = qpos_index[:, 1] >= 0
    x1 = q[..., qpos_index[:, 0]] - ref[:, 0]
    d = torch.where(second, q[..., qpos_index[:, 1].clamp_min(0)] - ref[:, 1], torch.zeros_like(x1))
    c0, c1, c2, c3, c4 = poly.unbind(-1)
    pos = x1 - c0 - d * (c1 + d * (c2 + d * (c3 + d * c4)))
    slope = torch.where(second, c1 + d * (2 * c2 + d * (3 * c3 + d * 4 * c4)), torch.zeros_like(x1))
    unit = torch.nn.functional.one_hot(dof_index.clamp_min(0), nv).to(q.dtype)       # (E, 2, nv)
    jac = unit[:, 0] - slope.unsqueeze(-1) * unit[:, 1]                             # (..., E, nv)
    vel = (jac @ v.unsqueeze(-1)).squeeze(-1)
    imp = impedance(pos, solimp)
    aref = -damping * vel - stiffness * imp * pos
    reg = ((1 - imp) / imp * diag).clamp_min(MIN_VAL)
    active = torch.ones(*aref.shape[:-1], 2 * aref.shape[-1], dtype=torch.bool, device=aref.device)
    return torch.cat((jac, -jac), -2), torch.cat((aref, -aref), -1), torch.cat((reg, reg), -1), active


def implicitly_damped(acc: Tensor, minv: Tensor, damping: Tensor, timestep: float,
                      actuators: Tensor | None = None) -> Tensor:
    """``(I + h M⁻¹ D)⁻¹ acc``: the acceleration MuJoCo's Euler step integrates, ``(M + h D)⁻¹ M acc``, for
    ``acc (..., nv)``, ``minv (..., nv, nv)`` and the dofs' damping ``D = diag(damping (nv,))``; plus the
    actuators' velocity damping ``actuators (..., nv, nv)`` in ``D`` where given (implicitfast's,
    :func:`mosim.models.actuation.velocity_damping`)."""
    work = solve_dtype(acc.dtype)
    eye = torch.eye(acc.shape[-1], dtype=work, device=acc.device)
    matrix = eye + timestep * minv.to(work) * damping.to(work)
    if actuators is not None:
        matrix = matrix + timestep * minv.to(work) @ actuators.to(work)
    return torch.linalg.solve(matrix, acc.to(work).unsqueeze(-1)).squeeze(-1).to(acc.dtype)


class LimitSolver(nn.Module):
    """:func:`limit_acceleration` with one :class:`LimitConstraints`' constants as non-persistent buffers (they move
    and cast with the model; the checkpoint keeps the :class:`LimitConstraints` itself, in the spec)."""

    _NAMES = ("low", "high", "margin", "stiffness", "damping", "solimp")
    _EQUALITY = (("equality_ref", 2), ("equality_poly", 5), ("equality_stiffness", 0), ("equality_damping", 0),
                 ("equality_solimp", 5), ("equality_diag", 0))

    def __init__(self, limits: LimitConstraints, sweeps: int = 4, contacts: ContactSolver | None = None,
                 newton_iterations: int = ITERATIONS) -> None:
        super().__init__()
        self.limits, self.sweeps = limits, int(sweeps)
        self.contacts, self.newton_iterations = contacts, int(newton_iterations)
        self.damping_scale: LogScales | None = None
        """learned factors on the dofs' implicit damping (``ModelConfig.identify``), where set"""
        self.register_buffer("qpos_index", torch.tensor(limits.qpos, dtype=torch.long), persistent=False)
        self.register_buffer("dof_index", torch.tensor(limits.dof, dtype=torch.long), persistent=False)
        for name, value in (("damping_implicit", limits.implicit_damping), ("invweight0", limits.invweight0),
                            ("dof_invweight0", limits.dof_invweight0),
                            ("actuator_entries", limits.implicit_actuators)):
            self.register_buffer(name, torch.tensor(value, dtype=torch.float64), persistent=False)
        for name in self._NAMES:
            value = torch.tensor(getattr(limits, name), dtype=torch.float64).reshape(len(limits), *(
                (5,) if name == "solimp" else ()))
            self.register_buffer(name, value, persistent=False)
        self.register_buffer("friction_dof", torch.tensor(limits.friction_dof, dtype=torch.long), persistent=False)
        for name in ("friction_loss", "friction_reg", "friction_damping"):
            self.register_buffer(name, torch.tensor(getattr(limits, name), dtype=torch.float64), persistent=False)
        n = limits.n_equalities
        for name in ("equality_qpos", "equality_dof"):
            self.register_buffer(name, torch.tensor(getattr(limits, name), dtype=torch.long).reshape(n, 2),
                                 persistent=False)
        for name, width in self._EQUALITY:
            value = torch.tensor(getattr(limits, name), dtype=torch.float64)
            self.register_buffer(name, value.reshape(n, width) if width else value, persistent=False)

    def __len__(self) -> int:
        return len(self.limits)

    @property
    def damps(self) -> bool:
        """Whether the damping is split out and integrated implicitly (MuJoCo's Euler step of a damped robot)."""
        return bool(self.damping_implicit.numel())

    @property
    def damps_actuators(self) -> bool:
        """Whether the integrator treats the actuators' velocity terms implicitly too (implicitfast:
        :attr:`LimitConstraints.implicit_actuators`), so that :meth:`forward` wants them (and keeps the entries
        MuJoCo's step keeps)."""
        return bool(self.actuator_entries.numel())

    def forward(self, q: Tensor, v: Tensor, a_net: Tensor, minv: Tensor, mass: Tensor | None = None,
                kinematics: tuple[Tensor, ...] | None = None, actuators: Tensor | None = None,
                world: tuple[Tensor, Callable[[Tensor], Tensor]] | None = None,
                weights: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """The acceleration the step integrates from ``a_net (..., nv)``, the acceleration of every force but the
        damping where :attr:`damps` (of every force but the limits' otherwise): the damping force and the limits'
        forces added, the damping implicit (``kinematics``: the contacts' :func:`~mosim.models.contacts.body_jacobians`
        of ``q``, where already computed; ``mass``: ``minv⁻¹``, where already computed; ``actuators``: the
        actuators' velocity damping ``(..., nv, nv)``, implicit too, where :attr:`damps_actuators`). ``world``:
        where ``v``, ``a_net`` and the matrices are in another frame than MuJoCo's (a free-floating robot's heading
        frame), the velocity in MuJoCo's and the map of a row ``J`` of MuJoCo's frame to that frame (``J Hᵀ``): the
        contacts' rows are made in MuJoCo's frame, then mapped. ``weights``: MuJoCo's ``dof_invweight0 (nv,)`` and
        translational ``body_invweight0 (nbody,)`` in place of the model file's, where the masses are learned
        (:meth:`~mosim.models.inertia.KnownInertia.invweights`): the scales of the limits', the contacts' and the dry
        friction's regularizers (the equalities' and the robot's contacts with itself keep the file's)."""
        consts = (getattr(self, n).to(q.dtype) for n in self._NAMES)
        a0 = a_net
        damping = scaled(self.damping_implicit.to(q.dtype), self.damping_scale)
        if self.damps:
            a0 = a_net - (minv @ (damping * v).unsqueeze(-1)).squeeze(-1)
        diag0 = self.invweight0.to(q.dtype)  # MuJoCo's scale of R: the model's M is in MuJoCo's units
        if weights is not None:
            diag0 = weights[0][self.dof_index]
        if self.contacts is None and not self.equality_dof.numel():
            acc = limit_acceleration(q, v, a0, minv, diag0, self.qpos_index, self.dof_index, *consts,
                                     sweeps=self.sweeps)
        elif self.contacts is None:  # the limits' rows and the equalities' together, by Newton's method
            acc = solve_rows(a0, minv, *self.rows(q, v, diag0, consts), self.newton_iterations, mass)
        else:  # the limits' rows and the contacts' together, by Newton's method (mosim.models.newton)
            rows = self.rows(q, v, diag0, consts)
            contacts = self.contacts(q, v if world is None else world[0], kinematics,
                                     None if weights is None else weights[1])
            if world is not None:
                contacts = (world[1](contacts[0].flatten(-3, -2)).unflatten(-2, contacts[0].shape[-3:-1])
                            if self.contacts.cone_dims else world[1](contacts[0]), *contacts[1:])
            acc = self.contacts.solve(a0, minv, rows, contacts, self.newton_iterations, mass,
                                      self.friction_rows(v, None if weights is None else weights[0])
                                      if self.contacts.cone_dims else None)
        if self.damps or actuators is not None:
            if actuators is not None:  # on the entries MuJoCo's step keeps
                actuators = actuators * self.actuator_entries.to(actuators.dtype)
            acc = implicitly_damped(acc, minv, damping if self.damps else torch.zeros_like(v[..., 0, None]),
                                    self.limits.timestep, actuators)
        return acc

    def rows(self, q: Tensor, v: Tensor, diag0: Tensor, consts: Iterable[Tensor]) -> tuple[Tensor, ...]:
        """The limits' rows (:func:`limit_rows`), and the joint equalities' (:func:`equality_rows`) after them."""
        rows = limit_rows(q, v, diag0, self.qpos_index, self.dof_index, *consts, nv=v.shape[-1])
        if not self.equality_dof.numel():
            return rows
        pairs = equality_rows(q, v, self.equality_qpos, self.equality_dof,
                              *(getattr(self, n).to(q.dtype) for n, _ in self._EQUALITY), nv=v.shape[-1])
        return join_rows(rows, pairs)

    def friction_rows(self, v: Tensor, dof_weight: Tensor | None = None) -> tuple[Tensor, ...]:
        """The joints' dry friction rows at the velocity ``v (..., nv)``: ``J (F, nv)`` (``e_dof``), ``aref (...,
        F)``, ``R`` and the largest force ``(F,)`` (:class:`LimitConstraints`' ``friction_*``; solved on elliptic
        cones, :func:`mosim.models.cones.solve_with_cones`; ``dof_weight``: ``dof_invweight0 (nv,)`` in place of the
        model file's, which scales ``R``)."""
        unit = torch.nn.functional.one_hot(self.friction_dof, v.shape[-1]).to(v.dtype)
        aref = -self.friction_damping.to(v.dtype) * v[..., self.friction_dof]
        reg = self.friction_reg.to(v.dtype)
        if dof_weight is not None:
            reg = reg * dof_weight[self.friction_dof] / self.dof_invweight0.to(v.dtype)[self.friction_dof]
        return unit, aref, reg, self.friction_loss.to(v.dtype)

    def extra_repr(self) -> str:
        contacts = "" if self.contacts is None else f", newton_iterations={self.newton_iterations}"
        equalities = f", equalities={self.limits.n_equalities}" if self.limits.n_equalities else ""
        return f"limits={len(self.limits)}, sweeps={self.sweeps}{contacts}{equalities}"
