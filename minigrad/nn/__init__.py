"""Neural-network building blocks: Module, Parameter, layers and losses."""

from . import functional
from .module import Module
from .parameter import Parameter
