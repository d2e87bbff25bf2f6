"""MosimEnv: the Gymnasium API, determinism, the task's own observation and reward on predicted states,
time step and length, divergence, penalties, rendering, registration and clear errors."""

from __future__ import annotations

import warnings

import gymnasium
from gymnasium.utils.env_checker import check_env as gym_check_env
import numpy as np
import pytest

import mosim
from mosim.ensemble import EnsembleSimulator
from mosim.errors import InvalidInputError, MosimError
from mosim.rl import MosimEnv, register_envs
from mosim.rl.common import resolve_episode_steps, resolve_frame_skip
from rl_helpers import Exploding


def actions(n: int, nu: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, nu))


def episode(env: MosimEnv, seed: int, acts: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for a in acts:
        obs, r, *_ = env.step(a)
        observations.append(obs)
        rewards.append(r)
    return observations, rewards


def test_gymnasium_env_checker_passes(simulator):
    env = gymnasium.make("mosim/Model-v0", model=simulator, render_mode="rgb_array").unwrapped  # has a spec
    assert isinstance(env, MosimEnv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # the checker reports problems as warnings
        gym_check_env(env)
    env.close()
    # dm_control observations are unbounded: the only remarks allowed are about the infinite Box bounds
    problems = [str(w.message) for w in caught if "infinity" not in str(w.message)]
    assert problems == []


def test_sb3_env_checker_passes(simulator):
    from stable_baselines3.common.env_checker import check_env

    env = MosimEnv(simulator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, warn=True, skip_render_check=True)


def test_spaces_and_defaults(simulator):
    env = MosimEnv(simulator)
    assert env.observation_space.dtype == np.float32 and env.observation_space.shape == (6,)
    assert env.action_space.dtype == np.float32
    np.testing.assert_array_equal(env.action_space.low, [-1, -1])
    assert env.frame_skip == 1 and env.dt == pytest.approx(0.02)
    assert env.max_episode_steps == 1000  # reacher: 20 s of 0.02 s control steps
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)


def test_same_seed_same_episode(simulator):
    acts = actions(30)
    a = episode(MosimEnv(simulator), 7, acts)
    b = episode(MosimEnv(simulator), 7, acts)
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    assert a[1] == b[1]
    c = episode(MosimEnv(simulator), 8, acts)
    assert not np.array_equal(a[0][0], c[0][0])


def test_reset_is_the_tasks_initial_state_and_the_step_is_the_models(simulator):
    env = MosimEnv(simulator)
    env.reset(seed=3)
    q, v = env.state
    ref = mosim.make_system("reacher-easy")
    ref.model.geom_pos[:] = env.system.model.geom_pos  # the episode's target
    a = np.array([0.3, -0.7])
    obs, *_ = env.step(a)
    q1, v1 = simulator.step(q, v, a)
    np.testing.assert_array_equal(env.state[0], q1)
    np.testing.assert_array_equal(obs, ref.observation(q1, v1).astype(np.float32))


def _finger_on_target_state(env: MosimEnv) -> np.ndarray:
    """A reacher posture whose finger is on this episode's target (grid search with the real physics)."""
    ref = mosim.make_system("reacher-easy")
    ref.model.geom_pos[:] = env.system.model.geom_pos
    best, best_d = None, np.inf
    for a in np.linspace(-np.pi, np.pi, 60):
        for b in np.linspace(-2.8, 2.8, 60):
            ref.set_state(np.array([a, b]), np.zeros(2))
            d = np.linalg.norm(ref.physics.finger_to_target())
            if d < best_d:
                best, best_d = np.array([a, b]), d
    return best


def test_reward_and_observation_are_the_real_tasks_on_the_predicted_state(simulator):
    """The env's reward/observation of each predicted state equal the real task's (mosim's system and dm_control's
    own ``task.get_reward(physics)``) for that physical state and the episode's target."""
    from dm_control import suite

    env = MosimEnv(simulator)
    env.reset(seed=11)
    qpos0 = _finger_on_target_state(env)
    env.reset(seed=11, options={"qpos": qpos0, "qvel": np.zeros(2)})  # same target: same seed
    real = suite.load("reacher", "easy")
    physics = real.physics
    physics.model.geom_pos[:] = env.system.model.geom_pos
    ref = mosim.make_system("reacher-easy")
    ref.model.geom_pos[:] = env.system.model.geom_pos
    rewards = []
    for a in actions(25, seed=4) * 0.3:
        obs, r, terminated, truncated, _ = env.step(a)
        q, v = env.state
        assert r == ref.reward(q, v, a)
        with physics.reset_context():
            physics.data.qpos[:] = q
            physics.data.qvel[:] = v
        physics.data.ctrl[:] = a
        assert r == float(real.task.get_reward(physics))
        flat = np.concatenate([np.ravel(x) for x in real.task.get_observation(physics).values()])
        np.testing.assert_array_equal(obs, flat.astype(np.float32))
        assert not terminated and not truncated
        rewards.append(r)
    assert max(rewards) > 0  # the check covered states with a reward


def test_frame_skip_holds_the_action_and_the_time_limit_truncates(simulator):
    env = MosimEnv(simulator, frame_skip=2, max_episode_steps=3)
    assert env.dt == pytest.approx(0.04)
    env.reset(seed=0)
    q, v = env.state
    a = np.array([0.5, 0.5])
    for t in range(3):
        _, _, terminated, truncated, _ = env.step(a)
        q, v = simulator.step(*simulator.step(q, v, a), a)
        np.testing.assert_array_equal(env.state[0], q)
        assert not terminated and truncated == (t == 2)


def test_frame_skip_and_time_limit_follow_the_tasks_control_step():
    finger = mosim.make_system("finger-spin", substeps=1)  # control step: 2 physics steps
    assert resolve_frame_skip(None, finger, finger.spec()) == 2
    assert resolve_episode_steps(None, finger, finger.dt * 2) == 1000
    assert resolve_episode_steps(None, finger, finger.dt) == 2000
    coarse = mosim.make_system("finger-spin", substeps=3)
    with pytest.raises(InvalidInputError, match="frame_skip"):
        resolve_frame_skip(None, finger, coarse.spec())
    assert resolve_frame_skip(3, finger, coarse.spec()) == 3


def test_reset_states_pool(simulator, reacher_dataset):
    env = MosimEnv(simulator, reset_states=reacher_dataset)
    obs, info = env.reset(seed=2)
    e, t = divmod(info["reset_index"], reacher_dataset.qpos.shape[1])
    np.testing.assert_array_equal(env.state[0], reacher_dataset.qpos[e, t])
    pool = (reacher_dataset.qpos[0, :5], reacher_dataset.qvel[0, :5])
    env = MosimEnv(simulator, reset_states=pool)
    for seed in range(5):
        env.reset(seed=seed)
        assert any(np.array_equal(env.state[0], q) for q in pool[0])


def test_a_diverged_prediction_terminates_with_a_flag(simulator):
    env = MosimEnv(simulator)
    env.reset(seed=0)
    env.simulator = Exploding(simulator, after=2)
    for _ in range(2):
        assert not env.step(np.zeros(2))[2]
    before = env.state
    obs, r, terminated, truncated, info = env.step(np.zeros(2))
    assert terminated and info["diverged"] and r == 0.0 and np.isfinite(obs).all()
    np.testing.assert_array_equal(env.state[0], before[0])


def test_ood_penalty_and_reward_fn_are_added(simulator):
    seen = []

    def penalty(q, v, a):
        seen.append((q.shape, v.shape, a.shape))
        return -0.25 * np.ones(len(q))

    env = MosimEnv(simulator, ood_penalty=penalty, reward_fn=lambda q, v, a: float(q[0]))
    env.reset(seed=0)
    _, r, *_, info = env.step(np.zeros(2))
    assert seen == [((1, 2), (1, 2), (1, 2))]
    assert info["task_reward"] == env.state[0][0] and info["ood_penalty"] == -0.25
    assert r == pytest.approx(env.state[0][0] - 0.25)


def test_render_shows_the_predicted_state(simulator):
    env = MosimEnv(simulator, render_mode="rgb_array")
    env.reset(seed=0)
    a = env.render()
    env.set_state(env.state[0] + np.array([1.5, -1.0]), env.state[1])
    b = env.render()
    assert a.shape == (240, 320, 3) and a.dtype == np.uint8
    assert not np.array_equal(a, b)
    env.close()
    with pytest.warns(UserWarning, match="render_mode"):
        assert MosimEnv(simulator).render() is None


def test_gymnasium_make_with_a_checkpoint_path(model_path):
    register_envs()  # idempotent
    env = gymnasium.make("mosim/reacher-easy-v0", model=str(model_path))
    assert isinstance(env.unwrapped, MosimEnv)
    obs, _ = env.reset(seed=0)
    obs, r, terminated, truncated, info = env.step(np.zeros(2, dtype=np.float32))
    assert obs.shape == (6,) and not terminated
    env = gymnasium.make("mosim/Model-v0", model=model_path, max_episode_steps=5)  # gymnasium's TimeLimit
    env.reset(seed=0)
    assert [env.step(np.zeros(2, dtype=np.float32))[3] for _ in range(5)] == [False] * 4 + [True]
    env = gymnasium.make("mosim/Model-v0", model=model_path, frame_skip=2)
    assert env.unwrapped.frame_skip == 2 and env.unwrapped.max_episode_steps == 500
    with pytest.raises(InvalidInputError, match="needs a model of 'cartpole-swingup'"):
        gymnasium.make("mosim/cartpole-swingup-v0", model=model_path)
    with pytest.raises(InvalidInputError, match="needs a trained model"):
        gymnasium.make("mosim/reacher-easy-v0")


def test_another_task_of_the_same_robot_uses_its_own_reward(simulator):
    hard = MosimEnv(simulator, system="reacher-hard")
    assert hard.system.system_id == "reacher-hard"
    q, v = np.array([0.3, -0.2]), np.zeros(2)
    hard.reset(seed=0)
    hard.set_state(q, v)
    _, reward, *_ = hard.step(np.zeros(2))
    qn, vn = hard.state
    assert reward == pytest.approx(hard.system.reward(qn, vn, np.zeros(2)))


def test_bad_inputs_give_clear_errors(simulator, tmp_path):
    env = MosimEnv(simulator)
    env.reset(seed=0)
    with pytest.raises(InvalidInputError, match=r"action must have shape \(2,\), got \(3,\)"):
        env.step(np.zeros(3))
    with pytest.raises(InvalidInputError, match="NaN"):
        env.step(np.array([np.nan, 0.0]))
    with pytest.raises(InvalidInputError, match="model is of system 'reacher-easy'"):
        MosimEnv(simulator, system="cartpole-swingup")
    with pytest.raises(InvalidInputError, match="model is of system 'reacher-easy'"):
        MosimEnv(simulator, system=mosim.make_system("cartpole-swingup"))
    with pytest.raises(InvalidInputError, match="model is of system 'reacher-easy'"):
        MosimEnv(simulator, system="acrobot-swingup")  # same sizes, another robot
    with pytest.raises(InvalidInputError, match="nq=2"):
        MosimEnv(simulator, reset_states=(np.zeros((4, 3)), np.zeros((4, 2))))
    with pytest.raises(InvalidInputError, match="frame_skip"):
        MosimEnv(simulator, frame_skip=0)
    with pytest.raises(InvalidInputError, match="render_mode"):
        MosimEnv(simulator, render_mode="human")
    with pytest.raises(InvalidInputError, match="checkpoint path"):
        MosimEnv(42)
    with pytest.raises(MosimError):
        MosimEnv(tmp_path / "missing.pt")
    with pytest.raises(InvalidInputError, match="qpos"):
        env.reset(seed=0, options={"qpos": np.zeros(5), "qvel": np.zeros(2)})


def test_a_system_without_a_task_observes_its_state(arm_xml):
    """An MJCF robot (untrained model): observation = concat(qpos, qvel), reward 0 unless reward_fn is given."""
    from mosim.models import build_model, model_preset

    system = mosim.make_system(f"mjcf:{arm_xml}")
    model = build_model(system.spec(), model_preset("tiny")).eval()
    env = MosimEnv(model, system=system)
    assert env.frame_skip == 1 and env.max_episode_steps == 1000
    obs, _ = env.reset(seed=0)
    q, v = env.state
    np.testing.assert_array_equal(obs, np.concatenate([q, v]).astype(np.float32))
    obs, r, terminated, _, _ = env.step(np.zeros(system.nu))
    assert r == 0.0 and not terminated
    np.testing.assert_array_equal(obs, np.concatenate(env.state).astype(np.float32))
    env = MosimEnv(model, system=system, reward_fn=lambda q, v, a: -float(np.sum(v**2)))
    env.reset(seed=0)
    assert env.step(np.zeros(system.nu))[1] == -float(np.sum(env.state[1] ** 2))


def test_an_ensemble_steps_the_env_with_its_members_average(model_path, simulator):
    env = MosimEnv([model_path, "reacher-easy"])  # the tiny test model and the pretrained one
    assert isinstance(env.simulator, EnsembleSimulator) and env.simulator.combine == "steps"
    env.reset(seed=3)
    q, v = env.state
    a = np.array([0.3, -0.7])
    env.step(a)
    pretrained = mosim.load("reacher-easy", device="cpu")
    first, second = simulator.step(q, v, a), pretrained.step(q, v, a)
    want = [(x + y) / 2 for x, y in zip(first, second)]
    # the members' float32 steps averaged in float32: equal to within its rounding (the members differ by far more)
    assert np.abs(first[1] - second[1]).max() > 1e-3
    np.testing.assert_allclose(env.state[0], want[0], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(env.state[1], want[1], rtol=1e-6, atol=1e-12)
