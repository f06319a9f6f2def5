"""The workbook's graders, proven both ways: every task fails on the stubs (with "not done yet"
pointers), every task passes on the reference solutions, each deliberately broken solution in
``tests/workbook_broken/`` fails its task with a message naming the op, input and element,
and a learner who has done only task 1 sees task 1 done and the rest not.

The graders run in subprocesses (``workbook/grade.py --json``), as ``make grade`` runs them,
because each run imports a different ``tinytorch``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
GRADE = ROOT / "workbook" / "grade.py"
BROKEN = sorted((Path(__file__).parent / "workbook_broken").glob("*.py"))
TASKS = [str(t) for t in range(1, 9)]

sys.path.insert(0, str(ROOT))
from workbook import stubgen  # noqa: E402
from workbook.grading import check_close  # noqa: E402


def run_grader(tmp_path: Path, *args: str) -> tuple[int, str, dict]:
    out = tmp_path / "grade.json"
    env = os.environ | {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.pop("TINYTORCH_IMPL", None)
    env.pop("TINYTORCH_PATCH", None)
    proc = subprocess.run([sys.executable, str(GRADE), *args, "--json", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert out.is_file(), f"grade.py wrote no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.returncode, proc.stdout, json.loads(out.read_text())


def load_variant(path: Path):
    spec = importlib.util.spec_from_file_location(f"broken_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stubs_every_task_fails(tmp_path):
    code, stdout, results = run_grader(tmp_path, "--impl", "workbook")
    assert code == 1
    assert sorted(results) == TASKS
    for task, r in results.items():
        assert r["total"] > 0 and r["passed"] == 0, f"task {task}: a grader passes on the stubs: {r}"
        assert r["status"] == "not started" or r["status"].startswith("needs task"), (task, r["status"])
        for failure in r["failures"]:
            assert failure["message"].startswith("not done yet: "), failure
            assert "raises NotImplementedError" in failure["message"], failure
            assert "See workbook/README.md#task-" in failure["message"], failure
    assert "not started: see workbook/README.md#task-1" in stdout
    assert "0 of 8 tasks done." in stdout


def test_solutions_every_task_passes(tmp_path):
    code, stdout, results = run_grader(tmp_path, "--impl", "solutions")
    assert {task: (r["status"], r["failures"][:1]) for task, r in results.items()} == {
        task: ("done", []) for task in TASKS}
    assert code == 0 and "8 of 8 tasks done." in stdout


def test_only_task_1_done(tmp_path):
    """A learner who has written task 1 (and nothing else) sees it done and every other task not done."""
    stubgen.generate(tmp_path / "learner" / "tinytorch", keep=frozenset({1}))
    code, stdout, results = run_grader(tmp_path, "--impl", str(tmp_path / "learner"))
    assert code == 1
    assert results["1"]["status"] == "done"
    assert {task: r["passed"] for task, r in results.items() if task != "1"} == dict.fromkeys(TASKS[1:], 0)
    assert results["2"]["status"] == "not started"
    assert "1 of 8 tasks done." in stdout


def test_learner_code_that_does_not_import(tmp_path):
    """A syntax error in the learner's package is one short message per test, not a traceback."""
    package = tmp_path / "learner" / "tinytorch"
    stubgen.generate(package)
    value = package / "value.py"
    value.write_text(value.read_text(encoding="utf-8").replace("def exp(self)", "def exp(self", 1))
    code, _, results = run_grader(tmp_path, "1", "--impl", str(tmp_path / "learner"))
    message = results["1"]["failures"][0]["message"]
    assert code == 1 and results["1"]["status"] == "failing"
    assert message.startswith(f"could not import tinytorch from {tmp_path / 'learner'}: SyntaxError"), message
    assert "Traceback" not in message


@pytest.mark.parametrize("variant", BROKEN, ids=lambda p: p.stem)
def test_broken_implementation_fails_with_a_message(tmp_path, variant):
    broken = load_variant(variant)
    code, stdout, results = run_grader(tmp_path, str(broken.TASK), "--impl", "solutions",
                                       "--patch", str(variant))
    r = results[str(broken.TASK)]
    assert code == 1 and r["status"] == "failing", r
    messages = [f["message"] for f in r["failures"]]
    assert any(all(e in m for e in broken.EXPECT) for m in messages), \
        f"no failure message of task {broken.TASK} contains all of {broken.EXPECT}:\n" + "\n\n".join(messages)


def test_committed_stubs_match_the_solutions():
    """workbook/tinytorch is exactly what stubgen writes: same signatures and docstrings as the
    solutions, every task function's body a NotImplementedError."""
    stub_dir = ROOT / "workbook" / "tinytorch"
    for src in sorted(stubgen.SOLUTIONS.glob("*.py")):
        expected = stubgen.stub_source(src.read_text(encoding="utf-8"))
        assert (stub_dir / src.name).read_text(encoding="utf-8") == expected, \
            f"workbook/tinytorch/{src.name} is stale: run .venv/bin/python workbook/stubgen.py"


def test_stub_source_replaces_only_task_bodies():
    source = ('class A:\n    def f(self) -> int:\n        """Task 3: f."""\n'
              '        x = 1\n        return x\n\n'
              '    def g(self) -> int:\n        """Given."""\n        return 2\n')
    stub = stubgen.stub_source(source)
    assert 'raise NotImplementedError("task 3: A.f")' in stub and "x = 1" not in stub
    assert "return 2" in stub
    assert stubgen.stub_source(source, keep=frozenset({3})) == source


def test_check_close_message_names_input_element_and_hint():
    with pytest.raises(pytest.fail.Exception) as info:
        check_close("Tensor.__mul__ backward: b.grad", np.array([[1.0, 2.0], [3.0, 5.0]]),
                    np.array([[1.0, 2.0], [3.0, 4.0]]), inputs={"b": np.zeros(2)},
                    hint="multiply by out.grad")
    message = str(info.value)
    assert message.startswith("Tensor.__mul__ backward: b.grad: element (1, 1) is wrong "
                              "(1 of 4 elements wrong)")
    assert "expected 4 (minigrad), got 5" in message
    assert "inputs: b: shape (2,) float64" in message and "hint: multiply by out.grad" in message


def test_check_close_reports_shape_dtype_and_non_finite():
    expected = np.ones(3, dtype=np.float32)
    for got, text in [(np.ones((1, 3), dtype=np.float32), "wrong shape: expected (3,), got (1, 3)"),
                      (np.ones(3), "wrong dtype: expected float32, got float64"),
                      (np.array([1, np.inf, 1], dtype=np.float32), "element (1,) is wrong")]:
        with pytest.raises(pytest.fail.Exception) as info:
            check_close("op", got, expected)
        assert text in str(info.value)
    assert "not finite" in str(info.value)
