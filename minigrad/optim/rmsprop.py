"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..kernels import optim as optim_kernels
from ..tensor import Tensor
from .optimizer import Optimizer, _advance_step, _check_flag, _check_non_negative


class RMSprop(Optimizer):
    """RMSprop (Hinton): θ -= lr·g / (sqrt(E[g²]) + eps); eps added after the square root.

    ``centered`` subtracts the squared running mean (an estimate of the variance), and
    ``momentum`` accumulates the scaled steps in a buffer that starts at zero.

        sq = α sq + (1-α) g²;  avg = sqrt(sq - ga²) + eps (centered, ga = α ga + (1-α) g)
        θ -= lr · g / avg, or with momentum: buf = momentum·buf + g / avg;  θ -= lr · buf

    The update runs in ``minigrad.kernels.optim.rmsprop`` (numpy reference and fused Numba kernel).
    ``foreach`` (PyTorch's implementation switch, same maths) is accepted and ignored;
    ``capturable`` and ``differentiable`` too.
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
        for key in ("centered", "maximize"):
            _check_flag("RMSprop", key, group[key])

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "square_avg": np.zeros_like(p.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p.data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p.data)
        return state

    def _state_arrays(self, group: dict[str, Any]) -> tuple[str, ...]:
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray],
                states: list[dict[str, Any]]) -> None:
        for state in states:
            _advance_step(state)
        optim_kernels.rmsprop([p.data for p in params], grads, [s["square_avg"] for s in states],
                              [s.get("grad_avg") for s in states], [s.get("momentum_buffer") for s in states],
                              lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                              weight_decay=group["weight_decay"], momentum=group["momentum"],
                              centered=group["centered"], maximize=group["maximize"])
