"""`mosim rl ...`: zero-shot, few-shot and dyna from the command line, reruns, collection with a trained agent,
the density, and one-line errors."""

from __future__ import annotations

import json

import numpy as np

import mosim
from mosim.cli import main
from mosim.rl.callbacks import read_curve

TINY = ["--algo-kwargs", json.dumps({"buffer_size": 2000, "learning_starts": 30, "batch_size": 32,
                                      "policy_kwargs": {"net_arch": [32, 32]}}),
        "--eval-episodes", "2", "--eval-steps", "20", "--quiet"]


def test_zero_shot_command_runs_and_is_not_repeated(model_path, tmp_path, capsys):
    out = tmp_path / "zs"
    args = ["rl", "zero-shot", "--model", str(model_path), "--algo", "sac", "--steps", "120", "--eval-every", "60",
            "--horizon", "40", "--out", str(out), *TINY]
    assert main(args) == 0
    assert [int(r["timesteps"]) for r in read_curve(out / "curve.csv")] == [60, 120]
    assert (out / "agent.zip").is_file() and "zero-shot: real return" in capsys.readouterr().out
    assert main(args) == 0 and "finished earlier" in capsys.readouterr().out
    assert main([*args[:-1], "--steps", "200"]) == 2  # another configuration in the same folder
    assert "another configuration" in capsys.readouterr().err

    data = tmp_path / "reacher-e.h5"  # a policy dataset collected with the trained agent
    assert main(["rl", "collect", "--agent", str(out / "agent.zip"), "--system", "reacher-easy", "--out", str(data),
                 "--episodes", "2", "--steps", "15", "--noise", "0.1", "--quiet"]) == 0
    ds = mosim.load_dataset(data)
    assert ds.meta.policy["name"] == "sb3-sac" and ds.meta.policy["params"]["noise"] == 0.1
    assert ds.action.shape == (2, 15, 2) and np.abs(ds.action).max() <= 1


def test_few_shot_and_dyna_commands_run(model_path, tmp_path):
    fs = tmp_path / "fs"
    assert main(["rl", "few-shot", "--model", str(model_path), "--steps", "100", "--eval-every", "100",
                 "--horizon", "40", "--collect-every", "50", "--collect-steps", "30", "--finetune-steps", "3",
                 "--finetune-batch", "16", "--chunk", "10", "--out", str(fs), *TINY]) == 0
    assert (fs / "model.pt").is_file() and int(read_curve(fs / "curve.csv")[-1]["real_steps"]) == 30
    dy = tmp_path / "dyna"
    assert main(["rl", "dyna", "--system", "reacher-easy", "--model", str(model_path), "--algo", "td3",
                 "--steps", "100", "--eval-every", "100", "--model-start", "50", "--model-every", "50",
                 "--rollouts", "3", "--rollout-horizon", "2", "--finetune-steps", "2", "--finetune-batch", "16",
                 "--chunk", "10", "--out", str(dy), *TINY]) == 0
    assert int(read_curve(dy / "curve.csv")[-1]["imagined_steps"]) == 2 * 3 * 2


def test_density_command_and_errors(model_path, reacher_dataset, tmp_path, capsys):
    out = tmp_path / "density.pt"
    assert main(["rl", "density", "--model", str(model_path), "--data", str(reacher_dataset.path), "--out", str(out),
                 "--density-steps", "10", "--quiet"]) == 0
    assert out.is_file() and "OODPenalty" in capsys.readouterr().out
    assert main(["rl", "zero-shot", "--model", str(model_path), "--algo", "ppo", "--out", str(tmp_path / "x")]) == 2
    assert "unknown algorithm" in capsys.readouterr().err
    assert main(["rl", "zero-shot", "--model", str(model_path), "--ood", "--density", str(tmp_path / "none.pt"),
                 "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert "--data" in capsys.readouterr().err
