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
from minigrad.autograd.engine import topological_order
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
    ctx = weakref.ref(node.ctx)
    refs = [weakref.ref(node.ctx.fused_grad), weakref.ref(node.ctx.pair[0]),
            weakref.ref(node.saved_tensors[0]), weakref.ref(node.out_data)]
    loss = y.sum()
    del y
    loss.backward()
    gc.collect()
    np.testing.assert_allclose(x.grad.data, 3.0)
    assert node.freed and node.ctx is None and ctx() is None
    assert [r() is None for r in refs] == [True] * 4
    assert node.attrs["fused_grad"] == Released((4, 3), np.dtype(np.float32))
    assert node.attrs["pair"][1] == 7 and node.attrs["scale"] == 3.0  # settings stay, for drawing
    assert repr(node.attrs["fused_grad"]) == "array(4, 3) float32"
    assert node.out_data == Released((4, 3), np.dtype(np.float32))


def test_second_backward_still_says_freed():
    x, loss, _ = _chain(2, 4)
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    with pytest.raises(RuntimeError, match="a second time"):
        _ = loss.grad_fn.saved_tensors
    assert loss.grad_fn.next_functions[0][0].ctx is None


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


def _arrays(value: object, found: list[np.ndarray]) -> list[np.ndarray]:
    """Every numpy array inside ``value`` (a Tensor's data, tuples and lists walked)."""
    if isinstance(value, mg.Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        found.append(value)
    elif isinstance(value, tuple | list):
        for v in value:
            _arrays(v, found)
    return found


def _fused_step() -> tuple[mg.Tensor, list[mg.Tensor]]:
    """Linear(relu) -> Linear -> cross-entropy + MSE + BCE-with-logits + NLL: every fused op
    of a training step, on float32 (the kernels' dtype)."""
    F = mg.nn.functional
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(8, 5)).astype(np.float32))
    w1 = mg.tensor(rng.normal(size=(6, 5)).astype(np.float32), requires_grad=True)
    w2 = mg.tensor(rng.normal(size=(3, 6)).astype(np.float32), requires_grad=True)
    b2 = mg.tensor(np.zeros(3, np.float32), requires_grad=True)
    y = mg.tensor(rng.integers(0, 3, 8))
    t = mg.tensor(rng.random((8, 3)).astype(np.float32))
    logits = F.linear(F.relu(F.linear(x, w1)), w2, b2)
    loss = (F.cross_entropy(logits, y) + F.mse_loss(logits, t)
            + F.binary_cross_entropy_with_logits(logits, t) + F.nll_loss(logits.log_softmax(1), y))
    return loss, [x, w1, w2, b2, y, t]


def test_every_freed_node_holds_no_saved_array_buffer_or_output_value():
    """The 'freed' message is true: after backward, the arrays each node's ctx saved (fused
    gradient buffers included) and each output value are unreachable, the loss still held."""
    loss, leaves = _fused_step()
    owned = {id(t.data) for t in leaves} | {id(loss.data)}  # the user's: leaves, the held loss
    nodes = topological_order([loss.grad_fn])
    refs = [(node.name, weakref.ref(a)) for node in nodes
            for a in _arrays([node.saved_tensors, list(node.attrs.values()), node.out_data], [])
            if id(a) not in owned]
    assert {name for name, _ in refs} >= {"LinearAct", "CrossEntropy", "PointwiseLoss",
                                          "BinaryCrossEntropyWithLogits", "NLL"}
    loss.backward()
    gc.collect()
    assert [name for name, r in refs if r() is not None] == []
    assert all(node.freed for node in nodes)
    assert loss.grad_fn is not None and all(t.grad is not None for t in leaves if t.requires_grad)
