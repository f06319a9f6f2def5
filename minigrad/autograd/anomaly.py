"""Anomaly mode: stop at the first op whose value or gradient holds NaN or Inf.

When training turns NaN, the NaN is usually born in one op (``log(0)``, ``exp`` of a
large logit, ``0/0``) and then spreads everywhere. With anomaly detection on, every
op checks its output in forward and every node checks the gradients it produces in
backward, and the error names the op, the line of *your* code that created it, and the
shapes and value ranges of its inputs. Off by default: when off, the only cost is one
attribute read per op.
"""

from __future__ import annotations

import os
import traceback
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .function import Function

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _State:
    enabled = False


STATE = _State()


class AnomalyError(RuntimeError):
    """Raised by anomaly mode at the first non-finite value or gradient."""


def is_anomaly_enabled() -> bool:
    return STATE.enabled


class detect_anomaly:
    """Context manager (and decorator) turning anomaly detection on.

    Example::

        with minigrad.debug.detect_anomaly():
            loss = model(x).log().mean()   # raises: "Log produced -inf ... at train.py:12"
            loss.backward()
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self.prev = STATE.enabled
        STATE.enabled = self.check_nan

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled = self.prev

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off globally."""
    STATE.enabled = bool(mode)


def user_frame() -> str:
    """``file:line`` of the innermost stack frame outside the minigrad package."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "<unknown>"


def describe(arr: np.ndarray) -> str:
    """Shape, dtype and value range of an array, for error messages."""
    shape = tuple(arr.shape)
    if arr.size == 0 or arr.dtype.kind not in "fiub":
        return f"shape {shape} {arr.dtype}"
    finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    if finite.size == 0:
        return f"shape {shape} {arr.dtype}, no finite values"
    extra = ""
    if finite.size < arr.size:
        extra = f", {arr.size - finite.size} non-finite"
    return f"shape {shape} {arr.dtype}, min {finite.min():.6g} max {finite.max():.6g}{extra}"


def _bad(arr: np.ndarray) -> str | None:
    if arr.dtype.kind != "f" or np.isfinite(arr).all():
        return None
    if np.isnan(arr).any():
        return "nan"
    return "-inf" if np.isneginf(arr).any() else "inf"


def check_forward(ctx: Function, inputs: tuple[Tensor, ...], out: Tensor, recorded: bool) -> None:
    """Raise if ``out`` holds NaN/Inf; remember where the op was made for backward errors."""
    where = user_frame()
    if recorded:
        ctx.trace = where
    kind = _bad(out.data)
    if kind is None:
        return
    args = "; ".join(f"input {i}: {describe(t.data)}" for i, t in enumerate(inputs))
    raise AnomalyError(f"{ctx.name} produced {kind} in forward at {where}. {args}")


def check_backward(node: Function, grads: tuple[Any, ...]) -> None:
    """Raise if a backward rule returned a non-finite gradient."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        kind = _bad(g.data)
        if kind is not None:
            made = getattr(node, "trace", "<unknown>")
            args = "; ".join(f"input {j}: {describe(t.data)}" for j, t in enumerate(node.inputs))
            raise AnomalyError(
                f"{node.name}Backward produced {kind} in the gradient of input {i}; "
                f"the op was created at {made}. {args}"
            )
