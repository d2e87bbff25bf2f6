"""Running one episode of a system under a policy (no files, no processes)."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from mosim.data.policies import Policy
from mosim.systems.base import System
from mosim.systems.dmc import DMCSystem


@dataclass(frozen=True)
class Episode:
    """One trajectory: ``qpos (T+1, nq)``, ``qvel (T+1, nv)``, ``action (T, nu)``."""

    qpos: np.ndarray
    qvel: np.ndarray
    action: np.ndarray


def episode_rngs(seed: int, index: int) -> tuple[int, np.random.Generator]:
    """The reset seed and the policy's generator of episode ``index``; independent of workers and order."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(index),))
    reset_ss, policy_ss = ss.spawn(2)
    return int(reset_ss.generate_state(1)[0]), np.random.default_rng(policy_ss)


def can_roll_out_in_c(system: System, policy: Policy) -> bool:
    """Whether the episode can run in ``mujoco.rollout``: open-loop actions and no Python task hooks."""
    plain = getattr(system, "_plain_hooks", True) if isinstance(system, DMCSystem) else True
    return plain and not policy.needs_obs


def run_episode(system: System, policy: Policy, steps: int, seed: int, index: int, fast: bool = True) -> Episode:
    """Reset ``system`` with episode ``index``'s seed and run ``steps`` model steps of ``policy``.

    With ``fast`` and an open-loop policy, the whole episode is simulated by ``mujoco.rollout`` in C;
    the result is identical to stepping the system in Python.
    """
    reset_seed, policy_rng = episode_rngs(seed, index)
    system.reset(reset_seed)
    policy.reset(policy_rng)
    planned = None if policy.needs_obs else np.clip(policy.plan(steps), system.action_low, system.action_high)
    if fast and planned is not None and can_roll_out_in_c(system, policy):
        return _rollout_in_c(system, planned)
    qpos = np.empty((steps + 1, system.nq))
    qvel = np.empty((steps + 1, system.nv))
    acts = np.empty((steps, system.nu))
    qpos[0], qvel[0] = system.get_state()
    for t in range(steps):
        if planned is not None:
            acts[t] = planned[t]
        else:
            # observation() runs mj_forward on the same state: qpos/qvel (and the warm start) are unchanged
            acts[t] = system.clip_action(policy(system.observation(qpos[t], qvel[t])))
        qpos[t + 1], qvel[t + 1] = system.step(acts[t])
    return Episode(qpos, qvel, acts)


def _rollout_in_c(system: System, actions: np.ndarray) -> Episode:
    m, d, k = system.model, system.data, system.substeps
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state0 = np.empty(mujoco.mj_stateSize(m, spec))
    mujoco.mj_getState(m, d, state0, spec)
    qpos0, qvel0 = d.qpos.copy(), d.qvel.copy()
    ctrl = np.repeat(actions, k, axis=0)
    states, _ = mj_rollout.rollout(m, d, state0, ctrl, initial_warmstart=d.qacc_warmstart.copy())
    states = states[0, k - 1 :: k]
    # full-physics state layout: time, qpos, qvel, act, ...
    qpos = np.concatenate([qpos0[None], states[:, 1 : 1 + m.nq]])
    qvel = np.concatenate([qvel0[None], states[:, 1 + m.nq : 1 + m.nq + m.nv]])
    mujoco.mj_setState(m, d, states[-1], spec)
    return Episode(qpos, qvel, actions)
