"""MultiTaskLoss: one objective for a network with several heads (several tasks).

Fixed weights give L = sum_k w_k L_k. Learned *uncertainty weighting* (Kendall, Gal &
Cipolla 2018) gives each task a trainable log-variance s_k = log sigma_k^2 and minimises

    L = c * sum_k (exp(-s_k) w_k L_k + s_k),    c = 1/2 (``half=True``) or 1,

so dL/ds_k = c (1 - exp(-s_k) w_k L_k): s_k settles where exp(s_k) = w_k L_k, i.e. a task
whose loss stays large (noisy, hard) gets the small weight exp(-s_k), and the + s_k term
stops every weight from collapsing to zero. The two values of c are the two forms in use:
the paper's regression form (1/2, the default) and sum exp(-s) L + s, which most code
writes; they have the same minimiser in s and differ by an overall factor 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .losses.composed import multi_task_loss
from .module import Module
from .parameter import Parameter


class MultiTaskLoss(Module):
    """Combine K scalar task losses: ``forward(*losses)``.

    ``MultiTaskLoss([1.0, 0.3])`` is the fixed sum w_1 L_1 + w_2 L_2.
    ``MultiTaskLoss(num_tasks=2, learn_uncertainty=True)`` owns a Parameter ``log_vars``
    (s_k, initialised to 0, so every task starts with weight exp(0) = 1) that the optimizer
    trains with the network: pass ``list(model.parameters()) + list(mtl.parameters())``.
    Fixed ``weights`` still multiply each L_k under uncertainty weighting.
    """

    def __init__(self, weights: Sequence[float] | None = None, num_tasks: int | None = None,
                 learn_uncertainty: bool = False, half: bool = True, dtype: object = None) -> None:
        super().__init__()
        if num_tasks is None:
            if weights is None:
                raise ValueError("MultiTaskLoss: give weights (fixed weighting) or num_tasks")
            num_tasks = len(weights)
        if isinstance(num_tasks, bool) or not isinstance(num_tasks, int) or num_tasks < 1:
            raise ValueError(f"MultiTaskLoss: num_tasks must be a positive integer, got {num_tasks!r}")
        if weights is not None and len(weights) != num_tasks:
            raise ValueError(f"MultiTaskLoss: {len(weights)} weights for {num_tasks} tasks")
        self.num_tasks, self.learn_uncertainty, self.half = num_tasks, learn_uncertainty, half
        self.weights = [1.0] * num_tasks if weights is None else [float(w) for w in weights]
        if learn_uncertainty:
            dtype = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
            self.log_vars = Parameter(np.zeros(num_tasks, dtype=dtype))

    def forward(self, *losses: Tensor) -> Tensor:
        if len(losses) != self.num_tasks:
            raise ValueError(f"MultiTaskLoss: expected {self.num_tasks} losses, got {len(losses)}")
        for k, loss in enumerate(losses):
            if not isinstance(loss, Tensor) or loss.numel() != 1:
                raise ValueError(f"MultiTaskLoss: loss {k} must be a scalar Tensor (reduce it with "
                                 f".mean() first), got {getattr(loss, 'shape', type(loss).__name__)}")
        if not self.learn_uncertainty:
            return multi_task_loss(losses, self.weights)
        c = 0.5 if self.half else 1.0
        terms = [(-self.log_vars[k]).exp() * loss.reshape(()) * w + self.log_vars[k]
                 for k, (loss, w) in enumerate(zip(losses, self.weights))]
        return multi_task_loss(terms, [c] * self.num_tasks)

    def task_weights(self) -> np.ndarray:
        """The weight each task's loss gets now: w_k, or c exp(-s_k) w_k when learned."""
        w = np.asarray(self.weights)
        if not self.learn_uncertainty:
            return w
        return (0.5 if self.half else 1.0) * np.exp(-self.log_vars.data.astype(np.float64)) * w

    def extra_repr(self) -> str:
        if self.learn_uncertainty:
            return f"num_tasks={self.num_tasks}, learn_uncertainty=True, half={self.half}"
        return f"weights={self.weights}"
