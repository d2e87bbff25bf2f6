"""``mosim.load_ensemble``: several trained simulators of one system, predicting as one.

Members trained alike but from different seeds make errors that are only partly correlated, so the
average of their predictions is closer to the truth than a typical member: on cheetah-run four members
of 15 minutes each, their 100-step rollouts averaged, score well below any one of them
(results/accuracy.md, group "ensemble"). Two ways to combine:

- ``trajectories`` (the default for :meth:`EnsembleSimulator.rollout`): every member rolls out on its
  own predictions, and the rollouts are averaged step by step afterwards. This is PETS's ``TSinf``
  propagation with deterministic members, averaged over the particles.
- ``steps``: the members' next states are averaged at every step and the average is fed back to all of
  them (what calling :meth:`EnsembleSimulator.step` in a loop does, e.g. in a Gymnasium environment).

The average of ``trajectories`` is the better point prediction under the open-loop metric, but it is an
average of diverging rollouts, not itself a trajectory of the dynamics: where consistent physics matters
more than the squared error, use ``steps`` or a single member. The members' spread
(:meth:`EnsembleSimulator.rollout_members`) says where they disagree.

Averaging ``qpos``: plain coordinates are averaged as numbers (hinge angles are not wrapped by MuJoCo,
so nearby predictions stay nearby); each free or ball joint's quaternion is averaged after aligning its
sign with the first member's and then normalized (:func:`mean_qpos`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mosim.errors import InvalidInputError
from mosim.loading import Simulator, load
from mosim.systems.base import SystemSpec
from mosim.systems.layout import JointLayout

COMBINE = ("trajectories", "steps")


def mean_qpos(qpos: Tensor, layout: JointLayout) -> Tensor:
    """The average of the members' positions ``qpos (K, ..., nq)`` -> ``(..., nq)``: entries averaged,
    quaternions aligned in sign with member 0's, averaged and normalized (unit, like MuJoCo's)."""
    out = qpos.mean(0)
    for sl in layout.quaternion_slices():
        quats = qpos[..., sl]
        sign = torch.where((quats * quats[:1]).sum(-1, keepdim=True) < 0, -1.0, 1.0).to(quats.dtype)
        avg = (quats * sign).mean(0)
        out[..., sl] = avg / avg.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return out


class EnsembleSimulator:
    """Several :class:`~mosim.loading.Simulator` of one system behind the simulator interface: batched
    :meth:`step` and :meth:`rollout` on raw MuJoCo states, numpy or torch in and out (see the module
    docstring for how predictions are combined)."""

    def __init__(self, members: Sequence[Simulator], combine: str = "trajectories") -> None:
        members = list(members)
        if not members:
            raise InvalidInputError("an ensemble needs at least one member simulator")
        if combine not in COMBINE:
            raise InvalidInputError(f"combine must be one of {list(COMBINE)}, got {combine!r}")
        spec = members[0].spec
        for i, m in enumerate(members[1:], start=1):
            problems = ([f"system {m.spec.system_id!r} vs {spec.system_id!r}"] if m.spec.system_id != spec.system_id
                        else []) + m.spec.mismatches(spec)
            if problems:
                raise InvalidInputError(f"ensemble member {i} does not fit member 0 ({'; '.join(problems)}): every "
                                        "member must be trained on the same system and step")
        if any(m.needs_warmup for m in members):
            raise InvalidInputError("ensemble members must be Markov models (the RSSM needs a warm-up and its own "
                                    "ensemble of latents); load mosim or plain-network checkpoints")
        self.members = members
        self.spec: SystemSpec = spec
        self.combine = combine
        self.needs_warmup = False

    def __len__(self) -> int:
        return len(self.members)

    @property
    def dt(self) -> float:
        return self.spec.dt

    @property
    def device(self) -> torch.device:
        return self.members[0].device

    def to(self, device: str | torch.device) -> EnsembleSimulator:
        for m in self.members:
            m.to(device)
        return self

    def compile(self, **options: Any) -> EnsembleSimulator:
        """Compile every member's step (:meth:`Simulator.compile`). Returns self."""
        for m in self.members:
            m.compile(**options)
        return self

    def set_hidden_dtype(self, name: str) -> EnsembleSimulator:
        """Every member's hidden precision (:meth:`Simulator.set_hidden_dtype`). Returns self."""
        for m in self.members:
            m.set_hidden_dtype(name)
        return self

    def step(self, qpos: Any, qvel: Any, action: Any) -> tuple[Any, Any]:
        """One step of ``dt`` seconds: the average of the members' next states."""
        return self._mean(*_stack([m.step(qpos, qvel, action) for m in self.members]))

    def rollout(self, qpos0: Any, qvel0: Any, actions: Any, warmup: tuple[Any, Any, Any] | None = None,
                combine: str | None = None) -> tuple[Any, Any]:
        """Open-loop prediction ``actions (..., T, nu)`` -> ``qpos (..., T+1, nq)``, ``qvel (..., T+1, nv)``, the
        members combined as ``combine`` (default: the ensemble's, ``trajectories``); ``warmup`` is ignored."""
        combine = combine or self.combine
        if combine not in COMBINE:
            raise InvalidInputError(f"combine must be one of {list(COMBINE)}, got {combine!r}")
        if combine == "trajectories":
            return self._mean(*self.rollout_members(qpos0, qvel0, actions))
        return self._rollout_steps(qpos0, qvel0, actions)

    def rollout_members(self, qpos0: Any, qvel0: Any, actions: Any) -> tuple[Any, Any]:
        """Every member's own rollout, stacked: ``qpos (K, ..., T+1, nq)``, ``qvel (K, ..., T+1, nv)``; their
        spread is the ensemble's uncertainty."""
        return _stack([m.rollout(qpos0, qvel0, actions) for m in self.members])

    def _rollout_steps(self, qpos0: Any, qvel0: Any, actions: Any) -> tuple[Any, Any]:
        numpy_in = not any(isinstance(x, Tensor) for x in (qpos0, qvel0, actions))
        a = np.asarray(actions, dtype=np.float64) if numpy_in else actions
        if a.ndim < 2 or a.shape[-1] != self.spec.nu:
            raise InvalidInputError(f"actions must have shape (..., T, nu={self.spec.nu}), got {tuple(a.shape)}")
        q, v = qpos0, qvel0
        qs, vs = [q], [v]
        for t in range(a.shape[-2]):
            q, v = self.step(q, v, a[..., t, :])
            qs.append(q)
            vs.append(v)
        qs[0], vs[0] = self._like(qs[0], qs[1]), self._like(vs[0], vs[1])
        if numpy_in:
            return np.stack(qs, axis=-2), np.stack(vs, axis=-2)
        return torch.stack(qs, dim=-2), torch.stack(vs, dim=-2)

    @staticmethod
    def _like(x: Any, ref: Any) -> Any:
        if isinstance(ref, np.ndarray):
            return np.broadcast_to(np.asarray(x, dtype=np.float64), ref.shape).copy()
        return torch.as_tensor(x, dtype=ref.dtype, device=ref.device).expand_as(ref)

    def _mean(self, qs: Any, vs: Any) -> tuple[Any, Any]:
        """The members' average of stacked ``qs (K, ..., nq)``, ``vs (K, ..., nv)``, numpy or torch as given."""
        if isinstance(qs, np.ndarray):
            return mean_qpos(torch.from_numpy(qs), self.spec.layout).numpy(), vs.mean(0)
        return mean_qpos(qs, self.spec.layout), vs.mean(0)

    def __repr__(self) -> str:
        return f"EnsembleSimulator({self.spec.system_id!r}, {len(self)} members, combine={self.combine!r})"


def _stack(outs: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """The members' ``(qpos, qvel)`` outputs stacked along a new first axis (numpy or torch, as they came)."""
    stack = np.stack if isinstance(outs[0][0], np.ndarray) else torch.stack
    return stack([o[0] for o in outs]), stack([o[1] for o in outs])


def member_checkpoints(folder: str | os.PathLike[str]) -> list[Path]:
    """The members' ``best.pt`` of a ``mosim train --members K`` run folder, in the members' order."""
    root = Path(folder)
    if not root.is_dir():
        raise InvalidInputError(f"{root}: load_ensemble takes a list of checkpoints or the folder of a `mosim train "
                                "--members K` run; for one checkpoint, use mosim.load")
    found = sorted(root.glob("member-*/best.pt"), key=lambda p: (len(p.parent.name), p.parent.name))
    if not found:
        raise InvalidInputError(f"{root}: no member-*/best.pt in this folder; train an ensemble into it with "
                                f"`mosim train --data F --members K --out {root}`")
    return found


def load_ensemble(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], device: str = "auto", system: str | SystemSpec | None = None,
                  combine: str = "trajectories", compile: bool = False,
                  hidden_dtype: str = "float32") -> EnsembleSimulator:
    """Load several checkpoints (or pretrained names) of one system as an :class:`EnsembleSimulator`; the other
    arguments as :func:`mosim.loading.load`, applied to every member. ``paths`` may also be the folder of a
    ``mosim train --members K`` run (its ``member-*/best.pt``).

    :raises CheckpointError: a file is missing, corrupt or of another system than ``system``
    :raises InvalidInputError: the members are not all of one system and step
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = member_checkpoints(paths)
    members = [load(p, device=device, system=system, compile=compile, hidden_dtype=hidden_dtype) for p in paths]
    return EnsembleSimulator(members, combine=combine)
