"""Fused loss kernels: Numba kernel == numpy reference, and the references == PyTorch / spec goldens.

Tolerances (documented in docs/kernels.md): float64 kernels agree with the references to
rtol 1e-10; float32 ones to rtol 1e-5 / atol 1e-6 (the kernels accumulate in float64 and
may round intermediate values differently).
"""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.kernels import bce, cross_entropy, regression
from minigrad.kernels.config import set_jit_enabled

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
SHAPES = [(1, 3), (7, 10), (300, 57)]


def close(a, b, dtype, magnitude=1.0):  # noqa: ANN001, ANN201
    """Agreement within TOL; ``magnitude`` scales atol where the formula cancels terms of that size."""
    tol = dict(TOL[dtype])
    tol["atol"] *= magnitude
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), **tol)


def noncontiguous(rng, shape, dtype):  # noqa: ANN001, ANN201
    """A strided view (every other column of a wider array) with the given shape."""
    wide = rng.standard_normal(shape[:-1] + (2 * shape[-1],)).astype(dtype) * 3
    return wide[..., ::2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_kernel_matches_reference(rng, dtype, shape, reduction):  # noqa: ANN001
    n, c = shape
    x = noncontiguous(rng, shape, dtype)
    y = rng.integers(0, c, n)
    y[::3] = -1
    weight = rng.random(c).astype(dtype) + 0.1
    for kw in (dict(), dict(weight=weight, ignore_index=-1, label_smoothing=0.2)):
        with set_jit_enabled(True):
            loss, grad = cross_entropy.cross_entropy(x, y, reduction=reduction, **kw)
        ref_loss, ref_grad = cross_entropy.cross_entropy_reference(x, y, reduction=reduction, **kw)
        assert loss.dtype == ref_loss.dtype == dtype and grad.dtype == dtype
        assert loss.shape == ref_loss.shape
        close(loss, ref_loss, dtype)
        close(grad, ref_grad, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_kernel_matches_reference(rng, dtype, reduction):  # noqa: ANN001
    x = noncontiguous(rng, (40, 6), dtype)
    y = rng.integers(0, 6, 40)
    y[5] = -100
    w = rng.random(6).astype(dtype)
    with set_jit_enabled(True):
        loss, grad = cross_entropy.nll_loss(x, y, w, reduction=reduction)
    ref_loss, ref_grad = cross_entropy.nll_loss_reference(x, y, w, reduction=reduction)
    close(loss, ref_loss, dtype)
    close(grad, ref_grad, dtype)


def test_cross_entropy_goldens_from_spec():
    x = np.array([[1, 2, 0.5], [0.1, -1, 3]])
    y = np.array([2, 0])
    w = np.array([1, 2, 0.5])
    cases = [
        (dict(), 2.467572, [[.115612, .314266, -.429878], [-.474368, .008532, .465836]]),
        (dict(weight=w), 2.635306, [[.077075, .209511, -.286585], [-.632491, .011376, .621115]]),
        (dict(label_smoothing=0.1), 2.404238, [[.098945, .297599, -.396544], [-.441035, -.008135, .449169]]),
    ]
    for jit in (True, False):
        with set_jit_enabled(jit):
            for kw, value, grad in cases:
                loss, g = cross_entropy.cross_entropy(x, y, **kw)
                np.testing.assert_allclose(loss, value, atol=1e-6)
                np.testing.assert_allclose(g, grad, atol=1e-6)
            loss, g = cross_entropy.cross_entropy(x, np.array([2, -100]))
            np.testing.assert_allclose(loss, 1.964369, atol=1e-6)
            np.testing.assert_allclose(g, [[.231224, .628532, -.859756], [0, 0, 0]], atol=1e-6)


@pytest.mark.parametrize("jit", [True, False])
def test_cross_entropy_all_ignored_mean_is_nan_with_zero_grad(jit):  # noqa: ANN001
    x = np.ones((3, 4))
    with set_jit_enabled(jit):
        loss, grad = cross_entropy.cross_entropy(x, np.full(3, -100), label_smoothing=0.1)
        total, _ = cross_entropy.cross_entropy(x, np.full(3, -100), reduction="sum")
    assert np.isnan(loss) and total == 0
    assert np.all(grad == 0)


def test_cross_entropy_reference_matches_torch(torch, rng):  # noqa: ANN001
    x = rng.standard_normal((9, 5))
    y = rng.integers(0, 5, 9)
    y[2] = 3
    w = rng.random(5) + 0.2
    for kw in (dict(), dict(weight=w), dict(ignore_index=3), dict(label_smoothing=0.3),
               dict(weight=w, ignore_index=3, label_smoothing=0.15)):
        for reduction in ("mean", "sum", "none"):
            loss, grad = cross_entropy.cross_entropy_reference(x, y, reduction=reduction, **kw)
            tx = torch.tensor(x, requires_grad=True)
            tkw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in kw.items()}
            out = torch.nn.functional.cross_entropy(tx, torch.tensor(y), reduction=reduction, **tkw)
            out.backward(torch.ones_like(out))
            np.testing.assert_allclose(loss, out.detach().numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
            nll, nll_grad = cross_entropy.nll_loss_reference(
                x, y, kw.get("weight"), kw.get("ignore_index", -100), reduction)
            tx2 = torch.tensor(x, requires_grad=True)
            out2 = torch.nn.functional.nll_loss(tx2, torch.tensor(y), weight=tkw.get("weight"),
                                                ignore_index=kw.get("ignore_index", -100),
                                                reduction=reduction)
            out2.backward(torch.ones_like(out2))
            np.testing.assert_allclose(nll, out2.detach().numpy(), rtol=1e-10)
            np.testing.assert_allclose(nll_grad, tx2.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (5, 4), (64, 300)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_kernel_matches_reference(rng, dtype, shape, reduction):  # noqa: ANN001
    x = noncontiguous(rng, shape, dtype) * 10
    y = rng.random(shape).astype(dtype)
    # (1 - y) x - lw logsigmoid(x) cancels terms of size |x|: float32 references lose eps32 |x|.
    weights = [(None, None), (rng.random(shape[-1]).astype(dtype), rng.random(shape[-1]).astype(dtype) * 3),
               (rng.random((shape[0], 1)).astype(dtype), np.asarray(2.0, dtype))]
    for w, q in weights:
        with set_jit_enabled(True):
            loss, grad = bce.bce_with_logits(x, y, w, q, reduction)
        ref_loss, ref_grad = bce.bce_with_logits_reference(x, y, w, q, reduction)
        assert loss.shape == ref_loss.shape and grad.shape == x.shape
        close(loss, ref_loss, dtype, magnitude=float(np.abs(x).max()) * x.size ** (reduction == "sum"))
        close(grad, ref_grad, dtype)


def test_bce_with_logits_reference_matches_torch_and_spec(torch, rng):  # noqa: ANN001
    x = rng.standard_normal((6, 4)) * 4
    x[0, 0], x[0, 1] = 1000.0, -1000.0
    y = rng.random((6, 4))
    w, q = rng.random(4), rng.random(4) * 3
    for kw in (dict(), dict(weight=w), dict(pos_weight=q), dict(weight=w, pos_weight=q)):
        for reduction in ("mean", "sum", "none"):
            loss, grad = bce.bce_with_logits_reference(x, y, kw.get("weight"), kw.get("pos_weight"),
                                                       reduction)
            tx = torch.tensor(x, requires_grad=True)
            out = torch.nn.functional.binary_cross_entropy_with_logits(
                tx, torch.tensor(y), reduction=reduction, **{k: torch.tensor(v) for k, v in kw.items()})
            out.backward(torch.ones_like(out))
            np.testing.assert_allclose(loss, out.detach().numpy(), rtol=1e-10)
            np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-10, atol=1e-15)
    loss, grad = bce.bce_with_logits(np.array([-2.0, 0, 3]), np.array([0.0, 1, 1]), pos_weight=np.array(2.0))
    np.testing.assert_allclose(loss, 0.536799, atol=1e-6)
    np.testing.assert_allclose(grad, [.039734, -.333333, -.031617], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,param", [("mse", 1.0), ("l1", 1.0), ("huber", 0.7), ("smooth_l1", 0.5),
                                        ("smooth_l1", 0.0)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_kernels_match_reference(rng, dtype, kind, param, reduction):  # noqa: ANN001
    for shape in [(1, 1), (33, 17)]:
        x = noncontiguous(rng, shape, dtype)
        y = rng.standard_normal(shape).astype(dtype)
        y[0, 0] = x[0, 0]
        with set_jit_enabled(True):
            loss, grad = regression.regression(kind, x, y, reduction, param)
        ref_loss, ref_grad = regression.regression_reference(kind, x, y, reduction, param)
        close(loss, ref_loss, dtype)
        close(grad, ref_grad, dtype)
        assert grad.reshape(-1)[0] == 0


def test_regression_references_match_torch_and_spec(torch):  # noqa: ANN001
    x = np.array([0, 0.5, 1, 3, -2])
    y = np.zeros(5)
    F = torch.nn.functional
    calls = {"mse": (F.mse_loss, {}), "l1": (F.l1_loss, {}), "huber": (F.huber_loss, dict(delta=1.0)),
             "smooth_l1": (F.smooth_l1_loss, dict(beta=0.5))}
    for kind, (fn, kw) in calls.items():
        for reduction in ("mean", "sum", "none"):
            loss, grad = regression.regression_reference(kind, x, y, reduction, *kw.values())
            tx = torch.tensor(x, requires_grad=True)
            out = fn(tx, torch.tensor(y), reduction=reduction, **kw)
            out.backward(torch.ones_like(out))
            np.testing.assert_allclose(loss, out.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-12)
    loss, grad = regression.huber_loss(x, y, "sum", 1.0)
    np.testing.assert_allclose(grad, [0, .5, 1, 1, -1])
    loss, grad = regression.smooth_l1_loss(x, y, "none", 0.5)
    np.testing.assert_allclose(loss, [0, .25, .75, 2.75, 1.75])
    np.testing.assert_allclose(grad, [0, 1, 1, 1, -1])


@pytest.mark.parametrize("jit", [True, False])
def test_empty_mean_is_nan_and_sum_zero(jit):  # noqa: ANN001
    x = np.zeros((0, 3))
    with set_jit_enabled(jit):
        assert np.isnan(regression.mse_loss(x, x)[0])
        assert regression.mse_loss(x, x, "sum")[0] == 0
        assert np.isnan(bce.bce_with_logits(x, x)[0])


def test_pooled_gradient_is_not_overwritten_while_held(rng):  # noqa: ANN001
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    y = np.array([0, 1, 2, 0])
    with set_jit_enabled(True):
        _, g1 = cross_entropy.cross_entropy(x1, y)
        kept = g1.copy()
        _, g2 = cross_entropy.cross_entropy(x2, y)
    assert not np.shares_memory(g1, g2)
    np.testing.assert_array_equal(g1, kept)
    np.testing.assert_allclose(g2, cross_entropy.cross_entropy_reference(x2, y)[1], rtol=1e-12)
