"""Attribution conditional on a text's size: does it find the parent of a model told to be concise or verbose?

Issue 13's robustness item: pools of 20 `dev` answers of the 6 prompted variants should be attributed
to their parent; 3 of 6 are (the concise gpt-4-1106-preview and Mixtral, and one pool of the verbose
alpaca-7b, are not).  A Gaussian with one shared covariance factorises as p(size | model) p(rest |
size, model); the LDA score minus the first factor compares a text with what each model writes *at
that size*, so "this model writes longer answers" stops counting against the parent of a model told
to be brief.  Two sets of size columns fixed beforehand: log_chars alone, and the four log counts
(chars, words, sentences, paragraphs).  Cost measured on the known models' own `dev` answers
(per text and pools of 20).  Built-in set (81 models).  One shot, not tuned: these are the only two
variants run.
"""

import json
import os
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import fingerprint as fp
from fingerprint import references

warnings.simplefilter("ignore")
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
refs = references.builtin()
lda = refs.lda()
classes = [str(c) for c in lda.classes]
lineage, rows = {}, {"text": [], "model": []}
for d in ("alpaca_eval_train", "alpaca_eval_wide"):
    lineage.update(json.loads((DATA / d / "lineage.json").read_text()))
    dev = fp.load_corpus(DATA / d, split="dev")
    rows["text"] += list(dev["text"])
    rows["model"] += list(dev["model"])
models = np.array(rows["model"], dtype=object)
X = refs.space.transform(rows["text"])
L = np.tril(lda.chol[0])
cov = L @ L.T
names = list(refs.space.get_feature_names_out())
SETS = {"log_chars": ["style:log_chars"],
        "4 size counts": ["style:log_chars", "style:log_words", "style:log_sentences", "style:log_paragraphs"]}


def marginal(cols):
    """Per text and model, log N(u; mean_k(u), cov_uu) up to a constant: the size factor of the score."""
    idx = [names.index(c) for c in cols]
    P = np.linalg.inv(cov[np.ix_(idx, idx)])
    M = lda.means[:, idx]
    U = X[:, idx]
    return U @ P @ M.T - 0.5 * np.einsum("kd,de,ke->k", M, P, M)[None, :]


rng = np.random.default_rng(0)
base = lda.scores(X)
known = np.isin(models, classes)
y = np.searchsorted(classes, models[known])
prompted = {m: v["parent"] for m, v in lineage.items() if v.get("role") == "prompted" and v["parent"] in classes}
pools_known = [rng.choice(np.flatnonzero(models == m), 20, replace=False) for m in classes for _ in range(5)
               if (models == m).sum() >= 20]
pool_draws = {m: [rng.choice(np.flatnonzero(models == m), 20, replace=False) for _ in range(200)] for m in prompted}
for tag, S in [("full score (shipped)", base)] + [(f"conditional on {k}", base - marginal(c)) for k, c in SETS.items()]:
    top1 = float(np.mean(S[known].argmax(1) == y))
    pool_top1 = float(np.mean([S[p].sum(0).argmax() == classes.index(models[p[0]]) for p in pools_known]))
    print(f"{tag}: known models, per text top-1 {top1:.3f}, pools of 20 top-1 {pool_top1:.3f} ({len(pools_known)} pools)")
    named = 0
    for m, parent in sorted(prompted.items()):
        idx = np.flatnonzero(models == m)
        per_text = float(np.mean(S[idx].argmax(1) == classes.index(parent)))
        share = float(np.mean([S[p].sum(0).argmax() == classes.index(parent) for p in pool_draws[m]]))
        modal = max(set(c := [classes[int(S[p].sum(0).argmax())] for p in pool_draws[m]]), key=c.count)
        named += share > 0.5
        print(f"   {m:40s} per text {per_text:.3f}  pools naming {parent}: {share:.2f} (most: {modal})")
    print(f"   parent named by more than half the pools: {named}/{len(prompted)}", flush=True)
