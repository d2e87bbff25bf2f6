"""Feature maps derived from the joint layout, and quaternion/tangent helpers."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch
from model_helpers import random_state

from mosim.errors import InvalidInputError
from mosim.integrators import integrate_positions
from mosim.models import FeatureIndex, StateFeatures, feature_dim, position_difference, position_feature_dim
from mosim.models.quaternion import gravity_in_body_frame, quat_to_rotmat, rotation_6d


def test_gravity_in_body_frame_known_quaternions():
    identity = torch.tensor([1.0, 0, 0, 0], dtype=torch.float64)
    assert torch.allclose(gravity_in_body_frame(identity), torch.tensor([0.0, 0, -1], dtype=torch.float64))
    # 90 degrees about x: the body's y axis points up, so down is -y in the body frame
    c = math.cos(math.pi / 4)
    rx = torch.tensor([c, c, 0, 0], dtype=torch.float64)
    assert torch.allclose(gravity_in_body_frame(rx), torch.tensor([0.0, -1, 0], dtype=torch.float64), atol=1e-12)
    # heading (rotation about world z) does not change it
    rz = torch.tensor([math.cos(0.7), 0, 0, math.sin(0.7)], dtype=torch.float64)
    assert torch.allclose(gravity_in_body_frame(rz), torch.tensor([0.0, 0, -1], dtype=torch.float64), atol=1e-12)


def test_rotation_matches_mujoco():
    quats = torch.randn(20, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    quats = quats / quats.norm(dim=-1, keepdim=True)
    for quat, r, g, r6 in zip(quats, quat_to_rotmat(quats), gravity_in_body_frame(quats), rotation_6d(quats)):
        mat = np.zeros(9)
        mujoco.mju_quat2Mat(mat, quat.numpy())
        mat = mat.reshape(3, 3)
        np.testing.assert_allclose(r.numpy(), mat, atol=1e-12)
        np.testing.assert_allclose(g.numpy(), mat.T @ np.array([0.0, 0, -1]), atol=1e-12)
        np.testing.assert_allclose(r6.numpy(), np.concatenate([mat[:, 0], mat[:, 1]]), atol=1e-12)


def test_zoo_feature_index_and_dims(zoo_spec):
    idx = FeatureIndex.from_layout(zoo_spec.layout)
    # free z, limited elbow, finger slide; x and y of the free joint are dropped
    assert idx.raw == (2, 11, 13)
    assert idx.angles == (12,)
    assert idx.free_quats == (3,)
    assert idx.ball_quats == (7,)
    n_limited = len(idx.limited)
    assert n_limited >= 1
    assert position_feature_dim(zoo_spec.layout, limit_features=False) == 3 + 2 + 3 + 6
    assert position_feature_dim(zoo_spec.layout) == 14 + 4 * n_limited
    assert feature_dim(zoo_spec.layout) == 14 + 4 * n_limited + zoo_spec.nv
    names = idx.names(zoo_spec.layout)
    assert names[:5] == ["root.z", "elbow", "finger", "sin(wrist)", "cos(wrist)"]
    assert len(names) == idx.position_dim
    f = StateFeatures(zoo_spec.layout)
    q, v, _ = random_state(zoo_spec, 5)
    assert f(q, v).shape == (5, f.feature_dim)
    assert f.positions(q[0]).shape == (14 + 4 * n_limited,)


def test_limit_features_measure_penetration(zoo_spec):
    f = StateFeatures(zoo_spec.layout).to(torch.float64)
    idx = f.index
    j, lo, hi = idx.limited[0], idx.lower[0], idx.upper[0]
    q, _, _ = random_state(zoo_spec, 3)
    q = q.clone()
    q[0, j], q[1, j], q[2, j] = lo - 0.1, 0.5 * (lo + hi), hi + 0.2
    feats = f.positions(q)[:, 14:]
    n = len(idx.limited)
    below, above, is_below, is_above = (feats[:, k * n] for k in range(4))
    torch.testing.assert_close(below, torch.tensor([0.1, 0.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(above, torch.tensor([0.0, 0.0, 0.2], dtype=torch.float64))
    assert is_below.tolist() == [1.0, 0.0, 0.0] and is_above.tolist() == [0.0, 0.0, 1.0]


def test_planar_drops_horizontal_slide(planar_spec):
    idx = FeatureIndex.from_layout(planar_spec.layout)
    assert idx.raw == (1, 3)  # rootz, hip; rootx dropped
    assert idx.angles == (2,)  # rooty wraps


def test_unlimited_hinge_wraps_limited_does_not(zoo_spec):
    f = StateFeatures(zoo_spec.layout)
    q, _, _ = random_state(zoo_spec, 4)
    shifted = q.clone()
    shifted[:, 12] += 2 * math.pi  # unlimited wrist
    assert torch.allclose(f.positions(q), f.positions(shifted), atol=1e-12)
    shifted = q.clone()
    shifted[:, 11] += 2 * math.pi  # limited elbow: fed raw
    assert not torch.allclose(f.positions(q), f.positions(shifted))


def test_horizontal_position_and_quaternion_sign_do_not_change_features(zoo_spec):
    f = StateFeatures(zoo_spec.layout)
    q, _, _ = random_state(zoo_spec, 4)
    moved = q.clone()
    moved[:, :2] += torch.tensor([[100.0, -37.0]], dtype=q.dtype)
    moved[:, 3:7] *= -1  # the same rotation
    moved[:, 7:11] *= -1
    assert torch.allclose(f.positions(q), f.positions(moved), atol=1e-12)
    higher = q.clone()
    higher[:, 2] += 1.0
    assert not torch.allclose(f.positions(q), f.positions(higher))


def test_velocities_are_raw_and_wrong_dims_rejected(zoo_spec):
    f = StateFeatures(zoo_spec.layout)
    q, v, _ = random_state(zoo_spec, 3)
    assert torch.equal(f.velocities(v), v)
    with pytest.raises(InvalidInputError, match="nq=14"):
        f.positions(q[:, :-1])
    with pytest.raises(InvalidInputError, match="nv=12"):
        f.velocities(v[:, :-1])


def test_position_difference_inverts_integrate_positions_and_matches_mujoco(zoo_spec, zoo_model):
    q0, dq, _ = random_state(zoo_spec, 8, seed=4)
    dq = dq * 0.5
    q1 = integrate_positions(zoo_spec.layout, q0, dq, 1.0)
    back = position_difference(zoo_spec.layout, q0, q1)
    assert torch.allclose(back, dq, atol=1e-10)
    for a, b, d in zip(q0.numpy(), q1.numpy(), back.numpy()):
        expected = np.zeros(zoo_spec.nv)
        mujoco.mj_differentiatePos(zoo_model, expected, 1.0, a, b)
        np.testing.assert_allclose(d, expected, atol=1e-10)
    with pytest.raises(InvalidInputError):
        position_difference(zoo_spec.layout, q0, q1[:, :-1])
