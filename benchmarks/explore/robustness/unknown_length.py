"""Is "none of these" per text hidden by length?  (issue 13, item 3c; exploration, 2026-12-06)

The built-in set, leave one family out as ``benchmarks/builtin_set.py`` does; per text, known vs
unknown scored by (a) the calibrated top confidence, (b) the distance to the nearest remaining
fingerprint, and the same two with the length taken out: (c) confidence and (d) log distance minus
their mean at the text's length (a cubic in the length feature, fitted on the known texts of that
split: 4 numbers over ~12,000 texts; in a library they would come from the calibration's held-out
texts).  Mean AUROC over the 29 families.  Run from the project root; ~5 min on 2 cores.
"""

import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
from sklearn.metrics import roc_auc_score

from fingerprint import references
from fingerprint.attribution import family_index

from common import dev_answers, families_left_out

warnings.simplefilter("ignore")
refs = references.builtin()
T, M = dev_answers(refs.models)
X = refs.space.transform(T)
u = X[:, refs.space.length_column]
classes = refs.models
names, fam = family_index(refs, classes)


def resid(y, u, fit_rows):
    A = np.vander(np.clip(u, -10, 10), 4)
    coef, *_ = np.linalg.lstsq(A[fit_rows], y[fit_rows], rcond=None)
    return y - A @ coef


res = {k: [] for k in ("confidence", "distance", "confidence | length", "log distance | length")}
for f_name, gone, sub in families_left_out():
    lda = sub.lda()
    conf = lda.proba(X).max(axis=1)
    dmin = lda.distances(X).min(axis=1)
    unknown = np.isin(M, gone)
    res["confidence"].append(roc_auc_score(~unknown, conf))
    res["distance"].append(roc_auc_score(unknown, dmin))
    res["confidence | length"].append(roc_auc_score(~unknown, resid(conf, u, ~unknown)))
    res["log distance | length"].append(roc_auc_score(unknown, resid(np.log(dmin), u, ~unknown)))
print(f"{len(T)} dev texts, {len(names)} families left out in turn; mean AUROC known vs unknown per text:")
for k, v in res.items():
    print(f"  {k:24s} {np.mean(v):.3f}  (families: min {np.min(v):.3f}, max {np.max(v):.3f})")
n_chars = np.array([len(t) for t in T])
print("corr(log distance to own model's nearest, log chars):",
      np.corrcoef(np.log(refs.lda().distances(X).min(axis=1)), np.log1p(n_chars))[0, 1].round(3))
