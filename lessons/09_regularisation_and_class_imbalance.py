# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Regularisation and class imbalance
#
# Two things that the loss function alone does not tell you:
#
# 1. **Regularisation.** A big network can memorise a small noisy training set: the
#    training loss goes to zero while the validation loss climbs. Weight decay and dropout
#    push back. We first settle a classic confusion, *weight decay* versus an *L2 penalty*,
#    numerically: they are the same thing for SGD and two different things for Adam.
# 2. **Class imbalance.** With 95% of one class, "always predict the majority" scores 95%
#    accuracy and is useless. We compare weighted cross-entropy, focal, Dice and
#    class-balanced losses, and judge them with per-class precision, recall and F1.

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread: fastest for these tiny matrices (lesson 10)

# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
from minigrad import metrics, nn, optim
from minigrad.data import make_blobs, make_moons
from minigrad.nn import functional as F

print("smoke mode:", SMOKE)

# %% [markdown]
# ## 1. Weight decay versus L2, under SGD
#
# An **L2 penalty** adds $\frac{\lambda}{2}\|w\|^2$ to the loss, so the gradient becomes
# $g + \lambda w$. **Weight decay** shrinks the weights directly at every step. For plain
# SGD the two updates are literally the same formula:
#
# $$w \leftarrow w - \eta\,(g + \lambda w) = (1 - \eta\lambda)\,w - \eta\,g.$$
#
# minigrad's `SGD(weight_decay=λ)` adds $\lambda w$ to the gradient (like PyTorch), so
# training with it must follow *exactly* the same trajectory as training the penalised loss.

# %%
A = mg.tensor([[0.5, 1.0, -1.0], [2.0, -0.5, 0.3]], dtype=mg.float64)
b = mg.tensor([1.0, -1.0], dtype=mg.float64)
LAM, LR, STEPS = 0.1, 0.05, 50


def trajectory(opt_cls, weight_decay=0.0, l2=0.0, steps=STEPS, **kw):
    """Minimise ||A w - b||^2 (+ l2/2 ||w||^2) from a fixed start; return w after each step."""
    w = mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, requires_grad=True)
    opt = opt_cls([w], lr=LR, weight_decay=weight_decay, **kw)
    path = []
    for _ in range(steps):
        loss = ((A @ w - b) ** 2).sum() + (l2 / 2) * (w * w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


sgd_decay = trajectory(optim.SGD, weight_decay=LAM)
sgd_l2 = trajectory(optim.SGD, l2=LAM)
print("SGD weight decay:", sgd_decay[-1])
print("SGD + L2 penalty:", sgd_l2[-1])
print("largest difference along the whole path:", np.abs(sgd_decay - sgd_l2).max())

# %% [markdown]
# ### Exercise 1 (spot the bug): weight decay applied twice
#
# A hand-written SGD step with weight decay. It looks reasonable and its training runs, but
# it decays the weights more than `optim.SGD(weight_decay=...)` does. Find the extra decay
# and remove it; the check compares one step with `optim.SGD` on random weights.

# %% tags=["exercise"] exercise_id="09-weight-decay-twice"
def sgd_step(w, g, lr, weight_decay):
    """One SGD step with weight decay (PyTorch's coupled form) on numpy arrays."""
    g = g + weight_decay * w
    w = w * (1 - lr * weight_decay)
    return w - lr * g


_ = check_function("09-weight-decay-twice", sgd_step)

# %% [markdown]
# ## 2. ... and under Adam: Adam(weight_decay) is L2, AdamW is not
#
# Adam divides each gradient coordinate by a running RMS $\sqrt{\hat v}$. If the decay
# term $\lambda w$ is added to the gradient (`Adam(weight_decay=λ)`, "coupled"), it is
# divided too, so weights with large gradients are barely decayed. **AdamW** (Loshchilov &
# Hutter) decouples it:
#
# $$w \leftarrow (1 - \eta\lambda)\,w - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}.$$
#
# So `Adam(weight_decay=λ)` must equal Adam on the L2-penalised loss, and AdamW must differ.

# %%
adam_decay = trajectory(optim.Adam, weight_decay=LAM)
adam_l2 = trajectory(optim.Adam, l2=LAM)
adamw = trajectory(optim.AdamW, weight_decay=LAM)
print("Adam(weight_decay) vs Adam + L2, max difference:", np.abs(adam_decay - adam_l2).max())
print("Adam(weight_decay) vs AdamW,      max difference:", np.abs(adam_decay - adamw).max())
print(f"final |w|: Adam+L2 {np.linalg.norm(adam_l2[-1]):.4f}, AdamW {np.linalg.norm(adamw[-1]):.4f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, path in [("SGD decay = SGD + L2", sgd_decay), ("Adam(weight_decay) = Adam + L2", adam_decay),
                   ("AdamW", adamw)]:
    ax.plot(np.linalg.norm(path, axis=1), label=name)
ax.plot(np.linalg.norm(adam_l2, axis=1), "k:", label="Adam + L2 (dotted: on top)")
ax.set_xlabel("step")
ax.set_ylabel("$\\|w\\|$")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### Exercise 2 (derive): AdamW's first step in closed form
#
# Adam's *first* step is special: $\hat m_1 = g$ and $\hat v_1 = g^2$. Write AdamW's first
# step with numpy, from the starting $w_0 = (1, -2, 3)$ and the gradient
# $g_0 = 2A^\top(Aw_0 - b)$, using `LR`, `LAM` and Adam's $\epsilon = 10^{-8}$. The cell after
# the check compares it with the optimizer's first step.

# %% tags=["exercise"] exercise_id="09-adamw-first-step"
A_np, b_np, w0 = A.numpy(), b.numpy(), np.array([1.0, -2.0, 3.0])
g0 = 2 * A_np.T @ (A_np @ w0 - b_np)
w1 = ...

_ = check("09-adamw-first-step", w1, w0=w0, g0=g0, lr=LR, lam=LAM)

# %%
w1_used = result("09-adamw-first-step", w1, w0=w0, g0=g0, lr=LR, lam=LAM)
print("closed form:", w1_used, " AdamW:", adamw[0])

# %% [markdown]
# ## 3. Overfitting a small noisy dataset
#
# 40 noisy "two moons" points for training, 1,000 for validation, and a network far too big
# for them (two hidden layers of 128). Full-batch AdamW, three runs: no regularisation,
# weight decay, dropout. We record the training and validation loss (in `eval()` mode, so
# dropout is off) every 10 epochs.
#
# Dropout zeroes each activation with probability $p$ during training and scales the rest
# by $1/(1-p)$, so the expected activation is unchanged; a network cannot rely on any
# single unit and so cannot memorise individual points as easily.

# %%
X_tr, y_tr = make_moons(40, noise=0.35, seed=1)
X_va, y_va = make_moons(1000, noise=0.35, seed=2)
x_tr, t_tr = mg.from_numpy(X_tr.astype(np.float32)), mg.from_numpy(y_tr.astype(np.int64))
x_va, t_va = mg.from_numpy(X_va.astype(np.float32)), mg.from_numpy(y_va.astype(np.int64))
EPOCHS = pick(1500, 400)


def big_mlp(p_drop=0.0):
    drop = [nn.Dropout(p_drop)] if p_drop else []
    return nn.Sequential(nn.Linear(2, 128), nn.ReLU(), *drop, nn.Linear(128, 128), nn.ReLU(), *drop,
                         nn.Linear(128, 2))


def fit(weight_decay=0.0, p_drop=0.0, seed=0):
    mg.manual_seed(seed)
    model = big_mlp(p_drop)
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=weight_decay)
    history = {"train": [], "val": [], "val_acc": []}
    for epoch in range(EPOCHS):
        model.train()
        loss = F.cross_entropy(model(x_tr), t_tr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if epoch % 10 == 0 or epoch == EPOCHS - 1:
            model.eval()
            with mg.no_grad():
                history["train"].append(F.cross_entropy(model(x_tr), t_tr).item())
                logits_va = model(x_va)
                history["val"].append(F.cross_entropy(logits_va, t_va).item())
                history["val_acc"].append(metrics.accuracy(logits_va, t_va))
    return history


runs = {"none": fit(), "weight decay 1.0": fit(weight_decay=1.0), "dropout 0.5": fit(p_drop=0.5)}
for name, h in runs.items():
    print(f"{name:17s} train {h['train'][-1]:.4f}  val {h['val'][-1]:.4f}  gap {h['val'][-1] - h['train'][-1]:.4f}"
          f"  best val {min(h['val']):.4f}  val acc {h['val_acc'][-1]:.3f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.5), sharey=True)
for ax, (name, h) in zip(axes, runs.items()):
    epochs = np.arange(len(h["train"])) * 10
    ax.plot(epochs, h["train"], label="train")
    ax.plot(epochs, h["val"], label="validation")
    ax.set_yscale("log")
    ax.set_title(name)
    ax.set_xlabel("epoch")
axes[0].set_ylabel("cross-entropy")
axes[0].legend()
plt.show()

# %% [markdown]
# Without regularisation the training loss collapses towards zero and the validation loss
# climbs far above its best value: the network became *confident* on points that are
# really noise. Weight decay keeps the weights, and so the logits, small: the validation
# loss stays much closer to the training loss. Dropout narrows the gap too, but it slows
# memorisation rather than preventing it: its validation loss also ends well above its own
# best (the third panel). Note that the *best* validation loss of the three runs is similar
# (the `best val` column): early stopping at that point is itself a regulariser.
#
# ## 4. Class imbalance: a 95/5 dataset
#
# Two overlapping Gaussian blobs, 95% of class 0 and 5% of class 1. Accuracy is now a poor
# judge. For each class $c$, from the confusion matrix $C$ (rows: true, columns: predicted):
#
# $$\text{precision}_c = \frac{C_{cc}}{\sum_i C_{ic}},\qquad
# \text{recall}_c = \frac{C_{cc}}{\sum_j C_{cj}},\qquad
# F_1 = \frac{2PR}{P + R}.$$
#
# The **recall of the minority class** answers "of the rare cases, how many did we catch?"

# %%
def imbalanced(n, seed):
    n0 = int(0.95 * n)
    X0, _ = make_blobs(n0, noise=1.0, seed=seed, centers=np.array([[0.0, 0.0]]))
    X1, _ = make_blobs(n - n0, noise=1.0, seed=seed + 100, centers=np.array([[1.8, 1.8]]))
    X = np.concatenate([X0, X1]).astype(np.float32)
    y = np.r_[np.zeros(n0), np.ones(n - n0)].astype(np.int64)
    return X, y


X_train, y_train = imbalanced(2000, 0)
X_test, y_test = imbalanced(4000, 1)
counts = np.bincount(y_train)
print("training counts per class:", counts)
majority = np.zeros_like(y_test)
print("'always class 0' accuracy:", metrics.accuracy(majority, y_test),
      " minority recall:", metrics.precision_recall_f1(metrics.confusion_matrix(majority, y_test, 2))["recall"][1])

# %% [markdown]
# ### The losses
#
# - **Weighted cross-entropy**: $-\sum_n w_{y_n}\log p_{n,y_n} / \sum_n w_{y_n}$ with
#   inverse-frequency weights $w_c = N / (C\,n_c)$: every class carries the same total weight.
# - **Focal loss** (Lin et al.): $-\alpha_{y}(1-p_{y})^\gamma \log p_{y}$. The factor
#   $(1-p_y)^\gamma$ silences the many *easy* examples (mostly majority class), so the hard
#   ones dominate the gradient. $\gamma = 0$ gives cross-entropy back.
# - **Dice loss**: $1 - \frac{2\sum p g + s}{\sum p + \sum g + s}$ per class, averaged over
#   classes. It compares the predicted and the true *sets*, so a small class weighs as much
#   as a big one.
# - **Class-balanced loss** (Cui et al.): weights from the "effective number" of samples,
#   $w_c \propto \frac{1 - \beta}{1 - \beta^{n_c}}$, normalised to sum to $C$. $\beta = 0$
#   gives equal weights, $\beta \to 1$ inverse frequency.

# %%
x_train, t_train = mg.from_numpy(X_train), mg.from_numpy(y_train)
inverse_freq = mg.tensor(len(y_train) / (2 * counts), dtype=mg.float32)
BETA = 0.999
LOSSES = {
    "cross-entropy": lambda z, y: F.cross_entropy(z, y),
    "weighted CE": lambda z, y: F.cross_entropy(z, y, weight=inverse_freq),
    "focal (γ=2)": lambda z, y: F.focal_loss(z, y, gamma=2.0),
    "focal (γ=2, α=.25/.75)": lambda z, y: F.focal_loss(z, y, alpha=mg.tensor([0.25, 0.75]), gamma=2.0),
    "Dice": lambda z, y: F.dice_loss(z, y, mode="multiclass"),
    "class-balanced (β=.999)": lambda z, y: F.class_balanced_loss(z, y, counts, beta=BETA),
}
print("class-balanced weights:", F.class_balanced_weights(counts, BETA).numpy())

# %%
IMB_EPOCHS = pick(400, 250)
results, confusions = {}, {}
for name, loss_fn in LOSSES.items():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = optim.Adam(model.parameters(), lr=0.02)
    for _ in range(IMB_EPOCHS):
        loss = loss_fn(model(x_train), t_train)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with mg.no_grad():
        pred = model(mg.from_numpy(X_test)).numpy().argmax(1)
    confusions[name] = metrics.confusion_matrix(pred, y_test, 2)
    prf = metrics.precision_recall_f1(confusions[name])
    results[name] = dict(acc=metrics.accuracy(pred, y_test), p1=prf["precision"][1], r1=prf["recall"][1],
                         f1=prf["f1"][1], macro_f1=prf["f1"].mean())

print(f"{'loss':24s} {'accuracy':>8s} {'P(min)':>7s} {'R(min)':>7s} {'F1(min)':>7s} {'macro F1':>8s}")
for name, r in results.items():
    print(f"{name:24s} {r['acc']:8.3f} {r['p1']:7.3f} {r['r1']:7.3f} {r['f1']:7.3f} {r['macro_f1']:8.3f}")

# %%
fig, axes = plt.subplots(1, len(confusions), figsize=(3.0 * len(confusions), 3.0))
for ax, (name, cm) in zip(axes, confusions.items()):
    ax.imshow(np.log1p(cm), cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=10)
    ax.set_xticks([0, 1])
    ax.set_yticks([0, 1])
    ax.set_xlabel("predicted")
    ax.set_title(name, fontsize=9)
axes[0].set_ylabel("true")
fig.tight_layout()
plt.show()

# %% [markdown]
# %%
best_accuracy = max(results, key=lambda name: results[name]["acc"])
plain = ["cross-entropy", "focal (γ=2)", "Dice"]
print(f"highest accuracy: {best_accuracy} ({results[best_accuracy]['acc']:.3f}); "
      f"spread of accuracy among {', '.join(plain)}: "
      f"{max(results[k]['acc'] for k in plain) - min(results[k]['acc'] for k in plain):.3f}")

# %% [markdown]
# Read the table by columns. Cross-entropy, focal loss without $\alpha$ and Dice have almost
# the same accuracy (the spread printed above is under a percent, and which of them comes
# first is luck of the run) and all three miss a large part of the minority class: focal's
# $(1-p_y)^\gamma$ alone barely changes things on this easy-looking 2-D problem. The
# re-weighted losses (weighted CE, class-balanced, focal's $\alpha$) move the decision
# boundary towards the majority: minority recall jumps, precision drops, because some
# majority points are now flagged, and accuracy *falls*. Which is "best" depends on what an
# error costs: missing a fraud is not the same as a false alarm. Choose by the metric that
# encodes that cost, never by accuracy.
#
# ### Exercise 3 (derive): class-balanced weights
#
# Compute the class-balanced weights yourself with numpy from `counts` and `BETA`: the
# effective number $E_c = (1-\beta^{n_c})/(1-\beta)$, weights $\propto 1/E_c$, normalised to
# sum to the number of classes.

# %% tags=["exercise"] exercise_id="09-class-balanced-weights"
mine = ...

_ = check("09-class-balanced-weights", mine, counts=counts, beta=BETA)

# %% [markdown]
# ### Exercise 4 (implement): weighted cross-entropy
#
# Write weighted cross-entropy in numpy: $-\sum_n w_{y_n}\log p_{n,y_n} / \sum_n w_{y_n}$ with
# $p = \mathrm{softmax}$ of the logits. The check compares it with
# `F.cross_entropy(..., weight=...)` on random logits, labels and weights.

# %% tags=["exercise"] exercise_id="09-weighted-ce"
def weighted_cross_entropy(logits, target, weight):
    """Mean weighted cross-entropy of (N, C) logits, (N,) integer labels and (C,) class weights."""
    raise NotImplementedError("your code here")


_ = check_function("09-weighted-ce", weighted_cross_entropy)

# %% [markdown]
# ### Exercise 5 (implement): the multiclass Dice loss
#
# Write the soft Dice loss of section 4 in numpy, as `F.dice_loss(mode="multiclass")`
# computes it: $p$ the softmax of the logits, $g$ the one-hot labels, and per class $c$
# (sums over the batch) $1 - \frac{2\sum_n p_{nc} g_{nc} + s}{\sum_n p_{nc} + \sum_n g_{nc} + s}$
# with $s$ = `smooth`, then the mean over classes.

# %% tags=["exercise"] exercise_id="09-dice-loss"
def dice_loss_multiclass(logits, target, smooth=1.0):
    """Soft Dice loss of (N, C) logits against (N,) integer labels, averaged over classes."""
    raise NotImplementedError("your code here")


_ = check_function("09-dice-loss", dice_loss_multiclass)

# %% [markdown]
# ## Summary
#
# - For SGD, weight decay **is** an L2 penalty. For Adam it is not: `Adam(weight_decay)`
#   is Adam on an L2-penalised loss (decay divided by $\sqrt{\hat v}$), `AdamW` decays the
#   weights directly. Prefer AdamW.
# - A big model on little noisy data overfits: the train/val gap is the symptom; weight
#   decay, dropout and early stopping shrink it.
# - With imbalanced classes judge by per-class recall, precision and F1 (`minigrad.metrics`);
#   re-weighting (weighted CE, class-balanced, focal's $\alpha$) trades precision for
#   minority recall.

# %% [markdown]
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/09_regularisation_and_class_imbalance.py`.
#
# 1. Why are weight decay and an L2 penalty the same thing for SGD but not for Adam?
# 2. What happens if weight decay is applied both in the loss and in the optimizer?
# 3. Why does the unregularised network's validation loss climb while its accuracy barely moves?
# 4. Why is accuracy a poor metric on a 95/5 dataset, and what would you report instead?
# 5. What does focal loss's $(1 - p_y)^\gamma$ do, and why did it barely change the minority recall here?
# 6. How do the class-balanced weights behave as $\beta$ goes from 0 to 1?
# 7. Why does the Dice loss weigh a small class as much as a big one?
#
# ## Checks

# %%
# weight decay == L2 for SGD (bit-for-bit up to rounding) and for Adam(weight_decay); AdamW differs
assert np.allclose(sgd_decay, sgd_l2, rtol=1e-12, atol=1e-12)
assert np.allclose(adam_decay, adam_l2, rtol=1e-12, atol=1e-12)
assert np.abs(adam_decay - adamw).max() > 1e-2
# SGD's first step in closed form: (1 - lr*lam) w0 - lr g0
assert np.allclose(sgd_decay[0], (1 - LR * LAM) * w0 - LR * g0, rtol=1e-12)
# AdamW's first step: decay then lr * sign(g)
assert np.allclose(adamw[0], (1 - LR * LAM) * w0 - LR * np.sign(g0), atol=1e-7)
# overfitting: the unregularised run memorises (tiny train loss) and its val loss rose above its best;
# weight decay and dropout shrink the final train/val gap
gap = {k: h["val"][-1] - h["train"][-1] for k, h in runs.items()}
assert runs["none"]["train"][-1] < 1e-2 and runs["none"]["val"][-1] > 2 * min(runs["none"]["val"])
assert gap["weight decay 1.0"] < 0.5 * gap["none"] and gap["dropout 0.5"] < gap["none"]
assert runs["dropout 0.5"]["val"][-1] > 1.5 * min(runs["dropout 0.5"]["val"]), "dropout's val loss drifts up"
best_vals = [min(h["val"]) for h in runs.values()]
assert max(best_vals) < 1.15 * min(best_vals), "the best validation losses are similar"
# accuracy hardly separates CE, focal and Dice, which all miss much of the minority
assert max(results[k]["acc"] for k in plain) - min(results[k]["acc"] for k in plain) < 0.01
assert all(results[k]["r1"] < 0.7 for k in plain)
assert results["weighted CE"]["acc"] < results["cross-entropy"]["acc"]
# metrics: precision/recall from the confusion matrix by hand
cm = confusions["weighted CE"]
prf = metrics.precision_recall_f1(cm)
assert np.isclose(prf["recall"][1], cm[1, 1] / cm[1].sum()) and np.isclose(prf["precision"][1], cm[1, 1] / cm[:, 1].sum())
# re-weighting raises minority recall above plain cross-entropy's, which beats 'always majority' (0)
assert results["weighted CE"]["r1"] > results["cross-entropy"]["r1"] + 0.1
assert results["class-balanced (β=.999)"]["r1"] > results["cross-entropy"]["r1"] + 0.1
assert results["cross-entropy"]["acc"] > 0.95 and 0.3 < results["cross-entropy"]["r1"] < 1.0
# focal with gamma = 0 is cross-entropy; Dice on a tiny case
z = mg.tensor([[2.0, -1.0], [0.5, 0.3], [-1.0, 1.5]], dtype=mg.float64)
t = mg.tensor([0, 1, 1])
assert np.isclose(F.focal_loss(z, t, gamma=0.0).item(), F.cross_entropy(z, t).item(), rtol=1e-12)
p = np.exp(z.numpy()) / np.exp(z.numpy()).sum(1, keepdims=True)
g = np.eye(2)[t.numpy()]
dice_np = np.mean([1 - (2 * (p[:, c] * g[:, c]).sum() + 1) / (p[:, c].sum() + g[:, c].sum() + 1) for c in range(2)])
assert np.isclose(F.dice_loss(z, t, mode="multiclass").item(), dice_np, rtol=1e-10)
