"""Fused optimizer updates: kernels == numpy references, and references == torch.optim over 10 steps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minigrad.kernels import optim
from minigrad.kernels.config import set_jit_enabled

SHAPES = [(3, 4), (7,), (1,)]

SGD = [dict(momentum=m, dampening=d, weight_decay=wd, nesterov=n, maximize=mx)
       for m, d, wd, n, mx in itertools.product([0.0, 0.9], [0.0, 0.3], [0.0, 0.1], [False, True],
                                                [False, True])
       if not (n and (m == 0 or d != 0))]
ADAM = [dict(weight_decay=wd, amsgrad=a, maximize=mx, decoupled_weight_decay=dec)
        for wd, a, mx, dec in itertools.product([0.0, 0.1], [False, True], [False, True], [False, True])]
RMSPROP = [dict(weight_decay=wd, momentum=m, centered=c, maximize=mx)
           for wd, m, c, mx in itertools.product([0.0, 0.1], [0.0, 0.8], [False, True], [False, True])]
ADAGRAD = [dict(lr_decay=ld, weight_decay=wd, initial_accumulator_value=iv, maximize=mx)
           for ld, wd, iv, mx in itertools.product([0.0, 0.05], [0.0, 0.1], [0.0, 0.3], [False, True])]


def run(name: str, options: dict, dtype, steps: int, fused: bool, seed: int = 0):  # noqa: ANN001, ANN201
    """Params after ``steps`` updates with fresh random gradients (kernel if ``fused``, else reference)."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    zeros = lambda: [np.zeros_like(p) for p in params]  # noqa: E731
    options = dict(options)
    init = options.pop("initial_accumulator_value", 0.0)
    states = [zeros(), zeros(), zeros()]
    if name == "adagrad":
        states[0] = [np.full_like(p, init) for p in params]
    fn = getattr(optim, name if fused else f"{name}_reference")
    for t in range(1, steps + 1):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
        with set_jit_enabled(fused):
            if name == "sgd":
                fn(params, grads, states[0], step=t, lr=0.1, **options)
            elif name == "adam":
                fn(params, grads, *states, step=t, lr=0.05, beta1=0.9, beta2=0.99, eps=1e-8, **options)
            elif name == "rmsprop":
                fn(params, grads, *states, lr=0.01, alpha=0.9, eps=1e-8, **options)
            else:
                fn(params, grads, states[0], step=t, lr=0.1, eps=1e-10, **options)
    return params


CASES = [("sgd", o) for o in SGD] + [("adam", o) for o in ADAM] + [("rmsprop", o) for o in RMSPROP] + \
        [("adagrad", o) for o in ADAGRAD]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_match_references(dtype):  # noqa: ANN001
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for name, options in CASES:
        fused = run(name, options, dtype, 10, fused=True)
        reference = run(name, options, dtype, 10, fused=False)
        for a, b in zip(fused, reference):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **tol, err_msg=f"{name} {options}")


def torch_run(torch, name: str, options: dict, steps: int, seed: int = 0):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(seed)
    params = [torch.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]
    options = dict(options)
    if name == "sgd":
        opt = torch.optim.SGD(params, lr=0.1, **options)
    elif name == "adam":
        opt = torch.optim.Adam(params, lr=0.05, betas=(0.9, 0.99), eps=1e-8, **options)
    elif name == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=0.01, alpha=0.9, eps=1e-8, **options)
    else:
        opt = torch.optim.Adagrad(params, lr=0.1, eps=1e-10, **options)
    for _ in range(steps):
        for p in params:
            p.grad = torch.tensor(rng.standard_normal(tuple(p.shape)))
        opt.step()
    return [p.detach().numpy() for p in params]


def test_references_match_torch_optim(torch):  # noqa: ANN001
    for name, options in CASES:
        ours = run(name, options, np.float64, 10, fused=False)
        theirs = torch_run(torch, name, options, 10)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{name} {options}")


def test_non_contiguous_parameter_takes_the_reference_path():
    base = np.arange(12.0).reshape(3, 4)
    p = base[:, ::2]
    grad = np.ones_like(p)
    optim.sgd([p], [grad], None, step=1, lr=0.5)
    np.testing.assert_array_equal(base[:, ::2], np.arange(12.0).reshape(3, 4)[:, ::2] - 0.5)
    np.testing.assert_array_equal(base[:, 1::2], np.arange(12.0).reshape(3, 4)[:, 1::2])


def test_per_parameter_steps():
    p = [np.ones(3), np.ones(3)]
    g = [np.ones(3), np.ones(3)]
    m, v = [np.zeros(3), np.zeros(3)], [np.zeros(3), np.zeros(3)]
    m[1][:] = 0.5
    v[1][:] = 0.5
    ref_p, ref_m, ref_v = [a.copy() for a in p], [a.copy() for a in m], [a.copy() for a in v]
    optim.adam(p, g, m, v, None, step=[1, 7], lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8)
    optim.adam_reference(ref_p[:1], g[:1], ref_m[:1], ref_v[:1], None, step=1, lr=0.1, beta1=0.9, beta2=0.99,
                         eps=1e-8)
    optim.adam_reference(ref_p[1:], g[1:], ref_m[1:], ref_v[1:], None, step=7, lr=0.1, beta1=0.9, beta2=0.99,
                         eps=1e-8)
    np.testing.assert_allclose(p, ref_p, rtol=1e-14)
    assert not np.allclose(p[0], p[1])
