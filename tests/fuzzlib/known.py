"""Divergences from PyTorch that the fuzz test tolerates.

Each entry names its bug (the review's ids B02-B19, N1-N10 for the ones this fuzzer found)
and a predicate on the program and its first divergence. An open bug's entry goes when its
fix is merged: the fuzz test then fails if the divergence is still there. What stays is a
``deliberate`` difference, kept on purpose and documented (with the reason) in
docs/fuzzing.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tests.fuzzlib.program import Divergence, Program, Step

Shapes = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class Known:
    bug: str
    summary: str
    match: Callable[[Program, Divergence, Shapes], bool]
    deliberate: bool = False  # kept on purpose (docs/fuzzing.md says why), not a bug to fix


def _at(program: Program, d: Divergence) -> Step | None:
    return next((s for s in program.steps if s.target == d.where), None) if d.op else None


def steps_at_fault(program: Program, d: Divergence, pred: Callable[[Step], bool]) -> list[Step]:
    """The statement at fault when the divergence names one (a value, or an error in the
    forward pass), else every statement that satisfies ``pred``."""
    at = _at(program, d)
    if at is None and d.kind == "error" and d.where.startswith("forward@"):
        at = program.steps[int(d.where.split("@")[1])]
    if at is not None:
        return [at] if pred(at) else []
    return [s for s in program.steps if pred(s)]


def tagged(*tags: str, kinds: tuple[str, ...] | None = None) -> Callable:
    """A predicate: a divergence (of one of ``kinds``) at a statement with one of ``tags``."""
    def match(program: Program, d: Divergence, shapes: Shapes) -> bool:
        return (kinds is None or d.kind in kinds) and bool(
            steps_at_fault(program, d, lambda s: any(t in s.tags for t in tags)))
    return match


def _view_across_gaps(program: Program, d: Divergence, shapes: Shapes) -> bool:
    return (d.kind == "error" and d.op == "view" and d.detail.startswith("minigrad: None")
            and "view size is not compatible" in d.detail)


def _empty_batched_matmul_of_two_dtypes(program: Program, d: Divergence, shapes: Shapes) -> bool:
    return (d.kind == "error" and d.op.startswith("matmul") and d.detail.endswith("torch: None")
            and "same dtype" in d.detail and "(shape (" in d.detail
            and bool(re.search(r"shape \([^)]*\b0\b", d.detail)))


def _soft_margin_at_an_infinite_margin(program: Program, d: Divergence, shapes: Shapes) -> bool:
    return (d.kind in ("grad", "grad2") and "NaN/inf" in d.detail
            and any("nonfinite" in s.tags for s in program.steps)
            and any(s.op == "soft_margin_loss" for s in program.steps))


KNOWN_DIVERGENCES: list[Known] = [
    Known("N11", "soft_margin_loss's gradient at an infinite margin: torch's exp(z) / (1 + exp(z)) "
                 "is inf / inf = NaN, minigrad's stable sigmoid gives the limit",
          _soft_margin_at_an_infinite_margin, deliberate=True),
    Known("N8", "view of a transposed or sliced tensor (or of an op result that torch lays out "
                "so) across its gaps: torch raises, minigrad takes the layout as row-major and "
                "checks only broadcast dims", _view_across_gaps, deliberate=True),
    Known("N10", "matmul of two dtypes with an empty batched operand: torch returns the second "
                 "operand's dtype, minigrad raises as for any other shapes",
          _empty_batched_matmul_of_two_dtypes, deliberate=True),
]


def known(program: Program, d: Divergence, shapes: Shapes) -> Known | None:
    """The entry that explains ``d``, if any."""
    return next((k for k in KNOWN_DIVERGENCES if k.match(program, d, shapes)), None)
