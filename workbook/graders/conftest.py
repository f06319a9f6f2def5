"""The graders' set-up: one marker per task, the tinytorch under test as the ``tt`` fixture, and
"not done yet" messages instead of tracebacks for functions that still raise
NotImplementedError.

Run them with ``make grade`` (all tasks, with a progress table) or ``make grade TASK=3``;
``pytest workbook/graders -m task3`` works too.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small matrices: one BLAS thread is fastest, more only contend
os.environ.setdefault("MINIGRAD_JIT", "0")  # minigrad's numpy references: no Numba compile time

import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402

import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from workbook.grading import TODO, impl_dir, load_tinytorch  # noqa: E402

TASKS = {
    1: "Value: ops and local derivatives",
    2: "topological order and backward()",
    3: "Tensor ops and broadcasting",
    4: "Module, Parameter, Linear, Sequential",
    5: "stable softmax cross-entropy",
    6: "SGD, RMSprop, Adam, clip_grad_norm_",
    7: "train an MLP on MNIST",
    8: "backprop by hand",
}


def pytest_configure(config: pytest.Config) -> None:
    for n, title in TASKS.items():
        config.addinivalue_line("markers", f"task{n}: task {n}, {title} (workbook/README.md#task-{n})")


@pytest.fixture(scope="session")
def tt() -> ModuleType:
    """The tinytorch package being graded (``$TINYTORCH_IMPL``, yours by default); an import
    that fails (a syntax error, a bad import) fails every grader with one short message."""
    try:
        return load_tinytorch()
    except Exception as e:  # noqa: BLE001 - whatever breaks the import is reported to the learner
        error = f"{type(e).__name__}: {e}"
    pytest.fail(f"could not import tinytorch from {impl_dir()}: {error}\n"
                "  hint: run `python -c 'import tinytorch'` in that folder to see the full traceback",
                pytrace=False)


def task_of(item: pytest.Item) -> int:
    for n in TASKS:
        if item.get_closest_marker(f"task{n}") is not None:
            return n
    raise pytest.UsageError(f"{item.nodeid} has no task marker; add pytestmark = pytest.mark.taskN")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Replace a NotImplementedError("task N: name") traceback by a pointer to the guide,
    and record in the report which task's stub was hit (the progress table uses it)."""
    outcome = yield
    report = outcome.get_result()
    report.user_properties.append(("task", task_of(item)))
    if call.excinfo is None or not call.excinfo.errisinstance(NotImplementedError):
        return
    match = TODO.match(str(call.excinfo.value))
    if match is None:
        return
    todo, name = int(match.group(1)), match.group(2)
    report.user_properties.append(("todo", todo))
    own = todo == task_of(item)
    report.longrepr = (f"not done yet: {name} (task {todo}) raises NotImplementedError"
                       + ("" if own else f"; task {task_of(item)} needs it")
                       + f". See workbook/README.md#task-{todo}")
