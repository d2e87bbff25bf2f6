"""What a learned simulator looks like: :class:`ModelConfig` and named presets."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from mosim.errors import InvalidInputError
from mosim.models.networks import ACTIVATIONS
from mosim.registry import lookup
from mosim.systems.base import SystemSpec
from mosim.systems.actuation import Actuation
from mosim.systems.contacts import FloorContacts
from mosim.systems.inertia import BodyInertias
from mosim.systems.geometry import ContactGeometry
from mosim.systems.limits import LimitConstraints
from mosim.systems.self_contacts import SelfContacts

if TYPE_CHECKING:
    from mosim.baselines.config import EnsembleConfig, RSSMConfig

MODEL_KINDS = ("structured", "plain_ode", "plain_delta", "rssm", "ensemble")
"""``structured``: ``M(q)[b(q, v) + tau(a)] + correctors``, integrated; ``plain_ode``: one ResNet predicting
the acceleration, integrated the same way (the paper's ablation); ``plain_delta``: one ResNet predicting
the normalized one-step state change (:class:`~mosim.models.delta.PlainDeltaModel`); the baselines
``rssm`` (DreamerV3's RSSM, :class:`~mosim.baselines.rssm.RSSMModel`, sized by :attr:`ModelConfig.rssm`) and
``ensemble`` (PETS / MBPO, :class:`~mosim.baselines.ensemble.EnsembleModel`, :attr:`ModelConfig.ensemble`)."""
BASELINE_KINDS = ("rssm", "ensemble")
STRUCTURE_ONLY = {"limit_constraints": False, "known_actuation": False, "contact_constraints": False,
                  "inertia_start": "identity", "known_inertia": False, "known_bias": False, "known_passive": False,
                  "physics_start": False}
"""``ModelConfig`` fields that only the structured model has, turned off: for the other kinds made from a preset"""
NEEDS = {"known_bias": ("known_inertia",), "known_passive": ("known_bias",), "physics_start": ("known_bias",)}
"""the computed physics that builds on other parts of it (:meth:`ModelConfig.__post_init__` checks them)"""


def needs_off(config: ModelConfig, over: dict[str, Any]) -> dict[str, bool]:
    """The fields of :data:`NEEDS` that ``config`` turns on and that must go off once ``over`` turns off what they
    need (``known_inertia=False`` on a preset that computes the bias forces and starts at the model file's physics:
    those two off too), unless ``over`` names them itself: what to add to ``over``."""
    off: dict[str, bool] = {}
    for name, needed in NEEDS.items():  # in order: a part turned off here turns off what needs it next
        if name not in over and getattr(config, name) and any({**over, **off}.get(n) is False for n in needed):
            off[name] = False
    return off


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and integration of a learned simulator (JSON-serializable)."""

    kind: str = "structured"
    """one of :data:`MODEL_KINDS`"""
    activation: str = "silu"
    """activation of every network (silu, softplus, tanh, relu, elu). SiLU since 2026-11-27: at least as accurate as
    softplus on every system measured at equal budgets, and cheaper per step (results/accuracy.md, "Softplus
    against SiLU")"""
    inertia_width: int = 128
    """width of the ResNet giving ``L`` (``M = L Lᵀ + eps I``)"""
    inertia_blocks: int = 2
    force_width: int = 128
    """width of the ResNet ``b(q, v)``; also the width of the plain networks"""
    force_blocks: int = 2
    """residual blocks of ``b(q, v)`` and of the plain networks"""
    action_hidden: tuple[int, ...] = (64,)
    """hidden widths of the MLP ``tau(a)``"""
    force_sees_action: bool = False
    """structured only: ``acc = M(q) f(q, v, a)``, the ResNet of the forces taking the action too, in place of
    ``b(q, v) + tau(a)``. For actuators whose force depends on the state as well as the command (position servos
    with force limits, such as the Panda's: ``clip(kp (a - q) - kd v)``), which a ``tau(a)`` cannot express"""
    n_correctors: int = 1
    corrector_width: int = 128
    corrector_blocks: int = 2
    integrator: str = "auto"
    """``semi_implicit_euler``, ``rk4``, ``constant_acceleration``, ``euler``, ``dopri5``, or ``auto``: ``rk4`` for data made with
    MuJoCo's RK4 integrator, ``semi_implicit_euler`` otherwise (integrate the way the data was made)"""
    substeps: int = 1
    """integrator steps per model step"""
    adjoint: bool = False
    """``dopri5`` only: gradients by the adjoint method (the original's recipe) instead of backpropagation"""
    limit_features: bool | None = None
    """feed how far limited joints are past their limits (see :mod:`mosim.models.features`); default:
    on, except with ``dopri5``, which needs dynamics continuous in the state"""
    limit_velocity_features: bool = False
    """feed, with the velocity features, each limited joint's velocity where it is past its lower and its upper
    limit (``v [q < lo]``, ``v [q > hi]``, :mod:`mosim.models.features`): what MuJoCo's limit constraint pushes back
    against. Needs the limit features"""
    limit_constraints: bool = False
    """structured only: add MuJoCo's joint-limit constraint forces to the predicted acceleration, solved as MuJoCo
    solves them (:mod:`mosim.models.limits`) with the predictor's ``M(q)`` as the inverse inertia, instead of
    leaving the networks to learn the jump a limit hit makes. So that the data determine ``M``, the actuators'
    force is taken as known (MuJoCo's ``qfrc_actuator``, :mod:`mosim.models.actuation`) in place of ``tau(a)``.
    Needs the spec's limit constraints and actuation (:func:`mosim.systems.with_mechanics`; training adds them,
    and the checkpoint keeps them)"""
    known_actuation: bool = False
    """structured only: ``tau(a)`` is the force MuJoCo's actuators apply (``qfrc_actuator`` of the model file,
    :mod:`mosim.models.actuation`) instead of a network, so that how the acceleration answers the action measures
    ``M(q)`` in MuJoCo's units (trajectories alone leave it undetermined). Implied by :attr:`limit_constraints`"""
    contact_constraints: bool = False
    """structured only: add MuJoCo's floor contact forces to the predicted acceleration, solved as MuJoCo solves
    them (:mod:`mosim.models.contacts`: the friction pyramids of the geoms touching the floor, with the joint limits)
    with the predictor's ``M(q)``, instead of leaving the networks to learn the jumps of landing and slipping.
    Implies :attr:`limit_constraints` (and with it the actuators' force as known). Needs the spec's contact geometry
    and :class:`~mosim.systems.contacts.FloorContacts` (training adds them, and the checkpoint keeps them); spheres,
    capsules, boxes and cylinders on pyramidal cones and on elliptic ones (:mod:`mosim.models.cones`; a free-floating
    robot's rows mapped to its heading frame)"""
    inertia_start: str = "identity"
    """structured only: where ``M(q)`` starts, ``identity`` (``I`` in normalized units) or ``mujoco``: the diagonal of
    MuJoCo's inverse inertia at the reference pose (``dof_invweight0`` of the model file), for models that take the
    actuators' force as known, whose first steps otherwise push every joint with the wrong inertia (on cheetah-run
    100-step errors of 30 after 20 s of training, against 0.3 for the networks alone). Needs the limit constraints
    (:attr:`uses_limit_constraints`), which carry ``dof_invweight0``"""
    known_inertia: bool = False
    """structured only: ``M(q)`` is MuJoCo's, computed from the robot's kinematics and its bodies' masses and
    inertias in the model file (:mod:`mosim.models.inertia`), instead of a network of the position features; the
    networks learn the forces ``b(q, v)`` (and ``tau(a)`` where the actuation is not known), scaled by the
    diagonal of ``M⁻¹`` at the reference pose. Needs the spec's contact geometry and
    :class:`~mosim.systems.inertia.BodyInertias` (training adds them, and the checkpoint keeps them)"""
    known_bias: bool = False
    """structured, with :attr:`known_inertia` and the actuators' force known (:attr:`uses_known_actuation`): the
    Coriolis, centrifugal and gravity forces ``qfrc_bias`` are MuJoCo's too, computed from the same kinematics and
    inertias (:mod:`mosim.models.bias`), so that the force network ``b(q, v)`` learns only what the model file does
    not say (passive forces, what the solve leaves out)"""
    known_passive: bool = False
    """with :attr:`known_bias`: the joints' springs (``stiffness`` toward ``springref``, MuJoCo's ``qfrc_spring``;
    hinges and slides) are computed from the model file too (:func:`mosim.models.bias.spring_forces`); cheetah's legs
    and the humanoid's joints have them. With the joints' dampers, ``-damping v``, where the limit solve does not
    integrate them implicitly (a model without it, as acrobot's, whose RK4 step MuJoCo does not damp implicitly)"""
    physics_start: bool = False
    """with :attr:`known_bias` (and :attr:`known_passive` where the joints have springs): the untrained model is
    the model file's physics. The force network's output layer starts at zero (the correctors' always does) and the
    acceleration's normalization has zero mean, so that a zero network output adds no force; the networks then
    learn only what the model computes wrong or leaves out, and the trainer validates the start too.
    Otherwise the normalization's mean (the data's mean acceleration) is a constant acceleration the networks must
    learn to cancel: on the Panda, whose mechanics the model file says all of, the untrained model with it rolls 100
    steps at 2e-4 MSE, without it at 7e-9 (the few windows where its fingers touch)"""
    identify: tuple[str, ...] = ()
    """structured, with the mechanics computed from the model file: the constants to learn factors on, with the
    networks (:mod:`mosim.models.identified`): any of ``mass`` (each body's mass and inertia; needs
    :attr:`known_inertia`), ``actuators`` (each actuator's force; the actuation known), ``damping`` (each dof's;
    implicit in the limit solve or explicit with :attr:`known_passive`) and ``friction`` (each floor contact pair's;
    :attr:`contact_constraints`). Each factor starts at 1, so with :attr:`physics_start` the untrained model is
    still the file's physics"""
    contact_slots: int = 0
    """with :attr:`contact_constraints`: how many of the candidate contact points (a sphere's centre, a capsule's two
    ends, a box's corners, a cylinder's rim points) nearest the floor are solved at a step, ``0`` for every one that
    touches it (as many rows as touch at once in the batch; all of them under ``torch.compile``)"""
    self_contacts: bool = True
    """with :attr:`contact_constraints`: solve the contacts between the robot's own bodies too
    (:mod:`mosim.models.self_contacts`), where the spec has them (:class:`~mosim.systems.SelfContacts`; training
    reads them, checkpoints from before they were read solve the floor's alone)"""
    contact_features: bool = False
    """feed each collision geom's height above the floor and the velocity of its lowest point
    (:mod:`mosim.models.contact`) with the velocity features. Needs the spec's contact geometry
    (:func:`mosim.systems.with_geometry`; training adds it, and the checkpoint keeps it)"""
    actuator_features: bool = False
    """feed, next to the action, the joint forces MuJoCo's actuators apply for it in the current state
    (``qfrc_actuator``, :mod:`mosim.models.actuation`): for servos whose force depends on the state and saturates
    (the Panda's). Needs the spec's actuation (:func:`mosim.systems.with_actuation`; training adds it, and the
    checkpoint keeps it)"""
    heading_frame: bool = True
    """see and predict each free joint's linear velocity (and acceleration, state change, contact points'
    tangential speeds) in the frame of the robot's heading (:mod:`mosim.models.heading`), so that a free-floating
    robot's dynamics look the same whichever way it faces; no effect on robots without a free joint. Unused by the
    kinds ``rssm`` and ``ensemble``. Checkpoints from before this option load without it"""
    eps: float = 1e-3
    """``eps`` in ``M = L Lᵀ + eps I`` (normalized units, where ``M`` starts near ``I``)"""
    bound_to_data: bool = True
    """clamp what the networks see (position and velocity features) and what the model predicts (acceleration
    or state change) to the training data's range, widened by 10% each side
    (:meth:`~mosim.models.normalization.Normalizer.bound`), and the predicted state (velocities, and the
    coordinates fed raw: slides, limited hinges, a free joint's height) to that range widened by its width each
    side (:func:`~mosim.models.normalization.bound_state`): off the data a rollout saturates instead of
    extrapolating the networks into a blow-up. Checkpoints from before this option load unbounded"""
    rssm: RSSMConfig | None = None
    """kind ``rssm`` only: the RSSM's sizes and settings (:class:`~mosim.baselines.config.RSSMConfig`, or its
    dict); ``None`` gives the default (``dv3-cpu``). The fields above are unused by that kind"""
    ensemble: EnsembleConfig | None = None
    """kind ``ensemble`` only: :class:`~mosim.baselines.config.EnsembleConfig` (or its dict); ``None`` gives the
    default (``mbpo``). Of the fields above, only ``limit_features`` is used by that kind"""

    def __post_init__(self) -> None:
        self._baseline_configs()
        if self.kind not in MODEL_KINDS:
            lookup({k: k for k in MODEL_KINDS}, self.kind, "model kind")
        lookup(ACTIVATIONS, self.activation, "activation")
        object.__setattr__(self, "action_hidden", tuple(int(h) for h in self.action_hidden))
        object.__setattr__(self, "identify", tuple(dict.fromkeys(str(n) for n in self.identify)))
        self._check_identify()
        for name in ("inertia_width", "force_width", "corrector_width", "substeps"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"ModelConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("inertia_blocks", "force_blocks", "corrector_blocks", "n_correctors"):
            if getattr(self, name) < 0:
                raise InvalidInputError(f"ModelConfig.{name} must be >= 0, got {getattr(self, name)}")
        if any(h < 1 for h in self.action_hidden):
            raise InvalidInputError(f"ModelConfig.action_hidden widths must be >= 1, got {self.action_hidden}")
        discontinuous = [f"{name} features ({fix})" for name, on, fix in (
            ("joint-limit", self.limit_features, "limit_features=False, mosim train --no-limit-features"),
            ("contact", self.contact_features, "contact_features=False, mosim train --no-contact-features"),
            ("limit velocity", self.limit_velocity_features, "limit_velocity_features=False"),
            ("limit constraint", self.limit_constraints, "limit_constraints=False"),
            ("contact constraint", self.contact_constraints, "contact_constraints=False"))
            if on]
        if self.integrator == "dopri5" and discontinuous and self.kind in ("structured", "plain_ode"):
            raise InvalidInputError(f"dopri5 needs dynamics continuous in the state, and the {' and the '.join(discontinuous)} "
                                    "are not: turn them off or use another integrator")
        for name in ("contact_features", "actuator_features"):
            if getattr(self, name) and self.kind not in ("structured", "plain_ode", "plain_delta"):
                raise InvalidInputError(f"{name} is for the kinds structured, plain_ode and plain_delta, "
                                        f"got kind {self.kind!r}")
        if self.inertia_start not in ("identity", "mujoco"):
            raise InvalidInputError(f"ModelConfig.inertia_start must be 'identity' or 'mujoco', got {self.inertia_start!r}")
        if self.inertia_start == "mujoco" and not (self.kind == "structured" and self.uses_limit_constraints):
            raise InvalidInputError("inertia_start='mujoco' needs the structured model with limit_constraints or "
                                    "contact_constraints (they carry MuJoCo's dof_invweight0)")
        if self.known_inertia and self.inertia_start != "identity":
            raise InvalidInputError("known_inertia computes M(q), so it has no start: drop inertia_start="
                                    f"{self.inertia_start!r} (mosim train without --inertia-start) or known_inertia")
        if self.known_bias and not (self.known_inertia and self.uses_known_actuation):
            raise InvalidInputError("known_bias adds MuJoCo's bias forces to the actuators' known force with M(q) "
                                    "computed: it needs known_inertia and the actuation known (known_actuation, "
                                    "limit_constraints or contact_constraints; mosim train --known-inertia "
                                    "--known-actuation), or drop known_bias")
        if self.known_passive and not self.known_bias:
            raise InvalidInputError("known_passive adds the joints' springs to the known forces of known_bias: add "
                                    "known_bias (mosim train --known-bias) or drop known_passive")
        if self.physics_start and not self.known_bias:
            raise InvalidInputError("physics_start starts the model at the model file's physics, which needs every "
                                    "force it says computed: add known_bias (mosim train --known-bias) or drop "
                                    "physics_start")
        if self.contact_slots < 0:
            raise InvalidInputError(f"ModelConfig.contact_slots must be >= 0 (0: all), got {self.contact_slots}")
        for name in ("limit_constraints", "known_actuation", "contact_constraints", "known_inertia", "known_bias"):
            if not getattr(self, name):
                continue
            flag = "--no-" + name.replace("_", "-")
            if self.force_sees_action and name not in ("known_inertia", "known_bias"):
                raise InvalidInputError(f"{name} takes the actuators' force as known, in place of tau(a): drop "
                                        f"force_sees_action (mosim train without --force-sees-action) or {name}")
            if self.kind != "structured":
                raise InvalidInputError(f"{name} needs the structured model's M(q), got kind {self.kind!r}: "
                                        f"use kind='structured' or drop {name} (mosim train {flag})")
        if self.limit_velocity_features and self.limit_features is False:
            raise InvalidInputError("limit_velocity_features needs the limit features: drop limit_features=False "
                                    "(mosim train --no-limit-features) or the limit velocity features")
        if not self.eps > 0:
            raise InvalidInputError(f"ModelConfig.eps must be > 0, got {self.eps}")

    def _check_identify(self) -> None:
        """:attr:`identify`: known names, each with the part of the model its factors scale."""
        from mosim.models.identified import IDENTIFIABLE

        for name in self.identify:
            lookup({n: n for n in IDENTIFIABLE}, name, "identifiable constant")
        needs = {"mass": (self.known_inertia, "known_inertia (mosim train --known-inertia)"),
                 "actuators": (self.uses_known_actuation, "the actuation known (mosim train --known-actuation)"),
                 "damping": (self.known_passive or self.uses_limit_constraints,
                             "the damping computed: known_passive or the limit constraints"),
                 "friction": (self.contact_constraints, "contact_constraints (mosim train --contact-constraints)")}
        for name in self.identify:
            ok, what = needs[name]
            if self.kind != "structured" or not ok:
                raise InvalidInputError(f"identify {name!r} learns factors on the model file's constants, which needs "
                                        f"the structured model with {what}; or drop {name!r} from identify")

    def _baseline_configs(self) -> None:
        """Turn ``rssm`` / ``ensemble`` dicts into their configs, fill the defaults, reject them for other kinds."""
        if self.kind not in BASELINE_KINDS and self.rssm is None and self.ensemble is None:
            return
        from mosim.baselines.config import EnsembleConfig, RSSMConfig  # lazy: the baselines import mosim.models

        for name, cls in (("rssm", RSSMConfig), ("ensemble", EnsembleConfig)):
            value = getattr(self, name)
            if value is None and self.kind == name:
                value = cls()
            elif isinstance(value, dict):
                value = cls.from_dict(value)
            if value is not None and not isinstance(value, cls):
                got = type(value).__name__
                raise InvalidInputError(f"ModelConfig.{name} must be a {cls.__name__} or a dict, got {got}")
            if value is not None and self.kind != name:
                raise InvalidInputError(f"ModelConfig.{name} is only for kind {name!r}, got kind {self.kind!r}")
            object.__setattr__(self, name, value)

    def geometry_of(self, spec: SystemSpec) -> ContactGeometry | None:
        """The contact geometry the features of a model of ``spec`` use (``None`` without
        :attr:`contact_features`)."""
        if not self.contact_features:
            return None
        if spec.geometry is None:
            raise InvalidInputError(
                f"contact_features needs the contact geometry of {spec.system_id!r}, and the spec has none: "
                "pass mosim.systems.with_geometry(spec)")
        return spec.geometry

    def actuation_of(self, spec: SystemSpec) -> Actuation | None:
        """The actuation the features of a model of ``spec`` use (``None`` without :attr:`actuator_features`)."""
        return _spec_actuation(spec, "actuator_features") if self.actuator_features else None

    def known_actuation_of(self, spec: SystemSpec) -> Actuation | None:
        """The actuation whose forces a model of ``spec`` takes as known (``None`` without
        :attr:`uses_known_actuation`)."""
        return _spec_actuation(spec, "known_actuation") if self.uses_known_actuation else None

    def limits_of(self, spec: SystemSpec) -> LimitConstraints | None:
        """The limit constraints a model of ``spec`` solves (``None`` without :attr:`uses_limit_constraints`)."""
        if not self.uses_limit_constraints:
            return None
        if spec.limits is None:
            raise InvalidInputError(
                f"limit_constraints needs the joint-limit constraints of {spec.system_id!r}, and the spec has none: "
                "pass mosim.systems.with_mechanics(spec, limits=True)")
        return spec.limits

    @property
    def uses_self_contacts(self) -> bool:
        """Whether the contacts between the robot's own bodies are solved (:attr:`self_contacts`)."""
        return self.contact_constraints and self.self_contacts

    def self_contacts_of(self, spec: SystemSpec) -> SelfContacts | None:
        """The pairs of the robot's own geoms a model of ``spec`` solves (``None`` if none: without
        :attr:`uses_self_contacts`, or a spec from before they were read)."""
        if not self.uses_self_contacts or spec.self_contacts is None or not len(spec.self_contacts):
            return None
        return spec.self_contacts

    def contacts_of(self, spec: SystemSpec) -> tuple[ContactGeometry, FloorContacts] | None:
        """The geometry and the floor contacts a model of ``spec`` solves (``None`` without
        :attr:`contact_constraints`)."""
        if not self.contact_constraints:
            return None
        if spec.geometry is None or spec.contacts is None:
            raise InvalidInputError(
                f"contact_constraints needs the contact geometry and floor contacts of {spec.system_id!r}, and the spec "
                "lacks them: pass mosim.systems.with_mechanics(spec, contacts=True)")
        return spec.geometry, spec.contacts

    def inertia_of(self, spec: SystemSpec) -> tuple[ContactGeometry, BodyInertias] | None:
        """The geometry and the bodies' inertias a model of ``spec`` computes ``M(q)`` from (``None`` without
        :attr:`known_inertia`)."""
        if not self.known_inertia:
            return None
        if spec.geometry is None or spec.inertias is None:
            raise InvalidInputError(
                f"known_inertia needs the contact geometry and body inertias of {spec.system_id!r}, and the spec "
                "lacks them: pass mosim.systems.with_mechanics(spec, inertias=True)")
        return spec.geometry, spec.inertias

    @property
    def uses_limit_constraints(self) -> bool:
        """:attr:`limit_constraints`, or implied by :attr:`contact_constraints`."""
        return self.limit_constraints or self.contact_constraints

    @property
    def uses_known_actuation(self) -> bool:
        """:attr:`known_actuation`, or implied by :attr:`limit_constraints` or :attr:`contact_constraints`."""
        return self.known_actuation or self.uses_limit_constraints

    @property
    def uses_limit_features(self) -> bool:
        """:attr:`limit_features` with its default resolved."""
        return self.integrator != "dopri5" if self.limit_features is None else self.limit_features

    @property
    def uses_limit_velocity_features(self) -> bool:
        """:attr:`limit_velocity_features` where the limit features are used (not by the kinds ``rssm`` and
        ``ensemble``)."""
        return self.limit_velocity_features and self.uses_limit_features and self.kind not in BASELINE_KINDS

    @property
    def uses_heading_frame(self) -> bool:
        """:attr:`heading_frame` where the kind uses it (not the baselines ``rssm`` and ``ensemble``)."""
        return self.heading_frame and self.kind not in BASELINE_KINDS

    def resolved_integrator(self, spec: SystemSpec) -> str:
        """The integrator name, with ``auto`` resolved for a system (see :attr:`integrator`)."""
        if self.integrator == "auto":
            return "rk4" if spec.integrator == "rk4" else "semi_implicit_euler"
        return self.integrator

    def to_json(self) -> str:
        d = asdict(self)
        for name in BASELINE_KINDS:  # absent unless set: the JSON of the other kinds stays as it was
            if d[name] is None:
                del d[name]
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InvalidInputError(f"unknown ModelConfig fields {unknown}; valid: {sorted(known)}")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_checkpoint_json(cls, text: str) -> ModelConfig:
        """The config a checkpoint's model was trained with: fields added since it was written get the value that
        reproduces the old behaviour (``bound_to_data=False``, ``heading_frame=False``), not today's default."""
        d = json.loads(text)
        d.setdefault("bound_to_data", False)  # written before the option existed: unbounded, as trained
        d.setdefault("heading_frame", False)  # likewise: world-frame velocities
        d.setdefault("activation", "softplus")  # the default until 2026-11-27
        return cls.from_dict(d)


def _spec_actuation(spec: SystemSpec, needed_by: str) -> Actuation:
    if spec.actuation is None:
        raise InvalidInputError(f"{needed_by} needs the actuation of {spec.system_id!r}, and the spec has none: "
                                "pass mosim.systems.with_actuation(spec)")
    return spec.actuation


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(
        inertia_width=32, inertia_blocks=1, force_width=32, force_blocks=1, action_hidden=(16,),
        n_correctors=1, corrector_width=32, corrector_blocks=1,
    ),
    "small": ModelConfig(
        inertia_width=64, inertia_blocks=2, force_width=64, force_blocks=2, action_hidden=(32,),
        n_correctors=1, corrector_width=64, corrector_blocks=2,
    ),
    "medium": ModelConfig(),
    "large": ModelConfig(
        inertia_width=256, inertia_blocks=3, force_width=256, force_blocks=3, action_hidden=(128, 128),
        n_correctors=3, corrector_width=256, corrector_blocks=3,
    ),
}
"""Named configurations: ``tiny`` (tests), ``small`` (acrobot, reacher, cartpole), ``medium`` (cheetah,
hopper, Go2), ``large`` (Panda, humanoid: three correctors, as the original's configs)."""


def model_preset(name: str, **overrides: Any) -> ModelConfig:
    """A preset by name, with fields replaced by ``overrides`` (e.g. ``kind="plain_delta"``)."""
    base = lookup(PRESETS, name, "model preset")
    try:
        return replace(base, **overrides)
    except TypeError as e:
        raise InvalidInputError(f"bad ModelConfig override: {e}") from None
