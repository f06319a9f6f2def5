"""Layers: gradcheck in float64, outputs and gradients against PyTorch, train/eval behaviour."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


def _check_layer(layer: nn.Module, x: mg.Tensor, reseed: bool = False) -> None:
    """gradcheck w.r.t. the input and every parameter (they are passed so they get perturbed)."""
    params = list(layer.parameters())

    def fn(inp, *_):
        if reseed:
            mg.manual_seed(5)
        return layer(inp)

    assert mg.gradcheck(fn, (x, *params))


def _x(*shape: int, seed: int = 0) -> mg.Tensor:
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=mg.float64,
                     requires_grad=True)


LAYERS = {
    "linear": (lambda: nn.Linear(3, 2), (4, 3)),
    "linear_nobias": (lambda: nn.Linear(3, 2, bias=False), (2, 5, 3)),
    "identity": (lambda: nn.Identity(7, k=1), (2, 3)),
    "flatten": (lambda: nn.Flatten(), (2, 2, 3)),
    "bn_train": (lambda: nn.BatchNorm1d(3), (5, 3)),
    "bn_train_3d": (lambda: nn.BatchNorm1d(2), (3, 2, 4)),
    "bn_eval": (lambda: nn.BatchNorm1d(3).eval(), (4, 3)),
    "bn_no_stats": (lambda: nn.BatchNorm1d(3, affine=False, track_running_stats=False).eval(), (4, 3)),
    "layernorm": (lambda: nn.LayerNorm(4), (3, 4)),
    "layernorm_2d": (lambda: nn.LayerNorm((2, 3)), (2, 2, 3)),
    "relu": (lambda: nn.ReLU(), (3, 4)),
    "leaky": (lambda: nn.LeakyReLU(0.2), (3, 4)),
    "elu": (lambda: nn.ELU(0.7), (3, 4)),
    "gelu": (lambda: nn.GELU(), (3, 4)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), (3, 4)),
    "tanh": (lambda: nn.Tanh(), (3, 4)),
    "sigmoid": (lambda: nn.Sigmoid(), (3, 4)),
    "softplus": (lambda: nn.Softplus(2.0, 1.0), (3, 4)),
    "softmax": (lambda: nn.Softmax(dim=1), (3, 4)),
    "logsoftmax": (lambda: nn.LogSoftmax(dim=-1), (3, 4)),
    "sequential": (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.LayerNorm(4),
                                         nn.Linear(4, 2)), (3, 3)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gradcheck_layers(name: str) -> None:
    make, shape = LAYERS[name]
    mg.manual_seed(0)
    layer = make().double()
    for p in layer.parameters():  # non-trivial affine parameters
        p.data[...] = np.random.default_rng(1).uniform(0.5, 1.5, p.shape)
    _check_layer(layer, _x(*shape))


def test_gradcheck_dropout_and_embedding() -> None:
    _check_layer(nn.Dropout(0.3), _x(4, 5), reseed=True)
    emb = nn.Embedding(5, 3).double()  # padding_idx's zero gradient is a choice, not a derivative
    ids = mg.tensor([[0, 1, 4], [1, 1, 2]])
    assert mg.gradcheck(lambda w: emb(ids), (emb.weight,))


def _torch_copy(torch, layer, tlayer) -> None:
    with torch.no_grad():
        for (name, p) in layer.named_parameters():
            dict(tlayer.named_parameters())[name].copy_(torch.from_numpy(p.data.copy()))


TORCH_PAIRS = {
    "linear": (lambda: nn.Linear(5, 3), lambda t: t.nn.Linear(5, 3), (4, 5)),
    "linear_3d": (lambda: nn.Linear(5, 3, bias=False), lambda t: t.nn.Linear(5, 3, bias=False),
                  (2, 4, 5)),
    "flatten": (lambda: nn.Flatten(0, 1), lambda t: t.nn.Flatten(0, 1), (2, 3, 4)),
    "bn": (lambda: nn.BatchNorm1d(3), lambda t: t.nn.BatchNorm1d(3), (6, 3)),
    "bn3d": (lambda: nn.BatchNorm1d(3, eps=1e-3), lambda t: t.nn.BatchNorm1d(3, eps=1e-3), (4, 3, 5)),
    "layernorm": (lambda: nn.LayerNorm(5), lambda t: t.nn.LayerNorm(5), (4, 5)),
    "layernorm_nobias": (lambda: nn.LayerNorm([3, 5], bias=False),
                         lambda t: t.nn.LayerNorm([3, 5], bias=False), (2, 3, 5)),
    "relu": (lambda: nn.ReLU(), lambda t: t.nn.ReLU(), (4, 5)),
    "leaky": (lambda: nn.LeakyReLU(0.1), lambda t: t.nn.LeakyReLU(0.1), (4, 5)),
    "elu": (lambda: nn.ELU(), lambda t: t.nn.ELU(), (4, 5)),
    "gelu": (lambda: nn.GELU(), lambda t: t.nn.GELU(), (4, 5)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), lambda t: t.nn.GELU("tanh"), (4, 5)),
    "tanh": (lambda: nn.Tanh(), lambda t: t.nn.Tanh(), (4, 5)),
    "sigmoid": (lambda: nn.Sigmoid(), lambda t: t.nn.Sigmoid(), (4, 5)),
    "softplus": (lambda: nn.Softplus(0.5, 2.0), lambda t: t.nn.Softplus(0.5, 2.0), (4, 5)),
    "softmax": (lambda: nn.Softmax(0), lambda t: t.nn.Softmax(0), (4, 5)),
    "logsoftmax": (lambda: nn.LogSoftmax(1), lambda t: t.nn.LogSoftmax(1), (4, 5)),
}


@pytest.mark.parametrize("name", sorted(TORCH_PAIRS))
def test_layers_match_torch(torch, name: str) -> None:
    make, make_torch, shape = TORCH_PAIRS[name]
    layer, tlayer = make().double(), make_torch(torch).double()
    rng = np.random.default_rng(2)
    for p in layer.parameters():
        p.data[...] = rng.uniform(0.5, 1.5, p.shape)
    _torch_copy(torch, layer, tlayer)
    x_np = rng.standard_normal(shape) * 3
    x = mg.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    out, tout = layer(x), tlayer(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(mg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    tparams = dict(tlayer.named_parameters())
    for n, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.data, tparams[n].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_embedding_matches_torch_with_padding(torch) -> None:
    emb = nn.Embedding(6, 4, padding_idx=-2).double()
    temb = torch.nn.Embedding(6, 4, padding_idx=-2).double()
    assert emb.padding_idx == temb.padding_idx == 4
    assert not emb.weight.data[4].any()
    _torch_copy(torch, emb, temb)
    ids = np.array([[0, 4, 4], [5, 0, 2]])
    out, tout = emb(mg.tensor(ids)), temb(torch.tensor(ids))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    g = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(mg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(emb.weight.grad.data, temb.weight.grad.numpy(), rtol=1e-12)
    assert not emb.weight.grad.data[4].any()


def test_embedding_errors() -> None:
    emb = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match=r"values in \[0, 3\] for a table of 3 rows"):
        emb(mg.tensor([0, 3]))
    with pytest.raises(TypeError, match="integers"):
        emb(mg.tensor([0.0]))
    with pytest.raises(ValueError, match="padding_idx 3"):
        nn.Embedding(3, 2, padding_idx=3)


def test_batchnorm_running_stats_match_torch_over_steps(torch) -> None:
    rng = np.random.default_rng(4)
    for momentum in (0.1, None):
        bn, tbn = nn.BatchNorm1d(3, momentum=momentum).double(), torch.nn.BatchNorm1d(
            3, momentum=momentum).double()
        for _ in range(4):
            x = rng.standard_normal((5, 3)) * 2 + 1
            np.testing.assert_allclose(bn(mg.tensor(x)).data, tbn(torch.tensor(x)).detach().numpy(),
                                       rtol=1e-10, atol=1e-12)
        for name, t in tbn.state_dict().items():
            np.testing.assert_allclose(bn.state_dict()[name], t.numpy(), rtol=1e-12, atol=1e-15)
        assert int(bn.num_batches_tracked.item()) == 4
        bn.eval()
        tbn.eval()
        x = rng.standard_normal((2, 3))
        np.testing.assert_allclose(bn(mg.tensor(x)).data, tbn(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10)


def test_batchnorm_train_vs_eval() -> None:
    bn = nn.BatchNorm1d(2).double()
    x = mg.tensor([[1.0, 10.0], [3.0, 30.0]], dtype=mg.float64)
    y = bn(x)
    np.testing.assert_allclose(y.data, [[-1, -1], [1, 1]], atol=1e-4)  # (x - mean) / std
    np.testing.assert_allclose(bn.running_mean.data, [0.2, 2.0])  # 0.9 * 0 + 0.1 * mean
    np.testing.assert_allclose(bn.running_var.data, [0.9 + 0.1 * 2, 0.9 + 0.1 * 200])  # unbiased
    bn.eval()
    before = bn.running_mean.data.copy()
    single = bn(mg.tensor([[1.0, 10.0]], dtype=mg.float64))
    expected = (np.array([1.0, 10.0]) - before) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(single.data[0], expected)
    np.testing.assert_array_equal(bn.running_mean.data, before)
    bn.train()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(mg.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="running_var has shape"):
        F.batch_norm(mg.ones(2, 3), mg.zeros(3), mg.ones(2), training=True)


def test_dropout_train_and_eval() -> None:
    drop = nn.Dropout(0.25)
    x = mg.ones(200, 50)
    y = drop(x).data
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_linear_default_init_bounds_and_spread() -> None:
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w, b = lin.weight.data, lin.bias.data
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.01)  # U(-a, a) has std a/sqrt(3)
    np.testing.assert_allclose(w.mean(), 0, atol=3 * bound / np.sqrt(3 * w.size))
    mg.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.data, w)  # the global generator


def test_layer_shapes_and_reprs() -> None:
    assert nn.Linear(2, 2, dtype=mg.float64).weight.dtype == np.float64
    assert nn.BatchNorm1d(2, dtype="float64").running_var.dtype == np.float64
    with pytest.raises(ValueError, match="Embedding: minigrad runs on the CPU only; got device='cuda'"):
        nn.Embedding(2, 2, device="cuda")
    assert nn.Flatten()(mg.ones(2, 1, 28, 28)).shape == (2, 784)
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(3)(mg.ones(2, 4))
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.BatchNorm1d(3)(mg.ones(3))
    assert nn.Softmax()(mg.ones(2, 3)).data.sum(1).tolist() == pytest.approx([1, 1])


def test_sequential_indexing_len_append() -> None:
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    assert seq.append(c) is seq and seq[2] is c
    assert seq(mg.ones(4, 2)).shape == (4, 1)
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[1]
    assert list(seq) == [a, c] and [n for n, _ in seq.named_children()] == ["0", "1"]  # as torch
    seq.append(b)
    assert list(seq) == [a, c, b]
    with pytest.raises(IndexError, match="index 5 is out of range for 3"):
        seq[5]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]


def test_module_list_and_dict_register_parameters() -> None:
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.insert(0, nn.ReLU())
    assert isinstance(layers[0], nn.ReLU) and [n for n, _ in layers.named_children()] == [
        "0", "1", "2", "3"]
    del layers[0]
    assert [type(m).__name__ for m in layers] == ["Linear"] * 3
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert list(heads) == ["a", "b"] and "a" in heads and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert isinstance(heads.pop("a"), nn.Linear) and list(heads.keys()) == ["b"]
