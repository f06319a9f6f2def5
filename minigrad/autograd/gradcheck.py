"""gradcheck: compare autograd's gradients with finite differences.

For every input element x_j, the numerical derivative of every output element is the
central difference (f(x + eps) - f(x - eps)) / (2 eps), whose error shrinks like eps^2.
The analytical Jacobian comes from one backward pass per output element with a one-hot
``grad_output``. They must agree element-wise: |a - n| <= atol + rtol |n|.
Use float64: in float32 the rounding error of the difference swamps the derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..random import rng
from ..tensor import Tensor
from .engine import grad


class GradcheckError(AssertionError):
    """The analytical and numerical gradients disagree."""


def _outputs(fn: Callable, inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, tuple | list) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _numerical(fn: Callable, inputs: Sequence[Any], t: Tensor, eps: float) -> list[np.ndarray]:
    """One Jacobian block per output: shape (output.size, t.size)."""
    if not t.data.flags.writeable:
        raise ValueError("gradcheck: inputs must be writable arrays (not broadcast views)")
    flat_index = list(np.ndindex(t.shape))
    blocks: list[np.ndarray] | None = None
    for j, idx in enumerate(flat_index):
        orig = t.data[idx].copy()
        t.data[idx] = orig + eps
        plus = [o.data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
        t.data[idx] = orig - eps
        minus = [o.data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
        t.data[idx] = orig
        if blocks is None:
            blocks = [np.zeros((p.size, t.data.size)) for p in plus]
        for b, p, m in zip(blocks, plus, minus):
            b[:, j] = (p - m) / (2 * eps)
    if blocks is None:
        blocks = [np.zeros((o.data.size, 0)) for o in _outputs(fn, inputs)]
    return blocks


def _analytical(fn: Callable, inputs: Sequence[Any], checked: list[Tensor]) -> list[list[np.ndarray]]:
    """jac[i][k]: Jacobian of output k w.r.t. checked input i, shape (out.size, in.size)."""
    outs = _outputs(fn, inputs)
    jac = [[np.zeros((o.data.size, t.data.size)) for o in outs] for t in checked]
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o.data.size):
            onehot = np.zeros(o.data.size, dtype=o.dtype)
            onehot[r] = 1
            grads = grad(
                [o], checked, [Tensor.make(onehot.reshape(o.shape))],
                retain_graph=True, allow_unused=True,
            )
            for i, g in enumerate(grads):
                if g is not None:
                    if g.shape != checked[i].shape:
                        raise GradcheckError(
                            f"gradcheck: gradient of input {i} has shape {g.shape}, "
                            f"expected {checked[i].shape}"
                        )
                    jac[i][k][r] = g.data.astype(np.float64).ravel()
    return jac


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True if autograd's gradients of ``fn`` match central differences at ``inputs``.

    Every Tensor input with ``requires_grad`` is checked against every floating output.
    On a mismatch it raises (or returns False) naming the input, the element and both
    values. The backward is run twice and must give identical results (reentrancy).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True; nothing to check")
    analytical = _analytical(fn, inputs, checked)
    again = _analytical(fn, inputs, checked)
    for i, t in enumerate(checked):
        numerical = _numerical(fn, inputs, t, eps)
        for k, (a, n) in enumerate(zip(analytical[i], numerical)):
            if not np.array_equal(a, again[i][k], equal_nan=True):
                return _fail(raise_exception, f"gradcheck: backward is not reentrant: two "
                             f"runs gave different gradients for input {i}, output {k}")
            bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
            if bad.any():
                r, j = map(int, np.argwhere(bad)[0])
                where = np.unravel_index(j, t.shape) if t.shape else ()
                return _fail(
                    raise_exception,
                    f"gradcheck: Jacobian mismatch for output {k} with respect to input {i} "
                    f"(shape {t.shape}) at input element {tuple(map(int, where))}, output "
                    f"element {r}: analytical {a[r, j]:.10g} vs numerical {n[r, j]:.10g} "
                    f"({int(bad.sum())} of {bad.size} entries differ; atol={atol}, rtol={rtol})",
                )
    return True


def _fail(raise_exception: bool, message: str) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """gradcheck of the gradient itself: checks second derivatives of ``fn``.

    It differentiates ``(inputs, v) -> grad(fn(inputs), inputs, v, create_graph=True)``,
    with random ``v`` (``grad_outputs``) that also require grad.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    n_in = len(inputs)
    if grad_outputs is None:
        outs = _outputs(fn, inputs)
        grad_outputs = [
            Tensor(rng().standard_normal(o.shape).astype(o.dtype), requires_grad=True)
            for o in outs
        ]
    grad_outputs = list(grad_outputs)

    def first_derivative(*args: Any) -> tuple[Tensor, ...]:
        xs, vs = args[:n_in], args[n_in:]
        outs = _outputs(fn, xs)
        targets = [t for t in xs if isinstance(t, Tensor) and t.requires_grad]
        grads = grad(outs, targets, list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    del checked
    return gradcheck(first_derivative, (*inputs, *grad_outputs), eps, atol, rtol, raise_exception)
