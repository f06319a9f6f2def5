"""minigrad.optim.lr_scheduler: spec §9 golden sequences, PyTorch, closed forms, state."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler as sched

STEPS = 35


def _sgd(lr=0.1, momentum=0.0):
    return optim.SGD([mg.Tensor([1.0], requires_grad=True)], lr=lr, momentum=momentum)


def _lrs(scheduler, n, optimizer=None):
    """The lr of group 0 after 0..n-1 scheduler steps."""
    out = [scheduler.get_last_lr()[0]]
    for _ in range(n - 1):
        if optimizer is not None:
            optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr()[0])
    return out


# ---------------------------------------------------------------- golden sequences (spec §9)
def test_steplr_golden():
    lrs = _lrs(sched.StepLR(_sgd(0.1), step_size=3, gamma=0.5), 9)
    np.testing.assert_allclose(lrs, [.1, .1, .1, .05, .05, .05, .025, .025, .025], rtol=1e-14)


def test_cosine_golden_continues_past_t_max():
    lrs = _lrs(sched.CosineAnnealingLR(_sgd(1.0), T_max=4, eta_min=0.1), 13)
    golden = [1, .868198, .55, .231802, .1, .231802, .55, .868198, 1, .868198, .55, .231802, .1]
    np.testing.assert_allclose(lrs, golden, atol=1e-6)


def test_onecycle_golden_lr_and_momentum():
    opt = _sgd(0.1, momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    pairs = [(s.get_last_lr()[0], opt.param_groups[0]["momentum"])]
    for _ in range(9):
        s.step()
        pairs.append((s.get_last_lr()[0], opt.param_groups[0]["momentum"]))
    golden = [(.04, .95), (.52, .9), (1, .85), (.950485, .855), (.811746, .8688), (.611262, .8889),
              (.388742, .9111), (.188258, .9312), (.049519, .945), (4e-6, .95)]
    np.testing.assert_allclose([p[0] for p in pairs], [g[0] for g in golden], atol=1e-6)
    np.testing.assert_allclose([p[1] for p in pairs], [g[1] for g in golden], atol=1e-4)


def test_onecycle_three_phase_linear_golden():
    s = sched.OneCycleLR(_sgd(), max_lr=1.0, total_steps=10, three_phase=True, anneal_strategy="linear")
    golden = [.04, .52, 1, .52, .04, .032001, .024002, .016002, .008003, 4e-6]
    np.testing.assert_allclose(_lrs(s, 10), golden, atol=1e-6)


def test_onecycle_overrun_error():
    s = sched.OneCycleLR(_sgd(), max_lr=1.0, total_steps=5)
    for _ in range(5):
        s.step()  # index 5 == total_steps is still accepted
    with pytest.raises(ValueError, match="Tried to step 6 times. The specified number of total steps is 5"):
        s.step()


def test_onecycle_argument_errors():
    with pytest.raises(ValueError, match="total_steps or"):
        sched.OneCycleLR(_sgd(), max_lr=1.0)
    with pytest.raises(ValueError, match="pct_start"):
        sched.OneCycleLR(_sgd(), max_lr=1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sched.OneCycleLR(_sgd(), max_lr=1.0, total_steps=10, anneal_strategy="step")
    with pytest.raises(ValueError, match="momentum or betas"):
        sched.OneCycleLR(optim.Adagrad([mg.Tensor([1.0], requires_grad=True)]), max_lr=1.0, total_steps=10)


def test_onecycle_cycles_adam_beta1():
    opt = optim.Adam([mg.Tensor([1.0], requires_grad=True)], betas=(0.9, 0.99))
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    s.step()
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.9) and opt.param_groups[0]["betas"][1] == 0.99


def test_plateau_golden_counters_and_cooldown():
    opt = _sgd(1.0)
    s = sched.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2, threshold=0.1, cooldown=1,
                                min_lr=0.1)
    metrics = [10, 9.5, 9.4, 9.3, 9.2, 9.1, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]
    lrs, bests = [], []
    for m in metrics:
        s.step(m)
        lrs.append(opt.param_groups[0]["lr"])
        bests.append(s.best)
    assert lrs == [1, 1, 1, .5, .5, .5, .5, .5, .5, .5, .25, .25]
    assert bests == [10] * 7 + [8.9] * 5
    assert s.get_last_lr() == [0.25]


def test_plateau_min_lr_per_group_and_eps():
    opt = optim.SGD([{"params": [mg.Tensor([1.0], requires_grad=True)], "lr": 1.0},
                     {"params": [mg.Tensor([1.0], requires_grad=True)], "lr": 1e-8}])
    s = sched.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, min_lr=[0.05, 0.0])
    for _ in range(4):
        s.step(1.0)
    assert opt.param_groups[0]["lr"] == 0.05  # floored at its min_lr
    assert opt.param_groups[1]["lr"] == 1e-8  # a change below eps is skipped
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        sched.ReduceLROnPlateau(opt, min_lr=[0.1])


def test_plateau_threshold_is_strict():
    opt = _sgd(1.0)
    s = sched.ReduceLROnPlateau(opt, patience=0, threshold=1.0, threshold_mode="abs")
    s.step(5.0)
    s.step(4.0)  # exactly best - threshold: not better
    assert s.best == 5.0 and opt.param_groups[0]["lr"] == pytest.approx(0.1)


# ---------------------------------------------------------------- against torch
def _torch_pair(torch, lrs=(0.1, 0.05), adam=False):
    """A minigrad and a torch optimizer, each with two param groups of different lrs."""
    a = [{"params": [mg.Tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    b = [{"params": [torch.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    if adam:
        return optim.Adam(a), torch.optim.Adam(b)
    return optim.SGD(a, momentum=0.9), torch.optim.SGD(b, momentum=0.9)


FACTORIES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=6),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=10),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "LambdaLR": lambda m, o: m.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (1 + e)]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS),
    "OneCycleLR-3phase": lambda m, o: m.OneCycleLR(o, max_lr=0.3, epochs=5, steps_per_epoch=7, pct_start=0.25,
                                                   three_phase=True, anneal_strategy="linear"),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9),
            m.CosineAnnealingLR(o, T_max=8)], milestones=[5, 15]),
}


def _compare(torch, make, adam=False):
    opt, topt = _torch_pair(torch, adam=adam)
    mine, theirs = make(sched, opt), make(torch.optim.lr_scheduler, topt)
    mine = mine if isinstance(mine, tuple) else (mine,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for step in range(STEPS):
        if step:
            opt.step()
            topt.step()
            for s, t in zip(mine, theirs, strict=True):
                s.step()
                t.step()
        for g, tg in zip(opt.param_groups, topt.param_groups, strict=True):
            assert g["lr"] == pytest.approx(tg["lr"], rel=1e-12, abs=1e-15), step
            key = "betas" if adam else "momentum"
            assert np.allclose(g[key], tg[key], rtol=1e-12), step
        for s, t in zip(mine, theirs, strict=True):
            np.testing.assert_allclose(s.get_last_lr(), t.get_last_lr(), rtol=1e-12)
            assert s.last_epoch == t.last_epoch


@pytest.mark.parametrize("name", list(FACTORIES))
def test_matches_torch(name, torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _compare(torch, FACTORIES[name])


def test_onecycle_with_adam_matches_torch(torch):
    _compare(torch, lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=STEPS), adam=True)


@pytest.mark.parametrize("pair", [("ExponentialLR", "StepLR"), ("LinearLR", "CosineAnnealingLR"),
                                  ("MultiStepLR", "LambdaLR")])
def test_chained_schedulers_match_torch(pair, torch):
    _compare(torch, lambda m, o: tuple(FACTORIES[n](m, o) for n in pair))


def test_nested_sequential_matches_torch(torch):
    def make(m, o):
        hold = m.LinearLR(o, start_factor=0.5, end_factor=0.5, total_iters=2)
        warmup = m.SequentialLR(o, [hold, m.LinearLR(o, 0.5, total_iters=3)], milestones=[2])
        return m.SequentialLR(o, [warmup, m.StepLR(o, 3, 0.5)], milestones=[5])

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Detected call of", UserWarning)  # torch's nested step order
        _compare(torch, make)


def test_plateau_matches_torch(torch):
    opt, topt = _torch_pair(torch)
    kwargs = dict(mode="max", factor=0.5, patience=1, threshold=0.05, cooldown=2, min_lr=[0.01, 0.02])
    mine = sched.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for metric in np.random.default_rng(1).random(40):
        mine.step(metric)
        theirs.step(metric)
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert (mine.best, mine.num_bad_epochs, mine.cooldown_counter) == \
            (theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter)


# ---------------------------------------------------------------- closed forms, contract, state
@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "LinearLR-decay",
                                  "CosineAnnealingLR"])
def test_chainable_equals_closed_form(name):
    opt = _sgd(0.1)
    opt.add_param_group({"params": [mg.Tensor([2.0], requires_grad=True)], "lr": 0.03})
    s = FACTORIES[name](sched, opt)
    for _ in range(STEPS):
        np.testing.assert_allclose(s.get_last_lr(), s._get_closed_form_lr(), rtol=1e-12, atol=1e-15)
        s.step()


def test_construction_sets_initial_lr_and_base_lrs():
    opt = _sgd(0.4)
    s = sched.LinearLR(opt, start_factor=0.25, total_iters=4)
    assert opt.param_groups[0]["initial_lr"] == 0.4 and s.base_lrs == [0.4]
    assert s.last_epoch == 0 and s.get_last_lr() == [0.1]
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(_sgd(), step_size=2, last_epoch=3)


def test_state_dict_round_trip_resumes_identically():
    def make(opt):
        warmup = sched.LinearLR(opt, 0.1, total_iters=4)
        main = sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
        return sched.SequentialLR(opt, [warmup, main], milestones=[4])

    straight_opt = _sgd(0.2)
    straight = _lrs(make(straight_opt), 20)

    opt = _sgd(0.2)
    s = make(opt)
    for _ in range(7):
        s.step()
    saved_sched, saved_opt = s.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched
    opt2 = _sgd(0.2)
    s2 = make(opt2)
    opt2.load_state_dict(saved_opt)
    s2.load_state_dict(saved_sched)
    assert s2.get_last_lr() == [straight[7]] and opt2.param_groups[0]["lr"] == straight[7]
    rest = []
    for _ in range(12):
        s2.step()
        rest.append(s2.get_last_lr()[0])
    assert rest == straight[8:]


def test_plateau_state_dict_round_trip():
    opt = _sgd(1.0)
    s = sched.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for m in (3.0, 3.0, 3.0, 2.0):
        s.step(m)
    s2 = sched.ReduceLROnPlateau(_sgd(1.0), patience=1, cooldown=1)
    s2.load_state_dict(s.state_dict())
    assert (s2.best, s2.num_bad_epochs, s2.cooldown_counter, s2.last_epoch) == (2.0, 0, 0, 4)


def test_sequential_lr_errors():
    opt, other = _sgd(), _sgd()
    with pytest.raises(ValueError, match="one milestone fewer"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2), sched.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="different optimizer"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2), sched.StepLR(other, 3)], milestones=[4])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sched.SequentialLR(opt, [sched.ReduceLROnPlateau(opt)], milestones=[])


def test_schedulers_emit_no_warnings():
    opt = _sgd()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sched.CosineAnnealingLR(opt, T_max=5)
        for _ in range(6):
            s.step()  # even without optimizer.step(): minigrad does not warn
    assert s.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 6 / 5)) / 2)


def test_multistep_state_dict_is_plain_and_restores():
    s = sched.MultiStepLR(_sgd(), milestones=[2, 4, 4], gamma=0.5)
    state = s.state_dict()
    assert type(state["milestones"]) is dict and state["milestones"] == {2: 1, 4: 2}
    opt = _sgd()
    s2 = sched.MultiStepLR(opt, milestones=[9], gamma=0.5)
    s2.load_state_dict(state)
    for _ in range(4):
        s2.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)
