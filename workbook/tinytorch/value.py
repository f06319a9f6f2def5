"""Tasks 1 and 2: a scalar `Value` that records how it was computed, and `backward()`.

A `Value` holds one float (`data`), the derivative of the final output with respect to it
(`grad`, 0 until `backward()` runs), the values it was computed from (`_prev`, in order and
with repeats: `a + a` lists `a` twice) and a closure `_backward` that, once `out.grad` is
known, adds each input's share of it into that input's `grad` (the chain rule):

    input.grad += (d out / d input) * out.grad
"""

from __future__ import annotations

import math
from collections.abc import Callable


class Value:
    """One number in a computation, with its gradient and the graph that produced it."""

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # ---------------------------------------------------------------- task 1
    def __add__(self, other: Value | float) -> Value:
        """Task 1: ``self + other``.

        Local derivatives: d(a + b)/da = 1 and d(a + b)/db = 1, so ``_backward`` adds
        ``out.grad`` to both inputs' ``grad``. Use ``+=``: an input can feed several ops
        (``a + a``) and its gradient is the sum over all of them.
        """
        raise NotImplementedError("task 1: Value.__add__")

    def __mul__(self, other: Value | float) -> Value:
        """Task 1: ``self * other``.

        Local derivatives: d(ab)/da = b and d(ab)/db = a; the chain rule multiplies each by
        ``out.grad``: ``a.grad += b.data * out.grad``.
        """
        raise NotImplementedError("task 1: Value.__mul__")

    def __pow__(self, exponent: float) -> Value:
        """Task 1: ``self ** exponent`` for a constant (int or float) exponent k.

        d(x^k)/dx = k x^(k-1). The exponent is a plain number, not a `Value`: it gets no
        gradient and is not a child in ``_prev``.
        """
        raise NotImplementedError("task 1: Value.__pow__")

    def exp(self) -> Value:
        """Task 1: e^x. Its derivative is itself: d(e^x)/dx = e^x (reuse ``out.data``)."""
        raise NotImplementedError("task 1: Value.exp")

    def log(self) -> Value:
        """Task 1: the natural logarithm ln x, for x > 0. d(ln x)/dx = 1/x."""
        raise NotImplementedError("task 1: Value.log")

    def tanh(self) -> Value:
        """Task 1: tanh x = (e^2x - 1)/(e^2x + 1). d(tanh x)/dx = 1 - tanh(x)^2 (reuse ``out.data``)."""
        raise NotImplementedError("task 1: Value.tanh")

    def relu(self) -> Value:
        """Task 1: relu x = max(0, x). Its derivative is 1 for x > 0 and 0 for x <= 0
        (PyTorch's convention at exactly 0)."""
        raise NotImplementedError("task 1: Value.relu")

    # ---------------------------------------------------------------- given: built from the ops above
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-_lift(other))

    def __truediv__(self, other: Value | float) -> Value:
        return self * _lift(other) ** -1

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rsub__(self, other: float) -> Value:
        return _lift(other) - self

    def __rtruediv__(self, other: float) -> Value:
        return _lift(other) / self

    # ---------------------------------------------------------------- task 2
    def backward(self) -> None:
        """Task 2: fill in ``grad`` for every value this one was computed from.

        Seed ``self.grad = 1.0`` (dL/dL = 1), then call each node's ``_backward`` in
        **reverse** topological order, so that a node passes its gradient on only after
        every node that uses it has added its share. Use ``topological_order(self)``.
        """
        raise NotImplementedError("task 2: Value.backward")


def _lift(x: Value | float) -> Value:
    """A `Value` as is, a plain number as a constant `Value` (so ``a + 1`` and ``2 * a`` work)."""
    return x if isinstance(x, Value) else Value(x)


def topological_order(root: Value) -> list[Value]:
    """Task 2: every node reachable from ``root`` through ``_prev``, each exactly once, each
    after all of its children (inputs); ``root`` comes last.

    Write it **iteratively**, with an explicit stack: a recursive depth-first search
    overflows Python's call stack (about 1,000 frames) on a 10,000-node chain. Track visited
    nodes by identity (a set of ``id(node)``, or of the nodes themselves: `Value` does not
    define ``__eq__``), so a value used twice (``a + a``) appears once.

    One way: push ``(node, False)``; when popped with False, push ``(node, True)`` then its
    unvisited children; when popped with True, all its children are done: append it.
    """
    raise NotImplementedError("task 2: topological_order")
