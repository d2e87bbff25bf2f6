"""Named training presets per system: a model config and a training config that fit a 2-core CPU.

``mosim train --preset cheetah`` picks ``PRESETS["cheetah"]``; any field can be overridden from the
command line or with :func:`dataclasses.replace`. Budgets are wall-clock minutes of one CPU thread.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mosim.models import ModelConfig, model_preset
from mosim.registry import lookup
from mosim.systems.perturbation import nominal_id
from mosim.training.config import TrainConfig, end_to_end_schedule, staged_schedule


@dataclass(frozen=True)
class Preset:
    """A recipe: model, schedule and budget."""

    model: ModelConfig
    budget_min: float = 10.0
    """total wall-clock budget over all stages, minutes"""
    schedule: str = "staged"
    """``staged`` (predictor, then each corrector) or ``end_to_end``"""
    loss: str = "one_step"
    horizon: int = 1
    lr: float = 1e-3
    batch_size: int = 512
    predictor_share: float = 0.3
    """share of the budget planned for the predictor stage (the correctors share the rest)"""
    finetune_share: float = 0.0
    val_every_steps: int = 500
    patience: int = 8
    """validations without 1% progress that end a stage early (its leftover budget moves on)"""
    min_stage_share: float = 0.0
    """share of a stage's planned budget it trains before a plateau may end it (TrainConfig.min_stage_share)"""

    def train_config(self, seed: int = 0, threads: int = 1, device: str = "auto", max_steps: int | None = None,
                     **overrides: Any) -> TrainConfig:
        budget_s = None if max_steps is not None else self.budget_min * 60.0
        if self.schedule == "staged" and self.model.kind == "structured":
            stages = staged_schedule(self.model.n_correctors, budget_s, max_steps, self.predictor_share,
                                     self.finetune_share, self.lr, self.loss, self.horizon)
        else:
            stages = end_to_end_schedule(budget_s, max_steps, self.lr, self.loss, self.horizon)
        return TrainConfig(stages=stages, batch_size=self.batch_size, val_every_steps=self.val_every_steps,
                           patience=self.patience, min_stage_share=self.min_stage_share, seed=seed, threads=threads,
                           device=device, **overrides)


PRESETS: dict[str, Preset] = {
    # Every network uses SiLU (ModelConfig's default) since 2026-11-27 (5-minute pairs, one core each, side by side;
    # results/accuracy.md, "Softplus against SiLU"): at H=100 acrobot 1.05e-4 against softplus 1.66e-4, cartpole
    # 1.71e-4 against 4.64e-4, hopper 0.286 against 0.330, go2 0.271 against 0.322, humanoid 8.25 against 8.48,
    # reacher, cheetah and panda tied; cheetah 30 min on the large file 0.158 against 0.168. And 1.3x to 1.4x the
    # rollout step's speed (results/model_speed.md).
    #
    # MuJoCo steps acrobot with RK4. On acrobot a learned acceleration held over the step
    # (mosim.integrators.constant_acceleration) fits that data as well per sample as the model integrated by RK4
    # (4.3M samples: validation error 0.0053 against 0.0070) at a third of the cost: one network evaluation per
    # step instead of four. Not on cartpole (RK4 data too): 5 min staged, its validation error stalled near 0.009
    # with 13M samples, where RK4 reached 0.0025 with 4.2M (end to end the two tie at 0.0032 / 0.0033).
    # acrobot's stages each train their planned share (min_stage_share=1: a plateau cannot end one early) since
    # 2026-11-28: its plateau rule had frozen the predictor after 30 s to 70 s of its 90 s at 5 minutes and after
    # 53 s of 6 minutes at 20. Planned against plateau, two seeds each: 8.9e-5 and 1.1e-4 against 1.5e-4 and 2.1e-4
    # at 5 minutes; 7.5e-5 and 5.8e-5 at 20 minutes, against the plateau rule's 1.0e-4 (results/accuracy.md,
    # group "share"); the prediction benchmark's 5-minute row, retrained with it, 6.7e-5 (7.5e-5 before). On reacher
    # the two rules tied at 5 minutes; its preset keeps the plateau rule.
    # Since 2026-12-07 its mechanics are all computed from the model file (the motors' force, M(q), the bias forces:
    # ModelConfig.known_actuation, known_inertia, known_bias) and it integrates by RK4 as its data were made: 5 min,
    # one core each, side by side (`mosim train --data data/acrobot-swingup-random.h5 --preset acrobot
    # --known-actuation --known-inertia --known-bias [--integrator rk4]`): H=100 1.24e-6 [8.6e-7, 1.7e-6] with RK4,
    # 3.5e-5 with the held acceleration, against the benchmark's 6.7e-5 for the preset before
    # Since 2026-12-07 it starts at its model file's physics (physics_start, with its springs and dampers computed too:
    # known_passive), which is MuJoCo's step (float64: 100 steps at 1e-28 to 1e-14 MSE on cheetah, hopper, humanoid and
    # acrobot; results/model_file.md in float32), and its best checkpoint may be that start
    "acrobot": Preset(model_preset("small", n_correctors=1, known_actuation=True, known_inertia=True, known_bias=True,
                                   known_passive=True, physics_start=True),
                      min_stage_share=1.0),
    # cartpole too: its cart's rail is a limited slide (RK4 data: no implicit damping); 5 min, side by side: 2.9e-5
    # at H=100 against 1.8e-4 without (group "constraint")
    "cartpole": Preset(model_preset("small", n_correctors=1, limit_constraints=True)),
    # reacher solves its wrist's limit as MuJoCo does, with the damping implicit and the actuators' force known, so
    # the data identify M(q) (ModelConfig.limit_constraints; 2026-11-28, 5 min, one core each, side by side: 2.6e-7
    # and 8.9e-6 at H=100 against 9.2e-5 without; results/accuracy.md, group "constraint"). What is left for the
    # networks is smooth: without the corrector and with one residual block per network (two seeds, 5 min: 2.3e-6
    # and 1.4e-5; two blocks 1.9e-6 twice; the plain network 2.3e-5 in 20 min) its compiled batch-4096 rollout runs
    # 1.5x MuJoCo's on two cores, against 0.74x with the corrector and two blocks (1.0x without the corrector)
    # At twice the learning rate since 2026-12-07 (three seeds, 5 min, one core each, side by side; results/accuracy.md,
    # group "tuning"): lower at 3 and 16 steps and in the median 100-step window on every seed (H=16 9.0e-8 to 1.6e-7
    # against 2.9e-7 to 4.2e-7; median H=100 9.3e-8 to 1.7e-7 against 2.2e-7 to 4.4e-7); the mean at 100 steps, made
    # by a few windows, within the runs' spread (2.2e-7, 2.6e-5, 1.3e-5 against 2.3e-6, 1.4e-5, 6.3e-6); and half the
    # samples to an early error (results/model_speed.md, time to equal accuracy)
    "reacher": Preset(model_preset("small", n_correctors=0, inertia_blocks=1, force_blocks=1, limit_constraints=True),
                      lr=2e-3),
    "pendulum": Preset(model_preset("small", n_correctors=0), budget_min=3.0),
    # The bigger models train end to end: in a CPU budget the staged schedule leaves each network too little time.
    # cheetah-run, 20 min: 0.30 at H=100 against 0.43 staged; 5 min: hopper 0.69 against 0.91, panda 0.12 against
    # 0.39, humanoid 9.7 against a diverged rollout (the staged 5-min runs predate the data bounds; see
    # results/accuracy.md). Go2 stayed staged until it saw its contacts: end to end without them, 5 min, it fit
    # better at H=16 (0.38 against 0.59) but 4 of 1000 100-step windows sank through the floor (mean 30).
    # Cheetah, hopper and Go2 see their floor contacts (ModelConfig.contact_features; 2026-11-27, equal budgets, one
    # core each; results/accuracy.md, "Contact features"): cheetah 10 min 0.222 at H=100 against 0.325 without, go2
    # 5 min 0.576 against 1.03, hopper 5 min 0.378 against 0.624 (its earlier preset: the 8-step loss without
    # them; with them the 8-step loss scored 1.04, so hopper now trains on the one-step loss). Not humanoid: 5 min,
    # 21.7 against 9.46 (1.1M samples: the large model barely starts learning in that budget).
    # 2026-11-27, 5 min each, one core each (runs/exp, scored on the test split at H=100): Go2 end to end with its
    # contact features 0.356 [0.344, 0.370], no window leaving the floor, against 0.576 staged. Panda with its
    # actuator forces (ModelConfig.actuator_features): medium, one corrector 0.046 [0.042, 0.050]; large, three
    # correctors 0.078; medium, no corrector 0.158 (the large preset without them had 0.113, and the plain network
    # 0.065 large, 0.051 medium). Humanoid medium 8.45 [8.27, 8.64] against large 9.69 (more samples in the budget);
    # medium with contact features 13.7; medium with one corrector 8.89, small 8.44.
    # Cheetah, hopper and Go2 train at twice the default learning rate (2026-11-27, 5 min each, one core each,
    # side by side; results/accuracy.md, "Learning rate and batch size"): at H=100 cheetah 0.197 at lr 2e-3 against
    # 0.208 at 1e-3, 0.205 at 4e-3, 0.252 at 5e-4 (0.031 against 0.039 at H=16); hopper 0.244 against 0.282, 0.320
    # at 4e-3, 0.42 at 5e-4; go2 0.216 against 0.279. Batch 1024 at 2e-3 was no better (cheetah 0.212, hopper
    # 0.282).
    # Cheetah's M(q) is computed from its model file and its floor contacts solved as MuJoCo solves them
    # (ModelConfig.known_inertia, contact_constraints; 2026-12-06, one core each, side by side; results/accuracy.md,
    # group "known-inertia"): H=100 0.0618 in 10 min and 0.0453 in 20, against 0.168 with the contacts solved and M
    # learned and 0.186 for the preset before (10 min, "contact-solve"). A training step costs about 2.4x.
    # Its geoms could touch one another (19 pairs) but never do in its data (no step of its 30 test episodes), and
    # solving those pairs cost its batch-4096 rollout 1.4x eager and 1.7x compiled (2026-12-07, results/model_speed.md):
    # left to the networks (self_contacts=False), unlike hopper's
    # Its bias forces computed too (ModelConfig.known_bias; 2026-12-07, 5 min, one core, beside another run): H=100
    # 0.0408 [0.035, 0.047] and 4.4e-6 at 3 steps, against the benchmark's 0.0643 and 2.4e-4, on 7.7M samples
    # Since 2026-12-07 it starts at its model file's physics (physics_start, with its springs and dampers computed too:
    # known_passive), which is MuJoCo's step (float64: 100 steps at 1e-28 to 1e-14 MSE on cheetah, hopper, humanoid and
    # acrobot; results/model_file.md in float32), and its best checkpoint may be that start
    "cheetah": Preset(model_preset("medium", n_correctors=1, contact_features=True, contact_constraints=True,
                                   known_inertia=True, known_bias=True, self_contacts=False, known_passive=True,
                                   physics_start=True), schedule="end_to_end",
                      lr=2e-3),
    # Hopper the same (2026-12-06, 5 min, one core each, side by side, "known-inertia"): 0.165 [0.147, 0.186] at
    # H=100 against the preset before's 0.241 [0.219, 0.265]
    # Its bias forces computed too (ModelConfig.known_bias; 2026-12-07, 5 min, one core, beside another run): H=100
    # 0.0146 [0.0099, 0.0218] against the benchmark's 0.0426
    # Since 2026-12-07 it starts at its model file's physics (physics_start, with its springs and dampers computed too:
    # known_passive), which is MuJoCo's step (float64: 100 steps at 1e-28 to 1e-14 MSE on cheetah, hopper, humanoid and
    # acrobot; results/model_file.md in float32), and its best checkpoint may be that start
    "hopper": Preset(model_preset("medium", n_correctors=2, contact_features=True, contact_constraints=True,
                                  known_inertia=True, known_bias=True, known_passive=True, physics_start=True),
                     schedule="end_to_end", lr=2e-3),
    # The Go2's floor contacts solved on MuJoCo's elliptic cones (its feet's condim 6: spin and rolling rows too;
    # mosim.models.cones) with its limits and its joints' dry friction, M(q) computed (2026-12-07, 5 min: H=100 0.0420
    # against 0.198 for the preset before; docs/benchmarks.md). Its own bodies' contacts (boxes and cylinders, in 17%
    # of its states) stay with the networks. With its bias forces computed too (ModelConfig.known_bias, 5 min, beside
    # the humanoid's run) 0.0423 [0.038, 0.047], the same (its median window 0.014 against 0.020), so it stays off
    "go2": Preset(model_preset("medium", n_correctors=2, contact_features=True, contact_constraints=True,
                               known_inertia=True, self_contacts=False), schedule="end_to_end", lr=2e-3),
    # The Panda's joint limits and floor contacts solved, its actuators' forces known and M(q) computed (2026-12-07,
    # 5 min, one core each, two side by side; results/accuracy.md, group "implicit-actuators"): its implicitfast
    # integrator treats the velocity term of each unclipped position servo (kd up to 450) implicitly, which the solve
    # does too (mosim.models.actuation.velocity_damping). H=100 0.0316 [0.028, 0.036] with the limits solved against
    # 0.0453 [0.040, 0.051] for the preset before; the floor contacts solved too (boxes, capsules, cylinders: 2.9% of
    # its states, 78% of the squared one-step error left) 0.0232 [0.021, 0.025], 0.0254 without the actuators' forces
    # as features. Its fingers' contacts with each other (boxes) stay with the networks (self_contacts=False).
    # At twice the learning rate 0.0194 [0.018, 0.021] against 0.0232 [0.021, 0.025] (side by side)
    # Its Coriolis, centrifugal and gravity forces computed from the model file too (ModelConfig.known_bias,
    # mosim.models.bias; 2026-12-07, 5 min, one core each, side by side: `mosim train --data data/panda-random.h5
    # --preset panda [--known-bias]`): H=100 0.0069 [0.0063, 0.0075] against 0.0141 [0.0130, 0.0151], on 3.5M samples
    # against 5.5M (with the bias from forward-mode differentiation of the kinematics, since replaced by the cheaper
    # Newton-Euler pass)
    # Its fingers' equality (finger_joint1 = finger_joint2, a 5 ms solref) solved too (mosim.systems.equality;
    # 2026-12-07, the benchmark's row: H=100 0.00223 against 0.00836 without). Then nothing its model file says is
    # left to learn: with physics_start the untrained model is MuJoCo's step but where its fingers' boxes touch
    # each other (3.3% of the training states, all of the start's one-step loss), which the solve does not cover.
    # The networks fit those contacts' one-step errors at the rest's cost: 5 min, validation at 100 steps 1.6e-4 for
    # the start, 1.8e-3 at best after training at lr 2e-3, 2.0e-3 at 1e-4 and 1.1e-2 at 1e-5 (runs stopped at 3
    # min); so its best checkpoint is the start (test H=100 4.9e-6, median window 2.8e-12)
    "panda": Preset(model_preset("medium", n_correctors=1, actuator_features=True, limit_constraints=True,
                                 known_inertia=True, known_bias=True, contact_constraints=True, self_contacts=False,
                                 physics_start=True),
                    schedule="end_to_end", lr=2e-3),
    # The humanoid's floor contacts and its own bodies' (frictionless) contacts solved, with its limits, M(q) computed
    # (2026-12-07, 5 min, one core each; results/accuracy.md, group "humanoid-contacts"): H=100 4.68 [4.52, 4.86]
    # against 8.39 [8.19, 8.62] for the preset before (5.69 with the floor's alone); 0.036 against 0.92 at 3 steps.
    # At twice the learning rate 3.85 [3.71, 4.00], against 4.69 with one corrector at 1e-3 (side by side)
    # Its Coriolis, centrifugal and gravity forces computed too (ModelConfig.known_bias; 2026-12-07, 5 min, one core,
    # beside the Go2's run: `mosim train --data data/humanoid-walk-random.h5 --preset humanoid --known-bias`): H=100
    # 0.419 [0.388, 0.450], 7.7e-5 at 3 steps, against the benchmark's 3.90 for the preset before
    # Since 2026-12-07 it starts at its model file's physics (physics_start, with its springs and dampers computed too:
    # known_passive), which is MuJoCo's step (float64: 100 steps at 1e-28 to 1e-14 MSE on cheetah, hopper, humanoid and
    # acrobot; results/model_file.md in float32), and its best checkpoint may be that start
    "humanoid": Preset(model_preset("medium", n_correctors=3, contact_constraints=True, known_inertia=True,
                                    known_bias=True, known_passive=True, physics_start=True), schedule="end_to_end",
                       lr=2e-3),
    "tiny": Preset(model_preset("tiny"), budget_min=0.5, batch_size=128, val_every_steps=50),
    # For robots of one's own (docs/adding-a-robot.md): the model sizes alone, nothing read from a MuJoCo model
    # beyond the joint layout, any model step. small: staged as the small systems' presets; medium: end to end as the
    # robots' presets, at their learning rate.
    "small": Preset(model_preset("small", n_correctors=1)),
    "medium": Preset(model_preset("medium", n_correctors=1), schedule="end_to_end", lr=2e-3),
}


def get_preset(name: str, **overrides: Any) -> Preset:
    """A preset by name (``cheetah``; a system id such as ``cheetah-run`` picks its domain's preset, and a perturbed
    world's id, ``go2@mass=1.2``, its system's)."""
    name = nominal_id(name)
    key = name if name in PRESETS else name.split("-")[0]
    preset = lookup(PRESETS, key, "preset") if key in PRESETS else lookup(PRESETS, name, "preset")
    return replace(preset, **overrides) if overrides else preset
