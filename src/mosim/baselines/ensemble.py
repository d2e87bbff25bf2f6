"""The probabilistic ensemble of PETS / MBPO (mbrl-lib's ``GaussianMLP``) as a model of the state change.

``E`` Gaussian MLPs run as one batched network (per-member weights ``(E, in, out)``): input the z-scored
``(position features, velocity features, action)`` (the feature maps of mosim's own models, which PETS
allows), hidden layers Linear -> SiLU, output the mean and the raw log-variance of the state change
``(Δq in tangent coordinates, Δv)``; standardized by default (``normalize_targets``, a labelled variant;
the originals predict the raw change). The log-variance is soft-bounded,
``lv = max - softplus(max - raw)``, ``lv = min + softplus(lv - min)``, with per-dimension bounds starting at
0.5 and -10. Loss (:meth:`EnsembleModel.training_loss`): per member the mean of ``(mu - y)^2 exp(-lv) + lv``
over its own bootstrap resample of the batch, summed over members, plus ``0.01 (sum max - sum min)`` and
the per-layer L2 terms ``w_l 0.5 ||W_l||^2`` of PETS / MBPO. Init: truncated normal with std
``1 / (2 sqrt(fan_in))``, zero biases.

Prediction: ``s' = s ⊕ delta`` fed back each step. ``mean`` propagation (the default) averages the elites'
means; ``members`` rolls every elite out on its own means and averages the rollouts; ``ts1`` / ``tsinf`` sample particles (:meth:`EnsembleModel.sample_rollout`) and :meth:`rollout`
returns their average. Elites are all members until :meth:`EnsembleModel.select_elites` (or
:func:`select_checkpoint_elites` on a trained checkpoint) picks those with the lowest holdout MSE.
"""

from __future__ import annotations

import math
import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mosim.baselines.common import (
    Warmup,
    check_warmup,
    register_rng,
    seeded_generator,
    training_generator,
)
from mosim.baselines.config import ENSEMBLE_MODES, EnsembleConfig
from mosim.errors import InvalidInputError
from mosim.integrators import integrate_positions
from mosim.models.base import DynamicsModel
from mosim.models.config import ModelConfig
from mosim.models.features import StateFeatures
from mosim.models.normalization import NormalizationStats, add_state_normalizers
from mosim.models.tangent import position_difference
from mosim.systems.base import SystemSpec


def gaussian_nll(mean: Tensor, logvar: Tensor, target: Tensor) -> Tensor:
    """mbrl-lib's elementwise Gaussian NLL ``(mean - target)^2 exp(-logvar) + logvar`` (twice the negative
    log-likelihood without ``log 2 pi``)."""
    return (mean - target).pow(2) * torch.exp(-logvar) + logvar


def bound_logvar(raw: Tensor, max_logvar: Tensor, min_logvar: Tensor) -> Tensor:
    """PETS' soft bounds: ``lv = max - softplus(max - raw)``, then ``min + softplus(lv - min)``."""
    lv = max_logvar - F.softplus(max_logvar - raw)
    return min_logvar + F.softplus(lv - min_logvar)


class EnsembleModel(DynamicsModel):
    """A probabilistic ensemble (``ModelConfig(kind="ensemble", ensemble=EnsembleConfig(...))``).

    :param stats: normalization statistics (inputs; targets with ``normalize_targets``); ``None`` leaves
        identity normalizers, to be loaded
    """

    needs_warmup = False
    """a Markov model: :meth:`rollout` accepts a ``warmup`` (checked) and ignores it"""

    def __init__(
        self, spec: SystemSpec, config: ModelConfig | None = None, stats: NormalizationStats | None = None
    ) -> None:
        super().__init__()
        config = config or ModelConfig(kind="ensemble")
        if config.kind != "ensemble" or config.ensemble is None:
            raise InvalidInputError(f"EnsembleModel needs a ModelConfig of kind 'ensemble', got {config.kind!r}")
        self.spec, self.config = spec, config
        c: EnsembleConfig = config.ensemble
        self.ens_config = c
        self.features = StateFeatures(spec.layout, config.uses_limit_features)
        pdim, nv, nu = self.features.position_feature_dim, spec.nv, spec.nu
        add_state_normalizers(self, stats, pdim, nv, nu, spec.dt)
        self.in_dim, self.out_dim = pdim + nv + nu, 2 * nv
        sizes = [self.in_dim] + [c.width] * c.hidden_layers + [2 * self.out_dim]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            w = torch.empty(c.members, fan_in, fan_out)
            std = 1.0 / (2.0 * math.sqrt(max(fan_in, 1)))
            for m in range(c.members):
                nn.init.trunc_normal_(w[m], std=std, a=-2 * std, b=2 * std)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(torch.zeros(c.members, 1, fan_out)))
        self.decays = c.layer_decays()
        max_lv = torch.full((1, self.out_dim), c.max_logvar)
        min_lv = torch.full((1, self.out_dim), c.min_logvar)
        if c.learn_logvar_bounds:
            self.max_logvar, self.min_logvar = nn.Parameter(max_lv), nn.Parameter(min_lv)
        else:
            self.register_buffer("max_logvar", max_lv)
            self.register_buffer("min_logvar", min_lv)
        self.register_buffer("elite_mask", torch.ones(c.members, dtype=torch.bool))
        register_rng(self)

    # ------------------------------------------------------------------ the network
    def inputs(self, q: Tensor, v: Tensor, a: Tensor) -> Tensor:
        """Normalized network input ``(..., in_dim)``."""
        p = self.position_norm(self.features.positions(q))
        return torch.cat((p, self.velocity_norm(self.features.velocities(v)), self.action_norm(a)), dim=-1)

    def targets(self, q0: Tensor, v0: Tensor, q1: Tensor, v1: Tensor) -> Tensor:
        """The change ``(Δq, Δv) (..., 2 nv)`` in the units the network predicts."""
        dq, dv = position_difference(self.spec.layout, q0, q1), v1 - v0
        if self.ens_config.normalize_targets:
            dq, dv = self.delta_q_norm(dq), self.delta_v_norm(dv)
        return torch.cat((dq, dv), dim=-1)

    def raw_delta(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """A predicted change in network units -> ``(Δq, Δv)`` in raw units."""
        nv = self.spec.nv
        dq, dv = y[..., :nv], y[..., nv:]
        if self.ens_config.normalize_targets:
            dq, dv = self.delta_q_norm.denormalize(dq), self.delta_v_norm.denormalize(dv)
        return dq, dv

    def member_outputs(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``x (E, N, in_dim)`` (or ``(N, in_dim)``, shared) -> per-member ``mean``, bounded ``logvar``,
        each ``(E, N, D)``."""
        h = x if x.ndim == 3 else x[None].expand(self.ens_config.members, -1, -1)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = F.silu(h)
        mean, raw = h.split(self.out_dim, dim=-1)
        return mean, bound_logvar(raw, self.max_logvar, self.min_logvar)

    def selected_outputs(self, x: Tensor, member: Tensor) -> tuple[Tensor, Tensor]:
        """``x (N, in_dim)`` through member ``member[i]`` for each row: ``mean``, ``logvar`` ``(N, D)``."""
        mean = x.new_empty(x.shape[0], self.out_dim)
        logvar = torch.empty_like(mean)
        last = len(self.weights) - 1
        for e in torch.unique(member).tolist():
            rows = torch.nonzero(member == e).squeeze(-1)
            h = x[rows]
            for i, (w, b) in enumerate(zip(self.weights, self.biases)):
                h = torch.addmm(b[e], h, w[e])
                if i < last:
                    h = F.silu(h)
            mean[rows], logvar[rows] = h[:, : self.out_dim], h[:, self.out_dim:]
        return mean, bound_logvar(logvar, self.max_logvar, self.min_logvar)

    # ------------------------------------------------------------------ training
    def training_loss(self, windows: Any, q_scale: Tensor | None = None, v_scale: Tensor | None = None) -> Tensor:
        """The NLL on all transitions of ``windows`` (``qpos (B, L+1, nq)``, ``qvel``, ``action (B, L, nu)``),
        each member on its own bootstrap resample, plus the bound penalty and the L2 terms."""
        c, spec = self.ens_config, self.spec
        q = windows.qpos.to(self.device, self.dtype)
        v = windows.qvel.to(self.device, self.dtype)
        a = windows.action.to(self.device, self.dtype).reshape(-1, spec.nu)
        q0, q1 = q[:, :-1].reshape(-1, spec.nq), q[:, 1:].reshape(-1, spec.nq)
        v0, v1 = v[:, :-1].reshape(-1, spec.nv), v[:, 1:].reshape(-1, spec.nv)
        x, y = self.inputs(q0, v0, a), self.targets(q0, v0, q1, v1)
        n = x.shape[0]
        if c.bootstrap:
            idx = torch.randint(n, (c.members, n), generator=training_generator(self, self.device), device=self.device)
            xe, ye = x[idx], y[idx]
        else:
            xe, ye = x[None].expand(c.members, -1, -1), y[None].expand(c.members, -1, -1)
        mean, logvar = self.member_outputs(xe)
        loss = gaussian_nll(mean, logvar, ye).mean(dim=(1, 2)).sum()
        loss = loss + 0.01 * (self.max_logvar.sum() - self.min_logvar.sum())
        for w, decay in zip(self.weights, self.decays):
            if decay > 0:
                loss = loss + decay * 0.5 * w.pow(2).sum()
        return loss

    @torch.no_grad()
    def select_elites(self, windows: Any) -> Tensor:
        """Set :attr:`elite_mask` to the ``config.ensemble.elites`` members with the lowest MSE of their mean
        on the raw changes of ``windows`` (holdout data); returns the per-member MSE ``(E,)``."""
        spec = self.spec
        q = windows.qpos.to(self.device, self.dtype)
        v = windows.qvel.to(self.device, self.dtype)
        a = windows.action.to(self.device, self.dtype).reshape(-1, spec.nu)
        q0, q1 = q[:, :-1].reshape(-1, spec.nq), q[:, 1:].reshape(-1, spec.nq)
        v0, v1 = v[:, :-1].reshape(-1, spec.nv), v[:, 1:].reshape(-1, spec.nv)
        mean, _ = self.member_outputs(self.inputs(q0, v0, a))
        dq, dv = self.raw_delta(mean)
        true = torch.cat((position_difference(spec.layout, q0, q1), v1 - v0), dim=-1)
        mse = (torch.cat((dq, dv), dim=-1) - true).pow(2).mean(dim=(1, 2))
        mask = torch.zeros_like(self.elite_mask)
        mask[torch.argsort(mse)[: self.ens_config.elites]] = True
        self.elite_mask.copy_(mask)
        return mse

    # ------------------------------------------------------------------ prediction
    def _add_delta(self, q: Tensor, v: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        dq, dv = self.raw_delta(y)
        return integrate_positions(self.spec.layout, q, dq, 1.0), v + dv

    def _step(self, q: Tensor, v: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        x = self.inputs(q, v, a)
        mean, _ = self.member_outputs(x.reshape(-1, self.in_dim))
        y = mean[self.elite_mask].mean(0).reshape(*x.shape[:-1], self.out_dim)
        return self._add_delta(q, v, y)

    def rollout(self, qpos0: Any, qvel0: Any, actions: Any, warmup: Warmup | None = None, mode: str | None = None,
                particles: int | None = None, seed: int | None = None) -> tuple[Tensor, Tensor]:
        """Open-loop prediction ``(..., T+1, nq)``, ``(..., T+1, nv)``; ``warmup`` is checked and ignored.

        :param mode: ``mean`` (elite mean propagation), ``members`` (the average of the elites' own rollouts on
            their means), ``ts1`` or ``tsinf`` (the average of ``particles`` sampled rollouts); default
            ``config.ensemble.eval_mode``
        """
        q, _, _ = self.check_rollout_inputs(qpos0, qvel0, actions)
        check_warmup(self, warmup, tuple(q.shape[:-1]))
        mode = mode or self.ens_config.eval_mode
        if mode not in ENSEMBLE_MODES:
            raise InvalidInputError(f"mode must be one of {list(ENSEMBLE_MODES)}, got {mode!r}")
        if mode == "mean":
            return super().rollout(qpos0, qvel0, actions)
        if mode == "members":
            qs, vs = self.member_rollouts(qpos0, qvel0, actions)
        else:
            qs, vs = self.sample_rollout(qpos0, qvel0, actions, mode, particles, seed)
        return qs.mean(0), vs.mean(0)

    def member_rollouts(self, qpos0: Any, qvel0: Any, actions: Any) -> tuple[Tensor, Tensor]:
        """Every elite's rollout on its own mean delta: ``(elites, ..., T+1, nq)``, ``(elites, ..., T+1, nv)``."""
        q, v, a = self.check_rollout_inputs(qpos0, qvel0, actions)
        elites = torch.nonzero(self.elite_mask).squeeze(-1)
        lead, steps, k = q.shape[:-1], a.shape[-2], len(elites)
        member = elites.repeat_interleave(math.prod(lead))
        q, v, a = _replicate(k, q, v, a)
        qs, vs = [q], [v]
        for t in range(steps):
            mu, _ = self.selected_outputs(self.inputs(q, v, a[:, t]), member)
            q, v = self._add_delta(q, v, mu)
            qs.append(q)
            vs.append(v)
        shape = (k, *lead, steps + 1)
        return torch.stack(qs, 1).reshape(*shape, -1), torch.stack(vs, 1).reshape(*shape, -1)

    def sample_rollout(self, qpos0: Any, qvel0: Any, actions: Any, mode: str = "ts1", particles: int | None = None,
                       seed: int | None = None) -> tuple[Tensor, Tensor]:
        """Sampled particles ``(P, ..., T+1, nq)``, ``(P, ..., T+1, nv)``: each step ``delta ~ N(mu, exp(lv))`` of
        one elite, redrawn every step (``ts1``) or fixed per particle (``tsinf``)."""
        if mode not in ("ts1", "tsinf"):
            raise InvalidInputError(f"mode must be 'ts1' or 'tsinf', got {mode!r}")
        q, v, a = self.check_rollout_inputs(qpos0, qvel0, actions)
        p = self.ens_config.particles if particles is None else int(particles)
        if p < 1:
            raise InvalidInputError(f"particles must be >= 1, got {p}")
        lead, steps = q.shape[:-1], a.shape[-2]
        n = math.prod(lead) * p
        q, v, a = _replicate(p, q, v, a)
        gen = seeded_generator(self.device, self.ens_config.eval_seed if seed is None else seed)
        elites = torch.nonzero(self.elite_mask).squeeze(-1)

        def draw() -> Tensor:
            return elites[torch.randint(len(elites), (n,), generator=gen, device=self.device)]

        member = draw()
        qs, vs = [q], [v]
        for t in range(steps):
            if mode == "ts1" and t > 0:
                member = draw()
            mu, logvar = self.selected_outputs(self.inputs(q, v, a[:, t]), member)
            std = torch.exp(0.5 * logvar)
            eps = torch.randn(mu.shape, generator=gen, device=self.device, dtype=mu.dtype)
            q, v = self._add_delta(q, v, mu + std * eps)
            qs.append(q)
            vs.append(v)
        shape = (p, *lead, steps + 1)
        return torch.stack(qs, 1).reshape(*shape, -1), torch.stack(vs, 1).reshape(*shape, -1)

    def extra_repr(self) -> str:
        c = self.ens_config
        return (f"system={self.spec.system_id!r}, kind='ensemble', members={c.members}, "
                f"elites={int(self.elite_mask.sum())}, hidden={c.hidden_layers}x{c.width}, eval={c.eval_mode}")


def _replicate(k: int, q: Tensor, v: Tensor, a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``k`` copies of the batch, flat and copy-major: ``q (..., nq)`` -> ``(k N, nq)``, ``v`` alike, ``a (..., T, nu)``
    -> ``(k N, T, nu)``, with ``N`` the number of start states."""
    steps = a.shape[-2]
    q, v = q.reshape(1, -1, q.shape[-1]), v.reshape(1, -1, v.shape[-1])
    a = a.reshape(1, -1, steps, a.shape[-1])
    n = k * q.shape[1]
    return (q.expand(k, -1, -1).reshape(n, -1), v.expand(k, -1, -1).reshape(n, -1),
            a.expand(k, -1, -1, -1).reshape(n, steps, -1))


def select_checkpoint_elites(path: str | os.PathLike[str], dataset: Any, split: str = "val", n_windows: int = 5000,
                             seed: int = 0) -> Tensor:
    """Pick the elites of a trained ensemble checkpoint on one-step windows of ``split`` and write them into the
    checkpoint (atomically). Returns the per-member holdout MSE."""
    from mosim.training.checkpoint import load_checkpoint, save_checkpoint
    from mosim.training.windows import fixed_windows

    ckpt = load_checkpoint(path)
    model = EnsembleModel(dataset.spec, ModelConfig.from_json(ckpt["model_config"]))
    model.load_state_dict(ckpt["model_state"])
    windows = fixed_windows(dataset, split, 1, n_windows, seed, dtype=torch.float32)
    mse = model.select_elites(windows)
    ckpt["model_state"] = model.state_dict()
    for key in ("format", "format_version", "mosim_version"):
        ckpt.pop(key, None)
    save_checkpoint(path, ckpt)
    return mse
