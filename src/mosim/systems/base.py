"""One abstraction for "a robot we can simulate": :class:`System`.

A system wraps a compiled MuJoCo model and knows how to reset it to its task's random initial
state, read and write the physical state ``(qpos, qvel)``, and advance it by one *model step* of
``substeps`` physics steps with an action held constant. Where a task defines them, it also
evaluates the task's observation and reward as functions of the physical state, which is what lets
a learned model stand in for the simulator.
"""

from __future__ import annotations

import json
import warnings
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any

import mujoco
import numpy as np

from mosim.errors import InvalidInputError
from mosim.systems.actuation import Actuation
from mosim.systems.contacts import FloorContacts
from mosim.systems.geometry import ContactGeometry
from mosim.systems.inertia import BodyInertias
from mosim.systems.layout import JointLayout
from mosim.systems.limits import LimitConstraints
from mosim.systems.self_contacts import SelfContacts

INTEGRATOR_NAMES = {0: "euler", 1: "rk4", 2: "implicit", 3: "implicitfast"}



MECHANICS: dict[str, Any] = {"geometry": ContactGeometry, "actuation": Actuation, "limits": LimitConstraints,
                             "contacts": FloorContacts, "inertias": BodyInertias, "self_contacts": SelfContacts}
"""The parts of a robot's MuJoCo model a :class:`SystemSpec` keeps where a model needs them: field -> record class
(each with ``to_dict`` and ``from_dict``)"""


@dataclass(frozen=True)
class SystemSpec:
    """Everything about a system that a dataset, a model or a checkpoint must agree on."""

    system_id: str
    """the name the system was made from (e.g. ``cheetah-run``, ``go2``)"""
    nq: int
    nv: int
    nu: int
    dt: float
    """duration of one model step in seconds (``substeps * physics_dt``)"""
    physics_dt: float
    """MuJoCo's physics time step"""
    substeps: int
    """physics steps per model step"""
    integrator: str
    """MuJoCo integrator of the model (``euler``, ``rk4``, ``implicit``, ``implicitfast``)"""
    action_low: tuple[float, ...]
    action_high: tuple[float, ...]
    layout: JointLayout
    geometry: ContactGeometry | None = field(default=None, compare=False)
    """the kinematic tree and floor contact pairs (:meth:`System.geometry`), kept where a model needs them
    (``ModelConfig.contact_features``); not part of a dataset's spec, and not compared (``==``, :meth:`mismatches`)"""
    actuation: Actuation | None = field(default=None, compare=False)
    """the actuators' force law (:meth:`System.actuation`), kept where a model needs it
    (``ModelConfig.actuator_features``); like :attr:`geometry`, not in a dataset's spec and not compared"""
    limits: LimitConstraints | None = field(default=None, compare=False)
    """the joint-limit constraints (:meth:`System.limits`), kept where a model needs them
    (``ModelConfig.limit_constraints``); like :attr:`geometry`, not in a dataset's spec and not compared"""
    contacts: FloorContacts | None = field(default=None, compare=False)
    """the floor contact constraints of :attr:`geometry`'s pairs (:meth:`System.contacts`), kept where a model needs
    them (``ModelConfig.contact_constraints``); like :attr:`geometry`, not in a dataset's spec and not compared"""
    inertias: BodyInertias | None = field(default=None, compare=False)
    """the bodies' mass properties (:meth:`System.inertias`), kept where a model computes ``M(q)`` from them
    (``ModelConfig.known_inertia``, with :attr:`geometry`); like :attr:`geometry`, not in a dataset's spec and not
    compared"""
    self_contacts: SelfContacts | None = field(default=None, compare=False)
    """the pairs of the robot's geoms that can touch each other (:meth:`System.self_contacts`), read with
    :attr:`contacts` and solved with them (``ModelConfig.self_contacts``); ``None`` in specs from before they were
    read (their models solve the floor's alone); like :attr:`geometry`, not in a dataset's spec and not compared"""

    def to_json(self) -> str:
        d = asdict(self)
        d["layout"] = json.loads(self.layout.to_json())
        for name in MECHANICS:  # absent unless set: the JSON of specs without them stays as it was
            part = getattr(self, name)
            if part is None:
                del d[name]
            else:
                d[name] = part.to_dict()
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SystemSpec:
        d = json.loads(text)
        d["layout"] = JointLayout.from_json(json.dumps(d["layout"]))
        for name, record in MECHANICS.items():
            if d.get(name) is not None:
                d[name] = record.from_dict(d[name])
        d["action_low"] = tuple(float(x) for x in d["action_low"])
        d["action_high"] = tuple(float(x) for x in d["action_high"])
        return cls(**d)

    def mismatches(self, other: SystemSpec) -> list[str]:
        """Human-readable differences that make two specs incompatible (empty if compatible)."""
        out = []
        for name in ("system_id", "nq", "nv", "nu", "substeps", "integrator"):
            a, b = getattr(self, name), getattr(other, name)
            if a != b:
                out.append(f"{name}: {a!r} vs {b!r}")
        for name in ("dt", "physics_dt"):
            a, b = getattr(self, name), getattr(other, name)
            if not np.isclose(a, b, rtol=1e-9, atol=0):
                out.append(f"{name}: {a!r} vs {b!r}")
        if len(self.action_low) != len(other.action_low) or not np.allclose(self.action_low, other.action_low) \
                or not np.allclose(self.action_high, other.action_high):
            out.append("action bounds differ")
        if not self.layout.same_as(other.layout):
            out.append("joint layout differs")
        return out


class System(ABC):
    """A simulated robot: a MuJoCo model, a reset distribution, and optionally a task.

    Subclasses set ``model``, ``data``, ``system_id`` and ``substeps`` and implement
    :meth:`_initialize_episode`. State arrays are float64 numpy arrays ``qpos (nq,)``, ``qvel (nv,)``;
    actions are ``(nu,)`` arrays within :attr:`action_low` / :attr:`action_high`.
    """

    model: mujoco.MjModel
    data: mujoco.MjData
    system_id: str
    substeps: int

    def _finish_init(self) -> None:
        if self.substeps < 1:
            raise InvalidInputError(f"substeps must be >= 1, got {self.substeps}")
        if self.model.na > 0:
            warnings.warn(
                f"{self.system_id}: the model has {self.model.na} actuator activation states (act); "
                "mosim records qpos/qvel only, so the learned state is incomplete",
                stacklevel=3,
            )
        self.layout = JointLayout.from_model(self.model)
        low, high = self._action_bounds()
        self.action_low = low
        self.action_high = high

    # ------------------------------------------------------------------ description
    @property
    def nq(self) -> int:
        return int(self.model.nq)

    @property
    def nv(self) -> int:
        return int(self.model.nv)

    @property
    def nu(self) -> int:
        return int(self.model.nu)

    @property
    def physics_dt(self) -> float:
        return float(self.model.opt.timestep)

    @property
    def dt(self) -> float:
        """Model step: ``substeps`` physics steps."""
        return self.physics_dt * self.substeps

    @property
    def integrator(self) -> str:
        return INTEGRATOR_NAMES.get(int(self.model.opt.integrator), str(int(self.model.opt.integrator)))

    def spec(self) -> SystemSpec:
        return SystemSpec(
            system_id=self.system_id,
            nq=self.nq,
            nv=self.nv,
            nu=self.nu,
            dt=self.dt,
            physics_dt=self.physics_dt,
            substeps=self.substeps,
            integrator=self.integrator,
            action_low=tuple(float(x) for x in self.action_low),
            action_high=tuple(float(x) for x in self.action_high),
            layout=self.layout,
        )

    @property
    def geometry(self) -> ContactGeometry:
        """The kinematic tree and the floor contact pairs of the model."""
        return ContactGeometry.from_model(self.model)

    @property
    def actuation(self) -> Actuation:
        """The actuators' force law (a clear error for actuators it does not cover, see :class:`Actuation`)."""
        return Actuation.from_model(self.model)

    @property
    def limits(self) -> LimitConstraints:
        """The joint-limit constraints of the model (hinges and slides)."""
        return LimitConstraints.from_model(self.model)

    @property
    def contacts(self) -> FloorContacts:
        """The floor contact constraints of :attr:`geometry`'s pairs (a clear error for what they do not cover, see
        :class:`FloorContacts`)."""
        return FloorContacts.from_model(self.model, self.geometry)

    @property
    def self_contacts(self) -> SelfContacts:
        """The pairs of the robot's own geoms that can touch each other, with :attr:`geometry`'s body indices (a
        clear error for what they do not cover, see :class:`SelfContacts`)."""
        return SelfContacts.from_model(self.model, self.geometry)

    @property
    def inertias(self) -> BodyInertias:
        """The bodies' mass properties, from which MuJoCo computes ``M(q)`` (:class:`BodyInertias`)."""
        return BodyInertias.from_model(self.model)

    def _action_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Actuator control ranges; unlimited actuators get [-1, 1]."""
        low = np.full(self.nu, -1.0)
        high = np.full(self.nu, 1.0)
        for i in range(self.nu):
            if self.model.actuator_ctrllimited[i]:
                low[i], high[i] = self.model.actuator_ctrlrange[i]
        return low, high

    # ------------------------------------------------------------------ state
    def reset(self, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Reset to the task's own random initial state and return ``(qpos, qvel)``."""
        mujoco.mj_resetData(self.model, self.data)
        self._initialize_episode(np.random.default_rng(seed), seed)
        mujoco.mj_forward(self.model, self.data)
        return self.get_state()

    @abstractmethod
    def _initialize_episode(self, rng: np.random.Generator, seed: int | None) -> None:
        """Write a random initial state into ``self.data`` (qpos, qvel, and task randomization)."""

    def get_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the current ``(qpos, qvel)``."""
        return self.data.qpos.copy(), self.data.qvel.copy()

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Set the physical state and recompute derived quantities (``mj_forward``)."""
        qpos = self._check_vector(qpos, self.nq, "qpos")
        qvel = self._check_vector(qvel, self.nv, "qvel")
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        self.data.qacc_warmstart[:] = 0.0
        mujoco.mj_forward(self.model, self.data)

    def clip_action(self, action: np.ndarray) -> np.ndarray:
        action = self._check_vector(action, self.nu, "action")
        return np.clip(action, self.action_low, self.action_high)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hold ``action`` (clipped to the bounds) for ``substeps`` physics steps; return the new state."""
        self.data.ctrl[:] = self.clip_action(action)
        mujoco.mj_step(self.model, self.data, nstep=self.substeps)
        return self.get_state()

    def _check_vector(self, x: np.ndarray, n: int, name: str) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        if arr.shape != (n,):
            raise InvalidInputError(f"{self.system_id}: {name} must have shape ({n},), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError(f"{self.system_id}: {name} contains NaN or inf: {arr}")
        return arr

    # ------------------------------------------------------------------ task
    @property
    def has_task(self) -> bool:
        """Whether the system defines an observation and a reward."""
        return False

    def observation(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """The task's observation of a physical state (the flat vector an agent sees).

        Systems without a task observe the state itself: ``concat(qpos, qvel)``.
        """
        return np.concatenate([self._check_vector(qpos, self.nq, "qpos"), self._check_vector(qvel, self.nv, "qvel")])

    def reward(self, qpos: np.ndarray, qvel: np.ndarray, action: np.ndarray) -> float:
        """The task's reward of a physical state and the action applied in it."""
        raise NotImplementedError(f"{self.system_id} defines no task reward")

    def reward_and_observation(self, qpos: np.ndarray, qvel: np.ndarray,
                               action: np.ndarray) -> tuple[float, np.ndarray]:
        """What an env step returns: the reward of a state and the action applied in it (as :meth:`reward`), and
        the state's observation (as :meth:`observation`); systems with a task evaluate the state once for both."""
        return self.reward(qpos, qvel, action), self.observation(qpos, qvel)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.system_id!r}, nq={self.nq}, nv={self.nv}, nu={self.nu}, "
            f"dt={self.dt:g}s = {self.substeps} x {self.physics_dt:g}s, integrator={self.integrator})"
        )
