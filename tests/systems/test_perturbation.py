"""Worlds that differ from their model file (``cheetah-run@mass:torso=1.25,...``): the changes are MuJoCo's own
fields scaled, the data record the perturbed world, and what a model reads from the model file stays nominal."""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest
import torch

import mosim
from mosim.errors import InvalidInputError
from mosim.models import build_model
from mosim.models.normalization import model_inputs
from mosim.presets import get_preset
from mosim.systems import make_system, nominal_id, with_mechanics
from mosim.systems.perturbation import Perturbation, split_id

WORLD = "cheetah-run@mass:torso=1.25,friction=0.6,gear=0.85,damping:bthigh=1.5"


def test_changes_scale_mujocos_fields() -> None:
    world, nominal = make_system(WORLD), make_system("cheetah-run")
    w, n = world.model, nominal.model
    torso = mujoco.mj_name2id(n, mujoco.mjtObj.mjOBJ_BODY, "torso")
    mass, inertia = n.body_mass.copy(), n.body_inertia.copy()
    mass[torso] *= 1.25
    inertia[torso] *= 1.25
    np.testing.assert_allclose(w.body_mass, mass)
    np.testing.assert_allclose(w.body_inertia, inertia)
    np.testing.assert_allclose(w.geom_friction[:, 0], 0.6 * n.geom_friction[:, 0])
    np.testing.assert_allclose(w.geom_friction[:, 1:], n.geom_friction[:, 1:])  # torsional, rolling: kept
    np.testing.assert_allclose(w.actuator_gear[:, 0], 0.85 * n.actuator_gear[:, 0])
    bthigh = n.jnt_dofadr[mujoco.mj_name2id(n, mujoco.mjtObj.mjOBJ_JOINT, "bthigh")]
    damping = n.dof_damping.copy()
    damping[bthigh] *= 1.5
    np.testing.assert_allclose(w.dof_damping, damping)
    # the derived constants computed again, as compiling the changed file would
    assert w.body_subtreemass[0] == pytest.approx(n.body_subtreemass[0] + 0.25 * n.body_mass[torso])
    assert world.system_id == WORLD and nominal_id(WORLD) == "cheetah-run"


def test_every_object_and_the_world_body() -> None:
    """Without a name the change covers every object of its kind, except the world body (mass 0 stays 0)."""
    w, n = make_system("reacher-easy@mass=2").model, make_system("reacher-easy").model
    np.testing.assert_allclose(w.body_mass, 2 * n.body_mass)
    assert w.body_mass[0] == 0


def test_the_perturbed_world_moves_otherwise() -> None:
    world, nominal = make_system(WORLD), make_system("cheetah-run")
    for s in (world, nominal):
        s.reset(seed=3)
    qpos, qvel = nominal.get_state()
    world.set_state(qpos, qvel)
    action = np.full(world.nu, 0.7)
    for _ in range(20):
        a, b = world.step(action), nominal.step(action)
    assert np.abs(a[1] - b[1]).max() > 0.1


def test_models_read_the_nominal_model_file(tmp_path) -> None:
    """A dataset of the perturbed world keeps its id; the mechanics a model reads are the nominal file's, so an
    untrained model at the model file's physics steps as the nominal cheetah does, not as its data."""
    out = tmp_path / "world.h5"
    mosim.collect(mosim.CollectConfig(system=WORLD, out=str(out), episodes=2, steps=100, workers=1, seed=1),
                  progress=False)
    data = mosim.load_dataset(out, system=WORLD)
    assert data.spec.system_id == WORLD
    spec = with_mechanics(data.spec, inertias=True, actuation=True)
    nominal = make_system("cheetah-run")
    world = make_system(WORLD)
    assert spec.inertias == nominal.inertias != world.inertias
    assert spec.actuation == nominal.actuation != world.actuation

    config = replace(get_preset(WORLD).model, physics_start=True, known_passive=True, bound_to_data=False)
    spec, stats = model_inputs(data, config)
    model = build_model(spec, config, stats).double()
    q, v, a = (torch.tensor(x[:, :50].reshape(-1, x.shape[-1])) for x in (data.qpos, data.qvel, data.action))
    m, d = nominal.model, mujoco.MjData(nominal.model)
    want = []
    for qi, vi, ai in zip(q.numpy(), v.numpy(), a.numpy()):
        d.qpos[:], d.qvel[:], d.ctrl[:] = qi, vi, ai
        mujoco.mj_step(m, d, nstep=nominal.spec().substeps)
        want.append(d.qvel.copy())
    with torch.no_grad():
        _, ours = model.step(q, v, a)
    np.testing.assert_allclose(ours.numpy(), np.array(want), atol=1e-6)
    assert np.abs(ours.numpy() - data.qvel[:, 1:51].reshape(-1, m.nv)).max() > 0.05  # the world's own steps


@pytest.mark.parametrize("text, match", [
    ("weight=2", "field one of"), ("mass", "field one of"), ("mass=-1", ">= 0"), ("gear=0", "> 0"),
    ("mass=abc", ">= 0"), ("friction=nan", ">= 0"), (",", "no change"),
])
def test_bad_changes_are_named(text, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        Perturbation.parse(text)


def test_an_unknown_name_lists_the_models_own() -> None:
    with pytest.raises(InvalidInputError, match="'torso'"):
        make_system("cheetah-run@mass:tail=2")


def test_ids_without_changes() -> None:
    assert split_id("cheetah-run") == ("cheetah-run", None)
    assert split_id("mjcf:/a@b/robot.xml") == ("mjcf:/a@b/robot.xml", None)
    base, p = split_id("go2@mass=1.2")
    assert base == "go2" and str(p) == "mass=1.2"
    assert get_preset("go2@mass=1.2") == get_preset("go2")
