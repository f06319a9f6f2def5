"""Layers: Modules built from minigrad ops and ``minigrad.nn.functional``."""

from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Identity, Linear
from .normalization import BatchNorm1d, LayerNorm
