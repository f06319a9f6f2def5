"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..kernels import optim as kernels
from .optimizer import Optimizer, _check_non_negative


class Adam(Optimizer):
    """Adam (Kingma & Ba): per-coordinate steps of about ``lr``, scaled by gradient history.

    The first step moves each coordinate by about ``-lr·sign(g)``, whatever the gradient's
    size. ``decoupled_weight_decay=True`` turns it into AdamW.

        g = -grad if maximize else grad;  g += wd · θ  (or θ *= 1 - lr·wd when decoupled)
        m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²;  bc_k = 1 - β_k^t
        θ -= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)   (v: its running max with amsgrad)

    The update runs in ``minigrad.kernels.optim.adam`` (numpy reference and fused Numba kernel).
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
                kernels.adam(params, grads, exp_avgs, exp_avg_sqs, max_sqs, step=steps, lr=group["lr"],
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
