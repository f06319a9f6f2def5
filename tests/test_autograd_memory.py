"""After a backward without retain_graph, the graph keeps its edges but no values (issue 16, B07).

Holding the loss (``history.append(loss)``) must not keep the step's activations, the
arrays ops saved for backward, or a fused loss's gradient buffer alive.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.function import Function, Released


def _chain(n: int, size: int) -> tuple[mg.Tensor, mg.Tensor, list[weakref.ref]]:
    """x -> tanh -> ... -> tanh -> sum, returning weak references to every activation."""
    x = mg.tensor(np.full((size, size), 0.5, np.float32), requires_grad=True)
    h, refs = x, []
    for _ in range(n):
        h = h.tanh()
        refs.append(weakref.ref(h.data))
    return x, h.sum(), refs


def test_held_loss_does_not_keep_activations():
    x, loss, refs = _chain(4, 64)
    loss.backward()
    gc.collect()
    assert [r() is None for r in refs] == [True] * 4
    assert loss.grad_fn is not None and x.grad is not None


def test_retain_graph_keeps_them():
    x, loss, refs = _chain(4, 64)
    loss.backward(retain_graph=True)
    once = x.grad.data.copy()
    gc.collect()
    assert all(r() is not None for r in refs)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * once)


def test_held_loss_memory_is_released():
    """A 4 x 2048^2 float32 chain: 64 MB of activations freed by backward, loss still held."""
    tracemalloc.start()
    try:
        x, loss, _ = _chain(4, 2048)
        loss.backward()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert loss.grad_fn is not None
    assert held < 40 * 2**20  # x and x.grad: 32 MB; every activation kept would be 96 MB


def test_history_of_losses_does_not_grow_with_activations():
    w = mg.tensor(np.ones((256, 256), np.float32), requires_grad=True)
    history, refs = [], []
    for _ in range(3):
        h = (w * 2.0).tanh()
        refs.append(weakref.ref(h.data))
        loss = (h * h).mean()
        loss.backward()
        history.append(loss)
        del h, loss
    gc.collect()
    assert [r() is None for r in refs] == [True] * 3


class _SavesBuffers(Function):
    """y = 3 x, saving a gradient buffer both ways a fused loss does."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        ctx.fused_grad = np.full_like(x, 3.0)
        ctx.pair = (np.ones_like(x), 7)
        ctx.save_for_backward(np.full_like(x, 3.0))
        ctx.scale = 3.0
        return x * 3.0

    @staticmethod
    def backward(ctx: Function, grad: mg.Tensor) -> mg.Tensor:
        return grad * mg.Tensor(ctx.fused_grad) * mg.Tensor(ctx.saved_tensors[0]) / 3.0


def test_saved_arrays_and_ctx_buffers_are_released():
    x = mg.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    y = _SavesBuffers.apply(x)
    node = y.grad_fn
    refs = [weakref.ref(node.fused_grad), weakref.ref(node.pair[0]), weakref.ref(node.saved[0])]
    loss = y.sum()
    del y
    loss.backward()
    gc.collect()
    np.testing.assert_allclose(x.grad.data, 3.0)
    assert [r() is None for r in refs] == [True] * 3
    assert node.fused_grad == Released((4, 3), np.dtype(np.float32))
    assert node.pair[1] == 7 and node.scale == 3.0  # settings stay, for drawing the graph
    assert repr(node.fused_grad) == "array(4, 3) float32"


def test_second_backward_still_says_freed():
    x, loss, _ = _chain(2, 4)
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    with pytest.raises(RuntimeError, match="a second time"):
        _ = loss.grad_fn.saved_tensors
    with pytest.raises(RuntimeError, match="a second time"):
        _ = loss.grad_fn.next_functions[0][0].output


def test_freed_graph_keeps_edges_shapes_and_leaves():
    x = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    c = mg.tensor(np.ones(3, np.float32))
    h = x * c
    loss = h.exp().sum()
    mul = h.grad_fn
    del h
    loss.backward()
    exp = loss.grad_fn.next_functions[0][0]
    assert exp.next_functions == ((mul, 0),)
    (inp,) = exp.inputs
    assert inp.shape == (2, 3) and inp.dtype == np.float32 and inp.requires_grad
    assert mul.inputs[0] is x and mul.inputs[1] is c  # leaves are the user's: kept


def test_retain_grad_tensors_stay_reachable():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    loss = h.exp().sum()
    ref = weakref.ref(h)
    del h
    loss.backward()
    gc.collect()
    assert ref() is not None and ref().grad is not None


def test_hooks_on_dropped_intermediates_still_run_in_that_backward():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    seen = []
    h = x * 2.0
    h.register_hook(lambda g: seen.append(g.data.copy()))
    loss = (h * h).sum()
    del h
    loss.backward()
    np.testing.assert_allclose(seen[0], [4.0, 4.0, 4.0])


@pytest.mark.parametrize("loss_fn", ["cross_entropy", "mse_loss", "binary_cross_entropy_with_logits"])
def test_fused_losses_drop_their_buffers(loss_fn):
    F = mg.nn.functional
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(8, 3)).astype(np.float32), requires_grad=True)
    target = {"cross_entropy": mg.tensor(rng.integers(0, 3, 8)),
              "mse_loss": mg.tensor(rng.normal(size=(8, 3)).astype(np.float32)),
              "binary_cross_entropy_with_logits": mg.tensor((rng.random((8, 3)) > 0.5)
                                                            .astype(np.float32))}[loss_fn]
    loss = getattr(F, loss_fn)(x, target)
    node = loss.grad_fn
    arrays = [k for k, v in vars(node).items() if isinstance(v, np.ndarray)] + (
        ["saved"] if any(isinstance(v, np.ndarray) for v in node.saved) else [])
    assert arrays, "the fused loss should hold arrays before backward"
    loss.backward()

    def holds_array(value):
        if isinstance(value, tuple | list):
            return any(holds_array(v) for v in value)
        return isinstance(value, np.ndarray | mg.Tensor) and not isinstance(value, Released)

    kept = [k for k, v in vars(node).items() if k != "inputs" and holds_array(v)]
    assert kept == []
    assert x.grad is not None
