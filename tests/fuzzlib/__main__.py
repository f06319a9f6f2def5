"""``python -m tests.fuzzlib``: the long fuzzing run (``make fuzz``).

Environment: MINIGRAD_FUZZ_PROGRAMS (default 20000) programs from seed MINIGRAD_FUZZ_SEED
(default 1000000, past the seeds the test suite runs). Prints new divergences as they are
found (shrunk, with reproducers for both libraries), then a summary grouped by signature.
Exits with status 1 if any divergence is not in KNOWN_DIVERGENCES.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def main() -> int:
    if importlib.util.find_spec("torch") is None:
        print("make fuzz: PyTorch is not installed (pip install torch); nothing to compare with")
        return 0
    from tests.fuzzlib.campaign import campaign

    n = int(os.environ.get("MINIGRAD_FUZZ_PROGRAMS", "20000"))
    base = int(os.environ.get("MINIGRAD_FUZZ_SEED", "1000000"))
    print(f"fuzzing {n} programs from seed {base}", flush=True)
    summary = campaign(range(base, base + n), log=lambda s: print(s, flush=True))
    print(summary.text())
    return 1 if summary.new else 0


if __name__ == "__main__":
    sys.exit(main())
