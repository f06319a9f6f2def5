"""Neural-network building blocks: Module, Parameter, layers and losses."""

from . import functional, init, utils
from .layers import (
    ELU,
    GELU,
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
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
from .multitask import MultiTaskLoss
from .parameter import Parameter

# isort: split
from .losses.composed import BPRLoss, ClassBalancedLoss, WassersteinLoss
from .losses.ctc import CTCLoss
from .losses.distillation import DistillationLoss
from .losses.embedding import CosineEmbeddingLoss, TripletMarginLoss, TripletMarginWithDistanceLoss
from .losses.focal import FocalLoss, SigmoidFocalLoss
from .losses.hinge import CategoricalHingeLoss, HingeLoss, SquaredHingeLoss
from .losses.margin import HingeEmbeddingLoss, MarginRankingLoss, MultiLabelMarginLoss, MultiMarginLoss
from .losses.overlap import DiceLoss, TverskyLoss
