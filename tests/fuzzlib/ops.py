"""Growing a random program: each generator proposes one statement that fits the values so far.

Every proposal is run in torch at once (``Builder.add``) and kept only if torch accepts it and
its values stay fair to compare: finite, moderate, and away from the kinks and ties of the op
(``|x - kink| > KINK_GAP``, a max whose top two candidates differ by more than it), since two
correct libraries may pick different subgradients there. A proposal torch rejects sometimes
stays as the program's last statement: minigrad must then raise too.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable

import numpy as np

from tests.fuzzlib.program import KINK_GAP, Program, Step, literal, namespace, validate
from tests.op_registry import BINARY, MATMUL, REDUCE, SHAPE, UNARY, OpSpec

MAX_DIM = 4
ERROR_KEEP = 0.3  # chance that a statement torch rejects ends the program as an expected error


class Reject(Exception):
    """The proposal does not fit (shapes, kinks, ties); try another."""


class Builder:
    """A program under construction, with its torch values (in the program's dtypes)."""

    def __init__(self, rng: np.random.Generator, seed: int, nonfinite: bool,
                 second_order: bool) -> None:
        self.rng = rng
        self.seed = seed
        self.nonfinite = nonfinite
        self.second_order = second_order
        self.ns = namespace("torch")
        self.steps: list[Step] = []
        self.names: list[str] = []  # float values, oldest first
        self.expect_error = False
        self._count = itertools.count()

    def t(self, name: str):
        return self.ns[name]

    def pick(self, pred: Callable = lambda t: True, avoid: str | None = None) -> str:
        """A value satisfying ``pred``, recent ones more likely (chains get deep)."""
        cands = [n for n in self.names if n != avoid and pred(self.ns[n])]
        if not cands:
            raise Reject("no value fits")
        w = np.arange(1, len(cands) + 1, dtype=float) ** 1.5
        return cands[self.rng.choice(len(cands), p=w / w.sum())]

    def leaf(self, shape: tuple[int, ...], dt: str, layout: str = "c",
             low: float = -2.0, high: float = 2.0) -> str:
        values = self.rng.uniform(low, high, size=shape)
        if self.nonfinite and values.size and self.rng.random() < 0.5:
            values.flat[self.rng.integers(values.size)] = self.rng.choice([np.nan, np.inf, -np.inf])
        if dt == "f32":
            values = values.astype(np.float32).astype(np.float64)
        name = f"p{next(self._count)}"
        code = f"{name} = leaf({literal(values)}, {tuple(shape)}, {dt}, {layout!r})"
        exec(code, self.ns)
        self.steps.append(Step(code, "leaf", name, frozenset({layout})))
        self.names.append(name)
        self._maybe_hook(name, retain=False)
        return name

    def _maybe_hook(self, name: str, retain: bool) -> None:
        """Sometimes hook ``name`` (scale its gradient) and retain its gradient."""
        if self.rng.random() < 0.15:
            factor = float(self.rng.choice([-1.0, 2.0, 0.5]))
            hcode = f"hook({name}, {name!r}, {factor})"
            exec(hcode, self.ns)
            self.steps.append(Step(hcode, "hook"))
        if retain and self.rng.random() < 0.15:
            rcode = f"{name}.retain_grad()"
            exec(rcode, self.ns)
            self.steps.append(Step(rcode, "retain_grad"))

    def add(self, expr: str, op: str, tags: frozenset[str] = frozenset()) -> str:
        """Run ``v = expr`` in torch; keep it if its values are fair, else raise Reject."""
        name = f"v{next(self._count)}"
        code = f"{name} = {expr}"
        try:
            exec(code, self.ns)
        except Exception as e:  # noqa: BLE001 - torch's verdict on the statement
            if self.rng.random() < ERROR_KEEP:
                self.steps.append(Step(code, op, name, tags | {"error"}))
                self.expect_error = True
                return name
            raise Reject(str(e)) from None
        t = self.ns[name]
        if not t.is_floating_point() or not t.requires_grad:
            raise Reject("not a differentiable float value")
        v = t.detach()
        if v.numel():
            finite = v.isfinite()
            if not self.nonfinite and not bool(finite.all()):
                raise Reject("non-finite")
            if finite.any() and float(v[finite].abs().max()) > 1e4:
                raise Reject("too large")
        self.steps.append(Step(code, op, name, tags | ({"nonfinite"} if self.nonfinite else set())))
        self.names.append(name)
        if op != "contiguous" and not self.second_order:
            self._maybe_hook(name, retain=True)
        return name


# ------------------------------------------------------------------------------ value checks
def away_from(t, points: tuple[float, ...], gap: float = KINK_GAP) -> None:
    v = t.detach().double()
    for k in points:
        if bool(((v - k).abs() < gap).any()):
            raise Reject(f"value near kink {k}")


def in_domain(t, domain: str) -> None:
    v = t.detach().double()
    if v.numel() == 0:
        return
    ok = {"any": True, "positive": bool((v > 0.05).all()), "gt_minus1": bool((v > -0.95).all()),
          "nonzero": bool((v.abs() > 0.05).all())}[domain]
    if not ok:
        raise Reject(f"outside {domain}")


def no_ties(t, dims: tuple[int, ...] | None, gap: float = KINK_GAP) -> None:
    """The two largest and the two smallest entries of each reduced slice differ by > gap."""
    v = t.detach().double()
    if v.numel() == 0:
        return
    if v.ndim == 0:
        return
    dims = tuple(range(v.ndim)) if dims is None else tuple(d % v.ndim for d in dims)
    rest = [d for d in range(v.ndim) if d not in dims]
    flat = v.permute(*rest, *dims).reshape(*[v.shape[d] for d in rest], -1)
    if flat.shape[-1] < 2:
        return
    s = flat.sort(-1).values
    if bool((s[..., -1] - s[..., -2] < gap).any()) or bool((s[..., 1] - s[..., 0] < gap).any()):
        raise Reject("tie in max/min")


def pair_gap(a, b, gap: float = KINK_GAP) -> None:
    import torch

    x, y = torch.broadcast_tensors(a.detach().double(), b.detach().double())
    if x.numel() and bool(((x - y).abs() < gap).any()):
        raise Reject("maximum/minimum/where near a tie")


def broadcastable(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


# ------------------------------------------------------------------------------ generators
def positive_of(B: Builder, name: str) -> str:
    """A strictly positive value made from ``name`` (for log, sqrt, pow bases, ...)."""
    return B.add(f"{name}.sigmoid() + 0.2", "sigmoid")


def g_registry_unary(B: Builder) -> str:
    spec: OpSpec = UNARY[B.rng.integers(len(UNARY))]
    x = B.pick()
    try:
        in_domain(B.t(x), spec.domain)
    except Reject:
        x = positive_of(B, x)
    away_from(B.t(x), spec.kinks)
    return B.add(f"REG[{spec.name!r}]({x})", spec.name)


def g_registry_binary(B: Builder) -> str:
    spec: OpSpec = BINARY[B.rng.integers(len(BINARY))]
    a = B.pick()
    sa = tuple(B.t(a).shape)
    b = a if B.rng.random() < 0.2 else B.pick(lambda t: broadcastable(sa, tuple(t.shape)))
    if spec.name == "pow":
        if not bool((B.t(a).detach() > 0.05).all()):
            a = positive_of(B, a)
        if B.t(b).numel() and float(B.t(b).detach().abs().max()) > 3:
            raise Reject("big exponent")
    elif spec.name == "div":
        if not bool((B.t(b).detach().abs() > 0.05).all()):
            b = positive_of(B, b)
    if spec.name in ("maximum", "minimum", "where"):
        if a == b:
            raise Reject("tie: same value")
        pair_gap(B.t(a), B.t(b))
    return B.add(f"REG[{spec.name!r}]({a}, {b})", spec.name)


def g_registry_reduce(B: Builder) -> str:
    spec: OpSpec = REDUCE[B.rng.integers(len(REDUCE))]
    x = B.pick(lambda t: t.ndim >= spec.min_ndim)
    t = B.t(x)
    if spec.name in ("amax", "amin", "max", "min", "norm_inf"):
        no_ties(t.abs() if spec.name == "norm_inf" else t, None)
    elif spec.name in ("amax_dim", "max_dim"):
        no_ties(t, (-1,))
    elif spec.name in ("amin_dim", "min_dim_keep"):
        no_ties(t, (0,))
    away_from(t, spec.kinks)
    return B.add(f"REG[{spec.name!r}]({x})", spec.name)


def g_registry_shape(B: Builder) -> str:
    spec: OpSpec = SHAPE[B.rng.integers(len(SHAPE))]
    if spec.fixed_shapes:
        x = B.pick(lambda t: tuple(t.shape) == spec.fixed_shapes[0])
    else:
        x = B.pick(lambda t: t.ndim >= spec.min_ndim)
    if spec.name == "getitem_mask":
        away_from(B.t(x), (0.0,))
    return B.add(f"REG[{spec.name!r}]({x})", spec.name)


def g_registry_matmul(B: Builder) -> str:
    """A registry matmul: a value of its first shape times a new leaf of its second."""
    spec: OpSpec = MATMUL[B.rng.integers(len(MATMUL))]
    a, b = spec.fixed_shapes
    x = B.pick(lambda t: tuple(t.shape) == a)
    w = B.leaf(b, "f32" if str(B.t(x).dtype).endswith("32") else "f64")
    return B.add(f"REG[{spec.name!r}]({x}, {w})", spec.name)


def _dims(B: Builder, ndim: int) -> tuple[int, ...]:
    k = int(B.rng.integers(1, ndim + 1))
    dims = sorted(B.rng.choice(ndim, size=k, replace=False).tolist())
    return tuple(d - ndim if B.rng.random() < 0.3 else d for d in dims)


def g_reduce(B: Builder) -> str:
    """A reduction over random dims, with random keepdim."""
    op = str(B.rng.choice(["sum", "mean", "var", "std", "amax", "amin", "max", "min", "logsumexp",
                           "prod", "norm", "softmax", "log_softmax", "cumsum"]))
    x = B.pick(lambda t: t.ndim >= 1) if op not in ("sum", "mean") else B.pick()
    t = B.t(x)
    keep = bool(B.rng.random() < 0.4)
    if t.ndim == 0:
        return B.add(f"{x}.{op}()", op)
    dims = _dims(B, t.ndim)
    d = dims[0]
    if op in ("sum", "mean", "amax", "amin", "logsumexp"):
        if op in ("amax", "amin"):
            no_ties(t, dims)
        arg = dims if B.rng.random() < 0.5 or len(dims) > 1 else d
        return B.add(f"{x}.{op}({arg}, keepdim={keep})", op, frozenset({f"{op}_dim"}))
    if op in ("var", "std"):
        corr = int(B.rng.choice([0, 1]))
        return B.add(f"{x}.{op}({dims}, correction={corr}, keepdim={keep})", op)
    if op in ("max", "min"):
        no_ties(t, (d,))
        return B.add(f"{x}.{op}({d}, keepdim={keep}).values", op, frozenset({f"{op}_dim"}))
    if op == "prod":
        return B.add(f"{x}.prod({d}, keepdim={keep})", op)
    if op == "norm":
        p = B.rng.choice([1, 2, 3, float("inf")])
        if p == 1:
            away_from(t, (0.0,))
        if p == float("inf"):
            no_ties(t.abs(), dims)
        return B.add(f"{x}.norm({p!r}, {dims}, keepdim={keep})", op, frozenset({f"norm_p{p}"}))
    return B.add(f"{x}.{op}({d})", op)


def _factor(n: int, rng: np.random.Generator) -> tuple[int, ...]:
    if n == 0:
        return tuple(int(s) for s in rng.permutation([0, int(rng.integers(1, 4))]))
    dims = []
    while n > 1 and len(dims) < MAX_DIM - 1:
        divs = [k for k in range(2, n + 1) if n % k == 0]
        k = int(rng.choice(divs))
        dims.append(k)
        n //= k
    if n > 1:
        dims.append(n)
    if rng.random() < 0.4:
        dims.insert(int(rng.integers(len(dims) + 1)), 1)
    return tuple(dims)


def g_shape(B: Builder) -> str:
    op = str(B.rng.choice(["reshape", "view", "flatten", "transpose", "permute", "unsqueeze",
                           "squeeze", "expand", "mT", "contiguous", "flip", "repeat", "pad",
                           "broadcast_to"]))
    x = B.pick()
    t = B.t(x)
    nd, shape = t.ndim, tuple(t.shape)
    rng = B.rng
    if op in ("reshape", "view"):
        new = list(_factor(t.numel(), rng))
        if new and rng.random() < 0.3 and t.numel():
            new[int(rng.integers(len(new)))] = -1
        return B.add(f"{x}.{op}({tuple(new)})", op)
    if op == "flatten":
        if nd == 0:
            return B.add(f"{x}.flatten()", op)
        s = int(rng.integers(nd))
        e = int(rng.integers(s, nd))
        return B.add(f"{x}.flatten({s}, {e})", op)
    if op == "transpose":
        if nd == 0:
            raise Reject("0-d")
        d0, d1 = (int(v) for v in rng.integers(-nd, nd, size=2))
        return B.add(f"{x}.transpose({d0}, {d1})", op)
    if op == "permute":
        if nd == 0:
            raise Reject("0-d")
        perm = tuple(int(v) for v in rng.permutation(nd))
        return B.add(f"{x}.permute{perm if nd != 1 else '(0,)'}", op)
    if op == "unsqueeze":
        d = int(rng.integers(-nd - 1, nd + 1))
        return B.add(f"{x}.unsqueeze({d})", op)
    if op == "squeeze":
        if nd and rng.random() < 0.6:
            return B.add(f"{x}.squeeze({int(rng.integers(-nd, nd))})", op)
        return B.add(f"{x}.squeeze()", op)
    if op == "expand":
        new = [int(rng.integers(2, 4)) if s == 1 else (-1 if rng.random() < 0.3 else s)
               for s in shape]
        lead = [int(rng.integers(1, 3)) for _ in range(int(rng.integers(0, 2)))]
        if len(lead) + nd > MAX_DIM:
            lead = []
        return B.add(f"{x}.expand({tuple(lead + new)})", op)
    if op == "broadcast_to":
        new = tuple([2] * int(rng.integers(0, 2)) + [int(rng.integers(2, 4)) if s == 1 else s
                                                     for s in shape])
        return B.add(f"lib.broadcast_to({x}, {new})", op)
    if op == "mT":
        if nd < 2:
            raise Reject("mT needs 2 dims")
        return B.add(f"{x}.mT", op)
    if op == "contiguous":
        return B.add(f"{x}.contiguous()", op)
    if op == "flip":
        if nd == 0:
            raise Reject("0-d")
        return B.add(f"{x}.flip({_dims(B, nd)})", op)
    if op == "repeat":
        reps = tuple(int(v) for v in rng.integers(1, 3, size=nd + int(rng.integers(0, 2))))
        if not reps:
            raise Reject("repeat of 0-d needs sizes")
        return B.add(f"{x}.repeat{reps if len(reps) > 1 else '(' + str(reps[0]) + ',)'}", op)
    if nd == 0:
        raise Reject("pad of 0-d")
    k = int(rng.integers(1, min(nd, 2) + 1))
    pads = tuple(int(v) for v in rng.integers(0, 3, size=2 * k))
    return B.add(f"F.pad({x}, {pads}, value={float(rng.uniform(-1, 1))!r})", op)


def _basic_index(rng: np.random.Generator, n: int) -> str:
    r = rng.random()
    if n and r < 0.25:
        return str(int(rng.integers(-n, n)))
    if r < 0.6:
        start = int(rng.integers(-n - 1, n + 1)) if rng.random() < 0.5 else None
        stop = int(rng.integers(-n - 1, n + 2)) if rng.random() < 0.5 else None
        step = int(rng.integers(1, 4)) if rng.random() < 0.5 else None
        return f"{'' if start is None else start}:{'' if stop is None else stop}" + \
            ("" if step is None else f":{step}")
    return ":"


def _numpy_order_differs(parts: list[str]) -> bool:
    """Whether numpy and torch place the indexed dims of ``x[parts]`` differently.

    Next to an index list numpy counts an integer as an advanced index, so ``x[0, :, [1, 2]]``
    has separated advanced indices (their dims go first); torch applies the integer first,
    leaving one list (its dims stay in place).
    """
    def separated(positions: list[int]) -> bool:
        return bool(positions) and positions[-1] - positions[0] + 1 != len(positions)

    lists = [i for i, p in enumerate(parts) if p.startswith("[")]
    ints = [i for i, p in enumerate(parts) if p.lstrip("-").isdigit()]
    if not lists or not ints:
        return False
    kept = [i for i, p in enumerate(parts) if not p.lstrip("-").isdigit()]
    return separated(sorted(lists + ints)) != separated([kept.index(i) for i in lists])


def g_index(B: Builder) -> str:
    """Basic, advanced, mixed and boolean indexing."""
    rng = B.rng
    x = B.pick(lambda t: t.ndim >= 1)
    t = B.t(x)
    shape = tuple(t.shape)
    kind = str(rng.choice(["basic", "advanced", "mixed", "two_lists", "mask", "mask_value"]))
    parts = [_basic_index(rng, n) for n in shape]
    parts = parts[:int(rng.integers(1, len(parts) + 1))]
    if kind == "basic":
        if rng.random() < 0.3:
            parts.insert(int(rng.integers(len(parts) + 1)), "None")
        if rng.random() < 0.2:
            parts.insert(0, "...")
        return B.add(f"{x}[{', '.join(parts)}]", "getitem_basic")
    if kind in ("advanced", "mixed", "two_lists"):
        d = int(rng.integers(len(shape)))
        n = shape[d]
        k = int(rng.integers(1, 4))
        lst = [int(v) for v in rng.integers(-n, n, size=k)] if n else []
        parts = parts + [":"] * (len(shape) - len(parts))
        parts[d] = repr(lst)
        tags = {"advanced"}
        if kind == "mixed" and len(shape) >= 2:
            e = (d + 1 + int(rng.integers(len(shape) - 1))) % len(shape)
            parts[e] = str(int(rng.integers(-shape[e], shape[e]))) if shape[e] else "0"
            tags.add("mixed_int")
        if kind == "two_lists" and len(shape) >= 2:
            e = (d + 1 + int(rng.integers(len(shape) - 1))) % len(shape)
            m = shape[e]
            parts[e] = repr([int(v) for v in rng.integers(-m, m, size=k)] if m else [])
            tags.add("two_lists")
        if _numpy_order_differs(parts):
            tags.add("mixed_basic_advanced")
        return B.add(f"{x}[{', '.join(parts)}]", "getitem_advanced", frozenset(tags))
    k = int(rng.integers(0 if rng.random() < 0.2 else 1, len(shape) + 1))
    mshape = shape[:k]
    if kind == "mask":
        mask = rng.random(mshape) < 0.5
        return B.add(f"{x}[bools({literal(mask)}, {mshape})]", "getitem_mask",
                     frozenset({"mask0d"} if mshape == () else set()))
    away_from(t, (0.3,))
    return B.add(f"{x}[{x} > 0.3]", "getitem_mask")


def g_gather(B: Builder) -> str:
    rng = B.rng
    op = str(rng.choice(["gather", "index_select", "masked_select", "masked_fill", "where"]))
    x = B.pick(lambda t: t.ndim >= 1)
    t = B.t(x)
    shape = tuple(t.shape)
    nd = len(shape)
    d = int(rng.integers(-nd, nd))
    n = shape[d]
    if op == "gather":
        ishape = tuple(int(rng.integers(0, s + 1)) if i != d % nd else int(rng.integers(1, 4))
                       for i, s in enumerate(shape))
        low = -n if rng.random() < 0.1 else 0
        idx = rng.integers(low, max(n, 1), size=ishape)
        tags = frozenset({"negative_index"} if (idx < 0).any() else set())
        return B.add(f"{x}.gather({d}, ints({literal(idx)}, {ishape}))", op, tags)
    if op == "index_select":
        idx = rng.integers(0, max(n, 1), size=int(rng.integers(0, 4)))
        return B.add(f"{x}.index_select({d}, ints({literal(idx)}, {idx.shape}))", op)
    mshape = tuple(1 if rng.random() < 0.3 else s for s in shape[int(rng.integers(0, nd + 1)):])
    mask = rng.random(mshape) < 0.5
    m = f"bools({literal(mask)}, {mshape})"
    tags = frozenset({"mask_broadcast"} if mshape != shape else set())
    if op == "masked_select":
        return B.add(f"{x}.masked_select({m})", op, tags)
    if op == "masked_fill":
        return B.add(f"{x}.masked_fill({m}, {float(rng.uniform(-1, 1))!r})", op, tags)
    y = B.pick(lambda u: broadcastable(shape, tuple(u.shape)))
    return B.add(f"lib.where({m}, {x}, {y})", op, tags)


def g_combine(B: Builder) -> str:
    """cat, stack, split, chunk, matmul, linear, and broadcasting with another value."""
    rng = B.rng
    op = str(rng.choice(["cat", "stack", "split", "chunk", "matmul", "linear", "bmul", "scalar",
                         "cast"]))
    x = B.pick()
    t = B.t(x)
    shape = tuple(t.shape)
    nd = len(shape)
    if op == "cat":
        if nd == 0:
            raise Reject("0-d")
        d = int(rng.integers(-nd, nd))
        y = B.pick(lambda u: u.ndim == nd and all(
            a == b for i, (a, b) in enumerate(zip(u.shape, shape)) if i != d % nd))
        return B.add(f"lib.cat([{x}, {y}, {x}], {d})", op)
    if op == "stack":
        y = B.pick(lambda u: tuple(u.shape) == shape)
        return B.add(f"lib.stack([{x}, {y}], {int(rng.integers(-nd - 1, nd + 1))})", op)
    if op in ("split", "chunk"):
        if nd == 0:
            raise Reject("0-d")
        d = int(rng.integers(-nd, nd))
        k = int(rng.integers(1, 4))
        pieces = -(-shape[d] // k) if op == "split" else None
        i = int(rng.integers(0, max(1, pieces or 1)))
        return B.add(f"{x}.{op}({k}, {d})[{i}]", op)
    if op == "matmul":
        if nd == 0:
            raise Reject("0-d")
        if nd >= 2 and rng.random() < 0.5:
            return B.add(f"{x} @ {x}.mT", op)
        k = shape[-1]
        y = B.pick(lambda u: u.ndim >= 1 and u.shape[-2 if u.ndim >= 2 else 0] == k and (
            nd < 2 or u.ndim < 2 or broadcastable(shape[:-2], tuple(u.shape[:-2]))))
        return B.add(f"{x} @ {y}", op)
    if op == "linear":
        if nd == 0:
            raise Reject("0-d")
        dt = "f64" if t.dtype.__str__().endswith("64") else "f32"
        w = B.leaf((int(rng.integers(1, 4)), shape[-1]), dt)
        if rng.random() < 0.5:
            b = B.leaf((B.t(w).shape[0],), dt)
            return B.add(f"F.linear({x}, {w}, {b})", op)
        return B.add(f"F.linear({x}, {w})", op)
    if op == "bmul":
        y = B.pick(lambda u: broadcastable(shape, tuple(u.shape)))
        sym = str(rng.choice(["+", "-", "*"]))
        return B.add(f"{x} {sym} {y}", f"binary{sym}")
    if op == "scalar":
        c = float(np.round(rng.uniform(-2, 2), 3))
        form = str(rng.choice(["{x} * {c}", "{c} - {x}", "{x} / {c}", "{x} + {c}"]))
        if abs(c) < 0.1:
            raise Reject("tiny scalar")
        return B.add(form.format(x=x, c=c), "scalar")
    to = str(rng.choice(["f32", "f64"]))
    return B.add(f"{x}.to({to})", "cast")


def g_activation(B: Builder) -> str:
    rng = B.rng
    x = B.pick()
    t = B.t(x)
    op = str(rng.choice(["relu", "leaky_relu", "elu", "gelu", "softplus", "sigmoid", "tanh",
                         "layer_norm", "batch_norm", "softmax"]))
    if op in ("relu", "leaky_relu", "elu"):
        away_from(t, (0.0,))
        arg = {"relu": "", "leaky_relu": ", 0.2", "elu": ", 0.7"}[op]
        return B.add(f"F.{op}({x}{arg})", op)
    if op == "softplus":
        away_from(t * 1.5, (2.0,))
        return B.add(f"F.softplus({x}, beta=1.5, threshold=2.0)", op)
    if op in ("gelu", "sigmoid", "tanh"):
        return B.add(f"F.{op}({x})" if op == "gelu" else f"lib.{op}({x})", op)
    if op == "softmax":
        if t.ndim == 0:
            raise Reject("0-d")
        return B.add(f"F.softmax({x}, {int(rng.integers(-t.ndim, t.ndim))})", op)
    if op == "layer_norm":
        if t.ndim == 0:
            raise Reject("0-d")
        k = int(rng.integers(1, t.ndim + 1))
        ns = tuple(t.shape[-k:])
        return B.add(f"F.layer_norm({x}, {ns})", op)
    if t.ndim not in (2, 3):
        raise Reject("batch_norm takes (N, C) or (N, C, L)")
    return B.add(f"F.batch_norm({x}, None, None, training=True)", op)


def _target(B: Builder, shape: tuple, dt: str, kind: str) -> str:
    """A loss target: a constant, or (sometimes) a value of the program, which gets gradients."""
    rng = B.rng
    if rng.random() < 0.4:
        try:
            y = B.pick(lambda u: tuple(u.shape) == shape)
            if kind == "prob":
                return B.add(f"lib.sigmoid({y})", "sigmoid")
            if kind == "positive":
                return positive_of(B, y)
            return y
        except Reject:
            pass
    if kind == "prob":
        vals = rng.uniform(0.05, 0.95, size=shape)
    elif kind == "positive":
        vals = rng.uniform(0.2, 2.0, size=shape)
    elif kind == "sign":
        vals = rng.choice([-1.0, 1.0], size=shape)
    else:
        vals = rng.uniform(-2, 2, size=shape)
    return f"const({literal(vals)}, {shape}, {dt})"


def g_loss(B: Builder) -> str:
    """A loss (usually the last statement); targets may be program values (target gradients)."""
    rng = B.rng
    x = B.pick()
    t = B.t(x)
    shape = tuple(t.shape)
    dt = "f32" if str(t.dtype).endswith("32") else "f64"
    red = str(rng.choice(["mean", "sum", "none"]))
    op = str(rng.choice(["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                         "binary_cross_entropy", "binary_cross_entropy_with_logits",
                         "cross_entropy", "nll_loss", "kl_div", "poisson_nll_loss",
                         "gaussian_nll_loss", "soft_margin_loss"]))
    if op in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        y = _target(B, shape, dt, "any")
        kinks = {"mse_loss": (), "l1_loss": (0.0,), "smooth_l1_loss": (0.0, 0.5),
                 "huber_loss": (0.0, 0.8)}[op]
        away_from((t - eval(y, B.ns)).abs(), kinks)  # |input - target| at the loss's kinks
        arg = {"smooth_l1_loss": ", beta=0.5", "huber_loss": ", delta=0.8"}.get(op, "")
        return B.add(f"F.{op}({x}, {y}{arg}, reduction={red!r})", op)
    if op == "binary_cross_entropy":
        p = B.add(f"lib.sigmoid({x})", "sigmoid")
        # torch's second derivative is (x^2 - 2xy + y) / ((x + e)^2 (1 - x + e)^2), e = 1e-12:
        # off the exact value by 2e / (1 - x) relative, beyond float64's tolerance near 0 and 1
        away_from(B.t(p), (0.0, 1.0))
        y = _target(B, shape, dt, "prob")
        tags = frozenset({"target_grad"} if y in B.ns else set())
        return B.add(f"F.binary_cross_entropy({p}, {y}, reduction={red!r})", op, tags)
    if op == "binary_cross_entropy_with_logits":
        y = _target(B, shape, dt, "prob")
        tags = {"target_grad"} if y in B.ns else set()
        extra = ""
        if rng.random() < 0.4 and shape:
            wshape = tuple(1 if rng.random() < 0.5 else s for s in shape)
            extra = f", weight=const({literal(rng.uniform(0.1, 2, wshape))}, {wshape}, {dt})"
            tags.add("weight_broadcast")
        if rng.random() < 0.3 and shape:
            extra += f", pos_weight=const({literal(rng.uniform(0.1, 2, shape[-1:]))}, " \
                     f"{shape[-1:]}, {dt})"
        return B.add(f"F.binary_cross_entropy_with_logits({x}, {y}{extra}, reduction={red!r})",
                     op, frozenset(tags))
    if op in ("cross_entropy", "nll_loss"):
        if t.ndim not in (1, 2, 3) or shape[1 if t.ndim > 1 else 0] == 0:
            raise Reject("cross entropy takes (C), (N, C) or (N, C, d)")
        c = shape[1] if t.ndim > 1 else shape[0]
        tshape = shape[:1] + shape[2:] if t.ndim > 1 else ()
        inp = x if op == "cross_entropy" else B.add(f"F.log_softmax({x}, {min(1, t.ndim - 1)})",
                                                    "log_softmax")
        tags = set()
        if op == "cross_entropy" and rng.random() < 0.3:
            y = _target(B, shape, dt, "prob")
            tags.add("prob_target")
            if y in B.ns:
                tags.add("target_grad")
            return B.add(f"F.cross_entropy({inp}, {y}, reduction={red!r})", op, frozenset(tags))
        idx = rng.integers(0, c, size=tshape)
        extra = ""
        if rng.random() < 0.3:
            idx = np.where(rng.random(tshape) < 0.4, -100, idx)
            tags.add("ignore_index")
            if B.nonfinite:
                tags.add("nonfinite_ce")
            if (idx == -100).all():
                tags.add("all_ignored")
        if rng.random() < 0.3:
            extra = f", weight=const({literal(rng.uniform(0.2, 2, c))}, ({c},), {dt})"
        if op == "cross_entropy" and rng.random() < 0.2:
            extra += ", label_smoothing=0.1"
            tags.add("label_smoothing")
        return B.add(f"F.{op}({inp}, ints({literal(idx)}, {tshape}){extra}, reduction={red!r})",
                     op, frozenset(tags))
    if op == "kl_div":
        if t.ndim == 0:
            raise Reject("0-d")
        inp = B.add(f"F.log_softmax({x}, -1)", "log_softmax")
        log_target = bool(rng.random() < 0.5)
        y = _target(B, shape, dt, "prob")
        if log_target:
            y = B.add(f"lib.log({y})", "log") if y in B.ns else f"lib.log({y})"
        red = "batchmean" if red == "mean" and rng.random() < 0.5 else red
        return B.add(f"F.kl_div({inp}, {y}, reduction={red!r}, log_target={log_target})", op,
                     frozenset({"kl_target_grad"} if y in B.ns else set()))
    if op == "poisson_nll_loss":
        log_input = bool(rng.random() < 0.5)
        inp = x if log_input else positive_of(B, x)
        y = _target(B, shape, dt, "positive")
        full = bool(rng.random() < 0.4)
        tags = {"full"} if full else set()
        if y in B.ns and full:
            tags.add("target_grad")
        return B.add(f"F.poisson_nll_loss({inp}, {y}, log_input={log_input}, full={full}, "
                     f"reduction={red!r})", op, frozenset(tags))
    if op == "gaussian_nll_loss":
        y = _target(B, shape, dt, "any")
        var = _target(B, shape, dt, "positive")
        return B.add(f"F.gaussian_nll_loss({x}, {y}, {var}, reduction={red!r})", op)
    y = _target(B, shape, dt, "sign")
    return B.add(f"F.soft_margin_loss({x}, {y}, reduction={red!r})", op)


GENERATORS: list[tuple[Callable[[Builder], str], float]] = [
    (g_registry_unary, 3), (g_registry_binary, 2), (g_registry_reduce, 1.5),
    (g_registry_shape, 1), (g_registry_matmul, 0.5), (g_reduce, 2), (g_shape, 2.5),
    (g_index, 2), (g_gather, 1.5), (g_combine, 3), (g_activation, 1.5), (g_loss, 0.4),
]


def _leaf_shape(rng: np.random.Generator) -> tuple[int, ...]:
    if rng.random() < 0.25:
        fixed = [s.fixed_shapes[0] for s in SHAPE + MATMUL if s.fixed_shapes]
        return tuple(fixed[int(rng.integers(len(fixed)))])
    nd = int(rng.choice([0, 1, 2, 3, 4], p=[0.08, 0.22, 0.35, 0.25, 0.1]))
    return tuple(int(rng.choice([0, 1, 2, 3, 4], p=[0.04, 0.26, 0.3, 0.25, 0.15]))
                 for _ in range(nd))


def generate(seed: int, max_tries: int = 50) -> Program:
    """The program for ``seed``: 1-3 leaves, then 3-12 statements, validated in torch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "degrees of freedom <= 0" and the like
        for attempt in range(max_tries):
            rng = np.random.default_rng([seed, attempt])
            program = _attempt(rng, seed)
            if program is not None and validate(program) is None:
                return program
    raise RuntimeError(f"no valid program for seed {seed} in {max_tries} tries")


def _attempt(rng: np.random.Generator, seed: int) -> Program | None:
    second_order = bool(rng.random() < 0.5)
    B = Builder(rng, seed, nonfinite=bool(rng.random() < 0.05), second_order=second_order)
    mode = rng.choice(["f64", "f32", "mixed"], p=[0.45, 0.4, 0.15])
    first = _leaf_shape(rng)
    for i in range(int(rng.integers(1, 4))):
        shape = first if i == 0 else (
            first[int(rng.integers(0, len(first) + 1)):] if rng.random() < 0.5 else
            _leaf_shape(rng))
        dt = str(mode) if mode != "mixed" else str(rng.choice(["f32", "f64"]))
        layout = str(rng.choice(["c", "t", "s"], p=[0.6, 0.2, 0.2]))
        B.leaf(shape, dt, layout)
    n_steps = int(rng.integers(3, 13))
    gens, weights = zip(*GENERATORS)
    p = np.array(weights) / sum(weights)
    done, tries = 0, 0
    while done < n_steps and tries < 20 * n_steps and not B.expect_error:
        tries += 1
        gen = g_loss if done == n_steps - 1 and rng.random() < 0.25 else gens[rng.choice(len(gens),
                                                                                       p=p)]
        try:
            gen(B)
            done += 1
        except Reject:
            continue
    if done == 0:
        return None
    out = B.steps[-1].target if B.expect_error else B.names[-1]
    program = Program(seed, B.steps, out, np.zeros(()), expect_error=B.expect_error)
    if not B.expect_error:
        shape = tuple(B.t(out).shape)
        program.grad_output = rng.standard_normal(shape)
        if second_order:
            program.probes = {n: rng.standard_normal(tuple(B.t(n).shape)) for n in program.leaves}
    return program
