"""The RSSM as a DynamicsModel: rollout shapes, warm-up, previous-action indexing, sampling modes, loss."""

from __future__ import annotations

import pytest
import torch

from mosim.baselines import RSSMModel, rssm_preset
from mosim.errors import InvalidInputError
from mosim.models import ModelConfig, build_model
from mosim.training.windows import Windows


@pytest.fixture
def model(robot_spec):
    torch.manual_seed(0)
    m = build_model(robot_spec, rssm_preset("tiny"))
    with torch.no_grad():  # a fresh model barely reacts to its inputs: make the test sensitive
        for p in m.parameters():
            if p.ndim == 2:
                p.mul_(3.0)
    return m


def warmup_of(spec, make_inputs, batch, w, seed):
    q, v, a = make_inputs(spec, (*batch, w), 1, seed)
    return q, v, a[..., 0, :]


def test_build_model_and_config_round_trip(robot_spec):
    cfg = rssm_preset("tiny")
    assert isinstance(build_model(robot_spec, cfg), RSSMModel)
    assert ModelConfig.from_json(cfg.to_json()) == cfg
    assert ModelConfig(kind="rssm").rssm == rssm_preset().rssm  # the default is dv3-cpu
    with pytest.raises(InvalidInputError, match="only for kind"):
        ModelConfig(kind="plain_delta", rssm=cfg.rssm)


def test_rollout_shapes_with_and_without_warmup(model, robot_spec, make_inputs):
    spec = robot_spec
    q, v, a = make_inputs(spec, (2, 3), 7)
    for warmup in (None, warmup_of(spec, make_inputs, (2, 3), 4, 1)):
        qs, vs = model.rollout(q, v, a, warmup=warmup)
        assert qs.shape == (2, 3, 8, spec.nq) and vs.shape == (2, 3, 8, spec.nv)
        assert torch.equal(qs[..., 0, :], q) and torch.equal(vs[..., 0, :], v)
        assert torch.isfinite(qs).all() and torch.isfinite(vs).all()
    q1, v1 = model.step(q, v, a[..., 0, :])
    assert q1.shape == q.shape and v1.shape == v.shape
    q0, v0 = model.rollout(q, v, a[..., :0, :])
    assert q0.shape == (2, 3, 1, spec.nq)


def test_the_warmup_changes_the_prediction_only_through_the_latent(model, robot_spec, make_inputs):
    spec = robot_spec
    q, v, a = make_inputs(spec, (4,), 6)
    w1, w2 = warmup_of(spec, make_inputs, (4,), 3, 1), warmup_of(spec, make_inputs, (4,), 3, 2)
    base = model.rollout(q, v, a)
    p1, p2 = model.rollout(q, v, a, warmup=w1), model.rollout(q, v, a, warmup=w2)
    assert not torch.allclose(p1[0][:, 1:], p2[0][:, 1:]) and not torch.allclose(p1[0][:, 1:], base[0][:, 1:])
    assert torch.equal(p1[0][:, 0], p2[0][:, 0])  # the start state is given, not predicted
    # a warm-up of zero states is no warm-up; repeated calls are identical (seeded sampling)
    empty = (q[:, :0].reshape(4, 0, spec.nq), v.reshape(4, 1, -1)[:, :0], a[:, :0])
    assert torch.equal(model.rollout(q, v, a, warmup=empty)[0], base[0])
    assert torch.equal(model.rollout(q, v, a, warmup=w1)[1], p1[1])
    # the last warm-up action (applied in the state before the start) matters
    w3 = (w1[0], w1[1], w1[2].clone())
    w3[2][:, -1] = -w3[2][:, -1]
    assert not torch.allclose(model.rollout(q, v, a, warmup=w3)[0], p1[0])


def test_prediction_k_depends_on_actions_before_k_only(model, robot_spec, make_inputs):
    q, v, a = make_inputs(robot_spec, (3,), 8)
    a2 = a.clone()
    a2[:, 5] = -a2[:, 5]
    for mode in ("mean", "sample", "mode"):
        p, p2 = model.rollout(q, v, a, mode=mode), model.rollout(q, v, a2, mode=mode)
        assert torch.equal(p[0][:, :6], p2[0][:, :6]), mode  # states 0..5 come before action 5 acts
        assert not torch.allclose(p[0][:, 6], p2[0][:, 6]), mode


def test_sampling_modes(model, robot_spec, make_inputs):
    q, v, a = make_inputs(robot_spec, (3,), 5)
    one = model.rollout(q, v, a, mode="sample", seed=3)
    assert torch.equal(model.rollout(q, v, a, mode="mean", samples=1, seed=3)[0], one[0])
    assert not torch.equal(model.rollout(q, v, a, mode="sample", seed=4)[0], one[0])
    mean = model.rollout(q, v, a, mode="mean", samples=6, seed=3)
    assert not torch.allclose(mean[0], one[0])
    assert torch.equal(model.rollout(q, v, a, mode="mode", seed=1)[0], model.rollout(q, v, a, mode="mode", seed=2)[0])
    with pytest.raises(InvalidInputError):
        model.rollout(q, v, a, mode="argmax")


def test_bad_warmups_are_rejected(model, robot_spec, make_inputs):
    spec = robot_spec
    q, v, a = make_inputs(spec, (4,), 5)
    wq, wv, wa = warmup_of(spec, make_inputs, (4,), 3, 1)
    nan = wa * float("nan")
    for bad in ((wq, wv), (wq[:2], wv[:2], wa[:2]), (wq, wv[:, :2], wa), (wq[..., :-1], wv, wa), (wq, wv, nan)):
        with pytest.raises(InvalidInputError):
            model.rollout(q, v, a, warmup=bad)


def test_training_loss_reaches_every_parameter(model, robot_spec, make_inputs):
    q, v, a = make_inputs(robot_spec, (5, 10), 1)
    windows = Windows(q, v, a[:, :9, 0])
    loss = model.training_loss(windows, None, None)
    loss.backward()
    assert torch.isfinite(loss)
    assert set(model.last_losses) == {"pred", "dyn", "rep", "kl"}
    missing = [n for n, p in model.named_parameters() if p.grad is None or float(p.grad.abs().sum()) == 0]
    assert not missing, missing
    assert int(model.rng_step) == 1  # each call draws from a new, checkpointed seed


def test_reconstruction_shapes(model, robot_spec, make_inputs):
    q, v, a = make_inputs(robot_spec, (2, 6), 1)
    rq, rv = model.reconstruct(q, v, a[:, :5, 0])
    assert rq.shape == q.shape and rv.shape == v.shape


def test_other_kinds_keep_their_config_json():
    import json

    from mosim.models import model_preset

    d = json.loads(model_preset("small").to_json())
    assert "rssm" not in d and "ensemble" not in d  # old checkpoints and resumed runs still match
    assert ModelConfig.from_json(model_preset("small").to_json()) == model_preset("small")
