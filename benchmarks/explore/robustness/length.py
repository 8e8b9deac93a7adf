"""Issue 13 exploration: attribution conditioned on length, for models told to be concise or verbose.

The 6 prompted variants of ``alpaca_eval_wide`` (a model told to be concise or verbose) are named by
20 pooled answers for 3 of 6 (``benchmarks/results/builtin-set.md``).  Being told to be concise
moves an answer's length, and with it most features.  Under the Gaussian model the fingerprints
already hold what is needed to ask instead "does this text look like model k's texts *of this
length*": the conditional distribution of the other features given the length features ``L``
(``log_chars``, ``log_words``, ``log_sentences``, ``log_paragraphs``), with the pooled within-model
covariance S:

    z = x_R - B x_L,  B = S_RL S_LL^-1;  class means nu_k = mu_R,k - B mu_L,k;  covariance S_RR|L.

That is an LDA on ``z`` (the length features' own evidence dropped).  The conditioning set is fixed
in advance (the four length features, nothing tuned on the variants); a second set adds the layout
counts (markdown headers, bullets, numbered lines) for comparison only.

Measured on the built-in set (81 models, fingerprints from `train` prompts) on `dev` answers:
per-text top-1 on the 81 models and the share of 200 random pools of 20 answers of one model named
right (summed log-likelihoods), against the same for the plain LDA; and for each prompted variant,
per-text accuracy of naming the parent and the share of 200 pools of 20 naming it.

usage: python benchmarks/explore/robustness/length.py     (log: length.log; ~2 min)
"""

import json
from pathlib import Path

import numpy as np

import fingerprint as fp
from fingerprint import references

DATA = Path("../shared/data")
rng = np.random.default_rng(0)

refs = references.builtin()
space, lda = refs.space, refs.lda()
classes = [str(c) for c in lda.classes]
lineage = {}
for c in ("alpaca_eval_train", "alpaca_eval_wide"):
    lineage.update(json.loads((DATA / c / "lineage.json").read_text()))
texts, models = [], []
for c in ("alpaca_eval_train", "alpaca_eval_wide"):
    ds = fp.load_corpus(DATA / c, split="dev")
    texts += list(ds["text"])
    models += list(ds["model"])
models = np.array(models, dtype=object)
X = space.transform(texts)
style = space.block("style")
names = list(fp.features.style.STYLE_MARKER_NAMES)
Lc = np.tril(lda.chol[0])
S, mu = Lc @ Lc.T, lda.means  # the shrunk pooled covariance the LDA uses


def conditioned(cols):
    """(Z, class means, covariance) of the LDA on the features conditioned on columns ``cols``."""
    L = np.array([style.start + names.index(c) for c in cols])
    Rest = np.setdiff1d(np.arange(X.shape[1]), L)
    B = np.linalg.solve(S[np.ix_(L, L)], S[np.ix_(L, Rest)]).T  # (|R|, |L|)
    cov = S[np.ix_(Rest, Rest)] - B @ S[np.ix_(L, Rest)]
    return X[:, Rest] - X[:, L] @ B.T, mu[:, Rest] - mu[:, L] @ B.T, cov


def loglik(Z, means, cov):
    """Gaussian log-likelihood of each row under each class, up to a shared constant."""
    W = np.linalg.solve(cov, means.T)  # (d, K)
    return Z @ W - 0.5 * np.einsum("kd,dk->k", means, W)[None]


LENGTH = ["log_chars", "log_words", "log_sentences", "log_paragraphs"]
LAYOUT = LENGTH + ["md_header_lines", "md_bullet_lines", "md_numbered_lines"]
variants = {m: v["parent"] for m, v in lineage.items() if v.get("role") == "prompted" and v["parent"] in classes}
known = np.isin(models, classes)
y = np.array([classes.index(m) if k else -1 for m, k in zip(models, known, strict=True)])
rows_of = {m: np.flatnonzero(models == m) for m in set(classes) | set(variants)}


def pools(G, target, idx, n=200, size=20):
    return float(np.mean([G[rng.choice(idx, size, replace=False)].sum(0).argmax() == target for _ in range(n)]))


for label, G in [("plain LDA", loglik(X, mu, S)), ("conditioned on length (4)", loglik(*conditioned(LENGTH))),
                 ("conditioned on length + layout (7)", loglik(*conditioned(LAYOUT)))]:
    top1 = float(np.mean(G[known].argmax(1) == y[known]))
    pooled = np.mean([pools(G, classes.index(m), rows_of[m], n=20) for m in classes])
    print(f"\n{label}: 81 models per-text top-1 {top1:.3f}, pools of 20 named right {pooled:.3f}")
    right = 0
    for m, parent in sorted(variants.items()):
        idx, k = rows_of[m], classes.index(parent)
        share = pools(G, k, idx)
        pt = float(np.mean(G[idx].argmax(1) == k))
        top = classes[int(G[idx].sum(0).argmax())]
        right += share > 0.5
        print(f"  {m:<36} per text {pt:.3f}  pools of 20 naming {parent}: {share:.2f}  all {len(idx)} answers: {top}")
    print(f"  variants whose pools of 20 name the parent more often than not: {right}/6")
