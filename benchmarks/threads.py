"""`minigrad train --threads 2` next to a busy neighbour: capped vs uncapped BLAS threads.

    python benchmarks/threads.py                  # 20,000 images, 2 epochs per run
    python benchmarks/threads.py --limit 50000 --epochs 3

OpenBLAS threads busy-wait for work. With two of them on a 2-core machine where another
program keeps one core busy, they spin against each other and the neighbour, and an epoch
takes many times longer than with one thread. `minigrad train` therefore caps `--threads`
at the idle cores (cores minus the 1-minute load average). This starts one CPU-bound
neighbour process, then trains (in fresh processes, 784-128-10, batch 128) with:

- `--threads 1`;
- `--threads 2` as the CLI runs it (capped);
- 2 BLAS threads forced with threadpoolctl, bypassing the cap (what the CLI did before);

and reports the median epoch time of each (data loading and kernel compilation excluded)
and the ratio to 1 thread. The goal: `--threads 2` within 1.5x of 1 thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORCED = """
import sys
from threadpoolctl import threadpool_limits
threadpool_limits(limits=2)
from minigrad.trainer import TrainConfig, Trainer
Trainer(TrainConfig(out=sys.argv[1], overwrite=True, epochs=int(sys.argv[2]), limit=int(sys.argv[3]),
                    progress=False, graph=False), log=lambda line: None).fit()
"""


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=20_000, help="training images per epoch")
    p.add_argument("--epochs", type=int, default=2)
    return p.parse_args()


def epoch_seconds(cmd: list[str], out: Path) -> float:
    """Run one training process and return its median epoch time from metrics.json."""
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return statistics.median(json.loads((out / "metrics.json").read_text())["history"]["epoch_seconds"])


def main() -> None:
    args = _args()
    base = [sys.executable, "-m", "minigrad", "train", "--overwrite", "--no-progress", "--no-graph",
            "--epochs", str(args.epochs), "--limit", str(args.limit)]
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "run"
            subprocess.run([sys.executable, "-m", "minigrad", "warmup"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            runs = {
                "--threads 1": epoch_seconds([*base, "--out", str(out), "--threads", "1"], out),
                "--threads 2 (capped to idle cores)": epoch_seconds(
                    [*base, "--out", str(out), "--threads", "2"], out),
                "2 BLAS threads forced (no cap)": epoch_seconds(
                    [sys.executable, "-c", FORCED, str(out), str(args.epochs), str(args.limit)], out),
            }
    finally:
        neighbour.kill()
        neighbour.wait()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"busy neighbour: 1 CPU-bound process; {cores} cores; load average now "
          f"{os.getloadavg()[0]:.2f}; {args.limit} images, median of {args.epochs} epochs")
    one = runs["--threads 1"]
    for name, seconds in runs.items():
        print(f"{name:36s} {seconds:7.2f} s/epoch  {seconds / one:5.2f}x of 1 thread")


if __name__ == "__main__":
    main()
