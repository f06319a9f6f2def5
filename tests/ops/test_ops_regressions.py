"""Regression tests for the ops bugs a differential fuzzer found against PyTorch (issue 16).

Each test fails on the code before its fix. Tests comparing with PyTorch skip without it;
the others hold golden values worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def _arange(*shape: int) -> mg.Tensor:
    return mg.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape),
                     requires_grad=True)


# ---------------------------------------------------------------- B05: mixed indexing
def test_integer_then_list_separated_by_slice_follows_pytorch():
    x = _arange(2, 3, 4)
    y = x[0, :, [1, 2]]
    assert y.shape == (3, 2)  # numpy's rule gives (2, 3)
    np.testing.assert_array_equal(y.data, [[1, 2], [5, 6], [9, 10]])
    y.backward(mg.tensor(np.arange(6.0).reshape(3, 2)))
    expected = np.zeros((2, 3, 4))
    expected[0, :, 1:3] = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(x.grad.data, expected)


def test_square_case_is_not_silently_transposed():
    x = _arange(3, 2, 2)
    np.testing.assert_array_equal(x[1, :, [0, 1]].data, [[4, 5], [6, 7]])


def test_setitem_uses_the_same_rule():
    x = mg.zeros(2, 3, 4)
    x[0, :, [1, 2]] = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(x.data[0, :, 1:3], [[1, 2], [3, 4], [5, 6]])
    assert x.data.sum() == 21


@pytest.mark.parametrize("index", [
    (0, slice(None), [1, 2]), (slice(None), 0, [1, 2]), ([0, 1], slice(None), 0),
    (0, slice(None), slice(None), [2, 0]), (None, 0, slice(None), [1, 2]),
    (Ellipsis, 0, [1, 2]), (0, Ellipsis, [1, 2]), (0, slice(None), [[1], [2]]),
    (0, slice(None), np.array([True, False, True, True, False])),
    (slice(None), [0, 1], slice(None), 0), (True, 0, slice(None), [1, 2]),
    (0, slice(None), [1, 2], None), ([0, 2], None, 1), ("t0", slice(None), [1, 2]),
    (True, [0, 1]), (False,), (0, [1, 2], slice(None), [3, 0]),
], ids=str)
def test_mixed_indexing_matches_torch(index):
    torch = pytest.importorskip("torch")
    xv = np.random.default_rng(0).normal(size=(3, 4, 5, 6))
    g_seed = np.random.default_rng(1)

    def conv(p, lib):
        if isinstance(p, str):
            return lib.tensor(1)
        if isinstance(p, list | np.ndarray):
            return lib.tensor(p)
        return p

    tx = torch.tensor(xv, requires_grad=True)
    mx = mg.tensor(xv, requires_grad=True)
    ty = tx[tuple(conv(p, torch) for p in index)]
    my = mx[tuple(conv(p, mg) for p in index)]
    assert my.shape == tuple(ty.shape)
    np.testing.assert_array_equal(my.data, ty.detach().numpy())
    g = g_seed.normal(size=my.shape)
    ty.backward(torch.tensor(g))
    my.backward(mg.tensor(g))
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy())
    v = g_seed.normal(size=my.shape)
    tz, mz = torch.tensor(xv), mg.tensor(xv)
    tz[tuple(conv(p, torch) for p in index)] = torch.tensor(v)
    mz[tuple(conv(p, mg) for p in index)] = mg.tensor(v)
    np.testing.assert_array_equal(mz.data, tz.numpy())


def test_mixed_indexing_gradcheck():
    x = mg.tensor(np.random.default_rng(2).normal(size=(2, 3, 4)), requires_grad=True)
    assert mg.gradcheck(lambda t: t[1, :, [0, 3, 0]] * 2.0, (x,))
    assert mg.gradgradcheck(lambda t: (t[1, :, [0, 3, 0]] ** 2).sum(), (x,))


# ---------------------------------------------------------------- B08, B09: masks
def test_masked_select_broadcasts_the_mask():
    x = mg.tensor([[0.0], [1.0], [2.0]], requires_grad=True)
    y = x.masked_select(mg.tensor([True, False, True]))
    np.testing.assert_array_equal(y.data, [0, 0, 1, 1, 2, 2])
    y.backward(mg.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(x.grad.data, [[3], [7], [11]])


def test_masked_select_broadcasts_the_input_and_checks_the_mask():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.masked_select(x, mg.tensor([[True, False], [True, True]]))
    np.testing.assert_array_equal(y.data, [1, 1, 2])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2, 1])
    with pytest.raises(RuntimeError, match="masked_select: expected a bool mask, got int64"):
        x.masked_select(mg.tensor([1, 0]))
    with pytest.raises(RuntimeError, match=r"input \(2,\) and the mask \(3,\) cannot be broadcast"):
        x.masked_select(mg.tensor([True, False, True]))


@pytest.mark.parametrize("keep", [True, False])
def test_zero_dim_tensor_indexed_by_zero_dim_mask(keep):
    x = mg.tensor(3.0, requires_grad=True)
    y = x[mg.tensor(keep)]
    assert y.shape == ((1,) if keep else (0,))
    (y * 2.0).sum().backward()
    assert x.grad.item() == (2.0 if keep else 0.0)
    z = mg.tensor(3.0, requires_grad=True)
    w = z.masked_select(mg.tensor(keep))
    assert w.shape == y.shape
    w.sum().backward()
    assert z.grad.item() == (1.0 if keep else 0.0)


# ---------------------------------------------------------------- B04: std and norm at 0
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1, "keepdim": True},
                                    {"correction": 0}, {"dim": (0, 1), "correction": 2}],
                         ids=str)
def test_std_of_a_constant_has_zero_gradient(kwargs):
    x = mg.tensor(np.full((3, 4), 2.5), requires_grad=True)
    s = x.std(**kwargs)
    np.testing.assert_array_equal(s.data, 0.0)
    s.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((3, 4)))


def test_std_gradient_elsewhere_and_second_order():
    x = mg.tensor(np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]]), requires_grad=True)
    x.std(1).sum().backward()
    row = np.array([1.0, 2.0, 4.0])
    expected = (row - row.mean()) / (2 * row.std(ddof=1))  # d std / dx = (x - mean) / ((n-1) std)
    np.testing.assert_allclose(x.grad.data, [expected, [0.0, 0.0, 0.0]])
    y = mg.tensor(np.random.default_rng(3).normal(size=(3, 4)), requires_grad=True)
    assert mg.gradcheck(lambda t: t.std(0, keepdim=True), (y,))
    assert mg.gradgradcheck(lambda t: t.std(), (y,))


@pytest.mark.parametrize("p", [0.5, 3.0, -1.0, -2.0, 1.5])
def test_p_norm_of_zero_vector_has_zero_gradient(p):
    x = mg.tensor(np.zeros(3), requires_grad=True)
    n = x.norm(p)
    assert n.item() == 0.0
    n.backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(3))


def test_small_p_norm_ignores_zero_entries():
    x = mg.tensor([0.0, 1.0, -4.0], requires_grad=True)
    n = x.norm(0.5)  # (0 + 1 + 2)^2 = 9
    np.testing.assert_allclose(n.item(), 9.0)
    n.backward()  # sign(x) |x|^-0.5 * 9^0.5, and 0 at x = 0
    np.testing.assert_allclose(x.grad.data, [0.0, 3.0, -1.5])


def test_zero_and_minus_inf_norms():
    x = mg.tensor([0.0, 2.0, -1.0, 1.0], requires_grad=True)
    assert x.norm(0).item() == 3.0
    x.norm(0).backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(4))
    y = mg.tensor([3.0, -1.0, 1.0, 2.0], requires_grad=True)
    n = y.norm(float("-inf"))
    assert n.item() == 1.0
    n.backward()
    np.testing.assert_array_equal(y.grad.data, [0.0, -0.5, 0.5, 0.0])


@pytest.mark.parametrize("p", [0.5, 3.0, -1.0, 0.0, float("-inf"), 1.5])
def test_p_norms_match_torch(p):
    torch = pytest.importorskip("torch")
    xv = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    tx = torch.tensor(xv, requires_grad=True)
    mx = mg.tensor(xv, requires_grad=True)
    tn, mn = tx.norm(p, dim=1), mx.norm(p, dim=1)
    np.testing.assert_allclose(mn.data, tn.detach().numpy())
    tn.sum().backward()
    mn.sum().backward()
    np.testing.assert_allclose(mx.grad.data, np.zeros_like(xv) if tx.grad is None
                               else tx.grad.numpy())


# ---------------------------------------------------------------- B18: max/min routing
NAN = float("nan")


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_full_max_min_with_nan_send_the_gradient_to_the_nans(reduce):
    x = mg.tensor([1.0, NAN, 3.0, NAN], requires_grad=True)
    y = getattr(x, reduce)()
    assert np.isnan(y.item())
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.0, 0.5])


def test_full_max_ties_still_split_and_amax_nan_stays_nan():
    x = mg.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])
    z = mg.tensor([1.0, NAN], requires_grad=True)
    z.amax().backward()  # PyTorch's amax: NaN gradient where the result is NaN
    assert np.isnan(z.grad.data).all()


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_with_nan_give_both_sides_the_gradient(op):
    a = mg.tensor([NAN, 1.0, NAN, 2.0, 1.0], requires_grad=True)
    b = mg.tensor([1.0, NAN, NAN, 2.0, 3.0], requires_grad=True)
    getattr(mg, op)(a, b).sum().backward()
    a_wins = 1.0 if op == "minimum" else 0.0  # the last pair is (1, 3)
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0, 1.0, 0.5, a_wins])
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0, 1.0, 0.5, 1.0 - a_wins])


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "max_dim", "min_dim",
                                  "maximum", "minimum"])
def test_max_min_gradient_routing_matches_torch(name):
    torch = pytest.importorskip("torch")
    xv = np.array([[1.0, NAN, 3.0, NAN], [2.0, 2.0, -1.0, 2.0], [5.0, 5.0, 5.0, 5.0]])
    yv = np.array([[1.0, 0.0, NAN, NAN], [2.0, 3.0, -1.0, 1.0], [5.0, 4.0, 6.0, 5.0]])
    tx, ty = torch.tensor(xv, requires_grad=True), torch.tensor(yv, requires_grad=True)
    mx, my = mg.tensor(xv, requires_grad=True), mg.tensor(yv, requires_grad=True)
    if name in ("maximum", "minimum"):
        getattr(torch, name)(tx, ty).sum().backward()
        getattr(mg, name)(mx, my).sum().backward()
        np.testing.assert_array_equal(my.grad.data, ty.grad.numpy())
    elif name.endswith("_dim"):
        getattr(tx, name[:3])(1).values.sum().backward()
        getattr(mx, name[:3])(1).values.sum().backward()
    else:
        for row in range(3):
            getattr(tx[row], name)().backward()
            getattr(mx[row], name)().backward()
    np.testing.assert_array_equal(mx.grad.data, tx.grad.numpy())


# ---------------------------------------------------------------- B19: negative indices
def test_gather_and_index_select_refuse_negative_indices():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with pytest.raises(IndexError, match=r"gather\(\): index -1 is out of range for dimension 1 "
                                         r"of size 3.*negative indices are not accepted"):
        x.gather(1, mg.tensor([[-1], [0]]))
    with pytest.raises(IndexError, match=r"index_select\(\): index -3 .*negative"):
        x.index_select(1, mg.tensor([0, -3]))
    with pytest.raises(IndexError, match=r"index_select\(\): the index must be 0-d or 1-d"):
        x.index_select(0, mg.tensor([[0]]))
    np.testing.assert_array_equal(x.gather(1, mg.tensor([[2], [0]])).data, [[3], [4]])


def test_gather_and_index_select_on_zero_dim():
    x = mg.tensor(2.0, requires_grad=True)
    y = x.gather(0, mg.tensor(0)) + x.index_select(0, mg.tensor([0]))
    assert y.shape == () and y.item() == 4.0
    y.backward()
    assert x.grad.item() == 2.0
    with pytest.raises(IndexError, match="out of range"):
        x.gather(0, mg.tensor(1))


# ---------------------------------------------------------------- B17: second derivatives
def _first_and_second(fn, values):
    x = mg.tensor(np.array(values), requires_grad=True)
    (g,) = mg.grad(fn(x).sum(), x, create_graph=True)
    (gg,) = mg.grad(g.sum(), x)
    return g.data, gg.data


def test_elu_second_derivative_at_zero_is_zero():
    g, gg = _first_and_second(lambda t: mg.elu(t, 1.3), [0.0, -1.0, 1.0])
    np.testing.assert_allclose(g, [1.3, 1.3 * np.exp(-1.0), 1.0])
    np.testing.assert_allclose(gg, [0.0, 1.3 * np.exp(-1.0), 0.0])  # was 1.3 at 0


def test_softplus_second_derivative_at_the_threshold_is_zero():
    sig = 1 / (1 + np.exp(-3.0))
    g, gg = _first_and_second(lambda t: mg.softplus(t, beta=2.0, threshold=3.0), [1.5, 1.0, 2.0])
    np.testing.assert_allclose(g, [sig, 1 / (1 + np.exp(-2.0)), 1.0])
    s2 = 1 / (1 + np.exp(-2.0))
    np.testing.assert_allclose(gg, [0.0, 2.0 * s2 * (1 - s2), 0.0])  # was 2 sig (1 - sig) at 1.5


@pytest.mark.parametrize("name", ["elu", "softplus"])
def test_piecewise_second_derivatives_match_torch(name):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    fns = {"elu": (lambda t: mg.elu(t, 0.7), lambda t: F.elu(t, 0.7)),
           "softplus": (lambda t: mg.softplus(t, beta=2.0, threshold=3.0),
                        lambda t: F.softplus(t, beta=2.0, threshold=3.0))}
    values = [0.0, -0.0, 1.5, 1e-3, -1e-3, -2.0, 3.0]
    g, gg = _first_and_second(fns[name][0], values)
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(fns[name][1](tx).sum(), tx, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(g, tg.detach().numpy())
    np.testing.assert_allclose(gg, tgg.numpy())


# ---------------------------------------------------------------- B10-B12: 0-d and empty
@pytest.mark.parametrize("reduce", ["max", "min"])
def test_max_min_with_dim_on_zero_dim(reduce):
    x = mg.tensor(3.0, requires_grad=True)
    values, indices = getattr(x, reduce)(0)
    assert values.shape == indices.shape == () and values.item() == 3.0 and indices.item() == 0
    kept = getattr(x, reduce)(-1, keepdim=True)
    assert kept.values.shape == ()  # PyTorch: a 0-d input stays 0-d even with keepdim
    (values * 2.0).backward()
    assert x.grad.item() == 2.0
    with pytest.raises(IndexError, match=r"Dimension out of range.*got 1"):
        getattr(x, reduce)(1)


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_max_min_with_dim_on_empty_tensors(reduce):
    x = mg.zeros(0, 3, requires_grad=True)
    values, indices = getattr(x, reduce)(1)
    assert values.shape == indices.shape == (0,)
    assert getattr(x, reduce)(1, keepdim=True).values.shape == (0, 1)
    values.sum().backward()
    assert x.grad.shape == (0, 3)
    with pytest.raises(IndexError, match=rf"{reduce}\(\): expected reduction dim 0 to have "
                                         r"non-zero size \(tensor of shape \(0, 3\)\)"):
        getattr(x, reduce)(0)
    with pytest.raises(RuntimeError, match=rf"{reduce}\(\): the tensor of shape \(0, 3\) is empty"):
        getattr(x, reduce)()


def test_argmax_on_empty_tensors():
    assert mg.zeros(0, 3).argmax(1).shape == (0,)
    with pytest.raises(IndexError, match=r"argmin\(\): expected reduction dim 0 to have non-zero"):
        mg.zeros(0, 3).argmin(0)
    with pytest.raises(IndexError, match=r"argmax\(\): an empty tensor \(shape \(0,\)\)"):
        mg.zeros(0).argmax()


def test_flatten_edge_cases():
    x = mg.tensor(3.0, requires_grad=True)
    for args in [(), (0,), (0, 0), (-1, -1), (0, -1)]:
        assert x.flatten(*args).shape == (1,)
    with pytest.raises(IndexError, match=r"Dimension out of range.*got 1"):
        x.flatten(1)
    assert mg.zeros(2, 0, 3).flatten(1).shape == (2, 0)
    assert mg.zeros(2, 0, 3).flatten(0, 1).shape == (0, 3)
    assert mg.zeros(0, 3).flatten().shape == (0,)
    x.flatten().sum().backward()
    assert x.grad.item() == 1.0


def test_chunk_flip_and_cat_edge_cases():
    parts = mg.zeros(0, 3).chunk(2)
    assert [p.shape for p in parts] == [(0, 3), (0, 3)]
    x = mg.tensor(3.0, requires_grad=True)
    assert x.flip(0).item() == 3.0
    y = mg.ones(2, 3, requires_grad=True)
    z = mg.cat([mg.zeros(0, dtype=mg.float64), y])
    assert z.shape == (2, 3) and z.dtype == mg.float64
    z.sum().backward()
    np.testing.assert_array_equal(y.grad.data, np.ones((2, 3)))


def test_zero_dim_and_empty_edge_cases_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda L: L.tensor(3.0).max(0)[0], lambda L: L.tensor(3.0).min(-1, keepdim=True)[1],
        lambda L: L.zeros(0, 3).max(1)[0], lambda L: L.zeros(2, 0).min(0)[1],
        lambda L: L.zeros(0, 2).max(1, keepdim=True)[0], lambda L: L.zeros(0, 3).argmax(1),
        lambda L: L.tensor(3.0).flatten(-1, -1), lambda L: L.zeros(2, 0, 3).flatten(1),
        lambda L: L.zeros(0, 3).chunk(2)[1], lambda L: L.tensor(3.0).flip(0),
        lambda L: L.cat([L.zeros(0), L.ones(2, 3)], 1),
    ]
    for case in cases:
        ours, theirs = case(mg), case(torch)
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


# ---------------------------------------------------------------- issue 15 review
def test_numpy_array_copy_is_a_copy():
    t = mg.tensor([1.0, 2.0])
    a = np.array(t)  # copy=True
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    b = np.asarray(t)  # no copy: shares memory, as for torch CPU tensors
    b[1] = 7.0
    assert t.tolist() == [1.0, 7.0]
    assert np.array(t, dtype=np.float64).dtype == np.float64
    assert np.asarray(t, dtype=np.float32) is t.data
    with pytest.raises(ValueError, match="float32 tensor to float64 needs a copy"):
        np.asarray(t, dtype=np.float64, copy=False)


def test_anomaly_hints_name_ops_that_exist():
    import inspect

    from minigrad.autograd import anomaly
    from minigrad.autograd.function import Function

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    import minigrad.nn.functional  # noqa: F401  (registers the nn Functions)
    names = {c.__name__ for c in subclasses(Function) if not inspect.isabstract(c)}
    assert set(anomaly._HINTS) <= names, set(anomaly._HINTS) - names


@pytest.mark.parametrize("make", [lambda x: x.rsqrt(), lambda x: x ** -1])
def test_rsqrt_and_negative_powers_get_a_hint(make):
    from minigrad.debug import detect_anomaly

    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError, match=r"PowScalar produced inf.*Hint: x \*\* p with p < 0"):
            make(x)


# ---------------------------------------------------------------- found by the sweep
def test_flatten_of_tensors_with_a_zero_dim():
    x = mg.zeros(2, 0, 3, requires_grad=True)
    assert x.flatten(2).shape == (2, 0, 3)
    assert x.flatten(0, 0).shape == (2, 0, 3)
    assert mg.zeros(0, 3).flatten(1).shape == (0, 3)  # reshape (0, -1) is ambiguous
    assert mg.zeros(2, 0).flatten(0, 0).shape == (2, 0)
    x.flatten(1).sum().backward()
    assert x.grad.shape == (2, 0, 3)


def test_all_any_over_several_dims():
    x = mg.tensor([[[True, False], [True, True]], [[True, True], [True, True]]])
    assert x.all((1, 2)).tolist() == [False, True]
    assert x.any((0, -1), keepdim=True).shape == (1, 2, 1)
    assert mg.zeros(0, 3).bool().all((0, 1)).item() is True


def test_split_and_chunk_of_a_zero_dim_tensor_say_so():
    with pytest.raises(RuntimeError, match="expected at least a 1-dimensional tensor, got a 0-d"):
        mg.tensor(1.0).split(1)
    with pytest.raises(RuntimeError, match="expected at least a 1-dimensional tensor"):
        mg.tensor(1.0).chunk(2)


@pytest.mark.parametrize("fn", [lambda t: t.relu(), lambda t: mg.leaky_relu(t, 0.1)],
                         ids=["relu", "leaky_relu"])
def test_relu_second_derivative_is_zero_not_an_error(fn):
    _, gg = _first_and_second(fn, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(gg, [0.0, 0.0, 0.0])  # was: "x was not used"
    w = mg.tensor([[1.0, -2.0], [0.5, 1.0]], requires_grad=True)
    x = mg.tensor([1.0, 1.0], requires_grad=True)
    (g,) = mg.grad(fn(w @ x).sum(), x, create_graph=True)
    (hx,) = mg.grad(g.sum(), x)  # the Hessian of a piecewise-linear net: 0
    np.testing.assert_array_equal(hx.data, [0.0, 0.0])


def test_reflected_floor_divide_and_remainder_and_wrapping_scalars():
    assert (2 % mg.tensor([3.0, -4.0])).tolist() == [2.0, -2.0]  # sign of the divisor
    assert (7 // mg.tensor([2, -3])).tolist() == [3, -3]
    out = mg.tensor([1, 2], dtype=mg.uint8) + -1  # PyTorch wraps around, like C
    assert out.dtype == mg.uint8 and out.tolist() == [0, 1]


def test_nan_gradients_of_abs_relu_sign_and_inf_norms():
    x = mg.tensor([1.0, NAN, -2.0], requires_grad=True)
    x.abs().sum().backward()  # sign(NaN) is 0 in PyTorch, not NaN
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, -1.0])
    assert mg.tensor([NAN, -2.0, 0.0]).sign().tolist() == [0.0, -1.0, 0.0]
    y = mg.tensor([1.0, NAN, -2.0], requires_grad=True)
    y.relu().sum().backward()  # PyTorch masks where relu(x) <= 0: NaN passes
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0, 0.0])
    for p in (float("inf"), float("-inf")):
        z = mg.tensor([1.0, NAN, -2.0], requires_grad=True)
        n = z.norm(p)
        assert np.isnan(n.item())
        n.backward()
        np.testing.assert_array_equal(z.grad.data, [0.0, 0.0, 0.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf and 0 * inf, on purpose
def test_nan_and_inf_rows_match_torch():
    torch = pytest.importorskip("torch")
    inf = float("inf")
    rows = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [1.0, NAN, 2.0], [-inf, -inf, -inf],
                     [inf, 1.0, 2.0], [-inf, 0.0, 1.0], [2.0, 2.0, 2.0]])
    ops = [lambda t: t.prod(-1), lambda t: t.logsumexp(-1), lambda t: t.softmax(-1),
           lambda t: t.norm(1, dim=-1), lambda t: t.norm(float("inf"), dim=-1),
           lambda t: t.amax(-1), lambda t: t.max(-1)[0], lambda t: t.abs().sqrt(),
           lambda t: t.relu(), lambda t: t.abs(), lambda t: t.clamp(0, 2)]
    for op in ops:
        tx = torch.tensor(rows, requires_grad=True)
        mx = mg.tensor(rows, requires_grad=True)
        ty, my = op(tx), op(mx)
        np.testing.assert_allclose(my.data, ty.detach().numpy(), rtol=1e-12)
        ty.sum().backward()
        my.sum().backward()
        np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-12)
