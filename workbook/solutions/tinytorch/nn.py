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
        super().__init__(data, requires_grad=True)


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
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Task 4: ``(name, parameter)`` for this module's parameters, then, recursively, for
        each submodule's, in registration order; names are dotted paths (``"0.weight"``,
        ``"encoder.fc1.bias"``). A parameter shared by two modules is yielded once (the
        first time it is met).
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            for name, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield path + name, param
            children = [(f"{path}{name}.", child) for name, child in module._modules.items()]
            stack.extend(reversed(children))

    def parameters(self) -> Iterator[Parameter]:
        """Task 4: the parameters of ``named_parameters()``, without the names."""
        for _, param in self.named_parameters():
            yield param

    def zero_grad(self) -> None:
        """Task 4: forget the gradients of every parameter (set ``grad`` to None), before the
        next backward pass; otherwise they accumulate across steps."""
        for param in self.parameters():
            param.grad = None

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
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(np.random.uniform(-k, k, (out_features, in_features)).astype(np.float32))
        self.bias = Parameter(np.random.uniform(-k, k, out_features).astype(np.float32)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """Task 4: ``x @ weight^T + bias`` for x of shape (batch, in_features): (batch, out_features).

        Built from task 3's ops, so backward comes for free; the bias broadcasts over the
        batch and ``unbroadcast`` sums its gradient over it.
        """
        out = x @ self.weight.transpose(0, 1)
        return out if self.bias is None else out + self.bias


class ReLU(Module):
    """The activation max(0, x) as a module, for `Sequential`."""

    def forward(self, x: Tensor) -> Tensor:
        """Task 4: ``x.relu()``."""
        return x.relu()


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(784, 64), ReLU(), Linear(64, 10))``."""

    def __init__(self, *layers: Module) -> None:
        """Task 4: register each layer as a submodule named ``"0"``, ``"1"``, ... (``setattr``
        with the index as a string, so ``named_parameters`` gives ``"0.weight"``)."""
        super().__init__()
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)

    def forward(self, x: Tensor) -> Tensor:
        """Task 4: feed ``x`` through each layer in order and return the last output."""
        for layer in self._modules.values():
            x = layer(x)
        return x
