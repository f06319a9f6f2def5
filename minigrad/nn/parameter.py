"""Parameter: a Tensor that a Module learns. It requires grad by default, and assigning
one to a Module attribute registers it, so ``model.parameters()`` finds it."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor (a leaf with ``requires_grad=True``)."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = []
        super().__init__(data.data if isinstance(data, Tensor) else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
