"""The fused autograd Functions: same values and gradients as compositions of minigrad ops,
gradcheck (float64) on both paths, PyTorch-style errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.kernels import set_jit_enabled
from minigrad.kernels.functions import (
    FusedBCEWithLogits,
    FusedCrossEntropy,
    FusedHuberLoss,
    FusedL1Loss,
    FusedMSELoss,
    FusedNLLLoss,
    FusedSmoothL1Loss,
    LinearAct,
)

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def leaf(a: np.ndarray) -> mg.Tensor:
    return mg.tensor(a.copy(), requires_grad=True)


def composed_cross_entropy(x, y, weight, ignore_index, eps, reduction):  # noqa: ANN001, ANN201
    """CE of (N, C) logits written with minigrad ops: -sum(coef * log_softmax(x)) / W."""
    n, c = x.shape
    w = np.ones(c) if weight is None else weight
    keep = y != ignore_index
    onehot = np.zeros((n, c))
    onehot[np.arange(n), np.where(keep, y, 0)] = 1
    coef = ((1 - eps) * onehot * w[np.where(keep, y, 0)][:, None] + eps / c * w) * keep[:, None]
    rows = -(mg.log_softmax(x, 1) * mg.tensor(coef.astype(x.dtype))).sum(1)
    if reduction == "none":
        return rows
    return rows.sum() if reduction == "sum" else rows.sum() / float((w[np.where(keep, y, 0)] * keep).sum())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_composition(rng, dtype, reduction):  # noqa: ANN001
    x = rng.standard_normal((6, 4)).astype(dtype)
    y = np.array([0, 3, -1, 2, 2, 1])
    w = rng.random(4) + 0.5
    upstream = rng.standard_normal(6).astype(dtype) if reduction == "none" else None
    for kw in (dict(ignore_index=-1), dict(weight=w.astype(dtype), ignore_index=-1, label_smoothing=0.2)):
        a, b = leaf(x), leaf(x)
        out = FusedCrossEntropy.apply(a, target=y, reduction=reduction, **kw)
        ref = composed_cross_entropy(b, y, kw.get("weight"), kw.get("ignore_index", -100),
                                     kw.get("label_smoothing", 0.0), reduction)
        np.testing.assert_allclose(out.data, ref.data, **TOL[dtype])
        out.backward(None if upstream is None else mg.tensor(upstream))
        ref.backward(None if upstream is None else mg.tensor(upstream))
        np.testing.assert_allclose(a.grad.data, b.grad.data, **TOL[dtype])


def test_cross_entropy_k_dim_and_unbatched_match_2d(rng):  # noqa: ANN001
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 3, (2, 4))
    a = leaf(x)
    out = FusedCrossEntropy.apply(a, target=y, reduction="none")
    assert out.shape == (2, 4)
    out.sum().backward()
    flat = leaf(np.moveaxis(x, 1, -1).reshape(-1, 3))
    ref = FusedCrossEntropy.apply(flat, target=y.reshape(-1), reduction="none")
    np.testing.assert_allclose(out.data.reshape(-1), ref.data, rtol=1e-12)
    ref.sum().backward()
    np.testing.assert_allclose(a.grad.data, np.moveaxis(flat.grad.data.reshape(2, 4, 3), -1, 1), rtol=1e-12)
    single = FusedCrossEntropy.apply(mg.tensor(x[0, :, 0]), target=np.array(y[0, 0]))
    np.testing.assert_allclose(single.data, out.data[0, 0], rtol=1e-12)


@pytest.mark.parametrize("jit", [True, False])
def test_gradcheck_float64(rng, jit):  # noqa: ANN001
    x = leaf(rng.standard_normal((3, 4)))
    y = np.array([1, -100, 3])
    w = rng.random(4) + 0.5
    t = rng.random((3, 4))
    with set_jit_enabled(jit):
        assert mg.gradcheck(lambda v: FusedCrossEntropy.apply(v, target=y, weight=w, label_smoothing=0.1),
                            [x])
        assert mg.gradcheck(lambda v: FusedCrossEntropy.apply(v, target=y, reduction="none"), [x])
        assert mg.gradcheck(lambda v: FusedNLLLoss.apply(v, target=y, weight=w), [x])
        assert mg.gradcheck(lambda v: FusedBCEWithLogits.apply(v, target=t, weight=w, pos_weight=w * 2), [x])
        target = leaf(rng.standard_normal((3, 4)))
        for fn in (FusedMSELoss, FusedL1Loss):
            assert mg.gradcheck(lambda v, u, fn=fn: fn.apply(v, u), [x, target])
        assert mg.gradcheck(lambda v, u: FusedHuberLoss.apply(v, u, delta=0.5, reduction="sum"), [x, target])
        assert mg.gradcheck(lambda v, u: FusedSmoothL1Loss.apply(v, u, beta=0.5), [x, target])
        wt, b = leaf(rng.standard_normal((2, 4))), leaf(rng.standard_normal(2))
        for act in ("none", "relu", "tanh", "sigmoid", "gelu"):
            assert mg.gradcheck(lambda v, m, c, act=act: LinearAct.apply(v, m, c, activation=act), [x, wt, b])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_and_regression_match_compositions(rng, dtype):  # noqa: ANN001
    x = rng.standard_normal((5, 3)).astype(dtype) * 3
    y = rng.random((5, 3)).astype(dtype)
    w, q = rng.random(3).astype(dtype), (rng.random(3) * 2).astype(dtype)
    a, b = leaf(x), leaf(x)
    FusedBCEWithLogits.apply(a, target=y, weight=w, pos_weight=q).backward()
    log_sig = -mg.softplus(-b)
    lw = 1 + (q - 1) * y
    (mg.tensor(w) * (mg.tensor(1 - y) * b - mg.tensor(lw) * log_sig)).mean().backward()
    np.testing.assert_allclose(a.grad.data, b.grad.data, **TOL[dtype])
    target = rng.standard_normal((5, 3)).astype(dtype)
    composed = {
        FusedMSELoss: lambda d: (d * d).mean(),
        FusedL1Loss: lambda d: d.abs().mean(),
        FusedHuberLoss: lambda d: mg.where(d.abs() < 1.0, d * d * 0.5, (d.abs() - 0.5) * 1.0).sum(),
    }
    for fn, formula in composed.items():
        kw = {"reduction": "sum"} if fn is FusedHuberLoss else {}
        a, b, ta, tb = leaf(x), leaf(x), leaf(target), leaf(target)
        out = fn.apply(a, ta, **kw)
        ref = formula(b - tb)
        np.testing.assert_allclose(out.data, ref.data, **TOL[dtype])
        out.backward()
        ref.backward()
        np.testing.assert_allclose(a.grad.data, b.grad.data, **TOL[dtype])
        np.testing.assert_allclose(ta.grad.data, tb.grad.data, **TOL[dtype])


def test_regression_broadcast_target_gets_summed_gradient(rng):  # noqa: ANN001
    x, t = leaf(rng.standard_normal((4, 3))), leaf(rng.standard_normal(3))
    FusedMSELoss.apply(x, t).backward()
    np.testing.assert_allclose(t.grad.data, -x.grad.data.sum(0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["none", "relu", "tanh", "sigmoid", "gelu"])
def test_linear_act_matches_composition(rng, dtype, activation):  # noqa: ANN001
    x = rng.standard_normal((2, 5, 4)).astype(dtype)
    w = rng.standard_normal((3, 4)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    ours = [leaf(x), leaf(w), leaf(b)]
    theirs = [leaf(x), leaf(w), leaf(b)]
    out = LinearAct.apply(*ours, activation=activation)
    z = theirs[0] @ theirs[1].T + theirs[2]
    ref = {"none": z, "relu": mg.relu(z), "tanh": mg.tanh(z), "sigmoid": mg.sigmoid(z),
           "gelu": mg.gelu(z)}[activation]
    np.testing.assert_allclose(out.data, ref.data, **TOL[dtype])
    upstream = mg.tensor(rng.standard_normal(out.shape).astype(dtype))
    out.backward(upstream)
    ref.backward(upstream)
    for a, c in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, c.grad.data, rtol=TOL[dtype]["rtol"] * 10,
                                   atol=TOL[dtype]["atol"] * 10)


def test_linear_act_without_bias_and_frozen_weight(rng):  # noqa: ANN001
    x, w = leaf(rng.standard_normal((3, 4))), mg.tensor(rng.standard_normal((2, 4)))
    LinearAct.apply(x, w, activation="relu").sum().backward()
    assert w.grad is None
    ref = leaf(x.data)
    mg.relu(ref @ w.T).sum().backward()
    np.testing.assert_allclose(x.grad.data, ref.grad.data, rtol=1e-12)


def test_clear_errors():
    x = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        FusedCrossEntropy.apply(x, target=np.array([0, 3]))
    with pytest.raises(IndexError, match="Target -2 is out of bounds"):
        FusedCrossEntropy.apply(x, target=np.array([0, -2]))
    with pytest.raises(RuntimeError, match="Expected target size"):
        FusedCrossEntropy.apply(x, target=np.array([0, 1, 2]))
    with pytest.raises(RuntimeError, match="Long or Byte"):
        FusedCrossEntropy.apply(x, target=np.array([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="label_smoothing must be between"):
        FusedCrossEntropy.apply(x, target=np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="length C=3"):
        FusedCrossEntropy.apply(x, target=np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        FusedNLLLoss.apply(x, target=np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="must be the same as input size"):
        FusedBCEWithLogits.apply(x, target=np.zeros(3))
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        FusedHuberLoss.apply(x, x, delta=0.0)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        FusedSmoothL1Loss.apply(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match=r"input of shape \(2, 3\) and weight of shape \(2, 4\)"):
        LinearAct.apply(x, mg.tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="activation must be one of"):
        LinearAct.apply(x, mg.tensor(np.zeros((2, 3))), activation="swish")
