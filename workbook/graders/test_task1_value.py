"""Task 1: `Value` ops, each forward value and local derivative graded against minigrad.

No ``backward()`` yet: each check builds ``out = op(inputs)``, sets ``out.grad`` to a random
upstream gradient g and each input's ``grad`` to 0.25 (a share already received from another
use), calls ``out._backward()`` once, and compares every input's ``grad`` with
0.25 + minigrad's g * d out / d input.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from workbook.grading import call, check_close, fail

pytestmark = pytest.mark.task1

PRIOR = 0.25
CHAIN_HINT = ("the chain rule: input.grad += (local derivative) * out.grad; multiply by out.grad "
              "(here it is {g}, not 1) and add with += (grad was already 0.25: another use's share)")

# name -> (tinytorch op on Values, minigrad op on tensors, inputs (lists of floats), local derivative text)
UNARY = {
    "exp": (lambda a: a.exp(), lambda a: a.exp(), [-2.0, -0.3, 0.0, 0.7, 3.1], "d(e^x)/dx = e^x"),
    "log": (lambda a: a.log(), lambda a: a.log(), [0.05, 0.6, 1.0, 2.5, 40.0], "d(ln x)/dx = 1/x"),
    "tanh": (lambda a: a.tanh(), lambda a: a.tanh(), [-3.0, -0.5, 0.0, 0.4, 2.2],
             "d(tanh x)/dx = 1 - tanh(x)^2"),
    "relu": (lambda a: a.relu(), lambda a: a.relu(), [-1.5, -1e-3, 0.0, 1e-3, 2.0],
             "d relu(x)/dx = 1 if x > 0 else 0 (0 at x == 0, as PyTorch)"),
}
POWERS = [2, 3, -1, 0.5, -1.5, 1.0]


def upstream(rng: np.random.Generator) -> float:
    return float(rng.choice([-1, 1]) * rng.uniform(0.3, 2.5))


def run_local(tt, what, build, mg_build, values, g, inputs, derivative):
    """Build ``out`` from fresh Values, run its ``_backward`` with ``out.grad = g`` and compare
    the forward value and each input's grad with minigrad."""
    vals = [tt.Value(v) for v in values]
    out = call(f"{what} forward", build, *vals, inputs=inputs)
    if not isinstance(out, tt.Value):
        fail(f"{what} forward", f"expected a Value, got {type(out).__name__}", inputs,
             "each op returns a new Value(result, (inputs...), op)")
    tensors = [mg.tensor(v, dtype=mg.float64, requires_grad=True) for v in values]
    ref = mg_build(*tensors)
    ref.backward(mg.tensor(g, dtype=mg.float64))
    check_close(f"{what} forward: out.data", out.data, ref.item(), inputs=inputs, check_dtype=False,
                rtol=1e-12, hint="compute the result with math.* on the inputs' .data")
    missing = [n for n, v in zip(inputs, vals) if not any(c is v for c in out._prev)]
    if missing:
        fail(f"{what}: out._prev", f"does not contain input {', '.join(missing)}", inputs,
             "pass the inputs as children: Value(result, (self, other), op); backward() (task 2) "
             "walks the graph through _prev")
    out.grad = g
    for v in vals:
        v.grad = PRIOR
    context = {**inputs, "out.grad": g} | {f"{name}.grad before": PRIOR for name in inputs}
    call(f"{what} backward: out._backward()", out._backward, inputs=context)
    for (name, v), t in zip(zip(inputs, vals), tensors):
        check_close(f"{what} backward: {name}.grad", v.grad, PRIOR + t.grad.item(), inputs=context,
                    check_dtype=False, rtol=1e-12,
                    hint=f"local derivative {derivative}; " + CHAIN_HINT.format(g=f"{g:.4g}"))


@pytest.mark.parametrize("op", ["add", "mul"])
def test_binary(tt, op):
    """a + b and a * b on random pairs, including a Value with a plain number."""
    rng = np.random.default_rng(1 if op == "add" else 2)
    build = (lambda a, b: a + b) if op == "add" else (lambda a, b: a * b)
    derivative = "d(a+b)/da = d(a+b)/db = 1" if op == "add" else "d(ab)/da = b, d(ab)/db = a"
    symbol = "+" if op == "add" else "*"
    for _ in range(5):
        a, b = rng.uniform(-3, 3, 2).tolist()
        run_local(tt, f"Value.__{op}__ (a {symbol} b)", build, build, [a, b], upstream(rng),
                  {"a": a, "b": b}, derivative)
    a, c = rng.uniform(-3, 3, 2).tolist()
    run_local(tt, f"Value.__{op}__ (a {symbol} {c:.4g}, a number)", lambda v: build(v, c),
              lambda t: build(t, c), [a], upstream(rng), {"a": a}, derivative)


@pytest.mark.parametrize("k", POWERS)
def test_pow(tt, k):
    """a ** k for integer and fractional constant exponents, on positive bases."""
    rng = np.random.default_rng(3)
    for a in [0.3, 1.7, float(rng.uniform(0.5, 3))]:
        run_local(tt, f"Value.__pow__ (a ** {k})", lambda v: v**k, lambda t: t**k, [a], upstream(rng),
                  {"a": a}, "d(x^k)/dx = k x^(k-1)")


@pytest.mark.parametrize("op", list(UNARY))
def test_unary(tt, op):
    """exp, log, tanh, relu on a spread of inputs (relu at exactly 0 too)."""
    build, mg_build, values, derivative = UNARY[op]
    rng = np.random.default_rng(4)
    for a in values:
        run_local(tt, f"Value.{op}", build, mg_build, [a], upstream(rng), {"a": a}, derivative)
