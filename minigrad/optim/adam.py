"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_non_negative


def _single_tensor_adam(params: list[np.ndarray], grads: list[np.ndarray], exp_avgs: list[np.ndarray],
                        exp_avg_sqs: list[np.ndarray], max_exp_avg_sqs: list[np.ndarray], steps: list[int], *,
                        lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool,
                        maximize: bool, decoupled_weight_decay: bool) -> None:
    """Update ``params`` and the moment arrays in place (``steps`` already counts this step).

    m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²;  bc_k = 1 - β_k^t
    θ -= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)     (v → running max of v with amsgrad)
    Weight decay: θ *= 1 - lr·wd (decoupled, AdamW) or g += wd·θ (L2), before the moments.
    """
    for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
        g = -grad if maximize else grad
        if weight_decay != 0:
            if decoupled_weight_decay:
                param *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * param
        m, v = exp_avgs[i], exp_avg_sqs[i]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        t = steps[i]
        bias_correction1 = 1 - beta1 ** t
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** t)
        if amsgrad:
            np.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        param -= (lr / bias_correction1) * m / denom


class Adam(Optimizer):
    """Adam (Kingma & Ba): per-coordinate steps of about ``lr``, scaled by gradient history.

    The first step moves each coordinate by about ``-lr·sign(g)``, whatever the gradient's
    size. ``decoupled_weight_decay=True`` turns it into AdamW.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay"):
            _check_non_negative(name, key, group[key])
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {beta!r}; it must be "
                                 "in [0, 1)")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps = [], [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.get(p)
                    if state is None:
                        state = {"step": 0, "exp_avg": np.zeros_like(p.data),
                                 "exp_avg_sq": np.zeros_like(p.data)}
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = np.zeros_like(p.data)
                        self.state[p] = state
                    state["step"] += 1
                    params.append(p.data)
                    grads.append(p.grad.data)
                    exp_avgs.append(state["exp_avg"])
                    exp_avg_sqs.append(state["exp_avg_sq"])
                    max_sqs.append(state.get("max_exp_avg_sq"))
                    steps.append(state["step"])
                beta1, beta2 = group["betas"]
                _single_tensor_adam(params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps, lr=group["lr"],
                                    beta1=beta1, beta2=beta2, eps=group["eps"],
                                    weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                                    maximize=group["maximize"],
                                    decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter): Adam with decoupled weight decay θ *= 1 - lr·wd.

    Unlike Adam's L2 term, the decay does not pass through the adaptive scaling, so
    every weight shrinks by the same factor. Default ``weight_decay`` is 0.01.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)
