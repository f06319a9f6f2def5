"""Every optimizer, through the Optimizer classes: Numba kernels vs numpy references (JIT on
and off) and vs torch.optim, comparing parameters *and* state after several steps, in float32
and float64."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.kernels.config import set_jit_enabled

SHAPES = [(3, 4), (5,), (1,)]
STEPS = 6
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.2, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.8)),
    ("RMSprop", dict(lr=0.01, momentum=0.8, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.3, eps=1e-6, maximize=True)),
]
IDS = [f"{name}-{options}" for name, options in CONFIGS]
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _data(dtype, seed: int = 0) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:  # noqa: ANN001
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return init, grads


def _minigrad(name: str, options: dict, dtype, jit: bool) -> tuple[list[np.ndarray], list[dict]]:  # noqa: ANN001
    init, grads = _data(dtype)
    params = [mg.Tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(params, **options)
    with set_jit_enabled(jit):
        for step_grads in grads:
            for p, g in zip(params, step_grads, strict=True):
                p.grad = mg.Tensor(g.copy())
            opt.step()
    return [p.data for p in params], [opt.state[p] for p in params]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_kernels_and_numpy_give_the_same_params_and_state(name, options, dtype):  # noqa: ANN001
    fused, fused_states = _minigrad(name, options, dtype, jit=True)
    plain, plain_states = _minigrad(name, options, dtype, jit=False)
    for a, b, sa, sb in zip(fused, plain, fused_states, plain_states, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, **TOLERANCE[dtype])
        assert sa.keys() == sb.keys()
        for key, value in sb.items():
            if isinstance(value, np.ndarray):
                assert sa[key].dtype == dtype, key
                np.testing.assert_allclose(sa[key], value, **TOLERANCE[dtype], err_msg=key)
            else:
                assert sa[key] == value, key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_params_and_state_match_torch(name, options, dtype, torch):  # noqa: ANN001
    ours, states = _minigrad(name, options, dtype, jit=True)
    init, grads = _data(dtype)
    params = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(torch.optim, name)(params, **options)
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = torch.tensor(g.copy())
        opt.step()
    # float32: params are O(1), so rounding over 6 steps is absolute, about 10 ulp of 1.0
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for a, p, state in zip(ours, params, states, strict=True):
        np.testing.assert_allclose(a, p.detach().numpy(), **tol)
        theirs = {k: v for k, v in opt.state[p].items() if v is not None}
        assert set(theirs) == set(state), (set(theirs), set(state))
        for key, value in theirs.items():
            if key == "step":
                assert state[key] == int(value.item())
            else:
                np.testing.assert_allclose(state[key], value.numpy(), **tol, err_msg=key)
