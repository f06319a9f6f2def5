"""Task 5: `log_softmax` and `cross_entropy`, graded against minigrad's cross-entropy on random
logits in float32 and float64, on logits of +-1000 (where the naive formula overflows), and
with an upstream gradient other than 1.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F
from workbook.grading import call, check_close, fail

pytestmark = pytest.mark.task5

DTYPES = [np.float32, np.float64]
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
STABLE_HINT = ("subtract each row's maximum before exp: log sum e^z = m + log sum e^(z - m) never "
               "overflows (e^1000 is inf even in float64)")
GRAD_HINT = "dL/dlogits = out.grad * (softmax(z) - onehot(y)) / N, with N the number of rows"
CASES = {
    "random logits (8, 5)": lambda rng, dt: (rng.standard_normal((8, 5)) * 3).astype(dt),
    "one row (1, 3)": lambda rng, dt: rng.standard_normal((1, 3)).astype(dt),
    "logits of +-1000": lambda rng, dt: np.array([[1000, 0, -1000], [-1000, -1000, 1000], [1000, 1000, 999],
                                                   [-1000, -999, -1000]], dtype=dt),
    "logits of about +-200 (e^200 overflows float32)":
        lambda rng, dt: (rng.standard_normal((6, 4)) * 200).astype(dt),
}


def targets(rng, logits):
    return rng.integers(0, logits.shape[1], logits.shape[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_log_softmax(tt, case, dtype):
    rng = np.random.default_rng(0)
    z = CASES[case](rng, dtype)
    with np.errstate(all="ignore"):
        got = call(f"log_softmax(logits) on {case}", tt.log_softmax, z.copy(), inputs={"logits": z})
    expected = F.log_softmax(mg.tensor(z), dim=-1).numpy()
    check_close(f"log_softmax on {case}", got, expected, inputs={"logits": z}, hint=STABLE_HINT, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_cross_entropy(tt, case, dtype):
    """Loss value, dtype and the logits' gradient, for an upstream gradient of 1 and of 2.5."""
    rng = np.random.default_rng(1)
    z = CASES[case](rng, dtype)
    y = targets(rng, z)
    inputs = {"logits": z, "target": y}
    for g in (None, 2.5):
        logits = tt.Tensor(z.copy(), requires_grad=True)
        with np.errstate(all="ignore"):
            loss = call(f"cross_entropy on {case}", tt.cross_entropy, logits, y, inputs=inputs)
        ref_logits = mg.tensor(z.copy(), requires_grad=True)
        ref = F.cross_entropy(ref_logits, mg.tensor(y))
        if not isinstance(loss, tt.Tensor):
            fail(f"cross_entropy on {case}", f"expected a Tensor, got {type(loss).__name__}", inputs,
                 "return Tensor(value, _children=(logits,), _op='cross_entropy') with its own _backward")
        check_close(f"cross_entropy on {case}: loss", loss.data, ref.detach().numpy(), inputs=inputs,
                    hint=STABLE_HINT + "; the loss is a 0-d array of the logits' dtype", **TOL[dtype])
        upstream = None if g is None else np.asarray(g, dtype=dtype)
        with np.errstate(all="ignore"):
            call(f"cross_entropy on {case}: loss.backward()", loss.backward, upstream, inputs=inputs)
        ref.backward(None if g is None else mg.tensor(upstream))
        what = f"cross_entropy on {case}: logits.grad" + ("" if g is None else f" with loss.backward({g})")
        check_close(what, logits.grad, ref_logits.grad.numpy(), inputs=inputs, hint=GRAD_HINT, **TOL[dtype])
