"""Learned factors on the model file's constants (``ModelConfig.identify``): they start at 1, where the model is the
file's physics; set to a perturbed world's changes, the nominal model steps as MuJoCo steps that world; the data
move them toward it."""

from __future__ import annotations

import math
from dataclasses import replace

import mujoco
import numpy as np
import pytest
import torch

import mosim
from mosim.errors import InvalidInputError, UnknownNameError
from mosim.models import ModelConfig, build_model
from mosim.models.identified import IDENTIFIABLE
from mosim.models.normalization import model_inputs
from mosim.presets import get_preset
from mosim.systems import make_system

WORLD = "cheetah-run@mass:torso=1.25,friction=0.6,gear=0.85,damping=1.5"
ALL = ("mass", "actuators", "damping", "friction")


@pytest.fixture(scope="module")
def world_data(tmp_path_factory: pytest.TempPathFactory) -> mosim.Dataset:
    out = tmp_path_factory.mktemp("data") / "world.h5"
    mosim.collect(mosim.CollectConfig(system=WORLD, out=str(out), episodes=3, steps=200, workers=1, seed=2),
                  progress=False)
    return mosim.load_dataset(out, system=WORLD)


def _model(data: mosim.Dataset, identify: tuple[str, ...]) -> torch.nn.Module:
    config = replace(get_preset("cheetah").model, physics_start=True, bound_to_data=False, identify=identify)
    spec, stats = model_inputs(data, config)
    torch.manual_seed(0)
    return build_model(spec, config, stats).double()


def _states(data: mosim.Dataset, n: int = 120) -> tuple[torch.Tensor, ...]:
    return tuple(torch.tensor(x[:, :n].reshape(-1, x.shape[-1])) for x in (data.qpos, data.qvel, data.action))


def test_the_factors_start_at_the_model_files_physics(world_data) -> None:
    q, v, a = _states(world_data)
    with torch.no_grad():
        want = _model(world_data, ())._step(q, v, a)
        got = _model(world_data, ALL)._step(q, v, a)
    for x, y in zip(got, want):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-12)
    assert _model(world_data, ALL).identified() == {
        "mass": [1.0] * 7, "actuators": [1.0] * 6, "damping": [1.0] * 9, "friction": [1.0] * 8}


def test_set_to_the_worlds_changes_the_model_steps_as_that_world(world_data) -> None:
    """The nominal file's model, its factors set to the world's changes (the torso's mass, every pair's friction --
    MuJoCo mixes the floor's and the geom's by their maximum, both scaled --, every motor's gear, every dof's
    damping): its step is MuJoCo's step of the perturbed world, contacts included."""
    model = _model(world_data, ALL)
    world, nominal = make_system(WORLD), make_system("cheetah-run")
    torso = mujoco.mj_name2id(nominal.model, mujoco.mjtObj.mjOBJ_BODY, "torso")
    with torch.no_grad():
        model.known_inertia.mass_scale.log_scale[torso - 1] = math.log(1.25)  # the world body has no factor
        model.limit_solver.contacts.friction_scale.log_scale.fill_(math.log(0.6))
        model.known_actuation.strength.log_scale.fill_(math.log(0.85))
        model.limit_solver.damping_scale.log_scale.fill_(math.log(1.5))
    q, v, a = _states(world_data)
    m, d = world.model, mujoco.MjData(world.model)
    want, touching = [], 0
    for qi, vi, ai in zip(q.numpy(), v.numpy(), a.numpy()):
        d.qpos[:], d.qvel[:], d.ctrl[:] = qi, vi, ai
        mujoco.mj_step(m, d, nstep=world.spec().substeps)
        touching += int(d.ncon > 0)
        want.append(d.qvel.copy())
    assert touching > 50
    with torch.no_grad():
        _, ours = model._step(q, v, a)
        _, start = _model(world_data, ALL)._step(q, v, a)
    np.testing.assert_allclose(ours.numpy(), np.array(want), atol=1e-7)
    assert np.abs(start.numpy() - np.array(want)).max() > 0.1  # the nominal file's step is not the world's


def test_the_data_identify_the_world(world_data) -> None:
    """Fitting only the factors to the world's one-step velocities (the networks at zero output) finds the world's
    changes: the motors' 0.85, the torso's 1.25, the damped dofs' 1.5, and 0.6 on the pairs that slid."""
    model = _model(world_data, ALL)
    factors = [m.log_scale for m in model.modules() if hasattr(m, "log_scale")]
    assert len(factors) == 4
    q, v, a = _states(world_data, 100)
    target = torch.tensor(world_data.qvel[:, 1:101].reshape(-1, 9))
    opt = torch.optim.Adam(factors, lr=0.05)
    for _ in range(100):
        opt.zero_grad()
        loss = ((model._step(q, v, a)[1] - target) ** 2).mean()
        loss.backward()
        opt.step()
    found = {k: np.array(f) for k, f in model.identified().items()}
    nominal = make_system("cheetah-run").model
    torso = mujoco.mj_name2id(nominal, mujoco.mjtObj.mjOBJ_BODY, "torso") - 1
    np.testing.assert_allclose(found["actuators"], 0.85, atol=0.02)
    assert abs(found["mass"][torso] - 1.25) < 0.05
    np.testing.assert_allclose(found["damping"][nominal.dof_damping > 0], 1.5, atol=0.05)
    assert found["friction"].min() < 0.7


def test_mosim_train_identify(world_data, tmp_path, capsys) -> None:
    """``mosim train --identify``: the checkpoint keeps the config and the factors, trained with the networks, and
    the command prints them."""
    from mosim.cli import main

    rc = main(["train", "--data", str(world_data.path), "--preset", "cheetah", "--size", "tiny", "--identify", "mass",
               "friction", "--max-steps", "4", "--val-every", "2", "--out", str(tmp_path), "--no-score", "--quiet"])
    assert rc == 0
    assert "identified mass factors" in capsys.readouterr().out
    last = mosim.load(tmp_path / "last.pt").model
    assert last.config.identify == ("mass", "friction")
    assert any(f != 1.0 for f in last.identified()["mass"])


def test_the_factors_learn_at_their_own_rate(world_data) -> None:
    """The optimizer's second group holds the factors, at factor_lr_scale times the networks' rate."""
    from mosim.models.identified import optimizer_groups
    from mosim.rl.finetune import FinetuneConfig, finetune
    from mosim.training.config import TrainConfig

    model = _model(world_data, ("mass", "friction"))
    nets, factors = optimizer_groups(model, model.configure_stage(None), 4.0)
    assert "lr_scale" not in nets and factors["lr_scale"] == 4.0
    assert sum(p.numel() for p in factors["params"]) == 7 + 8
    plain = _model(world_data, ())
    assert len(optimizer_groups(plain, list(plain.parameters()), 4.0)) == 1
    config = get_preset("cheetah").train_config(max_steps=1)
    with pytest.raises(InvalidInputError, match="factor_lr_scale"):
        replace(config, factor_lr_scale=0.0)
    assert TrainConfig.factor_lr_scale == FinetuneConfig.factor_lr_scale == 10.0
    # fine-tuning on real steps (mosim rl few-shot) moves the factors too, at their own rate
    model = _model(world_data, ("actuators",)).float()
    finetune(model, world_data, steps=20, lr=1e-3)
    assert np.abs(np.array(model.identified()["actuators"]) - 1).max() > 0.05


def test_identify_is_checked() -> None:
    with pytest.raises(UnknownNameError, match="identifiable"):
        ModelConfig(identify=("weight",))
    with pytest.raises(InvalidInputError, match="known_inertia"):
        ModelConfig(identify=("mass",))
    with pytest.raises(InvalidInputError, match="contact_constraints"):
        replace(get_preset("reacher").model, identify=("friction",))
    assert set(IDENTIFIABLE) == set(ALL)


def test_the_cli_offers_every_constant() -> None:
    import argparse

    from mosim.cli.train_cmd import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    action = next(a for a in p._actions if a.dest == "identify")
    assert tuple(action.choices) == IDENTIFIABLE


def test_a_floating_robot_on_elliptic_cones(tmp_path) -> None:
    """Go2 (a free joint, the heading frame, elliptic cones, dry friction): at factors 1 the step is the model's
    without them (to the cone solve's tolerance: the invweight0 computed again differ from the file's in the last
    digits); its factors move it, and the free joint's invweight0 averages as MuJoCo's."""
    out = tmp_path / "go2.h5"
    mosim.collect(mosim.CollectConfig(system="go2", out=str(out), episodes=2, steps=60, workers=1, seed=1),
                  progress=False)
    data = mosim.load_dataset(out)
    config = replace(get_preset("go2").model, known_bias=True, known_passive=True, physics_start=True,
                     bound_to_data=False)
    spec, stats = model_inputs(data, config)
    plain = build_model(spec, config, stats).double()
    model = build_model(spec, replace(config, identify=ALL), stats).double()
    model.load_state_dict(plain.state_dict(), strict=False)
    q, v, a = _states(data, 60)
    with torch.no_grad():
        want = plain._step(q, v, a)[1]
        torch.testing.assert_close(model._step(q, v, a)[1], want, rtol=0, atol=1e-7)
        model.limit_solver.contacts.friction_scale.log_scale.fill_(math.log(0.3))
        assert (model._step(q, v, a)[1] - want).abs().max() > 1e-3
    dof, body = model.known_inertia.invweights(torch.float64)
    nominal = make_system("go2").model
    np.testing.assert_allclose(dof.detach().numpy(), nominal.dof_invweight0, rtol=1e-9)
    np.testing.assert_allclose(body.detach().numpy(), nominal.body_invweight0[1:, 0], rtol=1e-9)
