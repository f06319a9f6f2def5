# %% [markdown]
# # Lesson 1: a scalar `Value` and its graph
#
# Every autograd engine, minigrad included, rests on one idea: while you compute, **record
# what you computed from what**. The record is a graph; walking it backwards with the chain
# rule gives every derivative at once.
#
# In this lesson you build that idea from scratch in about 60 lines, in the style of
# Andrej Karpathy's micrograd: a `Value` holding one number, its gradient, and a closure
# that knows how to pass the gradient on to its inputs. Then you draw its graph, backprop
# through it by hand, meet the most common bug in hand-written backward passes, and check
# everything against minigrad.

# %%
import math

import numpy as np
from course import SMOKE, check, check_function, result

import minigrad as mg
from minigrad import viz

print("smoke mode:", SMOKE)

# %% [markdown]
# ## The `Value` class
#
# A `Value` stores:
# - `data`: the number;
# - `grad`: $\partial L / \partial \text{this value}$, filled in by `backward()`, starting at 0;
# - `_prev`: the values it was computed from, **in order and with repeats** (`a + a` lists
#   `a` twice: two edges);
# - `_backward`: a closure that, given `out.grad`, adds each input's share into its `grad`.
#
# For $c = a + b$ the local derivatives are $\partial c/\partial a = \partial c/\partial b = 1$;
# for $c = a b$ they are $b$ and $a$. The chain rule multiplies them by `out.grad`:
#
# $$\frac{\partial L}{\partial a} \mathrel{+}= \frac{\partial L}{\partial c}
# \frac{\partial c}{\partial a}.$$
#
# Why `+=`? Because $a$ may feed several places, and $\partial L / \partial a$ is the
# **sum** over all of them (the multivariable chain rule).

# %%
class Value:
    """One number in a computation, with its gradient and how it was made."""

    def __init__(self, data, children=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(children)
        self._op = op
        self.label = label

    def __repr__(self):
        return f"Value({self.label or '?'}: data={self.data:.4f}, grad={self.grad:.4f})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__


# %% [markdown]
# Two nonlinear functions. With $t = \tanh x$, $\frac{dt}{dx} = 1 - t^2$; with
# $e = \exp x$, $\frac{de}{dx} = e$. Both derivatives reuse the *output*, which is why
# engines keep outputs around for the backward pass. We attach them to the class after the
# fact, which Python allows.

# %%
def tanh(self):
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


Value.tanh = tanh
Value.exp = exp

# %% [markdown]
# ## `backward()`: the closures in topological order
#
# A node may only pass its gradient on once it has received **all** of it, i.e. after every
# value computed from it has run its `_backward`. Sorting the nodes topologically (inputs
# before outputs) and walking the list in reverse guarantees exactly that. This recursive
# sort is micrograd's; lesson 2 shows why minigrad uses an explicit stack instead.

# %%
def backward(self):
    topo, visited = [], set()

    def build(v):
        if id(v) not in visited:
            visited.add(id(v))
            for child in v._prev:
                build(child)
            topo.append(v)

    build(self)
    self.grad = 1.0
    for v in reversed(topo):
        v._backward()


Value.backward = backward

# %% [markdown]
# ## A neuron, and a picture of its graph
#
# The classic example: a neuron with two inputs, $o = \tanh(x_1 w_1 + x_2 w_2 + b)$. The
# bias is chosen so that $n = 0.8814$ and $o = \tanh n = 1/\sqrt 2$ : then $1 - o^2 = 1/2$
# and all the hand arithmetic below stays simple.

# %%
def neuron(cls=Value):
    x1, x2 = cls(2.0, label="x1"), cls(0.0, label="x2")
    w1, w2 = cls(-3.0, label="w1"), cls(1.0, label="w2")
    b = cls(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1w1+x2w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, s=s, n=n, o=o)


v = neuron()
print(v["o"])

# %% [markdown]
# To see the graph we write a tiny drawer: it walks `_prev` and emits Graphviz's DOT
# language, one record box per value (label | data | grad) and one ellipse per operation,
# one arrow per use. `viz.Graph` renders DOT text as SVG in the notebook.

# %%
def draw_value(root):
    """DOT picture of a Value graph: boxes for values, ellipses for ops, one edge per use."""
    order, ids, stack = [], {}, [root]
    while stack:
        node = stack.pop()
        if id(node) in ids:
            continue
        ids[id(node)] = f"v{len(ids)}"
        order.append(node)
        stack.extend(node._prev)
    lines = ["digraph { rankdir=LR; node [fontname=Helvetica, fontsize=10];"]
    for node in order:
        name = ids[id(node)]
        lines.append(f'  {name} [shape=record, label="{{ {node.label or "const"} | '
                     f'data {node.data:.4f} | grad {node.grad:.4f} }}"];')
        if node._op:
            lines.append(f'  {name}_op [label="{node._op}"]; {name}_op -> {name};')
            lines += [f"  {ids[id(child)]} -> {name}_op;" for child in node._prev]
    lines.append("}")
    return viz.Graph("\n".join(lines))


draw_value(v["o"])

# %% [markdown]
# ## Backprop by hand, one step at a time
#
# Walk from the output back to the leaves; at each step multiply the incoming gradient by
# the local derivative:
#
# | step | value | rule | gradient |
# |---|---|---|---|
# | 1 | $o$ | $\partial o/\partial o = 1$ | $1$ |
# | 2 | $n$ | $1 - o^2$ | $0.5$ |
# | 3 | $b$, $s$ | $+$ copies the gradient | $0.5$, $0.5$ |
# | 4 | $x_1w_1$, $x_2w_2$ | $+$ copies | $0.5$, $0.5$ |
# | 5 | $w_1$ | $\times$ swaps: $x_1 \cdot 0.5$ | $1$ |
# | 6 | $x_2$, $w_2$ | $w_2 \cdot 0.5$, $x_2 \cdot 0.5$ | $0.5$, $0$ |

# %%
h = neuron()
h["o"].grad = 1.0
h["n"].grad = (1 - h["o"].data ** 2) * h["o"].grad
h["b"].grad = h["n"].grad
h["s"].grad = h["n"].grad
h["x1w1"].grad = h["s"].grad
h["x2w2"].grad = h["s"].grad
h["w1"].grad = h["x1"].data * h["x1w1"].grad
h["x2"].grad = h["w2"].data * h["x2w2"].grad
h["w2"].grad = h["x2"].data * h["x2w2"].grad

# %% [markdown]
# ### Exercise 1 (derive): the last hand step
#
# One gradient is missing from the table: $\partial o / \partial x_1$. Work it out the way
# the table does (which node does $x_1$ feed, what gradient reached that node, what is the
# local derivative?) and write it as `dx1 = ...`, an expression of the values in `h`. The
# check compares it with the exact derivative of the neuron computed without any graph.

# %% tags=["exercise"] exercise_id="01-do-dx1-by-hand"
dx1 = ...

check("01-do-dx1-by-hand", dx1)

# %%
h["x1"].grad = result("01-do-dx1-by-hand", dx1)
draw_value(h["o"])

# %% [markdown]
# ## Now let `backward()` do it
#
# A fresh neuron, one call. The closures run in reverse topological order and reproduce
# every number of the table.

# %%
v = neuron()
v["o"].backward()
for name in ("o", "n", "b", "s", "x1", "w1", "x2", "w2"):
    print(f"{name:>3}: by hand {h[name].grad:+.6f}   backward() {v[name].grad:+.6f}")

# %% [markdown]
# ## `a + a`: two edges, gradient 2
#
# If $c = a + a$ then $dc/da = 2$. In the graph, `a` feeds the `+` **twice**: two edges,
# each carrying a share of 1, and the shares add. (micrograd stores `_prev` as a *set*,
# which draws one edge; the gradient is still right because the closure runs
# `self.grad += ...` and `other.grad += ...` on the same object.)

# %%
a = Value(3.0, label="a")
c = a + a
c.label = "c"
c.backward()
print(a)
draw_value(c)

# %% [markdown]
# ## The classic bug: `=` instead of `+=`
#
# Write the backward of `+` and `*` with `=` and the code looks right, runs, and is wrong
# whenever a value is used more than once: the second share *overwrites* the first instead
# of adding to it.

# %%
class BuggyValue(Value):
    """A Value whose + and * overwrite gradients instead of accumulating them."""

    def __add__(self, other):
        other = other if isinstance(other, Value) else BuggyValue(other)
        out = BuggyValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad    # BUG: should be +=
            other.grad = out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else BuggyValue(other)
        out = BuggyValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = other.data * out.grad    # BUG: should be +=
            other.grad = self.data * out.grad

        out._backward = _backward
        return out


# %% [markdown]
# ### Exercise 2 (predict): what does the buggy class say?
#
# Before running the next cell, trace `backward()` by hand for $f = ab + a$ with the buggy
# class, $a = 3$, $b = -2$. In which order do the closures run, and which share of
# $\partial f/\partial a$ is written last? Write the number `a.grad` will hold.

# %% tags=["exercise"] exercise_id="01-predict-buggy-grad"
buggy_prediction = ...

check("01-predict-buggy-grad", buggy_prediction, a=3.0, b=-2.0)

# %%
a = BuggyValue(3.0, label="a")
(a + a).backward()
print("buggy  d(a+a)/da =", a.grad, "(should be 2)")
a, b = BuggyValue(3.0, label="a"), BuggyValue(-2.0, label="b")
(a * b + a).backward()
print("buggy  d(ab+a)/da =", a.grad, "(should be b + 1 =", b.data + 1, ")")

# %% [markdown]
# Note that the buggy neuron above would pass: every value there is used once. Bugs like
# this only show on graphs with sharing, which is why gradient checks should use
# expressions that reuse values.
#
# ### Exercise 3 (spot the bug): powers
#
# Here is `x ** n` for a constant exponent $n$, with $\frac{d}{dx} x^n = n x^{n-1}$. The
# cell tests it on $p(x) = x^2 + x^3$ at a few points, and the gradients come out wrong.
# Find the one mistake and fix it.

# %% tags=["exercise"] exercise_id="01-pow-bug"
def power(self, n):
    out = Value(self.data**n, (self,), f"**{n}")

    def _backward():
        self.grad = n * self.data ** (n - 1) * out.grad

    out._backward = _backward
    return out


Value.__pow__ = power
xs = [-2.0, 0.5, 1.5]
pow_grads = []
for x0 in xs:
    x = Value(x0)
    (x**2 + x**3).backward()
    pow_grads.append(x.grad)
check("01-pow-bug", pow_grads, xs=xs)

# %% [markdown]
# ### Exercise 4 (implement): ReLU
#
# $\mathrm{relu}(x) = \max(0, x)$ has derivative $1$ for $x > 0$ and $0$ for $x < 0$.
# Write the body of `_backward` (replace the `...`). `relu_gradient(x)` below differentiates
# $3\,\mathrm{relu}(x) + \mathrm{relu}(x)$, which uses `x` twice; the check runs it on random
# $x$ against the exact derivative.

# %%
def relu_gradient(x0):
    """d/dx of 3 relu(x) + relu(x) at x0, by Value's backward()."""
    x = Value(x0)
    (x.relu() * 3.0 + x.relu()).backward()
    return x.grad


# %% tags=["exercise"] exercise_id="01-relu-backward"
def relu(self):
    out = Value(max(0.0, self.data), (self,), "relu")

    def _backward():
        ...

    out._backward = _backward
    return out


Value.relu = relu
check_function("01-relu-backward", relu_gradient)

# %%
relu_gradient = result("01-relu-backward", relu_gradient)
grads = [relu_gradient(x0) for x0 in (-1.5, 2.0)]
print("d/dx (3 relu(x) + relu(x)) at -1.5 and 2:", grads)

# %% [markdown]
# ## The same neuron in minigrad
#
# minigrad records the same graph, only with tensors (here 0-dimensional, float64). We call
# `viz.trace_grads(o)` before `backward()` so that intermediate tensors keep their gradients
# for the picture (normally backward throws them away), and label the tensors so the boxes
# carry the same names.

# %%
t = {name: mg.tensor(v[name].data, dtype=mg.float64, requires_grad=True)
     for name in ("x1", "x2", "w1", "w2", "b")}
for name, tensor in t.items():
    tensor.label = name
t["n"] = t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]
t["o"] = t["n"].tanh()
t["n"].label, t["o"].label = "n", "o"
viz.trace_grads(t["o"])
t["o"].backward()
viz.draw(t["o"])

# %% [markdown]
# Each box shows the value and, after `backward()`, the gradient, exactly the numbers our
# `Value` computed:

# %%
for name in ("x1", "w1", "x2", "w2", "b", "n"):
    print(f"{name:>3}: Value {v[name].grad:+.10f}   minigrad {t[name].grad.item():+.10f}")

# %% [markdown]
# And `a + a` in minigrad: in the gradient view (arrows point backward) each arrow is
# labelled with the share it carried; two arrows of 1 make the gradient 2. The labels need
# the graph and the gradients kept: `viz.trace_grads` before, `retain_graph=True` in
# `backward`.

# %%
am = mg.tensor(3.0, dtype=mg.float64, requires_grad=True)
am.label = "a"
cm = am + am
cm.label = "c"
viz.trace_grads(cm)
cm.backward(retain_graph=True)
print("minigrad d(a+a)/da =", am.grad.item())
viz.draw(cm, view="gradient")

# %% [markdown]
# ## What to remember
#
# - An autograd value remembers its inputs and a closure for its local derivative.
# - `backward()` runs the closures in reverse topological order, starting from grad 1.
# - Gradients **accumulate** (`+=`): a value used $k$ times receives $k$ shares.
# - Writing `=` instead of `+=` is silent on graphs without sharing: test with reuse.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/01_a_scalar_value_and_its_graph.py`.
#
# 1. Why does `Value` keep its inputs in `_prev` in order and with repeats?
# 2. Why must `backward()` visit the nodes in reverse topological order?
# 3. Why do the backward closures use `+=` rather than `=`?
# 4. Why did the buggy class give the right gradients for the neuron but not for $ab + a$?
# 5. Why do the backward closures of `tanh` and `exp` use the output of the forward pass?
# 6. What does `viz.trace_grads` do, and why is it needed before drawing gradients of intermediate tensors?
#
# ## Checks

# %%
# the neuron: closed forms (1 - o^2 = 1/2 by the choice of b)
assert abs(v["o"].data - 1 / math.sqrt(2)) < 1e-12
assert abs(v["n"].grad - 0.5) < 1e-12
expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
for name, value in expected.items():
    assert abs(v[name].grad - value) < 1e-12, (name, v[name].grad)
    assert abs(t[name].grad.item() - value) < 1e-12, (name, t[name].grad.item())
    assert abs(h[name].grad - value) < 1e-12, (name, h[name].grad)
# sharing: a + a and a*b + a, correct vs buggy
a = Value(3.0)
(a + a).backward()
assert a.grad == 2.0 and am.grad.item() == 2.0
a, b = Value(3.0), Value(-2.0)
(a * b + a).backward()
assert a.grad == b.data + 1
ab, bb = BuggyValue(3.0), BuggyValue(-2.0)
(ab * bb + ab).backward()
assert ab.grad != bb.data + 1
# exp: d/dx exp(2x) = 2 exp(2x), against minigrad too
x = Value(0.3)
(x * 2.0).exp().backward()
xm = mg.tensor(0.3, dtype=mg.float64, requires_grad=True)
(xm * 2.0).exp().backward()
assert abs(x.grad - 2 * math.exp(0.6)) < 1e-12 and abs(xm.grad.item() - 2 * math.exp(0.6)) < 1e-12
assert np.allclose(grads, [0.0, 4.0])
print("all checks passed")
