"""F.distillation_loss = alpha T^2 KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) CE,
exact against a numpy reference and against torch (float64, values and gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def log_softmax_np(x: np.ndarray) -> np.ndarray:
    z = x - x.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def reference(s: np.ndarray, t: np.ndarray, y: np.ndarray, T: float, alpha: float) -> float:
    log_q, log_p = log_softmax_np(s / T), log_softmax_np(t / T)
    kl = (np.exp(log_p) * (log_p - log_q)).sum() / s.shape[0]
    ce = -log_softmax_np(s)[np.arange(len(y)), y].mean()
    return alpha * T * T * kl + (1 - alpha) * ce


@pytest.fixture
def batch(rng):
    s = rng.standard_normal((6, 5)) * 2
    t = rng.standard_normal((6, 5)) * 3
    y = rng.integers(0, 5, 6)
    return s, t, y


@pytest.mark.parametrize(("T", "alpha"), [(1.0, 0.5), (4.0, 0.9), (2.0, 0.0), (0.5, 1.0)])
def test_value_matches_numpy_reference(batch, T, alpha):
    s, t, y = batch
    out = F.distillation_loss(mg.tensor(s), mg.tensor(t), mg.tensor(y), T=T, alpha=alpha)
    assert out.dtype == mg.float64
    assert out.item() == pytest.approx(reference(s, t, y, T, alpha), rel=1e-12)


def test_alpha_zero_is_cross_entropy_and_student_gradient_closed_form(batch):
    s, t, y = batch
    st = mg.tensor(s, requires_grad=True)
    tt = mg.tensor(t, requires_grad=True)
    assert F.distillation_loss(st, tt, y, T=3.0, alpha=0.0).item() == \
        pytest.approx(F.cross_entropy(mg.tensor(s), y).item(), rel=1e-14)
    T, n = 3.0, s.shape[0]
    F.distillation_loss(st, tt, y, T=T, alpha=1.0).backward()
    q, p = np.exp(log_softmax_np(s / T)), np.exp(log_softmax_np(t / T))
    np.testing.assert_allclose(st.grad.data, T * (q - p) / n, rtol=1e-10, atol=1e-14)
    assert tt.grad is None, "the teacher is a constant"


def test_gradcheck_float64(batch):
    s, t, y = batch
    assert mg.gradcheck(lambda a: F.distillation_loss(a, mg.tensor(t), y, T=2.5, alpha=0.7),
                        (mg.tensor(s, requires_grad=True),))


@pytest.mark.parametrize(("T", "alpha"), [(1.0, 0.5), (4.0, 0.9), (2.0, 0.1)])
def test_matches_torch_value_and_gradient(torch, batch, T, alpha):
    s, t, y = batch
    ts = torch.tensor(s, requires_grad=True)
    tt = torch.tensor(t)
    tf = torch.nn.functional
    ref = alpha * T * T * tf.kl_div(tf.log_softmax(ts / T, 1), tf.softmax(tt / T, 1), reduction="batchmean") \
        + (1 - alpha) * tf.cross_entropy(ts, torch.tensor(y))
    ref.backward()
    ms = mg.tensor(s, requires_grad=True)
    out = F.distillation_loss(ms, mg.tensor(t), mg.tensor(y), T=T, alpha=alpha)
    out.backward()
    assert out.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(ms.grad.data, ts.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_bad_inputs_are_refused(batch):
    s, t, y = batch
    a, b = mg.tensor(s), mg.tensor(t)
    with pytest.raises(ValueError, match="temperature T must be a positive number, got 0"):
        F.distillation_loss(a, b, y, T=0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\].*1.5"):
        F.distillation_loss(a, b, y, alpha=1.5)
    with pytest.raises(ValueError, match=r"must both be \(N, C\), got \(6, 5\) and \(6, 4\)"):
        F.distillation_loss(a, mg.tensor(t[:, :4]), y)


def test_module_form(batch):
    s, t, y = batch
    loss = nn.DistillationLoss(T=3.0, alpha=0.25)
    out = loss(mg.tensor(s), mg.tensor(t), y)
    assert out.item() == pytest.approx(reference(s, t, y, 3.0, 0.25), rel=1e-12)
    assert repr(loss) == "DistillationLoss(T=3.0, alpha=0.25)"
    with pytest.raises(ValueError, match="alpha must be in"):
        nn.DistillationLoss(alpha=-0.1)
