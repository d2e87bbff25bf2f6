"""Systems against MuJoCo and dm_control as the oracles."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from mosim.errors import InvalidInputError, UnknownNameError
from mosim.systems import JointLayout, SystemSpec, make_system

SYSTEMS = ["cheetah-run", "humanoid-walk", "acrobot-swingup", "go2", "panda"]


@pytest.fixture(scope="module", params=SYSTEMS)
def system(request):
    return make_system(request.param)


def random_state(system, rng):
    system.reset(int(rng.integers(1 << 30)))
    for _ in range(5):
        system.step(rng.uniform(system.action_low, system.action_high))
    return system.get_state()


def test_set_get_state_round_trip(system):
    rng = np.random.default_rng(0)
    q, v = random_state(system, rng)
    system.reset(123)
    system.set_state(q, v)
    q2, v2 = system.get_state()
    np.testing.assert_array_equal(q, q2)
    np.testing.assert_array_equal(v, v2)


def test_step_is_deterministic_from_a_set_state(system):
    rng = np.random.default_rng(1)
    q, v = random_state(system, rng)
    a = rng.uniform(system.action_low, system.action_high)
    system.set_state(q, v)
    first = system.step(a)
    system.set_state(q, v)
    second = system.step(a)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_reset_is_seeded(system):
    a = system.reset(7)
    b = system.reset(7)
    c = system.reset(8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))


@pytest.mark.parametrize("system_id", ["cheetah-run", "hopper-hop", "reacher-easy", "cartpole-balance"])
def test_dmc_step_reward_and_observation_equal_dm_control(system_id):
    """Our stepping, reward and observation equal dm_control's own environment, step by step."""
    from dm_control import suite

    domain, task = system_id.split("-")
    env = suite.load(domain, task, task_kwargs={"random": 3})
    ts = env.reset()
    system = make_system(system_id)
    system.reset(0)
    # same task randomization (reacher's target lives in the model)
    system.model.geom_pos[:] = env.physics.model.geom_pos
    system.set_state(env.physics.data.qpos.copy(), env.physics.data.qvel.copy())
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.uniform(system.action_low, system.action_high)
        ts = env.step(a)
        q, v = system.step(a)
        np.testing.assert_allclose(q, env.physics.data.qpos, rtol=0, atol=1e-12)
        np.testing.assert_allclose(v, env.physics.data.qvel, rtol=0, atol=1e-12)
        assert system.reward(q, v, a) == pytest.approx(ts.reward, abs=1e-12)
        ours = system.observation_dict(q, v)
        for key, value in ts.observation.items():
            if key == "touch":
                # dm_control reads acceleration-stage sensors one physics step stale (after mj_step2 of
                # the last substep); ours are evaluated at the state itself
                continue
            np.testing.assert_allclose(ours[key], value, atol=1e-12, err_msg=key)
        # what an env step uses: both from one evaluation of the state, equal to the two separate calls
        reward, flat = system.reward_and_observation(q, v, a)
        assert reward == system.reward(q, v, a)
        np.testing.assert_array_equal(flat, system.observation(q, v))


def test_menagerie_step_equals_raw_mujoco():
    import os

    system = make_system("go2")
    root = os.environ["MENAGERIE_ROOT"]
    model = mujoco.MjModel.from_xml_path(os.path.join(root, "unitree_go2", "scene.xml"))
    data = mujoco.MjData(model)
    q0, v0 = system.reset(5)
    data.qpos[:], data.qvel[:] = q0, v0
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.uniform(system.action_low, system.action_high)
        q, v = system.step(a)
        data.ctrl[:] = a
        mujoco.mj_step(model, data)
        np.testing.assert_array_equal(q, data.qpos)
        np.testing.assert_array_equal(v, data.qvel)


def test_substeps_and_dt():
    hopper = make_system("hopper-hop")
    assert hopper.substeps == 4 and hopper.dt == pytest.approx(0.02)
    fine = make_system("hopper-hop", substeps=1)
    assert fine.dt == pytest.approx(0.005)
    go2 = make_system("go2", substeps=10)
    assert go2.dt == pytest.approx(0.02)
    # k substeps equal k single physics steps
    fine.reset(0)
    coarse = make_system("hopper-hop", substeps=3)
    q0, v0 = coarse.reset(0)
    fine.set_state(q0, v0)
    a = np.full(fine.nu, 0.3)
    for _ in range(3):
        q1, v1 = fine.step(a)
    q2, v2 = coarse.step(a)
    np.testing.assert_array_equal(q1, q2)
    np.testing.assert_array_equal(v1, v2)


def test_menagerie_reset_is_near_home_and_bounds_are_ctrlrange():
    panda = make_system("panda")
    home = panda.model.key_qpos[0]
    for seed in range(5):
        q, _ = panda.reset(seed)
        assert np.max(np.abs(q - home)) <= 0.2 + 1e-12
    np.testing.assert_array_equal(panda.action_low, panda.model.actuator_ctrlrange[:, 0])
    go2 = make_system("go2")
    q, _ = go2.reset(0)
    assert abs(np.linalg.norm(q[3:7]) - 1) < 1e-12 and 0.2 < q[2] < 0.3


def test_layout_matches_model_and_round_trips():
    humanoid = make_system("humanoid-walk")
    lay = humanoid.layout
    assert lay.types[0] == 0 and lay.nq == 28 and lay.nv == 27
    assert lay.horizontal_root_qpos() == [0, 1]
    assert JointLayout.from_json(lay.to_json()) == lay
    spec = humanoid.spec()
    assert SystemSpec.from_json(spec.to_json()) == spec
    assert make_system("cheetah-run").layout.horizontal_root_qpos() == [0]
    assert make_system("cartpole-balance").layout.horizontal_root_qpos() == []  # the cart has rails


def test_mjcf_file_system(arm_xml):
    s = make_system(f"mjcf:{arm_xml}")
    assert (s.nq, s.nv, s.nu) == (2 + 4 + 7, 2 + 3 + 6, 2)
    q, v = s.reset(0)
    assert np.max(np.abs(q[:2] - [0.3, -0.5])) <= 0.1 + 1e-12
    s.step(np.array([0.5, -0.5]))
    assert not s.has_task
    np.testing.assert_array_equal(s.observation(q, v), np.concatenate([q, v]))


def test_unknown_system_suggests_close_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'cheetah-run'"):
        make_system("cheetah-rn")
    with pytest.raises(InvalidInputError, match="does not exist"):
        make_system("mjcf:/no/such/robot.xml")


def test_bad_state_and_action_are_clear_errors():
    s = make_system("cheetah-run")
    s.reset(0)
    with pytest.raises(InvalidInputError, match=r"qpos must have shape \(9,\)"):
        s.set_state(np.zeros(8), np.zeros(9))
    with pytest.raises(InvalidInputError, match="NaN"):
        s.set_state(np.full(9, np.nan), np.zeros(9))
    with pytest.raises(InvalidInputError, match="action"):
        s.step(np.zeros(3))
