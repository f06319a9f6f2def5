"""Independent float64 numpy references of the optimizer update rules (spec §8).

Written straight from the spec's pseudo-code, one parameter at a time, with state in
plain dicts; they never call minigrad. Each function maps (theta, grad, state, options)
to the new theta, updating ``state`` in place.
"""

from __future__ import annotations

import numpy as np


def sgd_ref(theta, grad, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    g = -grad if maximize else grad.copy()
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        if "b" not in state:
            state["b"] = g.copy()
        else:
            state["b"] = momentum * state["b"] + (1 - dampening) * g
        g = g + momentum * state["b"] if nesterov else state["b"]
    return theta - lr * g


def adam_ref(theta, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled_weight_decay=False):
    b1, b2 = betas
    if "t" not in state:
        state.update(t=0, m=np.zeros_like(theta), v=np.zeros_like(theta), vmax=np.zeros_like(theta))
    state["t"] += 1
    t = state["t"]
    g = -grad if maximize else grad.copy()
    if weight_decay != 0:
        if decoupled_weight_decay:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
    state["m"] = b1 * state["m"] + (1 - b1) * g
    state["v"] = b2 * state["v"] + (1 - b2) * g ** 2
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    if amsgrad:
        state["vmax"] = np.maximum(state["vmax"], state["v"])
        denom = np.sqrt(state["vmax"]) / np.sqrt(bc2) + eps
    else:
        denom = np.sqrt(state["v"]) / np.sqrt(bc2) + eps
    return theta - (lr / bc1) * state["m"] / denom


def adamw_ref(theta, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
              maximize=False):
    return adam_ref(theta, grad, state, lr, betas, eps, weight_decay, amsgrad, maximize,
                    decoupled_weight_decay=True)


def rmsprop_ref(theta, grad, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                maximize=False):
    if "sq" not in state:
        state.update(sq=np.zeros_like(theta), ga=np.zeros_like(theta), buf=np.zeros_like(theta))
    g = -grad if maximize else grad.copy()
    if weight_decay != 0:
        g = g + weight_decay * theta
    state["sq"] = alpha * state["sq"] + (1 - alpha) * g ** 2
    if centered:
        state["ga"] = alpha * state["ga"] + (1 - alpha) * g
        avg = np.sqrt(state["sq"] - state["ga"] ** 2) + eps
    else:
        avg = np.sqrt(state["sq"]) + eps
    if momentum > 0:
        state["buf"] = momentum * state["buf"] + g / avg
        return theta - lr * state["buf"]
    return theta - lr * g / avg


def adagrad_ref(theta, grad, state, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False):
    if "t" not in state:
        state.update(t=0, s=np.full_like(theta, initial_accumulator_value))
    state["t"] += 1
    g = -grad if maximize else grad.copy()
    if weight_decay != 0:
        g = g + weight_decay * theta
    clr = lr / (1 + (state["t"] - 1) * lr_decay)
    state["s"] = state["s"] + g ** 2
    return theta - clr * g / (np.sqrt(state["s"]) + eps)


REFERENCES = {"SGD": sgd_ref, "Adam": adam_ref, "AdamW": adamw_ref, "RMSprop": rmsprop_ref,
              "Adagrad": adagrad_ref}
