"""Deflate the in-sample n-gram projection's within-model spread per component (issue 13, item 2; exploration).

Alternative to xfit.py's cross-fitted rows (which rotate each text into its fold's principal
subspace and lose tail variance on the way): keep the space's basis and each model's mean, and
scale each training text's deviation from its model's mean, component by component, by
sqrt(out-of-sample / in-sample variance) of that component, the ratio estimated by cross-validation
in the fold PCAs' own bases.  Chosen on the held-out fifth of the train prompts; dev shown.

Needs /tmp/cal/xpca.pkl and /tmp/cal/clf.pkl (xpca_dump.py).
"""

import sys

import numpy as np
from common import cv_ratio, load, scored

from fingerprint.building import FoldedStatistics, calibration_fold_array

c = load()
d, sp, X, y, Z, kw, b, k, sid = c.d, c.sp, c.X, c.y, c.Z, c.kw, c.b, c.k, c.sid
NF = int(sys.argv[1]) if len(sys.argv) > 1 else 4
cal_folds = calibration_fold_array(y, kw["groups"], 4, kw["random_state"])
pca_folds = calibration_fold_array(y, kw["groups"], NF, kw["random_state"] + 7)
sid = sp.space_id_


def build(Xtr, tag):
    refs = FoldedStatistics.from_features(Xtr, y, cal_folds, sid).to_references(
        sp, calibrate=True, shrinkage=kw["shrinkage"])
    print(tag, scored(refs.lda(), d["ev"]), flush=True)


Zd = Z.toarray()
r = cv_ratio(Zd, pca_folds, k)
B = X[:, b.start:b.stop]
truth = d["ev"]["held"][0][:, b.start:b.stop].var(0) / B.var(0)
for lo, hi in ((0, 10), (10, 50), (50, 100), (100, 200), (200, 300), (300, 400), (400, 512)):
    print(f"  PC {lo}-{hi}: CV ratio {r[lo:hi].mean():.3f}  held/in-sample {truth[lo:hi].mean():.3f}")
classes = np.unique(y)
means = np.zeros_like(B)
for c in classes:
    means[y == c] = B[y == c].mean(0)
for tag, rr in (("CV ratio", r), ("CV ratio, capped at 1", np.minimum(r, 1.0)),
                ("CV ratio smoothed (running mean 21)", np.minimum(np.convolve(np.pad(r, 10, mode="edge"),
                                                                             np.ones(21) / 21, "valid"), 1.0))):
    Xs = X.copy()
    Xs[:, b.start:b.stop] = means + (B - means) * np.sqrt(rr)
    build(Xs, f"deflated ({tag})")

# the model left as it is (fingerprints from the in-sample rows); only the rows its calibration
# scores are deflated, so the temperature is fitted on texts spread as new texts are
for tag, rr in (("CV ratio", r), ("held-out ratio (oracle, not adoptable)", truth)):
    Xs = X.copy()
    Xs[:, b.start:b.stop] = means + (B - means) * np.sqrt(np.minimum(rr, 1.0))
    st = FoldedStatistics.from_features(X, y, cal_folds, sid)
    st.calibration = (Xs, *st.calibration[1:])
    refs = st.to_references(sp, calibrate=True, shrinkage=kw["shrinkage"])
    print(f"calibration rows deflated ({tag})", scored(refs.lda(), d["ev"]), flush=True)
Xo = X.copy()
Xo[:, b.start:b.stop] = means + (B - means) * np.sqrt(np.minimum(truth, 1.0))
build(Xo, "model deflated (held-out ratio, oracle)")
