"""Task 3: a `Tensor` of numbers (a numpy array) with the ops an MLP needs and their backward.

The same idea as `Value`, one level up: ``data`` is a numpy array, ``grad`` an array of the
same shape and dtype (None until a backward pass reaches it), and each op's ``_backward``
turns ``out.grad`` into its inputs' gradients with matrix calculus instead of scalar rules.

Broadcasting is where tensors differ: ``x (3, 4) + b (4,)`` uses each element of ``b`` three
times, so ``b``'s gradient is the **sum** of ``out.grad`` over the broadcast axis. That undoing
lives in one place, ``unbroadcast``, called by ``_accumulate``; every ``_backward`` hands its
full-size gradient to ``_accumulate`` and never thinks about broadcasting again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .value import topological_order


class Tensor:
    """An n-dimensional array that records the ops applied to it, for reverse-mode autodiff."""

    def __init__(self, data: np.ndarray | float | list, requires_grad: bool = False,
                 _children: tuple[Tensor, ...] = (), _op: str = "") -> None:
        array = np.asarray(data)
        self.data: np.ndarray = array if array.dtype.kind == "f" else array.astype(np.float32)
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self._backward: Callable[[], None] = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        return self.data

    def __repr__(self) -> str:
        return f"Tensor({self.data!r}, requires_grad={self.requires_grad})"

    def _lift(self, other: Tensor | float | np.ndarray) -> Tensor:
        """``other`` as a `Tensor`; a plain number or array becomes a constant of this tensor's dtype."""
        return other if isinstance(other, Tensor) else Tensor(np.asarray(other, dtype=self.dtype))

    # ---------------------------------------------------------------- given: built from task 3's ops
    def __radd__(self, other: float | np.ndarray) -> Tensor:
        return self + other

    def __rmul__(self, other: float | np.ndarray) -> Tensor:
        return self * other

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other: Tensor | float | np.ndarray) -> Tensor:
        return self + (-self._lift(other))

    @property
    def T(self) -> Tensor:
        """The transpose of a matrix: ``self.transpose(0, 1)``."""
        return self.transpose(0, 1)

    # ---------------------------------------------------------------- task 3
    def _accumulate(self, grad: np.ndarray) -> None:
        """Task 3: add ``grad`` (the gradient flowing into this tensor from one use of it) to
        ``self.grad``, after undoing broadcasting.

        ``grad`` has the shape of the op's output, which may be larger than ``self.shape``
        when the op broadcast this tensor: reduce it with ``unbroadcast(grad, self.shape)``,
        cast it to ``self.dtype``, then store a copy if ``self.grad`` is None, else add it
        (``+=``: a tensor used twice gets the sum of both gradients).
        """
        raise NotImplementedError("task 3: Tensor._accumulate")

    def __add__(self, other: Tensor | float | np.ndarray) -> Tensor:
        """Task 3: elementwise ``self + other`` with numpy broadcasting.

        Backward: d(a + b)/da = 1, so each input receives ``out.grad`` itself (``_accumulate``
        sums it down to the input's shape).
        """
        raise NotImplementedError("task 3: Tensor.__add__")

    def __mul__(self, other: Tensor | float | np.ndarray) -> Tensor:
        """Task 3: elementwise ``self * other`` with numpy broadcasting.

        Backward: ``a.grad += out.grad * b`` and ``b.grad += out.grad * a`` (elementwise,
        at the output's broadcast shape; ``_accumulate`` reduces it).
        """
        raise NotImplementedError("task 3: Tensor.__mul__")

    def __matmul__(self, other: Tensor) -> Tensor:
        """Task 3: the matrix product ``self @ other`` of a (n, k) and a (k, m) matrix: (n, m).

        Backward, with G = out.grad of shape (n, m): dA = G @ B^T (n, k) and dB = A^T @ G
        (k, m). Check the shapes: each gradient has the shape of its input.
        """
        raise NotImplementedError("task 3: Tensor.__matmul__")

    def sum(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        """Task 3: the sum over ``dim`` (an int, a tuple of ints, or None for all elements),
        as ``torch.sum``: ``keepdim=True`` keeps the summed axes with size 1.

        Backward: every summed element gets ``out.grad`` unchanged: put back the summed axes
        (``np.expand_dims`` when ``keepdim`` is False) and broadcast to ``self.shape``.
        """
        raise NotImplementedError("task 3: Tensor.sum")

    def mean(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        """Task 3: the mean over ``dim`` (same meaning as in ``sum``).

        mean = sum / n with n the number of elements averaged, so backward is sum's backward
        divided by n.
        """
        raise NotImplementedError("task 3: Tensor.mean")

    def exp(self) -> Tensor:
        """Task 3: elementwise e^x; backward ``out.grad * e^x`` (reuse ``out.data``)."""
        raise NotImplementedError("task 3: Tensor.exp")

    def log(self) -> Tensor:
        """Task 3: elementwise ln x; backward ``out.grad / x``."""
        raise NotImplementedError("task 3: Tensor.log")

    def relu(self) -> Tensor:
        """Task 3: elementwise max(0, x); backward ``out.grad`` where x > 0, else 0 (also at x == 0)."""
        raise NotImplementedError("task 3: Tensor.relu")

    def reshape(self, *shape: int) -> Tensor:
        """Task 3: the same elements in a new shape (``-1`` allowed once, as in numpy);
        ``t.reshape(2, 6)`` and ``t.reshape((2, 6))`` both work.

        Backward: reshape ``out.grad`` back to ``self.shape``.
        """
        raise NotImplementedError("task 3: Tensor.reshape")

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Task 3: swap axes ``dim0`` and ``dim1`` (``torch.transpose``); ``x.T`` of a matrix is
        ``x.transpose(0, 1)``.

        Backward: swap the same two axes of ``out.grad`` back.
        """
        raise NotImplementedError("task 3: Tensor.transpose")

    def backward(self, gradient: np.ndarray | float | None = None) -> None:
        """Task 3: backpropagate from this tensor, as ``Value.backward`` does.

        Seed ``self.grad`` with ``gradient`` (default: ones, i.e. dL/dL = 1 for a scalar
        loss) as an array of ``self.shape`` and ``self.dtype``, then call every node's
        ``_backward`` in reverse ``topological_order(self)`` (task 2's function works here:
        it only follows ``_prev``).
        """
        raise NotImplementedError("task 3: Tensor.backward")


def _axes(dim: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """``dim`` as a tuple of non-negative axes; None means all of them."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(d % ndim for d in dims)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Task 3: sum ``grad`` down to ``shape``, undoing numpy broadcasting.

    Broadcasting (1) prepends size-1 axes until both shapes have the same length, then
    (2) stretches size-1 axes. Undo it in the reverse order: sum over the leading axes that
    were prepended, then over every axis where ``shape`` has size 1 but ``grad`` does not,
    keeping that axis (``keepdims=True``). Example: (3, 4) -> (4,) sums axis 0;
    (2, 3, 4) -> (3, 1) sums axis 0, then axis 2 keeping it.
    """
    raise NotImplementedError("task 3: unbroadcast")
