"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..kernels import optim as kernels
from .optimizer import Optimizer, _check_non_negative


class RMSprop(Optimizer):
    """RMSprop (Hinton): θ -= lr·g / (sqrt(E[g²]) + eps); eps added after the square root.

    ``centered`` subtracts the squared running mean (an estimate of the variance), and
    ``momentum`` accumulates the scaled steps in a buffer that starts at zero.

        sq = α sq + (1-α) g²;  avg = sqrt(sq - ga²) + eps (centered, ga = α ga + (1-α) g)
        θ -= lr · g / avg, or with momentum: buf = momentum·buf + g / avg;  θ -= lr · buf

    The update runs in ``minigrad.kernels.optim.rmsprop`` (numpy reference and fused Numba kernel).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            _check_non_negative("RMSprop", key, group[key])

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, square_avgs, grad_avgs, bufs = [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.get(p)
                    if state is None:
                        state = {"step": 0, "square_avg": np.zeros_like(p.data)}
                        if group["momentum"] > 0:
                            state["momentum_buffer"] = np.zeros_like(p.data)
                        if group["centered"]:
                            state["grad_avg"] = np.zeros_like(p.data)
                        self.state[p] = state
                    state["step"] += 1
                    params.append(p.data)
                    grads.append(p.grad.data)
                    square_avgs.append(state["square_avg"])
                    grad_avgs.append(state.get("grad_avg"))
                    bufs.append(state.get("momentum_buffer"))
                kernels.rmsprop(params, grads, square_avgs, grad_avgs, bufs, lr=group["lr"],
                                       alpha=group["alpha"], eps=group["eps"],
                                       weight_decay=group["weight_decay"], momentum=group["momentum"],
                                       centered=group["centered"], maximize=group["maximize"])
        return loss
