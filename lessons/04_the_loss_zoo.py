# %% [markdown]
# # Lesson 4: The loss zoo
#
# A loss turns a prediction and a target into one number. Training never looks at that
# number directly: it follows the loss's **gradient**. So to understand a loss you need two
# pictures, the loss itself and its derivative, and this lesson draws both for the losses you
# will meet most often:
#
# * regression: **MSE**, **L1**, **Huber**;
# * classification: **hinge**, **binary cross-entropy (BCE)**, **cross-entropy**, **focal**.
#
# You will also see why a naive `log(softmax(x))` turns into NaN on large logits while
# minigrad's cross-entropy does not, derive the famous gradient of cross-entropy with respect
# to the logits by hand, and watch three regression losses disagree about a line with
# outliers.
#
# Every gradient in this lesson is computed by minigrad's autograd and then compared with the
# closed form on paper, most of which you derive yourself in the exercises: if the two ever
# disagreed, the engine (or the paper) would be wrong.
#
# *Time: about 60 minutes. Needs: lessons 1-3 (tensors, `backward()`).*

# %%
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check_function, pick, result

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import make_regression_outliers

mg.manual_seed(0)
print("smoke mode" if SMOKE else "full mode")

# %% [markdown]
# ## 1. Two kinds of argument: the error and the margin
#
# A regression loss depends only on the **error** $d = x - y$ (prediction minus target).
# A binary classifier outputs a score (a *logit*) $x$ and the label is $y \in \{-1, +1\}$;
# its loss depends only on the **margin** $m = y\,x$, which is positive when the sign is right
# and large when the classifier is confident.
#
# Plotting each loss against $d$ or $m$ therefore shows everything about it. To get the
# gradient we let autograd do the work: put a whole grid of values in one tensor, compute the
# per-element loss (`reduction='none'`), sum it and call `backward()`. Because each element's
# loss depends only on its own input, the gradient of the sum is the derivative at every
# grid point.

# %%
def loss_and_grad(loss_fn, grid):
    """Per-element loss values and d loss / d input at every point of `grid`, by autograd."""
    x = mg.tensor(grid, requires_grad=True)           # float64: exact enough to compare
    values = loss_fn(x)
    values.sum().backward()
    return values.detach().numpy(), x.grad.numpy()


d = np.linspace(-3, 3, 601)
zeros = mg.zeros(d.shape, dtype=mg.float64)

# %% [markdown]
# ## 2. Regression losses
#
# | loss | value $\ell(d)$ | derivative $\ell'(d)$ |
# |---|---|---|
# | MSE | $d^2$ | $2d$ |
# | L1 | $\lvert d\rvert$ | $\operatorname{sign}(d)$ |
# | Huber ($\delta$) | $\tfrac12 d^2$ if $\lvert d\rvert<\delta$, else $\delta(\lvert d\rvert-\tfrac12\delta)$ | Exercise 1 |
#
# MSE's gradient grows with the error, so one far-away point can pull as hard as many close
# ones. L1's gradient has the same size everywhere. Huber is MSE near zero (smooth, gentle
# steps at the optimum) and L1 far away (bounded pull from outliers).
#
# ### Exercise 1 (derive): Huber's gradient
#
# Differentiate both pieces of the Huber loss and write $\ell'(d)$ as numpy code: the body of
# `huber_grad(d, delta)` for an array of errors `d`. The check compares it with autograd on
# random errors and $\delta$s; the next cell uses it as the closed form of the table.

# %% tags=["exercise"] exercise_id="04-huber-grad"
def huber_grad(d, delta):
    """d/dd of the Huber loss with threshold delta, elementwise."""
    raise NotImplementedError("your code here")


check_function("04-huber-grad", huber_grad)

# %%
huber_grad = result("04-huber-grad", huber_grad)
delta = 1.0
regression = {
    "MSE": (lambda x: F.mse_loss(x, zeros, reduction="none"), d**2, 2 * d),
    "L1": (lambda x: F.l1_loss(x, zeros, reduction="none"), np.abs(d), np.sign(d)),
    "Huber": (lambda x: F.huber_loss(x, zeros, reduction="none", delta=delta),
              np.where(np.abs(d) < delta, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta)),
              huber_grad(d, delta)),
}
reg_results = {}
for name, (fn, value_closed, grad_closed) in regression.items():
    value, grad = loss_and_grad(fn, d)
    reg_results[name] = (value, grad)
    print(f"{name:6s} value matches closed form: {np.allclose(value, value_closed)}, "
          f"gradient matches: {np.allclose(grad, grad_closed)}")

# %%
fig, (ax_l, ax_g) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, (value, grad) in reg_results.items():
    ax_l.plot(d, value, label=name)
    ax_g.plot(d, grad, label=name)
ax_l.set(title="loss", xlabel="error d = x - y", ylim=(0, 5))
ax_g.set(title="gradient (autograd)", xlabel="error d = x - y")
ax_l.legend()
plt.show()

# %% [markdown]
# ## 3. Classification losses as functions of the margin
#
# With $\sigma(x) = 1/(1+e^{-x})$ the probability of the true class is $p = \sigma(m)$:
#
# | loss | value $\ell(m)$ | derivative $\ell'(m)$ |
# |---|---|---|
# | hinge | $\max(0, 1-m)$ | $-1$ if $m<1$, else $0$ |
# | BCE (logistic) | $-\log \sigma(m) = \log(1+e^{-m})$ | $-\sigma(-m) = p - 1$ |
# | focal ($\gamma$) | $-(1-p)^\gamma \log p$ | Exercise 2 |
# | cross-entropy, 2 classes, logits $(0, m)$ | $-\log \mathrm{softmax}(0, m)_1 = \log(1+e^{-m})$ | $p - 1$ |
#
# Cross-entropy with two classes *is* the logistic loss: only the difference of the two logits
# matters. The focal loss multiplies BCE by $(1-p)^\gamma$, which is tiny for examples that are
# already right and confident, so training concentrates on the hard ones.
#
# In minigrad the binary losses take 0/1 targets, so we use target 1 and let the logit be the
# margin. For the focal loss `alpha=-1` switches off the class weighting.
#
# ### Exercise 2 (derive): the focal loss's gradient
#
# Differentiate $-(1-p)^\gamma \log p$ with respect to the margin $m$, where $p = \sigma(m)$
# and $\frac{dp}{dm} = p(1-p)$, and write it as the body of `focal_grad(m, gamma)` (numpy,
# elementwise). The check compares it with autograd on random margins and $\gamma$s.

# %% tags=["exercise"] exercise_id="04-focal-grad"
def focal_grad(m, gamma):
    """d/dm of the binary focal loss -(1 - p)^gamma log p, p = sigmoid(m), elementwise."""
    raise NotImplementedError("your code here")


check_function("04-focal-grad", focal_grad)

# %%
focal_grad = result("04-focal-grad", focal_grad)
m = np.linspace(-4, 4, 801)
ones = mg.ones(m.shape, dtype=mg.float64)
gamma = 2.0
p = 1 / (1 + np.exp(-m))


def two_class_ce(x):
    logits = mg.stack([mg.zeros(x.shape, dtype=mg.float64), x], dim=1)   # (N, 2)
    return F.cross_entropy(logits, mg.ones(x.shape, dtype=mg.int64), reduction="none")


classification = {
    "hinge": (lambda x: F.hinge_loss(x, ones, reduction="none"),
              np.maximum(0, 1 - m), np.where(m < 1, -1.0, 0.0)),
    "BCE": (lambda x: F.binary_cross_entropy_with_logits(x, ones, reduction="none"),
            np.log1p(np.exp(-m)), p - 1),
    "focal γ=2": (lambda x: F.sigmoid_focal_loss(x, ones, alpha=-1, gamma=gamma),
                  -(1 - p) ** gamma * np.log(p), focal_grad(m, gamma)),
    "cross-entropy": (two_class_ce, np.log1p(np.exp(-m)), p - 1),
}
cls_results = {}
for name, (fn, value_closed, grad_closed) in classification.items():
    value, grad = loss_and_grad(fn, m)
    cls_results[name] = (value, grad)
    print(f"{name:14s} value matches closed form: {np.allclose(value, value_closed)}, "
          f"gradient matches: {np.allclose(grad, grad_closed)}")

# %%
fig, (ax_l, ax_g) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, (value, grad) in cls_results.items():
    style = ":" if name == "cross-entropy" else "-"
    ax_l.plot(m, value, style, label=name)
    ax_g.plot(m, grad, style, label=name)
ax_l.set(title="loss", xlabel="margin m = y x", ylim=(0, 5))
ax_g.set(title="gradient (autograd)", xlabel="margin m = y x")
ax_l.legend()
plt.show()

# %% [markdown]
# Read the gradient panel from right to left:
#
# * **hinge** stops pushing as soon as the margin passes 1: correct, confident points are
#   ignored, only the points near the boundary (the *support vectors*) matter;
# * **BCE / cross-entropy** never stop pushing, but ever more gently, and the push is at most
#   1 in size however wrong the prediction: the gradient never saturates on a wrong answer;
# * **focal** is almost flat for $m > 1$: easy examples contribute next to nothing.
#
# The focal loss also exists for $C$ classes on logits, `F.focal_loss(logits, labels, gamma=...)`:
# $-(1 - p_y)^\gamma \log p_y$ with $p = \mathrm{softmax}(z)$. With $\gamma = 0$ it *is*
# cross-entropy; with $\gamma = 2$ an easy sample ($p_y$ close to 1) loses almost all its weight
# while a hard one keeps most of it:

# %%
logits3 = mg.tensor([[4.0, 0.0, 0.0], [0.0, 0.5, 0.0]])     # sample 0 easy, sample 1 hard
labels3 = mg.tensor([0, 0])
ce3 = F.cross_entropy(logits3, labels3, reduction="none")
print("cross-entropy        ", ce3)
print("focal, gamma = 0     ", F.focal_loss(logits3, labels3, gamma=0.0, reduction="none"))
print("focal, gamma = 2     ", F.focal_loss(logits3, labels3, gamma=2.0, reduction="none"))
print("focal / CE, gamma = 2", F.focal_loss(logits3, labels3, gamma=2.0, reduction="none") / ce3)

# %% [markdown]
# ### Exercise 3 (derive): BCE on probabilities
#
# Before logits, binary cross-entropy is written on a probability $p \in (0, 1)$ and a 0/1
# label $t$: $\ell(p, t) = -[t \log p + (1 - t) \log(1 - p)]$ (`F.binary_cross_entropy`).
# Write $\partial \ell / \partial p$ as the body of `bce_grad_p(p, t)`. The check compares
# it with autograd on random probabilities and labels.

# %% tags=["exercise"] exercise_id="04-bce-from-probabilities"
def bce_grad_p(p, t):
    """d/dp of -[t log p + (1 - t) log(1 - p)], elementwise, for labels t in {0, 1}."""
    raise NotImplementedError("your code here")


check_function("04-bce-from-probabilities", bce_grad_p)

# %% [markdown]
# ### Exercise 4 (derive): from the margin form to 0/1 labels
#
# The table above writes the logistic loss with a $\pm 1$ label $y$ and the margin $m = yx$:
# $\ell = \log(1 + e^{-m})$, $\ell'(m) = \sigma(m) - 1$. minigrad's
# `F.binary_cross_entropy_with_logits(x, t)` takes a 0/1 label $t$ instead. Map $t$ to $y$,
# apply the chain rule through $m = yx$, and write $\partial \ell / \partial x$ in terms of
# the logit $x$ and the 0/1 label $t$ as the body of `bce_logit_grad(x, t)`. The check
# compares it with autograd.

# %% tags=["exercise"] exercise_id="04-bce-margin-mapping"
def bce_logit_grad(x, t):
    """d/dx of binary cross-entropy on the logit x with a 0/1 label t, elementwise."""
    raise NotImplementedError("your code here")


check_function("04-bce-margin-mapping", bce_logit_grad)

# %% [markdown]
# ## 4. Why `log(softmax(x))` overflows and log-sum-exp does not
#
# Cross-entropy needs $\log \mathrm{softmax}(z)_y = z_y - \log \sum_j e^{z_j}$. Computed
# naively, $e^{1000}$ does not fit in a float (the largest float64 is about $1.8\cdot10^{308}
# \approx e^{709.8}$), so the sum is `inf` and the quotient $\infty/\infty$ is NaN. And a
# logit of $-1000$ gives $e^{-1000} = 0$, whose log is $-\infty$.
#
# The cure is the **log-sum-exp trick**: for any constant $c$,
#
# $$\log \sum_j e^{z_j} = c + \log \sum_j e^{z_j - c},$$
#
# and with $c = \max_j z_j$ the largest exponent is $e^0 = 1$: nothing overflows, and the sum
# is at least 1, so its log is finite.

# %%
z = np.array([[1000.0, 0.0, -1000.0]])
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    naive_softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    naive_log_softmax = np.log(naive_softmax)
print("naive softmax:      ", naive_softmax)
print("naive log(softmax): ", naive_log_softmax)

logits = mg.tensor(z)
print("minigrad log_softmax:", F.log_softmax(logits, dim=1))
for target in (0, 1, 2):
    print(f"cross_entropy, target {target}:", F.cross_entropy(logits, mg.tensor([target])).item())

# %% [markdown]
# The exact answers are $\log\mathrm{softmax} = (0, -1000, -2000)$ up to $e^{-1000}$, which is
# what minigrad returns. The gradient is finite too (you will derive it next).
#
# ### Exercise 5 (spot the bug): a log-softmax that overflows
#
# `my_log_softmax` below is the textbook formula and it is right on paper; on logits such as
# $z$ above it returns NaN and $-\infty$. Fix it with the log-sum-exp trick (numpy only,
# rows of a 2-d array). The check runs it on random logits of size up to $10^3$ against a
# reference.

# %% tags=["exercise"] exercise_id="04-log-softmax-overflow"
def my_log_softmax(z):
    """log(softmax(z)) of each row of the 2-d array z."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))


check_function("04-log-softmax-overflow", my_log_softmax)

# %% [markdown]
# ## 5. The gradient of cross-entropy, by hand
#
# For one sample with logits $z \in \mathbb{R}^C$ and label $y$, let $p = \mathrm{softmax}(z)$:
#
# $$\ell = -\log p_y = -z_y + \log \sum_j e^{z_j}.$$
#
# ### Exercise 6 (derive): dL/dlogits
#
# Differentiate $\ell$ with respect to one logit $z_k$ (two cases: $k = y$ and $k \ne y$;
# the derivative of $\log \sum_j e^{z_j}$ is a familiar function). The batch loss with
# `reduction='mean'` is $L = \frac1N\sum_n \ell_n$. Write $\partial L / \partial Z$ for a
# batch of logits `Z` (N, C) and integer labels `y` (N,) as the body of `ce_dlogits(Z, y)`
# (numpy only). The check compares it with autograd on random batches.

# %% tags=["exercise"] exercise_id="04-ce-dlogits"
def ce_dlogits(Z, y):
    """dL/dZ of the mean cross-entropy of logits Z (N, C) and labels y (N,)."""
    raise NotImplementedError("your code here")


check_function("04-ce-dlogits", ce_dlogits)

# %%
ce_dlogits = result("04-ce-dlogits", ce_dlogits)
N, C = 6, 4
rng = np.random.default_rng(1)
Z = rng.normal(0, 3, size=(N, C))
y = rng.integers(0, C, size=N)

Z_t = mg.tensor(Z, requires_grad=True)
F.cross_entropy(Z_t, mg.tensor(y)).backward()

dlogits_by_hand = ce_dlogits(Z, y)
print("max |by hand - autograd| =", np.abs(dlogits_by_hand - Z_t.grad.numpy()).max())
print("rows sum to", np.round(Z_t.grad.numpy().sum(1), 12))
print(f"entries lie in [{Z_t.grad.numpy().min():.4f}, {Z_t.grad.numpy().max():.4f}], 1/N = {1 / N:.4f}")

# %% [markdown]
# The answer is $\partial L/\partial Z = (\mathrm{softmax}(Z) - \mathrm{onehot}(y))/N$.
# Each row sums to zero: raising the correct logit is always paired with lowering the others.
# And every entry lies in $(-1/N, 1/N)$: the gradient is bounded however wrong the logits.
#
# The same formula holds at the extreme logits of section 4: the gradient is
# $(1, 0, 0) - \mathrm{onehot}(y)$, finite and exact.

# %%
Z_big = mg.tensor(z, requires_grad=True)
F.cross_entropy(Z_big, mg.tensor([1])).backward()
print("gradient at logits (1000, 0, -1000), target 1:", Z_big.grad)

# %% [markdown]
# ## 6. Outliers: MSE vs Huber vs L1 fitting a line
#
# `make_regression_outliers` draws points on the line $y = 2x + 1$ with a little noise, then
# throws 10 % of them 10 to 20 units up or down. We fit $\hat y = wx + b$ three times, with
# each loss, by gradient descent on the full batch. The optimizer is Adam, which lesson 06
# explains; here it is only a tool that converges with the same learning rate for all three
# losses (plain gradient descent reaches the same lines, in more steps).
#
# What should we expect? Minimising $\sum (y_i - c)^2$ over a constant gives the **mean**;
# minimising $\sum \lvert y_i - c\rvert$ gives the **median**. The mean moves with every
# outlier, the median does not. Huber behaves like the mean for small residuals and like the
# median for large ones.

# %%
X, Y = make_regression_outliers(n_samples=pick(200, 100), seed=0)
x_t, y_t = mg.tensor(X[:, 0]), mg.tensor(Y)
steps = pick(1500, 600)


def fit_line(loss_fn, steps=steps, lr=0.05):
    w = mg.zeros(1, requires_grad=True)
    b = mg.zeros(1, requires_grad=True)
    opt = mg.optim.Adam([w, b], lr=lr)
    for _ in range(steps):
        loss = loss_fn(x_t * w + b, y_t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.item(), b.item()


fits = {"MSE": fit_line(F.mse_loss), "Huber": fit_line(F.huber_loss), "L1": fit_line(F.l1_loss)}
for name, (w, b) in fits.items():
    print(f"{name:5s}: y = {w:.3f} x + {b:.3f}   (truth: y = 2 x + 1)")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(X[:, 0], Y, s=10, c="grey", label="data")
grid = np.linspace(-3, 3, 2)
for name, (w, b) in fits.items():
    ax.plot(grid, w * grid + b, label=f"{name}: {w:.2f}x + {b:.2f}")
ax.plot(grid, 2 * grid + 1, "k--", label="truth")
ax.set(xlabel="x", ylabel="y", title="fitting a line to data with outliers")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The MSE line is dragged towards the outliers; Huber and L1 stay close to the truth.
#
# ### Exercise 7 (implement): the MSE fit has a closed form
#
# Minimising the mean squared error of a line is ordinary least squares. Write
# `least_squares_line(x, y)` returning `(w, b)` for 1-d arrays `x` and `y`, solving it in
# closed form (normal equations or `np.linalg.lstsq` on a design matrix). The check compares
# it with a reference on random data; the cell after compares it with the line gradient
# descent found above: two independent routes to the same minimum.

# %% tags=["exercise"] exercise_id="04-least-squares"
def least_squares_line(x, y):
    """(w, b) minimising mean((w x + b - y)^2), in closed form."""
    raise NotImplementedError("your code here")


check_function("04-least-squares", least_squares_line)

# %%
least_squares_line = result("04-least-squares", least_squares_line)
w_ls, b_ls = least_squares_line(X[:, 0].astype(np.float64), Y.astype(np.float64))
print(f"least squares: y = {w_ls:.3f} x + {b_ls:.3f};  MSE by gradient descent: "
      f"y = {fits['MSE'][0]:.3f} x + {fits['MSE'][1]:.3f}")

# %% [markdown]
# ### Exercise 8 (spot the bug): a target that requires grad
#
# "Soft bootstrapping" (Reed et al., 2015) trains against a blend of the label and the
# model's own prediction, $\tilde y = \beta y + (1 - \beta)\hat y$, to soften noisy labels.
# The blend is meant to be a fixed **target** for this step. `bootstrapped_grad` computes
# $\partial L/\partial w$ for the line $\hat y = wx$ with that loss, and its gradient is
# wrong. Find the one mistake and fix it; the check compares the gradient with a reference.

# %% tags=["exercise"] exercise_id="04-target-requires-grad"
def bootstrapped_grad(w, x, y, beta=0.8):
    """dL/dw for L = mse(w x, beta y + (1 - beta) w x), the blend being a fixed target."""
    w = mg.tensor(w, dtype=mg.float64, requires_grad=True)
    pred = mg.tensor(x) * w
    target = beta * mg.tensor(y) + (1 - beta) * pred
    F.mse_loss(pred, target).backward()
    return w.grad.item()


check_function("04-target-requires-grad", bootstrapped_grad)

# %% [markdown]
# ## 7. Choosing a loss
#
# [docs/losses.md](../docs/losses.md) has a table of every minigrad loss: formula, task,
# behaviour with outliers and gradient. Its "how to choose" summary:
#
# * **Classification (one label per sample)**: `CrossEntropyLoss` on raw logits. Do not
#   apply softmax first; it is inside, computed stably with log-sum-exp (section 4).
#   `label_smoothing=0.1` often helps generalisation. Use `NLLLoss` only if you already have
#   log-probabilities.
# * **Regression**: `MSELoss` by default. If the data has outliers, `L1Loss` (predicts the
#   median) or `HuberLoss` / `SmoothL1Loss` (MSE near zero, L1 far away); `LogCoshLoss` is a
#   smooth alternative with no parameter. Counts: `PoissonNLLLoss`. When the model should
#   also predict its uncertainty: `GaussianNLLLoss`.
# * **Binary and multi-label** (several independent yes/no per sample): `BCEWithLogitsLoss`
#   on logits. Prefer it to `sigmoid` + `BCELoss`: it is exact for any logit, while BCE has
#   to clamp its logs at −100 and its gradient at 1e-12.
# * **Imbalanced data**: weighted cross-entropy (`weight=` inverse class frequencies,
#   e.g. $w_c = N/(C\,n_c)$); `pos_weight = n_neg/n_pos` for BCEWithLogits; focal loss to
#   down-weight easy examples; Dice or Tversky for segmentation masks with tiny foregrounds;
#   class-balanced weights for long-tailed label distributions.
# * **Sequences without alignment** (speech, handwriting): `CTCLoss`.
# * **Ranking and metric learning**: MarginRanking, BPR, Triplet, CosineEmbedding.
# * **Distributions** (distillation, soft targets): `KLDivLoss(reduction='batchmean')` with
#   log-probabilities as input, or `CrossEntropyLoss` with probability targets.
#
# A max-margin classifier (an SVM) uses the hinge loss of section 3.

# %% [markdown]
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/04_the_loss_zoo.py`.
#
# 1. Why does one outlier pull an MSE fit much harder than an L1 fit?
# 2. What does Huber's $\delta$ control, and what happens as $\delta$ goes to 0 or to infinity?
# 3. Why is cross-entropy with two classes the same as the logistic loss?
# 4. Why does the hinge loss ignore points with a margin above 1, and why does the focal loss nearly ignore them?
# 5. Why should you pass raw logits to `cross_entropy` rather than `log(softmax(x))`?
# 6. Why is `BCEWithLogitsLoss` preferred to `sigmoid` followed by `BCELoss`?
# 7. What goes wrong when a loss's target is computed from the model without `detach()`?
#
# ## Checks
#
# These asserts would fail if minigrad computed a loss or a gradient wrongly.

# %%
for name, (fn, value_closed, grad_closed) in regression.items():
    value, grad = loss_and_grad(fn, d)
    assert np.allclose(value, value_closed) and np.allclose(grad, grad_closed), name
for name, (fn, value_closed, grad_closed) in classification.items():
    value, grad = loss_and_grad(fn, m)
    assert np.allclose(value, value_closed) and np.allclose(grad, grad_closed), name

lsm = F.log_softmax(mg.tensor(z), dim=1).numpy()
assert np.all(np.isfinite(lsm)) and np.allclose(lsm, [[0.0, -1000.0, -2000.0]])
assert np.isnan(naive_log_softmax).any() or np.isinf(naive_log_softmax).any()
assert np.allclose(Z_big.grad.numpy(), [[1.0, -1.0, 0.0]])

assert np.allclose(F.focal_loss(logits3, labels3, gamma=0.0, reduction="none").numpy(), ce3.numpy())
p3 = np.exp(logits3.numpy()) / np.exp(logits3.numpy()).sum(1, keepdims=True)
assert np.allclose(F.focal_loss(logits3, labels3, gamma=2.0, reduction="none").numpy(),
                   -(1 - p3[:, 0]) ** 2 * np.log(p3[:, 0]), rtol=1e-5)
assert np.allclose(Z_t.grad.numpy(), dlogits_by_hand)
assert np.abs(Z_t.grad.numpy()).max() < 1 / N
assert np.allclose(Z_t.grad.numpy().sum(1), 0.0)

residual = np.abs(Y - (2 * X[:, 0] + 1))     # the prose: 10 % of the points 10 to 20 units off
assert np.isclose((residual > 5).mean(), 0.1) and 9 < residual[residual > 5].min() < residual.max() < 21
assert np.allclose(fits["MSE"], (w_ls, b_ls), atol=1e-2)
assert abs(fits["L1"][0] - 2) < 0.15 and abs(fits["Huber"][0] - 2) < 0.15
assert abs(fits["MSE"][1] - 1) > abs(fits["Huber"][1] - 1)
print("all checks passed")
