"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..kernels import optim as optim_kernels
from ..tensor import Tensor
from .optimizer import Optimizer, _advance_step, _check_flag, _check_implementation, _check_non_negative


class Adam(Optimizer):
    """Adam (Kingma & Ba): per-coordinate steps of about ``lr``, scaled by gradient history.

    The first step moves each coordinate by about ``-lr·sign(g)``, whatever the gradient's
    size. ``decoupled_weight_decay=True`` turns it into AdamW.

        g = -grad if maximize else grad;  g += wd · θ  (or θ *= 1 - lr·wd when decoupled)
        m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²;  bc_k = 1 - β_k^t
        θ -= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)   (v: its running max with amsgrad)

    The rule is ``adam_rule`` below, in numpy; ``minigrad.kernels.optim.adam_fused`` (one
    fused Numba pass per parameter) is its declared fast path, taken when it can run.
    ``foreach`` and ``fused`` (PyTorch's implementation switches, same maths) are accepted and
    ignored; ``capturable`` and ``differentiable`` too.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check_implementation(type(self).__name__, foreach, fused)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay"):
            _check_non_negative(name, key, group[key])
        for key in ("amsgrad", "maximize", "decoupled_weight_decay"):
            _check_flag(name, key, group[key])
        betas = group["betas"]
        if not isinstance(betas, tuple) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {beta!r}; it must be "
                                 "in [0, 1)")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "exp_avg": np.zeros_like(p.data), "exp_avg_sq": np.zeros_like(p.data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p.data)
        return state

    def _state_arrays(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray],
                states: list[dict[str, Any]]) -> None:
        beta1, beta2 = group["betas"]
        kw = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                  weight_decay=group["weight_decay"], amsgrad=group["amsgrad"], maximize=group["maximize"],
                  decoupled_weight_decay=group["decoupled_weight_decay"])
        hyper: dict = {}
        steps = [_advance_step(state) for state in states]
        for p, grad, state, t in zip(params, grads, states, steps):
            m, v, v_max = state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq")
            if not optim_kernels.adam_fused(p.data, grad, m, v, v_max, step=t, _hyper=hyper, **kw):
                adam_rule(p.data, grad, m, v, v_max, step=t, **kw)


def adam_rule(p: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, v_max: np.ndarray | None, *,
              step: int, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
              amsgrad: bool, maximize: bool, decoupled_weight_decay: bool) -> None:
    """One parameter's Adam step, in place (t = ``step``, counted from 1):

        g = -grad if maximize else grad;  g += wd p  (or p *= 1 - lr wd when decoupled)
        m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  (amsgrad: v_max = max(v_max, v))
        p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    m / (1 - b1^t) and v / (1 - b2^t) undo the pull towards 0 of averages that start at 0.
    Weight decay 0 is skipped, not multiplied: 0 * inf would turn an inf weight's step into nan.
    """
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    if amsgrad:
        np.maximum(v_max, v, out=v_max)
        v = v_max
    p -= (lr / (1 - beta1**step)) * m / (np.sqrt(v) / math.sqrt(1 - beta2**step) + eps)


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
                         maximize=maximize, foreach=foreach, fused=fused, decoupled_weight_decay=True)
