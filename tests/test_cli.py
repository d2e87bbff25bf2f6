"""The mosim command: collect, inspect, and clear errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mosim.cli import main


def test_collect_and_info(tmp_path, capsys):
    out = tmp_path / "acro.h5"
    rc = main(["collect", "--system", "acrobot-swingup", "--episodes", "3", "--steps", "20", "--out", str(out),
               "--hold", "2", "--p-zero", "0.3", "--workers", "1", "--quiet"])
    assert rc == 0 and out.exists()
    assert main(["data", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "acrobot-swingup" in text and "'hold': 2.0" in text and "'p_zero': 0.3" in text


def test_collect_from_an_mjcf_file(tmp_path, arm_xml, capsys):
    out = tmp_path / "arm.h5"
    assert main(["collect", "--mjcf", str(arm_xml), "--episodes", "3", "--steps", "10", "--out", str(out),
                 "--workers", "1", "--quiet"]) == 0
    assert "mjcf:" in capsys.readouterr().out


def test_errors_are_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x00" * 100)
    for args in (["data", "info", str(bad)], ["collect", "--system", "cheetah-rn", "--out", str(tmp_path / "x.h5")]):
        r = subprocess.run([sys.executable, "-m", "mosim.cli", *args], capture_output=True, text=True)
        assert r.returncode == 2
        assert "Traceback" not in r.stderr and "error:" in r.stderr


def test_systems_listing(capsys):
    assert main(["systems"]) == 0
    listing = capsys.readouterr().out
    assert "cheetah-run" in listing and "go2" in listing
    assert main(["systems", "go2"]) == 0
    assert "free" in capsys.readouterr().out


def test_train_options_reach_the_saved_config_and_init_from_checks_the_model(tmp_path, capsys):
    import json

    data = tmp_path / "reacher.h5"
    assert main(["collect", "--system", "reacher-easy", "--episodes", "12", "--steps", "30", "--out", str(data),
                 "--workers", "1", "--quiet"]) == 0
    common = ["train", "--data", str(data), "--preset", "tiny", "--max-steps", "4", "--no-score", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "a"), "--size", "small", "--ema", "0.9",
                 "--speed-sampling", "2", "--limit-sampling", "3", "--contact-features", "--action-hidden", "none",
                 "--min-stage-share", "0.5", "--blocks", "3", "--input-noise", "0.5", "--val-every", "2"]) == 0
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert [saved["model_config"][f"{n}_blocks"] for n in ("inertia", "force", "corrector")] == [3, 3, 3]
    assert saved["model_config"]["action_hidden"] == []  # a linear tau(a)
    assert saved["model_config"]["force_width"] == 64 and saved["model_config"]["n_correctors"] == 1
    assert saved["model_config"]["contact_features"] and saved["spec"]["geometry"]["pair_geom"]
    assert saved["train_config"]["ema_decay"] == 0.9 and saved["train_config"]["speed_sampling"] == 2.0
    assert saved["train_config"]["limit_sampling"] == 3.0 and saved["train_config"]["min_stage_share"] == 0.5
    assert saved["train_config"]["input_noise"] == 0.5 and saved["train_config"]["val_every_steps"] == 2
    best = str(tmp_path / "a" / "best.pt")
    assert main([*common, "--out", str(tmp_path / "b"), "--size", "small", "--init-from", best,
                 "--contact-features", "--action-hidden", "", "--blocks", "3"]) == 0
    assert json.loads((tmp_path / "b" / "config.json").read_text())["train_config"]["init_from"] == best
    capsys.readouterr()
    # a checkpoint of another model: a one-line error naming it
    r = subprocess.run([sys.executable, "-m", "mosim.cli", *common, "--out", str(tmp_path / "c"), "--init-from", best],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "another model config" in r.stderr and "Traceback" not in r.stderr
    # the reacher preset solves the wrist's limit; --kind plain_delta leaves that structured-only part out, and the
    # limit constraints and the actuation reach the saved spec of a structured run
    reacher = ["train", "--data", str(data), "--preset", "reacher", "--max-steps", "2", "--no-score", "--quiet"]
    assert main([*reacher, "--out", str(tmp_path / "d"), "--kind", "plain_delta"]) == 0
    assert not json.loads((tmp_path / "d" / "config.json").read_text())["model_config"]["limit_constraints"]
    assert main([*reacher, "--out", str(tmp_path / "e")]) == 0
    saved = json.loads((tmp_path / "e" / "config.json").read_text())
    assert saved["model_config"]["limit_constraints"] and saved["spec"]["limits"]["dof"] == [1]
    assert saved["spec"]["actuation"]["gain"] == [1.0, 1.0]
    capsys.readouterr()
    r = subprocess.run([sys.executable, "-m", "mosim.cli", *reacher, "--out", str(tmp_path / "f"), "--kind",
                        "plain_delta", "--limit-constraints"], capture_output=True, text=True)
    assert r.returncode == 2 and "structured model's M" in r.stderr and "Traceback" not in r.stderr


def test_contact_constraints_reach_the_saved_checkpoint_and_it_predicts_without_the_dataset(tmp_path, capsys):
    import json

    import numpy as np

    import mosim

    data = tmp_path / "cheetah.h5"
    assert main(["collect", "--system", "cheetah-run", "--episodes", "6", "--steps", "30", "--out", str(data),
                 "--workers", "1", "--quiet"]) == 0
    assert main(["train", "--data", str(data), "--preset", "tiny", "--max-steps", "3", "--no-score", "--quiet",
                 "--out", str(tmp_path / "a"), "--contact-constraints", "--inertia-start", "mujoco",
                 "--contact-slots", "4"]) == 0
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    config = saved["model_config"]
    assert config["contact_constraints"] and config["inertia_start"] == "mujoco" and config["contact_slots"] == 4
    assert len(saved["spec"]["contacts"]["friction"]) == len(saved["spec"]["geometry"]["pair_geom"]) == 8
    sim = mosim.load(str(tmp_path / "a" / "best.pt"))
    ds = mosim.load_dataset(str(data))
    qpos, qvel = sim.rollout(ds.qpos[:2, 0], ds.qvel[:2, 0], ds.action[:2, :5])
    data.unlink()  # the checkpoint is self-contained
    again = mosim.load(str(tmp_path / "a" / "best.pt")).rollout(ds.qpos[:2, 0], ds.qvel[:2, 0], ds.action[:2, :5])
    assert np.isfinite(qpos).all() and np.array_equal(again[0], qpos) and np.array_equal(again[1], qvel)
    capsys.readouterr()


def test_known_inertia_reaches_the_saved_checkpoint(tmp_path, capsys):
    import json

    import numpy as np

    import mosim

    data = tmp_path / "cheetah.h5"
    assert main(["collect", "--system", "cheetah-run", "--episodes", "6", "--steps", "30", "--out", str(data),
                 "--workers", "1", "--quiet"]) == 0
    assert main(["train", "--data", str(data), "--preset", "tiny", "--max-steps", "3", "--no-score", "--quiet",
                 "--out", str(tmp_path / "a"), "--contact-constraints", "--known-inertia"]) == 0
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert saved["model_config"]["known_inertia"] and len(saved["spec"]["inertias"]["mass"]) == 7
    ds = mosim.load_dataset(str(data))
    qpos, _ = mosim.load(str(tmp_path / "a" / "best.pt")).rollout(ds.qpos[:2, 0], ds.qvel[:2, 0], ds.action[:2, :5])
    data.unlink()  # the checkpoint is self-contained
    again, _ = mosim.load(str(tmp_path / "a" / "best.pt")).rollout(ds.qpos[:2, 0], ds.qvel[:2, 0], ds.action[:2, :5])
    assert np.isfinite(qpos).all() and np.array_equal(again, qpos)
    capsys.readouterr()


def test_train_scores_on_another_files_test_split_and_skips_a_file_without_one(tmp_path, capsys):
    import json

    big, small = tmp_path / "big.h5", tmp_path / "small.h5"
    assert main(["collect", "--system", "reacher-easy", "--episodes", "10", "--steps", "120", "--out", str(big),
                 "--split", "0.8,0.2,0", "--seed", "1", "--workers", "1", "--quiet"]) == 0
    assert main(["collect", "--system", "reacher-easy", "--episodes", "10", "--steps", "120", "--out", str(small),
                 "--workers", "1", "--quiet"]) == 0
    common = ["train", "--data", str(big), "--preset", "tiny", "--max-steps", "4", "--quiet"]
    capsys.readouterr()
    assert main([*common, "--out", str(tmp_path / "a")]) == 0  # no test split: trained, not scored, no error
    assert "no test episodes, not scored" in capsys.readouterr().out
    assert not (tmp_path / "a" / "scores.json").exists()
    assert main([*common, "--out", str(tmp_path / "b"), "--score-data", str(small)]) == 0
    scores = json.loads((tmp_path / "b" / "scores.json").read_text())
    assert [s["horizon"] for s in scores] == [3, 16, 100] and scores[0]["n_windows"] > 0
    # scoring on a file of another system is a one-line error naming it
    acro = tmp_path / "acro.h5"
    assert main(["collect", "--system", "acrobot-swingup", "--episodes", "3", "--steps", "20", "--out", str(acro),
                 "--workers", "1", "--quiet"]) == 0
    r = subprocess.run([sys.executable, "-m", "mosim.cli", *common, "--out", str(tmp_path / "c"), "--score-data",
                        str(acro)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "acro.h5" in r.stderr
    # a file of the same system collected with another step: refused before training, naming both files
    coarse = tmp_path / "coarse.h5"
    assert main(["collect", "--system", "reacher-easy", "--episodes", "3", "--steps", "20", "--out", str(coarse),
                 "--substeps", "2", "--workers", "1", "--quiet"]) == 0
    r = subprocess.run([sys.executable, "-m", "mosim.cli", *common, "--out", str(tmp_path / "d"), "--score-data",
                        str(coarse)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "coarse.h5" in r.stderr and "substeps" in r.stderr
    assert not (tmp_path / "d").exists()


def test_train_members_trains_seeds_and_scores_their_ensemble(tmp_path, capsys):
    import json

    import numpy as np

    import mosim
    from mosim.cli.train_members import member_argv

    assert member_argv(["--data", "d.h5", "--members", "3", "--jobs=2", "--seed", "5", "--out=x", "--quiet"],
                       Path("x/member-1"), 6) == ["--data", "d.h5", "--quiet", "--out", "x/member-1", "--seed", "6"]
    data = tmp_path / "reacher.h5"
    assert main(["collect", "--system", "reacher-easy", "--episodes", "10", "--steps", "120", "--out", str(data),
                 "--workers", "1", "--quiet"]) == 0
    out = tmp_path / "ens"
    cmd = ["train", "--data", str(data), "--preset", "tiny", "--max-steps", "3", "--members", "2", "--jobs", "2",
           "--seed", "4", "--out", str(out)]
    capsys.readouterr()
    assert main(cmd) == 0
    assert "ensemble test H=100" in capsys.readouterr().out
    info = json.loads((out / "ensemble.json").read_text())
    assert [m["seed"] for m in info["members"].values()] == [4, 5]
    for k, seed in ((0, 4), (1, 5)):
        assert json.loads((out / f"member-{k}" / "config.json").read_text())["train_config"]["seed"] == seed
    ens = mosim.load_ensemble(out, device="cpu")
    assert len(ens) == 2
    q0, v0 = np.zeros(ens.spec.nq), np.zeros(ens.spec.nv)
    acts = np.zeros((5, ens.spec.nu))
    members = [mosim.load(out / f"member-{k}" / "best.pt", device="cpu").rollout(q0, v0, acts)[1] for k in (0, 1)]
    np.testing.assert_allclose(ens.rollout(q0, v0, acts)[1], (members[0] + members[1]) / 2, atol=1e-12)
    assert json.loads((out / "scores.json").read_text())[2]["horizon"] == 100
    # again: every member is finished and resumes to nothing; the ensemble is scored again
    assert main(cmd) == 0
    r = subprocess.run([sys.executable, "-m", "mosim.cli", *cmd[:-2], "--out", str(tmp_path / "bad"), "--mem", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "in full" in r.stderr and "Traceback" not in r.stderr


def test_turning_off_a_computed_part_turns_off_what_needs_it_unless_named(tmp_path, capsys):
    import json

    data = tmp_path / "acrobot.h5"
    assert main(["collect", "--system", "acrobot-swingup", "--episodes", "6", "--steps", "20", "--out", str(data),
                 "--workers", "1", "--quiet"]) == 0
    acrobot = ["train", "--data", str(data), "--preset", "acrobot", "--max-steps", "2", "--no-score", "--quiet"]
    assert main([*acrobot, "--out", str(tmp_path / "a"), "--no-known-inertia"]) == 0
    assert "--no-known-bias --no-known-passive --no-physics-start as well" in capsys.readouterr().out
    saved = json.loads((tmp_path / "a" / "config.json").read_text())["model_config"]
    assert not any(saved[n] for n in ("known_inertia", "known_bias", "known_passive", "physics_start"))
    assert saved["known_actuation"]  # what does not need M(q) computed stays on
    # what the command names itself is kept, and the contradiction is the config's one-line error
    r = subprocess.run([sys.executable, "-m", "mosim.cli", *acrobot, "--out", str(tmp_path / "b"), "--no-known-inertia",
                        "--known-bias"], capture_output=True, text=True)
    assert r.returncode == 2 and "known_bias" in r.stderr and "Traceback" not in r.stderr
