"""Binary and multi-label losses: one independent yes/no decision per element.

BCE (on probabilities) and BCEWithLogits (on logits) are fused autograd Functions: BCE's
numpy maths sits in small functions (``bce_forward``, ``bce_backward``), BCEWithLogits runs
the fused kernel of ``minigrad.kernels.bce`` (loss and gradient in one pass; its numpy
reference is there too). Their ``backward`` is written with Tensor operations (so second
derivatives work); ``fast_backward`` is the declared fast path on arrays the engine takes
when ``create_graph`` is off. SoftMargin and
MultiLabelSoftMargin are compositions of the stable ``softplus``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import dtypes
from ...autograd.function import Function
from ...autograd.grad_mode import STATE
from ...kernels import bce as kernel_bce
from ...ops.activation import Softplus
from ...tensor import Tensor
from ..module import Module
from ._common import as_tensor
from ._reduction import check_reduction, reduce_accurate, reduce_array


def _array(value: Tensor | None, dtype: np.dtype) -> np.ndarray | None:
    if value is None:
        return None
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    return data.astype(dtype, copy=False)


def _same_shape(name: str, input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        raise ValueError(f"{name}: Target size ({tuple(target.shape)}) must be the same as input size "
                         f"({tuple(input.shape)})")


def _scale(ctx: Function, grad: np.ndarray) -> Any:
    """g / D: the upstream gradient (array for 'none') over the mean's denominator (NaN for an
    empty input's 'mean', whose value is NaN too, as in PyTorch)."""
    if ctx.reduction == "none":
        return grad
    if ctx.reduction == "sum":
        return grad.item()
    return grad.item() / ctx.count if ctx.count else math.nan


def _tensor_scale(ctx: Function, grad: Tensor) -> Tensor:
    if ctx.reduction != "mean":
        return grad
    return grad * (1.0 / ctx.count if ctx.count else math.nan)


# ----------------------------------------------------------------------------- kernels
def bce_forward(x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """-w [y max(log x, -100) + (1 - y) max(log(1 - x), -100)]  (logs clamped as PyTorch)."""
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100)
        log_1mx = np.maximum(np.log1p(-x), -100)
    loss = -(y * log_x + (1 - y) * log_1mx)
    return loss if w is None else loss * w


def bce_with_logits_forward(x: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                            q: np.ndarray | None) -> np.ndarray:
    """Per-element w [(1 - y) x - (1 + (q - 1) y) logsigmoid(x)]: the loss alone, for a forward
    no backward will follow (the kernel computes the gradient too)."""
    log_sigmoid = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
    loss = (1 - y) * x - (log_sigmoid if q is None else (1 + (q - 1) * y) * log_sigmoid)
    return np.broadcast_to(loss if w is None else loss * w, x.shape)


def bce_backward(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, scale: Any) -> np.ndarray:
    """scale * w (x - y) / max(x (1 - x), 1e-12)."""
    grad = (x - y) / np.maximum(x * (1 - x), 1e-12) * scale
    return grad if w is None else grad * w


def bce_target_backward(x: np.ndarray, w: np.ndarray | None, scale: Any) -> np.ndarray:
    """d/dy = scale * w (log(1 - x) - log x), unclamped as in PyTorch (+-inf at x = 0 or 1)."""
    with np.errstate(divide="ignore"):
        grad = (np.log1p(-x) - np.log(x)) * scale
    return grad if w is None else grad * w


def bce_with_logits_target_backward(x: np.ndarray, w: np.ndarray | None, q: np.ndarray | None,
                                    scale: Any) -> np.ndarray:
    """d/dy = -scale * w (x + (q - 1) logsigmoid(x))  (q = pos_weight, 1 without it)."""
    grad = x if q is None else x + (q - 1) * (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))))
    grad = -grad * scale
    return grad if w is None else grad * w


# ----------------------------------------------------------------------------- Functions
class BinaryCrossEntropy(Function):
    """BCE on probabilities: d/dx = g/D w (x - y) / max(x (1 - x), 1e-12),
    d/dy = g/D w (log(1 - x) - log x)."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                reduction: str) -> np.ndarray:
        target = target.astype(x.dtype, copy=False)
        ctx.target, ctx.weight, ctx.reduction, ctx.count = target, weight, reduction, x.size
        return reduce_array(bce_forward(x, target, weight), reduction, x.size, x.dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.inputs
        need_x, need_y = ctx.needs_input_grad
        g = _tensor_scale(ctx, grad)
        w = None if ctx.weight is None else Tensor.make(ctx.weight)
        gx = gy = None
        if need_x:
            gx = g * (x - y.to(x.dtype)) / (x * (1.0 - x)).clamp_min(1e-12)
            gx = gx if w is None else gx * w
        if need_y:
            gy = g * ((-x).log1p() - x.log())
            gy = (gy if w is None else gy * w).to(y.dtype)
        return gx, gy

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Fast path: the same gradients on arrays (``bce_backward``, ``bce_target_backward``)."""
        x, y = ctx.inputs
        need_x, need_y = ctx.needs_input_grad
        scale = _scale(ctx, grad)
        gx = bce_backward(x.data, ctx.target, ctx.weight, scale) if need_x else None
        gy = bce_target_backward(x.data, ctx.weight, scale) if need_y else None
        return gx, gy


class BinaryCrossEntropyWithLogits(Function):
    """BCE on logits: d/dx = g/D w [(pos_weight y + 1 - y) sigmoid(x) - pos_weight y],
    d/dy = -g/D w [x + (pos_weight - 1) logsigmoid(x)]."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                pos_weight: np.ndarray | None, reduction: str) -> np.ndarray:
        target = target.astype(x.dtype, copy=False)
        ctx.target, ctx.weight, ctx.pos_weight = target, weight, pos_weight
        ctx.reduction, ctx.count = reduction, x.size
        if not ctx.needs_input_grad:
            return reduce_array(bce_with_logits_forward(x, target, weight, pos_weight), reduction,
                                x.size, x.dtype)
        loss, fused_grad = kernel_bce.bce_with_logits(x, target, weight, pos_weight, reduction)
        ctx.save_for_backward(fused_grad)
        return loss

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.inputs
        need_x, need_y = ctx.needs_input_grad
        g = _tensor_scale(ctx, grad)
        w = None if ctx.weight is None else Tensor.make(ctx.weight)
        yx = y.to(x.dtype)
        gx = gy = None
        if need_x:
            if ctx.pos_weight is None:
                gx = g * (x.sigmoid() - yx)
            else:
                py = Tensor.make(ctx.pos_weight) * yx
                gx = g * ((py + 1.0 - yx) * x.sigmoid() - py)
            gx = gx if w is None else gx * w
        if need_y:
            inner = x
            if ctx.pos_weight is not None:
                inner = x + Tensor.make(ctx.pos_weight - 1) * _log_sigmoid(x)
            gy = -(g * inner)
            gy = (gy if w is None else gy * w).to(y.dtype)
        return gx, gy

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Fast path: the kernel's saved d/dx scaled by g; d/dy on arrays."""
        x, y = ctx.inputs
        need_x, need_y = ctx.needs_input_grad
        (fused_grad,) = ctx.saved_tensors
        gx = fused_grad * grad if need_x else None
        gy = None
        if need_y:
            gy = bce_with_logits_target_backward(x.data, ctx.weight, ctx.pos_weight, _scale(ctx, grad))
        return gx, gy


def _no_grad_argument(name: str, argument: str, value: Any) -> None:
    """PyTorch's error for a weight that requires grad where the loss has no derivative for it."""
    if STATE.grad_enabled and isinstance(value, Tensor) and value.requires_grad:
        raise RuntimeError(f"{name}: the function is not differentiable with respect to argument "
                           f"'{argument}'; this input cannot have requires_grad=True (as in PyTorch). "
                           f"Pass {argument}.detach() if it should stay fixed")


# ----------------------------------------------------------------------------- functions
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against targets in [0, 1].

    l = -w [y log x + (1 - y) log(1 - x)], each log clamped at -100 so x = 0 or 1 stays
    finite. Gradient: w (x - y) / (x (1 - x)), with the denominator clamped at 1e-12.
    Prefer binary_cross_entropy_with_logits: feeding it logits avoids the clamping.
    """
    check_reduction("binary_cross_entropy", reduction)
    _same_shape("binary_cross_entropy", input, target)
    target = as_tensor(target, input)
    if target.dtype != input.dtype:
        raise RuntimeError(f"binary_cross_entropy: input is {input.dtype} but target is {target.dtype}; "
                           f"they must have the same dtype (as in PyTorch). Convert the target "
                           f"with target.to(input.dtype)")
    x, y = input.data, target.data
    if np.any((x < 0) | (x > 1)) or np.isnan(x).any():
        raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 and 1 "
                           f"(got min {np.nanmin(x) if x.size else 0}, max {np.nanmax(x) if x.size else 0}); "
                           f"apply sigmoid first or use binary_cross_entropy_with_logits")
    if np.any((y < 0) | (y > 1)):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 and 1")
    _no_grad_argument("binary_cross_entropy", "weight", weight)
    w = _broadcast_weight("binary_cross_entropy", weight, input)
    return BinaryCrossEntropy.apply(input, target, weight=w, reduction=reduction)


def _broadcast_weight(name: str, weight: Tensor | None, input: Tensor,
                      what: str = "weight") -> np.ndarray | None:
    w = _array(weight, input.dtype)
    if w is not None:
        try:
            fits = np.broadcast_shapes(w.shape, input.shape) == input.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{name}: {what} of shape {w.shape} cannot be broadcast to the input's "
                             f"shape {input.shape}")
    return w


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of logits: l = -w [p_w y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].

    Computed as w [(1 - y) x - (1 + (p_w - 1) y) logsigmoid(x)], finite for any logit.
    Gradient: w (sigmoid(x) - y), or w [(p_w y + 1 - y) sigmoid(x) - p_w y] with pos_weight.
    The loss for binary and multi-label classification; pos_weight = n_neg / n_pos
    rebalances rare positives (typically shape (C) for (N, C) inputs).
    Input and target of two float dtypes: computed in the wider, returned in the target's
    dtype, as PyTorch 2.13 does.
    """
    check_reduction("binary_cross_entropy_with_logits", reduction)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    name = "binary_cross_entropy_with_logits"
    _no_grad_argument(name, "weight", weight)
    _no_grad_argument(name, "pos_weight", pos_weight)
    target = as_tensor(target, input)
    out_dtype = target.dtype if target.dtype.kind == "f" else input.dtype
    input = input.to(dtypes.promote_types(input.dtype, out_dtype))
    return BinaryCrossEntropyWithLogits.apply(
        input, target, weight=_broadcast_weight(name, weight, input),
        pos_weight=_broadcast_weight(name, pos_weight, input, "pos_weight"),
        reduction=reduction).to(out_dtype)


def _log_sigmoid(x: Tensor) -> Tensor:
    return -Softplus.apply(-x, beta=1.0, threshold=math.inf)


def soft_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss for labels y in {-1, 1}: l = log(1 + exp(-y x)) = softplus(-y x).

    Gradient: -y sigmoid(-y x). Computed with softplus, so finite for any margin (PyTorch's
    log1p(exp(.)) overflows beyond about 710). Same as BCEWithLogits with y in {0, 1}.
    """
    check_reduction("soft_margin_loss", reduction)
    _no_grad_argument("soft_margin_loss", "target", target)
    y = Tensor.make(_array(target, input.dtype))
    return reduce_accurate(Softplus.apply(-(y * input), beta=1.0, threshold=math.inf), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                reduction: str = "mean") -> Tensor:
    """Multi-label one-vs-all logistic loss, averaged over the C classes of each sample:

    l_n = -(1/C) sum_c w_c [y_nc logsigmoid(x_nc) + (1 - y_nc) logsigmoid(-x_nc)].
    Gradient: w_c (sigmoid(x_nc) - y_nc) / C. Input (N, C) or (C); 'mean' is over N.
    """
    check_reduction("multilabel_soft_margin_loss", reduction)
    _same_shape("multilabel_soft_margin_loss", input, target)
    y = as_tensor(target, input).to(input.dtype)
    loss = -(y * _log_sigmoid(input) + (1.0 - y) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * Tensor.make(_broadcast_weight("multilabel_soft_margin_loss", weight, input))
    per_sample = loss.mean(-1) if input.ndim else loss
    return reduce_accurate(per_sample, reduction)


class BCELoss(Module):
    """Module form of :func:`binary_cross_entropy`; ``weight`` is a buffer."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """Module form of :func:`binary_cross_entropy_with_logits`; ``weight``, ``pos_weight`` are buffers."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class SoftMarginLoss(Module):
    """Module form of :func:`soft_margin_loss`."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return soft_margin_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MultiLabelSoftMarginLoss(Module):
    """Module form of :func:`multilabel_soft_margin_loss`; ``weight`` is a buffer."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multilabel_soft_margin_loss(input, target, self.weight, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
