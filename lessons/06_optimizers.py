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
# You will derive the largest learning rate plain gradient descent tolerates on a quadratic,
# $\eta < 2/L$, and watch it break just above; see what momentum buys; meet the adaptive
# methods (AdaGrad, RMSProp, Adam, AdamW) with their update rules; and recompute one Adam step
# by hand.
#
# *Time: about 60 minutes. Needs: lessons 1-5.*

# %%
import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, pick

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
# Gradient descent takes $\theta_{t+1} = \theta_t - \eta \nabla f(\theta_t)$. On the quadratic
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
# ### Exercise 1: the critical learning rate of a tilted valley
#
# For $f(\theta) = \tfrac12 \theta^\top A \theta$ with $A = \begin{pmatrix} 3 & 1 \\ 1 & 3 \end{pmatrix}$,
# compute the largest stable learning rate $2/\lambda_{\max}(A)$ with numpy.
# The check compares it with the value from the eigenvalues worked out on paper
# ($\det(A - \lambda I) = (3-\lambda)^2 - 1 = 0$ gives $\lambda = 2, 4$).
# *Your line:* `my_lr_crit = ...`

# %%
A = np.array([[3.0, 1.0], [1.0, 3.0]])
my_lr_crit = 2 / np.linalg.eigvalsh(A).max()                               # <- write this line
_ = check("critical learning rate", my_lr_crit, 0.5, "np.linalg.eigvalsh(A) gives the curvatures")

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
# gradient changes sign every step and the contributions cancel. On a quadratic heavy-ball
# momentum is stable for $\eta < 2(1+\mu)/L$, and with well-chosen $\eta, \mu$ the slow
# direction contracts like $1 - 2/\sqrt{\kappa}$ instead of $1 - 2/\kappa$.
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
# $z^2 - (1 + \mu - \eta\lambda)\,z + \mu$; both roots lie inside the unit circle exactly when
# $0 < \eta\lambda < 2(1 + \mu)$. So with momentum $\mu$ the limit is
#
# $$\eta < \frac{2(1+\mu)}{L},$$
#
# $3.8/L$ for $\mu = 0.9$, almost twice the limit without momentum. Just below and just above:

# %%
lr_crit_mom = 2 * (1 + 0.9) / L
mom_below = run(lambda ps: optim.SGD(ps, lr=0.95 * lr_crit_mom, momentum=0.9), quadratic, START_Q, steps_stab)
mom_above = run(lambda ps: optim.SGD(ps, lr=1.05 * lr_crit_mom, momentum=0.9), quadratic, START_Q, steps_stab)
print(f"momentum 0.9, lr = 0.95 x 2(1+mu)/L = {0.95 * lr_crit_mom:.3f}: |theta| = {np.linalg.norm(mom_below[-1]):.2e}")
print(f"momentum 0.9, lr = 1.05 x 2(1+mu)/L = {1.05 * lr_crit_mom:.3f}: |theta| = {np.linalg.norm(mom_above[-1]):.2e}")

# %% [markdown]
# ### Exercise 2: momentum by hand
#
# Starting from $b_0 = g_0$ (PyTorch's first step), write two momentum steps on the quadratic
# in numpy. The check compares your $\theta_2$ with the optimizer's path.
# *Your lines:* the update of `b` and of `theta` inside the loop.

# %%
theta = np.array(START_Q)
lam = np.array([1.0, L])
b = np.zeros(2)
for step in range(2):
    g = lam * theta
    b = g if step == 0 else 0.9 * b + g                                       # <- write these
    theta = theta - lr_small * b                                              # <- two lines
_ = check("two momentum steps", theta, mom_path[2], "b = mu b + g (b = g on the first step), theta -= lr b")

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

# %%
optimizers = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.09),
    "momentum": lambda ps: optim.SGD(ps, lr=0.02, momentum=0.9),
    "AdaGrad": lambda ps: optim.Adagrad(ps, lr=1.0),
    "RMSProp": lambda ps: optim.RMSprop(ps, lr=0.1),
    "Adam": lambda ps: optim.Adam(ps, lr=0.3),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.3, weight_decay=0.1),
}
quad_paths = {name: run(make, quadratic, START_Q, steps_q) for name, make in optimizers.items()}

fig, ax = plt.subplots(figsize=(8, 4))
contour(ax, quadratic, (-4.5, 1.5), (-2, 2), levels=np.logspace(-2, 1.7, 12))
for name, path in quad_paths.items():
    ax.plot(*path.T, ".-", ms=2, lw=1, label=name)
ax.plot(0, 0, "k*", ms=12)
ax.set(title="optimizers on the quadratic", xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
ax.legend(fontsize=8)
plt.show()
for name, path in quad_paths.items():
    print(f"{name:9s} f after {steps_q} steps: {0.5 * (path[-1, 0]**2 + L * path[-1, 1]**2):.2e}")

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
#
# ## 6. One Adam step by hand
#
# Let us recompute Adam's first three steps from the formulas of section 4 and compare with
# `optim.Adam` on the same parameter. On the first step the bias correction makes
# $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so the step is $\eta\,\mathrm{sign}(g_1)$ (up to
# $\epsilon$): every coordinate moves by exactly $\eta$, however large or small its gradient.
#
# ### Exercise 3: the Adam update
#
# *Your lines:* `m_hat = ...`, `v_hat = ...` and the update of `theta`.

# %%
lr, beta1, beta2, eps = 0.1, 0.9, 0.999, 1e-8
p = mg.tensor(START_Q, dtype=mg.float64, requires_grad=True)
adam = optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)

theta = np.array(START_Q)
m_avg, v_avg = np.zeros(2), np.zeros(2)
for step in range(1, 4):
    loss = quadratic(p)
    adam.zero_grad()
    loss.backward()
    adam.step()

    g = lam * theta
    m_avg = beta1 * m_avg + (1 - beta1) * g
    v_avg = beta2 * v_avg + (1 - beta2) * g**2
    m_hat = m_avg / (1 - beta1**step)                                          # <- write
    v_hat = v_avg / (1 - beta2**step)                                          # <- these
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)                        # <- three lines
    if step == 1:
        print("first step moved each coordinate by", np.abs(theta - START_Q))
_ = check("three Adam steps by hand", theta, p.detach().numpy(),
          "bias-correct m and v with 1 - beta^t, then theta -= lr m_hat / (sqrt(v_hat) + eps)",
          rtol=1e-10, atol=1e-12)

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
# ## Checks

# %%
assert np.linalg.norm(below[-1]) < 1e-3 * np.linalg.norm(START_Q), "lr < 2/L must converge"
assert np.linalg.norm(above[-1]) > 10 * np.linalg.norm(START_Q), "lr > 2/L must diverge"
assert np.allclose(below[:, 1], predicted_below)
assert np.allclose(above[:, 1], (1 - 1.05 * lr_crit * L) ** t * START_Q[1])
assert np.linalg.norm(mom_path[-1]) < 0.1 * np.linalg.norm(gd_path[-1]), "momentum must help here"
assert np.linalg.norm(mom_below[-1]) < 1e-2 * np.linalg.norm(START_Q), "lr < 2(1+mu)/L must converge"
assert np.linalg.norm(mom_above[-1]) > 10 * np.linalg.norm(START_Q), "lr > 2(1+mu)/L must diverge"
assert np.allclose(theta, p.detach().numpy(), rtol=1e-10, atol=1e-12)
step1 = run(lambda ps: optim.Adam(ps, lr=0.1), quadratic, START_Q, 1)
assert np.allclose(np.abs(step1[1] - step1[0]), 0.1), "Adam's first step is lr * sign(g)"
for name, path in quad_paths.items():
    assert np.linalg.norm(path[-1]) < 0.1 * np.linalg.norm(START_Q), f"{name} did not converge"
assert np.linalg.norm(rosen_paths["Adam"][-1] - 1) < np.linalg.norm(rosen_paths["SGD"][-1] - 1)
print("all checks passed")
