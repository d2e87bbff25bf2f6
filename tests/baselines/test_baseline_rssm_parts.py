"""The RSSM's building blocks against hand computations: symlog, the LayerNorm GRU, unimix, sampling, KL."""

from __future__ import annotations

import math

import numpy as np
import torch

from mosim.baselines.rssm_parts import (
    LayerNormGRUCell,
    categorical_kl,
    kl_balance_loss,
    mode_one_hot,
    sample_one_hot,
    symexp,
    symlog,
    unimix_log_probs,
)


def test_symlog_and_symexp_are_inverse_and_odd():
    x = torch.tensor([-1e6, -123.4, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 42.0, 1e6], dtype=torch.float64)
    assert torch.allclose(symexp(symlog(x)), x, rtol=1e-12, atol=1e-12)
    assert torch.allclose(symlog(symexp(symlog(x))), symlog(x), rtol=1e-12)
    assert torch.equal(symlog(-x), -symlog(x))
    assert float(symlog(torch.tensor(0.0))) == 0.0
    assert math.isclose(float(symlog(torch.tensor(math.e - 1, dtype=torch.float64))), 1.0, rel_tol=1e-12)


def test_gru_gates_match_a_hand_computation():
    torch.manual_seed(0)
    inp, size, eps = 3, 4, 1e-3
    cell = LayerNormGRUCell(inp, size, eps).double()
    with torch.no_grad():
        cell.norm.weight.uniform_(0.5, 1.5)
        cell.norm.bias.uniform_(-0.5, 0.5)
    x, h = torch.randn(2, inp, dtype=torch.float64), torch.randn(2, size, dtype=torch.float64)
    out = cell(x, h).detach().numpy()

    w = cell.linear.weight.detach().numpy()
    gamma, beta = cell.norm.weight.detach().numpy(), cell.norm.bias.detach().numpy()

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    for i in range(2):
        y = w @ np.concatenate([x[i].numpy(), h[i].numpy()])
        y = (y - y.mean()) / np.sqrt(y.var() + eps) * gamma + beta
        r, c, u = y[:size], y[size:2 * size], y[2 * size:]
        r = sigmoid(r)
        c = np.tanh(r * c)
        u = sigmoid(u - 1.0)
        expected = u * c + (1 - u) * h[i].numpy()
        np.testing.assert_allclose(out[i], expected, rtol=1e-10, atol=1e-12)


def test_gru_keeps_most_of_h_when_the_gates_are_zero():
    cell = LayerNormGRUCell(2, 3).double()
    with torch.no_grad():
        cell.linear.weight.zero_()
    h = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)
    out = cell(torch.ones(1, 2, dtype=torch.float64), h)
    keep = 1 - 1 / (1 + math.exp(1.0))  # update gate sigmoid(0 - 1); candidate tanh(0.5 * 0) = 0
    assert torch.allclose(out, keep * h)


def test_unimix_probabilities_are_at_least_one_percent_over_classes():
    logits = torch.tensor([[[60.0, -60.0, -60.0, -60.0], [0.0, 0.0, 0.0, 0.0]]])
    p = unimix_log_probs(logits, 0.01).exp()
    assert torch.allclose(p.sum(-1), torch.ones(1, 2))
    assert float(p.min()) >= 0.01 / 4 * (1 - 1e-5)
    assert torch.allclose(p[0, 0], torch.tensor([0.99 + 0.0025, 0.0025, 0.0025, 0.0025]), atol=1e-6)
    rand = unimix_log_probs(torch.randn(1000, 32, 16) * 30, 0.01).exp()
    assert float(rand.min()) >= 0.01 / 16 * (1 - 1e-5)


def test_samples_are_one_hot_follow_the_probabilities_and_pass_gradients():
    logits = torch.tensor([[1.0, 0.0, -1.0]], requires_grad=True)
    log_probs = unimix_log_probs(logits.expand(20000, 3), 0.01)
    g = torch.Generator().manual_seed(0)
    z = sample_one_hot(log_probs, g)
    assert torch.allclose(z.sum(-1), torch.ones(20000))
    assert torch.allclose(z, z.round(), atol=1e-6)
    freq = z.detach().mean(0)
    assert torch.allclose(freq, log_probs[0].exp().detach(), atol=0.015), freq
    (z[:, 0].sum()).backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0
    mode = mode_one_hot(unimix_log_probs(torch.tensor([[0.1, 2.0, -1.0]]), 0.01))
    assert torch.allclose(mode, torch.tensor([[0.0, 1.0, 0.0]]))


def _kl_by_hand(post: np.ndarray, prior: np.ndarray, mix: float) -> float:
    def probs(lg):
        e = np.exp(lg - lg.max(-1, keepdims=True))
        return (1 - mix) * e / e.sum(-1, keepdims=True) + mix / lg.shape[-1]

    q, p = probs(post), probs(prior)
    return float((q * np.log(q / p)).sum())  # summed over classes and groups


def test_kl_balancing_with_free_bits_matches_a_hand_computation():
    torch.manual_seed(1)
    for scale, above in ((4.0, True), (0.2, False)):
        post = (torch.randn(2, 3, dtype=torch.float64) * scale).requires_grad_()
        prior = (torch.randn(2, 3, dtype=torch.float64) * scale).requires_grad_()
        kl = _kl_by_hand(post.detach().numpy(), prior.detach().numpy(), 0.01)
        assert (kl > 1.0) == above, kl
        loss, dyn, rep = kl_balance_loss(post, prior, 0.01, 1.0, 0.5, 0.1)
        assert math.isclose(float(dyn.detach()), kl, rel_tol=1e-10)
        assert math.isclose(float(rep.detach()), kl, rel_tol=1e-10)
        assert math.isclose(float(loss.detach()), 0.5 * max(1.0, kl) + 0.1 * max(1.0, kl), rel_tol=1e-10)
        loss.backward()
        if not above:  # below the free bits: no gradient at all
            assert float(post.grad.abs().max()) == 0.0 and float(prior.grad.abs().max()) == 0.0
            continue
        # dyn (0.5) trains only the prior, rep (0.1) only the posterior
        p2, q2 = prior.detach().clone().requires_grad_(), post.detach().clone().requires_grad_()
        categorical_kl(unimix_log_probs(q2, 0.01), unimix_log_probs(p2, 0.01)).backward()
        assert torch.allclose(prior.grad, 0.5 * p2.grad) and torch.allclose(post.grad, 0.1 * q2.grad)


def test_free_bits_clamp_the_sum_over_groups_not_each_group():
    # two groups with KL 0.6 each: the sum 1.2 is above 1 nat, each group alone is below
    post = torch.tensor([[3.0, 0.0], [3.0, 0.0]], dtype=torch.float64)
    prior = torch.zeros(2, 2, dtype=torch.float64)
    per_group = _kl_by_hand(post[:1].numpy(), prior[:1].numpy(), 0.0)
    assert per_group < 1.0 < 2 * per_group
    loss, dyn, _ = kl_balance_loss(post, prior, 0.0, 1.0, 1.0, 0.0)
    assert math.isclose(float(loss), 2 * per_group, rel_tol=1e-10)
