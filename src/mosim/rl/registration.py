"""Gymnasium ids for imagined environments: ``mosim/<system-id>-v0`` and ``mosim/Model-v0``.

::

    import gymnasium, mosim.rl
    env = gymnasium.make("mosim/reacher-easy-v0", model="runs/reacher/best.pt")
    env = gymnasium.make("mosim/Model-v0", model="runs/reacher/best.pt")   # the model's own system

Registration stores entry-point strings only; the model is loaded when an env is made.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from mosim.errors import InvalidInputError
from mosim.rl.common import ModelLike, as_simulator

GENERIC_ID = "mosim/Model-v0"
ENTRY_POINT = "mosim.rl.registration:make_env"


def env_id(system_id: str) -> str:
    """The Gymnasium id of a system's imagined environment."""
    return f"mosim/{system_id}-v0"


def make_env(model: ModelLike | None = None, system_id: str | None = None, device: str = "cpu", **kwargs: Any) -> Any:
    """Entry point of the registered ids: a :class:`~mosim.rl.env.MosimEnv` of ``model``.

    ``system_id`` (set by the id ``mosim/<system-id>-v0``) must be the model's system.
    """
    from mosim.rl.env import MosimEnv

    if model is None:
        name = env_id(system_id) if system_id else GENERIC_ID
        raise InvalidInputError(f"{name} needs a trained model: gymnasium.make({name!r}, model='path/to/best.pt')")
    sim = as_simulator(model, device)
    if system_id is not None and sim.spec.system_id != system_id:
        raise InvalidInputError(
            f"{env_id(system_id)} needs a model of {system_id!r}, but the model is of {sim.spec.system_id!r}: "
            f"use {env_id(sim.spec.system_id)!r} or {GENERIC_ID!r}, or a model trained on {system_id!r}"
        )
    return MosimEnv(sim, **kwargs)


def register_envs(system_ids: list[str] | None = None) -> list[str]:
    """Register ``mosim/<system-id>-v0`` for every built-in system (or those given) and ``mosim/Model-v0``.

    Idempotent; returns the registered ids. The time limit is the env's own (``truncated``), so no
    ``TimeLimit`` wrapper is added.
    """
    if system_ids is None:
        from mosim.systems import list_systems

        system_ids = list_systems()
    ids = []
    for sid, kwargs in [(None, {})] + [(s, {"system_id": s}) for s in system_ids]:
        name = GENERIC_ID if sid is None else env_id(sid)
        if name not in gym.registry:
            gym.register(id=name, entry_point=ENTRY_POINT, kwargs=kwargs)
        ids.append(name)
    return ids
