"""Task 3: `Tensor` ops on numpy arrays and `unbroadcast`, graded against minigrad in float32 and
float64: forward values, shapes and dtypes, and every input's gradient for a random upstream
gradient (so a backward that forgets to multiply by ``out.grad`` is caught).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from workbook.grading import call, check_close, fail

pytestmark = pytest.mark.task3

DTYPES = [np.float32, np.float64]
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
BROADCAST_HINT = ("an input that was broadcast gets the gradient summed over the broadcast axes: "
                  "_accumulate must call unbroadcast(grad, self.shape)")
CHAIN_HINT = "multiply the local derivative by out.grad (the upstream gradient, random here)"


def grade_op(tt, what, fn, arrays, names, hint):
    """Run ``fn`` on tinytorch and minigrad tensors made from ``arrays``; compare the output, then
    backpropagate one random upstream gradient and compare each input's grad."""
    dtype = arrays[0].dtype.type
    tol = TOL[dtype]
    inputs = dict(zip(names, arrays))
    xs = [tt.Tensor(a.copy(), requires_grad=True) for a in arrays]
    refs = [mg.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = call(f"{what} forward", fn, *xs, inputs=inputs)
    ref = fn(*refs)
    if not isinstance(out, tt.Tensor):
        fail(f"{what} forward", f"expected a Tensor, got {type(out).__name__}", inputs,
             "every op returns Tensor(result, _children=(inputs...), _op=name)")
    check_close(f"{what} forward: out.data", out.data, ref.detach().numpy(), inputs=inputs, **tol)
    upstream = np.random.default_rng(7).uniform(0.5, 1.5, ref.shape).astype(dtype)
    call(f"{what} backward: out.backward(gradient)", out.backward, upstream, inputs=inputs)
    ref.backward(mg.tensor(upstream))
    for name, x, r in zip(names, xs, refs):
        check_close(f"{what} backward: {name}.grad", x.grad, r.grad.numpy(), inputs=inputs, hint=hint, **tol)


def rand(rng, shape, dtype, positive=False):
    a = rng.uniform(0.2, 2.0, shape) if positive else rng.standard_normal(shape)
    return np.asarray(a, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("grad_shape, shape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)),
                                               ((2, 3, 4), (3, 1)), ((2, 3, 4), (1, 1, 4)), ((3, 4), ())])
def test_unbroadcast(tt, grad_shape, shape, dtype):
    """unbroadcast(grad, shape) equals the gradient minigrad gives a broadcast input."""
    grad = rand(np.random.default_rng(0), grad_shape, dtype)
    x = mg.zeros(shape, dtype=mg.float32 if dtype is np.float32 else mg.float64, requires_grad=True)
    (x + mg.zeros(grad_shape, dtype=x.dtype)).backward(mg.tensor(grad))
    inputs = {"grad": grad, "shape": shape}
    got = call("unbroadcast(grad, shape)", tt.unbroadcast, grad, shape, inputs=inputs)
    check_close(f"unbroadcast(grad of shape {grad_shape}, {shape})", got, x.grad.numpy(), inputs=inputs,
                **TOL[dtype], hint="sum over the prepended leading axes, then over the axes where shape has "
                                   "size 1 (keepdims=True)")


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((4,), ())]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", ["add", "mul"])
def test_add_mul(tt, op, dtype):
    """a + b and a * b, with and without broadcasting."""
    rng = np.random.default_rng(1)
    fn = (lambda a, b: a + b) if op == "add" else (lambda a, b: a * b)
    for sa, sb in BINARY_SHAPES:
        grade_op(tt, f"Tensor.__{op}__ ({sa} {'+' if op == 'add' else '*'} {sb})", fn,
                 [rand(rng, sa, dtype), rand(rng, sb, dtype)], ["a", "b"],
                 BROADCAST_HINT if sa != sb else CHAIN_HINT)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_matmul(tt, dtype):
    """(n, k) @ (k, m): dA = G B^T, dB = A^T G."""
    rng = np.random.default_rng(2)
    for sa, sb in [((3, 4), (4, 5)), ((1, 6), (6, 1)), ((5, 2), (2, 3))]:
        grade_op(tt, f"Tensor.__matmul__ ({sa} @ {sb})", lambda a, b: a @ b,
                 [rand(rng, sa, dtype), rand(rng, sb, dtype)], ["a", "b"],
                 "dA = out.grad @ B^T and dB = A^T @ out.grad; each gradient has its input's shape")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions(tt, op, keepdim, dtype):
    """sum and mean over no dim (all), one dim, a negative dim and a tuple of dims."""
    rng = np.random.default_rng(3)
    x = rand(rng, (2, 3, 4), dtype)
    scale = "" if op == "sum" else ", divided by the number of elements averaged"
    for dim in [None, 0, 1, -1, (0, 2)]:
        if dim is None and keepdim:
            continue
        grade_op(tt, f"Tensor.{op}(dim={dim}, keepdim={keepdim})",
                 lambda t, d=dim: getattr(t, op)() if d is None else getattr(t, op)(dim=d, keepdim=keepdim),
                 [x], ["x"], f"every reduced element receives out.grad{scale}: expand out.grad back over "
                             "the reduced axes (np.expand_dims) and broadcast it to x's shape")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", ["exp", "log", "relu"])
def test_elementwise(tt, op, dtype):
    """exp, log (positive inputs), relu (exact zeros included: gradient 0 there)."""
    rng = np.random.default_rng(4)
    x = rand(rng, (3, 4), dtype, positive=op == "log")
    if op == "relu":
        x[0, :2] = 0
    hints = {"exp": "d e^x = e^x dx", "log": "d ln x = dx / x", "relu": "gradient passes where x > 0 only"}
    grade_op(tt, f"Tensor.{op}", lambda t: getattr(t, op)(), [x], ["x"], f"{hints[op]}; {CHAIN_HINT}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_reshape_transpose(tt, dtype):
    """reshape (with -1 and with a tuple) and transpose (torch's dim0, dim1)."""
    rng = np.random.default_rng(5)
    x = rand(rng, (2, 3, 4), dtype)
    cases = [("reshape(6, 4)", lambda t: t.reshape(6, 4)), ("reshape(4, -1)", lambda t: t.reshape(4, -1)),
             ("reshape((24,))", lambda t: t.reshape((24,))), ("transpose(0, 2)", lambda t: t.transpose(0, 2)),
             ("transpose(1, -1)", lambda t: t.transpose(1, -1))]
    for text, fn in cases:
        grade_op(tt, f"Tensor.{text}", fn, [x], ["x"],
                 "backward puts out.grad back into x's layout: the inverse reshape, or the same transpose")
    m = rand(rng, (3, 5), dtype)
    grade_op(tt, "Tensor.transpose(0, 1) of a matrix", lambda t: t.transpose(0, 1), [m], ["x"],
             "backward transposes out.grad back")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_graphs(tt, dtype):
    """Ops composed: a dense layer, a tensor used twice, and a softmax-like expression."""
    rng = np.random.default_rng(6)
    x, w, b = rand(rng, (4, 3), dtype), rand(rng, (3, 2), dtype), rand(rng, (2,), dtype)
    grade_op(tt, "(x @ w + b).relu().mean()", lambda x, w, b: (x @ w + b).relu().mean(), [x, w, b],
             ["x", "w", "b"], "check each op on its own first; then that backward runs in reverse "
                              "topological order")
    grade_op(tt, "(x * x + x).sum(dim=1)", lambda x: (x * x + x).sum(dim=1), [x], ["x"],
             "x is used three times: its gradient is the sum of the three contributions (+=)")
    grade_op(tt, "x.exp().sum(dim=1, keepdim=True).log()", lambda x: x.exp().sum(dim=1, keepdim=True).log(),
             [x], ["x"], "compose exp, sum(keepdim) and log; each backward multiplies by out.grad")


def test_dtype_of_constants(tt):
    """A Python number mixed into a float32 tensor keeps it float32 (as in PyTorch)."""
    x = tt.Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    out = call("Tensor * 2.0", lambda: (x * 2.0 + 1.0).sum())
    if out.data.dtype != np.float32:
        fail("(x * 2.0 + 1.0).sum() on float32 x", f"the result is {out.data.dtype}, expected float32",
             hint="Tensor._lift turns the number into an array of x's dtype; do the ops keep that dtype?")
