# %% [markdown]
# # Lesson 0: derivatives by nudging
#
# Before we build an engine that computes derivatives *exactly* (backprop), we need a way
# to check it. The oldest trick is to nudge the input a little and watch the output move:
#
# $$f'(x) = \lim_{h \to 0} \frac{f(x+h) - f(x)}{h}.$$
#
# A computer cannot take the limit, so it picks a small $h$. How small? Too large and the
# formula is wrong (**truncation error**); too small and the subtraction of two nearly equal
# floating-point numbers destroys the digits (**rounding error**). This lesson measures both,
# finds the best step, and ends with `minigrad.gradcheck`: the same idea applied to every
# element of every input of a tensor function.
#
# You will learn:
# - forward vs central differences, and why the central one is far more accurate;
# - the V-shaped curve of error against step size, in float32 and float64;
# - how `minigrad.gradcheck` uses central differences to catch a wrong backward.

# %%
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, pick

import minigrad as mg

print("smoke mode:", SMOKE)

# %% [markdown]
# ## A test function with a known derivative
#
# We use $f(x) = e^x \sin x$, whose derivatives we know in closed form:
#
# $$f'(x) = e^x(\sin x + \cos x), \qquad f''(x) = 2 e^x \cos x, \qquad
# f'''(x) = 2 e^x (\cos x - \sin x).$$

# %%
def f(x):
    return np.exp(x) * np.sin(x)


def f1(x):
    return np.exp(x) * (np.sin(x) + np.cos(x))


def f2(x):
    return 2 * np.exp(x) * np.cos(x)


def f3(x):
    return 2 * np.exp(x) * (np.cos(x) - np.sin(x))


x0 = 0.5
print(f"f({x0}) = {f(x0):.6f},  f'({x0}) = {f1(x0):.6f}")

# %% [markdown]
# ## Forward and central differences
#
# Taylor's theorem says what the formulas really compute:
#
# $$f(x \pm h) = f(x) \pm h f'(x) + \tfrac{h^2}{2} f''(x) \pm \tfrac{h^3}{6} f'''(x) + \dots$$
#
# so the **forward difference** is off by a term proportional to $h$,
#
# $$\frac{f(x+h) - f(x)}{h} = f'(x) + \tfrac{h}{2} f''(x) + O(h^2),$$
#
# while in the **central difference** the even terms cancel and the error is proportional
# to $h^2$:
#
# $$\frac{f(x+h) - f(x-h)}{2h} = f'(x) + \tfrac{h^2}{6} f'''(x) + O(h^4).$$
#
# Shrinking $h$ tenfold shrinks the forward error tenfold but the central error a hundredfold.

# %%
def forward_diff(fn, x, h):
    return (fn(x + h) - fn(x)) / h


def central_diff(fn, x, h):
    return (fn(x + h) - fn(x - h)) / (2 * h)


print(f"{'h':>8} {'forward error':>15} {'predicted h/2 f2':>18} {'central error':>15} {'predicted h^2/6 f3':>20}")
for h in [1e-1, 1e-2, 1e-3, 1e-4]:
    ef = forward_diff(f, x0, h) - f1(x0)
    ec = central_diff(f, x0, h) - f1(x0)
    print(f"{h:8.0e} {ef:15.3e} {h / 2 * f2(x0):18.3e} {ec:15.3e} {h**2 / 6 * f3(x0):20.3e}")

# %% [markdown]
# The measured errors match the first Taylor term almost digit for digit. That is the
# truncation error: it comes from the formula, not from the computer.
#
# ### Exercise 1: the forward error of $x^3$, exactly
#
# For $g(x) = x^3$ the Taylor series stops, so the forward-difference error is exactly
# $\frac{(x+h)^3 - x^3}{h} - 3x^2 = 3xh + h^2$. Compute the forward difference of $g$ at
# $x = 2$ with $h = 10^{-3}$ and its error. *Write the line `err1 = ...` yourself*; the
# check compares it with the closed form $3xh + h^2$.

# %%
def g(x):
    return x**3


err1 = forward_diff(g, 2.0, 1e-3) - 3 * 2.0**2   # <- your line
check("forward error of x^3", err1, 3 * 2.0 * 1e-3 + 1e-3**2,
      "forward_diff(g, 2.0, 1e-3) minus the true derivative 3 * 2**2")

# %% [markdown]
# ### Exercise 2: the central error of $x^3$
#
# Show that $\frac{(x+h)^3 - (x-h)^3}{2h} = 3x^2 + h^2$, then compute the central-difference
# error at $x=2$, $h=10^{-3}$. *Write `err2 = ...`*; the check compares it with $h^2$.

# %%
err2 = central_diff(g, 2.0, 1e-3) - 3 * 2.0**2   # <- your line
check("central error of x^3", err2, 1e-3**2, "central_diff(g, 2.0, 1e-3) minus 3 * 2**2",
      rtol=1e-3)

# %% [markdown]
# ## Rounding error: why $h$ cannot be tiny
#
# A float keeps about 16 significant digits (float64) or 7 (float32); the gap between 1 and
# the next float is the **machine epsilon** $\varepsilon$. Each evaluation of $f$ is off by
# about $\varepsilon |f|$, and dividing by $h$ magnifies that:
#
# $$\text{error}_\text{forward}(h) \approx \frac{h}{2}|f''| + \frac{\varepsilon |f|}{h},
# \qquad
# \text{error}_\text{central}(h) \approx \frac{h^2}{6}|f'''| + \frac{\varepsilon |f|}{h}.$$
#
# The first term falls as $h$ falls, the second grows: the total is a V on a log-log plot.
# Setting the derivative of each sum to zero gives the best step:
#
# $$h^*_\text{forward} = \sqrt{\frac{2 \varepsilon |f|}{|f''|}} \sim \sqrt{\varepsilon},
# \qquad
# h^*_\text{central} = \left(\frac{3 \varepsilon |f|}{|f'''|}\right)^{1/3} \sim \varepsilon^{1/3}.$$

# %%
for dtype in (np.float32, np.float64):
    print(f"{np.dtype(dtype).name}: eps = {np.finfo(dtype).eps:.3e}, sqrt(eps) = "
          f"{np.sqrt(np.finfo(dtype).eps):.1e}, eps^(1/3) = {np.cbrt(np.finfo(dtype).eps):.1e}")


def optimal_steps(dtype, x):
    """The h that minimises the modelled total error, for forward and central differences."""
    eps = np.finfo(dtype).eps
    return (np.sqrt(2 * eps * abs(f(x)) / abs(f2(x))),
            np.cbrt(3 * eps * abs(f(x)) / abs(f3(x))))


# %% [markdown]
# Now the experiment: sweep $h$ from $10^{-15}$ to $1$, evaluate both formulas **in the
# given precision** (input, step and arithmetic all in float32 or all in float64), and
# measure the error against the exact derivative computed in float64.

# %%
steps = np.logspace(-15, 0, pick(301, 61))


def errors(dtype, x):
    xs = dtype(x)
    exact = f1(x)
    fwd, cen = [], []
    for h in steps:
        hh = dtype(h)
        fwd.append(abs(float(forward_diff(f, xs, hh)) - exact))
        cen.append(abs(float(central_diff(f, xs, hh)) - exact))
    return np.maximum(np.array(fwd), 1e-17), np.maximum(np.array(cen), 1e-17)


with np.errstate(divide="ignore", invalid="ignore"):
    sweep = {dtype: errors(dtype, x0) for dtype in (np.float32, np.float64)}

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, dtype in zip(axes, (np.float32, np.float64)):
    fwd, cen = sweep[dtype]
    hf, hc = optimal_steps(dtype, x0)
    ax.loglog(steps, fwd, label="forward difference", color="tab:blue")
    ax.loglog(steps, cen, label="central difference", color="tab:orange")
    ax.axvline(hf, color="tab:blue", ls="--", lw=1, label=f"predicted $h^*$ forward = {hf:.0e}")
    ax.axvline(hc, color="tab:orange", ls="--", lw=1, label=f"predicted $h^*$ central = {hc:.0e}")
    for err, color in ((fwd, "tab:blue"), (cen, "tab:orange")):
        k = int(np.argmin(err))
        ax.plot(steps[k], err[k], "o", color=color, ms=8, mfc="none", mew=2)
    ax.set_title(f"{np.dtype(dtype).name}: error of $f'({x0})$ (circles: measured best)")
    ax.set_xlabel("step size h")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
axes[0].set_ylabel("|numerical - exact|")
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the V from right to left. On the right, truncation dominates: the forward line has
# slope 1, the central line slope 2 (one decade of $h$ buys two decades of accuracy). On the
# left, rounding dominates: both lines rise with slope $-1$, noisily, because rounding
# errors are essentially random. The bottom of each V sits near the predicted $h^*$.
# At the far left of the float32 panel the error is flat: there $x + h$ rounds to exactly
# $x$, the difference is 0, and the "derivative" is 0, so the error is $|f'(x)|$ itself.
#
# The best achievable errors are what matter for checking gradients:

# %%
best = {}
for dtype in (np.float32, np.float64):
    fwd, cen = sweep[dtype]
    best[dtype] = (steps[np.argmin(fwd)], fwd.min(), steps[np.argmin(cen)], cen.min())
    print(f"{np.dtype(dtype).name}: forward best h={best[dtype][0]:.0e} error={best[dtype][1]:.1e};"
          f"  central best h={best[dtype][2]:.0e} error={best[dtype][3]:.1e}")

# %% [markdown]
# In float64 the central difference gets about 12 correct digits, plenty to tell a right
# gradient from a wrong one. In float32 even the best step leaves only about 6, and at the
# step a gradient checker uses in float64 ($h = 10^{-6}$) float32 rounding error is around
# $10^{-1}$: it would hide any bug. **That is why gradients are checked in float64.**
#
# ### Exercise 3: predict the best central step in float32
#
# Using the formula $h^*_\text{central} = (3\varepsilon|f|/|f'''|)^{1/3}$ with float32's
# $\varepsilon$ (`np.finfo(np.float32).eps`) at $x_0 = 0.5$, compute $h^*$.
# *Write the line `h_star = ...`*. The check compares it with the measured best step of the
# float32 sweep, within a factor of 10 (the measured curve is noisy at the bottom).

# %%
h_star = np.cbrt(3 * np.finfo(np.float32).eps * abs(f(x0)) / abs(f3(x0)))   # <- your line
check("log10 of the best float32 central step", np.log10(h_star), np.log10(best[np.float32][2]),
      "cube root of 3 * eps * |f(x0)| / |f'''(x0)|", rtol=0, atol=1.0)

# %% [markdown]
# ## From one number to every input element: `gradcheck`
#
# A tensor function $F: \mathbb{R}^n \to \mathbb{R}^m$ has a Jacobian $J_{rj} = \partial
# F_r / \partial x_j$. Backprop computes $v^\top J$ for a chosen $v$; with $v$ one-hot we
# get row $r$. Nudging input element $j$ up and down gives column $j$:
#
# $$J_{:, j} \approx \frac{F(x + h e_j) - F(x - h e_j)}{2h}.$$
#
# First by hand, for $F(x) = \sum_i \tanh(x_i)\, x_i$ (a scalar, so $J$ is one row,
# the gradient):

# %%
mg.manual_seed(0)
x = mg.randn(5, dtype=mg.float64, requires_grad=True)


def F(t):
    return (t.tanh() * t).sum()


F(x).backward()
numerical = np.zeros(5)
h = 1e-6
for j in range(5):
    plus, minus = x.detach().numpy().copy(), x.detach().numpy().copy()
    plus[j] += h
    minus[j] -= h
    numerical[j] = (F(mg.tensor(plus)).item() - F(mg.tensor(minus)).item()) / (2 * h)
print("autograd :", x.grad.numpy())
print("nudging  :", numerical)
print("max |difference| =", np.abs(x.grad.numpy() - numerical).max())

# %% [markdown]
# `minigrad.gradcheck(fn, inputs)` does exactly this for every input with
# `requires_grad=True` and every floating output, with $h = 10^{-6}$ by default, and
# compares element-wise: it passes when $|a - n| \le \text{atol} + \text{rtol}\,|n|$
# (defaults $10^{-5}$ and $10^{-3}$). It also runs backward twice to be sure it gives the
# same answer both times.

# %%
print("float64 gradcheck:", mg.gradcheck(F, (x,)))

# %% [markdown]
# A check is only useful if it can fail. Here is an op with a deliberately wrong backward:
# we claim $\frac{d}{dx}x^3 = 2x^2$. An op is a `minigrad.Function` with a numpy `forward`
# and a Tensor `backward` (lesson 2 looks inside).

# %%
class WrongCube(mg.Function):
    """y = x^3, with a wrong backward (the right one is 3 x^2 grad)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * mg.tensor(2 * x**2)


try:
    mg.gradcheck(lambda t: WrongCube.apply(t), (x,))
except AssertionError as error:
    print(type(error).__name__, ":", error)

# %% [markdown]
# The message names the input, the element, and both values, so you know where to look.
#
# And in float32? The same correct function, checked with the same tolerances, fails:
# rounding error at $h=10^{-6}$ is far bigger than the tolerance (look at the V above).

# %%
x32 = x.detach().float().requires_grad_()
print("float32 gradcheck passes:", mg.gradcheck(F, (x32,), raise_exception=False))

# %% [markdown]
# ### Exercise 4: fix the cube
#
# Write `Cube`, with the right backward $3x^2 \cdot \text{grad}$. *Write the `return` line
# of `backward` yourself.* The check compares its gradient with central differences of
# $x^3$ computed in numpy, and `gradcheck` must pass.

# %%
class Cube(mg.Function):
    """y = x^3, dy/dx = 3 x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * mg.tensor(3 * x**2)   # <- your line


xc = mg.tensor([-1.5, 0.3, 2.0], dtype=mg.float64, requires_grad=True)
Cube.apply(xc).sum().backward()
xn = xc.detach().numpy()
check("gradient of Cube", xc.grad, central_diff(g, xn, 1e-5), "d/dx x^3 = 3 x^2, times grad")
check("gradcheck(Cube)", mg.gradcheck(lambda t: Cube.apply(t), (xc,), raise_exception=False), True,
      "gradcheck compares your backward with nudging")

# %% [markdown]
# ## What to remember
#
# - Forward difference: error $\propto h$. Central: error $\propto h^2$. Use central.
# - Rounding error grows like $\varepsilon/h$, so there is a best step: about
#   $\varepsilon^{1/3}$ for central differences ($10^{-5}$ in float64, $10^{-2}$ in float32).
# - Check gradients in float64: float32 cannot tell a right gradient from a slightly wrong one.
# - `minigrad.gradcheck` nudges every input element and compares with backprop's Jacobian.
#
# ## Checks

# %%
# truncation errors scale as predicted: forward ~ h, central ~ h^2
ratio_fwd = (forward_diff(f, x0, 1e-3) - f1(x0)) / (forward_diff(f, x0, 1e-4) - f1(x0))
ratio_cen = (central_diff(f, x0, 1e-2) - f1(x0)) / (central_diff(f, x0, 1e-3) - f1(x0))
assert 9.5 < ratio_fwd < 10.5, ratio_fwd
assert 95 < ratio_cen < 105, ratio_cen
# the V: float64 central is far better than float32 central, and both bottoms sit near h*
assert best[np.float64][3] < 1e-9 and best[np.float64][3] < best[np.float32][3] / 100
assert 1e-7 < best[np.float64][2] < 1e-3 and 1e-4 < best[np.float32][2] < 1e-1
assert 1e-10 < best[np.float64][0] < 1e-6
# autograd agrees with nudging and with the closed form of d/dx tanh(x) x
xn = x.detach().numpy()
assert np.allclose(x.grad.numpy(), np.tanh(xn) + xn * (1 - np.tanh(xn) ** 2), atol=1e-12)
assert np.allclose(x.grad.numpy(), numerical, atol=1e-8)
# gradcheck passes a right backward and catches a wrong one
assert mg.gradcheck(lambda t: Cube.apply(t), (xc,))
assert not mg.gradcheck(lambda t: WrongCube.apply(t), (x,), raise_exception=False)
assert np.allclose(xc.grad.numpy(), 3 * xc.detach().numpy() ** 2)
print("all checks passed")
