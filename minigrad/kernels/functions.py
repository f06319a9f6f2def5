"""``LinearAct``: the fused Linear layer, ``y = act(x W^T + b)``, as an autograd Function.

The product runs on BLAS; the bias add and the activation are fused around it in forward,
and the activation's derivative and the bias gradient in backward (``kernels.linear``).
``F.linear`` and ``nn.Linear`` use it. Under ``create_graph=True`` its backward
differentiates the same expression built from primitives instead, so higher-order
gradients through a Linear layer stay exact.

The loss kernels are used the same way from inside the losses' own Functions
(``nn/losses/cross_entropy.py``, ``regression.py``, ``binary.py``): forward computes the
loss and its gradient in one pass, backward scales the saved gradient.

    h = LinearAct.apply(x, W, b, activation="relu")
"""

from __future__ import annotations

import numpy as np

from ..amp.autocast import STATE as AUTOCAST
from ..amp.autocast import autocast_call
from ..autograd.engine import grad as autograd_grad
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from . import linear


def _composite_linear(x: Tensor, weight: Tensor, bias: Tensor | None, activation: str) -> Tensor:
    """act(x W^T + b) written with differentiable primitives (LinearAct's double-backward path)."""
    z = x @ weight.T
    if bias is not None:
        z = z + bias
    if activation == "none":
        return z
    if activation == "gelu":
        from ..functional import gelu

        return gelu(z)
    return getattr(z, activation)()


class LinearAct(Function):
    """y = act(x W^T + b):  dz = grad act'(z),  dx = dz W,  dW = dz^T x,  db = sum_rows dz

    The backward runs the fused kernel. Under ``create_graph=True`` (grad mode on during
    backward) it instead differentiates the same expression built from primitives, so
    second derivatives through a Linear layer stay exact.
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
        x2 = x.reshape(-1, x.shape[-1]).astype(dtype, copy=False)
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
        if STATE.grad_enabled:
            inputs = list(ctx.inputs) + [None] * (3 - len(ctx.inputs))
            y = _composite_linear(*inputs, ctx.activation)
            wanted = [t for t, n in zip(ctx.inputs, need) if n]
            grads = iter(autograd_grad(y, wanted, grad, create_graph=True, allow_unused=True))
            return tuple(next(grads) if n else None for n in need)
        x2, weight, saved = ctx.saved_tensors
        g = grad.data.reshape(-1, weight.shape[0])
        dx, dw, db = linear.linear_backward(g, x2, weight, saved, ctx.activation,
                                            has_bias=len(need) == 3 and need[2], needs=(need[0], need[1]))
        x_shape = ctx.inputs[0].shape
        out = (None if dx is None else Tensor._make(dx.reshape(x_shape)),
               None if dw is None else Tensor._make(dw))
        return out + ((None if db is None else Tensor._make(db)),) if len(need) == 3 else out
