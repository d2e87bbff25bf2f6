"""A model that starts at the model file's physics (``ModelConfig.physics_start``): untrained, the Panda's step is
MuJoCo's, and a training run that only makes it worse keeps the start as its best checkpoint."""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest
import torch

import mosim
from mosim.errors import InvalidInputError
from mosim.models import ModelConfig, build_model
from mosim.models.normalization import model_inputs
from mosim.presets import get_preset
from mosim.systems import make_system
from mosim.training.trainer import train


@pytest.fixture(scope="module")
def panda_data(tmp_path_factory: pytest.TempPathFactory) -> mosim.Dataset:
    out = tmp_path_factory.mktemp("data") / "panda.h5"
    mosim.collect(mosim.CollectConfig(system="panda", out=str(out), episodes=6, steps=100, workers=1, seed=2),
                  progress=False)
    return mosim.load_dataset(out)


def _fingers_apart(model: mujoco.MjModel, data: mujoco.MjData) -> bool:
    """No contact between the robot's own bodies (its fingers' boxes: the one thing the model leaves out)."""
    return all(model.geom_bodyid[c.geom[0]] == 0 for c in data.contact[:data.ncon])


def test_untrained_panda_steps_as_mujoco(panda_data) -> None:
    """Everything the Panda's step depends on computed from its model file (M(q), the bias forces, the servos with
    implicitfast's damping, the limits, the fingers' equality, the floor contacts): the untrained model's step is
    MuJoCo's on the data's states (the floor contacts' share: tests/models/test_model_contacts.py); the preset
    without physics_start is not."""
    config = replace(get_preset("panda").model, physics_start=True)
    spec, stats = model_inputs(panda_data, config)
    model = build_model(spec, config, stats).double()
    shifted = build_model(spec, replace(config, physics_start=False), stats).double()
    with torch.no_grad():  # the same networks at zero output, with the data's mean acceleration
        for p in shifted.parameters():
            p.zero_()
    system = make_system("panda")
    m, d = system.model, mujoco.MjData(system.model)
    rows, want = [], []
    for qi, vi, ai in zip(panda_data.qpos[:, :-1].reshape(-1, m.nq), panda_data.qvel[:, :-1].reshape(-1, m.nv),
                          panda_data.action.reshape(-1, m.nu)):
        d.qpos[:], d.qvel[:], d.ctrl[:] = qi, vi, ai
        mujoco.mj_forward(m, d)
        if not _fingers_apart(m, d):
            continue
        rows.append((qi, vi, ai))
        mujoco.mj_step(m, d)
        want.append(d.qvel.copy())
    assert len(rows) > 300
    q, v, a = (torch.tensor(np.array(x)) for x in zip(*rows))
    with torch.no_grad():
        _, ours = model.step(q, v, a)
        _, off = shifted.step(q, v, a)
    want = np.array(want)
    scale = np.abs(want).max(-1, keepdims=True) + 1.0
    np.testing.assert_allclose(ours.numpy() / scale, want / scale, atol=1e-8)
    assert np.abs(off.numpy() - want).max() > 1e-3  # the mean acceleration, a force the networks must cancel


def test_physics_start_needs_every_force_known() -> None:
    with pytest.raises(InvalidInputError, match="known_bias"):
        ModelConfig(physics_start=True)


def test_a_run_that_makes_it_worse_keeps_the_start(panda_data, tmp_path) -> None:
    """The untrained model is validated before the first step: where training only makes it worse (a learning rate
    of 1), best.pt is the start, whose force network's output layer is still zero."""
    preset = get_preset("panda")
    preset = replace(preset, lr=1.0, val_every_steps=3, model=replace(preset.model, physics_start=True, force_width=16, force_blocks=1,
                                                   corrector_width=16, corrector_blocks=1))
    result = train(panda_data, preset.model, preset.train_config(max_steps=6), tmp_path,
                   progress=False)
    best = mosim.load(result.best_path).model
    assert torch.count_nonzero(best.predictor.force.output.weight) == 0
    last = mosim.load(tmp_path / "last.pt").model
    assert torch.count_nonzero(last.predictor.force.output.weight) > 0


def test_untrained_cheetah_steps_as_mujoco(tmp_path) -> None:
    """Cheetah's springs computed too (known_passive): the untrained model's step is MuJoCo's, floor contacts
    included; physics_start without the springs is refused, naming them."""
    out = tmp_path / "cheetah.h5"
    mosim.collect(mosim.CollectConfig(system="cheetah-run", out=str(out), episodes=3, steps=200, workers=1, seed=2),
                  progress=False)
    data = mosim.load_dataset(out)
    config = replace(get_preset("cheetah").model, physics_start=True, known_passive=True,
                     bound_to_data=False)  # these few steps' range of accelerations: narrower than MuJoCo's steps'
    spec, stats = model_inputs(data, config)
    model = build_model(spec, config, stats).double()
    q, v, a = (torch.tensor(x[:, :-1 if x is not data.action else None].reshape(-1, x.shape[-1]))
               for x in (data.qpos, data.qvel, data.action))
    system = make_system("cheetah-run")
    m, d = system.model, mujoco.MjData(system.model)
    want, touching = [], 0
    for qi, vi, ai in zip(q.numpy(), v.numpy(), a.numpy()):
        d.qpos[:], d.qvel[:], d.ctrl[:] = qi, vi, ai
        for _ in range(system.spec().substeps):
            mujoco.mj_step(m, d)
        touching += int(d.ncon > 0)
        want.append(d.qvel.copy())
    assert touching > 100
    with torch.no_grad():
        _, ours = model.step(q, v, a)
    want = np.array(want)
    scale = np.abs(want).max(-1, keepdims=True) + 1.0
    np.testing.assert_allclose(ours.numpy() / scale, want / scale, atol=1e-9)
    with pytest.raises(InvalidInputError, match="springs or dampers"):
        build_model(spec, replace(config, known_passive=False), stats)


@pytest.mark.parametrize("system, preset", [("cheetah-run", "cheetah"), ("go2", "go2")])
def test_a_diverging_state_rolls_out_to_nan_beside_the_others(system: str, preset: str, tmp_path) -> None:
    """A state that overflows (a diverged rollout of a learned model) makes its computed ``M(q)`` and its contact
    solve's factorizations fail: its rollout goes to NaN, as a network's does, and the batch's other states are
    the same as without it (before, the factorization raised for the whole batch, and the benchmark's scoring of a
    trained Go2 with it)."""
    out = tmp_path / f"{system}.h5"
    mosim.collect(mosim.CollectConfig(system=system, out=str(out), episodes=3, steps=10, workers=1, seed=0),
                  progress=False)
    ds = mosim.load_dataset(out)
    config = get_preset(preset).model
    model = build_model(*model_inputs(ds, config)[:1], config, model_inputs(ds, config)[1])
    q, v = torch.tensor(ds.qpos[:, 0], dtype=torch.float32), torch.tensor(ds.qvel[:, 0], dtype=torch.float32)
    actions = torch.tensor(ds.action[:, :5], dtype=torch.float32)
    wild = v.clone()
    wild[1] = 1e30
    with torch.no_grad():
        _, v_wild = model.rollout(q, wild, actions)
        _, v_calm = model.rollout(q[[0, 2]], v[[0, 2]], actions[[0, 2]])
    assert bool(torch.isnan(v_wild[1, -1]).all())
    torch.testing.assert_close(v_wild[[0, 2]], v_calm, rtol=1e-4, atol=1e-4)
