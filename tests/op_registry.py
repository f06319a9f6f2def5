"""Every differentiable op, described once: how to call it in minigrad and in torch, how
many inputs, and which input values keep finite differences valid (away from kinks).

tests/test_ops_gradcheck.py and tests/test_ops_torch.py iterate over this registry, so a
new op gets gradchecked and compared with PyTorch by adding one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable  # minigrad tensors -> minigrad tensor
    torch_fn: Callable | None  # torch tensors -> torch tensor (None: no torch equivalent)
    arity: int = 1
    domain: str = "any"  # any | positive | gt_minus1 | nonzero
    kinks: tuple[float, ...] = ()  # values of the input where the op is not differentiable
    broadcast: bool = False  # elementwise binary op: inputs may have broadcastable shapes
    min_ndim: int = 0
    fixed_shapes: tuple[tuple[int, ...], ...] | None = None
    extra: dict = field(default_factory=dict)


def sample(rng: np.random.Generator, shape: tuple[int, ...], domain: str,
           kinks: tuple[float, ...], gap: float = 1e-2) -> np.ndarray:
    """Random float64 values in the op's domain, resampled away from its kinks."""
    x = rng.uniform(-2, 2, size=shape)
    if domain == "positive":
        x = rng.uniform(0.2, 2.5, size=shape)
    elif domain == "gt_minus1":
        x = rng.uniform(-0.8, 2.0, size=shape)
    elif domain == "nonzero":
        x = np.where(np.abs(x) < 0.2, 0.2 + np.abs(x), x)
    for k in kinks:
        close = np.abs(x - k) < gap
        x = np.where(close, k + np.where(x >= k, 2 * gap, -2 * gap), x)
    return x


UNARY = [
    OpSpec("neg", lambda x: -x, lambda x: -x),
    OpSpec("exp", lambda x: x.exp(), lambda x: x.exp()),
    OpSpec("log", lambda x: x.log(), lambda x: x.log(), domain="positive"),
    OpSpec("log1p", lambda x: x.log1p(), lambda x: x.log1p(), domain="gt_minus1"),
    OpSpec("sqrt", lambda x: x.sqrt(), lambda x: x.sqrt(), domain="positive"),
    OpSpec("rsqrt", lambda x: x.rsqrt(), lambda x: x.rsqrt(), domain="positive"),
    OpSpec("abs", lambda x: x.abs(), lambda x: x.abs(), kinks=(0.0,)),
    OpSpec("sin", lambda x: x.sin(), lambda x: x.sin()),
    OpSpec("cos", lambda x: x.cos(), lambda x: x.cos()),
    OpSpec("tanh", lambda x: x.tanh(), lambda x: x.tanh()),
    OpSpec("sigmoid", lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    OpSpec("relu", lambda x: x.relu(), lambda x: x.relu(), kinks=(0.0,)),
    OpSpec("leaky_relu", lambda x: mg.leaky_relu(x, 0.1),
           lambda x: __import__("torch").nn.functional.leaky_relu(x, 0.1), kinks=(0.0,)),
    OpSpec("elu", lambda x: mg.elu(x, 1.3),
           lambda x: __import__("torch").nn.functional.elu(x, 1.3), kinks=(0.0,)),
    OpSpec("gelu", lambda x: mg.gelu(x), lambda x: __import__("torch").nn.functional.gelu(x)),
    OpSpec("gelu_tanh", lambda x: mg.gelu(x, "tanh"),
           lambda x: __import__("torch").nn.functional.gelu(x, approximate="tanh")),
    OpSpec("softplus", lambda x: mg.softplus(x, beta=2.0, threshold=3.0),
           lambda x: __import__("torch").nn.functional.softplus(x, beta=2.0, threshold=3.0),
           kinks=(1.5,)),
    OpSpec("erf", lambda x: mg.erf(x), lambda x: x.erf()),
    OpSpec("clamp", lambda x: x.clamp(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7), kinks=(-0.5, 0.7)),
    OpSpec("clamp_min", lambda x: x.clamp_min(0.1), lambda x: x.clamp_min(0.1), kinks=(0.1,)),
    OpSpec("pow3", lambda x: x ** 3, lambda x: x ** 3),
    OpSpec("pow2.5", lambda x: x ** 2.5, lambda x: x ** 2.5, domain="positive"),
    OpSpec("pow-1", lambda x: x ** -1, lambda x: x ** -1, domain="nonzero"),
    OpSpec("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x),
    OpSpec("square", lambda x: x.square(), lambda x: x.square()),
    OpSpec("reciprocal", lambda x: x.reciprocal(), lambda x: x.reciprocal(), domain="nonzero"),
    OpSpec("clone", lambda x: x.clone(), lambda x: x.clone()),
    OpSpec("scalar_ops", lambda x: (3.0 - x) * 2.0 / 4.0 + 1.0,
           lambda x: (3.0 - x) * 2.0 / 4.0 + 1.0),
    OpSpec("rdiv", lambda x: 2.0 / x, lambda x: 2.0 / x, domain="nonzero"),
]

BINARY = [
    OpSpec("add", lambda a, b: a + b, lambda a, b: a + b, 2, broadcast=True),
    OpSpec("sub", lambda a, b: a - b, lambda a, b: a - b, 2, broadcast=True),
    OpSpec("mul", lambda a, b: a * b, lambda a, b: a * b, 2, broadcast=True),
    OpSpec("div", lambda a, b: a / b, lambda a, b: a / b, 2, domain="nonzero", broadcast=True),
    OpSpec("pow", lambda a, b: a ** b, lambda a, b: a ** b, 2, domain="positive", broadcast=True),
    OpSpec("maximum", mg.maximum, lambda a, b: __import__("torch").maximum(a, b), 2,
           broadcast=True),
    OpSpec("minimum", mg.minimum, lambda a, b: __import__("torch").minimum(a, b), 2,
           broadcast=True),
    OpSpec("where", lambda a, b: mg.where(a > b, a * 2.0, b),
           lambda a, b: __import__("torch").where(a > b, a * 2.0, b), 2, broadcast=True),
]

REDUCE = [
    OpSpec("sum", lambda x: x.sum(), lambda x: x.sum()),
    OpSpec("sum_dim", lambda x: x.sum(-1), lambda x: x.sum(-1), min_ndim=1),
    OpSpec("sum_dims_keep", lambda x: x.sum((0, -1), keepdim=True),
           lambda x: x.sum((0, -1), keepdim=True), min_ndim=2),
    OpSpec("mean", lambda x: x.mean(), lambda x: x.mean()),
    OpSpec("mean_dim", lambda x: x.mean(0, keepdim=True), lambda x: x.mean(0, keepdim=True),
           min_ndim=1),
    OpSpec("var", lambda x: x.var(-1), lambda x: x.var(-1), min_ndim=1),
    OpSpec("var_pop", lambda x: x.var(correction=0), lambda x: x.var(correction=0)),
    OpSpec("std", lambda x: x.std(0), lambda x: x.std(0), min_ndim=1),
    OpSpec("amax", lambda x: x.amax(), lambda x: x.amax()),
    OpSpec("amax_dim", lambda x: x.amax(-1), lambda x: x.amax(-1), min_ndim=1),
    OpSpec("amin_dim", lambda x: x.amin(0), lambda x: x.amin(0), min_ndim=1),
    OpSpec("max", lambda x: x.max(), lambda x: x.max()),
    OpSpec("min", lambda x: x.min(), lambda x: x.min()),
    OpSpec("max_dim", lambda x: x.max(-1).values, lambda x: x.max(-1).values, min_ndim=1),
    OpSpec("min_dim_keep", lambda x: x.min(0, keepdim=True).values,
           lambda x: x.min(0, keepdim=True).values, min_ndim=1),
    OpSpec("logsumexp", lambda x: x.logsumexp(-1), lambda x: x.logsumexp(-1), min_ndim=1),
    OpSpec("prod", lambda x: x.prod(), lambda x: x.prod()),
    OpSpec("prod_dim", lambda x: x.prod(-1), lambda x: x.prod(-1), min_ndim=1),
    OpSpec("cumsum", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), min_ndim=1),
    OpSpec("norm", lambda x: x.norm(), lambda x: x.norm()),
    OpSpec("norm_p1_dim", lambda x: x.norm(1, dim=-1), lambda x: x.norm(1, dim=-1), min_ndim=1,
           kinks=(0.0,)),
    OpSpec("norm_inf", lambda x: x.norm(float("inf")), lambda x: x.norm(float("inf"))),
    OpSpec("norm_minus_inf", lambda x: x.norm(float("-inf")), lambda x: x.norm(float("-inf")),
           domain="nonzero"),
    OpSpec("norm_p3_dim", lambda x: x.norm(3, dim=-1), lambda x: x.norm(3, dim=-1), min_ndim=1,
           kinks=(0.0,)),
    OpSpec("norm_p0.5", lambda x: x.norm(0.5), lambda x: x.norm(0.5), domain="nonzero"),
    OpSpec("std_keepdim", lambda x: x.std(-1, keepdim=True), lambda x: x.std(-1, keepdim=True),
           min_ndim=1),
    OpSpec("softmax", lambda x: x.softmax(-1), lambda x: x.softmax(-1), min_ndim=1),
    OpSpec("log_softmax", lambda x: x.log_softmax(0), lambda x: x.log_softmax(0), min_ndim=1),
]

SHAPE = [
    OpSpec("reshape", lambda x: x.reshape(-1), lambda x: x.reshape(-1)),
    OpSpec("flatten", lambda x: x.flatten(), lambda x: x.flatten()),
    OpSpec("transpose", lambda x: x.transpose(0, -1), lambda x: x.transpose(0, -1), min_ndim=1),
    OpSpec("T", lambda x: x.T, lambda x: x.permute(tuple(range(x.ndim - 1, -1, -1)))),
    OpSpec("permute", lambda x: x.permute(1, 2, 0), lambda x: x.permute(1, 2, 0),
           fixed_shapes=((2, 3, 4),)),
    OpSpec("expand", lambda x: x.expand(2, 3, 4), lambda x: x.expand(2, 3, 4),
           fixed_shapes=((3, 1),)),
    OpSpec("broadcast_to", lambda x: mg.broadcast_to(x, (3, 2, 2)),
           lambda x: x.broadcast_to((3, 2, 2)), fixed_shapes=((2, 1),)),
    OpSpec("squeeze", lambda x: x.squeeze(), lambda x: x.squeeze(), fixed_shapes=((2, 1, 3, 1),)),
    OpSpec("unsqueeze", lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1), min_ndim=1),
    OpSpec("getitem_basic", lambda x: x[1:, ::2, None, 0],
           lambda x: x[1:, ::2, None, 0], fixed_shapes=((3, 4, 2),)),
    OpSpec("getitem_advanced", lambda x: x[[0, 2, 0], 1:],
           lambda x: x[[0, 2, 0], 1:], fixed_shapes=((3, 3),)),
    OpSpec("getitem_mask", lambda x: x[x > 0], lambda x: x[x > 0], fixed_shapes=((3, 4),)),
    OpSpec("getitem_mixed", lambda x: x[1, :, [0, 3, 0]], lambda x: x[1, :, [0, 3, 0]],
           fixed_shapes=((2, 3, 4),)),
    OpSpec("masked_select", lambda x: x.masked_select(mg.tensor([True, False, True])),
           lambda x: x.masked_select(__import__("torch").tensor([True, False, True])),
           fixed_shapes=((2, 1),)),
    OpSpec("gather", lambda x: x.gather(1, mg.tensor([[0, 0, 2], [1, 2, 1]])),
           lambda x: x.gather(1, __import__("torch").tensor([[0, 0, 2], [1, 2, 1]])),
           fixed_shapes=((2, 4),)),
    OpSpec("index_select", lambda x: x.index_select(1, mg.tensor([2, 0, 2])),
           lambda x: x.index_select(1, __import__("torch").tensor([2, 0, 2])),
           fixed_shapes=((2, 3),)),
    OpSpec("cat", lambda x: mg.cat([x, x * 2.0, x[:1]], 0),
           lambda x: __import__("torch").cat([x, x * 2.0, x[:1]], 0), fixed_shapes=((2, 3),)),
    OpSpec("stack", lambda x: mg.stack([x, x.exp()], 1),
           lambda x: __import__("torch").stack([x, x.exp()], 1), fixed_shapes=((2, 3),)),
    OpSpec("split", lambda x: x.split(2, 1)[1], lambda x: x.split(2, 1)[1], fixed_shapes=((2, 5),)),
    OpSpec("chunk", lambda x: x.chunk(3, 0)[2], lambda x: x.chunk(3, 0)[2], fixed_shapes=((7, 2),)),
    OpSpec("pad", lambda x: mg.pad(x, (1, 2, 0, 1), value=0.5),
           lambda x: __import__("torch").nn.functional.pad(x, (1, 2, 0, 1), value=0.5),
           fixed_shapes=((2, 3),)),
    OpSpec("flip", lambda x: x.flip((0, 1)), lambda x: x.flip((0, 1)), fixed_shapes=((2, 3),)),
    OpSpec("repeat", lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3),
           fixed_shapes=((2, 2),)),
]

MATMUL = [
    OpSpec(f"matmul_{a}x{b}", lambda x, y: x @ y, lambda x, y: x @ y, 2, fixed_shapes=(a, b))
    for a, b in [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2))]
]



def _torch():  # noqa: ANN202
    import torch

    return torch


def _t(rows: list) -> mg.Tensor:
    return mg.tensor(np.array(rows))


def _torch_act(name: str, z):  # noqa: ANN001, ANN202
    F = _torch().nn.functional
    return {"none": lambda v: v, "relu": F.relu, "tanh": F.tanh, "sigmoid": F.sigmoid,
            "gelu": F.gelu}[name](z)


def _linear_act(activation: str, bias: bool) -> OpSpec:
    from minigrad.ops.linear import LinearAct

    if bias:
        return OpSpec(f"linear_act_{activation}",
                      lambda x, w, b: LinearAct.apply(x, w, b, activation=activation),
                      lambda x, w, b: _torch_act(activation, _torch().nn.functional.linear(x, w, b)),
                      3, fixed_shapes=((2, 3), (4, 3), (4,)))
    return OpSpec(f"linear_act_{activation}_nd_no_bias",
                  lambda x, w: LinearAct.apply(x, w, activation=activation),
                  lambda x, w: _torch_act(activation, _torch().nn.functional.linear(x, w)),
                  2, fixed_shapes=((2, 2, 3), (4, 3)))


_Y4 = [0, 2, 4, 1]
_YND = [[0, 2], [-100, 1]]
_W5 = [1.0, 0.5, 2.0, 1.5, 0.7]
_LABELS = [[3, 0, -1, 1], [1, 2, 3, -1]]


def _mg_f():  # noqa: ANN202
    return mg.nn.functional


def _torch_f():  # noqa: ANN202
    return _torch().nn.functional


def _tt(rows: list, dtype: str = "long"):  # noqa: ANN202
    torch = _torch()
    return torch.tensor(rows, dtype=getattr(torch, dtype))


# Fused ops: a forward on arrays, a readable Tensor-op backward and a declared fast path
# (``fast_backward``). gradcheck goes through the fast path, gradgradcheck through the
# readable backward; tests/test_ops_fast_path.py checks that both give the same gradients.
FUSED = [
    *[_linear_act(a, bias) for a in ("none", "relu", "tanh", "sigmoid", "gelu") for bias in (True, False)],
    OpSpec("cross_entropy_kernel", lambda x: _mg_f().cross_entropy(x, _t(_Y4)),
           lambda x: _torch_f().cross_entropy(x, _tt(_Y4)), fixed_shapes=((4, 5),)),
    OpSpec("cross_entropy_many_classes", lambda x: _mg_f().cross_entropy(x, _t([3, 49, 0]), reduction="sum"),
           lambda x: _torch_f().cross_entropy(x, _tt([3, 49, 0]), reduction="sum"), fixed_shapes=((3, 50),)),
    OpSpec("cross_entropy_nd_weight_ignore_smoothing",
           lambda x: _mg_f().cross_entropy(x, _t(_YND), weight=_t(_W5[:3]), label_smoothing=0.1),
           lambda x: _torch_f().cross_entropy(x, _tt(_YND), weight=_tt(_W5[:3], "float64"),
                                              label_smoothing=0.1),
           fixed_shapes=((2, 3, 2),)),
    OpSpec("cross_entropy_none_weight",
           lambda x: _mg_f().cross_entropy(x, _t(_Y4), _t(_W5), reduction="none"),
           lambda x: _torch_f().cross_entropy(x, _tt(_Y4), _tt(_W5, "float64"), reduction="none"),
           fixed_shapes=((4, 5),)),
    OpSpec("cross_entropy_probabilities",
           lambda x, t: _mg_f().cross_entropy(x, t, weight=_t(_W5[:4]), label_smoothing=0.2),
           lambda x, t: _torch_f().cross_entropy(x, t, weight=_tt(_W5[:4], "float64"), label_smoothing=0.2),
           2, fixed_shapes=((3, 4), (3, 4))),
    OpSpec("nll_loss", lambda x: _mg_f().nll_loss(x, _t(_Y4), _t(_W5)),
           lambda x: _torch_f().nll_loss(x, _tt(_Y4), _tt(_W5, "float64")), fixed_shapes=((4, 5),)),
    OpSpec("nll_loss_nd_ignore", lambda x: _mg_f().nll_loss(x, _t(_YND), reduction="sum"),
           lambda x: _torch_f().nll_loss(x, _tt(_YND), reduction="sum"), fixed_shapes=((2, 3, 2),)),
    OpSpec("binary_cross_entropy",
           lambda x, y: _mg_f().binary_cross_entropy(x.sigmoid(), y.sigmoid(), weight=_t([1.0, 2.0, 0.5])),
           lambda x, y: _torch_f().binary_cross_entropy(x.sigmoid(), y.sigmoid(),
                                                        weight=_tt([1.0, 2.0, 0.5], "float64")),
           2, fixed_shapes=((2, 3), (2, 3))),
    OpSpec("binary_cross_entropy_with_logits",
           lambda x, y: _mg_f().binary_cross_entropy_with_logits(
               x, y.sigmoid(), weight=_t([1.0, 2.0, 0.5]), pos_weight=_t([0.5, 3.0, 1.0])),
           lambda x, y: _torch_f().binary_cross_entropy_with_logits(
               x, y.sigmoid(), weight=_tt([1.0, 2.0, 0.5], "float64"),
               pos_weight=_tt([0.5, 3.0, 1.0], "float64")),
           2, fixed_shapes=((2, 3), (2, 3))),
    OpSpec("mse_loss", lambda x, y: _mg_f().mse_loss(x, y), lambda x, y: _torch_f().mse_loss(x, y),
           2, fixed_shapes=((2, 3), (2, 3))),
    OpSpec("mse_loss_broadcast_none", lambda x, y: _mg_f().mse_loss(x, y.expand(2, 3), reduction="none"),
           lambda x, y: _torch_f().mse_loss(x, y.expand(2, 3), reduction="none"),
           2, fixed_shapes=((2, 3), (3,))),
    OpSpec("l1_loss", lambda x, y: _mg_f().l1_loss(x, y + 5.0, reduction="sum"),
           lambda x, y: _torch_f().l1_loss(x, y + 5.0, reduction="sum"), 2, fixed_shapes=((2, 3), (2, 3))),
    OpSpec("huber_loss", lambda x, y: _mg_f().huber_loss(x, y * 1e-3, delta=1.0),
           lambda x, y: _torch_f().huber_loss(x, y * 1e-3, delta=1.0), 2, kinks=(-1.0, 1.0),
           fixed_shapes=((2, 3), (2, 3))),
    OpSpec("smooth_l1_loss", lambda x, y: _mg_f().smooth_l1_loss(x, y * 1e-3, beta=0.5),
           lambda x, y: _torch_f().smooth_l1_loss(x, y * 1e-3, beta=0.5), 2, kinks=(-0.5, 0.5),
           fixed_shapes=((2, 3), (2, 3))),
    OpSpec("multi_margin_loss", lambda x: _mg_f().multi_margin_loss(x, [0, 3, 1]),
           lambda x: _torch_f().multi_margin_loss(x, _tt([0, 3, 1])), fixed_shapes=((3, 4),)),
    OpSpec("multi_margin_loss_p2_weight",
           lambda x: _mg_f().multi_margin_loss(x, [0, 3, 1], p=2, weight=_t(_W5[:4])),
           lambda x: _torch_f().multi_margin_loss(x, _tt([0, 3, 1]), p=2, weight=_tt(_W5[:4], "float64")),
           fixed_shapes=((3, 4),)),
    OpSpec("multilabel_margin_loss", lambda x: _mg_f().multilabel_margin_loss(x, _t(_LABELS)),
           lambda x: _torch_f().multilabel_margin_loss(x, _tt(_LABELS)), fixed_shapes=((2, 4),)),
    OpSpec("check_finite", lambda x: mg.debug.check_finite(x * 2.0), lambda x: x * 2.0,
           fixed_shapes=((2, 3),)),
    OpSpec("dropout_seeded", lambda x: _mg_f().dropout(x, 0.3, generator=mg.Generator(0)), None,
           fixed_shapes=((4, 5),)),
    OpSpec("prod_with_a_zero", lambda x: (x * _t([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])).prod(1),
           lambda x: (x * _tt([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]], "float64")).prod(1),
           fixed_shapes=((2, 3),)),
]

ALL = UNARY + BINARY + REDUCE + SHAPE + MATMUL + FUSED
