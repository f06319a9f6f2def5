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
from course import SMOKE, check, pick

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import viz
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
# `model(x)`, runs `forward` (plus any hooks, which the debugging tools of lesson 7 use).
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
print("number of parameters:", mlp.num_parameters())

# %% [markdown]
# ### Exercise 1: count the parameters
#
# A `Linear(a, b)` has $a \cdot b$ weights and $b$ biases. Write the total for `MLP(2, 16, 2)`
# as an arithmetic expression. The check compares it with what the module counts.
# *Your line:* `n_params = ...`

# %%
n_params = (2 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2)                 # <- write this line
_ = check("parameter count", n_params, sum(p.numel() for p in mlp.parameters()),
          "sum over the three layers of in*out + out")

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
# 5. **step**: `opt.step()` applies the update rule (here SGD with momentum, see lesson 6).
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
# Follow the arrows from the input `x` (left) to the loss (right): a `Permute` of each weight
# (the $W^\top$), a `MatMul`, an `Add` of the bias, the `Tanh`, again for the second layer,
# and the fused `CrossEntropy` op. Backward walks the same picture from right to left.
#
# ### Exercise 2: one SGD step by hand
#
# Plain SGD (no momentum) updates $W \leftarrow W - \eta\, \partial L / \partial W$. Using the
# gradient stored in `small[0].weight.grad`, compute the new first-layer weight in numpy
# *before* the optimizer runs; the check compares it with what `SGD.step()` produces.
# *Your line:* `w_new = ...`

# %%
lr = 0.5
w_old = small[0].weight.detach().numpy().copy()
w_new = w_old - lr * small[0].weight.grad.numpy()                            # <- write this line

mg.optim.SGD(small.parameters(), lr=lr).step()
_ = check("one SGD step", w_new, small[0].weight.detach().numpy(),
          "subtract the learning rate times the gradient")

# %% [markdown]
# ### Exercise 3: why `zero_grad`?
#
# Calling `backward()` twice without zeroing adds the two gradients. Run the backward of
# the same loss twice (the graph must be kept with `retain_graph=True`) and predict the
# result from the first gradient. *Your line:* `predicted = ...`

# %%
w = mg.tensor([1.0, -2.0], requires_grad=True)
q = (w * w).sum()
q.backward(retain_graph=True)
first = w.grad.numpy().copy()
q.backward()
predicted = 2 * first                                                        # <- write this line
_ = check("gradients accumulate", predicted, 2 * 2 * np.array([1.0, -2.0]),
          "d(w·w)/dw = 2w, and a second backward adds it again")

# %% [markdown]
# ## Summary
#
# * `nn.Module` registers parameters assigned as attributes; `named_parameters()`,
#   `num_parameters()` and `state_dict()` list them.
# * `nn.Sequential` chains layers; its `state_dict` keys are `index.name`.
# * Training is forward, loss, zero_grad, backward, step, in a loop over mini-batches.
# * Evaluate under `mg.no_grad()`: no graph is built.
#
# ## Checks

# %%
assert n_params == mlp.num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2
assert set(seq.state_dict()) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
assert np.allclose(seq(x).detach().numpy(), mlp(x).detach().numpy())
assert np.allclose(w_new, small[0].weight.detach().numpy())
assert np.allclose(w.grad.numpy(), [4.0, -8.0])
assert accuracy(restored, X_val, Y_val) == accuracy(model, X_val, Y_val)
val_acc = accuracy(model, X_val, Y_val)
assert val_acc > 0.9, f"validation accuracy {val_acc:.3f} is too low: training did not work"
assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
print(f"all checks passed (val accuracy {val_acc:.3f})")
