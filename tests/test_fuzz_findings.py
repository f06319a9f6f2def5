"""Regression tests for what the differential fuzzer found (issue 16; docs/fuzzing.md).

N1-N10 are the fuzzer's own findings; the others are fixes of the review's bugs that a
``make fuzz`` run showed to be incomplete. Each test fails on the code before its fix. Tests
comparing with PyTorch take the ``torch`` fixture (they skip without it); the others hold
values worked out by hand.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import dtypes


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


# ------------------------------------------------------------------ N2: result_type
_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("a, b", list(itertools.product(_DTYPES, repeat=2)))
def test_result_type_matches_torch(torch, a, b):
    """Every pair of dtypes, each operand 0-d or not: dtypes.result_type and the dtype of
    ``a * b``, ``a + b`` and ``where`` are torch.result_type's."""
    for nd_a, nd_b in itertools.product((0, 1), repeat=2):
        ta = torch.zeros((2,) * nd_a, dtype=getattr(torch, a))
        tb = torch.zeros((2,) * nd_b, dtype=getattr(torch, b))
        want = np.dtype(str(torch.result_type(ta, tb)).removeprefix("torch."))
        ma = mg.tensor(np.zeros((2,) * nd_a, dtype=a))
        mb = mg.tensor(np.zeros((2,) * nd_b, dtype=b))
        case = (a, nd_a, b, nd_b)
        assert dtypes.result_type(ma, mb) == want, case
        assert (ma * mb).dtype == want, case
        assert (ma + mb).dtype == want, case
        assert mg.where(mg.tensor([True, False]), ma, mb).dtype == want, case


def test_zero_dim_float64_does_not_widen_float32_and_gets_its_gradient():
    x = _leaf([1.5, -2.0], mg.float32)
    s = _leaf(3.0)
    y = x * s
    assert y.dtype == mg.float32
    y.backward(mg.tensor([1.0, 2.0], dtype=mg.float32))
    assert x.grad.dtype == mg.float32 and s.grad.dtype == mg.float64
    np.testing.assert_array_equal(x.grad.data, [3.0, 6.0])
    np.testing.assert_array_equal(s.grad.data, 1.5 - 4.0)
    assert (mg.ones(2, dtype=mg.float32) + mg.tensor(1.0, dtype=mg.float64)).dtype == mg.float32
    assert (mg.ones(2, dtype=mg.float32) + mg.ones(2, dtype=mg.float64)).dtype == mg.float64
    assert (mg.tensor([1, 2], dtype=mg.int32) + mg.tensor(5)).dtype == mg.int32
    assert (mg.tensor([1, 2], dtype=mg.int32) + mg.tensor(0.5, dtype=mg.float64)).dtype \
        == mg.float64
