"""SGD: stochastic gradient descent with optional momentum, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..kernels import optim as optim_kernels
from ..tensor import Tensor
from .optimizer import Optimizer, _check_flag, _check_implementation, _check_non_negative, _check_real


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's form: v = momentum·v + g, θ -= lr·v.

    The learning rate sits outside the momentum buffer (unlike Sutskever et al.), and
    the buffer starts as the first gradient (no dampening on step 1).

        g = -grad if maximize else grad;  g += weight_decay · θ
        b = g (first step) or momentum · b + (1 - dampening) · g
        g = g + momentum · b if nesterov else b;  θ -= lr · g

    The update runs in ``minigrad.kernels.optim.sgd`` (numpy reference and fused Numba kernel).
    ``foreach`` and ``fused`` (PyTorch's implementation switches, same maths) are accepted and
    ignored; ``differentiable`` too.
    """

    _counts_steps = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check_implementation("SGD", foreach, fused)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "momentum", "weight_decay"):
            _check_non_negative("SGD", key, group[key])
        _check_real("SGD", "dampening", group["dampening"])
        for key in ("nesterov", "maximize"):
            _check_flag("SGD", key, group[key])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray],
                states: list[dict[str, Any]]) -> None:
        """The momentum buffer is created on a parameter's first step with momentum (step 1:
        the kernel sets it to the gradient)."""
        bufs, steps = [], []
        for p, state in zip(params, states, strict=True):
            buf = state.get("momentum_buffer")
            first = group["momentum"] != 0 and buf is None
            if first:
                buf = state["momentum_buffer"] = np.empty_like(p.data)
            bufs.append(buf)
            steps.append(1 if first else 2)
        optim_kernels.sgd([p.data for p in params], grads, bufs, step=steps, lr=group["lr"],
                          weight_decay=group["weight_decay"], momentum=group["momentum"],
                          dampening=group["dampening"], nesterov=group["nesterov"],
                          maximize=group["maximize"])
