"""The command line: ``minigrad train ...`` (also ``python -m minigrad train ...``).

    minigrad train                                   # 784-128-10 MLP on MNIST into runs/mnist
    minigrad train --overwrite                       # the same, replacing the previous run there
    minigrad train --arch 784-256-128-10 --epochs 15 --out runs/big
    minigrad train --loss focal --limit 5000 --epochs 2 --out runs/focal
    minigrad train --resume runs/mnist/checkpoint.npz --epochs 15   # 15 epochs in total
    minigrad warmup                                  # compile the kernels training uses, ahead of time

A run refuses an --out folder that already holds a run, unless --overwrite is given or it
continues a checkpoint from that folder (--resume). With --resume, --epochs is the new
total and the learning-rate schedule is laid over it, continuing where the checkpoint
stopped. Ctrl-C saves interrupted.npz at the end of the current step and exits with code
130; a diverged run (NaN/Inf loss) keeps its last good checkpoint and exits with code 1;
bad options exit with code 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

DEFAULT_THREADS = 1
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
EXIT_DIVERGED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    from .trainer import TrainConfig

    d = TrainConfig()
    parser = argparse.ArgumentParser(prog="minigrad", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train an MLP classifier on MNIST or Fashion-MNIST",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--arch", default=d.arch, help="layer sizes, e.g. 784-128-10 (default %(default)s)")
    t.add_argument("--activation", default=d.activation,
                   help="relu, tanh, sigmoid, gelu, leaky_relu, elu (default %(default)s)")
    t.add_argument("--epochs", type=int, default=d.epochs,
                   help="epochs in total, >= 1; with --resume the new total (default %(default)s)")
    t.add_argument("--batch-size", type=int, default=d.batch_size, help="default %(default)s")
    t.add_argument("--optimizer", default=d.optimizer,
                   help="sgd (momentum 0.9), adam, adamw, rmsprop, adagrad (default %(default)s)")
    t.add_argument("--lr", type=float, default=d.lr,
                   help="learning rate, finite and > 0 (default %(default)s)")
    t.add_argument("--weight-decay", type=float, default=d.weight_decay, help="default %(default)s")
    t.add_argument("--loss", default=d.loss,
                   help="cross_entropy, mse, l1, focal, hinge (default %(default)s)")
    t.add_argument("--scheduler", default=d.scheduler,
                   help="none, cosine, onecycle (per step), step, plateau (per epoch) (default %(default)s)")
    t.add_argument("--clip-grad-norm", type=float, default=None, help="max global gradient norm")
    t.add_argument("--seed", type=int, default=d.seed, help="default %(default)s")
    t.add_argument("--threads", type=int, default=None,
                   help=f"BLAS threads (default {DEFAULT_THREADS}: fastest for tiny MLPs); capped to the "
                        "idle cores so that busy-waiting threads never fight another program for a core")
    t.add_argument("--dataset", default=d.dataset,
                   help="mnist or fashion-mnist (Fashion-MNIST offline: apt-get install "
                        "dataset-fashion-mnist, or --data-dir)")
    t.add_argument("--data-dir", default=None,
                   help="folder with the dataset's IDX files (or set MINIGRAD_DATA); it must hold them")
    t.add_argument("--out", default=d.out,
                   help="output folder (default %(default)s); must not hold another run unless --overwrite")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (its files not written again are removed)")
    t.add_argument("--resume", default=None,
                   help="checkpoint to continue from (checkpoint.npz or interrupted.npz); --epochs is the "
                        "new total")
    t.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    t.add_argument("--no-normalize", action="store_true",
                   help="keep pixels in [0, 1] instead of standardising them")
    t.add_argument("--debug", action="store_true",
                   help="gradient norm in the progress bar, gradient monitor report and plots")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--no-graph", action="store_true", help="do not render the graph")
    t.add_argument("--amp", action="store_true",
                   help="mixed precision: float16 matmuls (minigrad.amp.autocast) with a GradScaler; "
                        "reports the skipped steps and the final loss scale")
    t.add_argument("--no-capture", action="store_true",
                   help="run every training step eagerly, op by op, instead of replaying the step that "
                        "mg.capture recorded (same numbers; --amp and --debug always run eagerly)")
    t.add_argument("--tensorboard", default=None, metavar="DIR",
                   help="log loss, accuracy, lr, grad norm and weight/grad histograms each epoch to DIR "
                        "(needs: pip install \"minigrad-edu[tensorboard]\")")
    w = sub.add_parser("warmup", help="compile the Numba kernels that training uses (cached on disk)")
    w.add_argument("--all", action="store_true", help="every kernel for float32 and float64, not only "
                   "those of a default training run")
    return parser


def idle_cores() -> int:
    """Cores this process may use minus the load of other programs (1-minute load average),
    at least 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return max(1, min(cores, math.floor(cores - load + 0.5)))


def set_threads(requested: int, idle: int | None = None) -> tuple[int, str]:
    """Limit BLAS (and Numba) to ``min(requested, idle cores)`` threads, in this process.

    OpenBLAS threads busy-wait for work: on a core that another program also wants, two
    of them spin against each other and the neighbour, and an epoch got 9.5x slower
    (``benchmarks/threads.py``). So the count is capped at the idle cores. The BLAS
    libraries already loaded are limited with threadpoolctl; the environment variables
    cover those loaded later and Numba (read when it is imported; if it already was,
    ``numba.set_num_threads``). Every minigrad kernel is serial, so Numba never adds
    threads of its own next to BLAS's.
    Returns the count used and a note saying why it differs from the request ("" if not).
    """
    from threadpoolctl import threadpool_limits

    idle = idle_cores() if idle is None else idle
    threads = max(1, min(requested, idle))
    os.environ.update({var: str(threads) for var in THREAD_VARIABLES})
    threadpool_limits(limits=threads)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    note = "" if threads == requested else (
        f"--threads {requested}: using {threads}, the idle cores now (other programs keep the rest busy)")
    return threads, note


def _warmup(args: argparse.Namespace) -> int:
    from . import kernels

    if args.all:
        kernels.warmup(verbose=True)
        return 0
    import numpy as np

    from .trainer import TrainConfig, Trainer

    if not kernels.jit_enabled():
        print("minigrad warmup: Numba kernels are off (MINIGRAD_JIT=0 or Numba missing); nothing to do")
        return 0
    trainer = Trainer(TrainConfig(progress=False))
    if trainer.warm_kernels(np.zeros((2, 784), np.float32), np.zeros(2, np.int64)) == (0, 0):
        print("minigrad warmup: the kernels were already loaded in this process")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "warmup":
        return _warmup(args)
    threads = args.threads if args.threads is not None else DEFAULT_THREADS
    if threads < 1:
        parser.error(f"--threads {threads}: the thread count must be >= 1")
    _, note = set_threads(threads)
    if note:
        print(f"minigrad train: {note}")
    from .serialization import CheckpointError
    from .trainer import TrainConfig, Trainer, TrainingDiverged

    config = TrainConfig(
        arch=args.arch, activation=args.activation, epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, lr=args.lr, weight_decay=args.weight_decay, loss=args.loss,
        scheduler=args.scheduler, clip_grad_norm=args.clip_grad_norm, seed=args.seed,
        dataset=args.dataset, data_dir=args.data_dir, out=args.out, overwrite=args.overwrite,
        resume=args.resume, limit=args.limit, normalize=not args.no_normalize, debug=args.debug,
        progress=not args.no_progress, graph=not args.no_graph, amp=args.amp, tensorboard=args.tensorboard,
        capture=not args.no_capture)
    trainer = None
    try:
        trainer = Trainer(config)
        trainer.fit()
    except TrainingDiverged as err:
        print(f"minigrad train: {err}", file=sys.stderr)
        return EXIT_DIVERGED
    except (ValueError, FileNotFoundError, CheckpointError, RuntimeError, ImportError) as err:
        print(f"minigrad train: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as stop:  # Ctrl-C during the epochs: the trainer saved interrupted.npz
        return int(stop.code or 0)
    except KeyboardInterrupt:
        written = trainer.written if trainer is not None else []
        done = (f"; files written completely before it: {', '.join(written)}" if written
                else "; no output was written")
        print(f"\nminigrad train: interrupted{done}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
