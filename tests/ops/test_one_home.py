"""Every public op has one home: a function in ``minigrad.ops`` that holds its argument checks.

The Tensor method and the ``minigrad.functional`` entry of the same name must both reach that
home, so a check added to one of them cannot silently miss the other. ``functional`` may also
hold one-line wrappers that call the Tensor method (``minigrad.exp(x)`` is ``x.exp()``)."""

from __future__ import annotations

import ast
import inspect
import types
from typing import Any

import numpy as np
import pytest

import minigrad
import minigrad.functional as F
from minigrad.ops import (
    activation,
    composite,
    discrete,
    elementwise,
    indexing,
    linalg,
    linear,
    reduce,
    shape,
)
from minigrad.tensor import Tensor

OP_MODULES = (activation, composite, discrete, elementwise, indexing, linalg, linear, reduce, shape)


class _Reached(Exception):
    """Raised by the spy standing in for an op's home."""


def _spy(*args: Any, **kwargs: Any) -> Any:
    raise _Reached


def _homes() -> dict[str, types.ModuleType]:
    """Public functions defined in an op module, by name (a function imported from another
    module is not a home there)."""
    homes: dict[str, types.ModuleType] = {}
    for module in OP_MODULES:
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            assert name not in homes, (
                f"{name} is defined in both {homes[name].__name__} and {module.__name__}: an op "
                f"has one home")
            homes[name] = module
    return homes


def _placeholders(method: Any) -> list[None]:
    """One None per required positional argument (after self): the spy never looks at them."""
    params = list(inspect.signature(method).parameters.values())[1:]
    return [None for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]


def _reaches(call: Any, module: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    with monkeypatch.context() as m:
        m.setattr(module, name, _spy)
        try:
            call()
        except _Reached:
            return True
    return False


HOMES = _homes()
METHODS_WITH_A_HOME = sorted(n for n in HOMES if inspect.isfunction(getattr(Tensor, n, None)))


def test_the_composites_have_their_home_in_composite_py() -> None:
    for name in ("flatten", "unflatten", "squeeze", "unsqueeze", "stack", "split", "chunk",
                 "repeat", "rsqrt", "square", "reciprocal", "clamp_min", "clamp_max", "masked_fill"):
        assert HOMES[name] is composite, name


@pytest.mark.parametrize("name", METHODS_WITH_A_HOME)
def test_tensor_method_delegates_to_the_home(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    x = Tensor(np.ones((2, 3)))
    args = _placeholders(getattr(Tensor, name))
    assert _reaches(lambda: getattr(x, name)(*args), HOMES[name], name, monkeypatch), (
        f"Tensor.{name} does not call {HOMES[name].__name__}.{name}: make the method a one-line "
        f"delegation so the op's checks live in one place")


def _wrapped_call(name: str) -> Any:
    """F.name(x, None, ...) with one None per further required argument."""
    fn = getattr(F, name)
    params = list(inspect.signature(fn).parameters.values())[1:]
    args = [None for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty]
    return lambda: fn(Tensor(np.ones((2, 3))), *args)


WRAPPERS = sorted(n for n in F.__all__ if getattr(F, n).__module__ == F.__name__)


@pytest.mark.parametrize("name", sorted(F.__all__))
def test_functional_entry_is_the_home_or_a_one_line_wrapper(name: str) -> None:
    fn = getattr(F, name)
    if name not in WRAPPERS:
        module = HOMES.get(name)
        assert module is not None and fn is getattr(module, name), (
            f"minigrad.functional.{name} comes from {fn.__module__}, which is not its home")
        return
    body = ast.parse(inspect.getsource(fn)).body[0].body
    statements = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    assert len(statements) == 1 and isinstance(statements[0], ast.Return), (
        f"minigrad.functional.{name} is more than `return x.{name}(...)`: move its logic to the op")


@pytest.mark.parametrize("name", [n for n in WRAPPERS if inspect.isfunction(getattr(Tensor, n, None))])
def test_functional_wrapper_calls_the_tensor_method(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _reaches(_wrapped_call(name), Tensor, name, monkeypatch), (
        f"minigrad.functional.{name} does not call Tensor.{name}")


@pytest.mark.parametrize("name", [n for n in WRAPPERS if n in HOMES])
def test_functional_wrapper_reaches_the_home(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _reaches(_wrapped_call(name), HOMES[name], name, monkeypatch)


def test_the_top_level_names_are_the_functional_ones() -> None:
    for name in F.__all__:
        if hasattr(minigrad, name):
            assert getattr(minigrad, name) is getattr(F, name), name
