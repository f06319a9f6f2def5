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
