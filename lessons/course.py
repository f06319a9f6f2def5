"""Helpers the lessons share: smoke mode, and exercises that check the learner's answer.

Smoke mode (``MINIGRAD_SMOKE=1``, on by default when ``CI`` is set) shrinks data and step
counts so every lesson runs in seconds; without it the lessons run the full experiment.

Exercises. Each exercise cell of a lesson has an id such as ``"00-forward-error-cube"``; its
answer key lives in ``lessons/solutions/NN_<lesson>.py`` as an :class:`Exercise` in the dict
``EXERCISES`` (plus ``QUESTIONS``, the questionnaire's answers). The notebook never holds the
expected value: :func:`check` and :func:`check_function` compute it from the solutions module,
print "OK" or "Not yet" with a hint (a second failed try of the same exercise gives the second,
more specific hint), and never print or return it. :func:`result` hands later cells the
learner's answer when it passed, and the reference otherwise, saying so in one line.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np

SMOKE = os.environ.get("MINIGRAD_SMOKE", "1" if os.environ.get("CI") else "0") == "1"
SOLUTIONS = Path(__file__).resolve().parent / "solutions"
KINDS = ("predict", "derive", "implement", "bug")
EXERCISE_ID = re.compile(r"^(\d\d)-[a-z0-9]+(-[a-z0-9]+)*$")

Kind = Literal["predict", "derive", "implement", "bug"]


def pick(full: Any, smoke: Any) -> Any:
    """``full`` normally, ``smoke`` in smoke mode (e.g. ``epochs = pick(20, 2)``)."""
    return smoke if SMOKE else full


@dataclass(frozen=True)
class Exercise:
    """One exercise's answer key.

    kind: ``predict`` (write a number or a choice before the cell that reveals it), ``derive``
        (a gradient or formula written as code), ``implement`` (a function body checked against
        a reference on random inputs) or ``bug`` (find and fix one real mistake).
    task: one line saying what the learner does (listed in ``lessons/README.md``).
    hints: at least two, from gentle to specific; none of them gives the answer away.
    solution: the exercise cell's source with the blanks filled in (what CI runs as "solved").
    expected: for :func:`check`, computes the expected value from the notebook's inputs
        (the keyword arguments given to ``check``).
    reference: for :func:`check_function`, the reference implementation; it takes the same
        arguments as the learner's function, since :func:`result` hands it to later cells.
    make_inputs: for :func:`check_function`, draws one tuple of arguments from a numpy
        Generator; the learner's function and the reference are called on copies of it.
    trials: how many random inputs :func:`check_function` tries.
    rtol, atol: tolerances of the comparison, as in ``np.allclose``.
    same: an optional ``same(answer, expected)`` replacing the default comparison; it returns
        a bool, or ``(ok, why)`` where ``why`` says what is wrong without giving the answer.
    """

    kind: Kind
    task: str
    hints: tuple[str, ...]
    solution: str
    expected: Callable[..., Any] | None = None
    reference: Callable[..., Any] | None = None
    make_inputs: Callable[[np.random.Generator], tuple] | None = None
    trials: int = 5
    rtol: float = 1e-6
    atol: float = 1e-9
    same: Callable[[Any, Any], bool] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Exercise kind {self.kind!r} is not one of {KINDS}")
        if len(self.hints) < 2:
            raise ValueError(f"an Exercise needs at least two hints, got {len(self.hints)}")
        if (self.expected is None) == (self.reference is None):
            raise ValueError("an Exercise needs exactly one of expected= (for check) and "
                             "reference= (for check_function)")
        if self.reference is not None and self.make_inputs is None:
            raise ValueError("an Exercise with a reference= needs make_inputs= to draw its inputs")


_tries: dict[str, int] = {}
_passed: dict[str, bool] = {}
_modules: dict[str, ModuleType] = {}


def solutions_path(lesson: str) -> Path:
    """The solutions file of lesson ``lesson`` ("00" to "11")."""
    matches = sorted(SOLUTIONS.glob(f"{lesson}_*.py"))
    if len(matches) != 1:
        raise FileNotFoundError(f"expected one solutions file {SOLUTIONS}/{lesson}_*.py, found "
                                f"{[p.name for p in matches]}")
    return matches[0]


def solutions(lesson: str) -> ModuleType:
    """The solutions module of a lesson, imported by path (its name starts with a digit)."""
    if lesson not in _modules:
        path = solutions_path(lesson)
        spec = importlib.util.spec_from_file_location(f"solutions_{lesson}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[lesson] = module
    return _modules[lesson]


def exercise(exercise_id: str) -> Exercise:
    """The answer key of one exercise, looked up in its lesson's solutions module."""
    match = EXERCISE_ID.match(exercise_id)
    if not match:
        raise ValueError(f"exercise id {exercise_id!r} should look like '04-bce-gradient' "
                         "(the lesson's two digits, a dash, lowercase words joined by dashes)")
    found = solutions(match.group(1)).EXERCISES.get(exercise_id)
    if found is None:
        raise KeyError(f"no exercise {exercise_id!r} in {solutions_path(match.group(1)).name}")
    return found


def reset(exercise_id: str | None = None) -> None:
    """Forget the tries of one exercise (or of all): the next failure gives hint 1 again."""
    for store in (_tries, _passed):
        if exercise_id is None:
            store.clear()
        else:
            store.pop(exercise_id, None)


def _is_blank(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return np.asarray(value, dtype=float)


def _compare(answer: Any, expected: Any, ex: Exercise) -> tuple[bool, str]:
    """Whether ``answer`` matches ``expected``, and if not a sentence about the answer only."""
    if ex.same is not None:
        verdict = ex.same(answer, expected)
        return verdict if isinstance(verdict, tuple) else (bool(verdict), "")
    if isinstance(expected, str):
        ok = isinstance(answer, str) and answer.strip().lower() == expected.strip().lower()
        return ok, "" if ok or isinstance(answer, str) else f"the answer should be a string, got {answer!r}"
    if isinstance(expected, (bool, np.bool_)):
        return answer is not None and bool(answer) == bool(expected) and isinstance(
            answer, (bool, np.bool_)), ""
    try:
        got, want = _as_array(answer), _as_array(expected)
    except (TypeError, ValueError):
        return False, f"the answer should be a number or an array, got {type(answer).__name__}"
    if got.shape != want.shape:
        return False, f"your answer has shape {got.shape}, which is not the right shape"
    close = np.isclose(got, want, rtol=ex.rtol, atol=ex.atol)
    if close.all():
        return True, ""
    if got.ndim == 0:
        return False, f"your answer {got.item():.6g} is not right"
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    return False, (f"{int((~close).sum())} of {close.size} elements are off, the first at index "
                   f"{index} (yours: {got[index]:.6g})")


def _report(exercise_id: str, ex: Exercise, ok: bool, why: str) -> bool:
    """Print OK, or Not yet with the hint this try has earned (hint 1, then hint 2, ...)."""
    if ok:
        _passed[exercise_id] = True
        print(f"OK: {exercise_id}")
        return True
    _passed[exercise_id] = False
    _tries[exercise_id] = _tries.get(exercise_id, 0) + 1
    k = min(_tries[exercise_id], len(ex.hints))
    print(f"Not yet: {exercise_id}: {why}. Hint {k} of {len(ex.hints)}: {ex.hints[k - 1]}")
    return False


def check(exercise_id: str, answer: Any, *legacy: Any, **inputs: Any) -> bool:
    """Check a value answer: print "OK: <id>" or "Not yet: <id> ..." with a hint; never the answer.

    ``inputs`` are the notebook's values the expected answer depends on; the solutions module
    computes the expected value from them. A blank answer (``...`` or ``None``) counts as a try.

    ``legacy`` is the old inline form ``check(name, answer, expected, hint)`` still used by
    lessons not yet converted to exercises; it goes once every lesson is converted.
    """
    if legacy or not EXERCISE_ID.match(exercise_id):
        return _legacy_check(exercise_id, answer, *legacy, **inputs)
    ex = exercise(exercise_id)
    if ex.expected is None:
        raise TypeError(f"{exercise_id} checks a function: call check_function({exercise_id!r}, fn)")
    if _is_blank(answer):
        return _report(exercise_id, ex, False, "the blank (...) is still empty")
    return _report(exercise_id, ex, *_compare(answer, ex.expected(**inputs), ex))


def check_function(exercise_id: str, fn: Callable[..., Any]) -> bool:
    """Check a learner's function against the reference on a few random inputs.

    The inputs are drawn by the exercise's ``make_inputs`` from a generator seeded by the id
    (the same inputs on every try). A function that raises ``NotImplementedError`` is a blank.
    On a mismatch it reports which trial and element were off and the learner's value there.
    """
    ex = exercise(exercise_id)
    if ex.reference is None:
        raise TypeError(f"{exercise_id} checks a value: call check({exercise_id!r}, answer, ...)")
    if not callable(fn):
        return _report(exercise_id, ex, False, f"expected a function, got {type(fn).__name__}")
    rng = np.random.default_rng(zlib.crc32(exercise_id.encode()))
    for trial in range(ex.trials):
        args = ex.make_inputs(rng)
        want = ex.reference(*copy.deepcopy(args))
        try:
            got = fn(*copy.deepcopy(args))
        except NotImplementedError:
            return _report(exercise_id, ex, False, "the function body is still a blank "
                                                   "(it raises NotImplementedError)")
        except Exception as error:  # the learner's code may fail in any way; say how
            return _report(exercise_id, ex, False,
                           f"on random input {trial + 1} your function raised "
                           f"{type(error).__name__}: {error}")
        ok, why = _compare(got, want, ex)
        if not ok:
            return _report(exercise_id, ex, False, f"on random input {trial + 1} ({_describe(args)}) "
                                                   f"{why or 'the result is not right'}")
    return _report(exercise_id, ex, True, "")


def _describe(args: tuple) -> str:
    """The arguments of a trial in a few words: numbers as they are, arrays by their shape."""
    words = []
    for arg in args:
        if isinstance(arg, (int, float, np.number)):
            words.append(f"{arg:.4g}")
        elif hasattr(arg, "shape"):
            words.append(f"shape {tuple(arg.shape)}")
        else:
            words.append(getattr(arg, "__name__", type(arg).__name__))
    return "arguments: " + ", ".join(words)


def result(exercise_id: str, answer: Any, **inputs: Any) -> Any:
    """The learner's ``answer`` if it passed its check, else the reference (saying so in one line).

    Later cells use this so a lesson still runs top to bottom with its blanks left empty. For a
    function exercise the reference is the reference function; for a value exercise it is the
    expected value computed from ``inputs``.
    """
    if _passed.get(exercise_id):
        return answer
    ex = exercise(exercise_id)
    print(f"(using the reference value for {exercise_id}: your answer has not passed yet)")
    return ex.reference if ex.reference is not None else ex.expected(**inputs)


def _legacy_check(name: str, answer: Any, expected: Any, hint: str, rtol: float = 1e-4,
                  atol: float = 1e-6) -> bool:
    try:
        got, want = _as_array(answer), _as_array(expected)
        ok = got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        ok = False
    print(f"OK: {name}" if ok else f"Not yet: {name}. Hint: {hint}")
    return ok
