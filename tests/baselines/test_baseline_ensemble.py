"""The probabilistic ensemble: NLL and bounds against closed forms, the loss, propagation modes, elites."""

from __future__ import annotations

import math

import pytest
import torch

from mosim.baselines import EnsembleConfig, EnsembleModel, ensemble_preset, gaussian_nll
from mosim.baselines.ensemble import bound_logvar
from mosim.errors import InvalidInputError
from mosim.models import ModelConfig, build_model
from mosim.training.windows import Windows


@pytest.fixture
def model(robot_spec):
    torch.manual_seed(0)
    return build_model(robot_spec, ensemble_preset("tiny"))


def test_gaussian_nll_matches_the_closed_form():
    torch.manual_seed(0)
    mean, target = torch.randn(50, dtype=torch.float64), torch.randn(50, dtype=torch.float64)
    logvar = torch.randn(50, dtype=torch.float64)
    log_prob = torch.distributions.Normal(mean, torch.exp(0.5 * logvar)).log_prob(target)
    assert torch.allclose(gaussian_nll(mean, logvar, target), -2 * log_prob - math.log(2 * math.pi))


def test_logvar_is_soft_bounded():
    raw = torch.linspace(-50, 50, 201, dtype=torch.float64)
    lv = bound_logvar(raw, torch.tensor(0.5, dtype=torch.float64), torch.tensor(-10.0, dtype=torch.float64))
    assert float(lv.max()) < 0.5 + 1e-4 and float(lv.min()) >= -10.0  # min + softplus(max - min) ~ max
    assert torch.all(lv[1:] >= lv[:-1])
    assert abs(float(bound_logvar(torch.tensor(-3.0), torch.tensor(0.5), torch.tensor(-10.0))) + 3.0) < 0.05


def test_config_and_layer_decays(robot_spec):
    cfg = ensemble_preset("tiny")
    assert isinstance(build_model(robot_spec, cfg), EnsembleModel)
    assert ModelConfig.from_json(cfg.to_json()) == cfg
    assert EnsembleConfig(hidden_layers=4).layer_decays() == (2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4)
    assert EnsembleConfig(hidden_layers=2).layer_decays() == (2.5e-5, 5e-5, 1e-4)
    assert EnsembleConfig(hidden_layers=6).layer_decays()[-3:] == (7.5e-5, 7.5e-5, 1e-4)
    assert EnsembleConfig(weight_decays=()).layer_decays() == (0.0,) * 5
    with pytest.raises(InvalidInputError):
        EnsembleConfig(members=3, elites=4)


def test_training_loss_is_the_summed_member_nll_plus_penalties(robot_spec, make_inputs):
    torch.manual_seed(0)
    m = build_model(robot_spec, ensemble_preset("tiny", bootstrap=False))
    q, v, a = make_inputs(robot_spec, (4, 3), 1)
    windows = Windows(q, v, a[:, :2, 0])
    loss = m.training_loss(windows, None, None)
    spec = robot_spec
    q0, q1 = q[:, :-1].reshape(-1, spec.nq), q[:, 1:].reshape(-1, spec.nq)
    v0, v1 = v[:, :-1].reshape(-1, spec.nv), v[:, 1:].reshape(-1, spec.nv)
    mean, lv = m.member_outputs(m.inputs(q0, v0, a[:, :2, 0].reshape(-1, spec.nu)))
    y = m.targets(q0, v0, q1, v1)
    expected = sum(((mean[e] - y) ** 2 * torch.exp(-lv[e]) + lv[e]).mean() for e in range(3))
    expected = expected + 0.01 * (m.max_logvar.sum() - m.min_logvar.sum())
    expected = expected + sum(d * 0.5 * (w**2).sum() for w, d in zip(m.weights, (2.5e-5, 5e-5, 1e-4)))
    assert torch.allclose(loss, expected, rtol=1e-5)
    loss.backward()
    assert m.max_logvar.grad is not None  # bounds are learned (PETS / MBPO) by default


def test_bootstrap_gives_each_member_its_own_resample(robot_spec, make_inputs):
    torch.manual_seed(0)
    m = build_model(robot_spec, ensemble_preset("tiny"))
    q, v, a = make_inputs(robot_spec, (8, 2), 1)
    windows = Windows(q, v, a[:, :1, 0])
    assert not torch.equal(m.training_loss(windows), m.training_loss(windows))  # new draw each call
    frozen = build_model(robot_spec, ensemble_preset("tiny", learn_logvar_bounds=False))
    assert not any(n.endswith("logvar") for n, _ in frozen.named_parameters())
    assert "max_logvar" in frozen.state_dict()


def test_rollout_modes_and_warmup_is_ignored(model, robot_spec, make_inputs):
    spec = robot_spec
    q, v, a = make_inputs(spec, (2, 3), 6)
    qs, vs = model.rollout(q, v, a)
    assert qs.shape == (2, 3, 7, spec.nq) and vs.shape == (2, 3, 7, spec.nv)
    wq, wv, wa = make_inputs(spec, (2, 3, 4), 1, seed=1)
    assert torch.equal(model.rollout(q, v, a, warmup=(wq, wv, wa[..., 0, :]))[0], qs)
    with pytest.raises(InvalidInputError):
        model.rollout(q, v, a, warmup=(wq, wv))
    # mean propagation: the average of the members' means
    mean, _ = model.member_outputs(model.inputs(q[0], v[0], a[0, :, 0]))
    dq, dv = model.raw_delta(mean.mean(0))
    assert torch.allclose(vs[0, :, 1], v[0] + dv, atol=1e-6)
    for mode in ("ts1", "tsinf"):
        pq, pv = model.sample_rollout(q, v, a, mode=mode, particles=5, seed=2)
        assert pq.shape == (5, 2, 3, 7, spec.nq) and pv.shape == (5, 2, 3, 7, spec.nv)
        assert torch.allclose(model.rollout(q, v, a, mode=mode, particles=5, seed=2)[1], pv.mean(0))
        assert torch.equal(model.sample_rollout(q, v, a, mode=mode, particles=5, seed=2)[1], pv)
        assert not torch.allclose(pv[0], pv[1])


def test_members_mode_averages_each_elites_own_rollout(model, robot_spec, make_inputs):
    q, v, a = make_inputs(robot_spec, (2, 3), 6)
    mq, mv = model.member_rollouts(q, v, a)
    k = int(model.elite_mask.sum())
    assert mq.shape == (k, 2, 3, 7, robot_spec.nq) and mv.shape == (k, 2, 3, 7, robot_spec.nv)
    mask = model.elite_mask.clone()
    for e in range(k):  # member e alone, under mean propagation, is member e's own rollout
        model.elite_mask.zero_()
        model.elite_mask[e] = True
        alone_q, alone_v = model.rollout(q, v, a, mode="mean")
        assert torch.allclose(mq[e], alone_q, atol=1e-6) and torch.allclose(mv[e], alone_v, atol=1e-6)
    model.elite_mask.copy_(mask)
    rq, rv = model.rollout(q, v, a, mode="members")
    assert torch.allclose(rq, mq.mean(0)) and torch.allclose(rv, mv.mean(0))
    assert not torch.allclose(rv, model.rollout(q, v, a, mode="mean")[1])


def test_select_elites_keeps_the_best_members(model, robot_spec, make_inputs):
    q, v, a = make_inputs(robot_spec, (16, 2), 1)
    windows = Windows(q, v, a[:, :1, 0])
    with torch.no_grad():
        model.biases[-1][1].add_(5.0)  # member 1 predicts far-off changes
    mse = model.select_elites(windows)
    assert int(torch.argmax(mse)) == 1
    assert model.elite_mask.tolist() == [True, False, True]
    q1, v1 = model.step(q[:, 0], v[:, 0], a[:, 0, 0])
    mean, _ = model.member_outputs(model.inputs(q[:, 0], v[:, 0], a[:, 0, 0]))
    assert torch.allclose(v1, v[:, 0] + model.raw_delta(mean[[0, 2]].mean(0))[1], atol=1e-6)


def test_selected_outputs_match_the_batched_members(model, robot_spec, make_inputs):
    q, v, a = make_inputs(robot_spec, (10,), 1)
    x = model.inputs(q, v, a[:, 0])
    member = torch.tensor([0, 2, 2, 1, 0, 0, 1, 2, 2, 0])
    mean, lv = model.member_outputs(x)
    sm, slv = model.selected_outputs(x, member)
    rows = torch.arange(10)
    assert torch.allclose(sm, mean[member, rows], atol=1e-6) and torch.allclose(slv, lv[member, rows], atol=1e-6)
