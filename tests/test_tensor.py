"""Tensor creation, dtypes, conversion and the non-differentiable ops."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_default_dtypes_follow_pytorch():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True]).dtype == mg.bool_
    assert mg.tensor(np.zeros(2)).dtype == mg.float64
    assert mg.zeros(2, 3).dtype == mg.float32 and mg.zeros(2, 3).shape == (2, 3)
    assert mg.arange(5).dtype == mg.int64 and mg.arange(0, 1, 0.25).dtype == mg.float32


def test_creation_functions():
    assert mg.ones(2).tolist() == [1.0, 1.0]
    assert mg.full((2,), 7).tolist() == [7, 7]
    assert mg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert mg.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    x = mg.randn(3, 4)
    assert mg.zeros_like(x).shape == (3, 4) and mg.ones_like(x).dtype == mg.float32
    assert mg.full_like(x, 2.0).tolist()[0][0] == 2.0
    assert mg.rand_like(x).shape == (3, 4) and mg.randn_like(x).shape == (3, 4)
    r = mg.randint(0, 5, (1000,))
    assert r.dtype == mg.int64 and 0 <= r.data.min() and r.data.max() < 5
    assert sorted(mg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    assert mg.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="negative dimension"):
        mg.zeros(-1)


def test_manual_seed_reproduces_random_numbers():
    mg.manual_seed(123)
    a = mg.randn(5).tolist()
    mg.manual_seed(123)
    assert mg.randn(5).tolist() == a
    g = mg.Generator().manual_seed(7)
    b = mg.rand(3, generator=g).tolist()
    assert mg.rand(3, generator=mg.Generator(7)).tolist() == b


def test_from_numpy_shares_memory_and_tensor_copies():
    arr = np.zeros(3)
    shared, copied = mg.from_numpy(arr), mg.tensor(arr)
    arr[0] = 5
    assert shared.tolist()[0] == 5 and copied.tolist()[0] == 0


def test_conversions_and_repr():
    t = mg.tensor([[1.5, 2.0]])
    assert t.shape == (1, 2) and t.ndim == 2 and t.size() == (1, 2) and t.size(1) == 2
    assert t.numel() == 2 and t.T.shape == (2, 1) and len(t) == 1
    assert np.asarray(t).tolist() == [[1.5, 2.0]]
    assert mg.tensor(3.5).item() == 3.5 and float(mg.tensor([2.0])) == 2.0
    x = mg.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert "dtype=float64" in repr(mg.zeros(1, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        mg.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mg.ones(2))


def test_comparisons_and_logic_are_constants():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for r in (x > 0, x < 0, x >= 1, x <= 1, x == 3, x != 3, (x > 0) & (x < 2), ~(x > 0)):
        assert r.dtype == mg.bool_ and not r.requires_grad
    assert (x > 0).tolist() == [True, False, True]
    assert x.argmax().item() == 2 and x.argmin().item() == 1
    assert mg.tensor([[1, 5], [7, 2]]).argmax(1).tolist() == [1, 0]
    assert x.sign().tolist() == [1.0, -1.0, 1.0] and not x.sign().requires_grad
    assert (x > 0).any().item() and not (x > 0).all().item()
    assert mg.isnan(mg.tensor([float("nan"), 1.0])).tolist() == [True, False]
    assert mg.one_hot(mg.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(RuntimeError, match="index tensors"):
        mg.one_hot(mg.tensor([0.5]))


def test_max_with_dim_returns_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]  # to the returned index


def test_errors_name_the_problem():
    x = mg.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"shape \(4,\) is invalid for input of shape \(2, 3\)"):
        x.reshape(4)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(5)
    with pytest.raises(RuntimeError, match="cat: tensors must have the same shape"):
        mg.cat([x, mg.ones(3, 3)], 1)
    with pytest.raises(RuntimeError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match="out of range"):
        x.gather(1, mg.tensor([[3, 0, 0], [0, 0, 0]]))
    with pytest.raises(RuntimeError, match="cannot be expanded"):
        x.expand(3, 3)


def test_setitem_and_inplace_outside_the_graph():
    x = mg.zeros(3)
    x[1] = 5.0
    x += 1
    x *= mg.tensor([1.0, 2.0, 3.0])
    assert x.tolist() == [1.0, 12.0, 3.0]
    w = mg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 1.0


@pytest.mark.parametrize("dtype", ["uint8", "bool", "int64", "float32"])
def test_min_and_amin_match_torch_for_every_dtype(torch, dtype):
    """min must not be computed as -max(-x): negation wraps uint8 and fails on bool."""
    values = np.array([3, 0, 5], dtype=dtype)
    ref = torch.from_numpy(values.copy())
    x = mg.tensor(values)
    assert x.min().item() == ref.min().item()
    assert x.amin().item() == ref.amin().item()
    assert x.amin(0, keepdim=True).tolist() == ref.amin(0, keepdim=True).tolist()


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_float_maths_on_integer_tensors_gives_default_float(torch, name, dtype):
    """PyTorch computes these in the default float dtype, not float64 and not int."""
    values = np.array([1, 0, 1, 1], dtype=dtype) if dtype == "bool" else np.array([1, 2, 5])
    out = getattr(mg.tensor(values), name)()
    ref = getattr(torch.from_numpy(values.copy()), name)()
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod", "logsumexp", "cumsum"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reducing_a_0d_tensor_over_dim_0_or_minus_1_matches_torch(torch, name, keepdim):
    for d in (0, -1):
        x, ref = mg.tensor(3.0), torch.tensor(3.0)
        args = (d,) if name == "cumsum" else (d, keepdim)
        out, expected = getattr(x, name)(*args), getattr(ref, name)(*args)
        assert out.shape == tuple(expected.shape)
        assert out.item() == pytest.approx(expected.item())


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "norm"])
def test_an_empty_dim_tuple_reduces_everything_like_torch(torch, name):
    x, ref = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    kwargs = {"dim": ()}
    out, expected = getattr(x, name)(**kwargs), getattr(ref, name)(**kwargs)
    assert out.shape == tuple(expected.shape)
    assert out.item() == pytest.approx(expected.item())


@pytest.mark.parametrize("pair", [("int64", "float32"), ("int32", "float16"), ("bool", "float32"),
                                  ("uint8", "int8"), ("float32", "float64"), ("bool", "int32")])
def test_cat_and_stack_promote_dtypes_like_torch(torch, pair):
    """An integer tensor joined with a float32 one gives float32 (numpy would say float64)."""
    arrays = [np.ones(2, dtype=d) for d in pair]
    expected = torch.cat([torch.from_numpy(a) for a in arrays]).numpy().dtype
    assert mg.cat([mg.tensor(a) for a in arrays]).dtype == expected
    assert mg.stack([mg.tensor(a) for a in arrays]).dtype == expected


def test_matmul_of_long_and_float32_raises_like_torch(torch):
    """torch's matmul takes one dtype ("expected m1 and m2 to have the same dtype"): convert."""
    with pytest.raises(RuntimeError):
        torch.tensor([[1, 2]]) @ torch.tensor([[1.5], [2.0]])
    with pytest.raises(RuntimeError, match="matmul: .*same dtype, but got int64 .* and float32"):
        mg.tensor([[1, 2]]) @ mg.tensor([[1.5], [2.0]])
    out = mg.tensor([[1, 2]]).float() @ mg.tensor([[1.5], [2.0]])
    assert out.dtype == mg.float32 and out.tolist() == [[5.5]]


@pytest.mark.parametrize("dtype, op, value", [
    ("int64", "__iadd__", 1.5), ("int64", "__itruediv__", 2), ("int64", "mul_", 0.5),
    ("bool", "add_", 1), ("int64", "sub_", "float_tensor"),
])
def test_inplace_op_that_would_truncate_is_refused_like_torch(torch, dtype, op, value):
    """x += 1.5 on an int64 tensor must not silently truncate to x += 1."""
    def other(lib):
        return lib.tensor([0.5, 0.5]) if value == "float_tensor" else value
    ref = torch.from_numpy(np.array([1, 2], dtype=dtype))
    with pytest.raises(RuntimeError):
        getattr(ref, op)(other(torch))
    x = mg.tensor(np.array([1, 2], dtype=dtype))
    with pytest.raises(RuntimeError, match=rf"{op}.*{dtype}"):
        getattr(x, op)(other(mg))
    assert x.tolist() == ref.tolist()


def test_inplace_ops_that_keep_the_dtype_still_work():
    x = mg.tensor(np.array([1, 2], dtype=np.uint8))
    x += 1
    x *= mg.tensor([2, 3])
    assert x.dtype == mg.uint8 and x.tolist() == [4, 9]
    y = mg.tensor([1.0, 2.0])
    y += mg.tensor([1, 1])
    y /= 2
    assert y.tolist() == [1.0, 1.5]


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_positional_arguments_follow_torch(torch, name):
    """torch's var(dim, unbiased, keepdim): a second positional bool is ``unbiased``."""
    values = [[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]]
    x, ref = mg.tensor(values), torch.tensor(values)
    for args, kwargs in [((0, False), {}), ((1, True, True), {}), ((False,), {}),
                         ((0,), {"keepdim": True, "correction": 0}), ((), {"unbiased": False})]:
        out, expected = getattr(x, name)(*args, **kwargs), getattr(ref, name)(*args, **kwargs)
        fn_out = getattr(mg, name)(x, *args, **kwargs)
        assert out.shape == tuple(expected.shape) == fn_out.shape
        np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)
        np.testing.assert_allclose(fn_out.data, expected.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=f"{name}.*unbiased.*correction"):
        getattr(x, name)(0, unbiased=True, correction=0)


def test_flatten_with_start_after_end_is_refused(torch):
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3, 4).flatten(2, 1)
    with pytest.raises(RuntimeError, match=r"flatten.*start_dim 2.*end_dim 1"):
        mg.zeros(2, 3, 4).flatten(2, 1)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_of_an_empty_tensor_over_a_nonempty_dim_matches_torch(torch, name):
    """Only reducing over a dimension of size 0 has no identity; zeros(0, 3).amax(1) is (0,)."""
    out = getattr(mg.zeros(0, 3), name)(1)
    assert out.shape == tuple(getattr(torch.zeros(0, 3), name)(1).shape) == (0,)
    with pytest.raises(IndexError, match=rf"{name}.*\(0, 3\)"):  # IndexError, as torch
        getattr(mg.zeros(0, 3), name)(0)


@pytest.mark.parametrize("name", ["round", "floor", "ceil"])
def test_rounding_methods_match_torch(torch, name):
    values = [0.5, 1.5, 2.5, -0.5, -1.7, 2.2]
    out = getattr(mg.tensor(values), name)()
    assert out.tolist() == getattr(torch.tensor(values), name)().tolist()
    assert out.dtype == mg.float32


def test_transpose_of_a_vector_still_checks_its_dims(torch):
    with pytest.raises(IndexError):
        torch.ones(3).transpose(0, 1)
    with pytest.raises(IndexError, match=r"range.*got 1.*\(3,\)"):
        mg.ones(3).transpose(0, 1)
    assert mg.ones(3).transpose(0, -1).shape == (3,)


def test_a_dim_listed_twice_is_refused_by_name(torch):
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).sum((0, -2))
    with pytest.raises(RuntimeError, match=r"dim 0 appears more than once in \(0, -2\)"):
        mg.ones(2, 3).sum((0, -2))
