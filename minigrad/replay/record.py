"""Recording: watch one eager step and write down its array-level calls, in order.

While a ``Recorder`` is ``TRACE.recorder`` the engine reports to it (``minigrad.trace``):

    forward     an op's ``forward(ctx, *arrays)``: the arrays it read, the array it made
    backward    a node's backward (its fast path, or its Tensor-op ``backward`` as one call)
    grad        a gradient reaching a leaf (``Tensor._accumulate``): the leaf's ``.grad``
    optimizer   ``optimizer.step()``: reads every gradient, updates parameters and state
    call        a function replayed whole (``clip_grad_norm_``)

Only the outermost call is an event: the Tensor ops inside a backward, or the kernels inside
an optimizer's step, belong to it (``depth``). Every array seen is kept alive until the
recording is dropped, so ``id(array)`` names one array for the whole recording.

What a replay could not repeat (a hook's Python code, ``.item()``, a scheduler's step,
``create_graph``) is noted in ``problems``; the eager step still finishes normally, and
``capture`` raises afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..tensor import Tensor


def _root(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory (``a`` itself unless it is a view)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class CaptureError(RuntimeError):
    """The step does something a replay cannot repeat; the message says what and what to do."""


@dataclass(eq=False)
class Event:
    """One array-level call of the eager step.

    ``reads`` and ``writes`` are the arrays (``writes`` may hold None: an input that got no
    gradient); ``op`` is the Function class (forward, backward), ``ctx`` the call's ctx (a
    backward finds its forward by it; for an optimizer, the step it ran), ``params`` the op's
    keyword settings, and ``target`` the leaf (grad), optimizer or function (call) the event
    is about.
    """

    kind: str
    name: str
    reads: list[np.ndarray]
    writes: list[np.ndarray | None]
    op: type | None = None
    ctx: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    target: Any = None


class Recorder:
    """Collects the events of one eager call of the captured function."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.depth = 0
        self.problems: list[str] = []
        self.owners: dict[int, Tensor] = {}  # id(array) -> the Tensor holding it when first read
        self.leaf_grads: set[int] = set()  # id of each .grad array this recording made
        self.modules: dict[int, Any] = {}  # the Modules called, by id (their mode is Python state)
        self.snapshots: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id -> (array, its last known values)
        self.views: dict[int, list[np.ndarray]] = {}  # id of a base array -> the snapshotted arrays on it

    def refuse(self, what: str, hint: str = "") -> None:
        if self.depth == 0 and len(self.problems) < 8:
            self.problems.append(what + (f" ({hint})" if hint else ""))

    def module(self, module: Any) -> None:
        """A Module was called: its ``training`` flag chose its path (dropout, batch norm)."""
        if module._forward_pre_hooks or module._forward_hooks:
            self.refuse(f"a forward hook on {type(module).__name__}: its Python code")
        self.modules.setdefault(id(module), module)

    def _add(self, event: Event) -> None:
        """Append ``event`` after checking that no array it reads changed since an event last
        made or wrote it (or first read it): a change made by code no event saw, such as
        ``p.data -= lr * p.grad.data``, is one a replay would skip."""
        written = {id(a) for a in event.writes if a is not None}
        for a in event.reads:
            if id(a) not in written:
                self._check_unchanged(a)
        self.events.append(event)
        for w in event.writes:
            if w is not None:
                self._snapshot(w)
                for a in self.views[id(_root(w))]:  # views of the memory it wrote changed too
                    if a is not w:
                        self._snapshot(a)

    def _snapshot(self, a: np.ndarray) -> None:
        if id(a) not in self.snapshots:
            self.views.setdefault(id(_root(a)), []).append(a)
        self.snapshots[id(a)] = (a, a.copy())

    def _check_unchanged(self, a: np.ndarray) -> None:
        seen = self.snapshots.get(id(a))
        if seen is None:
            self._snapshot(a)
        elif not np.array_equal(a, seen[1], equal_nan=a.dtype.kind in "fc"):
            self.refuse(f"an array of shape {a.shape} changed outside any op (numpy on .data or "
                        ".grad.data, e.g. p.data -= lr * p.grad.data)",
                        "use an optimizer, Tensor ops or clip_grad_norm_, which a replay repeats")
            self._snapshot(a)

    def finish(self) -> None:
        """At the end of the call: the arrays the step touched must still hold what its events
        left in them."""
        for a, _ in list(self.snapshots.values()):
            self._check_unchanged(a)

    def forward(
        self, op: type, ctx: Any, inputs: tuple[Tensor, ...], params: dict[str, Any], out: np.ndarray
    ) -> None:
        if self.depth:
            return
        for t in inputs:
            self.owners.setdefault(id(t.data), t)
        self._add(Event("forward", op.__name__, [t.data for t in inputs], [out], op, ctx, dict(params)))

    def backward(
        self,
        node: Any,
        grad: Tensor,
        create_graph: bool,
        run: Callable[[type, Any, Tensor, bool], tuple[Tensor | None, ...]],
    ) -> tuple[Tensor | None, ...]:
        if create_graph:
            self.refuse("backward(create_graph=True)", "higher-order gradients are eager only")
        self.depth += 1
        try:
            grads = run(node.op, node.ctx, grad, create_graph)
        finally:
            self.depth -= 1
        if not self.depth:
            self._add(
                Event(
                    "backward",
                    node.name,
                    [grad.data],
                    [None if g is None else g.data for g in grads],
                    node.op,
                    node.ctx,
                )
            )
        return grads

    def accumulate(self, leaf: Tensor, grad: np.ndarray, before: Tensor | None) -> None:
        if self.depth:
            return
        if leaf.grad_fn is not None:
            self.refuse("retain_grad()", "read that gradient eagerly, without capture")
            return
        if before is not None and id(before.data) not in self.leaf_grads:
            self.refuse(
                "a gradient carried over from the previous call",
                "call optimizer.zero_grad() inside the captured function (set_to_none=True, the default)",
            )
            return
        result = leaf.grad.data
        self.leaf_grads.add(id(result))
        self.owners.setdefault(id(leaf.data), leaf)
        reads = [grad] if before is None else [result, grad]
        self._add(
            Event(
                "grad",
                leaf.label or "leaf",
                reads,
                [result],
                target=leaf,
                params={"shared": before is not None},
            )
        )

    def optimizer_step(self, optimizer: Any, closure: Any, run: Callable[[Any], Any]) -> Any:
        if closure is not None:
            self.refuse("optimizer.step(closure)", "call the closure's work in the captured function")
        if self.depth:
            return run(closure)
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        grads = [p.grad.data for p in params]
        self.depth += 1
        try:
            result = run(closure)
        finally:
            self.depth -= 1
        writes = [p.data for p in params]
        for p in params:
            self.owners.setdefault(id(p.data), p)
            writes += [v for v in optimizer.state.get(p, {}).values() if isinstance(v, np.ndarray)]
        self._add(
            Event(
                "optimizer",
                type(optimizer).__name__,
                grads,
                writes,
                ctx=run,
                target=optimizer,
                params={"params": params},
            )
        )
        return result

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A function replayed whole: iterators among its arguments become lists (a replay
        calls it again with the same arguments)."""
        args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)
        if self.depth:
            return fn(*args, **kwargs)
        grads = [
            p.grad.data
            for a in args
            if isinstance(a, list)
            for p in a
            if isinstance(p, Tensor) and p.grad is not None
        ]
        self.depth += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        writes: list[np.ndarray | None] = list(grads)
        writes.append(result.data if isinstance(result, Tensor) else None)
        self._add(
            Event("call", fn.__name__, grads, writes, target=fn, params={"args": args, "kwargs": kwargs})
        )
        return result
