"""The neural motion simulator: ``dv/dt = M(q)[b(q, v) + tau(a)] + sum_i eps_i(q, v, a)``, integrated.

Units: the networks see normalized features and predict the acceleration in *normalized* units
(``(acc - acc_mean) / acc_std`` per dimension, statistics of the training data's finite-difference
accelerations); :meth:`NeuralSimulator.acceleration` returns raw units (``acc_std * y + acc_mean``), and
:meth:`~NeuralSimulator.step` integrates the raw acceleration with :func:`mosim.integrators.step`.
A fresh model predicts ``y ≈ 0``, i.e. the mean acceleration of the data.

With ``ModelConfig.limit_constraints`` the networks' acceleration is the one without joint limits (and without the
damping, where MuJoCo's step treats it implicitly), and :mod:`mosim.models.limits` adds the limits' forces, solved
with the predictor's ``M(q)`` as MuJoCo solves them, and the damping; the data bound then applies to the result.
``ModelConfig.contact_constraints`` adds the floor contacts' forces the same way (:mod:`mosim.models.contacts`).
With ``ModelConfig.known_inertia`` the predictor's ``M(q)`` is MuJoCo's, computed (:mod:`mosim.models.inertia`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor, nn

from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError
from mosim.integrators import INTEGRATORS
from mosim.integrators import step as integrate_step
from mosim.models.base import DynamicsModel
from mosim.models.bias import bias_forces
from mosim.models.actuation import ActuatorForces
from mosim.models.config import PRESETS, ModelConfig, model_preset
from mosim.models.corrector import Corrector
from mosim.models.features import StateFeatures
from mosim.models.contacts import ContactSolver
from mosim.models.self_contacts import SelfContactRows
from mosim.models.identified import LogScales
from mosim.models.inertia import KnownInertia, centres
from mosim.models.limits import LimitSolver
from mosim.models.networks import init_output_layer
from mosim.models.newton import solve_dtype
from mosim.models.normalization import NormalizationStats, Normalizer, bound_state, model_inputs
from mosim.models.predictor import PlainODEPredictor, StructuredPredictor, inverse_inertia
from mosim.registry import lookup
from mosim.systems.base import SystemSpec

__all__ = ["PRESETS", "ModelConfig", "NeuralSimulator", "build_model", "model_preset"]


class NeuralSimulator(DynamicsModel):
    """A learned ODE model of a system (``config.kind`` ``structured`` or ``plain_ode``) with correctors.

    :param spec: the system (layout, ``dt``, sizes)
    :param config: the architecture and integrator
    :param stats: normalization statistics (:func:`~mosim.models.normalization.compute_normalization`);
        ``None`` leaves identity normalizers, to be overwritten by ``load_state_dict``
    :param integrator_options: keyword options for the integrator (``dopri5``: ``rtol``, ``atol``, ...)
    """

    def __init__(
        self,
        spec: SystemSpec,
        config: ModelConfig | None = None,
        stats: NormalizationStats | None = None,
        integrator_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        config = config or ModelConfig()
        if config.kind not in ("structured", "plain_ode"):
            raise InvalidInputError(
                f"NeuralSimulator builds kinds 'structured' and 'plain_ode', got {config.kind!r}; "
                "use build_model() or PlainDeltaModel for 'plain_delta'"
            )
        self.spec, self.config = spec, config
        self.integrator = config.resolved_integrator(spec)
        lookup(INTEGRATORS, self.integrator, "integrator")
        self.integrator_options = dict(integrator_options or {})
        self.features = StateFeatures(spec.layout, config.uses_limit_features, config.geometry_of(spec),
                                      config.actuation_of(spec), config.uses_heading_frame,
                                      config.uses_limit_velocity_features)
        pdim, nv, nu = self.features.position_feature_dim, spec.nv, self.features.action_feature_dim(spec.nu)
        wdim = self.features.velocity_feature_dim
        bounded = config.bound_to_data
        self.position_norm = Normalizer.from_stats(stats.position if stats else None, pdim, bounded=bounded)
        self.velocity_norm = Normalizer.from_stats(stats.velocity if stats else None, wdim, bounded=bounded)
        self.action_norm = Normalizer.from_stats(stats.action if stats else None, nu)
        acceleration = stats.acceleration if stats else None
        if acceleration is not None and config.physics_start:  # a zero network output adds no force
            acceleration = replace(acceleration, mean=torch.zeros_like(acceleration.mean))
        self.acceleration_norm = Normalizer.from_stats(acceleration, nv, bounded=bounded)
        c = config
        self.predictor: nn.Module
        if c.kind == "structured":
            self.predictor = StructuredPredictor(
                pdim, nv, nu, c.inertia_width, c.inertia_blocks, c.force_width, c.force_blocks,
                c.action_hidden, c.activation, c.eps, c.force_sees_action, velocity_dim=wdim,
                learned_inertia=not c.known_inertia,
            )
        else:
            self.predictor = PlainODEPredictor(pdim, nv, nu, c.force_width, c.force_blocks, c.activation, wdim)
        self.correctors = nn.ModuleList(
            Corrector(pdim, nv, nu, c.corrector_width, c.corrector_blocks, c.activation, wdim)
            for _ in range(c.n_correctors)
        )
        self._active = c.n_correctors
        if c.physics_start:
            assert isinstance(self.predictor, StructuredPredictor)
            init_output_layer(self.predictor.force.output, 0.0)
        limits = c.limits_of(spec)
        if limits is not None and not math.isclose(spec.dt / c.substeps, limits.timestep, rel_tol=1e-9):
            raise InvalidInputError(
                f"limit_constraints solves MuJoCo's constraint for its time step ({limits.timestep:g} s), and this model "
                f"integrates steps of {spec.dt / c.substeps:g} s ({spec.system_id!r} steps {spec.substeps} physics steps "
                f"per model step): set substeps={round(spec.dt / limits.timestep)} (mosim train --substeps "
                f"{round(spec.dt / limits.timestep)}) or drop limit_constraints")
        solved = c.contacts_of(spec)
        contacts = None
        if solved is not None:
            own = c.self_contacts_of(spec)
            self_rows = (SelfContactRows(own, solved[1].impratio, slots=c.contact_slots or None)
                         if own is not None else None)
            contacts = ContactSolver(*solved, nv=spec.nv, slots=c.contact_slots or None, self_rows=self_rows)
        self.limit_solver = (LimitSolver(limits, contacts=contacts)
                             if limits is not None and (len(limits) or contacts is not None) else None)
        if c.inertia_start == "mujoco" and limits is not None:
            if len(limits.dof_invweight0) != spec.nv:
                raise InvalidInputError("inertia_start='mujoco' needs MuJoCo's dof_invweight0, which this spec's limit "
                                        "constraints were read without: read them again (mosim.systems.with_mechanics)")
            assert isinstance(self.predictor, StructuredPredictor)
            std = self.acceleration_norm.std.detach().to(torch.float64).cpu()  # MuJoCo's M⁻¹ diagonal, normalized: / S²
            self.predictor.start_inertia_at(torch.tensor(limits.dof_invweight0, dtype=torch.float64) / std ** 2)
        # the actuators' force known (from the model file), so that the data identify M (:mod:`mosim.models.limits`)
        known = c.known_actuation_of(spec)
        self.known_actuation = ActuatorForces(known) if known is not None else None
        inertia = c.inertia_of(spec)
        self.known_inertia = KnownInertia(*inertia, nv=spec.nv) if inertia is not None else None
        if c.physics_start and self.known_inertia is not None and not c.known_passive:
            undamped = inertia[1].damping and (self.limit_solver is None or not self.limit_solver.damps)
            if inertia[1].spring_dof or undamped:
                raise InvalidInputError(f"physics_start: {spec.system_id!r}'s joints have springs or dampers, which "
                                        "the model then leaves out: add known_passive (mosim train --known-passive)")
        if c.known_passive and self.known_inertia is not None and inertia[1].other_springs:
            raise InvalidInputError(f"known_passive computes hinge and slide springs, and {spec.system_id!r} has "
                                    f"{inertia[1].other_springs} ball or free joints with springs: drop known_passive")
        self._attach_identified(c.identify)
        if self.known_inertia is not None:  # the forces' scale: 1 / diag M⁻¹(qpos0), normalized (a checkpoint's loads)
            with torch.no_grad():
                minv0 = self._known_inertia(torch.tensor(inertia[1].qpos0, dtype=torch.float64))[1]
            assert isinstance(self.predictor, StructuredPredictor)
            std = self.acceleration_norm.std.detach().to(torch.float64).cpu()
            self.predictor.scale_forces(std ** 2 / torch.diagonal(minv0))

    @classmethod
    def from_dataset(cls, dataset: Dataset, config: ModelConfig | None = None, **kwargs: Any) -> NeuralSimulator:
        """A fresh model normalized with the statistics of ``dataset``'s training split."""
        config = config or ModelConfig()
        spec, stats = model_inputs(dataset, config)
        return cls(spec, config, stats, **kwargs)

    # ------------------------------------------------------------------ correctors and stages
    @property
    def active_correctors(self) -> int:
        """How many correctors (the first ones) are added to the prediction."""
        return self._active

    @active_correctors.setter
    def active_correctors(self, n: int) -> None:
        if not 0 <= n <= len(self.correctors):
            raise InvalidInputError(f"active_correctors must be in [0, {len(self.correctors)}], got {n}")
        self._active = int(n)

    def _attach_identified(self, names: tuple[str, ...]) -> None:
        """The learned factors of :attr:`ModelConfig.identify` on the modules whose constants they scale (each
        registered there; :attr:`_factors` names them)."""
        self._factors: dict[str, LogScales] = {}
        for name in names:
            if name == "mass" and self.known_inertia is not None:
                self.known_inertia.mass_scale = scales = LogScales(self.known_inertia.inertias.n_bodies)
            elif name == "actuators" and self.known_actuation is not None:
                self.known_actuation.strength = scales = LogScales(self.known_actuation.actuation.nu)
            elif name == "damping":
                scales = LogScales(self.spec.nv)  # one factor per dof, wherever the model integrates the damping
                implicit = self.limit_solver is not None and self.limit_solver.damps
                explicit = self.known_inertia is not None and self.config.known_passive and not implicit
                if not (implicit or explicit):
                    raise InvalidInputError(f"identify 'damping': this model of {self.spec.system_id!r} integrates no "
                                            "damping of the model file (neither implicitly in its limit solve nor "
                                            "explicitly with known_passive): drop 'damping' from identify")
                if implicit:
                    self.limit_solver.damping_scale = scales  # type: ignore[union-attr]
                else:
                    self.known_inertia.damping_scale = scales  # type: ignore[union-attr]
            elif name == "friction" and self.limit_solver is not None and self.limit_solver.contacts is not None:
                contacts = self.limit_solver.contacts
                contacts.friction_scale = scales = LogScales(len(contacts.contacts))
            else:
                raise InvalidInputError(f"identify {name!r}: this model of {self.spec.system_id!r} computes no "
                                        f"{name} from the model file")
            self._factors[name] = scales

    def identified(self) -> dict[str, list[float]]:
        """The factors learned on the model file's constants (:attr:`ModelConfig.identify`), by constant: per body
        (``mass``, the world body excluded), actuator, dof or floor contact pair, in MuJoCo's order."""
        return {name: s(torch.float64).detach().cpu().tolist() for name, s in self._factors.items()}

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        """``[predictor parameters and the learned factors on the model file's constants, corrector 1 parameters,
        ..., corrector n parameters]``."""
        factors = [s.log_scale for s in self._factors.values()]
        return [list(self.predictor.parameters()) + factors] + [list(c.parameters()) for c in self.correctors]

    def configure_stage(self, stage: int | None) -> list[nn.Parameter]:
        params = super().configure_stage(stage)
        self.active_correctors = len(self.correctors) if stage is None else stage
        return params

    # ------------------------------------------------------------------ dynamics
    def normalized_inputs(self, q: Tensor, v: Tensor, a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Normalized position features ``(..., P)``, velocity features ``(..., nv+)`` and action features
        ``(..., nu+)``
        (features clamped to the data's range when the model is bounded, see :attr:`ModelConfig.bound_to_data`)."""
        return (
            self.position_norm.bound(self.position_norm(self.features.positions(q))),
            self.velocity_norm.bound(self.velocity_norm(self.features.velocity_features(q, v))),
            self.action_norm(self.features.action_features(q, v, a)),
        )

    def _normalized_acceleration(self, q: Tensor, v: Tensor, a: Tensor, n_correctors: int | None) -> Tensor:
        return self._smooth_acceleration(q, v, a, n_correctors)[0]

    def _known_inertia(self, q: Tensor, kinematics: tuple[Tensor, ...] | None = None,
                       centre: tuple[Tensor, Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """MuJoCo's ``M(q)`` and ``M(q)⁻¹`` (:attr:`known_inertia`) in the networks' frame, raw units: ``H M Hᵀ``
        and ``H M⁻¹ Hᵀ`` (``H`` the heading frame's turn, :meth:`StateFeatures.to_heading`); normalized, ``M⁻¹``
        is ``S⁻¹ H M⁻¹ Hᵀ S⁻¹``, ``S = diag(acc_std)``."""
        assert self.known_inertia is not None
        return tuple(self._matrix_to_heading(q, m)  # type: ignore[return-value]
                     for m in self.known_inertia.both(q, kinematics, centre))

    def _matrix_to_heading(self, q: Tensor, matrix: Tensor) -> Tensor:
        """``H matrix Hᵀ`` of a symmetric ``matrix (..., nv, nv)`` of the world frame's velocities
        (:meth:`StateFeatures.to_heading`)."""
        qh = q.unsqueeze(-2)
        return self.features.to_heading(qh, self.features.to_heading(qh, matrix).transpose(-1, -2))

    def _smooth_acceleration(self, q: Tensor, v: Tensor, a: Tensor,
                             n_correctors: int | None) -> tuple[Tensor, tuple[Tensor, Tensor | None] | None,
                                                                tuple[Tensor, ...] | None]:
        """The networks' normalized acceleration; where the limit solver needs them, the predictor's ``M⁻¹`` in raw
        units (the networks' frame) and ``M`` where it is computed, not learned; and the bodies' Jacobians where both
        ``M`` and the contact solve use them."""
        n = self._active if n_correctors is None else n_correctors
        if not 0 <= n <= len(self.correctors):
            raise InvalidInputError(f"n_correctors must be in [0, {len(self.correctors)}], got {n}")
        p, w, u = self.normalized_inputs(q, v, a)
        minv, kinematics = None, None
        scale = self.acceleration_norm.std.to(q)  # M in raw units: S M S (the module docstring of predictor)
        force = None
        if self.known_actuation is not None:  # the force in normalized units is S times the raw one
            force = self.features.to_heading(q, self.known_actuation(q, v, a)) * scale
        if self.known_inertia is not None:
            ki, solver, centre = self.known_inertia, self.limit_solver, None
            contacts = solver is not None and solver.contacts is not None
            consts = ki.constants(q.dtype) if self.config.known_bias else {}  # the bias forces' and their centres'
            if (contacts or self.config.known_bias) and solve_dtype(q.dtype) == q.dtype:
                kinematics = ki.jacobians(q)  # once for M, the bias forces and the contacts
                if self.config.known_bias:  # and the bodies' centres of mass, once for M and the bias forces
                    centre = centres(*kinematics, consts)
            if self.config.known_bias:  # Coriolis, centrifugal and gravity forces: MuJoCo's
                assert force is not None
                bias = bias_forces(q, v, ki.geometry, consts, ki.nv, kinematics, centre)
                force = force - self.features.to_heading(q, bias) * scale
            if self.config.known_passive and self.known_inertia.has_passive:
                # the springs, and the dampers where the limit solve does not add them (implicitly)
                damped = self.limit_solver is None or not self.limit_solver.damps
                force = force + self.features.to_heading(q, self.known_inertia.passive(q, v, damped)) * scale
            mass_raw, minv_raw = self._known_inertia(q, kinematics, centre)
            minv_n = minv_raw / scale.unsqueeze(-1) / scale
            y = (minv_n @ self.predictor.generalized_force(p, w, u, force).unsqueeze(-1)).squeeze(-1)
            minv = (minv_raw, mass_raw) if self.limit_solver is not None else None
        elif force is None:
            y = self.predictor(p, w, u)
        else:
            y, chol = self.predictor.with_cholesky_factor(p, w, u, force)
            if self.limit_solver is not None:
                minv = (scale.unsqueeze(-1) * inverse_inertia(chol, self.predictor.eps_diagonal(chol)) * scale, None)
        for corrector in self.correctors[:n]:
            y = y + corrector(p, w, u)
        if self.limit_solver is None:
            y = self.acceleration_norm.bound(y)
        return y, minv, kinematics  # with the limit solver, the bound applies to what it makes of y (_acceleration)

    def normalized_acceleration(self, qpos: Any, qvel: Any, action: Any, n_correctors: int | None = None) -> Tensor:
        """The networks' prediction in normalized units ``(..., nv)``, in the frame the networks see
        (:meth:`StateFeatures.to_heading`); with the limit constraints, without the limits' forces and the damping
        (:mod:`mosim.models.limits`), which :meth:`acceleration` adds."""
        return self._normalized_acceleration(*self.check_inputs(qpos, qvel, action), n_correctors)

    def acceleration(self, qpos: Any, qvel: Any, action: Any, n_correctors: int | None = None) -> Tensor:
        """``dv/dt (..., nv)`` in raw units, using the first ``n_correctors`` correctors
        (default :attr:`active_correctors`)."""
        q, v, a = self.check_inputs(qpos, qvel, action)
        return self._acceleration(q, v, a, n_correctors)

    def _acceleration(self, q: Tensor, v: Tensor, a: Tensor, n_correctors: int | None) -> Tensor:
        y, minv, kinematics = self._smooth_acceleration(q, v, a, n_correctors)
        acc = self.acceleration_norm.denormalize(y)
        if self.limit_solver is not None:  # in raw units
            assert minv is not None
            actuators = None  # the actuators' velocity damping, where the integrator treats it implicitly
            if self.limit_solver.damps_actuators and self.known_actuation is not None:
                actuators = self._matrix_to_heading(q, self.known_actuation.velocity_damping(q, v, a))
            world = None  # a free-floating robot's contact rows, made in MuJoCo's frame, in the heading frame
            if self.features.heading is not None and self.limit_solver.contacts is not None:
                world = (v, lambda rows: self.features.to_heading(q.unsqueeze(-2), rows))
            weights = None  # the constraints' scales, where the masses are learned: of those masses
            if self.known_inertia is not None and self.known_inertia.mass_scale is not None:
                weights = self.known_inertia.invweights(q.dtype)
            acc = self.limit_solver(q, self.features.to_heading(q, v), acc, *minv, kinematics=kinematics,
                                    actuators=actuators, world=world, weights=weights)
            acc = self.acceleration_norm.bound_raw(acc)
        return self.features.to_world(q, acc)

    def _step(self, q: Tensor, v: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        def acc_fn(qq: Tensor, vv: Tensor) -> Tensor:
            return self._acceleration(qq, vv, a, None)

        options = dict(self.integrator_options)
        if self.config.adjoint and self.integrator == "dopri5":
            options.setdefault("adjoint", True)
            options.setdefault("adjoint_params", tuple(p for p in self.parameters() if p.requires_grad))
        q1, v1 = integrate_step(
            self.integrator, self.spec.layout, acc_fn, q, v, self.spec.dt, self.config.substeps, **options,
        )
        if self.config.bound_to_data:
            q1, v1 = bound_state(self.features, self.position_norm, self.velocity_norm, q1, v1)
        return q1, v1

    def extra_repr(self) -> str:
        return (
            f"system={self.spec.system_id!r}, kind={self.config.kind!r}, integrator={self.integrator!r} "
            f"x{self.config.substeps}, dt={self.spec.dt:g}, active_correctors={self._active}"
        )


def build_model(
    spec: SystemSpec, config: ModelConfig | None = None, stats: NormalizationStats | None = None
) -> DynamicsModel:
    """The model ``config.kind`` asks for: :class:`NeuralSimulator`, :class:`~mosim.models.delta.PlainDeltaModel`
    or a baseline (:class:`~mosim.baselines.rssm.RSSMModel`, :class:`~mosim.baselines.ensemble.EnsembleModel`)."""
    from mosim.models.delta import PlainDeltaModel

    config = config or ModelConfig()
    if config.kind == "plain_delta":
        return PlainDeltaModel(spec, config, stats)
    if config.kind == "rssm":
        from mosim.baselines.rssm import RSSMModel

        return RSSMModel(spec, config, stats)
    if config.kind == "ensemble":
        from mosim.baselines.ensemble import EnsembleModel

        return EnsembleModel(spec, config, stats)
    return NeuralSimulator(spec, config, stats)
