"""Regression tests for issue 16's kernel bugs (found by the differential fuzzer).

B02: LinearAct's create_graph backward ran a nested ``grad`` over the whole graph below the
layer, so hooks fired twice and the cost doubled with every layer. B06: the buffer pool
kept every array it ever handed out. B09/B12: F.linear with in_features = 0.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.kernels import bce, regression, set_jit_enabled
from minigrad.nn import functional as F
from minigrad.ops.linear import LinearAct

ACTIVATIONS = ("none", "relu", "tanh", "sigmoid", "gelu")


def leaf(a: np.ndarray) -> mg.Tensor:
    return mg.tensor(np.array(a, dtype=np.float64), requires_grad=True)


# ----------------------------------------------------------------------------- B02
def _flipped_input_grad(lib, F_linear):  # noqa: ANN001, ANN202, N803
    """dL/dx for L = sum(linear(h)^2) / 4 with h = x * 1 and a hook on h that flips the sign."""
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([[1.0, 0.5], [-1.0, 2.0]], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([0.1, 0.2], dtype=lib.float64, requires_grad=True)
    h = x * 1.0
    h.register_hook(lambda g: -g)
    out = F_linear(h, w, b)
    (gx,) = lib.autograd.grad((out * out).sum() * 0.25, [x], create_graph=True)
    return gx


def test_sign_flipping_hook_under_create_graph_matches_torch(torch):  # noqa: ANN001
    ours = _flipped_input_grad(mg, F.linear)
    theirs = _flipped_input_grad(torch, torch.nn.functional.linear)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.data, [0.55, -3.725], rtol=1e-12)


def _deep_net(depth: int, activation: str) -> tuple[mg.Tensor, list[mg.Tensor], list[int]]:
    """A chain of ``depth`` fused Linear layers; every layer's input has a counting hook."""
    rng = np.random.default_rng(0)
    x = leaf(rng.standard_normal((2, 3)))
    calls = [0] * depth
    h, params = x, []
    for i in range(depth):
        w, b = leaf(rng.standard_normal((3, 3)) * 0.5), leaf(rng.standard_normal(3) * 0.1)
        params += [w, b]
        h = h * 1.0

        def count(g: mg.Tensor, i: int = i) -> None:
            calls[i] += 1

        h.register_hook(count)
        h = LinearAct.apply(h, w, b, activation=activation)
    return (h * h).sum(), [x, *params], calls


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_create_graph_backward_fires_each_hook_once(activation):  # noqa: ANN001
    loss, inputs, calls = _deep_net(12, activation)
    grads = mg.grad(loss, inputs, create_graph=True)
    assert calls == [1] * 12
    sum((g * g).sum() for g in grads).backward()
    assert calls == [2] * 12  # once more in the double backward (the gradients depend on h): as torch


def test_create_graph_backward_stays_linear_in_depth(monkeypatch):  # noqa: ANN001
    """LinearAct's readable backward runs once per layer in ``grad(create_graph=True)`` and its
    fast path once more per layer in the double backward (which records no graph): k calls
    for k layers, where the nested grad made it 2^k."""
    counted = {"n": 0}

    def counting(original):  # noqa: ANN001, ANN202
        def run(ctx, grad):  # noqa: ANN001, ANN202
            counted["n"] += 1
            return original(ctx, grad)
        return staticmethod(run)

    monkeypatch.setattr(LinearAct, "backward", counting(LinearAct.backward))
    monkeypatch.setattr(LinearAct, "fast_backward", counting(LinearAct.fast_backward))
    per_depth = []
    for depth in (3, 6, 12):
        counted["n"] = 0
        loss, inputs, _ = _deep_net(depth, "tanh")
        grads = mg.grad(loss, inputs, create_graph=True)
        first = counted["n"]
        sum((g * g).sum() for g in grads).backward()
        per_depth.append((first, counted["n"] - first))
    assert [first for first, _ in per_depth] == [3, 6, 12]
    assert [second for _, second in per_depth] == [3, 6, 12]


@pytest.mark.parametrize("jit", [True, False])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradgradcheck_every_activation_nd_input_and_no_bias(rng, jit, activation):  # noqa: ANN001
    x = leaf(rng.standard_normal((2, 3, 4)))
    w, b = leaf(rng.standard_normal((2, 4))), leaf(rng.standard_normal(2))
    with set_jit_enabled(jit):
        assert mg.gradgradcheck(lambda v, m, c: LinearAct.apply(v, m, c, activation=activation), [x, w, b])
        assert mg.gradgradcheck(lambda v, m: LinearAct.apply(v, m, activation=activation), [x, w])


def test_second_derivative_of_linear_tanh_matches_torch(torch, rng):  # noqa: ANN001
    xs, ws, bs = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    x, w, b = leaf(xs), leaf(ws), leaf(bs)
    gx, gw = mg.grad(LinearAct.apply(x, w, b, activation="tanh").sum(), [x, w], create_graph=True)
    ((gx * gx).sum() + (gw * gw).sum()).backward()
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (xs, ws, bs))
    tgx, tgw = torch.autograd.grad(torch.tanh(torch.nn.functional.linear(tx, tw, tb)).sum(), [tx, tw],
                                   create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- B09/B12: in_features = 0
@pytest.mark.parametrize("jit", [True, False])
@pytest.mark.parametrize("shape", [(3, 0), (0,), (2, 1, 0)])
def test_linear_with_zero_in_features_matches_torch(torch, jit, shape):  # noqa: ANN001
    w = np.zeros((2, 0))
    b = np.array([1.0, 2.0])
    x, wt, bt = leaf(np.zeros(shape)), leaf(w), leaf(b)
    with set_jit_enabled(jit):
        y = F.linear(x, wt, bt)
        (y * y).sum().backward()
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (np.zeros(shape), w, b))
    ty = torch.nn.functional.linear(tx, tw, tb)
    (ty * ty).sum().backward()
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    for ours, theirs in ((x, tx), (wt, tw), (bt, tb)):
        assert ours.grad.shape == tuple(theirs.grad.shape)
        np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_linear_module_with_zero_in_features_double_backward():
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        layer = nn.Linear(0, 2, dtype=mg.float64)
    x = mg.tensor(np.zeros((3, 0)), requires_grad=True)
    (gb,) = mg.grad((layer(x) ** 2).sum(), [layer.bias], create_graph=True)
    np.testing.assert_allclose(gb.data, 6 * layer.bias.data)


# ----------------------------------------------------------------------------- B06
def test_many_batch_sizes_leave_no_arrays_held(rng):  # noqa: ANN001
    """A Linear + MSE step over 300 batch sizes: once the step's tensors are gone, the kernels
    hold nothing (the old buffer pool kept a few arrays for every shape it had seen: ~35 MB here)."""
    layer = nn.Linear(64, 64)

    def step(n: int) -> None:
        x = mg.tensor(rng.standard_normal((n, 64)).astype(np.float32))
        F.mse_loss(layer(x), mg.tensor(np.zeros((n, 64), np.float32))).backward()
        layer.zero_grad()

    with set_jit_enabled(True):
        step(2)  # compile (or load) the kernels first
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for n in range(1, 301):
                step(n)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert held < 1_000_000, f"{held} bytes still held after 300 batch sizes"


# ----------------------------------------------------------------------------- sums that depend on addresses
@pytest.mark.parametrize("kind", regression.LOSSES)
def test_regression_kernel_sum_does_not_depend_on_where_the_gradient_lies(kind, rng):  # noqa: ANN001
    """With fresh output arrays (no pool) malloc put the gradient right after an input now and
    then, LLVM's overlap check then picked the sequential loop and the loss changed in its last bit."""
    x, y = rng.standard_normal(12), rng.standard_normal(12)
    totals = set()
    for gap in range(0, 48):
        buf = np.empty(24 + gap + 12)
        xs, ys, grad = buf[:12], buf[12:24], buf[24 + gap:36 + gap]
        xs[:], ys[:] = x, y
        with set_jit_enabled(True):
            totals.add(regression._KERNELS[kind](xs, ys, 0.5, 1.0, np.empty(0), grad))
    assert len(totals) == 1


def test_bce_kernel_sum_does_not_depend_on_where_the_gradient_lies(rng):  # noqa: ANN001
    x, y = rng.standard_normal((1, 12)), rng.random((1, 12))
    e = np.exp(-np.abs(x))
    ones = np.ones(12)
    totals = set()
    for gap in range(0, 48):
        buf = np.empty(48 + gap + 12)
        xs, ys, es, ls = (buf[k * 12:(k + 1) * 12].reshape(1, 12) for k in range(4))
        xs[:], ys[:], es[:], ls[:] = x, y, e, np.log1p(e)
        grad = buf[48 + gap:60 + gap].reshape(1, 12)
        totals.add(bce._bce_with_logits_kernel(xs, ys, es, ls, ones, ones, 1.0, np.empty((0, 0)), grad))
    assert len(totals) == 1
