"""Fused optimizer updates: one pass over each parameter array, updating it and its state in place.

API (all functions take parallel lists, one entry per parameter, and update in place)::

    sgd(params, grads, momentum_buffers, *, step, lr, momentum=0, dampening=0,
        weight_decay=0, nesterov=False, maximize=False)
    adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, step, lr, beta1, beta2,
         eps, weight_decay=0, amsgrad=False, maximize=False, decoupled_weight_decay=False)
    rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffers, *, lr, alpha, eps,
            weight_decay=0, momentum=0, centered=False, maximize=False)
    adagrad(params, grads, state_sums, *, step, lr, lr_decay=0, weight_decay=0, eps, maximize=False)

``step`` is the step count *after* incrementing (1 on the first update), an int shared by
all parameters or a list with one per parameter. State arrays have the parameter's shape
and dtype and start as PyTorch's do: zeros (``state_sums``: ``initial_accumulator_value``);
lists for unused state (``max_exp_avg_sqs`` without amsgrad, ``grad_avgs`` unless centered,
``momentum_buffers`` without momentum) may be None. SGD's momentum buffer is *set* to the
gradient on step 1 (its content before is ignored). AdamW is ``adam(...,
decoupled_weight_decay=True)``. Update rules are those of PyTorch (spec section 8), e.g. Adam::

    g = -grad if maximize else grad;  weight decay (decoupled: p *= 1 - lr wd; else g += wd p)
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  (amsgrad: v_max = max(v_max, v), used below)
    p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)

Why fused: numpy's version is a dozen in-place array ops per parameter, each a full pass
over memory; the kernel reads each element once and does all the arithmetic in registers
(about 10x faster for Adam over 100k float32 parameters). Hyper-parameters are passed as one
small array in the parameter's dtype (one argument: fewer to unbox per call), so float32
parameters are updated in float32 arithmetic, as numpy and PyTorch do. The loops are serial:
with ``error_model="numpy"`` LLVM vectorises them, and a second thread pool would fight
OpenBLAS's (see docs/kernels.md for the measurement). A parameter whose arrays are
not all writable, C-contiguous and of one dtype goes through the numpy reference; a
non-contiguous gradient (it is only read) is copied, so it takes the kernel like any other.

Every array a kernel indexes must have the parameter's shape: the kernels walk all of them
with the parameter's flat index, so a smaller gradient or state array would be read (and
written) past its end. Each function checks this first and raises ``ValueError`` otherwise.
Weight decay is skipped, not multiplied by 0, when it is 0 (as in numpy and PyTorch), so an
inf or nan parameter does not turn its gradient and state into nan (``0 * inf`` is nan).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._common import empty_like_dtype
from ._jit import lazy_njit
from .config import KERNEL_DTYPES, jit_enabled

Arrays = Sequence[np.ndarray]


def _steps(step: int | Sequence[int], n: int) -> list[int]:
    return [int(step)] * n if isinstance(step, int | np.integer) else [int(s) for s in step]


def _fast(*arrays: np.ndarray | None) -> bool:
    """True when every given array is writable, C-contiguous and of the first one's dtype, which
    is one the kernels are compiled for (float32 or float64)."""
    dtype = arrays[0].dtype
    for a in arrays:
        if a is not None and (a.dtype != dtype or not a.flags.c_contiguous or not a.flags.writeable):
            return False
    return dtype in KERNEL_DTYPES


def _check(op: str, i: int, names: tuple[str, ...], p: np.ndarray, *arrays: np.ndarray | None) -> None:
    """Raise ``ValueError`` unless ``p`` and each of ``arrays`` (those the update of parameter
    ``i`` reads, called ``names``) is a numpy array of ``p``'s shape."""
    if not isinstance(p, np.ndarray):
        raise ValueError(f"optim.{op}: parameter {i} must be a numpy array, got {type(p).__name__}")
    for name, a in zip(names, arrays):
        if not isinstance(a, np.ndarray):
            raise ValueError(f"optim.{op}: parameter {i} needs a numpy array for {name}, got "
                             f"{type(a).__name__}")
        if a.shape != p.shape:
            raise ValueError(f"optim.{op}: {name} of parameter {i} has shape {a.shape} but the parameter "
                             f"has shape {p.shape}; every array of a parameter must have its shape")


def _contiguous(grad: np.ndarray) -> np.ndarray:
    return grad if grad.flags.c_contiguous else np.ascontiguousarray(grad)


def _flat(a: np.ndarray | None, dtype: np.dtype) -> np.ndarray:
    return empty_like_dtype(dtype) if a is None else a.reshape(-1)


def _at(arrays: Arrays | None, i: int) -> np.ndarray | None:
    return None if arrays is None else arrays[i]


# ---------------------------------------------------------------- SGD
def sgd_reference(params: Arrays, grads: Arrays, momentum_buffers: Arrays | None, *,
                  step: int | Sequence[int], lr: float, momentum: float = 0.0, dampening: float = 0.0,
                  weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False) -> None:
    """numpy reference for ``sgd`` (in place)."""
    for i, (p, grad, t) in enumerate(zip(params, grads, _steps(step, len(params)))):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            b = momentum_buffers[i]
            if t == 1:
                b[...] = g
            else:
                b *= momentum
                b += (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p -= lr * g


@lazy_njit()
def _sgd_kernel(p, grad, buf, h, nesterov, first):  # noqa: ANN001
    """h = [sign, lr, momentum, dampening, weight_decay]; ``first``: step 1 sets the buffer to g.
    ``sign`` (-1 for maximize) enters as arithmetic, not a branch; the tests on loop-invariant
    values are hoisted out of the loop by LLVM, which still vectorises it."""
    sign, lr, momentum, dampening, weight_decay = h[0], h[1], h[2], h[3], h[4]
    one = lr / lr
    for i in range(p.size):
        g = sign * grad[i]
        if weight_decay != 0:
            g = g + weight_decay * p[i]
        if momentum != 0:
            b = g if first else momentum * buf[i] + (one - dampening) * g
            buf[i] = b
            g = g + momentum * b if nesterov else b
        p[i] = p[i] - lr * g


def sgd(params: Arrays, grads: Arrays, momentum_buffers: Arrays | None, *, step: int | Sequence[int],
        lr: float, momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
        nesterov: bool = False, maximize: bool = False) -> None:
    """SGD with momentum/dampening/nesterov/weight_decay/maximize over lists of arrays (in place)."""
    jit = jit_enabled()
    for i, (p, grad, t) in enumerate(zip(params, grads, _steps(step, len(params)))):
        buf = _at(momentum_buffers, i) if momentum != 0 else None
        if momentum != 0:
            _check("sgd", i, ("grad", "momentum_buffer"), p, grad, buf)
        else:
            _check("sgd", i, ("grad",), p, grad)
        if jit:
            grad = _contiguous(grad)
        if not (jit and _fast(p, grad, buf)):
            sgd_reference([p], [grad], [buf], step=t, lr=lr, momentum=momentum, dampening=dampening,
                          weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
            continue
        h = np.array([-1 if maximize else 1, lr, momentum, dampening, weight_decay], p.dtype)
        _sgd_kernel(p.reshape(-1), grad.reshape(-1), _flat(buf, p.dtype), h, bool(nesterov), t == 1)


# ---------------------------------------------------------------- Adam / AdamW
def adam_reference(params: Arrays, grads: Arrays, exp_avgs: Arrays, exp_avg_sqs: Arrays,
                   max_exp_avg_sqs: Arrays | None, *, step: int | Sequence[int], lr: float, beta1: float,
                   beta2: float, eps: float, weight_decay: float = 0.0, amsgrad: bool = False,
                   maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
    """numpy reference for ``adam`` (in place): ``minigrad.optim.adam.adam_rule``, the rule's
    one home, applied to each parameter of the lists."""
    from ..optim.adam import adam_rule  # imported here: optim imports this module

    for i, (p, grad, t) in enumerate(zip(params, grads, _steps(step, len(params)))):
        adam_rule(p, grad, exp_avgs[i], exp_avg_sqs[i], _at(max_exp_avg_sqs, i) if amsgrad else None,
                  step=t, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                  amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)


@lazy_njit()
def _adam_kernel(p, grad, m, v, v_max, h, amsgrad):  # noqa: ANN001
    """h = [sign, l2, decay, beta1, beta2, eps, step_size, sqrt_bc2] (sign = -1 for maximize;
    l2 = wd or decay = 1 - lr wd for the two weight decays). Multiplying by sign or decay = 1 is
    exact; the L2 term is skipped when l2 is 0, since 0 * inf is nan. LLVM hoists that
    loop-invariant test and vectorises the loop."""
    sign, l2, decay, beta1, beta2, eps, step_size, sqrt_bc2 = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    one = beta1 / beta1
    for i in range(p.size):
        theta = p[i] * decay
        g = sign * grad[i]
        if l2 != 0:
            g = g + l2 * p[i]
        mi = beta1 * m[i] + (one - beta1) * g
        vi = beta2 * v[i] + (one - beta2) * g * g
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vmax = v_max[i]
            if vmax > vi or vmax != vmax:  # np.maximum's rule (nan wins), unlike max()
                vi = vmax
            v_max[i] = vi
        p[i] = theta - step_size * mi / (math.sqrt(vi) / sqrt_bc2 + eps)


def adam_hyper(h: np.ndarray, *, step: int, lr: float, beta1: float, beta2: float, eps: float,
               weight_decay: float, maximize: bool, decoupled_weight_decay: bool) -> None:
    """Fill ``_adam_kernel``'s 8 hyper-parameters for step ``step`` into ``h`` (in its dtype)."""
    h[0] = -1 if maximize else 1
    h[1] = 0 if decoupled_weight_decay else weight_decay
    h[2] = 1 - lr * weight_decay if decoupled_weight_decay else 1
    h[3], h[4], h[5] = beta1, beta2, eps
    h[6] = lr / (1 - beta1**step)
    h[7] = math.sqrt(1 - beta2**step)


def adam_fused(p: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
               max_exp_avg_sq: np.ndarray | None, *, step: int, lr: float, beta1: float, beta2: float,
               eps: float, weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
               decoupled_weight_decay: bool = False, _hyper: dict | None = None) -> bool:
    """The fast path of one parameter's Adam step (in place): run the Numba kernel and return
    True, or return False without touching anything when it cannot run (JIT off, arrays not
    all writable, C-contiguous and of one kernel dtype); the caller then runs the numpy rule."""
    if not jit_enabled():
        return False
    grad = _contiguous(grad)
    v_max = max_exp_avg_sq if amsgrad else None
    if not _fast(p, grad, exp_avg, exp_avg_sq, v_max):
        return False
    hyper = {} if _hyper is None else _hyper
    h = hyper.get((p.dtype, step))
    if h is None:
        h = hyper[p.dtype, step] = np.empty(8, p.dtype)
        adam_hyper(h, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                   maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
    _adam_kernel(p.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
                 _flat(v_max, p.dtype), h, bool(amsgrad))
    return True


def adam(params: Arrays, grads: Arrays, exp_avgs: Arrays, exp_avg_sqs: Arrays, max_exp_avg_sqs: Arrays | None,
         *, step: int | Sequence[int], lr: float, beta1: float, beta2: float, eps: float,
         weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
         decoupled_weight_decay: bool = False) -> None:
    """Adam / AdamW (``decoupled_weight_decay=True``), amsgrad, maximize, over lists of arrays (in place)."""
    hyper: dict[tuple[np.dtype, int], np.ndarray] = {}
    kw = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
              maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
    for i, (p, grad, t) in enumerate(zip(params, grads, _steps(step, len(params)))):
        v_max = _at(max_exp_avg_sqs, i) if amsgrad else None
        _check("adam", i, ("grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), p, grad, exp_avgs[i],
               exp_avg_sqs[i], *((v_max,) if amsgrad else ()))
        if not adam_fused(p, grad, exp_avgs[i], exp_avg_sqs[i], v_max, step=t, _hyper=hyper, **kw):
            adam_reference([p], [grad], [exp_avgs[i]], [exp_avg_sqs[i]], [v_max], step=t, **kw)


def rmsprop_reference(params: Arrays, grads: Arrays, square_avgs: Arrays, grad_avgs: Arrays | None,
                      momentum_buffers: Arrays | None, *, lr: float, alpha: float, eps: float,
                      weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                      maximize: bool = False) -> None:
    """numpy reference for ``rmsprop`` (in place)."""
    for i, (p, grad) in enumerate(zip(params, grads)):
        sq = square_avgs[i]
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        sq *= alpha
        sq += (1 - alpha) * g * g
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
            p -= lr * buf
        else:
            p -= lr * g / avg


@lazy_njit()
def _rmsprop_kernel(p, grad, sq, ga, buf, h, centered, maximize):  # noqa: ANN001
    """h = [lr, alpha, eps, weight_decay, momentum]."""
    lr, alpha, eps, weight_decay, momentum = h[0], h[1], h[2], h[3], h[4]
    one = alpha / alpha
    for i in range(p.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * p[i]
        s = alpha * sq[i] + (one - alpha) * g * g
        sq[i] = s
        if centered:
            a = alpha * ga[i] + (one - alpha) * g
            ga[i] = a
            avg = math.sqrt(s - a * a) + eps
        else:
            avg = math.sqrt(s) + eps
        if momentum > 0:
            b = momentum * buf[i] + g / avg
            buf[i] = b
            p[i] = p[i] - lr * b
        else:
            p[i] = p[i] - lr * (g / avg)


def rmsprop(params: Arrays, grads: Arrays, square_avgs: Arrays, grad_avgs: Arrays | None,
            momentum_buffers: Arrays | None, *, lr: float, alpha: float, eps: float,
            weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
            maximize: bool = False) -> None:
    """RMSprop with weight_decay/momentum/centered/maximize over lists of arrays (in place)."""
    jit = jit_enabled()
    for i, (p, grad) in enumerate(zip(params, grads)):
        ga = _at(grad_avgs, i) if centered else None
        buf = _at(momentum_buffers, i) if momentum > 0 else None
        names, arrays = ("grad", "square_avg"), (grad, square_avgs[i])
        if centered:
            names, arrays = names + ("grad_avg",), arrays + (ga,)
        if momentum > 0:
            names, arrays = names + ("momentum_buffer",), arrays + (buf,)
        _check("rmsprop", i, names, p, *arrays)
        if jit:
            grad = _contiguous(grad)
        if not (jit and _fast(p, grad, square_avgs[i], ga, buf)):
            rmsprop_reference([p], [grad], [square_avgs[i]], [ga], [buf], lr=lr, alpha=alpha, eps=eps,
                              weight_decay=weight_decay, momentum=momentum, centered=centered,
                              maximize=maximize)
            continue
        h = np.array([lr, alpha, eps, weight_decay, momentum], p.dtype)
        _rmsprop_kernel(p.reshape(-1), grad.reshape(-1), square_avgs[i].reshape(-1), _flat(ga, p.dtype),
                        _flat(buf, p.dtype), h, bool(centered), bool(maximize))


# ---------------------------------------------------------------- Adagrad
def adagrad_reference(params: Arrays, grads: Arrays, state_sums: Arrays, *, step: int | Sequence[int],
                      lr: float, lr_decay: float = 0.0, weight_decay: float = 0.0, eps: float = 1e-10,
                      maximize: bool = False) -> None:
    """numpy reference for ``adagrad`` (in place)."""
    for p, grad, s, t in zip(params, grads, state_sums, _steps(step, len(params))):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s += g * g
        p -= clr * g / (np.sqrt(s) + eps)


@lazy_njit()
def _adagrad_kernel(p, grad, state, h, maximize):  # noqa: ANN001
    """h = [clr, weight_decay, eps] with clr = lr / (1 + (t - 1) lr_decay)."""
    clr, weight_decay, eps = h[0], h[1], h[2]
    for i in range(p.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * p[i]
        s = state[i] + g * g
        state[i] = s
        p[i] = p[i] - clr * g / (math.sqrt(s) + eps)


def adagrad(params: Arrays, grads: Arrays, state_sums: Arrays, *, step: int | Sequence[int], lr: float,
            lr_decay: float = 0.0, weight_decay: float = 0.0, eps: float = 1e-10,
            maximize: bool = False) -> None:
    """Adagrad with lr_decay/weight_decay/maximize over lists of arrays (in place)."""
    jit = jit_enabled()
    for i, (p, grad, state, t) in enumerate(zip(params, grads, state_sums, _steps(step, len(params)))):
        _check("adagrad", i, ("grad", "state_sum"), p, grad, state)
        if jit:
            grad = _contiguous(grad)
        if not (jit and _fast(p, grad, state)):
            adagrad_reference([p], [grad], [state], step=t, lr=lr, lr_decay=lr_decay,
                              weight_decay=weight_decay, eps=eps, maximize=maximize)
            continue
        h = np.array([lr / (1 + (t - 1) * lr_decay), weight_decay, eps], p.dtype)
        _adagrad_kernel(p.reshape(-1), grad.reshape(-1), state.reshape(-1), h, bool(maximize))
