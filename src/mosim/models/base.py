"""What every learned simulator offers: validated ``step`` and ``rollout`` on raw MuJoCo states.

States are raw ``qpos (..., nq)`` and ``qvel (..., nv)``, actions raw ``(..., nu)``: the same units as a
dataset. Inputs may be float32 or float64 tensors (or arrays); they are converted to the model's dtype
and device (those of its parameters), so outputs have the model's dtype. Wrong last dimensions,
mismatched leading dimensions, non-numeric dtypes and NaN/inf raise
:class:`~mosim.errors.InvalidInputError`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from mosim.errors import InvalidInputError
from mosim.systems.base import SystemSpec


class DynamicsModel(nn.Module):
    """Base class: subclasses set :attr:`spec` and implement :meth:`_step` (unvalidated, same leading dims)."""

    spec: SystemSpec

    # ------------------------------------------------------------------ dtype, device, validation
    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def _as_input(self, x: Any, n: int, name: str, what: str) -> Tensor:
        """``x`` as a tensor of the model's dtype and device with last dimension ``n``, or InvalidInputError."""
        if isinstance(x, Tensor):
            t = x
        else:
            try:
                t = torch.as_tensor(x)
            except (TypeError, ValueError, RuntimeError) as e:
                msg = f"{name} must be a tensor or array of numbers, got {type(x).__name__}: {e}"
                raise InvalidInputError(msg) from None
        if t.is_complex() or t.dtype == torch.bool:
            raise InvalidInputError(f"{name} must be real numbers, got dtype {t.dtype}")
        if t.ndim == 0 or t.shape[-1] != n:
            raise InvalidInputError(
                f"{self.spec.system_id}: {name} must have shape {what} with last dimension {n}, got {tuple(t.shape)}"
            )
        p = next(self.parameters())  # the model's dtype and device, looked up once
        t = t.to(dtype=p.dtype, device=p.device)
        finite = torch.isfinite(t)
        if not bool(finite.all()):
            bad = int((~finite).sum())
            raise InvalidInputError(f"{self.spec.system_id}: {name} contains {bad} NaN or inf value(s)")
        return t

    def check_state(self, qpos: Any, qvel: Any) -> tuple[Tensor, Tensor]:
        """Validated ``qpos (..., nq)`` and ``qvel (..., nv)`` with equal leading dimensions."""
        q = self._as_input(qpos, self.spec.nq, "qpos", f"(..., nq={self.spec.nq})")
        v = self._as_input(qvel, self.spec.nv, "qvel", f"(..., nv={self.spec.nv})")
        if q.shape[:-1] != v.shape[:-1]:
            raise InvalidInputError(
                f"qpos and qvel must have the same leading dimensions, got {tuple(q.shape)} and {tuple(v.shape)}"
            )
        return q, v

    def check_inputs(self, qpos: Any, qvel: Any, action: Any) -> tuple[Tensor, Tensor, Tensor]:
        """Validated ``qpos (..., nq)``, ``qvel (..., nv)``, ``action (..., nu)`` with equal leading dimensions."""
        q, v = self.check_state(qpos, qvel)
        a = self._as_input(action, self.spec.nu, "action", f"(..., nu={self.spec.nu})")
        if a.shape[:-1] != q.shape[:-1]:
            raise InvalidInputError(
                f"action must have the leading dimensions of qpos {tuple(q.shape[:-1])}, got {tuple(a.shape)}"
            )
        return q, v, a

    def check_rollout_inputs(self, qpos0: Any, qvel0: Any, actions: Any) -> tuple[Tensor, Tensor, Tensor]:
        """Validated ``qpos0 (..., nq)``, ``qvel0 (..., nv)`` and ``actions (..., T, nu)``."""
        q, v = self.check_state(qpos0, qvel0)
        a = self._as_input(actions, self.spec.nu, "actions", f"(..., T, nu={self.spec.nu})")
        if a.shape[:-2] != q.shape[:-1] or a.ndim != q.ndim + 1:
            raise InvalidInputError(
                f"actions must have shape (..., T, nu) with the leading dimensions of qpos0 {tuple(q.shape[:-1])}, "
                f"got {tuple(a.shape)}"
            )
        return q, v, a

    # ------------------------------------------------------------------ stepping
    def _step(self, q: Tensor, v: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        """One model step on validated inputs."""
        raise NotImplementedError

    def step(self, qpos: Any, qvel: Any, action: Any) -> tuple[Tensor, Tensor]:
        """One model step of ``spec.dt``: ``(qpos (..., nq), qvel (..., nv), action (..., nu)) -> (qpos1, qvel1)``."""
        return self._step(*self.check_inputs(qpos, qvel, action))

    def rollout(self, qpos0: Any, qvel0: Any, actions: Any) -> tuple[Tensor, Tensor]:
        """Open-loop rollout on the model's own predictions.

        ``qpos0 (..., nq)``, ``qvel0 (..., nv)``, ``actions (..., T, nu)`` ->
        ``qpos (..., T+1, nq)``, ``qvel (..., T+1, nv)``; index 0 is the start state.
        """
        q, v, a = self.check_rollout_inputs(qpos0, qvel0, actions)
        qs, vs = [q], [v]
        for t in range(a.shape[-2]):
            q, v = self._step(q, v, a[..., t, :])
            qs.append(q)
            vs.append(v)
        return torch.stack(qs, dim=-2), torch.stack(vs, dim=-2)

    # ------------------------------------------------------------------ staged training
    @property
    def active_correctors(self) -> int:
        """Number of correctors in use (models without correctors: 0)."""
        return 0

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        """Parameters by training stage: ``[predictor, corrector 1, ...]``; models without correctors: one group."""
        return [list(self.parameters())]

    def configure_stage(self, stage: int | None) -> list[nn.Parameter]:
        """Prepare a training stage and return the parameters to optimize.

        ``stage=k`` makes group ``k`` of :meth:`parameter_groups` trainable (``requires_grad``) and freezes the
        others; ``stage=None`` makes everything trainable (joint fine-tuning). Models with correctors also set
        :attr:`active_correctors` (``k``, or all for ``None``).
        """
        groups = self.parameter_groups()
        if stage is not None and not 0 <= stage < len(groups):
            raise InvalidInputError(f"stage must be in [0, {len(groups) - 1}] or None, got {stage}")
        for k, group in enumerate(groups):
            for p in group:
                p.requires_grad_(stage is None or k == stage)
        return [p for g in groups for p in g] if stage is None else list(groups[stage])
