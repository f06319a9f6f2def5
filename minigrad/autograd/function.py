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

``apply`` runs ``forward`` and, when any input requires grad and grad mode is on, keeps
the Function instance as the output's ``grad_fn``: the instance *is* the graph node and
the ``ctx``. It remembers its inputs in order (``a + a`` lists ``a`` twice), a creation
sequence number, what ``forward`` saved, and the output's value. A backward without
``retain_graph`` then drops those values (``release``; the graph's edges stay), as PyTorch
frees its saved tensors.

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
from . import anomaly
from .grad_mode import STATE

_sequence = itertools.count()


class Function:
    """Base class of every differentiable op; instances are graph nodes (``grad_fn``)."""

    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    fast_backward: Callable[..., np.ndarray | None | tuple[np.ndarray | None, ...]] | None = None
    """Optional fast path: ``fast_backward(ctx, grad: ndarray)`` returns the same gradients as
    ``backward`` as arrays; the engine uses it whenever ``create_graph`` is off."""

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
        ctx.saved = ()
        needs = tuple([t.requires_grad for t in inputs]) if STATE.grad_enabled else ()
        record = True in needs
        ctx.needs_input_grad = needs
        data = cls.forward(ctx, *[t.data for t in inputs], **params)
        out = Tensor._make(data)
        if record:
            ctx.inputs = inputs
            ctx.seq = next(_sequence)
            ctx.out_data = data
            ctx.out_ref = weakref.ref(out)
            ctx.freed = False
            out.requires_grad = True
            out.grad_fn = ctx
        if anomaly.STATE.enabled:
            anomaly.check_forward(ctx, inputs, out, record)
        return out

    def release(self) -> None:
        """Drop every value this node holds, after a backward without ``retain_graph``.

        What ``forward`` saved (``save_for_backward`` and any array or Tensor it set on
        ``ctx``, such as a fused loss's gradient buffer), the output's value, and the inputs
        made by other ops (activations), unless kept for ``retain_grad``: each is replaced by
        a ``Released`` record of its shape and dtype. The edges of the graph stay (each
        input's ``grad_fn``), so a second backward still finds this node and says it was
        freed. Without this, holding the loss (``history.append(loss)``) keeps every
        activation of the step alive, as every node refers to its inputs."""
        self.freed = True
        self.saved = ()
        self.out_data = Released.of(self.out_data)
        self.inputs = tuple(t if _kept(t) else ReleasedTensor(t) for t in self.inputs)
        for key, value in list(vars(self).items()):
            if key not in _BOOKKEEPING:
                setattr(self, key, _release_value(value))

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or Tensors) that ``backward`` will need; read them as ``saved_tensors``."""
        self.saved = values

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        if getattr(self, "freed", False):
            raise RuntimeError(_FREED_MESSAGE.format(name=self.name))
        return self.saved

    @property
    def output(self) -> Tensor:
        """The Tensor this node produced (a constant copy of its value if it was dropped)."""
        out = self.out_ref()
        if out is not None:
            return out
        if self.freed:
            raise RuntimeError(_FREED_MESSAGE.format(name=self.name))
        return Tensor._make(self.out_data)

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[tuple[Function | None, int], ...]:
        """PyTorch-style view of the graph: the grad_fn of each input (None for leaves)."""
        return tuple((t.grad_fn, 0) for t in self.inputs)

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


_FREED_MESSAGE = (
    "{name}: trying to backward through the graph a second time (or to read saved values "
    "after they were freed). Saved intermediate values are freed after .backward() to save "
    "memory; pass retain_graph=True to the first backward() if you need to go through the "
    "graph again."
)


_BOOKKEEPING = frozenset({"inputs", "needs_input_grad", "seq", "out_ref", "out_data", "freed",
                          "saved", "trace"})


class Released(NamedTuple):
    """The shape and dtype of an array that backward freed: enough to describe and draw
    the graph (``array(5, 1) int64``), not the values."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @classmethod
    def of(cls, value: Any) -> Any:
        return cls(value.shape, value.dtype) if isinstance(value, np.ndarray | Tensor) else value

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

    __slots__ = ("data", "grad_fn", "requires_grad", "label")
    grad = None
    _retains_grad = False

    def __init__(self, t: Tensor) -> None:
        self.data = Released(t.shape, t.dtype)
        self.grad_fn = t.grad_fn
        self.requires_grad = t.requires_grad
        self.label = t.label

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return len(self.data.shape)

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
