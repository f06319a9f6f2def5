"""Knowledge distillation (Hinton, Vinyals & Dean 2015): train a small *student* network to
match a larger *teacher*'s softened output distribution as well as the true labels.

A composition of primitives (log-softmax, softmax, KL divergence, cross-entropy), so the
gradient comes from autograd; the teacher's logits are a constant.
"""

from __future__ import annotations

import math
from typing import Any

from ...tensor import Tensor
from ..module import Module
from ._common import as_tensor
from .cross_entropy import cross_entropy
from .kl_div import kl_div


def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, target: Any,
                      T: float = 2.0, alpha: float = 0.5) -> Tensor:
    """alpha T^2 KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) CE(student, target)

    Both terms are means over the batch (the KL term is ``kl_div(..., reduction='batchmean')``,
    the true KL per sample). A temperature T > 1 softens both distributions, so the student
    also learns how the teacher ranks the wrong classes ("dark knowledge"). The gradient of
    the KL term w.r.t. a student logit is (q_T - p_T) / T per sample, with q_T, p_T the
    student's and teacher's softened probabilities: the T^2 factor brings it back to the
    scale of the cross-entropy gradient, so alpha means the same at every T. alpha = 0 is
    plain cross-entropy, alpha = 1 pure distillation. student_logits (N, C), teacher_logits
    (N, C) (detached: no gradient reaches the teacher), target (N) class indices.
    """
    if not isinstance(T, int | float) or not math.isfinite(T) or T <= 0:
        raise ValueError(f"distillation_loss: temperature T must be a positive number, got {T!r}")
    if not isinstance(alpha, int | float) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must be in [0, 1] (the weight of the distillation "
                         f"term), got {alpha!r}")
    teacher = as_tensor(teacher_logits, student_logits).detach()
    if student_logits.ndim != 2 or teacher.shape != student_logits.shape:
        raise ValueError(f"distillation_loss: student and teacher logits must both be (N, C), got "
                         f"{student_logits.shape} and {teacher.shape}")
    soft_target = (teacher / T).softmax(1)
    kd = kl_div((student_logits / T).log_softmax(1), soft_target, reduction="batchmean")
    ce = cross_entropy(student_logits, target)
    return kd * (alpha * T * T) + ce * (1.0 - alpha)


class DistillationLoss(Module):
    """Module form of :func:`distillation_loss`: forward(student_logits, teacher_logits, target)."""

    def __init__(self, T: float = 2.0, alpha: float = 0.5) -> None:
        super().__init__()
        if not isinstance(T, int | float) or not math.isfinite(T) or T <= 0:
            raise ValueError(f"DistillationLoss: temperature T must be a positive number, got {T!r}")
        if not isinstance(alpha, int | float) or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"DistillationLoss: alpha must be in [0, 1], got {alpha!r}")
        self.T, self.alpha = float(T), float(alpha)

    def forward(self, student_logits: Tensor, teacher_logits: Tensor, target: Any) -> Tensor:
        return distillation_loss(student_logits, teacher_logits, target, self.T, self.alpha)

    def extra_repr(self) -> str:
        return f"T={self.T}, alpha={self.alpha}"
