"""``autocast``: inside it, matmul-class ops (``matmul``, ``F.linear``) work at float16 precision.

float16 has 10 mantissa bits (resolution 2^-10, about 3 decimal digits) and a range of
6.1e-5 (smallest normal; subnormals down to 6e-8) to 65504. Mixed-precision hardware reads
float16 operands, accumulates the products in float32, and writes float16 results. That is
what an op does here: it rounds its float32 inputs to float16, computes the product in
float32 (numpy's own float16 matmul is far too slow to use), and rounds the result to
float16. Softmax, log-softmax, losses and reductions are left alone, so they stay float32.

Gradients are rounded at the same places on the way back: the gradient reaching a rounded
output is rounded to float16 (this is where small gradients underflow to 0, and why
``GradScaler`` multiplies the loss first), and so are the gradients the op sends to its
inputs (the weight gradient a float16 matmul produces), as in PyTorch.

The float16 values are carried in float32 arrays: every value a matmul-class op reads or
writes under autocast is exactly representable in float16, but ``y.dtype`` stays float32
(PyTorch's autocast returns float16 tensors). This way the float32 ops after it, and the
Numba kernels, need no float16 path. Outside ``autocast`` nothing changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor


class _State:
    enabled = False


STATE = _State()


def is_autocast_enabled() -> bool:
    """Whether matmul-class ops run at float16 precision now."""
    return STATE.enabled


def round_to_half(x: np.ndarray) -> np.ndarray:
    """x rounded to the nearest float16 (overflow to +-inf, underflow to 0), in x's dtype."""
    with np.errstate(over="ignore"):
        return x.astype(np.float16).astype(x.dtype)


class RoundToHalf(Function):
    """y = fp16(x), the nearest float16 value, kept in x's dtype;  d/dx: fp16(grad)

    The derivative of rounding is taken as 1 (straight through), and the gradient is
    rounded too: gradients flow at the precision the forward used.
    """

    @staticmethod
    def forward(ctx: Function, x: np.ndarray) -> np.ndarray:
        return round_to_half(x)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        return RoundToHalf.apply(grad)


def _round(t: Any) -> Any:
    """Round float32 Tensors; leave float64 ones (as PyTorch's autocast does), integers and
    non-Tensors alone."""
    if isinstance(t, Tensor) and t.dtype == dtypes.float32:
        return RoundToHalf.apply(t)
    return t


def autocast_call(fn: Callable[..., Tensor], *inputs: Any, **params: Any) -> Tensor:
    """fp16(fn(fp16(inputs))): what a matmul-class op does under autocast.

    ``matmul`` and ``LinearAct.apply`` call this (one check of ``STATE.enabled``); ``fn`` is
    the op's ordinary apply, so the product itself runs at float32 on BLAS.
    """
    return _round(fn(*[_round(t) for t in inputs], **params))


class autocast:
    """Context manager (and decorator): matmul-class ops run at float16 precision inside.

    ``autocast(device_type="cpu", dtype=minigrad.float16, enabled=True)``, the arguments of
    ``torch.autocast``. ``device_type`` is there so PyTorch code reads the same (minigrad runs
    on the CPU; "cuda" is accepted and means the same); only float16 exists (numpy has no
    bfloat16). ``enabled=False`` switches autocast off inside an enclosing autocast. Run the
    backward pass outside the block, as in PyTorch; it follows what the forward did.
    """

    def __init__(self, device_type: str = "cpu", dtype: Any = dtypes.float16, enabled: bool = True) -> None:
        if device_type not in ("cpu", "cuda"):
            raise ValueError(f"autocast: device_type must be 'cpu' or 'cuda', got {device_type!r}")
        if np.dtype(dtype) != dtypes.float16:
            raise ValueError(f"autocast: only dtype=float16 is supported (numpy has no bfloat16), "
                             f"got {np.dtype(dtype)}")
        self.device_type, self.dtype, self.enabled = device_type, np.dtype(dtype), bool(enabled)
        self._prev: list[bool] = []

    def __enter__(self) -> autocast:
        self._prev.append(STATE.enabled)
        STATE.enabled = self.enabled
        return self

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled = self._prev.pop()

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper
