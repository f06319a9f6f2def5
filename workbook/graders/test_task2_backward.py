"""Task 2: `topological_order` and `Value.backward()`, graded on whole graphs against minigrad:
reused values (gradient accumulation), random expression graphs, and a 10,000-node chain.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from workbook.grading import call, check_close, fail

pytestmark = pytest.mark.task2

ACCUMULATE_HINT = ("a value used twice gets the sum of both contributions: in every _backward, add to "
                   "the inputs' grad with +=, never assign with =")


def leaves(tt, values):
    return [tt.Value(v) for v in values], [mg.tensor(v, dtype=mg.float64, requires_grad=True) for v in values]


def backward_and_compare(tt, what, fn, values, names, hint):
    vals, refs = leaves(tt, values)
    inputs = dict(zip(names, values))
    out = call(f"{what}: forward", fn, *vals, inputs=inputs)
    call(f"{what}: out.backward()", out.backward, inputs=inputs)
    fn(*refs).backward()
    check_close(f"{what}: out.grad", out.grad, 1.0, inputs=inputs, check_dtype=False,
                hint="backward() starts with out.grad = 1.0 (d out / d out)")
    for name, v, r in zip(names, vals, refs):
        check_close(f"{what}: {name}.grad", v.grad, r.grad.item(), inputs=inputs, check_dtype=False,
                    rtol=1e-10, hint=hint)


@pytest.mark.parametrize("op, fn", [
    ("Value.__add__", lambda a: a + a),
    ("Value.__mul__", lambda a: a * a),
    ("Value.__add__ and Value.__mul__", lambda a: a * 3.0 + a),
    ("Value.tanh", lambda a: a.tanh() * a.tanh()),
], ids=["a+a", "a*a", "a*3+a", "tanh(a)*tanh(a)"])
def test_value_used_twice(tt, op, fn):
    """a + a gives a.grad = 2; a * a gives 2a: each use of a adds its share."""
    backward_and_compare(tt, f"{op}, a value used twice", fn, [0.8], ["a"], ACCUMULATE_HINT)


def test_topological_order(tt):
    """Every node exactly once, each after its children, the root last."""
    a, b = tt.Value(2.0), tt.Value(-1.5)
    c = a * b
    d = c + a
    e = d.tanh()
    out = e * c + b
    order = call("topological_order(out)", tt.topological_order, out, inputs={"a": 2.0, "b": -1.5})
    if not isinstance(order, list):
        fail("topological_order", f"expected a list of Values, got {type(order).__name__}")
    ids = [id(n) for n in order]
    if len(ids) != len(set(ids)):
        fail("topological_order", f"a node appears more than once ({len(ids)} entries, {len(set(ids))} "
             "distinct) in out = tanh(a*b + a) * (a*b) + b", hint="keep a set of visited nodes")
    position = {id(n): i for i, n in enumerate(order)}
    expected_nodes = 6 + 1  # a, b, c, d, e, e*c, out
    if len(order) != expected_nodes:
        fail("topological_order", f"expected the {expected_nodes} nodes of out = tanh(a*b + a) * (a*b) + b, "
             f"got {len(order)}", hint="follow _prev from the root down to the leaves")
    if order[-1] is not out:
        fail("topological_order", "the root (out) must come last",
             hint="append a node after all its children")
    for node in order:
        for child in node._prev:
            if position[id(child)] > position[id(node)]:
                fail("topological_order", f"the {child._op or 'leaf'} node {child!r} comes after "
                     f"the {node._op} node that uses it", hint="append a node only after all its children")


@pytest.mark.parametrize("seed", range(5))
def test_random_graphs(tt, seed):
    """Random expression graphs of 3 inputs with reuse, through every op, against minigrad."""
    rng = np.random.default_rng(seed)
    ops = [lambda x, y: x + y, lambda x, y: x * y, lambda x, y: (x * y).tanh(),
           lambda x, y: x.exp() * 0.1 + y, lambda x, y: (x * x + 1.0).log() + y,
           lambda x, y: x.relu() + y ** 2]
    program = [(int(rng.integers(len(ops))), int(rng.integers(0, 3 + i)), int(rng.integers(0, 3 + i)))
               for i in range(8)]

    def fn(*xs):
        nodes = list(xs)
        for op, i, j in program:
            nodes.append(ops[op](nodes[i], nodes[j]))
        return nodes[-1] + nodes[-2] * nodes[-3] + (xs[0] + xs[1] * xs[2]).tanh()

    values = rng.uniform(-1.5, 1.5, 3).tolist()
    backward_and_compare(tt, f"random graph #{seed} (8 ops, values reused)", fn, values, ["a", "b", "c"],
                         "check that backward() visits nodes in reverse topological order and that every "
                         "_backward adds with +=")


def test_long_chain(tt):
    """A 10,000-node chain: a recursive topological sort overflows Python's stack here."""
    n = 10_000
    x, ref = tt.Value(0.5), mg.tensor(0.5, dtype=mg.float64, requires_grad=True)

    def chain(v):
        for _ in range(n // 2):
            v = (v * 1.0001).tanh()
        return v

    out = call(f"a chain of {n} ops: forward", chain, x)
    call(f"a chain of {n} ops: out.backward()", out.backward, inputs={"x": 0.5},
         hint="write topological_order with an explicit stack (a list) instead of recursion")
    chain(ref).backward()
    check_close(f"a chain of {n} ops: x.grad", x.grad, ref.grad.item(), inputs={"x": 0.5}, check_dtype=False,
                rtol=1e-9, hint="every node must run its _backward exactly once, after all its users")
