"""Gradient clipping: keep one bad batch from throwing the weights far away.

``clip_grad_norm_`` rescales all gradients together so that their total norm (the norm
of every gradient concatenated into one vector) is at most ``max_norm``; the direction of
the update is kept. ``clip_grad_value_`` clamps each gradient element instead.
Call either between ``loss.backward()`` and ``optimizer.step()``. Both first check that
every gradient is a Tensor of its parameter's shape and dtype (``RuntimeError`` otherwise),
as the optimizers do.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import numpy as np

from ...optim.optimizer import check_grad
from ...tensor import Tensor
from ...trace import replayed_whole

Tensors = Tensor | Iterable[Tensor]


def _as_list(tensors: Tensors) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        return [tensors]
    is_generator = isinstance(tensors, types.GeneratorType)
    tensors = list(tensors)
    if is_generator and not tensors:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                      stacklevel=3)
    return tensors


def _grads(owner: str, parameters: Tensors) -> list[np.ndarray]:
    """The gradient arrays of ``parameters`` (those that have one), each checked against its
    parameter, all before any is changed."""
    grads = []
    for i, p in enumerate(_as_list(parameters)):
        g = check_grad(owner, p, lambda i=i, p=p: f"parameter {i} (shape {p.shape})")
        if g is not None:
            grads.append(g)
    return grads


def _norm(x: np.ndarray, norm_type: float) -> float:
    a = np.abs(x.astype(np.float64, copy=False)).ravel()
    if norm_type == math.inf:
        return float(a.max()) if a.size else 0.0
    if norm_type == 0:
        return float(np.count_nonzero(a))
    return float(np.sum(a**norm_type) ** (1.0 / norm_type))


def get_total_norm(tensors: Tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """||(||g_1||_p, ..., ||g_k||_p)||_p, the p-norm of all tensors concatenated
    (max |g| for p = inf), as a 0-d tensor; 0.0 for no tensors. ``foreach`` is ignored."""
    arrays = [t.data for t in _as_list(tensors)]
    norm_type = float(norm_type)
    dtype = arrays[0].dtype if arrays else np.dtype(np.float32)
    if not arrays:
        return Tensor.make(np.array(0.0, dtype=dtype))
    total = _norm(np.array([_norm(a, norm_type) for a in arrays]), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite ({total}), so it cannot be clipped. To disable this error and scale "
            f"the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor.make(np.array(total, dtype=dtype))


def clip_grads_with_norm_(parameters: Tensors, max_norm: float, total_norm: Tensor | float,
                          foreach: bool | None = None) -> None:
    """Multiply every gradient in place by min(1, max_norm / (total_norm + 1e-6)).

    The multiply happens even when the factor is 1 (as in PyTorch), so a nan total makes
    every gradient nan and an inf total zeroes the finite entries: the error is visible.
    """
    grads = _grads("clip_grads_with_norm_", parameters)
    if not grads:
        return
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    coef = min(coef, 1.0) if not math.isnan(coef) else coef
    with np.errstate(invalid="ignore"):  # inf * 0 -> nan is the intended signal
        for g in grads:
            np.multiply(g, coef, out=g, casting="unsafe")


@replayed_whole
def clip_grad_norm_(parameters: Tensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients so their total ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm *before* clipping (a 0-d tensor), handy for logging.
    """
    params = _as_list(parameters)
    grads = [Tensor.make(g) for g in _grads("clip_grad_norm_", params)]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


@replayed_whole
def clip_grad_value_(parameters: Tensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads("clip_grad_value_", parameters):
        np.clip(g, -clip_value, clip_value, out=g)
