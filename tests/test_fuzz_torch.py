"""Random programs of minigrad ops agree with PyTorch: values, gradients, hooks, second order.

The fixed budget here (CHUNKS x CHUNK seeded programs, ~30 s on one core) runs in `make test`;
`make fuzz` runs thousands more. A divergence not in KNOWN_DIVERGENCES fails with its shrunk
reproducer (the program as Python source for both libraries). See docs/fuzzing.md.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

import minigrad as mg  # noqa: E402
from tests.fuzzlib import known as known_module  # noqa: E402
from tests.fuzzlib.campaign import campaign, classify  # noqa: E402
from tests.fuzzlib.known import KNOWN_DIVERGENCES, Known, tagged  # noqa: E402
from tests.fuzzlib.ops import generate  # noqa: E402
from tests.fuzzlib.program import (  # noqa: E402
    Program,
    Step,
    check,
    literal,
    run,
    shrink,
)

CHUNK, CHUNKS = 100, 6


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_programs_agree_with_torch(chunk):
    summary = campaign(range(chunk * CHUNK, (chunk + 1) * CHUNK))
    assert summary.programs == CHUNK
    assert not summary.new, summary.text()


def _program(*codes: str, second_order: bool = False) -> Program:
    """A hand-written float64 program over the leaf p0 = [[0.3, -1.2, 0.8], [1.5, -0.4, 2.0]]."""
    values = np.array([[0.3, -1.2, 0.8], [1.5, -0.4, 2.0]])
    steps = [Step(f"p0 = leaf({literal(values)}, (2, 3), f64, 't')", "leaf", "p0")]
    for code in codes:
        target = code.split(" = ")[0] if " = " in code else None
        methods = re.findall(r"\.(\w+)\(", code)
        op = "hook" if target is None else methods[0] if methods else "binary"
        steps.append(Step(code, op, target))
    out = [s.target for s in steps if s.target][-1]
    values = run(Program(0, steps, out, np.zeros(()), expect_error=True), "torch").values
    shape = values[out][0] if out in values else ()
    rng = np.random.default_rng(0)
    probes = {"p0": rng.standard_normal((2, 3))} if second_order else {}
    return Program(0, steps, out, rng.standard_normal(shape), probes)


def _constant_grad_sin(self):
    """sin with the right values and a zero gradient."""
    return self * 0.0 + mg.tensor(np.sin(self.data))


def test_agreeing_program_has_no_divergence():
    program = _program("v1 = p0.sin()", "hook(v1, 'v1', -1.0)", "v2 = (v1 * p0).sum(1)",
                       second_order=True)
    assert check(program) is None


def test_wrong_gradient_is_a_divergence(monkeypatch):
    monkeypatch.setattr(mg.Tensor, "sin", _constant_grad_sin)
    d = check(_program("v1 = p0.sin()", "v2 = v1.exp()"))
    assert d is not None and (d.kind, d.where) == ("grad", "p0")


def test_wrong_second_order_is_a_divergence(monkeypatch):
    program = _program("v1 = p0.square()", "v2 = v1.sin()", second_order=True)
    assert check(program) is None
    # x^2 as 2 x x0 - x0^2 (x0 = x detached): right value and first derivative, no second
    monkeypatch.setattr(mg.Tensor, "square",
                        lambda self: self.detach() * self * 2.0 - self.detach() * self.detach())
    d = check(program)
    assert d is not None and (d.kind, d.where) == ("grad2", "p0")


def test_wrong_value_names_the_statement(monkeypatch):
    monkeypatch.setattr(mg.Tensor, "tanh", lambda self: self.sigmoid())
    d = check(_program("v1 = p0 * 2.0", "v2 = v1.tanh()", "v3 = v2.sum()"))
    assert d is not None and (d.kind, d.where, d.op) == ("value", "v2", "tanh")


def test_hook_counts_are_compared(monkeypatch):
    program = _program("v1 = p0.exp()", "hook(v1, 'v1', 2.0)", "v2 = v1.sum()")
    assert check(program) is None
    monkeypatch.setattr(mg.Tensor, "register_hook", lambda self, hook: None)
    d = check(program)
    assert d is not None and d.kind in ("grad", "hooks")


def test_an_error_in_one_library_only_is_a_divergence(monkeypatch):
    program = _program("v1 = p0 @ p0")  # (2, 3) @ (2, 3): both raise
    program.expect_error = True
    assert check(program) is None
    monkeypatch.setattr(mg.Tensor, "__matmul__", lambda self, other: self * other)
    d = check(program)
    assert d is not None and d.kind == "error" and "torch: RuntimeError" in d.detail


def test_shrinker_keeps_only_the_statements_at_fault(monkeypatch):
    monkeypatch.setattr(mg.Tensor, "sin", _constant_grad_sin)
    program = _program("v1 = p0.exp()", "v2 = p0.sin()", "hook(v2, 'v2', 2.0)", "v3 = v2.cos()",
                       "v4 = v1 * v3", "v5 = v4.sum(0)", second_order=True)
    d = check(program)
    assert d is not None
    small, small_d = shrink(program, d)
    assert small_d.kind == d.kind
    assert small.ops == ["sin"]
    assert check(small) is not None


def test_generation_is_deterministic_and_varied():
    programs = [generate(seed) for seed in range(20)]
    assert [p.body() for p in programs] == [generate(seed).body() for seed in range(20)]
    assert all(1 <= len(p.leaves) and 3 <= len(p.ops) + p.expect_error for p in programs)
    assert len({p.body() for p in programs}) == 20
    body = "\n".join(p.body() for p in programs)
    for feature in ("f32", "f64", "hook(", "retain_grad", "REG[", "'t')", "'s')"):
        assert feature in body, feature


def test_reproducer_runs_standalone_in_both_libraries():
    program = _program("v1 = p0.sin()", "hook(v1, 'v1', 2.0)", "v2 = v1.sum(0)")
    for lib in ("minigrad", "torch"):
        source = program.source(lib)
        assert f"namespace({lib!r})" in source
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(source, {})
        assert "{'v1': 1}" in out.getvalue()


def test_known_divergences_are_deliberate_and_documented():
    """Open bugs are fixed, not tolerated: what stays is kept on purpose, with its reason
    in docs/fuzzing.md under its name."""
    docs = (Path(__file__).parents[1] / "docs" / "fuzzing.md").read_text()
    for entry in KNOWN_DIVERGENCES:
        assert re.fullmatch(r"B\d\d(-B\d\d)?|N\d+", entry.bug), entry.bug
        assert entry.deliberate and entry.summary, entry.bug
        assert f"**{entry.bug}**" in docs, entry.bug


def test_classify_matches_only_its_entry(monkeypatch):
    """A divergence at a statement tagged for an entry is that entry's; the same divergence
    at an untagged statement is new."""
    entry = Known("N0", "sin's gradient (test entry)", tagged("sin_probe", kinds=("grad",)))
    monkeypatch.setattr(known_module, "KNOWN_DIVERGENCES", [entry])
    monkeypatch.setattr(mg.Tensor, "sin", _constant_grad_sin)
    program = _program("v1 = p0.sin()", "v2 = v1.exp()")
    plain = program.steps[1]
    program.steps[1] = Step(plain.code, "sin", "v1", frozenset({"sin_probe"}))
    d = check(program)
    assert d is not None and d.kind == "grad"
    assert classify(program, d) is entry
    untagged = Program(0, [program.steps[0], plain, *program.steps[2:]], program.output,
                       program.grad_output)
    assert classify(untagged, d) is None
