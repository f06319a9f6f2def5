"""Issue 16 regressions in the optimizers: gradients and state that do not fit their parameter
(B01), inf/nan parameters in the fused kernels (B13), load_state_dict validation (B16)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.kernels import optim as optim_kernels
from minigrad.kernels.config import set_jit_enabled
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.1)),
    ("RMSprop", dict(lr=0.1, momentum=0.5, centered=True)),
    ("RMSprop", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
]
IDS = [f"{name}-{options}" for name, options in CONFIGS]


@pytest.fixture(params=[True, False], ids=["jit", "numpy"])
def jit(request):  # noqa: ANN001, ANN201
    with set_jit_enabled(request.param):
        yield request.param


def _snapshot(opt: optim.Optimizer, params: list[mg.Tensor]) -> tuple[list, dict]:
    return [p.data.copy() for p in params], copy.deepcopy(opt.state_dict())


def _assert_unchanged(opt: optim.Optimizer, params: list[mg.Tensor], before: tuple[list, dict]) -> None:
    datas, state = before
    for p, d in zip(params, datas, strict=True):
        np.testing.assert_array_equal(p.data, d)
    after = opt.state_dict()
    assert after["param_groups"] == state["param_groups"]
    assert after["state"].keys() == state["state"].keys()
    for k, values in state["state"].items():
        for key, value in values.items():
            np.testing.assert_array_equal(after["state"][k][key], value)


# ---------------------------------------------------------------- Tensor.grad setter (as torch)
def test_grad_setter_refuses_what_torch_refuses():
    p = mg.tensor(np.ones(5), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient of size '\[3\]' to a tensor of size '\[5\]'"):
        p.grad = mg.tensor(np.ones(3))
    with pytest.raises(RuntimeError, match="gradient with dtype 'float32' to a tensor with dtype 'float64'"):
        p.grad = mg.tensor(np.ones(5, np.float32))
    with pytest.raises(TypeError, match="expected to be a Tensor or None but got grad of type ndarray"):
        p.grad = np.ones(5)
    with pytest.raises(RuntimeError, match="its own grad"):
        p.grad = p
    assert p.grad is None
    strided = mg.tensor(np.arange(10.0))[::2]
    p.grad = strided  # a non-contiguous gradient of the right shape and dtype is fine, as in torch
    assert p.grad is strided
    p.grad = None
    assert p.grad is None


def test_grad_setter_raises_torch_exception_types(torch):  # noqa: ANN001
    tp = torch.ones(5, dtype=torch.float64, requires_grad=True)
    p = mg.tensor(np.ones(5), requires_grad=True)
    for wrong in (np.ones(3), np.ones(5, np.float32)):  # shape, dtype: RuntimeError in both
        with pytest.raises(RuntimeError):
            tp.grad = torch.from_numpy(wrong)
        with pytest.raises(RuntimeError):
            p.grad = mg.tensor(wrong)
    with pytest.raises(TypeError):
        tp.grad = np.ones(5)
    with pytest.raises(TypeError):
        p.grad = np.ones(5)


# ---------------------------------------------------------------- B01: grads that do not fit
@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_wrong_shape_grad_raises_and_changes_nothing(name, options, jit):  # noqa: ANN001
    """The issue's case: a (3,) gradient for a (2000,) parameter, planted through ``.grad.data``
    (which the setter cannot see). The old kernels read past the gradient's end and filled the
    parameter and its state with garbage; the numpy path broadcast or raised a bare ValueError."""
    first = mg.tensor(np.linspace(-1, 1, 7), requires_grad=True)
    p = mg.tensor(np.ones(2000), requires_grad=True)
    opt = getattr(optim, name)([first, p], **options)
    first.grad, p.grad = mg.tensor(np.ones(7)), mg.tensor(np.ones(2000))
    opt.step()
    before = _snapshot(opt, [first, p])
    p.grad.data = np.ones(3)
    with pytest.raises(RuntimeError, match=rf"{name}\.step: the gradient of parameter 1 of group 0 "
                                           r"\(shape \(2000,\)\) has shape \(3,\)"):
        opt.step()
    _assert_unchanged(opt, [first, p], before)  # the first parameter was not updated either
    p.grad.data = np.ones(1)  # would broadcast silently on the numpy path
    with pytest.raises(RuntimeError, match="has shape"):
        opt.step()
    _assert_unchanged(opt, [first, p], before)


@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_wrong_dtype_or_non_array_grad_raises(name, options, jit):  # noqa: ANN001
    p = mg.tensor(np.ones(6), requires_grad=True)
    opt = getattr(optim, name)([p], **options)
    p.grad = mg.tensor(np.ones(6))
    p.grad.data = np.ones(6, np.float32)
    with pytest.raises(RuntimeError, match="dtype float32 but the parameter has shape .* dtype float64"):
        opt.step()
    p.grad.data = [1.0] * 6
    with pytest.raises(RuntimeError, match="must be a Tensor holding a numpy array"):
        opt.step()
    np.testing.assert_array_equal(p.data, np.ones(6))
    assert opt.state == {}


@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_state_that_does_not_fit_raises(name, options, jit):  # noqa: ANN001
    """State arrays of another shape (or a parameter whose data was replaced) are refused
    before any kernel runs; a kernel would index them with the parameter's flat index."""
    p = mg.tensor(np.ones(8), requires_grad=True)
    opt = getattr(optim, name)([p], **options)
    p.grad = mg.tensor(np.ones(8))
    opt.step()
    arrays = [k for k, v in opt.state[p].items() if isinstance(v, np.ndarray)]
    if not arrays:
        return  # plain SGD keeps no arrays
    before = _snapshot(opt, [p])
    for key in arrays:
        saved = opt.state[p][key]
        opt.state[p][key] = np.zeros(3)
        with pytest.raises(RuntimeError, match=rf"state '{key}' has shape \(3,\) but the parameter has "
                                               r"shape \(8,\)"):
            opt.step()
        opt.state[p][key] = saved.astype(np.float32)
        with pytest.raises(RuntimeError, match=f"state '{key}' has dtype float32"):
            opt.step()
        opt.state[p][key] = saved
    _assert_unchanged(opt, [p], before)
    p.data, p.grad = np.ones(2), mg.tensor(np.ones(2))
    with pytest.raises(RuntimeError, match=r"has shape \(8,\) but the parameter has shape \(2,\)"):
        opt.step()


@pytest.mark.parametrize(("name", "key", "option"), [("Adam", "max_exp_avg_sq", "amsgrad"),
                                                     ("RMSprop", "grad_avg", "centered"),
                                                     ("RMSprop", "momentum_buffer", "momentum")])
def test_option_switched_on_later_needs_its_state(name, key, option, jit):  # noqa: ANN001
    """Turning amsgrad/centered/momentum on after the first step left that state missing;
    the old kernels then read (and wrote) a 0-element array at every index."""
    p = mg.tensor(np.ones(500), requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = mg.tensor(np.ones(500))
    opt.step()
    opt.param_groups[0][option] = 0.5 if option == "momentum" else True
    before = _snapshot(opt, [p])
    with pytest.raises(RuntimeError, match=f"state '{key}' must be a numpy array, got NoneType"):
        opt.step()
    _assert_unchanged(opt, [p], before)


@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_non_contiguous_grad_gives_the_contiguous_result(name, options, jit):  # noqa: ANN001
    grads = [np.sin(np.arange(24.0) + t).reshape(4, 6) for t in range(3)]
    results = []
    for strided in (False, True):
        p = mg.tensor(np.linspace(-1, 1, 24).reshape(4, 6), requires_grad=True)
        opt = getattr(optim, name)([p], **options)
        for g in grads:
            p.grad = mg.tensor(np.asfortranarray(g) if strided else g)
            assert p.grad.data.flags.c_contiguous != strided
            opt.step()
        results.append(p.data.copy())
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("fn", ["sgd", "adam", "rmsprop", "adagrad"])
def test_kernel_functions_refuse_arrays_of_another_shape(fn, jit):  # noqa: ANN001
    p, short = np.ones(100), np.ones(3)
    full = np.zeros(100)
    calls = {
        "sgd": lambda g, s: optim_kernels.sgd([p], [g], [s], step=2, lr=0.1, momentum=0.9),
        "adam": lambda g, s: optim_kernels.adam([p], [g], [s], [full.copy()], [full.copy()], step=1, lr=0.1,
                                                beta1=0.9, beta2=0.99, eps=1e-8, amsgrad=True),
        "rmsprop": lambda g, s: optim_kernels.rmsprop([p], [g], [s], [full.copy()], [full.copy()], lr=0.1,
                                                      alpha=0.9, eps=1e-8, momentum=0.5, centered=True),
        "adagrad": lambda g, s: optim_kernels.adagrad([p], [g], [s], step=1, lr=0.1),
    }
    with pytest.raises(ValueError, match=rf"optim\.{fn}: grad of parameter 0 has shape \(3,\)"):
        calls[fn](short, full.copy())
    with pytest.raises(ValueError, match=r"of parameter 0 has shape \(3,\) but the parameter has shape"):
        calls[fn](np.ones(100), short.copy())
    with pytest.raises(ValueError, match="needs a numpy array"):
        calls[fn](np.ones(100), None)
    np.testing.assert_array_equal(p, np.ones(100))


def test_clip_grad_checks_gradients_first():
    a = mg.tensor(np.ones(4), requires_grad=True)
    b = mg.tensor(np.ones(5), requires_grad=True)
    a.grad, b.grad = mg.tensor(np.full(4, 10.0)), mg.tensor(np.ones(5))
    b.grad.data = np.ones(2)
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the gradient of parameter 1 \(shape \(5,\)\) "
                                           r"has shape \(2,\)"):
        clip_grad_norm_([a, b], 1.0)
    with pytest.raises(RuntimeError, match="clip_grad_value_: the gradient of parameter 1"):
        clip_grad_value_([a, b], 1.0)
    np.testing.assert_array_equal(a.grad.data, np.full(4, 10.0))


# ---------------------------------------------------------------- B13: inf / nan parameters
def _run(name: str, options: dict, jit: bool, steps: int = 3) -> tuple[np.ndarray, dict]:
    p = mg.tensor(np.array([np.inf, -np.inf, np.nan, 0.9, -0.3]), requires_grad=True)
    opt = getattr(optim, name)([p], **options)
    with set_jit_enabled(jit):
        for t in range(steps):
            p.grad = mg.tensor(np.array([0.5, -1.0, 2.0, 0.25, -0.75]) * (t + 1))
            opt.step()
    return p.data, opt.state[p]


NONFINITE = [(name, {**options, "weight_decay": wd}) for name, options in CONFIGS if name != "AdamW"
             for wd in (0.0, 0.1)] + [("AdamW", dict(lr=0.1, weight_decay=wd)) for wd in (0.0, 0.01)]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize(("name", "options"), NONFINITE, ids=[f"{n}-{o}" for n, o in NONFINITE])
def test_kernels_match_numpy_on_inf_and_nan_parameters(name, options):  # noqa: ANN001
    """The old SGD and Adam kernels computed ``0 * p`` for weight_decay=0, so an inf parameter
    became nan and its state nan (numpy and torch keep inf and finite state)."""
    fused, fused_state = _run(name, options, jit=True)
    plain, plain_state = _run(name, options, jit=False)
    np.testing.assert_allclose(fused, plain, rtol=1e-12, atol=0, equal_nan=True)
    for key, value in plain_state.items():
        np.testing.assert_allclose(fused_state[key], value, rtol=1e-12, atol=0, equal_nan=True, err_msg=key)
    if options["weight_decay"] == 0:
        assert np.isposinf(fused[0]) and np.isneginf(fused[1]) and np.isnan(fused[2])
        assert np.isfinite(fused[3:]).all()
        for key, value in fused_state.items():
            assert np.isfinite(value).all(), key


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize(("name", "options"), NONFINITE, ids=[f"{n}-{o}" for n, o in NONFINITE])
def test_inf_and_nan_parameters_match_torch(name, options, torch):  # noqa: ANN001
    ours, state = _run(name, options, jit=True)
    tp = torch.tensor([np.inf, -np.inf, np.nan, 0.9, -0.3], dtype=torch.float64, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **options)
    for t in range(3):
        tp.grad = torch.tensor([0.5, -1.0, 2.0, 0.25, -0.75], dtype=torch.float64) * (t + 1)
        topt.step()
    np.testing.assert_allclose(ours, tp.detach().numpy(), rtol=1e-10, atol=0, equal_nan=True)
    for key, value in topt.state[tp].items():
        if key != "step":
            np.testing.assert_allclose(state[key], value.numpy(), rtol=1e-10, atol=0, equal_nan=True,
                                       err_msg=key)


# ---------------------------------------------------------------- B16: load_state_dict
def _trained(name: str = "Adam", **options) -> tuple[optim.Optimizer, list[mg.Tensor]]:
    params = [mg.tensor(np.linspace(-1, 1, 6), requires_grad=True), mg.tensor(np.ones(3), requires_grad=True)]
    opt = getattr(optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], **options)
    for p in params:
        p.grad = mg.tensor(np.full(p.shape, 0.5))
    opt.step()
    return opt, params


def _bad_group(key, value):  # noqa: ANN001, ANN202
    def edit(sd):  # noqa: ANN001, ANN202
        sd["param_groups"][1][key] = value
    return edit


def _bad_state(key, value):  # noqa: ANN001, ANN202
    def edit(sd):  # noqa: ANN001, ANN202
        sd["state"][1][key] = value
    return edit


BAD_STATE_DICTS = [
    (_bad_group("lr", -5.0), "parameter group 1: Adam: invalid lr -5.0"),
    (_bad_group("lr", "0.1"), "parameter group 1: Adam: invalid lr '0.1'"),
    (_bad_group("lr", float("nan")), "invalid lr nan"),
    (_bad_group("betas", (2, 0.999)), "invalid beta parameter at index 0: 2"),
    (_bad_group("betas", (0.9,)), "betas must be a pair"),
    (_bad_group("eps", None), "invalid eps None"),
    (_bad_group("amsgrad", "yes"), "amsgrad must be True or False"),
    (_bad_group("amsgrad", True), r"state 'max_exp_avg_sq' must be a numpy array, got NoneType"),
    (_bad_group("params", [1, 1]), "parameter group 1 has 1 parameters but the saved group has 2"),
    (_bad_group("params", [0]), "parameter index 0 appears twice"),
    (_bad_group("params", ["1"]), "integer indices"),
    (_bad_state("step", 2.5), "state 'step' is 2.5; it must be an integer >= 0"),
    (_bad_state("step", -1), "state 'step' is -1"),
    (_bad_state("step", True), "state 'step' is True"),
    (_bad_state("step", "1"), "state 'step' is '1'"),
    (_bad_state("exp_avg", np.zeros(4)),
     r"state 'exp_avg' has shape \(4,\) but the parameter has shape \(3,\)"),
    (_bad_state("exp_avg", None), "state 'exp_avg' must be a numpy array, got NoneType"),
    (_bad_state("exp_avg", np.array(["a", "b", "c"])), "state 'exp_avg' has dtype <U1"),
    (lambda sd: sd.pop("state"), "the saved state has no 'state' entry"),
    (lambda sd: sd.pop("param_groups"), "the saved state has no 'param_groups' entry"),
    (lambda sd: sd.update(state=[1]), "'state' must be a dict"),
    (lambda sd: sd["state"].update({7: {}}), "parameter index 7, which no parameter group refers to"),
    (lambda sd: sd["state"].update({1: 3}), "its state must be a dict, got int"),
]


@pytest.mark.parametrize(("edit", "match"), BAD_STATE_DICTS, ids=[m for _, m in BAD_STATE_DICTS])
def test_load_state_dict_validates_everything_and_changes_nothing(edit, match):  # noqa: ANN001
    source, _ = _trained()
    saved = source.state_dict()
    edit(saved)
    target, params = _trained()
    target.param_groups[0]["lr"] = 0.123
    before = _snapshot(target, params)
    with pytest.raises(ValueError, match=match):
        target.load_state_dict(saved)
    _assert_unchanged(target, params, before)
    assert target.param_groups[0]["lr"] == 0.123


def test_load_state_dict_refuses_a_non_dict():
    opt, _ = _trained()
    with pytest.raises(TypeError, match="expects a dict with 'state' and 'param_groups', got list"):
        opt.load_state_dict([])


def test_load_state_dict_accepts_torch_style_values_and_casts():
    """Tensors become arrays; a whole-number float step (PyTorch keeps ``tensor(3.)``) becomes
    an int; float32 state is cast to the parameter's float64, as PyTorch does."""
    source, _ = _trained()
    saved = source.state_dict()
    saved["state"][1] = {"step": mg.tensor(3.0), "exp_avg": mg.tensor(np.full(3, 0.5, np.float32)),
                         "exp_avg_sq": np.full(3, 0.25, np.float32)}
    saved["param_groups"][0]["betas"] = [0.8, 0.9]
    target, params = _trained()
    target.load_state_dict(saved)
    state = target.state[params[1]]
    assert state["step"] == 3 and type(state["step"]) is int
    for key in ("exp_avg", "exp_avg_sq"):
        assert type(state[key]) is np.ndarray and state[key].dtype == np.float64
    assert target.param_groups[0]["betas"] == (0.8, 0.9)
    target.step()
    assert state["step"] == 4


def test_load_state_dict_after_mg_save_round_trip(tmp_path):
    opt, params = _trained("RMSprop", momentum=0.5, centered=True)
    path = tmp_path / "opt.npz"
    mg.save(opt.state_dict(), path)
    target, target_params = _trained("RMSprop", momentum=0.5, centered=True)
    target.load_state_dict(mg.load(path))
    for p in params + target_params:
        p.grad = mg.tensor(np.full(p.shape, -0.25))
    opt.step()
    target.step()
    for p, q in zip(params, target_params, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


# ---------------------------------------------------------------- foreach / fused
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_foreach_and_fused_are_accepted_but_not_both(name, torch):  # noqa: ANN001
    p = [mg.tensor([1.0], requires_grad=True)]
    getattr(optim, name)(p, foreach=True)
    getattr(optim, name)(p, fused=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        getattr(optim, name)(p, foreach=True, fused=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        getattr(torch.optim, name)([torch.ones(1, requires_grad=True)], foreach=True, fused=True)


# ---------------------------------------------------------------- schedulers' load_state_dict
def _sgd_two_groups() -> optim.SGD:
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)
    return optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)


def _sequential(opt: optim.Optimizer) -> optim.lr_scheduler.SequentialLR:
    sched = optim.lr_scheduler
    return sched.SequentialLR(opt, [sched.LinearLR(opt, 0.1, total_iters=3),
                                    sched.MultiStepLR(opt, milestones=[2, 5])], milestones=[3])


def _bad(key, value):  # noqa: ANN001, ANN202
    return lambda sd: sd.update({key: value})


SCHEDULER_CASES = [
    ("StepLR", _bad("base_lrs", [0.1]), r"'base_lrs' must be a list of 2 entries .* got list of 1"),
    ("StepLR", _bad("base_lrs", [0.1, "x"]), r"'base_lrs\[1\]' must be like 0.5"),
    ("StepLR", _bad("last_epoch", 2.5), "'last_epoch' must be like"),
    ("StepLR", _bad("_step_count", True), "'_step_count' must be like"),
    ("StepLR", _bad("T_max", 10), r"unknown entries \['T_max'\]; is this the state of another scheduler"),
    ("StepLR", _bad("gamma", None), "'gamma' must be like 0.5"),
    ("MultiStepLR", _bad("milestones", {"2": 1}), "'milestones' must map epochs to positive counts"),
    ("ReduceLROnPlateau", _bad("min_lrs", [0.0]), "'min_lrs' must be a list of 2 entries"),
    ("ReduceLROnPlateau", _bad("mode", 3), "'mode' must be like 'min'"),
    ("SequentialLR", lambda sd: sd["_schedulers"][1].update(last_epoch="3"), "'last_epoch' must be like"),
    ("SequentialLR", lambda sd: sd["_schedulers"].pop(), "'_schedulers' must hold the states of 2"),
]


def _make_scheduler(name: str, opt: optim.Optimizer):  # noqa: ANN202
    sched = optim.lr_scheduler
    return {"StepLR": lambda: sched.StepLR(opt, step_size=2, gamma=0.5),
            "MultiStepLR": lambda: sched.MultiStepLR(opt, milestones=[2, 4], gamma=0.5),
            "ReduceLROnPlateau": lambda: sched.ReduceLROnPlateau(opt, patience=1),
            "SequentialLR": lambda: _sequential(opt)}[name]()


@pytest.mark.parametrize(("name", "edit", "match"), SCHEDULER_CASES, ids=[c[2][:40] for c in SCHEDULER_CASES])
def test_scheduler_load_state_dict_validates_and_changes_nothing(name, edit, match):  # noqa: ANN001
    """The old load_state_dict was ``__dict__.update(state_dict)``: anything went in."""
    source = _make_scheduler(name, _sgd_two_groups())
    for _ in range(3):
        source.step(1.0) if name == "ReduceLROnPlateau" else source.step()
    saved = copy.deepcopy(source.state_dict())
    edit(saved)
    target = _make_scheduler(name, _sgd_two_groups())
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(ValueError, match=match):
        target.load_state_dict(saved)
    after = target.state_dict()
    assert repr(after) == repr(before)


def test_scheduler_load_state_dict_refuses_a_non_dict_and_round_trips_through_mg_save(tmp_path):
    sched = optim.lr_scheduler
    with pytest.raises(TypeError, match="expects a dict"):
        sched.StepLR(_sgd_two_groups(), 2).load_state_dict([("last_epoch", 3)])
    opt = _sgd_two_groups()
    s = sched.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10)
    for _ in range(4):
        s.step()
    mg.save({"optim": opt.state_dict(), "sched": s.state_dict()}, tmp_path / "c.npz")
    loaded = mg.load(tmp_path / "c.npz")
    opt2 = _sgd_two_groups()
    s2 = sched.OneCycleLR(opt2, max_lr=[1.0, 2.0], total_steps=10)
    opt2.load_state_dict(loaded["optim"])
    s2.load_state_dict(loaded["sched"])
    s.step()
    s2.step()
    assert s2.get_last_lr() == s.get_last_lr() and s2.last_epoch == 5


def test_a_torch_style_step_tensor_set_in_the_state_keeps_counting():
    p = mg.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = mg.tensor(np.ones(3))
    opt.step()
    opt.state[p]["step"] = mg.tensor(4.0)
    opt.step()
    assert opt.state[p]["step"] == 5 and type(opt.state[p]["step"]) is int
    opt.state[p]["step"] = 1.5
    with pytest.raises(RuntimeError, match="state 'step' is 1.5"):
        opt.step()


@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_read_only_data_or_state_raises_before_anything_changes(name, options, jit):  # noqa: ANN001
    """numpy raised 'output array is read-only' halfway through a step, after the first
    parameters were already updated."""
    first = mg.tensor(np.linspace(-1, 1, 4), requires_grad=True)
    p = mg.tensor(np.ones(4), requires_grad=True)
    opt = getattr(optim, name)([first, p], **options)
    first.grad, p.grad = mg.tensor(np.ones(4)), mg.tensor(np.ones(4))
    opt.step()
    before = _snapshot(opt, [first, p])
    p.data.flags.writeable = False
    with pytest.raises(RuntimeError, match=r"parameter 1 of group 0 \(shape \(4,\)\) must be a writable "
                                           r"floating-point numpy array, got ndarray float64 \(read-only\)"):
        opt.step()
    _assert_unchanged(opt, [first, p], before)
    p.data.flags.writeable = True
    arrays = [k for k, v in opt.state[p].items() if isinstance(v, np.ndarray)]
    for key in arrays:
        opt.state[p][key].flags.writeable = False
        with pytest.raises(RuntimeError, match=f"state '{key}' is a read-only array"):
            opt.step()
        opt.state[p][key].flags.writeable = True
    _assert_unchanged(opt, [first, p], before)
