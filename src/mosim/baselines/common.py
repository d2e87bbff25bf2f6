"""Shared pieces of the baseline models: reproducible randomness and checks of rollout inputs.

Randomness. Training draws (latent samples, bootstrap indices) come from a generator seeded by two
buffers of the model, ``rng_seed`` (drawn from torch's global generator when the model is built, so
``torch.manual_seed`` before building fixes it) and ``rng_step`` (counting training calls). Both are in
the ``state_dict``: a run resumed from a checkpoint draws exactly what the uninterrupted run drew.
Predictions use a fresh generator seeded with a fixed evaluation seed, so they are reproducible too.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from mosim.errors import InvalidInputError

Warmup = tuple[Any, Any, Any]
"""``(qpos_w (..., W, nq), qvel_w (..., W, nv), actions_w (..., W, nu))``: the ``W`` true states before a
rollout's start state and the actions applied in them (``actions_w[..., -1, :]`` leads to the start state)."""


def register_rng(module: nn.Module) -> None:
    """Add the ``rng_seed`` and ``rng_step`` buffers (see the module docstring)."""
    seed = int(torch.randint(0, 2**62, (1,)).item())
    module.register_buffer("rng_seed", torch.tensor(seed, dtype=torch.int64))
    module.register_buffer("rng_step", torch.tensor(0, dtype=torch.int64))


def training_generator(module: nn.Module, device: torch.device) -> torch.Generator:
    """A generator for one training call; advances ``rng_step``."""
    step = int(module.rng_step.item())
    module.rng_step.add_(1)
    return seeded_generator(device, int(module.rng_seed.item()) * 1_000_003 + step)


def seeded_generator(device: torch.device, seed: int) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(int(seed) % 2**63)
    return g


def check_warmup(model: Any, warmup: Warmup | None, lead: tuple[int, ...]) -> tuple[Tensor, Tensor, Tensor] | None:
    """Validated warm-up ``(qpos_w (..., W, nq), qvel_w (..., W, nv), actions_w (..., W, nu))`` whose leading
    dimensions are ``lead`` (those of the start state); ``None`` or ``W = 0`` gives ``None``."""
    if warmup is None:
        return None
    if not isinstance(warmup, (tuple, list)) or len(warmup) != 3:
        raise InvalidInputError("warmup must be a tuple (qpos_w (..., W, nq), qvel_w (..., W, nv), actions_w "
                                f"(..., W, nu)), got {type(warmup).__name__}")
    spec = model.spec
    qw = model._as_input(warmup[0], spec.nq, "warmup qpos", f"(..., W, nq={spec.nq})")
    vw = model._as_input(warmup[1], spec.nv, "warmup qvel", f"(..., W, nv={spec.nv})")
    aw = model._as_input(warmup[2], spec.nu, "warmup actions", f"(..., W, nu={spec.nu})")
    for name, t in (("qpos", qw), ("qvel", vw), ("actions", aw)):
        if t.ndim != len(lead) + 2 or tuple(t.shape[:-2]) != tuple(lead):
            raise InvalidInputError(f"warmup {name} must have shape (..., W, ·) with the leading dimensions of "
                                    f"qpos0 {tuple(lead)}, got {tuple(t.shape)}")
    if not qw.shape[-2] == vw.shape[-2] == aw.shape[-2]:
        raise InvalidInputError(f"warmup qpos, qvel and actions must have the same W, got "
                                f"{qw.shape[-2]}, {vw.shape[-2]} and {aw.shape[-2]}")
    return None if qw.shape[-2] == 0 else (qw, vw, aw)
