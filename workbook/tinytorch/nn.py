"""Task 4: `Module`, `Parameter`, `Linear`, `Sequential` and `ReLU`, after ``torch.nn``.

A model is a tree of modules; its parameters are whatever `Parameter` or `Module` objects
were assigned to its attributes (``self.fc1 = Linear(784, 64)``). `Module.__setattr__`
notices those assignments and records them, so ``model.parameters()`` can walk the tree
without each model listing its weights by hand. Names follow PyTorch: ``fc1.weight``,
``0.bias`` (a `Sequential` names its layers ``0``, ``1``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .tensor import Tensor


class Parameter(Tensor):
    """A `Tensor` that is a learnable weight of a module."""

    def __init__(self, data: np.ndarray) -> None:
        """Task 4: a tensor holding ``data`` with ``requires_grad=True``.

        Being a `Parameter` (not a plain `Tensor`) is what ``Module.__setattr__`` looks for
        to register it: intermediate tensors stored on a module are not weights.
        """
        raise NotImplementedError("task 4: Parameter.__init__")


class Module:
    """Base class of every layer and model: subclasses set attributes in ``__init__`` and
    define ``forward``."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})

    def __setattr__(self, name: str, value: Any) -> None:
        """Task 4: set the attribute, and record it in ``self._parameters`` (a `Parameter`)
        or ``self._modules`` (a `Module`) under ``name``, in assignment order.

        Always also set it as a normal attribute (``object.__setattr__(self, name, value)``)
        so that ``self.weight`` keeps working. Assigning something else to a registered name
        must unregister it.
        """
        raise NotImplementedError("task 4: Module.__setattr__")

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Task 4: ``(name, parameter)`` for this module's parameters, then, recursively, for
        each submodule's, in registration order; names are dotted paths (``"0.weight"``,
        ``"encoder.fc1.bias"``). A parameter shared by two modules is yielded once (the
        first time it is met).
        """
        raise NotImplementedError("task 4: Module.named_parameters")

    def parameters(self) -> Iterator[Parameter]:
        """Task 4: the parameters of ``named_parameters()``, without the names."""
        raise NotImplementedError("task 4: Module.parameters")

    def zero_grad(self) -> None:
        """Task 4: forget the gradients of every parameter (set ``grad`` to None), before the
        next backward pass; otherwise they accumulate across steps."""
        raise NotImplementedError("task 4: Module.zero_grad")

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any) -> Any:
        return self.forward(*args)


class Linear(Module):
    """``y = x W^T + b``: a fully connected layer from ``in_features`` to ``out_features``."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        """Task 4: create ``weight`` (out_features, in_features) and, if ``bias``, ``bias``
        (out_features,), both `Parameter`, float32, drawn uniformly from [-k, k] with
        k = 1/sqrt(in_features) (PyTorch's default). Without bias, set ``self.bias = None``.

        Why that k: with inputs of unit variance, each output is a sum of in_features terms,
        so its variance is in_features * Var(w) = in_features * k^2 / 3 = 1/3 whatever the
        width: activations neither blow up nor vanish as layers are stacked.
        """
        raise NotImplementedError("task 4: Linear.__init__")

    def forward(self, x: Tensor) -> Tensor:
        """Task 4: ``x @ weight^T + bias`` for x of shape (batch, in_features): (batch, out_features).

        Built from task 3's ops, so backward comes for free; the bias broadcasts over the
        batch and ``unbroadcast`` sums its gradient over it.
        """
        raise NotImplementedError("task 4: Linear.forward")


class ReLU(Module):
    """The activation max(0, x) as a module, for `Sequential`."""

    def forward(self, x: Tensor) -> Tensor:
        """Task 4: ``x.relu()``."""
        raise NotImplementedError("task 4: ReLU.forward")


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(784, 64), ReLU(), Linear(64, 10))``."""

    def __init__(self, *layers: Module) -> None:
        """Task 4: register each layer as a submodule named ``"0"``, ``"1"``, ... (``setattr``
        with the index as a string, so ``named_parameters`` gives ``"0.weight"``)."""
        raise NotImplementedError("task 4: Sequential.__init__")

    def forward(self, x: Tensor) -> Tensor:
        """Task 4: feed ``x`` through each layer in order and return the last output."""
        raise NotImplementedError("task 4: Sequential.forward")
