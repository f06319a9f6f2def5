"""minigrad: a small autograd engine to learn deep learning from.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # tensor([2., 4., 6.])
"""

from . import dtypes, ops  # ops binds the op modules behind the Tensor methods (tensor.bind_ops)
from .autograd import (
    Function,
    enable_grad,
    grad,
    gradcheck,
    gradgradcheck,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from .functional import *  # noqa: F403
from .random import Generator, manual_seed
from .serialization import load, save
from .tensor import Tensor

__version__ = "0.1.0"

_SUBMODULES = ("amp", "data", "debug", "kernels", "metrics", "nn", "optim", "replay", "utils", "viz")


def __getattr__(name: str):
    """Import subpackages on first use (``mg.optim``), keeping ``import minigrad`` fast."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name == "capture":
        from .replay import capture

        return capture
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
