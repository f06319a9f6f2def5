"""Tensor: a numpy array plus what autograd needs to differentiate through it.

``data`` holds the values (a numpy array). ``requires_grad`` says whether gradients
should flow to it. Every op on tensors that require grad leaves a node in the graph,
reachable through ``grad_fn``; ``backward()`` walks that graph and fills ``.grad``.
Leaves are the tensors you made yourself (``grad_fn is None``): parameters and inputs.

The methods here are thin: each calls a Function from ``minigrad.ops`` (where the maths
and the derivatives live), so ``x.exp()`` and ``minigrad.exp(x)`` are the same op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import dtypes
from .trace import TRACE, refuse

Number = int | float | bool


def _infer_array(data: Any, dtype: Any = None) -> np.ndarray:
    """numpy array for ``data`` with PyTorch's default dtypes (float32 for Python floats)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    if isinstance(data, np.ndarray | np.generic):
        return np.array(data)
    arr = np.array(data)
    if arr.dtype.kind == "f":
        return arr.astype(dtypes.get_default_dtype(), copy=False)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "b":
        return arr
    raise TypeError(f"tensor: cannot build a tensor from {type(data).__name__} ({arr.dtype})")


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "_hooks", "_retains_grad",
                 "label", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _infer_array(data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._hooks: list[Callable] | None = None
        self._retains_grad = False
        self.label: str | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def make(cls, data: Any) -> Tensor:
        """Wrap an array as a Tensor without copying or checking: how ops build their results.

        ``Tensor(data)`` converts and copies (a user's list, a dtype to choose); an op already
        holds a fresh numpy array of the right dtype, so ``Tensor.make(array)`` just wraps it
        (the array is shared, not copied). The result is a constant: ``requires_grad=False``,
        no ``grad_fn``; ``Function.apply`` attaches the graph node."""
        t = object.__new__(cls)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = False
        t.grad_fn = None
        t._hooks = None
        t._retains_grad = False
        t.label = None
        return t

    # ------------------------------------------------------------------ properties
    @property
    def grad(self) -> Tensor | None:
        """The gradient that ``backward()`` accumulated into this tensor, or None."""
        return self._grad

    @grad.setter
    def grad(self, grad: Tensor | None) -> None:
        """Refuse, as PyTorch does, a gradient that is not a Tensor or that differs from this
        tensor in shape or dtype: optimizers update ``data`` element by element from ``grad``."""
        if grad is not None:
            if not isinstance(grad, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(grad).__name__}")
            if grad is self:
                raise RuntimeError("can't assign Variable as its own grad")
            if grad.dtype != self.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{grad.dtype}' to a tensor "
                                   f"with dtype '{self.dtype}'. Please ensure that the gradient and the "
                                   "tensor have the same dtype")
            if grad.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(grad.shape)}' to a "
                                   f"tensor of size '{list(self.shape)}'. Please ensure that the gradient "
                                   "and the tensor are the same size")
        self._grad = grad

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Shape as a tuple, or the length of one dimension (PyTorch's ``size``)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    @property
    def device(self) -> str:
        return "cpu"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        refuse("numpy(), which hands a value to Python")
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy()."
            )
        return self.data

    def item(self) -> Number:
        refuse("item(), which hands a value to Python")
        if self.data.size != 1:
            raise RuntimeError(
                f"item(): a Tensor with {self.data.size} elements cannot be converted to a scalar"
            )
        return self.data.item()

    def tolist(self) -> Any:
        refuse("tolist(), which hands a value to Python")
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """NumPy's conversion protocol: ``np.asarray(t)`` shares the tensor's memory, while
        ``np.array(t)`` (copy=True) must give a copy that can be written without changing
        the tensor. ``copy=False`` refuses a dtype change, which would need a copy."""
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self.data.copy() if copy else self.data
        if copy is False:
            raise ValueError(f"__array__: converting this {self.dtype} tensor to {np.dtype(dtype)} "
                             f"needs a copy, but copy=False was asked")
        return self.data.astype(dtype)

    def __float__(self) -> float:
        refuse("float(tensor), which hands a value to Python")
        return float(self.item())

    def __int__(self) -> int:
        refuse("int(tensor), which hands a value to Python")
        return int(self.item())

    def __bool__(self) -> bool:
        refuse("a Python branch on a tensor (bool(tensor)), which hands a value to Python")
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of a Tensor with {self.data.size} elements is ambiguous; "
                f"use .any() or .all()."
            )
        return bool(self.data.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.data.item())

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, prefix="tensor(")
        extras = []
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients, got {self.dtype}; "
                f"create it with dtype=minigrad.float32"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor; use .detach() to get a tensor "
                "outside the graph"
            )
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same values (shared memory), cut from the graph."""
        return Tensor.make(self.data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned
        tensor replaces the gradient. Returns a handle whose ``remove()`` undoes it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def _run_hooks(self, grad: Tensor) -> Tensor:
        if self._hooks:
            refuse("a tensor hook (register_hook): its Python code")
            for hook in list(self._hooks):
                result = hook(grad)
                if result is not None:
                    if not isinstance(result, Tensor) or result.shape != grad.shape:
                        raise RuntimeError(
                            f"hook {hook!r} returned {type(result).__name__} "
                            f"{getattr(result, 'shape', '')}; a hook must return None or a "
                            f"Tensor of the gradient's shape {grad.shape}"
                        )
                    grad = result
        return grad

    def _accumulate(self, grad: Tensor, create_graph: bool) -> None:
        """Add ``grad`` into ``.grad``.

        A ``.grad`` that is a constant is private to this tensor (a copy, or a fresh sum),
        so later accumulations add into it in place. Under ``create_graph`` a gradient that
        requires grad is stored as it is (it is part of a graph, and may be shared with other
        leaves, as ``a + b`` gives both the same one), so adding to it is always out of place.
        """
        before = self.grad
        if before is None:
            if create_graph and grad.requires_grad:
                self.grad = grad
            else:
                self.grad = Tensor.make(np.array(grad.data, dtype=self.dtype, copy=True))
        elif create_graph or before.requires_grad:
            self.grad = before + grad
        else:
            before.data += grad.data
        if TRACE.recorder is not None:
            TRACE.recorder.accumulate(self, grad.data, before)

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Sequence[Tensor] | None = None,
    ) -> None:
        """Compute d(self)/d(leaf) for every leaf and add it into ``leaf.grad``."""
        from .autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    def zero_(self) -> Tensor:
        refuse("Tensor.zero_(), an in-place write outside any op")
        self.data[...] = 0
        return self

    def fill_(self, value: Number) -> Tensor:
        refuse("Tensor.fill_(), an in-place write outside any op")
        self.data[...] = value
        return self

    def copy_(self, src: Tensor | np.ndarray) -> Tensor:
        refuse("Tensor.copy_(), an in-place write outside any op")
        self.data[...] = src.data if isinstance(src, Tensor) else src
        return self

    # ------------------------------------------------------------------ dtype
    def to(self, dtype: Any) -> Tensor:
        """Cast to ``dtype`` (differentiable between floating types)."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind != "f" and self.requires_grad:  # not differentiable: a constant result
            return _ew.Cast.apply(self.detach(), dtype=dtype)
        return _ew.Cast.apply(self, dtype=dtype)

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def clone(self) -> Tensor:
        return _ew.Clone.apply(self)

    def contiguous(self) -> Tensor:
        """``self`` if its elements lie in row-major order, else a row-major copy (as
        PyTorch), which ``view`` can then reshape freely."""
        return self if self.data.flags.c_contiguous else _ew.Clone.apply(self)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Tensor:
        return _ew.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ew.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ew.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ew.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ew.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ew.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ew.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ew.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ew.pow(other, self)

    def __neg__(self) -> Tensor:
        return _ew.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ew.Abs.apply(self)

    def __matmul__(self, other: Tensor) -> Tensor:
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _disc.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _disc.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _disc.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _disc.remainder(other, self)

    def __iadd__(self, other: Any) -> Tensor:
        return _inplace(self, other, np.add, "__iadd__")

    def __isub__(self, other: Any) -> Tensor:
        return _inplace(self, other, np.subtract, "__isub__")

    def __imul__(self, other: Any) -> Tensor:
        return _inplace(self, other, np.multiply, "__imul__")

    def __itruediv__(self, other: Any) -> Tensor:
        return _inplace(self, other, np.true_divide, "__itruediv__")

    def add(self, other: Any, alpha: Number = 1) -> Tensor:
        return _ew.add(self, other * alpha if alpha != 1 else other)

    def sub(self, other: Any, alpha: Number = 1) -> Tensor:
        return _ew.sub(self, other * alpha if alpha != 1 else other)

    def mul(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return _ew.div(self, other)

    def pow(self, exponent: Any) -> Tensor:
        return _ew.pow(self, exponent)

    def neg(self) -> Tensor:
        return -self

    def matmul(self, other: Tensor) -> Tensor:
        return _linalg.matmul(self, other)

    def add_(self, other: Any, alpha: Number = 1) -> Tensor:
        return _inplace(self, other * alpha if alpha != 1 else other, np.add, "add_")

    def sub_(self, other: Any, alpha: Number = 1) -> Tensor:
        return _inplace(self, other * alpha if alpha != 1 else other, np.subtract, "sub_")

    def mul_(self, other: Any) -> Tensor:
        return _inplace(self, other, np.multiply, "mul_")

    def div_(self, other: Any) -> Tensor:
        return _inplace(self, other, np.true_divide, "div_")

    def clamp_(self, min: Number | None = None, max: Number | None = None) -> Tensor:
        _check_inplace(self, "clamp_")
        np.clip(self.data, min, max, out=self.data)
        return self

    # ------------------------------------------------------------------ comparisons
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _disc.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _disc.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _disc.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _disc.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _disc.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _disc.ge(self, other)

    def __invert__(self) -> Tensor:
        return _disc.logical_not(self)

    def __and__(self, other: Any) -> Tensor:
        return _disc.logical_and(self, other)

    def __or__(self, other: Any) -> Tensor:
        return _disc.logical_or(self, other)

    def eq(self, other: Any) -> Tensor:
        return _disc.eq(self, other)

    def ne(self, other: Any) -> Tensor:
        return _disc.ne(self, other)

    def lt(self, other: Any) -> Tensor:
        return _disc.lt(self, other)

    def le(self, other: Any) -> Tensor:
        return _disc.le(self, other)

    def gt(self, other: Any) -> Tensor:
        return _disc.gt(self, other)

    def ge(self, other: Any) -> Tensor:
        return _disc.ge(self, other)

    def equal(self, other: Tensor) -> bool:
        return self.shape == other.shape and bool(np.array_equal(self.data, other.data))

    def allclose(self, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(np.allclose(self.data, np.asarray(other), rtol=rtol, atol=atol))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _disc.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _disc.argmin(self, dim, keepdim)

    def sign(self) -> Tensor:
        return _disc.sign(self)

    def round(self) -> Tensor:
        """Nearest integer, halves to even (as PyTorch); a constant for autograd."""
        return _disc.round(self)

    def floor(self) -> Tensor:
        return _disc.floor(self)

    def ceil(self) -> Tensor:
        return _disc.ceil(self)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _disc.all(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _disc.any(self, dim, keepdim)

    def isnan(self) -> Tensor:
        return _disc.isnan(self)

    def isinf(self) -> Tensor:
        return _disc.isinf(self)

    def isfinite(self) -> Tensor:
        return _disc.isfinite(self)

    # ------------------------------------------------------------------ elementwise
    def exp(self) -> Tensor:
        return _ew.Exp.apply(self)

    def log(self) -> Tensor:
        return _ew.Log.apply(self)

    def log1p(self) -> Tensor:
        return _ew.Log1p.apply(self)

    def sqrt(self) -> Tensor:
        return _ew.Sqrt.apply(self)

    def rsqrt(self) -> Tensor:
        return _comp.rsqrt(self)

    def square(self) -> Tensor:
        return _comp.square(self)

    def abs(self) -> Tensor:
        return _ew.Abs.apply(self)

    def sin(self) -> Tensor:
        return _ew.Sin.apply(self)

    def cos(self) -> Tensor:
        return _ew.Cos.apply(self)

    def tanh(self) -> Tensor:
        return _act.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return _act.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return _act.Relu.apply(self)

    def reciprocal(self) -> Tensor:
        return _comp.reciprocal(self)

    def clamp(self, min: Number | None = None, max: Number | None = None) -> Tensor:
        return _ew.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min: Number) -> Tensor:
        return _comp.clamp_min(self, min)

    def clamp_max(self, max: Number) -> Tensor:
        return _comp.clamp_max(self, max)

    def maximum(self, other: Tensor) -> Tensor:
        return _ew.maximum(self, other)

    def minimum(self, other: Tensor) -> Tensor:
        return _ew.minimum(self, other)

    def masked_fill(self, mask: Tensor, value: Number) -> Tensor:
        return _comp.masked_fill(self, mask, value)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        return _red.sum(self, dim if axis is None else axis, keepdim if keepdims is None else keepdims)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _red.mean(self, dim, keepdim)

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        """PyTorch's ``var(dim, unbiased, keepdim, *, correction)``; see ``ops.reduce.var``."""
        return _red.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        return _red.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return _red.reduce_max(self, dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return _red.reduce_min(self, dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _red.amax(self, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _red.amin(self, dim, keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return _red.logsumexp(self, dim, keepdim)

    def prod(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _red.prod(self, dim, keepdim)

    def cumsum(self, dim: int) -> Tensor:
        return _red.cumsum(self, dim)

    def norm(self, p: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _red.norm(self, p, dim, keepdim)

    def softmax(self, dim: int) -> Tensor:
        return _act.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _act.log_softmax(self, dim)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        return _shape.reshape(self, shape)

    def view(self, *shape: Any) -> Tensor:
        return _shape.view(self, shape)

    def view_as(self, other: Tensor) -> Tensor:
        return _shape.view(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _shape.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _comp.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        return _comp.unflatten(self, dim, sizes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _shape.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self.T

    def permute(self, *dims: Any) -> Tensor:
        return _shape.permute(self, dims)

    def expand(self, *shape: Any) -> Tensor:
        return _shape.expand(self, shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return _shape.expand(self, other.shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return _shape.expand(self, tuple(shape))

    def squeeze(self, dim: Any = None) -> Tensor:
        return _comp.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return _comp.unsqueeze(self, dim)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _comp.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return _comp.chunk(self, chunks, dim)

    def flip(self, dims: Any) -> Tensor:
        return _shape.flip(self, dims)

    def repeat(self, *sizes: Any) -> Tensor:
        return _comp.repeat(self, sizes)

    def __getitem__(self, index: Any) -> Tensor:
        return _idx.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _check_inplace(self, "__setitem__")
        if isinstance(value, Tensor):
            _check_setitem_value(value)
            value = value.data
        _idx.setitem(self.data, index, value)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        return _idx.gather(self, dim, index)

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        return _idx.index_select(self, dim, index)

    def masked_select(self, mask: Tensor) -> Tensor:
        return _idx.masked_select(self, mask)


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook out again."""

    def __init__(self, hooks: list, hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _check_inplace(t: Tensor, op: str) -> None:
    from .autograd.grad_mode import STATE

    refuse(f"{op}, an in-place write outside any op", "use the out-of-place op")
    if STATE.grad_enabled and t.requires_grad:
        kind = "a leaf Variable that requires grad" if t.grad_fn is None else "a graph tensor"
        raise RuntimeError(
            f"{op}: in-place change of {kind} (shape {t.shape}) would corrupt the gradient. "
            f"Do it inside minigrad.no_grad() (as optimizers do) or use the out-of-place op."
        )


def _check_setitem_value(value: Tensor) -> None:
    """Writing into a tensor is not recorded in the graph, so a value that requires grad
    would silently lose its gradient: refuse it instead."""
    from .autograd.grad_mode import STATE

    if STATE.grad_enabled and value.requires_grad:
        raise RuntimeError(
            f"__setitem__: the value (shape {value.shape}) requires grad, but writing into a "
            f"tensor is not differentiable here and its gradient would be lost. Build the "
            f"result out of place instead (minigrad.cat, minigrad.stack, minigrad.where), or "
            f"write value.detach() if no gradient should flow."
        )


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _category(value: Any) -> int:
    """bool < integer < floating < complex: PyTorch's type categories."""
    if isinstance(value, np.ndarray | np.generic):
        return _CATEGORY[value.dtype.kind]
    return 0 if isinstance(value, bool) else 1 if isinstance(value, int) else 2


def _inplace(t: Tensor, other: Any, ufunc: np.ufunc, op: str) -> Tensor:
    """``t op= other`` in t's own dtype. As in PyTorch, a result of a higher category
    (float into an int tensor, int into a bool one) is refused rather than truncated."""
    _check_inplace(t, op)
    value = other.data if isinstance(other, Tensor) else other
    needed = max(_category(value), 2 if ufunc is np.true_divide else 0)
    if needed > _CATEGORY[t.dtype.kind]:
        operand = getattr(value, "dtype", type(value).__name__)
        raise RuntimeError(
            f"{op}: with a {operand} operand the result is not {t.dtype} (and division always "
            f"gives floats), so it can't be stored in place in this {t.dtype} tensor of shape "
            f"{t.shape}. Use the out-of-place op, or convert first (x = x.float())."
        )
    ufunc(t.data, value, out=t.data, casting="unsafe")
    return t


# The op modules. tensor.py imports none of them: ``minigrad.ops`` binds them here when it
# is imported (``bind_ops``), so every op module can import ``Tensor`` in any order and
# there is no import cycle. ``import minigrad`` imports ``minigrad.ops``.
_act: Any = None
_comp: Any = None
_disc: Any = None
_ew: Any = None
_idx: Any = None
_linalg: Any = None
_red: Any = None
_shape: Any = None


def bind_ops(**modules: Any) -> None:
    """Give the Tensor methods their op modules (called once, by ``minigrad/ops/__init__.py``)."""
    globals().update({f"_{name}": module for name, module in modules.items()})
