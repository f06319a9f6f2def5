# %% [markdown]
# # Lesson 15: Mixed precision and loss scaling
#
# Training in **float16** halves the memory of activations and, on hardware built for it,
# multiplies the speed of matrix products several times. But float16 has only 10 mantissa
# bits and 5 exponent bits: it rounds coarsely, overflows above 65504, and flushes small
# numbers to zero. Small *gradients* are exactly the numbers it loses. The standard recipe,
# **automatic mixed precision**, fixes both sides:
#
# * `autocast()`: matrix products run in float16 (inputs and outputs rounded), while softmax,
#   losses and reductions stay float32;
# * `GradScaler`: multiply the loss by a large scale $S$ before `backward()` so the gradients
#   are lifted out of float16's underflow zone, divide them by $S$ again in float32 before the
#   update, and when $S$ was so large that something overflowed, **skip the step** and halve
#   $S$.
#
# This lesson measures float16's range and resolution, shows gradients underflowing against
# float16's smallest subnormal and the scale rescuing them, runs the scaler's skip-and-back-off
# loop on an injected overflow, and trains MNIST with and without it.
#
# *Time: about 45 minutes. Needs: lessons 00 (rounding error), 05-06 (training loops,
# optimizers); MNIST (offline, installed by `make setup`).*

# %%
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.amp import GradScaler, autocast
from minigrad.data import MNIST

mg.manual_seed(0)
print("smoke mode" if SMOKE else "full mode")

# %% [markdown]
# ## 1. float16's range and resolution
#
# A normal float16 number is $(1 + m/2^{10})\,2^{e}$ with $e \in [-14, 15]$; below $2^{-14}$
# come the **subnormals** $m\,2^{-24}$, evenly spaced, down to the smallest, $2^{-24}$.
# Anything smaller than half of it rounds to 0.

# %%
for dtype in (np.float16, np.float32):
    info = np.finfo(dtype)
    print(f"{info.dtype}: eps {info.eps:.3g}, largest {info.max:.5g}, smallest normal "
          f"{info.smallest_normal:.3g}, smallest subnormal {info.smallest_subnormal:.3g}")
with np.errstate(over="ignore"):
    print("float16(2049) =", np.float16(2049.0), "  float16(70000) =", np.float16(70000.0),
          "  float16(2e-8) =", np.float16(2e-8))

# %%
x = np.logspace(-9, 4.8, 400)
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.loglog(x, np.spacing(x.astype(np.float16)).astype(np.float64), label="float16")
ax.loglog(x, np.spacing(x.astype(np.float32)).astype(np.float64), label="float32")
ax.axvline(np.finfo(np.float16).smallest_normal, color="grey", ls=":", label="float16 smallest normal")
ax.set(title="gap to the next representable number", xlabel="|x|", ylabel="spacing")
ax.legend()
plt.show()

# %% [markdown]
# Above the smallest normal the gap grows in proportion to $|x|$ (relative precision
# $2^{-10}$, three decimal digits); below it the gap stays at $2^{-24}$, so the *relative*
# error of a subnormal grows until the number becomes 0.
#
# ### Exercise 1 (derive): the gap between float16 neighbours
#
# Write `half_spacing(x)`: the distance from a positive normal float16 number $x$ to the
# next larger one, from the formula above (`np.floor(np.log2(x))` gives the exponent). The
# check compares it with `np.spacing` on random numbers.

# %% tags=["exercise"] exercise_id="15-half-spacing"
def half_spacing(x):
    """Gap from x (positive, normal float16 range) to the next float16 number."""
    raise NotImplementedError("your code here")


check_function("15-half-spacing", half_spacing)

# %% [markdown]
# ## 2. Gradients that underflow
#
# A 784-128-10 MLP trained briefly on MNIST in float32, then one batch of 256 images
# forward and backward three ways: in float32, under `autocast()` (gradients rounded to
# float16 where the matmuls are), and under `autocast()` with the loss multiplied by
# $S = 2^{16}$ (then divided back in float32).

# %%
train_set, val_set = MNIST(split="train"), MNIST(split="val")
X_train = np.asarray(train_set.data)[:pick(20_000, 2_000)]
y_train = np.asarray(train_set.targets)[:pick(20_000, 2_000)]
X_val, y_val = np.asarray(val_set.data)[:pick(5_000, 1_000)], np.asarray(val_set.targets)[:pick(5_000, 1_000)]


def mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


mg.manual_seed(0)
net = mlp()
opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
for i in range(0, len(X_train), 64):
    loss = F.cross_entropy(net(mg.tensor(X_train[i:i + 64])), mg.tensor(y_train[i:i + 64]))
    opt.zero_grad()
    loss.backward()
    opt.step()


def flat_grads(amp: bool, scale: float = 1.0) -> np.ndarray:
    """All parameter gradients of one batch of 256, as one float64 array, divided by scale."""
    opt.zero_grad()
    with autocast(enabled=amp):
        loss = F.cross_entropy(net(mg.tensor(X_train[:256])), mg.tensor(y_train[:256]))
    (loss * scale).backward()
    return np.concatenate([p.grad.numpy().astype(np.float64).ravel() / scale for p in net.parameters()])


g32, g16, g16_scaled = flat_grads(False), flat_grads(True), flat_grads(True, 2.0**16)
nonzero = g32 != 0
TINY = float(np.finfo(np.float16).smallest_subnormal)
print(f"{nonzero.sum()} nonzero float32 gradient entries; below float16's smallest subnormal: "
      f"{(np.abs(g32[nonzero]) < TINY).mean():.2%}")

# %% [markdown]
# ### Exercise 2 (implement): how many gradients does float16 lose?
#
# Write `underflow_fraction(grads)`: among the **nonzero** entries of a float32 gradient
# array, the fraction that become exactly 0 when cast to float16.

# %% tags=["exercise"] exercise_id="15-underflow-fraction"
def underflow_fraction(grads):
    """Fraction of the nonzero entries of grads that round to 0 in float16."""
    raise NotImplementedError("your code here")


check_function("15-underflow-fraction", underflow_fraction)

# %%
underflow_fraction = result("15-underflow-fraction", underflow_fraction)
lost_cast = underflow_fraction(g32)
lost_autocast = float((g16[nonzero] == 0).mean())
lost_scaled = float((g16_scaled[nonzero] == 0).mean())
print(f"lost by casting the float32 gradients to float16: {lost_cast:.2%}")
print(f"zero under autocast, no scaling: {lost_autocast:.2%};  with S = 2^16: {lost_scaled:.4%}")

fig, ax = plt.subplots(figsize=(7.5, 3.6))
bins = np.linspace(-14, 2, 81)
ax.hist(np.log10(np.abs(g32[nonzero])), bins=bins, alpha=0.6, label="|gradient| (float32)")
ax.hist(np.log10(np.abs(g32[nonzero]) * 2.0**16), bins=bins, alpha=0.6, label="|gradient| x 2^16")
ax.axvline(np.log10(TINY), color="red", label="float16 smallest subnormal")
ax.axvline(np.log10(np.finfo(np.float16).max), color="black", ls=":", label="float16 largest")
ax.set(title="gradient magnitudes of one batch", xlabel="log10 |g|", ylabel="entries")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Everything left of the red line is 0 in float16. Multiplying the loss by $S$ multiplies
# every gradient by $S$ (the chain rule is linear), shifting the histogram right by
# $\log_{10} 2^{16} \approx 4.8$ decades, well clear of the line and still far below the
# largest float16. Dividing by $S$ afterwards in float32 loses nothing, since float32's range
# holds the small values easily.
#
# ## 3. The scaler's loop: skip and back off
#
# Too large an $S$ overflows some gradient to inf. `GradScaler` does not guess; it checks
# every gradient after unscaling. If one is inf or NaN, `step()` **skips** the update and
# `update()` halves $S$; after `growth_interval` good steps in a row it doubles $S$ again. We
# inject an inf into one gradient at chosen iterations and watch.

# %%
def scripted_scales(bad_steps, steps=12, growth_interval=3):
    """Scale before each step and whether it was skipped, with inf injected at bad_steps."""
    mg.manual_seed(0)
    model = nn.Linear(3, 1)
    sgd = optim.SGD(model.parameters(), lr=0.1)
    scaler = GradScaler(init_scale=2.0**16, growth_interval=growth_interval)
    scales, skipped = [], []
    for step in range(steps):
        sgd.zero_grad()
        scaler.scale(model(mg.ones((4, 3))).pow(2).mean()).backward()
        if step in bad_steps:
            model.weight.grad.data[0, 0] = np.inf
        scales.append(scaler.get_scale())
        scaler.step(sgd)
        skipped.append(scaler.found_inf(sgd))
        scaler.update()
    return np.array(scales), np.array(skipped), scaler.get_scale()


BAD = (2, 3, 8)
scales, skipped, final_scale = scripted_scales(BAD)
for step, (s, k) in enumerate(zip(scales, skipped)):
    print(f"step {step:2d}: scale 2^{np.log2(s):.0f}  {'SKIPPED' if k else 'stepped'}")
print(f"scale after the last update: 2^{np.log2(final_scale):.0f}")

# %% [markdown]
# ### Exercise 3 (predict): the scale after a script
#
# Same scaler (`init_scale=2**16`, `growth_interval=3`), 10 steps, an inf injected at steps
# 0, 1 and 5 only. What is the scale after the tenth `update()`? Write it as a power of two;
# the next cell runs it.

# %% tags=["exercise"] exercise_id="15-predict-scale"
scale_after_10 = ...

check("15-predict-scale", scale_after_10, bad_steps=(0, 1, 5), steps=10)

# %%
predicted_script = scripted_scales((0, 1, 5), steps=10)
print(f"scale after 10 steps with infs at 0, 1, 5: 2^{np.log2(predicted_script[2]):.0f}, "
      f"{predicted_script[1].sum()} steps skipped")
fig, ax = plt.subplots(figsize=(6, 3))
ax.step(range(len(scales)), np.log2(scales), where="post", label="log2 scale")
ax.plot(np.flatnonzero(skipped), np.log2(scales[skipped]), "rx", ms=9, label="skipped step")
ax.set(title=f"GradScaler, growth_interval 3, inf at steps {BAD}", xlabel="step", ylabel="log2 S")
ax.legend()
plt.show()

# %% [markdown]
# ### Exercise 4 (spot the bug): clipping the scaled gradients
#
# `amp_step` does one mixed-precision step of a linear model with gradient clipping to norm
# 1 (`scaler.step` unscales the gradients itself before stepping). The update it makes is
# wrong. Find the one mistake; the check compares the new weights with the right recipe.

# %% tags=["exercise"] exercise_id="15-clip-before-unscale"
def amp_step(w0, x, y):
    """One autocast + GradScaler SGD step of y ~ x @ w.T with the gradient clipped to norm 1."""
    model = nn.Linear(x.shape[1], 1, bias=False)
    model.weight.data[...] = w0
    sgd = optim.SGD(model.parameters(), lr=0.1)
    scaler = GradScaler(init_scale=2.0**10)
    with autocast():
        loss = F.mse_loss(model(mg.tensor(x)), mg.tensor(y))
    scaler.scale(loss).backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(sgd)
    scaler.update()
    return model.weight.detach().numpy()


check_function("15-clip-before-unscale", amp_step)

# %% [markdown]
# ## 4. MNIST three ways
#
# The same MLP, initial weights and batches, trained in float32, under `autocast()` without
# a scaler, and under `autocast()` with `GradScaler` (default `init_scale=2**16`, a short
# `growth_interval` so that the scale has to find its level).

# %%
EPOCHS, GROWTH = pick(3, 1), pick(200, 20)


def train(mode: str):
    """Train the MLP; mode is 'float32', 'autocast' or 'autocast+scaler'."""
    mg.manual_seed(1)
    model = mlp()
    sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = GradScaler(growth_interval=GROWTH, enabled=mode == "autocast+scaler")
    skips, order = 0, np.random.default_rng(0)
    for _ in range(EPOCHS):
        perm = order.permutation(len(X_train))
        for i in range(0, len(X_train), 64):
            idx = perm[i:i + 64]
            sgd.zero_grad()
            with autocast(enabled=mode != "float32"):
                loss = F.cross_entropy(model(mg.tensor(X_train[idx])), mg.tensor(y_train[idx]))
            scaler.scale(loss).backward()
            scaler.step(sgd)
            skips += scaler.is_enabled() and scaler.found_inf(sgd)
            scaler.update()
    with mg.no_grad(), autocast(enabled=mode != "float32"):
        accuracy = float((model(mg.tensor(X_val)).numpy().argmax(1) == y_val).mean())
    return accuracy, int(skips), scaler.get_scale() if scaler.is_enabled() else None


results = {mode: train(mode) for mode in ("float32", "autocast", "autocast+scaler")}
for mode, (accuracy, skips, scale) in results.items():
    extra = f", {skips} skipped steps, final scale 2^{np.log2(scale):.0f}" if scale else ""
    print(f"{mode:16s} validation accuracy {accuracy:.2%}{extra}")

# %% [markdown]
# On this small, shallow model all three reach the same accuracy to within a percent: only a
# small fraction of its gradient entries underflow (printed in section 2), and they are the
# least important ones. The scaler's line shows how many steps it skipped and where the scale
# ended: it doubles after every `growth_interval` good steps and halves at every overflow, so
# it climbs towards the largest scale these gradients allow and hovers below it. Underflow
# matters more as models get deeper, batches larger (the mean's $1/N$ makes every gradient
# smaller) and losses smaller near convergence; that is when training without the scaler
# stalls and with it does not. `minigrad train --amp` runs this recipe from the command line.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in
# `lessons/solutions/15_mixed_precision_and_loss_scaling.py`.
#
# 1. What do float16's 5 exponent bits and 10 mantissa bits each limit?
# 2. Why are gradients, more than activations or weights, the values float16 loses?
# 3. Why does multiplying the loss by $S$ multiply every gradient by $S$, and why is dividing by $S$ in float32 harmless?
# 4. What does `GradScaler` do when a gradient overflows, and why is skipping the step better than clipping it?
# 5. Why must `unscale_` come before gradient clipping?
# 6. Why do softmax and the losses stay float32 under `autocast`?
# 7. Why does the scale grow again after `growth_interval` good steps instead of staying low?
#
# ## Checks

# %%
with np.errstate(over="ignore"):
    assert np.float16(2049.0) == 2048 and np.isinf(np.float16(70000.0)) and np.float16(2e-8) == 0
assert TINY == 2.0**-24
assert 0 < lost_cast and lost_scaled < lost_autocast / 10
assert np.isclose(lost_autocast, lost_cast, atol=0.01)
assert list(np.flatnonzero(skipped)) == list(BAD)
assert scales[0] == 2.0**16 and scales[3] == 2.0**15 and scales[4] == 2.0**14
assert predicted_script[1].sum() == 3
accuracies = [r[0] for r in results.values()]
assert max(accuracies) - min(accuracies) < 0.02, results
assert np.log2(results["autocast+scaler"][2]).is_integer()
if not SMOKE:
    assert min(accuracies) > 0.95, results
print("all checks passed")
