"""The course's exercises: every exercise cell of a learner notebook has its answer key in the
lesson's solutions file (and the other way round), is blank rather than solved, and
``course.check`` gives progressive hints without ever revealing the expected value."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from tests.lesson_notebooks import BLANKS, LESSONS, SOURCES, exercise_cells, load_course

course = load_course()


def _twin(source):
    jupytext = pytest.importorskip("jupytext")
    return jupytext.read(source)


def _squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_exercise_ids_match_the_solutions_file(source):
    notebook = _twin(source)
    ids = [exercise_id for _, exercise_id in exercise_cells(notebook)]
    key = course.solutions(source.name[:2])
    assert len(ids) == len(set(ids)), f"{source.name} repeats an exercise id: {ids}"
    assert sorted(ids) == sorted(key.EXERCISES), (
        f"{source.name}'s exercise ids {sorted(ids)} differ from those in "
        f"{course.solutions_path(source.name[:2]).name}: {sorted(key.EXERCISES)}")
    assert len(ids) >= 3, f"{source.name} has {len(ids)} exercises; each lesson needs at least 3"
    for exercise_id in ids:
        assert exercise_id.startswith(source.name[:2] + "-"), exercise_id


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_questionnaire_is_in_the_notebook_and_answered(source):
    notebook = _twin(source)
    questions = course.solutions(source.name[:2]).QUESTIONS
    assert len(questions) >= 5, f"{source.name}: {len(questions)} questionnaire answers, need 5"
    prose = [c.source for c in notebook.cells
             if c.cell_type == "markdown" and "## Questionnaire" in c.source]
    assert len(prose) == 1, f"{source.name} needs one markdown cell with a '## Questionnaire' heading"
    numbered = re.findall(r"^\d+\. (.+)$", prose[0], flags=re.M)
    assert [_squeeze(q) for q in numbered] == [_squeeze(q) for q in questions], (
        f"{source.name}'s questionnaire and the QUESTIONS of its solutions file differ")
    assert all(answer.strip() for answer in questions.values())


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_readme_lists_the_lessons_exercises_by_kind(source):
    readme = (LESSONS / "README.md").read_text()
    table = readme[readme.index("## Exercises by lesson"):readme.index("## The lessons")]
    lesson = source.name[:2]
    rows = [line for line in table.splitlines() if line.startswith(f"| {lesson} |")]
    assert len(rows) == 1, f"lessons/README.md needs one row '| {lesson} | ...' in its exercise table"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    for exercise_id, ex in course.solutions(lesson).EXERCISES.items():
        assert f"`{exercise_id}`" in cells[1 + course.KINDS.index(ex.kind)], (
            f"lessons/README.md should list `{exercise_id}` under {ex.kind} in lesson {lesson}'s row")


def test_at_least_45_exercises_of_every_kind():
    exercises = {}
    for source in SOURCES:
        exercises.update(course.solutions(source.name[:2]).EXERCISES)
    assert len(exercises) >= 45, f"{len(exercises)} exercises in the course, need at least 45"
    assert {e.kind for e in exercises.values()} == set(course.KINDS)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_learner_cells_hold_blanks_not_their_solutions(source):
    notebook = _twin(source)
    for i, exercise_id in exercise_cells(notebook):
        cell = notebook.cells[i].source
        ex = course.exercise(exercise_id)
        call = "check_function(" if ex.reference is not None else "check("
        assert f'{call}"{exercise_id}"' in cell, f"{exercise_id}'s cell must call {call}\"{exercise_id}\""
        learner_lines = {line.rstrip() for line in cell.splitlines()}
        answer_lines = [line.rstrip() for line in ex.solution.splitlines()
                        if line.strip() and line.rstrip() not in learner_lines]
        assert answer_lines, f"{exercise_id}: the learner's cell already holds its solution"
        if ex.kind != "bug":
            assert any(blank in cell for blank in BLANKS), f"{exercise_id}'s cell has no blank"
            for line in answer_lines:
                assert _squeeze(line) not in _squeeze(cell), (
                    f"{exercise_id}'s cell contains its solution's line {line.strip()!r}")


def _fake_lesson(monkeypatch, **exercises):
    monkeypatch.setitem(course._modules, "99", SimpleNamespace(EXERCISES=exercises, QUESTIONS={}))
    for exercise_id in exercises:
        course.reset(exercise_id)


HINTS = ("first hint", "second, more specific hint")


def test_check_gives_hint_one_then_hint_two_and_never_the_expected_value(monkeypatch, capsys):
    _fake_lesson(monkeypatch, **{"99-double": course.Exercise(
        kind="derive", task="t", hints=HINTS, solution="s", expected=lambda x: 2 * x)})
    results = [course.check("99-double", answer, x=1.2345678) for answer in (..., 3.0, 4.0, 2.4691356)]
    out = capsys.readouterr().out.splitlines()
    assert results == [False, False, False, True]
    assert "Not yet: 99-double" in out[0] and "Hint 1 of 2: first hint" in out[0]
    assert "Hint 2 of 2: second, more specific hint" in out[1] and "3" in out[1]
    assert "Hint 2 of 2" in out[2]
    assert out[3] == "OK: 99-double"
    for line in out[:3]:
        assert "2.469" not in line and "2.47" not in line, line


def test_check_compares_shapes_strings_and_tensors(monkeypatch, capsys):
    mg = pytest.importorskip("minigrad")
    _fake_lesson(monkeypatch,
                 **{"99-vec": course.Exercise(kind="implement", task="t", hints=HINTS, solution="s",
                                              expected=lambda: np.arange(3.0)),
                    "99-word": course.Exercise(kind="predict", task="t", hints=HINTS, solution="s",
                                               expected=lambda: "Oscillating")})
    assert not course.check("99-vec", np.arange(4.0))
    assert "shape (4,)" in capsys.readouterr().out
    assert course.check("99-vec", mg.tensor([0.0, 1.0, 2.0]))
    assert not course.check("99-word", "healthy")
    assert course.check("99-word", " oscillating ")


def test_check_function_blank_wrong_right_and_result(monkeypatch, capsys):
    _fake_lesson(monkeypatch, **{"99-square": course.Exercise(
        kind="implement", task="t", hints=HINTS, solution="s", reference=lambda a: a**2,
        make_inputs=lambda rng: (rng.standard_normal(4),))})

    def blank(a):
        raise NotImplementedError("your code here")

    assert not course.check_function("99-square", blank)
    assert "NotImplementedError" in capsys.readouterr().out
    assert course.result("99-square", blank) is not blank
    assert "using the reference value for 99-square" in capsys.readouterr().out
    assert not course.check_function("99-square", lambda a: a * 2)
    out = capsys.readouterr().out
    assert "Hint 2 of 2" in out and "index (0,)" in out
    assert not course.check_function("99-square", lambda a: a.nope)
    assert "AttributeError" in capsys.readouterr().out
    right = lambda a: a * a  # noqa: E731
    assert course.check_function("99-square", right)
    assert course.result("99-square", right) is right
    assert capsys.readouterr().out == "OK: 99-square\n"


def test_result_of_a_value_exercise_falls_back_to_the_expected_value(monkeypatch, capsys):
    _fake_lesson(monkeypatch, **{"99-half": course.Exercise(
        kind="predict", task="t", hints=HINTS, solution="s", expected=lambda x: x / 2)})
    course.check("99-half", ..., x=3.0)
    assert course.result("99-half", ..., x=3.0) == 1.5
    course.check("99-half", 1.5, x=3.0)
    assert course.result("99-half", 7.0, x=3.0) == 7.0


@pytest.mark.parametrize("fields, message", [
    (dict(kind="guess"), "kind"),
    (dict(hints=("only one",)), "two hints"),
    (dict(expected=None), "exactly one"),
    (dict(expected=None, reference=abs), "make_inputs"),
])
def test_exercise_refuses_an_incomplete_answer_key(fields, message):
    base = dict(kind="predict", task="t", hints=HINTS, solution="s", expected=lambda: 1)
    with pytest.raises(ValueError, match=message):
        course.Exercise(**{**base, **fields})


def test_exercise_ids_are_checked():
    with pytest.raises(ValueError, match="should look like"):
        course.exercise("Bad id")
    with pytest.raises(KeyError, match="no exercise '00-nope'"):
        course.exercise("00-nope")


def test_peak_live_bytes_exercise_catches_blank_and_wrong_answers(capsys):
    """Lesson 10's 10-peak-live-bytes: the solution passes, and the blank and the likely
    mistakes (no sharing at all, an exclusive last call, the largest buffer alone, an
    off-by-one start) are each caught by the random lifetimes."""
    exercise_id = "10-peak-live-bytes"
    namespace = {"check_function": course.check_function}
    exec(course.exercise(exercise_id).solution, namespace)

    def blank(lifetimes):
        raise NotImplementedError("your code here")

    def alive_sum(lifetimes, alive):
        return max((sum(n for f, la, n in lifetimes if alive(f, la, t)) for t in range(20)), default=0)

    wrong = {
        "every buffer's bytes": lambda lifetimes: sum(n for _, _, n in lifetimes),
        "last call excluded": lambda lifetimes: alive_sum(lifetimes, lambda f, la, t: f <= t < la),
        "first call excluded": lambda lifetimes: alive_sum(lifetimes, lambda f, la, t: f < t <= la),
        "largest buffer": lambda lifetimes: max(n for _, _, n in lifetimes),
    }
    course.reset(exercise_id)
    assert not course.check_function(exercise_id, blank)
    for name, fn in wrong.items():
        assert not course.check_function(exercise_id, fn), f"the wrong answer '{name}' passed"
    assert course.check_function(exercise_id, namespace["peak_live_bytes"])
    assert namespace["peak_live_bytes"]([]) == 0
    assert namespace["peak_live_bytes"]([(0, 1, 64), (1, 2, 128), (2, 2, 64)]) == 192
    out = capsys.readouterr().out
    assert out.count(f"Not yet: {exercise_id}") == 1 + len(wrong) and out.endswith(f"OK: {exercise_id}\n")
    course.reset(exercise_id)
