"""The held-out distance quantiles behind "none of these" (typicality, attribute(alpha=)), with and
without the calibration's spread correction: share of new texts of known models beyond the 95th and
99th percentile (nominal 5 % and 1 %), by their own model's distance and by the top model's.
Needs /tmp/cal/xpca.pkl and clf.pkl (xpca_dump.py); the correction's ratio estimated as xshrink.py does.
"""

import numpy as np

from common import cv_ratio, load

from fingerprint.building import FoldedStatistics, calibration_fold_array

c = load()
X, y, kw, sp, b, d = c.X, c.y, c.kw, c.sp, c.b, c.d
spread = np.ones(X.shape[1])
f4 = calibration_fold_array(y, kw["groups"], 4, kw["random_state"] + 7)
spread[b.start:b.stop] = np.minimum(cv_ratio(c.Z.toarray().astype(np.float32), f4, c.k, ddof=1), 1.0)
folds = calibration_fold_array(y, kw["groups"], 4, kw["random_state"])
st = FoldedStatistics.from_features(X, y, folds, sp.space_id_)
for tag, s in (("as is", None), ("spread as new", spread)):
    refs = st.to_references(sp, calibrate=True, shrinkage=kw["shrinkage"], heldout_spread=s)
    lda, q = refs.lda(), refs.distance_quantiles
    out = []
    for name, (F, yy) in d["ev"].items():
        D = lda.distances(F)
        own = D[np.arange(len(yy)), np.searchsorted(lda.classes.astype(str), yy)]
        top = D[np.arange(len(yy)), lda.scores(F).argmax(1)]
        out.append(f"{name}: own beyond q95 {np.mean(own > q[95]):.3f} q99 {np.mean(own > q[99]):.3f}, "
                   f"top beyond q95 {np.mean(top > q[95]):.3f} q99 {np.mean(top > q[99]):.3f}")
    print(f"{tag:14s} q95 {q[95]:.3f} q99 {q[99]:.3f} | " + " | ".join(out), flush=True)
