# %% [markdown]
# # Lesson 14: Autoencoders and anomaly detection
#
# An **autoencoder** learns to copy its input through a narrow bottleneck: an encoder
# squeezes a 784-pixel image into 32 numbers, a decoder rebuilds the image from them, and the
# loss is the reconstruction error $\lVert x - \hat x\rVert^2$. No labels are needed. Because
# the bottleneck cannot hold everything, the network learns what is *typical* of its training
# images, and reconstructs untypical images badly. That makes the reconstruction error an
# **anomaly score**.
#
# We train one on MNIST **without the digit 0**, then ask: does it reconstruct the zeros
# (never seen) worse than the other digits? Reconstruction-error histograms, the ROC curve
# and its area (`metrics.roc_auc`) answer it, and the worst reconstructions show what the
# model finds strange.
#
# *Time: about 45 minutes. Needs: lessons 04-06 (losses, modules, optimizers); MNIST
# (offline, installed by `make setup`).*

# %%
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import metrics, nn, optim
from minigrad.data import MNIST

mg.manual_seed(0)
print("smoke mode" if SMOKE else "full mode")

# %% [markdown]
# ## 1. Normal data without one digit
#
# The "normal" class is every digit but `HELD_OUT`; the training set has none of it. The
# validation split holds both, and we label the held-out digit as the **anomaly** (positive
# class) to be detected.

# %%
HELD_OUT = 0
train_set, val_set = MNIST(split="train"), MNIST(split="val")
X_all, y_all = np.asarray(train_set.data), np.asarray(train_set.targets)
X_train = X_all[y_all != HELD_OUT][:pick(20_000, 2_000)]
X_val, y_val = np.asarray(val_set.data)[:pick(5_000, 1_000)], np.asarray(val_set.targets)[:pick(5_000, 1_000)]
is_anomaly = y_val == HELD_OUT
print(f"training on {len(X_train)} images without a {HELD_OUT}; validation: {len(X_val)} images, "
      f"{is_anomaly.sum()} of them {HELD_OUT}s")

# %% [markdown]
# ## 2. The autoencoder
#
# Encoder $784 \to 128 \to 32$, decoder $32 \to 128 \to 784$ with a sigmoid at the end, since
# pixels are in $[0, 1]$. The loss is the mean squared error between the image and its
# reconstruction, so the target is the input itself.

# %%
autoencoder = nn.Sequential(
    nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU(),      # encoder
    nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid(),   # decoder
)
opt = optim.Adam(autoencoder.parameters(), lr=2e-3)
EPOCHS, BATCH = pick(5, 1), 128
order = np.random.default_rng(0)
losses = []
for _ in range(EPOCHS):
    perm = order.permutation(len(X_train))
    for i in range(0, len(X_train), BATCH):
        x = mg.tensor(X_train[perm[i:i + BATCH]])
        loss = F.mse_loss(autoencoder(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
print(f"reconstruction MSE: first 5 steps {np.mean(losses[:5]):.4f}, last 5 steps {np.mean(losses[-5:]):.4f}")

# %% [markdown]
# ### Exercise 1 (spot the bug): one score per image
#
# `reconstruction_errors` should return one anomaly score per image, its mean squared error
# over the 784 pixels. It returns something else. Find the one mistake.

# %% tags=["exercise"] exercise_id="14-per-image-error"
def reconstruction_errors(model, X):
    """Mean squared reconstruction error of each row of X (N, 784): an array of N scores."""
    with mg.no_grad():
        X_hat = model(mg.tensor(X)).numpy()
    return ((X - X_hat) ** 2).mean()


check_function("14-per-image-error", reconstruction_errors)

# %%
reconstruction_errors = result("14-per-image-error", reconstruction_errors)
errors = reconstruction_errors(autoencoder, X_val)
print(f"mean error: normal digits {errors[~is_anomaly].mean():.4f}, held-out {HELD_OUT}s "
      f"{errors[is_anomaly].mean():.4f}")

fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(0, np.quantile(errors, 0.995), 50)
ax.hist(errors[~is_anomaly], bins=bins, alpha=0.6, density=True, label="normal (trained on)")
ax.hist(errors[is_anomaly], bins=bins, alpha=0.6, density=True, label=f"held-out {HELD_OUT}s")
ax.set(title="reconstruction error per image", xlabel="MSE", ylabel="density")
ax.legend()
plt.show()

# %% [markdown]
# ## 3. ROC curve and AUC
#
# Flag an image as anomalous when its error is above a threshold $\tau$. Each $\tau$ gives a
# **true-positive rate** (the fraction of anomalies flagged) and a **false-positive rate**
# (the fraction of normal images flagged); sweeping $\tau$ from $+\infty$ down traces the
# ROC curve from $(0, 0)$ to $(1, 1)$. Its area is
#
# $$\mathrm{AUC} = P(\text{score of a random anomaly} > \text{score of a random normal image}),$$
#
# ties counting one half: 0.5 is chance, 1 a perfect ranking. It depends only on the
# *order* of the scores, not on any threshold, which makes it the standard summary of an
# anomaly detector.
#
# ### Exercise 2 (implement): AUC by counting pairs
#
# Write `auc_by_pairs(scores, target)` from the formula: compare every positive's score with
# every negative's (numpy broadcasting makes that one line) and count ties as one half. The
# check compares it with `metrics.roc_auc`, which computes the same number from ranks in
# $O(n \log n)$.

# %% tags=["exercise"] exercise_id="14-auc-by-pairs"
def auc_by_pairs(scores, target):
    """P(score of a random positive > score of a random negative), ties counting 1/2."""
    raise NotImplementedError("your code here")


check_function("14-auc-by-pairs", auc_by_pairs)

# %%
auc = metrics.roc_auc(errors, is_anomaly)
fpr, tpr, thresholds = metrics.roc_curve(errors, is_anomaly)
print(f"AUC of the reconstruction error for spotting {HELD_OUT}s: {auc:.3f}; "
      f"by counting pairs: {result('14-auc-by-pairs', auc_by_pairs)(errors, is_anomaly):.3f}")
fig, ax = plt.subplots(figsize=(4.2, 4))
ax.plot(fpr, tpr, label=f"reconstruction error, AUC {auc:.2f}")
ax.plot([0, 1], [0, 1], "k:", label="chance")
ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC")
ax.legend(loc="lower right")
plt.show()

# %% [markdown]
# ### Exercise 3 (predict): the score turned upside down
#
# Suppose someone uses the *negative* error as the score (high = normal). What AUC would
# `metrics.roc_auc(-errors, is_anomaly)` give, in terms of `auc`? Write it as an expression.
# (There are no ties here worth worrying about.)

# %% tags=["exercise"] exercise_id="14-flipped-auc"
flipped_auc = ...

check("14-flipped-auc", flipped_auc, errors=errors, is_anomaly=is_anomaly)

# %% [markdown]
# ### Exercise 4 (implement): a threshold for a 5 % false-alarm rate
#
# In practice you pick one threshold. A common rule: accept a false-positive rate of 5 % on
# normal data. Write `detection_rate(normal_errors, anomaly_errors)` returning the fraction of
# anomalies flagged when $\tau$ is the 95th percentile of the normal errors (`np.quantile`)
# and an image is flagged when its error is strictly above $\tau$.

# %% tags=["exercise"] exercise_id="14-detection-rate"
def detection_rate(normal_errors, anomaly_errors):
    """Fraction of anomalies above the 95th percentile of the normal errors."""
    raise NotImplementedError("your code here")


check_function("14-detection-rate", detection_rate)

# %%
detection_rate = result("14-detection-rate", detection_rate)
rate = detection_rate(errors[~is_anomaly], errors[is_anomaly])
print(f"at a 5% false-alarm rate the autoencoder flags {rate:.1%} of the {HELD_OUT}s")

# %% [markdown]
# ## 4. What the model finds strange
#
# The eight images with the largest errors, each above its reconstruction. Some are held-out
# digits; the normal digits among them are usually badly written or unusual strokes: the
# detector finds *anything* unlike its training set, which is what an anomaly detector is for
# and also why its false alarms are worth reading.

# %%
worst = np.argsort(errors)[::-1][:8]
with mg.no_grad():
    rebuilt = autoencoder(mg.tensor(X_val[worst])).numpy()
fig, axes = plt.subplots(2, 8, figsize=(11, 3))
for j, k in enumerate(worst):
    axes[0, j].imshow(X_val[k].reshape(28, 28), cmap="Greys")
    axes[0, j].set_title(f"{y_val[k]}: {errors[k]:.3f}", fontsize=9,
                         color="red" if is_anomaly[k] else "black")
    axes[1, j].imshow(rebuilt[j].reshape(28, 28), cmap="Greys")
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle("worst reconstructions (top: image, label and error; bottom: reconstruction)")
plt.show()
held_out_among_worst = int(is_anomaly[worst].sum())
print(f"{held_out_among_worst} of the 8 worst are {HELD_OUT}s")

# %% [markdown]
# ## Questionnaire
#
# Answer in your own words; the answers are in
# `lessons/solutions/14_autoencoders_and_anomaly_detection.py`.
#
# 1. Why does an autoencoder need a bottleneck (or another constraint) to be useful?
# 2. Why can the reconstruction error detect a digit the autoencoder never saw, and when would it fail to?
# 3. What does an AUC of 0.5 mean, and what does an AUC of 0.2 mean?
# 4. Why is the AUC independent of any threshold, and why do you still need one in practice?
# 5. Why is the held-out digit labelled the positive class here, and does swapping the labels change the AUC?
# 6. Why might a normal image get a large reconstruction error?
#
# ## Checks

# %%
assert losses[-1] < losses[0] / 2
assert errors.shape == (len(X_val),) and errors[is_anomaly].mean() > errors[~is_anomaly].mean()
assert np.isclose(auc, np.mean([[(a > n) + 0.5 * (a == n) for n in errors[~is_anomaly]]
                                for a in errors[is_anomaly]]))
assert auc > (0.8 if not SMOKE else 0.6), auc
assert np.isclose(metrics.roc_auc(-errors, is_anomaly), 1 - auc)
assert np.isclose(metrics.roc_auc(errors, ~is_anomaly), 1 - auc)
assert np.isclose(rate, (errors[is_anomaly] > np.quantile(errors[~is_anomaly], 0.95)).mean())
assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
print("all checks passed")
