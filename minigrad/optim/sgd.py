"""SGD: stochastic gradient descent with optional momentum, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_non_negative


def _single_tensor_sgd(params: list[np.ndarray], grads: list[np.ndarray],
                       momentum_buffers: list[np.ndarray | None], *, lr: float, weight_decay: float,
                       momentum: float, dampening: float, nesterov: bool, maximize: bool) -> None:
    """Update ``params`` in place; fill ``momentum_buffers`` (None = first step) in place.

    g = -grad if maximize else grad;  g += weight_decay * θ
    b = g (first step) or momentum * b + (1 - dampening) * g
    g = g + momentum * b if nesterov else b;  θ -= lr * g
    """
    for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                buf = np.array(g, copy=True)
                momentum_buffers[i] = buf
            else:
                buf *= momentum
                buf += (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        param -= lr * g


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's form: v = momentum·v + g, θ -= lr·v.

    The learning rate sits outside the momentum buffer (unlike Sutskever et al.), and
    the buffer starts as the first gradient (no dampening on step 1).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "momentum", "weight_decay"):
            _check_non_negative("SGD", key, group[key])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, bufs, owners = [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.setdefault(p, {})
                    params.append(p.data)
                    grads.append(p.grad.data)
                    bufs.append(state.get("momentum_buffer"))
                    owners.append(state)
                _single_tensor_sgd(params, grads, bufs, lr=group["lr"], weight_decay=group["weight_decay"],
                                   momentum=group["momentum"], dampening=group["dampening"],
                                   nesterov=group["nesterov"], maximize=group["maximize"])
                if group["momentum"] != 0:
                    for state, buf in zip(owners, bufs, strict=True):
                        state["momentum_buffer"] = buf
        return loss
