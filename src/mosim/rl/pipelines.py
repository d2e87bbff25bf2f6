"""RL pipelines with a learned model: zero-shot, few-shot and Dyna (``mosim rl ...``).

- :func:`zero_shot`: the agent learns only inside the model (imagined episodes from the task's initial states);
  every ``eval.every`` imagined steps it is evaluated in the real task.
- :func:`few_shot`: as zero-shot, and every ``collect_every`` imagined steps the current agent acts
  ``collect_steps`` steps in the real task; the model is fine-tuned on all real steps so far and imagined
  episodes start from real visited states (a fraction ``real_starts`` of them).
- :func:`~mosim.rl.dyna.dyna`: a model-free learner in the real task whose replay buffer also gets short model
  rollouts from real states (MBPO style).
- :func:`model_free`: the reference, the same learner in the real task only.

Each writes ``curve.csv`` (see :data:`mosim.rl.callbacks.CURVE_FIELDS`), ``agent.zip`` and ``result.json``
(zero-/few-shot with ``select``: also ``agent_selected.zip``, the agent with the best return inside the model)
into its run directory (see :mod:`mosim.rl.runs`); the same configuration and seed give the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from mosim.loading import load
from mosim.rl.agents import make_agent, save_agent
from mosim.rl.callbacks import CurveLog, RealEvalCallback
from mosim.rl.common import check_reset_states
from mosim.rl.configs import (AgentConfig, DynaConfig, EvalConfig, FewShotConfig, ModelFreeConfig, OODConfig,
                              ZeroShotConfig)
from mosim.rl.dyna import dyna
from mosim.rl.evaluation import ModelEvaluator
from mosim.rl.finetune import FinetuneConfig, finetune, save_simulator
from mosim.rl.real_env import RealEnv
from mosim.rl.runs import RLResult, finish_run, imagined_env, make_ood, set_threads, start_run
from mosim.systems import make_system


def _setup(config: ZeroShotConfig, progress: bool) -> tuple[Any, Any, Any, RealEnv]:
    """The model, the imagined training env, the agent and the real evaluation env (of ``config.task``)."""
    set_threads(config.threads)
    sim = load(config.model, device=config.device)
    ood = make_ood(config.ood, sim, config.model, progress=progress)
    venv = imagined_env(sim, config.n_envs, config.seed, config.horizon, ood, task=config.task)
    agent = make_agent(config.agent.algo, venv, config.seed, config.device, **config.agent.kwargs)
    frame_skip = venv.get_attr("frame_skip", [0])[0]
    real = RealEnv(task_spec(sim.spec, config.task), frame_skip=frame_skip,
                   max_episode_steps=config.eval.episode_steps)
    return sim, venv, agent, real


def _selection(config: ZeroShotConfig, sim: Any, venv: Any, agent: Any, out: Path) -> dict[str, Any]:
    """The evaluation callback's arguments for ``config.select``: at every evaluation ``select_episodes``
    episodes inside the model (other reset seeds than the evaluation's; the training reward, penalty included),
    the agent with the best imagined return saved."""
    if not config.select:
        return {}
    evaluator = ModelEvaluator(sim, config.task, config.select_episodes, config.select_seed,
                               max_episode_steps=config.eval.episode_steps,
                               frame_skip=venv.get_attr("frame_skip", [0])[0],
                               ood_penalty=venv.get_attr("ood_penalty", [0])[0])
    return {"in_model": evaluator, "on_select": lambda: save_agent(agent, out / "agent_selected.zip")}


def task_spec(spec: Any, task: str | None) -> Any:
    """The model's spec under the id of the task it is used for."""
    return spec if task is None else replace(spec, system_id=task)


def zero_shot(config: ZeroShotConfig, progress: bool = False, restart: bool = False) -> RLResult:
    """Train ``config.agent`` for ``config.steps`` imagined steps inside ``config.model`` only."""
    out, cached = start_run(config, restart)
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    sim, venv, agent, real = _setup(config, progress)
    cb = RealEvalCallback(real, config.eval, CurveLog(out / "curve.csv"),
                          on_eval=lambda: save_agent(agent, out / "agent.zip"), progress=progress,
                          **_selection(config, sim, venv, agent, out))
    agent.learn(config.steps, callback=cb)
    cb.finish()
    return finish_run(out, "zero-shot", cb, agent, time.perf_counter() - t0)


class RealCollector:
    """The current agent acting in the real task (stochastic actions), episodes continuing across calls."""

    def __init__(self, env: RealEnv, seed: int) -> None:
        self.env, self.seed, self.obs, self.steps = env, seed, None, 0
        self.episodes = 0

    def collect(self, agent: Any, steps: int) -> None:
        for _ in range(steps):
            if self.obs is None:
                self.obs, _ = self.env.reset(seed=self.seed + self.episodes)
                self.episodes += 1
            action, _ = agent.predict(self.obs, deterministic=False)
            obs, _, terminated, truncated, _ = self.env.step(action)
            self.obs = None if terminated or truncated else obs
            self.steps += 1


class StartPool:
    """Start states of imagined episodes: the real visited states, mixed with the task's initial states so that a
    fraction ``real_starts`` of the episodes start from a real state."""

    def __init__(self, system_id: str, substeps: int, real_starts: float, seed: int) -> None:
        self.system = make_system(system_id, substeps=substeps)
        self.real_starts, self.seed = real_starts, seed
        self.initial: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])

    def states(self, real_q: np.ndarray, real_v: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        if self.real_starts <= 0:
            return None
        n_init = int(round(len(real_q) * (1 - self.real_starts) / self.real_starts))
        while len(self.initial[0]) < n_init:  # grown incrementally: resets can be slow (cheetah settles 200 steps)
            q, v = self.system.reset(int(np.random.SeedSequence([self.seed, len(self.initial[0])]).generate_state(1)[0]))
            self.initial[0].append(q)
            self.initial[1].append(v)
        if n_init == 0:
            return real_q, real_v
        return (np.concatenate([real_q, np.asarray(self.initial[0][:n_init])]),
                np.concatenate([real_v, np.asarray(self.initial[1][:n_init])]))


def few_shot(config: FewShotConfig, progress: bool = False, restart: bool = False) -> RLResult:
    """Zero-shot with a few real steps: collect, fine-tune the model, start imagined episodes from real states."""
    out, cached = start_run(config, restart)
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    sim, venv, agent, real = _setup(config, progress)
    collector = RealCollector(RealEnv(real.spec, frame_skip=real.frame_skip, log=True), seed=config.seed + 7919)
    pool = StartPool(real.spec.system_id, sim.spec.substeps, config.real_starts, config.seed)
    counts = {"model_updates": 0}

    def counters() -> dict[str, int]:
        return {"real_steps": collector.steps, "model_updates": counts["model_updates"]}

    cb = RealEvalCallback(real, config.eval, CurveLog(out / "curve.csv"), counters=counters,
                          on_eval=lambda: save_agent(agent, out / "agent.zip"), progress=progress,
                          **_selection(config, sim, venv, agent, out))
    first = True
    while agent.num_timesteps < config.steps:
        n = min(config.collect_every - agent.num_timesteps % config.collect_every, config.steps - agent.num_timesteps)
        agent.learn(n, callback=cb, reset_num_timesteps=first)
        first = False
        if agent.num_timesteps >= config.steps:
            break
        collector.collect(agent, config.collect_steps)
        log = collector.env.log
        if config.finetune.steps and log.n_steps >= config.finetune.chunk:
            res = finetune(sim, log.dataset(sim.spec, config.finetune.chunk), config.finetune,
                           seed=config.seed * 100_003 + counts["model_updates"])
            counts["model_updates"] += 1
            save_simulator(sim, out / "model.pt", finetune={"updates": counts["model_updates"],
                                                            "real_steps": collector.steps})
            if progress:
                print(f"model update {counts['model_updates']} on {collector.steps} real steps: "
                      f"loss {res.loss_first:.4g} -> {res.loss_last:.4g}", flush=True)
        q, v, _ = log.states()
        starts = pool.states(q, v)
        if starts is not None:
            venv.set_attr("reset_states", check_reset_states(starts, sim.spec))
    cb.finish()
    return finish_run(out, "few-shot", cb, agent, time.perf_counter() - t0, collector.steps, counts["model_updates"])


def model_free(config: ModelFreeConfig, progress: bool = False, restart: bool = False) -> RLResult:
    """Train ``config.agent`` for ``config.steps`` steps in the real task, evaluated as the other pipelines are."""
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    out, cached = start_run(config, restart)
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    set_threads(config.threads)
    env = RealEnv(config.system)
    agent = make_agent(config.agent.algo, VecMonitor(DummyVecEnv([lambda: env])), config.seed, config.device,
                       **config.agent.kwargs)
    real = RealEnv(env.spec, frame_skip=env.frame_skip, max_episode_steps=config.eval.episode_steps)
    cb = RealEvalCallback(real, config.eval, CurveLog(out / "curve.csv"),
                          counters=lambda: {"real_steps": agent.num_timesteps},
                          on_eval=lambda: save_agent(agent, out / "agent.zip"), progress=progress)
    agent.learn(config.steps, callback=cb)
    cb.finish()
    return finish_run(out, "model-free", cb, agent, time.perf_counter() - t0, agent.num_timesteps)


def run_pipeline(config: ZeroShotConfig | FewShotConfig | DynaConfig | ModelFreeConfig, progress: bool = False,
                 restart: bool = False) -> RLResult:
    """The pipeline of a configuration's type."""
    if isinstance(config, ModelFreeConfig):
        return model_free(config, progress, restart)
    if isinstance(config, FewShotConfig):
        return few_shot(config, progress, restart)
    if isinstance(config, ZeroShotConfig):
        return zero_shot(config, progress, restart)
    return dyna(config, progress, restart)


__all__ = ["AgentConfig", "DynaConfig", "EvalConfig", "FewShotConfig", "FinetuneConfig", "ModelFreeConfig", "OODConfig",
           "RLResult", "ZeroShotConfig", "dyna", "few_shot", "model_free", "run_pipeline", "zero_shot"]
