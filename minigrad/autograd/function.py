"""Function: one differentiable operation, and the graph node it leaves behind.

An op is a subclass with two static methods side by side::

    class Exp(Function):
        '''d/dx exp(x) = exp(x)'''
        @staticmethod
        def forward(ctx, x):            # numpy arrays in, numpy array out
            return np.exp(x)
        @staticmethod
        def backward(ctx, grad):        # Tensors in, Tensors out
            return grad * ctx.output

``forward`` computes the value with numpy. ``backward`` gets the gradient of the loss
with respect to the output and returns one gradient per input (or None). It is written
with Tensor operations, so when the engine runs it with grad mode on
(``create_graph=True``) the backward pass is itself recorded and can be differentiated
again: that is how higher-order gradients come for free.

An op may also declare a **fast path**, ``fast_backward(ctx, grad)``: the same gradients
computed on numpy arrays (a fused numpy or Numba kernel), arrays in and arrays out. The
engine, not the op, chooses: it calls ``fast_backward`` when ``create_graph`` is off and
``backward`` otherwise, so ``backward`` is always present, always the page a learner
reads, and the one every second derivative goes through. No op reads grad mode.

``apply`` runs ``forward`` with a fresh ``ctx`` (an instance of the op's class) that keeps
what the op saved: ``save_for_backward`` and any attribute ``forward`` sets (``ctx.dim``).
When any input requires grad and grad mode is on, it also records a graph ``Node``, the
output's ``grad_fn``: the engine's bookkeeping (the inputs in order, ``a + a`` listing ``a``
twice; a creation sequence number; a weak reference to the output) and the ``ctx``. A
backward without ``retain_graph`` then drops the ctx (``Node.release``): what the op saved,
its output's value and the activations among its inputs become unreachable, and the edges
of the graph stay, as PyTorch frees its saved tensors.

Gradients come back with the *output's* (broadcast) shape; summing them back to each
input's shape happens once, in the engine (see ``engine.unbroadcast``), not in each op.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Tensor
from ..trace import TRACE
from . import anomaly
from .grad_mode import STATE

_sequence = itertools.count()


class Function:
    """Base class of every differentiable op; an instance is the ``ctx`` of one call.

    The ctx keeps only what the op keeps: its public attributes are what ``forward`` set,
    ``saved_tensors`` what it saved. ``inputs``, ``needs_input_grad`` and ``output`` are read
    through it for convenience; the graph itself is the ``Node`` (``tensor.grad_fn``).
    """

    fast_backward: Callable[..., np.ndarray | None | tuple[np.ndarray | None, ...]] | None = None
    """Optional fast path: ``fast_backward(ctx, grad: ndarray)`` returns the same gradients as
    ``backward`` as arrays; the engine uses it whenever ``create_graph`` is off."""

    # Slots: what every call has. They are not in ``vars(ctx)``, which therefore holds
    # exactly the attributes the op's forward set (what the graph pictures show).
    __slots__ = ("inputs", "needs_input_grad", "saved_tensors", "out_data", "_out_ref", "__dict__")
    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[Any, ...]
    out_data: np.ndarray | None

    @staticmethod
    def forward(ctx: Function, *args: Any, **params: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor | None | tuple[Tensor | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays and record a graph node if needed."""
        ctx = cls.__new__(cls)
        ctx.saved_tensors = ()
        ctx.inputs = inputs
        needs = tuple([t.requires_grad for t in inputs]) if STATE.grad_enabled else ()
        record = True in needs
        ctx.needs_input_grad = needs
        data = cls.forward(ctx, *[t.data for t in inputs], **params)
        out = Tensor.make(data)
        if record:
            ctx.out_data = out.data
            ctx._out_ref = weakref.ref(out)
            out.requires_grad = True
            out.grad_fn = Node(cls, ctx, inputs, ctx._out_ref)
        if anomaly.STATE.enabled:
            anomaly.check_forward(cls.__name__, out.grad_fn, inputs, out)
        if TRACE.recorder is not None:
            TRACE.recorder.forward(cls, ctx, inputs, params, out.data)
        return out

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or Tensors) that ``backward`` will need; read them as ``saved_tensors``.

        ``inputs`` are the call's input Tensors in order; ``needs_input_grad`` says which need
        a gradient (empty when nothing is recorded: under ``no_grad``, or when no input
        requires grad), so a fused forward computes a gradient only if it is not empty."""
        self.saved_tensors = values

    @property
    def output(self) -> Tensor:
        """The Tensor this call produced, or a new Tensor wrapping its value (sharing the
        array, not a copy) if the user dropped it."""
        out = self._out_ref()
        return out if out is not None else Tensor.make(self.out_data)

    @property
    def name(self) -> str:
        return type(self).__name__


class Node:
    """A recorded op in the graph (``tensor.grad_fn``): the engine's bookkeeping plus the ctx.

    ``op`` is the Function class, ``ctx`` what its forward saved (None once freed),
    ``inputs`` the input Tensors in order, ``seq`` a global creation counter (sort by it for
    a deterministic order), ``out_ref`` a weak reference to the output, and ``trace`` where
    it was created (only under anomaly mode).
    """

    __slots__ = ("op", "ctx", "inputs", "seq", "out_ref", "trace", "_released_out", "_released_attrs",
                 "__weakref__")

    def __init__(self, op: type[Function], ctx: Function, inputs: tuple[Tensor, ...],
                 out_ref: weakref.ref) -> None:
        self.op = op
        self.ctx: Function | None = ctx
        self.inputs = inputs
        self.seq = next(_sequence)
        self.out_ref = out_ref
        self.trace: str | None = None

    @property
    def name(self) -> str:
        return self.op.__name__

    @property
    def freed(self) -> bool:
        """True after a backward without ``retain_graph`` dropped the ctx."""
        return self.ctx is None

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        return self._ctx().saved_tensors

    @property
    def out_data(self) -> np.ndarray | Released:
        """The output's value, or its shape and dtype once freed (enough to draw it)."""
        return self._released_out if self.ctx is None else self.ctx.out_data

    @property
    def attrs(self) -> dict[str, Any]:
        """The op's settings, as forward set them on the ctx (``dim``, ``keepdim``...); once
        freed, the same names with each array replaced by its ``Released`` shape and dtype."""
        return self._released_attrs if self.ctx is None else dict(vars(self.ctx))

    @property
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        """PyTorch-style view of the graph: the grad_fn of each input (None for leaves)."""
        return tuple((t.grad_fn, 0) for t in self.inputs)

    def _ctx(self) -> Function:
        if self.ctx is None:
            raise RuntimeError(_FREED_MESSAGE.format(name=self.name))
        return self.ctx

    def release(self) -> None:
        """Drop the ctx after a backward without ``retain_graph``.

        Everything the op saved goes with it (``save_for_backward``, a fused loss's gradient
        buffer, the output's value), and each input made by another op (an activation) is
        replaced by a ``ReleasedTensor`` (its ``grad_fn``, shape and dtype), unless kept for
        ``retain_grad``. The edges stay, so a second backward still finds this node and says
        it was freed. Without this, holding the loss (``history.append(loss)``) would keep
        every activation of the step alive, as every node refers to its inputs."""
        ctx = self.ctx
        if ctx is None:
            return
        self._released_out = Released.of(ctx.out_data)
        settings = vars(ctx)
        self._released_attrs = {k: _release_value(v) for k, v in settings.items()} if settings else {}
        self.ctx = None
        self.inputs = tuple([t if _kept(t) else ReleasedTensor(t) for t in self.inputs])

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


_FREED_MESSAGE = (
    "{name}: trying to backward through the graph a second time (or to read saved values "
    "after they were freed). Saved intermediate values are freed after .backward() to save "
    "memory; pass retain_graph=True to the first backward() if you need to go through the "
    "graph again."
)


class Released(NamedTuple):
    """The shape and dtype of an array that backward freed: enough to describe and draw
    the graph (``array(5, 1) int64``), not the values."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @classmethod
    def of(cls, value: Any) -> Any:
        return cls(value.shape, value.dtype) if isinstance(value, (np.ndarray, Tensor)) else value

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        dims = ", ".join(str(n) for n in self.shape) + ("," if len(self.shape) == 1 else "")
        return f"array({dims}) {self.dtype}"


class ReleasedTensor:
    """Stands for an input of a freed node: its place in the graph (``grad_fn``) and its
    shape and dtype, without its values (``data`` is a ``Released`` record)."""

    __slots__ = ("shape", "dtype", "grad_fn", "requires_grad", "label")
    grad = None
    _retains_grad = False

    def __init__(self, t: Tensor) -> None:
        data = t.data
        self.shape, self.dtype = data.shape, data.dtype
        self.grad_fn = t.grad_fn
        self.requires_grad = t.requires_grad
        self.label = t.label

    @property
    def data(self) -> Released:
        return Released(self.shape, self.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def __repr__(self) -> str:
        return f"<released tensor {self.data!r}>"


def _kept(t: Tensor) -> bool:
    """Inputs a freed node keeps: leaves (parameters, data and constants: tensors the user
    made, which PyTorch's graph also reaches for parameters) and tensors whose gradient was
    asked for with ``retain_grad`` (``viz.trace_grads`` draws them after backward)."""
    return t.grad_fn is None or t._retains_grad


def _release_value(value: Any) -> Any:
    if type(value) in (tuple, list):
        return type(value)(_release_value(v) for v in value)
    return Released.of(value)
