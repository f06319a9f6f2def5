"""Classification losses: CrossEntropy, NLL, BCE, BCEWithLogits, SoftMargin,
MultiLabelSoftMargin, KLDiv."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.engine import grad as autograd_grad
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests import reference_losses_a as ref

REDUCTIONS = ["none", "mean", "sum"]
X = np.array([[1, 2, .5], [.1, -1, 3]])
Y = np.array([2, 0])
W = np.array([1, 2, .5])


pytestmark = pytest.mark.filterwarnings("ignore:kl_div. reduction. 'mean'")


def T(a, requires_grad=False, dtype=None):
    a = np.asarray(a)
    if dtype is None:
        dtype = np.float64 if a.dtype.kind == "f" else np.int64
    return mg.Tensor(a.astype(dtype), requires_grad=requires_grad)


# ------------------------------------------------------------------ golden values (spec section 3)
@pytest.mark.parametrize("kw, target, value, grad", [
    ({}, Y, 2.467572, [[.115612, .314266, -.429878], [-.474368, .008532, .465836]]),
    ({"weight": W}, Y, 2.635306, [[.077075, .209511, -.286585], [-.632491, .011376, .621115]]),
    ({"label_smoothing": .1}, Y, 2.404238, [[.098945, .297599, -.396544], [-.441035, -.008135, .449169]]),
    ({}, np.array([2, -100]), 1.964369, [[.231224, .628532, -.859756], [0, 0, 0]]),
    ({}, np.array([[.2, .3, .5], [.6, .4, 0]]), 2.412572,
     [[.015612, .164266, -.179878], [-.274368, -.191468, .465836]]),
])
def test_cross_entropy_golden(kw, target, value, grad):
    x = T(X, True)
    kw = {k: T(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    loss = F.cross_entropy(x, T(target), **kw)
    loss.backward()
    assert loss.item() == pytest.approx(value, abs=1e-6)
    np.testing.assert_allclose(x.grad.data, grad, atol=1e-6)


def test_other_goldens():
    assert F.nll_loss(T(X).log_softmax(1), T(Y), weight=T(W), reduction="sum").item() == pytest.approx(
        3.952959, abs=1e-6)
    x = T([.1, .5, .9], True)
    loss = F.binary_cross_entropy(x, T([0., 1, 1]), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [.105361, .693147, .105361], atol=1e-6)
    np.testing.assert_allclose(x.grad.data, [1.111111, -2, -1.111111], atol=1e-6)
    x = T([-2., 0, 3], True)
    loss = F.binary_cross_entropy_with_logits(x, T([0., 1, 1]), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [.126928, .693147, .048587], atol=1e-6)
    np.testing.assert_allclose(x.grad.data, [.119203, -.5, -.047426], atol=1e-6)
    x.grad = None
    loss = F.binary_cross_entropy_with_logits(x, T([0., 1, 1]), pos_weight=T(2.0))
    loss.backward()
    assert loss.item() == pytest.approx(.536799, abs=1e-6)
    np.testing.assert_allclose(x.grad.data, [.039734, -.333333, -.031617], atol=1e-6)
    assert F.multilabel_soft_margin_loss(T([[.1, .2, .4, .8]]), T([[0., 1, 0, 1]])).item() == pytest.approx(
        .656663, abs=1e-6)
    x = T(np.log([[.25, .25, .5]]), True)
    loss = F.kl_div(x, T([[.5, 0, .5]]), reduction="batchmean")
    loss.backward()
    assert loss.item() == pytest.approx(.346574, abs=1e-6)
    np.testing.assert_allclose(x.grad.data, [[-.5, 0, -.5]], atol=1e-12)


# ------------------------------------------------------------------ cross-entropy / NLL matrix
CE_SHAPES = [(4,), (3, 4), (2, 4, 3), (2, 4, 2, 2), (0, 4)]


def _targets(shape, rng, ignore_index):
    tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    t = rng.integers(0, shape[-1] if len(shape) == 1 else shape[1], tshape)
    if ignore_index == "all":
        return np.full(tshape, -100), -100
    if ignore_index is not None and t.size > 1:
        t.reshape(-1)[::2] = ignore_index
    return t, -100 if ignore_index is None else ignore_index


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [None, 1, -1, "all"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_reference(reduction, shape, weighted, ignore_index, smoothing, rng):
    x = rng.standard_normal(shape)
    t, ii = _targets(shape, rng, ignore_index)
    w = rng.random(4) + 0.2 if weighted else None
    out = F.cross_entropy(T(x), T(t), weight=None if w is None else T(w), ignore_index=ii,
                          reduction=reduction, label_smoothing=smoothing)
    expected = ref.cross_entropy(x, t, w, ii, reduction, smoothing)
    assert out.shape == (t.shape if reduction == "none" else ())
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    nll = F.nll_loss(T(x), T(t), weight=None if w is None else T(w), ignore_index=ii, reduction=reduction)
    np.testing.assert_allclose(nll.data, ref.nll(x, t, w, ii, reduction), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities_match_reference(reduction, shape, weighted, smoothing, rng):
    x = rng.standard_normal(shape)
    cdim = 0 if len(shape) == 1 else 1
    t = rng.random(shape)
    t = t / t.sum(axis=cdim, keepdims=True)
    w = rng.random(4) + 0.2 if weighted else None
    out = F.cross_entropy(T(x), T(t), weight=None if w is None else T(w), reduction=reduction,
                          label_smoothing=smoothing)
    np.testing.assert_allclose(out.data, ref.cross_entropy(x, t, w, -100, reduction, smoothing),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 4, 3)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_gradcheck(shape, reduction, smoothing, rng):
    x = T(rng.standard_normal(shape), True)
    t, _ = _targets(shape, rng, 1)
    w = T(rng.random(4) + 0.2)
    assert gradcheck(lambda a: F.cross_entropy(a, T(t), weight=w, ignore_index=1, reduction=reduction,
                                               label_smoothing=smoothing), (x,))
    p = rng.random(shape)
    p = T(p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True))
    assert gradcheck(lambda a: F.cross_entropy(a, p, weight=w, reduction=reduction,
                                               label_smoothing=smoothing), (x,))
    assert gradcheck(lambda a: F.nll_loss(a, T(t), weight=w, ignore_index=1, reduction=reduction), (x,))


@pytest.mark.parametrize("kind", ["indices", "probabilities", "nll"])
def test_cross_entropy_gradgradcheck(kind, rng):
    x = T(rng.standard_normal((3, 4, 2)), True)
    w = T(rng.random(4) + 0.2)
    t = np.array([[0, 3], [2, -1], [1, 1]])
    if kind == "indices":
        fn = lambda a: F.cross_entropy(a, T(t), weight=w, ignore_index=-1, label_smoothing=0.1)  # noqa: E731
    elif kind == "probabilities":
        p = rng.random((3, 4, 2))
        p = T(p / p.sum(axis=1, keepdims=True))
        fn = lambda a: F.cross_entropy(a, p, weight=w, reduction="sum", label_smoothing=0.1)  # noqa: E731
    else:
        fn = lambda a: F.nll_loss(a, T(t), weight=w, ignore_index=-1, reduction="none")  # noqa: E731
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_numpy_and_tensor_backward_agree(reduction, rng):
    """The fast numpy backward and the differentiable Tensor one give the same numbers."""
    x = T(rng.standard_normal((5, 4)), True)
    t = T(np.array([0, 3, -100, 2, 1]))
    p = rng.random((5, 4))
    p = T(p / p.sum(1, keepdims=True))
    z = T(rng.random((5, 4)))
    w = T(rng.random(4) + 0.2)
    losses = [
        lambda: F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=0.2),
        lambda: F.cross_entropy(x, p, weight=w, reduction=reduction, label_smoothing=0.2),
        lambda: F.nll_loss(x, t, weight=w, reduction=reduction),
        lambda: F.binary_cross_entropy_with_logits(x, z, weight=w, pos_weight=T(np.full(4, 3.0)),
                                                   reduction=reduction),
        lambda: F.binary_cross_entropy(x.sigmoid(), z, weight=w, reduction=reduction),
    ]
    for make in losses:
        out = make()
        g = T(rng.standard_normal(out.shape))
        (fast,) = autograd_grad(out, x, g)
        (slow,) = autograd_grad(make(), x, g, create_graph=True)
        np.testing.assert_allclose(fast.data, slow.data, rtol=1e-12, atol=1e-15)


def test_cross_entropy_grad_output_of_none(rng):
    x = rng.standard_normal((3, 4, 2))
    t = np.array([[0, 3], [2, -1], [1, 1]])
    g = rng.standard_normal((3, 2))
    xt = T(x, True)
    F.cross_entropy(xt, T(t), ignore_index=-1, reduction="none", label_smoothing=0.1).backward(T(g))
    expected = ref.numeric_vjp(lambda a: ref.cross_entropy(a, t, None, -1, "none", 0.1), x, g)
    np.testing.assert_allclose(xt.grad.data, expected, rtol=1e-6, atol=1e-8)


def test_all_ignored_is_nan_with_zero_gradient():
    for smoothing in (0.0, 0.1):
        x = T(X, True)
        loss = F.cross_entropy(x, T([-100, -100]), label_smoothing=smoothing)
        loss.backward()
        assert np.isnan(loss.item())
        np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))
        assert F.cross_entropy(x, T([-100, -100]), reduction="sum").item() == 0
    assert np.isnan(F.nll_loss(T(X), T([-100, -100])).item())


def test_empty_batch():
    x = T(np.zeros((0, 3)), True)
    for target in (T(np.zeros(0, np.int64)), T(np.zeros((0, 3)))):
        assert np.isnan(F.cross_entropy(x, target).item())
        assert F.cross_entropy(x, target, reduction="sum").item() == 0
        assert F.cross_entropy(x, target, reduction="none").shape == (0,)
    for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.soft_margin_loss):
        assert np.isnan(fn(T(np.zeros(0)), T(np.zeros(0))).item())
        assert fn(T(np.zeros(0)), T(np.zeros(0)), reduction="sum").item() == 0


def test_unbatched_equals_batched(rng):
    x, w = rng.standard_normal(5), T(rng.random(5) + .1)
    p = rng.random(5)
    p /= p.sum()
    for reduction in REDUCTIONS:
        a, b = T(x, True), T(x[None], True)
        out = F.cross_entropy(a, T(np.array(3)), weight=w, reduction=reduction, label_smoothing=.1)
        batched = F.cross_entropy(b, T([3]), weight=w, reduction=reduction, label_smoothing=.1)
        assert out.shape == ()
        np.testing.assert_allclose(out.data, batched.data.reshape(()), rtol=1e-15)
        out.backward()
        batched.sum().backward()
        np.testing.assert_allclose(a.grad.data, b.grad.data[0], rtol=1e-15)
        for fn, target, batched_target, kw in [
            (F.cross_entropy, T(p), T(p[None]), {}),
            (F.nll_loss, T(np.array(1)), T([1]), {"weight": w}),
            (F.multilabel_soft_margin_loss, T(p > .2), T(p[None] > .2), {}),
        ]:
            single = fn(T(x), target, reduction=reduction, **kw).data
            batched = fn(T(x[None]), batched_target, reduction=reduction, **kw).data
            assert single.shape == ()
            np.testing.assert_allclose(single, np.squeeze(batched), rtol=1e-15)


def test_nll_unbatched_weight_cancels():
    x = T([-1.0, -2.0, -0.5], True)
    loss = F.nll_loss(x, T(np.array(1)), weight=T([1.0, 3.0, 2.0]))
    loss.backward()
    assert loss.item() == 2.0
    np.testing.assert_array_equal(x.grad.data, [0, -1, 0])


def test_non_contiguous_inputs(rng):
    base = rng.standard_normal((4, 10))
    x = base[:, ::2]
    t = np.array([0, 4, 2, 1])
    z = rng.random((5, 8)).T[::2]
    for make in (lambda a: F.cross_entropy(a, T(t), label_smoothing=.1),
                 lambda a: F.cross_entropy(a.reshape(4, 5, 1).permute(0, 1, 2), T(t[:, None])),
                 lambda a: F.binary_cross_entropy_with_logits(a, T(z), pos_weight=T(np.full(5, 2.))),
                 lambda a: F.soft_margin_loss(a, T(np.sign(z - .5))),
                 lambda a: F.multilabel_soft_margin_loss(a, T(z > .5))):
        a, b = T(x, True), T(np.ascontiguousarray(x), True)
        make(a).backward()
        make(b).backward()
        assert make(a).item() == make(b).item()
        np.testing.assert_array_equal(a.grad.data, b.grad.data)
    kdim = np.moveaxis(rng.standard_normal((2, 3, 4)), 2, 1)
    assert not kdim.flags.c_contiguous
    np.testing.assert_allclose(F.cross_entropy(T(kdim), T(np.zeros((2, 3), np.int64))).item(),
                               ref.cross_entropy(kdim, np.zeros((2, 3), np.int64)), rtol=1e-12)


# ------------------------------------------------------------------ binary losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 2)])
def test_binary_losses_match_reference(reduction, shape, rng):
    p = np.clip(rng.random(shape), .01, .99)
    y = rng.random(shape)
    x = rng.standard_normal(shape) * 3
    w = rng.random(shape[-1:]) + .2
    pw = rng.random(shape[-1:]) * 3
    checks = [
        (F.binary_cross_entropy(T(p), T(y), reduction=reduction), ref.bce(p, y, reduction=reduction)),
        (F.binary_cross_entropy(T(p), T(y), weight=T(w), reduction=reduction),
         ref.bce(p, y, w, reduction=reduction)),
        (F.binary_cross_entropy_with_logits(T(x), T(y), reduction=reduction),
         ref.bce_with_logits(x, y, reduction=reduction)),
        (F.binary_cross_entropy_with_logits(T(x), T(y), T(w), reduction, pos_weight=T(pw)),
         ref.bce_with_logits(x, y, w, reduction, pw)),
        (F.soft_margin_loss(T(x), T(np.sign(y - .5)), reduction=reduction),
         ref.soft_margin(x, np.sign(y - .5), reduction=reduction)),
        (F.kl_div(T(np.log(p)), T(y), reduction=reduction), ref.kl_div(np.log(p), y, reduction=reduction)),
        (F.kl_div(T(x), T(x / 2), reduction=reduction, log_target=True),
         ref.kl_div(x, x / 2, reduction=reduction, log_target=True)),
        (F.kl_div(T(x), T(y), reduction="batchmean"), ref.kl_div(x, y, reduction="batchmean")),
    ]
    for out, expected in checks:
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted", [((3, 4), True), ((4,), False), ((0, 4), False)])
def test_multilabel_soft_margin_matches_reference(reduction, shape, weighted, rng):
    x, y = rng.standard_normal(shape), (rng.random(shape) > .5).astype(float)
    w = rng.random(4) + .2 if weighted else None
    out = F.multilabel_soft_margin_loss(T(x), T(y), None if w is None else T(w), reduction)
    expected = ref.multilabel_soft_margin(x, y, w, reduction)
    np.testing.assert_allclose(out.data, np.reshape(expected, out.shape) if reduction == "none" else expected,
                               rtol=1e-12)


def test_kl_div_zero_target_and_0d_batchmean():
    assert F.kl_div(T([-1.0, -2.0]), T([0.0, 0.0]), reduction="sum").item() == 0
    assert F.kl_div(T(-1.0), T(0.5), reduction="batchmean").item() == pytest.approx(.5 * np.log(.5) + .5)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(T([-1.0]), T([0.5]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_gradchecks(reduction, rng):
    p = T(np.clip(rng.random((3, 4)), .05, .95), True)
    x = T(rng.standard_normal((3, 4)), True)
    y, w, pw = T(rng.random((3, 4))), T(rng.random(4) + .2), T(rng.random((3, 1)) * 3)
    s = T(np.sign(rng.random((3, 4)) - .5))
    assert gradcheck(lambda a: F.binary_cross_entropy(a, y, weight=w, reduction=reduction), (p,))
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, y, w, reduction, pw), (x,))
    assert gradcheck(lambda a: F.soft_margin_loss(a, s, reduction=reduction), (x,))
    assert gradcheck(lambda a: F.multilabel_soft_margin_loss(a, y, w, reduction=reduction), (x,))
    assert gradcheck(lambda a: F.kl_div(a, y, reduction=reduction), (x,))
    log_t = T(rng.standard_normal((3, 4)))
    assert gradcheck(lambda a: F.kl_div(a, log_t, reduction=reduction, log_target=True), (x,))


def test_binary_gradgradchecks(rng):
    p = T(np.clip(rng.random((2, 3)), .05, .95), True)
    x = T(rng.standard_normal((2, 3)), True)
    y = T(rng.random((2, 3)))
    assert gradgradcheck(lambda a: F.binary_cross_entropy(a, y, weight=T([1., 2, 3])), (p,))
    assert gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(
        a, y, reduction="none", pos_weight=T([2., 1, .5])), (x,))
    assert gradgradcheck(lambda a: F.soft_margin_loss(a, T(np.sign(y.data - .5))), (x,))


def test_binary_grad_output_of_none(rng):
    x, y = rng.standard_normal((3, 4)), rng.random((3, 4))
    pw, g = rng.random(4) * 2, rng.standard_normal((3, 4))
    xt = T(x, True)
    F.binary_cross_entropy_with_logits(xt, T(y), reduction="none", pos_weight=T(pw)).backward(T(g))
    expected = ref.numeric_vjp(lambda a: ref.bce_with_logits(a, y, None, "none", pw), x, g)
    np.testing.assert_allclose(xt.grad.data, expected, rtol=1e-6, atol=1e-8)


def test_bce_at_zero_and_one_uses_pytorch_clamps():
    x = T([0.0, 1.0, 0.0, 1.0], True)
    loss = F.binary_cross_entropy(x, T([1.0, 0.0, 0.0, 1.0]), reduction="none")
    loss.sum().backward()
    np.testing.assert_array_equal(loss.data, [100, 100, 0, 0])
    np.testing.assert_array_equal(x.grad.data, [-1e12, 1e12, 0, 0])


# ------------------------------------------------------------------ stability
def test_large_logits_are_finite():
    x = T([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], True)
    loss = F.cross_entropy(x, T([1, 2]), reduction="sum", label_smoothing=0.1)
    loss.backward()
    expected = ref.cross_entropy(x.data, np.array([1, 2]), reduction="sum", label_smoothing=0.1)
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(expected, rel=1e-12)
    assert np.isfinite(x.grad.data).all()
    z = T([1000.0, -1000.0, 1000.0, -1000.0], True)
    y = T([0.0, 1.0, 1.0, 0.0])
    for fn, target, expected in [(F.binary_cross_entropy_with_logits, y, [1000, 1000, 0, 0]),
                                 (F.soft_margin_loss, T(np.ones(4)), [0, 1000, 0, 1000])]:
        z.grad = None
        out = fn(z, target, reduction="none")
        out.sum().backward()
        np.testing.assert_allclose(out.data, expected, atol=1e-12)
        assert np.isfinite(z.grad.data).all()


@pytest.mark.parametrize("dtype, offset", [(np.float64, 800.0), (np.float32, 120.0)])
def test_rows_far_apart_keep_full_precision(dtype, offset, rng):
    """The batch-max shift would underflow the low rows; the row-max fallback must kick in."""
    x = rng.standard_normal((4, 5))
    x[2:] += offset
    t = np.array([0, 1, 2, 3])
    a = T(x, True, dtype)
    for probs in (False, True):
        a.grad = None
        target = T(np.eye(5)[t], dtype=dtype) if probs else T(t)
        loss = F.cross_entropy(a, target, reduction="sum")
        loss.backward()
        assert loss.item() == pytest.approx(ref.cross_entropy(x.astype(dtype), t, reduction="sum"),
                                            rel=1e-12 if dtype == np.float64 else 1e-5)
        expected = np.exp(x - x.max(1, keepdims=True))
        expected = expected / expected.sum(1, keepdims=True) - np.eye(5)[t]
        np.testing.assert_allclose(a.grad.data, expected, rtol=1e-10 if dtype == np.float64 else 1e-4,
                                   atol=1e-12 if dtype == np.float64 else 1e-6)


def test_row_of_minus_inf_logits_has_no_nan():
    x = T([[-np.inf, 0.0, -np.inf]])
    assert F.cross_entropy(x, T([1])).item() == 0.0


# ------------------------------------------------------------------ properties
def test_cross_entropy_properties(rng):
    x, t = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    ce = F.cross_entropy(T(x), T(t)).item()
    assert ce == pytest.approx(F.nll_loss(T(x).log_softmax(1), T(t)).item(), rel=1e-12)
    assert ce == pytest.approx(F.cross_entropy(T(x), T(t), weight=T(np.full(5, 3.7))).item(), rel=1e-12)
    w = rng.random(5)
    assert F.cross_entropy(T(x), T(t), weight=T(w)).item() == pytest.approx(
        F.cross_entropy(T(x), T(t), weight=T(10 * w)).item(), rel=1e-12)
    assert F.cross_entropy(T(x), T(np.eye(5)[t])).item() == pytest.approx(ce, rel=1e-12)
    assert F.cross_entropy(T(x), T(t), reduction="sum").item() == pytest.approx(6 * ce, rel=1e-12)


def test_bce_with_logits_equals_bce_of_sigmoid(rng):
    x, y = rng.uniform(-10, 10, 50), rng.random(50)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(T(x), T(y), reduction="none").data,
                               F.binary_cross_entropy(T(x).sigmoid(), T(y), reduction="none").data,
                               rtol=1e-9, atol=1e-12)
    s = np.sign(y - .5)
    np.testing.assert_allclose(F.soft_margin_loss(T(x), T(s), reduction="none").data,
                               F.binary_cross_entropy_with_logits(T(x), T((s + 1) / 2), None, "none").data,
                               rtol=1e-12, atol=1e-14)
    x5, y5 = T(x.reshape(5, 10)), T(y.reshape(5, 10) > .5)
    assert F.multilabel_soft_margin_loss(x5, y5, reduction="sum").item() == pytest.approx(
        5 * F.multilabel_soft_margin_loss(x5, y5).item())


# ------------------------------------------------------------------ errors
def test_errors():
    x = T(X)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(x, T(Y), reduction="avg")
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.kl_div(x, x, reduction="batch")
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, T([3, 0]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(x, T([-1, 0]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        F.cross_entropy(x, T([1.0, 0.0]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2\], got \[3\]"):
        F.cross_entropy(x, T([1, 0, 1]))
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class probab"):
        F.cross_entropy(x, T(np.zeros((2, 3), np.int64)))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, T(np.zeros((2, 3))), ignore_index=1)
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, T(Y), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 3 classes"):
        F.cross_entropy(x, T(Y), weight=T([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"Target size \(\(2, 2\)\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, T(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy(T([.5]), T([.5, .5]))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(T([1.5]), T([1.0]))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2, 3\) cannot be broadcast to the input's"):
        F.binary_cross_entropy_with_logits(T([.5, .5, .5]), T([1., 0., 1.]), pos_weight=T(np.ones((2, 3))))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(T([.5]), T([2.0]))


# ------------------------------------------------------------------ Modules
def test_modules_call_the_functions_and_keep_buffers(rng):
    x, t, w = T(rng.standard_normal((4, 3))), T(np.array([0, 2, 1, 0])), T(rng.random(3) + .1)
    y = T(rng.random((4, 3)))
    module = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=.1)
    assert module(x, t).item() == F.cross_entropy(x, t, w, 1, "mean", .1).item()
    assert "weight" in module.state_dict() and module.weight is w
    assert list(module.parameters()) == []
    assert nn.NLLLoss(weight=w)(x, t).item() == F.nll_loss(x, t, w).item()
    bce = nn.BCEWithLogitsLoss(pos_weight=T(np.full(3, 2.0)))
    assert set(bce.state_dict()) == {"pos_weight"}
    assert bce(x, y).item() == F.binary_cross_entropy_with_logits(x, y, pos_weight=T(np.full(3, 2.0))).item()
    assert nn.BCELoss(weight=w)(x.sigmoid(), y).item() == F.binary_cross_entropy(x.sigmoid(), y, w).item()
    assert nn.SoftMarginLoss(reduction="sum")(x, y).item() == F.soft_margin_loss(x, y, "sum").item()
    assert nn.MultiLabelSoftMarginLoss(w)(x, y).item() == F.multilabel_soft_margin_loss(x, y, w).item()
    assert nn.KLDivLoss("batchmean", log_target=True)(x, y).item() == F.kl_div(x, y, "batchmean", True).item()
    assert "label_smoothing=0.1" in repr(module)


# ------------------------------------------------------------------ PyTorch oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_classification_matches_torch(torch, dtype, reduction, rng):
    tol = {"rtol": 2e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-11, "atol": 1e-13}
    tf = torch.nn.functional
    x = (rng.standard_normal((3, 4, 2)) * 2).astype(dtype)
    t = np.array([[0, 3], [2, -1], [1, 1]])
    w = (rng.random(4) + .2).astype(dtype)
    probs = rng.random((3, 4, 2)).astype(dtype)
    probs /= probs.sum(1, keepdims=True)
    x2 = x[:, :, 0].copy()
    y2 = rng.random((3, 4)).astype(dtype)
    p2 = np.clip(rng.random((3, 4)), .02, .98).astype(dtype)
    s2 = np.sign(y2 - .5).astype(dtype)
    pw = (rng.random(4) * 3).astype(dtype)
    logp2 = np.log(p2 / p2.sum(1, keepdims=True))
    tt = torch.tensor
    cases = [
        (F.cross_entropy, tf.cross_entropy, x, t, {"weight": w, "ignore_index": -1, "label_smoothing": .15}),
        (F.cross_entropy, tf.cross_entropy, x, t, {"ignore_index": -1}),
        (F.cross_entropy, tf.cross_entropy, x, probs, {"weight": w, "label_smoothing": .15}),
        (F.cross_entropy, tf.cross_entropy, x2, t[:, 0], {}),
        (F.cross_entropy, tf.cross_entropy, x2[0], t[0, 0], {"weight": w}),
        (F.nll_loss, tf.nll_loss, x, t, {"weight": w, "ignore_index": -1}),
        (F.binary_cross_entropy, tf.binary_cross_entropy, p2, y2, {"weight": w}),
        (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits, x2, y2,
         {"weight": w, "pos_weight": pw}),
        (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits, x2, y2, {}),
        (F.soft_margin_loss, tf.soft_margin_loss, x2, s2, {}),
        (F.multilabel_soft_margin_loss, tf.multilabel_soft_margin_loss, x2, (y2 > .5).astype(dtype),
         {"weight": w}),
        (F.kl_div, tf.kl_div, logp2, y2, {}),
        (F.kl_div, tf.kl_div, x2, y2, {"log_target": True}),
    ]
    for mine, theirs, inp, target, kw in cases:
        a = T(inp, True, dtype)
        ta = tt(inp, requires_grad=True)
        ours_kw = {k: T(v, dtype=dtype) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        torch_kw = {k: tt(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        target_mg = T(target, dtype=None if np.asarray(target).dtype.kind in "iu" else dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out = mine(a, target_mg, reduction=reduction, **ours_kw)
            tout = theirs(ta, tt(np.asarray(target)), reduction=reduction, **torch_kw)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(T(g, dtype=dtype))
        tout.backward(tt(g))
        assert out.dtype == dtype, theirs.__name__
        np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol, err_msg=theirs.__name__)
        np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), **tol, err_msg=theirs.__name__)
    batchmean = F.kl_div(T(logp2, dtype=dtype), T(y2, dtype=dtype), reduction="batchmean")
    expected = tf.kl_div(tt(logp2), tt(y2), reduction="batchmean").numpy()
    np.testing.assert_allclose(batchmean.data, expected, **tol)


def test_large_logits_match_torch(torch):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    a, ta = T(x, True), torch.tensor(x, requires_grad=True)
    F.cross_entropy(a, T([1, 2])).backward()
    torch.nn.functional.cross_entropy(ta, torch.tensor([1, 2])).backward()
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12, atol=1e-300)
    a, ta = T(x, True), torch.tensor(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(a, T(np.eye(2, 3))).backward()
    torch.nn.functional.binary_cross_entropy_with_logits(ta, torch.tensor(np.eye(2, 3))).backward()
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12, atol=1e-300)
