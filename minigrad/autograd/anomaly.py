"""Anomaly mode: stop at the first op whose value or gradient holds NaN or Inf.

When training turns NaN, the NaN is usually born in one op (``log(0)``, ``exp`` of a
large logit, ``0/0``) and then spreads everywhere. With anomaly detection on, every
op checks its output in forward and every node checks the gradients it produces in
backward, and the error names the op, the line of *your* code that created it, and the
shapes and value ranges of its inputs::

    Log produced -inf (1 of 4 values, first at index (2,)) in forward at train.py:42
    (loss = p.log().mean()). input 0: shape (4,) float32, min 0 max 3. Hint: ...

Off by default: when off, the only cost is one attribute read per op
(``anomaly.STATE.enabled`` in ``Function.apply`` and in the backward loop).
With ``check_nan=False`` (as in PyTorch) the mode only records where each op was made,
so other errors raised in backward can point at your code.
"""

from __future__ import annotations

import functools
import linecache
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .function import Node

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_F = TypeVar("_F", bound=Callable[..., Any])


class _State:
    enabled = False
    check_nan = True


STATE = _State()

_HINTS = {
    "Log": "log of 0 gives -inf and of a negative number NaN: clamp the input "
           "(x.clamp_min(1e-12)) or use log_softmax instead of softmax().log()",
    "Exp": "exp overflows float32 above about 88: subtract the max first (logsumexp, "
           "log_softmax) or lower the learning rate",
    "Div": "division by zero (or 0/0): add a small epsilon to the denominator",
    "Pow": "a negative base to a fractional power, or 0 to a negative power",
    "PowScalar": "x ** p with p < 0 (x.rsqrt(), x ** -1) is infinite at x = 0, and a negative x "
                 "to a fractional power is NaN: add an epsilon (as normalisation layers do) or "
                 "clamp x",
    "Sqrt": "sqrt of a negative number; and its gradient at 0 is infinite: add an epsilon",
    "Log1p": "log1p(x) is -inf at x = -1 and NaN below: clamp the input above -1",
}


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

        @minigrad.debug.detect_anomaly()
        def train_step(...): ...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._saved: list[tuple[bool, bool]] = []

    def __enter__(self) -> None:
        self._saved.append((STATE.enabled, STATE.check_nan))
        STATE.enabled, STATE.check_nan = True, self.check_nan

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled, STATE.check_nan = self._saved.pop()

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_detect_anomaly:
    """Turn anomaly detection on or off globally; also a context manager that restores
    the previous setting on exit (as ``torch.autograd.set_detect_anomaly``)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (STATE.enabled, STATE.check_nan)
        STATE.enabled, STATE.check_nan = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled, STATE.check_nan = self._prev


def user_frame() -> str:
    """``file:line (source)`` of the innermost stack frame outside the minigrad package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _in_package(filename):
            line = linecache.getline(filename, frame.f_lineno).strip()
            return f"{filename}:{frame.f_lineno}" + (f" ({line})" if line else "")
        frame = frame.f_back
    return "<unknown>"


@functools.lru_cache(maxsize=512)
def _in_package(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def _inside_backward() -> bool:
    """True when the op runs inside a backward rule: ``check_backward`` then reports it
    under the name of the node whose gradient went bad, which is what the user wrote."""
    from .engine import run_backward

    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is run_backward.__code__:
            return True
        frame = frame.f_back
    return False


def describe(arr: np.ndarray) -> str:
    """Shape, dtype and value range of an array, for error messages."""
    shape = tuple(arr.shape)
    if arr.size == 0 or arr.dtype.kind not in "fiub":
        return f"shape {shape} {arr.dtype}"
    finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    if finite.size == 0:
        return f"shape {shape} {arr.dtype}, no finite values ({_bad(arr)})"
    extra = f", {arr.size - finite.size} non-finite ({_bad(arr)})" if finite.size < arr.size else ""
    lo, hi = finite.min(), finite.max()
    return f"shape {shape} {arr.dtype}, min {lo:.6g} max {hi:.6g}{extra}"


def _bad(arr: np.ndarray) -> str | None:
    """'nan', '-inf' or 'inf' (the worst found) if ``arr`` is not all finite, else None."""
    if arr.dtype.kind not in "fc" or np.isfinite(arr).all():
        return None
    if np.isnan(arr).any():
        return "nan"
    return "-inf" if np.isneginf(arr).any() else "inf"


def _where_bad(arr: np.ndarray) -> str:
    bad = ~np.isfinite(arr)
    count = int(np.count_nonzero(bad))
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), arr.shape))
    return f"{count} of {arr.size} values, first at index {first}"


def _inputs_text(inputs: tuple[Tensor, ...]) -> str:
    return "; ".join(f"input {i}: {describe(t.data)}" for i, t in enumerate(inputs))


def check_forward(name: str, node: Node | None, inputs: tuple[Tensor, ...], out: Tensor) -> None:
    """Raise if ``out`` holds NaN/Inf; remember on the graph node (if one was recorded) where
    the op was made, for backward errors."""
    where = user_frame()
    if node is not None:
        node.trace = where
    if not STATE.check_nan:
        return
    kind = _bad(out.data)
    if kind is None or _inside_backward():
        return
    message = (f"{name} produced {kind} ({_where_bad(out.data)}) in forward at {where}. "
               f"{_inputs_text(inputs)}.")
    already = [i for i, t in enumerate(inputs) if _bad(t.data) is not None]
    if already:
        message += (f" Input {already[0]} was already non-finite when it reached {name}: the "
                    f"bad value came from your data, a parameter, or code run outside anomaly "
                    f"mode.")
    elif name in _HINTS:
        message += f" Hint: {_HINTS[name]}."
    raise AnomalyError(message)


def check_backward(node: Node, grads: tuple[Any, ...]) -> None:
    """Raise if a backward rule returned a non-finite gradient."""
    if not STATE.check_nan:
        return
    for i, g in enumerate(grads):
        if g is None:
            continue
        kind = _bad(g.data)
        if kind is not None:
            made = node.trace or "<unknown: the op was created before anomaly mode was on>"
            hint = f" Hint: {_HINTS[node.name]}." if node.name in _HINTS else ""
            raise AnomalyError(
                f"{node.name}Backward produced {kind} ({_where_bad(g.data)}) in the gradient of "
                f"input {i}; the op was created at {made}. {_inputs_text(node.inputs)}.{hint}"
            )
