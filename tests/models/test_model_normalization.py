"""Normalizer and the dataset statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mosim.errors import InvalidInputError
from mosim.models import MeanStd, Normalizer, StateFeatures, compute_normalization, position_difference, transitions


def test_fit_normalize_denormalize_and_floor():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 3, generator=g) * torch.tensor([5.0, 0.1, 1.0]) + torch.tensor([1.0, -2.0, 0.0])
    x[:, 2] = 4.0  # a constant column
    n = Normalizer(3, min_std=1e-2).fit(x)
    y = n(x)
    assert torch.allclose(y[:, :2].mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(y[:, :2].std(0, unbiased=False), torch.ones(2), atol=1e-4)
    assert n.std[2].item() == pytest.approx(1e-2)
    assert torch.allclose(y[:, 2], torch.zeros(500))
    assert torch.allclose(n.denormalize(y), x, atol=1e-5)


def test_state_dict_round_trip_and_dtype():
    n = Normalizer(2).fit(torch.randn(100, 2) * 3 + 1)
    fresh = Normalizer(2)
    assert set(fresh.state_dict()) == {"mean", "std", "low", "high"}
    fresh.load_state_dict(n.state_dict())
    assert torch.equal(fresh.mean, n.mean) and torch.equal(fresh.std, n.std)
    assert fresh.double().mean.dtype == torch.float64


def test_bound_clamps_to_the_widened_data_range():
    x = torch.tensor([[0.0, -1.0], [1.0, 1.0], [2.0, 3.0]], dtype=torch.float64)
    stats = MeanStd.of(x)
    assert torch.equal(stats.low, torch.tensor([0.0, -1.0], dtype=torch.float64))
    n = Normalizer.from_stats(stats, 2, bounded=True).double()
    inside = n(x)
    assert torch.equal(n.bound(inside), inside)  # the data itself is untouched
    far = n(torch.tensor([[100.0, -100.0]], dtype=torch.float64))
    # range [0, 2] widened by 10% of its width each side: at most 2.2, at least -1 - 0.4
    expected = n(torch.tensor([[2.2, -1.4]], dtype=torch.float64))
    assert torch.allclose(n.bound(far), expected)
    unbounded = Normalizer.from_stats(stats, 2)
    assert not unbounded.is_bounded and n.is_bounded
    assert torch.equal(unbounded.bound(far.float()), far.float())


def test_old_state_dict_without_bounds_loads_unbounded():
    n = Normalizer.from_stats(MeanStd.of(torch.randn(50, 2)), 2, bounded=True)
    old = {k: v for k, v in n.state_dict().items() if k in ("mean", "std")}
    fresh = Normalizer(2)
    fresh.load_state_dict(old)  # strict: the missing bounds are filled in, not an error
    assert not fresh.is_bounded and torch.equal(fresh.mean, n.mean)


def test_bad_statistics_rejected():
    with pytest.raises(InvalidInputError):
        MeanStd(torch.zeros(2), torch.tensor([1.0, 0.0]))
    with pytest.raises(InvalidInputError):
        Normalizer(3).fit(torch.randn(10, 2))
    with pytest.raises(InvalidInputError):
        MeanStd.of(torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(InvalidInputError):
        Normalizer(2).set_stats(MeanStd(torch.zeros(3), torch.ones(3)))
    with pytest.raises(InvalidInputError, match="low must be <= high"):
        MeanStd(torch.zeros(1), torch.ones(1), torch.ones(1), torch.zeros(1))
    with pytest.raises(InvalidInputError, match="both"):
        MeanStd(torch.zeros(1), torch.ones(1), torch.ones(1))


def test_compute_normalization_matches_numpy(reacher_data):
    stats = compute_normalization(reacher_data)
    train = reacher_data.subset("train")
    spec = reacher_data.spec
    acc = (train.qvel[:, 1:] - train.qvel[:, :-1]) / spec.dt
    np.testing.assert_allclose(stats.acceleration.mean.numpy(), acc.reshape(-1, spec.nv).mean(0), rtol=1e-9)
    np.testing.assert_allclose(stats.acceleration.std.numpy(), acc.reshape(-1, spec.nv).std(0), rtol=1e-9)
    np.testing.assert_allclose(stats.action.std.numpy(), train.action.reshape(-1, spec.nu).std(0), rtol=1e-9)
    np.testing.assert_allclose(stats.delta_v.std.numpy(), stats.acceleration.std.numpy() * spec.dt, rtol=1e-9)
    features = StateFeatures(spec.layout)
    assert stats.position.dim == features.position_feature_dim
    assert stats.velocity.dim == stats.delta_q.dim == spec.nv
    tr = transitions(reacher_data)
    dq = position_difference(spec.layout, tr["q0"], tr["q1"])
    assert torch.allclose(stats.delta_q.mean, dq.mean(0))
    sub = compute_normalization(reacher_data, max_transitions=100)
    assert sub.acceleration.mean.shape == (spec.nv,)
    with pytest.raises(InvalidInputError):
        compute_normalization(reacher_data.subset("test"), split="train")


def test_limit_features_get_a_fixed_scale_not_their_tiny_spread(tmp_path):
    """Rarely active limit features would be blown up by their own spread; they are scaled by a constant."""
    import mosim
    from mosim.models.normalization import LIMIT_DEPTH_SCALE, compute_normalization

    path = mosim.collect(mosim.CollectConfig(system="cheetah-run", out=str(tmp_path / "c.h5"), episodes=4, steps=50,
                                             workers=1), progress=False)
    stats = compute_normalization(mosim.load_dataset(path))
    n_lim = 6  # cheetah's six limited leg joints
    std, mean = stats.position.std, stats.position.mean
    assert torch.all(std[-4 * n_lim : -2 * n_lim] == LIMIT_DEPTH_SCALE) and torch.all(std[-2 * n_lim :] == 1.0)
    assert torch.all(mean[-4 * n_lim :] == 0.0)


def _wild_models(data, kind):
    """The same wildly extrapolating weights (big output layers) in a bounded and an unbounded model."""
    from mosim.models import build_model, model_preset

    stats = compute_normalization(data)
    models = {}
    for bounded in (True, False):
        torch.manual_seed(0)
        models[bounded] = build_model(data.spec, model_preset("tiny", kind=kind, bound_to_data=bounded), stats)
        with torch.no_grad():
            for name, p in models[bounded].named_parameters():
                if name.endswith("output.weight"):
                    p.mul_(300.0)
    return stats, models


def _widened(ms: MeanStd, margin: float = 0.11) -> tuple[torch.Tensor, torch.Tensor]:
    width = ms.high - ms.low
    return (ms.low - margin * width).float(), (ms.high + margin * width).float()


@pytest.mark.parametrize("kind", ["structured", "plain_delta"])
def test_bounded_model_saturates_off_the_data(reacher_data, kind):
    """Far from the data, a bounded model's prediction stays inside the data's (widened) range of accelerations
    or state changes, where the same weights unbounded extrapolate without limit."""
    stats, models = _wild_models(reacher_data, kind)
    spec = reacher_data.spec
    q = torch.zeros(4, spec.nq)
    v = torch.full((4, spec.nv), 1e3)  # hundreds of times the data's speeds
    a = torch.zeros(4, spec.nu)
    if kind == "plain_delta":
        raw = {b: m.delta_v_norm.denormalize(m.normalized_delta(q, v, a)[..., spec.nv:]) for b, m in models.items()}
        low, high = _widened(stats.delta_v)
    else:
        raw = {b: m.acceleration(q, v, a) for b, m in models.items()}
        low, high = _widened(stats.acceleration)
    assert torch.all(raw[True] <= high) and torch.all(raw[True] >= low)
    assert (raw[False] - raw[False].clamp(low, high)).abs().max() > 2 * (high - low).max()
    qs, vs = models[True].rollout(q[:1], torch.zeros(1, spec.nv), torch.ones(1, 100, spec.nu))
    assert torch.isfinite(qs).all() and torch.isfinite(vs).all()


@pytest.mark.parametrize("kind", ["structured", "plain_delta"])
def test_bounded_model_keeps_its_state_in_the_data_range(reacher_data, kind):
    """A bounded model's next velocity and raw coordinates (reacher's limited wrist) stay in the data's range
    widened by its width on each side, even from a state far outside it; unbounded, the same weights carry the
    state far away. Inside the range an unbounded model's step is unchanged by the clamp, bit for bit."""
    from mosim.models import StateFeatures, bound_state

    stats, models = _wild_models(reacher_data, kind)
    spec = reacher_data.spec
    raw = StateFeatures(spec.layout).raw
    assert raw.numel() == 1  # the wrist
    q = torch.zeros(4, spec.nq)
    q[:, raw] = 50.0  # far past the wrist's range
    v = torch.full((4, spec.nv), 1e3)
    a = torch.zeros(4, spec.nu)
    v_low, v_high = _widened(stats.velocity, 1.01)
    q_low, q_high = (x[: raw.numel()] for x in _widened(stats.position, 1.01))
    q1, v1 = models[True].step(q, v, a)
    assert torch.all(v1 <= v_high) and torch.all(v1 >= v_low)
    assert torch.all(q1[:, raw] <= q_high) and torch.all(q1[:, raw] >= q_low)
    q1u, v1u = models[False].step(q, v, a)
    assert v1u.abs().max() > 10 * v_high.abs().max() and q1u[:, raw].abs().min() > 2 * q_high.abs().max()
    m = models[False]
    qs, vs = reacher_data.qpos[0, :5], reacher_data.qvel[0, :5]
    qb, vb = bound_state(m.features, m.position_norm, m.velocity_norm, torch.as_tensor(qs), torch.as_tensor(vs))
    assert torch.equal(qb, torch.as_tensor(qs)) and torch.equal(vb, torch.as_tensor(vs))
