"""Reinforcement learning with a learned model: zero-shot (the agent learns only inside the model), few-shot
(plus a few real steps that update the model), dyna (a model-free learner in the real task with model rollouts
in its replay buffer), model-free (the reference: the same learner in the real task only), collect (a policy dataset with a trained agent), density (the OOD penalty's density).
Each run writes OUT/config.json, OUT/curve.csv (the real-task return every --eval-every agent steps: mean,
std, min, max over --eval-episodes episodes), OUT/agent.zip and OUT/result.json (few-shot and dyna also
OUT/model.pt); a finished run is not repeated. --ood adds sigmoid((log p - c) / s) - 1 to imagined rewards,
p a density of the model's training data (--data; cached as density.pt next to the model). Example: mosim rl
zero-shot --model runs/reacher/best.pt --algo sac --steps 100000 --eval-every 5000 --out runs/rl/reacher-zs
"""

from __future__ import annotations

import argparse
import json

HELP = "RL inside a learned model: zero-shot, few-shot, dyna; collect with an agent"


def _json_dict(text: str) -> dict:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"--algo-kwargs wants a JSON object, got {text!r} ({e})") from None
    if not isinstance(d, dict):
        raise argparse.ArgumentTypeError(f"--algo-kwargs wants a JSON object, got {text!r}")
    return d


def _common(p: argparse.ArgumentParser, steps: int, every: int) -> None:
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--algo", default="sac", help="sac, td3, tqc, ddpg or crossq")
    p.add_argument("--algo-kwargs", type=_json_dict, default={}, metavar="JSON",
                   help='agent options, e.g. \'{"buffer_size": 100000, "learning_starts": 1000}\'')
    p.add_argument("--steps", type=int, default=steps, help="agent env steps")
    p.add_argument("--eval-every", type=int, default=every, help="evaluate in the real task every N agent steps")
    p.add_argument("--eval-episodes", type=int, default=10, help="episodes per evaluation")
    p.add_argument("--eval-steps", type=int, default=None, help="steps per evaluation episode (default: the task's)")
    p.add_argument("--eval-seed", type=int, default=1_000_000, help="reset seed of the first evaluation episode")
    p.add_argument("--ood", action="store_true", help="add the out-of-distribution penalty to imagined rewards")
    p.add_argument("--data", default=None, help="--ood: the model's training dataset (to fit the density)")
    p.add_argument("--density", default=None, help="--ood: density file (default: density.pt next to the model)")
    p.add_argument("--ood-c", type=float, default=None, help="--ood: c (default: from the data)")
    p.add_argument("--ood-s", type=float, default=None, help="--ood: s (default: from the data)")
    p.add_argument("--ood-weight", type=float, default=1.0, help="--ood: scale of the penalty")
    p.add_argument("--density-steps", type=int, default=2000, help="--ood: gradient steps of the density fit")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda (agent and model)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--restart", action="store_true", help="discard a finished run in --out and train again")
    p.add_argument("--quiet", action="store_true", help="print only the result")


def _finetune_args(p: argparse.ArgumentParser, steps: int) -> None:
    p.add_argument("--finetune-steps", type=int, default=steps, help="gradient steps per model update")
    p.add_argument("--finetune-lr", type=float, default=1e-4, help="learning rate of the model updates")
    p.add_argument("--finetune-batch", type=int, default=256, help="windows per gradient step")
    p.add_argument("--finetune-horizon", type=int, default=1, help="transitions per window (1: one-step loss)")
    p.add_argument("--chunk", type=int, default=50, help="real trajectories are cut into episodes of N model steps")


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="rl_command", required=True, metavar="PIPELINE")
    fmt = argparse.ArgumentDefaultsHelpFormatter
    for name, doc in (("zero-shot", "train the agent only inside the model"),
                      ("few-shot", "zero-shot plus a few real steps that update the model")):
        s = sub.add_parser(name, help=doc, description=doc, formatter_class=fmt)
        s.add_argument("--model", required=True, help="the model's checkpoint (best.pt)")
        s.add_argument("--task", default=None,
                       help="another task of the model's robot to learn (default: the model's; e.g. reacher-hard)")
        _common(s, 100_000, 5000)
        s.add_argument("--n-envs", type=int, default=1, help="imagined envs stepped in one batch")
        s.add_argument("--horizon", type=int, default=None, help="imagined episode length (default: the task's)")
        s.add_argument("--select", action="store_true",
                       help="at each evaluation also run episodes inside the model and keep the agent with the best "
                            "imagined return as OUT/agent_selected.zip (chosen without real data)")
        s.add_argument("--select-episodes", type=int, default=20, help="imagined episodes per selection")
        s.add_argument("--select-seed", type=int, default=2_000_000,
                       help="reset seed of the first selection episode (the selection episodes must not be the "
                            "evaluation's)")
        if name == "few-shot":
            s.add_argument("--collect-every", type=int, default=5000, help="imagined steps between real collections")
            s.add_argument("--collect-steps", type=int, default=1000, help="real steps per collection")
            s.add_argument("--real-starts", type=float, default=0.5,
                           help="fraction of imagined episodes starting from real visited states")
            _finetune_args(s, 200)
    s = sub.add_parser("dyna", help="model-free learner in the real task plus model rollouts (MBPO style)",
                       description="real steps plus short model rollouts from real states into the replay buffer",
                       formatter_class=fmt)
    s.add_argument("--system", default=None, help="the task (default: the model's)")
    s.add_argument("--model", default=None, help="a trained model to start from (default: fit a fresh one)")
    _common(s, 50_000, 5000)
    s.add_argument("--model-start", type=int, default=1000, help="real steps before the first model update")
    s.add_argument("--model-every", type=int, default=250, help="real steps between model updates and rollouts")
    s.add_argument("--rollouts", type=int, default=100, help="model rollouts per update")
    s.add_argument("--rollout-horizon", type=int, default=5, help="env steps per rollout")
    s.add_argument("--fit-steps", type=int, default=1000, help="first fit of a fresh model, gradient steps")
    s.add_argument("--preset", default=None, help="model recipe of a fresh model (default: the system's)")
    _finetune_args(s, 100)
    s = sub.add_parser("model-free", help="the reference: the same learner in the real task only",
                       description="train the agent in the real task, evaluated as the other pipelines",
                       formatter_class=fmt)
    s.add_argument("--system", required=True, help="the task")
    _common(s, 100_000, 5000)
    s = sub.add_parser("collect", help="collect a policy ('-e') dataset with a trained agent", formatter_class=fmt)
    s.add_argument("--agent", required=True, help="the agent's .zip")
    s.add_argument("--algo", default=None, help="its algorithm (default: read from the file)")
    s.add_argument("--system", required=True, help="system id")
    s.add_argument("--out", required=True, help="output .h5 file")
    s.add_argument("--episodes", type=int, default=100)
    s.add_argument("--steps", type=int, default=1000, help="model steps per episode")
    s.add_argument("--noise", type=float, default=0.0, help="Gaussian action noise, fraction of the bound width")
    s.add_argument("--stochastic", action="store_true", help="sample the agent's actions (not reproducible)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=1, help="worker processes (0: one per CPU core)")
    s.add_argument("--overwrite", action="store_true")
    s.add_argument("--quiet", action="store_true")
    s = sub.add_parser("density", help="fit the OOD density of a model's training data", formatter_class=fmt)
    s.add_argument("--model", required=True, help="the model's checkpoint (density.pt goes next to it)")
    s.add_argument("--data", required=True, help="the model's training dataset")
    s.add_argument("--out", default=None, help="density file (default: density.pt next to the model)")
    s.add_argument("--density-steps", type=int, default=2000)
    s.add_argument("--quiet", action="store_true")


def config_from_args(args: argparse.Namespace):  # noqa: ANN201
    from mosim.rl.configs import (AgentConfig, DynaConfig, EvalConfig, FewShotConfig, ModelFreeConfig, OODConfig,
                                  ZeroShotConfig)
    from mosim.errors import InvalidInputError
    from mosim.rl.finetune import FinetuneConfig

    common = dict(out=args.out, steps=args.steps, seed=args.seed, device=args.device, threads=args.threads,
                  agent=AgentConfig(args.algo, dict(args.algo_kwargs)),
                  eval=EvalConfig(args.eval_every, args.eval_episodes, args.eval_steps, args.eval_seed),
                  ood=OODConfig(args.ood, args.data, args.density, args.ood_c, args.ood_s, args.ood_weight,
                                args.density_steps))
    tune = {}
    if hasattr(args, "finetune_steps"):
        tune = {"finetune": FinetuneConfig(args.finetune_steps, args.finetune_lr, args.finetune_batch,
                                           args.finetune_horizon, args.chunk)}
    if args.rl_command == "model-free":
        if args.ood:
            raise InvalidInputError("--ood is for imagined rewards; model-free runs have none")
        common.pop("ood")
        return ModelFreeConfig(system=args.system, **common)
    if args.rl_command == "zero-shot":
        return ZeroShotConfig(model=args.model, task=args.task, n_envs=args.n_envs, horizon=args.horizon,
                              select=args.select, select_episodes=args.select_episodes,
                              select_seed=args.select_seed, **common)
    if args.rl_command == "few-shot":
        return FewShotConfig(model=args.model, task=args.task, n_envs=args.n_envs, horizon=args.horizon,
                             select=args.select, select_episodes=args.select_episodes,
                             select_seed=args.select_seed,
                             collect_every=args.collect_every, collect_steps=args.collect_steps,
                             real_starts=args.real_starts, **tune, **common)
    return DynaConfig(system=args.system, model=args.model, model_start=args.model_start,
                      model_every=args.model_every, rollouts=args.rollouts, rollout_horizon=args.rollout_horizon,
                      fit_steps=args.fit_steps, preset=args.preset, **tune, **common)


def _collect(args: argparse.Namespace) -> int:
    from mosim.data.collect import CollectConfig, collect
    from mosim.data.dataset import load_dataset

    params = {"path": args.agent, "algo": args.algo, "deterministic": not args.stochastic, "noise": args.noise}
    cfg = CollectConfig(system=args.system, out=args.out, episodes=args.episodes, steps=args.steps,
                        policy="mosim.rl.agents:SB3Policy", policy_params=params, seed=args.seed,
                        workers=args.workers)
    path = collect(cfg, progress=not args.quiet, overwrite=args.overwrite)
    print(load_dataset(path).summary())
    return 0


def _density(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mosim.data.dataset import load_dataset
    from mosim.loading import load
    from mosim.rl.ood import DensityConfig, OODPenalty, density_for

    spec = load(args.model, device="cpu").spec
    data = load_dataset(args.data, system=spec.system_id)
    out = Path(args.out) if args.out else Path(args.model).parent / "density.pt"
    density = density_for(data, out, DensityConfig(steps=args.density_steps), progress=not args.quiet)
    cal = density.calibration
    print(f"{OODPenalty(density)}: held-out log p median {cal['q50']:.4g}, 1% quantile {cal['q01']:.4g}; "
          f"wrote {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.rl_command == "collect":
        return _collect(args)
    if args.rl_command == "density":
        return _density(args)
    from mosim.rl.pipelines import run_pipeline

    result = run_pipeline(config_from_args(args), progress=not args.quiet, restart=args.restart)
    note = " (finished earlier; nothing trained)" if result.cached else ""
    print(f"{result.pipeline}: real return {result.final_mean:.2f} ± {result.final_std:.2f} after "
          f"{result.timesteps} agent steps ({result.real_steps} real), best {result.best_mean:.2f}, "
          f"{result.evaluations} evaluations, {result.elapsed_s / 60:.1f} min{note}")
    if result.selected_mean is not None:
        print(f"selected inside the model: the agent of step {result.selected_step} (imagined return "
              f"{result.selected_model_mean:.2f}), real return {result.selected_mean:.2f} ± {result.selected_std:.2f}")
    print(f"wrote {result.curve}, {result.agent}")
    return 0
