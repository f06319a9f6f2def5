"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..kernels import optim as optim_kernels
from ..tensor import Tensor
from .optimizer import Optimizer, _advance_step, _check_flag, _check_implementation, _check_non_negative


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): θ -= lr·g / (sqrt(Σ g²) + eps).

    Rarely-updated coordinates keep large steps; the sum starts at
    ``initial_accumulator_value`` (a full array), which damps the first steps.

        clr = lr / (1 + (t-1)·lr_decay);  s += g²;  θ -= clr · g / (sqrt(s) + eps)

    The update runs in ``minigrad.kernels.optim.adagrad`` (numpy reference and fused Numba kernel).
    ``foreach`` and ``fused`` (PyTorch's implementation switches, same maths) are accepted and
    ignored; ``differentiable`` too.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10,
                 foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_implementation("Adagrad", foreach, fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_non_negative("Adagrad", key, group[key])
        _check_flag("Adagrad", "maximize", group["maximize"])

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def _state_arrays(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("sum",)

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray],
                states: list[dict[str, Any]]) -> None:
        steps = [_advance_step(state) for state in states]
        optim_kernels.adagrad([p.data for p in params], grads, [s["sum"] for s in states],
                              step=steps, lr=group["lr"], lr_decay=group["lr_decay"],
                              weight_decay=group["weight_decay"], eps=group["eps"],
                              maximize=group["maximize"])
