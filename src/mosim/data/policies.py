"""Action sources for collecting trajectories.

A policy is anything with ``reset(rng)`` and ``__call__(obs) -> action``; :class:`CallablePolicy`
turns a plain function ``obs -> action`` (e.g. a trained agent's ``predict``) into one. Policies that
ignore the observation set ``needs_obs = False`` and implement :meth:`Policy.plan`, which lets the
collector generate the whole episode's actions up front and roll MuJoCo out in C.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from mosim.errors import InvalidInputError, UnknownNameError
from mosim.registry import lookup


class Policy:
    """Base class. ``low``/``high`` are the system's action bounds, set by the collector."""

    name = "policy"
    needs_obs = True

    def bind(self, low: np.ndarray, high: np.ndarray) -> None:
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)

    def reset(self, rng: np.random.Generator) -> None:
        """Start a new episode with its own random generator."""
        self.rng = rng

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def plan(self, steps: int) -> np.ndarray:
        """All actions of an episode ``(steps, nu)``, for policies that do not look at the state."""
        raise NotImplementedError(f"{self.name} needs observations; it cannot plan an episode ahead")

    def params(self) -> dict[str, Any]:
        """Parameters recorded in the dataset's metadata."""
        return {}


class RandomPolicy(Policy):
    """The paper's random exploration ("-r" data).

    At every step the current action is kept with probability ``1 - 1/hold`` and otherwise replaced
    by a fresh uniform draw in the bounds (so holding times are geometric with mean ``hold``); a fresh
    draw is replaced by the zero action (clipped into the bounds) with probability ``p_zero``.

    :param hold: mean holding time in steps (>= 1; 1 draws a new action every step)
    :param p_zero: probability that a fresh action is the zero action
    """

    name = "random"
    needs_obs = False

    def __init__(self, hold: float = 3.0, p_zero: float = 0.2) -> None:
        if not hold >= 1.0:
            raise InvalidInputError(f"hold must be >= 1 (mean holding time in steps), got {hold}")
        if not 0.0 <= p_zero <= 1.0:
            raise InvalidInputError(f"p_zero must be a probability in [0, 1], got {p_zero}")
        self.hold, self.p_zero = float(hold), float(p_zero)

    def plan(self, steps: int) -> np.ndarray:
        rng, nu = self.rng, len(self.low)
        fresh = rng.uniform(self.low, self.high, size=(steps, nu))
        zero = np.clip(np.zeros(nu), self.low, self.high)
        fresh[rng.random(steps) < self.p_zero] = zero
        redraw = rng.random(steps) < 1.0 / self.hold
        redraw[0] = True
        # index of the most recent redraw at or before each step
        idx = np.maximum.accumulate(np.where(redraw, np.arange(steps), 0))
        return fresh[idx]

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self._queue: np.ndarray | None = None
        self._t = 0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if self._queue is None or self._t >= len(self._queue):
            self._queue, self._t = self.plan(1024), 0
        a = self._queue[self._t]
        self._t += 1
        return a

    def params(self) -> dict[str, Any]:
        return {"hold": self.hold, "p_zero": self.p_zero}


class ZeroPolicy(Policy):
    """The zero action (clipped into the bounds) at every step: passive dynamics."""

    name = "zero"
    needs_obs = False

    def plan(self, steps: int) -> np.ndarray:
        return np.tile(np.clip(np.zeros(len(self.low)), self.low, self.high), (steps, 1))

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return np.clip(np.zeros(len(self.low)), self.low, self.high)


class CallablePolicy(Policy):
    """Any function ``obs -> action`` (numpy in, array-like out), e.g. ``lambda o: agent.predict(o)[0]``.

    :param fn: the function; it sees the task's observation (or ``concat(qpos, qvel)`` without a task)
    :param name: the name recorded in the dataset
    :param noise: std of Gaussian exploration noise added to each action, as a fraction of the bound width
    """

    def __init__(self, fn: Callable[[np.ndarray], Any], name: str | None = None, noise: float = 0.0) -> None:
        if not callable(fn):
            raise InvalidInputError(f"a policy must be callable obs -> action, got {type(fn).__name__}")
        self.fn, self.noise = fn, float(noise)
        self.name = name or getattr(fn, "__qualname__", type(fn).__name__)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        a = np.asarray(self.fn(obs), dtype=np.float64).reshape(-1)
        if a.shape != self.low.shape:
            raise InvalidInputError(f"policy {self.name!r} returned an action of shape {a.shape}, expected {self.low.shape}")
        if self.noise > 0:
            a = a + self.rng.normal(0.0, self.noise * (self.high - self.low))
        return np.clip(a, self.low, self.high)

    def params(self) -> dict[str, Any]:
        return {"noise": self.noise}


POLICIES: dict[str, Callable[..., Policy]] = {"random": RandomPolicy, "zero": ZeroPolicy}


def make_policy(spec: str | Policy | Callable[[np.ndarray], Any], **params: Any) -> Policy:
    """A policy from a registered name (``random``, ``zero``), ``module:attribute``, or a callable.

    ``module:attribute`` names a :class:`Policy` subclass, a factory returning a policy or callable,
    or a plain ``obs -> action`` function; ``params`` go to the constructor or factory.
    """
    if isinstance(spec, Policy):
        return spec
    if callable(spec):
        return CallablePolicy(spec, **params)
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise UnknownNameError(f"cannot import policy {spec!r}: {e}") from None
        if isinstance(obj, type) and issubclass(obj, Policy):
            return obj(**params)
        if params:
            obj = obj(**params)
        return obj if isinstance(obj, Policy) else CallablePolicy(obj, name=spec)
    factory = lookup(POLICIES, spec, "policy", extra_choices=["module:attribute"])
    try:
        return factory(**params)
    except TypeError as e:
        raise InvalidInputError(f"bad parameters for policy {spec!r}: {e}") from None


def policy_metadata(policy: Policy) -> str:
    return json.dumps({"name": policy.name, "params": policy.params()}, sort_keys=True)
