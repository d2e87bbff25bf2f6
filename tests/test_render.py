"""``mosim render``: side-by-side frames, videos, plots, and robots defined by an MJCF file.

Frames are small (64 x 48) and videos a dozen frames: MuJoCo renders in software here. The models are tiny and
trained for a few dozen steps; their predictions are poor, which is what makes the two halves differ.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

import mosim
from mosim.cli import main
from mosim.errors import InvalidInputError
from mosim.models import model_preset
from mosim.render import (
    Comparison,
    SideBySideRenderer,
    compare,
    frame_schedule,
    random_actions,
    render,
    render_frames,
    simulate,
)
from mosim.training.config import TrainConfig, staged_schedule
from mosim.training.trainer import train

W, H = 64, 48


def _train_tiny(data: mosim.Dataset, out: Path) -> Path:
    cfg = TrainConfig(stages=staged_schedule(0, max_steps=30), batch_size=32, val_every_steps=15, val_windows=4,
                      val_horizon=10, seed=0, device="cpu")
    return train(data, model_preset("tiny", n_correctors=0), cfg, out, progress=False).best_path


@pytest.fixture(scope="module")
def reacher(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(dataset path, best.pt)`` of reacher-easy: 6 episodes of 40 steps, a tiny model."""
    folder = tmp_path_factory.mktemp("render_reacher")
    cfg = mosim.CollectConfig(system="reacher-easy", out=str(folder / "data.h5"), episodes=6, steps=40, workers=1,
                              seed=2)
    path = mosim.collect(cfg, progress=False)
    return path, _train_tiny(mosim.load_dataset(path), folder / "run")


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """``(MJCF copy, dataset path, best.pt)`` of the two-link arm fixture, trained from a copy of its file."""
    folder = tmp_path_factory.mktemp("render_arm")
    xml = folder / "robot.xml"
    shutil.copy(Path(__file__).parent / "fixtures" / "two_link_arm.xml", xml)
    cfg = mosim.CollectConfig(system=f"mjcf:{xml}", out=str(folder / "data.h5"), episodes=4, steps=30, workers=1)
    path = mosim.collect(cfg, progress=False)
    return xml, path, _train_tiny(mosim.load_dataset(path), folder / "run")


def _halves(frame: np.ndarray, renderer: SideBySideRenderer) -> tuple[np.ndarray, np.ndarray]:
    """The two halves below the label bars."""
    body = frame[renderer.label_height :].astype(int)
    return body[:, : renderer.width], body[:, renderer.width :]


def test_frames_have_the_size_and_differ_only_where_the_states_differ(reacher):
    data_path, model_path = reacher
    sim = mosim.load(model_path, device="cpu")
    ds = mosim.load_dataset(data_path)
    comp = compare(sim, ds.qpos[0, 0], ds.qvel[0, 0], ds.action[0, :30], true=(ds.qpos[0, :31], ds.qvel[0, :31]))
    assert comp.pred_qpos.shape == (31, 2) and np.array_equal(comp.pred_qpos[0], comp.true_qpos[0])
    gap = np.abs(comp.pred_qpos - comp.true_qpos).max(-1)
    assert gap[-1] > 0.05, "the tiny model should be visibly wrong after 30 steps"
    system = mosim.make_system("reacher-easy")
    with SideBySideRenderer(system, W + 1, H - 1) as r:  # odd sizes are rounded up to even ones
        assert (r.width, r.height) == (W + 2, H)
        frames = list(render_frames(comp, r, [0, 30]))
        assert all(f.shape == (H, 2 * (W + 2), 3) and f.dtype == np.uint8 for f in frames)
        left, right = _halves(frames[0], r)
        assert np.array_equal(left, right), "frame 0 shows the same start state in both halves"
        left, right = _halves(frames[1], r)
        assert np.abs(left - right).max() > 50 and (np.abs(left - right).sum(-1) > 30).mean() > 0.002
        # the label bars differ in color (MuJoCo dark, mosim blue)
        bar_l, bar_r = frames[1][1, 2], frames[1][1, r.width + 2]
        assert int(bar_r[2]) > int(bar_l[2]) + 60
        # the same state twice gives the same picture: rendering is deterministic
        again = r.frame(comp.true_qpos[30], comp.true_qvel[30], comp.pred_qpos[30], comp.pred_qvel[30],
                        time_s=30 * comp.dt)
        assert np.array_equal(again, frames[1])


def test_render_writes_an_mp4_with_every_step_and_a_plot(reacher, tmp_path):
    data_path, model_path = reacher
    result = render(model_path, tmp_path / "out" / "v.mp4", data=data_path, split="all", episode=1, start=5,
                    steps=12, width=W, height=H, plot=tmp_path / "p.png", progress=False)
    assert result.frames == 13 and result.fps == pytest.approx(50.0)  # reacher: dt 0.02 s -> 50 fps, real time
    reader = imageio.get_reader(tmp_path / "out" / "v.mp4")
    frames = [f for f in reader]
    assert len(frames) == 13 and frames[0].shape == (H, 2 * W, 3)
    assert reader.get_meta_data()["fps"] == pytest.approx(50.0)
    assert (tmp_path / "p.png").stat().st_size > 10_000
    assert not list((tmp_path / "out").glob(".*")), "no temporary file is left behind"
    c = result.comparison
    ds = mosim.load_dataset(data_path)
    assert np.array_equal(c.true_qpos, ds.qpos[1, 5:18]) and np.array_equal(c.actions, ds.action[1, 5:17])


def test_gif_subsamples_to_the_frame_rate_cap(reacher, tmp_path):
    _, model_path = reacher
    assert frame_schedule(10, 0.02, 25.0) == ([0, 2, 4, 6, 8, 10], 25.0)
    assert frame_schedule(5, 0.002, 60.0) == ([0, 5], pytest.approx(1 / (9 * 0.002)))  # 500 Hz -> every 9th + the end
    result = render(model_path, tmp_path / "v.gif", steps=10, seed=3, width=W, height=H, max_fps=25, progress=False)
    assert result.frames == 6
    gif = imageio.mimread(tmp_path / "v.gif")
    assert len(gif) == 6 and gif[0].shape[:2] == (H, 2 * W)
    # without a dataset: the system's own random start (seed) and random actions within its bounds
    system = mosim.make_system("reacher-easy")
    q0, _ = system.reset(3)
    assert np.array_equal(result.comparison.true_qpos[0], q0)
    assert np.array_equal(result.comparison.actions, random_actions(system, 10, 3))


def test_mjcf_robot_renders_by_its_own_path_and_by_mjcf(arm, tmp_path, capsys):
    xml, data_path, model_path = arm
    assert main(["render", "--model", str(model_path), "--data", str(data_path), "--steps", "6", "--width", str(W),
                 "--height", str(H), "--out", str(tmp_path / "a.mp4"), "--quiet"]) == 0
    # the arm's step is 5 ms: 200 steps/s, so every 4th step is shown (50 fps) and the last one
    assert len([f for f in imageio.get_reader(tmp_path / "a.mp4")]) == 3
    # the file the model was trained on has gone: --mjcf draws it from another copy of the robot
    moved = tmp_path / "elsewhere.xml"
    shutil.move(xml, moved)
    try:
        assert main(["render", "--model", str(model_path), "--steps", "4", "--width", str(W), "--height", str(H),
                     "--out", str(tmp_path / "b.gif"), "--quiet"]) == 2
        assert "does not exist" in capsys.readouterr().err
        assert main(["render", "--model", str(model_path), "--mjcf", str(moved), "--steps", "4", "--width", str(W),
                     "--height", str(H), "--out", str(tmp_path / "b.gif"), "--plot", str(tmp_path / "b.png"),
                     "--entries", "0", "1", "13", "--quiet"]) == 0
    finally:
        shutil.move(moved, xml)
    out = capsys.readouterr().out
    assert "wrote" in out and "b.gif" in out and "b.png" in out
    # another robot is refused
    assert main(["render", "--model", str(model_path), "--system", "reacher-easy", "--out", str(tmp_path / "c.mp4"),
                 "--quiet"]) == 2
    assert "differs" in capsys.readouterr().err


def test_simulate_matches_the_dataset_and_a_diverged_prediction_holds_its_last_state(reacher):
    data_path, _ = reacher
    ds = mosim.load_dataset(data_path)
    system = mosim.make_system("reacher-easy")
    q, v = simulate(system, ds.qpos[2, 0], ds.qvel[2, 0], ds.action[2, :10])
    np.testing.assert_allclose(q, ds.qpos[2, :11], atol=1e-9)
    pq = ds.qpos[2, :11].copy()
    pq[6:] = np.nan
    comp = Comparison(ds.qpos[2, :11], ds.qvel[2, :11], pq, ds.qvel[2, :11], ds.action[2, :10], 0.02)
    assert comp.diverged_at() == 6
    with SideBySideRenderer(system, W, H) as r:
        frames = list(render_frames(comp, r, [5, 8]))
        _, right5 = _halves(frames[0], r)
        _, right8 = _halves(frames[1], r)
        assert np.array_equal(right5, right8), "the last finite prediction is held"
        assert frames[1][1, r.width + 2][0] > 150  # a red label: diverged


def test_render_refuses_bad_requests(reacher, tmp_path):
    data_path, model_path = reacher
    with pytest.raises(InvalidInputError, match="episode 7 does not exist"):
        render(model_path, None, data=data_path, split="all", episode=7, progress=False)
    with pytest.raises(InvalidInputError, match="runs past the episode"):
        render(model_path, None, data=data_path, split="all", start=30, steps=20, progress=False)
    with pytest.raises(InvalidInputError, match="unknown video type"):
        render(model_path, tmp_path / "v.avx", steps=2, width=W, height=H, progress=False)
    with pytest.raises(InvalidInputError, match="no camera"):
        SideBySideRenderer(mosim.make_system("reacher-easy"), W, H, camera="nope")
    with pytest.raises(InvalidInputError, match="plot entries"):
        render(model_path, None, steps=3, plot=tmp_path / "p.png", entries=[99], progress=False)
