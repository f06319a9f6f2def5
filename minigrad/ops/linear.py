"""``linear``: the Linear layer, ``y = act(x W^T + b)``, as one fused op (``LinearAct``).

``nn.Linear`` and ``F.linear`` call ``linear`` here; the derivative is ``LinearAct.backward``.

The product runs on BLAS; the bias add and the activation are fused around it in forward,
and the activation's derivative and the bias gradient in the declared fast path
(``fast_backward``, ``minigrad.kernels.linear``). ``backward`` writes dz, dx, dW and db with Tensor
ops: the page to read, and the path every second derivative takes. ``F.linear`` and
``nn.Linear`` use it.

    h = linear(x, W, b)                                  # y = x W^T + b
    h = LinearAct.apply(x, W, b, activation="relu")      # y = relu(x W^T + b), one op
"""

from __future__ import annotations

import math

import numpy as np

from ..amp.autocast import STATE as AUTOCAST
from ..amp.autocast import autocast_call
from ..autograd.function import Function
from ..kernels import linear as kernel
from ..tensor import Tensor
from .elementwise import Erf


def _activation_grad(grad: Tensor, z: Tensor | None, saved: np.ndarray, activation: str) -> Tensor:
    """dz = grad * act'(z) with Tensor ops, so the result can be differentiated again.

    relu's derivative is the constant mask [z > 0] (read from the saved output); tanh and
    sigmoid use their output recomputed from ``z``, gelu Phi(z) + z phi(z) via ``erf``.
    """
    if activation == "none":
        return grad
    if activation == "relu":
        return grad * Tensor.make((saved > 0).astype(grad.dtype))
    if activation == "tanh":
        y = z.tanh()
        return grad * (1.0 - y * y)
    if activation == "sigmoid":
        y = z.sigmoid()
        return grad * y * (1.0 - y)
    cdf = (Erf.apply(z * (1 / math.sqrt(2.0))) + 1.0) * 0.5
    pdf = (z * z * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
    return grad * (cdf + z * pdf)


class LinearAct(Function):
    """y = act(x W^T + b):  dz = grad act'(z),  dx = dz W,  dW = dz^T x,  db = sum_rows dz

    ``backward`` writes these formulas with Tensor ops; ``fast_backward`` runs the fused
    kernel on arrays, and the engine uses it whenever ``create_graph`` is off.
    """

    @classmethod
    def apply(cls, *inputs: Tensor, **params: object) -> Tensor:
        """``Function.apply``, at float16 precision inside ``amp.autocast``."""
        if AUTOCAST.enabled:
            return autocast_call(super().apply, *inputs, **params)
        return super().apply(*inputs, **params)

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, *,
                activation: str = "none") -> np.ndarray:
        if activation not in kernel.ACTIVATIONS:
            raise ValueError(f"LinearAct: activation must be one of {kernel.ACTIVATIONS}, got {activation!r}")
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise RuntimeError(f"LinearAct: input of shape {x.shape} and weight of shape {weight.shape} "
                               "do not fit: weight must be (out_features, in_features) with "
                               "in_features = x.shape[-1]")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise RuntimeError(f"LinearAct: bias must have shape ({weight.shape[0]},), got {bias.shape}")
        dtype = np.result_type(x.dtype, weight.dtype, *(() if bias is None else (bias.dtype,)))
        x2 = x.reshape(math.prod(x.shape[:-1]), x.shape[-1]).astype(dtype, copy=False)
        w = weight.astype(dtype, copy=False)
        b = None if bias is None else bias.astype(dtype, copy=False)
        y, saved = kernel.linear_forward(x2, w, b, activation)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x2, w, saved)
            ctx.activation = activation
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, ...]:
        """The readable backward, with Tensor ops on the inputs:

            z = x W^T + b,   dz = grad * act'(z),   dx = dz W,   dW = dz^T x,   db = sum_rows dz

        Every step is an ordinary recorded op, so under ``create_graph`` the gradients can be
        differentiated again; the graph below the layer is not touched (no nested ``grad``
        call: a hook on x fires once, and the cost stays linear in the network's depth).
        """
        need = ctx.needs_input_grad
        saved = ctx.saved_tensors[2]
        x, weight = ctx.inputs[0], ctx.inputs[1]
        bias = ctx.inputs[2] if len(ctx.inputs) == 3 else None
        x2 = x.reshape(math.prod(x.shape[:-1]), weight.shape[1])
        z = None
        if ctx.activation in ("tanh", "sigmoid", "gelu"):
            z = x2 @ weight.T
            if bias is not None:
                z = z + bias
        dz = _activation_grad(grad.reshape(x2.shape[0], weight.shape[0]), z, saved, ctx.activation)
        dx = (dz @ weight).reshape(x.shape) if need[0] else None
        dw = dz.T @ x2 if need[1] else None
        if bias is None:
            return dx, dw
        return dx, dw, (dz.sum(0) if need[2] else None)

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """Fast path: the same dx, dW, db from the fused kernel (``kernels.linear``)."""
        need = ctx.needs_input_grad
        x2, weight, saved = ctx.saved_tensors
        g = grad.reshape(x2.shape[0], weight.shape[0])
        dx, dw, db = kernel.linear_backward(g, x2, weight, saved, ctx.activation,
                                            has_bias=len(need) == 3 and need[2], needs=(need[0], need[1]))
        out = (None if dx is None else dx.reshape(ctx.inputs[0].shape), dw)
        return out + (db,) if len(need) == 3 else out


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, with W of shape (out_features, in_features).

    One fused op (``LinearAct`` above): the product runs on BLAS, the bias add and the
    backward's bias sum are fused around it. Gradients: dx = g W, dW = g^T x,
    db = sum over rows of g.
    """
    if bias is None:
        return LinearAct.apply(input, weight, activation="none")
    return LinearAct.apply(input, weight, bias, activation="none")
