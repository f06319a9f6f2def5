"""CTC loss (Graves et al. 2006): sequence labelling without a frame-level alignment.

A network emits log-probabilities over C symbols (one of them ``blank``) at each of T
frames. A target label sequence l can be read off many frame paths: repeat symbols, put
blanks between them, collapse. CTC's loss is -log of the total probability of all those
paths, summed by dynamic programming over the extended label l' = [b, l1, b, l2, ..., b]:

    alpha_t(s) = logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2)*) + lp_t[l'_s]

(* only if l'_s is not blank and differs from l'_{s-2}). beta is the same recursion run
backwards; alpha_t(s) + beta_t(s) - lp_t[l'_s] is the log-probability of all paths through
(t, s), which gives the gradient. Everything runs in log space (float64) so long sequences
do not underflow; the loops are over time only, vectorised over batch and label positions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.function import Function
from ...tensor import Tensor
from ..module import Module
from ._common import as_array
from ._reduction import check_reduction

NEG_INF = -np.inf


def _lse(*terms: np.ndarray) -> np.ndarray:
    """Element-wise logsumexp of a few arrays, with a 0 shift where all are -inf."""
    m = np.maximum.reduce(terms)
    shift = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(sum(np.exp(t - shift) for t in terms)) + shift


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """a[..., s - k] at position s (-inf for s < k)."""
    out = np.full_like(a, NEG_INF)
    out[..., k:] = a[..., :-k]
    return out


def _unshift(a: np.ndarray, k: int) -> np.ndarray:
    """a[..., s + k] at position s (-inf past the end)."""
    out = np.full_like(a, NEG_INF)
    out[..., :-k] = a[..., k:]
    return out


def ctc_forward_backward(lp: np.ndarray, ext: np.ndarray, ext_len: np.ndarray,
                         in_len: np.ndarray, want_grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Negative log-likelihoods (N,) and, if asked, d nll / d lp (T, N, C); float64.

    ``ext`` (N, L) holds the extended labels (blank-padded), ``ext_len`` = 2 S_n + 1.
    """
    t_max, n, _ = lp.shape
    width = ext.shape[1]
    rows = np.arange(n)
    lpe = lp[:, rows[:, None], ext]                       # (T, N, L): lp_t[l'_s]
    pos = np.arange(width)
    valid = pos[None, :] < ext_len[:, None]
    skip = np.zeros((n, width), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != ext[:, :-2]) & (pos[None, 2:] % 2 == 1)
    alpha = np.full((max(t_max, 1), n, width), NEG_INF)
    if t_max:
        alpha[0, :, :2] = lpe[0, :, :2]
        alpha[0] = np.where(valid, alpha[0], NEG_INF)
    for t in range(1, t_max):
        a = alpha[t - 1]
        a2 = np.where(skip, _shift(a, 2), NEG_INF)
        alpha[t] = np.where(valid, _lse(a, _shift(a, 1), a2) + lpe[t], NEG_INF)
    last = np.clip(in_len - 1, 0, None)
    end = alpha[last, rows]                                # (N, L)
    final = end[rows, ext_len - 1]
    before = np.where(ext_len > 1, end[rows, np.maximum(ext_len - 2, 0)], NEG_INF)
    nll = -_lse(final, before)
    empty = in_len == 0
    nll[empty] = np.where(ext_len[empty] == 1, 0.0, np.inf)
    if not want_grad:
        return nll, None
    beta = np.full((t_max, n, width), NEG_INF)
    skip_next = np.zeros_like(skip)
    skip_next[:, :-2] = skip[:, 2:]                        # l'_s differs from l'_{s+2}
    init = np.where((pos[None, :] == ext_len[:, None] - 1) | (pos[None, :] == ext_len[:, None] - 2),
                    0.0, NEG_INF)
    for t in range(t_max - 1, -1, -1):
        if t + 1 < t_max:
            b = beta[t + 1]
            b2 = np.where(skip_next, _unshift(b, 2), NEG_INF)
            rec = _lse(b, _unshift(b, 1), b2) + lpe[t]
        else:
            rec = np.full((n, width), NEG_INF)
        starts = (t == in_len - 1)[:, None]
        rec = np.where(starts, init + lpe[t], rec)
        beta[t] = np.where(valid & (t <= in_len - 1)[:, None], rec, NEG_INF)
    grad = np.zeros(lp.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        occupancy = np.exp(alpha[:t_max] + beta + nll[None, :, None] - lpe)
    occupancy = np.where(np.isneginf(alpha[:t_max] + beta), 0.0, occupancy)
    times, samples, _ = np.indices(lpe.shape, sparse=True)
    np.add.at(grad, (times, samples, ext[None, :, :]), -occupancy)
    impossible = np.isinf(nll)[None, :] & (np.arange(t_max)[:, None] < in_len[None, :])
    grad[impossible] = np.nan                              # d(inf)/d lp is undefined, as in PyTorch
    return nll, grad


class _CTC(Function):
    """Per-sample CTC negative log-likelihood; backward is the exact derivative w.r.t. log_probs."""

    @staticmethod
    def forward(ctx: Function, lp: np.ndarray, ext: np.ndarray, ext_len: np.ndarray,
                in_len: np.ndarray, zero_infinity: bool) -> np.ndarray:
        want = bool(ctx.needs_input_grad and ctx.needs_input_grad[0])
        nll, grad = ctc_forward_backward(lp.astype(np.float64), ext, ext_len, in_len, want)
        if zero_infinity:
            bad = np.isinf(nll)
            nll = np.where(bad, 0.0, nll)
            if grad is not None:
                grad[:, bad] = 0.0
        ctx.grad_lp = None if grad is None else grad.astype(lp.dtype)
        return nll.astype(lp.dtype)

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        """The gradient is the alpha-beta occupancy, a dynamic program on arrays with no
        Tensor-op form here: like PyTorch, ctc_loss has no double backward."""
        raise RuntimeError(
            "ctc_loss: double backward is not implemented (as in PyTorch): create_graph=True "
            "cannot differentiate through ctc_loss again. Take the gradient without create_graph."
        )

    @staticmethod
    def fast_backward(ctx: Function, grad: np.ndarray) -> np.ndarray:
        """The exact derivative w.r.t. log_probs, computed with the loss by forward, times g."""
        return ctx.grad_lp * grad[None, :, None]


def _lengths(name: str, value: Any, n: int) -> np.ndarray:
    arr = as_array(value)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise RuntimeError(f"ctc_loss: {name} must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64).reshape(-1)
    if arr.shape[0] != n:
        raise RuntimeError(
            f"ctc_loss: {name} must have one entry per batch element ({n}), got {arr.shape[0]}"
        )
    return arr


def _extended(targets: np.ndarray, tgt_len: np.ndarray, concatenated: bool, blank: int,
              num_classes: int) -> np.ndarray:
    """The blank-interleaved label rows l' (N, 2 S_max + 1), padded with blanks."""
    n, s_max = tgt_len.shape[0], int(tgt_len.max(initial=0))
    labels = np.full((n, s_max), blank, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(tgt_len)])
    for i in range(n):
        row = targets[offsets[i]:offsets[i + 1]] if concatenated else targets[i, :tgt_len[i]]
        labels[i, :tgt_len[i]] = row
    used = np.arange(s_max)[None, :] < tgt_len[:, None]
    if used.any() and (labels[used].min() < 0 or labels[used].max() >= num_classes):
        raise RuntimeError(
            f"ctc_loss: target labels must be in [0, {num_classes}), got values in "
            f"[{labels[used].min()}, {labels[used].max()}]"
        )
    ext = np.full((n, 2 * s_max + 1), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    return ext


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss: -log P(target | frame log-probs).

    log_probs (T, N, C) or unbatched (T, C), normally ``log_softmax`` outputs; targets padded
    (N, S) or 1-D concatenated (length sum(target_lengths)); lengths per sample. Targets must
    not contain ``blank``. Gradient: d nll / d lp_t[c] = -exp(gamma_t(c) + nll - lp_t[c]),
    gamma_t(c) = logsumexp over {s : l'_s = c} of alpha_t(s) + beta_t(s) (the exact derivative;
    through log_softmax it equals PyTorch's). 'mean' = mean over the batch of
    loss_n / max(target_length_n, 1); impossible alignments give inf unless
    ``zero_infinity`` (then 0 with zero gradient). Use it for speech or handwriting
    recognition, where the output is shorter than the input and unaligned.
    """
    check_reduction("ctc_loss", reduction)
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got {log_probs.shape}")
    unbatched = log_probs.ndim == 2
    lp = log_probs.reshape(log_probs.shape[0], 1, log_probs.shape[1]) if unbatched else log_probs
    t_max, n, c = lp.shape
    if not 0 <= blank < c:
        raise RuntimeError(f"ctc_loss: blank must be in [0, {c}) for {c} classes, got {blank}")
    tgt = as_array(targets)
    if tgt.dtype.kind not in "iu" and tgt.size:
        raise RuntimeError(f"ctc_loss: targets must be integers, got dtype {tgt.dtype}")
    tgt = tgt.astype(np.int64)
    if unbatched:
        tgt = tgt.reshape(1, -1)
    in_len = _lengths("input_lengths", input_lengths, n)
    tgt_len = _lengths("target_lengths", target_lengths, n)
    if (tgt_len < 0).any():
        raise RuntimeError(f"ctc_loss: target_lengths must be >= 0, got {tgt_len.tolist()}")
    if (in_len < 0).any() or (in_len > t_max).any():
        raise RuntimeError(
            f"ctc_loss: input_lengths must be in [0, {t_max}] (T of log_probs), got {in_len.tolist()}"
        )
    concatenated = tgt.ndim == 1
    if concatenated and tgt.shape[0] != tgt_len.sum():
        raise RuntimeError(
            f"ctc_loss: concatenated targets have length {tgt.shape[0]} but target_lengths sum "
            f"to {int(tgt_len.sum())}"
        )
    if not concatenated and (tgt.ndim != 2 or tgt.shape[0] != n or tgt.shape[1] < tgt_len.max(initial=0)):
        raise RuntimeError(
            f"ctc_loss: padded targets must be (N={n}, S) with S >= max target length "
            f"{int(tgt_len.max(initial=0))}, got {tgt.shape}"
        )
    ext = _extended(tgt, tgt_len, concatenated, blank, c)
    nll = _CTC.apply(lp, ext=ext, ext_len=2 * tgt_len + 1, in_len=in_len, zero_infinity=zero_infinity)
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":
        denom = Tensor.make(np.maximum(tgt_len, 1).astype(nll.dtype))
        return (nll / denom).mean()
    return nll.reshape(()) if unbatched else nll


class CTCLoss(Module):
    """Module form of :func:`ctc_loss`: forward(log_probs, targets, input_lengths, target_lengths)."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__()
        check_reduction("CTCLoss", reduction)
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs: Tensor, targets: Any, input_lengths: Any,
                target_lengths: Any) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)
