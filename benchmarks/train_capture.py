"""`minigrad train` epochs with the step captured (default) and eager (`--no-capture`).

    python benchmarks/train_capture.py                 # MNIST, 3 epochs per run, 3 rounds
    python benchmarks/train_capture.py --rounds 5 --limit 20000

The two modes run in turns in one process (784-128-10, batch 128, Adam, cosine, 1 BLAS
thread), so a busy neighbour slows them alike; each prints the median and the fastest of
its epoch times (``history.epoch_seconds``: the training steps only, no validation).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

from minigrad import trainer as T
from minigrad.cli import set_threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="training images (default: all 50,000)")
    args = parser.parse_args()
    set_threads(1)
    modes = {"eager (--no-capture)": False, "captured (default)": True}
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.rounds):
            for mode, capture in modes.items():
                config = T.TrainConfig(out=out, overwrite=True, epochs=args.epochs, limit=args.limit,
                                       progress=False, graph=False, capture=capture)
                seconds[mode] += T.Trainer(config, log=lambda line: None).fit()["history"]["epoch_seconds"]
    print("| step | s/epoch (median) | fastest |\n| --- | --- | --- |")
    for mode, values in seconds.items():
        print(f"| {mode} | {statistics.median(values):.3f} | {min(values):.3f} |")


if __name__ == "__main__":
    main()
