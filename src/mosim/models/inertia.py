"""MuJoCo's joint-space inertia ``M(q)`` in torch, from the model file's mass properties.

A structured model's ``M(q)⁻¹`` is otherwise learned (:mod:`mosim.models.predictor`), and on the robots that run on
a floor the data pin it down poorly: after 10 minutes of cheetah-run the learned one is 43% off MuJoCo's at the
median state, its unactuated root's entries 20x too heavy (results/accuracy.md, "contact-solve"). Yet ``M(q)`` is no
unknown of the dynamics: it is the robot's kinematics and its bodies' masses and inertias, all in the model file
that made the data (:class:`~mosim.systems.inertia.BodyInertias`). With
:attr:`~mosim.models.config.ModelConfig.known_inertia` it is computed,

    M(q) = sum_b  m_b Jc_bᵀ Jc_b  +  Jw_bᵀ R_b I_b R_bᵀ Jw_b   +  diag(armature),

from :func:`~mosim.models.contacts.body_jacobians` (MuJoCo's ``mj_kinematics`` and ``mj_jac``), equal to MuJoCo's
``mj_fullM`` (tests/models/test_inertia.py), and the networks learn the forces ``b(q, v)`` only.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mosim.models.contact import ContactFeatures, _apply, _compose, cross_columns
from mosim.models.contacts import body_jacobians
from mosim.models.identified import LogScales, scaled
from mosim.models.newton import cholesky, solve_dtype
from mosim.models.quaternion import quat_to_rotmat
from mosim.systems.geometry import ContactGeometry
from mosim.systems.inertia import BodyInertias
from mosim.systems.layout import BALL, FREE


def centres(pos: Tensor, rot: Tensor, ang: Tensor, lin: Tensor,
            consts: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
    """Each body's centre of mass ``(..., nb, 3)``, its Jacobian ``(..., nb, 3, nv)`` and the frame of its principal
    axes ``(..., nb, 3, 3)``, from :func:`~mosim.models.contacts.body_jacobians`' kinematics."""
    com = pos + _apply(rot, consts["com"])
    jc = lin + cross_columns(ang, com)
    return com, jc, _compose(rot, consts["inertia_rot"])


def mass_matrix(q: Tensor, geometry: ContactGeometry, consts: dict[str, Tensor], nv: int,
                kinematics: tuple[Tensor, ...] | None = None,
                centre: tuple[Tensor, Tensor, Tensor] | None = None) -> Tensor:
    """``M(q) (..., nv, nv)`` at the state ``q (..., nq)`` (``consts``: :meth:`KnownInertia.constants`;
    ``kinematics``: :func:`~mosim.models.contacts.body_jacobians` of ``q``, and ``centre``: :func:`centres` of
    them, where already computed)."""
    pos, rot, ang, lin = body_jacobians(q, geometry, consts, nv) if kinematics is None else kinematics
    com, jc, frame = centres(pos, rot, ang, lin, consts) if centre is None else centre
    jw = frame.transpose(-1, -2) @ ang                                         # angular Jacobian, principal axes
    # M = Aᵀ A, A the bodies' rows sqrt(m) Jc and sqrt(I) Jw stacked: one product of (6 nb, nv) per state
    rows = torch.cat((consts["mass"][:, None, None].sqrt() * jc, consts["moments"][..., None].sqrt() * jw), -2)
    rows = rows.reshape(*rows.shape[:-3], -1, nv)                                # (..., 6 nb, nv)
    return rows.transpose(-1, -2) @ rows + torch.diag_embed(consts["armature"])


class KnownInertia(nn.Module):
    """``M(q)⁻¹`` of one :class:`~mosim.systems.geometry.ContactGeometry` and its
    :class:`~mosim.systems.inertia.BodyInertias`, their constants as non-persistent buffers (the checkpoint keeps the
    two records, in the spec)."""

    def __init__(self, geometry: ContactGeometry, inertias: BodyInertias, nv: int) -> None:
        super().__init__()
        if inertias.n_bodies != len(geometry.body_parent):
            raise ValueError(f"{inertias.n_bodies} bodies' inertias for a geometry of {len(geometry.body_parent)}")
        if len(inertias.armature) != nv:
            raise ValueError(f"{len(inertias.armature)} dofs' armature for nv={nv}")
        if inertias.damping and len(inertias.damping) != nv:
            raise ValueError(f"{len(inertias.damping)} dofs' damping for nv={nv}")
        self.geometry, self.inertias, self.nv = geometry, inertias, int(nv)
        self.kinematics = ContactFeatures(geometry)
        self.mass_scale: LogScales | None = None
        """learned factors on the bodies' masses and inertias (``ModelConfig.identify``), where set"""
        self.damping_scale: LogScales | None = None
        """learned factors on the dofs' explicit damping, where set"""
        f64 = torch.float64
        self.register_buffer("mass", torch.tensor(inertias.mass, dtype=f64), persistent=False)
        self.register_buffer("com", torch.tensor(inertias.com, dtype=f64).reshape(-1, 3), persistent=False)
        self.register_buffer("moments", torch.tensor(inertias.moments, dtype=f64).reshape(-1, 3), persistent=False)
        frame = torch.tensor(inertias.frame, dtype=f64).reshape(-1, 4)
        self.register_buffer("inertia_rot", quat_to_rotmat(frame), persistent=False)
        self.register_buffer("armature", torch.tensor(inertias.armature, dtype=f64), persistent=False)
        self.register_buffer("qpos0", torch.tensor(inertias.qpos0, dtype=f64), persistent=False)
        self._averaged: list[tuple[int, int]] = []
        """the dof blocks whose invweight0 MuJoCo averages: a free joint's translations and rotations, a ball's"""
        for kind, dof in zip(geometry.joint_type, geometry.joint_qvel):
            self._averaged += [(dof, 3), (dof + 3, 3)] if kind == FREE else [(dof, 3)] if kind == BALL else []
        self.register_buffer("gravity", torch.tensor(inertias.gravity, dtype=f64), persistent=False)
        self.register_buffer("spring_qpos", torch.tensor(inertias.spring_qpos, dtype=torch.long), persistent=False)
        self.register_buffer("spring_dof", torch.tensor(inertias.spring_dof, dtype=torch.long), persistent=False)
        for name in ("spring_stiffness", "spring_ref", "damping"):
            self.register_buffer(name, torch.tensor(getattr(inertias, name), dtype=f64), persistent=False)

    _NAMES = ("mass", "com", "moments", "inertia_rot", "armature", "gravity")

    def constants(self, dtype: torch.dtype) -> dict[str, Tensor]:
        consts = dict(self.kinematics.constants(dtype))
        consts.update({name: getattr(self, name).to(dtype) for name in self._NAMES})
        consts["mass"] = scaled(consts["mass"], self.mass_scale)
        consts["moments"] = scaled(consts["moments"], self.mass_scale)
        return consts

    def mass_matrix(self, q: Tensor) -> Tensor:
        """``M(q) (..., nv, nv)``, MuJoCo's, at ``q (..., nq)``."""
        return mass_matrix(q, self.geometry, self.constants(q.dtype), self.nv)

    def jacobians(self, q: Tensor) -> tuple[Tensor, ...]:
        """:func:`~mosim.models.contacts.body_jacobians` of ``q (..., nq)``, in the dtype :meth:`forward` computes in,
        for the other parts of a step that need them (the contact solve)."""
        work = solve_dtype(q.dtype)
        return body_jacobians(q.to(work), self.geometry, self.constants(work), self.nv)

    def forward(self, q: Tensor, kinematics: tuple[Tensor, ...] | None = None) -> Tensor:
        """``M(q)⁻¹ (..., nv, nv)`` at ``q (..., nq)`` (by a Cholesky factorization, in float32 at least;
        ``kinematics``: :meth:`jacobians` of ``q``, where already computed)."""
        return self.both(q, kinematics)[1]

    def both(self, q: Tensor, kinematics: tuple[Tensor, ...] | None = None,
             centre: tuple[Tensor, Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """``M(q)`` and ``M(q)⁻¹`` at ``q (..., nq)``, as :meth:`forward` computes them (the contact solve needs
        the first, the networks' force the second; ``centre``: :func:`centres` of ``kinematics``, where already
        computed)."""
        work = solve_dtype(q.dtype)
        mass = mass_matrix(q.to(work), self.geometry, self.constants(work), self.nv, kinematics, centre)
        return mass.to(q.dtype), torch.cholesky_inverse(cholesky(mass)).to(q.dtype)

    def invweights(self, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        """MuJoCo's ``dof_invweight0 (nv,)`` and translational ``body_invweight0 (nbody,)`` (the world body left
        out) of these constants, as ``mj_setConst`` computes them at ``qpos0``: ``M⁻¹``'s diagonal (averaged over a
        free joint's three translations and three rotations, a ball's three), and the trace of ``Jc M⁻¹ Jcᵀ`` / 3 of
        each body's centre of mass. The scales of the constraints' regularizers, which follow the masses where
        those are learned (:attr:`mass_scale`)."""
        work = solve_dtype(dtype)
        consts = self.constants(work)
        q0 = self.qpos0.to(work)
        pos, rot, ang, lin = body_jacobians(q0, self.geometry, consts, self.nv)
        minv = torch.cholesky_inverse(torch.linalg.cholesky(mass_matrix(q0, self.geometry, consts, self.nv,
                                                                        (pos, rot, ang, lin))))
        jc = centres(pos, rot, ang, lin, consts)[1]                                  # (nbody, 3, nv)
        body = torch.einsum("bij,jk,bik->b", jc, minv, jc) / 3
        dof = torch.diagonal(minv).clone()
        for start, width in self._averaged:
            dof[start:start + width] = dof[start:start + width].mean()
        return dof.to(dtype), body.to(dtype)

    @property
    def has_passive(self) -> bool:
        """Whether the model file gives any spring or damper (:meth:`passive` is zero otherwise)."""
        return bool(self.spring_dof.numel() or self.damping.numel())

    def passive(self, q: Tensor, v: Tensor, damped: bool = True) -> Tensor:
        """The joints' spring forces ``(..., nv)`` at ``q (..., nq)`` (:func:`mosim.models.bias.spring_forces`), and
        their dampers' ``-damping v`` where ``damped``."""
        from mosim.models.bias import spring_forces  # that module builds on this one

        force = spring_forces(q, self.spring_qpos, self.spring_dof, self.spring_stiffness.to(q.dtype),
                              self.spring_ref.to(q.dtype), self.nv)
        if damped and self.damping.numel():
            force = force - scaled(self.damping.to(q.dtype), self.damping_scale) * v
        return force

    def extra_repr(self) -> str:
        return f"bodies={self.inertias.n_bodies}, nv={self.nv}"


__all__ = ["KnownInertia", "mass_matrix"]
