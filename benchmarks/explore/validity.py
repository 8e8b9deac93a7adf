"""Issue 15 finding 4: are the audit's p-values valid at small n?  (exploration; the benchmark is
benchmarks/audit_validity.py)

Each built-in model's held-out ``dev`` answers are audited against the built-in references (which
include it).  A verdict naming a model of another family, or a p < alpha for such a candidate, is a
false positive.  Features are computed once and cached under /tmp/val.
"""

import sys
from pathlib import Path

import numpy as np

import fingerprint as fp
from fingerprint import references
from fingerprint.corpus import load_corpus
from fingerprint.setlevel import _audit_features

CACHE = Path("/tmp/val")
refs = references.builtin()
fam = dict(zip(refs.to_frame()["model"], refs.to_frame()["family"]))
if not (CACHE / "X.npy").exists():
    dev = load_corpus("../shared/data/alpaca_eval_train", split="dev")
    X = refs.space.transform(list(dev["text"]))
    np.save(CACHE / "X.npy", X)
    np.save(CACHE / "models.npy", np.array(dev["model"]))
X, models = np.load(CACHE / "X.npy"), np.load(CACHE / "models.npy")
sizes = [int(s) for s in sys.argv[1:]] or [2, 5, 10, 20, 50]
draws = 8
rng = np.random.default_rng(0)
for n in sizes:
    false_v, total, pvals, right = 0, 0, [], 0
    for u in refs.models:
        rows = np.flatnonzero(models == u)
        for _ in range(draws):
            idx = rng.choice(rows, n, replace=False)
            r = _audit_features(X[idx], None, refs, alpha=0.05, exclude_family=True, n_bootstrap=50,
                                top_features=0, random_state=int(rng.integers(1 << 30)))
            total += 1
            if r.verdict is not None and fam[r.verdict] != fam[u]:
                false_v += 1
            right += r.verdict == u
            pvals += [c.p_value for c in r.candidates if fam[c.model] != fam[u]]
    pv = np.array(pvals)
    print(f"n={n:3d} false verdicts {false_v}/{total}  P(p<.05)={np.mean(pv < .05):.3f} "
          f"P(p<.01)={np.mean(pv < .01):.3f} min p={pv.min():.2g} is-self {right}/{total}", flush=True)
