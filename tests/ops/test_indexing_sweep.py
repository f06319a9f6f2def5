"""A seeded differential sweep of indexing against PyTorch (issue 16, B05): random mixes of
integers, slices, None, Ellipsis, index lists, boolean masks, lone bools and 0-d index
tensors, read (value, shape, gradient) and written (setitem)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _random_index(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple:
    parts: list = []
    d = 0
    ellipsis = False
    for _ in range(int(rng.integers(1, 5))):
        kind = int(rng.integers(0, 10))
        if d >= len(shape) and kind not in (2, 6):
            kind = 2
        if kind == 0:
            parts.append(int(rng.integers(-shape[d], shape[d])))
        elif kind == 1:
            parts.append(slice(int(rng.integers(0, shape[d] + 1)), None, int(rng.integers(1, 3))))
        elif kind == 2:
            parts.append(None)
            continue
        elif kind == 3 and not ellipsis:
            parts.append(Ellipsis)
            ellipsis = True
            d = len(shape) - 1
        elif kind == 4:
            parts.append(rng.integers(-shape[d], shape[d], size=int(rng.integers(1, 4))).tolist())
        elif kind == 5:
            parts.append(rng.integers(0, shape[d], size=(2, 1)).tolist())
        elif kind == 6:
            parts.append(bool(rng.random() < 0.7))
            continue
        elif kind == 7 and d + 1 < len(shape):
            parts.append(rng.random((shape[d], shape[d + 1])) < 0.5)
            d += 1
        elif kind == 8:
            parts.append(("0-d", int(rng.integers(0, shape[d]))))
        else:
            parts.append(slice(None))
        d += 1
    return tuple(parts)


def _convert(index: tuple, lib) -> tuple:
    out = []
    for p in index:
        if isinstance(p, tuple):
            out.append(lib.tensor(p[1]))
        elif isinstance(p, list | np.ndarray):
            out.append(lib.tensor(p))
        else:
            out.append(p)
    return tuple(out)


@pytest.mark.parametrize("seed", range(4))
def test_random_indices_match_torch(seed):
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(150):
        shape = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 5))))
        index = _random_index(rng, shape)
        xv = rng.normal(size=shape)
        tx = torch.tensor(xv, requires_grad=True)
        try:
            ty = tx[_convert(index, torch)]
        except (IndexError, RuntimeError, TypeError, ValueError):
            continue  # an index torch refuses (out of range, too many dims...)
        mx = mg.tensor(xv, requires_grad=True)
        my = mx[_convert(index, mg)]
        assert my.shape == tuple(ty.shape), (shape, index)
        np.testing.assert_array_equal(my.data, ty.detach().numpy(), err_msg=str((shape, index)))
        g = rng.normal(size=my.shape)
        ty.backward(torch.tensor(g))
        my.backward(mg.tensor(g))
        np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), err_msg=str((shape, index)))
        tz, mz = torch.tensor(xv), mg.tensor(xv)
        v = rng.normal(size=my.shape)
        tz[_convert(index, torch)] = torch.tensor(v)
        mz[_convert(index, mg)] = mg.tensor(v)
        np.testing.assert_array_equal(mz.data, tz.numpy(), err_msg=str((shape, index)))
        checked += 1
    assert checked > 100
