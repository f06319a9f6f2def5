# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Debugging training
#
# Training a network rarely fails loudly. The loss just refuses to fall, or swings, or
# turns into `nan` at step 4,000. This lesson gives you the instruments to look inside:
#
# 1. **hooks**, to see the gradient that flows through a tensor and the activations a
#    layer produces;
# 2. **gradient norms** per layer (`GradientMonitor`) and for the whole model
#    (`global_grad_norm`), and **gradient clipping**;
# 3. **finding the op that made the NaN** (`detect_anomaly`, and a graph drawn with the
#    NaN path in red);
# 4. the **troubleshooting table**: we *cause* each classic failure on purpose and let
#    `diagnose` read the loss curve;
# 5. `check_gradients`, which finds a layer that never receives a gradient.

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread: fastest for these tiny matrices (lesson 10)

# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
from minigrad import nn, optim, viz
from minigrad.data import make_blobs
from minigrad.debug import (
    AnomalyError,
    GradientMonitor,
    check_gradients,
    detect_anomaly,
    diagnose,
    global_grad_norm,
)
from minigrad.nn import functional as F

mg.manual_seed(0)
print("smoke mode:", SMOKE)

# %% [markdown]
# ## 1. Tensor hooks: see the gradient as it passes
#
# During `backward()` every intermediate tensor $t$ receives $\partial L / \partial t$ and
# then forgets it (only leaves keep `.grad`). `t.register_hook(fn)` calls `fn(grad)` at
# that moment. If `fn` returns a tensor, it **replaces** the gradient that flows on.
#
# Take $y = x^2$, $L = \sum_i 3 y_i$. Then $\partial L/\partial y_i = 3$ and
# $\partial L / \partial x_i = 3 \cdot 2 x_i = 6 x_i$.

# %%
x = mg.tensor([1.0, -2.0, 0.5], requires_grad=True)
y = x * x
seen = []
handle = y.register_hook(lambda g: seen.append(g.numpy().copy()))
(3 * y).sum().backward()
handle.remove()
print("dL/dy seen by the hook:", seen[0])
print("x.grad =", x.grad, " (closed form 6x =", 6 * x.detach().numpy(), ")")

# %% [markdown]
# A hook that returns a value changes what reaches the inputs. Halving $\partial L/\partial y$
# must halve $\partial L/\partial x$: a quick way to convince yourself the chain rule really
# multiplies the upstream gradient in.

# %%
x = mg.tensor([1.0, -2.0, 0.5], requires_grad=True)
y = x * x
y.register_hook(lambda g: g * 0.5)
(3 * y).sum().backward()
print("x.grad with a halving hook:", x.grad)

# %% [markdown]
# ## 2. Module forward hooks: look at activations
#
# `module.register_forward_hook(fn)` calls `fn(module, inputs, output)` after every forward
# pass. That is how you collect activation statistics without touching the model's code:
# the mean, the spread, and the fraction of ReLU outputs that are exactly zero ("dead").

# %%
X_np, y_np = make_blobs(600, noise=1.5, seed=0, centers=4)
X_np = ((X_np - X_np.mean(0)) / X_np.std(0)).astype(np.float32)
y_np = y_np.astype(np.int64)
X_all, y_all = mg.from_numpy(X_np), mg.from_numpy(y_np)


def make_model(seed: int = 0) -> nn.Sequential:
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))


model = make_model()
stats = {}


def record(name):
    def hook(module, inputs, output):
        a = output.detach().numpy()
        stats[name] = (a.mean(), a.std(), float((a == 0).mean()))
    return hook


handles = [m.register_forward_hook(record(name)) for name, m in model.named_modules() if name]
model(X_all)
for h in handles:
    h.remove()
for name, (mean, std, zeros) in stats.items():
    print(f"layer {name:2s} {type(model[int(name)]).__name__:7s} mean {mean:+.3f} std {std:.3f} zeros {zeros:.0%}")

# %% [markdown]
# ## 3. Gradient norms, per layer and global
#
# The **global gradient norm** treats all gradients as one long vector:
#
# $$\|g\| = \sqrt{\sum_{p} \sum_i g_{p,i}^2}.$$
#
# It is cheap and tells a lot: it should shrink slowly as training converges; sudden jumps
# announce trouble. `GradientMonitor` records it per step, plus, per layer, the gradient
# norm, the activation statistics (with the hooks you just wrote by hand) and the
# **update:data ratio** $\|W_{t+1} - W_t\| / \|W_t\|$, whose healthy value is about $10^{-3}$.
# Protocol: call `monitor.step(loss=...)` once per step, after `optimizer.step()`.

# %%
def train(lr, batch, steps, seed=0, lr_at=None, monitor=False, clip=None):
    """Plain minibatch SGD on the blobs; returns the per-step losses (and the monitor)."""
    model = make_model(seed)
    opt = optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    mon = GradientMonitor(model) if monitor else None
    losses = []
    with np.errstate(all="ignore"):
        for step in range(steps):
            if lr_at is not None:
                opt.param_groups[0]["lr"] = lr_at(step)
            idx = rng.choice(len(X_np), batch, replace=False)
            loss = F.cross_entropy(model(mg.from_numpy(X_np[idx])), mg.from_numpy(y_np[idx]))
            opt.zero_grad()
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(loss.item())
            if mon is not None:
                mon.step(loss=losses[-1])
    if mon is not None:
        mon.remove()
    return losses, mon


STEPS = pick(400, 200)
losses, monitor = train(lr=0.1, batch=128, steps=STEPS, monitor=True)
print(monitor.report())

# %%
monitor.plot()

# %% [markdown]
# ### Exercise 1 (implement): the global gradient norm
#
# Write `global_norm(grads)` for a list of gradient arrays of any shapes. The check compares
# it with `global_grad_norm` on random gradients; the cell after it uses it on the model.

# %% tags=["exercise"] exercise_id="08-global-grad-norm"
def global_norm(grads):
    """The L2 norm of all the arrays in `grads` taken together, as one long vector."""
    raise NotImplementedError("your code here")


_ = check_function("08-global-grad-norm", global_norm)

# %%
model = make_model()
F.cross_entropy(model(X_all), y_all).backward()
mine = result("08-global-grad-norm", global_norm)([p.grad.numpy() for p in model.parameters()])
lib_norm = global_grad_norm(model)
print(f"yours {mine:.6f}, global_grad_norm {lib_norm:.6f}")

# %% [markdown]
# ## 4. Gradient clipping
#
# `clip_grad_norm_(params, max_norm)` rescales **all** gradients by the same factor
#
# $$g \leftarrow g \cdot \min\!\left(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\right),$$
#
# so the direction of the step is kept and only its length is capped. It returns the norm
# *before* clipping. Call it between `backward()` and `optimizer.step()`.
# To see it bite, we blow the first layer's weights up so that the gradient is huge.

# %%
model = make_model()
with mg.no_grad():
    model[0].weight.mul_(30.0)
F.cross_entropy(model(X_all), y_all).backward()
before = global_grad_norm(model)
grads_before = [p.grad.numpy().copy() for p in model.parameters()]
returned = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
after = global_grad_norm(model)
print(f"global norm before {before:.3f}, returned {returned.item():.3f}, after {after:.6f}")
same_factor = all(np.allclose(p.grad.numpy(), g / before, rtol=1e-4, atol=1e-9)
                  for p, g in zip(model.parameters(), grads_before))
print("every entry was scaled by the same factor 1/before:", same_factor)

# %% [markdown]
# ### Exercise 2 (implement): clipping by the global norm
#
# Write `clip_by_global_norm(grads, max_norm)`, returning new clipped arrays (leave the
# inputs alone). The check compares it with `nn.utils.clip_grad_norm_` on random gradients
# and limits, some above and some below the norm.

# %% tags=["exercise"] exercise_id="08-clip-grad-norm"
def clip_by_global_norm(grads, max_norm):
    """The gradients rescaled together so that their global norm is at most max_norm."""
    raise NotImplementedError("your code here")


_ = check_function("08-clip-grad-norm", clip_by_global_norm)

# %% [markdown]
# ## 5. Which op made the NaN?
#
# A classic bug: computing cross-entropy as `-(softmax(z).log() * onehot).sum()`. When one
# logit is far above the others, the other probabilities **underflow to exactly 0** in
# float32 (below about $10^{-45}$), $\log 0 = -\infty$, and $-\infty \cdot 0 = \text{NaN}$.
# The loss is NaN and every gradient with it, but the error shows up far from its cause.

# %%
logits = mg.tensor([[20.0, -10.0, 300.0, 5.0]], requires_grad=True)
logits.label = "logits"
onehot = mg.tensor([[1.0, 0.0, 0.0, 0.0]])
onehot.label = "onehot"
with np.errstate(all="ignore"):
    bad_loss = -(logits.softmax(1).log() * onehot).sum()
print("loss:", bad_loss.item())

# %% [markdown]
# `detect_anomaly()` checks the output of every op while it runs and raises at the first
# NaN or Inf, naming the op, the line of *your* code and a hint.

# %%
try:
    with detect_anomaly(), np.errstate(all="ignore"):
        loss = -(logits.softmax(1).log() * onehot).sum()
        loss.backward()
    caught = None
except AnomalyError as err:
    caught = str(err)
print(caught)

# %% [markdown]
# The same story as a picture. Drawn **before** `backward()`, the graph marks every box whose
# value holds a NaN or Inf in red and draws the path from the *first* one (here `Log`'s
# output) to the loss in bold red. Everything upstream of it is fine: that is where to look.

# %%
with np.errstate(all="ignore"):
    bad_loss = -(logits.softmax(1).log() * onehot).sum()
viz.draw(bad_loss)

# %% [markdown]
# ### Exercise 3 (spot the bug): a log-softmax that overflows
#
# The numpy function below computes $\log \mathrm{softmax}(z)$ row by row, and is right on
# small logits. On logits in the hundreds it returns `nan` and `-inf`. Fix it without changing
# what it computes; the check tries logits up to about 1000.

# %% tags=["exercise"] exercise_id="08-log-softmax-bug"
def log_softmax_rows(z):
    """log softmax of each row of a 2-d numpy array z."""
    e = np.exp(z)
    return np.log(e / e.sum(axis=1, keepdims=True))


with np.errstate(all="ignore"):
    _ = check_function("08-log-softmax-bug", log_softmax_rows)

# %% [markdown]
# The fix is to never form $\log(\mathrm{softmax})$ from probabilities: `log_softmax`
# computes $z_k - \log\sum_j e^{z_j}$ with the max subtracted, which never underflows to
# $-\infty$ for finite logits. `F.cross_entropy` does exactly that, and its gradient is
# the famous $\mathrm{softmax}(z) - \mathrm{onehot}$.

# %%
good_loss = F.cross_entropy(logits, mg.tensor([0]))
good_loss.backward()
z = logits.detach().numpy().astype(np.float64)[0]
softmax_np = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
print("loss:", good_loss.item(), " closed form:", np.log(np.exp(z - z.max()).sum()) + z.max() - z[0])
print("grad:", logits.grad.numpy()[0], " softmax - onehot:", softmax_np - [1, 0, 0, 0])

# %% [markdown]
# ## 6. The troubleshooting table, reproduced
#
# | symptom | likely cause | `diagnose` says | remedy |
# |---|---|---|---|
# | loss does not fall | learning rate far too small | `not_decreasing` | raise the lr; check gradients reach every layer |
# | loss becomes NaN | learning rate far too large | `diverged` (with the step) | lower the lr 10x, clip gradients |
# | loss oscillates | lr a bit too high for a small batch | `oscillating` | lower lr, larger batch, momentum/Adam |
# | loss spikes now and then | lr too large for some steps, bad batches | `spiking` (with the steps) | decay the lr, clip, larger batch |
# | loss falls, then stays flat | converged, or lr too large to settle / too small to move on | `plateaued` | a scheduler; or stop: it has converged |
# | loss noisy, but its trend keeps falling | minibatch noise | `healthy` | nothing: keep going, watch validation |
#
# Rather than believe the table, we **cause** each failure on the blobs and let
# `diagnose` read the curve. The rules behind it are relative (see `docs/debug.md`): a
# NaN or 2x growth is `diverged`; 2+ steps that jump far above the trend, measured against
# the *local* noise of the log-loss, are `spiking`; swings of over 15% around the trend that
# either zigzag step by step or are so large that the trend's total fall is less than 3.5
# swings are `oscillating`; less than 5% decrease is `not_decreasing`; less than 5% further
# decrease in the second half is `plateaued`.

# %%
def spiky_lr(step):
    return 10.0 if step % 70 == 50 else 0.1


RECIPES = {
    "healthy (lr 0.1, batch 128)": dict(lr=0.1, batch=128),
    "lr too small (1e-4)": dict(lr=1e-4, batch=128),
    "lr too large (50)": dict(lr=50.0, batch=128),
    "small batch 16, lr 0.3": dict(lr=0.3, batch=16),
    "tiny batch 4": dict(lr=0.1, batch=4),
    "lr spikes to 10 every 70 steps": dict(lr=0.1, batch=128, lr_at=spiky_lr),
    "lr 50, clipped to norm 0.01": dict(lr=50.0, batch=128, clip=0.01),
}
curves, verdicts = {}, {}
for name, kw in RECIPES.items():
    curves[name], _ = train(steps=STEPS, **kw)
    verdicts[name] = diagnose(curves[name])
    print(f"{name:34s} -> {verdicts[name].status:15s} {verdicts[name].reason}")

# %% [markdown]
# Each `Diagnosis` prints its evidence and the remedies to try. Here are the full reports
# of the failure recipes: read the evidence numbers next to the rules above.

# %%
for name in list(RECIPES)[1:6]:
    print(f"=== {name}")
    print(verdicts[name])
    print()

# %%
fig, axes = plt.subplots(2, 4, figsize=(15, 6), sharex=True)
for ax, (name, loss_curve) in zip(axes.ravel(), curves.items()):
    values = np.asarray(loss_curve)
    ax.plot(np.where(np.isfinite(values), values, np.nan), lw=0.8)
    ax.set_yscale("log")
    ax.set_title(f"{name}\n→ {verdicts[name].status}", fontsize=9)
axes.ravel()[-1].axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# Notice the last run: the *same* learning rate of 50 that turns the loss into NaN trains
# to the healthy run's loss once the gradient norm is clipped to 0.01, because no single
# step can move the weights further than $\text{lr} \cdot 0.01 = 0.5$. Its verdict is
# printed above: it converges within the first half, so the second half has little left to
# gain (`plateaued` or `healthy` depending on the seed: the evidence sits near the 5% rule).
#
# The batch of 4 shows why spikes are judged against the *local* noise. Single batches of
# 4 points sometimes cost five times the trend, but such jumps are routine for this run,
# so none of them counts as a spike; what stands out is that its swings are as large as the
# whole fall of its trend: `oscillating`. The lr spikes, by contrast, throw the loss far
# above anything its neighbours do, and exactly one step after each spike. The boundaries
# between the symptoms are fuzzy; the evidence numbers tell you how close a run is to each
# rule.
#
# ### Exercise 4 (predict): the verdict for a curve that stops falling
#
# A curve falls from 1 to 0.5 in 50 steps and then stays at 0.5 for 150 more. Which status
# will `diagnose` give it? Write one of the names from the table, as a string, before the
# next cell runs `diagnose`.

# %% tags=["exercise"] exercise_id="08-diagnose-verdict"
flat = list(np.linspace(1.0, 0.5, 50)) + [0.5] * 150
my_guess = ...

_ = check("08-diagnose-verdict", my_guess, curve=flat)

# %%
print(diagnose(flat))

# %% [markdown]
# ## 7. A layer that never learns: `check_gradients`
#
# A parameter that is created but never used in `forward` (or whose output was detached
# with `.detach()`, `.item()` or a trip through numpy) gets no gradient: `.grad` stays
# `None` and the optimizer silently skips it. After one `backward()`,
# `check_gradients(model)` lists such parameters, and all-zero or non-finite gradients.

# %%
class Buggy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 16)
        self.hidden = nn.Linear(16, 16)
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        h = self.fc1(x).relu()
        _ = self.hidden(h).relu()  # bug: the result is computed and then thrown away
        return self.out(h)


buggy = Buggy()
F.cross_entropy(buggy(X_all), y_all).backward()
findings = check_gradients(buggy)
print(findings)

# %% [markdown]
# ### Exercise 5 (spot the bug): use the layer
#
# `Fixed` below still has `Buggy`'s forward. Fix it so that `hidden` is used; the check
# counts what `check_gradients` still reports after a backward pass.

# %% tags=["exercise"] exercise_id="08-fix-unused-layer"
class Fixed(Buggy):
    def forward(self, x):
        h = self.fc1(x).relu()
        _ = self.hidden(h).relu()
        return self.out(h)


fixed = Fixed()
F.cross_entropy(fixed(X_all), y_all).backward()
_ = check("08-fix-unused-layer", len(check_gradients(fixed)))

# %% [markdown]
# ### Exercise 6 (spot the bug): a training loop that does not learn
#
# `train_blobs` trains a fresh model of `make_model` on all the blobs with SGD and returns the
# losses. Its loss goes down for a few steps and then misbehaves. Find the missing line. The
# check compares the losses with a correct loop on random numbers of steps and learning rates.

# %% tags=["exercise"] exercise_id="08-missing-zero-grad"
def train_blobs(steps, lr):
    """Full-batch SGD on the blobs from make_model(0); the loss after each step."""
    model = make_model(0)
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(X_all), y_all)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


_ = check_function("08-missing-zero-grad", train_blobs)

# %% [markdown]
# ## Summary
#
# - Hooks let you watch gradients (`Tensor.register_hook`) and activations
#   (`Module.register_forward_hook`) without changing the model.
# - `GradientMonitor` turns that into a per-layer report; `global_grad_norm` is the single
#   number to put in your progress bar; `clip_grad_norm_` caps it.
# - A NaN is found with `detect_anomaly()` (op + your line) or by drawing the graph: the
#   first red box is the culprit.
# - `diagnose` reads a loss curve like the troubleshooting table, and `check_gradients`
#   finds the layer that was left out.

# %% [markdown]
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/08_debugging_training.py`.
#
# 1. What is the difference between a tensor hook that returns a value and one that returns `None`?
# 2. Why does `clip_grad_norm_` scale all gradients by one factor instead of clipping each one?
# 3. Why does `softmax(z).log()` produce `-inf` for large logits while `log_softmax` does not?
# 4. What does forgetting `zero_grad()` do to the gradient, and why does the loss not simply stop falling?
# 5. Why does `diagnose` measure noise on the logarithm of the loss?
# 6. A run's loss swings by 50% around its trend but its trend falls tenfold. What does `diagnose` say, and why?
# 7. What kinds of parameters does `check_gradients` report?

# %% [markdown]
# ## Checks

# %%
# tensor hooks: dL/dy = 3 everywhere, x.grad = 6x, and a halving hook halves it
assert np.allclose(seen[0], 3.0)
x = mg.tensor([1.0, -2.0, 0.5], requires_grad=True)
(3 * (x * x)).sum().backward()
assert np.allclose(x.grad.numpy(), 6 * np.array([1.0, -2.0, 0.5]))
# forward hooks saw ReLU outputs: non-negative means, some exact zeros
assert stats["1"][0] >= 0 and 0 < stats["1"][2] < 1
# global norm against numpy, and clipping caps it at max_norm, keeping the direction
assert np.isclose(mine, lib_norm, rtol=1e-5) and global_grad_norm(make_model()) == 0.0
assert np.isclose(returned.item(), before, rtol=1e-5) and before > 1.0
assert np.isclose(after, 1.0, rtol=1e-4) and same_factor
# the naive loss is NaN, anomaly mode blames Log, the stable loss matches its closed form
assert np.isnan(bad_loss.item()) and caught is not None and caught.startswith("Log produced -inf")
nan_graph = viz.draw(bad_loss).source
first_bad = next(line for line in nan_graph.splitlines() if "first NaN/Inf" in line)
assert "3 Inf" in first_bad and "Log" in nan_graph
assert np.isclose(good_loss.item(), np.log(np.exp(z - z.max()).sum()) + z.max() - z[0], rtol=1e-5)
assert np.allclose(logits.grad.numpy()[0], softmax_np - [1, 0, 0, 0], atol=1e-6)
# the troubleshooting table: each failure recipe gives the expected verdict
expected = {
    "healthy (lr 0.1, batch 128)": "healthy",
    "lr too small (1e-4)": "not_decreasing",
    "lr too large (50)": "diverged",
    "small batch 16, lr 0.3": "oscillating",
    "tiny batch 4": "oscillating",
    "lr spikes to 10 every 70 steps": "spiking",
}
clipped = curves.pop("lr 50, clipped to norm 0.01")
verdicts_clipped = verdicts.pop("lr 50, clipped to norm 0.01")
assert {k: v.status for k, v in verdicts.items()} == expected, {k: v.status for k, v in verdicts.items()}
assert verdicts["lr too large (50)"].evidence["nan_step"] < 50
# the loss jumps one step after each lr spike (step 50 + 70k), and only there
assert all(s % 70 == 51 for s in verdicts["lr spikes to 10 every 70 steps"].evidence["spike_steps"])
# the batch of 4: no spike counted against its local noise, swings as large as its trend's fall
tiny = verdicts["tiny batch 4"].evidence
assert tiny["spike_count"] == 0 and tiny["progress_to_noise"] < 3.5
assert max(curves["tiny batch 4"]) > 5 * np.median(curves["tiny batch 4"][len(curves["tiny batch 4"]) // 2:])
# the troubleshooting table names every verdict these recipes produced, and the exercise's curve
assert diagnose(flat).status == "plateaued"
assert verdicts_clipped.status in {"plateaued", "healthy"}
# the healthy run reached a low loss, and clipping rescued lr 50 to about the same loss
healthy_final = np.mean(curves["healthy (lr 0.1, batch 128)"][-20:])
assert healthy_final < 0.45 and np.isfinite(clipped).all()
assert abs(np.mean(clipped[-20:]) - healthy_final) < 0.1
assert np.isfinite(monitor.last.global_grad_norm)
# check_gradients found exactly the unused layer
assert {(f.name, f.problem) for f in findings} == {("hidden.weight", "unused"), ("hidden.bias", "unused")}
