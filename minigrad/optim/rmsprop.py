"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_non_negative


def _single_tensor_rmsprop(params: list[np.ndarray], grads: list[np.ndarray], square_avgs: list[np.ndarray],
                           grad_avgs: list[np.ndarray | None], momentum_buffers: list[np.ndarray | None], *,
                           lr: float, alpha: float, eps: float, weight_decay: float, momentum: float,
                           centered: bool, maximize: bool) -> None:
    """Update ``params`` and the running averages in place.

    sq = α sq + (1-α) g²;  avg = sqrt(sq - ga²) + eps (centered, ga = α ga + (1-α) g) or sqrt(sq) + eps
    θ -= lr · g / avg, or with momentum: buf = momentum·buf + g / avg;  θ -= lr · buf
    """
    for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        sq = square_avgs[i]
        sq *= alpha
        sq += (1 - alpha) * (g * g)
        if centered:
            ga = grad_avgs[i]
            ga *= alpha
            ga += (1 - alpha) * g
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum_buffers[i]
            buf *= momentum
            buf += g / avg
            param -= lr * buf
        else:
            param -= lr * (g / avg)


class RMSprop(Optimizer):
    """RMSprop (Hinton): θ -= lr·g / (sqrt(E[g²]) + eps); eps added after the square root.

    ``centered`` subtracts the squared running mean (an estimate of the variance), and
    ``momentum`` accumulates the scaled steps in a buffer that starts at zero.
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
                _single_tensor_rmsprop(params, grads, square_avgs, grad_avgs, bufs, lr=group["lr"],
                                       alpha=group["alpha"], eps=group["eps"],
                                       weight_decay=group["weight_decay"], momentum=group["momentum"],
                                       centered=group["centered"], maximize=group["maximize"])
        return loss
