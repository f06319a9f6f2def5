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
        other = _lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        """Task 1: ``self * other``.

        Local derivatives: d(ab)/da = b and d(ab)/db = a; the chain rule multiplies each by
        ``out.grad``: ``a.grad += b.data * out.grad``.
        """
        other = _lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Value:
        """Task 1: ``self ** exponent`` for a constant (int or float) exponent k.

        d(x^k)/dx = k x^(k-1). The exponent is a plain number, not a `Value`: it gets no
        gradient and is not a child in ``_prev``.
        """
        if not isinstance(exponent, int | float):
            raise TypeError(f"Value.__pow__: the exponent must be an int or float, got "
                            f"{type(exponent).__name__}")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """Task 1: e^x. Its derivative is itself: d(e^x)/dx = e^x (reuse ``out.data``)."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Task 1: the natural logarithm ln x, for x > 0. d(ln x)/dx = 1/x."""
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """Task 1: tanh x = (e^2x - 1)/(e^2x + 1). d(tanh x)/dx = 1 - tanh(x)^2 (reuse ``out.data``)."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """Task 1: relu x = max(0, x). Its derivative is 1 for x > 0 and 0 for x <= 0
        (PyTorch's convention at exactly 0)."""
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

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
        order = topological_order(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


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
    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for child in node._prev:
            if id(child) not in visited:
                stack.append((child, False))
    return order
