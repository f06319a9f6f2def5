"""``LinearAct``: the fused Linear layer, ``y = act(x W^T + b)``, as an autograd Function.

The product runs on BLAS; the bias add and the activation are fused around it in forward,
and the activation's derivative and the bias gradient in backward (``kernels.linear``).
``F.linear`` and ``nn.Linear`` use it. Under ``create_graph=True`` its backward writes
dz, dx, dW and db with Tensor ops on the saved inputs instead, so higher-order gradients
through a Linear layer stay exact.

The loss kernels are used the same way from inside the losses' own Functions
(``nn/losses/cross_entropy.py``, ``regression.py``, ``binary.py``): forward computes the
loss and its gradient in one pass, backward scales the saved gradient.

    h = LinearAct.apply(x, W, b, activation="relu")
"""

from __future__ import annotations

import math

import numpy as np

from ..amp.autocast import STATE as AUTOCAST
from ..amp.autocast import autocast_call
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..ops.elementwise import Erf
from ..tensor import Tensor
from . import linear


def _activation_grad(grad: Tensor, z: Tensor | None, saved: np.ndarray, activation: str) -> Tensor:
    """dz = grad * act'(z) with Tensor ops, so the result can be differentiated again.

    relu's derivative is the constant mask [z > 0] (read from the saved output); tanh and
    sigmoid use their output recomputed from ``z``, gelu Phi(z) + z phi(z) via ``erf``.
    """
    if activation == "none":
        return grad
    if activation == "relu":
        return grad * Tensor._make((saved > 0).astype(grad.dtype))
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

    The backward runs the fused kernel. Under ``create_graph=True`` (grad mode on during
    backward) it computes the same formulas with Tensor ops (``_differentiable_backward``),
    so second derivatives through a Linear layer stay exact.
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
        if activation not in linear.ACTIVATIONS:
            raise ValueError(f"LinearAct: activation must be one of {linear.ACTIVATIONS}, got {activation!r}")
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
        y, saved = linear.linear_forward(x2, w, b, activation)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x2, w, saved)
            ctx.activation = activation
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, ...]:
        need = ctx.needs_input_grad
        x2, weight, saved = ctx.saved_tensors
        if STATE.grad_enabled:
            return _differentiable_backward(ctx, grad, saved)
        g = grad.data.reshape(x2.shape[0], weight.shape[0])
        dx, dw, db = linear.linear_backward(g, x2, weight, saved, ctx.activation,
                                            has_bias=len(need) == 3 and need[2], needs=(need[0], need[1]))
        x_shape = ctx.inputs[0].shape
        out = (None if dx is None else Tensor._make(dx.reshape(x_shape)),
               None if dw is None else Tensor._make(dw))
        return out + ((None if db is None else Tensor._make(db)),) if len(need) == 3 else out


def _differentiable_backward(ctx: Function, grad: Tensor, saved: np.ndarray) -> tuple[Tensor | None, ...]:
    """LinearAct's backward under ``create_graph=True``, built from Tensor ops on the inputs:

        z = x W^T + b,   dz = grad * act'(z),   dx = dz W,   dW = dz^T x,   db = sum_rows dz

    Every step is an ordinary recorded op, so the gradients can be differentiated again and
    the graph below the layer is not touched (no nested ``grad`` call: a hook or
    ``retain_grad`` on x fires once, and the cost stays linear in the network's depth).
    """
    need = ctx.needs_input_grad
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
