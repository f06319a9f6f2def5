"""The engine's semantics: accumulation, reuse, hooks, grad mode, higher order, errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def f64(values, requires_grad=True):
    return mg.tensor(values, dtype=mg.float64, requires_grad=requires_grad)


def test_value_used_twice_gets_both_contributions():
    a = f64(3.0)
    b = a + a
    assert [t is a for t in b.grad_fn.inputs] == [True, True]
    b.backward()
    assert a.grad.item() == 2.0


def test_gradients_accumulate_until_zeroed():
    x = f64([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_leaf_grads_are_private_copies():
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.data *= 10
    assert b.grad.tolist() == [1.0, 1.0]


def test_backward_through_a_chain_of_100000_ops_needs_no_recursion():
    x = f64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    assert x.grad.item() == pytest.approx(1.00001 ** 100_000, rel=1e-9)


def test_non_scalar_backward_needs_a_gradient():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs.*\\(2,\\)"):
        (x * 2.0).backward()
    (x * 2.0).backward(mg.tensor([1.0, 10.0], dtype=mg.float64))
    assert x.grad.tolist() == [2.0, 20.0]


def test_gradient_of_wrong_shape_is_refused():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="gradient has shape \\(3,\\) but the output has shape \\(2,\\)"):
        (x * 2.0).backward(mg.ones(3, dtype=mg.float64))


def test_second_backward_through_freed_graph_raises_unless_retained():
    x = f64(2.0)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    x.grad = None
    z = x.exp() * x
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.item() == pytest.approx(2 * 3 * np.exp(2.0))


def test_backward_on_a_constant_explains():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_incompatible_shapes_name_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4,\)"):
        mg.ones(2, 3) * mg.ones(4)
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        mg.ones(2, 3) @ mg.ones(4, 5)


def test_dtype_promotion_never_changes_a_parameters_dtype():
    w = mg.ones(3, requires_grad=True)
    x = mg.ones(3, dtype=mg.float64)
    y = (w * x).sum()
    assert y.dtype == mg.float64
    y.backward()
    assert w.dtype == mg.float32 and w.grad.dtype == mg.float32
    assert (w * 2).dtype == mg.float32 and (w * 2.5).dtype == mg.float32
    assert (mg.arange(3) * w).dtype == mg.float32
    assert (mg.arange(3) / 2).dtype == mg.float32


def test_broadcast_gradients_are_summed_to_the_input_shape():
    a = f64(np.ones((2, 3)))
    b = f64(np.arange(3.0))
    c = f64(np.ones((2, 1)))
    (a * b + c).sum().backward()
    assert b.grad.tolist() == [2.0, 2.0, 2.0]
    assert c.grad.tolist() == [[3.0], [3.0]]


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = f64([1.0, 2.0])
    h = x * 3.0
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert x.grad.tolist() == [18.0, 36.0]


def test_hooks_see_and_may_replace_the_gradient():
    x = f64([1.0, 2.0])
    seen = []
    h = x * 2.0
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 0.0 + 7.0)
    h.sum().backward()
    assert seen == [[1.0, 1.0]]
    assert x.grad.tolist() == [7.0, 7.0]
    handle.remove()
    x.grad = None
    (x * 2.0).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_hook_returning_wrong_shape_is_refused():
    x = f64([1.0, 2.0])
    x.register_hook(lambda g: mg.ones(3, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="hook .* must return None or a Tensor of the gradient's shape"):
        (x * 1.0).sum().backward()


def test_no_grad_and_enable_grad():
    x = f64([1.0])
    with mg.no_grad():
        y = x * 2.0
        with mg.enable_grad():
            z = x * 2.0
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def evaluate(t):
        return t * 3.0

    assert not evaluate(x).requires_grad
    with mg.set_grad_enabled(False):
        assert not (x * 1.0).requires_grad
    assert mg.is_grad_enabled()


def test_detach_and_requires_grad_rules():
    x = f64([1.0])
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.grad_fn is None
    with pytest.raises(RuntimeError, match="only tensors of floating point dtype"):
        mg.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match="in-place"):
        x.add_(1.0)
    with mg.no_grad():
        x.add_(1.0)
    assert x.tolist() == [2.0]


def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = f64([1.0, 2.0]), f64([3.0])
    h = x * 2.0
    out = (h * y).sum()
    gx, gh = mg.grad(out, [x, h], retain_graph=True)
    assert gx.tolist() == [6.0, 6.0] and gh.tolist() == [3.0, 3.0]
    assert x.grad is None
    unused = f64([0.0])
    with pytest.raises(RuntimeError, match="not used"):
        mg.grad(out, [unused], retain_graph=True)
    assert mg.grad(out, [unused], allow_unused=True) == (None,)


def test_backward_with_inputs_only_fills_those():
    x, y = f64(1.0), f64(2.0)
    (x * y).backward(inputs=[x])
    assert x.grad.item() == 2.0 and y.grad is None


def test_second_derivative_of_tanh_matches_closed_form():
    xs = np.linspace(-2, 2, 7)
    x = f64(xs)
    (g,) = mg.grad(x.tanh().sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 1 - np.tanh(xs) ** 2, rtol=1e-12)
    (gg,) = mg.grad(g.sum(), x)
    t = np.tanh(xs)
    np.testing.assert_allclose(gg.data, -2 * t * (1 - t**2), rtol=1e-12, atol=1e-15)


def test_hessian_vector_product_matches_closed_form():
    # f(x) = sum(x^3) + x0*x1  ->  H = diag(6x) + [[0,1],[1,0]]
    xs, vs = np.array([0.5, -1.5]), np.array([2.0, 3.0])
    x, v = f64(xs), f64(vs, requires_grad=False)
    f = (x ** 3).sum() + x[0] * x[1]
    (g,) = mg.grad(f, x, create_graph=True)
    (hv,) = mg.grad((g * v).sum(), x)
    expected = np.diag(6 * xs) @ vs + np.array([vs[1], vs[0]])
    np.testing.assert_allclose(hv.data, expected, rtol=1e-12)


def test_backward_create_graph_makes_grad_differentiable():
    x = f64(3.0)
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = mg.grad(x.grad, x)
    assert g2.item() == pytest.approx(18.0)


def test_custom_function_with_context_api():
    class Cube(mg.Function):
        """d/dx x^3 = 3 x^2"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x * x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (sq,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True,)
            return grad * mg.from_numpy(sq) * 3.0

    x = f64([1.0, -2.0])
    y = Cube.apply(x)
    assert y.grad_fn.name == "Cube" and repr(y.grad_fn) == "<CubeBackward>"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    assert mg.gradcheck(Cube.apply, (f64([0.3, 1.7]),))


def test_custom_function_returning_wrong_gradient_shape_is_named():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return mg.ones(5, dtype=mg.float64)

    with pytest.raises(RuntimeError, match=r"BadBackward returned a gradient of shape \(5,\)"):
        Bad.apply(f64([1.0, 2.0])).sum().backward()


def test_graph_nodes_record_order_and_creation_sequence():
    a, b = f64(1.0), f64(2.0)
    c = a * b
    d = c + a
    assert d.grad_fn.inputs[0] is c and d.grad_fn.inputs[1] is a
    assert c.grad_fn.seq < d.grad_fn.seq
    assert d.grad_fn.next_functions == ((c.grad_fn, 0), (None, 0))
    assert not d.is_leaf and a.is_leaf


def test_setitem_with_a_value_that_requires_grad_is_refused_not_silently_cut():
    """Writing a graph tensor into a constant would lose its gradient without a word."""
    w = mg.tensor([1.0], requires_grad=True)
    out = mg.zeros(3)
    with pytest.raises(RuntimeError, match="__setitem__.*requires grad.*cat"):
        out[0:1] = w * 2
    assert out.tolist() == [0.0, 0.0, 0.0]
    with mg.no_grad():
        out[0:1] = w * 2
    assert out.tolist() == [2.0, 0.0, 0.0]


def test_pow_gradient_at_zero_to_the_zero_matches_torch(torch):
    """d/da a^b is taken as 0 where b == 0 (PyTorch's rule), not 0 * 0^-1 = nan."""
    grads = []
    for lib in (mg, torch):
        a = lib.tensor([0.0, 0.0, 2.0], requires_grad=True)
        b = lib.tensor([0.0, 2.0, 0.0], requires_grad=True)
        (a ** b).sum().backward()
        grads.append((a.grad.tolist(), b.grad.tolist()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_a_numpy_value_error_that_is_not_about_shapes_is_not_reported_as_one():
    """Integer to a negative integer power fails in numpy; the message must say so,
    not claim that (1,) and (1,) cannot be broadcast."""
    with pytest.raises(ValueError, match=r"pow: .*negative integer powers") as info:
        mg.tensor([2]) ** mg.tensor([-1])
    assert "broadcast" not in str(info.value)


@pytest.mark.parametrize("dim, values", [
    (None, [[0.0, 2.0, 3.0], [1.5, 1.0, 2.0]]),
    (1, [[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [1.0, 2.0, 4.0]]),
])
def test_second_derivative_of_prod_with_zeros_matches_torch(torch, dim, values):
    """prod's gradient where some x_i = 0 must stay differentiable under create_graph
    (it was a numpy constant, so Hessians silently lost the cross terms)."""
    hessians = []
    for lib in (mg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        p = x.prod() if dim is None else x.prod(dim)
        y = (p * x.sum()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x)
        hessians.append(np.array(h.tolist()))
    np.testing.assert_allclose(hessians[0], hessians[1], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_grads_from_create_graph_are_not_shared_or_written_in_place_later(torch):
    """a + b hands both leaves the same gradient tensor (a read-only broadcast view);
    a later plain backward must neither crash on it nor change b.grad through a.grad."""
    results = []
    for lib in (mg, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        (a + b).sum().backward(create_graph=True)
        (a * 5).sum().backward()
        c = lib.tensor([1.0, 2.0], requires_grad=True)
        (c * c).sum().backward(create_graph=True)
        (c * 5).sum().backward()
        results.append((a.grad.tolist(), b.grad.tolist(), c.grad.tolist()))
    assert results[0] == results[1]


def test_retain_grad_is_filled_by_grad_and_by_backward_with_inputs_once(torch):
    """A retained non-leaf gets its gradient whichever entry point runs the graph, and
    listing it in backward(inputs=...) as well does not count it twice."""
    results = []
    for lib in (mg, torch):
        x = lib.tensor([1.0, 3.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        lib.autograd.grad((y * y).sum(), x, retain_graph=True)
        after_grad = y.grad.tolist()
        y.grad = None
        (y * y).sum().backward(inputs=[y])
        results.append((after_grad, y.grad.tolist(), x.grad))
    assert results[0] == results[1]
