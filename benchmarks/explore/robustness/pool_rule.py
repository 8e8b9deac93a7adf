"""Which rule should pool many texts of one model into one ranking?  (2026-12-06; chooses the rule of
``fp.audit``'s ``posterior`` and of the builtin-set report's pooled attribution)

The built-in set's LDA on the `dev` answers of its 81 models; for pools of 5, 10, 20 and 50 answers of
one model (100 random pools per model), the share whose summed per-text values rank the true model
first, for three rules: (a) the calibrated log-probabilities (per-text temperature and the confidence
map: what ``posterior`` summed until now), (b) log-softmax with the per-text temperature and no map
(``benchmarks/run.py``'s pooled accuracy), (c) the LDA scores, i.e. the Gaussian log-likelihoods (one
temperature only rescales them).  Chosen on these known models only; the prompted variants are the
test (their shares, 200 pools of 20, are printed last, after the choice).  ~1 min after featurising
the 14,833 answers (~15 s, cached in /tmp/ex).
"""

import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

import fingerprint as fp
from fingerprint import references
from fingerprint.calibration import softmax_t

warnings.simplefilter("ignore")
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CACHE = Path("/tmp/ex/dev_builtin.npz")
refs = references.builtin()
lineage, T, M = {}, [], []
for d in ("alpaca_eval_train", "alpaca_eval_wide"):
    lineage.update(json.loads((DATA / d / "lineage.json").read_text()))
    dev = fp.load_corpus(DATA / d, split="dev")
    T += list(dev["text"])
    M += list(dev["model"])
M = np.array(M, dtype=object)
if CACHE.exists():
    X = np.load(CACHE)["X"]
else:
    CACHE.parent.mkdir(exist_ok=True)
    X = refs.space.transform(T)
    np.savez(CACHE, X=X)
lda = refs.lda()
classes = [str(c) for c in lda.classes]
S = lda.scores(X)
rules = {
    "(a) calibrated log-probabilities": np.log(np.clip(lda.proba(X), 1e-300, None)),
    "(b) log-softmax, per-text temperature": np.log(np.clip(softmax_t(S, lda.temperatures(X)), 1e-300, None)),
    "(c) log-likelihoods (LDA scores)": S,
}
rng = np.random.default_rng(0)
known = [c for c in classes if (M == c).sum() >= 50]
print(f"{len(known)} models, 100 pools each; share ranking the true model first")
print(f"{'rule':40s} " + " ".join(f"{'pools of ' + str(n):>12s}" for n in (5, 10, 20, 50)))
for name, L in rules.items():
    row = []
    for size in (5, 10, 20, 50):
        r = np.random.default_rng(size)  # the same pools for every rule
        row.append(np.mean([classes[int(L[r.choice(np.flatnonzero(M == c), size, replace=False)].sum(0).argmax())] == c
                            for c in known for _ in range(100)]))
    print(f"{name:40s} " + " ".join(f"{v:12.3f}" for v in row))
prompted = {m: v["parent"] for m, v in lineage.items() if v.get("role") == "prompted"}
print("\nprompted variants, 200 pools of 20: share naming the parent")
for name, L in rules.items():
    shares = []
    for m, p in sorted(prompted.items()):
        r, idx = np.random.default_rng(1), np.flatnonzero(M == m)
        shares.append(np.mean([classes[int(L[r.choice(idx, 20, replace=False)].sum(0).argmax())] == p for _ in range(200)]))
    print(f"{name:40s} " + " ".join(f"{s:.2f}" for s in shares) + f"   more often than not: {sum(s > 0.5 for s in shares)}/6")
print("(" + ", ".join(sorted(prompted)) + ")")
