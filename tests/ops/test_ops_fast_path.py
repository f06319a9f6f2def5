"""The op protocol: a fused op's declared fast path (``fast_backward``, on arrays) and its
readable Tensor-op ``backward`` give the same gradients, the engine picks between them by
``create_graph`` alone, and under ``no_grad`` a fused forward computes no gradient."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd.function import Function
from tests.op_inputs import leaves
from tests.op_registry import FUSED, sample

NO_READABLE_SECOND_DERIVATIVE = {"_CTC"}  # like PyTorch's ctc_loss: backward raises under create_graph


def _fused_classes() -> set[type]:
    for info in pkgutil.walk_packages(mg.__path__, "minigrad."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    seen, todo = set(), [Function]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return {c for c in seen if c.__dict__.get("fast_backward") is not None}


def _node_types(t: mg.Tensor) -> set[type]:
    found, todo = set(), [t.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node.op in found:
            continue
        found.add(node.op)
        todo.extend(i.grad_fn for i in node.inputs)
    return found


def _inputs(spec, seed: int) -> list[mg.Tensor]:  # noqa: ANN001
    rng = np.random.default_rng(seed)
    return leaves([sample(rng, shape, spec.domain, spec.kinks) for shape in spec.fixed_shapes])


@pytest.mark.parametrize("spec", FUSED, ids=lambda s: s.name)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_path_and_readable_backward_give_the_same_gradients(spec, seed):  # noqa: ANN001
    inputs = _inputs(spec, seed)
    out = spec.fn(*inputs)
    upstream = mg.tensor(np.random.default_rng(seed + 100).normal(size=out.shape))
    fast = mg.autograd.grad(out, inputs, upstream, retain_graph=True)
    readable = mg.autograd.grad(out, inputs, upstream, create_graph=True)
    for f, r in zip(fast, readable):
        assert f.dtype == r.dtype == np.float64
        np.testing.assert_allclose(f.data, r.data, rtol=1e-10, atol=1e-12)


def test_every_fused_op_is_in_the_registry():
    covered = set()
    for spec in FUSED:
        covered |= _node_types(spec.fn(*_inputs(spec, 0)))
    missing = {c.__name__ for c in _fused_classes() - covered} - NO_READABLE_SECOND_DERIVATIVE
    assert not missing, f"fused ops missing from tests/op_registry.py FUSED: {sorted(missing)}"


def test_the_engine_takes_the_fast_path_only_without_create_graph(monkeypatch):
    from minigrad.ops.linear import LinearAct

    calls = []
    fast = LinearAct.fast_backward
    counting = staticmethod(lambda ctx, g: calls.append(1) or fast(ctx, g))
    monkeypatch.setattr(LinearAct, "fast_backward", counting)
    x, w = mg.randn(2, 3, requires_grad=True), mg.randn(4, 3, requires_grad=True)
    y = LinearAct.apply(x, w, activation="tanh").sum()
    mg.autograd.grad(y, [x, w], retain_graph=True)
    assert calls == [1]
    mg.autograd.grad(y, [x, w], create_graph=True)
    assert calls == [1]


def test_ctc_says_it_has_no_double_backward():
    lp = mg.randn(5, 1, 3, requires_grad=True).log_softmax(2)
    loss = mg.nn.functional.ctc_loss(lp, mg.tensor([[1, 2]]), [5], [2])
    with pytest.raises(RuntimeError, match="ctc_loss: double backward is not implemented"):
        mg.autograd.grad(loss, lp, create_graph=True)


@pytest.mark.parametrize("name, call", [
    ("cross_entropy", lambda F, x: F.cross_entropy(x, mg.tensor([0, 2, 1, 1]))),
    ("nll_loss", lambda F, x: F.nll_loss(x, mg.tensor([0, 2, 1, 1]))),
    ("bce_with_logits", lambda F, x: F.binary_cross_entropy_with_logits(
        x, x.detach().sigmoid(), pos_weight=mg.tensor([1.0, 2.0, 3.0]))),
    ("regression", lambda F, x: F.huber_loss(x, x.detach() * 0.5)),
])
def test_no_grad_forward_computes_no_gradient(monkeypatch, name, call):  # noqa: ANN001
    """Evaluation pays for no backward: the fused kernels, which return the gradient with the
    loss, are not called under no_grad, and the loss is the same."""
    from minigrad.kernels import bce, cross_entropy, regression

    x = mg.tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    F = mg.nn.functional
    expected = call(F, x).data
    for module, fn in [(cross_entropy, "cross_entropy"), (cross_entropy, "nll_loss"),
                       (bce, "bce_with_logits"), (regression, "regression")]:
        monkeypatch.setattr(module, fn, lambda *a, **k: pytest.fail("a fused kernel ran under no_grad"))
    with mg.no_grad():
        value = call(F, x)
    np.testing.assert_allclose(value.data, expected, rtol=1e-12)


@pytest.mark.parametrize("options", [{}, {"amsgrad": True, "weight_decay": 0.1},
                                     {"maximize": True, "weight_decay": 0.1, "decoupled_weight_decay": True}])
def test_adam_fast_path_and_readable_rule_agree(options):  # noqa: ANN001
    """optim.adam.adam_rule (the numpy rule) and kernels.optim.adam_fused (its fast path) take
    the same three steps on random float64 arrays."""
    from minigrad.kernels import optim as optim_kernels
    from minigrad.kernels.config import jit_enabled
    from minigrad.optim.adam import adam_rule

    if not jit_enabled():
        pytest.skip("the fast path needs the JIT (MINIGRAD_JIT=0 is set)")
    rng = np.random.default_rng(0)
    kw = dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
              decoupled_weight_decay=False) | options
    rule = [rng.normal(size=(4, 5)), np.zeros((4, 5)), np.zeros((4, 5)), np.zeros((4, 5))]
    fast = [a.copy() for a in rule]
    for t in (1, 2, 3):
        grad = rng.normal(size=(4, 5))
        adam_rule(rule[0], grad, rule[1], rule[2], rule[3], step=t, **kw)
        assert optim_kernels.adam_fused(fast[0], grad, fast[1], fast[2], fast[3], step=t, **kw)
    for a, b in zip(rule, fast):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
