"""nn.MultiTaskLoss: fixed weights, and learned uncertainty weighting with its gradient."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim


def t64(v, requires_grad=True):
    return mg.tensor(np.asarray(v, dtype=np.float64), requires_grad=requires_grad)


def test_fixed_weights_sum_and_gradient():
    a, b = t64(2.0), t64(3.0)
    total = nn.MultiTaskLoss([0.5, 2.0])(a, b)
    total.backward()
    assert total.item() == 7.0
    assert (a.grad.item(), b.grad.item()) == (0.5, 2.0)
    assert list(nn.MultiTaskLoss([1.0, 1.0]).parameters()) == []


@pytest.mark.parametrize("half", [False, True])
def test_uncertainty_weighting_value_and_closed_form_gradient(half):
    m = nn.MultiTaskLoss(num_tasks=3, learn_uncertainty=True, half=half, dtype=mg.float64)
    s = np.array([0.5, -1.0, 0.0])
    w = np.ones(3)
    with mg.no_grad():
        m.log_vars.copy_(s)
    losses = np.array([2.0, 3.0, 0.25])
    ts = [t64(v) for v in losses]
    out = m(*ts)
    c = 0.5 if half else 1.0
    assert out.item() == pytest.approx(c * (np.exp(-s) * w * losses + s).sum(), rel=1e-12)
    out.backward()
    np.testing.assert_allclose(m.log_vars.grad.data, c * (1.0 - np.exp(-s) * losses), rtol=1e-12)
    np.testing.assert_allclose([t.grad.item() for t in ts], c * np.exp(-s), rtol=1e-12)
    np.testing.assert_allclose(m.task_weights(), c * np.exp(-s), rtol=1e-12)


@pytest.mark.parametrize("half", [False, True])
def test_uncertainty_weighting_gradcheck(half):
    """Gradients w.r.t. the log-variances (the module's own Parameter, perturbed in place by
    gradcheck) and w.r.t. each task loss, with fixed weights on top."""
    m = nn.MultiTaskLoss(weights=[1.0, 0.3], learn_uncertainty=True, half=half, dtype=mg.float64)
    with mg.no_grad():
        m.log_vars.copy_(np.array([0.2, -0.7]))
    assert mg.gradcheck(lambda s, a, b: m(a, b), (m.log_vars, t64(1.5), t64(0.4)))
    assert mg.gradgradcheck(lambda s, a, b: m(a, b), (m.log_vars, t64(1.5), t64(0.4)))


def test_learned_log_variances_settle_at_log_of_each_loss():
    """dL/ds_k = c (1 - exp(-s_k) L_k) = 0 at s_k = log L_k: a task with a larger loss gets a
    smaller weight exp(-s_k) = 1 / L_k."""
    m = nn.MultiTaskLoss(num_tasks=2, learn_uncertainty=True, half=False)
    opt = optim.SGD(m.parameters(), lr=0.1)
    losses = [mg.tensor(4.0), mg.tensor(0.25)]
    for _ in range(300):
        opt.zero_grad()
        m(*losses).backward()
        opt.step()
    np.testing.assert_allclose(m.log_vars.data, np.log([4.0, 0.25]), atol=1e-4)
    np.testing.assert_allclose(m.task_weights(), [0.25, 4.0], rtol=1e-3)
    assert m.log_vars.dtype == mg.float32


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="give weights .* or num_tasks"):
        nn.MultiTaskLoss()
    with pytest.raises(ValueError, match="3 weights for 2 tasks"):
        nn.MultiTaskLoss([1.0, 2.0, 3.0], num_tasks=2)
    with pytest.raises(ValueError, match="num_tasks must be a positive integer"):
        nn.MultiTaskLoss(num_tasks=0)
    m = nn.MultiTaskLoss(num_tasks=2, learn_uncertainty=True)
    with pytest.raises(ValueError, match="expected 2 losses, got 1"):
        m(mg.tensor(1.0))
    with pytest.raises(ValueError, match=r"loss 1 must be a scalar Tensor .*\(3,\)"):
        m(mg.tensor(1.0), mg.ones(3))
    assert "learn_uncertainty=True" in repr(m)
