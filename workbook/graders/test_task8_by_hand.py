"""Task 8: the MLP's backward pass written by hand in numpy, graded against minigrad's autograd
in float64 to 1e-5 (relative), piece by piece and then whole.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F
from workbook.grading import call, check_close, fail

pytestmark = pytest.mark.task8

TOL = {"rtol": 1e-5, "atol": 1e-9}


def mlp_case(seed: int, n: int = 16, d: int = 12, h: int = 7, c: int = 5) -> dict[str, np.ndarray]:
    """Random MLP inputs; hidden unit 0 has a pre-activation of exactly 0 for every row (zero
    weights and bias), where relu's gradient is 0 by PyTorch's convention."""
    rng = np.random.default_rng(seed)
    case = {"x": rng.standard_normal((n, d)), "target": rng.integers(0, c, n),
            "W1": rng.standard_normal((h, d)) / np.sqrt(d), "b1": rng.standard_normal(h) * 0.1,
            "W2": rng.standard_normal((c, h)) / np.sqrt(h), "b2": rng.standard_normal(c) * 0.1}
    case["W1"][0] = 0.0
    case["b1"][0] = 0.0
    return case


def reference(case: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    params = {k: mg.tensor(case[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")}
    hidden = F.linear(mg.tensor(case["x"]), params["W1"], params["b1"]).relu()
    loss = F.cross_entropy(F.linear(hidden, params["W2"], params["b2"]), mg.tensor(case["target"]))
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in params.items()}


def autograd_reference(fn, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Gradients of ``fn(*tensors)`` with upstream ``g`` for each array (fn returns (out, g))."""
    tensors = [mg.tensor(a, requires_grad=True) for a in arrays]
    out, g = fn(*tensors)
    out.backward(mg.tensor(g))
    return [t.grad.numpy() for t in tensors]


def test_linear_backward(tt):
    rng = np.random.default_rng(0)
    x, w, dout = rng.standard_normal((6, 4)), rng.standard_normal((3, 4)), rng.standard_normal((6, 3))
    b = rng.standard_normal(3)
    inputs = {"x": x, "weight": w, "dout": dout}
    got = call("linear_backward(x, weight, dout)", tt.by_hand.linear_backward, x, w, dout, inputs=inputs)
    if not (isinstance(got, tuple) and len(got) == 3):
        fail("linear_backward", f"expected (dx, dweight, dbias), got {type(got).__name__}", inputs)
    expected = autograd_reference(lambda xt, wt, bt: (F.linear(xt, wt, bt), dout), [x, w, b])
    hints = ["dx = dout @ weight", "dweight = dout.T @ x",
             "dbias = dout.sum(axis=0): the bias was broadcast over rows"]
    for name, g, e, hint in zip(["dx", "dweight", "dbias"], got, expected, hints):
        check_close(f"linear_backward: {name}", g, e, inputs=inputs, hint=hint, **TOL)


def test_relu_backward(tt):
    rng = np.random.default_rng(1)
    pre, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    pre[0, :2] = 0.0
    inputs = {"pre": pre, "dout": dout}
    got = call("relu_backward(pre, dout)", tt.by_hand.relu_backward, pre, dout, inputs=inputs)
    (expected,) = autograd_reference(lambda t: (t.relu(), dout), [pre])
    check_close("relu_backward", got, expected, inputs=inputs, **TOL,
                hint="dout where pre > 0 and 0 elsewhere, also where pre == 0 exactly (row 0 has zeros)")


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_cross_entropy_backward(tt, scale):
    rng = np.random.default_rng(2)
    logits, target = rng.standard_normal((8, 5)) * scale, rng.integers(0, 5, 8)
    inputs = {"logits": logits, "target": target}
    with np.errstate(all="ignore"):
        got = call("cross_entropy_backward(logits, target)", tt.by_hand.cross_entropy_backward,
                   logits, target, inputs=inputs)
    (expected,) = autograd_reference(lambda t: (F.cross_entropy(t, mg.tensor(target)), np.float64(1.0)),
                                     [logits])
    check_close(f"cross_entropy_backward (logits of scale {scale:g})", got, expected, inputs=inputs, **TOL,
                hint="(softmax(logits) - onehot(target)) / N, softmax computed after subtracting the row "
                     "maximum")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_forward_backward(tt, seed, monkeypatch):
    """The whole MLP: loss and the four gradients; autograd is switched off while it runs."""
    case = mlp_case(seed)

    def no_autograd(*args, **kwargs):
        raise AssertionError("task 8 is backprop by hand: Tensor.backward must not be used")

    monkeypatch.setattr(tt.Tensor, "backward", no_autograd)
    inputs = {k: case[k] for k in ("x", "target", "W1", "b1", "W2", "b2")}
    result = call("mlp_forward_backward(x, target, W1, b1, W2, b2)", tt.by_hand.mlp_forward_backward,
                  *(case[k].copy() for k in inputs), inputs=inputs)
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        fail("mlp_forward_backward", f"expected (loss, {{'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}}), got "
             f"{type(result).__name__}", hint="return the loss and a dict of the four gradients")
    loss, grads = result
    ref_loss, ref_grads = reference(case)
    check_close("mlp_forward_backward: loss", np.asarray(loss, dtype=np.float64), ref_loss, inputs=inputs,
                hint="mean cross-entropy of z = relu(x W1^T + b1) W2^T + b2", **TOL)
    hints = {"W2": "dW2 = dz^T h with dz = (softmax(z) - onehot) / N", "b2": "db2 = dz summed over rows",
             "W1": "dW1 = da^T x with da = (dz W2) * (a > 0); hidden unit 0 has a == 0 exactly: no gradient "
                   "there",
             "b1": "db1 = da summed over rows"}
    for name in ("W2", "b2", "W1", "b1"):
        if name not in grads:
            fail("mlp_forward_backward", f"the gradient dict has no {name!r} (keys: {sorted(grads)})")
        check_close(f"mlp_forward_backward: d{name}", grads[name], ref_grads[name], inputs=inputs, **TOL,
                    hint=hints[name])
