# %% [markdown]
# # Lesson 6: Optimizers
#
# The gradient says which way is downhill; the **optimizer** decides how far to go. This
# lesson runs the optimizers of `minigrad.optim` on two small 2-D landscapes where we can see
# every step:
#
# * an **ill-conditioned quadratic**, a long narrow valley, the simplest model of what a loss
#   looks like near a minimum;
# * the **Rosenbrock** function, a curved banana-shaped valley.
#
# You will predict, then derive, the largest learning rate plain gradient descent tolerates on
# a quadratic and watch it break just above; see what momentum buys once it is tuned; and
# write AdaGrad, RMSProp and Adam yourself from their update rules, checked against
# `minigrad.optim`.
#
# *Time: about 60 minutes. Needs: lessons 1-5.* Lessons 4 and 5 already used `optim.SGD` with
# momentum and `optim.Adam` as black boxes; this is where they are opened.

# %%
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
from minigrad import optim

print("smoke mode" if SMOKE else "full mode")

# %% [markdown]
# ## 1. Two landscapes
#
# The quadratic
#
# $$f(\theta) = \tfrac12\left(\lambda_1 \theta_1^2 + \lambda_2 \theta_2^2\right),
# \qquad \lambda_1 = 1,\ \lambda_2 = L = 20,$$
#
# has its minimum at 0 and curvatures (the eigenvalues of its Hessian) 1 and 20: the
# *condition number* $\kappa = L/\lambda_1 = 20$ says how much steeper the walls are than the
# valley floor. Rosenbrock,
#
# $$r(\theta) = (1 - \theta_1)^2 + 100\,(\theta_2 - \theta_1^2)^2,$$
#
# has its minimum at $(1, 1)$ at the bottom of a curved valley.
#
# `run` starts a parameter at `start`, builds the optimizer and records the path. It is the
# training loop of lesson 5 with a 2-element parameter instead of a network.

# %%
L = 20.0


def quadratic(p):
    return 0.5 * (p[0] ** 2 + L * p[1] ** 2)


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def run(make_optimizer, f, start, steps):
    p = mg.tensor(start, dtype=mg.float64, requires_grad=True)
    opt = make_optimizer([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        loss = f(p)
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def contour(ax, f, xlim, ylim, levels):
    """Contour lines of f, evaluated on a whole grid at once (f only uses elementwise ops)."""
    xs, ys = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    with mg.no_grad():
        zs = f(mg.tensor(np.stack([xs, ys]))).numpy()
    ax.contour(xs, ys, zs, levels=levels, colors="grey", linewidths=0.5)


START_Q = [-4.0, 1.5]
START_R = [-1.5, 2.0]

# %% [markdown]
# ## 2. Gradient descent and its stability condition
#
# Gradient descent takes $\theta_{t+1} = \theta_t - \eta \nabla f(\theta_t)$.
#
# ### Exercise 1 (predict): where does gradient descent break?
#
# Before reading on: above which learning rate does plain gradient descent on this quadratic
# (curvatures 1 and 20) stop converging and blow up? Write your guess as a number; the check
# tells you whether you are within 2%, and the next cells show both sides of the limit.

# %% tags=["exercise"] exercise_id="06-gd-divergence-lr"
lr_diverges_above = ...

_ = check("06-gd-divergence-lr", lr_diverges_above, curvatures=(1.0, L))

# %% [markdown]
# On the quadratic
# $\nabla f(\theta) = (\lambda_1\theta_1, \lambda_2\theta_2)$, so each coordinate evolves on its own:
#
# $$\theta_{i,t+1} = (1 - \eta\lambda_i)\,\theta_{i,t}
# \quad\Longrightarrow\quad \theta_{i,t} = (1 - \eta\lambda_i)^t\,\theta_{i,0}.$$
#
# This shrinks to 0 exactly when $\lvert 1 - \eta\lambda_i\rvert < 1$, i.e. $0 < \eta < 2/\lambda_i$.
# All coordinates must converge, so the steepest direction decides:
#
# $$\eta < \frac{2}{L}, \qquad L = \lambda_{\max}(\nabla^2 f).$$
#
# (For a general quadratic the same argument runs in the eigenbasis of the Hessian.) Just
# above $2/L$ the steep coordinate flips sign every step and grows by $\lvert 1 - \eta L\rvert > 1$.
# Let us test $\eta = 0.95 \cdot 2/L$ and $\eta = 1.05 \cdot 2/L$.

# %%
steps_stab = 200
lr_crit = 2 / L
below = run(lambda ps: optim.SGD(ps, lr=0.95 * lr_crit), quadratic, START_Q, steps_stab)
above = run(lambda ps: optim.SGD(ps, lr=1.05 * lr_crit), quadratic, START_Q, steps_stab)

t = np.arange(steps_stab + 1)
predicted_below = (1 - 0.95 * lr_crit * L) ** t * START_Q[1]
print("theta_2 follows (1 - lr L)^t theta_2(0):", np.allclose(below[:, 1], predicted_below))
print(f"after {steps_stab} steps: |theta| = {np.linalg.norm(below[-1]):.2e} (lr below 2/L), "
      f"{np.linalg.norm(above[-1]):.2e} (lr above 2/L)")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(np.linalg.norm(below, axis=1), label=r"$\eta = 0.95 \cdot 2/L$")
ax.semilogy(np.linalg.norm(above, axis=1), label=r"$\eta = 1.05 \cdot 2/L$")
ax.set(xlabel="step", ylabel=r"$\|\theta_t\|$", title="just below and just above the stability limit")
ax.legend()
plt.show()

# %% [markdown]
# Even the stable run is slow: the flat direction shrinks by only $1 - \eta\lambda_1 \approx 0.9$
# per step. With the largest stable $\eta \approx 2/L$ the slow direction contracts by about
# $1 - 2/\kappa$: **the condition number sets the speed of gradient descent.**
#
# ### Exercise 2 (derive): the critical learning rate of a tilted valley
#
# For $f(\theta) = \tfrac12 \theta^\top A \theta$ with $A = \begin{pmatrix} 3 & 1 \\ 1 & 3 \end{pmatrix}$
# the axes are no longer the directions of pure curvature. Compute the largest stable
# learning rate of gradient descent on it with numpy, from `A` (not a number worked out on
# paper: the check feeds your line other matrices' answers too, through `A`).

# %% tags=["exercise"] exercise_id="06-critical-lr-tilted"
A = np.array([[3.0, 1.0], [1.0, 3.0]])
my_lr_crit = ...

_ = check("06-critical-lr-tilted", my_lr_crit, A=A)

# %% [markdown]
# ## 3. Momentum
#
# Momentum keeps a running direction $b$ (a "velocity") and steps along it; minigrad's `SGD`
# uses PyTorch's form:
#
# $$b_{t} = \mu\, b_{t-1} + g_t, \qquad \theta_{t+1} = \theta_t - \eta\, b_t.$$
#
# Along the flat valley floor successive gradients agree, so $b$ builds up to about
# $g/(1-\mu)$: a tenfold larger effective step for $\mu = 0.9$. Across the steep walls the
# gradient changes sign every step and the contributions cancel. With well-chosen $\eta, \mu$
# the slow direction contracts like $1 - 2/\sqrt{\kappa}$ instead of $1 - 2/\kappa$.
#
# Same small learning rate, with and without momentum:

# %%
steps_q = pick(100, 60)
lr_small = 0.02
gd_path = run(lambda ps: optim.SGD(ps, lr=lr_small), quadratic, START_Q, steps_q)
mom_path = run(lambda ps: optim.SGD(ps, lr=lr_small, momentum=0.9), quadratic, START_Q, steps_q)

fig, ax = plt.subplots(figsize=(7, 3.5))
contour(ax, quadratic, (-4.5, 1.5), (-2, 2), levels=np.logspace(-2, 1.7, 12))
ax.plot(*gd_path.T, ".-", ms=3, label=f"SGD lr={lr_small}")
ax.plot(*mom_path.T, ".-", ms=3, label=f"SGD lr={lr_small}, momentum 0.9")
ax.plot(0, 0, "k*", ms=12)
ax.set(title=f"{steps_q} steps on the quadratic", xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
ax.legend(fontsize=8)
plt.show()
print(f"distance to the minimum: GD {np.linalg.norm(gd_path[-1]):.3g}, "
      f"momentum {np.linalg.norm(mom_path[-1]):.3g}")

# %% [markdown]
# Momentum also moves the stability limit. For one curvature $\lambda$ the pair
# $(\theta_t, \theta_{t-1})$ evolves linearly, with characteristic polynomial
# $p(z) = z^2 - (1 + \mu - \eta\lambda)\,z + \mu$; the iteration converges exactly when both
# roots lie inside the unit circle.
#
# ### Exercise 3 (derive): the stability limit with momentum
#
# For $\mu = 0.9$ and our $L = 20$, what is the largest stable learning rate? (As $\eta$ grows,
# a root leaves the unit circle through $z = -1$: when does $p(-1)$ reach 0? You can also find
# it numerically with `np.roots` on a grid of $\eta$.) Write it in terms of `mu` and `L`.

# %% tags=["exercise"] exercise_id="06-momentum-limit"
mu = 0.9
lr_limit_momentum = ...

_ = check("06-momentum-limit", lr_limit_momentum, mu=mu, L=L)

# %% [markdown]
# $p(-1) = 2 + 2\mu - \eta\lambda$, so the limit is $\eta\lambda < 2(1 + \mu)$: with momentum
# $\mu$ gradient descent tolerates learning rates up to $2(1+\mu)/L$, almost twice the limit
# without momentum for $\mu = 0.9$. Just below and just above:

# %%
lr_crit_mom = 2 * (1 + mu) / L
mom_below = run(lambda ps: optim.SGD(ps, lr=0.95 * lr_crit_mom, momentum=0.9), quadratic, START_Q, steps_stab)
mom_above = run(lambda ps: optim.SGD(ps, lr=1.05 * lr_crit_mom, momentum=0.9), quadratic, START_Q, steps_stab)
print(f"momentum 0.9, lr = 0.95 x 2(1+mu)/L = {0.95 * lr_crit_mom:.3f}: |theta| = {np.linalg.norm(mom_below[-1]):.2e}")
print(f"momentum 0.9, lr = 1.05 x 2(1+mu)/L = {1.05 * lr_crit_mom:.3f}: |theta| = {np.linalg.norm(mom_above[-1]):.2e}")

# %% [markdown]
# ## 4. Adaptive methods: one learning rate per coordinate
#
# Momentum still uses one $\eta$ for all directions. Adaptive methods divide each coordinate's
# step by a running measure of its gradient size, so steep and flat directions move at similar
# speeds. With $g_t$ the gradient, all operations elementwise:
#
# **AdaGrad** sums all past squared gradients:
# $$s_t = s_{t-1} + g_t^2,\qquad \theta_{t+1} = \theta_t - \eta\,\frac{g_t}{\sqrt{s_t} + \epsilon}.$$
# The effective step only shrinks, which suits sparse features but can stall long runs.
#
# **RMSProp** forgets old gradients with a moving average ($\alpha = 0.99$):
# $$v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\qquad \theta_{t+1} = \theta_t - \eta\,\frac{g_t}{\sqrt{v_t} + \epsilon}.$$
#
# **Adam** combines a momentum-like average $m$ with RMSProp's $v$ and corrects both for
# starting at zero ($\beta_1 = 0.9,\ \beta_2 = 0.999$, $t$ counts from 1):
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,$$
# $$\hat m_t = \frac{m_t}{1-\beta_1^t},\qquad \hat v_t = \frac{v_t}{1-\beta_2^t},\qquad
# \theta_{t+1} = \theta_t - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.$$
# Since $\lvert\hat m / \sqrt{\hat v}\rvert \lesssim 1$, each step moves every coordinate by
# at most about $\eta$, whatever the gradient's scale.
#
# **AdamW** decays the weights *before* the Adam step, separately from the gradient:
# $$\theta_t \leftarrow \theta_t\,(1 - \eta\lambda), \quad\text{then Adam.}$$
# Adam with `weight_decay` instead adds $\lambda\theta$ to $g$, where the division by
# $\sqrt{\hat v}$ then rescales it; AdamW's decay is the same for every weight.

# ### Exercise 4 (implement): AdaGrad
#
# Write AdaGrad as a function that runs `steps` updates from `theta`, asking `grad_fn(theta)`
# for the gradient at each step (no learning-rate decay, no weight decay, the sum of squares
# starting at 0). The check runs it on random quadratics against `optim.Adagrad`.

# %% tags=["exercise"] exercise_id="06-adagrad"
def adagrad(grad_fn, theta, steps, lr, eps=1e-10):
    """theta after `steps` AdaGrad updates; grad_fn(theta) returns the gradient (numpy arrays)."""
    raise NotImplementedError("your code here")


_ = check_function("06-adagrad", adagrad)

# %% [markdown]
# ### Exercise 5 (implement): RMSProp
#
# The same for RMSProp with $\alpha = 0.99$ (`optim.RMSprop`'s defaults: no momentum, not
# centred). Note where $\epsilon$ goes: outside the square root, as in PyTorch.

# %% tags=["exercise"] exercise_id="06-rmsprop"
def rmsprop(grad_fn, theta, steps, lr, alpha=0.99, eps=1e-8):
    """theta after `steps` RMSProp updates; grad_fn(theta) returns the gradient."""
    raise NotImplementedError("your code here")


_ = check_function("06-rmsprop", rmsprop)

# %% [markdown]
# ### Exercise 6 (implement): Adam
#
# And Adam, with the bias corrections ($t$ counts from 1). The check compares with
# `optim.Adam` to about 9 digits, so the order of operations matters little, but $\epsilon$
# must be added to $\sqrt{\hat v}$, not to $\hat v$.

# %% tags=["exercise"] exercise_id="06-adam"
def adam(grad_fn, theta, steps, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """theta after `steps` Adam updates; grad_fn(theta) returns the gradient."""
    raise NotImplementedError("your code here")


_ = check_function("06-adam", adam)

# %% [markdown]
# Your three functions on this lesson's quadratic, next to `minigrad.optim` (a function
# that has not passed yet is replaced by the reference, and the cell says so). On the very
# first Adam step the bias corrections make $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so the
# step is $\eta\,g_1/(|g_1| + \epsilon)$: every coordinate moves by $\eta$, however large or
# small its gradient.

# %%
my_adagrad, my_rmsprop, my_adam = (result("06-adagrad", adagrad), result("06-rmsprop", rmsprop),
                                   result("06-adam", adam))


def grad_quadratic(theta):
    return np.array([1.0, L]) * theta


mine_vs_library = {
    "AdaGrad": (my_adagrad(grad_quadratic, START_Q, 20, lr=1.0),
                run(lambda ps: optim.Adagrad(ps, lr=1.0), quadratic, START_Q, 20)[-1]),
    "RMSProp": (my_rmsprop(grad_quadratic, START_Q, 20, lr=0.1),
                run(lambda ps: optim.RMSprop(ps, lr=0.1), quadratic, START_Q, 20)[-1]),
    "Adam": (my_adam(grad_quadratic, START_Q, 20, lr=0.3),
             run(lambda ps: optim.Adam(ps, lr=0.3), quadratic, START_Q, 20)[-1]),
}
for name, (mine, library) in mine_vs_library.items():
    print(f"{name:8s} after 20 steps: yours {mine}, minigrad.optim {library}")
adam_first_step = np.abs(my_adam(grad_quadratic, START_Q, 1, lr=0.1) - START_Q)
print("Adam's first step (lr 0.1) moved the coordinates by", adam_first_step)

# %% [markdown]
# ### All of them on the quadratic
#
# A fair race needs each method at a good setting. Plain gradient descent is best at
# $\eta = 2/(\lambda_1 + L)$, which makes both coordinates contract equally fast. For
# heavy-ball momentum the classical optimum (Polyak) on a quadratic with curvatures in
# $[\lambda_1, L]$ is
#
# $$\eta^* = \frac{4}{(\sqrt{L} + \sqrt{\lambda_1})^2},\qquad
# \mu^* = \left(\frac{\sqrt{\kappa} - 1}{\sqrt{\kappa} + 1}\right)^2,$$
#
# about $\eta = 0.13$, $\mu = 0.40$ for $\kappa = 20$; the momentum run of section 3 used
# $\eta = 0.02$, $\mu = 0.9$, far from it. The adaptive methods get learning rates that
# work for them.

# %%
lr_gd_best = 2 / (1 + L)
lr_hb, mu_hb = 4 / (np.sqrt(L) + 1) ** 2, ((np.sqrt(L) - 1) / (np.sqrt(L) + 1)) ** 2
print(f"GD's best lr {lr_gd_best:.4f}; heavy-ball optimum lr {lr_hb:.4f}, mu {mu_hb:.4f}")
optimizers = {
    "SGD": lambda ps: optim.SGD(ps, lr=lr_gd_best),
    "momentum (tuned)": lambda ps: optim.SGD(ps, lr=lr_hb, momentum=mu_hb),
    "momentum (section 3)": lambda ps: optim.SGD(ps, lr=lr_small, momentum=0.9),
    "AdaGrad": lambda ps: optim.Adagrad(ps, lr=1.0),
    "RMSProp": lambda ps: optim.RMSprop(ps, lr=0.1),
    "Adam": lambda ps: optim.Adam(ps, lr=0.3),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.3, weight_decay=0.1),
}
quad_paths = {name: run(make, quadratic, START_Q, steps_q) for name, make in optimizers.items()}
final_f = {name: quadratic(path[-1]) for name, path in quad_paths.items()}

fig, ax = plt.subplots(figsize=(8, 4))
contour(ax, quadratic, (-4.5, 1.5), (-2, 2), levels=np.logspace(-2, 1.7, 12))
for name, path in quad_paths.items():
    ax.plot(*path.T, ".-", ms=2, lw=1, label=name)
ax.plot(0, 0, "k*", ms=12)
ax.set(title="optimizers on the quadratic", xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
ax.legend(fontsize=8)
plt.show()
for name, value in sorted(final_f.items(), key=lambda kv: kv[1]):
    print(f"{name:21s} f after {steps_q} steps: {value:.2e}")

# %% [markdown]
# Read the printed ranking. Tuned heavy-ball momentum is far ahead of plain gradient descent:
# its slow direction contracts by about $(\sqrt\kappa - 1)/(\sqrt\kappa + 1) \approx 0.63$ per
# step against GD's $(\kappa - 1)/(\kappa + 1) \approx 0.90$. Badly tuned momentum (section
# 3's setting) is *behind* plain GD: momentum is not magic, its two knobs must suit the
# curvature. Adam ends far above the others: each of its steps moves a coordinate by roughly
# $\eta$ whatever the gradient, so with a constant $\eta = 0.3$ it keeps hopping around the
# minimum instead of settling (a decaying learning rate fixes that). AdamW does better only
# because its weight decay pulls towards 0, which happens to be this quadratic's minimum.
# AdaGrad's and RMSProp's steps shrink with their accumulated gradients, so they do settle.

# %% [markdown]
# ## 5. Rosenbrock: a curved valley
#
# Here the curvature changes from place to place (about 2000 across the valley near the
# start, about 1 along it), so no single learning rate suits plain gradient descent: it must be
# small enough for the walls and then crawls along the floor. The learning rates below are
# roughly the largest that stay stable for each method.

# %%
steps_r = pick(3000, 800)
rosen_optimizers = {
    "SGD": lambda ps: optim.SGD(ps, lr=5e-4),
    "momentum": lambda ps: optim.SGD(ps, lr=2e-4, momentum=0.9),
    "AdaGrad": lambda ps: optim.Adagrad(ps, lr=0.5),
    "RMSProp": lambda ps: optim.RMSprop(ps, lr=0.01),
    "Adam": lambda ps: optim.Adam(ps, lr=0.05),
}
rosen_paths = {name: run(make, rosenbrock, START_R, steps_r) for name, make in rosen_optimizers.items()}

fig, ax = plt.subplots(figsize=(8, 5))
contour(ax, rosenbrock, (-2, 2), (-1, 3), levels=np.logspace(-1, 3.5, 15))
for name, path in rosen_paths.items():
    ax.plot(*path.T, "-", lw=1, label=name)
ax.plot(1, 1, "k*", ms=12)
ax.set(title=f"{steps_r} steps on Rosenbrock", xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
ax.legend(fontsize=8)
plt.show()
for name, path in rosen_paths.items():
    print(f"{name:9s} distance to (1, 1): {np.linalg.norm(path[-1] - 1):.3g}")

# %% [markdown]
# Adam (and RMSProp) move along the floor of the valley at a speed set by $\eta$, not by the
# tiny gradient there; plain SGD crawls. None of this ranks the optimizers in general: on real
# networks well-tuned SGD with momentum often generalises as well as Adam, and Adam(W) is the
# forgiving default when you do not want to tune.

# %% [markdown]
# ## Summary
#
# * On a quadratic, gradient descent is stable iff $\eta < 2/L$; its speed is set by the
#   condition number.
# * Momentum averages gradients: faster along consistent directions, damped across
#   oscillating ones.
# * AdaGrad, RMSProp and Adam scale each coordinate by its gradient history; Adam's step is
#   about $\eta$ per coordinate; AdamW decouples weight decay.
#
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/06_optimizers.py`.
#
# 1. Why does the largest curvature, not the smallest, set gradient descent's largest stable learning rate?
# 2. What does the condition number $\kappa$ tell you about the speed of gradient descent?
# 3. Why can momentum use a larger learning rate than plain gradient descent, and why did momentum with $\eta = 0.02$, $\mu = 0.9$ lose to plain gradient descent here?
# 4. What is the difference between AdaGrad's and RMSProp's accumulator, and when does it matter?
# 5. Why does Adam need bias correction, and what does its first step look like?
# 6. Why does Adam with a constant learning rate not converge to the exact minimum of the quadratic?
# 7. How does AdamW's weight decay differ from Adam with `weight_decay`?
#
# ## Checks

# %%
assert np.linalg.norm(below[-1]) < 1e-3 * np.linalg.norm(START_Q), "lr < 2/L must converge"
assert np.linalg.norm(above[-1]) > 10 * np.linalg.norm(START_Q), "lr > 2/L must diverge"
assert np.allclose(below[:, 1], predicted_below)
assert np.allclose(above[:, 1], (1 - 1.05 * lr_crit * L) ** t * START_Q[1])
assert np.linalg.norm(mom_path[-1]) < 0.1 * np.linalg.norm(gd_path[-1]), "momentum must help at lr 0.02"
assert np.linalg.norm(mom_below[-1]) < 1e-2 * np.linalg.norm(START_Q), "lr < 2(1+mu)/L must converge"
assert np.linalg.norm(mom_above[-1]) > 10 * np.linalg.norm(START_Q), "lr > 2(1+mu)/L must diverge"
# your optimizers (or the references) agree with minigrad.optim; Adam's first step is lr * sign(g)
for name, (mine, library) in mine_vs_library.items():
    assert np.allclose(mine, library, rtol=1e-9, atol=1e-12), name
assert np.allclose(adam_first_step, 0.1), "Adam's first step is lr * sign(g)"
# the race: the numbers quoted in the prose, and the ranking it describes
assert abs(lr_hb - 0.13) < 0.005 and abs(mu_hb - 0.40) < 0.005
assert final_f["momentum (tuned)"] < 1e-6 * final_f["SGD"], "tuned momentum must beat GD by far"
assert final_f["momentum (section 3)"] > final_f["SGD"], "badly tuned momentum loses to GD"
assert final_f["Adam"] > 1e-5 and final_f["Adam"] > 100 * final_f["SGD"], "Adam hovers near the minimum"
assert final_f["AdamW"] < final_f["Adam"]
assert max(final_f["AdaGrad"], final_f["RMSProp"]) < final_f["Adam"]
for name, path in quad_paths.items():
    assert np.linalg.norm(path[-1]) < 0.1 * np.linalg.norm(START_Q), f"{name} did not converge"
assert np.linalg.norm(rosen_paths["Adam"][-1] - 1) < np.linalg.norm(rosen_paths["SGD"][-1] - 1)
print("all checks passed")
