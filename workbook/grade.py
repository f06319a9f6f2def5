"""Grade your tinytorch against minigrad and print where you stand.

    make grade              # every task
    make grade TASK=3       # one task (TASK="1 2" for several)
    .venv/bin/python workbook/grade.py 3 -v   # every failure message of task 3, not just the first few

Runs the graders (``workbook/graders/test_task*.py``, one pytest marker per task) in this
process, then prints one row per task: tests passed, and a status: ``done``, ``not started``
(its functions still raise NotImplementedError), ``needs task K`` (it uses an earlier task's
functions, not written yet) or ``failing``, followed by the first failure messages of each
failing task. Exit status 0 when every selected task is done.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

WORKBOOK = Path(__file__).resolve().parent
GRADERS = WORKBOOK / "graders"
README = "workbook/README.md"
TITLES = {
    1: "Value: ops and local derivatives",
    2: "topological order and backward()",
    3: "Tensor ops and broadcasting",
    4: "Module, Parameter, Linear, Sequential",
    5: "stable softmax cross-entropy",
    6: "SGD, RMSprop, Adam, clip_grad_norm_",
    7: "train an MLP on MNIST",
    8: "backprop by hand",
}


@dataclass
class TestResult:
    nodeid: str
    task: int
    passed: bool = True
    message: str = ""
    todos: set[int] = field(default_factory=set)


@dataclass
class TaskResult:
    task: int
    tests: list[TestResult]

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def failures(self) -> list[TestResult]:
        return [t for t in self.tests if not t.passed]

    @property
    def status(self) -> str:
        """done / not started / needs task K / failing (see the module docstring)."""
        if not self.tests:
            return "no tests collected"
        if not self.failures:
            return "done"
        if all(t.todos for t in self.failures) and self.passed == 0:
            todos = set().union(*(t.todos for t in self.failures))
            return "not started" if self.task in todos else f"needs task {min(todos)}"
        return "failing"

    def to_json(self) -> dict:
        return {"title": TITLES[self.task], "passed": self.passed, "total": len(self.tests),
                "status": self.status,
                "failures": [{"test": t.nodeid, "message": t.message} for t in self.failures]}


class Collector:
    """A pytest plugin that keeps each test's outcome, message and the tasks of stubs it hit."""

    def __init__(self) -> None:
        self.results: dict[str, TestResult] = {}

    def pytest_runtest_logreport(self, report) -> None:
        props = dict(report.user_properties)
        result = self.results.setdefault(report.nodeid, TestResult(report.nodeid, props.get("task", 0)))
        result.todos |= {v for k, v in report.user_properties if k == "todo"}
        if report.failed and result.passed:
            result.passed = False
            result.message = str(report.longrepr).strip()
        if report.when == "setup" and report.skipped:
            result.passed, result.message = False, f"skipped: {report.longrepr}"


def grade(tasks: Sequence[int], impl: str | None = None, patch: str | None = None,
          show_pytest: bool = False) -> list[TaskResult]:
    """Run the graders of ``tasks`` on the chosen tinytorch; one `TaskResult` per task."""
    if impl:
        os.environ["TINYTORCH_IMPL"] = impl
    if patch:
        os.environ["TINYTORCH_PATCH"] = str(Path(patch).resolve())
    import pytest

    collector = Collector()
    marks = " or ".join(f"task{t}" for t in tasks)
    unused_plugins = ["cacheprovider", "hypothesispytest", "xdist", "anyio"]  # slow to load, not needed
    args = [str(GRADERS), "-m", marks, "-q", "-o", "addopts="]
    args += [arg for name in unused_plugins for arg in ("-p", f"no:{name}")]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sys.stdout if show_pytest else sink):
        code = pytest.main(args, plugins=[collector])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        sys.stdout.write(sink.getvalue())
        raise SystemExit(f"grade: pytest could not run the graders (exit code {int(code)}); "
                         "its output is above")
    by_task = {t: TaskResult(t, []) for t in tasks}
    for result in collector.results.values():
        if result.task in by_task:
            by_task[result.task].tests.append(result)
    return [by_task[t] for t in tasks]


def table(results: Sequence[TaskResult]) -> str:
    rows = [f"{'task':>4}  {'what':<38} {'tests':>7}  status"]
    for r in results:
        status = r.status
        if status == "not started":
            status += f": see {README}#task-{r.task}"
        elif status.startswith("needs task"):
            status += f" first: see {README}#task-{status.split()[-1]}"
        rows.append(f"{r.task:>4}  {TITLES[r.task]:<38} {f'{r.passed}/{len(r.tests)}':>7}  {status}")
    done = sum(r.status == "done" for r in results)
    rows.append(f"\n{done} of {len(results)} tasks done.")
    return "\n".join(rows)


def details(results: Sequence[TaskResult], limit: int | None) -> str:
    out = []
    for r in results:
        if r.status != "failing":
            continue
        shown = r.failures if limit is None else r.failures[:limit]
        out.append(f"\nTask {r.task} ({TITLES[r.task]}): {len(r.failures)} of {len(r.tests)} tests failing"
                   + (f", the first {len(shown)}:" if len(shown) < len(r.failures) else ":"))
        for t in shown:
            test = t.nodeid.split("::", 1)[-1]
            out.append(f"  - {test}\n" + "\n".join("      " + line for line in t.message.splitlines()))
        out.append(f"  Guide: {README}#task-{r.task}; only this task: make grade TASK={r.task}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade tinytorch against minigrad, task by task.")
    parser.add_argument("tasks", nargs="*", type=int, help="tasks to grade (default: all)")
    parser.add_argument("--impl", help="workbook (yours, default), solutions, or a folder with tinytorch/")
    parser.add_argument("--patch", help="a file whose patch(tinytorch) runs after the import (for the tests)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="all failure messages, and pytest's output")
    args = parser.parse_args(argv)
    tasks = args.tasks or list(TITLES)
    unknown = [t for t in tasks if t not in TITLES]
    if unknown:
        parser.error(f"no task {unknown}; the tasks are {list(TITLES)}")
    results = grade(tasks, args.impl, args.patch, show_pytest=args.verbose)
    print(f"tinytorch graded against minigrad ({os.environ.get('TINYTORCH_IMPL') or 'workbook'})\n")
    print(table(results))
    text = details(results, None if args.verbose else 3)
    if text:
        print(text)
    if args.json:
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps({str(r.task): r.to_json() for r in results}, indent=2))
        os.replace(tmp, args.json)
    return 0 if all(r.status == "done" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
