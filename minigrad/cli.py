"""The command line: ``minigrad train ...`` (also ``python -m minigrad train``).

    minigrad train                                   # 784-128-10 MLP on MNIST, good defaults
    minigrad train --arch 784-256-128-10 --epochs 15 --out runs/big
    minigrad train --loss focal --limit 5000 --epochs 2
    minigrad warmup                                  # compile the Numba kernels ahead of time
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")
DEFAULT_THREADS = 1


def _parser() -> argparse.ArgumentParser:
    from .trainer import TrainConfig

    d = TrainConfig()
    parser = argparse.ArgumentParser(prog="minigrad", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train an MLP classifier on MNIST")
    t.add_argument("--arch", default=d.arch, help="layer sizes, e.g. 784-128-10 (default %(default)s)")
    t.add_argument("--activation", default=d.activation,
                   help="relu, tanh, sigmoid, gelu, leaky_relu, elu (default %(default)s)")
    t.add_argument("--epochs", type=int, default=d.epochs, help="default %(default)s")
    t.add_argument("--batch-size", type=int, default=d.batch_size, help="default %(default)s")
    t.add_argument("--optimizer", default=d.optimizer,
                   help="sgd (momentum 0.9), adam, adamw, rmsprop, adagrad (default %(default)s)")
    t.add_argument("--lr", type=float, default=d.lr, help="learning rate (default %(default)s)")
    t.add_argument("--weight-decay", type=float, default=d.weight_decay, help="default %(default)s")
    t.add_argument("--loss", default=d.loss,
                   help="cross_entropy, mse, l1, focal, hinge (default %(default)s)")
    t.add_argument("--scheduler", default=d.scheduler,
                   help="none, cosine, onecycle, step, plateau (default %(default)s)")
    t.add_argument("--clip-grad-norm", type=float, default=None, help="max global gradient norm")
    t.add_argument("--seed", type=int, default=d.seed, help="default %(default)s")
    t.add_argument("--threads", type=int, default=None,
                   help=f"BLAS and Numba threads (default {DEFAULT_THREADS}: fastest for tiny MLPs)")
    t.add_argument("--dataset", default=d.dataset, help="mnist or fashion-mnist")
    t.add_argument("--data-dir", default=None, help="folder with IDX files (or set MINIGRAD_DATA)")
    t.add_argument("--out", default=d.out, help="output folder (default %(default)s)")
    t.add_argument("--resume", default=None, help="checkpoint to continue from")
    t.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    t.add_argument("--no-normalize", action="store_true",
                   help="keep pixels in [0, 1] instead of standardising them")
    t.add_argument("--debug", action="store_true",
                   help="gradient norm in the progress bar, gradient monitor report and plots")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--no-graph", action="store_true", help="do not render the graph")
    sub.add_parser("warmup", help="compile all Numba kernels now (they are cached on disk)")
    return parser


def _ensure_threads(threads: int, argv: Sequence[str]) -> None:
    """Thread counts of BLAS are read when numpy loads, so restart with them set if needed."""
    want = str(threads)
    if all(os.environ.get(v) == want for v in THREAD_VARIABLES):
        return
    env = dict(os.environ, **{v: want for v in THREAD_VARIABLES})
    os.execve(sys.executable, [sys.executable, "-m", "minigrad", *argv], env)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "warmup":
        from . import kernels

        seconds = kernels.warmup()
        print(f"compiled all kernels in {seconds:.2f} s")
        return 0
    threads = args.threads if args.threads is not None else DEFAULT_THREADS
    if threads < 1:
        parser.error(f"--threads {threads}: the thread count must be >= 1")
    _ensure_threads(threads, argv)
    from .trainer import TrainConfig, Trainer

    config = TrainConfig(
        arch=args.arch, activation=args.activation, epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, lr=args.lr, weight_decay=args.weight_decay, loss=args.loss,
        scheduler=args.scheduler, clip_grad_norm=args.clip_grad_norm, seed=args.seed,
        dataset=args.dataset, data_dir=args.data_dir, out=args.out, resume=args.resume,
        limit=args.limit, normalize=not args.no_normalize, debug=args.debug,
        progress=not args.no_progress, graph=not args.no_graph)
    try:
        Trainer(config).fit()
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"minigrad train: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
