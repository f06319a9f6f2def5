"""Activation functions and softmax: the nonlinearities between layers.

Where the derivative is cheapest in terms of the output (tanh, sigmoid, softmax) the
backward reads ``ctx.output``; the forms used for large inputs are the stable ones
(sigmoid never computes exp of a large positive number, softplus uses log1p).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .dims import dim as _dim
from .elementwise import Erf, Where, as_float


class Tanh(Function):
    """d/dx tanh(x) = 1 - tanh(x)^2"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return np.tanh(as_float(x))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        y = ctx.output
        return grad * (1.0 - y * y)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: no overflow either side."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """d/dx sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return stable_sigmoid(as_float(x))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        y = ctx.output
        return grad * y * (1.0 - y)


class SlopeGrad(Function):
    """y = g where cond, else g * slope: the backward of relu and leaky_relu.

    An op of (g, x), not of g alone: its derivative in x is 0, but under create_graph the
    gradient stays connected to x, so grad(relu'(x) * g, x) is 0, as in PyTorch, rather
    than an error saying x was not used."""

    @staticmethod
    def forward(ctx: Function, g: np.ndarray, x: np.ndarray, cond: np.ndarray,
                slope: float) -> np.ndarray:
        ctx.cond, ctx.slope = cond, slope
        return np.where(cond, g, g * np.asarray(slope, g.dtype) if slope else np.zeros((), g.dtype))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> tuple[Tensor, Tensor]:
        x = ctx.inputs[1]
        zeros = Tensor.make(np.zeros(x.shape, x.dtype))
        return SlopeGrad.apply(grad, x, cond=ctx.cond, slope=ctx.slope), zeros


class Relu(Function):
    """d/dx relu(x) = 1 where x > 0, else 0   (0 at x = 0 and 1 at NaN, as in PyTorch)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return SlopeGrad.apply(grad, ctx.inputs[0], cond=~(ctx.out_data <= 0), slope=0.0)


class LeakyRelu(Function):
    """d/dx leaky_relu(x) = 1 where x > 0, else negative_slope"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, negative_slope: float) -> np.ndarray:
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * np.asarray(negative_slope, x.dtype))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        x = ctx.inputs[0]
        return SlopeGrad.apply(grad, x, cond=x.data > 0, slope=ctx.negative_slope)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x (see ``LeakyRelu``)."""
    return LeakyRelu.apply(x, negative_slope=negative_slope)


class Elu(Function):
    """d/dx elu(x) = 1 where x > 0, else alpha * exp(x) = elu(x) + alpha

    At x = 0 the first derivative is alpha (the left side) but the second is 0, not alpha:
    PyTorch differentiates alpha * exp(x) only where x < 0, so we hold it constant at 0."""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, alpha: float) -> np.ndarray:
        ctx.alpha = alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        x = ctx.inputs[0].data
        alpha = Tensor.make(np.asarray(ctx.alpha, dtype=grad.dtype))
        slope = Where.apply(ctx.output + ctx.alpha, alpha, cond=x < 0)
        return Where.apply(grad, grad * slope, cond=~(x <= 0))  # NaN: the incoming gradient, as PyTorch


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1) (see ``Elu``)."""
    return Elu.apply(x, alpha=alpha)


class Gelu(Function):
    """gelu(x) = x * Phi(x);  d/dx = Phi(x) + x * phi(x)   (Phi, phi: normal cdf and pdf).

    ``approximate='tanh'`` uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, approximate: str) -> np.ndarray:
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            return (0.5 * x * (1.0 + np.tanh(inner))).astype(x.dtype, copy=False)
        from scipy.special import erf

        return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = Tanh.apply((x + x * x * x * 0.044715) * k)
            dt = (1.0 - t * t) * (1.0 + x * x * (3 * 0.044715)) * k
            return grad * ((1.0 + t) * 0.5 + x * dt * 0.5)
        cdf = (Erf.apply(x * (1 / math.sqrt(2.0))) + 1.0) * 0.5
        pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return grad * (cdf + x * pdf)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), or its tanh approximation (see ``Gelu``)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x, approximate=approximate)


class Softplus(Function):
    """softplus(x) = log(1 + exp(beta x)) / beta;  d/dx = sigmoid(beta x).

    Linear (x itself, gradient 1) where beta x > threshold, as in PyTorch. At beta x =
    threshold the first derivative is still sigmoid(beta x) but, as in PyTorch, the second
    is 0 (the sigmoid is differentiated only where beta x < threshold).
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
        ctx.beta, ctx.threshold = beta, threshold
        z = x * np.asarray(beta, x.dtype)
        soft = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / np.asarray(beta, x.dtype)
        return np.where(z > threshold, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        (x,) = ctx.inputs
        z = x * ctx.beta
        at_threshold = Tensor.make(stable_sigmoid(z.data))
        slope = Where.apply(Sigmoid.apply(z), at_threshold, cond=z.data < ctx.threshold)
        return Where.apply(grad, grad * slope, cond=z.data > ctx.threshold)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, x itself above the threshold (see ``Softplus``)."""
    return Softplus.apply(x, beta=beta, threshold=threshold)


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max));  dx = y * (g - sum(g * y))"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: int) -> np.ndarray:
        ctx.dim = dim
        if x.size == 0:
            return x.copy()
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        y = ctx.output
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x);  dx = g - softmax(x) * sum(g)   (never log of a softmax)"""

    @staticmethod
    def forward(ctx: Function, x: np.ndarray, dim: int) -> np.ndarray:
        ctx.dim = dim
        if x.size == 0:
            return x.copy()
        shifted = x - x.max(axis=dim, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return grad - ctx.output.exp() * grad.sum(ctx.dim, keepdim=True)


def softmax(x: Tensor, dim: int) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (see ``Softmax``)."""
    return Softmax.apply(x, dim=_dim(x, dim))


def log_softmax(x: Tensor, dim: int) -> Tensor:
    """x - logsumexp(x) along ``dim`` (see ``LogSoftmax``)."""
    return LogSoftmax.apply(x, dim=_dim(x, dim))
