"""Training windows: uniform, speed-weighted and limit-weighted sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mosim.errors import InvalidInputError
from mosim.systems import make_system
from mosim.training.windows import WindowSampler, at_limit, limit_weights, speed_weights


def test_speed_weights_closed_form():
    qvel = torch.tensor([[0.0, 0.0], [1.0, 2.0], [-1.0, -2.0], [0.0, 0.0]])
    std = qvel.double().std(dim=0)  # (sqrt(2/3), sqrt(8/3))
    w = speed_weights(qvel, alpha=2.0)
    expected = 1 + 2.0 * ((qvel.double() / std) ** 2).mean(-1)
    torch.testing.assert_close(w.double(), expected.float().double())
    assert w[0] == 1.0 and w[1] == pytest.approx(1 + 2.0 * 1.5)


def test_windows_stay_in_their_episode(small_dataset):
    sampler = WindowSampler(small_dataset, "train", torch.device("cpu"), speed_sampling=5.0)
    gen = torch.Generator().manual_seed(0)
    b = sampler.sample(256, 10, gen)
    part = small_dataset.subset("train")
    qpos = torch.as_tensor(part.qpos, dtype=torch.float32)
    for i in range(0, 256, 17):  # each window is a run of consecutive states of one episode
        hits = [(e, t) for e in range(part.n_episodes) for t in range(part.steps - 9)
                if torch.equal(qpos[e, t:t + 11], b.qpos[i])]
        assert hits, i


def test_speed_sampling_draws_starts_in_proportion_to_their_weight(small_dataset):
    sampler = WindowSampler(small_dataset, "train", torch.device("cpu"), speed_sampling=4.0)
    length, n = 5, 200_000
    b = sampler.sample(n, length, torch.Generator().manual_seed(1))
    n_starts = sampler.steps - length + 1
    w = sampler.start_weights[:, :n_starts]
    # the start velocities drawn: fast starts come up more often than under uniform sampling
    speed_drawn = (b.qvel[:, 0] ** 2).sum(-1).mean()
    speed_uniform = (sampler.qvel[:, :n_starts] ** 2).sum(-1).mean()
    speed_expected = ((sampler.qvel[:, :n_starts] ** 2).sum(-1) * w).sum() / w.sum()
    assert speed_drawn > 1.2 * speed_uniform
    assert float(speed_drawn) == pytest.approx(float(speed_expected), rel=0.03)
    # the same generator state draws the same windows
    a1 = sampler.sample(64, length, torch.Generator().manual_seed(3))
    a2 = sampler.sample(64, length, torch.Generator().manual_seed(3))
    assert torch.equal(a1.qpos, a2.qpos) and torch.equal(a1.action, a2.action)


def test_uniform_sampling_is_unchanged_by_the_option(small_dataset):
    a = WindowSampler(small_dataset, "train", torch.device("cpu")).sample(32, 4, torch.Generator().manual_seed(0))
    b = WindowSampler(small_dataset, "train", torch.device("cpu"), speed_sampling=0.0).sample(
        32, 4, torch.Generator().manual_seed(0))
    assert torch.equal(a.qpos, b.qpos)
    assert np.isfinite(a.qvel.numpy()).all()


@pytest.mark.parametrize("name", ["speed_sampling", "limit_sampling"])
def test_negative_sampling_weights_are_refused(small_dataset, name):
    with pytest.raises(InvalidInputError, match=name):
        WindowSampler(small_dataset, "train", torch.device("cpu"), **{name: -1.0})


def test_at_limit_agrees_with_mujocos_limit_constraints():
    """MuJoCo as the oracle: a limit row appears in its constraints exactly where ``at_limit`` says a limit acts."""
    system = make_system("reacher-easy")
    lo, hi = system.layout.ranges[1]  # the wrist
    g = np.random.default_rng(0)
    for wrist in [lo - 0.01, lo + 0.01, 0.0, hi - 0.01, hi + 0.01, *g.uniform(lo - 0.2, hi + 0.2, size=20)]:
        q = np.array([g.uniform(-3, 3), wrist])
        system.set_state(q, np.zeros(2))
        mujoco_limit = any(system.data.efc_type[i] == 3 for i in range(system.data.nefc))  # mjCNSTR_LIMIT_JOINT
        assert bool(at_limit(torch.tensor(q), system.layout)) == mujoco_limit, wrist


def test_limit_weights_closed_form_and_draws(small_dataset):
    layout = small_dataset.spec.layout
    lo, hi = layout.ranges[1]
    qpos = torch.zeros(1, 5, 2, dtype=torch.float64)
    qpos[0, :, 1] = torch.tensor([0.0, hi + 0.1, 0.0, 0.0, lo], dtype=torch.float64)  # the limit acts at steps 1 and 4
    w = limit_weights(qpos, layout, beta=3.0)
    torch.testing.assert_close(w, torch.tensor([[4.0, 4.0, 1.0, 4.0]]))
    # drawn in proportion: the share of drawn one-step windows with a limit acting matches the weighted share
    sampler = WindowSampler(small_dataset, "train", torch.device("cpu"), limit_sampling=4.0)
    b = sampler.sample(100_000, 1, torch.Generator().manual_seed(2))
    hit = at_limit(b.qpos[:, 0], layout) | at_limit(b.qpos[:, 1], layout)
    weights = sampler.start_weights
    expected = float((weights * (weights > 1)).sum() / weights.sum())
    assert 0 < expected < 1
    assert float(hit.float().mean()) == pytest.approx(expected, abs=0.01)


def _go2_windows(n: int, length: int) -> "Windows":
    """``n`` windows of go2 (a free joint) stepped by MuJoCo from its random initial states, float64."""
    import mujoco

    from mosim.training.windows import Windows

    system = make_system("go2")
    qs, vs = [], []
    for seed in range(n):
        q, v = system.reset(seed)
        system.set_state(q, v)
        traj_q, traj_v = [q], [v]
        for _ in range(length):
            mujoco.mj_step(system.model, system.data)
            traj_q.append(system.data.qpos.copy())
            traj_v.append(system.data.qvel.copy())
        qs.append(np.stack(traj_q))
        vs.append(np.stack(traj_v))
    return Windows(torch.tensor(np.stack(qs)), torch.tensor(np.stack(vs)), torch.zeros(n, length, system.nu,
                                                                                       dtype=torch.float64))


def test_perturb_start_moves_the_whole_window_by_one_tangent_step_and_only_the_first_velocity():
    from mosim.models.tangent import position_difference
    from mosim.training.windows import perturb_start

    windows = _go2_windows(3, 4)
    layout = make_system("go2").layout
    nv = layout.nv
    q_scale = torch.linspace(0.01, 0.1, nv, dtype=torch.float64)
    v_scale = torch.linspace(0.5, 2.0, nv, dtype=torch.float64)
    out = perturb_start(windows, layout, q_scale, v_scale, 0.3, torch.Generator().manual_seed(0))
    again = perturb_start(windows, layout, q_scale, v_scale, 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(out.qpos, again.qpos) and torch.equal(out.qvel, again.qvel)  # the generator decides
    moved = position_difference(layout, windows.qpos, out.qpos)  # (B, L+1, nv)
    torch.testing.assert_close(moved, moved[:, :1].expand_as(moved), atol=1e-9, rtol=0)  # one shift per window
    assert (moved[:, 0].abs() > 0).all()
    quat = out.qpos[..., 3:7]
    torch.testing.assert_close(quat.norm(dim=-1), torch.ones(quat.shape[:-1], dtype=torch.float64))
    assert not torch.equal(out.qvel[:, 0], windows.qvel[:, 0])
    assert torch.equal(out.qvel[:, 1:], windows.qvel[:, 1:]) and torch.equal(out.action, windows.action)
    unchanged = perturb_start(windows, layout, q_scale, v_scale, 0.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(unchanged.qpos, windows.qpos, atol=1e-12, rtol=0)


def test_perturb_start_noise_has_the_asked_scale_per_entry(small_dataset):
    from mosim.models.tangent import position_difference
    from mosim.training.windows import perturb_start

    layout = small_dataset.spec.layout
    sampler = WindowSampler(small_dataset, "train", torch.device("cpu"), dtype=torch.float64)
    windows = sampler.sample(40_000, 1, torch.Generator().manual_seed(2))
    q_scale, v_scale = torch.tensor([0.01, 0.05], dtype=torch.float64), torch.tensor([0.3, 3.0], dtype=torch.float64)
    out = perturb_start(windows, layout, q_scale, v_scale, 0.5, torch.Generator().manual_seed(3))
    dq = position_difference(layout, windows.qpos[:, 0], out.qpos[:, 0])
    dv = out.qvel[:, 0] - windows.qvel[:, 0]
    torch.testing.assert_close(dq.std(0), 0.5 * q_scale, rtol=0.02, atol=0)
    torch.testing.assert_close(dv.std(0), 0.5 * v_scale, rtol=0.02, atol=0)
    assert dq.mean(0).abs().max() < 0.02 * 0.5 * q_scale.max()


def test_negative_input_noise_is_refused():
    from mosim.training.config import StageConfig, TrainConfig

    with pytest.raises(InvalidInputError, match="input_noise"):
        TrainConfig(stages=(StageConfig(name="all", max_steps=1),), input_noise=-0.1)
