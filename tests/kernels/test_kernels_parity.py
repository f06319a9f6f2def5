"""Numba vs numpy parity for every loss with a kernel: the same call with the JIT on and off
gives the same values and gradients (to rounding), across reductions, weights, ignore_index,
label smoothing, pos_weight and both float dtypes. (The optimizers' half is in test_kernels_optim.)"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import minigrad as mg
from minigrad.kernels import set_jit_enabled
from minigrad.nn import functional as F

REDUCTIONS = ("none", "mean", "sum")
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}
N, C = 7, 5


def _index_case(seed: int, dtype: type, ignore: bool, weighted: bool) -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((N, C)) * 3).astype(dtype)
    t = rng.integers(0, C, N)
    kw: dict = {}
    if ignore:
        t[::3] = 2
        x[3, 0] = -np.inf  # at an ignored position: no NaN on either path
        kw["ignore_index"] = 2
    if weighted:
        kw["weight"] = mg.tensor(rng.uniform(0.2, 2.0, C).astype(dtype))
    return x, t, kw


def _both_ways(call: Callable[[mg.Tensor, mg.Tensor], mg.Tensor], x: np.ndarray, t: np.ndarray,
               target_grad: bool) -> list[tuple[np.ndarray, ...]]:
    """(loss, d/dx, d/dt or None) with the JIT on, then off, for upstream weights 1..k."""
    results = []
    for jit in (True, False):
        xs = mg.tensor(x.copy(), requires_grad=True)
        ts = mg.tensor(t.copy(), requires_grad=target_grad)
        with set_jit_enabled(jit):
            loss = call(xs, ts)
            loss.backward(mg.tensor(np.linspace(1, 2, loss.numel()).reshape(loss.shape).astype(loss.dtype)))
        results.append((loss.data, xs.grad.data, ts.grad.data if target_grad else None))
    return results


def _assert_same(results: list[tuple[np.ndarray, ...]], dtype: type) -> None:
    (on_loss, on_gx, on_gt), (off_loss, off_gx, off_gt) = results
    assert on_loss.dtype == off_loss.dtype == dtype and on_gx.dtype == off_gx.dtype == dtype
    np.testing.assert_allclose(on_loss, off_loss, **TOL[dtype])
    np.testing.assert_allclose(on_gx, off_gx, **TOL[dtype])
    if on_gt is not None:
        np.testing.assert_allclose(on_gt, off_gt, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_cross_entropy(dtype, reduction, smoothing, ignore, weighted, seed):  # noqa: ANN001
    x, t, kw = _index_case(seed, dtype, ignore, weighted)
    def call(a: mg.Tensor, b: mg.Tensor) -> mg.Tensor:
        return F.cross_entropy(a, b, reduction=reduction, label_smoothing=smoothing, **kw)

    _assert_same(_both_ways(call, x, t, target_grad=False), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_nll_loss(dtype, reduction, ignore, weighted, seed):  # noqa: ANN001
    x, t, kw = _index_case(seed, dtype, ignore, weighted)
    logp = (x - np.log(np.exp(x).sum(axis=1, keepdims=True))).astype(dtype)
    _assert_same(_both_ways(lambda a, b: F.nll_loss(a, b, reduction=reduction, **kw), logp, t, False), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both", "broadcast"])
@pytest.mark.parametrize("seed", range(3))
def test_bce_with_logits(dtype, reduction, weights, seed):  # noqa: ANN001
    rng = np.random.default_rng(seed)
    x, y = (rng.standard_normal((N, C)) * 4).astype(dtype), rng.random((N, C)).astype(dtype)
    kw: dict = {}
    if weights in ("weight", "both"):
        kw["weight"] = mg.tensor(rng.uniform(0.2, 2.0, C).astype(dtype))
    if weights in ("pos_weight", "both"):
        kw["pos_weight"] = mg.tensor(rng.uniform(0.2, 3.0, C).astype(dtype))
    if weights == "broadcast":
        kw["weight"] = mg.tensor(rng.uniform(0.2, 2.0, (N, 1)).astype(dtype))
    results = _both_ways(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw),
                         x, y, target_grad=True)
    _assert_same(results, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kw", [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7}),
                                      ("smooth_l1_loss", {"beta": 0.7}), ("smooth_l1_loss", {"beta": 0.0})])
@pytest.mark.parametrize("seed", range(3))
def test_regression_losses(dtype, reduction, name, kw, seed):  # noqa: ANN001
    rng = np.random.default_rng(seed)
    x, y = (rng.standard_normal((N, C)) * 2).astype(dtype), rng.standard_normal((N, C)).astype(dtype)
    y[0, :2] = x[0, :2]  # d = 0 exactly: L1's and SmoothL1's zero slope
    results = _both_ways(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw), x, y, True)
    _assert_same(results, dtype)
