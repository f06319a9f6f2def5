"""The backward engine: reverse-mode autodiff by the chain rule, in topological order.

``loss.backward()`` works in three steps:

1. Collect every graph node reachable from the loss and order them so that each node
   comes before the nodes that produced its inputs (reverse topological order). The
   walk uses an explicit stack, so a chain of 100,000 ops needs no recursion.
2. Visit the nodes in that order. Each node's output gradient is complete by then
   (every consumer has already added its part), so call its ``backward`` and hand
   each input its share. A value used twice (``a + a``) receives two shares, which
   add up: gradients *accumulate*.
3. Leaves (tensors made by the user with ``requires_grad=True``) add what reached
   them into ``.grad``. That is also why you must call ``zero_grad()`` between steps.
4. Unless ``retain_graph=True``, every node visited then drops its ctx (the op's saved
   arrays and output value) and the activations it took as inputs (``Node.release``),
   so a loss kept after backward does not keep the whole step in memory.

Step 2 for one node is ``node_step``: hooks, the op's backward (its fast path unless
``create_graph``), and fitting each gradient to its input. The graph pictures, the
backward frames and lesson 02 call the same function.

Every gradient an op returns has the shape of the op's (broadcast) output; it is
summed back to the input's shape here, in ``unbroadcast``, and cast to the input's
dtype, so no op has to do it itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..trace import TRACE
from . import anomaly
from .function import _FREED_MESSAGE, Node
from .grad_mode import set_grad_enabled

if TYPE_CHECKING:
    from ..tensor import Tensor


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape``.

    If ``y = x + b`` broadcast ``b`` of shape (3,) to (2, 3), every element of ``b``
    was used twice, so its gradient is the sum over the stretched axis.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise RuntimeError(f"cannot unbroadcast a gradient of shape {grad.shape} to {shape}")
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def topological_order(roots: Iterable[Node]) -> list[Node]:
    """Graph nodes reachable from ``roots``, each before the nodes that made its inputs."""
    order: list[Node] = []
    visited: set[int] = set()
    for root in roots:
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for t in reversed(node.inputs):
                if t.grad_fn is not None and id(t.grad_fn) not in visited:
                    stack.append((t.grad_fn, False))
    order.reverse()
    return order


def _fit(grad: Tensor, inp: Tensor, node: Node, i: int) -> Tensor:
    """Bring an input gradient to the input's shape and dtype, or explain why it can't."""
    if grad.shape != inp.shape:
        try:
            grad = unbroadcast(grad, inp.shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(
                f"{node.name}Backward returned a gradient of shape {grad.shape} for input {i}, "
                f"which has shape {inp.shape}; a backward must return one gradient per input, "
                f"of the input's shape or of a shape that broadcasts to it."
            ) from None
    if grad.dtype != inp.dtype:
        grad = grad.to(inp.dtype)
    return grad


def node_step(node: Node, grad: Tensor, create_graph: bool = False) -> tuple[Tensor, list[Tensor | None]]:
    """One step of the backward pass, for one node whose output gradient ``grad`` is complete.

    1. Run the hooks registered on the node's output (they may replace ``grad``).
    2. Run the op's backward: its declared fast path on arrays (``fast_backward``) when no
       graph of the backward is wanted, else the readable Tensor-op ``backward`` (recorded,
       so it can be differentiated again). The engine chooses; the op never reads grad mode.
    3. Fit each input's gradient to that input's shape (``unbroadcast``) and dtype.

    Returns the output's gradient after its hooks and one gradient per input (None where the
    op gave none or the input needs none). ``run_backward``, ``viz`` and lesson 02 all call it.
    """
    ctx = node.ctx
    if ctx is None:
        raise RuntimeError(_FREED_MESSAGE.format(name=node.name))
    out = node.out_ref()
    if out is not None and out._hooks:
        grad = out._run_hooks(grad)
    if TRACE.recorder is None:
        grads = _run_backward(node.op, ctx, grad, create_graph)
    else:
        grads = TRACE.recorder.backward(node, grad, create_graph, _run_backward)
    inputs = node.inputs
    if len(grads) != len(inputs):
        raise RuntimeError(f"{node.name}.backward returned {len(grads)} gradients for "
                           f"{len(inputs)} inputs")
    if anomaly.STATE.enabled:
        anomaly.check_backward(node, grads)
    fitted: list[Tensor | None] = []
    for i, g in enumerate(grads):
        inp = inputs[i]
        if g is None or not inp.requires_grad:
            fitted.append(None)
        elif g.data.shape == inp.data.shape and g.data.dtype is inp.data.dtype:
            fitted.append(g)
        else:
            fitted.append(_fit(g, inp, node, i))
    return grad, fitted


def _run_backward(op: type, ctx: object, grad: Tensor, create_graph: bool) -> tuple[Tensor | None, ...]:
    """The op's gradients for its inputs: its fast path on arrays unless a graph of the
    backward is wanted (or the op has none), else its readable Tensor-op ``backward``."""
    if create_graph or op.fast_backward is None:
        grads = op.backward(ctx, grad)
        return grads if type(grads) is tuple else (grads,)
    return _as_tensors(op.fast_backward(ctx, grad.data))


def _as_tensors(grads: np.ndarray | None | tuple[np.ndarray | None, ...]) -> tuple[Tensor | None, ...]:
    """A fast path's arrays as Tensors (constants: the fast path records nothing)."""
    from ..tensor import Tensor

    if type(grads) is not tuple:
        return (None if grads is None else Tensor.make(grads),)
    return tuple([None if g is None else Tensor.make(g) for g in grads])


def _check_root_grad(t: Tensor, g: Tensor | None) -> Tensor:
    from ..tensor import Tensor

    if not t.requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: "
            "nothing to differentiate. Create leaves with requires_grad=True and do not "
            "compute the loss inside no_grad()."
        )
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {t.shape}; reduce it first (e.g. .sum() or .mean()) or pass "
                f"gradient= of shape {t.shape}."
            )
        return Tensor.make(np.ones(t.shape, dtype=t.dtype))
    if not isinstance(g, Tensor):
        g = Tensor(np.asarray(g, dtype=t.dtype))
    if g.shape != t.shape:
        raise RuntimeError(
            f"backward: the gradient has shape {g.shape} but the output has shape {t.shape}; "
            f"they must match."
        )
    return g


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor | None],
    retain_graph: bool | None = None,
    create_graph: bool = False,
    capture: Sequence[Tensor] | None = None,
) -> dict[int, Tensor]:
    """Backpropagate from ``outputs``; accumulate into leaves' ``.grad``, or, when
    ``capture`` is given, return the gradients of those tensors instead (``grad()``).
    Non-leaves that ``retain_grad()`` get their ``.grad`` either way, as in PyTorch."""
    if retain_graph is None:
        retain_graph = create_graph
    roots = [_check_root_grad(t, g) for t, g in zip(outputs, grad_outputs)]
    node_grads: dict[Node, Tensor] = {}
    leaf_grads: dict[int, list] = {}

    def send(t: Tensor, g: Tensor) -> None:
        fn = t.grad_fn
        if fn is None:
            entry = leaf_grads.get(id(t))
            if entry is None:
                leaf_grads[id(t)] = [t, g]
            else:
                entry[1] = entry[1] + g
        else:
            prev = node_grads.get(fn)
            node_grads[fn] = g if prev is None else prev + g

    captured: dict[int, Tensor] = {}
    capture_nodes = {id(t.grad_fn): t for t in capture or () if t.grad_fn is not None}
    done: list[Node] = []
    with set_grad_enabled(create_graph):
        for t, g in zip(outputs, roots):
            send(t, g)
        for node in topological_order(t.grad_fn for t in outputs if t.grad_fn is not None):
            grad = node_grads.pop(node, None)
            if grad is None:
                continue
            grad, grads = node_step(node, grad, create_graph)
            out = node.out_ref()
            if out is not None and out._retains_grad:
                out._accumulate(grad, create_graph)
            if id(node) in capture_nodes:
                captured[id(capture_nodes[id(node)])] = grad
            for inp, g in zip(node.inputs, grads):
                if g is not None:
                    send(inp, g)
            done.append(node)
        for t, g in leaf_grads.values():
            g = t._run_hooks(g)
            if capture is None:
                t._accumulate(g, create_graph)
            else:
                captured[id(t)] = g
    if not retain_graph:
        release(done)
    return captured


def release(nodes: list[Node]) -> None:
    """Free what each node saved (``Node.release``), with the garbage collector paused:
    releasing makes a few small records per node, and on a large graph every automatic
    collection they trigger would walk the whole graph again (3x the cost at 100,000 ops)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        for node in nodes:
            node.release()
    finally:
        if enabled:
            gc.enable()


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (``torch.autograd.backward``)."""
    from ..tensor import Tensor

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not isinstance(grad_tensors, list | tuple):
        grad_tensors = [grad_tensors] * len(tensors)
    if inputs is None:
        run_backward(tensors, grad_tensors, retain_graph, create_graph)
        return
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    grads = run_backward(tensors, grad_tensors, retain_graph, create_graph, capture=inputs)
    for t in inputs:
        if id(t) in grads and not t._retains_grad:
            t._accumulate(grads[id(t)], create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad`` (``torch.autograd.grad``).

    With ``create_graph=True`` the returned gradients are themselves part of a graph,
    so they can be differentiated again (Hessian-vector products, gradient penalties).
    """
    from ..tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not isinstance(grad_outputs, list | tuple):
        grad_outputs = [grad_outputs] * len(outputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    captured = run_backward(outputs, grad_outputs, retain_graph, create_graph, capture=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = captured.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it."
            )
        result.append(g)
    return tuple(result)
