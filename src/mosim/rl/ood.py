"""The out-of-distribution penalty: a normalizing flow of the training ``(state, action)`` pairs.

A policy trained inside a learned model can steer into states the model never saw, where its
predictions (and so the rewards computed on them) are wrong. :class:`DensityModel` is a normalizing flow
of the model's training pairs (``zuko.flows.MAF`` by default: one call is about 6x cheaper than a neural
spline flow's, ``flow="nsf"``, and the penalty is evaluated at every imagined step); :class:`OODPenalty`
turns its log-density into the paper's reward term ``sigmoid((log p - c) / s) - 1``, which lies in ``(-1, 0)``: about 0 where the
data are dense, -1/2 at ``log p = c``, towards -1 far outside.

Inputs of the flow: the model's own position features of ``qpos`` (sin/cos of unlimited hinges, gravity
direction of free joints, no horizontal root position: see :mod:`mosim.models.features`; no limit
features), ``qvel`` and the action, each standardized by the training data's mean and std. Training adds
Gaussian noise (``noise``, in standardized units) to the inputs, so the density of features lying on a
manifold (sin and cos of one angle) stays finite and smooth.

Default ``c`` and ``s`` come from the log-densities of held-out pairs (the dataset's validation split,
the training split without one) stored with the density at fit time: ``c`` is their 1% quantile and
``s = (median - c) / 4``. So 99% of held-out pairs get a penalty above -1/2, a typical pair (the median)
about ``sigmoid(4) - 1 = -0.018``, and the penalty approaches -1 within a few ``s`` below the data's tail.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mosim.atomic import atomic_path
from mosim.data.dataset import Dataset
from mosim.errors import InvalidInputError, MosimError
from mosim.models.features import StateFeatures
from mosim.systems.base import SystemSpec

FORMAT_NAME = "mosim.density"
FORMAT_VERSION = 1
C_QUANTILE = 0.01
"""``c`` defaults to this quantile of the held-out log-densities"""
S_DIVISOR = 4.0
"""``s`` defaults to ``(median - c) / S_DIVISOR``"""
MAX_Z = 30.0
"""``(log p - c) / s`` is clipped to ``±MAX_Z`` so the penalty stays strictly inside (-1, 0) in float64"""


class DensityError(MosimError):
    """A density file is missing, corrupt or of another system."""


@dataclass(frozen=True)
class DensityConfig:
    """The flow and how it is fitted."""

    flow: str = "maf"
    """``maf`` (affine autoregressive transforms) or ``nsf`` (rational-quadratic spline transforms)"""
    transforms: int = 5
    """autoregressive transforms"""
    hidden: tuple[int, ...] = (64, 64)
    """hidden layers of each transform's network"""
    bins: int = 8
    """spline bins (``nsf``)"""
    steps: int = 2000
    """gradient steps"""
    batch_size: int = 512
    lr: float = 1e-3
    noise: float = 0.05
    """std of the Gaussian noise added to the standardized inputs while fitting"""
    max_pairs: int = 200_000
    """fit on a random subset of at most this many training pairs"""
    calibration_pairs: int = 20_000
    """held-out pairs whose log-densities set the default ``c`` and ``s``"""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("transforms", "bins", "steps", "batch_size", "max_pairs", "calibration_pairs"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"DensityConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not (self.lr > 0 and self.noise >= 0):
            raise InvalidInputError("DensityConfig: lr must be > 0 and noise >= 0")
        if self.flow not in ("maf", "nsf"):
            raise InvalidInputError(f"DensityConfig.flow must be 'maf' or 'nsf', got {self.flow!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))


class DensityModel(nn.Module):
    """``log p(state, action)`` of a normalizing flow on standardized (features of the state, action)."""

    def __init__(self, spec: SystemSpec, config: DensityConfig | None = None) -> None:
        import zuko

        super().__init__()
        self.spec, self.config = spec, config or DensityConfig()
        self.features = StateFeatures(spec.layout, limit_features=False)
        self.dim = self.features.feature_dim + spec.nu
        self.register_buffer("mean", torch.zeros(self.dim))
        self.register_buffer("std", torch.ones(self.dim))
        c = self.config
        if c.flow == "nsf":
            self.flow = zuko.flows.NSF(self.dim, transforms=c.transforms, bins=c.bins, hidden_features=c.hidden)
        else:
            self.flow = zuko.flows.MAF(self.dim, transforms=c.transforms, hidden_features=c.hidden)
        self.calibration: dict[str, Any] = {}
        """log-density quantiles of held-out pairs (``q01``, ``q50``, ``n``, ``split``), set by :func:`fit_density`"""
        self.extra: dict[str, Any] = {}
        """what the file records about the fit (:func:`density_for`: the data's fingerprint and the config)"""

    def raw_inputs(self, qpos: Any, qvel: Any, action: Any) -> Tensor:
        """Unstandardized ``(features of the state, action)`` rows ``(N, D)``."""
        t = [torch.as_tensor(np.asarray(x, dtype=np.float32)) if not isinstance(x, Tensor) else x.float()
             for x in (qpos, qvel, action)]
        q, v, a = (x.reshape(-1, n) for x, n in zip(t, (self.spec.nq, self.spec.nv, self.spec.nu)))
        if not len(q) == len(v) == len(a):
            raise InvalidInputError(f"qpos, qvel and action must have as many rows, got {len(q)}, {len(v)}, {len(a)}")
        return torch.cat([self.features(q, v), a], dim=-1)

    def inputs(self, qpos: Any, qvel: Any, action: Any) -> Tensor:
        """Standardized flow inputs ``(N, D)`` of ``qpos (..., nq)``, ``qvel (..., nv)``, ``action (..., nu)``."""
        return (self.raw_inputs(qpos, qvel, action) - self.mean) / self.std

    def log_prob_inputs(self, x: Tensor) -> Tensor:
        return self.flow().log_prob(x)

    @torch.no_grad()
    def log_prob(self, qpos: Any, qvel: Any, action: Any, batch: int = 65536) -> np.ndarray:
        """``log p`` of each ``(state, action)`` row as float64 ``(N,)`` (of the standardized inputs)."""
        x = self.inputs(qpos, qvel, action)
        out = [self.log_prob_inputs(x[i : i + batch]) for i in range(0, len(x), batch)]
        return torch.cat(out).double().numpy() if out else np.zeros(0)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> Path:
        """Write the density atomically (``torch.save``); :meth:`load` reads it back."""
        if extra is not None:
            self.extra = dict(extra)
        payload = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "spec": self.spec.to_json(),
                   "config": asdict(self.config), "state": self.state_dict(),
                   "calibration": dict(self.calibration), "extra": dict(self.extra)}
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], spec: SystemSpec | None = None) -> DensityModel:
        """Read a density file; ``spec``: the system it must be of."""
        p = Path(path)
        if not p.is_file():
            raise DensityError(f"{p}: no such density file; fit one with fit_density (or `mosim rl density`)")
        try:
            data = torch.load(p, map_location="cpu", weights_only=False)
        except Exception as e:  # torch raises many types for a damaged file
            raise DensityError(f"{p}: cannot be read ({type(e).__name__}: {e}); delete it and fit again") from None
        if not isinstance(data, dict) or (data.get("format"), data.get("format_version")) != (FORMAT_NAME, FORMAT_VERSION):
            raise DensityError(f"{p}: not a mosim density file (format {FORMAT_NAME} v{FORMAT_VERSION})")
        own = SystemSpec.from_json(data["spec"])
        if spec is not None and own.mismatches(spec):
            raise DensityError(f"{path}: density of another system ({'; '.join(own.mismatches(spec))}); "
                               "fit one on the model's training data")
        model = cls(own, DensityConfig(**data["config"]))
        model.load_state_dict(data["state"])
        model.calibration = dict(data["calibration"])
        model.extra = dict(data.get("extra", {}))
        return model.eval()


def dataset_pairs(dataset: Dataset, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``(qpos, qvel, action)`` pairs of one split, flattened over episodes and time."""
    part = dataset.subset(split)
    s = dataset.spec
    return (part.qpos[:, :-1].reshape(-1, s.nq), part.qvel[:, :-1].reshape(-1, s.nv),
            part.action.reshape(-1, s.nu))


def _subset(arrays: tuple[np.ndarray, ...], n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    if len(arrays[0]) <= n:
        return arrays
    idx = np.sort(rng.choice(len(arrays[0]), n, replace=False))
    return tuple(a[idx] for a in arrays)


def fit_density(dataset: Dataset, steps: int | None = None, config: DensityConfig | None = None,
                progress: bool = False) -> DensityModel:
    """Fit a :class:`DensityModel` to the training split's ``(state, action)`` pairs and calibrate it on
    the validation split (the training split when it has none). Deterministic for a ``config.seed``; the
    global torch random state is left as it was."""
    config = config or DensityConfig()
    if steps is not None:
        config = replace(config, steps=int(steps))
    rng = np.random.default_rng(config.seed)
    if len(dataset.episodes("train")) == 0:
        raise InvalidInputError(f"{dataset.path}: no training episodes to fit a density on")
    train = _subset(dataset_pairs(dataset, "train"), config.max_pairs, rng)
    held = "val" if len(dataset.episodes("val")) else "train"
    calib = _subset(dataset_pairs(dataset, held), config.calibration_pairs, rng)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = DensityModel(dataset.spec, config)
        with torch.no_grad():
            raw = model.raw_inputs(*train)
            model.mean.copy_(raw.mean(0))
            model.std.copy_(raw.std(0, unbiased=False).clamp_min(1e-3))
        x = model.inputs(*train)
        gen = torch.Generator().manual_seed(config.seed)
        opt = torch.optim.Adam(model.flow.parameters(), lr=config.lr)
        model.train()
        for step in range(config.steps):
            lr = config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / config.steps)))
            for g in opt.param_groups:
                g["lr"] = lr
            idx = torch.randint(len(x), (min(config.batch_size, len(x)),), generator=gen)
            xb = x[idx] + config.noise * torch.randn(len(idx), x.shape[1], generator=gen)
            loss = -model.log_prob_inputs(xb).mean()
            if not torch.isfinite(loss):
                raise DensityError(f"the density's loss became {loss.item()} at step {step}; try a lower lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.flow.parameters(), 5.0)
            opt.step()
            if progress and (step + 1) % max(1, config.steps // 10) == 0:
                print(f"density step {step + 1}/{config.steps}: nll {loss.item():.3f}")
        model.eval()
    logp = model.log_prob(*calib)
    model.calibration = {"q01": float(np.quantile(logp, C_QUANTILE)), "q50": float(np.median(logp)),
                         "n": float(len(logp)), "split": held}
    return model


class OODPenalty:
    """``penalty(qpos, qvel, action) = weight * (sigmoid((log p - c) / s) - 1)``, in ``(-weight, 0)``.

    Pass it as ``ood_penalty=`` to :class:`~mosim.rl.env.MosimEnv` / :class:`~mosim.rl.vec_env.MosimVecEnv`.

    :param density: a fitted :class:`DensityModel` (or the path of a density file)
    :param c: the log-density at which the penalty is ``-weight / 2``; default: the 1% quantile of the
        held-out log-densities
    :param s: the width of the transition; default: ``(median - c) / 4`` of the held-out log-densities
    :param weight: scale of the penalty (the paper: 1)
    """

    def __init__(self, density: DensityModel | str | os.PathLike[str], c: float | None = None,
                 s: float | None = None, weight: float = 1.0) -> None:
        if not isinstance(density, DensityModel):
            density = DensityModel.load(density)
        self.density = density.eval()
        cal = density.calibration
        if (c is None or s is None) and not {"q01", "q50"} <= set(cal):
            raise InvalidInputError("the density has no calibration: pass c and s, or fit it with fit_density")
        self.c = float(cal["q01"]) if c is None else float(c)
        self.s = max(float(cal["q50"]) - self.c, 1e-6) / S_DIVISOR if s is None else float(s)
        self.weight = float(weight)
        if not (math.isfinite(self.c) and self.s > 0 and math.isfinite(self.s) and self.weight > 0):
            raise InvalidInputError(f"need a finite c, s > 0 and weight > 0, got c={self.c}, s={self.s}, "
                                    f"weight={self.weight}")

    def from_log_prob(self, logp: np.ndarray) -> np.ndarray:
        z = np.clip((np.asarray(logp, dtype=np.float64) - self.c) / self.s, -MAX_Z, MAX_Z)
        return -self.weight / (1.0 + np.exp(z))  # = weight * (sigmoid(z) - 1), without cancellation

    def penalty(self, qpos: Any, qvel: Any, action: Any) -> np.ndarray:
        """The penalty of each ``(state, action)`` row, float64 ``(N,)``."""
        return self.from_log_prob(self.density.log_prob(qpos, qvel, action))

    __call__ = penalty

    def __repr__(self) -> str:
        return f"OODPenalty({self.density.spec.system_id!r}, c={self.c:.4g}, s={self.s:.4g}, weight={self.weight:g})"


def data_fingerprint(dataset: Dataset) -> str:
    """A short hash of a dataset's system, splits and arrays (which data a density was fitted on)."""
    import hashlib

    h = hashlib.sha1(dataset.spec.to_json().encode())
    for a in (dataset.split, dataset.qpos, dataset.qvel, dataset.action):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def density_for(dataset: Dataset, path: str | os.PathLike[str], config: DensityConfig | None = None,
                progress: bool = False) -> DensityModel:
    """The density of ``dataset`` cached at ``path`` (e.g. ``density.pt`` next to the model): loaded when the
    file was fitted on the same data with the same config, otherwise fitted and saved."""
    config = config or DensityConfig()
    key = {"data": data_fingerprint(dataset), "config": asdict(config)}
    if Path(path).is_file():
        try:
            model = DensityModel.load(path, dataset.spec)
            if model.extra.get("key") == key:
                return model
        except DensityError:
            pass  # unreadable or of another system: fit again
    model = fit_density(dataset, config=config, progress=progress)
    model.save(path, extra={"key": key, "data_path": str(dataset.path)})
    return model
