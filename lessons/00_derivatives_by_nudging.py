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
from course import SMOKE, check, check_function, pick, result

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
# ### Exercise 1 (derive): the forward error of $x^3$, exactly
#
# For $g(x) = x^3$ the Taylor series stops after three terms, so the forward-difference error
# $\frac{(x+h)^3 - x^3}{h} - 3x^2$ has an exact closed form in $x$ and $h$. Expand $(x+h)^3$
# by hand and write that closed form as the body of `forward_error_cube` (no call to
# `forward_diff`: the point is the algebra). The check tries it on random $x$ and $h$.

# %%
def g(x):
    return x**3


# %% tags=["exercise"] exercise_id="00-forward-error-cube"
def forward_error_cube(x, h):
    """The exact error (g(x + h) - g(x)) / h - g'(x) of the forward difference of g(x) = x^3."""
    raise NotImplementedError("your code here")


check_function("00-forward-error-cube", forward_error_cube)

# %% [markdown]
# ### Exercise 2 (derive): the central error of $x^3$
#
# Do the same for the central difference: expand $(x+h)^3 - (x-h)^3$, divide by $2h$,
# subtract $3x^2$, and write what is left.

# %% tags=["exercise"] exercise_id="00-central-error-cube"
def central_error_cube(x, h):
    """The exact error (g(x + h) - g(x - h)) / (2h) - g'(x) of the central difference of x^3."""
    raise NotImplementedError("your code here")


check_function("00-central-error-cube", central_error_cube)

# %% [markdown]
# Your closed forms against the computer, at $x = 2$, $h = 10^{-3}$ (if an exercise has not
# passed yet, the cell uses the reference and says so):

# %%
fe = result("00-forward-error-cube", forward_error_cube)
ce = result("00-central-error-cube", central_error_cube)
print(f"forward: measured {forward_diff(g, 2.0, 1e-3) - 3 * 2.0**2:.9e}, closed form {fe(2.0, 1e-3):.9e}")
print(f"central: measured {central_diff(g, 2.0, 1e-3) - 3 * 2.0**2:.9e}, closed form {ce(2.0, 1e-3):.9e}")

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



# %% [markdown]
# ### Exercise 3 (predict): the best central step in float32
#
# Before running the experiment below, predict where the bottom of the float32 central V
# will be: write $\log_{10} h^*$ for the central difference of $f$ at $x_0 = 0.5$ in float32
# (a number such as $-7$; `np.finfo(np.float32).eps` is float32's $\varepsilon$, and $f$,
# `f3` are defined above). The check compares it with the measured best step, within a
# factor of 10 either way (the bottom of a measured V is noisy).

# %% tags=["exercise"] exercise_id="00-best-central-step-float32"
log10_h_star = ...

check("00-best-central-step-float32", log10_h_star, x=x0)

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
def optimal_steps(dtype, x):
    """The h that minimises the modelled total error, for forward and central differences."""
    eps = np.finfo(dtype).eps
    return (np.sqrt(2 * eps * abs(f(x)) / abs(f2(x))),
            np.cbrt(3 * eps * abs(f(x)) / abs(f3(x))))


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
# step a gradient checker uses in float64 ($h = 10^{-6}$) the float32 rounding error,
# printed below, is over a hundred times `gradcheck`'s absolute tolerance of $10^{-5}$: a right
# gradient would fail and a slightly wrong one could not be told apart. **That is why
# gradients are checked in float64.**

# %%
err32_at_1e6 = abs(float(central_diff(f, np.float32(x0), np.float32(1e-6))) - f1(x0))
print(f"float32 central error at h = 1e-6: {err32_at_1e6:.1e}")

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
# the gradient). The nudging loop below was written in a hurry and has one real bug: its
# answer is wrong for every element but the first.
#
# ### Exercise 4 (spot the bug): the nudging loop
#
# Find the mistake in `numerical_gradient` and fix it (one line moves). The check runs your
# version on random inputs against a correct one.

# %%
mg.manual_seed(0)
x = mg.randn(5, dtype=mg.float64, requires_grad=True)


def F(t):
    return (t.tanh() * t).sum()


def F_numpy(v):
    return F(mg.tensor(v)).item()


# %% tags=["exercise"] exercise_id="00-nudge-loop-bug"
def numerical_gradient(fn, xn, h=1e-6):
    """Central differences of a scalar function fn of a 1-d numpy array, one element at a time."""
    grad = np.zeros_like(xn)
    plus, minus = xn.copy(), xn.copy()
    for j in range(xn.size):
        plus[j] += h
        minus[j] -= h
        grad[j] = (fn(plus) - fn(minus)) / (2 * h)
    return grad


check_function("00-nudge-loop-bug", numerical_gradient)

# %%
numerical_gradient = result("00-nudge-loop-bug", numerical_gradient)
F(x).backward()
numerical = numerical_gradient(F_numpy, x.detach().numpy())
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
# ### Exercise 5 (implement): the backward of the cube
#
# Write the backward of $y = x^3$ as a numpy function: given the input `x` and the gradient
# `grad` flowing in from above ($\partial L / \partial y$), return $\partial L / \partial x$.
# The check compares it with a reference on random arrays; the cell after it builds a
# `Cube` op from your function and runs `gradcheck` on it.

# %% tags=["exercise"] exercise_id="00-cube-backward"
def cube_backward(x, grad):
    """dL/dx for y = x^3, given x and dL/dy (numpy arrays of the same shape)."""
    raise NotImplementedError("your code here")


check_function("00-cube-backward", cube_backward)

# %%
cube_backward = result("00-cube-backward", cube_backward)


class Cube(mg.Function):
    """y = x^3, with the backward written in the exercise above."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return mg.tensor(cube_backward(x, grad.numpy()))


xc = mg.tensor([-1.5, 0.3, 2.0], dtype=mg.float64, requires_grad=True)
Cube.apply(xc).sum().backward()
print("gradient of Cube at", xc.detach().numpy(), ":", xc.grad.numpy())
print("gradcheck(Cube):", mg.gradcheck(lambda t: Cube.apply(t), (xc,), raise_exception=False))

# %% [markdown]
# ## What to remember
#
# - Forward difference: error $\propto h$. Central: error $\propto h^2$. Use central.
# - Rounding error grows like $\varepsilon/h$, so there is a best step: about
#   $\varepsilon^{1/3}$ for central differences ($10^{-5}$ in float64, $10^{-2}$ in float32).
# - Check gradients in float64: float32 cannot tell a right gradient from a slightly wrong one.
# - `minigrad.gradcheck` nudges every input element and compares with backprop's Jacobian.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/00_derivatives_by_nudging.py`.
#
# 1. Why is the central difference more accurate than the forward difference for the same step?
# 2. Why does the error grow again when the step gets very small?
# 3. Why is the best central step about $\varepsilon^{1/3}$ and the best forward step about $\sqrt{\varepsilon}$?
# 4. Why must gradients be checked in float64 rather than float32?
# 5. How many evaluations of $F$ does a central-difference gradient of $n$ inputs cost, and what does one backward cost?
# 6. What does `gradcheck` report when it fails, and why does it run backward twice?
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
# the digits quoted in the prose: about 12 in float64, about 6 in float32, and float32's
# rounding error at h = 1e-6 over a hundred times gradcheck's atol
digits = {dtype: -np.log10(best[dtype][3] / abs(f1(x0))) for dtype in best}
assert 11 <= digits[np.float64] <= 13.5 and 5 <= digits[np.float32] <= 7.5, digits
assert err32_at_1e6 > 100 * 1e-5, err32_at_1e6
# autograd agrees with nudging and with the closed form of d/dx tanh(x) x
xn = x.detach().numpy()
assert np.allclose(x.grad.numpy(), np.tanh(xn) + xn * (1 - np.tanh(xn) ** 2), atol=1e-12)
assert np.allclose(x.grad.numpy(), numerical, atol=1e-8)
# gradcheck passes a right backward and catches a wrong one
assert mg.gradcheck(lambda t: Cube.apply(t), (xc,))
assert not mg.gradcheck(lambda t: WrongCube.apply(t), (x,), raise_exception=False)
assert np.allclose(xc.grad.numpy(), 3 * xc.detach().numpy() ** 2)
print("all checks passed")
