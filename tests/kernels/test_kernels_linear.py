"""Linear + fused activation: kernel path == numpy reference == PyTorch; results are fresh arrays."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.kernels import linear
from minigrad.kernels.config import set_jit_enabled

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", linear.ACTIVATIONS)
@pytest.mark.parametrize("n,fan_in,fan_out", [(1, 3, 2), (64, 100, 33)])
def test_kernel_path_matches_reference(rng, dtype, activation, n, fan_in, fan_out):  # noqa: ANN001
    pytest.importorskip("numba")  # the kernel path needs it; without it there is nothing to compare
    x = rng.standard_normal((n, 2 * fan_in)).astype(dtype)[:, ::2]
    w = (rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)).astype(dtype)  # NumPy 2: cast last
    b = rng.standard_normal(fan_out).astype(dtype)
    g = rng.standard_normal((n, fan_out)).astype(dtype)
    assert {a.dtype for a in (x, w, b, g)} == {np.dtype(dtype)}
    for bias in (b, None):
        ref_y, ref_saved = linear.linear_forward_reference(x, w, bias, activation)
        ref_dx, ref_dw, ref_db = linear.linear_backward_reference(g, x, w, ref_saved, activation,
                                                                  bias is not None)
        with set_jit_enabled(True):
            y, saved = linear.linear_forward(x, w, bias, activation)
            dx, dw, db = linear.linear_backward(g, x, w, saved, activation, bias is not None)
        assert y.dtype == dx.dtype == dw.dtype == dtype
        np.testing.assert_allclose(y, ref_y, **TOL[dtype])
        np.testing.assert_allclose(dx, ref_dx, **TOL[dtype])
        np.testing.assert_allclose(dw, ref_dw, **TOL[dtype])
        if bias is None:
            assert db is None and ref_db is None
        else:
            np.testing.assert_allclose(db, ref_db, **TOL[dtype])


@pytest.mark.parametrize("activation", linear.ACTIVATIONS)
def test_reference_matches_torch(torch, rng, activation):  # noqa: ANN001
    x = rng.standard_normal((5, 4))
    w = rng.standard_normal((3, 4))
    b = rng.standard_normal(3)
    g = rng.standard_normal((5, 3))
    y, saved = linear.linear_forward_reference(x, w, b, activation)
    dx, dw, db = linear.linear_backward_reference(g, x, w, saved, activation)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    z = torch.nn.functional.linear(tx, tw, tb)
    act = {"none": lambda t: t, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "gelu": torch.nn.functional.gelu}[activation]
    out = act(z)
    out.backward(torch.tensor(g))
    for ours, theirs in ((y, out), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_results_are_fresh_arrays(rng):  # noqa: ANN001
    """Each call returns new arrays: a result the caller holds is never written by a later call."""
    pytest.importorskip("numba")
    x = rng.standard_normal((8, 5)).astype(np.float32)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    b = np.zeros(4, np.float32)
    with set_jit_enabled(True):
        y1, _ = linear.linear_forward(x, w, b, "relu")
        kept = y1.copy()
        y2, _ = linear.linear_forward(2 * x, w, b, "relu")
        assert not np.shares_memory(y1, y2)
        np.testing.assert_array_equal(y1, kept)
