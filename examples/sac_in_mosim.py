"""Reinforcement learning inside the learned simulator: SAC trained in imagination, evaluated in the real task.

    python examples/sac_in_mosim.py --model runs/reacher/best.pt --steps 20000
    python examples/sac_in_mosim.py --tiny          # no checkpoint: a throwaway tiny model, a few hundred steps

``mosim.rl.MosimVecEnv`` steps N imagined environments in one batched model call; it is a Stable-Baselines3
VecEnv, so SAC trains on it unchanged. Observations and rewards are the task's own (dm_control's) functions of
the predicted state; nothing about the task is learned. The agent is then run in the real task: the same
system stepped by MuJoCo, with the same observation, reward, action repeat and episode length.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import SAC

import mosim
from mosim.rl import MosimVecEnv


def tiny_model(folder: Path) -> Path:
    """A throwaway reacher-easy model trained for a few seconds (for trying the script without a checkpoint)."""
    from mosim.presets import get_preset
    from mosim.training.trainer import train

    data = mosim.load_dataset(mosim.collect(mosim.CollectConfig(system="reacher-easy", out=str(folder / "data.h5"),
                                                                episodes=6, steps=60, workers=1), progress=False))
    preset = get_preset("tiny", val_every_steps=15)
    return train(data, preset.model, preset.train_config(max_steps=30, val_windows=8), folder / "run",
                 progress=False).best_path


def real_return(agent, system: mosim.System, frame_skip: int, episode_steps: int, seed: int) -> float:  # noqa: ANN001
    """One episode in the real task: MuJoCo steps the system; observation and reward as in the imagined env."""
    qpos, qvel = system.reset(seed)
    obs = system.observation(qpos, qvel)
    total = 0.0
    for _ in range(episode_steps):
        action, _ = agent.predict(obs.astype(np.float32), deterministic=True)
        action = system.clip_action(np.asarray(action, dtype=np.float64))
        for _ in range(frame_skip):  # the action is held for the task's control step
            qpos, qvel = system.step(action)
        total += system.reward(qpos, qvel, action)
        obs = system.observation(qpos, qvel)
    return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="checkpoint of a dm_control task (e.g. reacher-easy's best.pt)")
    p.add_argument("--steps", type=int, default=20000, help="agent steps in the learned simulator")
    p.add_argument("--n-envs", type=int, default=8, help="imagined environments stepped together")
    p.add_argument("--episodes", type=int, default=5, help="evaluation episodes in the real task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tiny", action="store_true", help="seconds: a few hundred steps, short episodes, and a "
                   "throwaway model if none is given")
    args = p.parse_args()
    torch.set_num_threads(1)
    steps, episode_steps, episodes = (400, 50, 1) if args.tiny else (args.steps, None, args.episodes)

    with tempfile.TemporaryDirectory() as tmp:
        if args.model is None:
            if not args.tiny:
                p.error("pass --model runs/<run>/best.pt (or --tiny to try the script with a throwaway model)")
            print("no --model: training a throwaway tiny reacher-easy model (a few seconds; the agent will be poor)")
            args.model = tiny_model(Path(tmp))

        # N imagined environments, one batched model call per step; episode length and action repeat are the
        # task's own unless given.
        venv = MosimVecEnv(args.model, n_envs=args.n_envs, seed=args.seed, max_episode_steps=episode_steps)
        env0 = venv.envs[0]
        print(f"{venv}: {env0.max_episode_steps} steps per episode, action held for {env0.frame_skip} model steps")
        agent = SAC("MlpPolicy", venv, seed=args.seed, device="cpu", verbose=0,
                    learning_starts=min(1000, steps // 2), batch_size=256 if not args.tiny else 64,
                    policy_kwargs={"net_arch": [256, 256] if not args.tiny else [32, 32]})
        t0 = time.perf_counter()
        agent.learn(total_timesteps=steps)
        print(f"SAC: {steps} steps in the learned simulator in {time.perf_counter() - t0:.1f} s")

    # The real task: the model's system, stepped by MuJoCo.
    system = mosim.make_system(venv.simulator.spec.system_id, substeps=venv.simulator.spec.substeps)
    returns = [real_return(agent, system, env0.frame_skip, env0.max_episode_steps, args.seed + 1000 + i)
               for i in range(episodes)]
    print(f"real task ({system.system_id}): return {np.mean(returns):.1f} ± {np.std(returns):.1f} "
          f"over {episodes} episode(s) of {env0.max_episode_steps} steps")

    class Random:
        rng = np.random.default_rng(args.seed)

        def predict(self, obs, deterministic=True):  # noqa: ANN001, ANN201, ARG002
            return self.rng.uniform(system.action_low, system.action_high), None

    baseline = [real_return(Random(), system, env0.frame_skip, env0.max_episode_steps, args.seed + 1000 + i)
                for i in range(episodes)]
    print(f"random actions for comparison: return {np.mean(baseline):.1f}")


if __name__ == "__main__":
    main()
