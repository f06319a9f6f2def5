# %% [markdown]
# # Lesson 7: Initialisation, activations and vanishing gradients
#
# A deep network multiplies its input by one weight matrix after another, and backprop
# multiplies the gradient by the same matrices (transposed) on the way back. Products of many
# factors either shrink to nothing or blow up, unless each factor is close to 1 *on average*.
# Keeping it there is the job of the **initialisation** and the choice of **activation**.
#
# In this lesson you will
#
# * derive $\mathrm{Var}(\text{out}) = n_\text{in}\,\mathrm{Var}(w)\,\mathrm{Var}(\text{in})$
#   and from it the Xavier (Glorot) and Kaiming (He) initialisations;
# * look at activation and gradient histograms, layer by layer, of deep tanh, sigmoid and ReLU
#   stacks with bad and good initialisations;
# * use `minigrad.nn.init`;
# * let `minigrad.debug.GradientMonitor` diagnose vanishing gradients in a deep sigmoid stack.
#
# *Time: about 60 minutes. Needs: lessons 1-6.*

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread: fastest for these tiny matrices (lesson 10)

# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.data import make_moons
from minigrad.debug import GradientMonitor
from minigrad.viz import plots

mg.manual_seed(0)
print("smoke mode" if SMOKE else "full mode")

# %% [markdown]
# ## 1. The variance of a layer's output
#
# Take one output of a linear layer, $y = \sum_{i=1}^{n_\text{in}} w_i x_i$, with weights and
# inputs independent, of mean zero. For independent zero-mean $w, x$,
# $\mathrm{Var}(w x) = \mathbb{E}[w^2 x^2] = \mathbb{E}[w^2]\,\mathbb{E}[x^2] = \mathrm{Var}(w)\,\mathrm{Var}(x)$,
# and variances of independent terms add:
#
# $$\boxed{\mathrm{Var}(y) = n_\text{in}\,\mathrm{Var}(w)\,\mathrm{Var}(x).}$$
#
# So each layer multiplies the variance by $n_\text{in}\mathrm{Var}(w)$. Over $D$ layers
# (ignoring the activations for now) that factor is raised to the power $D$: with
# $n_\text{in} = 256$ and $\mathrm{std}(w) = 0.01$ it is $0.0256$ per layer, and after 10 layers
# the signal's variance has dropped by a factor $10^{16}$.
#
# The backward pass is the same computation with $W^\top$: $\partial L/\partial x = W^\top \partial L / \partial y$,
# so $\mathrm{Var}(\partial L/\partial x) = n_\text{out}\,\mathrm{Var}(w)\,\mathrm{Var}(\partial L/\partial y)$.
#
# Let us check the boxed formula on a real layer.

# %%
n_in, batch = 256, pick(4000, 1000)
x = mg.randn(batch, n_in)
layer = nn.Linear(n_in, 128)
nn.init.normal_(layer.weight, std=0.05)
nn.init.zeros_(layer.bias)
with mg.no_grad():
    y = layer(x)
predicted_var = n_in * 0.05**2 * x.numpy().var()
print(f"Var(out) measured {y.numpy().var():.4f}, predicted n_in Var(w) Var(in) = {predicted_var:.4f}")

# %% [markdown]
# ### Exercise 1 (derive): choose the weight scale
#
# Which standard deviation of $w$ keeps $\mathrm{Var}(y) = \mathrm{Var}(x)$? Write it in terms of
# `n_in`. The cell after the check initialises the layer with your value and measures.

# %% tags=["exercise"] exercise_id="07-std-keep-variance"
std_keep = ...

_ = check("07-std-keep-variance", std_keep, n_in=n_in)

# %%
nn.init.normal_(layer.weight, std=result("07-std-keep-variance", std_keep, n_in=n_in))
with mg.no_grad():
    ratio = layer(x).numpy().var() / x.numpy().var()
print(f"Var(out) / Var(in) = {ratio:.3f}")

# %% [markdown]
# ## 2. Xavier and Kaiming
#
# The forward pass wants $n_\text{in}\mathrm{Var}(w) = 1$, the backward pass
# $n_\text{out}\mathrm{Var}(w) = 1$. **Xavier/Glorot** initialisation takes the compromise
#
# $$\mathrm{Var}(w) = \frac{2}{n_\text{in} + n_\text{out}}, \qquad
# \text{e.g. } w \sim \mathcal{U}\!\left(-\sqrt{\tfrac{6}{n_\text{in}+n_\text{out}}},\ \sqrt{\tfrac{6}{n_\text{in}+n_\text{out}}}\right),$$
#
# which is right for activations that behave like the identity near 0 ($\tanh$). PyTorch and
# minigrad multiply the std by a *gain*: $5/3$ for $\tanh$, to make up for its squashing.
#
# **ReLU** zeroes half of its inputs. If $y$ is symmetric around 0 then
# $\mathbb{E}[\mathrm{relu}(y)^2] = \tfrac12\mathrm{Var}(y)$, so the next layer sees
# $\mathrm{Var}(y_{\text{next}}) = n_\text{in}\mathrm{Var}(w)\cdot\tfrac12\mathrm{Var}(y)$
# (the formula of section 1 with $\mathbb{E}[x^2]$ in place of $\mathrm{Var}(x)$, since the ReLU
# output does not have mean zero but $w$ does). **Kaiming/He** initialisation cancels the $\tfrac12$:
#
# $$\mathrm{Var}(w) = \frac{2}{n_\text{in}}, \qquad \text{gain } \sqrt2.$$
#
# In `minigrad.nn.init` (PyTorch's names) these are `xavier_uniform_`, `xavier_normal_`,
# `kaiming_uniform_`, `kaiming_normal_`, with `calculate_gain(nonlinearity)`.
#
# ### Exercise 2 (derive): Kaiming's standard deviation
#
# Write the Kaiming-normal std for a ReLU layer with `fan_in` inputs. The next cell compares
# it with the std of a weight filled by `nn.init.kaiming_normal_`.

# %% tags=["exercise"] exercise_id="07-kaiming-std"
fan_in = 512
kaiming_std = ...

_ = check("07-kaiming-std", kaiming_std, fan_in=fan_in)

# %%
w = mg.empty(1024, fan_in)
nn.init.kaiming_normal_(w, nonlinearity="relu")
print(f"kaiming_normal_ filled a std of {w.numpy().std():.5f}; "
      f"yours (or the reference) {result('07-kaiming-std', kaiming_std, fan_in=fan_in):.5f}")
print("gains:", {g: round(nn.init.calculate_gain(g), 4) for g in ("linear", "sigmoid", "tanh", "relu")})

# %% [markdown]
# ### Exercise 3 (implement): the Xavier-uniform bound
#
# A uniform distribution $\mathcal U(-a, a)$ has variance $a^2/3$. Write the bound $a$ that
# gives Xavier's variance times $\text{gain}^2$. The check tries random fan-ins, fan-outs and
# gains; the cell after it compares with what `nn.init.xavier_uniform_` draws.

# %% tags=["exercise"] exercise_id="07-xavier-bound"
def xavier_uniform_bound(fan_in, fan_out, gain=1.0):
    """The a of U(-a, a) whose variance is gain^2 * 2 / (fan_in + fan_out)."""
    raise NotImplementedError("your code here")


_ = check_function("07-xavier-bound", xavier_uniform_bound)

# %%
bound = result("07-xavier-bound", xavier_uniform_bound)(300, 100, nn.init.calculate_gain("tanh"))
w_x = mg.empty(100, 300)
nn.init.xavier_uniform_(w_x, gain=nn.init.calculate_gain("tanh"))
print(f"bound {bound:.4f}; xavier_uniform_ drew values in [{w_x.numpy().min():.4f}, {w_x.numpy().max():.4f}]")

# %% [markdown]
# ### Exercise 4 (spot the bug): a hand-written Kaiming initialisation
#
# A weight matrix of a `Linear` layer has shape `(out_features, in_features)`. The function
# below was meant to be `kaiming_normal_` for ReLU, but the std of the activations it gives
# drifts from layer to layer whenever a layer is not square. Find the mistake and fix it. The
# check compares it, on random shapes, with a correct version drawing from the same seed.

# %% tags=["exercise"] exercise_id="07-kaiming-fan-bug"
def my_kaiming_normal(shape, seed):
    """A (out_features, in_features) weight for a ReLU layer, Kaiming-normal, from a seed."""
    fan_out, fan_in = shape
    std = math.sqrt(2 / fan_out)
    return np.random.default_rng(seed).standard_normal(shape) * std


_ = check_function("07-kaiming-fan-bug", my_kaiming_normal)

# %% [markdown]
# ## 3. Deep stacks, layer by layer
#
# We build stacks of `depth` blocks `Linear(width, width)` + activation, initialise them in
# different ways, push one batch of unit-variance inputs through, and backpropagate a random
# unit-variance gradient from the top (the loss $\sum_j r_j\,\text{out}_j$ with $r \sim \mathcal N(0, 1)$).
# `probe` keeps every block's output and, through `retain_grad()`, the gradient with respect to it.

# %%
depth, width = pick(12, 8), 128
inputs = mg.randn(pick(1000, 400), width)
upstream = mg.randn(inputs.shape[0], width)

ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


def deep_stack(activation, init):
    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        nn.init.zeros_(linear.bias)
        if init == "xavier":
            nn.init.xavier_normal_(linear.weight, gain=nn.init.calculate_gain(activation))
        elif init == "kaiming":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        else:
            nn.init.normal_(linear.weight, std=init)
        layers += [linear, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def probe(model):
    """Outputs of each activation and the gradients with respect to them."""
    h, outs = inputs, []
    for module in model:
        h = module(h)
        if not isinstance(module, nn.Linear):
            h.retain_grad()
            outs.append(h)
    (h * upstream).sum().backward()
    return [o.detach().numpy() for o in outs], [o.grad.numpy() for o in outs]


configs = {
    "tanh, std 0.01": ("tanh", 0.01),
    "tanh, std 1": ("tanh", 1.0),
    "tanh, Xavier": ("tanh", "xavier"),
    "sigmoid, Xavier": ("sigmoid", "xavier"),
    "relu, std 0.01": ("relu", 0.01),
    "relu, Kaiming": ("relu", "kaiming"),
}
results = {name: probe(deep_stack(act, init)) for name, (act, init) in configs.items()}

# %% [markdown]
# First the histograms of the activations of a few layers of the **tanh stack with std 1**.
# Each layer multiplies the variance by $n_\text{in}\mathrm{Var}(w) = 128$ before the $\tanh$,
# so almost every unit sits in the flat tails at $\pm1$: the network is *saturated*.

# %%
def pick_layers(arrays):
    chosen = sorted({0, 1, depth // 2, depth - 1})
    return {f"layer {i + 1}": arrays[i] for i in chosen}


plt.close("all")
plots.histograms(pick_layers(results["tanh, std 1"][0]), title="tanh, std 1: activations")

# %% [markdown]
# Where $\tanh$ saturates its derivative $1 - \tanh^2$ is about 0, so you might expect the
# gradient to vanish. Look at the gradient histograms instead (note the x-axis scales): they
# *widen* from the top layer to the first. Each multiplication by $W^\top$ multiplies the
# gradient's std by $\sqrt{n_\text{out}}\,\mathrm{std}(w) \approx \sqrt{128} \approx 11$, and the
# few unsaturated units let enough of it through: the gradients **explode** while the
# activations are stuck at $\pm1$. Bad in both directions at once.

# %%
plots.histograms(pick_layers(results["tanh, std 1"][1]), title="tanh, std 1: gradients dL/d(activation)")

# %% [markdown]
# With Xavier initialisation (gain $5/3$) the activations keep a healthy spread in every layer:

# %%
plots.histograms(pick_layers(results["tanh, Xavier"][0]), title="tanh, Xavier: activations")

# %% [markdown]
# ReLU with Kaiming initialisation: about half of every layer is exactly 0 (the spike at 0,
# `zeros` in the titles), and the positive half keeps the same spread from layer to layer.

# %%
plots.histograms(pick_layers(results["relu, Kaiming"][0]), title="relu, Kaiming: activations")

# %% [markdown]
# Sigmoid, even with Xavier's scale: the gradients shrink by a factor of 4 or more per layer
# going down, because $\sigma'(y) = \sigma(y)(1 - \sigma(y)) \le 1/4$.

# %%
plots.histograms(pick_layers(results["sigmoid, Xavier"][1]), title="sigmoid, Xavier: gradients dL/d(activation)")

# %% [markdown]
# And the whole picture in one figure: the standard deviation of the activations and of their
# gradients, layer by layer, for all six stacks (log scale).

# %%
fig, (ax_a, ax_g) = plt.subplots(1, 2, figsize=(11, 4))
layers = np.arange(1, depth + 1)
for name, (acts, grads) in results.items():
    ax_a.semilogy(layers, [a.std() for a in acts], "o-", ms=3, label=name)
    ax_g.semilogy(layers, [g.std() for g in grads], "o-", ms=3, label=name)
ax_a.set(title="std of activations", xlabel="layer")
ax_g.set(title="std of dL/d(activation)", xlabel="layer")
ax_g.legend(fontsize=8)
plt.show()

# %% [markdown]
# Read the right panel from right (the top, where the gradient enters) to left (layer 1):
#
# * **std 0.01**, tanh or ReLU: activations vanish going up and gradients vanish going down,
#   each layer multiplying by about $\sqrt{128 \cdot 10^{-4}} \approx 0.11$ (tanh; half
#   that variance for ReLU);
# * **tanh, std 1**: saturated activations and *exploding* gradients, growing on the way
#   down (the weights are too large for the backward pass, whatever the activation does);
# * **sigmoid, Xavier**: $\sigma'(y) \le 1/4$, so even at the best scale each layer cuts the
#   gradient by at least 4, and the outputs are not centred (mean 1/2): sigmoid is a poor
#   hidden activation for deep stacks;
# * **tanh Xavier** and **ReLU Kaiming** keep both curves roughly flat: the signal and its
#   gradient reach every layer.
#
# ### Exercise 5 (predict): the per-layer factor
#
# For the ReLU stack with std 0.01, the root mean square of the activations,
# $\sqrt{\mathbb{E}[x^2]}$, shrinks by a constant factor per layer. Predict that factor from
# section 2, in terms of `width` and the weights' std `w_std`. The cell after the check
# measures it (geometric mean over the layers: one random matrix alone scatters by ~10 %).

# %% tags=["exercise"] exercise_id="07-relu-shrink-factor"
w_std = 0.01
factor = ...

_ = check("07-relu-shrink-factor", factor, width=width, w_std=w_std)

# %%
acts_relu_small = results["relu, std 0.01"][0]
rms = [math.sqrt((a**2).mean()) for a in acts_relu_small]
measured_factor = (rms[-1] / rms[0]) ** (1 / (depth - 1))
predicted_factor = result("07-relu-shrink-factor", factor, width=width, w_std=w_std)
print(f"measured factor per layer {measured_factor:.4f}, predicted {predicted_factor:.4f}")

# %% [markdown]
# ## 4. Diagnosing a real network: `GradientMonitor`
#
# In practice you do not probe by hand. `minigrad.debug.GradientMonitor(model)` hooks every
# layer; call `monitor.step()` after each `optimizer.step()` and `monitor.report()` prints the
# gradient norm of every layer, the activation statistics, the update:weight ratio and flags
# (`vanishing`, `saturated`, `dead`, ...). We train a deep sigmoid MLP on the two moons with
# PyTorch's default initialisation. The monitor guesses the kind of a layer it does not know
# from its output range, so we tell it that the `Linear` layers are linear (`kinds=`).

# %%
X, Y = make_moons(n_samples=pick(512, 256), noise=0.1, seed=0)
X_t, Y_t = mg.tensor(X), mg.tensor(Y)


N_HIDDEN = 8


def deep_mlp(activation, kaiming=False, hidden=32):
    layers = [nn.Linear(2, hidden), ACTIVATIONS[activation]()]
    for _ in range(N_HIDDEN - 1):
        layers += [nn.Linear(hidden, hidden), ACTIVATIONS[activation]()]
    model = nn.Sequential(*layers, nn.Linear(hidden, 2))
    if kaiming:
        for module in model:
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
    return model


TRAIN_STEPS = pick(30, 10)


def train_and_monitor(model, steps=TRAIN_STEPS):
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    linear_kinds = {name: "linear" for name, m in model.named_children() if isinstance(m, nn.Linear)}
    with GradientMonitor(model, kinds=linear_kinds) as monitor:
        for _ in range(steps):
            loss = F.cross_entropy(model(X_t), Y_t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            monitor.step(loss=loss.item())
    return monitor


mg.manual_seed(1)
sigmoid_monitor = train_and_monitor(deep_mlp("sigmoid"))
print(sigmoid_monitor.report())

# %% [markdown]
# The gradient norm (`grad norm`) falls by roughly a factor of 5 to 10 per sigmoid layer from
# the output back to layer `0`, and the monitor flags the first layers `vanishing`: their
# gradient is less than $10^{-3}$ of the largest layer's, so they barely learn (see the
# `update` column, the relative change of the weights in one step). The `exploding` flags on
# the last layers are relative too: they are more than 100 times the *median* layer, which the
# vanishing layers drag down. The loss has hardly moved from $\log 2 \approx 0.693$.
#
# The same depth with ReLU and Kaiming initialisation for comparison:

# %%
mg.manual_seed(1)
relu_monitor = train_and_monitor(deep_mlp("relu", kaiming=True))
print(relu_monitor.report())

# %% [markdown]
# `monitor.plot()` draws the per-layer gradient norms and update ratios over the training
# steps (here for the sigmoid network): the early layers sit orders of magnitude below the last.

# %%
sigmoid_monitor.plot()

# %% [markdown]
# ## Summary
#
# * A linear layer multiplies the variance by $n_\text{in}\mathrm{Var}(w)$ going forward and
#   by $n_\text{out}\mathrm{Var}(w)$ going backward; over many layers the product vanishes or
#   explodes unless it is about 1.
# * Xavier ($2/(n_\text{in}+n_\text{out})$, gain $5/3$ for tanh) and Kaiming ($2/n_\text{in}$
#   for ReLU) choose $\mathrm{Var}(w)$ to keep it at 1.
# * Saturating activations (sigmoid, tanh at large inputs) shrink gradients; ReLU does not,
#   but can die. Normalisation layers and residual connections help further; this course's
#   twelve lessons do not cover them (minigrad has `nn.LayerNorm` and `nn.BatchNorm1d`, with
#   PyTorch's semantics, if you want to try them on the deep sigmoid stack above).
# * `GradientMonitor` shows all of this on a real training run.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/07_initialisation_activations_and_vanishing_gradients.py`.
#
# 1. Why does the variance of a linear layer's output grow with $n_\text{in}$?
# 2. Why does the backward pass care about $n_\text{out}$ rather than $n_\text{in}$, and how does Xavier reconcile the two?
# 3. Where does the factor 2 in Kaiming's $\mathrm{Var}(w) = 2/n_\text{in}$ come from?
# 4. Why did the tanh stack with std 1 have saturated activations *and* exploding gradients at the same time?
# 5. Why is sigmoid a poor hidden activation for a deep stack, even with Xavier's scale?
# 6. What does `GradientMonitor`'s `vanishing` flag compare, and why is it relative?
#
# ## Checks

# %%
measured = y.numpy().var()
assert abs(measured / predicted_var - 1) < 0.1, "Var(out) = n_in Var(w) Var(in) must hold"
assert abs(ratio - 1) < 0.05
assert abs(w.numpy().std() / math.sqrt(2 / fan_in) - 1) < 0.01
assert w_x.numpy().max() <= bound and w_x.numpy().max() > 0.98 * bound
assert abs(measured_factor / predicted_factor - 1) < 0.05, "the predicted shrink factor matches"

std_of = {name: ([a.std() for a in acts], [g.std() for g in grads]) for name, (acts, grads) in results.items()}
act_std, grad_std = std_of["tanh, Xavier"]
assert min(act_std) > 0.3 and max(act_std) < 1.0, "Xavier keeps tanh activations in range"
assert grad_std[0] / grad_std[-1] > 0.1, "Xavier keeps tanh gradients alive"
act_std, grad_std = std_of["relu, Kaiming"]
rms_k = [math.sqrt((a**2).mean()) for a in results["relu, Kaiming"][0]]
assert 0.5 < rms_k[-1] / rms_k[0] < 2, "Kaiming preserves the second moment through ReLUs"
assert std_of["tanh, std 0.01"][0][-1] < 1e-5 and std_of["relu, std 0.01"][1][0] < 1e-5
assert np.mean(np.abs(results["tanh, std 1"][0][-1]) > 0.99) > 0.5, "std 1 saturates tanh"
assert std_of["tanh, std 1"][1][0] > 10 * std_of["tanh, std 1"][1][-1], "and its gradients explode"
assert std_of["sigmoid, Xavier"][1][0] < 1e-3 * std_of["sigmoid, Xavier"][1][-1]

sig = sigmoid_monitor.last.layers
assert "vanishing" in sig["0"].flags, sig["0"].flags
assert sig["0"].grad_norm < 1e-3 * sig[str(2 * N_HIDDEN)].grad_norm
relu = relu_monitor.last.layers
assert relu["0"].grad_norm > 1e-2 * relu[str(2 * N_HIDDEN)].grad_norm
print("all checks passed")
