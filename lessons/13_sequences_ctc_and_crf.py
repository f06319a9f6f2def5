# %% [markdown]
# # Lesson 13: Sequences: CTC and CRF
#
# Two losses for sequences whose **alignment** is unknown or structured, both built on the
# same idea: sum the probability of exponentially many paths with a recursion that costs
# only $O(T)$ steps, done in log space so nothing underflows.
#
# * **CTC** (connectionist temporal classification, Graves et al. 2006) trains a model that
#   emits one distribution per input frame to output a *shorter* label sequence, without
#   anyone saying which frame is which label: speech and handwriting recognition.
# * A **linear-chain CRF** (conditional random field) scores a whole tag sequence, emissions
#   plus transitions between neighbouring tags: named-entity tagging, segmentation. Its
#   negative log-likelihood's gradient is *expected minus observed feature counts*, which we
#   verify by enumerating every tag sequence of a tiny chain.
#
# *Time: about 60 minutes. Needs: lessons 02-05 (autograd, log-softmax and cross-entropy,
# training loops).*

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np
from course import SMOKE, check, check_function, pick, result

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

mg.manual_seed(0)
print("smoke mode" if SMOKE else "full mode")

# %% [markdown]
# ## 1. The blank and the collapse
#
# A CTC model outputs, at each of $T$ frames, a distribution over the $C$ labels **plus a
# blank** (index 0 here). A *path* $\pi$ is one label per frame; the map $\mathcal{B}$
# collapses it to an output: first **merge runs of repeated labels**, then **remove the
# blanks**. With the letters a, b, c as 1, 2, 3:
#
# $$\mathcal{B}(\texttt{aa-b-bb}) = \texttt{abb},\qquad \mathcal{B}(\texttt{aabbb}) = \texttt{ab}.$$
#
# The blank does two jobs: it lets the model say "nothing here" between labels, and it is
# the only way to produce a doubled letter, since `bb` on neighbouring frames merges into one
# `b`. The model's probability of a target $\ell$ sums over all the paths that collapse to it,
# each path's probability being the product of its frames' (independent) probabilities:
#
# $$P(\ell \mid x) = \sum_{\pi:\ \mathcal{B}(\pi)=\ell}\ \prod_{t=1}^{T} y_t(\pi_t),\qquad
# \text{CTC loss} = -\log P(\ell\mid x).$$
#
# ### Exercise 1 (implement): the collapse
#
# Write `collapse(path)`: a list of ints in, the collapsed list out (blank = 0). The check
# tries random paths.

# %% tags=["exercise"] exercise_id="13-collapse"
def collapse(path):
    """CTC's map B: merge repeated labels, then drop the blanks (0)."""
    raise NotImplementedError("your code here")


check_function("13-collapse", collapse)

# %% [markdown]
# ### Exercise 2 (predict): the shortest input
#
# How many frames $T$ does a CTC model need, at least, to output `abba` (= `[1, 2, 2, 1]`)?
# Write the number, then the next cell counts it by enumerating every path.

# %% tags=["exercise"] exercise_id="13-min-frames"
min_frames = ...

check("13-min-frames", min_frames, target=(1, 2, 2, 1))

# %%
collapse = result("13-collapse", collapse)
abba = [1, 2, 2, 1]
for T in range(3, 7):
    n = sum(collapse(p) == abba for p in itertools.product(range(3), repeat=T))
    print(f"T = {T}: {n:3d} paths of {3 ** T} over {{-, a, b}} collapse to abba")
first_T = next(T for T in range(1, 8) if any(collapse(p) == abba for p in itertools.product(range(3), repeat=T)))

# %% [markdown]
# ## 2. The forward recursion
#
# Counting paths one by one costs $C^T$. CTC instead walks along the **extended target**
# $\ell' = (-, \ell_1, -, \ell_2, -, \dots, \ell_L, -)$ of length $2L+1$. Let
# $\alpha_t(s)$ be the total probability of the path prefixes up to frame $t$ that end at
# position $s$ of $\ell'$. A path may stay at $s$, step to $s+1$, or skip a blank to $s+2$
# (allowed only when $\ell'_s$ is a label different from $\ell'_{s-2}$: skipping the blank
# between two equal labels would merge them):
#
# $$\alpha_1(0) = y_1(-),\quad \alpha_1(1) = y_1(\ell_1),\qquad
# \alpha_t(s) = y_t(\ell'_s)\,\Big[\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
# + [\ell'_s \ne - \text{ and } \ell'_s \ne \ell'_{s-2}]\;\alpha_{t-1}(s-2)\Big],$$
#
# and $P(\ell\mid x) = \alpha_T(2L) + \alpha_T(2L-1)$ (ending on the last label or the final
# blank). Probabilities of long paths underflow, so everything runs on logs: products become
# sums and sums become `logaddexp`. A backward variable $\beta$ built the same way from the
# end gives every frame's gradient in one more pass; minigrad's `F.ctc_loss` does both.
#
# ### Exercise 3 (implement): CTC's negative log-likelihood
#
# Write `ctc_nll(log_probs, target)` for one sequence: `log_probs` is a $(T, C)$ array of
# log-probabilities (rows are log-softmaxes), `target` a list of labels (no blanks). Return
# $-\log P(\ell\mid x)$ with the recursion above in log space (`np.logaddexp`, and `-np.inf`
# for $\log 0$). The check compares it with `F.ctc_loss(..., reduction="sum")`.

# %% tags=["exercise"] exercise_id="13-ctc-nll"
def ctc_nll(log_probs, target):
    """-log P(target | frames) by the CTC forward recursion in log space (blank = 0)."""
    raise NotImplementedError("your code here")


check_function("13-ctc-nll", ctc_nll)

# %%
ctc_nll = result("13-ctc-nll", ctc_nll)
rng = np.random.default_rng(0)
lp_small = F.log_softmax(mg.tensor(rng.normal(size=(6, 3))), dim=1).numpy()
brute = -np.log(sum(np.exp(sum(lp_small[t, p[t]] for t in range(6)))
                    for p in itertools.product(range(3), repeat=6) if collapse(p) == abba))
recursion = ctc_nll(lp_small, abba)
library = F.ctc_loss(mg.tensor(lp_small), mg.tensor(np.array(abba)), [6], [4], reduction="sum").item()
print(f"-log P(abba) over 6 frames: brute force {brute:.10f}, recursion {recursion:.10f}, "
      f"F.ctc_loss {library:.10f}")

# %% [markdown]
# ## 3. Learning an alignment nobody gave
#
# The synthetic task: a "speaker" says a random word of 2-4 letters from {a, b, c}, holding
# each letter for 1-3 frames, with silent frames between some letters (always between two
# equal ones, or `bb` would sound like one long `b`). Each frame is a noisy 4-d feature:
# one-hot of the letter being said (or of silence), plus Gaussian noise. The model, a small
# MLP applied to each frame on its own, sees only the frames and the word; CTC has to find
# out which frames are which letter.

# %%
def make_word(rng, noise=0.4):
    """Noisy frames (T, 4), the word (labels 1-3) and each frame's hidden label (0: silence)."""
    word = list(rng.integers(1, 4, size=int(rng.integers(2, 5))))
    frames = []
    for i, letter in enumerate(word):
        if i > 0 and (letter == word[i - 1] or rng.random() < 0.3):
            frames += [0] * int(rng.integers(1, 3))
        frames += [letter] * int(rng.integers(1, 4))
    x = np.eye(4)[frames] + noise * rng.normal(size=(len(frames), 4))
    return x.astype(np.float32), word, np.array(frames)


def batch(rng, n):
    """n words padded to the longest: frames (T, n, 4), targets (n, 4), and both lengths."""
    words = [make_word(rng)[:2] for _ in range(n)]
    T = max(len(x) for x, _ in words)
    X = np.zeros((T, n, 4), np.float32)
    targets = np.zeros((n, 4), np.int64)
    for i, (x, w) in enumerate(words):
        X[:len(x), i] = x
        targets[i, :len(w)] = w
    return X, targets, np.array([len(x) for x, _ in words]), np.array([len(w) for _, w in words])


model = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 4))
opt = optim.Adam(model.parameters(), lr=0.02)
data_rng = np.random.default_rng(1)
STEPS = pick(400, 150)
ctc_losses = []
for _ in range(STEPS):
    X, targets, in_len, tgt_len = batch(data_rng, 32)
    log_probs = F.log_softmax(model(mg.tensor(X)), dim=2)
    loss = F.ctc_loss(log_probs, targets, in_len, tgt_len)
    opt.zero_grad()
    loss.backward()
    opt.step()
    ctc_losses.append(loss.item())
print(f"CTC loss (mean per target letter): first 10 steps {np.mean(ctc_losses[:10]):.3f}, "
      f"last 10 steps {np.mean(ctc_losses[-10:]):.3f}")

# %% [markdown]
# Greedy decoding takes the most likely label at each frame and collapses the path. We
# count the words of a fresh test set read back exactly.

# %%
test_rng = np.random.default_rng(2)
test_words = [make_word(test_rng) for _ in range(200)]
with mg.no_grad():
    frame_preds = [model(mg.tensor(x)).numpy().argmax(1) for x, _, _ in test_words]
decoded = [collapse(list(p)) for p in frame_preds]
word_accuracy = np.mean([d == [int(v) for v in w] for d, (_, w, _) in zip(decoded, test_words)])
hidden = np.concatenate([f for _, _, f in test_words])
said = np.concatenate(frame_preds)
letter_frames = hidden != 0
print(f"words read back exactly: {word_accuracy:.1%} of {len(test_words)}")
print(f"frames of a letter labelled with that letter: {(said[letter_frames] == hidden[letter_frames]).mean():.1%}, "
      f"labelled blank: {(said[letter_frames] == 0).mean():.1%}; silent frames labelled blank: "
      f"{(said[~letter_frames] == 0).mean():.1%}")

# %%
x_show, w_show, _ = test_words[0]
with mg.no_grad():
    post = F.softmax(model(mg.tensor(x_show)), dim=1).numpy()
fig, (ax_l, ax_p) = plt.subplots(1, 2, figsize=(11, 3.2))
ax_l.plot(ctc_losses)
ax_l.set(title="CTC loss while training", xlabel="step", yscale="log")
ax_p.imshow(post.T, aspect="auto", cmap="Greys", vmin=0, vmax=1)
ax_p.set(title=f"per-frame posteriors, word {''.join('-abc'[v] for v in w_show)}",
         xlabel="frame", yticks=range(4), yticklabels=["blank", "a", "b", "c"])
plt.show()

# %% [markdown]
# CTC found the alignment by itself: it was never told which frame is which letter, yet
# most frames of a letter now carry that letter and most silent frames the blank (the
# percentages above). A word is read back only if *every* frame is right, so the few
# per-frame mistakes, a noisy silent frame read as a letter, a letter frame read as another,
# cost whole words: that is the gap between the frame and the word figures.
#
# Models that see context (recurrent or convolutional networks over the frames) usually go
# further and become **peaky**: they fire a letter on one frame and say blank on all the
# others, because blank is the cheap answer on every frame whose label is uncertain. Ours
# looks at one frame at a time, and every frame of a held letter looks the same, so it
# cannot single one out: it labels the whole run, and the collapse merges it.
#
# ## 4. A linear-chain CRF
#
# Tagging gives one tag $y_t \in \{0,\dots,K-1\}$ per token. A linear-chain CRF scores a
# whole tag sequence with **emission** scores $E_{t,k}$ (from a model of token $t$) and
# **transition** scores $A_{i,j}$ (tag $i$ followed by tag $j$):
#
# $$s(y) = \sum_{t=1}^{T} E_{t,y_t} + \sum_{t=2}^{T} A_{y_{t-1},y_t},\qquad
# P(y) = \frac{e^{s(y)}}{Z},\quad Z = \sum_{y'} e^{s(y')},$$
#
# and the loss is $\mathrm{NLL}(y) = \log Z - s(y)$. $Z$ sums over $K^T$ sequences; the
# **forward algorithm** does it in $O(TK^2)$ with the same trick as CTC, in log space:
#
# $$a_1 = E_1,\qquad a_t(j) = E_{t,j} + \log\sum_i e^{a_{t-1}(i) + A_{i,j}},\qquad
# \log Z = \log\sum_j e^{a_T(j)}.$$
#
# Written with Tensor ops (`logsumexp`), autograd differentiates it for free.
#
# ### Exercise 4 (spot the bug): a forward algorithm that decodes
#
# `crf_log_partition` below returns something smaller than $\log Z$. Find the one mistake;
# the check compares it with $\log Z$ summed by brute force over every tag sequence.

# %% tags=["exercise"] exercise_id="13-crf-max-bug"
def crf_log_partition(E, A):
    """log Z of a linear-chain CRF with emission Tensor E (T, K) and transitions A (K, K)."""
    T, K = E.shape
    a = E[0]
    for t in range(1, T):
        a = (a.reshape(K, 1) + A).amax(0) + E[t]
    return a.logsumexp(0)


check_function("13-crf-max-bug", crf_log_partition)

# %% [markdown]
# The buggy version is not useless: with `amax` instead of log-sum-exp it is the **Viterbi**
# score, the best single sequence's score, which is what you decode with.
#
# ## 5. The gradient: expected minus observed counts
#
# Differentiate $\mathrm{NLL} = \log Z - s(y)$. Since $\partial \log Z/\partial\theta =
# \sum_{y'} P(y')\,\partial s(y')/\partial\theta$ and $s$ is linear in $E$ and $A$:
#
# $$\frac{\partial\,\mathrm{NLL}}{\partial E_{t,k}} = P(y_t = k) - [y_t = k],\qquad
# \frac{\partial\,\mathrm{NLL}}{\partial A_{i,j}} = \sum_{t} P(y_{t-1}=i,\,y_t=j)
# - \#\{t : y_{t-1}=i,\,y_t=j\}.$$
#
# **Expected** feature counts under the model minus the **observed** counts in the label:
# the gradient is zero exactly when the model's expected counts match the data's. We check it
# on a chain small enough ($T=4$, $K=3$: 81 sequences) to compute the expectations by
# enumerating every sequence.

# %%
crf_log_partition = result("13-crf-max-bug", crf_log_partition)
rng = np.random.default_rng(3)
T_crf, K = 4, 3
E = mg.tensor(rng.normal(size=(T_crf, K)), requires_grad=True)
A = mg.tensor(rng.normal(size=(K, K)), requires_grad=True)
y_obs = np.array([0, 2, 2, 1])
score = E[np.arange(T_crf), y_obs].sum() + A[y_obs[:-1], y_obs[1:]].sum()
nll = crf_log_partition(E, A) - score
nll.backward()


def counts(y):
    """The feature counts of one tag sequence: emissions (T, K) and transitions (K, K)."""
    emit, trans = np.zeros((T_crf, K)), np.zeros((K, K))
    emit[np.arange(T_crf), y] = 1
    np.add.at(trans, (y[:-1], y[1:]), 1)
    return emit, trans


En, An = E.detach().numpy(), A.detach().numpy()
sequences = [np.array(y) for y in itertools.product(range(K), repeat=T_crf)]
scores = np.array([En[np.arange(T_crf), y].sum() + An[y[:-1], y[1:]].sum() for y in sequences])
probs = np.exp(scores - np.logaddexp.reduce(scores))
expected_emit = sum(p * counts(y)[0] for p, y in zip(probs, sequences))
expected_trans = sum(p * counts(y)[1] for p, y in zip(probs, sequences))
observed_emit, observed_trans = counts(y_obs)
brute_nll = np.logaddexp.reduce(scores) - (En[np.arange(T_crf), y_obs].sum() + An[y_obs[:-1], y_obs[1:]].sum())
print(f"NLL by the forward algorithm {nll.item():.10f}, by enumeration {brute_nll:.10f}")
print("dNLL/dE by autograd:\n", np.round(E.grad.numpy(), 4))
print("expected - observed emission counts:\n", np.round(expected_emit - observed_emit, 4))
print("largest difference, emissions:", np.abs(E.grad.numpy() - (expected_emit - observed_emit)).max(),
      " transitions:", np.abs(A.grad.numpy() - (expected_trans - observed_trans)).max())

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3))
panels = [(expected_trans, "expected transition counts", "Greys"),
          (observed_trans, "observed transition counts", "Greys"),
          (A.grad.numpy(), "dNLL/dA (autograd)", "coolwarm")]
for ax, (M, title, cmap) in zip(axes, panels):
    im = ax.imshow(M, cmap=cmap)
    ax.set(title=title, xlabel="to tag j", ylabel="from tag i", xticks=range(K), yticks=range(K))
    fig.colorbar(im, ax=ax, shrink=0.8)
plt.show()

# %% [markdown]
# ### Exercise 5 (derive): the emission gradient from the marginals
#
# The emission part of the gradient needs only the **marginals** $P(y_t = k)$, which the
# forward-backward algorithm computes in $O(TK^2)$. Given the marginals as a $(T, K)$ array
# and the observed tags, write the gradient $\partial\,\mathrm{NLL}/\partial E$ (a $(T, K)$
# array). The check compares it with autograd on random chains.

# %% tags=["exercise"] exercise_id="13-crf-emission-grad"
def emission_grad(marginals, tags):
    """dNLL/dE of a linear-chain CRF from the marginals P(y_t = k) (T, K) and the tags (T,)."""
    raise NotImplementedError("your code here")


check_function("13-crf-emission-grad", emission_grad)

# %% [markdown]
# ## Questionnaire
#
# Answer in your own words; the answers are in `lessons/solutions/13_sequences_ctc_and_crf.py`.
#
# 1. What two jobs does CTC's blank do?
# 2. Why may the CTC recursion skip a blank between `a` and `b`, but not between `b` and `b`?
# 3. Why do CTC and the CRF forward algorithm run in log space?
# 4. What assumption about the frames makes a CTC path's probability a product of per-frame probabilities?
# 5. What is the difference between the forward algorithm and Viterbi, and when do you use each?
# 6. Why is the gradient of a CRF's NLL "expected minus observed counts", and what does it mean when it is zero?
# 7. Why are CTC's posteriors typically peaky, and why are this lesson's not?
#
# ## Checks

# %%
assert first_T == 5 and collapse([1, 1, 0, 2, 0, 2, 2]) == [1, 2, 2] and collapse([1, 1, 2, 2, 2]) == [1, 2]
assert np.isclose(brute, library, rtol=1e-10) and np.isclose(recursion, library, rtol=1e-10)
assert ctc_losses[-1] < ctc_losses[0] / 2
assert word_accuracy > (0.6 if not SMOKE else 0.3), word_accuracy
assert (said[letter_frames] == hidden[letter_frames]).mean() > 0.8 and (said[~letter_frames] == 0).mean() > 0.8
assert np.isclose(nll.item(), brute_nll, rtol=1e-12)
assert np.allclose(E.grad.numpy(), expected_emit - observed_emit, atol=1e-12)
assert np.allclose(A.grad.numpy(), expected_trans - observed_trans, atol=1e-12)
assert np.allclose(E.grad.numpy().sum(1), 0) and np.isclose(expected_trans.sum(), T_crf - 1)
print("all checks passed")
