"""Actuator features: our actuator forces against MuJoCo's own ``qfrc_actuator``, and models that use them."""

from __future__ import annotations

from dataclasses import replace

import mujoco
import numpy as np
import pytest
import torch
from model_helpers import TINY

import mosim
from mosim.errors import InvalidInputError
from mosim.models import build_model, compute_normalization
from mosim.models.actuation import ActuatorForces
from mosim.systems import make_system, with_actuation
from mosim.systems.actuation import Actuation
from mosim.systems.base import SystemSpec

# Every case the formula covers: a motor with a gear, a position servo with force limits on a slide, a velocity
# servo without a control clamp, a fixed tendon coupling two hinges, and a joint whose summed actuator force is
# clipped (actuatorfrcrange).
SERVOS_XML = """
<mujoco>
  <worldbody>
    <body name="a">
      <joint name="h1" type="hinge" axis="0 1 0" actuatorfrcrange="-3 2"/>
      <geom type="capsule" fromto="0 0 0 .3 0 0" size=".03"/>
      <body name="b" pos=".3 0 0">
        <joint name="s1" type="slide" axis="1 0 0"/>
        <geom type="box" size=".05 .05 .05"/>
        <body name="c" pos=".1 0 0">
          <joint name="h2" type="hinge" axis="0 0 1"/>
          <geom type="capsule" fromto="0 0 0 .2 0 0" size=".02"/>
        </body>
      </body>
    </body>
  </worldbody>
  <tendon>
    <fixed name="coupled"><joint joint="h1" coef=".7"/><joint joint="h2" coef="-1.3"/></fixed>
  </tendon>
  <actuator>
    <motor joint="h1" gear="2.5" ctrlrange="-1 1"/>
    <position joint="s1" kp="40" kv="3" ctrlrange="-.2 .2" forcerange="-5 6"/>
    <velocity joint="h2" kv="2" ctrllimited="false"/>
    <general tendon="coupled" gear="1.5" gainprm="7" biastype="affine" biasprm="0.3 -8 -0.5" ctrlrange="-2 2"
             forcerange="-4 4"/>
  </actuator>
</mujoco>
"""


def _random_states(model: mujoco.MjModel, n: int, seed: int = 0):
    """States and controls that reach every clip: speeds up to a few rad/s, controls 20% past their ranges."""
    rng = np.random.default_rng(seed)
    data = mujoco.MjData(model)
    lo, hi = model.actuator_ctrlrange.T
    for _ in range(n):
        data.qpos[:] = model.qpos0 + rng.normal(size=model.nq) * 0.5
        data.qvel[:] = rng.normal(size=model.nv) * 2.0
        data.ctrl[:] = np.where(model.actuator_ctrllimited, lo + (hi - lo) * rng.uniform(-0.2, 1.2, size=model.nu),
                                rng.normal(size=model.nu) * 3.0)
        mujoco.mj_forward(model, data)
        yield data.qpos.copy(), data.qvel.copy(), data.ctrl.copy(), data.qfrc_actuator.copy()


@pytest.fixture(scope="module")
def models() -> dict[str, mujoco.MjModel]:
    out = {name: make_system(name).model for name in ("panda", "go2", "cheetah-run")}
    out["servos"] = mujoco.MjModel.from_xml_string(SERVOS_XML)
    return out


@pytest.mark.parametrize("name", ["panda", "go2", "cheetah-run", "servos"])
def test_actuator_forces_are_mujocos(models, name):
    model = models[name]
    forces = ActuatorForces(Actuation.from_model(model))
    q, v, a, want = (np.stack(x) for x in zip(*_random_states(model, 64)))
    got = forces(*(torch.from_numpy(x) for x in (q, v, a))).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    if name in ("panda", "servos"):  # the states reach the force limits: the clip is exercised
        assert not Actuation.from_model(model).is_linear


def test_every_clip_of_the_servos_is_reached(models):
    model = models["servos"]
    act = Actuation.from_model(model)
    assert act.force_range[1] == (-5.0, 6.0) and act.ctrl_range[2] == (-np.inf, np.inf)
    assert act.dof_force_range[0] == (-3.0, 2.0)
    qfrc = np.stack([f for *_, f in _random_states(model, 200)])
    assert np.isclose(qfrc[:, 0], -3.0).any() and np.isclose(qfrc[:, 0], 2.0).any()


def test_unsupported_actuators_get_a_clear_error():
    xml = SERVOS_XML.replace('<velocity joint="h2" kv="2" ctrllimited="false"/>',
                             '<general name="muscle" joint="h2" dyntype="filter" dynprm="0.1"/>')
    with pytest.raises(InvalidInputError, match="'muscle'.*activation dynamics.*--no-actuator-features"):
        Actuation.from_model(mujoco.MjModel.from_xml_string(xml))


def test_actuation_json_round_trip_keeps_the_unlimited_ranges(models):
    act = Actuation.from_model(models["servos"])
    text = act.to_json()
    assert "Infinity" not in text  # standard JSON: unlimited ranges are null
    assert Actuation.from_json(text) == act
    with pytest.raises(InvalidInputError, match="actuation"):
        Actuation.from_dict({"gain": [1.0]})


def test_spec_json_keeps_the_actuation_only_when_set():
    spec = make_system("cheetah-run").spec()
    assert "actuation" not in spec.to_json()
    full = with_actuation(spec)
    assert full.actuation is not None and full == spec  # not compared: a dataset's spec still matches
    assert SystemSpec.from_json(full.to_json()).actuation == full.actuation


def test_actuator_forces_have_gradients():
    model = mujoco.MjModel.from_xml_string(SERVOS_XML)
    forces = ActuatorForces(Actuation.from_model(model))
    q, v, a, _ = next(_random_states(model, 1, seed=3))
    inputs = tuple(torch.tensor(x * 0.1, requires_grad=True) for x in (q, v, a))  # inside the clips
    assert torch.autograd.gradcheck(forces, inputs)


def test_a_model_with_actuator_features_needs_the_actuation():
    spec = make_system("cheetah-run").spec()
    with pytest.raises(InvalidInputError, match="with_actuation"):
        build_model(spec, replace(TINY, actuator_features=True))
    with pytest.raises(InvalidInputError, match="actuator_features"):
        mosim.models.ModelConfig(kind="rssm", actuator_features=True)


@pytest.fixture(scope="module")
def panda_data(tmp_path_factory: pytest.TempPathFactory) -> mosim.Dataset:
    out = tmp_path_factory.mktemp("data") / "panda.h5"
    cfg = mosim.CollectConfig(system="panda", out=str(out), episodes=6, steps=100, workers=1, seed=1)
    return mosim.load_dataset(mosim.collect(cfg, progress=False, overwrite=True))


def test_normalization_of_actuator_features(panda_data):
    spec = with_actuation(panda_data.spec)
    stats = compute_normalization(panda_data, actuation=spec.actuation)
    nu, nv = spec.nu, spec.nv
    assert stats.action.dim == nu + nv
    plain = compute_normalization(panda_data)
    torch.testing.assert_close(plain.action.mean, stats.action.mean[:nu], rtol=1e-12, atol=1e-12)
    # the Panda's arm joints run at their force limits under random targets: the forces span them
    assert stats.action.high[nu] == pytest.approx(87.0) and stats.action.low[nu] == pytest.approx(-87.0)


@pytest.mark.parametrize("kind", ["structured", "plain_delta"])
def test_checkpoint_with_actuator_features_predicts_the_same_without_the_system(panda_data, tmp_path, kind,
                                                                                monkeypatch):
    from mosim.presets import get_preset
    from mosim.training.trainer import train

    config = replace(TINY, kind=kind, actuator_features=True, n_correctors=0 if kind == "plain_delta" else 1)
    preset = replace(get_preset("tiny"), model=config, schedule="end_to_end", val_every_steps=10)
    result = train(panda_data, config, preset.train_config(max_steps=20), tmp_path / kind, progress=False)
    sim = mosim.load(result.best_path)
    q0, v0, actions = panda_data.qpos[:4, 0], panda_data.qvel[:4, 0], panda_data.action[:4, :10]
    q, _ = sim.rollout(q0, v0, actions)
    want = with_actuation(panda_data.spec).actuation
    monkeypatch.setenv("MENAGERIE_ROOT", str(tmp_path / "nowhere"))  # the robot's files are not needed to load
    again = mosim.load(result.best_path)
    assert again.spec.actuation == want
    assert again.model.features.actuator is not None
    q2, _ = again.rollout(q0, v0, actions)
    assert torch.equal(torch.as_tensor(q), torch.as_tensor(q2))
