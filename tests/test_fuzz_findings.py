"""Regression tests for what the differential fuzzer found (issue 16; docs/fuzzing.md).

N1-N10 are the fuzzer's own findings; the others are fixes of the review's bugs that a
``make fuzz`` run showed to be incomplete. Each test fails on the code before its fix. Tests
comparing with PyTorch take the ``torch`` fixture (they skip without it); the others hold
values worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F


def _leaf(values, dtype=mg.float64) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, requires_grad=True)


# ------------------------------------------- B17 follow-up: Huber/SmoothL1 on 0-d values
@pytest.mark.parametrize("loss", ["huber", "smooth_l1"])
@pytest.mark.parametrize("target_dtype", [mg.float64, mg.float32])
def test_huber_and_smooth_l1_backward_on_zero_dim_values(loss, target_dtype):
    """A 0-d difference made numpy return a scalar into ``out=`` (TypeError), in the second
    order (0-d operands of one dtype) and in the first (0-d operands of two dtypes).
    Huber: l = d^2/2 for |d| < delta, so dl/dx = d and d2l/dx2 = 1; d = 0.3 here."""
    fn = {"huber": lambda x, y: F.huber_loss(x, y, delta=0.8),
          "smooth_l1": lambda x, y: F.smooth_l1_loss(x, y, beta=0.8)}[loss]
    x = _leaf(0.5)
    y = mg.tensor(0.2, dtype=target_dtype)
    (g,) = mg.autograd.grad([fn(x, y)], [x], create_graph=True)
    scale = 1.0 if loss == "huber" else 1 / 0.8
    np.testing.assert_allclose(g.data, 0.3 * scale, rtol=1e-6)
    g.backward()
    np.testing.assert_allclose(x.grad.data, scale)
    x.grad = None
    fn(x, y).backward()
    np.testing.assert_allclose(x.grad.data, 0.3 * scale, rtol=1e-6)
