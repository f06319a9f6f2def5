"""Gradient norms, computed with plain numpy on ``.data`` (no graph, no Tensor wrapping)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor


def array_norm(a: np.ndarray) -> float:
    """Euclidean norm ||a|| = sqrt(sum a_i^2); rescaled by max|a| when the float32 sum of
    squares overflows although every entry is finite. Callers silence numpy's overflow
    warning (``np.errstate(over="ignore")``) once around a batch of calls."""
    flat = a.ravel(order="K")  # a view for C- and F-ordered arrays (a weight's grad is often F)
    n = math.sqrt(float(np.dot(flat, flat)))
    if math.isfinite(n) or not np.isfinite(flat).all():
        return n
    m = float(np.abs(flat).max())
    scaled = flat.astype(np.float64) / m
    return m * math.sqrt(float(np.dot(scaled, scaled)))


def global_grad_norm(parameters: Module | Tensor | Iterable[Tensor], norm_type: float = 2.0) -> float:
    """Norm of all gradients seen as one long vector: sqrt(sum_p ||g_p||^2) for norm_type 2,
    max_p max|g_p| for ``inf``. This is the ``total_norm`` that ``clip_grad_norm_`` compares
    with ``max_norm``; parameters without a gradient are skipped (0.0 when none has one)."""
    if isinstance(parameters, Module):
        parameters = parameters.parameters()
    elif isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad.data for p in parameters if p.grad is not None]
    if norm_type == math.inf:
        return max((float(np.abs(g).max()) for g in grads if g.size), default=0.0)
    if norm_type != 2.0:
        raise ValueError(f"global_grad_norm: norm_type must be 2.0 or inf, got {norm_type}")
    with np.errstate(over="ignore"):
        return math.sqrt(sum(array_norm(g) ** 2 for g in grads))
