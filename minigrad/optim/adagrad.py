"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..kernels import optim as kernels
from .optimizer import Optimizer, _check_non_negative


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): θ -= lr·g / (sqrt(Σ g²) + eps).

    Rarely-updated coordinates keep large steps; the sum starts at
    ``initial_accumulator_value`` (a full array), which damps the first steps.

        clr = lr / (1 + (t-1)·lr_decay);  s += g²;  θ -= clr · g / (sqrt(s) + eps)

    The update runs in ``minigrad.kernels.optim.adagrad`` (numpy reference and fused Numba kernel).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10,
                 foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_non_negative("Adagrad", key, group[key])

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, sums, steps = [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.get(p)
                    if state is None:
                        state = {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}
                        self.state[p] = state
                    state["step"] += 1
                    params.append(p.data)
                    grads.append(p.grad.data)
                    sums.append(state["sum"])
                    steps.append(state["step"])
                kernels.adagrad(params, grads, sums, step=steps, lr=group["lr"], lr_decay=group["lr_decay"],
                                       weight_decay=group["weight_decay"], eps=group["eps"],
                                       maximize=group["maximize"])
        return loss
