"""Answer key of lesson 10, making it fast: the exercises and the questionnaire."""

from __future__ import annotations

import numba
import numpy as np
from course import Exercise


@numba.njit
def _matmul_ikj(a, b):
    n, k = a.shape
    c = np.zeros((n, b.shape[1]), a.dtype)
    for i in range(n):
        for p in range(k):
            aip = a[i, p]
            for j in range(b.shape[1]):
                c[i, j] += aip * b[p, j]
    return c


def _two_matrices(rng: np.random.Generator) -> tuple:
    n, k, m = (int(v) for v in rng.integers(1, 40, size=3))
    return rng.standard_normal((n, k)).astype(np.float32), rng.standard_normal((k, m)).astype(np.float32)


def _peak_live_bytes(lifetimes: list[tuple[int, int, int]]) -> int:
    """The most bytes alive at one call; the peak is reached where some buffer starts."""
    return max((sum(n for first, last, n in lifetimes if first <= t <= last) for t, _, _ in lifetimes),
               default=0)


def _lifetimes(rng: np.random.Generator) -> tuple:
    """3 to 12 buffers over 10 calls, short lives (one buffer often ends where another starts),
    sizes in whole cache lines as the plan's are."""
    k = int(rng.integers(3, 13))
    firsts = rng.integers(0, 10, size=k)
    lasts = firsts + rng.integers(0, 4, size=k)
    sizes = 64 * rng.integers(1, 200, size=k)
    return ([(int(f), int(la), int(n)) for f, la, n in zip(firsts, lasts, sizes)],)


def _sizes(rng: np.random.Generator) -> tuple:
    return tuple(int(v) for v in rng.integers(1, 1000, size=4))


EXERCISES: dict[str, Exercise] = {
    "10-step-flops": Exercise(
        kind="derive",
        task="the FLOPs of one training step's five matrix products",
        hints=("An (a x b) times (b x c) product costs 2abc FLOPs (a multiply and an add per "
               "term). List the five products with their shapes.",
               "Two products involve the big D x H matrix (forward x W1^T, backward dW1), three "
               "only H x C (forward h W2^T, dW2, dh)."),
        reference=lambda N, D, H, C: 2 * (2 * N * D * H) + 3 * (2 * N * H * C),
        make_inputs=_sizes,
        solution='''def count_step_flops(N, D, H, C):
    """FLOPs of the five matrix products of one training step of a D-H-C MLP on N samples."""
    return 2 * (2 * N * D * H) + 3 * (2 * N * H * C)


_ = check_function("10-step-flops", count_step_flops)''',
    ),
    "10-scalar-engine-hours": Exercise(
        kind="derive",
        task="hours per MNIST epoch for a scalar engine, from the measured cost of one op",
        hints=("Multiply: scalar ops per batch, batches per epoch (n_train / N), seconds per op.",
               "2 * N * D * H ops per batch, n_train / N batches, op_seconds each; divide the "
               "seconds by 3600."),
        expected=lambda N, D, H, n_train, op_seconds: 2 * N * D * H * (n_train / N) * op_seconds / 3600,
        rtol=1e-3,
        solution='''n_train = 50_000
scalar_hours = 2 * N * D * H * (n_train / N) * op_seconds / 3600

_ = check("10-scalar-engine-hours", scalar_hours, N=N, D=D, H=H, n_train=n_train, op_seconds=op_seconds)''',
    ),
    "10-matmul-ikj": Exercise(
        kind="implement",
        task="the i-k-j loop order of a Numba matmul",
        hints=("Row i of c accumulates a[i, p] times row p of b, for every p: the innermost loop "
               "runs over the columns j.",
               "Inside the j loop, add aip * b[p, j] into c[i, j] (use +=: c starts at zero)."),
        reference=_matmul_ikj,
        make_inputs=_two_matrices,
        rtol=1e-5,
        atol=1e-5,
        solution='''@numba.njit
def matmul_ikj(a, b):
    """a @ b with the loops in i-k-j order (same zero-filled c as matmul_ijk)."""
    n, k = a.shape
    c = np.zeros((n, b.shape[1]), a.dtype)
    for i in range(n):
        for p in range(k):
            aip = a[i, p]
            for j in range(b.shape[1]):
                c[i, j] += aip * b[p, j]
    return c


_ = check_function("10-matmul-ikj", matmul_ikj)''',
    ),
    "10-peak-live-bytes": Exercise(
        kind="implement",
        task="the most bytes alive at one call, a lower bound on any memory plan's arena",
        hints=("Go through the calls t that matter (every buffer's first call is enough) and "
               "add up the nbytes of the buffers alive at t; keep the largest total.",
               "A buffer is alive at t when first <= t <= last, both ends included; with no "
               "buffers the answer is 0 (max(..., default=0))."),
        reference=_peak_live_bytes,
        make_inputs=_lifetimes,
        trials=8,
        solution='''def peak_live_bytes(lifetimes):
    """The most bytes alive at one call, for buffers given as (first, last, nbytes)."""
    if not lifetimes:
        return 0
    start = min(first for first, _, _ in lifetimes)
    end = max(last for _, last, _ in lifetimes)
    return max(sum(n for first, last, n in lifetimes if first <= t <= last) for t in range(start, end + 1))


_ = check_function("10-peak-live-bytes", peak_live_bytes)''',
    ),
    "10-matmul-intensity": Exercise(
        kind="derive",
        task="the arithmetic intensity (FLOPs per byte) of an n x n float32 matmul",
        hints=("FLOPs: 2n^3. Bytes: three n x n float32 matrices, 4 bytes per number.",
               "Divide 2 n**3 by 3 * n**2 * 4; it simplifies to a multiple of n."),
        reference=lambda n: 2 * n**3 / (3 * n**2 * 4),
        make_inputs=lambda rng: (int(rng.integers(1, 5000)),),
        solution='''def matmul_intensity(n):
    """FLOPs per byte of an n x n float32 matmul that moves a, b and c through memory once."""
    return 2 * n**3 / (3 * n**2 * 4)


_ = check_function("10-matmul-intensity", matmul_intensity)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "Why does cProfile show `linear_forward` rather than the matrix product as the expensive call?":
        "cProfile records Python functions and C builtins, but numpy ufunc and matmul calls are "
        "not reported as separate entries: their time is charged to the Python function that "
        "called them.",
    "How do you count the FLOPs of a matrix product, and why is there no $\\partial x$ product in "
    "the backward pass here?":
        "An (a x b)(b x c) product does abc multiplies and as many adds: 2abc FLOPs. The input "
        "x is data that needs no gradient, so backward skips dL/dx = g1 W1, the largest product.",
    "Why is a fused Numba kernel faster than the numpy reference of Adam, although both do the "
    "same arithmetic?":
        "The reference makes about 13 passes over arrays too large for the fastest caches and "
        "allocates temporaries; the kernel updates each element in registers in one pass. "
        "Elementwise work is memory-bound, so fewer passes is what counts.",
    "Why can a hand-written matmul not match BLAS, even compiled with Numba?":
        "BLAS blocks the matrices for the caches, keeps a block of c in vector registers, uses "
        "assembly tuned to the CPU and can use several threads; a plain triple loop reuses "
        "little of what it loads.",
    "What is oversubscription, and why are all minigrad kernels serial?":
        "More busy threads than cores, or two thread pools taking turns: threads wait for "
        "cores and spinning workers steal time. Measured inside a training step, 2-thread "
        "kernels lost badly to serial ones at these sizes.",
    "What does `cache=True` save, and when do you still pay the compile time?":
        "The compiled machine code is written to __pycache__ and loaded in milliseconds by "
        "later processes; you pay the full compile on the first run, with an empty or "
        "invalidated cache (new source, new Numba, another CPU).",
    "Why does capture record a step twice before replaying it, and why must you read a returned "
    "loss before the next call?":
        "One recording cannot tell a parameter (the same array every call) from a constant or "
        "from data, nor show that the path does not depend on the data; two recordings on "
        "different batches that made the same calls on the same wiring can be replayed for any "
        "batch, and any difference is refused. A replay allocates nothing: the returned loss is "
        "the plan's own buffer, which the next call overwrites, so read .item() first.",
}
