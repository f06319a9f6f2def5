"""Task 4: `Parameter`, `Module`, `Linear`, `ReLU`, `Sequential`, graded against minigrad's
``nn`` (which follows PyTorch): parameter discovery and names, Linear's initialisation, and
forward/backward of layers with the same weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn as mgnn
from minigrad.nn import functional as F
from workbook.grading import call, check_close, fail

pytestmark = pytest.mark.task4

REGISTER_HINT = ("Module.__setattr__ must record every Parameter in self._parameters and every Module in "
                 "self._modules, and named_parameters must recurse into self._modules with dotted names")


def net_classes(Module, Parameter, Linear, ReLU, Sequential, ones):
    """The same nested model for tinytorch and minigrad: own parameter, a Sequential inside,
    a shared layer, a non-parameter tensor and a plain attribute."""

    class Net(Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = Sequential(Linear(5, 4), ReLU())
            self.head = Linear(4, 3)
            self.scale = Parameter(ones)
            self.head_again = self.head
            self.note = "not a parameter"

    return Net


def names_of(model, what):
    named = call(f"{what}.named_parameters()", lambda: list(model.named_parameters()))
    return [n for n, _ in named], [p for _, p in named]


def test_parameter(tt):
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    p = call("Parameter(data)", tt.nn.Parameter, data, inputs={"data": data})
    if not isinstance(p, tt.Tensor) or not p.requires_grad:
        fail("Parameter(data)", f"expected a Tensor with requires_grad=True, got {type(p).__name__} with "
             f"requires_grad={getattr(p, 'requires_grad', None)}",
             hint="call Tensor.__init__ with requires_grad=True")
    check_close("Parameter(data).data", p.data, data, inputs={"data": data})


@pytest.mark.parametrize("model", ["Sequential", "nested"])
def test_named_parameters(tt, model):
    """Names and order as minigrad/PyTorch; a shared layer's parameters listed once."""
    if model == "Sequential":
        ours = call("Sequential(Linear(3, 4), ReLU(), Linear(4, 2))", lambda: tt.nn.Sequential(
            tt.nn.Linear(3, 4), tt.nn.ReLU(), tt.nn.Linear(4, 2)))
        ref = mgnn.Sequential(mgnn.Linear(3, 4), mgnn.ReLU(), mgnn.Linear(4, 2))
        what = "Sequential(Linear(3, 4), ReLU(), Linear(4, 2))"
    else:
        Net = net_classes(tt.nn.Module, tt.nn.Parameter, tt.nn.Linear, tt.nn.ReLU, tt.nn.Sequential,
                          np.ones(1, dtype=np.float32))
        RefNet = net_classes(mgnn.Module, mgnn.Parameter, mgnn.Linear, mgnn.ReLU, mgnn.Sequential, mg.ones(1))
        ours, ref = call("Net() (a module with encoder=Sequential(...), head=Linear, scale=Parameter, "
                         "head_again=head)", Net), RefNet()
        what = ("Net (scale, encoder = Sequential(Linear(5, 4), ReLU()), head = Linear(4, 3), "
                "head_again = head)")
    names, params = names_of(ours, what)
    expected = [n for n, _ in ref.named_parameters()]
    if names != expected:
        fail(f"{what}.named_parameters()",
             f"expected the names {expected} (as minigrad and PyTorch), got {names}",
             hint=REGISTER_HINT + "; yield a module's own parameters before its submodules', and each "
                                  "parameter once")
    ref_shapes = [tuple(p.shape) for _, p in ref.named_parameters()]
    shapes = [tuple(p.shape) for p in params]
    if shapes != ref_shapes:
        fail(f"{what}.named_parameters()", f"expected shapes {ref_shapes}, got {shapes}",
             hint="Linear(in, out).weight has shape (out, in) and bias (out,)")
    listed = call(f"{what}.parameters()", lambda: list(ours.parameters()))
    if len(listed) != len(params) or any(a is not b for a, b in zip(listed, params)):
        fail(f"{what}.parameters()", f"expected the {len(params)} Parameter objects of named_parameters(), "
             f"in the same order, got {len(listed)} objects",
             hint="parameters() yields named_parameters()' values")


def test_reassignment(tt):
    """Replacing a registered layer replaces its parameters; setting it to None removes them."""
    model = call("Sequential(Linear(2, 3))", lambda: tt.nn.Sequential(tt.nn.Linear(2, 3)))
    new = tt.nn.Linear(2, 5)
    call("setattr(model, '0', Linear(2, 5))", setattr, model, "0", new)
    shapes = [tuple(p.shape) for p in model.parameters()]
    if shapes != [(5, 2), (5,)]:
        fail("model.parameters() after replacing layer '0' by Linear(2, 5)",
             f"expected shapes [(5, 2), (5,)], got {shapes}",
             hint="a new assignment to the same name replaces the old entry")

    def add_then_remove() -> None:
        model.extra = tt.nn.Linear(2, 2)
        model.extra = None

    call("model.extra = Linear(2, 2); model.extra = None", add_then_remove)
    names = [n for n, _ in model.named_parameters()]
    if names != ["0.weight", "0.bias"]:
        fail("model.named_parameters() after model.extra = Linear(2, 2); model.extra = None",
             f"expected ['0.weight', '0.bias'], got {names}",
             hint="assigning something that is not a Module or Parameter to a registered name unregisters it")


@pytest.mark.parametrize("bias", [True, False])
def test_linear_init(tt, bias):
    """Shapes, float32, U(-k, k) with k = 1/sqrt(in_features): bounds, mean and std of 131,072 weights."""
    layer = call(f"Linear(512, 256, bias={bias})", tt.nn.Linear, 512, 256, bias=bias)
    what = f"Linear(512, 256, bias={bias})"
    w = layer.weight
    if not isinstance(w, tt.nn.Parameter):
        fail(f"{what}.weight", f"expected a Parameter, got {type(w).__name__}",
             hint="wrap the array in Parameter")
    if w.shape != (256, 512) or w.dtype != np.float32:
        fail(f"{what}.weight", f"expected shape (256, 512) float32, got {w.shape} {w.dtype}",
             hint="weight is (out_features, in_features), like PyTorch; cast with .astype(np.float32)")
    k = 1 / np.sqrt(512)
    if np.abs(w.data).max() > k:
        fail(f"{what}.weight", f"values up to {np.abs(w.data).max():.4g}, beyond k = 1/sqrt(512) = {k:.4g}",
             hint="draw from np.random.uniform(-k, k, shape)")
    std, expected_std = float(w.data.std()), k / np.sqrt(3)
    if abs(std - expected_std) > 0.03 * expected_std or abs(float(w.data.mean())) > 0.01 * k:
        fail(f"{what}.weight", f"mean {w.data.mean():.3g} and std {std:.4g}; U(-k, k) has mean 0 and std "
             f"k/sqrt(3) = {expected_std:.4g}", hint="draw from np.random.uniform(-k, k, shape)")
    names = [n for n, _ in layer.named_parameters()]
    if bias:
        b = layer.bias
        if not isinstance(b, tt.nn.Parameter) or b.shape != (256,) or np.abs(b.data).max() > k:
            fail(f"{what}.bias", f"expected a (256,) Parameter in [-k, k], got {b!r:.80}",
                 hint="bias is a Parameter of shape (out_features,) drawn like the weight")
    elif layer.bias is not None:
        fail(f"{what}.bias", f"expected None, got {type(layer.bias).__name__}",
             hint="without bias, self.bias = None")
    expected_names = ["weight", "bias"] if bias else ["weight"]
    if names != expected_names:
        fail(f"{what}.named_parameters()", f"expected {expected_names}, got {names}", hint=REGISTER_HINT)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_backward(tt, bias):
    """Linear with the same weights as minigrad: output and the gradients of x, weight and bias."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    layer = call(f"Linear(5, 3, bias={bias})", tt.nn.Linear, 5, 3, bias=bias)
    weight, b = layer.weight.data.copy(), (layer.bias.data.copy() if bias else None)
    xt = tt.Tensor(x.copy(), requires_grad=True)
    inputs = {"x": x, "weight": weight} | ({"bias": b} if bias else {})
    out = call(f"Linear(5, 3, bias={bias}).forward(x)", layer, xt, inputs=inputs)
    xr, wr = mg.tensor(x, requires_grad=True), mg.tensor(weight, requires_grad=True)
    br = mg.tensor(b, requires_grad=True) if bias else None
    ref = F.linear(xr, wr, br)
    what = f"Linear(5, 3, bias={bias})"
    check_close(f"{what} forward", out.data, ref.detach().numpy(), inputs=inputs, rtol=1e-5, atol=1e-6,
                hint="out = x @ weight.T + bias (weight is (out, in))")
    g = rng.uniform(0.5, 1.5, (6, 3)).astype(np.float32)
    call(f"{what}: out.backward(gradient)", out.backward, g, inputs=inputs)
    ref.backward(mg.tensor(g))
    grads = [("x.grad", xt.grad, xr), ("weight.grad", layer.weight.grad, wr)] + (
        [("bias.grad", layer.bias.grad, br)] if bias else [])
    for name, got, r in grads:
        check_close(f"{what} backward: {name}", got, r.grad.numpy(), inputs=inputs, rtol=1e-5, atol=1e-6,
                    hint="build forward from task 3's ops (@, transpose, +) and backward comes for free")


def test_sequential_and_zero_grad(tt):
    """Sequential runs its layers in order; zero_grad clears every parameter's grad."""
    rng = np.random.default_rng(1)
    model = call("Sequential(Linear(4, 8), ReLU(), Linear(8, 3))",
                 lambda: tt.nn.Sequential(tt.nn.Linear(4, 8), tt.nn.ReLU(), tt.nn.Linear(8, 3)))
    params = list(model.parameters())
    if len(params) != 4:
        fail("Sequential(Linear(4, 8), ReLU(), Linear(8, 3)).parameters()", f"expected 4 parameters, got "
             f"{len(params)}", hint=REGISTER_HINT)
    w1, b1, w2, b2 = (mg.tensor(p.data.copy(), requires_grad=True) for p in params)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    out = call("model(x).sum()", lambda: model(tt.Tensor(x)).sum(), inputs={"x": x})
    ref = F.linear(F.linear(mg.tensor(x), w1, b1).relu(), w2, b2).sum()
    check_close("Sequential forward: model(x).sum()", out.data, ref.detach().numpy(), inputs={"x": x},
                rtol=1e-5, atol=1e-5, hint="forward feeds x through each layer in registration order")
    call("model(x).sum().backward()", out.backward)
    ref.backward()
    for name, p, r in zip(["0.weight", "0.bias", "2.weight", "2.bias"], params, [w1, b1, w2, b2]):
        check_close(f"Sequential backward: {name}.grad", p.grad, r.grad.numpy(), inputs={"x": x},
                    rtol=1e-5, atol=1e-6)
    call("model.zero_grad()", model.zero_grad)
    left = [n for n, p in model.named_parameters() if p.grad is not None]
    if left:
        fail("model.zero_grad()", f"{left} still have a gradient", hint="set every parameter's grad to None")
