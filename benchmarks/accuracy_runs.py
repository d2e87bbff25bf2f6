"""The runs of the accuracy benchmark (benchmarks/accuracy.py), by group: each run is a `mosim train` command line.

name -> (group, dataset system id, preset, extra `mosim train` arguments); the comments say what each group asks.
"""

from __future__ import annotations

ROLLOUT_8 = ["--loss", "rollout", "--horizon", "8"]
RK4 = ["--integrator", "rk4"]


def ablation(schedule: str, *change: str, loss: list[str] = ROLLOUT_8) -> list[str]:
    """`mosim train` arguments of a cheetah ablation: 8 minutes, ``schedule``, one ``change``, the 8-step loss."""
    return ["--budget-min", "8", "--schedule", schedule, *change, *loss]


# acrobot, reacher (and cheetah, below) on 8x the training episodes (`python scripts/make_datasets.py --large`), scored on the same
# test windows as every other row
LARGE_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"{short}-large/{kind}{seed_name}": ("large", system, short, ["--budget-min", "20", *seed_args, *kind_args])
    for short, system in (("acrobot", "acrobot-swingup"), ("reacher", "reacher-easy"))
    for kind, kind_args in (("structured", []), ("plain", ["--kind", "plain_delta"]))
    for seed_name, seed_args in (("", []), ("-seed-1", ["--seed", "1"]))
} | {  # cheetah: does the structured model with its contact features still gain from more data?
    "cheetah-large/structured": ("large", "cheetah-run", "cheetah", ["--budget-min", "20"]),
    # the target's whole allowance: 30 minutes of the machine's two cores for one run
    "cheetah-large/structured-30-min-2-threads": ("large", "cheetah-run", "cheetah", ["--budget-min", "30",
                                                                                      "--threads", "2"]),
    # the same allowance with a cheaper step: SiLU networks and the compiled training step (more samples in it)
    "cheetah-large/structured-30-min-2-threads-silu-compiled": (
        "large", "cheetah-run", "cheetah", ["--budget-min", "30", "--threads", "2", "--activation", "silu",
                                            "--compile"]),
    # and with the learning rate of the tuning group below (2e-3 instead of 1e-3; the preset's since)
    "cheetah-large/structured-30-min-2-threads-compiled-lr-2e-3": (
        "large", "cheetah-run", "cheetah", ["--budget-min", "30", "--threads", "2", "--compile", "--lr", "2e-3"]),
} | {  # humanoid: both models overfit the 240 episodes at 15 minutes (runs/bench15); does more data put mosim ahead?
    f"humanoid-large/{kind}": ("large", "humanoid-walk", "humanoid", ["--budget-min", "15", *kind_args])
    for kind, kind_args in (("structured", []), ("plain", ["--kind", "plain_delta"]))
}

CONTACT, NO_CONTACT = ["--contact-features"], ["--no-contact-features"]
PLAIN = ["--kind", "plain_delta"]
# the contact features (each collision geom's height above the floor, the speed of its lowest point), on and off,
# for the structured model and the plain network: cheetah 10 minutes, the other robots with contacts 5 (the
# prediction benchmark's budget); spelled out, so they do not follow the presets
CONTACT_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"{short}-contact/{kind}{'' if on else '-no-contact'}": (
        "contact", system, short, ["--budget-min", minutes, *kind_args, *(CONTACT if on else NO_CONTACT)])
    for short, system, minutes in (("cheetah", "cheetah-run", "10"), ("go2", "go2", "5"), ("hopper", "hopper-hop", "5"),
                                   ("humanoid", "humanoid-walk", "5"))
    for kind, kind_args in (("structured", []), ("plain", PLAIN))
    for on in (True, False)
} | {  # hopper with the one-step loss instead of its preset's 8-step loss
    f"hopper-contact/structured-one-step{'' if on else '-no-contact'}": (
        "contact", "hopper-hop", "hopper", ["--budget-min", "5", "--loss", "one_step", *(CONTACT if on else NO_CONTACT)])
    for on in (True, False)
}

# the presets' choices of 2026-11-27, 5 minutes each (the prediction benchmark's budget), spelled out with the
# network size so they do not follow the presets: the Panda with and without its actuators' forces
# (ModelConfig.actuator_features), Go2 end to end once it sees its contacts, humanoid's network size
ACTUATOR, NO_ACTUATOR = ["--actuator-features"], ["--no-actuator-features"]
MEDIUM = ["--budget-min", "5", "--size", "medium"]
PRESET_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    "panda-actuator/structured": ("presets", "panda", "panda", [*MEDIUM, "--correctors", "1", *ACTUATOR]),
    "panda-actuator/structured-no-actuator": ("presets", "panda", "panda", [*MEDIUM, "--correctors", "1",
                                                                            *NO_ACTUATOR]),
    "panda-actuator/structured-no-corrector": ("presets", "panda", "panda", [*MEDIUM, "--correctors", "0",
                                                                             *ACTUATOR]),
    "panda-actuator/structured-large": ("presets", "panda", "panda", ["--budget-min", "5", "--size", "large",
                                                                      "--correctors", "3", *ACTUATOR]),
    "panda-actuator/plain": ("presets", "panda", "panda", [*MEDIUM, *PLAIN, *ACTUATOR]),
    "panda-actuator/plain-no-actuator": ("presets", "panda", "panda", [*MEDIUM, *PLAIN, *NO_ACTUATOR]),
    "panda-actuator/plain-large": ("presets", "panda", "panda", ["--budget-min", "5", "--size", "large", *PLAIN,
                                                                 *ACTUATOR]),
    "go2-presets/end-to-end": ("presets", "go2", "go2", [*MEDIUM, "--correctors", "2", "--schedule", "end_to_end",
                                                         *CONTACT]),
    "humanoid-presets/medium": ("presets", "humanoid-walk", "humanoid", [*MEDIUM, "--correctors", "3"]),
    "humanoid-presets/medium-contact": ("presets", "humanoid-walk", "humanoid", [*MEDIUM, "--correctors", "3",
                                                                                 *CONTACT]),
    "humanoid-presets/medium-one-corrector": ("presets", "humanoid-walk", "humanoid", [*MEDIUM, "--correctors",
                                                                                       "1"]),
    "humanoid-presets/small": ("presets", "humanoid-walk", "humanoid", ["--budget-min", "5", "--size", "small",
                                                                        "--correctors", "3"]),
}

# how the loss weighs the state entries (TrainConfig.error_scale): each by its one-step spread, or as the raw-state
# metric does; and the heading frame (ModelConfig.heading_frame) on the two robots with a free joint, 5 minutes
FRAME_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    "cheetah-loss/standardized": ("loss", "cheetah-run", "cheetah", ["--budget-min", "10"]),
    "cheetah-loss/raw": ("loss", "cheetah-run", "cheetah", ["--budget-min", "10", "--error-scale", "raw"]),
} | {
    f"{short}-heading/{kind}": ("loss", system, short, ["--budget-min", "5", *extra])
    for short, system in (("go2", "go2"), ("humanoid", "humanoid-walk"))
    for kind, extra in (("structured", []), ("plain", [*PLAIN, "--schedule", "end_to_end", *NO_CONTACT]))
}

# the limit velocity features (each limited joint's velocity where it is past a limit), on and off, with equal
# budgets: cheetah (its joints hit their limits at a large share of random-action steps), 10 minutes
LIMIT_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"cheetah-limits/{kind}{'' if on else '-no-limit-velocity'}": (
        "limits", "cheetah-run", "cheetah",
        ["--budget-min", "10", *kind_args, "--limit-velocity-features" if on else "--no-limit-velocity-features"])
    for kind, kind_args in (("structured", []),)
    for on in (True, False)
}

# the activation of the networks: softplus (the presets' until 2026-11-27) against SiLU (a quarter of its cost per
# element here), on the humanoid, where the plain network was still ahead at 5 minutes; the humanoid preset has
# used SiLU since (both drew about the same samples: the shape, not the cost, made the difference); reacher and
# cheetah moved to SiLU the same day (results/model_speed.md), and the other presets' systems were measured after:
# SiLU was ahead on every one, and became ModelConfig's default
ACTIVATION_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"{short}-activation/{act}": ("activation", system, short, ["--budget-min", "5", "--activation", act])
    for short, system in (("humanoid", "humanoid-walk"), ("acrobot", "acrobot-swingup"),
                          ("cartpole", "cartpole-balance"), ("hopper", "hopper-hop"), ("go2", "go2"),
                          ("panda", "panda"))
    for act in ("softplus", "silu")
}

# narrower networks, the price of a rollout step on a CPU: each step is bound by its matrix products, so halving the
# width quarters them (results/model_speed.md); with SiLU, equal budgets of 5 minutes, one core each
WIDTH_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"{short}-width/{size}": ("width", system, short, ["--budget-min", "5", "--activation", "silu", "--size", size])
    for short, system, sizes in (("reacher", "reacher-easy", ("small", "tiny")),
                                 ("cheetah", "cheetah-run", ("medium", "small")))
    for size in sizes
}

# the learning rate and batch size, never tuned since the presets' defaults (Adam at 1e-3, batch 512): cheetah and
# hopper, where mosim was furthest above the paper's figures, then the winning rate on the other robots; the
# prediction benchmark's 5 minutes, one core each. The benchmark's plain network shares the preset's optimizer
# settings, so it is tuned alike.
LR_2E3 = ["--lr", "2e-3"]
BASELINE = [*PLAIN, *NO_CONTACT, *NO_ACTUATOR]  # the benchmark's plain network: (q, v, a) inputs only
TUNING_ARMS: dict[str, list[str]] = {
    "preset": [], "lr-2e-3": LR_2E3, "lr-4e-3": ["--lr", "4e-3"], "lr-5e-4": ["--lr", "5e-4"],
    "batch-1024-lr-2e-3": ["--batch-size", "1024", *LR_2E3], "plain": BASELINE, "plain-lr-2e-3": [*BASELINE, *LR_2E3],
}
RATE_ARMS = ("preset", "lr-2e-3", "plain", "plain-lr-2e-3")
"""the arms of the robots swept after cheetah and hopper: the winning rate against the preset's"""
TUNING_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"{short}-tuning/{name}": ("tuning", system, short, ["--budget-min", "5", *TUNING_ARMS[name]])
    for short, system, arms in (("cheetah", "cheetah-run", TUNING_ARMS), ("hopper", "hopper-hop", TUNING_ARMS),
                                ("go2", "go2", RATE_ARMS), ("panda", "panda", RATE_ARMS),
                                ("humanoid", "humanoid-walk", RATE_ARMS))
    for name in arms
} | {  # reacher, where the rate decides the samples to an early error (results/model_speed.md, time to accuracy):
    # two seeds each, since its 5-minute errors spread over a decade between seeds; a third for the two rates of the
    # structured model, whose two seeds split at 100 steps
    f"reacher-tuning/{name}{seed_name}": ("tuning", "reacher-easy", "reacher",
                                          ["--budget-min", "5", *TUNING_ARMS[name], *seed_args])
    for name in RATE_ARMS
    for seed_name, seed_args in (("", []), ("-seed-1", ["--seed", "1"]), ("-seed-2", ["--seed", "2"]))
    if seed_name != "-seed-2" or not name.startswith("plain")
}

# the Panda's tau(a), the one system where the plain network still led at 100 steps: MuJoCo's actuator forces enter
# the equations of motion linearly (acc = M(q) [b(q, v) + qfrc_actuator]), and the preset feeds them to tau, so a
# linear tau has the exact form where the preset's MLP (one hidden layer of 64) only approximates it; two seeds of
# each arm, 5 minutes (the benchmark's budget), one core each
TAU_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"panda-tau/{name}{seed_name}": ("tau", "panda", "panda", ["--budget-min", "5", *arm, *seed_args])
    for seed_name, seed_args in (("", []), ("-seed-1", ["--seed", "1"]))
    for name, arm in (("preset", []), ("linear", ["--action-hidden", "none"]))
}

# the small presets' staged schedule against end to end, the main table's 20 minutes: in the table's staged runs of
# 2026-11-28 the predictor stage met its plateau rule (8 validations without 1% progress) within a minute, so the
# predictor was frozen after 47 s (reacher) and 53 s (acrobot) and the corrector trained on top of it for the rest
# (the staged runs are the table's runs of that day, copied)
SCHEDULE_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"{short}-schedule/{name}{seed_name}": ("schedule", system, short,
                                            ["--budget-min", "20", "--schedule", schedule, *seed_args])
    for short, system, seeds in (("reacher", "reacher-easy", ("", "-seed-1")), ("acrobot", "acrobot-swingup", ("",)))
    for seed_name, seed_args in (("", []), ("-seed-1", ["--seed", "1"])) if seed_name in seeds
    for name, schedule in (("staged", "staged"), ("end-to-end", "end_to_end"))
}

# the plateau rule of the staged schedule: in the staged runs of 2026-11-28 it froze the predictor within a minute
# (above); "planned" lets every stage train its planned share (--min-stage-share 1: the plateau cannot end a stage
# early), against the presets' rule ("plateau"). Two seeds each at the prediction benchmark's 5 minutes, then the
# planned schedule on acrobot at the table's 20 minutes (its controls: the staged runs of the groups "table" and
# "schedule")
PLANNED = ["--min-stage-share", "1"]
SHARE_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"{short}-share/{arm}-{minutes}-min{seed_name}": ("share", system, short,
                                                     ["--budget-min", minutes, *arm_args, *seed_args])
    for minutes, arms, systems in (
        ("5", (("plateau", []), ("planned", PLANNED)), (("reacher", "reacher-easy"), ("acrobot", "acrobot-swingup"))),
        ("20", (("planned", PLANNED),), (("acrobot", "acrobot-swingup"),)))
    for short, system in systems
    for seed_name, seed_args in (("", []), ("-seed-1", ["--seed", "1"]))
    for arm, arm_args in arms
} | {  # the plain network's second seed at 20 minutes, the same day (its first is the table's), and reacher planned
    "acrobot-share/plain-20-min-seed-1": ("share", "acrobot-swingup", "acrobot",
                                          ["--budget-min", "20", "--seed", "1", *PLAIN]),
    "reacher-share/planned-20-min": ("share", "reacher-easy", "reacher", ["--budget-min", "20", *PLANNED]),
}

# ensembles within the target's allowance: four members of 15 minutes each, one core each, two at a time (30 minutes
# of the machine's two cores in all), differing only in their seed; scored as one model that averages the members'
# rollouts (mosim.ensemble). Cheetah, whose single 20-minute models stay 1.5x above the target, for the structured
# model and the plain network alike
ENSEMBLE_MEMBERS = 4
ENSEMBLE_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"cheetah-ensemble/{kind}-seed-{seed}": ("ensemble", "cheetah-run", "cheetah",
                                             ["--budget-min", "15", "--seed", str(seed), *kind_args])
    for kind, kind_args in (("structured", []), ("plain", [*PLAIN, *NO_CONTACT]))
    for seed in range(ENSEMBLE_MEMBERS)
}
# ensemble row -> (its members, how their predictions are combined: mosim.ensemble.COMBINE); scored, not trained
ENSEMBLES: dict[str, tuple[list[str], str]] = {
    f"cheetah-ensemble/{kind}{suffix}": ([f"cheetah-ensemble/{kind}-seed-{seed}" for seed in range(ENSEMBLE_MEMBERS)],
                                         combine)
    for kind in ("structured", "plain")
    for suffix, combine in (("", "trajectories"), ("-steps", "steps"))
}

# MuJoCo's joint-limit constraint solved with the model's own M(q) (--limit-constraints) instead of learned by the
# networks: reacher's structured model trails the plain network on the mean because of a few wrist-limit windows
# (the groups "table", "schedule", "share"). The prediction benchmark's 5 minutes, with and without, side by side on
# one core each; then cheetah
CONSTRAINT_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"reacher-constraint/structured-5-min{suffix}": ("constraint", "reacher-easy", "reacher",
                                                     ["--budget-min", "5", *args])
    for suffix, args in (("", ["--limit-constraints"]), ("-without", ["--no-limit-constraints"]),
                         ("-seed-1", ["--limit-constraints", "--seed", "1"]),
                         ("-without-seed-1", ["--no-limit-constraints", "--seed", "1"]))
} | {  # acrobot: no limits, the actuators' force known (--known-actuation); its controls are the group "share"'s
    # planned 5-minute runs (the same preset otherwise)
    f"acrobot-constraint/known-actuation-5-min{seed_name}": ("constraint", "acrobot-swingup", "acrobot",
                                                            ["--budget-min", "5", "--known-actuation", *seed_args])
    for seed_name, seed_args in (("", []), ("-seed-1", ["--seed", "1"]))
} | {  # cartpole: the cart's rail is a limited slide; RK4 data, so no implicit damping
    f"cartpole-constraint/structured-5-min{suffix}": ("constraint", "cartpole-balance", "cartpole",
                                                      ["--budget-min", "5", *args])
    for suffix, args in (("", ["--limit-constraints"]), ("-without", ["--no-limit-constraints"]))
} | {  # reacher's step made cheaper: with the limit solved and the actuators' force known, do the networks still need
    # a corrector, or their preset's width? (the rollout's cost is in the networks' products)
    f"reacher-constraint/{name}-5-min": ("constraint", "reacher-easy", "reacher", ["--budget-min", "5", *args])
    for name, args in (("no-corrector", ["--correctors", "0"]), ("tiny", ["--size", "tiny"]),
                       ("no-corrector-seed-1", ["--correctors", "0", "--seed", "1"]),
                       ("no-corrector-one-block", ["--correctors", "0", "--blocks", "1"]),
                       ("no-corrector-one-block-seed-1", ["--correctors", "0", "--blocks", "1", "--seed", "1"]))
} | {  # cheetah: six limited joints, and feet on the floor (contacts stay with the networks); the ablations' 10 minutes
    f"cheetah-constraint/structured-10-min{suffix}": ("constraint", "cheetah-run", "cheetah", ["--budget-min", "10", *args])
    for suffix, args in (("", ["--limit-constraints"]), ("-without", ["--no-limit-constraints"]))
}

# The main table's 20-minute cheetah model trained 10 more minutes (30 in all, the target's allowance) with an
# 8-step rollout loss, which fits the model's own rollouts, against the same 10 minutes of its one-step loss
FINETUNE_FROM = "runs/accuracy/cheetah/structured/best.pt"
FINETUNE_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"cheetah-finetune/{name}": ("finetune", "cheetah-run", "cheetah",
                                 ["--budget-min", "10", "--init-from", FINETUNE_FROM, "--lr", "5e-4", *args])
    for name, args in (("rollout-8", ["--loss", "rollout", "--horizon", "8"]), ("one-step", ["--loss", "one_step"]))
}

# Training noise on the windows' start states (TrainConfig.input_noise; the ablations' 10 minutes on cheetah)
NOISE_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"cheetah-noise/{name}-10-min": ("noise", "cheetah-run", "cheetah", ["--budget-min", "10", *args])
    for name, args in (("preset", []), ("noise-0.3", ["--input-noise", "0.3"]))
}

# Cheetah's step made cheaper: one residual block per network, with and without the corrector (the ablations' 10
# minutes; the control is the group "noise"'s preset run, trained the same afternoon)
BLOCK_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"cheetah-blocks/{name}-10-min": ("blocks", "cheetah-run", "cheetah", ["--budget-min", "10", "--blocks", "1", *args])
    for name, args in (("one-block", []), ("one-block-no-corrector", ["--correctors", "0"]))
}

# Cheetah's floor contacts solved as MuJoCo solves them, with the model's own M(q) (--contact-constraints, which
# brings the limits' solve and the actuators' force known), M starting at MuJoCo's inverse-inertia diagonal
# (--inertia-start mujoco); all the candidate contact points solved, or the 4 nearest the floor (a cheaper step).
# The ablations' 10 minutes, against the preset trained the same afternoon
# (spelled out since the cheetah preset computes M and solves the contacts: LEARNED_M_PRESET is the preset they ran)
LEARNED_M_PRESET = ["--no-contact-constraints", "--no-known-inertia"]
CONTACT_SOLVE_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"cheetah-contact-solve/{name}-10-min": ("contact-solve", "cheetah-run", "cheetah", ["--budget-min", "10", *args])
    for name, args in (("preset", LEARNED_M_PRESET),
                       ("contacts", ["--contact-constraints", "--no-known-inertia", "--inertia-start", "mujoco"]),
                       ("contacts-slots-4", ["--contact-constraints", "--no-known-inertia", "--inertia-start", "mujoco",
                                             "--contact-slots", "4"]))
} | {  # the main table's 20 minutes
    "cheetah-contact-solve/contacts-slots-4-20-min": ("contact-solve", "cheetah-run", "cheetah",
                                                      ["--budget-min", "20", "--contact-constraints",
                                                       "--no-known-inertia", "--inertia-start", "mujoco",
                                                       "--contact-slots", "4"])
}

# M(q) computed from the model file's masses and inertias (--known-inertia), not learned, with the floor contacts
# solved (the group "contact-solve"'s rows are the control): 10 minutes, and the main table's 20
KNOWN_INERTIA_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"cheetah-known-inertia/contacts-{minutes}-min": ("known-inertia", "cheetah-run", "cheetah",
                                                      ["--budget-min", str(minutes), "--contact-constraints",
                                                       "--known-inertia"])
    for minutes in (10, 20)
} | {  # the other robots: hopper (contacts solved too) at the prediction benchmark's 5 minutes; acrobot (no contacts,
    # no limits) at the main table's 20
    "hopper-known-inertia/contacts-5-min": ("known-inertia", "hopper-hop", "hopper",
                                            ["--budget-min", "5", "--contact-constraints", "--known-inertia",
                                             "--no-self-contacts"]),
    "hopper-known-inertia/preset-5-min": ("known-inertia", "hopper-hop", "hopper", ["--budget-min", "5",
                                                                                   *LEARNED_M_PRESET]),
    "acrobot-known-inertia/20-min": ("known-inertia", "acrobot-swingup", "acrobot",
                                     ["--budget-min", "20", "--known-inertia"]),
} | {  # hopper's preset cheaper or on the rollout loss, now that its contacts are solved (5 minutes)
    f"hopper-known-inertia/{name}-5-min": ("known-inertia", "hopper-hop", "hopper",
                                           ["--budget-min", "5", "--no-self-contacts", *args])
    for name, args in (("one-corrector", ["--correctors", "1"]), ("rollout-8", ["--loss", "rollout", "--horizon", "8"]))
} | {  # the robots whose contacts are not solved (a free joint; the Go2's boxes and elliptic cones) or rare (the
    # Panda's): M computed alone, at the prediction benchmark's 5 minutes (its rows are the control)
    f"{name}-known-inertia/5-min": ("known-inertia", system, name, ["--budget-min", "5", "--known-inertia"])
    for name, system in (("humanoid", "humanoid-walk"), ("go2", "go2"), ("panda", "panda"))
}

# the contacts between the robot's own bodies solved too (--self-contacts, the presets' default since they are read):
# hopper (torso, nose, thigh, calf and foot touch one another), at the prediction benchmark's 5 minutes, side by side
# with the preset before (the rows of "known-inertia" ran without them: --no-self-contacts spelled out there)
SELF_CONTACT_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"hopper-self-contacts/{name}-5-min": ("self-contacts", "hopper-hop", "hopper", ["--budget-min", "5", *args])
    for name, args in (("solved", []), ("not-solved", ["--no-self-contacts"]))
}

# the Panda's implicitfast step: its joint limits solved with the actuators' velocity terms implicit, the actuators'
# forces known and M(q) computed, against the preset before; then its floor contacts solved too (boxes, capsules,
# cylinders), with and without the actuators' forces as features; then that preset again beside it at twice its
# learning rate; 5 minutes (the prediction benchmark's budget), one core each, two side by side
PANDA_BEFORE = ["--no-limit-constraints", "--no-known-inertia", "--no-contact-constraints", "--lr", "1e-3"]
"""the Panda preset's mechanics before 2026-12-07, spelled out in the rows of the Panda's structured model that
follow its preset (:func:`_spelled_out`)"""
IMPLICIT_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"panda-implicit/{name}-5-min": ("implicit-actuators", "panda", "panda", ["--budget-min", "5", *args])
    for name, args in (("solved", ["--no-contact-constraints", "--lr", "1e-3"]), ("preset-before", PANDA_BEFORE),
                       ("contacts", ["--contact-constraints", "--no-self-contacts", "--lr", "1e-3"]),  # the floor too
                       ("contacts-no-actuator-features", ["--contact-constraints", "--no-self-contacts",
                                                          "--no-actuator-features", "--lr", "1e-3"]),
                       ("contacts-again", ["--lr", "1e-3"]), ("contacts-lr-2e-3", ["--lr", "2e-3"]))  # the preset
}


HUMANOID_BEFORE = ["--no-contact-constraints", "--no-known-inertia", "--lr", "1e-3"]
"""the humanoid preset's mechanics before 2026-12-07, spelled out in the rows of its structured model that follow
its preset (:func:`_spelled_out`)"""
# the humanoid's floor contacts solved (a free-floating robot: its rows mapped to its heading frame) with its limits
# and M(q) computed (its data step MuJoCo's, 5 ms), against its preset, 5 minutes (the prediction benchmark's
# budget), one core each, side by side; its own bodies' contacts (frictionless, condim 1) learned, then solved too
# (that arm beside the test suite); then the new preset with one corrector and at twice its learning rate
HUMANOID_RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    f"humanoid-contacts/{name}-5-min": ("humanoid-contacts", "humanoid-walk", "humanoid", ["--budget-min", "5", *args])
    for name, args in (("solved", ["--contact-constraints", "--known-inertia", "--no-self-contacts", "--lr", "1e-3"]),
                       ("preset", HUMANOID_BEFORE),
                       ("self-contacts", ["--contact-constraints", "--known-inertia", "--lr", "1e-3"]),  # its own too
                       ("one-corrector", ["--correctors", "1", "--lr", "1e-3"]), ("lr-2e-3", ["--lr", "2e-3"]))
}


def _spelled_out(runs: dict[str, tuple[str, str, str, list[str]]]) -> dict[str, tuple[str, str, str, list[str]]]:
    """``runs`` with :data:`PANDA_BEFORE` or :data:`HUMANOID_BEFORE` added to the Panda's and the humanoid's rows:
    they ran before those presets changed, and their commands keep what they ran. Each flag (with its value) is
    added where the row does not set it itself; the mechanics' flags to the structured rows only (no ``--kind``),
    the learning rate to every row (the plain network shares the preset's)."""
    before = {"panda": PANDA_BEFORE, "humanoid": HUMANOID_BEFORE}

    def spelled(preset: str, args: list[str]) -> list[str]:
        out = list(args)
        for group in _flag_groups(before.get(preset, [])):
            flag = group[0]
            if flag in args or flag.replace("--no-", "--") in args or (flag != "--lr" and "--kind" in args):
                continue
            out += group
        return out

    return {name: (group, system, preset, spelled(preset, args)) for name, (group, system, preset, args) in runs.items()}


def _flag_groups(flags: list[str]) -> list[list[str]]:
    """``["--a", "--b", "1"]`` as ``[["--a"], ["--b", "1"]]``: each flag with the values after it."""
    groups: list[list[str]] = []
    for x in flags:
        if x.startswith("--"):
            groups.append([x])
        else:
            groups[-1].append(x)
    return groups


# name -> (group, dataset system id, preset, extra `mosim train` arguments)
RUNS: dict[str, tuple[str, str, str, list[str]]] = {
    "reacher/structured": ("table", "reacher-easy", "reacher", ["--budget-min", "20"]),
    "reacher/plain": ("table", "reacher-easy", "reacher", ["--budget-min", "20", "--kind", "plain_delta"]),
    "acrobot/structured": ("table", "acrobot-swingup", "acrobot", ["--budget-min", "20"]),
    "acrobot/plain": ("table", "acrobot-swingup", "acrobot", ["--budget-min", "20", "--kind", "plain_delta"]),
    "cheetah/structured": ("table", "cheetah-run", "cheetah", ["--budget-min", "20"]),
    "cheetah/plain": ("table", "cheetah-run", "cheetah", ["--budget-min", "20", "--kind", "plain_delta", *NO_CONTACT]),
    # cheetah ablations, equal budgets, against "base": structured, staged (predictor, then one corrector), 8-step
    # rollout loss, semi-implicit Euler; each row changes one thing (spelled out: they do not follow the preset)
    "cheetah-ablation/base": ("ablation", "cheetah-run", "cheetah", ablation("staged")),
    "cheetah-ablation/one-step-loss": ("ablation", "cheetah-run", "cheetah",
                                       ablation("staged", loss=["--loss", "one_step"])),
    "cheetah-ablation/end-to-end": ("ablation", "cheetah-run", "cheetah", ablation("end_to_end")),
    "cheetah-ablation/plain-resnet-ode": ("ablation", "cheetah-run", "cheetah",
                                          ablation("end_to_end", "--kind", "plain_ode")),
    "cheetah-ablation/rk4": ("ablation", "cheetah-run", "cheetah", ablation("staged", *RK4)),
    "cheetah-ablation/plain-delta": ("ablation", "cheetah-run", "cheetah",
                                     ablation("end_to_end", "--kind", "plain_delta")),
    # acrobot: the longest budget the target allows
    "acrobot-variants/30-min": ("acrobot", "acrobot-swingup", "acrobot", ["--budget-min", "30"]),
    "acrobot-variants/plain-30-min": ("acrobot", "acrobot-swingup", "acrobot", ["--budget-min", "30", "--kind",
                                                                               "plain_delta"]),
    # acrobot: what might close the gap to the plain network in 20 min; the preset integrated with RK4 (four
    # network evaluations per step) before it held one acceleration over the step
    "acrobot-variants/rk4": ("acrobot", "acrobot-swingup", "acrobot", ["--budget-min", "20", *RK4]),
    "acrobot-variants/rk4-no-corrector": ("acrobot", "acrobot-swingup", "acrobot", ["--budget-min", "20", *RK4,
                                                                                   "--correctors", "0"]),
    "acrobot-variants/rk4-batch-2048": ("acrobot", "acrobot-swingup", "acrobot", ["--budget-min", "20", *RK4,
                                                                                 "--batch-size", "2048", "--lr",
                                                                                 "2e-3"]),
    # acrobot: a second seed of the table's two 20-minute runs (the 100-step mean rests on a few fast windows)
    "acrobot-variants/seed-1": ("acrobot", "acrobot-swingup", "acrobot", ["--budget-min", "20", "--seed", "1"]),
    "acrobot-variants/plain-seed-1": ("acrobot", "acrobot-swingup", "acrobot", ["--budget-min", "20", "--seed", "1",
                                                                               "--kind", "plain_delta"]),
    **LARGE_RUNS,
    **CONTACT_RUNS,
    **PRESET_RUNS,
    **FRAME_RUNS,
    **LIMIT_RUNS,
    **ACTIVATION_RUNS,
    **WIDTH_RUNS,
    **TUNING_RUNS,
    **TAU_RUNS,
    **SCHEDULE_RUNS,
    **SHARE_RUNS,
    **ENSEMBLE_RUNS,
    **CONSTRAINT_RUNS,
    **FINETUNE_RUNS,
    **NOISE_RUNS,
    **BLOCK_RUNS,
    **CONTACT_SOLVE_RUNS,
    **KNOWN_INERTIA_RUNS,
    **SELF_CONTACT_RUNS,
    # the control: the same 20 minutes on the standard 240 training episodes, on the machine and day of the rows
    # above (the main table's rows are from another day and machine)
    "acrobot-large/structured-on-240": ("large", "acrobot-swingup", "acrobot", ["--budget-min", "20"]),
    "reacher-large/structured-on-240": ("large", "reacher-easy", "reacher", ["--budget-min", "20"]),
    "cheetah-large/structured-on-240": ("large", "cheetah-run", "cheetah", ["--budget-min", "20"]),
}
RUNS = {**_spelled_out(RUNS), **IMPLICIT_RUNS, **HUMANOID_RUNS}
GROUPS = {"table": "Main table", "large": "Acrobot, reacher, cheetah and humanoid: 1900 training episodes (and 240, -on-240)",
          "ablation": "Cheetah-run ablations (equal budgets)", "acrobot": "Acrobot-swingup: variants",
          "contact": "Contact features, on and off (the robots with contacts, equal budgets)",
          "presets": "The presets' choices of 2026-11-27: actuator forces on the Panda, Go2 end to end, humanoid's size",
          "loss": "The heading frame (go2, humanoid) and the loss's error scale (cheetah), 2026-11-27",
          "limits": "The limit velocity features, on and off (cheetah, equal budgets)",
          "activation": "Softplus against SiLU networks (six systems, equal budgets)",
          "width": "Network widths, the cost of a step (reacher, cheetah; SiLU, equal budgets)",
          "tuning": "Learning rate and batch size (the robots; the presets otherwise, equal budgets)",
          "tau": "The Panda's tau(a): one linear layer against the preset's MLP (equal budgets)",
          "schedule": "Staged against end to end for the small presets (reacher, acrobot; the main table's 20 minutes)",
          "share": "The staged schedule's plateau rule: each stage its planned share, or ended on a plateau (reacher, acrobot)",
          "constraint": "MuJoCo's joint-limit constraint solved with the model's M(q) (reacher, cartpole, cheetah; acrobot: the actuators' force known)",
          "blocks": "Cheetah-run: one residual block per network, with and without the corrector (a cheaper step)",
          "noise": "Cheetah-run: training noise on the start states (--input-noise, equal budgets)",
          "finetune": "Cheetah-run: the main table's 20-minute model trained 10 more minutes, rollout against one-step loss",
          "contact-solve": "Cheetah-run: the floor contacts solved as MuJoCo does with the model's M(q) (--contact-constraints)",
          "known-inertia": "Cheetah-run: M(q) computed from the model file's inertias (--known-inertia), contacts solved",
          "self-contacts": "Hopper-hop: the contacts between the robot's own bodies solved too (--self-contacts)",
          "implicit-actuators": "The Panda: its limits solved with implicitfast's actuator damping, M(q) computed",
          "humanoid-contacts": "Humanoid-walk: its floor contacts and limits solved, M(q) computed",
          "ensemble": "Cheetah-run ensembles: four 15-minute members, their rollouts averaged (30 minutes of two cores)"}
TRAIN_EPISODES = {"table": "240", "large": "1900",
                  "ensemble": f"240 ({ENSEMBLE_MEMBERS} members of 15 min, rollouts averaged)"}
"""training episodes of the target rows, by group"""
