# %% [markdown]
# # Lesson 5: Modules and a first training loop
#
# So far every parameter was a tensor we created and tracked by hand. Real models have
# thousands of them, so we need a container that knows its parameters, can list them, save
# them and load them back. That is `nn.Module`, the same idea (and the same names) as in
# PyTorch.
#
# In this lesson you will
#
# * build layers with `nn.Linear`, your own `nn.Module` subclass and `nn.Sequential`;
# * list parameters, count them and round-trip them through a `state_dict`;
# * write the five-line training loop that every later lesson uses:
#   **forward, loss, zero_grad, backward, step**;
# * train a small MLP on the two-moons data, draw its decision boundary, and draw the
#   computation graph of one training step.
#
# *Time: about 45 minutes. Needs: lessons 1-4.*

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import viz
from minigrad.autograd.engine import topological_order
from minigrad.data import DataLoader, TensorDataset, make_moons

mg.manual_seed(0)
print("smoke mode" if SMOKE else "full mode")

# %% [markdown]
# ## 1. `nn.Linear`: the affine layer
#
# `nn.Linear(in_features, out_features)` holds a weight $W$ of shape
# `(out_features, in_features)` and a bias $b$ of shape `(out_features,)`, and computes
#
# $$y = x W^\top + b$$
#
# for a batch $x$ of shape `(N, in_features)`. Its parameters start uniform in
# $\pm 1/\sqrt{\text{in\_features}}$ (PyTorch's default; lesson 7 explains why the scale
# matters). They are `nn.Parameter`s: tensors with `requires_grad=True` that a module
# registers automatically when you assign them as attributes.

# %%
layer = nn.Linear(3, 2)
print(layer)
for name, param in layer.named_parameters():
    print(f"{name:7s} shape {param.shape}  requires_grad={param.requires_grad}")

x = mg.randn(4, 3)
y = layer(x)
print("output shape:", y.shape)
print("equals x @ W.T + b:",
      np.allclose(y.detach().numpy(), x.numpy() @ layer.weight.detach().numpy().T
                  + layer.bias.detach().numpy(), atol=1e-6))

# %% [markdown]
# ## 2. Your own Module
#
# A module is a class with two methods: `__init__` creates the sub-layers (assigning them as
# attributes registers them) and `forward` says how to combine them. Calling the module,
# `model(x)`, runs `forward` (plus any hooks: lesson 02 introduced hooks on tensors, and the
# debugging tools of lesson 08 put them on modules).
#
# A multi-layer perceptron with two hidden layers and $\tanh$ activations:
#
# $$h_1 = \tanh(x W_1^\top + b_1),\quad h_2 = \tanh(h_1 W_2^\top + b_2),\quad
# \text{logits} = h_2 W_3^\top + b_3.$$

# %%
class MLP(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_hidden)
        self.out = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        h = self.fc1(x).tanh()
        h = self.fc2(h).tanh()
        return self.out(h)


mlp = MLP(2, 16, 2)
print(mlp)
print("parameters:", [name for name, _ in mlp.named_parameters()])

# %% [markdown]
# ### Exercise 1 (predict): count the parameters
#
# Before the next cell counts them, work out how many numbers `MLP(2, 16, 2)` learns
# (section 1 gives the shapes of a `Linear`'s weight and bias) and write the total.

# %% tags=["exercise"] exercise_id="05-parameter-count"
n_params = ...

check("05-parameter-count", n_params, n_in=2, n_hidden=16, n_out=2)

# %%
print("number of parameters:", mlp.num_parameters())

# %% [markdown]
# ### Exercise 2 (implement): a module of your own
#
# Attribute assignment is how a module learns about its parameters: `self.w = nn.Parameter(t)`
# registers `w` under that name (and `self.fc = nn.Linear(...)` registers the layer's
# parameters as `fc.weight`, `fc.bias`). Complete `ScaleShift`, which computes
# $y = x \odot \text{scale} + \text{shift}$ with one learnable `scale` (starting at 1) and one
# `shift` (starting at 0) per feature. The check builds your module, looks at what it
# registered, and compares its outputs and gradients with a reference.

# %% tags=["exercise"] exercise_id="05-small-module"
class ScaleShift(nn.Module):
    """y = x * scale + shift, with a learnable scale (starting at 1) and shift (starting at 0)."""

    def __init__(self, n_features):
        super().__init__()
        ...

    def forward(self, x):
        return x * self.scale + self.shift


check("05-small-module", ScaleShift)

# %% [markdown]
# ### Exercise 3 (spot the bug): layers that are not registered
#
# `Deep` builds a stack of `Linear` layers from a list of sizes. Its forward pass works, but
# an optimizer given `model.parameters()` would never train it. Find out why and fix it
# (`nn.ModuleList` exists, as in PyTorch). The check counts what your module registers and
# compares its outputs with a reference.

# %% tags=["exercise"] exercise_id="05-unregistered-layers"
class Deep(nn.Module):
    """Linear layers of the given sizes with tanh between them."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = x.tanh()
        return x


check("05-unregistered-layers", Deep)

# %% [markdown]
# ## 3. `nn.Sequential` and the `state_dict`
#
# When the forward pass is just "each layer on the output of the previous one",
# `nn.Sequential` saves writing a class. Its layers are named `0`, `1`, `2`, ...
#
# A model's **`state_dict`** maps each parameter (and buffer) name to its values, as numpy
# arrays. It is what you save to disk (`minigrad.save`) and what `load_state_dict` copies back
# into a model of the same architecture. Below we copy the weights of `mlp` into a `Sequential`
# with the same layers: the names differ, the arrays are the same, and so are the outputs.

# %%
seq = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2))
state = mlp.state_dict()
for key, value in state.items():
    print(f"{key:11s} {value.shape}")

renamed = dict(zip(seq.state_dict().keys(), state.values()))
print(seq.load_state_dict(renamed))
x = mg.randn(5, 2)
print("same outputs:", np.allclose(seq(x).detach().numpy(), mlp(x).detach().numpy()))

# %% [markdown]
# ## 4. The data: two moons
#
# `make_moons` draws two interleaving half circles with Gaussian noise. No straight line
# separates them, so a linear classifier cannot reach 100 %; the hidden layers have to bend
# the boundary.

# %%
n_samples = pick(1000, 300)
X, Y = make_moons(n_samples=n_samples, noise=0.15, seed=0)
X_val, Y_val = make_moons(n_samples=n_samples, noise=0.15, seed=1)
print(X.shape, X.dtype, Y.shape, Y.dtype, "classes:", np.bincount(Y))

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(X[:, 0], X[:, 1], c=Y, cmap="coolwarm", s=8)
ax.set(title="two moons", xlabel="$x_1$", ylabel="$x_2$")
plt.show()

# %% [markdown]
# ## 5. The training loop
#
# Gradient descent on the average cross-entropy $L(\theta)$ repeats
#
# $$\theta \leftarrow \theta - \eta\, \nabla_\theta L(\theta).$$
#
# In code, one step is five lines, always in this order:
#
# 1. **forward**: `logits = model(x)`;
# 2. **loss**: `loss = F.cross_entropy(logits, y)`;
# 3. **zero_grad**: `opt.zero_grad()`: gradients *accumulate* in `.grad`, so old ones must go;
# 4. **backward**: `loss.backward()` fills every parameter's `.grad`;
# 5. **step**: `opt.step()` applies the update rule.
#
# The optimizer here is SGD with `momentum=0.9`, which lesson 06 explains: it keeps a running
# sum of past gradients and steps along it. Until then, read it as "SGD that converges
# faster on this problem"; plain SGD (`momentum=0`) also works, in more epochs.
#
# We train on mini-batches of 64 with `DataLoader` and measure the accuracy on a separate
# validation set drawn with another seed.

# %%
model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))
opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loader = DataLoader(TensorDataset(X, Y), batch_size=64, shuffle=True, generator=mg.Generator(0))
epochs = pick(60, 25)


def accuracy(model, X, Y):
    with mg.no_grad():
        return float((model(mg.tensor(X)).argmax(1).numpy() == Y).mean())


losses = []
for epoch in range(epochs):
    for xb, yb in loader:
        logits = model(xb)                    # 1. forward
        loss = F.cross_entropy(logits, yb)    # 2. loss
        opt.zero_grad()                       # 3. zero_grad
        loss.backward()                       # 4. backward
        opt.step()                            # 5. step
        losses.append(loss.item())
    if epoch % 5 == 0 or epoch == epochs - 1:
        print(f"epoch {epoch:3d}  loss {loss.item():.4f}  val accuracy {accuracy(model, X_val, Y_val):.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(losses, lw=0.8)
ax.set(yscale="log", xlabel="step", ylabel="cross-entropy", title="training loss")
plt.show()

# %% [markdown]
# ### Exercise 4 (spot the bug): a loss that trains slowly
#
# Someone wrote the loss of the loop above as `moons_loss` below. It runs and the loss
# falls, but it can never get close to 0 and its gradients are too small. Fix it; the check
# compares it with a reference on random logits.

# %% tags=["exercise"] exercise_id="05-double-softmax"
def moons_loss(logits, y):
    """The mean cross-entropy of a batch of logits (N, C) and labels y (N,)."""
    return F.cross_entropy(F.softmax(logits, dim=1), y)


check_function("05-double-softmax", moons_loss)

# %% [markdown]
# ### Saving and loading the trained model
#
# `minigrad.save(model.state_dict(), path)` writes the arrays to one file (atomically: a crash
# never leaves half a checkpoint); `minigrad.load` reads them back and `load_state_dict` puts
# them into a freshly built model of the same architecture.

# %%
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "moons.ckpt")
    mg.save(model.state_dict(), path)
    restored = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))
    restored.load_state_dict(mg.load(path))
print("restored model's val accuracy:", accuracy(restored, X_val, Y_val))

# %% [markdown]
# ## 6. The decision boundary
#
# The model defines a probability of class 1 at every point of the plane. Evaluating it on a
# grid (under `no_grad()`: no graph needed) and colouring by that probability shows where the
# network draws the line between the classes.

# %%
xx, yy = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1.0, 1.5, 150))
grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
with mg.no_grad():
    prob1 = F.softmax(model(mg.tensor(grid)), dim=1).numpy()[:, 1].reshape(xx.shape)

fig, ax = plt.subplots(figsize=(6, 4))
ax.contourf(xx, yy, prob1, levels=20, cmap="coolwarm", alpha=0.6)
ax.contour(xx, yy, prob1, levels=[0.5], colors="k")
ax.scatter(X_val[:, 0], X_val[:, 1], c=Y_val, cmap="coolwarm", s=8, edgecolors="k", linewidths=0.2)
ax.set(title=f"decision boundary (val accuracy {accuracy(model, X_val, Y_val):.1%})")
plt.show()

# %% [markdown]
# ## 7. What one training step computes
#
# `viz.draw(loss, params=model)` draws the graph behind one step: green boxes are the
# parameters (named as in the `state_dict`), blue the input, white the intermediate tensors,
# orange the loss; ellipses are the ops. After `backward()` each parameter box shows its
# gradient. We use a batch of 4 so the numbers stay readable; `viz.to_text` prints the same
# graph as a listing.

# %%
xb, yb = mg.tensor(X[:4]), mg.tensor(Y[:4])
xb.label = "x"                     # names the input box in the picture
small = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
step_loss = F.cross_entropy(small(xb), yb)
small.zero_grad()
step_loss.backward()
print(viz.to_text(step_loss, small))
viz.draw(step_loss, params=small)

# %% [markdown]
# Follow the arrows from the input `x` (left) to the loss (right). The ops, in the order the
# forward pass ran them:

# %%
step_ops = [node.name for node in reversed(topological_order([step_loss.grad_fn]))]
print(" -> ".join(step_ops))

# %% [markdown]
# Each layer is **one** `LinearAct` node: minigrad fuses $x W^\top + b$ (and, when asked,
# the activation after it) into a single op with its own backward, where an unfused graph
# would show a transpose of the weight, a matrix product and a bias addition. Then the
# `Tanh`, the second layer's `LinearAct` (no activation: `activation='none'` in the listing
# above), and the fused `CrossEntropy` op. Backward walks the same picture from right to left.
#
# ### Exercise 5 (predict): one SGD step by hand
#
# Plain SGD (no momentum) updates $W \leftarrow W - \eta\, \partial L / \partial W$. Using
# the gradient stored in `small[0].weight.grad` and $\eta = 0.5$, compute in numpy the
# first-layer weight that `SGD.step()` will produce, *before* the optimizer runs in the
# next cell.

# %% tags=["exercise"] exercise_id="05-sgd-step"
lr = 0.5
w_old = small[0].weight.detach().numpy().copy()
w_new = ...

check("05-sgd-step", w_new, weight=w_old, grad=small[0].weight.grad.numpy(), lr=lr)

# %%
mg.optim.SGD(small.parameters(), lr=lr).step()
print("first-layer weight after SGD.step():\n", small[0].weight.detach().numpy())

# %% [markdown]
# ## Summary
#
# * `nn.Module` registers parameters assigned as attributes; `named_parameters()`,
#   `num_parameters()` and `state_dict()` list them.
# * `nn.Sequential` chains layers; its `state_dict` keys are `index.name`.
# * Training is forward, loss, zero_grad, backward, step, in a loop over mini-batches.
# * Evaluate under `mg.no_grad()`: no graph is built.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/05_modules_and_a_first_training_loop.py`.
#
# 1. How does a module know which tensors are its parameters?
# 2. Why does a plain Python list of layers break training, and what do you use instead?
# 3. What is in a `state_dict`, and why can it be loaded into a model built from a different class?
# 4. Why must `zero_grad` be called every step, and why before `backward()`?
# 5. Why evaluate a model under `mg.no_grad()`?
# 6. Why should the logits not go through `softmax` before `cross_entropy`?
# 7. What does one `LinearAct` node of the graph compute, and what would an unfused graph show instead?
#
# ## Checks

# %%
assert mlp.num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2
assert set(seq.state_dict()) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
assert np.allclose(seq(x).detach().numpy(), mlp(x).detach().numpy())
assert np.allclose(small[0].weight.detach().numpy(), w_old - lr * small[0].weight.grad.numpy())
assert step_ops == ["LinearAct", "Tanh", "LinearAct", "CrossEntropy"], step_ops
assert accuracy(restored, X_val, Y_val) == accuracy(model, X_val, Y_val)
val_acc = accuracy(model, X_val, Y_val)
assert val_acc > 0.9, f"validation accuracy {val_acc:.3f} is too low: training did not work"
assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
print(f"all checks passed (val accuracy {val_acc:.3f})")
