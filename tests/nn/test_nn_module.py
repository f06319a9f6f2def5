"""nn.Module: registration, traversal, modes, grads, state dicts, hooks and printing."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = nn.Parameter(mg.ones(2))
        self.register_buffer("steps", mg.zeros(1))
        self.register_buffer("cache", mg.zeros(2), persistent=False)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(2, 1, bias=False)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.head(self.block(x))


def test_named_parameters_children_modules() -> None:
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert [p.shape for p in net.parameters()] == [(2,), (2, 3), (2,), (1, 2)]
    assert [type(c).__name__ for c in net.children()] == ["Block", "Linear"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "head"]
    assert [n for n, _ in net.named_buffers()] == ["block.steps", "block.cache"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert net.num_parameters() == 2 + 6 + 2 + 2
    net.block.fc.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 4


def test_parameter_registered_twice_appears_once() -> None:
    net = Net()
    net.tied = net.head.weight
    names = [n for n, _ in net.named_parameters()]
    assert names.count("head.weight") + names.count("tied") == 1
    assert len(list(net.parameters())) == 4
    shared = nn.Sequential(net.head, net.head)
    assert len(list(shared.parameters())) == 1
    assert list(shared.state_dict()) == ["0.weight", "1.weight"]  # as PyTorch: every name


def test_train_eval_recurse_and_validate() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("no")


def test_zero_grad_and_requires_grad() -> None:
    net = Net()
    net(mg.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())


def test_assignment_rules_match_pytorch() -> None:
    block = Block()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        block.scale = mg.ones(2)
    block.scale = None
    assert "scale" in block._parameters and block.scale is None
    assert [n for n, _ in block.named_parameters()] == ["fc.weight", "fc.bias"]
    block.steps = mg.ones(1)
    assert block._buffers["steps"] is block.steps
    with pytest.raises(TypeError, match="buffer 'steps'"):
        block.steps = 3
    with pytest.raises(TypeError, match="child module 'fc'"):
        block.fc = 3
    with pytest.raises(KeyError, match="empty or contain"):
        block.register_buffer("a.b", mg.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        block.register_parameter("forward", nn.Parameter(mg.zeros(1)))
    with pytest.raises(TypeError, match="Parameter or None"):
        block.register_parameter("w2", mg.zeros(1))
    del block.fc
    assert "fc" not in block._modules


def test_setattr_before_init_is_explained() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_state_dict_round_trip_and_copies() -> None:
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["block.scale", "block.steps", "block.fc.weight", "block.fc.bias",
                        "head.weight"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["head.weight"][...] = 7.0
    assert not np.any(a.head.weight.data == 7.0)  # a copy, not a view
    keys = b.load_state_dict(a.state_dict())
    assert keys.missing_keys == [] and keys.unexpected_keys == []
    for (_, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(p, q)
    x = mg.randn(4, 3)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert a.state_dict(keep_vars=True)["head.weight"] is a.head.weight


def _snapshot(m: nn.Module) -> dict:
    return {k: v.copy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("mutate, message", [
    (lambda sd: sd.pop("head.weight"), 'Missing key\\(s\\) in state_dict: "head.weight"'),
    (lambda sd: sd.__setitem__("extra", np.zeros(1)), 'Unexpected key\\(s\\) in state_dict: "extra"'),
    (lambda sd: sd.__setitem__("block.fc.weight", np.zeros((3, 3))),
     r"size mismatch for block.fc.weight: copying a param with shape \(3, 3\)"),
    (lambda sd: sd.__setitem__("block.fc.bias", np.array(["a", "b"])), "dtype <U1"),
    (lambda sd: sd.__setitem__("block.fc.bias", "oops"), "is a str"),
])
def test_load_state_dict_errors_change_nothing(mutate, message) -> None:
    net, other = Net(), Net()
    before = _snapshot(net)
    sd = other.state_dict()
    mutate(sd)
    with pytest.raises(RuntimeError, match=message):
        net.load_state_dict(sd)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_reports_keys() -> None:
    net, other = Net(), Net()
    sd = other.state_dict()
    sd.pop("head.weight")
    sd["extra"] = np.zeros(1)
    sd["block.cache"] = np.ones(2)  # non-persistent: not part of the state
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["head.weight"] and unexpected == ["extra", "block.cache"]
    np.testing.assert_array_equal(net.block.fc.weight.data, other.block.fc.weight.data)
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([("head.weight", np.zeros((1, 2)))])


def test_load_state_dict_accepts_tensors_and_casts() -> None:
    net = nn.Linear(2, 1)
    net.load_state_dict({"weight": mg.tensor([[1.0, 2.0]], dtype=mg.float64), "bias": np.array([3])})
    assert net.weight.dtype == np.float32
    np.testing.assert_array_equal(net(mg.tensor([[1.0, 1.0]])).data, [[6.0]])


def test_forward_hooks_and_pre_hooks() -> None:
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, inp, out: calls.append((m, inp[0].shape, out.shape)))
    out = lin(mg.ones(3, 2))
    np.testing.assert_allclose(out.data, np.broadcast_to(lin.bias.data, (3, 2)))
    assert calls == [(lin, (3, 2), (3, 2))]
    h1.remove()
    h2.remove()
    replaced = lin.register_forward_hook(lambda m, inp, out: out + 1)
    np.testing.assert_allclose(lin(mg.zeros(1, 2)).data, lin.bias.data[None] + 1)
    replaced.remove()
    lin(mg.ones(1, 2))
    assert len(calls) == 1


def test_repr_tree() -> None:
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.1)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")"
    )


def test_deepcopy_keeps_ties_and_registries() -> None:
    net = Net()
    net.tied = net.head.weight
    clone = copy.deepcopy(net)
    assert clone.tied is clone.head.weight and clone.head.weight is not net.head.weight
    assert clone.head._parameters["weight"] is clone.head.weight
    np.testing.assert_array_equal(clone.head.weight.data, net.head.weight.data)


def test_to_double_and_apply() -> None:
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Block", "Linear", "Net"]


def test_parameter_basics() -> None:
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(mg.zeros(1), requires_grad=False).requires_grad


def test_reassigning_keeps_order_and_train_override_is_called() -> None:
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(mg.zeros(2, 2))
    assert list(lin.state_dict()) == ["weight", "bias"]
    assert not lin.state_dict()["weight"].any()

    class Frozen(nn.Linear):
        def train(self, mode: bool = True) -> nn.Module:
            return super().train(False)

    net = nn.Sequential(Frozen(2, 2), nn.Dropout())
    net.train()
    assert net.training and not net[0].training and net[1].training
