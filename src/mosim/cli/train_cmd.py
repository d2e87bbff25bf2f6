"""Train a learned simulator on a dataset (resumes from OUT/last.pt when run again).

Writes OUT/best.pt (the best model by validation rollout error; load it with mosim.load),
OUT/last.pt (everything needed to resume), OUT/log.csv, OUT/tb/ (TensorBoard) and OUT/config.json,
then scores best.pt on the test split at horizons 3, 16 and 100 into OUT/scores.json.
With --members K it trains an ensemble of K seeds into OUT/member-k instead (mosim.cli.train_members).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

HELP = "train a learned simulator (mosim train --data F --preset cheetah)"


def _widths(text: str) -> tuple[int, ...]:
    """``"64,64"`` -> ``(64, 64)``; ``"none"`` (or ``""``) -> ``()``."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        return tuple(int(w) for w in text.replace(" ", "").split(",") if w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"widths must be integers separated by commas, got {text!r}") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset .h5 file (from mosim collect)")
    p.add_argument("--preset", default=None, help="recipe: acrobot, cartpole, reacher, pendulum, cheetah, hopper, go2, panda, humanoid; small or medium "
                   "for a robot of your own; tiny (default: from the system id)")
    p.add_argument("--out", default=None, help="run folder (default: runs/<system>-<preset>)")
    p.add_argument("--budget-min", type=float, default=None, help="total wall-clock budget in minutes")
    p.add_argument("--max-steps", type=int, default=None, help="total gradient steps instead of a time budget")
    p.add_argument("--size", default=None, choices=("tiny", "small", "medium", "large"),
                   help="network sizes (mosim.models.PRESETS) instead of the preset's; its other settings stay")
    p.add_argument("--blocks", type=int, default=None, help="residual blocks of every network (the inertia, force and "
                   "corrector networks) instead of the size's")
    p.add_argument("--activation", default=None, help="activation of every network: silu (the default), softplus, "
                   "tanh, relu or elu")
    p.add_argument("--kind", default=None, help="model kind: structured, plain_ode or plain_delta")
    p.add_argument("--schedule", choices=("staged", "end_to_end"), default=None, help="staged or end-to-end")
    p.add_argument("--correctors", type=int, default=None, help="number of correctors")
    p.add_argument("--action-hidden", type=_widths, default=None, metavar="W1,W2,...",
                   help="hidden widths of the structured model's tau(a) network (none: a linear tau, the form the "
                        "actuator forces take in the equations of motion)")
    p.add_argument("--loss", choices=("one_step", "rollout"), default=None, help="training loss")
    p.add_argument("--horizon", type=int, default=None, help="k of the rollout loss")
    p.add_argument("--integrator", default=None, help="semi_implicit_euler, rk4, constant_acceleration, euler, dopri5 or auto")
    p.add_argument("--substeps", type=int, default=None, help="integrator steps per model step")
    p.add_argument("--adjoint", action="store_true", help="dopri5: adjoint gradients (the original's recipe)")
    p.add_argument("--no-limit-features", action="store_true", help="do not feed joint-limit features")
    p.add_argument("--force-sees-action", action="store_true", help="structured: acc = M(q) f(q, v, a) instead of "
                   "M(q) [b(q, v) + tau(a)] (position servos with force limits: the Panda)")
    p.add_argument("--limit-velocity-features", action=argparse.BooleanOptionalAction, default=None,
                   help="feed each limited joint's velocity where it is past a limit, v [q < lo] and v [q > hi] "
                        "(default: the preset's)")
    p.add_argument("--limit-constraints", action=argparse.BooleanOptionalAction, default=None,
                   help="structured: add MuJoCo's joint-limit constraint forces, solved with the model's M(q), to the "
                        "networks' acceleration (default: the preset's)")
    p.add_argument("--contact-constraints", action=argparse.BooleanOptionalAction, default=None,
                   help="structured: add MuJoCo's floor contact forces (friction pyramids of spheres, capsules, "
                        "boxes and cylinders), solved with the joint limits and the model's M(q), to the networks' "
                        "acceleration; implies --limit-constraints (default: the preset's)")
    p.add_argument("--self-contacts", action=argparse.BooleanOptionalAction, default=None,
                   help="with --contact-constraints: solve the contacts between the robot's own bodies too (spheres and "
                        "capsules, condim 3 or 1; default: on)")
    p.add_argument("--inertia-start", choices=("identity", "mujoco"), default=None,
                   help="structured, with --limit-constraints or --contact-constraints: start M(q) at the diagonal of "
                        "MuJoCo's inverse inertia at the reference pose (default: the preset's)")
    p.add_argument("--known-inertia", action=argparse.BooleanOptionalAction, default=None,
                   help="structured: M(q) is MuJoCo's, computed from the model file's body masses and inertias, not "
                        "learned; the networks learn the forces (default: the preset's)")
    p.add_argument("--known-bias", action=argparse.BooleanOptionalAction, default=None,
                   help="structured, with --known-inertia and the actuation known: the Coriolis, centrifugal and "
                        "gravity forces are MuJoCo's, computed from the model file, not learned (default: the preset's)")
    p.add_argument("--known-passive", action=argparse.BooleanOptionalAction, default=None,
                   help="with --known-bias: the joints' springs are MuJoCo's, computed from the model file, not "
                        "learned (default: the preset's)")
    p.add_argument("--physics-start", action=argparse.BooleanOptionalAction, default=None,
                   help="with --known-bias: the untrained model is the model file's physics (the force network "
                        "starts at zero output, the acceleration's normalization has zero mean; default: the preset's)")
    p.add_argument("--identify", nargs="+", default=None, metavar="CONSTANT",
                   choices=("mass", "actuators", "damping", "friction"),  # mosim.models.identified.IDENTIFIABLE
                   help="with the mechanics computed from the model file: learn factors on these of its constants "
                        "with the networks (mass, actuators, damping, friction; mosim.models.identified), each "
                        "starting at 1 (default: the preset's, none)")
    p.add_argument("--factor-lr-scale", type=float, default=None,
                   help="with --identify: the factors' learning rate over the networks' (default: 10)")
    p.add_argument("--contact-slots", type=int, default=None,
                   help="with --contact-constraints: solve the N candidate contact points nearest the floor (0: all)")
    p.add_argument("--known-actuation", action=argparse.BooleanOptionalAction, default=None,
                   help="structured: tau(a) is the force MuJoCo's actuators apply (from the model file), so the data "
                        "identify M(q); implied by --limit-constraints (default: the preset's)")
    p.add_argument("--contact-features", action=argparse.BooleanOptionalAction, default=None,
                   help="feed each collision geom's height above the floor and the speed of its lowest point "
                        "(default: the preset's)")
    p.add_argument("--actuator-features", action=argparse.BooleanOptionalAction, default=None,
                   help="feed, next to the action, the joint forces MuJoCo's actuators apply for it in the state "
                        "(servos with force limits: the Panda; default: the preset's)")
    p.add_argument("--heading-frame", action=argparse.BooleanOptionalAction, default=None,
                   help="see and predict a free-floating robot's linear velocity in the frame of its heading, so "
                        "its dynamics look the same whichever way it faces (default: on)")
    p.add_argument("--error-scale", default="standardized", choices=["standardized", "raw"],
                   help="how the loss weighs the state entries' errors: each by the std of its one-step change "
                        "(standardized), or all velocities alike and all positions alike, as the raw-state "
                        "benchmark metric does (raw)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--min-stage-share", type=float, default=None, help="share of a stage's planned budget it trains "
                   "before a plateau (the preset's patience) may end it, in [0, 1] (default: the preset's)")
    p.add_argument("--batch-size", type=int, default=None, help="windows per gradient step")
    p.add_argument("--val-every", type=int, default=None, help="gradient steps between validations (the preset's: "
                   "500); each validation rolls 256 validation windows out 100 steps, time the budget counts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--members", type=int, default=1, help="train an ensemble of this many runs of the recipe, seeds "
                   "SEED, SEED+1, ..., into OUT/member-k, each with the budget given, and score their rollouts "
                   "averaged (mosim.load_ensemble(OUT))")
    p.add_argument("--jobs", type=int, default=1, help="with --members: members trained at a time, as separate "
                   "processes of --threads threads each (on a CPU: one thread each, as many jobs as cores)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--compile", action="store_true", help="compile the training step (torch.compile): more "
                   "samples per second after about a minute of compilation")
    p.add_argument("--speed-sampling", type=float, default=0.0, help="draw training windows with weight "
                   "1 + S * (standardized start speed)^2: more of the rare fast states (default 0: uniform)")
    p.add_argument("--limit-sampling", type=float, default=0.0, help="draw training windows during whose first "
                   "step a joint limit acts 1 + S times as often: more of the rare limit hits (default 0)")
    p.add_argument("--input-noise", type=float, default=0.0, help="std of Gaussian noise on each training window's "
                   "start state, in units of each entry's one-step change; the model learns to bring a perturbed "
                   "velocity back to the data (default 0: the states as recorded)")
    p.add_argument("--ema", type=float, default=None, help="keep and validate an exponential moving average "
                   "of the weights with this decay per step (e.g. 0.999; 0: off)")
    p.add_argument("--init-from", default=None, help="start from the weights of this checkpoint (same system "
                   "and model) instead of a fresh model, e.g. to fine-tune it with another loss")
    p.add_argument("--restart", action="store_true", help="ignore OUT/last.pt and start over")
    p.add_argument("--no-score", action="store_true", help="skip scoring on the test split")
    p.add_argument("--score-data", default=None,
                   help="score on the test split of this dataset file (same system) instead of --data's, e.g. a "
                        "model trained on a bigger collection scored on the standard benchmark file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from mosim.data.dataset import load_dataset
    from mosim.errors import InvalidInputError
    from mosim.loading import load
    from mosim.models import model_preset
    from mosim.models.config import STRUCTURE_ONLY, needs_off
    from mosim.presets import get_preset
    from mosim.training.trainer import train

    ds = load_dataset(args.data)
    # another file to score on must be of the training data's system and step: found now, not after the training
    test_ds = load_dataset(args.score_data, system=ds.spec) if args.score_data else ds
    preset_name = args.preset or ds.spec.system_id
    preset = get_preset(preset_name)
    model_over = {k: v for k, v in {"kind": args.kind, "activation": args.activation, "n_correctors": args.correctors,
                                    "integrator": args.integrator, "substeps": args.substeps,
                                    "adjoint": args.adjoint or None,
                                    "limit_features": False if args.no_limit_features else None,
                                    "force_sees_action": args.force_sees_action or None,
                                    "limit_velocity_features": args.limit_velocity_features,
                                    "limit_constraints": args.limit_constraints,
                                    "known_actuation": args.known_actuation,
                                    "contact_constraints": args.contact_constraints,
                                    "contact_slots": args.contact_slots,
                                    "self_contacts": args.self_contacts,
                                    "inertia_start": args.inertia_start,
                                    "known_inertia": args.known_inertia,
                                    "known_bias": args.known_bias,
                                    "known_passive": args.known_passive,
                                    "physics_start": args.physics_start,
                                    "identify": tuple(args.identify) if args.identify else None,
                                    "contact_features": args.contact_features,
                                    "actuator_features": args.actuator_features,
                                    "heading_frame": args.heading_frame, "action_hidden": args.action_hidden,
                                    **{f"{net}_blocks": args.blocks for net in ("inertia", "force", "corrector")},
                                    }.items()
                  if v is not None}
    over = {k: v for k, v in {"schedule": args.schedule, "loss": args.loss, "horizon": args.horizon, "lr": args.lr,
                              "batch_size": args.batch_size, "budget_min": args.budget_min,
                              "min_stage_share": args.min_stage_share,
                              "val_every_steps": args.val_every}.items() if v is not None}
    if args.loss == "rollout" and args.horizon is None and preset.horizon == 1:
        over["horizon"] = 8
    if args.loss == "one_step":
        over["horizon"] = 1
    model = preset.model
    if model_over.get("kind", model.kind) != "structured":  # the structured model's own parts of a preset: off
        for name, off in STRUCTURE_ONLY.items():
            model_over.setdefault(name, off)
    if args.size is not None:
        model = model_preset(args.size, kind=model.kind, n_correctors=model.n_correctors, integrator=model.integrator,
                             activation=model.activation, substeps=model.substeps,
                             force_sees_action=model.force_sees_action, contact_features=model.contact_features,
                             actuator_features=model.actuator_features, heading_frame=model.heading_frame,
                             limit_constraints=model.limit_constraints, known_actuation=model.known_actuation,
                             contact_constraints=model.contact_constraints, contact_slots=model.contact_slots,
                             self_contacts=model.self_contacts, inertia_start=model.inertia_start,
                             known_inertia=model.known_inertia, known_bias=model.known_bias,
                             known_passive=model.known_passive, physics_start=model.physics_start,
                             identify=model.identify)
    dropped = needs_off(model, model_over)  # e.g. --no-known-inertia on a preset that computes its bias forces
    if dropped:
        print(f"{' '.join('--no-' + n.replace('_', '-') for n in dropped)} as well: the preset's "
              f"{', '.join(dropped)} need what the command turns off")
    preset = replace(preset, model=replace(model, **model_over, **dropped), **over)
    cfg = preset.train_config(seed=args.seed, threads=args.threads, device=args.device, max_steps=args.max_steps,
                              compile=args.compile, init_from=args.init_from,
                              speed_sampling=args.speed_sampling, limit_sampling=args.limit_sampling,
                              input_noise=args.input_noise,
                              error_scale=args.error_scale,
                              **({} if args.ema is None else {"ema_decay": args.ema}),
                              **({} if args.factor_lr_scale is None else {"factor_lr_scale": args.factor_lr_scale}))
    out = Path(args.out or f"runs/{ds.spec.system_id}-{preset_name.split('-')[0]}")
    if args.members < 1 or args.jobs < 1:
        raise InvalidInputError(f"--members and --jobs must be >= 1, got {args.members} and {args.jobs}")
    if args.members > 1:
        from mosim.cli.train_members import train_members

        return train_members(args, out, test_ds)
    result = train(ds, preset.model, cfg, out, resume=not args.restart, progress=not args.quiet)
    print(f"best validation rollout MSE ({cfg.val_horizon} steps): {result.best_val_mse:.4g}  "
          f"after {result.steps} steps, {result.samples:,} samples, {result.elapsed_s / 60:.1f} min")
    best = load(result.best_path, device="cpu")
    for name, factors in getattr(best.model, "identified", dict)().items():  # ModelConfig.identify
        print(f"identified {name} factors (1: the model file's): {' '.join(f'{f:.3g}' for f in factors)}")
    if not args.no_score:
        write_scores(best, test_ds, out)
    print(f"wrote {out}/best.pt, last.pt, log.csv, tb/, config.json")
    return 0


def write_scores(model: Any, test_ds: Any, out: Path, label: str = "test",
                 note: Callable[[Any], str] = lambda s: "") -> None:
    """Score ``model`` on ``test_ds``'s test split into ``out/scores.json`` and print one line per horizon (``note``
    adds to each); a file without test episodes is said and skipped."""
    from mosim.benchmark import score

    if not test_ds.episodes("test").size:
        print(f"{test_ds.path}: no test episodes, not scored (--score-data FILE scores on another file's test split)")
        return
    scores = score(model, test_ds)
    (out / "scores.json").write_text(json.dumps([s.as_dict() for s in scores], indent=2))
    for s in scores:
        print(f"{label} H={s.horizon:<4} MSE {s.mse:.4g}  95% CI [{s.ci_low:.4g}, {s.ci_high:.4g}]  "
              f"median {s.median:.3g}  ({s.n_windows} windows){note(s)}")
