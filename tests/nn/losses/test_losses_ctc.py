"""CTC loss: probability-space reference, gradcheck, edge cases, errors and torch."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from tests import reference_losses_b as ref

REDUCTIONS = ("none", "mean", "sum")


def log_softmax_np(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def batch(rng, t=8, n=4, c=5, s=4, blank=0):
    logits = rng.standard_normal((t, n, c))
    labels = [k for k in range(c) if k != blank]
    targets = rng.choice(labels, (n, s))
    targets[0, :3] = targets[0, 0]                  # repeated labels need a blank in between
    target_lengths = np.array([3, 0, s, 2])[:n]
    input_lengths = np.array([t, 5, t - 1, 2])[:n]
    return logits, targets, input_lengths, target_lengths


def reference_losses(log_probs, targets, input_lengths, target_lengths, blank=0):
    probs = np.exp(log_probs)
    return np.array([
        ref.ctc(probs[: input_lengths[i], i], list(targets[i, : target_lengths[i]]), blank)
        for i in range(len(input_lengths))
    ])


def test_golden_value():
    x = np.array([[0.5, 0.2, 0.3], [0.1, 0.7, 0.2], [0.4, 0.4, 0.2], [0.6, 0.1, 0.3]])
    lp = mg.tensor(x[:, None, :]).log_softmax(2)
    assert F.ctc_loss(lp, [[1, 2]], [4], [2], reduction="sum").item() == pytest.approx(1.590839, abs=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("blank", [0, 2])
@pytest.mark.parametrize("concatenated", [False, True])
def test_matches_probability_space_reference(rng, reduction, blank, concatenated):
    logits, targets, in_len, tgt_len = batch(rng, blank=blank)
    lp = log_softmax_np(logits)
    per_sample = reference_losses(lp, targets, in_len, tgt_len, blank)
    tg = np.concatenate([targets[i, :tgt_len[i]] for i in range(len(tgt_len))]) if concatenated else targets
    out = F.ctc_loss(mg.tensor(lp), tg, in_len, tgt_len, blank=blank, reduction=reduction)
    if reduction == "mean":
        expected = np.mean(per_sample / np.maximum(tgt_len, 1))
    else:
        expected = ref.reduce_ref(per_sample, reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10)


def test_gradcheck_exact_derivative_wrt_log_probs(rng):
    logits, targets, in_len, tgt_len = batch(rng, t=5, n=3, c=4, s=3)
    lp = mg.tensor(log_softmax_np(logits) + 0.3 * rng.standard_normal(logits.shape), requires_grad=True)
    assert mg.gradcheck(lambda v: F.ctc_loss(v, targets, in_len, tgt_len, reduction="none"), lp)
    logit_t = mg.tensor(logits, requires_grad=True)
    assert mg.gradcheck(lambda v: F.ctc_loss(v.log_softmax(2), targets, in_len, tgt_len), logit_t)


def test_impossible_alignment_inf_and_zero_infinity(rng):
    logits = rng.standard_normal((3, 2, 4))
    targets = np.array([[1, 1, 2], [1, 2, 3]])
    x = mg.tensor(logits, requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(2), targets, [3, 3], [3, 2], reduction="none")
    assert np.isinf(loss.data[0]) and np.isfinite(loss.data[1])
    loss.sum().backward()
    assert np.isnan(x.grad.data[:, 0]).all() and np.isfinite(x.grad.data[:, 1]).all()
    x.grad = None
    loss = F.ctc_loss(x.log_softmax(2), targets, [3, 3], [3, 2], reduction="sum", zero_infinity=True)
    loss.backward()
    assert np.isfinite(loss.item())
    np.testing.assert_array_equal(x.grad.data[:, 0], 0.0)
    assert np.abs(x.grad.data[:, 1]).sum() > 0


def test_zero_lengths():
    lp = mg.tensor(log_softmax_np(np.random.default_rng(3).standard_normal((4, 3, 3))))
    loss = F.ctc_loss(lp, [[1], [1], [2]], [0, 0, 4], [0, 1, 0], reduction="none")
    assert loss.data[0] == 0.0 and np.isinf(loss.data[1])
    assert loss.data[2] == pytest.approx(-lp.data[:, 2, 0].sum(), rel=1e-12)


def test_unbatched_equals_batched(rng):
    logits, targets, in_len, tgt_len = batch(rng)
    lp = log_softmax_np(logits)
    single = F.ctc_loss(mg.tensor(lp[:, 0]), targets[0, :tgt_len[0]], int(in_len[0]), int(tgt_len[0]),
                        reduction="none")
    batched = F.ctc_loss(mg.tensor(lp[:, :1]), targets[:1], in_len[:1], tgt_len[:1], reduction="none")
    assert single.shape == () and single.item() == pytest.approx(batched.data[0], rel=1e-12)


def test_float32_and_module(rng):
    logits, targets, in_len, tgt_len = batch(rng)
    x = mg.tensor(logits.astype(np.float32), requires_grad=True)
    loss = nn.CTCLoss(reduction="sum")(x.log_softmax(2), targets, in_len, tgt_len)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    expected = F.ctc_loss(mg.tensor(logits).log_softmax(2), targets, in_len, tgt_len, reduction="sum")
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_error_contracts(rng):
    logits, targets, in_len, tgt_len = batch(rng)
    lp = mg.tensor(log_softmax_np(logits))
    with pytest.raises(RuntimeError, match=r"ctc_loss: blank must be in \[0, 5\)"):
        F.ctc_loss(lp, targets, in_len, tgt_len, blank=5)
    with pytest.raises(RuntimeError, match="input_lengths must have one entry per batch element"):
        F.ctc_loss(lp, targets, in_len[:3], tgt_len)
    with pytest.raises(RuntimeError, match="target_lengths must be >= 0"):
        F.ctc_loss(lp, targets, in_len, np.array([1, -1, 2, 2]))
    with pytest.raises(RuntimeError, match=r"input_lengths must be in \[0, 8\]"):
        F.ctc_loss(lp, targets, np.array([9, 1, 1, 1]), tgt_len)
    with pytest.raises(RuntimeError, match="concatenated targets have length 3 but target_lengths sum to 9"):
        F.ctc_loss(lp, np.array([1, 2, 3]), in_len, tgt_len)
    with pytest.raises(RuntimeError, match="padded targets must be"):
        F.ctc_loss(lp, targets[:, :2], in_len, tgt_len)
    with pytest.raises(RuntimeError, match=r"target labels must be in \[0, 5\)"):
        F.ctc_loss(lp, np.full((4, 4), 7), in_len, tgt_len)
    with pytest.raises(RuntimeError, match="input_lengths must be integers"):
        F.ctc_loss(lp, targets, in_len.astype(float), tgt_len)
    with pytest.raises(RuntimeError, match="log_probs must be"):
        F.ctc_loss(mg.tensor(np.zeros(3)), targets, in_len, tgt_len)
    with pytest.raises(ValueError, match="batchmean is not a valid value for reduction"):
        nn.CTCLoss(reduction="batchmean")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_against_torch_through_log_softmax(torch, rng, reduction, zero_infinity):
    logits, targets, in_len, tgt_len = batch(rng, t=10, n=4, c=6, s=5)
    in_len[3] = 1                                     # impossible: 2 labels in 1 frame
    x = mg.tensor(logits, requires_grad=True)
    out = F.ctc_loss(x.log_softmax(2), targets, in_len, tgt_len, reduction=reduction,
                     zero_infinity=zero_infinity)
    xt = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.ctc_loss(xt.log_softmax(2), torch.tensor(targets), torch.tensor(in_len),
                                            torch.tensor(tgt_len), reduction=reduction,
                                            zero_infinity=zero_infinity)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10)
    g = rng.standard_normal(out.shape)
    out.backward(mg.tensor(g))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_non_contiguous_log_probs_give_identical_results(rng):
    logits, targets, in_len, tgt_len = batch(rng)
    lp = log_softmax_np(logits)
    view = np.ascontiguousarray(lp.transpose(1, 0, 2)).transpose(1, 0, 2)
    assert not view.flags.c_contiguous
    a, b = mg.tensor(lp, requires_grad=True), mg.tensor(view, requires_grad=True)
    F.ctc_loss(a, targets, in_len, tgt_len).backward()
    F.ctc_loss(b, targets, in_len, tgt_len).backward()
    np.testing.assert_array_equal(a.grad.data, b.grad.data)
