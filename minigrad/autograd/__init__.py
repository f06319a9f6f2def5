"""Automatic differentiation: Function (an op: forward, readable backward, optional fast
path), Node (the graph node a recorded op leaves), the backward engine and its per-node
step, grad mode, gradient checking and anomaly detection."""

from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import backward, grad, node_step
from .function import Function, Node
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "AnomalyError", "Function", "GradcheckError", "Node", "backward", "detect_anomaly",
    "enable_grad", "grad", "gradcheck", "gradgradcheck", "is_anomaly_enabled", "is_grad_enabled",
    "no_grad", "node_step", "set_detect_anomaly", "set_grad_enabled",
]
