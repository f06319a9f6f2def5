"""Shared by the graders: load the tinytorch to grade, and compare its answers with minigrad's
in messages written for the learner (which check, which input, which element, expected vs
got, and a hint) instead of bare assertions.

Which tinytorch is graded is chosen by ``$TINYTORCH_IMPL``:

- unset or ``workbook``: yours, ``workbook/tinytorch``;
- ``solutions``: the reference solutions, ``workbook/solutions/tinytorch``;
- a folder: the ``tinytorch`` package inside that folder.

``$TINYTORCH_PATCH`` may name a Python file whose ``patch(tinytorch)`` is called after the
import: the test suite uses it to break one function of the solutions on purpose and check
that the graders catch the mistake.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

WORKBOOK = Path(__file__).resolve().parent
IMPLS = {"workbook": WORKBOOK, "solutions": WORKBOOK / "solutions"}
TODO = re.compile(r"^task (\d+): (.+)$")


def impl_dir(choice: str | None = None) -> Path:
    """The folder holding the ``tinytorch`` package that ``choice`` (default ``$TINYTORCH_IMPL``) names."""
    choice = choice or os.environ.get("TINYTORCH_IMPL") or "workbook"
    folder = IMPLS.get(choice, Path(choice).expanduser().resolve())
    if not (folder / "tinytorch" / "__init__.py").is_file():
        raise FileNotFoundError(f"TINYTORCH_IMPL={choice!r}: no tinytorch package at {folder / 'tinytorch'}; "
                                f"use 'workbook', 'solutions' or a folder that contains tinytorch/")
    return folder


def load_tinytorch(choice: str | None = None, patch: str | None = None) -> ModuleType:
    """Import ``tinytorch`` from ``impl_dir(choice)`` as the module named ``tinytorch``, whatever else
    is on ``sys.path``, then apply the optional patch file (default ``$TINYTORCH_PATCH``)."""
    package = impl_dir(choice) / "tinytorch"
    for name in [m for m in sys.modules if m == "tinytorch" or m.startswith("tinytorch.")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location("tinytorch", package / "__init__.py",
                                                  submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["tinytorch"] = module
    spec.loader.exec_module(module)
    patch = patch or os.environ.get("TINYTORCH_PATCH")
    if patch:
        spec = importlib.util.spec_from_file_location("tinytorch_patch", patch)
        patch_module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(patch_module)
        patch_module.patch(module)
    return module


# ---------------------------------------------------------------- messages
def fmt(x: Any) -> str:
    """A short, readable rendering of a number or array for a message."""
    if isinstance(x, np.ndarray) and x.ndim > 0:
        if x.size <= 6:
            return np.array2string(x, precision=6, separator=", ")
        return f"array of shape {x.shape}, dtype {x.dtype}"
    if isinstance(x, float | np.floating) or (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        return f"{float(x):.8g}"
    return repr(x)


def describe_inputs(inputs: dict[str, Any]) -> str:
    parts = []
    for name, value in inputs.items():
        if isinstance(value, np.ndarray) and value.ndim > 0:
            parts.append(f"{name}: shape {value.shape} {value.dtype}"
                         + (f" = {fmt(value)}" if value.ndim == 1 and value.size <= 6 else ""))
        else:
            parts.append(f"{name} = {fmt(value)}")
    return ", ".join(parts)


def fail(what: str, problem: str, inputs: dict[str, Any] | None = None, hint: str = "") -> None:
    """Fail the current grader test with a learner-facing message and no traceback."""
    lines = [f"{what}: {problem}"]
    if inputs:
        lines.append(f"  inputs: {describe_inputs(inputs)}")
    if hint:
        lines.append(f"  hint: {hint}")
    pytest.fail("\n".join(lines), pytrace=False)


def call(what: str, fn: Any, *args: Any, inputs: dict[str, Any] | None = None, hint: str = "",
         **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, turning an exception raised by the learner's code into a message
    that names ``what`` was being run on which inputs. NotImplementedError passes through:
    the graders' conftest reports it as "not done yet"."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except RecursionError:
        error = "raised RecursionError: Python's call stack (about 1,000 frames) ran out"
    except Exception as e:  # noqa: BLE001 - any error in the learner's code becomes a message
        error = f"raised {type(e).__name__}: {e}"
    fail(what, error, inputs, hint)  # outside the except block: no "during handling" chain in the message


def check_close(what: str, got: Any, expected: Any, *, inputs: dict[str, Any] | None = None,
                hint: str = "", rtol: float = 1e-7, atol: float = 1e-10, check_dtype: bool = True) -> None:
    """Check that ``got`` equals ``expected`` (minigrad's answer) within ``|got - expected| <=
    atol + rtol |expected|`` elementwise, with the same shape (and dtype when ``check_dtype``).

    On failure the message names ``what`` (e.g. ``"Tensor.__add__ backward: b.grad"``), the
    inputs, the first wrong element's index with its expected and got values, how many
    elements are wrong, and the hint.
    """
    if got is None:
        fail(what, f"got None, expected {fmt(np.asarray(expected))}", inputs,
             hint or "was this value ever set? gradients are filled in by the backward closures")
    if isinstance(got, int | float | np.generic) and not isinstance(got, bool):
        got = np.asarray(got)
    if not isinstance(got, np.ndarray):
        fail(what, f"expected a numpy array, got {type(got).__name__}", inputs, hint)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        fail(what, f"wrong shape: expected {expected.shape}, got {got.shape}", inputs, hint)
    if check_dtype and got.dtype != expected.dtype:
        fail(what, f"wrong dtype: expected {expected.dtype}, got {got.dtype}", inputs,
             "keep the inputs' dtype: float32 in, float32 out (a Python float or a float64 constant "
             "mixed into a float32 array silently promotes it)")
    got64, exp64 = got.astype(np.float64), expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(np.isclose(got64, exp64, rtol=rtol, atol=atol) | (np.isnan(got64) & np.isnan(exp64)))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"element {index}" if got.ndim else "the value"
        count = f" ({int(bad.sum())} of {bad.size} elements wrong)" if got.ndim else ""
        problem = (f"{where} is wrong{count}: expected {fmt(exp64[index])} (minigrad), "
                   f"got {fmt(got64[index])}")
        if not np.isfinite(got64[index]):
            problem += " - not finite: something overflowed or divided by zero"
        fail(what, problem, inputs, hint)

