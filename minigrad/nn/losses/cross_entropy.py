"""Cross-entropy and negative log-likelihood: the losses of multiclass classification.

Both are fused autograd Functions. The maths is a handful of small numpy functions
(``ce_forward``, ``ce_backward``, ...) working on a (positions, classes) matrix: a
K-dimensional input (N, C, d1, ..., dK) is viewed with the class dim moved last and
everything else flattened, so one set of functions serves every shape. Cross-entropy with
class indices on a 2-D input of at most ``KERNEL_MAX_CLASSES`` classes runs the fused
kernel ``minigrad.kernels.cross_entropy`` instead (loss and gradient in one pass).

Each Function's ``backward`` writes the gradient with Tensor operations (the formula to
read, and the path of every second derivative); ``fast_backward`` is its declared fast path
on arrays (numpy, or the kernel's saved gradient), which the engine takes when
``create_graph`` is off. The kernel runs only when a backward can follow: under ``no_grad``
the forward computes the loss alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import dtypes
from ...autograd.function import Function
from ...kernels import cross_entropy as kernel_ce
from ...kernels.config import use_kernel
from ...ops.elementwise import where
from ...tensor import Tensor
from ..module import Module
from ._common import int_targets
from ._reduction import check_reduction, reduce_array


# ----------------------------------------------------------------------------- layout
def class_last(x: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C);  (N, C) as is;  (N, C, d1..dK) -> (N d1..dK, C)."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x.reshape(1, -1)
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def class_back(m: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of ``class_last`` for an array of shape (positions, C or 1)."""
    if len(shape) <= 2:
        return m.reshape(shape[:1] + m.shape[1:] if len(shape) == 2 else m.shape[1:])
    moved = (shape[0], *shape[2:], m.shape[1])
    return np.moveaxis(m.reshape(moved), -1, 1)


def _col(v: Any) -> Any:
    return v[:, None] if isinstance(v, np.ndarray) and v.ndim == 1 else v


# ----------------------------------------------------------------------------- kernels
# ``wy`` is w[y] times the not-ignored mask ``valid``; ``t`` holds 0 at ignored positions.
# None stands for "all ones" (no weight, nothing ignored): the common case stays cheap.
def softmax_parts(x: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
    """A shift m, e = exp(x - m) and s = sum(e) per row: log_softmax = x - m - log s, p = e / s.

    Any shift at least each row's max avoids overflow. We first try the batch's max (one
    fast reduction; per-row maxima of short rows are slow in numpy); if a row then sums to
    less than sqrt(tiny) it would lose digits to underflow, and we shift by row maxima.
    A row whose max is +-inf is shifted by 0, so no inf - inf appears.
    """
    floor = _FLOOR.get(x.dtype)
    if x.size and floor is not None:
        m = x.max()
        if math.isfinite(m):
            e = np.subtract(x, m)
            np.exp(e, out=e)
            s = e @ np.ones(x.shape[1], x.dtype)
            if s.min() >= floor:
                return m, e, s
    m = x.max(axis=1)
    if not math.isfinite(m.sum()):
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    e = np.subtract(x, m[:, None])
    np.exp(e, out=e)
    return m, e, e.sum(axis=1)


_FLOOR = {np.dtype(t): float(np.sqrt(np.finfo(t).tiny)) for t in (np.float32, np.float64)}


def ce_forward(x: np.ndarray, t: np.ndarray, wy: np.ndarray | None, valid: np.ndarray | None,
               weight: np.ndarray | None, smoothing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-position loss (1 - eps) w_y (-lsm_y) + (eps / C) sum_c w_c (-lsm_c), class indices.

    -lsm_y = m + log s - x_y, clamped at 0: it is >= 0 exactly, but with a shift m above a
    row's own max it can round to -1e-17 (and sqrt(loss) would be NaN). Ignored positions
    are set to 0, not multiplied by 0: a -inf logit there must not give 0 * inf = NaN.
    Returns (loss, e, s), e and s from ``softmax_parts``.
    """
    m, e, s = softmax_parts(x)
    shift = np.log(s)
    shift += m
    loss = np.maximum(shift - x[np.arange(x.shape[0]), t], 0)
    if valid is not None:
        loss[~valid] = 0
    if wy is not None:
        loss *= wy
    if smoothing:
        c = x.shape[1]
        nlsm = np.maximum(_col(shift) - x, 0)
        if valid is not None:
            nlsm[~valid] = 0
        smooth = nlsm.sum(axis=1) if weight is None else nlsm @ weight
        loss = (1.0 - smoothing) * loss + (smoothing / c) * smooth
    return loss, e, s


def _ones(v: np.ndarray | None, n: int, dtype: np.dtype) -> np.ndarray:
    return np.ones(n, dtype) if v is None else v.astype(dtype, copy=False)


def ce_index_coefficients(t: np.ndarray, wy: np.ndarray | None, valid: np.ndarray | None,
                          weight: np.ndarray | None, smoothing: float, c: int,
                          dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """dl/dx = p * a - b per position: a = (1 - eps) w_y + (eps/C) S_w, b = (1 - eps) w_y e_y + (eps/C) w."""
    n = t.shape[0]
    wy, valid = _ones(wy, n, dtype), _ones(valid, n, dtype)
    sw = c if weight is None else weight.sum()
    a = (1.0 - smoothing) * wy + (smoothing / c) * sw * valid
    b = np.zeros((n, c), dtype=dtype)
    b[np.arange(n), t] = (1.0 - smoothing) * wy
    if smoothing:
        b += (smoothing / c) * _col(valid) * (1.0 if weight is None else weight)
    return a.astype(dtype, copy=False), b


def ce_backward(e: np.ndarray, s: np.ndarray, t: np.ndarray, wy: np.ndarray | None,
                valid: np.ndarray | None, weight: np.ndarray | None, smoothing: float,
                scale: Any) -> np.ndarray:
    """Gradient for class indices: scale * ((1 - eps) w_y (p - e_y) + (eps/C)(S_w p - w))."""
    c = e.shape[1]
    hit = scale * (1.0 - smoothing) if wy is None else scale * (1.0 - smoothing) * wy
    if smoothing:
        sw = c if weight is None else weight.sum()
        spread = scale * (smoothing / c) if valid is None else scale * (smoothing / c) * valid
        a = hit + spread * sw
    else:
        a = hit
    grad = e * _col(a / s)
    grad[np.arange(e.shape[0]), t] -= hit
    if smoothing:
        grad -= _col(spread) * (1.0 if weight is None else weight)
    return grad


def ce_prob_backward(e: np.ndarray, s: np.ndarray, wt: np.ndarray, scale: Any) -> np.ndarray:
    """Gradient for class probabilities: scale * (p sum_c w_c t'_c - w t')."""
    grad = e * _col(scale * wt.sum(axis=1) / s)
    grad -= _col(scale) * wt
    return grad


# ----------------------------------------------------------------------------- Functions
def _reduce_rows(loss: np.ndarray, reduction: str, denominator: float, x: np.ndarray) -> np.ndarray:
    """Per-position losses reduced; for 'none', shaped like the target (N, d1, ...)."""
    out = reduce_array(loss, reduction, denominator, x.dtype)
    return out.reshape(_target_shape(x)) if reduction == "none" else out


def _target_shape(x: np.ndarray) -> tuple[int, ...]:
    return x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()


def _weight_sum(wy: np.ndarray | None, n: int) -> float:
    """The 'mean' denominator for class indices: sum of w[y] over the positions not ignored."""
    return float(n) if wy is None else float(np.sum(wy, dtype=np.float64))


def _scale(ctx: Function, grad: np.ndarray) -> Any:
    """g / D per position: a (positions,) array for 'none', a number otherwise (NaN for D = 0)."""
    if ctx.reduction == "none":
        return grad.reshape(-1)
    if ctx.reduction == "sum":
        return grad.item()
    return grad.item() / ctx.denominator if ctx.denominator else math.nan


def _zero_mean(ctx: Function) -> bool:
    """A 'mean' over D = 0: the gradient is NaN (0/0) except where ``_keep`` says 0, as PyTorch."""
    return ctx.reduction == "mean" and not ctx.denominator


def _nan_softmax_rows(x2: np.ndarray) -> np.ndarray | None:
    """Rows of ``class_last(x)`` whose softmax is NaN (a NaN or +inf logit, or every logit
    -inf); None if there are none. PyTorch's gradient there is NaN in the whole row, at an
    ignored position too (softmax(x) * 0), where other ignored rows get 0 (a -inf logit
    included); the fused paths gave 0 or a partly NaN row."""
    if np.isfinite(x2).all():
        return None
    with np.errstate(invalid="ignore"):
        bad = np.isnan(x2).any(1) | np.isposinf(x2).any(1) | np.isneginf(x2).all(1)
    return bad if bad.any() else None


def _keep(t: np.ndarray, valid: np.ndarray | None, c: int, rows: bool) -> np.ndarray:
    """Where the gradient may be nonzero: kept rows (``rows``, CE) or kept targets (NLL)."""
    n = t.shape[0]
    keep = np.ones(n, bool) if valid is None else valid.astype(bool)
    if rows:
        return keep[:, None]
    mask = np.zeros((n, c), bool)
    mask[np.arange(n), t] = keep
    return mask


def _tensor_backward(ctx: Function, grad: Tensor, a: np.ndarray | None, b: np.ndarray,
                     keep: np.ndarray) -> Tensor:
    """The same gradient with Tensor ops, differentiable again: g/D * (p * a - b), p = softmax(x)
    (NLL has no softmax: a is None).

    Outside ``keep`` (ignored targets) the factor g/D is a constant 0, so the gradient and its
    own derivative are exactly 0 there; for a D = 0 'mean' it is NaN (0/0) inside ``keep``, as
    PyTorch (every target ignored: all 0, second derivative included).
    """
    x = ctx.inputs[0]
    shape = x.shape
    cdim = 0 if x.ndim == 1 else 1
    g = grad.unsqueeze(cdim) if ctx.reduction == "none" and x.ndim > 1 else grad
    scale = 1.0
    if ctx.reduction == "mean":
        scale = 1.0 / ctx.denominator if ctx.denominator else math.nan
    local = -Tensor.make(class_back(b, shape))
    if a is not None:
        local = x.softmax(cdim) * Tensor.make(class_back(a[:, None], shape)) + local
    if keep.all():
        return g * scale * local
    mask = class_back(keep, shape)
    factor = Tensor.make(np.where(mask, scale, 0.0).astype(x.dtype))
    return where(mask, g * factor * local, 0.0)


# The fused Numba kernel (minigrad.kernels.cross_entropy) wins for few classes; with many,
# its scalar exp per element loses to numpy's vectorised exp. Measured at batch 128 (float32,
# forward + backward): kernel 27 / 36 / 51 / 155 us vs numpy 43 / 43 / 46 / 66 us for
# C = 10 / 32 / 64 / 256.
KERNEL_MAX_CLASSES = 48


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood for class-index targets.

    d/dx = g/D * (p * a - b) with p = softmax(x); see ``ce_index_coefficients``.
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, target: np.ndarray, *, weight: np.ndarray | None,
                ignore_index: int, reduction: str, smoothing: float) -> np.ndarray:
        """``target``: class indices, checked and weighed here (``_index_target``), so the op's
        only data are its inputs (what capture and replay rely on). The fused kernel computes
        the loss and its gradient in one pass, so it runs only when a backward will follow."""
        x2 = class_last(x)
        ctx.reduction, ctx.smoothing, ctx.weight = reduction, smoothing, weight
        t, wy, valid = _index_target("cross_entropy", x, target, weight, ignore_index)
        ctx.denominator = _weight_sum(wy, t.shape[0])
        if ctx.needs_input_grad and x.ndim == 2 and x.shape[1] <= KERNEL_MAX_CLASSES:
            kernel_target = t if valid is None else np.where(valid, t, -1)
            loss, fused_grad = kernel_ce.cross_entropy(x, kernel_target, weight, -1, smoothing, reduction)
            ctx.save_for_backward(fused_grad, None, t, wy, valid)
            return loss
        loss, e, s = ce_forward(x2, t, wy, valid, weight, smoothing)
        ctx.save_for_backward(e, s, t, wy, valid)
        return _reduce_rows(loss, reduction, ctx.denominator, x)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor, None]:
        """g/D * (softmax(x) * a - b) with Tensor ops (``_tensor_backward``); none for the target."""
        x = ctx.inputs[0]
        _, _, t, wy, valid = ctx.saved_tensors
        classes = x.shape[0] if x.ndim == 1 else x.shape[1]
        a, b = ce_index_coefficients(t, wy, valid, ctx.weight, ctx.smoothing, classes, x.dtype)
        gx = _tensor_backward(ctx, grad, a, b, _keep(t, valid, classes, rows=True))
        nan_rows = _nan_softmax_rows(class_last(x.data))
        if nan_rows is not None:
            nan = np.where(nan_rows[:, None], np.nan, 0.0).astype(x.dtype)
            gx = gx + Tensor.make(class_back(np.broadcast_to(nan, class_last(x.data).shape), x.shape))
        return gx, None

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> tuple[np.ndarray, None]:
        """Fast path: the kernel's saved gradient scaled by g, or ``ce_backward`` on arrays."""
        x = ctx.inputs[0]
        e, s, t, wy, valid = ctx.saved_tensors
        nan_rows = _nan_softmax_rows(class_last(x.data))
        if s is None:
            scale = grad.reshape(-1, 1) if ctx.reduction == "none" else grad
            gx = (e * scale).astype(x.dtype, copy=False)
            if nan_rows is not None:
                gx[nan_rows] = np.nan
            return gx, None
        g2 = ce_backward(e, s, t, wy, valid, ctx.weight, ctx.smoothing, _scale(ctx, grad))
        if valid is not None:
            g2[~valid] = 0
        if nan_rows is not None:
            g2[nan_rows] = np.nan
        return class_back(g2.astype(x.dtype, copy=False), x.shape), None


class SoftTargetCrossEntropy(Function):
    """Cross-entropy against class probabilities t, with t' = (1 - eps) t + eps / C:

        l = -sum_c w_c t'_c lsm_c,   d/dx = g/D (p sum_c w_c t'_c - w t'),
        d/dt_c = -g/D (1 - eps) w_c lsm_c        (lsm = log_softmax(x), p = softmax(x))
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                reduction: str, smoothing: float) -> np.ndarray:
        x2 = class_last(x)
        t = class_last(target.astype(x.dtype, copy=False))
        if smoothing:
            t = (1.0 - smoothing) * t + smoothing / x2.shape[1]
        wt = t if weight is None else t * weight
        m, e, s = softmax_parts(x2)
        lse = np.log(s) + m
        loss = wt.sum(axis=1) * lse - np.einsum("ij,ij->i", wt, x2)
        ctx.reduction, ctx.smoothing, ctx.weight, ctx.denominator = reduction, smoothing, weight, x2.shape[0]
        ctx.save_for_backward(e, s, wt, lse)
        return _reduce_rows(loss, reduction, ctx.denominator, x)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """The formulas above with Tensor ops (``_soft_target_tensor_backward``)."""
        return _soft_target_tensor_backward(ctx, grad)

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Fast path: the same gradients from the saved softmax parts, on arrays."""
        x, target = ctx.inputs
        need_x, need_t = ctx.needs_input_grad
        e, s, wt, lse = ctx.saved_tensors
        scale = _scale(ctx, grad)
        gx = gt = None
        if need_x:
            gx = class_back(ce_prob_backward(e, s, wt, scale).astype(x.dtype, copy=False), x.shape)
        if need_t:
            lsm = class_last(x.data) - _col(lse)
            g2 = -(1.0 - ctx.smoothing) * _col(scale) * lsm
            if ctx.weight is not None:
                g2 = g2 * ctx.weight
            gt = class_back(g2, x.shape).astype(target.dtype, copy=False)
        return gx, gt


def _soft_target_tensor_backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """SoftTargetCrossEntropy's gradients with Tensor ops (create_graph=True), so both can be
    differentiated again, also across x and t."""
    x, target = ctx.inputs
    cdim = 0 if x.ndim == 1 else 1
    classes = x.shape[cdim]
    if ctx.reduction == "none":
        g = grad.unsqueeze(cdim) if x.ndim > 1 else grad
    elif ctx.reduction == "sum":
        g = grad
    else:
        g = grad * (1.0 / ctx.denominator if ctx.denominator else math.nan)
    w = None
    if ctx.weight is not None:
        w = Tensor.make(ctx.weight.reshape((classes,) + (1,) * (x.ndim - cdim - 1)))
    t = target.to(x.dtype)
    if ctx.smoothing:
        t = t * (1.0 - ctx.smoothing) + ctx.smoothing / classes
    wt = t if w is None else t * w
    lsm = x.log_softmax(cdim)
    gx = g * (lsm.exp() * wt.sum(cdim, keepdim=True) - wt) if ctx.needs_input_grad[0] else None
    gt = None
    if ctx.needs_input_grad[1]:
        gt = g * lsm * -(1.0 - ctx.smoothing)
        gt = (gt if w is None else gt * w).to(target.dtype)
    return gx, gt


class NLL(Function):
    """Negative log-likelihood of log-probabilities: l = -w_y x_y;  d/dx = -g/D w_y at y."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, target: np.ndarray, *, weight: np.ndarray | None,
                ignore_index: int, reduction: str) -> np.ndarray:
        x2 = class_last(x)
        t, wy, valid = _index_target("nll_loss", x, target, weight, ignore_index)
        ctx.reduction = reduction
        ctx.denominator = _weight_sum(wy, t.shape[0])
        fused_grad = None
        if ctx.needs_input_grad and x.ndim == 2 and use_kernel(x.dtype):
            kernel_target = t if valid is None else np.where(valid, t, -1)
            loss, fused_grad = kernel_ce.nll_loss(x, kernel_target, weight, -1, reduction)
        else:
            loss = -x2[np.arange(x2.shape[0]), t]
            if valid is not None:  # set, not multiplied: an ignored -inf must give 0, not NaN
                loss[~valid] = 0
            if wy is not None:
                loss *= wy
            loss = _reduce_rows(loss, reduction, ctx.denominator, x)
        ctx.save_for_backward(t, wy, valid, fused_grad)
        return loss

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor, None]:
        """-g/D * b with b = w_y at the target class (``_tensor_backward`` with no softmax)."""
        x = ctx.inputs[0]
        t, wy, valid, _ = ctx.saved_tensors
        c = x.shape[0] if x.ndim == 1 else x.shape[1]
        keep = _keep(t, valid, c, rows=False)
        return _tensor_backward(ctx, grad, None, _nll_b(t, wy, c, x.dtype), keep), None

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> tuple[np.ndarray, None]:
        """Fast path: the kernel's saved gradient scaled by g, or the same rule on arrays."""
        x = ctx.inputs[0]
        t, wy, valid, fused_grad = ctx.saved_tensors
        if fused_grad is not None:
            scale = grad.reshape(-1, 1) if ctx.reduction == "none" else grad
            return (fused_grad * scale).astype(x.dtype, copy=False), None
        c = x.shape[0] if x.ndim == 1 else x.shape[1]
        g2 = -_col(_scale(ctx, grad)) * _nll_b(t, wy, c, x.dtype)
        if _zero_mean(ctx):
            g2 = np.where(_keep(t, valid, c, rows=False), g2, 0)
        return class_back(g2, x.shape).astype(x.dtype, copy=False), None


def _nll_b(t: np.ndarray, wy: np.ndarray | None, c: int, dtype: np.dtype) -> np.ndarray:
    """(positions, C) with w_y at each target class, 0 elsewhere: dl/dx = -g/D * b."""
    b = np.zeros((t.shape[0], c), dtype=dtype)
    b[np.arange(t.shape[0]), t] = 1.0 if wy is None else wy
    return b


# ----------------------------------------------------------------------------- checks
def _classes(name: str, input: Tensor) -> int:
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: input must be floating point (logits), got {input.dtype}; use .float()")
    if input.ndim == 0:
        raise RuntimeError(f"{name}: input must have a class dimension: (C), (N, C) or (N, C, d1, ...), "
                           f"got shape ()")
    return input.shape[0] if input.ndim == 1 else input.shape[1]


def _weight(name: str, weight: Tensor | None, c: int, dtype: np.dtype) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(w.shape)}")
    return w.astype(dtype, copy=False)


def _targets(target: Any) -> Tensor:
    """Class indices as a Tensor input of the op (a list or array is wrapped, not copied)."""
    return target if isinstance(target, Tensor) else Tensor.make(np.asarray(target))


def _index_target(name: str, input: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                  ignore_index: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Validate class indices; return (t with 0 at ignored positions, w[t] * mask, mask),
    None standing for all ones."""
    t = int_targets(name, target, "for class probabilities give a float target of the input's shape")
    expected = () if input.ndim == 1 else input.shape[:1] + input.shape[2:]
    if t.shape != expected:
        raise RuntimeError(f"{name}: Expected target size {list(expected)}, got {list(t.shape)} "
                           f"(input {list(input.shape)})")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    t = t.reshape(-1).astype(np.int64, copy=False)
    if t.size and 0 <= t.min() and t.max() < c and not 0 <= ignore_index < c:
        return t, (None if weight is None else weight[t]), None
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"{name}: Target {t[bad][0]} is out of bounds: class indices must be in "
                         f"[0, {c}) or equal ignore_index={ignore_index}")
    t = np.where(valid, t, 0)
    wy = valid.astype(input.dtype) if weight is None else weight[t] * valid
    return t, wy, valid


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits ``input`` (C), (N, C) or (N, C, d1..dK) against ``target``.

    Class indices (target shape (), (N) or (N, d1..dK)):
        l_n = -(1 - eps) w[y_n] lsm(x_n)[y_n] - (eps / C) sum_c w[c] lsm(x_n)[c], lsm = log_softmax,
        'mean' divides by sum_n w[y_n] over non-ignored positions (NaN if all are ignored).
    Class probabilities (target of the input's shape, float):
        l_n = -sum_c w[c] t'_nc lsm(x_n)[c] with t' = (1 - eps) t + eps / C, 'mean' over positions.
    Gradient: w_y (softmax(x) - onehot(y)) for plain indices; p sum_c w_c t'_c - w t' for probabilities.
    The default loss for single-label classification: it is computed from log-sum-exp, never
    log(softmax), so logits of any size give finite values.
    """
    check_reduction("cross_entropy", reduction)
    c = _classes("cross_entropy", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. "
                           f"Got: {label_smoothing}")
    w = _weight("cross_entropy", weight, c, input.dtype)
    if target.shape == input.shape:
        if target.dtype.kind != "f":
            raise RuntimeError(f"cross_entropy: Expected floating point type for target with class "
                               f"probabilities, got {target.dtype}")
        if ignore_index >= 0:
            raise RuntimeError(f"cross_entropy: ignore_index is not supported for floating point target "
                               f"(got ignore_index={ignore_index}); leave it at -100")
        dtype = dtypes.promote_types(input.dtype, target.dtype)  # as torch: f32 with f64 is f64
        input, target = input.to(dtype), target.to(dtype)
        w = _weight("cross_entropy", weight, c, dtype)
        return SoftTargetCrossEntropy.apply(input, target, weight=w, reduction=reduction,
                                            smoothing=label_smoothing)
    return CrossEntropy.apply(input, _targets(target), weight=w, ignore_index=ignore_index,
                              reduction=reduction, smoothing=label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: l_n = -w[y_n] x_n[y_n] for log-probabilities ``input``.

    Shapes as cross_entropy (class indices only); 'mean' divides by sum_n w[y_n] over
    non-ignored positions. Gradient: -w[y_n] at the target class, 0 elsewhere.
    Use it after an explicit log_softmax; cross_entropy fuses both.
    """
    check_reduction("nll_loss", reduction)
    c = _classes("nll_loss", input)
    w = _weight("nll_loss", weight, c, input.dtype)
    return NLL.apply(input, _targets(target), weight=w, ignore_index=ignore_index, reduction=reduction)


class CrossEntropyLoss(Module):
    """Module form of :func:`cross_entropy`; ``weight`` is a buffer."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index, self.reduction, self.label_smoothing = ignore_index, reduction, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                             self.label_smoothing)

    def extra_repr(self) -> str:
        return (f"ignore_index={self.ignore_index}, reduction={self.reduction!r}, "
                f"label_smoothing={self.label_smoothing}")


class NLLLoss(Module):
    """Module form of :func:`nll_loss`; ``weight`` is a buffer."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"
