"""Invariants of the first half of the loss library, checked on Hypothesis-drawn data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import minigrad as mg
import minigrad.nn.functional as F

finite = st.floats(-20, 20, allow_nan=False, width=64)


def logits_and_labels(max_n: int = 6, max_c: int = 5):
    return st.integers(1, max_n).flatmap(lambda n: st.integers(2, max_c).flatmap(lambda c: st.tuples(
        arrays(np.float64, (n, c), elements=finite),
        arrays(np.int64, (n,), elements=st.integers(0, c - 1)),
    )))


def T(a, requires_grad=False):
    return mg.Tensor(np.asarray(a), requires_grad=requires_grad)


@given(logits_and_labels(), st.floats(0.1, 10))
def test_cross_entropy_invariants(data, w0):
    x, t = data
    c = x.shape[1]
    ce = F.cross_entropy(T(x), T(t)).item()
    assert ce >= 0
    assert ce == pytest.approx(F.nll_loss(T(x).log_softmax(1), T(t)).item(), rel=1e-10, abs=1e-12)
    assert ce == pytest.approx(F.cross_entropy(T(x), T(t), weight=T(np.full(c, w0))).item(), rel=1e-10,
                               abs=1e-12)
    assert ce == pytest.approx(F.cross_entropy(T(x), T(np.eye(c)[t])).item(), rel=1e-10, abs=1e-12)
    shifted = F.cross_entropy(T(x + 3.0), T(t)).item()
    assert shifted == pytest.approx(ce, rel=1e-9, abs=1e-9)


@given(logits_and_labels(), st.floats(0, 1))
def test_cross_entropy_gradient_rows_sum_to_zero(data, smoothing):
    x, t = data
    xt = T(x, True)
    F.cross_entropy(xt, T(t), label_smoothing=smoothing, reduction="sum").backward()
    np.testing.assert_allclose(xt.grad.data.sum(1), 0, atol=1e-12)


pairs = st.integers(1, 12).flatmap(lambda n: st.tuples(arrays(np.float64, (n,), elements=finite),
                                                       arrays(np.float64, (n,), elements=finite)))


@given(pairs, st.floats(0.05, 5))
def test_huber_and_smooth_l1_invariants(xy, delta):
    x, y = xy
    huber = F.huber_loss(T(x), T(y), delta=delta, reduction="none").data
    smooth = F.smooth_l1_loss(T(x), T(y), beta=delta, reduction="none").data
    np.testing.assert_allclose(smooth, huber / delta, rtol=1e-12, atol=1e-12)
    assert np.all(huber <= 0.5 * (x - y) ** 2 + 1e-12)
    assert np.all(huber <= delta * np.abs(x - y) + 1e-12)
    xt = T(x, True)
    F.huber_loss(xt, T(y), delta=delta, reduction="sum").backward()
    assert np.all(np.abs(xt.grad.data) <= delta)
    xt.grad = None
    F.l1_loss(xt, T(y), reduction="sum").backward()
    assert set(np.unique(xt.grad.data)) <= {-1.0, 0.0, 1.0}


@given(pairs)
def test_binary_invariants(xy):
    x, u = xy
    y = (np.tanh(u) + 1) / 2
    with_logits = F.binary_cross_entropy_with_logits(T(x), T(y), reduction="none").data
    on_probs = F.binary_cross_entropy(T(x).sigmoid(), T(y), reduction="none").data
    np.testing.assert_allclose(with_logits, on_probs, rtol=1e-7, atol=1e-9)
    assert np.all(with_logits >= -1e-12)
    s = np.where(u >= 0, 1.0, -1.0)
    soft_margin = F.soft_margin_loss(T(x), T(s), reduction="none").data
    as_bce = F.binary_cross_entropy_with_logits(T(x), T((s + 1) / 2), reduction="none").data
    np.testing.assert_allclose(soft_margin, as_bce, rtol=1e-12, atol=1e-14)


@given(pairs)
def test_kl_div_of_a_distribution_with_itself_is_zero(xy):
    x, _ = xy
    logp = x - np.log(np.exp(x - x.max()).sum()) - x.max()
    assert F.kl_div(T(logp), T(np.exp(logp)), reduction="sum").item() == pytest.approx(0, abs=1e-12)
    assert F.kl_div(T(logp), T(logp), reduction="sum", log_target=True).item() == pytest.approx(0, abs=1e-12)
