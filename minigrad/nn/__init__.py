"""Neural-network building blocks: Module, Parameter, layers and losses."""

from . import functional
from .losses.binary import BCELoss, BCEWithLogitsLoss, MultiLabelSoftMarginLoss, SoftMarginLoss
from .losses.cross_entropy import CrossEntropyLoss, NLLLoss
from .losses.kl_div import KLDivLoss
from .losses.regression import (
    GaussianNLLLoss,
    HuberLoss,
    L1Loss,
    LogCoshLoss,
    MSELoss,
    PoissonNLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .parameter import Parameter
