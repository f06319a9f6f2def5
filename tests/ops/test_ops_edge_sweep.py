"""A seeded differential sweep against PyTorch: reductions and shape ops on 0-d tensors and on
size-0 and size-1 dimensions, over every dim (negative ones too) and keepdim.

For each case both libraries must either raise (the same exception class) or agree on the
shape, dtype and values of the result and on the gradient of a random upstream gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

SHAPES = [(), (0,), (1,), (3,), (2, 0), (0, 3), (1, 1), (2, 3), (3, 1, 2), (2, 0, 3), (1, 0)]


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else mg


OPS = {
    "sum": lambda x, d, k: x.sum(d, keepdim=k),
    "mean": lambda x, d, k: x.mean(d, keepdim=k),
    "var": lambda x, d, k: x.var(d, keepdim=k),
    "std_pop": lambda x, d, k: x.std(d, keepdim=k, correction=0),
    "amax": lambda x, d, k: x.amax(d, keepdim=k),
    "amin": lambda x, d, k: x.amin(d, keepdim=k),
    "max_values": lambda x, d, k: x.max(d, keepdim=k)[0],
    "min_indices": lambda x, d, k: x.min(d, keepdim=k)[1],
    "argmax": lambda x, d, k: x.argmax(d, keepdim=k),
    "logsumexp": lambda x, d, k: x.logsumexp(d, keepdim=k),
    "prod": lambda x, d, k: x.prod(d, keepdim=k),
    "cumsum": lambda x, d, k: x.cumsum(d),
    "softmax": lambda x, d, k: x.softmax(d),
    "log_softmax": lambda x, d, k: x.log_softmax(d),
    "norm2": lambda x, d, k: x.norm(2, d, keepdim=k),
    "norm3": lambda x, d, k: x.norm(3, d, keepdim=k),
    "norm1": lambda x, d, k: x.norm(1, d, keepdim=k),
    "squeeze": lambda x, d, k: x.squeeze(d),
    "unsqueeze": lambda x, d, k: x.unsqueeze(d),
    "flatten_from": lambda x, d, k: x.flatten(d),
    "flatten_to": lambda x, d, k: x.flatten(0, d),
    "flip": lambda x, d, k: x.flip(d),
    "transpose": lambda x, d, k: x.transpose(d, 0),
    "split": lambda x, d, k: x.split(1, d)[0],
    "chunk": lambda x, d, k: x.chunk(2, d)[-1],
    "all": lambda x, d, k: (x > 0).all(d, keepdim=k),
    "any": lambda x, d, k: (x > 0).any(d, keepdim=k),
    "gather_zero": lambda x, d, k: x.gather(d, _lib(x).zeros(x.shape, dtype=_lib(x).int64)),
}


def _dims(ndim: int) -> list:
    n = max(ndim, 1)
    return list(range(-n, n)) + ([(0, 1), (-1, 0)] if ndim >= 2 else [])


def _tuple_ok(name: str) -> bool:
    return name in ("sum", "mean", "var", "std_pop", "amax", "amin", "logsumexp", "norm2",
                    "norm3", "norm1", "squeeze", "flip", "all", "any")


@pytest.mark.filterwarnings("ignore:std\\(\\):UserWarning", "ignore:var\\(\\):UserWarning")
@pytest.mark.parametrize("name", sorted(OPS))
def test_edge_shapes_match_torch(name):
    rng = np.random.default_rng(0)
    fn = OPS[name]
    for shape in SHAPES:
        for d in _dims(len(shape)):
            if isinstance(d, tuple) and not _tuple_ok(name):
                continue
            for keepdim in (False, True):
                xv = rng.normal(size=shape)
                tx = torch.tensor(xv, requires_grad=True)
                mx = mg.tensor(xv, requires_grad=True)
                case = f"{name} shape={shape} dim={d} keepdim={keepdim}"
                try:
                    ty = fn(tx, d, keepdim)
                except Exception as e:  # noqa: BLE001  (any exception: ours must raise too)
                    with pytest.raises(type(e)):
                        fn(mx, d, keepdim)
                    continue
                my = fn(mx, d, keepdim)
                expected = ty.detach().numpy()
                assert my.shape == expected.shape, case
                assert my.dtype == expected.dtype, case
                np.testing.assert_allclose(my.data, expected, rtol=1e-12, err_msg=case)
                if ty.requires_grad:
                    g = rng.normal(size=expected.shape)
                    ty.backward(torch.tensor(g))
                    my.backward(mg.tensor(g))
                    tg = np.zeros_like(xv) if tx.grad is None else tx.grad.numpy()
                    np.testing.assert_allclose(mx.grad.data, tg, rtol=1e-12, atol=1e-15,
                                               err_msg=case)
