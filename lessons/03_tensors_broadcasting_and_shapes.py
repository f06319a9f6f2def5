# %% [markdown]
# # Lesson 3: tensors, broadcasting and shapes
#
# Lessons 1 and 2 worked with single numbers. Real models work with arrays: a batch of
# inputs times a weight matrix, plus a bias vector. Two new questions appear:
#
# 1. **Broadcasting**: `X + b` with `X` of shape (N, D) and `b` of shape (D,) adds `b` to
#    every row. What is the gradient of `b`? (A sum, and we will see why.)
# 2. **Matrix products**: for $C = AB$, what are $\partial L/\partial A$ and
#    $\partial L/\partial B$? (Two more matrix products, derived below.)
#
# We also meet the shape errors everyone runs into, and minigrad's messages for them.

# %%
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check_function, pick, result

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import viz
from minigrad.autograd.engine import unbroadcast

print("smoke mode:", SMOKE)
rng = np.random.default_rng(0)

# %% [markdown]
# ## Broadcasting rules (numpy's, PyTorch's, minigrad's)
#
# To combine two arrays elementwise, align their shapes **from the right**. Each pair of
# dimensions must be equal, or one of them must be 1 (it is stretched), or missing (it is
# added in front, as size 1). The result takes the larger size in each position:
#
# | a | b | a + b |
# |---|---|---|
# | (3, 4) | (4,) | (3, 4) |
# | (3, 1) | (1, 4) | (3, 4) |
# | (2, 3, 4) | (3, 1) | (2, 3, 4) |
# | (3, 4) | (3,) | error: 4 vs 3 |
#
# Stretching copies nothing: numpy reads the same element again (stride 0).

# %%
for sa, sb in [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((3, 4), (3,))]:
    try:
        print(f"{sa} + {sb} -> {np.broadcast_shapes(sa, sb)}")
    except ValueError as error:
        print(f"{sa} + {sb} -> error: {error}")

# %% [markdown]
# ### Exercise 1 (implement): the broadcasting rule in code
#
# Write the body of `broadcast_shape(sa, sb)`: the shape of `a + b` for arrays of shapes
# `sa` and `sb` (tuples), following the rule above; raise `ValueError` on a clash. The check
# compares your function with `np.broadcast_shapes` on random pairs of shapes.

# %% tags=["exercise"] exercise_id="03-broadcast-shape"
def broadcast_shape(sa, sb):
    """The broadcast shape of two shapes, as a tuple."""
    raise NotImplementedError("your code here")


check_function("03-broadcast-shape", broadcast_shape)

# %% [markdown]
# ## Why the gradient of a broadcast input is a sum
#
# Let $Y = X + b$ with $X \in \mathbb{R}^{N \times D}$ and $b \in \mathbb{R}^D$, so
# $Y_{ij} = X_{ij} + b_j$. Each $b_j$ is used in $N$ places, once per row. By the chain
# rule the shares add:
#
# $$\frac{\partial L}{\partial b_j} = \sum_{i=1}^{N} \frac{\partial L}{\partial Y_{ij}}
# \frac{\partial Y_{ij}}{\partial b_j} = \sum_{i=1}^{N} G_{ij},
# \qquad G = \frac{\partial L}{\partial Y}.$$
#
# It is lesson 1's `a + a` again, $N$ times. To make $G$ visible we use
# $L = \sum_{ij} G_{ij} Y_{ij}$ for a fixed random $G$: then $\partial L/\partial Y = G$
# exactly.

# %%
N, D = 5, 4
X = mg.tensor(rng.standard_normal((N, D)), requires_grad=True)
bias = mg.tensor(rng.standard_normal(D), requires_grad=True)
G = rng.standard_normal((N, D))
Y = X + bias
(Y * mg.tensor(G)).sum().backward()
print("bias.grad      :", bias.grad.numpy())
print("G summed over N:", G.sum(axis=0))
print("X.grad equals G:", np.allclose(X.grad.numpy(), G))

# %% [markdown]
# The engine does this once for every op: an op's backward returns a gradient of the
# *output's* shape, and `minigrad.autograd.engine.unbroadcast` sums it over the axes that
# broadcasting added (in front) or stretched (size 1), to get back the input's shape.

# %%
Gt = mg.tensor(G)
print("to (4,)  :", unbroadcast(Gt, (4,)).numpy())
print("to (1, 4):", unbroadcast(Gt, (1, 4)).numpy())
print("to (5, 1):", unbroadcast(Gt, (5, 1)).numpy().ravel())

fig, axes = plt.subplots(1, 3, figsize=(10, 3), gridspec_kw={"width_ratios": [4, 4, 1]})
axes[0].imshow(np.broadcast_to(bias.detach().numpy(), (N, D)), cmap="coolwarm")
axes[0].set_title("b broadcast to (5, 4):\nthe same row 5 times")
axes[1].imshow(G, cmap="coolwarm")
axes[1].set_title("G = dL/dY, shape (5, 4)")
axes[2].imshow(bias.grad.numpy()[:, None], cmap="coolwarm")
axes[2].set_title("dL/db:\ncolumn sums")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise 2 (derive): a column that is stretched
#
# Now $Y = X \odot s$ (elementwise) with a per-row scale $s$ of shape (N, 1), stretched
# along the columns, and again $G = \partial L/\partial Y$. Derive
# $\partial L/\partial s$ the way we did for $b$ and write it in numpy as
# `scale_grad(G, X)`. Mind the shape: a gradient has the shape of its input. The check
# compares your function with minigrad on random arrays.

# %% tags=["exercise"] exercise_id="03-scale-gradient"
def scale_grad(G, X):
    """dL/ds for Y = X * s with s of shape (N, 1), given G = dL/dY and X, both (N, D)."""
    raise NotImplementedError("your code here")


check_function("03-scale-gradient", scale_grad)

# %%
scale = mg.tensor(rng.standard_normal((N, 1)), requires_grad=True)
(X * scale * mg.tensor(G)).sum().backward()
print("scale.grad (minigrad):", scale.grad.numpy().ravel())

# %% [markdown]
# ## Matrix multiplication and its two gradients
#
# $C = AB$ with $A \in \mathbb{R}^{n \times m}$, $B \in \mathbb{R}^{m \times p}$:
# $C_{ik} = \sum_j A_{ij} B_{jk}$. Given $G = \partial L / \partial C$ (shape $n \times p$):
#
# $$\frac{\partial L}{\partial A_{ij}} = \sum_k G_{ik} \frac{\partial C_{ik}}{\partial A_{ij}}
# = \sum_k G_{ik} B_{jk} = (G B^\top)_{ij}.$$
#
# $\partial L / \partial B$ is Exercise 3.
#
# A handy memory aid: the gradient must have the shape of the input, and there is only one
# way to combine $G$ ($n \times p$) with $B$ ($m \times p$) into $n \times m$: $G B^\top$.

# %%
n, m, p = 3, 4, 2
A = mg.tensor(rng.standard_normal((n, m)), requires_grad=True)
B = mg.tensor(rng.standard_normal((m, p)), requires_grad=True)
GC = rng.standard_normal((n, p))
C = A @ B
(C * mg.tensor(GC)).sum().backward()
print("A.grad matches G B^T:", np.allclose(A.grad.numpy(), GC @ B.detach().numpy().T))

# %% [markdown]
# Let us also check it the lesson-0 way, by nudging every element of $A$ and $B$:

# %%
def numerical_grad(fn, array, h=1e-6):
    """Central differences of the scalar fn(array) with respect to every element."""
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + h
        plus = fn(array)
        array[idx] = old - h
        minus = fn(array)
        array[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


An, Bn = A.detach().numpy().copy(), B.detach().numpy().copy()
numeric_A = numerical_grad(lambda a: ((a @ Bn) * GC).sum(), An)
numeric_B = numerical_grad(lambda b: ((An @ b) * GC).sum(), Bn)
print("max |A.grad - nudged| =", np.abs(A.grad.numpy() - numeric_A).max())

# %% [markdown]
# ### Exercise 3 (derive): the gradient of B
#
# Derive $\partial L / \partial B$ for $C = AB$ the way the text did for $A$, and write it
# in numpy as `matmul_grad_B(A, G)`. The check compares it with minigrad on random shapes;
# the cell after it compares it with `numeric_B`, which nudged every element and never
# used a formula.

# %% tags=["exercise"] exercise_id="03-matmul-grad-b"
def matmul_grad_B(A, G):
    """dL/dB for C = A @ B, given A (n, m) and G = dL/dC (n, p); the result is (m, p)."""
    raise NotImplementedError("your code here")


check_function("03-matmul-grad-b", matmul_grad_B)

# %%
matmul_grad_B = result("03-matmul-grad-b", matmul_grad_B)
print("max |matmul_grad_B - nudged| =", np.abs(matmul_grad_B(An, GC) - numeric_B).max())

# %% [markdown]
# ## gradcheck with broadcasting
#
# `minigrad.gradcheck` nudges every element of every input, so it tests the unbroadcasting
# too. A dense layer with a bias, and a batched matmul where a (4, 5) weight is broadcast
# over a batch of (2, 3, 4) inputs:

# %%
Xg = mg.tensor(rng.standard_normal((pick(6, 3), 4)), requires_grad=True)
Wg = mg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
bg = mg.tensor(rng.standard_normal(5), requires_grad=True)
print("dense layer :", mg.gradcheck(lambda x, w, b: (x @ w + b).tanh(), (Xg, Wg, bg)))
Xb = mg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
print("batched @   :", mg.gradcheck(lambda x, w: x @ w, (Xb, Wg)))
sg = mg.tensor(rng.standard_normal((3, 1)), requires_grad=True)
print("(2,3,4)*(3,1):", mg.gradcheck(lambda x, s: (x * s).sum(dim=-1), (Xb, sg)))

# %% [markdown]
# ## Common shape errors
#
# Most shape bugs raise an error, and a good message says which op, which shapes, and what
# to do. Here are the usual suspects, caught and printed:

# %%
x34 = mg.randn(3, 4, requires_grad=True)
mistakes = {
    "matmul with the wrong inner size": lambda: x34 @ mg.randn(3, 4),
    "adding incompatible shapes": lambda: x34 + mg.randn(3),
    "reshape to the wrong size": lambda: x34.reshape(5, 2),
    "backward() on a non-scalar": lambda: (x34 * 2).backward(),
    "summing over a missing dim": lambda: x34.sum(dim=2),
    "concatenating mismatched shapes": lambda: mg.cat([x34, mg.randn(3, 5)], dim=0),
}
messages = {}
for what, mistake in mistakes.items():
    try:
        mistake()
        messages[what] = None
    except (RuntimeError, ValueError, IndexError) as error:
        messages[what] = f"{type(error).__name__}: {error}"
    print(f"--- {what}\n{messages[what]}\n")

# %% [markdown]
# The dangerous bug is the one that raises **nothing**: a prediction of shape (N,) minus a
# target of shape (N, 1) broadcasts to (N, N), every prediction against every target. The
# loss is a number, training runs, and the model learns the wrong thing. `F.mse_loss` warns
# about it (as PyTorch does); plain arithmetic cannot.

# %%
pred = mg.tensor(rng.standard_normal(4))
target = mg.tensor(rng.standard_normal((4, 1)))
print("(pred - target).shape =", (pred - target).shape, " <- (N, N), and no error")
print("right loss:", ((pred - target.reshape(-1)) ** 2).mean().item(),
      "  wrong loss:", ((pred - target) ** 2).mean().item())
F.mse_loss(pred, target)

# %% [markdown]
# ### Exercise 4 (spot the bug): a loss that trains on the wrong thing
#
# `mse` below is meant to be the mean squared error of a prediction of shape (N,) against
# a target as a data loader gives it, shape (N, 1). It runs, returns a number, and is
# wrong. Fix it (without `F.mse_loss`); the check compares it with a reference on random
# predictions and targets.

# %% tags=["exercise"] exercise_id="03-silent-broadcast-bug"
def mse(pred, target):
    """Mean squared error of pred (N,) against target (N, 1)."""
    return ((pred - target) ** 2).mean()


check_function("03-silent-broadcast-bug", mse)

# %% [markdown]
# ## A small graph, with shapes
#
# `viz.to_text` lists a graph like a program, one line per op with its input and output
# shapes; `viz.draw` draws it. Reading the shapes along the graph is the fastest way to find
# where a shape goes wrong. Here: a dense layer with a tanh and a mean-squared loss.

# %%
xd = mg.tensor(rng.standard_normal((8, 3)))
xd.label = "x"
yd = mg.tensor(rng.standard_normal((8, 2)))
yd.label = "y"
W = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
bd = mg.zeros(2, dtype=mg.float64, requires_grad=True)
loss = (((xd @ W + bd).tanh() - yd) ** 2).mean()
loss.label = "loss"
print(viz.to_text(loss, {"W": W, "b": bd}))

# %%
loss.backward()
viz.draw(loss, params={"W": W, "b": bd})

# %% [markdown]
# ## What to remember
#
# - Broadcasting aligns shapes from the right; size-1 and missing dimensions stretch.
# - A broadcast input is used many times, so its gradient is the **sum** of the shares
#   over the stretched axes (`unbroadcast`).
# - For $C = AB$: $\partial L/\partial A = G B^\top$, and $\partial L/\partial B$ by the
#   same reasoning; the shapes tell you which product it must be.
# - Read the shapes: (N,) against (N, 1) is the silent bug.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/03_tensors_broadcasting_and_shapes.py`.
#
# 1. In which order are two shapes compared when broadcasting, and when are two sizes compatible?
# 2. Why is the gradient of a broadcast bias the sum of the output gradient over the batch?
# 3. What does `unbroadcast` do, and when does the engine call it?
# 4. How can the shapes alone tell you whether $\partial L/\partial A$ is $G B^\top$ or $B^\top G$?
# 5. Why is a prediction of shape (N,) against a target of shape (N, 1) dangerous, and how do you guard against it?
# 6. What does `gradcheck` add to checking a broadcasting op against a formula?
#
# ## Checks

# %%
assert np.allclose(bias.grad.numpy(), G.sum(axis=0)) and bias.grad.shape == (D,)
Xn, Sn = X.detach().numpy(), scale.detach().numpy().copy()
assert np.allclose(scale.grad.numpy(), numerical_grad(lambda s: (Xn * s * G).sum(), Sn), atol=1e-8)
assert np.allclose(A.grad.numpy(), GC @ Bn.T) and np.allclose(matmul_grad_B(An, GC), B.grad.numpy())
assert np.allclose(A.grad.numpy(), numeric_A, atol=1e-8) and np.allclose(B.grad.numpy(), numeric_B, atol=1e-8)
assert mg.gradcheck(lambda x, w, b: (x @ w + b).tanh(), (Xg, Wg, bg))
assert mg.gradcheck(lambda x, w: x @ w, (Xb, Wg))
assert all(message is not None for message in messages.values())
assert "(3, 4)" in messages["matmul with the wrong inner size"]
assert (pred - target).shape == (4, 4)
# dense layer: closed-form gradient of the mean squared error through tanh
Z = np.tanh(xd.numpy() @ W.detach().numpy())
Gz = 2 * (Z - yd.numpy()) / Z.size * (1 - Z**2)
assert np.allclose(W.grad.numpy(), xd.numpy().T @ Gz) and np.allclose(bd.grad.numpy(), Gz.sum(axis=0))
print("all checks passed")
