"""The unpaired audit in the references' discriminant subspace (exploration, 2026-12-07; issue 13, 3c).

The unpaired audit compares debiased squared distances of the pool mean to each reference mean in
all d = 628 whitened dimensions. Every reference-to-reference distance (the null) lies in the span
of the centred whitened means (K - 1 = 80 dimensions); outside it the audited pool adds only
sampling noise if it is one of the references, and its own offset if it is not. This script audits
as the library at hand does (shipped, or with ``audit_subspace.patch`` applied: distances, ranking
and the "closer than unrelated" p-values in the span, the same-model test in all dimensions, and
each reference's distances in the null reduced by its height over the other references' hull, as a
new model's projection loses it), and reports:

* known: each of the 81 built-in models' pools of N `dev` answers against the whole set: nearest
  right, Holm p < alpha for the nearest, relation ``is`` for the right model;
* unknown: leave one family out (as ``benchmarks/builtin_set.py``); each left-out model's pool
  against the rest: any ``is`` / ``learned-from`` verdict (a false claim), and the AUROC of
  known-vs-unknown pools by the nearest candidate's Holm p (known pools: 12 random other models per
  family, 1 pool each).

Usage: python benchmarks/explore/robustness/audit_subspace.py N  (~1 min for N=10, ~2 min for N=50)

``git apply benchmarks/explore/robustness/audit_subspace.patch`` (on c1030c7) to measure the span.
"""

import collections
import os
import sys
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
from sklearn.metrics import roc_auc_score

import fingerprint as fp
from fingerprint import references

from common import dev_answers, families_left_out

warnings.simplefilter("ignore")
N = int(sys.argv[1])


def audit(texts, refs):
    return fp.audit(texts, references=refs, top_features=0)


refs = references.builtin()
T, M = dev_answers()
rng = np.random.default_rng(1)
rows = []
for m in refs.models:
    pick = rng.choice(np.flatnonzero(M == m), N, replace=False)
    rep = audit([T[i] for i in pick], refs)
    c = rep.candidates[0]
    rows.append((c.model == m, c.p_adjusted < 0.05, rep.relation == "is" and rep.verdict == m))
R = np.array(rows).mean(axis=0)
print(f"N={N}: known (81 models, whole set): nearest right {R[0]:.2f}, "
      f"nearest Holm p < 0.05 {R[1]:.2f}, 'is' the right model {R[2]:.2f}")

aurocs, false_claims, rel = [], [], collections.Counter()
for f_name, gone, sub in families_left_out():
    others = [str(x) for x in rng.choice([m for m in refs.models if m not in gone], 12, replace=False)]
    score, label = [], []
    for m in gone + others:
        pick = rng.choice(np.flatnonzero(M == m), N, replace=False)
        rep = audit([T[i] for i in pick], sub)
        score.append(rep.candidates[0].p_adjusted)
        label.append(m in gone)
        if m in gone:
            false_claims.append(rep.relation in ("is", "learned-from"))
            rel[rep.relation] += 1
    aurocs.append(roc_auc_score(label, score))
print(f"  unknown (leave one family out, {len(false_claims)} pools): is/learned-from {np.mean(false_claims):.3f} "
      f"{dict(rel)}; AUROC by the nearest's Holm p {np.mean(aurocs):.3f}")
