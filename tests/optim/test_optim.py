"""minigrad.optim optimizers: spec §8 numpy references, PyTorch, and the Optimizer contract."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from tests.reference_optim import REFERENCES

SHAPES = [(3, 4), (5,)]
STEPS = 8


def _grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


SGD_CASES = [c for c in _grid(momentum=[0.0, 0.9], dampening=[0.0, 0.3], nesterov=[False, True],
                              weight_decay=[0.0, 0.1], maximize=[False, True])
             if not (c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0))]
CASES = (
    [("SGD", dict(lr=0.1, **c)) for c in SGD_CASES]
    + [("Adam", dict(lr=0.01, betas=(0.8, 0.9), **c))
       for c in _grid(amsgrad=[False, True], maximize=[False, True], weight_decay=[0.0, 0.1],
                      decoupled_weight_decay=[False, True])]
    + [("AdamW", dict(lr=0.01, betas=(0.8, 0.9), **c))
       for c in _grid(amsgrad=[False, True], maximize=[False, True], weight_decay=[0.0, 0.1])]
    + [("RMSprop", dict(lr=0.01, alpha=0.9, **c))
       for c in _grid(centered=[False, True], momentum=[0.0, 0.5], weight_decay=[0.0, 0.1],
                      maximize=[False, True])]
    + [("Adagrad", dict(lr=0.1, **c))
       for c in _grid(lr_decay=[0.0, 0.1], initial_accumulator_value=[0.0, 0.5], weight_decay=[0.0, 0.1],
                      maximize=[False, True])]
)


def _params(rng, dtype=np.float64):
    return [mg.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]


@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_matches_spec_reference(name, options, rng):
    params = _params(rng)
    thetas = [p.data.copy() for p in params]
    states = [{} for _ in params]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    opt = getattr(optim, name)(params, **options)
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = mg.Tensor(g)
        opt.step()
        thetas = [REFERENCES[name](t, g, s, **options)
                  for t, g, s in zip(thetas, step_grads, states, strict=True)]
    for p, t in zip(params, thetas, strict=True):
        np.testing.assert_allclose(p.data, t, rtol=1e-12, atol=1e-13)


TORCH_GROUPS = {
    "SGD": ({"lr": 0.05}, [{}, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
                           {"momentum": 0.5, "dampening": 0.2, "maximize": True}]),
    "Adam": ({"lr": 0.01}, [{}, {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1},
                            {"betas": (0.5, 0.8), "maximize": True, "weight_decay": 0.05,
                             "decoupled_weight_decay": True}]),
    "AdamW": ({"lr": 0.01}, [{}, {"lr": 0.03, "amsgrad": True}, {"weight_decay": 0.3, "maximize": True}]),
    "RMSprop": ({"lr": 0.01}, [{}, {"centered": True, "momentum": 0.6},
                               {"lr": 0.02, "alpha": 0.5, "weight_decay": 0.1, "maximize": True}]),
    # torch fills Adagrad's sums from the constructor's initial_accumulator_value, ignoring a
    # group's own value (minigrad honours it), so the value goes in the defaults here.
    "Adagrad": ({"lr": 0.05, "initial_accumulator_value": 0.3}, [{}, {"lr_decay": 0.2},
                               {"weight_decay": 0.1, "eps": 1e-3, "maximize": True}]),
}


@pytest.mark.parametrize("name", list(TORCH_GROUPS))
def test_matches_torch_with_param_groups(name, torch, rng):
    defaults, overrides = TORCH_GROUPS[name]
    data = [[rng.standard_normal(s) for s in SHAPES] for _ in overrides]
    mine = [[mg.Tensor(a.copy(), requires_grad=True) for a in group] for group in data]
    theirs = [[torch.tensor(a.copy(), requires_grad=True) for a in group] for group in data]
    opt = getattr(optim, name)([{"params": ps, **o} for ps, o in zip(mine, overrides, strict=True)],
                               **defaults)
    topt = getattr(torch.optim, name)([{"params": ps, **o} for ps, o in zip(theirs, overrides, strict=True)],
                                      **defaults)
    for step in range(12):
        for group, tgroup in zip(mine, theirs, strict=True):
            for p, tp in zip(group, tgroup, strict=True):
                g = np.sin(3 * p.data) + 0.1 * step
                p.grad = mg.Tensor(g)
                tp.grad = torch.tensor(g.copy())
        opt.step()
        topt.step()
    for group, tgroup in zip(mine, theirs, strict=True):
        for p, tp in zip(group, tgroup, strict=True):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_float32_updates_stay_float32_and_in_place(rng):
    for name in REFERENCES:
        p = mg.Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
        buffer = p.data
        view = p.data[0]
        p.grad = mg.Tensor(np.ones((4, 3), np.float32))
        getattr(optim, name)([p], lr=0.1).step()
        assert p.data is buffer and p.dtype == np.float32
        np.testing.assert_array_equal(view, p.data[0])
        opt = getattr(optim, name)([p])
        opt.step()
        arrays = [v for v in opt.state[p].values() if isinstance(v, np.ndarray)]
        assert all(a.dtype == np.float32 for a in arrays)


# ---------------------------------------------------------------- first-step properties
def test_sgd_first_step_is_plain_gradient_step(rng):
    theta, g = rng.standard_normal(6), rng.standard_normal(6)
    for momentum in (0.0, 0.9):
        p = mg.Tensor(theta.copy(), requires_grad=True)
        p.grad = mg.Tensor(g)
        optim.SGD([p], lr=0.3, momentum=momentum, dampening=0.5).step()
        np.testing.assert_allclose(p.data, theta - 0.3 * g, rtol=0, atol=1e-15)


def test_adam_first_step_is_lr_times_sign(rng):
    theta = rng.standard_normal(8)
    g = np.sign(rng.standard_normal(8)) * np.logspace(-2, 3, 8)
    for name in ("Adam", "AdamW"):
        p = mg.Tensor(theta.copy(), requires_grad=True)
        p.grad = mg.Tensor(g)
        getattr(optim, name)([p], lr=0.01, weight_decay=0.0).step()
        np.testing.assert_allclose(p.data, theta - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-14, atol=1e-15)
        # |g| >= 1e-2, so the eps term moves each step by at most lr * eps / |g| = 1e-8.
        np.testing.assert_allclose(p.data, theta - 0.01 * np.sign(g), rtol=0, atol=1.1e-8)


def test_plain_sgd_weight_decay_is_shrink_then_step(rng):
    theta, g = rng.standard_normal(5), rng.standard_normal(5)
    p = mg.Tensor(theta.copy(), requires_grad=True)
    p.grad = mg.Tensor(g)
    optim.SGD([p], lr=0.1, weight_decay=0.2).step()
    np.testing.assert_allclose(p.data, theta * (1 - 0.1 * 0.2) - 0.1 * g, rtol=1e-14)


def test_adamw_differs_from_adam_with_l2(rng):
    theta = rng.standard_normal(6) * 3
    results = []
    for opt_cls in (optim.Adam, optim.AdamW):
        p = mg.Tensor(theta.copy(), requires_grad=True)
        opt = opt_cls([p], lr=0.1, weight_decay=0.5)
        for _ in range(3):
            p.grad = mg.Tensor(0.01 * p.data)
            opt.step()
        results.append(p.data.copy())
    assert np.abs(results[0] - results[1]).max() > 1e-3
    q = mg.Tensor(theta.copy(), requires_grad=True)
    decoupled = optim.Adam([q], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    for _ in range(3):
        q.grad = mg.Tensor(0.01 * q.data)
        decoupled.step()
    np.testing.assert_array_equal(q.data, results[1])


@pytest.mark.parametrize("name", list(REFERENCES))
def test_maximize_equals_minimizing_the_negated_gradient(name, rng):
    theta = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    a = mg.Tensor(theta.copy(), requires_grad=True)
    b = mg.Tensor(theta.copy(), requires_grad=True)
    opt_a = getattr(optim, name)([a], lr=0.05, maximize=True)
    opt_b = getattr(optim, name)([b], lr=0.05)
    for g in grads:
        a.grad, b.grad = mg.Tensor(g), mg.Tensor(-g)
        opt_a.step()
        opt_b.step()
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.allclose(a.data, theta)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_parameters_without_grad_are_skipped(name, rng):
    a = mg.Tensor(rng.standard_normal(3), requires_grad=True)
    b = mg.Tensor(rng.standard_normal(3), requires_grad=True)
    before = b.data.copy()
    a.grad = mg.Tensor(np.ones(3))
    extra = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
    opt = getattr(optim, name)([a, b], lr=0.1, **extra)
    opt.step()
    np.testing.assert_array_equal(b.data, before)
    assert b not in opt.state and a in opt.state
    assert list(opt.state_dict()["state"]) == [0]


def test_step_calls_closure_with_grad_enabled_and_returns_loss():
    p = mg.Tensor([2.0, -1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_array_equal(p.data, [1.0, -0.5])


def test_zero_grad_sets_none_or_zeros():
    p = mg.Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = mg.Tensor([3.0, 4.0])
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad
    np.testing.assert_array_equal(p.grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


# ---------------------------------------------------------------- state_dict
RESUME_OPTIONS = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True), "Adam": dict(lr=0.01, amsgrad=True),
                  "AdamW": dict(lr=0.01), "RMSprop": dict(lr=0.01, centered=True, momentum=0.5),
                  "Adagrad": dict(lr=0.1, lr_decay=0.1)}


def _run(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = mg.Tensor(g)
        opt.step()


def _two_groups(name, params, second_lr):
    return getattr(optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": second_lr}],
                                **RESUME_OPTIONS[name])


@pytest.mark.parametrize("name", list(REFERENCES))
def test_state_dict_round_trip_continues_identically(name, rng):
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(10)]

    straight = [mg.Tensor(a.copy(), requires_grad=True) for a in init]
    _run(_two_groups(name, straight, 0.02), straight, grads)

    first = [mg.Tensor(a.copy(), requires_grad=True) for a in init]
    opt = _two_groups(name, first, 0.02)
    _run(opt, first, grads[:4])
    saved, saved_params = opt.state_dict(), [p.data.copy() for p in first]
    _run(opt, first, grads[4:6])  # must not leak into the saved copy

    resumed = [mg.Tensor(a, requires_grad=True) for a in saved_params]
    opt2 = _two_groups(name, resumed, 0.7)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.02
    _run(opt2, resumed, grads[4:])
    for p, q in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_layout_is_plain_data(rng):
    a, b = (mg.Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], amsgrad=True)
    a.grad = b.grad = mg.Tensor(np.ones(3))
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert set(sd["state"][1]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert sd["state"][1]["step"] == 1 and isinstance(sd["state"][1]["exp_avg"], np.ndarray)
    sd["state"][0]["exp_avg"][:] = 99.0
    assert not np.any(opt.state[a]["exp_avg"] == 99.0)


def test_load_state_dict_rejects_mismatches_without_changes(rng):
    a, b, c = (mg.Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(3))
    source = optim.SGD([{"params": [a]}, {"params": [b, c]}], lr=0.1, momentum=0.9)
    a.grad = b.grad = c.grad = mg.Tensor(np.ones(3))
    source.step()
    saved = source.state_dict()

    target = optim.SGD([a, b, c], lr=0.3, momentum=0.9)
    with pytest.raises(ValueError, match="2 parameter groups.*has 1"):
        target.load_state_dict(saved)
    target = optim.SGD([{"params": [a, b]}, {"params": [c]}], lr=0.3, momentum=0.9)
    with pytest.raises(ValueError, match="group 0 has 2 parameters but the saved group has 1"):
        target.load_state_dict(saved)
    d = mg.Tensor(rng.standard_normal(4), requires_grad=True)
    target = optim.SGD([{"params": [a]}, {"params": [b, d]}], lr=0.3, momentum=0.9)
    with pytest.raises(ValueError, match=r"shape \(3,\) but the parameter has shape \(4,\)"):
        target.load_state_dict(saved)
    assert target.state == {} and target.param_groups[0]["lr"] == 0.3


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(("factory", "match"), [
    (lambda p: optim.SGD(p, lr=-0.1), "SGD: invalid lr -0.1"),
    (lambda p: optim.SGD(p, momentum=-0.5), "SGD: invalid momentum"),
    (lambda p: optim.SGD(p, weight_decay=-1), "SGD: invalid weight_decay"),
    (lambda p: optim.SGD(p, nesterov=True), "nesterov momentum requires momentum > 0"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Adam: invalid eps"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Adam: invalid beta parameter at index 0"),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), "AdamW: invalid beta parameter at index 1"),
    (lambda p: optim.AdamW(p, lr=-1), "AdamW: invalid lr"),
    (lambda p: optim.RMSprop(p, momentum=-0.1), "RMSprop: invalid momentum"),
    (lambda p: optim.RMSprop(p, eps=-1), "RMSprop: invalid eps"),
    (lambda p: optim.Adagrad(p, weight_decay=-0.1), "Adagrad: invalid weight_decay"),
    (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Adagrad: invalid lr_decay"),
    (lambda p: optim.Adam([{"params": p, "lr": -1.0}]), "Adam: invalid lr -1.0"),
    (lambda p: optim.SGD(p + p), "appears twice"),
    (lambda p: optim.SGD([]), "SGD got an empty parameter list"),
    (lambda p: optim.Adam([mg.Tensor([1, 2])]), "floating-point tensors, got dtype int64"),
    (lambda p: optim.SGD([{"params": p}, {"params": p[:1]}]), "more than one parameter group"),
])
def test_validation_errors(factory, match):
    params = [mg.Tensor([1.0, 2.0], requires_grad=True), mg.Tensor([3.0], requires_grad=True)]
    with pytest.raises(ValueError, match=match):
        factory(params)


def test_add_param_group_uses_defaults_and_rejects_duplicates():
    a = mg.Tensor([1.0], requires_grad=True)
    b = mg.Tensor([2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.5
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert len(opt.param_groups) == 2
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a)


def test_ignored_implementation_keywords_are_accepted():
    p = [mg.Tensor([1.0], requires_grad=True)]
    optim.SGD(p, foreach=True, fused=False, differentiable=False)
    optim.Adam(p, foreach=False, fused=True, capturable=True, differentiable=False)
    optim.AdamW(p, foreach=True, fused=False, capturable=False, differentiable=False)
    optim.RMSprop(p, foreach=True, capturable=True, differentiable=False)
    optim.Adagrad(p, foreach=True, fused=False, differentiable=False)
