# %% [markdown]
# # Lesson 12: Normalisation and residual connections
#
# Lesson 07 showed signals shrinking layer by layer in a deep stack, and fixed it with a
# careful initialisation. Careful initialisation only holds at step 0: as the weights train,
# the scales drift again. Two architectural ideas keep a deep network trainable for good:
#
# * **normalisation layers** (`nn.BatchNorm1d`, `nn.LayerNorm`) rescale every layer's
#   pre-activations to zero mean and unit variance, whatever the weights did;
# * **residual connections** $x_{l+1} = x_l + f(x_l)$ give the signal and its gradient a path
#   through the network that no weight matrix can shrink.
#
# We build a **20-layer** MLP on MNIST four ways (plain, BatchNorm, LayerNorm, residual),
# draw the per-layer gradient norms of each, train them side by side, and derive why the
# plain one cannot learn while the BatchNorm and residual ones can (LayerNorm, as you will
# see, needs more than healthy gradients at step 0).
#
# *Time: about 60 minutes. Needs: lessons 05-07 (modules, optimizers, initialisation and
# vanishing gradients); MNIST (offline, installed by `make setup`).*

# %%
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import MNIST

mg.manual_seed(0)
print("smoke mode" if SMOKE else "full mode")

# %% [markdown]
# ## 1. Twenty layers, four ways
#
# Every variant has the same skeleton: `Linear(784, 64)`, then 18 **blocks** of width 64,
# then `Linear(64, 10)`, twenty linear layers in all, every one with minigrad's (PyTorch's)
# default initialisation $w \sim U(-1/\sqrt{n}, 1/\sqrt{n})$ for fan-in $n$. A block is
#
# | variant | block |
# |---|---|
# | plain | $h = \mathrm{ReLU}(Wx + b)$ |
# | BatchNorm | $h = \mathrm{ReLU}(\mathrm{BN}(Wx + b))$ |
# | LayerNorm | $h = \mathrm{ReLU}(\mathrm{LN}(Wx + b))$ |
# | residual | $h = x + \mathrm{ReLU}(Wx + b)/\sqrt{18}$ |
#
# **BatchNorm** normalises each feature over the *batch*: with the batch mean $\mu_j$ and
# variance $\sigma_j^2$ of feature $j$, $\mathrm{BN}(z)_{ij} = \gamma_j (z_{ij}-\mu_j)/
# \sqrt{\sigma_j^2+\epsilon} + \beta_j$ (in eval mode, running averages replace the batch
# statistics). **LayerNorm** normalises each *sample* over its features instead, the same in
# training and eval and independent of the batch size. $\gamma, \beta$ are learned, so the
# layer can undo the normalisation if that helps.

# %%
DEPTH, WIDTH = 20, 64
KINDS = ("plain", "batchnorm", "layernorm", "residual")


class Block(nn.Module):
    """One hidden layer of width WIDTH: Linear, an optional norm, ReLU, an optional skip."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.linear = nn.Linear(WIDTH, WIDTH)
        self.norm = {"batchnorm": nn.BatchNorm1d, "layernorm": nn.LayerNorm}.get(kind, nn.Identity)(WIDTH)

    def forward(self, x):
        h = F.relu(self.norm(self.linear(x)))
        return x + h / np.sqrt(DEPTH - 2) if self.kind == "residual" else h


class DeepMLP(nn.Module):
    """784 -> 64 -> 18 blocks -> 10: twenty Linear layers."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.inp = nn.Linear(784, WIDTH)
        self.blocks = nn.Sequential(*[Block(kind) for _ in range(DEPTH - 2)])
        self.out = nn.Linear(WIDTH, 10)

    def forward(self, x):
        return self.out(self.blocks(F.relu(self.inp(x))))

    def linears(self):
        return [self.inp] + [b.linear for b in self.blocks] + [self.out]


train_set, val_set = MNIST(split="train", normalize=True), MNIST(split="val", normalize=True)
N_TRAIN = pick(6_000, 384)
X_train, y_train = np.asarray(train_set.data)[:N_TRAIN], np.asarray(train_set.targets)[:N_TRAIN]
X_val, y_val = np.asarray(val_set.data)[:pick(2_000, 500)], np.asarray(val_set.targets)[:pick(2_000, 500)]
print(f"{len(X_train)} training images, {len(X_val)} validation images (standardised pixels)")

# %% [markdown]
# ## 2. The signal and the gradient at step 0
#
# One batch of 256 images forward and backward through each fresh network; for every layer
# we record how much its output varies from image to image (the standard deviation over the
# batch, averaged over the features: a constant bias does not count) and the norm of its
# weight's gradient.

# %%
def layer_stats(kind: str, seed: int = 0):
    """(output std per layer, weight-gradient norm per layer) of a fresh DeepMLP(kind)."""
    mg.manual_seed(seed)
    net = DeepMLP(kind)
    stds = []
    hooks = [lin.register_forward_hook(lambda m, i, o: stds.append(float(o.detach().numpy().std(0).mean())))
             for lin in net.linears()]
    F.cross_entropy(net(mg.tensor(X_train[:256])), mg.tensor(y_train[:256])).backward()
    for hook in hooks:
        hook.remove()
    return np.array(stds), np.array([float(np.linalg.norm(lin.weight.grad.numpy())) for lin in net.linears()])


stats = {kind: layer_stats(kind) for kind in KINDS}
for kind, (stds, grads) in stats.items():
    print(f"{kind:9s} output std: layer 1 {stds[0]:.2e}, layer 20 {stds[-1]:.2e};   "
          f"grad norm: layer 1 {grads[0]:.2e}, layer 20 {grads[-1]:.2e}")

# %%
fig, (ax_s, ax_g) = plt.subplots(1, 2, figsize=(11, 3.8))
layers = np.arange(1, DEPTH + 1)
for kind, (stds, grads) in stats.items():
    ax_s.semilogy(layers, stds, marker="o", ms=3, label=kind)
    ax_g.semilogy(layers, grads, marker="o", ms=3, label=kind)
ax_s.set(title="std over images of each Linear's output (step 0)", xlabel="layer")
ax_g.set(title="norm of each Linear's weight gradient (step 0)", xlabel="layer")
ax_g.legend()
plt.show()

# %% [markdown]
# The plain network's signal shrinks by the same factor at every layer, and its gradient
# shrinks by the same factor going back: the first layers get gradients many orders of
# magnitude smaller than the last. The normalised and residual networks keep both within a
# factor of a hundred or so from the first layer to the last. (BatchNorm's gradient even
# grows towards the first layers at initialisation, a known effect of stacking many BatchNorm
# layers; it settles once training starts.)
#
# ### Exercise 1 (derive): the shrink factor per layer
#
# Lesson 07 derived $\mathrm{Var}(z) = n\,\mathrm{Var}(w)\,\mathbb{E}[x^2]$ for $z = Wx$
# with fan-in $n$, and ReLU keeping half the second moment of a symmetric input:
# $\mathbb{E}[\mathrm{ReLU}(z)^2] = \mathrm{Var}(z)/2$. With $w \sim U(-a, a)$,
# $\mathrm{Var}(w) = a^2/3$ and here $a = 1/\sqrt{n}$. By what factor does the **standard
# deviation** of the signal shrink per plain block? Write it as a number (an expression in
# numpy is fine); the next cell compares it with the measured ratio.

# %% tags=["exercise"] exercise_id="12-shrink-factor"
shrink_per_layer = ...

check("12-shrink-factor", shrink_per_layer)

# %%
shrink_per_layer = result("12-shrink-factor", shrink_per_layer)
stds_plain = stats["plain"][0]
measured = np.exp(np.mean(np.diff(np.log(stds_plain[1:-1]))))
print(f"derived factor {shrink_per_layer:.4f}; measured geometric mean over the blocks {measured:.4f}; "
      f"after 18 blocks: {shrink_per_layer ** 18:.1e}")

# %% [markdown]
# ## 3. Why, in the maths
#
# **Plain.** Each block multiplies the signal's scale by $\rho = $ the factor you just
# derived, so after $L$ blocks it is $\rho^L$. Backward, the gradient reaching $x_l$ is
# $\frac{\partial \mathcal{L}}{\partial x_l} = J_l^\top J_{l+1}^\top\cdots
# \frac{\partial\mathcal{L}}{\partial x_L}$ with $J_k = \mathrm{diag}(\mathrm{ReLU}'(z_k))W_k$,
# whose typical gain is the same $\rho$: the gradient of layer $l$'s weights,
# $\frac{\partial\mathcal L}{\partial z_l} x_{l-1}^\top$, is a product of a vanished input
# and a vanished backward signal. The first layers do not learn, and the last layers see an
# input that is almost the same for every image: nothing to learn from either.
#
# **BatchNorm and LayerNorm** make each block's output independent of the scale of $W$:
# $\mathrm{BN}(aWx) = \mathrm{BN}(Wx)$ for any $a > 0$ (the mean and the standard deviation
# both scale by $a$). So the signal enters every layer at unit scale whatever happened
# before, and differentiating the invariance gives
# $\frac{\partial \mathcal L}{\partial (aW)} = \frac1a \frac{\partial\mathcal L}{\partial W}$:
# a layer whose weights grew gets proportionally smaller gradients, which stabilises training.
#
# **Residual.** $x_{l+1} = x_l + f(x_l)$ has Jacobian $I + J_{f,l}$, so
# $\frac{\partial x_L}{\partial x_l} = \prod_k (I + J_{f,k})$, which expands to $I$ plus
# every product of the $J$'s: the identity term carries the gradient from the loss to every
# layer undiminished, however small the $J$'s are. The forward signal *grows* instead: each
# block adds a branch whose second moment is about $1/6$ of its input's, so $L$ blocks
# multiply it by $(1 + 1/6)^L$, 16 for $L = 18$, and the first SGD steps with momentum blow
# up. Scaling each branch by $1/\sqrt{L}$ (as above) makes the factor
# $(1 + \tfrac{1}{6L})^L \le e^{1/6}$ for any depth; zero-initialising the last layer of each
# branch (as ResNets do with BatchNorm's $\gamma$) is the other common cure.
#
# ### Exercise 2 (predict): BatchNorm and a weight scaled by 10
#
# Take one block of the BatchNorm network, multiply its `linear.weight` **and bias** by 10,
# and run the same batch again. By what factor does the norm of that weight's gradient
# change? Write the number; the next cell measures it.

# %% tags=["exercise"] exercise_id="12-bn-scale-gradient"
gradient_factor = ...

check("12-bn-scale-gradient", gradient_factor)

# %%
def block_grad_norm(scale: float) -> tuple[float, np.ndarray]:
    """Weight-gradient norm of BatchNorm block 5 and the logits, with its weight and bias scaled."""
    mg.manual_seed(0)
    net = DeepMLP("batchnorm")
    block = net.blocks[5]
    with mg.no_grad():
        block.linear.weight.data[...] *= scale
        block.linear.bias.data[...] *= scale
    logits = net(mg.tensor(X_train[:256]))
    F.cross_entropy(logits, mg.tensor(y_train[:256])).backward()
    return float(np.linalg.norm(block.linear.weight.grad.numpy())), logits.detach().numpy()


g1, logits1 = block_grad_norm(1.0)
g10, logits10 = block_grad_norm(10.0)
print(f"gradient norm: {g1:.4e} at scale 1, {g10:.4e} at scale 10, ratio {g10 / g1:.4f}; "
      f"largest change of a logit {np.abs(logits10 - logits1).max():.1e}")

# %% [markdown]
# ### Exercise 3 (implement): BatchNorm's training-mode forward
#
# Write `batch_norm(x, gamma, beta, eps)` in numpy for an $(N, D)$ batch: normalise each
# column with the batch's mean and its **biased** variance (divide by $N$), then scale and
# shift. The check compares it with `nn.BatchNorm1d` in training mode.

# %% tags=["exercise"] exercise_id="12-batchnorm-forward"
def batch_norm(x, gamma, beta, eps):
    """Training-mode BatchNorm of an (N, D) array: per column (x - mean) / sqrt(var + eps)."""
    raise NotImplementedError("your code here")


check_function("12-batchnorm-forward", batch_norm)

# %% [markdown]
# ### Exercise 4 (spot the bug): a LayerNorm that mixes samples
#
# `layer_norm` below should match `nn.LayerNorm(D)` (with $\gamma = 1$, $\beta = 0$), and
# the result of a sample should never depend on the other samples in the batch. It does not
# match. Find the one mistake.

# %% tags=["exercise"] exercise_id="12-layernorm-axis"
def layer_norm(x, eps=1e-5):
    """LayerNorm of an (N, D) array with gamma = 1 and beta = 0."""
    mean = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


check_function("12-layernorm-axis", layer_norm)

# %% [markdown]
# ## 4. Training all four
#
# The same data, batches, optimizer (SGD with momentum 0.9) and learning rate for all four.

# %%
LR, BATCH, EPOCHS = 0.02, 64, pick(3, 1)


def train(kind: str):
    """Train DeepMLP(kind); return the per-step losses and the validation accuracy."""
    mg.manual_seed(0)
    net = DeepMLP(kind)
    opt = optim.SGD(net.parameters(), lr=LR, momentum=0.9)
    order = np.random.default_rng(0)
    losses = []
    for _ in range(EPOCHS):
        perm = order.permutation(len(X_train))
        for i in range(0, len(X_train), BATCH):
            idx = perm[i:i + BATCH]
            loss = F.cross_entropy(net(mg.tensor(X_train[idx])), mg.tensor(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    net.eval()
    with mg.no_grad():
        accuracy = float((net(mg.tensor(X_val)).numpy().argmax(1) == y_val).mean())
    return np.array(losses), accuracy


runs = {kind: train(kind) for kind in KINDS}
for kind, (losses, accuracy) in runs.items():
    print(f"{kind:9s} loss: first 10 steps {losses[:10].mean():.3f}, last 10 steps "
          f"{losses[-10:].mean():.3f};  validation accuracy {accuracy:.1%}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
for kind, (losses, _) in runs.items():
    ax.plot(np.convolve(losses, np.ones(5) / 5, mode="valid"), label=kind)
ax.axhline(np.log(10), color="grey", ls=":", label="log 10 (guessing)")
ax.set(title=f"20-layer MLPs on MNIST, SGD lr {LR} momentum 0.9", xlabel="step",
       ylabel="loss (5-step mean)")
ax.legend()
plt.show()

# %% [markdown]
# In full mode (three epochs on 6,000 images) the plain network's loss sits at $\log 10$,
# guessing, for the whole run, while BatchNorm and the residual network learn (the
# accuracies are printed above; in smoke mode the run is a handful of steps, too short to
# read much into). LayerNorm is the surprise: its gradients were as healthy as BatchNorm's at
# step 0, yet with plain SGD at this learning rate it stays near guessing too in our full
# runs. Healthy gradients at initialisation are necessary, not sufficient. One difference
# worth knowing: LayerNorm gives every sample's hidden vector the same mean and spread, so a
# layer can no longer say "this image has a lot of this feature" through the overall scale,
# which BatchNorm keeps. In practice LayerNorm is used together with residual connections,
# as below; trying a LayerNorm *residual* block here is a good experiment to run yourself.
# LayerNorm and BatchNorm differ in
# one practical way: BatchNorm's output depends on the other samples of the batch and
# switches to running statistics in `eval()`, LayerNorm's does not. That is why
# transformers, trained on variable-length sequences with small per-device batches, use
# LayerNorm, and why their blocks are residual too: $x + \mathrm{Attention}(\mathrm{LN}(x))$.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in
# `lessons/solutions/12_normalisation_and_residual_connections.py`.
#
# 1. Why does a careful initialisation alone not keep a deep network's signals at a healthy scale during training?
# 2. Over which axis does BatchNorm compute its statistics, and over which does LayerNorm?
# 3. Why does BatchNorm behave differently in `train()` and `eval()` mode, and LayerNorm not?
# 4. Why is $\mathrm{BN}(aWx) = \mathrm{BN}(Wx)$, and what does it imply for the gradient of $W$?
# 5. Why can the gradient reach the first layer of a residual network even when every block's Jacobian is small?
# 6. Why do BatchNorm and LayerNorm have learned $\gamma$ and $\beta$?
# 7. Why does the plain 20-layer network not learn even in its last layers, whose gradients are not small?
#
# ## Checks

# %%
plain_stds, plain_grads = stats["plain"]
assert np.isclose(shrink_per_layer, 1 / np.sqrt(6)) and 0.3 < measured < 0.5, measured
assert plain_grads[0] < 1e-4 * plain_grads[-1], plain_grads
for kind in ("batchnorm", "layernorm", "residual"):
    stds, grads = stats[kind]
    assert grads.min() > 1e-3 * grads.max(), (kind, grads)
    assert stds[-2] > 1e-2, (kind, stds)
assert plain_stds[-2] < 1e-5, plain_stds
assert np.isclose(g10 / g1, 0.1, rtol=1e-3) and np.abs(logits10 - logits1).max() < 1e-3
if not SMOKE:
    assert abs(runs["plain"][0][-10:].mean() - np.log(10)) < 0.05 and runs["plain"][1] < 0.2
    for kind in ("batchnorm", "residual"):
        assert runs[kind][1] > 0.8, (kind, runs[kind][1])
    assert runs["layernorm"][1] < 0.2, runs["layernorm"][1]
print("all checks passed")
