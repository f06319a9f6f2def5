"""autograd Functions over the fused kernels: one forward call computes the loss *and* its gradient.

Each loss Function runs its kernel family's ``(loss, grad)`` function in ``forward`` (the
Numba kernel or, with the switch off, the numpy reference), keeps the gradient, and its
``backward`` only scales it by the upstream gradient. Targets, weights and options are
keyword parameters (constants); only the regression losses also differentiate w.r.t. the
target (its gradient is minus the input's). ``LinearAct`` is ``act(x @ W.T + b)`` with the
activation derivative fused into its backward. All are ``once_differentiable``: their
backward computes with numpy, so ``create_graph=True`` cannot differentiate them again;
use the composed ops for higher-order gradients.

    loss = FusedCrossEntropy.apply(logits, target=y, label_smoothing=0.1)
    h = LinearAct.apply(x, W, b, activation="relu")
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.engine import grad as autograd_grad
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from . import bce, cross_entropy, linear, regression
from ._common import REDUCTIONS


def _array(value: Any) -> np.ndarray | None:
    return value.data if isinstance(value, Tensor) else (None if value is None else np.asarray(value))


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction "
                         f"({op}: use 'none', 'mean' or 'sum')")


def _scale(ctx: Function, grad: Tensor) -> np.ndarray:
    """The saved gradient times the upstream gradient (element-wise for 'none')."""
    g = grad.data
    (saved,) = ctx.saved_tensors
    if ctx.reduction == "none":
        return saved * g.reshape(ctx.row_shape).astype(saved.dtype, copy=False)
    return saved if g == 1 else saved * g.astype(saved.dtype)


# ------------------------------------------------------------------ cross-entropy / NLL
def _class_rows(op: str, x: np.ndarray, target: Any, weight: Any, ignore_index: int):  # noqa: ANN202
    """Validate class-index targets; return (x as (rows, C), target (rows,), weight, target shape, undo)."""
    y = _array(target)
    if y is None:
        raise TypeError(f"{op}: target= (class indices) is required")
    if x.ndim == 0:
        raise RuntimeError(f"{op}: input must have at least 1 dimension (C), got a 0-d tensor")
    if y.dtype.kind not in "iu":
        if y.shape == x.shape:
            raise TypeError(f"{op}: only class-index targets are fused; for class probabilities "
                            "use F.cross_entropy")
        raise RuntimeError(f"{op}: expected target dtype to be Long or Byte (an integer type), got {y.dtype}")
    class_dim = 0 if x.ndim == 1 else 1
    c = x.shape[class_dim]
    expected = x.shape[:class_dim] + x.shape[class_dim + 1:]
    if y.shape != expected:
        raise RuntimeError(f"{op}: Expected target size {list(expected)}, got {list(y.shape)} "
                           f"(input shape {list(x.shape)})")
    w = _array(weight)
    if w is not None and w.shape != (c,):
        raise RuntimeError(f"{op}: weight should be a 1-D tensor of length C={c}, got shape {w.shape}")
    bad = (y != ignore_index) & ((y < 0) | (y >= c))
    if bad.any():
        raise IndexError(f"{op}: Target {y[bad].flat[0]} is out of bounds (classes are 0..{c - 1}).")
    rows = np.moveaxis(x, class_dim, -1).reshape(-1, c)
    return rows, y.reshape(-1).astype(np.int64, copy=False), w, y.shape, class_dim


def _unrows(grad: np.ndarray, shape: tuple[int, ...], class_dim: int) -> np.ndarray:
    moved = shape[:class_dim] + shape[class_dim + 1:] + (shape[class_dim],)
    return np.moveaxis(grad.reshape(moved), -1, class_dim)


class FusedCrossEntropy(Function):
    """softmax + cross-entropy with class-index targets: d loss / d x = w_y (softmax(x) - onehot(y)) / D
    (plus the label-smoothing term); see ``kernels/cross_entropy.py``."""

    once_differentiable = True

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, *, target: Any = None, weight: Any = None,
                ignore_index: int = -100, label_smoothing: float = 0.0,
                reduction: str = "mean") -> np.ndarray:
        _check_reduction("cross_entropy", reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise RuntimeError(
                f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        rows, y, w, target_shape, class_dim = _class_rows("cross_entropy", x, target, weight, ignore_index)
        loss, grad = cross_entropy.cross_entropy(rows, y, w, ignore_index, label_smoothing, reduction)
        ctx.save_for_backward(_unrows(grad, x.shape, class_dim))
        ctx.reduction, ctx.row_shape = reduction, _row_shape(x.shape, class_dim)
        return loss.reshape(target_shape) if reduction == "none" else loss

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return Tensor._make(_scale(ctx, grad))


class FusedNLLLoss(Function):
    """negative log-likelihood of log-probabilities: d loss / d x[n, y_n] = -w_y / D, 0 elsewhere."""

    once_differentiable = True

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, *, target: Any = None, weight: Any = None,
                ignore_index: int = -100, reduction: str = "mean") -> np.ndarray:
        _check_reduction("nll_loss", reduction)
        rows, y, w, target_shape, class_dim = _class_rows("nll_loss", x, target, weight, ignore_index)
        loss, grad = cross_entropy.nll_loss(rows, y, w, ignore_index, reduction)
        ctx.save_for_backward(_unrows(grad, x.shape, class_dim))
        ctx.reduction, ctx.row_shape = reduction, _row_shape(x.shape, class_dim)
        return loss.reshape(target_shape) if reduction == "none" else loss

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return Tensor._make(_scale(ctx, grad))


def _row_shape(shape: tuple[int, ...], class_dim: int) -> tuple[int, ...]:
    """Shape the per-position upstream gradient takes to broadcast over the class dim."""
    return shape[:class_dim] + (1,) + shape[class_dim + 1:]


# ------------------------------------------------------------------ BCE with logits
class FusedBCEWithLogits(Function):
    """d loss / d x = w ((q y + 1 - y) sigmoid(x) - q y) / D; see ``kernels/bce.py``."""

    once_differentiable = True

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, *, target: Any = None, weight: Any = None,
                pos_weight: Any = None, reduction: str = "mean") -> np.ndarray:
        _check_reduction("binary_cross_entropy_with_logits", reduction)
        y = _array(target)
        if y is None or y.shape != x.shape:
            got = None if y is None else y.shape
            raise ValueError(f"binary_cross_entropy_with_logits: Target size ({got}) must be the same as "
                             f"input size ({x.shape})")
        w, q = _array(weight), _array(pos_weight)
        for name, a in (("weight", w), ("pos_weight", q)):
            if a is not None and np.broadcast_shapes(a.shape, x.shape) != x.shape:
                raise RuntimeError(f"binary_cross_entropy_with_logits: {name} of shape {a.shape} cannot be "
                                   f"broadcast to the input's shape {x.shape}")
        loss, grad = bce.bce_with_logits(x, y.astype(x.dtype, copy=False), w, q, reduction)
        ctx.save_for_backward(grad)
        ctx.reduction, ctx.row_shape = reduction, x.shape
        return loss

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return Tensor._make(_scale(ctx, grad))


# ------------------------------------------------------------------ regression
class _FusedRegression(Function):
    """Element-wise regression loss of (input, target); d/d target = -d/d input."""

    once_differentiable = True
    kind = ""

    @classmethod
    def _forward(cls, ctx: Function, x: np.ndarray, y: np.ndarray, reduction: str,
                 param: float) -> np.ndarray:
        _check_reduction(f"{cls.kind}_loss", reduction)
        if x.shape != y.shape:
            x, y = np.broadcast_arrays(x, y)
        dtype = np.result_type(x.dtype, y.dtype)
        if dtype.kind != "f":
            raise RuntimeError(f"{cls.kind}_loss: input and target must be floating point, "
                               f"got {x.dtype} and {y.dtype}")
        loss, grad = regression.regression(cls.kind, x.astype(dtype, copy=False), y.astype(dtype, copy=False),
                                           reduction, param)
        ctx.save_for_backward(grad)
        ctx.reduction, ctx.row_shape = reduction, x.shape
        return loss

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        g = _scale(ctx, grad)
        need_x, need_y = ctx.needs_input_grad
        return (Tensor._make(g) if need_x else None), (Tensor._make(-g) if need_y else None)


class FusedMSELoss(_FusedRegression):
    """(x - y)^2;  d/dx = 2 (x - y) / D"""

    kind = "mse"

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, y: np.ndarray, *, reduction: str = "mean") -> np.ndarray:
        return FusedMSELoss._forward(ctx, x, y, reduction, 1.0)


class FusedL1Loss(_FusedRegression):
    """|x - y|;  d/dx = sign(x - y) / D  (0 at x = y)"""

    kind = "l1"

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, y: np.ndarray, *, reduction: str = "mean") -> np.ndarray:
        return FusedL1Loss._forward(ctx, x, y, reduction, 1.0)


class FusedHuberLoss(_FusedRegression):
    """d^2/2 if |d| < delta else delta (|d| - delta/2);  d/dx = clamp(d, -delta, delta) / D"""

    kind = "huber"

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, y: np.ndarray, *, reduction: str = "mean",
                delta: float = 1.0) -> np.ndarray:
        if not delta > 0:
            raise RuntimeError(f"huber_loss does not support non-positive values for delta (got {delta}).")
        return FusedHuberLoss._forward(ctx, x, y, reduction, float(delta))


class FusedSmoothL1Loss(_FusedRegression):
    """d^2/(2 beta) if |d| < beta else |d| - beta/2;  d/dx = clamp(d / beta, -1, 1) / D"""

    kind = "smooth_l1"

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, y: np.ndarray, *, reduction: str = "mean",
                beta: float = 1.0) -> np.ndarray:
        if beta < 0:
            raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got {beta}).")
        return FusedSmoothL1Loss._forward(ctx, x, y, reduction, float(beta))


# ------------------------------------------------------------------ Linear + activation
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
