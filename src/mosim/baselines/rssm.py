"""DreamerV3's RSSM (v1: the 2023 code, paper v1 and the PyTorch port) as a world model on state vectors.

The observation is the raw state ``s = (qpos, qvel)``. Per step ``t`` (see ``docs/BASELINES.md`` 1.2):

- encoder ``e_t = MLP(symlog(s_t))``;
- sequence model ``h_t = GRU(h_{t-1}, Linear-LN-SiLU([z_{t-1}, a_{t-1}]))`` (:class:`LayerNormGRUCell`), with
  the *previous* action, rescaled from ``spec``'s control range to [-1, 1] and clipped;
- prior ``p(z_t | h_t)`` (one hidden layer on ``h_t``), posterior ``q(z_t | h_t, e_t)`` (one hidden layer on
  ``[h_t, e_t]``): ``stoch`` groups of ``classes``-way categoricals with a 1% uniform mix, sampled as one-hots
  with straight-through gradients;
- decoder ``MLP([h_t, z_t])`` predicting ``symlog(s_t)``; the prediction in raw units is ``symexp`` of it.

A sequence starts from the learned initial state ``h = tanh(w)``, ``z = mode(prior(h))`` with a zero action
(``is_first``). Loss per step: ``sum_d (dec_d - symlog(s_d))^2`` (posterior features) plus KL balancing
(``dyn 0.5 / rep 0.1``, free bits 1 nat on the KL summed over groups), mean over batch and time
(:meth:`RSSMModel.training_loss`, used by :func:`mosim.training.trainer.train`; the stage's ``horizon`` H
gives chunks of H+1 states: DreamerV3's 64-step chunks are ``horizon=63``).

Open-loop prediction (:meth:`RSSMModel.rollout`): the posterior filters the optional warm-up states and then
the start state (previous actions ``0, a_{-W}, ..., a_{-1}``), then the prior imagines with the given actions;
the decoded states are the prediction. ``W`` warm-up states here are ``W + 1`` observed steps in the paper's
terms (its ``W = 5`` is ``warmup`` of 4 states). The point prediction averages ``eval_samples`` latent
rollouts (``eval_mode="mean"``); ``"sample"`` is one rollout, ``"mode"`` takes the argmax class each step.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from mosim.baselines.common import (
    Warmup,
    check_warmup,
    register_rng,
    seeded_generator,
    training_generator,
)
from mosim.baselines.config import EVAL_MODES, RSSMConfig
from mosim.baselines.rssm_parts import (
    LayerNormGRUCell,
    kl_balance_loss,
    mlp,
    mlp_out,
    mode_one_hot,
    norm_block,
    output_linear,
    sample_one_hot,
    symexp,
    symlog,
    unimix_log_probs,
)
from mosim.errors import InvalidInputError
from mosim.models.base import DynamicsModel
from mosim.models.config import ModelConfig
from mosim.models.normalization import NormalizationStats
from mosim.systems.base import SystemSpec


class RSSMModel(DynamicsModel):
    """A DreamerV3 (v1) RSSM on ``(qpos, qvel)`` (``ModelConfig(kind="rssm", rssm=RSSMConfig(...))``).

    :param stats: accepted for :func:`~mosim.models.build_model`'s signature and unused: the faithful model
        sees ``symlog`` of the raw state, and actions rescaled with the spec's control range
    """

    needs_warmup = True
    """:meth:`rollout` takes a ``warmup``: true states before the start state, filtered by the posterior"""

    def __init__(
        self, spec: SystemSpec, config: ModelConfig | None = None, stats: NormalizationStats | None = None
    ) -> None:
        super().__init__()
        config = config or ModelConfig(kind="rssm")
        if config.kind != "rssm" or config.rssm is None:
            raise InvalidInputError(f"RSSMModel needs a ModelConfig of kind 'rssm', got {config.kind!r}")
        self.spec, self.config = spec, config
        c: RSSMConfig = config.rssm
        self.rssm_config = c
        self.obs_dim, latent, eps = spec.nq + spec.nv, c.stoch * c.classes, c.norm_eps
        low = torch.tensor(spec.action_low, dtype=torch.float64)
        high = torch.tensor(spec.action_high, dtype=torch.float64)
        self.register_buffer("action_mid", ((high + low) / 2).float(), persistent=False)
        self.register_buffer("action_half", ((high - low) / 2).clamp_min(1e-8).float(), persistent=False)
        self.encoder = mlp(self.obs_dim, c.units, c.layers, eps)
        embed = mlp_out(self.obs_dim, c.units, c.layers)
        self.img_in = norm_block(latent + spec.nu, c.hidden, eps)
        self.cell = LayerNormGRUCell(c.hidden, c.deter, eps)
        self.img_out = norm_block(c.deter, c.hidden, eps)
        self.img_logits = output_linear(c.hidden, latent)
        self.obs_out = norm_block(c.deter + embed, c.hidden, eps)
        self.obs_logits = output_linear(c.hidden, latent)
        self.decoder = mlp(c.deter + latent, c.units, c.layers, eps)
        self.dec_out = output_linear(mlp_out(c.deter + latent, c.units, c.layers), self.obs_dim)
        self.initial_w = nn.Parameter(torch.zeros(c.deter)) if c.learned_initial else None
        register_rng(self)
        self.last_losses: dict[str, Tensor] = {}
        """the last :meth:`training_loss`'s parts (detached): ``pred``, ``dyn``, ``rep`` (raw KLs), ``kl``"""

    # ------------------------------------------------------------------ pieces
    def normalized_actions(self, a: Tensor) -> Tensor:
        """Actions rescaled from the control range to [-1, 1] and clipped there (DreamerV3's action scaling)."""
        return ((a - self.action_mid) / self.action_half).clamp(-1.0, 1.0)

    def _latent(self, logits: Tensor, generator: torch.Generator | None, mode: str) -> Tensor:
        c = self.rssm_config
        log_probs = unimix_log_probs(logits.unflatten(-1, (c.stoch, c.classes)), c.unimix)
        z = mode_one_hot(log_probs) if mode == "mode" else sample_one_hot(log_probs, generator)
        return z.flatten(-2)

    def prior_logits(self, h: Tensor) -> Tensor:
        """Logits ``(..., stoch * classes)`` of the prior ``p(z | h)``."""
        return self.img_logits(self.img_out(h))

    def initial_state(self, batch: int) -> tuple[Tensor, Tensor]:
        """``(h0 (B, deter), z0 (B, stoch * classes))``: learned ``tanh(w)`` and the prior's mode, or zeros."""
        c = self.rssm_config
        if self.initial_w is None:
            z = torch.zeros(batch, c.stoch * c.classes, dtype=self.dtype, device=self.device)
            return torch.zeros(batch, c.deter, dtype=self.dtype, device=self.device), z
        h = torch.tanh(self.initial_w)[None]
        z = self._latent(self.prior_logits(h), None, "mode")
        return h.expand(batch, -1), z.expand(batch, -1)

    def img_step(self, h: Tensor, z: Tensor, action: Tensor) -> Tensor:
        """The sequence model: the next ``h`` from ``(h, z, normalized action)``."""
        return self.cell(self.img_in(torch.cat((z, action), dim=-1)), h)

    def decode(self, h: Tensor, z: Tensor) -> Tensor:
        """The decoder's output, ``symlog`` of the predicted state ``(..., nq + nv)``."""
        return self.dec_out(self.decoder(torch.cat((h, z), dim=-1)))

    def observe(self, obs: Tensor, prev_actions: Tensor, generator: torch.Generator | None,
                mode: str = "sample") -> tuple[Tensor, Tensor, Tensor]:
        """Filter raw states ``obs (B, T, nq + nv)`` with normalized previous actions ``(B, T, nu)`` (the first
        a zero action) from the initial state. Returns ``h (B, T, deter)``, ``z (B, T, G*C)`` and the posterior
        logits ``(B, T, G*C)``."""
        embed = self.encoder(symlog(obs))
        h, z = self.initial_state(obs.shape[0])
        hs, zs, logits = [], [], []
        for t in range(obs.shape[1]):
            h = self.img_step(h, z, prev_actions[:, t])
            lg = self.obs_logits(self.obs_out(torch.cat((h, embed[:, t]), dim=-1)))
            z = self._latent(lg, generator, mode)
            hs.append(h)
            zs.append(z)
            logits.append(lg)
        return torch.stack(hs, 1), torch.stack(zs, 1), torch.stack(logits, 1)

    # ------------------------------------------------------------------ training
    def training_loss(self, windows: Any, q_scale: Tensor | None = None, v_scale: Tensor | None = None) -> Tensor:
        """DreamerV3's world-model loss on a batch of chunks ``windows.qpos (B, H+1, nq)``, ``windows.qvel``,
        ``windows.action (B, H, nu)`` (``q_scale``, ``v_scale`` are unused: the loss lives in symlog space)."""
        c = self.rssm_config
        q = windows.qpos.to(self.device, self.dtype)
        v = windows.qvel.to(self.device, self.dtype)
        a = windows.action.to(self.device, self.dtype)
        obs = torch.cat((q, v), dim=-1)
        zero = torch.zeros_like(a[:, :1])
        prev = torch.cat((zero, self.normalized_actions(a)), dim=1)
        hs, zs, post = self.observe(obs, prev, training_generator(self, self.device))
        prior = self.prior_logits(hs)
        pred = (self.decode(hs, zs) - symlog(obs)).pow(2).sum(-1)
        groups = (c.stoch, c.classes)
        kl, dyn, rep = kl_balance_loss(post.unflatten(-1, groups), prior.unflatten(-1, groups), c.unimix,
                                       c.free_nats, c.dyn_scale, c.rep_scale)
        loss = (c.pred_scale * pred + kl).mean()
        self.last_losses = {"pred": pred.detach().mean(), "dyn": dyn.detach().mean(),
                            "rep": rep.detach().mean(), "kl": kl.detach().mean()}
        return loss

    # ------------------------------------------------------------------ prediction
    def _mode_and_samples(self, mode: str | None, samples: int | None) -> tuple[str, int]:
        mode = mode or self.rssm_config.eval_mode
        if mode not in EVAL_MODES:
            raise InvalidInputError(f"mode must be one of {list(EVAL_MODES)}, got {mode!r}")
        k = self.rssm_config.eval_samples if samples is None else int(samples)
        if k < 1:
            raise InvalidInputError(f"samples must be >= 1, got {k}")
        return mode, (k if mode == "mean" else 1)

    def rollout(self, qpos0: Any, qvel0: Any, actions: Any, warmup: Warmup | None = None,
                mode: str | None = None, samples: int | None = None, seed: int | None = None) -> tuple[Tensor, Tensor]:
        """Open-loop prediction: ``qpos0 (..., nq)``, ``qvel0 (..., nv)``, ``actions (..., T, nu)`` ->
        ``qpos (..., T+1, nq)``, ``qvel (..., T+1, nv)`` with the given start state at index 0.

        :param warmup: ``(qpos_w (..., W, nq), qvel_w (..., W, nv), actions_w (..., W, nu))``, the ``W`` true
            states before the start state and the actions applied in them; ``None``: the start state alone
        :param mode: ``mean`` (average of ``samples`` latent rollouts), ``sample`` or ``mode``; default
            ``config.rssm.eval_mode``
        :param samples: K of ``mean`` (default ``config.rssm.eval_samples``)
        :param seed: sampling seed (default ``config.rssm.eval_seed``): the same call predicts the same
        """
        q0, v0, a = self.check_rollout_inputs(qpos0, qvel0, actions)
        lead, (nq, nu) = q0.shape[:-1], (self.spec.nq, self.spec.nu)
        w = check_warmup(self, warmup, tuple(lead))
        mode, k = self._mode_and_samples(mode, samples)
        b, steps = math.prod(lead), a.shape[-2]
        q0, v0, a = q0.reshape(b, nq), v0.reshape(b, -1), a.reshape(b, steps, nu)
        obs = torch.cat((q0, v0), dim=-1)[:, None]
        prev = torch.zeros(b, 1, nu, dtype=obs.dtype, device=obs.device)
        if w is not None:
            qw, vw, aw = (t.reshape(b, t.shape[-2], t.shape[-1]) for t in w)
            obs = torch.cat((torch.cat((qw, vw), dim=-1), obs), dim=1)
            prev = torch.cat((prev, self.normalized_actions(aw)), dim=1)
        latent_mode = "mode" if mode == "mode" else "sample"
        gen = seeded_generator(self.device, self.rssm_config.eval_seed if seed is None else seed)
        hs, zs, _ = self.observe(obs.repeat(k, 1, 1), prev.repeat(k, 1, 1), gen, latent_mode)
        h, z = hs[:, -1], zs[:, -1]
        act = self.normalized_actions(a).repeat(k, 1, 1)
        preds = []
        for t in range(steps):
            h = self.img_step(h, z, act[:, t])
            z = self._latent(self.prior_logits(h), gen, latent_mode)
            preds.append(symexp(self.decode(h, z)))
        pred = (torch.stack(preds, 1) if preds else obs.new_zeros(k * b, 0, self.obs_dim))
        pred = pred.reshape(k, b, steps, self.obs_dim).mean(0)
        qs = torch.cat((q0[:, None], pred[..., :nq]), dim=1)
        vs = torch.cat((v0[:, None], pred[..., nq:]), dim=1)
        return qs.reshape(*lead, steps + 1, nq), vs.reshape(*lead, steps + 1, self.spec.nv)

    def _step(self, q: Tensor, v: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        qs, vs = self.rollout(q, v, a[..., None, :])
        return qs[..., 1, :], vs[..., 1, :]

    def reconstruct(self, qpos: Any, qvel: Any, actions: Any, mode: str = "mode",
                    seed: int | None = None) -> tuple[Tensor, Tensor]:
        """Posterior reconstruction (a sanity anchor): ``qpos (..., T+1, nq)``, ``qvel``, ``actions (..., T, nu)``
        -> the decoded posterior states, same shapes (``mode``: ``mode`` or ``sample``)."""
        q, v = self.check_state(qpos, qvel)
        a = self._as_input(actions, self.spec.nu, "actions", f"(..., T, nu={self.spec.nu})")
        if q.ndim < 2 or a.shape[:-2] != q.shape[:-2] or a.shape[-2] != q.shape[-2] - 1:
            raise InvalidInputError(f"actions must have shape (..., T, nu) for states (..., T+1, ·), got "
                                    f"{tuple(a.shape)} for {tuple(q.shape)}")
        lead, steps = q.shape[:-2], q.shape[-2]
        b = math.prod(lead)
        obs = torch.cat((q, v), dim=-1).reshape(b, steps, self.obs_dim)
        zero = torch.zeros(b, 1, self.spec.nu, dtype=obs.dtype, device=obs.device)
        prev = torch.cat((zero, self.normalized_actions(a.reshape(b, steps - 1, self.spec.nu))), dim=1)
        gen = seeded_generator(self.device, self.rssm_config.eval_seed if seed is None else seed)
        hs, zs, _ = self.observe(obs, prev, gen, "mode" if mode == "mode" else "sample")
        rec = symexp(self.decode(hs, zs)).reshape(*lead, steps, self.obs_dim)
        return rec[..., : self.spec.nq], rec[..., self.spec.nq:]

    def extra_repr(self) -> str:
        c = self.rssm_config
        return (f"system={self.spec.system_id!r}, kind='rssm', deter={c.deter}, hidden={c.hidden}, "
                f"latent={c.stoch}x{c.classes}, enc/dec={c.layers}x{c.units}, eval={c.eval_mode}")
