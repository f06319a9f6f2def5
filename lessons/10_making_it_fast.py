# %% [markdown]
# # Lesson 10: making it fast
#
# So far we asked whether gradients are *right*. This lesson asks where the *time* goes when
# minigrad trains a small MLP, and what can be done about it. The rule of the whole lesson:
# **measure, don't guess.** Intuition about performance is wrong surprisingly often.
#
# We will
#
# 1. profile a training step with `cProfile` and with a simple per-phase timer
#    (data batching / forward / backward / optimizer step);
# 2. count the FLOPs of the matrix products and compute the GFLOP/s a step achieves;
# 3. read the numpy **reference** and the Numba **kernel** of three hot paths side by side
#    (cross-entropy, Adam, Linear+ReLU) and time both;
# 4. see what *fusion* buys (fewer passes over memory, no temporaries) and what BLAS does
#    better (a hand-written matmul against `np.dot`);
# 5. talk about threads on a machine with few cores and about the JIT's compile cost and
#    disk cache;
# 6. capture a training step and replay it without Python's per-op tax, read and draw its
#    plan (fused calls, memory shared by liveness), and see what capture refuses.
#
# All timings are printed, never asserted: a shared machine makes single numbers wobble by
# 10-30 %. Compare numbers from one run with each other, not with another machine, and
# re-run a cell when a number looks odd.

# %% [markdown]
# One setting comes first, before numpy is imported: we let OpenBLAS (numpy's matrix
# library) use **one thread**, as `benchmarks/mnist.py` does by default. On a machine shared
# with other jobs, a multi-threaded product can be many times slower than usual, which would
# drown every other effect in this lesson; the section on threads measures it. (If you set
# `OPENBLAS_NUM_THREADS` yourself, your value is kept. The setting only takes effect in a
# fresh kernel, before anything has imported numpy.)

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
print("OPENBLAS_NUM_THREADS =", os.environ["OPENBLAS_NUM_THREADS"])

import cProfile
import inspect
import pstats
import subprocess
import sys
import time
import tracemalloc

import matplotlib.pyplot as plt
import numba
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
import minigrad.kernels as K
import minigrad.nn.functional as F
from minigrad import nn, optim, viz
from minigrad.data import DataLoader, TensorDataset, make_blobs

print("smoke mode:", SMOKE)
compile_seconds = K.warmup()
print(f"warmup(): {compile_seconds:.2f} s to compile or load the kernels; jit_enabled() = {K.jit_enabled()}")

# %% [markdown]
# `K.warmup()` made sure every Numba kernel is ready, so that compile time does not pollute
# the measurements below (we come back to it at the end).
#
# ## The patient: a 784-128-10 MLP on MNIST-shaped data
#
# To stay independent of downloads we generate "MNIST-like" data: 10 Gaussian clusters in
# 784 dimensions, float32, batches of 128 — the same shapes as MNIST, which is all that
# matters for speed. A training step is the usual four lines.

# %%
n_samples = pick(8192, 1024)
X, y = make_blobs(n_samples=n_samples, centers=10, n_features=784, noise=4.0, seed=0)
X = X.astype(np.float32)
loader = DataLoader(TensorDataset(X, y), batch_size=128, shuffle=True)

mg.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = optim.Adam(model.parameters(), lr=1e-3)
n_params = sum(p.data.size for p in model.parameters())


def train_step(xb, yb):
    loss = F.cross_entropy(model(xb), yb)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


losses = [float(train_step(xb, yb).item()) for xb, yb in loader]
print(f"{n_params:,} parameters, {len(loader)} steps per epoch, loss {losses[0]:.3f} -> {losses[-1]:.3f}")

# %% [markdown]
# ## Profiling with cProfile
#
# `cProfile` records every Python function call: how often (`ncalls`), the time spent in
# the function itself (`tottime`) and including what it calls (`cumtime`). Sorting by
# `tottime` shows where the interpreter actually sat.
#
# One caveat: cProfile sees Python functions and C *builtins*, but not numpy ufunc calls
# such as `np.matmul(a, b, out=z)` or `a + b`. Their time is charged to the Python function
# that called them. So when `linear_forward` tops the list, read it as "the matrix product
# inside it".
#
# The profile also counts things. Every differentiable operation goes through
# `Function.apply` (lesson 2), so its call count per step is the number of graph nodes the
# forward pass builds plus the few ops that backward rules run (they are written with Tensor
# ops). Few, because Linear and cross-entropy are single fused ops; the graph drawn below
# shows the forward nodes.

# %%
profile_steps = 0
profiler = cProfile.Profile()
profiler.enable()
for xb, yb in loader:
    train_step(xb, yb)
    profile_steps += 1
profiler.disable()
stats = pstats.Stats(profiler).sort_stats("tottime")
stats.print_stats(10)

apply_calls = sum(v[1] for k, v in stats.stats.items()
                  if k[2] == "apply" and k[0].endswith(os.path.join("autograd", "function.py")))
ops_per_step = apply_calls / profile_steps
print(f"{ops_per_step:.0f} autograd ops per step")
xb, yb = next(iter(loader))
viz.draw(F.cross_entropy(model(xb), yb))

# %% [markdown]
# ## A per-phase timer
#
# cProfile slows every call down a little and its report is long. For the big picture a
# stopwatch around each phase is enough: `time.perf_counter()` before and after, summed per
# phase over an epoch.

# %%
def time_phases(epochs):
    """Seconds per step spent in each phase, averaged over ``epochs`` epochs."""
    totals = dict.fromkeys(["data batching", "forward", "backward", "optimizer step"], 0.0)
    steps = 0
    for _ in range(epochs):
        batches = iter(loader)
        while True:
            t0 = time.perf_counter()
            batch = next(batches, None)
            t1 = time.perf_counter()
            if batch is None:
                break
            loss = F.cross_entropy(model(batch[0]), batch[1])
            t2 = time.perf_counter()
            optimizer.zero_grad()
            loss.backward()
            t3 = time.perf_counter()
            optimizer.step()
            t4 = time.perf_counter()
            for name, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                totals[name] += dt
            steps += 1
    return {name: total / steps for name, total in totals.items()}


phases = time_phases(pick(3, 1))
step_seconds = sum(phases.values())
for name, seconds in phases.items():
    print(f"{name:15s} {seconds * 1e6:8.1f} us  ({seconds / step_seconds:5.1%})")
print(f"{'whole step':15s} {step_seconds * 1e6:8.1f} us")

fig, ax = plt.subplots(figsize=(7, 1.8))
left = 0.0
for name, seconds in phases.items():
    ax.barh(0, seconds * 1e6, left=left, label=name)
    left += seconds * 1e6
ax.set_yticks([])
ax.set_xlabel("microseconds per training step")
ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.6), frameon=False)
ax.set_title("Where one training step spends its time")
plt.show()

# %% [markdown]
# ## FLOPs: how much work is there?
#
# A product $(N \times D)(D \times H)$ does $N D H$ multiplications and as many additions:
# $2NDH$ floating-point operations (FLOPs). Per step our MLP multiplies
#
# * forward: $x W_1^\top$ ($N{=}128, D{=}784, H{=}128$) and $h W_2^\top$ ($H{=}128, C{=}10$);
# * backward: $\partial W_2 = g_2^\top h$, $\partial h = g_2 W_2$, $\partial W_1 = g_1^\top x$
#   (no $\partial x$: the data needs no gradient).
#
# ### Exercise 1 (derive): count the FLOPs
#
# Write the FLOPs of one training step's five products as a function of `N, D, H, C`. The
# check tries random sizes; the cell after it compares your count with numpy's own from
# `np.einsum_path`, which knows nothing about MLPs.

# %% tags=["exercise"] exercise_id="10-step-flops"
def count_step_flops(N, D, H, C):
    """FLOPs of the five matrix products of one training step of a D-H-C MLP on N samples."""
    raise NotImplementedError("your code here")


_ = check_function("10-step-flops", count_step_flops)

# %%
N, D, H, C = 128, 784, 128, 10
step_flops = result("10-step-flops", count_step_flops)(N, D, H, C)
products = [("nd,hd->nh", (N, D), (H, D)), ("nh,ch->nc", (N, H), (C, H)), ("nc,nh->ch", (N, C), (N, H)),
            ("nc,ch->nh", (N, C), (C, H)), ("nh,nd->hd", (N, H), (N, D))]
numpy_flops = 0
for spec, sa, sb in products:
    report = np.einsum_path(spec, np.empty(sa), np.empty(sb), optimize="greedy")[1]
    numpy_flops += float(report.split("Naive FLOP count:")[1].split()[0])
print(f"your count {step_flops:,.0f} FLOPs, np.einsum_path's {numpy_flops:,.0f}")

# %% [markdown]
# How fast can this machine do those products? We time exactly these five products in
# plain numpy (OpenBLAS underneath) and compare with the whole step:
#
# $$\text{GFLOP/s} = \frac{\text{FLOPs}}{\text{seconds} \cdot 10^9}.$$

# %%
REPEAT = pick(7, 3)


def best_time(fn, number, repeat=REPEAT):
    """Best mean seconds per call of ``fn()`` over ``repeat`` runs of ``number`` calls."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


rng = np.random.default_rng(0)
x, h, g2, g1 = (rng.standard_normal(s).astype(np.float32) for s in [(N, D), (N, H), (N, C), (N, H)])
W1, W2 = (rng.standard_normal(s).astype(np.float32) for s in [(H, D), (C, H)])
matmul_seconds = best_time(lambda: (x @ W1.T, h @ W2.T, g2.T @ h, g2 @ W2, g1.T @ x), number=pick(50, 10))
print(f"{step_flops / 1e6:.1f} MFLOP per step")
print(f"the five products alone: {matmul_seconds * 1e6:7.1f} us = {step_flops / matmul_seconds / 1e9:6.1f} GFLOP/s")
print(f"the whole step:          {step_seconds * 1e6:7.1f} us = {step_flops / step_seconds / 1e9:6.1f} GFLOP/s")
print(f"so {matmul_seconds / step_seconds:.0%} of a step is matrix products")

# %% [markdown]
# The rest is **overhead**: everything a step does besides the products. Part of it is
# Python itself. Each autograd op costs a few microseconds of interpreter work (create a
# Tensor, record a graph node, check shapes) whatever the size of its arrays. Let us measure
# that fixed cost on a 2x2 add, where the arithmetic is free:

# %%
a = mg.tensor(np.ones((2, 2), np.float32), requires_grad=True)
b = mg.tensor(np.ones((2, 2), np.float32), requires_grad=True)
op_seconds = best_time(lambda: a + b, number=pick(2000, 500))
python_seconds = 2 * op_seconds * ops_per_step
print(f"one tiny op: {op_seconds * 1e6:.1f} us (forward only)")
print(f"per step: products {matmul_seconds * 1e6:.0f} us, Python overhead of {ops_per_step:.0f} ops "
      f"forward + backward ~{python_seconds * 1e6:.0f} us, everything else "
      f"{(step_seconds - matmul_seconds - python_seconds) * 1e6:.0f} us")

# %% [markdown]
# With so few ops, Python overhead is small here (the line above). "Everything else"
# is real work outside the products — gathering a shuffled batch, bias and ReLU, the loss,
# the optimizer, zeroing gradients — and memory traffic: every pass over a 400 KB array
# that is no longer in cache costs time even when the arithmetic is trivial.
#
# ### Exercise 2 (derive): an epoch with one Python object per number
#
# A micrograd-style engine (lesson 1) keeps one Python object per *number*, so every scalar
# multiply or add is an op with roughly the fixed cost `op_seconds` measured above. Write how
# many **hours** one MNIST epoch (`n_train = 50_000` images in batches of `N`) would take if
# only the first layer's forward product counted: $2NDH$ scalar ops per batch.

# %% tags=["exercise"] exercise_id="10-scalar-engine-hours"
n_train = 50_000
scalar_hours = ...

_ = check("10-scalar-engine-hours", scalar_hours, N=N, D=D, H=H, n_train=n_train, op_seconds=op_seconds)

# %%
scalar_hours = result("10-scalar-engine-hours", scalar_hours, N=N, D=D, H=H, n_train=n_train,
                      op_seconds=op_seconds)
print(f"{2 * N * D * H / 1e6:.1f} million scalar ops per batch x {n_train // N} batches x "
      f"{op_seconds * 1e6:.1f} us = {scalar_hours:.1f} hours per epoch, for the first layer's forward alone")

# %% [markdown]
# Hours per epoch for what minigrad does in a fraction of a second per step: that is what
# tensors buy. And for *small* models (tiny matrices) per-op overhead is all there is, which
# is why `benchmarks/overhead.py` measures it beside PyTorch.
#
# ## Reference and kernel, side by side
#
# `minigrad/kernels/` (see `docs/kernels.md`) holds each hot path twice: a numpy
# **reference** that follows the formula line by line, and a **Numba kernel** that computes
# the same thing in one loop. A switch picks one: `K.set_jit_enabled(False)` (also a context
# manager) and `K.jit_enabled()`. Below are Adam's reference, the rule as `minigrad.optim`
# writes it (`adam_rule`, which `K.optim.adam_reference` applies to each parameter), and its
# kernel (the plain Python function before Numba compiles it; it is private, we only read
# it). In the kernel the whole update of one element happens in registers, in one pass over
# the arrays.

# %%
from minigrad.optim.adam import adam_rule

print(inspect.getsource(adam_rule))
print(inspect.getsource(K.optim._adam_kernel.pyfunc))

# %% [markdown]
# ### What fusion buys: temporaries and passes over memory
#
# Count the temporary arrays the reference's expressions create for one parameter of size
# $P$ (no weight decay, no amsgrad): `(1 - beta1) * g`; `(1 - beta2) * g` and `... * g`; `np.sqrt(v)`,
# `... / sqrt(bc2)`, `... + eps`; `(lr / bc1) * m` and `... / denom`. That is **8 temporaries**
# and, with the in-place `*=`, `+=`, `-=`, **13 passes** over $P$ floats. The kernel makes
# **one** pass and no temporary. For $P = 100{,}352$ float32 (the first layer) each pass
# moves 400 KB — more than fits in the fastest cache, so the reference is memory-bound.
#
# Python's `tracemalloc` sees numpy's allocations, so we can check the claim: the peak of
# extra memory during one update.

# %%
P = 784 * 128
param, grad, m_avg, v_avg = (rng.standard_normal(P).astype(np.float32) for _ in range(4))
v_avg = np.abs(v_avg)
adam_args = dict(step=3, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
peak = {}
for jit in (False, True):
    with K.set_jit_enabled(jit):
        K.optim.adam([param], [grad], [m_avg], [v_avg], None, **adam_args)
        tracemalloc.start()
        K.optim.adam([param], [grad], [m_avg], [v_avg], None, **adam_args)
        peak[jit] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
print(f"reference: peak {peak[False] / 1e3:7.1f} KB extra = {peak[False] / (4 * P):.1f} parameter-sized arrays")
print(f"kernel:    peak {peak[True] / 1e3:7.1f} KB extra")

# %% [markdown]
# Only about two temporaries are alive *at the same time*: numpy frees each as soon as the
# next operation has used it, and for large arrays it even writes a result into a temporary
# that is about to be thrown away (*temporary elision*, e.g. `np.sqrt(v) / c`). Memory is
# not the problem; the 13 passes are: each one streams 400 KB through the CPU, where the
# kernel streams the arrays once.
#
# ### Timing the three hot paths
#
# Now the stopwatch. For each path we call the *public* function twice, once with the
# kernels on and once with `set_jit_enabled(False)`, and first check that both give the same
# numbers.

# %%
logits = rng.standard_normal((128, 10)).astype(np.float32)
target = rng.integers(0, 10, 128)
adam_params = [rng.standard_normal(p.shape).astype(np.float32) for p in model.parameters()]
adam_state = [[rng.standard_normal(p.shape).astype(np.float32) for p in adam_params] for _ in range(3)]
adam_state[2] = [np.abs(v) for v in adam_state[2]]


def cross_entropy_path():
    return K.cross_entropy.cross_entropy(logits, target)


def adam_path():
    K.optim.adam(adam_params, adam_state[0], adam_state[1], adam_state[2], None, **adam_args)


def linear_relu_path():
    out, saved = K.linear.linear_forward(x, W1, rng_bias, "relu")
    return out, K.linear.linear_backward(g1, x, W1, saved, "relu", needs=(False, True))


rng_bias = rng.standard_normal(H).astype(np.float32)
paths = {"cross-entropy (128,10)": (cross_entropy_path, pick(2000, 300)),
         f"Adam ({n_params:,} params)": (adam_path, pick(500, 50)),
         "Linear+ReLU (128,784)->128": (linear_relu_path, pick(100, 10))}
timings = {}
for name, (fn, number) in paths.items():
    timings[name] = {}
    for jit in (True, False):
        with K.set_jit_enabled(jit):
            timings[name][jit] = best_time(fn, number)
for name, t in timings.items():
    print(f"{name:28s} kernel {t[True] * 1e6:7.1f} us   numpy {t[False] * 1e6:7.1f} us   "
          f"speedup {t[False] / t[True]:4.1f}x")

# %% [markdown]
# Expect something like `docs/kernels.md`'s table: cross-entropy and Adam several times
# faster, Linear+ReLU much less, because most of its time is three BLAS products that both
# versions share. What its kernel saves is the work *around* the products: the fused
# bias+ReLU and its derivative (a few microseconds), written into one output array instead
# of the several temporaries the numpy version allocates. `docs/kernels.md` also compares
# against numpy using `out=` buffers, and there the two are equal.
#
# And the same comparison on the whole training step:

# %%
batch = next(iter(loader))
step_timings = {}
for jit in (True, False):
    with K.set_jit_enabled(jit):
        step_timings[jit] = best_time(lambda: train_step(*batch), number=pick(30, 5))
print(f"training step: kernels {step_timings[True] * 1e6:.0f} us, numpy references "
      f"{step_timings[False] * 1e6:.0f} us ({step_timings[False] / step_timings[True]:.2f}x)")

# %% [markdown]
# ## What BLAS does better
#
# If Numba makes loops fast, why not write the matrix product ourselves? Let us try. The
# textbook version computes each $c_{ij} = \sum_k a_{ik} b_{kj}$ as a dot product: its
# inner loop walks *down a column* of `b`, jumping a whole row of memory at every step.

# %%
@numba.njit
def matmul_ijk(a, b):
    n, k = a.shape
    c = np.zeros((n, b.shape[1]), a.dtype)
    for i in range(n):
        for j in range(b.shape[1]):
            total = 0.0
            for p in range(k):
                total += a[i, p] * b[p, j]
            c[i, j] = total
    return c


# %% [markdown]
# ### Exercise 3 (implement): reorder the loops
#
# Swap the two inner loops: for each `i` and `p`, add `a[i, p]` times row `p` of `b` to row
# `i` of `c`, with an innermost loop over the columns `j`. Now the inner loop walks *along*
# rows of `b` and `c`, contiguous memory that the CPU can load in SIMD vectors. Write the
# body, starting from `matmul_ijk`'s (read `a[i, p]` once, before the `j` loop); the check
# compares with a reference on random matrices (its first call also compiles your function).

# %% tags=["exercise"] exercise_id="10-matmul-ikj"
@numba.njit
def matmul_ikj(a, b):
    """a @ b with the loops in i-k-j order (same zero-filled c as matmul_ijk)."""
    raise NotImplementedError("your code here")


_ = check_function("10-matmul-ikj", matmul_ikj)

# %%
matmul_ikj = result("10-matmul-ikj", matmul_ikj)
small_a = rng.standard_normal((37, 53)).astype(np.float32)
small_b = rng.standard_normal((53, 29)).astype(np.float32)
start = time.perf_counter()
_ = matmul_ijk(small_a, small_b)
print(f"first call compiled matmul_ijk in {time.perf_counter() - start:.2f} s")

# %% [markdown]
# Now GFLOP/s for a few square sizes $n$ ($2n^3$ FLOPs each):

# %%
sizes = pick([32, 64, 128, 256, 512], [32, 64, 128, 256])
gflops = {"numba, textbook i-j-k": [], "numba, i-k-j": [], "np.dot (OpenBLAS)": []}
for n in sizes:
    A = rng.standard_normal((n, n)).astype(np.float32)
    B = rng.standard_normal((n, n)).astype(np.float32)
    number = max(1, 2_000_000 // n**3)
    for name, fn in zip(gflops, (matmul_ijk, matmul_ikj, np.dot)):
        gflops[name].append(2 * n**3 / best_time(lambda fn=fn, A=A, B=B: fn(A, B), number) / 1e9)
for name, values in gflops.items():
    print(f"{name:22s}", "  ".join(f"{v:6.1f}" for v in values), "GFLOP/s")

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, values in gflops.items():
    ax.plot(sizes, values, "o-", label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(sizes, [str(n) for n in sizes])
ax.set_yscale("log")
ax.set_xlabel("matrix size n (n x n times n x n, float32)")
ax.set_ylabel("GFLOP/s")
ax.legend()
ax.set_title("A hand-written matmul against BLAS")
plt.show()

# %% [markdown]
# Reordering the loops is worth several times; BLAS is still ahead, more so as $n$ grows.
# OpenBLAS splits the matrices into blocks that stay in the L1/L2 caches, keeps a small block
# of `c` in vector registers while it streams `a` and `b` past it, and uses hand-written
# assembly for this exact CPU (it can also run several threads; this notebook pinned it to
# one at the top, so the curve above is one core's). Matmul does $O(n^3)$ work on $O(n^2)$
# data, so every number loaded can be reused $n$ times — if the code is organised to do so.
#
# ### Exercise 4 (derive): arithmetic intensity
#
# The *arithmetic intensity* of a computation is its FLOPs per byte moved to or from memory.
# Write it for an $n \times n$ float32 matmul that reads `a` and `b` once and writes `c` once.
# Compare with an elementwise float32 add $c = a + b$ of $n$ numbers: 1 FLOP per 12 bytes.

# %% tags=["exercise"] exercise_id="10-matmul-intensity"
def matmul_intensity(n):
    """FLOPs per byte of an n x n float32 matmul that moves a, b and c through memory once."""
    raise NotImplementedError("your code here")


_ = check_function("10-matmul-intensity", matmul_intensity)

# %%
intensity = result("10-matmul-intensity", matmul_intensity)
print("FLOPs per byte:", {n: round(intensity(n), 1) for n in sizes}, "vs", round(1 / 12, 3), "for an add")

# %% [markdown]
# Hence minigrad's rule: **BLAS does the products; Numba fuses what surrounds them**
# (bias, activation, loss, optimizer). Those surroundings do $O(n)$ work per $O(n)$ data,
# so they are limited by memory traffic, and there fusion — one pass instead of ten — is
# exactly what helps.

# %% [markdown]
# ## Threads: few cores, two pools
#
# minigrad was developed on a 2-core machine (yours prints its count below). Two libraries
# could use the cores: OpenBLAS (for the products) and Numba (`parallel=True` kernels). The
# project measured there (see the threading rule in `docs/kernels.md`) that:
#
# * after each call OpenBLAS's worker threads *spin* (busy-wait) for a while, hoping for
#   more work; a 2-thread Numba kernel started right after a matmul fights them for the
#   same cores: the matmul plus the kernel took about 14 ms instead of about 1 ms;
# * a fused Adam over 100k parameters takes 20-35 us serially; with 2 Numba threads it took
#   180-3200 us: waking a thread pool costs more than the work.
#
# So every minigrad kernel is serial and BLAS keeps its threads for the products. The
# general lesson: more threads than cores (*oversubscription*), or two pools taking turns,
# costs more than it gains; measure serial against parallel *inside a training step*.
#
# A small measurement. OpenBLAS reads its thread count once, when numpy is imported, from
# `OPENBLAS_NUM_THREADS`; so we time the first layer's product $x W_1^\top$ in two fresh
# Python processes, one with 1 BLAS thread and one with 2 (the rest of this lesson runs with
# one, see the top). On a quiet machine 2 threads win a little; when other programs keep the
# cores busy, the 2-thread version waits for a thread that is not running and can lose
# badly. That is oversubscription.

# %%
print(f"cores: {os.cpu_count()}, numba threads: {numba.config.NUMBA_NUM_THREADS} (unused: kernels are serial)")
print("BLAS:", np.show_config(mode="dicts")["Build Dependencies"]["blas"].get("name"))


def blas_product_seconds(threads):
    code = ("import time, numpy as np; x = np.ones((128, 784), np.float32); w = np.ones((128, 784), np.float32)\n"
            "x @ w.T\nbest = 1e9\nfor _ in range(50):\n"
            "    t = time.perf_counter(); x @ w.T; best = min(best, time.perf_counter() - t)\nprint(best)")
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    return float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)


blas_seconds = {threads: blas_product_seconds(threads) for threads in (1, 2)}
for threads, seconds in blas_seconds.items():
    print(f"x @ W1.T with {threads} BLAS thread(s): {seconds * 1e6:7.1f} us = "
          f"{2 * N * D * H / seconds / 1e9:6.1f} GFLOP/s")

# %% [markdown]
# ## The price of a JIT: compile time and the disk cache
#
# Numba compiles a kernel to machine code on its first call: 0.15-1 s each. minigrad's
# kernels use `cache=True`, so the machine code is stored in `__pycache__` and a later
# process loads it in milliseconds. `import minigrad` compiles nothing; `K.warmup()` makes
# all kernels ready (both dtypes) and returns the seconds it took. In this process, the
# first call at the top of the lesson took the time below; a second call finds everything
# in memory.
#
# A fresh Python process pays the *load* from the disk cache (plus importing Numba). With
# an empty cache directory (`NUMBA_CACHE_DIR`) it pays the full compile; that takes 5-10 s,
# so it runs only outside smoke mode.

# %%
again_seconds = K.warmup()
print(f"first warmup() {compile_seconds:.2f} s, second {again_seconds * 1e3:.2f} ms")


def warmup_in_fresh_process(cache_dir=None):
    env = dict(os.environ, **({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else {}))
    code = "import minigrad.kernels as K; print(K.warmup())"
    return float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)


load_seconds = warmup_in_fresh_process()
print(f"fresh process, warm cache: {load_seconds:.2f} s")
if not SMOKE:
    import tempfile

    with tempfile.TemporaryDirectory() as empty_cache:
        print(f"fresh process, empty cache: {warmup_in_fresh_process(empty_cache):.2f} s")

# %% [markdown]
# ## Capture and replay
#
# Every eager step runs the same Python again: for each op, make a Tensor, record a graph
# node, pick a kernel, check shapes; then backward walks the graph, the engine sums
# gradients into the leaves, the optimizer loops over its parameters. The *arrays* change
# from batch to batch, the *calls* do not. Graph capture (CUDA graphs, `torch.compile`,
# JAX's `jit`, tinygrad's `TinyJit`) runs the step while watching what it does, writes
# down its array-level calls, and from then on *replays* that list: no Tensor, no graph
# node, no dispatch, only the kernels. minigrad's version is `mg.capture`
# (`minigrad/replay/`):
#
# ```python
# step = mg.capture(train_step, model=model)   # model= only names the parameters in the plan
# loss = step(xb, yb)                          # calls 1-2: eager, recorded; later: replayed
# ```
#
# Why *two* recordings? One recording cannot say which arrays are data and which are fixed,
# nor whether the path depends on the data. So the first two calls of each input signature
# (shapes and dtypes) run eagerly under a `Recorder`, to which the engine reports every
# forward, backward, leaf gradient and optimizer step. If both recordings made the same
# calls on the same wiring, the second becomes a `Plan`: an array the two read as the same
# object is a parameter or optimizer state (read by reference), one that is equal in both is
# a constant (baked in, like backward's seed gradient 1), anything else is a difference and
# capture refuses.

# %%
step = mg.capture(train_step, model=model)
batches = iter(loader)
for call in (1, 2, 3):
    loss = step(*next(batches))
    print(f"call {call}: loss {loss.item():.3g}  recordings {step.stats['recordings']}, "
          f"plans built {step.stats['plans_built']}, replays {step.stats['replays']}")
mlp_plan = step.plan
print(mlp_plan)

# %% [markdown]
# One line per call: the buffers it reads `->` the buffers it writes, `@offset` where a
# buffer lives in the plan's memory arena (below), and in brackets how the call runs. The
# recording saw each op's forward, each node's backward, each gradient reaching a leaf and
# the optimizer's step; the plan keeps them in that order, but **fuses** where a kernel
# does the work of several:
#
# * `Linear.forward[relu]`: the `ReLU` op is gone. Its work (bias + ReLU) is applied to the
#   GEMM's output in place, one pass, and `Linear.backward[relu]` computes ReLU's derivative
#   and the bias gradient in one pass before the two GEMMs of the backward.
# * `CrossEntropy.forward` computes the loss *and* its gradient with respect to the logits
#   in one pass. `CrossEntropy.backward` then does nothing: it would multiply that gradient
#   by g, and g is backward's seed 1, so its output is a view of `dlogits`.
# * `grad.bind`: each parameter's `.grad` *is* the buffer the backward wrote, no copy.
# * `Adam.step`: one fused pass per parameter, reading lr and betas at every replay (so a
#   scheduler stepped *outside* the captured function still works).
#
# Each kernel writes into a buffer the plan allocated once (`out=`), so a replay allocates
# nothing. What a replay saves is less the calls fused away than the Python around every
# call: no Tensor made, no graph node recorded, no graph walked, no result allocated. The
# picture: one bar per buffer from the call that writes it to the last call
# that reads it (hatched: *pinned*, it outlives the step), and below, the arena.

# %%
mlp_plan.draw()

# %% [markdown]
# ### What the Python tax costs
#
# Time the eager step and the replay on the same batch, at the lesson's batch size and at a
# tiny one (a new input shape is a new signature: two more recordings, a second plan).

# %%
small_batch = (mg.tensor(batch[0].data[:8]), mg.tensor(batch[1].data[:8]))
replay_timings = {}
for label, args, number in (("N=128", batch, pick(50, 10)), ("N=8", small_batch, pick(200, 30))):
    eager = best_time(lambda args=args: train_step(*args), number)
    replayed = best_time(lambda args=args: step(*args), number)
    replay_timings[label] = (eager, replayed)
    print(f"{label:6s} eager {eager * 1e6:7.1f} us   captured {replayed * 1e6:7.1f} us   "
          f"saved {(eager - replayed) * 1e6:6.1f} us = {1 - replayed / eager:4.0%} of the step")
print(f"plans kept: {len(step.plans)}, stats: {step.stats}")

# %% [markdown]
# What capture removes is a cost per call, not per number: expect the saving in
# microseconds to be of the same order at both batch sizes, and so a larger share of the
# small step, whose arithmetic is tiny (re-run the cell if the machine was busy). The
# products themselves do not change: BLAS does the same work either way.
#
# Is a replay *right*? It runs the same kernels in the same order as the eager step, only
# into buffers it owns, so it must give the same numbers: not close, **identical**. Two twin
# models, one trained eagerly and one captured, on the same batches:

# %%
def mlp_and_step(sizes, seed):
    """A ReLU MLP with the given layer sizes, and its Adam training step (zero_grad inside)."""
    mg.manual_seed(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    net = nn.Sequential(*layers[:-1])
    opt = optim.Adam(net.parameters(), lr=1e-3)

    def step_fn(xb, yb):
        opt.zero_grad()
        loss = F.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return net, step_fn


eager_net, eager_step = mlp_and_step([784, 128, 10], seed=1)
replay_net, replay_fn = mlp_and_step([784, 128, 10], seed=1)
replayed_step = mg.capture(replay_fn, model=replay_net)
twin_losses = []
for xb, yb in list(loader)[:6]:
    twin_losses.append((eager_step(xb, yb).item(), replayed_step(xb, yb).item()))
twin_gap = max(float(np.abs(p.data - q.data).max()) for p, q in zip(eager_net.parameters(), replay_net.parameters()))
for k, (a, b) in enumerate(twin_losses):
    print(f"step {k}: eager {a:.10f}  captured {b:.10f}  {'identical' if a == b else 'DIFFERENT'}")
print(f"after {len(twin_losses)} steps ({replayed_step.stats['replays']} replayed) the largest parameter "
      f"difference is {twin_gap}")

# %% [markdown]
# ## Memory planning by liveness
#
# Every buffer a planned kernel writes is *planned*: a view into one byte arena, allocated
# once. A buffer is alive from the call that writes it (`first`) to the last call that reads
# it (`last`); two buffers that are never alive at the same time can use the same bytes.
# The plan places them greedily, as compilers allocate registers: walk the buffers by
# `first`, forget those that died, put each in the lowest gap that fits (first fit).
# Buffers that must outlive the step are *pinned* and never share: each parameter's
# `.grad` (the optimizer and you read it) and the returned loss.
#
# ### Exercise 5 (implement): the least memory any plan needs
#
# Whatever the placement, at the moment when the most bytes are alive all of them need
# their own memory: that sum is a lower bound on the arena. Write `peak_live_bytes`: given
# one `(first, last, nbytes)` per buffer, where a buffer is alive at every call `t` with
# `first <= t <= last` (both ends included: a call that reads a buffer needs it, and one
# that writes it too), return the largest total of `nbytes` alive at one call (0 for no
# buffers). The check tries random lifetimes; the cell after it applies your function to
# real plans.

# %% tags=["exercise"] exercise_id="10-peak-live-bytes"
def peak_live_bytes(lifetimes):
    """The most bytes alive at one call, for buffers given as (first, last, nbytes)."""
    raise NotImplementedError("your code here")


_ = check_function("10-peak-live-bytes", peak_live_bytes)

# %% [markdown]
# Now the real plans. The lesson's 784-128-10 MLP first, then a deeper 784-128-128-128-10
# one: compare the lower bound with the arena first fit found, and with the bytes the same
# buffers would take without sharing.

# %%
peak_live = result("10-peak-live-bytes", peak_live_bytes)


def arena_lifetimes(plan):
    """(first, last, nbytes) of the buffers that live in the arena: planned, not pinned, not views."""
    return [(b.first, b.last, b.nbytes) for b in plan.buffers if b.planned and not b.pinned and b.base is None]


deep_net, deep_fn = mlp_and_step([784, 128, 128, 128, 10], seed=0)
deep_step = mg.capture(deep_fn, model=deep_net)
for xb, yb in list(loader)[:2]:
    deep_step(xb, yb)
memory_plans = {"784-128-10": mlp_plan, "784-128-128-128-10": deep_step.plan}
memory = {}
for name, plan in memory_plans.items():
    lifetimes = arena_lifetimes(plan)
    memory[name] = (peak_live(lifetimes), plan.arena_bytes, sum(n for _, _, n in lifetimes))
    lower, arena, unshared = memory[name]
    print(f"{name:19s} arena: at least {lower / 1024:6.1f} KiB alive at once, first fit {arena / 1024:6.1f} KiB, "
          f"unshared {unshared / 1024:6.1f} KiB; plus {plan.pinned_bytes / 1024:6.1f} KiB pinned")
deep_step.plan.draw()

# %% [markdown]
# For the two-layer MLP sharing saves little or nothing. Look at its picture above: the
# hidden activation made by the first call is read again by the first layer's backward, the
# last kernel before the optimizer, and every other temporary is alive at some call in
# between, so each overlaps it in time. That is the general shape of training memory: what
# the forward saves stays until the backward reaches its layer, so memory peaks in the
# backward, where saved activations and the first gradients are alive together. In the
# deeper MLP each layer's backward frees gradients that a later one reuses (rectangles at
# the same height, one after the other in time), and first fit comes close to the lower
# bound: the rest is the 64-byte alignment of each buffer and the gaps first fit leaves.
#
# ## What capture refuses, and why
#
# A replay repeats the recorded array calls and nothing else, so capture refuses whatever a
# replay would get wrong. It raises `mg.replay.CaptureError` *after* the eager call has
# finished (so that call's work is done and correct) and says what to change:
#
# * a **data-dependent branch**: Python code that looks at values and then calls different
#   ops. The two recordings differ, and no single plan is right for all data;
# * `.item()`, `float()`, `bool()`, `.numpy()` inside the function: a value handed to
#   Python, which a replay would not hand over again;
# * tensor and module hooks, anomaly mode, `amp.autocast`, `retain_grad`, `create_graph`:
#   Python that would have to run at every step, or gradients the plan does not keep;
# * gradients carried over (no `zero_grad()` inside the function), and `lr_scheduler.step()`
#   inside it (step schedulers outside: the plan reads lr at each replay).
#
# A new input shape, a parameter's `.data` replaced, or an optimizer's parameter groups
# changed do not raise: capture records again. Here is a step that clips gradients only
# when the batch is spread out; it decides in Python, from the data:

# %%
mg.manual_seed(2)
branch_net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
branch_opt = optim.Adam(branch_net.parameters(), lr=1e-3)


def clip_when_spread(xb, yb):
    branch_opt.zero_grad()
    loss = F.cross_entropy(branch_net(xb), yb)
    loss.backward()
    if xb.data.std() > 2.0:  # Python reads the data and chooses
        nn.utils.clip_grad_norm_(branch_net.parameters(), 1.0)
    branch_opt.step()
    return loss


branchy = mg.capture(clip_when_spread)
xb, yb = batch
branchy(xb, yb)
capture_error = None
try:
    branchy(mg.tensor(xb.data * 0.01), yb)  # a quiet batch: no clipping this time
except mg.replay.CaptureError as error:
    capture_error = error
print(f"CaptureError: {capture_error}")

# %% [markdown]
# The fix is to keep such decisions out of the function, or make them ops (a clip that
# always runs, with a threshold, is the same calls on every batch).
#
# ## The aliasing rule: a returned tensor is overwritten by the next call
#
# A replay allocates nothing, not even its result: the loss it returns is the plan's own
# pinned buffer, and the next call writes into it (CUDA graphs and `TinyJit` do the same).
# Read what you need (`loss.item()`) before calling the step again:

# %%
first_loss = step(*batch)
first_value = first_loss.item()
second_loss = step(*next(iter(loader)))
print(f"same Tensor object: {first_loss is second_loss}; first_loss was {first_value:.6g} when "
      f"returned and is now {first_loss.item():.6g}")
history = []
for xb, yb in loader:
    history.append(step(xb, yb).item())  # right: a float, kept; history.append(step(xb, yb)) would not be
print(f"an epoch of replays: loss {history[0]:.3g} -> {history[-1]:.3g}")

# %% [markdown]
# ## Summary
#
# One chart with this run's measured speedups of the kernels over their references, and of
# the captured step over the eager one:

# %%
speedups = {name: t[False] / t[True] for name, t in timings.items()}
speedups["whole training step"] = step_timings[False] / step_timings[True]
speedups.update({f"captured step, {label}": eager / replayed
                 for label, (eager, replayed) in replay_timings.items()})
speedups["matmul n=256: BLAS vs i-k-j"] = gflops["np.dot (OpenBLAS)"][3] / gflops["numba, i-k-j"][3]
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(list(speedups), list(speedups.values()), color="tab:green")
ax.axvline(1.0, color="k", lw=1)
ax.set_xlabel("speedup (x, higher is better; 1 = no change)")
ax.set_title("Measured in this run")
ax.invert_yaxis()
plt.show()

# %% [markdown]
# What to remember:
#
# * Profile first (`cProfile`, a per-phase stopwatch); cProfile charges numpy ufuncs to
#   their Python caller.
# * Count FLOPs and compute GFLOP/s: it tells you whether you are near the hardware or
#   buried in overhead.
# * Products belong to BLAS. Elementwise chains (losses, activations, optimizers) are
#   memory-bound: fuse them into one pass without temporaries.
# * A few cores are easy to oversubscribe; keep one thread pool.
# * A JIT costs compile time once; a disk cache makes it once per machine.
# * Capture and replay removes the per-op Python tax: record the step (twice, to be sure of
#   its path), then replay its array calls into planned buffers, fused where a kernel
#   exists, sharing memory between buffers never alive together. It refuses what a replay
#   would get wrong, and what it returns is overwritten by the next call.
# * `benchmarks/kernels.py`, `benchmarks/overhead.py` and `benchmarks/mnist.py` print the
#   project's full tables (kernels vs numpy vs PyTorch, per-op overhead, MNIST epochs).
#
# ### To try on your own: your own profile
#
# Change the model to `784-256-128-10` or the batch size to 32 and re-run the phase timer.
# Which phase grows, and does the matrix-product share go up or down? (Smaller batches mean
# less arithmetic per op, so overhead weighs more.)
#
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/10_making_it_fast.py`.
#
# 1. Why does cProfile show `linear_forward` rather than the matrix product as the expensive call?
# 2. How do you count the FLOPs of a matrix product, and why is there no $\partial x$ product in the backward pass here?
# 3. Why is a fused Numba kernel faster than the numpy reference of Adam, although both do the same arithmetic?
# 4. Why can a hand-written matmul not match BLAS, even compiled with Numba?
# 5. What is oversubscription, and why are all minigrad kernels serial?
# 6. What does `cache=True` save, and when do you still pay the compile time?
# 7. Why does capture record a step twice before replaying it, and why must you read a returned loss before the next call?
#
# ## Checks

# %%
ref_loss, ref_grad = K.cross_entropy.cross_entropy_reference(logits, target)
with K.set_jit_enabled(True):
    jit_loss, jit_grad = cross_entropy_path()
assert np.allclose(jit_loss, ref_loss, rtol=1e-5) and np.allclose(jit_grad, ref_grad, rtol=1e-5, atol=1e-6)
shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
softmax = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
assert np.isclose(float(jit_loss), -np.log(softmax[np.arange(128), target]).mean(), rtol=1e-5)
assert np.allclose(jit_grad, (softmax - np.eye(10)[target]) / 128, atol=1e-6)

p0 = rng.standard_normal(1000).astype(np.float32)
g0 = rng.standard_normal(1000).astype(np.float32)
one_step = {}
for jit in (True, False):
    p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    with K.set_jit_enabled(jit):
        K.optim.adam([p], [g0], [m], [v], None, step=1, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    one_step[jit] = p
assert np.allclose(one_step[True], p0 - 0.01 * g0 / (np.abs(g0) + 1e-8), rtol=1e-5, atol=1e-7)  # step 1: -lr*sign(g)
assert np.allclose(one_step[True], one_step[False], rtol=1e-5, atol=1e-7)

y_ref, saved_ref = K.linear.linear_forward_reference(x, W1, rng_bias, "relu")
dx_ref, dw_ref, db_ref = K.linear.linear_backward_reference(g1, x, W1, saved_ref, "relu")
y_jit, (_, dw_jit, db_jit) = linear_relu_path()
assert np.allclose(y_jit, np.maximum(x @ W1.T + rng_bias, 0), rtol=2e-5, atol=1e-4)
assert np.allclose(y_jit, y_ref, rtol=2e-5, atol=1e-4) and np.allclose(dw_jit, dw_ref, rtol=2e-5, atol=1e-3)
assert np.allclose(db_jit, (g1 * (y_ref > 0)).sum(axis=0), rtol=2e-5, atol=1e-4)

big_a = rng.standard_normal((64, 96))
big_b = rng.standard_normal((96, 80))
assert np.allclose(matmul_ikj(big_a, big_b), np.dot(big_a, big_b), rtol=1e-12, atol=1e-12)
assert np.allclose(matmul_ijk(big_a, big_b), np.dot(big_a, big_b), rtol=1e-12, atol=1e-12)
assert np.isclose(step_flops, numpy_flops, rtol=1e-3)   # einsum_path prints 4 significant digits
assert np.allclose(matmul_ikj(small_a, small_b), np.dot(small_a, small_b), rtol=1e-4, atol=1e-4)
assert np.isclose(scalar_hours, 2 * N * D * H * (n_train / N) * op_seconds / 3600)
assert intensity(512) > 100 * (1 / 12), "a large matmul reuses each byte far more than an add"

assert peak[True] < 4 * P <= peak[False]   # the kernel allocates no parameter-sized temporary
assert ops_per_step >= 4 and losses[-1] < losses[0]
all_timings = [*phases.values(), step_seconds, matmul_seconds, op_seconds, *step_timings.values(), again_seconds,
               load_seconds, *blas_seconds.values(), *(t for pair in timings.values() for t in pair.values()),
               *(v for values in gflops.values() for v in values)]
assert all(t > 0 for t in all_timings)

assert [a for a, _ in twin_losses] == [b for _, b in twin_losses] and twin_gap == 0.0  # bit for bit
assert replayed_step.stats["recordings"] == 2 and replayed_step.stats["replays"] == len(twin_losses) - 2
assert step.stats["plans_built"] == 2 and len(step.plans) == 2   # N=128 and N=8
assert all(call.note != "op's own forward: allocates its result" for call in mlp_plan.calls)
assert any(call.name == "Linear.forward[relu]" for call in mlp_plan.calls)   # ReLU fused into the GEMM
assert not any(call.name.startswith("Relu") for call in mlp_plan.calls)
for name, plan in memory_plans.items():
    lower, arena, unshared = memory[name]
    lifetimes = arena_lifetimes(plan)
    alive = [sum(n for first, last, n in lifetimes if first <= t <= last) for t in range(len(plan.calls))]
    assert lower == max(alive) and unshared == sum(n for _, _, n in lifetimes)
    assert lower <= arena <= sum(-(-n // 64) * 64 for _, _, n in lifetimes)   # 64-byte aligned
deep_lower, deep_arena, deep_unshared = memory["784-128-128-128-10"]
assert deep_arena < deep_unshared and deep_arena <= 1.05 * deep_lower   # shares bytes, close to the bound
assert isinstance(capture_error, mg.replay.CaptureError) and "took a different path" in str(capture_error)
assert first_loss is second_loss and first_loss.item() != first_value
assert len(history) == len(loader) and all(np.isfinite(history))
print("all checks passed")
