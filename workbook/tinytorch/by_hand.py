"""Task 8: backprop by hand: the whole backward pass of the MLP as numpy expressions.

No `Tensor`, no graph, no autograd: you derive every gradient and write it down. The MLP is

    a = x W1^T + b1      (N, H)       h = relu(a)          (N, H)
    z = h W2^T + b2      (N, C)       L = cross_entropy(z, y) (mean over the N rows)

and the backward pass runs the same chain in reverse, each step a local rule:

    dz  = (softmax(z) - onehot(y)) / N
    dW2 = dz^T h,   db2 = sum_rows dz,   dh = dz W2
    da  = dh * (a > 0)
    dW1 = da^T x,   db1 = sum_rows da

Each gradient has the shape of what it is the gradient of: a quick check for every line.
"""

from __future__ import annotations

import numpy as np


def linear_backward(x: np.ndarray, weight: np.ndarray,
                    dout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Task 8: gradients of ``out = x @ weight.T + bias`` given ``dout = dL/dout`` (N, out).

    Returns ``(dx, dweight, dbias)``: dx = dout @ weight (N, in), dweight = dout^T @ x
    (out, in), dbias = dout summed over the rows (out,): the bias was broadcast over N rows.
    """
    raise NotImplementedError("task 8: linear_backward")


def relu_backward(pre: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """Task 8: gradient of ``relu(pre)``: ``dout`` where ``pre > 0``, 0 elsewhere (also at 0)."""
    raise NotImplementedError("task 8: relu_backward")


def cross_entropy_backward(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Task 8: dL/dlogits of the mean cross-entropy: ``(softmax(logits) - onehot(target)) / N``.

    Compute softmax stably (subtract each row's maximum before ``exp``).
    """
    raise NotImplementedError("task 8: cross_entropy_backward")


def mlp_forward_backward(x: np.ndarray, target: np.ndarray, W1: np.ndarray, b1: np.ndarray,
                         W2: np.ndarray, b2: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """Task 8: the loss of the MLP above and its gradients ``{"W1", "b1", "W2", "b2"}``, each
    the shape of its parameter, computed with the three functions above.

    Forward (keep ``a``, ``h`` and ``z``: backward needs them), the stable mean cross-entropy
    as the loss, then backward from ``dz`` down to ``dW1``.
    """
    raise NotImplementedError("task 8: mlp_forward_backward")
