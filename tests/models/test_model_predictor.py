"""The structured predictor: a positive definite M(q), gradients, initial outputs."""

from __future__ import annotations

import torch
from model_helpers import TINY, random_state

from mosim.models import NeuralSimulator, StructuredPredictor, inverse_inertia, lower_triangular
from mosim.models.predictor import apply_inverse_inertia, tril_size


def test_lower_triangular_layout():
    n = 4
    entries = torch.randn(3, tril_size(n), dtype=torch.float64)
    chol = lower_triangular(entries, n)
    assert chol.shape == (3, n, n)
    assert torch.equal(torch.triu(chol, diagonal=1), torch.zeros_like(chol))
    assert (torch.diagonal(chol, dim1=-2, dim2=-1) > 0).all()
    # zero entries give the identity
    eye = torch.eye(n, dtype=torch.float64)
    assert torch.allclose(lower_triangular(torch.zeros(tril_size(n), dtype=torch.float64), n), eye)


def _assert_positive_definite(m: torch.Tensor) -> None:
    assert torch.allclose(m, m.transpose(-1, -2))
    eig = torch.linalg.eigvalsh(m)
    assert (eig > 0).all(), eig.min()
    assert (torch.linalg.cholesky_ex(m).info == 0).all()


def test_inverse_inertia_positive_definite_random_and_extreme():
    torch.manual_seed(0)
    nv = 6
    pred = StructuredPredictor(5, nv, 2, inertia_width=16, inertia_blocks=1, force_width=16, force_blocks=1).double()
    with torch.no_grad():  # make L vary a lot with the input
        pred.inertia.output.weight.normal_(0, 1.0)
    for scale in (1.0, 10.0, 1e3):
        p = torch.randn(64, 5, dtype=torch.float64) * scale
        _assert_positive_definite(pred.inverse_inertia(p))
    # raw diagonal entries far negative: softplus underflows to 0 and eps keeps M definite
    entries = torch.zeros(8, tril_size(nv), dtype=torch.float64)
    row, col = torch.tril_indices(nv, nv)
    entries[:, row == col] = -1e3
    entries[:, row != col] = torch.randn(8, int((row != col).sum()), dtype=torch.float64)
    _assert_positive_definite(inverse_inertia(lower_triangular(entries, nv), eps=1e-3))


def test_apply_inverse_inertia_matches_matrix():
    chol = lower_triangular(torch.randn(5, tril_size(3), dtype=torch.float64), 3)
    f = torch.randn(5, 3, dtype=torch.float64)
    expected = (inverse_inertia(chol, 1e-2) @ f.unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(apply_inverse_inertia(chol, f, 1e-2), expected)


def test_initial_normalized_acceleration_near_zero(zoo_spec):
    torch.manual_seed(0)
    model = NeuralSimulator(zoo_spec, TINY)
    q, v, a = random_state(zoo_spec, 32, dtype=torch.float32)
    y = model.normalized_acceleration(q, v, a)
    assert y.shape == (32, zoo_spec.nv)
    assert y.abs().max() < 0.1
    # and M starts near the identity
    p, _, _ = model.normalized_inputs(q, v, a)
    m = model.predictor.inverse_inertia(p)
    assert torch.allclose(m, torch.eye(zoo_spec.nv).expand_as(m), atol=0.1)


def test_gradcheck_acceleration_float64(zoo_spec):
    torch.manual_seed(0)
    model = NeuralSimulator(zoo_spec, TINY).double()
    with torch.no_grad():  # non-trivial outputs everywhere, correctors included
        outputs = [model.predictor.force.output, model.predictor.actuation.output]
        for layer in outputs + [c.net.output for c in model.correctors]:
            layer.weight.normal_(0, 0.3)
    q, v, a = random_state(zoo_spec, 3)
    inputs = tuple(x.clone().requires_grad_(True) for x in (q, v, a))
    assert torch.autograd.gradcheck(lambda q, v, a: model.acceleration(q, v, a), inputs, eps=1e-6, atol=1e-5)


def _mixed_action_velocity_jacobian(predictor: StructuredPredictor) -> torch.Tensor:
    """``d/dw (d acc / du)`` at one random input: zero when the action's force does not depend on the velocity."""
    torch.manual_seed(0)
    p, w, u = (torch.randn(n, dtype=torch.float64) for n in (5, 3, 2))

    def acc_action_jacobian(w: torch.Tensor) -> torch.Tensor:
        return torch.autograd.functional.jacobian(lambda u: predictor(p, w, u), u, create_graph=True)

    return torch.autograd.functional.jacobian(acc_action_jacobian, w)


def test_force_sees_action_couples_action_and_state():
    """``M(q)[b(q, v) + tau(a)]``: how the action moves the acceleration does not depend on the velocity (M sees
    only q). With ``force_sees_action`` (``M(q) f(q, v, a)``, position servos with force limits) it does."""
    separate = StructuredPredictor(5, 3, 2, 16, 1, 16, 1, (8,)).double()
    joint = StructuredPredictor(5, 3, 2, 16, 1, 16, 1, (8,), force_sees_action=True).double()
    for net in (separate, joint):  # leave the near-zero output initialization, so the networks' terms show
        for prm in net.parameters():
            torch.nn.init.normal_(prm, std=0.5)
    assert torch.allclose(_mixed_action_velocity_jacobian(separate), torch.zeros(3, 2, 3, dtype=torch.float64),
                          atol=1e-12)
    assert _mixed_action_velocity_jacobian(joint).abs().max() > 1e-3
    assert joint.actuation is None and joint.force.in_dim == 5 + 3 + 2
    m = joint.inverse_inertia(torch.randn(4, 5, dtype=torch.float64))
    _assert_positive_definite(m)
