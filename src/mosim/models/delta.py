"""The plain one-step network: a normalized ResNet predicting the normalized change of the state.

``(Δq, Δv) = denormalize(f(features(q, v), a))`` with ``Δq (..., nv)`` in tangent (velocity-like)
coordinates, then ``q1 = integrate_positions(q, Δq, 1.0)`` (``q + Δq`` for hinges and slides, a rotation
for quaternions, which stay unit length) and ``v1 = v + Δv``. Normalization statistics: ``delta_q``
and ``delta_v`` of :class:`~mosim.models.normalization.NormalizationStats`. A fresh model predicts
the mean change of the data. This is the strong baseline the structured model competes with.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mosim.data.dataset import Dataset
from mosim.integrators import integrate_positions
from mosim.models.base import DynamicsModel
from mosim.models.config import ModelConfig
from mosim.models.features import StateFeatures
from mosim.models.networks import ResNet
from mosim.models.normalization import NormalizationStats, add_state_normalizers, bound_state, model_inputs
from mosim.models.tangent import position_difference
from mosim.systems.base import SystemSpec


class PlainDeltaModel(DynamicsModel):
    """One ResNet (``config.force_width`` x ``config.force_blocks``, ``config.activation``) from normalized
    ``(position features, velocity features, action)`` to the normalized ``(Δq, Δv) (..., 2 nv)``.

    :param stats: normalization statistics; ``None`` leaves identity normalizers (to be loaded)
    """

    def __init__(
        self, spec: SystemSpec, config: ModelConfig | None = None, stats: NormalizationStats | None = None
    ) -> None:
        super().__init__()
        config = config or ModelConfig(kind="plain_delta", n_correctors=0)
        self.spec, self.config = spec, config
        self.features = StateFeatures(spec.layout, config.uses_limit_features, config.geometry_of(spec),
                                      config.actuation_of(spec), config.uses_heading_frame,
                                      config.uses_limit_velocity_features)
        pdim, nv, nu = self.features.position_feature_dim, spec.nv, self.features.action_feature_dim(spec.nu)
        wdim = self.features.velocity_feature_dim
        add_state_normalizers(self, stats, pdim, nv, nu, spec.dt, config.bound_to_data, wdim)
        self.net = ResNet(pdim + wdim + nu, 2 * nv, config.force_width, config.force_blocks, config.activation)

    @classmethod
    def from_dataset(cls, dataset: Dataset, config: ModelConfig | None = None) -> PlainDeltaModel:
        """A fresh model normalized with the statistics of ``dataset``'s training split."""
        config = config or ModelConfig(kind="plain_delta", n_correctors=0)
        spec, stats = model_inputs(dataset, config)
        return cls(spec, config, stats)

    def _normalized_delta(self, q: Tensor, v: Tensor, a: Tensor) -> Tensor:
        p = self.position_norm.bound(self.position_norm(self.features.positions(q)))
        w = self.velocity_norm.bound(self.velocity_norm(self.features.velocity_features(q, v)))
        x = torch.cat((p, w, self.action_norm(self.features.action_features(q, v, a))), dim=-1)
        y = self.net(x)
        nv = self.spec.nv
        return torch.cat((self.delta_q_norm.bound(y[..., :nv]), self.delta_v_norm.bound(y[..., nv:])), dim=-1)

    def normalized_delta(self, qpos: Any, qvel: Any, action: Any) -> Tensor:
        """The prediction in normalized units: ``cat(Δq, Δv) (..., 2 nv)``, in the frame the network sees
        (:meth:`StateFeatures.to_heading`)."""
        return self._normalized_delta(*self.check_inputs(qpos, qvel, action))

    def normalized_delta_target(self, qpos0: Any, qvel0: Any, qpos1: Any, qvel1: Any) -> Tensor:
        """The true change between two states in the units of :meth:`normalized_delta`, ``(..., 2 nv)``."""
        q0, v0 = self.check_state(qpos0, qvel0)
        q1, v1 = self.check_state(qpos1, qvel1)
        dq = self.features.to_heading(q0, position_difference(self.spec.layout, q0, q1))
        dv = self.features.to_heading(q0, v1 - v0)
        return torch.cat((self.delta_q_norm(dq), self.delta_v_norm(dv)), dim=-1)

    def _step(self, q: Tensor, v: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        y = self._normalized_delta(q, v, a)
        nv = self.spec.nv
        dq = self.features.to_world(q, self.delta_q_norm.denormalize(y[..., :nv]))
        dv = self.features.to_world(q, self.delta_v_norm.denormalize(y[..., nv:]))
        q1, v1 = integrate_positions(self.spec.layout, q, dq, 1.0), v + dv
        if self.config.bound_to_data:
            q1, v1 = bound_state(self.features, self.position_norm, self.velocity_norm, q1, v1)
        return q1, v1

    def extra_repr(self) -> str:
        return f"system={self.spec.system_id!r}, kind='plain_delta', dt={self.spec.dt:g}"
