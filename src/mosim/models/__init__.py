"""Learned simulators of a robot's dynamics.

::

    from mosim.models import NeuralSimulator, ModelConfig, model_preset, compute_normalization

    stats = compute_normalization(dataset)                      # from the training split
    model = NeuralSimulator(dataset.spec, model_preset("small"), stats)
    acc = model.acceleration(q, v, a)                           # (B, nv), raw units
    q1, v1 = model.step(q, v, a)                                # one model step of spec.dt
    qs, vs = model.rollout(q0, v0, actions)                     # (B, T+1, nq), (B, T+1, nv)

- :class:`NeuralSimulator`: ``dv/dt = M(q)[b(q, v) + tau(a)] + sum_i eps_i(q, v, a)`` (kind ``structured``)
  or one ResNet (``plain_ode``), integrated with :mod:`mosim.integrators`; staged training through
  :meth:`~NeuralSimulator.parameter_groups` / :meth:`~NeuralSimulator.configure_stage`.
- :class:`PlainDeltaModel`: one ResNet predicting the normalized state change (kind ``plain_delta``).
- Inputs are features derived from the joint layout (:class:`StateFeatures`), standardized with
  :class:`Normalizer` statistics from :func:`compute_normalization`.
"""

from mosim.models.base import DynamicsModel
from mosim.models.config import MODEL_KINDS, PRESETS, ModelConfig, model_preset
from mosim.models.corrector import Corrector
from mosim.models.delta import PlainDeltaModel
from mosim.models.features import FeatureIndex, StateFeatures, feature_dim, position_feature_dim, position_features
from mosim.models.networks import ACTIVATIONS, HIDDEN_DTYPES, MLP, ResNet, make_activation, set_hidden_dtype
from mosim.models.normalization import (
    MeanStd,
    NormalizationStats,
    Normalizer,
    bound_state,
    compute_normalization,
    model_inputs,
    transitions,
)
from mosim.models.predictor import (
    PlainODEPredictor,
    StructuredPredictor,
    inverse_inertia,
    lower_triangular,
)
from mosim.models.simulator import NeuralSimulator, build_model
from mosim.models.tangent import position_difference

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MODEL_KINDS",
    "PRESETS",
    "Corrector",
    "DynamicsModel",
    "FeatureIndex",
    "MeanStd",
    "ModelConfig",
    "NeuralSimulator",
    "NormalizationStats",
    "Normalizer",
    "PlainDeltaModel",
    "PlainODEPredictor",
    "ResNet",
    "StateFeatures",
    "StructuredPredictor",
    "bound_state",
    "build_model",
    "compute_normalization",
    "feature_dim",
    "inverse_inertia",
    "lower_triangular",
    "make_activation",
    "model_inputs",
    "model_preset",
    "position_difference",
    "position_feature_dim",
    "position_features",
    "transitions",
]
