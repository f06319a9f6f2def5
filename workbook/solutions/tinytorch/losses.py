"""Task 5: softmax cross-entropy that never overflows, with its fused backward.

For logits z (N, C) and integer targets y (N,), the mean cross-entropy is

    L = -1/N sum_i log softmax(z_i)[y_i],   log softmax(z)_j = z_j - log sum_k e^(z_k).

``e^1000`` overflows to inf in float64 (and ``e^89`` in float32), so the naive formula
turns large logits into nan. Subtracting the row maximum m first changes nothing
mathematically, log sum_k e^(z_k) = m + log sum_k e^(z_k - m), but every exponent is now
<= 0: no overflow, and the largest term is e^0 = 1, so no log(0) either (log-sum-exp).

The gradient simplifies to dL/dz = (softmax(z) - onehot(y)) / N: one node in the graph
instead of the five of exp, sum, log, index and mean, and no division by a tiny number.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Task 5: log softmax over the last axis of a numpy array, computed stably:
    ``z - m - log(sum(exp(z - m)))`` with m the row maximum (keep it with ``keepdims=True``
    so it broadcasts). Same shape and dtype as ``logits``; finite for logits of +-1000.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(logits: Tensor, target: np.ndarray) -> Tensor:
    """Task 5: the mean softmax cross-entropy of ``logits`` (N, C) against class indices
    ``target`` (N,) (ints in [0, C)), as ``torch.nn.functional.cross_entropy``.

    Forward: ``-mean(log_softmax(z)[i, y_i])``, a 0-d `Tensor` of the logits' dtype whose
    only child is ``logits``. Backward, fused: ``logits`` receives
    ``out.grad * (softmax(z) - onehot(y)) / N`` with softmax(z) = exp(log_softmax(z)).
    """
    target = np.asarray(target)
    n = logits.shape[0]
    logp = log_softmax(logits.data)
    rows = np.arange(n)
    out = Tensor(np.asarray(-logp[rows, target].mean(), dtype=logits.dtype), _children=(logits,),
                 _op="cross_entropy")

    def _backward() -> None:
        grad = np.exp(logp)
        grad[rows, target] -= 1.0
        logits._accumulate(out.grad * grad / n)

    out._backward = _backward
    return out
