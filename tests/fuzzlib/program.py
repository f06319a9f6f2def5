"""Programs as Python source, run the same way in minigrad and in PyTorch, and compared.

A program is a list of statements (``p0 = leaf(...)``, ``v3 = F.elu(v1 + v2, 1.3)``,
``hook(v3, 'v3', -1.0)``) written once, against names that each library's namespace binds:
``lib`` (``minigrad`` or ``torch``), ``F`` (its ``nn.functional``), ``f32``/``f64``, ``grad``
and a few helpers that build leaves and constants from literal values. Running the same text
in both namespaces is what makes a divergence reproducible: the reproducer is the program.

Each run has up to three phases, each compared between the libraries:

1. forward: every statement's value (shape, dtype, numbers), or the statement that raised;
2. ``out.backward(G)``: the leaves' ``.grad``, the retained ``.grad`` of intermediates and how
   many times each hook ran;
3. (some programs) second order: ``g = grad(out, leaves, G, create_graph=True)``, then
   ``sum_i (g_i * V_i).sum()`` backpropagated, i.e. the Hessian-vector products ``H V``.
   These programs hook only leaves, and hook call counts are not compared here: whether the
   double backward passes through an intermediate depends on what each op's backward saves
   (torch's reciprocal saves its output, so a hook on ``1 / x`` runs again), not on the math.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tests.op_registry import ALL

# float64 values agree to rounding; float32 ones are judged against torch's own float32 error,
# with an absolute floor of ~1000 float32 ulps at unit scale: a second derivative that cancels
# to 0 (x / x) keeps rounding errors of the size of its terms, which torch may happen to avoid.
RTOL64, ATOL64 = 1e-7, 1e-9
RTOL32, ATOL32 = 1e-4, 1e-4
F32_ERROR_FACTOR = 16.0


@dataclass(frozen=True)
class Step:
    """One statement. ``target`` is the name it binds (None for hooks and retain_grad)."""

    code: str
    op: str
    target: str | None = None
    tags: frozenset[str] = frozenset()


@dataclass
class Program:
    seed: int
    steps: list[Step]
    output: str
    grad_output: np.ndarray  # float64 values of G, the output's shape
    probes: dict[str, np.ndarray] = field(default_factory=dict)  # V per leaf: second order
    expect_error: bool = False  # the last statement raised in torch when it was generated

    @property
    def leaves(self) -> list[str]:
        return [s.target for s in self.steps if s.op == "leaf"]

    @property
    def retained(self) -> list[str]:
        return [s.code.split(".")[0] for s in self.steps if s.op == "retain_grad"]

    @property
    def ops(self) -> list[str]:
        return [s.op for s in self.steps if s.op not in ("leaf", "hook", "retain_grad")]

    def body(self) -> str:
        return "\n".join(s.code for s in self.steps)

    def source(self, lib: str) -> str:
        """A standalone script that runs this program in ``lib`` and prints what is compared."""
        lines = [
            f"# fuzz program seed={self.seed}, run in {lib}",
            "from tests.fuzzlib.program import namespace",
            f"globals().update(namespace({lib!r}))",
            self.body(),
        ]
        if not self.expect_error:
            lines += [
                f"out = {self.output}",
                f"G = const({literal(self.grad_output)}, {self.grad_output.shape}, out.dtype)",
            ]
            if self.probes:
                leaves = ", ".join(self.leaves)
                probes = ", ".join(f"const({literal(v)}, {v.shape}, {k}.dtype)"
                                   for k, v in self.probes.items())
                lines += [
                    f"gs = grad([out], [{leaves}], [G], create_graph=True, allow_unused=True)",
                    f"s = sum((g * v).sum() for g, v in zip(gs, [{probes}]) if g is not None)",
                    "s.backward()  # second order: each leaf's .grad is H V",
                ]
            else:
                lines.append("out.backward(G)")
            names = self.leaves + self.retained
            lines.append(f"print(out, [{', '.join(n + '.grad' for n in names)}], HOOKS)")
        return "\n".join(lines)


def literal(a: np.ndarray) -> str:
    """Exact Python source for the values of ``a`` (repr of a float round-trips)."""
    return repr(np.asarray(a).ravel().tolist())


def _library(lib: str) -> tuple[Any, Any, Any, Any]:
    if lib == "minigrad":
        import minigrad as mg
        import minigrad.nn.functional as F

        return mg, F, mg.grad, mg.from_numpy
    import torch
    import torch.nn.functional as F

    return torch, F, torch.autograd.grad, torch.from_numpy


_REGISTRY = {s.name: s for s in ALL}


def namespace(lib: str, shadow64: bool = False) -> dict[str, Any]:
    """The names a program's statements use, bound to ``lib`` ("minigrad" or "torch").

    ``shadow64`` runs a float32 program in float64 (``f32`` means float64), to measure how far
    torch's float32 results are from exact ones.
    """
    mod, F, grad_fn, from_numpy = _library(lib)
    f32 = mod.float64 if shadow64 else mod.float32
    np_dtype = {mod.float32: np.float32, mod.float64: np.float64}
    hooks: dict[str, int] = {}

    def leaf(values: list, shape: tuple, dt: Any, layout: str = "c") -> Any:
        """A leaf with ``requires_grad``; layout "t" stores it transposed, "s" with a step."""
        arr = np.array(values, dtype=np.float64).reshape(shape).astype(np_dtype[dt])
        if layout == "t" and arr.ndim >= 2:
            arr = np.ascontiguousarray(arr.T).T
        elif layout == "s" and arr.ndim >= 1:
            arr = np.repeat(arr, 2, axis=-1)[..., ::2]
        t = from_numpy(arr)
        t.requires_grad_(True)
        return t

    def const(values: list, shape: tuple, dt: Any) -> Any:
        return mod.tensor(np.array(values, dtype=np.float64).reshape(shape), dtype=dt)

    def ints(values: list, shape: tuple) -> Any:
        return mod.tensor(np.array(values, dtype=np.int64).reshape(shape))

    def bools(values: list, shape: tuple) -> Any:
        return mod.tensor(np.array(values, dtype=bool).reshape(shape))

    def hook(t: Any, name: str, factor: float) -> None:
        """Count the calls of a hook on ``t`` that scales its gradient by ``factor``."""

        def h(g: Any) -> Any:
            hooks[name] = hooks.get(name, 0) + 1
            return g * factor

        t.register_hook(h)

    regs = {name: (s.fn if lib == "minigrad" else s.torch_fn) for name, s in _REGISTRY.items()}
    return {"lib": mod, "F": F, "grad": grad_fn, "f32": f32, "f64": mod.float64, "np": np,
            "leaf": leaf, "const": const, "ints": ints, "bools": bools, "hook": hook,
            "HOOKS": hooks, "REG": regs, "nan": math.nan, "inf": math.inf}


# ---------------------------------------------------------------------------------- running
Snapshot = tuple[tuple[int, ...], str, np.ndarray]


def snapshot(t: Any) -> Snapshot | None:
    """(shape, dtype name, float64 copy of the values) of a tensor of either library."""
    if t is None:
        return None
    data = t.detach().numpy() if type(t).__module__.startswith("torch") else t.data
    return tuple(data.shape), str(t.dtype).replace("torch.", ""), np.array(data, dtype=np.float64)


@dataclass
class Result:
    values: dict[str, Snapshot] = field(default_factory=dict)
    error: tuple[str, int, str] | None = None  # (phase, statement index, message)
    grads: dict[str, Snapshot | None] = field(default_factory=dict)
    hooks: dict[str, int] = field(default_factory=dict)
    grads2: dict[str, Snapshot | None] = field(default_factory=dict)


def _forward(program: Program, ns: dict, res: Result, record: bool) -> bool:
    for i, step in enumerate(program.steps):
        try:
            exec(step.code, ns)
        except Exception as e:  # noqa: BLE001 - any error is an outcome to compare
            res.error = ("forward", i, f"{type(e).__name__}: {e}")
            return False
        if record and step.target is not None:
            value = ns[step.target]
            if not isinstance(value, tuple):
                res.values[step.target] = snapshot(value)
    return True


def run(program: Program, lib: str, shadow64: bool = False) -> Result:
    """Run all phases of ``program`` in ``lib``; an error ends the run and is recorded."""
    res = Result()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ns = namespace(lib, shadow64)
        if not _forward(program, ns, res, record=True) or program.expect_error:
            return res
        phase = "backward"
        try:
            out = ns[program.output]
            g = ns["const"](program.grad_output, program.grad_output.shape, out.dtype)
            out.backward(g)
            res.grads = {n: snapshot(ns[n].grad) for n in program.leaves + program.retained}
            res.hooks = dict(ns["HOOKS"])
            if program.probes:
                phase = "second order"
                ns = namespace(lib, shadow64)
                if not _forward(program, ns, res, record=False):
                    return res
                out, leaves = ns[program.output], [ns[n] for n in program.leaves]
                g = ns["const"](program.grad_output, program.grad_output.shape, out.dtype)
                gs = ns["grad"]([out], leaves, [g], create_graph=True, allow_unused=True)
                terms = [(gi * ns["const"](program.probes[n], gi.shape, gi.dtype)).sum()
                         for n, gi in zip(program.leaves, gs) if gi is not None]
                s = sum(terms[1:], terms[0]) if terms else None
                if s is not None and s.requires_grad:
                    s.backward()
                res.grads2 = {n: snapshot(ns[n].grad) for n in program.leaves}
        except Exception as e:  # noqa: BLE001
            res.error = (phase, len(program.steps), f"{type(e).__name__}: {e}")
    return res


# ------------------------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Divergence:
    kind: str  # error | shape | dtype | value | grad | grad_none | hooks | grad2
    where: str  # the statement's target or the leaf/retained name
    op: str  # the op of the statement at fault ("" for gradients: the whole program is)
    detail: str

    def signature(self, program: Program) -> str:
        if self.op:
            return f"{self.kind}:{self.op}"
        return f"{self.kind}:{'+'.join(sorted(set(program.ops)))}"


def _mismatch(got: np.ndarray, ref: np.ndarray, err32: np.ndarray | None) -> str | None:
    """Why the finite values of ``got`` are not close to ``ref`` (None if they are).

    float64: |got - ref| <= ATOL64 * scale + RTOL64 * |ref|, scale = max(1, max |ref|).
    float32 (``err32`` = |torch float32 - torch float64|, ``ref`` the float64 run): minigrad's
    float32 may be off by up to F32_ERROR_FACTOR times torch's own float32 error, plus
    ATOL32 * scale + RTOL32 * |ref|, so ill-conditioned chains do not read as bugs.
    """
    if got.shape != ref.shape:
        return f"shape {got.shape} vs {ref.shape}"
    ok = np.isfinite(got) & np.isfinite(ref)
    if not ok.any():
        return None
    g, r = got[ok], ref[ok]
    scale = max(1.0, float(np.max(np.abs(r))))
    if err32 is None:
        bound = ATOL64 * scale + RTOL64 * np.abs(r)
    else:
        e = np.where(np.isfinite(err32), err32, 0.0)[ok]
        bound = F32_ERROR_FACTOR * e + ATOL32 * scale + RTOL32 * np.abs(r)
    bad = np.abs(g - r) > bound
    if bad.any():
        k = int(np.argmax(bad))
        return f"{int(bad.sum())}/{bad.size} elements differ, e.g. {g[k]!r} vs {r[k]!r}"
    return None


def _nonfinite_mismatch(got: np.ndarray, ref: np.ndarray, ref64: np.ndarray | None) -> str | None:
    """NaN and +-inf must sit at the same places as in torch, except where torch's float32 and
    float64 runs disagree on them (torch float32 gives gelu(inf) = NaN, float64 inf)."""
    def kind(a: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(a), 2.0, np.where(np.isinf(a), np.sign(a), 0.0))

    k_got, k_ref = kind(got), kind(ref)
    differ = k_got != k_ref
    if ref64 is not None:
        differ &= kind(ref64) == k_ref
    if differ.any():
        at = tuple(np.argwhere(differ)[0])
        return f"NaN/inf at {list(map(int, at))}: {got[at]} vs {ref[at]}"
    return None


def _compare_snaps(kind: str, name: str, op: str, a: Snapshot | None, b: Snapshot | None,
                   b64: Snapshot | None, none_is_zero: bool, loose: bool = False) -> Divergence | None:
    """``loose``: a float32 program whose float64 shadow run took another path, judged
    against torch's float32 run to float32's tolerance (values cast to float64 included)."""
    if a is None or b is None:
        if a is None and b is None:
            return None
        if not none_is_zero:
            return Divergence("grad_none", name, op, f"minigrad {'None' if a is None else a[0]}, "
                              f"torch {'None' if b is None else b[0]}")
        a = a or (b[0], b[1], np.zeros(b[0]))
        b = b or (a[0], a[1], np.zeros(a[0]))
        b64 = b64 or (b[0], b[1], np.zeros(b[0]))
    if a[0] != b[0]:
        return Divergence("shape", name, op, f"minigrad {a[0]}, torch {b[0]}")
    if a[1] != b[1]:
        return Divergence("dtype", name, op, f"minigrad {a[1]}, torch {b[1]}")
    why = _nonfinite_mismatch(a[2], b[2], None if b64 is None else b64[2])
    if why is None and b64 is None:
        why = _mismatch(a[2], b[2], np.zeros(b[0]) if loose else None)
    elif why is None:
        why = _mismatch(a[2], b64[2], np.abs(b[2] - b64[2]))
    return None if why is None else Divergence(kind, name, op, why)


def compare(program: Program, mine: Result, ref: Result, ref64: Result | None) -> Divergence | None:
    """The first way ``mine`` (minigrad) differs from ``ref`` (torch); None if they agree.

    ``ref64`` is torch's float64 shadow run of a float32 program (None for float64 ones).
    """
    ops = {s.target: s.op for s in program.steps if s.target}
    loose = ref64 is not None and ref64.error != ref.error
    if loose:
        ref64 = None  # float64 took another path (an error only float32 hits): judge by float32
    for name, b in ref.values.items():
        a = mine.values.get(name)
        if a is None:
            break
        d = _compare_snaps("value", name, ops[name], a, b,
                           ref64.values.get(name) if ref64 else None, none_is_zero=False,
                           loose=loose)
        if d:
            return d
    if (mine.error is None) != (ref.error is None) or (
            mine.error and ref.error and mine.error[:2] != ref.error[:2]):
        where = (mine.error or ref.error)
        op = program.steps[where[1]].op if where[1] < len(program.steps) else where[0]
        return Divergence("error", f"{where[0]}@{where[1]}", op,
                          f"minigrad: {mine.error and mine.error[2]} | torch: {ref.error and ref.error[2]}")
    for name, b in ref.grads.items():
        d = _compare_snaps("grad", name, "", mine.grads.get(name), b,
                           ref64.grads.get(name) if ref64 else None, none_is_zero=False,
                           loose=loose)
        if d:
            return d
    if mine.hooks != ref.hooks:
        return Divergence("hooks", "", "", f"minigrad {mine.hooks}, torch {ref.hooks}")
    for name, b in ref.grads2.items():
        d = _compare_snaps("grad2", name, "", mine.grads2.get(name), b,
                           ref64.grads2.get(name) if ref64 else None, none_is_zero=True,
                           loose=loose)
        if d:
            return Divergence("grad2", d.where, "", d.detail)
    return None


def is_float32(program: Program) -> bool:
    return "f32" in program.body()


def check(program: Program) -> Divergence | None:
    """Run ``program`` in both libraries (and torch's float64 shadow) and compare."""
    ref64 = run(program, "torch", shadow64=True) if is_float32(program) else None
    return compare(program, run(program, "minigrad"), run(program, "torch"), ref64)


# ------------------------------------------------------------------------------- shrinking
def _uses(step: Step, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", step.code.split("=", 1)[-1]
                     if step.target else step.code) is not None


def _prune(program: Program, output: str) -> Program:
    """Keep only the statements ``output`` depends on (and the hooks on those)."""
    needed = {output}
    kept: list[Step] = []
    for step in reversed(program.steps):
        if step.target in needed or (step.target is None and any(_uses(step, n) for n in needed)):
            kept.append(step)
            needed.update(n for n in _names(program) if _uses(step, n))
    kept.reverse()
    probes = {k: v for k, v in program.probes.items() if k in needed}
    if program.probes and not probes:
        return replace(program, steps=kept, output=output, probes={})
    return replace(program, steps=kept, output=output, probes=probes)


def _names(program: Program) -> list[str]:
    return [s.target for s in program.steps if s.target]


def shrink(program: Program, divergence: Divergence, budget: int = 200) -> tuple[Program, Divergence]:
    """Drop statements while a divergence of the same kind persists (greedy, ``budget`` runs)."""
    best, best_d = program, divergence
    runs = 0

    def attempt(candidate: Program) -> bool:
        nonlocal best, best_d, runs
        runs += 1
        try:
            if validate(candidate) is not None:
                return False
            d = check(candidate)
        except Exception:  # noqa: BLE001 - a broken candidate is just not smaller
            return False
        if d is not None and d.kind == best_d.kind:
            best, best_d = candidate, d
            return True
        return False

    changed = True
    while changed and runs < budget:
        changed = False
        if divergence.kind in ("value", "shape", "dtype", "error") and best_d.where in _names(best):
            if best_d.where != best.output or best.expect_error:
                target = best_d.where
                out_step = next(s for s in best.steps if s.target == target)
                idx = best.steps.index(out_step)
                cand = _prune(replace(best, steps=best.steps[:idx + 1], expect_error=False),
                              target)
                cand = replace(cand, grad_output=np.asarray(
                    np.random.default_rng(0).standard_normal(_shape_of(cand, target))))
                if attempt(cand):
                    changed = True
                    continue
        if best.probes and attempt(replace(best, probes={})):
            changed = True
            continue
        for i, step in enumerate(best.steps):
            if runs >= budget:
                break
            if step.op in ("hook", "retain_grad"):
                if attempt(replace(best, steps=best.steps[:i] + best.steps[i + 1:])):
                    changed = True
                    break
                continue
            if step.target is None or step.op == "leaf" or step.target == best.output:
                continue
            # bypass the statement: its users read one of its inputs of the same shape instead
            for src in _same_shape_inputs(best, step):
                steps = [_rename(s, step.target, src) for s in best.steps if s is not step]
                if attempt(_prune(replace(best, steps=steps), best.output)):
                    changed = True
                    break
            if changed:
                break
        if not changed:
            for name in _names(best):
                if name != best.output and runs < budget and name not in best.leaves:
                    cand = _prune(best, name)
                    try:
                        cand = replace(cand, grad_output=np.random.default_rng(0).standard_normal(
                            _shape_of(cand, name)))
                    except Exception:  # noqa: BLE001
                        continue
                    if attempt(cand):
                        changed = True
                        break
    return best, best_d


def _shape_of(program: Program, name: str) -> tuple[int, ...]:
    res = run(replace(program, expect_error=True), "torch")
    return res.values[name][0] if name in res.values else ()


def _same_shape_inputs(program: Program, step: Step) -> list[str]:
    shapes = run(replace(program, expect_error=True), "torch").values
    mine = shapes.get(step.target)
    if mine is None:
        return []
    leaves = {s.target: s for s in program.steps if s.op == "leaf"}
    out = []
    for n in _names(program):
        if n != step.target and _uses(step, n):
            shape = shapes[n][0] if n in shapes else _leaf_shape(leaves.get(n))
            if shape == mine[0]:
                out.append(n)
    return out


def _leaf_shape(step: Step | None) -> tuple[int, ...] | None:
    if step is None:
        return None
    call = ast.parse(step.code).body[0].value
    return tuple(ast.literal_eval(call.args[1]))


def _rename(step: Step, old: str, new: str) -> Step:
    if step.target is not None:
        lhs, rhs = step.code.split("=", 1)
        return replace(step, code=lhs + "=" + re.sub(rf"\b{old}\b", new, rhs))
    return replace(step, code=re.sub(rf"\b{old}\b", new, step.code))


# ------------------------------------------------------------------------------- validating
KINK_GAP = 1e-3


def validate(program: Program) -> str | None:
    """Why ``program`` is not a fair test (None if it is): torch's values or gradients are not
    finite where the program did not ask for it, or too large to compare in float32."""
    res = run(program, "torch")
    if program.expect_error:
        return None if res.error else "expected an error"
    if res.error:
        return f"torch raised: {res.error}"
    finite = "nonfinite" not in {t for s in program.steps for t in s.tags}
    for snap in [*res.values.values(), *res.grads.values(), *res.grads2.values()]:
        if snap is None:
            continue
        v = snap[2]
        if finite and not np.all(np.isfinite(v)):
            return "non-finite values"
        if v.size and np.nanmax(np.abs(np.where(np.isinf(v), 0, v))) > 1e5:
            return "values too large"
    return None


def describe(program: Program, d: Divergence) -> str:
    """The report of one divergence: what differs and both reproducers."""
    return (f"seed {program.seed}: {d.kind} at {d.where} ({d.op or 'program'}): {d.detail}\n"
            f"--- minigrad ---\n{program.source('minigrad')}\n"
            f"--- torch ---\n{program.source('torch')}\n")


__all__ = ["Divergence", "Program", "Result", "Step", "check", "compare", "describe", "literal",
           "namespace", "run", "shrink", "validate"]
