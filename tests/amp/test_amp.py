"""minigrad.amp: autocast's float16 rounding of matmul-class ops, and GradScaler against
torch.amp.GradScaler step for step (golden values where torch is absent)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.amp import GradScaler, autocast, is_autocast_enabled
from minigrad.amp.autocast import RoundToHalf


def h(a: np.ndarray) -> np.ndarray:
    """a rounded to float16, back in float32."""
    return np.asarray(a, np.float32).astype(np.float16).astype(np.float32)


# ---------------------------------------------------------------- autocast
def test_matmul_rounds_inputs_and_output_to_float16(rng):
    a = rng.standard_normal((5, 7)).astype(np.float32)
    b = rng.standard_normal((7, 3)).astype(np.float32)
    with autocast():
        assert is_autocast_enabled()
        y = mg.tensor(a) @ mg.tensor(b)
    assert not is_autocast_enabled()
    expected = h(h(a) @ h(b))
    np.testing.assert_array_equal(y.data, expected)
    assert y.dtype == mg.float32
    assert not np.array_equal(expected, a @ b)
    np.testing.assert_array_equal((mg.tensor(a) @ mg.tensor(b)).data, a @ b)


@pytest.mark.parametrize(("sa", "sb"), [((3,), (3, 4)), ((2, 5, 3), (3, 4)), ((4,), (4,)), ((2, 3), (3,))])
def test_matmul_shapes_and_gradients_are_rounded(rng, sa, sb):
    a = mg.tensor(rng.standard_normal(sa).astype(np.float32) * 3, requires_grad=True)
    b = mg.tensor(rng.standard_normal(sb).astype(np.float32) * 3, requires_grad=True)
    with autocast():
        y = a @ b
    np.testing.assert_array_equal(y.data, h(np.matmul(h(a.data), h(b.data))))
    (y * 1.001).sum().backward()
    for t in (a, b):
        assert t.grad.shape == t.shape and t.grad.dtype == mg.float32
        np.testing.assert_array_equal(t.grad.data, h(t.grad.data))


def test_linear_forward_and_gradients_at_float16_precision(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    w = rng.standard_normal((3, 6)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    c = rng.standard_normal((4, 3)).astype(np.float32)
    xt, wt, bt = (mg.tensor(v, requires_grad=True) for v in (x, w, b))
    with autocast():
        y = F.linear(xt, wt, bt)
    np.testing.assert_array_equal(y.data, h(h(x) @ h(w).T + h(b)))
    (y * mg.tensor(c)).sum().backward()
    g = h(c)
    np.testing.assert_array_equal(wt.grad.data, h(g.T @ h(x)))
    np.testing.assert_array_equal(xt.grad.data, h(g @ h(w)))
    np.testing.assert_array_equal(bt.grad.data, h(g.sum(0)))
    assert wt.grad.dtype == mg.float32


def test_small_gradients_underflow_under_autocast_and_loss_scaling_rescues_them():
    layer = nn.Linear(4, 2)
    x = mg.ones(3, 4)
    with autocast():
        loss = (layer(x) * 1e-8).sum()
    loss.backward(retain_graph=True)
    assert np.count_nonzero(layer.weight.grad.data) == 0, "1e-8 is below float16's smallest subnormal"
    layer.zero_grad()
    scaled = loss * 2.0**16
    scaled.backward()
    grad = layer.weight.grad.data / 2.0**16
    np.testing.assert_allclose(grad, np.full((2, 4), 3e-8), rtol=2e-3)


def test_overflow_becomes_inf_and_float64_is_left_alone():
    big = mg.full((1, 2), 300.0)
    with autocast():
        assert np.isinf((big @ mg.full((2, 1), 300.0)).data).all()
        x64 = mg.tensor([[1 / 3]], dtype=mg.float64)
        assert (x64 @ x64).item() == (1 / 3) ** 2


def test_nesting_disabled_inside_and_decorator(rng):
    a = mg.tensor(rng.standard_normal((2, 2)).astype(np.float32))
    with autocast():
        with autocast(enabled=False):
            assert not is_autocast_enabled()
            np.testing.assert_array_equal((a @ a).data, a.data @ a.data)
        assert is_autocast_enabled()

    @autocast()
    def f(t):
        return t @ t

    np.testing.assert_array_equal(f(a).data, h(h(a.data) @ h(a.data)))
    assert not is_autocast_enabled()


def test_graph_shows_the_rounding_and_softmax_stays_float32(rng):
    w = mg.tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    x = mg.tensor(rng.standard_normal((2, 3)).astype(np.float32))
    with autocast():
        logits = F.linear(x, w)
        p = logits.softmax(1)
    assert logits.grad_fn.op is RoundToHalf
    assert p.dtype == mg.float32
    np.testing.assert_allclose(p.data.sum(1), 1.0, rtol=1e-6)
    assert not np.array_equal(p.data, h(p.data))


def test_autocast_bad_arguments():
    with pytest.raises(ValueError, match="only dtype=float16"):
        autocast(dtype=mg.float64)
    with pytest.raises(ValueError, match="device_type must be 'cpu' or 'cuda'"):
        autocast("tpu")


# ---------------------------------------------------------------- GradScaler
INJECT = {2: "inf", 3: "inf", 7: "nan", 11: "inf"}   # iteration -> bad gradient injected
UNSCALE_AND_CLIP = {5, 9}
GOLDEN_SCALES = [32.0, 32.0, 16.0, 8.0, 8.0, 8.0, 16.0, 8.0, 8.0, 8.0, 16.0, 8.0, 8.0, 8.0]
GOLDEN_SKIPPED = [False, False, True, True, False, False, False, True, False, False, False, True, False,
                  False]
GOLDEN_TRACKER = [1, 2, 0, 0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2]


def _scripted_minigrad(steps: int) -> tuple[list, list, list, list]:
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((2, 3)).astype(np.float32)
    xs = rng.standard_normal((steps, 4, 3)).astype(np.float32)
    model = nn.Linear(3, 2, bias=False)
    model.weight.data[...] = w0
    opt = optim.SGD(model.parameters(), lr=0.1)
    scaler = GradScaler(init_scale=32.0, growth_interval=3)
    scales, skipped, trackers, weights = [], [], [], []
    for i in range(steps):
        opt.zero_grad()
        loss = (model(mg.tensor(xs[i])) ** 2).mean()
        scaler.scale(loss).backward()
        if i in INJECT:
            model.weight.grad.data[0, 0] = np.inf if INJECT[i] == "inf" else np.nan
        if i in UNSCALE_AND_CLIP:
            scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        scaler.step(opt)
        skipped.append(scaler.found_inf(opt))
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler.state_dict()["_growth_tracker"])
        weights.append(model.weight.data.copy())
    return scales, skipped, trackers, weights


def test_grad_scaler_scripted_run_golden_values():
    scales, skipped, trackers, weights = _scripted_minigrad(len(GOLDEN_SCALES))
    assert scales == GOLDEN_SCALES
    assert skipped == GOLDEN_SKIPPED
    assert trackers == GOLDEN_TRACKER
    for i in range(1, len(weights)):
        assert np.array_equal(weights[i], weights[i - 1]) == GOLDEN_SKIPPED[i]


def test_grad_scaler_matches_torch_step_for_step(torch):
    steps = len(GOLDEN_SCALES)
    scales, skipped, trackers, weights = _scripted_minigrad(steps)
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((2, 3)).astype(np.float32)
    xs = rng.standard_normal((steps, 4, 3)).astype(np.float32)
    model = torch.nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(w0))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=32.0, growth_interval=3)
    for i in range(steps):
        opt.zero_grad()
        loss = (model(torch.from_numpy(xs[i])) ** 2).mean()
        scaler.scale(loss).backward()
        if i in INJECT:
            model.weight.grad[0, 0] = float(INJECT[i])
        if i in UNSCALE_AND_CLIP:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        before = scaler.get_scale()
        scaler.step(opt)
        scaler.update()
        assert scaler.get_scale() == scales[i], i
        assert (scaler.get_scale() < before) == skipped[i], i
        assert scaler.state_dict()["_growth_tracker"] == trackers[i], i
        np.testing.assert_allclose(model.weight.detach().numpy(), weights[i], rtol=1e-5, atol=1e-7)
    assert scaler.state_dict().keys() == GradScaler().state_dict().keys()


def _one_param_setup():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = optim.SGD([p], lr=1.0)
    return p, opt


def test_grad_scaler_unscales_with_float32_reciprocal_and_state_dict_round_trip():
    p, opt = _one_param_setup()
    scaler = GradScaler(init_scale=3.0, growth_interval=1)
    scaler.scale((p * 2.0).sum()).backward()
    np.testing.assert_array_equal(p.grad.data, [6.0, 6.0, 6.0])
    scaler.unscale_(opt)
    np.testing.assert_array_equal(p.grad.data, np.float32(6.0) * np.float32(1 / 3.0))
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 6.0
    state = scaler.state_dict()
    assert state == {"scale": 6.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 1,
                     "_growth_tracker": 0}
    other = GradScaler()
    other.load_state_dict(state)
    assert other.state_dict() == state


def test_grad_scaler_does_not_grow_to_inf():
    p, opt = _one_param_setup()
    scaler = GradScaler(init_scale=3e38, growth_interval=1)
    scaler.scale((p * 0.1).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == float(np.float32(3e38))


def test_grad_scaler_misuse_is_refused():
    p, opt = _one_param_setup()
    scaler = GradScaler()
    with pytest.raises(RuntimeError, match=r"step\(\) was called before scale\(\)"):
        scaler.step(opt)
    scaler.scale(p.sum()).backward()
    with pytest.raises(RuntimeError, match="no inf checks were recorded"):
        scaler.update()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="empty"):
        scaler.load_state_dict({})
    with pytest.raises(KeyError, match="expected the keys"):
        scaler.load_state_dict({"scale": 2.0})
    with pytest.raises(ValueError, match="growth factor must be > 1.0"):
        GradScaler(growth_factor=1.0)
    with pytest.raises(ValueError, match="outputs must be a Tensor"):
        scaler.scale(3.0)


def test_disabled_grad_scaler_is_transparent():
    p, opt = _one_param_setup()
    scaler = GradScaler(enabled=False)
    loss = p.sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(p.data, [0.0, 0.0, 0.0])
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
