"""Zero-shot RL inside a tiny reacher model: curve, agent, result, no repeated runs, the OOD penalty in the loop,
SAC / TD3 / TQC, and the same numbers for the same seed."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

import mosim
from mosim.errors import InvalidInputError, UnknownNameError
from mosim.rl import MosimVecEnv
from mosim.rl.agents import agent_algorithm, load_agent
from mosim.rl.callbacks import CURVE_FIELDS, read_curve
from mosim.rl.pipelines import AgentConfig, EvalConfig, OODConfig, ZeroShotConfig, zero_shot

TINY_AGENT = {"buffer_size": 2000, "learning_starts": 50, "batch_size": 32, "policy_kwargs": {"net_arch": [32, 32]}}


def tiny_config(model_path, out, **kw) -> ZeroShotConfig:
    base = dict(model=str(model_path), out=str(out), steps=300, agent=AgentConfig("sac", TINY_AGENT),
                eval=EvalConfig(every=300, episodes=3, episode_steps=40), horizon=60, seed=3)
    return ZeroShotConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def run(model_path, reacher_dataset, tmp_path_factory):
    cfg = tiny_config(model_path, tmp_path_factory.mktemp("zs") / "run",
                      ood=OODConfig(enabled=True, data=reacher_dataset.path, fit_steps=30))
    return cfg, zero_shot(cfg)


def test_zero_shot_writes_curve_agent_and_result(run):
    cfg, result = run
    rows = read_curve(result.curve)
    assert len(rows) == 1 and tuple(rows[0]) == CURVE_FIELDS
    row = rows[0]
    assert int(row["timesteps"]) == 300 and int(row["real_steps"]) == 0
    returns = [float(x) for x in row["eval_returns"].split(";")]
    assert len(returns) == 3 and float(row["eval_mean"]) == pytest.approx(np.mean(returns), abs=1e-5)
    assert float(row["eval_std"]) == pytest.approx(np.std(returns), abs=1e-5)
    assert -1 < float(row["train_ood_penalty"]) < 0  # the penalty was in the imagined rewards
    assert result.timesteps == 300 and result.evaluations == 1 and not result.cached
    assert agent_algorithm(result.agent) == "sac"
    agent = load_agent(result.agent)
    assert agent.observation_space.shape == (6,)
    out = result.curve.rsplit("/", 1)[0]
    assert json.loads(open(f"{out}/config.json").read())["pipeline"] == "zero-shot"
    assert json.loads(open(f"{out}/result.json").read())["final_mean"] == result.final_mean


def test_a_finished_run_is_not_repeated(run):
    cfg, result = run
    again = zero_shot(cfg)
    assert again.cached and again.final_mean == result.final_mean and again.agent == result.agent
    with pytest.raises(InvalidInputError, match="another configuration"):
        zero_shot(replace(cfg, steps=400))


def test_same_seed_gives_the_same_run(run, tmp_path):
    cfg, result = run
    second = zero_shot(replace(cfg, out=str(tmp_path / "again")))
    strip = [{k: v for k, v in row.items() if k != "elapsed_s"} for row in read_curve(result.curve)]
    assert strip == [{k: v for k, v in row.items() if k != "elapsed_s"} for row in read_curve(second.curve)]
    a, b = load_agent(result.agent), load_agent(second.agent)
    for (name, x), (_, y) in zip(a.policy.state_dict().items(), b.policy.state_dict().items()):
        assert torch.equal(x, y), name


def test_selection_inside_the_model_changes_nothing_else_and_keeps_the_best_imagined_agent(model_path, tmp_path):
    """``select``: the same training and real evaluations as without it; ``agent_selected.zip`` is the agent of
    the evaluation with the best return inside the model, and its imagined return is what the model gives it."""
    from mosim.rl.evaluation import evaluate_in_model

    ev = EvalConfig(every=100, episodes=2, episode_steps=30)
    plain = zero_shot(tiny_config(model_path, tmp_path / "plain", eval=ev))
    chosen_cfg = tiny_config(model_path, tmp_path / "select", eval=ev, select=True, select_episodes=3)
    chosen = zero_shot(chosen_cfg)
    keep = ("timesteps", "eval_mean", "eval_returns", "train_return")
    rows, rows_sel = read_curve(plain.curve), read_curve(chosen.curve)
    assert [{k: r[k] for k in keep} for r in rows] == [{k: r[k] for k in keep} for r in rows_sel]
    assert all(r["model_eval_mean"] == "" for r in rows) and len(rows_sel) == 3
    imagined = [float(r["model_eval_mean"]) for r in rows_sel]
    best = int(np.argmax(imagined))  # the first of equal ones
    assert chosen.selected_step == int(rows_sel[best]["timesteps"])
    assert chosen.selected_mean == pytest.approx(float(rows_sel[best]["eval_mean"]), abs=1e-5)
    assert plain.selected_mean is None
    agent = load_agent(tmp_path / "select" / "agent_selected.zip")
    # chosen on its own episodes (reset seeds select_seed + i), not on the evaluation's, which then score it
    again = evaluate_in_model(agent, model_path, episodes=3, seed=2_000_000, max_episode_steps=30)
    assert again.mean == pytest.approx(imagined[best], abs=1e-4)
    from mosim.rl.pipelines import _selection

    sim = mosim.load(model_path)
    evaluator = _selection(chosen_cfg, sim, MosimVecEnv(sim, 1), agent, tmp_path)["in_model"]
    assert evaluator.seed == 2_000_000 and evaluator.venv.num_envs == 3


def test_selection_episodes_that_are_evaluation_episodes_are_refused(model_path, tmp_path):
    ev = EvalConfig(every=100, episodes=10, seed=100)
    for seed, episodes in ((100, 1), (109, 5), (95, 6)):
        with pytest.raises(InvalidInputError, match="overlap the evaluation episodes"):
            tiny_config(model_path, tmp_path, eval=ev, select=True, select_seed=seed, select_episodes=episodes)
    tiny_config(model_path, tmp_path, eval=ev, select=True, select_seed=110)  # right after them: fine
    tiny_config(model_path, tmp_path, eval=ev, select=True, select_seed=95, select_episodes=5)  # right before
    tiny_config(model_path, tmp_path, eval=ev, select=False, select_seed=100)  # unused without select


def test_a_run_from_before_a_config_field_existed_is_still_recognized(run):
    cfg, result = run
    path = f"{result.curve.rsplit('/', 1)[0]}/config.json"
    saved = json.loads(open(path).read())
    saved.pop("select")  # as written before the field existed
    with open(path, "w") as f:
        json.dump(saved, f)
    assert zero_shot(cfg).cached
    with pytest.raises(InvalidInputError, match="another configuration"):
        zero_shot(replace(cfg, select=True))


def test_a_selecting_run_from_before_the_selection_had_its_own_episodes_is_not_taken_for_a_new_one(run):
    """Runs with ``select`` saved before ``select_seed`` existed chose on the evaluation episodes: the same
    configuration now chooses elsewhere, so the old result is not returned for it."""
    cfg, result = run
    folder = result.curve.rsplit("/", 1)[0]
    saved = json.loads(open(f"{folder}/config.json").read())
    assert saved["select_seed"] is None and saved["select_episodes"] is None  # not selecting: settings unused
    for key in ("select_seed", "select_episodes"):
        saved.pop(key)
    saved["select"] = True
    with open(f"{folder}/config.json", "w") as f:
        json.dump(saved, f)
    with pytest.raises(InvalidInputError, match="another configuration"):
        zero_shot(replace(cfg, select=True))


@pytest.mark.parametrize("algo", ["td3", "tqc"])
def test_other_off_policy_algorithms(algo, model_path, tmp_path):
    kwargs = {**TINY_AGENT, "learning_starts": 40}
    if algo == "tqc":
        kwargs["policy_kwargs"] = {"net_arch": [32, 32], "n_critics": 2, "n_quantiles": 5}
    cfg = tiny_config(model_path, tmp_path / algo, steps=100, agent=AgentConfig(algo, kwargs),
                      eval=EvalConfig(every=100, episodes=1, episode_steps=20))
    result = zero_shot(cfg)
    assert result.timesteps == 100 and agent_algorithm(result.agent) == algo


def test_unknown_algorithm_is_refused():
    with pytest.raises(UnknownNameError):
        AgentConfig("ppo")


def test_the_real_task_env_is_dm_control_s_task():
    from dm_control import suite

    from mosim.rl.real_env import RealEnv

    env = RealEnv("reacher-easy")
    obs, _ = env.reset(seed=3)
    dm = suite.load("reacher", "easy", task_kwargs={"random": 0})
    dm.reset()
    dm.physics.named.model.geom_pos["target"] = env.system.physics.named.model.geom_pos["target"]
    with dm.physics.reset_context():
        dm.physics.data.qpos[:], dm.physics.data.qvel[:] = env.state
    flat = lambda o: np.concatenate([np.ravel(x) for x in o.values()])  # noqa: E731
    np.testing.assert_allclose(obs, flat(dm.task.get_observation(dm.physics)), atol=1e-6)
    for a in np.random.default_rng(0).uniform(-1, 1, (20, 2)):
        obs, reward, terminated, truncated, _ = env.step(a)
        step = dm.step(a)
        np.testing.assert_allclose(obs, flat(step.observation), atol=1e-6)
        assert reward == pytest.approx(step.reward) and not terminated and not truncated
    assert env.max_episode_steps == 1000 and env.frame_skip == 1
