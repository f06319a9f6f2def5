"""What a replay cannot repeat is refused with an error naming it; what changes is re-captured.

A refusal comes after the eager call that found it completed, so the step it was asked for
happened exactly as without capture: each test checks the parameters against an eager twin.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import amp, nn, optim
from minigrad.replay import CaptureError

BATCH = 8


def _batches(n: int = 6, batch: int = BATCH, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(mg.from_numpy(rng.standard_normal((batch, 6)).astype(np.float32)),
             mg.from_numpy(rng.integers(0, 3, batch))) for _ in range(n)]


def _setup(seed: int = 0):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    return model, optim.Adam(model.parameters(), lr=1e-2)


def _step(model, opt, extra=None):
    def step(x, y):
        opt.zero_grad()
        logits = model(x)
        if extra is not None:
            logits = extra(logits, x, y)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        return loss

    return step


def _refused(extra=None, match: str = "", prepare=None, calls: int = 1):
    """Capture a step with ``extra`` work; the refusal names ``match``; the parameters equal an
    eager twin's after the same calls."""
    model, opt = _setup()
    twin, twin_opt = _setup()
    if prepare is not None:
        prepare(model, opt)
        prepare(twin, twin_opt)
    step = mg.capture(_step(model, opt, extra))
    batches = _batches()
    mg.manual_seed(1)
    with pytest.raises(CaptureError, match=match) as info:
        for x, y in batches[:calls]:
            step(x, y)
    eager = _step(twin, twin_opt, extra)
    mg.manual_seed(1)
    for x, y in batches[:calls]:
        eager(x, y)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert "capture:" in str(info.value)
    return str(info.value)


def test_item_inside_the_function():
    def extra(logits, x, y):
        if logits.sum().item() > 1e9:
            return logits * 2
        return logits

    message = _refused(extra, r"item\(\)")
    assert "hands a value to Python" in message


def test_a_branch_on_a_tensor():
    _refused(lambda logits, x, y: logits * 2 if logits.sum() > 0 else logits, r"bool\(tensor\)")


def test_a_branch_on_the_data_taken_differently_is_caught_by_comparing_two_recordings():
    calls = iter(range(100))

    def extra(logits, x, y):
        return logits * 2.0 if next(calls) % 2 else logits

    message = _refused(extra, "took a different path", calls=2)
    assert "call 2" in message or "calls" in message


def test_an_array_computed_from_the_data_outside_any_op():
    def extra(logits, x, y):
        return logits + mg.from_numpy(np.abs(x.data[:, :3]))

    _refused(extra, "made outside any op", calls=2)


def test_random_numbers_drawn_outside_an_op():
    _refused(lambda logits, x, y: logits * mg.rand(1), "random numbers", calls=2)


def test_tensor_hook():
    def prepare(model, opt):
        model[0].weight.register_hook(lambda g: g * 0.5)

    _refused(match="register_hook", prepare=prepare)


def test_module_forward_hook():
    def prepare(model, opt):
        model[1].register_forward_hook(lambda module, args, out: None)

    _refused(match="forward hook on ReLU", prepare=prepare)


def test_retain_grad_and_create_graph():
    def retain(logits, x, y):
        logits.retain_grad()
        return logits

    _refused(retain, r"retain_grad\(\)")

    model, opt = _setup()

    def higher(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward(create_graph=True)
        opt.step()
        return loss

    with pytest.raises(CaptureError, match="create_graph"):
        mg.capture(higher)(*_batches()[0])


def test_scheduler_stepped_inside_and_gradients_carried_over():
    model, opt = _setup()
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=1)

    def with_scheduler(x, y):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        scheduler.step()

    with pytest.raises(CaptureError, match=r"lr_scheduler.step\(\).*between steps"):
        mg.capture(with_scheduler)(*_batches()[0])

    def no_zero_grad(x, y):
        F.cross_entropy(model(x), y).backward()
        opt.step()

    F.cross_entropy(model(_batches()[0][0]), _batches()[0][1]).backward()
    with pytest.raises(CaptureError, match="zero_grad"):
        mg.capture(no_zero_grad)(*_batches()[0])


def test_anomaly_mode_and_autocast_are_refused_before_running():
    model, opt = _setup()
    step = mg.capture(_step(model, opt))
    before = [p.data.copy() for p in model.parameters()]
    with mg.autograd.detect_anomaly(), pytest.raises(CaptureError, match="anomaly"):
        step(*_batches()[0])
    with amp.autocast(), pytest.raises(CaptureError, match="autocast"):
        step(*_batches()[0])
    for p, q in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, q)


def test_bad_arguments_and_return_values():
    model, opt = _setup()
    step = mg.capture(_step(model, opt))
    x, y = _batches()[0]
    with pytest.raises(CaptureError, match="argument 'x' requires grad"):
        step(mg.tensor(x.data, requires_grad=True), y)
    with pytest.raises(CaptureError, match="list, which cannot be part of a signature"):
        step(x, [1, 2])

    def returns_a_float(x, y):
        return _step(model, opt)(x, y).data.sum() * 1.0

    returning = mg.capture(returns_a_float)
    returning(x, y)
    with pytest.raises(CaptureError, match="returned a float"):
        returning(x, y)
    with pytest.raises(ValueError, match="max_plans"):
        mg.capture(returns_a_float, max_plans=0)


def _train(step, batches, before=None):
    losses = []
    for i, (x, y) in enumerate(batches):
        if before is not None:
            before(i)
        losses.append(step(x, y).item())
    return losses


def test_replaced_parameters_are_recaptured():
    model, opt = _setup()
    twin, twin_opt = _setup()
    step = mg.capture(_step(model, opt))

    def replace(i, m):
        if i == 3:
            m[0].weight.data = m[0].weight.data * 0.5

    losses = _train(step, _batches(8), lambda i: replace(i, model))
    expected = _train(_step(twin, twin_opt), _batches(8), lambda i: replace(i, twin))
    assert losses == expected
    assert step.stats["recaptures"] == 1 and "replaced" in step.stats["last_stale"]


def test_hyperparameters_are_read_at_each_replay_and_a_changed_layout_recaptures():
    model, opt = _setup()
    twin, twin_opt = _setup()
    step = mg.capture(_step(model, opt))

    def change(i, o):
        if i == 3:
            o.param_groups[0]["lr"] = 0.5
            o.param_groups[0]["betas"] = (0.5, 0.9)
        if i == 5:
            o.param_groups[0]["amsgrad"] = True
            for p in o.param_groups[0]["params"]:
                o.state[p]["max_exp_avg_sq"] = np.zeros_like(p.data)

    losses = _train(step, _batches(8), lambda i: change(i, opt))
    assert losses == _train(_step(twin, twin_opt), _batches(8), lambda i: change(i, twin_opt))
    assert step.stats["recaptures"] == 1 and "amsgrad" in step.stats["last_stale"]
    assert step.stats["replays"] == 8 - 4


def test_each_signature_gets_its_plan_and_the_cache_is_bounded():
    model, opt = _setup()
    step = mg.capture(_step(model, opt), max_plans=2)
    for batch in (8, 4, 2):
        for x, y in _batches(3, batch):
            step(x, y)
    assert [p.signature for p in step.plans.values()] == [
        "step(x: float32[4, 6], y: int64[4])", "step(x: float32[2, 6], y: int64[2])"]
    assert step.stats["plans_built"] == 3 and step.stats["replays"] == 3


def test_non_contiguous_input_is_staged_without_touching_the_callers_arrays():
    model, opt = _setup()
    twin, twin_opt = _setup()
    rng = np.random.default_rng(1)
    wide = [rng.standard_normal((BATCH, 12)).astype(np.float32) for _ in range(5)]
    labels = [mg.from_numpy(rng.integers(0, 3, BATCH)) for _ in range(5)]
    copies = [w.copy() for w in wide]
    step = mg.capture(_step(model, opt))
    losses = [step(mg.from_numpy(w[:, ::2]), y).item() for w, y in zip(wide, labels)]
    eager = _step(twin, twin_opt)
    assert losses == [eager(mg.from_numpy(w[:, ::2]), y).item() for w, y in zip(wide, labels)]
    for w, c in zip(wide, copies):
        np.testing.assert_array_equal(w, c)


def test_a_bad_target_at_replay_raises_before_any_update():
    model, opt = _setup()
    step = mg.capture(_step(model, opt))
    for x, y in _batches(3):
        step(x, y)
    before = [p.data.copy() for p in model.parameters()]
    x, y = _batches(1, seed=5)[0]
    y.data[2] = 3
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        step(x, y)
    for p, q in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, q)


def test_returned_tensors_are_the_plans_buffers_and_grads_are_bound():
    model, opt = _setup()
    step = mg.capture(_step(model, opt))
    results = [step(x, y) for x, y in _batches(5)]
    assert results[3] is results[4]  # replays return the plan's own buffer, rewritten each call
    assert results[0] is not results[1]  # eager calls return their own
    for p in model.parameters():
        assert p.grad is not None and p.grad.shape == p.shape


@pytest.mark.parametrize("read, name", [
    (lambda logits: logits.detach().numpy(), r"numpy\(\)"),
    (lambda logits: logits.tolist(), r"tolist\(\)"),
    (lambda logits: float(logits.sum()), r"float\(tensor\)"),
    (lambda logits: logits.detach().zero_(), r"Tensor.zero_\(\)"),
    (lambda logits: logits.detach().fill_(1.0), r"Tensor.fill_\(\)"),
    (lambda logits: logits.detach().add_(1.0), r"add_, an in-place write"),
    (lambda logits: logits.detach().__setitem__(0, 1.0), r"__setitem__, an in-place write"),
])
def test_values_handed_to_python_and_writes_outside_ops(read, name):
    def extra(logits, x, y):
        read(logits)
        return logits

    _refused(extra, name)


def _dropout_setup():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    return model, optim.Adam(model.parameters(), lr=1e-2)


@pytest.mark.parametrize("change", ["eval", "freeze"])
def test_python_state_the_plan_baked_in_is_guarded(change):
    """Switching a module to eval mode or freezing a parameter between calls re-captures."""
    results = []
    for captured in (True, False):
        model, opt = _dropout_setup()
        step = _step(model, opt)
        run = mg.capture(step) if captured else step
        mg.manual_seed(3)
        losses = []
        for i, (x, y) in enumerate(_batches(8)):
            if i == 4:
                if change == "eval":
                    model.eval()
                else:
                    model[0].weight.requires_grad_(False)
            losses.append(run(x, y).item())
        results.append((losses, [p.data.copy() for p in model.parameters()], run))
    (losses, params, run), (eager_losses, eager_params, _) = results
    assert losses == eager_losses
    for p, q in zip(params, eager_params):
        np.testing.assert_array_equal(p, q)
    assert run.stats["recaptures"] == 1
    assert ("eval mode" if change == "eval" else "requires_grad") in run.stats["last_stale"]


def test_a_hook_registered_after_capture_is_refused_at_the_next_call():
    model, opt = _setup()
    step = mg.capture(_step(model, opt))
    for x, y in _batches(3):
        step(x, y)
    model[0].bias.register_hook(lambda g: g * 0)
    with pytest.raises(CaptureError, match="register_hook"):
        step(*_batches(1, seed=4)[0])
    assert "hook was registered" in step.stats["last_stale"]


def test_an_enabled_grad_scaler_is_refused():
    model, opt = _setup()
    scaler = amp.GradScaler()

    def scaled(x, y):
        opt.zero_grad()
        scaler.scale(F.cross_entropy(model(x), y)).backward()
        scaler.step(opt)
        scaler.update()

    with pytest.raises(CaptureError, match="GradScaler"):
        mg.capture(scaled)(*_batches()[0])


@pytest.mark.parametrize("where", ["parameter", "gradient"])
def test_numpy_writes_that_no_op_made_are_refused(where):
    """A hand-written update on .data (or a gradient scaled on .grad.data) is work no event
    saw: the recording notices the values changed and refuses."""
    model, _ = _setup()
    params = list(model.parameters())

    def manual(x, y):
        for p in params:
            p.grad = None
        F.cross_entropy(model(x), y).backward()
        for p in params:
            if where == "gradient":
                p.grad.data *= 0.5
            else:
                p.data -= 0.1 * p.grad.data

    with pytest.raises(CaptureError, match="changed outside any op"):
        mg.capture(manual)(*_batches()[0])


def test_a_custom_optimizer_overriding_step_is_recorded():
    """An Optimizer subclass with its own step() (as a learner writes one) is replayed too."""

    class PlainSGD(optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            with mg.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            p.data -= group["lr"] * p.grad.data

    runs = []
    for captured in (True, False):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
        step = _step(model, PlainSGD(model.parameters(), lr=0.1))
        runs.append(_train(mg.capture(step) if captured else step, _batches(6)))
    assert runs[0] == runs[1]
