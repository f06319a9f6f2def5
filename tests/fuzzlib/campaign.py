"""Run many seeded programs, sort the divergences into known bugs and new ones, summarise."""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from tests.fuzzlib.known import Known, known
from tests.fuzzlib.ops import generate
from tests.fuzzlib.program import Divergence, Program, check, describe, run, shrink
from tests.op_registry import ALL


@dataclass
class Finding:
    seed: int
    program: Program  # shrunk
    divergence: Divergence
    bug: Known | None

    def report(self) -> str:
        return describe(self.program, self.divergence)


@dataclass
class Summary:
    programs: int = 0
    agreeing: int = 0
    expected_errors: int = 0  # programs whose last statement raised in both libraries
    known: Counter = field(default_factory=Counter)  # bug id -> programs
    new: dict[str, list[Finding]] = field(default_factory=dict)  # signature -> findings
    ops: Counter = field(default_factory=Counter)  # op -> programs using it
    seconds: float = 0.0

    def text(self) -> str:
        lines = [f"{self.programs} programs in {self.seconds:.1f} s: {self.agreeing} agree "
                 f"({self.expected_errors} of them raise in both), "
                 f"{sum(self.known.values())} known divergences, "
                 f"{sum(len(v) for v in self.new.values())} new"]
        lines += [f"  known {bug}: {n}" for bug, n in sorted(self.known.items())]
        registry = [s.name for s in ALL]
        missing = [n for n in registry if not self.ops[n]]
        lines.append(f"  {len(self.ops)} distinct ops used; registry ops covered "
                     f"{len(registry) - len(missing)}/{len(registry)}"
                     + (f", missing {missing}" if missing else ""))
        for sig, findings in sorted(self.new.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"  NEW {sig}: {len(findings)} program(s), seeds "
                         f"{[f.seed for f in findings[:8]]}")
        for sig, findings in self.new.items():
            lines += ["", f"=== {sig}", findings[0].report()]
        return "\n".join(lines)


def shapes(program: Program) -> dict[str, tuple[int, ...]]:
    """Every value's shape, from torch's forward pass (up to the first error)."""
    return {n: snap[0] for n, snap in run(replace(program, expect_error=True), "torch")
            .values.items()}


def classify(program: Program, d: Divergence) -> Known | None:
    return known(program, d, shapes(program))


def fuzz_one(seed: int, shrink_new: bool = True) -> tuple[Program, Divergence | None, Known | None]:
    """Generate and check the program of ``seed``; a new divergence comes back shrunk."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = generate(seed)
        d = check(program)
        if d is None:
            return program, None, None
        bug = classify(program, d)
        if bug is None and shrink_new:
            small, small_d = shrink(program, d)
            # the shrunk program may now look like a known bug; the original does not
            return small, small_d, None
        return program, d, bug


def campaign(seeds: Iterable[int], log: Callable[[str], None] | None = None,
             shrink_new: bool = True) -> Summary:
    summary = Summary()
    start = time.perf_counter()
    for seed in seeds:
        program, d, bug = fuzz_one(seed, shrink_new)
        summary.programs += 1
        summary.ops.update(set(program.ops))
        if d is None:
            summary.agreeing += 1
            summary.expected_errors += program.expect_error
        elif bug is not None:
            summary.known[bug.bug] += 1
        else:
            finding = Finding(seed, program, d, None)
            summary.new.setdefault(d.signature(program), []).append(finding)
            if log:
                log(f"NEW divergence, seed {seed}:\n{finding.report()}")
        if log and summary.programs % 500 == 0:
            log(f"... {summary.programs} programs, {time.perf_counter() - start:.0f} s")
    summary.seconds = time.perf_counter() - start
    return summary
