"""Building blocks of the DreamerV3 (v1) RSSM, as in the PyTorch port ``NM512/dreamerv3-torch``.

- :func:`symlog` / :func:`symexp`: ``sign(x) log(1 + |x|)`` and its inverse.
- :func:`norm_block`: bias-free Linear -> LayerNorm -> SiLU (the port's layer), :func:`mlp`: a stack of them.
- :class:`LayerNormGRUCell`: one Linear on ``[x, h]`` to ``3 deter`` values, LayerNorm, split into
  ``r, c, u``; ``r = sigmoid(r)``, ``c = tanh(r * c)``, ``u = sigmoid(u - 1)``, ``h' = u c + (1 - u) h``.
- Categorical latents: :func:`unimix_log_probs` (``p = (1 - mix) softmax + mix / C``), straight-through
  :func:`sample_one_hot` (``o + p - sg(p)``) and :func:`mode_one_hot`, :func:`categorical_kl` summed over the groups.
- :func:`kl_balance_loss`: ``dyn_scale max(free, KL[sg(q) || p]) + rep_scale max(free, KL[q || sg(p)])``.
- Initialization: truncated normal with fan-avg variance scaling for hidden layers, uniform fan-avg
  (scale 1) for the logit and output layers, zero biases, LayerNorm at identity.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def symlog(x: Tensor) -> Tensor:
    return torch.sign(x) * torch.log1p(torch.abs(x))


def symexp(x: Tensor) -> Tensor:
    return torch.sign(x) * torch.expm1(torch.abs(x))


# ---------------------------------------------------------------------- initialization
def init_trunc_normal_fan_avg(layer: nn.Linear) -> None:
    """The port's ``weight_init``: truncated normal (2 std) with variance ``1 / fan_avg``."""
    fan_avg = (layer.in_features + layer.out_features) / 2.0
    std = math.sqrt(1.0 / fan_avg) / 0.87962566103423978
    with torch.no_grad():
        nn.init.trunc_normal_(layer.weight, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)
        if layer.bias is not None:
            layer.bias.zero_()


def init_uniform_fan_avg(layer: nn.Linear, scale: float = 1.0) -> None:
    """The port's ``uniform_weight_init(scale)``: uniform with variance ``scale / fan_avg``."""
    fan_avg = (layer.in_features + layer.out_features) / 2.0
    limit = math.sqrt(3.0 * scale / fan_avg)
    with torch.no_grad():
        nn.init.uniform_(layer.weight, -limit, limit)
        if layer.bias is not None:
            layer.bias.zero_()


def output_linear(in_dim: int, out_dim: int) -> nn.Linear:
    """A Linear with bias for logits and decoder outputs (uniform fan-avg init, scale 1)."""
    layer = nn.Linear(in_dim, out_dim)
    init_uniform_fan_avg(layer, 1.0)
    return layer


def norm_block(in_dim: int, out_dim: int, eps: float) -> nn.Sequential:
    """Linear (no bias) -> LayerNorm(eps) -> SiLU."""
    layer = nn.Linear(in_dim, out_dim, bias=False)
    init_trunc_normal_fan_avg(layer)
    return nn.Sequential(layer, nn.LayerNorm(out_dim, eps=eps), nn.SiLU())


def mlp(in_dim: int, units: int, layers: int, eps: float) -> nn.Sequential:
    """``layers`` norm blocks of width ``units`` (``layers = 0``: the identity). Output width: :func:`mlp_out`."""
    blocks = [norm_block(in_dim if i == 0 else units, units, eps) for i in range(layers)]
    return nn.Sequential(*blocks)


def mlp_out(in_dim: int, units: int, layers: int) -> int:
    return units if layers > 0 else in_dim


# ---------------------------------------------------------------------- recurrent core
class LayerNormGRUCell(nn.Module):
    """DreamerV3's GRU: gates from one bias-free Linear on ``[x, h]`` followed by LayerNorm.

    ``forward(x (..., inp), h (..., size)) -> h' (..., size)``. Not ``torch.nn.GRUCell``: the reset gate
    scales the whole candidate pre-activation and the update gate is biased by ``update_bias = -1``.
    """

    def __init__(self, inp: int, size: int, eps: float = 1e-3, update_bias: float = -1.0) -> None:
        super().__init__()
        self.size, self.update_bias = size, float(update_bias)
        self.linear = nn.Linear(inp + size, 3 * size, bias=False)
        init_trunc_normal_fan_avg(self.linear)
        self.norm = nn.LayerNorm(3 * size, eps=eps)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        parts = self.norm(self.linear(torch.cat((x, h), dim=-1)))
        reset, cand, update = parts.split(self.size, dim=-1)
        reset = torch.sigmoid(reset)
        cand = torch.tanh(reset * cand)
        update = torch.sigmoid(update + self.update_bias)
        return update * cand + (1 - update) * h


# ---------------------------------------------------------------------- categorical latents
def unimix_log_probs(logits: Tensor, unimix: float) -> Tensor:
    """``log((1 - unimix) softmax(logits) + unimix / C)`` over the last dimension (the classes)."""
    probs = torch.softmax(logits, dim=-1)
    if unimix > 0:
        probs = probs * (1.0 - unimix) + unimix / logits.shape[-1]
    return torch.log(probs)


def sample_one_hot(log_probs: Tensor, generator: torch.Generator | None) -> Tensor:
    """A one-hot sample per group with the straight-through gradient ``o + p - sg(p)``.

    Sampling is the Gumbel-max trick with uniforms from ``generator`` (reproducible on any device).
    """
    u = torch.rand(log_probs.shape, generator=generator, device=log_probs.device, dtype=log_probs.dtype)
    tiny = torch.finfo(log_probs.dtype).tiny
    gumbel = -torch.log(-torch.log(u.clamp(tiny, 1.0 - 1e-7)))
    index = torch.argmax(log_probs.detach() + gumbel, dim=-1)
    one_hot = F.one_hot(index, log_probs.shape[-1]).to(log_probs.dtype)
    probs = log_probs.exp()
    return one_hot + probs - probs.detach()


def mode_one_hot(log_probs: Tensor) -> Tensor:
    """The most likely class per group as a one-hot, with the port's straight-through gradient through the
    (unimixed) log-probabilities: ``o + log p - sg(log p)``."""
    index = torch.argmax(log_probs.detach(), dim=-1)
    one_hot = F.one_hot(index, log_probs.shape[-1]).to(log_probs.dtype)
    return one_hot + log_probs - log_probs.detach()


def categorical_kl(log_q: Tensor, log_p: Tensor) -> Tensor:
    """``KL[q || p]`` of per-group categoricals ``(..., G, C)`` given as log-probabilities, summed over the
    groups: ``(...)``."""
    return (log_q.exp() * (log_q - log_p)).sum(dim=(-1, -2))


def kl_balance_loss(
    post_logits: Tensor, prior_logits: Tensor, unimix: float, free_nats: float, dyn_scale: float, rep_scale: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """DreamerV3's KL terms per step from logits ``(..., G, C)``.

    Returns ``(loss, dyn, rep)``, each ``(...)``: ``dyn = KL[sg(q) || p]`` trains the prior, ``rep = KL[q ||
    sg(p)]`` the posterior (both with the unimix), and ``loss = dyn_scale max(free_nats, dyn) + rep_scale
    max(free_nats, rep)``: below ``free_nats`` a term gives no gradient.
    """
    log_q = unimix_log_probs(post_logits, unimix)
    log_p = unimix_log_probs(prior_logits, unimix)
    dyn = categorical_kl(log_q.detach(), log_p)
    rep = categorical_kl(log_q, log_p.detach())
    loss = dyn_scale * torch.clamp(dyn, min=free_nats) + rep_scale * torch.clamp(rep, min=free_nats)
    return loss, dyn, rep
