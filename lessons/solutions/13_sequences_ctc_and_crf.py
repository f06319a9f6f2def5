"""Answer key of lesson 13, sequences: CTC and CRF: the exercises and the questionnaire.

The references are minigrad's own `F.ctc_loss` and autograd through the CRF's score, or a
brute-force enumeration of every path, never a second copy of the learner's recursion."""

from __future__ import annotations

import itertools

import numpy as np
from course import Exercise

import minigrad as mg
import minigrad.nn.functional as F


def _collapse(path) -> list[int]:
    out, previous = [], None
    for label in path:
        if label != previous and label != 0:
            out.append(int(label))
        previous = label
    return out


def _min_frames(target) -> int:
    """Enumerate paths over {blank, labels} until one collapses to ``target``."""
    labels = sorted(set(target)) + [0]
    for T in itertools.count(1):
        if any(_collapse(p) == list(target) for p in itertools.product(labels, repeat=T)):
            return T


def _ctc_reference(log_probs, target) -> float:
    T = log_probs.shape[0]
    return F.ctc_loss(mg.tensor(log_probs), mg.tensor(np.array(target)), [T], [len(target)],
                      reduction="sum").item()


def _ctc_inputs(rng: np.random.Generator) -> tuple:
    C = int(rng.integers(3, 6))
    target = [int(v) for v in rng.integers(1, C, size=int(rng.integers(1, 5)))]
    repeats = sum(a == b for a, b in zip(target, target[1:]))
    T = len(target) + repeats + int(rng.integers(0, 5))
    return F.log_softmax(mg.tensor(rng.normal(0, 2, size=(T, C))), dim=1).numpy(), target


def _brute_log_z(E, A) -> mg.Tensor:
    """log Z as a Tensor, by enumerating all K^T tag sequences (differentiable, for small chains)."""
    T, K = E.shape
    scores = [E[np.arange(T), y].sum() + A[y[:-1], y[1:]].sum()
              for y in map(np.array, itertools.product(range(K), repeat=T))]
    return mg.stack(scores).logsumexp(0)


def _chain(rng: np.random.Generator) -> tuple:
    """Emission and transition Tensors of a random chain of 2-5 tokens and 2-3 tags."""
    T, K = int(rng.integers(2, 6)), int(rng.integers(2, 4))
    return mg.tensor(rng.normal(size=(T, K))), mg.tensor(rng.normal(size=(K, K)))


def _emission_grad_reference(marginals, tags) -> np.ndarray:
    return marginals - np.eye(marginals.shape[1])[tags]


def _marginals_and_tags(rng: np.random.Generator) -> tuple:
    """Marginals of a random chain by autograd (d log Z / dE = P(y_t = k)), and random tags."""
    E, A = _chain(rng)
    E.requires_grad = True
    _brute_log_z(E, A).backward()
    return E.grad.numpy(), rng.integers(0, E.shape[1], size=E.shape[0])


EXERCISES: dict[str, Exercise] = {
    "13-collapse": Exercise(
        kind="implement",
        task="CTC's collapse map: merge repeats, then drop blanks",
        hints=("Walk through the path remembering the previous label; keep a label only when "
               "it differs from the one before it.",
               "Merge first, then drop: compare each label with the previous *path* label (blank "
               "included), and skip zeros. [1, 0, 1] gives [1, 1], [1, 1] gives [1]."),
        reference=_collapse,
        make_inputs=lambda rng: ([int(v) for v in rng.integers(0, 4, size=int(rng.integers(1, 12)))],),
        solution='''def collapse(path):
    """CTC's map B: merge repeated labels, then drop the blanks (0)."""
    out, previous = [], None
    for label in path:
        if label != previous and label != 0:
            out.append(int(label))
        previous = label
    return out


check_function("13-collapse", collapse)''',
    ),
    "13-min-frames": Exercise(
        kind="predict",
        task="the fewest frames CTC needs to output abba",
        hints=("Each letter needs at least one frame of its own. Is that enough for the two b's?",
               "Two equal neighbouring labels merge unless a blank separates them: count one extra "
               "frame for each such pair."),
        expected=_min_frames,
        solution='''min_frames = 5

check("13-min-frames", min_frames, target=(1, 2, 2, 1))''',
    ),
    "13-ctc-nll": Exercise(
        kind="implement",
        task="CTC's negative log-likelihood by the forward recursion in log space",
        hints=("Build the extended target ext = [0, l1, 0, l2, ..., lL, 0]; alpha has one entry per "
               "position of ext, initialised to -inf except positions 0 and 1 at frame 0.",
               "At each later frame, new[s] = logaddexp of alpha[s], alpha[s-1] and (if ext[s] != 0 "
               "and ext[s] != ext[s-2]) alpha[s-2], plus log_probs[t, ext[s]]. Return "
               "-logaddexp(alpha[-1], alpha[-2])."),
        reference=_ctc_reference,
        make_inputs=_ctc_inputs,
        rtol=1e-9,
        solution='''def ctc_nll(log_probs, target):
    """-log P(target | frames) by the CTC forward recursion in log space (blank = 0)."""
    ext = [0]
    for label in target:
        ext += [label, 0]
    S = len(ext)
    alpha = np.full(S, -np.inf)
    alpha[0] = log_probs[0, 0]
    alpha[1] = log_probs[0, ext[1]]
    for t in range(1, log_probs.shape[0]):
        new = np.full(S, -np.inf)
        for s in range(S):
            total = alpha[s]
            if s >= 1:
                total = np.logaddexp(total, alpha[s - 1])
            if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2]:
                total = np.logaddexp(total, alpha[s - 2])
            new[s] = total + log_probs[t, ext[s]]
        alpha = new
    return -np.logaddexp(alpha[-1], alpha[-2])


check_function("13-ctc-nll", ctc_nll)''',
    ),
    "13-crf-max-bug": Exercise(
        kind="bug",
        task="a CRF forward algorithm that takes the max instead of the log-sum-exp",
        hints=("log Z sums exp(score) over every sequence. Which line should sum over the "
               "previous tag, and what does it do instead?",
               "Inside the loop, .amax(0) keeps only the best previous tag (that is Viterbi). "
               "The forward algorithm combines all of them in log space."),
        reference=_brute_log_z,
        make_inputs=_chain,
        rtol=1e-9,
        solution='''def crf_log_partition(E, A):
    """log Z of a linear-chain CRF with emission Tensor E (T, K) and transitions A (K, K)."""
    T, K = E.shape
    a = E[0]
    for t in range(1, T):
        a = (a.reshape(K, 1) + A).logsumexp(0) + E[t]
    return a.logsumexp(0)


check_function("13-crf-max-bug", crf_log_partition)''',
    ),
    "13-crf-emission-grad": Exercise(
        kind="derive",
        task="the CRF's dNLL/dE from the marginals and the observed tags",
        hints=("dNLL/dE[t, k] is an expected count minus an observed count. What is the expected "
               "number of times tag k sits at position t?",
               "Expected: the marginal P(y_t = k). Observed: 1 where k is the tag at t, else 0, a "
               "one-hot matrix of the tags (np.eye(K)[tags])."),
        reference=_emission_grad_reference,
        make_inputs=_marginals_and_tags,
        solution='''def emission_grad(marginals, tags):
    """dNLL/dE of a linear-chain CRF from the marginals P(y_t = k) (T, K) and the tags (T,)."""
    return marginals - np.eye(marginals.shape[1])[tags]


check_function("13-crf-emission-grad", emission_grad)''',
    ),
}

QUESTIONS: dict[str, str] = {
    "What two jobs does CTC's blank do?":
        "It lets the model output nothing on a frame (between letters, or on frames it is unsure "
        "of), and it separates two equal neighbouring labels, which would otherwise merge into "
        "one.",
    "Why may the CTC recursion skip a blank between `a` and `b`, but not between `b` and `b`?":
        "A path a,b on neighbouring frames collapses to ab, so the blank between them is optional. "
        "A path b,b collapses to a single b, so to produce bb the path must pass through the blank.",
    "Why do CTC and the CRF forward algorithm run in log space?":
        "They multiply T probabilities (or exponentiate sums of T scores): the products underflow "
        "to 0 (or overflow) for long sequences. In log space products are sums and sums are "
        "log-sum-exps, which stay finite.",
    "What assumption about the frames makes a CTC path's probability a product of per-frame "
    "probabilities?":
        "Conditional independence: given the input, the label at each frame is drawn "
        "independently of the labels at other frames (the model outputs one softmax per frame).",
    "What is the difference between the forward algorithm and Viterbi, and when do you use each?":
        "The forward algorithm log-sum-exps over the previous tag and gives log Z, summed over all "
        "sequences: training needs it for the NLL. Viterbi takes the max and gives the best "
        "sequence's score (with back-pointers, the sequence itself): used for decoding.",
    "Why is the gradient of a CRF's NLL \"expected minus observed counts\", and what does it mean "
    "when it is zero?":
        "The score is linear in the parameters with the feature counts as coefficients, and "
        "d log Z / d theta is the model's expectation of those counts. Zero means the model's "
        "expected counts equal the observed ones (moment matching), the maximum-likelihood "
        "condition.",
    "Why are CTC's posteriors typically peaky, and why are this lesson's not?":
        "Any path that collapses to the target counts, and blank is a safe answer on every frame "
        "whose label is uncertain, so a model that sees context learns to fire each letter on one "
        "frame and say blank elsewhere. This lesson's model sees one frame at a time and all the "
        "frames of a held letter look alike, so it cannot pick one: it labels the whole run and "
        "the collapse merges it.",
}
