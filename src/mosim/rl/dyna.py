"""Dyna: a model-free learner in the real task, accelerated by short model rollouts (MBPO style).

The agent steps the real task and learns from its replay buffer as usual. From ``model_start`` real steps on,
every ``model_every`` real steps the model is updated on all real steps so far (a given model is fine-tuned;
without one, a fresh model of the system's preset is fitted first), then ``rollouts`` start states are drawn
from the real visited states and rolled out ``rollout_horizon`` env steps in the model with the current agent
(stochastic actions); those imagined transitions go into the same replay buffer. Each rollout starts with its
real episode's task randomization (e.g. reacher's target), so its observations and rewards are the task's own.
Diverged imagined steps are dropped.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

from mosim.errors import InvalidInputError
from mosim.loading import Simulator, load
from mosim.rl.agents import make_agent, save_agent
from mosim.rl.callbacks import CurveLog, RealEvalCallback
from mosim.rl.configs import DynaConfig
from mosim.rl.finetune import finetune, save_simulator
from mosim.rl.real_env import RealEnv
from mosim.rl.runs import RLResult, finish_run, make_ood, set_threads, start_run
from mosim.systems import make_system
from mosim.data.dataset import Dataset

FRESH_LR = 1e-3
"""learning rate of a fresh model's first fit"""


def fresh_simulator(data: Dataset, preset: str | None, seed: int) -> Simulator:
    """An untrained model of ``preset`` (default: the system's) with normalization statistics from ``data``."""
    from mosim.models import build_model
    from mosim.models.normalization import model_inputs
    from mosim.presets import get_preset

    config = get_preset(preset or data.spec.system_id).model
    spec, stats = model_inputs(data, config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(spec, config, stats)
    return Simulator(model, {"spec": spec.to_json(), "model_config": config.to_json(), "stage_name": "dyna"})


class Imaginer:
    """``n`` imagined envs that roll out the agent from given real states into its replay buffer."""

    def __init__(self, sim: Simulator, n: int, horizon: int, ood: Any, seed: int) -> None:
        from mosim.rl.vec_env import MosimVecEnv

        self.venv = MosimVecEnv(sim, n, seed=seed, max_episode_steps=horizon + 1, ood_penalty=ood)
        self.horizon, self.rng = horizon, np.random.default_rng(seed)

    def start(self, qpos: np.ndarray, qvel: np.ndarray, task_seeds: np.ndarray) -> np.ndarray:
        """Put env ``i`` in state ``i`` with its real episode's task randomization; returns the observations."""
        venv = self.venv
        obs = np.empty((venv.num_envs, *venv.observation_space.shape), dtype=np.float32)
        for i, env in enumerate(venv.envs):
            env.reset(options={"qpos": qpos[i], "qvel": qvel[i]})
            env.system.reset(int(task_seeds[i]))  # e.g. reacher's target of that episode
            obs[i] = env.set_state(qpos[i], qvel[i])
        return obs

    def rollout(self, agent: Any, qpos: np.ndarray, qvel: np.ndarray, task_seeds: np.ndarray) -> int:
        """Roll out from ``n`` states drawn from ``(qpos, qvel)``; returns the transitions added."""
        venv, n = self.venv, self.venv.num_envs
        idx = self.rng.integers(len(qpos), size=n)
        obs = self.start(qpos[idx], qvel[idx], task_seeds[idx])
        alive = np.ones(n, dtype=bool)
        added = 0
        buffer, policy = agent.replay_buffer, agent.policy
        for _ in range(self.horizon):
            actions, _ = agent.predict(obs, deterministic=False)
            venv.step_async(actions)
            next_obs, rewards, dones, infos = venv.step_wait()
            for i in np.flatnonzero(alive):
                info = infos[i]
                if info.get("diverged"):
                    alive[i] = False
                    continue
                nxt = info["terminal_observation"] if dones[i] else next_obs[i]
                terminal = bool(dones[i]) and not info.get("TimeLimit.truncated", False)
                buffer.add(obs[i][None], np.asarray(nxt)[None], policy.scale_action(actions[i][None]),
                           np.array([rewards[i]]), np.array([terminal]), [{}])
                added += 1
                alive[i] &= not dones[i]
            obs = next_obs
            if not alive.any():
                break
        return added


class DynaCallback(BaseCallback):
    """Model updates and rollouts every ``model_every`` real steps (from ``model_start``)."""

    def __init__(self, config: DynaConfig, real: RealEnv, sim: Simulator | None, ood: Any,
                 progress: bool = False) -> None:
        super().__init__(verbose=0)
        self.config, self.real, self.sim, self.ood, self.progress = config, real, sim, ood, progress
        self.next_update = config.model_start if config.model_start > 0 else config.model_every
        self.updates, self.imagined = 0, 0
        self.imaginer: Imaginer | None = None

    def _on_step(self) -> bool:
        if self.num_timesteps < self.next_update:
            return True
        while self.next_update <= self.num_timesteps:
            self.next_update += self.config.model_every
        self.update_model()
        if self.sim is not None and self.real.log.n_steps > 0:
            if self.imaginer is None:
                c = self.config
                self.imaginer = Imaginer(self.sim, c.rollouts, c.rollout_horizon, self.ood, c.seed + 104_729)
            self.imagined += self.imaginer.rollout(self.model, *self.real.log.states())
        return True

    def update_model(self) -> None:
        c, log = self.config, self.real.log
        if c.finetune.steps == 0 and self.sim is not None:
            return
        if log.n_steps < c.finetune.chunk:
            return
        data = log.dataset(self.real.spec, c.finetune.chunk)
        tune = c.finetune
        if self.sim is None:
            self.sim = fresh_simulator(data, c.preset, c.seed)
            from dataclasses import replace

            tune = replace(tune, steps=c.fit_steps, lr=FRESH_LR)
        if tune.steps == 0:
            return
        res = finetune(self.sim, data, tune, seed=c.seed * 100_003 + self.updates)
        self.updates += 1
        if self.progress and (self.updates == 1 or self.updates % 10 == 0):
            print(f"model update {self.updates} on {log.n_steps} real model steps: "
                  f"loss {res.loss_first:.4g} -> {res.loss_last:.4g}", flush=True)


def dyna(config: DynaConfig, progress: bool = False, restart: bool = False) -> RLResult:
    """Train ``config.agent`` for ``config.steps`` real steps, with model rollouts in its replay buffer."""
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    out, cached = start_run(config, restart)
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    set_threads(config.threads)
    sim = load(config.model, device=config.device) if config.model else None
    if sim is not None and config.system is not None and config.system != sim.spec.system_id:
        raise InvalidInputError(f"the model is of {sim.spec.system_id!r}, not {config.system!r}")
    if sim is None and config.ood.enabled:
        raise InvalidInputError("the OOD penalty needs a trained model (--model) and its training data (--data)")
    spec = sim.spec if sim is not None else make_system(str(config.system)).spec()
    ood = make_ood(config.ood, sim, config.model, progress=progress) if sim is not None else None
    real = RealEnv(spec, log=True)
    venv = VecMonitor(DummyVecEnv([lambda: real]))
    agent = make_agent(config.agent.algo, venv, config.seed, config.device, **config.agent.kwargs)
    dyna_cb = DynaCallback(config, real, sim, ood, progress)

    def counters() -> dict[str, int]:
        return {"real_steps": agent.num_timesteps, "model_updates": dyna_cb.updates,
                "imagined_steps": dyna_cb.imagined}

    eval_env = RealEnv(spec, frame_skip=real.frame_skip, max_episode_steps=config.eval.episode_steps)
    eval_cb = RealEvalCallback(eval_env, config.eval, CurveLog(out / "curve.csv"), counters=counters,
                               on_eval=lambda: save_agent(agent, out / "agent.zip"), progress=progress)
    agent.learn(config.steps, callback=CallbackList([dyna_cb, eval_cb]))
    eval_cb.finish()
    if dyna_cb.sim is not None and dyna_cb.updates:
        save_simulator(dyna_cb.sim, out / "model.pt", dyna={"updates": dyna_cb.updates, "real_steps": real.log.n_steps})
    return finish_run(out, "dyna", eval_cb, agent, time.perf_counter() - t0, agent.num_timesteps, dyna_cb.updates)
