"""The calibration with rows spread as new texts (the library's, 2026-12-07) by number of calibration folds.

With K folds each calibration LDA learns from (K-1)/K of the texts; the final model from all of them,
so it is surer than its calibration assumes.  Temperature, length slope and held-out/dev ECE for
K = 2..10, and a temperature extrapolated to K -> infinity from the trend in 1/(K-1).
Chosen on the held-out fifth of the train prompts; dev shown.  Needs /tmp/cal/xpca.pkl, clf.pkl.
"""

import numpy as np

from common import cv_ratio, load, scored

from fingerprint.building import FoldedStatistics, calibration_fold_array

c = load()
X, y, kw, sp, b = c.X, c.y, c.kw, c.sp, c.b
spread = np.ones(X.shape[1])
spread[b.start:b.stop] = np.minimum(
    cv_ratio(c.Z.toarray().astype(np.float32), calibration_fold_array(y, kw["groups"], 4, kw["random_state"] + 7), c.k),
    1.0)


Ts = {}
for K in (2, 3, 4, 6, 10):
    folds = calibration_fold_array(y, kw["groups"], K, kw["random_state"])
    st = FoldedStatistics.from_features(X, y, folds, sp.space_id_)
    for tag, s in (("as is", None), ("spread as new", spread)):
        refs = st.to_references(sp, calibrate=True, shrinkage=kw["shrinkage"], heldout_spread=s)
        if s is not None:
            Ts[K] = (refs.temperature, refs.length_slope, refs)
        print(f"K={K:2d} {tag:13s} T={refs.temperature:.3f} slope={refs.length_slope:+.3f} {scored(refs.lda(), c.ev, conf=False)}", flush=True)
# extrapolate log T and the slope linearly in 1/(K-1) (the calibration LDA's texts: n (K-1)/K)
x = np.array([1 / (K - 1) for K in Ts])
a = np.polyfit(x, np.log([Ts[K][0] for K in Ts]), 1)
s1 = np.polyfit(x, [Ts[K][1] for K in Ts], 1)
print("fit log T = %.4f + %.4f / (K-1); slope = %.4f + %.4f / (K-1)" % (a[1], a[0], s1[1], s1[0]))
print("T at K=4 %.3f, extrapolated to K->inf %.3f" % (Ts[4][0], np.exp(a[1])))
