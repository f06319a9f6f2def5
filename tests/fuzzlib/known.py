"""Divergences already reported, tolerated only while their fix is open.

Each entry names its bug (the review's ids B02-B19, or N1-N10 for the ones this fuzzer found)
and a predicate on the program and its first divergence. When a fix is merged, delete its
entry: the fuzz test then fails if the divergence is still there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tests.fuzzlib.program import Divergence, Program, Step

Shapes = dict[str, tuple[int, ...]]
GRADS = ("grad", "grad_none", "grad2", "hooks")


@dataclass(frozen=True)
class Known:
    bug: str
    summary: str
    match: Callable[[Program, Divergence, Shapes], bool]


def inputs_of(step: Step) -> list[str]:
    rhs = step.code.split("=", 1)[1] if step.target else step.code
    return re.findall(r"\b[pv]\d+\b", rhs)


def _at(program: Program, d: Divergence) -> Step | None:
    return next((s for s in program.steps if s.target == d.where), None) if d.op else None


def _steps(program: Program, d: Divergence, pred: Callable[[Step], bool]) -> list[Step]:
    """The statement at fault when the divergence names one (a value, or an error in the
    forward pass), else every statement that satisfies ``pred``."""
    at = _at(program, d)
    if at is None and d.kind == "error" and d.where.startswith("forward@"):
        at = program.steps[int(d.where.split("@")[1])]
    if at is not None:
        return [at] if pred(at) else []
    return [s for s in program.steps if pred(s)]


def _tagged(*tags: str, kinds: tuple[str, ...] | None = None) -> Callable:
    def match(program: Program, d: Divergence, shapes: Shapes) -> bool:
        return (kinds is None or d.kind in kinds) and bool(
            _steps(program, d, lambda s: any(t in s.tags for t in tags)))
    return match


def _degenerate(ops: set[str]) -> Callable:
    """A divergence at (or, for gradients, in a program with) one of ``ops`` applied to an
    empty or 0-d value."""
    def match(program: Program, d: Divergence, shapes: Shapes) -> bool:
        def hit(s: Step) -> bool:
            return s.op in ops and any(
                n in shapes and (0 in shapes[n] or shapes[n] == ()) for n in inputs_of(s))
        return bool(_steps(program, d, hit))
    return match


def _nan_in(ops: set[str]) -> Callable:
    def match(program: Program, d: Divergence, shapes: Shapes) -> bool:
        return d.kind in GRADS and "NaN/inf" in d.detail and any(s.op in ops for s in program.steps)
    return match


def _nonfinite(program: Program) -> bool:
    return any("nonfinite" in s.tags for s in program.steps)


NOOP_VIEWS = {"reshape", "view", "expand", "squeeze", "broadcast_to", "flatten", "unsqueeze",
              "transpose", "permute", "T", "mT"}


def _noop_view_hooked(program: Program, d: Divergence, shapes: Shapes) -> bool:
    if d.kind not in GRADS:
        return False
    watched = {inputs_of(s)[0] for s in program.steps if s.op in ("hook", "retain_grad")}
    return any(s.op in NOOP_VIEWS and s.target in watched and s.target in shapes
               and shapes[s.target] == shapes.get(inputs_of(s)[0]) for s in program.steps)


def _zero_dim_promotion(program: Program, d: Divergence, shapes: Shapes) -> bool:
    at = _at(program, d)
    if d.kind != "dtype" or at is None:
        return False
    ins = [shapes[n] for n in inputs_of(at) if n in shapes]
    return any(s == () for s in ins) and any(s != () for s in ins)


def _empty_index_list(program: Program, d: Divergence, shapes: Shapes) -> bool:
    return bool(_steps(program, d, lambda s: s.op == "getitem_advanced"
                       and re.search(r"[\[,] ?\[\]", s.code.split("=", 1)[1]) is not None))


def _target_requires_grad(program: Program, d: Divergence, shapes: Shapes) -> bool:
    return d.kind == "error" and d.detail.startswith("minigrad: None") and bool(
        _steps(program, d, lambda s: s.op == "soft_margin_loss"))


KNOWN_DIVERGENCES: list[Known] = [
    Known("N1", "reshape/view/expand/squeeze/broadcast_to/transpose(d, d) to the same shape "
                "return the input itself (torch: a new view), flatten(d, d) a new tensor "
                "(torch: the input): hooks and retain_grad on the result act on another tensor",
          _noop_view_hooked),
    Known("N2", "a 0-d float64 tensor with a float32 tensor gives float64 (torch: float32)",
          _zero_dim_promotion),
    Known("N3", "indexing with an empty list x[[]] raises (numpy reads [] as float)",
          _empty_index_list),
    Known("N4", "soft_margin_loss accepts a target that requires grad (torch raises)",
          _target_requires_grad),
    Known("N5", "kl_div gives no gradient to its target (either log_target)",
          _tagged("kl_target_grad", kinds=GRADS)),
    Known("N6", "relu/leaky_relu backward masks with x > 0, zeroing the gradient at NaN "
                "inputs (torch passes it on), in first and second order",
          lambda p, d, sh: d.kind in GRADS and _nonfinite(p)
          and any(s.op in {"relu", "leaky_relu"} for s in p.steps)),
    Known("N7", "var/std backward gives NaN where torch gives -inf/inf, with an infinite input",
          lambda p, d, sh: d.kind in GRADS and _nonfinite(p)
          and any(s.op in {"var", "var_pop", "std"} for s in p.steps)),
    Known("N8", "view() of a layout torch cannot view (it raises: use reshape) succeeds",
          lambda p, d, sh: d.kind == "error" and d.op == "view"
          and d.detail.startswith("minigrad: None")),
    Known("N9", "losses of a float32 and a float64 operand: BCE with logits gives float64 "
                "(torch 2.13: the target's dtype); kl_div and cross_entropy with probabilities "
                "the input's dtype (torch promotes)",
          lambda p, d, sh: d.kind == "dtype" and d.op in {"binary_cross_entropy_with_logits",
                                                          "kl_div", "cross_entropy"}),
    Known("N10", "matmul of float32 and float64 promotes (torch raises: same dtype required; "
                 "on empty operands it returns one operand's dtype)",
          lambda p, d, sh: d.op.startswith("matmul") and (d.kind == "dtype" or (
              d.kind == "error" and d.detail.startswith("minigrad: None")
              and "dtype" in d.detail))),
]


def known(program: Program, d: Divergence, shapes: Shapes) -> Known | None:
    """The open bug that explains ``d``, if any."""
    return next((k for k in KNOWN_DIVERGENCES if k.match(program, d, shapes)), None)
