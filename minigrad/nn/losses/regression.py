"""Regression losses: how far a real-valued prediction ``x`` is from a target ``y``.

L1, MSE, Huber and SmoothL1 are hot, so they share one fused Function. When input and
target have the same shape and dtype it runs the fused kernel ``minigrad.kernels.regression``;
a broadcasting target takes the numpy pair per loss (``mse_value``/``mse_grad``, ...). Its
backward gives the target a gradient too (minus the input's); it is written with Tensor
operations, so second derivatives work, and the kernel's saved gradient is its declared
fast path (``fast_backward``), taken when ``create_graph`` is off. PoissonNLL,
GaussianNLL and LogCosh are compositions of differentiable primitives.
Every loss has a function (``F.mse_loss``) and a Module (``nn.MSELoss``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...autograd.function import Function
from ...kernels import regression as kernel_regression
from ...ops.activation import Softplus
from ...ops.elementwise import where
from ...tensor import Tensor
from ..module import Module
from ._reduction import check_reduction, reduce_accurate, reduce_array


def _as_tensor(value: Tensor | float, like: Tensor) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor.make(np.asarray(value, dtype=like.dtype))


def _target(name: str, input: Tensor, target: Tensor | float, stacklevel: int = 4) -> Tensor:
    """The target as a Tensor, warning (as PyTorch does) when broadcasting will kick in.

    An integer or bool target takes the input's dtype, as PyTorch's type promotion gives
    (float32 input, int64 target: a float32 loss; numpy alone would promote to float64).
    """
    target = _as_tensor(target, input)
    if target.dtype.kind in "biu" and input.dtype.kind == "f":
        target = Tensor.make(target.data.astype(input.dtype))
    if target.shape != input.shape:
        warnings.warn(
            f"{name}: Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            f"Please ensure they have the same size.", UserWarning, stacklevel=stacklevel,
        )
    return target


# ----------------------------------------------------------------------------- kernels
# Each pointwise loss is a pair: the value of l(d) and its derivative dl/dd, d = x - y.
def l1_value(d: np.ndarray, _: float) -> np.ndarray:
    return np.abs(d)


def l1_grad(d: np.ndarray, _: float) -> np.ndarray:
    """sign(d), with 0 where d is NaN (PyTorch's L1 gradient there)."""
    return np.sign(d, where=~np.isnan(d), out=np.zeros_like(d))


def mse_value(d: np.ndarray, _: float) -> np.ndarray:
    return np.square(d)


def mse_grad(d: np.ndarray, _: float) -> np.ndarray:
    return d + d


def huber_value(d: np.ndarray, delta: float) -> np.ndarray:
    """q (z - q/2) with z = |d|, q = min(z, delta): z^2/2 below delta, delta (z - delta/2) above."""
    z = np.abs(d)
    q = np.minimum(z, delta)
    z -= 0.5 * q
    z *= q
    return z


def huber_grad(d: np.ndarray, delta: float) -> np.ndarray:
    """clamp(d, -delta, delta) (an array also for a 0-d ``d``, whose arithmetic gives scalars)."""
    return np.clip(np.asarray(d), -delta, delta)


def smooth_l1_value(d: np.ndarray, beta: float) -> np.ndarray:
    """huber(d, beta) / beta."""
    z = huber_value(d, beta)
    z *= 1.0 / beta
    return z


def smooth_l1_grad(d: np.ndarray, beta: float) -> np.ndarray:
    """clamp(d / beta, -1, 1)."""
    return huber_grad(d * (1.0 / beta), 1.0)


KERNELS = {
    "l1": (l1_value, l1_grad),
    "mse": (mse_value, mse_grad),
    "huber": (huber_value, huber_grad),
    "smooth_l1": (smooth_l1_value, smooth_l1_grad),
}


def _tensor_grad(kind: str, d: Tensor, param: float) -> Tensor:
    """dl/dd written with Tensor ops, so the backward can itself be differentiated.

    Huber's and SmoothL1's slope is d (or d / beta) only strictly inside |d| < param and a
    constant from |d| = param on, so their second derivative is 0 at the kink, as PyTorch's.
    """
    if kind == "l1":
        return Tensor.make(l1_grad(d.data, param))
    if kind == "mse":
        return d * 2.0
    inside = np.abs(d.data) < param
    if kind == "huber":
        return where(inside, d, Tensor.make(huber_grad(d.data, param)))
    return where(inside, d * (1.0 / param), Tensor.make(smooth_l1_grad(d.data, param)))


class PointwiseLoss(Function):
    """l(x - y) summed, averaged or kept, for the four distance losses.

    When input and target have the same shape and dtype, one fused kernel
    (``minigrad.kernels.regression``) computes the loss and its gradient in a single pass
    when a backward can follow; broadcasting shapes and ``no_grad`` take the numpy path.

    d/dx = g/D * l'(x - y) and d/dy = -d/dx: the target gets a gradient too.
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, y: np.ndarray, kind: str, param: float,
                reduction: str) -> np.ndarray:
        ctx.kind, ctx.param, ctx.reduction = kind, param, reduction
        if ctx.needs_input_grad and x.shape == y.shape and x.dtype == y.dtype:
            ctx.count = x.size
            loss, fused_grad = kernel_regression.regression(kind, x, y, reduction, param)
            ctx.save_for_backward(fused_grad, None)
            return loss
        d = x - y
        ctx.count = d.size
        ctx.save_for_backward(None, d)
        loss = KERNELS[kind][0](d, param)
        return reduce_array(loss, reduction, d.size, loss.dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """d/dx = g/D * l'(x - y) with Tensor ops (``_tensor_grad``); d/dy = -d/dx."""
        x, y = ctx.inputs
        g = grad * (1.0 / ctx.count) if ctx.reduction == "mean" and ctx.count else grad
        gx = g * _tensor_grad(ctx.kind, x - y, ctx.param)
        return gx, (-gx if ctx.needs_input_grad[1] else None)

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Fast path: the kernel's saved l'(x - y)/D scaled by g, or the numpy rule on d."""
        fused_grad, d = ctx.saved_tensors
        if fused_grad is not None:
            gx = fused_grad * grad
        else:
            mean = ctx.reduction == "mean" and ctx.count
            gx = KERNELS[ctx.kind][1](d, ctx.param) * (grad.item() / ctx.count if mean else grad)
        return gx, (-gx if ctx.needs_input_grad[1] else None)


def _pointwise(name: str, kind: str, input: Tensor, target: Tensor, param: float, reduction: str) -> Tensor:
    """The loss in the wider float dtype of input and target, as PyTorch; but huber_loss in
    the input's (PyTorch 2.13 returns that, and raises in backward, where we do not)."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: input must be floating point, got {input.dtype} "
                           f"(an integer loss would be truncated); convert it with .float()")
    loss = PointwiseLoss.apply(input, _target(name, input, target), kind=kind, param=param,
                               reduction=reduction)
    return loss.to(input.dtype) if name == "huber_loss" else loss


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error: l = |x - y|.

    Gradient: sign(x - y) (0 where x == y or NaN, as PyTorch), the same size whatever the error, so a few
    outliers cannot dominate training. Use it for regression with outliers, or when you
    want the median rather than the mean of the target.
    """
    check_reduction("l1_loss", reduction)
    return _pointwise("l1_loss", "l1", input, target, 0.0, reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error: l = (x - y)^2.

    Gradient: 2 (x - y), proportional to the error: large errors are pushed hardest, so
    outliers dominate. The default for regression (it is the Gaussian negative
    log-likelihood with fixed variance, up to constants).
    """
    check_reduction("mse_loss", reduction)
    return _pointwise("mse_loss", "mse", input, target, 0.0, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss: l = z^2 / 2 if z < delta, else delta (z - delta / 2), with z = |x - y|.

    Gradient: clamp(x - y, -delta, delta): like MSE for small errors, like (delta times)
    L1 for large ones, so it is smooth at 0 and robust to outliers.
    """
    check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta. Got delta={delta}")
    return _pointwise("huber_loss", "huber", input, target, delta, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1: l = z^2 / (2 beta) if z < beta, else z - beta / 2, with z = |x - y|.

    Gradient: clamp((x - y) / beta, -1, 1). Equals huber_loss(delta=beta) / beta; with
    beta = 0 it is exactly L1. Popular for bounding-box regression.
    """
    check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta. Got beta={beta}")
    if beta == 0:
        return _pointwise("smooth_l1_loss", "l1", input, target, 0.0, reduction)
    return _pointwise("smooth_l1_loss", "smooth_l1", input, target, beta, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     eps: float = 1e-8, reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood for count targets y with predicted rate lambda.

    log_input=True (x = log lambda): l = exp(x) - y x, gradient exp(x) - y.
    log_input=False (x = lambda): l = x - y log(x + eps), gradient 1 - y / (x + eps).
    full=True adds Stirling's approximation of log(y!), y log y - y + log(2 pi y) / 2,
    where y > 1: it does not depend on x, but a target that requires grad gets its derivative
    log y + 1 / (2y) there (NaN at y = 0, as in PyTorch). Use it for counts (events, photons, clicks).
    """
    check_reduction("poisson_nll_loss", reduction)
    target = _as_tensor(target, input)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):  # y = 0 gives 0 * -inf, masked below
            stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + where(target.data > 1, stirling, 0.0).to(loss.dtype)
    return reduce_accurate(loss, reduction)


def _gaussian_var(input: Tensor, var: Tensor | float) -> Tensor:
    """Bring ``var`` to a shape that broadcasts with ``input`` (PyTorch's three rules)."""
    if not isinstance(var, Tensor):
        return Tensor.make(np.full(input.shape, var, dtype=input.dtype))
    if var.shape == input.shape:
        return var
    if input.shape[:-1] == var.shape:
        return var.unsqueeze(-1)
    if input.ndim > 0 and input.shape[:-1] == var.shape[:-1] and var.shape[-1:] == (1,):
        return var
    raise ValueError(
        f"gaussian_nll_loss: var is of incorrect size {var.shape} for input {input.shape}; use "
        f"the input's shape, the input's shape without its last dim, or that with a last dim of 1"
    )


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood: l = (log v + (x - y)^2 / v) / 2 (+ log(2 pi) / 2).

    v = max(var, eps) is clamped for stability without autograd: the gradient reaches var
    as if unclamped. Gradients: (x - y) / v for x, (1/v - (x - y)^2 / v^2) / 2 for var.
    Use it when the model predicts its own uncertainty (heteroscedastic regression).
    """
    check_reduction("gaussian_nll_loss", reduction)
    var = _gaussian_var(input, var)
    if np.any(var.data < 0):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries; variances must be >= 0")
    clamped = np.maximum(var.data, eps).astype(var.dtype)
    v = var + Tensor.make(clamped - var.data)
    d = input - _as_tensor(target, input)
    loss = (v.log() + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_accurate(loss, reduction)


def log_cosh_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Log-cosh: l = log(cosh(x - y)), computed as |d| + log1p(exp(-2|d|)) - log 2.

    Gradient: tanh(x - y). About d^2 / 2 for small errors and |d| - log 2 for large ones:
    a smooth Huber loss with no parameter (the Keras ``log_cosh`` extra).
    """
    check_reduction("log_cosh_loss", reduction)
    z = (input - _target("log_cosh_loss", input, target, stacklevel=3)).abs()
    loss = z + Softplus.apply(z * -2.0, beta=1.0, threshold=math.inf) - math.log(2.0)
    return reduce_accurate(loss, reduction)


class _Loss(Module):
    """Base of the loss Modules: keeps ``reduction`` and shows it in the repr."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class L1Loss(_Loss):
    """Module form of :func:`l1_loss`."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Module form of :func:`mse_loss`."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Module form of :func:`huber_loss`."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Module form of :func:`smooth_l1_loss`."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class PoissonNLLLoss(_Loss):
    """Module form of :func:`poisson_nll_loss`."""

    def __init__(self, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Module form of :func:`gaussian_nll_loss`."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                 reduction=self.reduction)


class LogCoshLoss(_Loss):
    """Module form of :func:`log_cosh_loss`."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return log_cosh_loss(input, target, reduction=self.reduction)
