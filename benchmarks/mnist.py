"""MNIST training speed, accuracy parity and memory: minigrad (eager and captured) vs PyTorch eager.

    python benchmarks/mnist.py                       # 784-128-10, 3 timed epochs, 1 thread
    python benchmarks/mnist.py --arch 784-256-128-10 --threads 2
    python benchmarks/mnist.py --accuracy 5          # per-epoch test accuracy, both frameworks
    python benchmarks/mnist.py --memory 10           # RSS after each of 10 epochs (minigrad)

Both frameworks train the same architecture from the same initial weights, with the same
batch order, batch size 128, Adam lr 1e-3 and cross-entropy; torch.set_num_threads equals
minigrad's BLAS threads. Data loading and JIT compilation are excluded from the epoch
times and reported separately.

minigrad runs twice: a user's plain loop (eager) and the same step under ``mg.capture``
(what ``minigrad train`` does by default), whose calls 1-2 for each batch shape record and
later calls replay. The last, smaller batch of an epoch is a second shape, recorded in
epochs 1 and 2, so the best epoch of 3 or more is all replay. Timed epochs take turns
(minigrad, captured, PyTorch, then again), so a busy neighbour slows all three alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _bench import BLAS_THREAD_VARS, blas_info


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="784-128-10")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per framework")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--accuracy", type=int, default=0, help="epochs of the accuracy comparison")
    p.add_argument("--memory", type=int, default=0, help="epochs of the memory run")
    return p.parse_args()


ARGS = _args()
for var in (*BLAS_THREAD_VARS, "NUMBA_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402
from minigrad.trainer import build_mlp  # noqa: E402


def load() -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]:
    start = time.perf_counter()
    splits = {}
    for split in ("train", "test"):
        ds = mg.data.MNIST(split=split)
        splits[split] = (np.array(ds.data, dtype=np.float32).reshape(len(ds.data), -1),
                         np.asarray(ds.targets, dtype=np.int64))
    return splits, time.perf_counter() - start


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


class MinigradRun:
    def __init__(self, arch: str) -> None:
        mg.manual_seed(0)
        self.model = build_mlp(arch)
        self.opt = mg.optim.Adam(self.model.parameters(), lr=1e-3)

    def weights(self) -> list[np.ndarray]:
        return [p.data.copy() for p in self.model.parameters()]

    def train_step(self, x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        loss = F.cross_entropy(self.model(x), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        self.train_step(mg.from_numpy(x), mg.from_numpy(y))

    @mg.no_grad()
    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float((self.model(mg.from_numpy(x)).data.argmax(1) == y).mean())


class CapturedRun(MinigradRun):
    """MinigradRun's step under ``mg.capture``: recorded on its first calls, replayed after."""

    def __init__(self, arch: str) -> None:
        super().__init__(arch)
        self.captured = mg.capture(self.train_step)

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        self.captured(mg.from_numpy(x), mg.from_numpy(y))


class TorchRun:
    def __init__(self, weights: list[np.ndarray], threads: int) -> None:
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        layers = []
        for i in range(0, len(weights), 2):
            lin = torch.nn.Linear(weights[i].shape[1], weights[i].shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(weights[i]))
                lin.bias.copy_(torch.from_numpy(weights[i + 1]))
            layers += [lin, torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        t = self.torch
        loss = t.nn.functional.cross_entropy(self.model(t.from_numpy(x)), t.from_numpy(y))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        with self.torch.no_grad():
            return float((self.model(self.torch.from_numpy(x)).numpy().argmax(1) == y).mean())


def epoch(run, x: np.ndarray, y: np.ndarray, order: np.ndarray, batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = order[i:i + batch]
        run.step(x[idx], y[idx])
    return time.perf_counter() - start


def main() -> None:
    splits, load_seconds = load()
    x, y = splits["train"]
    steps = -(-len(x) // ARGS.batch_size)
    rng = np.random.default_rng(0)
    orders = [rng.permutation(len(x)) for _ in range(max(ARGS.epochs, ARGS.accuracy, ARGS.memory))]
    ours = MinigradRun(ARGS.arch)
    start = time.perf_counter()
    for _ in range(3):
        ours.step(x[:ARGS.batch_size], y[:ARGS.batch_size])
    warm = time.perf_counter() - start
    ours = MinigradRun(ARGS.arch)
    captured = CapturedRun(ARGS.arch)
    try:
        theirs = TorchRun(ours.weights(), ARGS.threads)
    except ImportError:
        theirs = None
    print(f"MNIST {ARGS.arch}, batch {ARGS.batch_size}, Adam lr 1e-3, {len(x)} images, {steps} steps/epoch")
    print(f"numpy {np.__version__} BLAS {blas_info()}, threads {ARGS.threads} (BLAS, Numba, torch), "
          f"JIT {'on' if mg.kernels.jit_enabled() else 'off'}")
    print(f"data loading {load_seconds:.2f} s; first 3 steps (JIT compile / cache load) {warm:.2f} s")
    if ARGS.epochs:
        runs = {name: run for name, run in (("minigrad", ours), ("captured", captured), ("pytorch", theirs))
                if run is not None}
        times: dict[str, list[float]] = {name: [] for name in runs}
        for e in range(ARGS.epochs):
            for name, run in runs.items():
                times[name].append(epoch(run, x, y, orders[e], ARGS.batch_size))
        best = {name: min(name_t) for name, name_t in times.items()}
        labels = {"minigrad": "minigrad eager", "captured": "minigrad captured",
                  "pytorch": f"pytorch {theirs.torch.__version__}" if theirs else ""}
        for name, seconds in best.items():
            print(f"{labels[name] + ':':19s} {seconds:.3f} s/epoch (best of {ARGS.epochs}; "
                  f"{seconds / steps * 1e3:.3f} ms/step)")
        print(f"capture stats: {dict(captured.captured.stats)}")
        pairs = (("minigrad", "pytorch", ""), ("captured", "pytorch", " (target <= 0.5)"),
                 ("captured", "minigrad", ""))
        ratios = [f"{a}/{b} {best[a] / best[b]:.2f}{target}"
                  for a, b, target in pairs if a in best and b in best]
        if ratios:
            print("ratios of s/epoch: " + ", ".join(ratios))
    if ARGS.accuracy:
        ours = MinigradRun(ARGS.arch)
        captured = CapturedRun(ARGS.arch)
        theirs = TorchRun(ours.weights(), ARGS.threads) if theirs is not None else None
        xt, yt = splits["test"]
        print("epoch  minigrad_test_acc  captured_test_acc  pytorch_test_acc  diff_points")
        worst = 0.0
        for e in range(ARGS.accuracy):
            epoch(ours, x, y, orders[e], ARGS.batch_size)
            a = ours.accuracy(xt, yt)
            b = float("nan")
            epoch(captured, x, y, orders[e], ARGS.batch_size)
            c = captured.accuracy(xt, yt)
            if theirs is not None:
                epoch(theirs, x, y, orders[e], ARGS.batch_size)
                b = theirs.accuracy(xt, yt)
                worst = max(worst, abs(a - b) * 100)
            print(f"{e + 1:5d}  {a:17.4f}  {c:17.4f}  {b:16.4f}  {(a - b) * 100:11.2f}")
        print(f"largest per-epoch difference minigrad - pytorch: {worst:.2f} points")
    if ARGS.memory:
        ours = MinigradRun(ARGS.arch)
        rss = []
        for e in range(ARGS.memory):
            epoch(ours, x, y, orders[e], ARGS.batch_size)
            rss.append(rss_mb())
        print("RSS after each epoch (MB): " + ", ".join(f"{r:.1f}" for r in rss))
        print(f"growth after epoch 1: {rss[-1] - rss[0]:+.1f} MB")


if __name__ == "__main__":
    main()
