# %% [markdown]
# # Lesson 2: backprop is the chain rule in topological order
#
# In lesson 1 every `Value` carried its own closure. minigrad does the same with tensors,
# and its engine is only a few dozen lines. This lesson opens it:
#
# - the graph minigrad records (`grad_fn`, `next_functions`) and the order it walks it in
#   (`minigrad.autograd.engine.topological_order`);
# - a re-implementation of `backward()` in 15 lines, checked against the real one;
# - gradient **accumulation**, and what happens in a training loop that forgets `zero_grad`;
# - the backward pass frame by frame (`viz.backward_frames`);
# - `retain_grad` and hooks;
# - a 10,000-op chain, which a recursive engine could not handle;
# - `create_graph=True`: differentiating the gradient itself.

# %%
import math
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
from minigrad import viz
from minigrad.autograd.engine import node_step, topological_order

print("smoke mode:", SMOKE)

# %% [markdown]
# ## The chain rule, and why order matters
#
# If $L$ depends on $x$ through intermediate values $u_1, \dots, u_k$, the multivariable
# chain rule sums over every path:
#
# $$\frac{\partial L}{\partial x} = \sum_{i} \frac{\partial L}{\partial u_i}
# \frac{\partial u_i}{\partial x}.$$
#
# Reverse mode computes $\partial L / \partial u$ for every node $u$, from the output back.
# A node can pass its gradient on only once the gradient is **complete**, i.e. every
# consumer of $u$ has already contributed its term. Visiting nodes in reverse topological
# order (each node before the nodes that produced its inputs) guarantees that.
#
# Our running example: $L = \tanh(a b + a)$ with $a = 0.5$, $b = -1.5$. Closed forms:
# $\partial L/\partial a = (1 - L^2)(b + 1)$ and $\partial L/\partial b = (1 - L^2)\, a$.

# %%
a = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
b = mg.tensor(-1.5, dtype=mg.float64, requires_grad=True)
a.label, b.label = "a", "b"
L = (a * b + a).tanh()
L.label = "L"
print("L =", L)
print("L.grad_fn =", L.grad_fn, "   a.grad_fn =", a.grad_fn, "(a leaf)")

# %% [markdown]
# ## The recorded graph: `grad_fn` and `next_functions`
#
# Each non-leaf tensor points at the node that made it (`grad_fn`). A node knows its
# `inputs` (tensors, in order, repeats included) and, PyTorch-style, `next_functions`: the
# `grad_fn` of each input (`None` for a leaf). Following `next_functions` from `L` visits
# the whole graph. The leaf `a` appears twice (under `Mul` and under `Add`): two paths, two
# terms of the sum. Last line: the engine's order, each node before the ones that made its
# inputs.

# %%
def show(node, depth=0):
    print("    " * depth + repr(node))
    if node is not None:
        for child, _ in node.next_functions:
            show(child, depth + 1)


show(L.grad_fn)
order = topological_order([L.grad_fn])
print(" -> ".join(node.name for node in order))

# %% [markdown]
# ## backward() in 15 lines
#
# Walk `order`; for each node take its complete output gradient and run the engine's own
# per-node step, `node_step(node, grad)`: it runs the hooks on the node's output, calls the
# op's backward with what the op saved (`node.ctx`), and fits each input's share to that
# input's shape (`unbroadcast`, lesson 3) and dtype. Then send each share on: add it to the
# gradient of the node that made the input, or to the leaf's total. We run it under
# `no_grad` because we do not want to record the backward pass itself.

# %%
def my_backward(loss):
    node_grads = {id(loss.grad_fn): mg.ones_like(loss)}
    leaf_grads = {}
    with mg.no_grad():
        for node in topological_order([loss.grad_fn]):
            grad = node_grads.pop(id(node), None)
            if grad is None:
                continue
            _, shares = node_step(node, grad)
            for inp, share in zip(node.inputs, shares):
                if share is None:
                    continue
                key, table = (id(inp), leaf_grads) if inp.grad_fn is None else (id(inp.grad_fn), node_grads)
                table[key] = share if key not in table else table[key] + share
    return leaf_grads


mine = my_backward(L)
print("my_backward: dL/da =", mine[id(a)].item(), " dL/db =", mine[id(b)].item())
L.backward()   # our walk freed nothing, so the real backward still works on the same graph
print("L.backward(): a.grad =", a.grad.item(), " b.grad =", b.grad.item())
print("closed form : dL/da =", (1 - L.item() ** 2) * (b.item() + 1), " dL/db =", (1 - L.item() ** 2) * a.item())

# %% [markdown]
# ## Gradients accumulate
#
# Leaves **add** what reaches them into `.grad`. That is what makes `a + a` work, and it
# is also a trap: call `backward()` again and the new gradient is added to the old one.

# %%
x = mg.tensor(1.5, dtype=mg.float64, requires_grad=True)
for k in range(1, 4):
    (x**2).backward()
    print(f"after backward #{k}: x.grad = {x.grad.item()}   (d/dx x^2 = {2 * x.item()})")
x.grad = None   # what zero_grad(set_to_none=True) does

# %% [markdown]
# ### Exercise 1 (predict): the pile-up
#
# $y = \sin x$ at $x = 0.3$; the cell after this one calls `backward()` five times without
# clearing `.grad`. Before running it, write the value `xs.grad` will hold (a number; `math`
# is imported).

# %% tags=["exercise"] exercise_id="02-predict-pile-up"
predicted = ...

check("02-predict-pile-up", predicted, x=0.3, calls=5)

# %%
xs = mg.tensor(0.3, dtype=mg.float64, requires_grad=True)
for _ in range(5):
    xs.sin().backward()
print("xs.grad after 5 backward calls:", xs.grad.item())

# %% [markdown]
# ### Exercise 2 (spot the bug): a loop that will not settle
#
# `fit_w` minimises $(w - 3)^2$ by gradient descent from $w = 0$; with $\mathrm{lr} = 0.1$
# each step should remove 20% of the distance to 3. It has one real bug. Find it and fix
# it; the check runs your `fit_w` for random step counts and learning rates against
# textbook gradient descent.

# %% tags=["exercise"] exercise_id="02-missing-zero-grad"
def fit_w(steps, lr=0.1):
    w = mg.tensor(0.0, dtype=mg.float64, requires_grad=True)
    opt = mg.optim.SGD([w], lr=lr)
    for _ in range(steps):
        loss = (w - 3) ** 2
        loss.backward()
        opt.step()
    return w.item()


check_function("02-missing-zero-grad", fit_w)

# %% [markdown]
# ### Forgetting `zero_grad` in a training loop
#
# Minimise $(w - 3)^2$ by gradient descent, once with `opt.zero_grad()` every step and
# once without. Without it, step $t$ uses the **sum** of all past gradients: a heavy,
# undamped momentum that overshoots and oscillates instead of settling.

# %%
def train(zero_grad, steps, lr=0.1):
    w = mg.tensor(0.0, dtype=mg.float64, requires_grad=True)
    opt = mg.optim.SGD([w], lr=lr)
    history = []
    for _ in range(steps):
        if zero_grad:
            opt.zero_grad()
        loss = (w - 3) ** 2
        loss.backward()
        opt.step()
        history.append(w.item())
    return history


steps = pick(60, 40)
good, bad = train(True, steps), train(False, steps)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(good, label="with zero_grad()")
ax.plot(bad, label="without zero_grad()")
ax.axhline(3, color="grey", ls=":", label="minimum w = 3")
ax.set_xlabel("step")
ax.set_ylabel("w")
ax.legend()
ax.set_title("Gradient descent on (w - 3)^2")
plt.show()

# %% [markdown]
# With `zero_grad` each step removes 20% of the distance to 3 ($w_{t+1} - 3 = 0.8\,(w_t - 3)$).
# Without it, $w$ swings far past 3 and keeps swinging. In PyTorch and minigrad alike,
# clearing gradients is your job, because accumulating on purpose is useful (e.g. summing
# gradients over several small batches).
#
# ## The backward pass, frame by frame
#
# `viz.backward_frames(loss)` replays the engine's walk, one picture per node: the op
# running its backward is highlighted, each arrow shows the share it sent, and each box the
# gradient accumulated so far. Call it **before** `backward()` (it needs the saved values).

# %%
a2 = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
b2 = mg.tensor(-1.5, dtype=mg.float64, requires_grad=True)
a2.label, b2.label = "a", "b"
L2 = (a2 * b2 + a2).tanh()
L2.label = "L"
frames = viz.backward_frames(L2)
print(frames)


def frame(k):
    """Frame k as a picture (every frame is laid out once and drawn with neato -n2)."""
    print(frames.captions[k])
    return viz.Graph(frames.sources[k], engine="neato", engine_args=("-n2",))


# %%
frame(0)

# %% [markdown]
# Step 1: `Tanh` received 1 (the seed $\partial L/\partial L$) and sends $1 - L^2$ to the sum.

# %%
frame(1)

# %% [markdown]
# Step 2: `Add` copies its gradient to both inputs. `a` has its first share; it is not
# complete yet, because `a` also feeds `Mul`.

# %%
frame(2)

# %% [markdown]
# Step 3: `Mul` sends $b \cdot g$ to `a` (added to its first share) and $a \cdot g$ to `b`.
# Now both leaves are complete. The same frames as a slider:

# %%
frames  # noqa: B018  (a bare last line makes Jupyter show the slider)

# %% [markdown]
# ## Looking inside: `retain_grad` and hooks
#
# After `backward()` only leaves keep `.grad`; intermediate gradients are thrown away to
# save memory. `t.retain_grad()` keeps one. `t.register_hook(fn)` calls `fn(grad)` when the
# gradient of `t` is computed; if `fn` returns a tensor, it **replaces** the gradient that
# flows on. `handle.remove()` takes the hook off.

# %%
x = mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, requires_grad=True)
h = x * 2
y = (h**2).sum()
y.backward()
print("without retain_grad: h.grad =", h.grad)

x.grad = None
h = x * 2
h.retain_grad()
seen = []
handle = h.register_hook(lambda g: seen.append(g.numpy().copy()))
(h**2).sum().backward()
print("with retain_grad:    h.grad =", h.grad, " (dy/dh = 2h =", 2 * h.detach().numpy(), ")")
print("the hook saw:", seen[0], "  x.grad =", x.grad)
handle.remove()

# %% [markdown]
# A hook that returns a tensor changes what flows further back. The next cell clips the
# gradient reaching `h` to $[-1, 1]$ with a hook.
#
# ### Exercise 3 (predict): through a clipping hook
#
# With $x = (1, -2, 3)$, $h = 2x$ and $y = \sum h^2$, what will `x.grad` be once the hook
# has clipped $\partial y/\partial h$ to $[-1, 1]$? Write it as a list of three numbers
# before running the next cell.

# %% tags=["exercise"] exercise_id="02-predict-clipping-hook"
clipped_prediction = ...

check("02-predict-clipping-hook", clipped_prediction, x=[1.0, -2.0, 3.0], low=-1.0, high=1.0)

# %%
x.grad = None
h = x * 2
h.register_hook(lambda g: g.clamp(-1.0, 1.0))
(h**2).sum().backward()
print("x.grad with a clipping hook on h:", x.grad)

# %% [markdown]
# ## A 10,000-op chain
#
# lesson 1's `backward()` sorted the graph recursively, one Python call per node. Python
# stops at about a thousand nested calls, so a deep graph (a long RNN unroll, a long loop)
# would crash it. minigrad's `topological_order` uses an explicit stack instead.
#
# The chain: $y_0 = x$, $y_{i+1} = \sin y_i$, 10,000 times. Its derivative, computed
# alongside in plain Python (forward mode, no graph), is
# $\frac{dy_n}{dx} = \prod_{i=0}^{n-1} \cos y_i$.

# %%
n_ops = 10_000
x = mg.tensor(0.4, dtype=mg.float64, requires_grad=True)
start = time.perf_counter()
y = x
for _ in range(n_ops):
    y = y.sin()
forward_s = time.perf_counter() - start
start = time.perf_counter()
y.backward()
backward_s = time.perf_counter() - start
print(f"{n_ops} ops: forward {forward_s * 1e3:.0f} ms, backward {backward_s * 1e3:.0f} ms "
      f"({backward_s / n_ops * 1e6:.1f} us per op)")

value, derivative = 0.4, 1.0
for _ in range(n_ops):
    derivative *= math.cos(value)
    value = math.sin(value)
chain_grad = x.grad.item()
print("minigrad dy/dx =", chain_grad, "   forward mode in plain Python:", derivative)

# %% [markdown]
# The recursive sort of lesson 1, run on the same graph through `next_functions`, fails:

# %%
def recursive_order(node, visited, out):
    if node is not None and id(node) not in visited:
        visited.add(id(node))
        for child, _ in node.next_functions:
            recursive_order(child, visited, out)
        out.append(node)


try:
    recursive_order(y.grad_fn, set(), [])
    recursion_failed = False
except RecursionError as error:
    recursion_failed = True
    print(f"RecursionError: {error} (Python's limit: {sys.getrecursionlimit()} nested calls)")
print("minigrad's iterative order has", len(topological_order([y.grad_fn])), "nodes")

# %% [markdown]
# ## Differentiating the gradient: `create_graph=True`
#
# Every op's backward is written with tensor ops. With `create_graph=True` the engine
# records them too, so `x.grad` is itself the output of a graph and can be differentiated.
# For $f(x) = x^3 \sin x$:
#
# $$f'(x) = 3x^2 \sin x + x^3 \cos x, \qquad
# f''(x) = 6x \sin x + 6x^2 \cos x - x^3 \sin x.$$

# %%
x = mg.tensor(0.7, dtype=mg.float64, requires_grad=True)
x.label = "x"
f = x**3 * x.sin()
f.backward(create_graph=True)
first = x.grad
first.label = "df/dx"
print("f'(x) =", first.item(), "  closed form:", 3 * 0.7**2 * math.sin(0.7) + 0.7**3 * math.cos(0.7))
(second,) = mg.grad(first, x)
print("f''(x) =", second.item(), " closed form:",
      6 * 0.7 * math.sin(0.7) + 6 * 0.7**2 * math.cos(0.7) - 0.7**3 * math.sin(0.7))

# %% [markdown]
# The graph of the gradient itself: the backward pass of `Mul`, `PowScalar` and `Sin`,
# recorded as ordinary ops.

# %%
viz.draw(first)

# %% [markdown]
# ### Exercise 4 (implement): any second derivative
#
# Write `second_derivative(fn, x0)`: the second derivative at the float `x0` of a function
# `fn` that maps a 0-d tensor to a 0-d tensor (such as `lambda t: t.tanh()`), computed by
# differentiating minigrad's gradient as above. Return a float. The check tries it on a few
# functions and points against their closed forms.

# %% tags=["exercise"] exercise_id="02-second-derivative"
def second_derivative(fn, x0):
    """d^2 fn/dx^2 at x0, by differentiating the gradient (create_graph=True)."""
    raise NotImplementedError("your code here")


check_function("02-second-derivative", second_derivative)

# %%
second_derivative = result("02-second-derivative", second_derivative)
t = math.tanh(0.8)
second_t = second_derivative(lambda v: v.tanh(), 0.8)
print(f"tanh''(0.8) = {second_t:.12f},  closed form -2t(1 - t^2) = {-2 * t * (1 - t**2):.12f}")

# %% [markdown]
# ## What to remember
#
# - The engine visits nodes in reverse topological order so each gradient is complete
#   before it is passed on; shares from several paths add up.
# - Leaves accumulate into `.grad`: clear it every step (`opt.zero_grad()`).
# - `retain_grad()` keeps an intermediate gradient; hooks see or replace gradients.
# - An explicit stack, not recursion, lets minigrad backprop through any depth.
# - `create_graph=True` makes the gradient differentiable: second derivatives for free.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/02_backprop_is_the_chain_rule.py`.
#
# 1. What is the difference between `grad_fn` and `next_functions`?
# 2. Why does the engine wait until a node's gradient is complete before calling its backward?
# 3. What goes wrong in a training loop without `zero_grad`, and when is accumulating gradients on purpose useful?
# 4. What is the difference between `retain_grad()` and `register_hook`, and what happens when a hook returns a tensor?
# 5. Why does minigrad sort the graph with an explicit stack rather than recursion?
# 6. What does `create_graph=True` record, and what is it for?
#
# ## Checks

# %%
s = 1 - L.item() ** 2
assert abs(a.grad.item() - s * (b.item() + 1)) < 1e-12 and abs(b.grad.item() - s * a.item()) < 1e-12
assert abs(mine[id(a)].item() - a.grad.item()) < 1e-15 and abs(mine[id(b)].item() - b.grad.item()) < 1e-15
assert [node.name for node in order] == ["Tanh", "Add", "Mul"]
assert abs(xs.grad.item() - 5 * math.cos(0.3)) < 1e-12
assert abs(good[-1] - 3) < 1e-3 and abs(good[-1] - 3) == min(abs(w - 3) for w in good)
assert np.isclose((good[1] - 3) / (good[0] - 3), 0.8)   # each step removes 20% of the distance
assert max(bad) > 4 and max(abs(w - 3) for w in bad[-15:]) > 2   # still swinging a full period later
assert len(frames) == 3
assert np.allclose(seen[0], 4 * np.array([1.0, -2.0, 3.0]))
assert recursion_failed
y_check = mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, requires_grad=True)
hh = y_check * 2
hh.register_hook(lambda g: g.clamp(-1.0, 1.0))
(hh**2).sum().backward()
assert np.allclose(y_check.grad.numpy(), [2.0, -2.0, 2.0])
assert abs(chain_grad - derivative) <= 1e-9 * abs(derivative)
assert abs(second.item() - (6 * 0.7 * math.sin(0.7) + 6 * 0.49 * math.cos(0.7) - 0.343 * math.sin(0.7))) < 1e-12
assert abs(second_t + 2 * t * (1 - t**2)) < 1e-12
print("all checks passed")
