"""Every differentiable op passes gradcheck (and gradgradcheck) in float64, on shapes that
include broadcasting, size-1 and empty dimensions and non-contiguous inputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from tests.op_inputs import leaves, op_arrays
from tests.op_registry import ALL


@pytest.mark.parametrize("spec", ALL, ids=lambda s: s.name)
@settings(max_examples=6)
@given(data=st.data())
def test_gradcheck(spec, data):
    inputs = leaves(data.draw(op_arrays(spec)))
    assert mg.gradcheck(spec.fn, inputs)


@pytest.mark.parametrize("spec", ALL, ids=lambda s: s.name)
@settings(max_examples=2)
@given(data=st.data())
def test_gradgradcheck(spec, data):
    inputs = leaves(data.draw(op_arrays(spec)))
    assert mg.gradgradcheck(spec.fn, inputs)


def test_gradcheck_reports_input_element_and_values():
    class BadSquare(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.inputs[0] * 3.0  # wrong: should be 2x

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.autograd.GradcheckError, match=r"input 0.*element \(0,\).*analytical 3"):
        mg.gradcheck(lambda t: BadSquare.apply(t), (x,))
    assert mg.gradcheck(lambda t: BadSquare.apply(t), (x,), raise_exception=False) is False


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(lambda t: t * 2, (mg.tensor([1.0], dtype=mg.float64),))


def test_subgradients_at_kinks_match_pytorch():
    x = mg.tensor([0.0, 0.5, -0.5], dtype=mg.float64, requires_grad=True)
    (x.relu().sum() + x.abs().sum()).backward()
    assert x.grad.tolist() == [0.0, 2.0, -1.0]  # relu'(0) = 0, sign(0) = 0

    x = mg.tensor([-0.5, 0.7, 0.0], dtype=mg.float64, requires_grad=True)
    x.clamp(-0.5, 0.7).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]  # clamp's bounds are inclusive

    a = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([1.0, 3.0], dtype=mg.float64, requires_grad=True)
    mg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]  # ties split

    x = mg.tensor([[3.0, 1.0, 3.0], [0.0, 2.0, 1.0]], dtype=mg.float64, requires_grad=True)
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]  # amax splits ties evenly

    x = mg.tensor([2.0, 0.0, 3.0], dtype=mg.float64, requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]  # the product of the others, zero included
