"""Short, deterministic text summaries of arrays, shared by the DOT and text renderers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Released


def fmt(x: float) -> str:
    """A number in 4 significant digits (``1.235``, ``-0.0001``, ``3.2e+05``)."""
    return f"{x:.4g}"


def shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _nonfinite(a: np.ndarray) -> str:
    if a.dtype.kind not in "fc":
        return ""
    nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    parts = [f"{nan} NaN" if nan else "", f"{inf} Inf" if inf else ""]
    text = ", ".join(p for p in parts if p)
    return f" ({text})" if text else ""


def values(a: np.ndarray) -> str:
    """The number itself for one element; ``min/mean/max`` over the finite entries otherwise."""
    if not isinstance(a, np.ndarray | np.generic):
        return "freed by backward"
    if a.size == 1:
        return fmt(a.item()) if a.dtype.kind in "fc" else str(a.item())
    if a.size == 0:
        return "empty"
    finite = a[np.isfinite(a)] if a.dtype.kind in "fc" else a
    if finite.size == 0:
        return "no finite values" + _nonfinite(a)
    f = finite.astype(np.float64)
    lo, hi, mean = f.min(), f.max(), f.mean()
    if abs(mean) <= 1e-6 * max(abs(lo), abs(hi)):
        mean = 0.0  # rounding noise (e.g. -9e-10 for a sum that is 0), which varies with the BLAS
    return f"min {fmt(lo)} mean {fmt(mean)} max {fmt(hi)}" + _nonfinite(a)


def norm(a: np.ndarray) -> float:
    """L2 norm of all entries (what gradient clipping measures)."""
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


def grad_values(g: np.ndarray) -> str:
    """A gradient: the number for one element; its norm plus min/max otherwise."""
    if g.size == 1:
        return values(g)
    return f"norm {fmt(norm(g))}, " + values(g)


def grad_short(g: np.ndarray) -> str:
    """An edge label: the number for one element, ``norm N`` otherwise."""
    if g.size == 1:
        return values(g)
    return f"norm {fmt(norm(g))}" + _nonfinite(g)


def as_array(value: Any) -> np.ndarray | Released | None:
    """The numpy array inside a Tensor or array value (or the ``Released`` shape and dtype
    of one freed by backward), None for anything else."""
    data = value.data if hasattr(value, "grad_fn") else value
    return data if isinstance(data, np.ndarray | Released) else None


def attr_str(value: Any) -> str:
    """A per-op attribute (``dim=1``); arrays and tensors are shown by shape and dtype."""
    data = as_array(value)
    if data is not None:
        return f"array{shape_str(data.shape)} {data.dtype}"
    if isinstance(value, np.dtype):
        return str(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
