"""Cross-fitted n-gram projection for the fingerprints themselves (issue 13, item 2; exploration).

The training texts' n-gram block is in sample for the PCA that defines it (components 50-100 carry
26 % more variance for them than for new texts, blocks.log), so the within-model covariance, and the
calibration fitted on those texts, expect more spread than a new text has.  Here each training text's
n-gram block is replaced by an out-of-sample one: the text projected on the principal subspace of a
PCA fitted without its fold, expressed in the space's own basis (``(z - mean) V_j^T V_j V^T``), as the
score block's columns already are.  Fingerprints, LDA and calibration are then built from those rows.
Chosen on the held-out fifth of the train prompts; dev shown.

Needs /tmp/cal/xpca.pkl and /tmp/cal/clf.pkl (xpca_dump.py).  Usage: xfit.py [NFOLDS_PCA]
"""

import os
import sys
import time

import numpy as np
from common import load, scored
from sklearn.utils.extmath import randomized_svd

from fingerprint.building import FoldedStatistics, calibration_fold_array

c = load()
d, sp, X, y, Z, kw, b, k = c.d, c.sp, c.X, c.y, c.Z, c.kw, c.b, c.k
NF = int(sys.argv[1]) if len(sys.argv) > 1 else 4
CF = int(os.environ.get("CAL_FOLDS", "4"))
cal_folds = calibration_fold_array(y, kw["groups"], CF, kw["random_state"])
pca_folds = calibration_fold_array(y, kw["groups"], NF, kw["random_state"] + 7)
sid = sp.space_id_


def evaluate(refs, tag):
    print(tag, scored(refs.lda(), d["ev"]), flush=True)


def block_var(F, tag):
    B = F[:, b.start:b.stop]
    v = B.var(0)
    print(f"  {tag} ngram var total {v.sum():.1f} PC 0-10 {v[:10].mean():.3f} 50-100 {v[50:100].mean():.3f} "
          f"200-300 {v[200:300].mean():.3f} 400+ {v[400:].mean():.3f}", flush=True)


def build(Xtr, tag):
    st = FoldedStatistics.from_features(Xtr, y, cal_folds, sid)
    refs = st.to_references(sp, calibrate=True, shrinkage=kw["shrinkage"])
    evaluate(refs, tag)
    return refs


block_var(X, "train in-sample")
for name, (F, _) in d["ev"].items():
    block_var(F, name)
base = build(X, "baseline") if "--no-base" not in sys.argv else None

Zd = Z.toarray()
mu = sp.ngram_mean_
V = sp._proj.T  # k x p
Xx, Xp = X.copy(), X.copy()
for j in np.unique(pca_folds):
    t = time.time()
    out = pca_folds != j
    Zc = Zd[out] - Zd[out].mean(0)
    _, _, vt = randomized_svd(Zc, k, n_iter=4, random_state=0)
    rows = np.flatnonzero(pca_folds == j)
    M = vt @ V.T  # k x k: the fold basis in the space's
    Xx[rows, b.start:b.stop] = (((Zd[rows] - mu) @ vt.T) @ M) * sp._ngram_factor
    u, _, wt = np.linalg.svd(M)  # orthogonal Procrustes: the rotation nearest M keeps the fold's spread
    Xp[rows, b.start:b.stop] = (((Zd[rows] - mu) @ vt.T) @ (u @ wt)) * sp._ngram_factor
    print(f"fold {j}: svd {time.time() - t:.1f}s", flush=True)
block_var(Xx, "train cross-fitted")
build(Xx, f"xfit ngram (PCA folds {NF})")
block_var(Xp, "train cross-fitted, Procrustes")
build(Xp, f"xfit ngram Procrustes (PCA folds {NF})")

# the style block's standardisation cross-fitted too: a training text scaled by the mean and standard
# deviation of the other folds' texts (a marker rare in them gives it the large value a new text gets)
s = sp.block("style")
S = X[:, s.start:s.stop] * sp.style_scale_ + sp.style_mean_
Xs = Xx.copy()
for j in np.unique(pca_folds):
    out, rows = pca_folds != j, np.flatnonzero(pca_folds == j)
    m, sd = S[out].mean(0), S[out].std(0)
    Xs[rows, s.start:s.stop] = (S[rows] - m) / np.where(sd > 1e-9, sd, 1.0)
v_in, v_x = X[:, s.start:s.stop].var(0).sum(), Xs[:, s.start:s.stop].var(0).sum()
v_h = d["ev"]["held"][0][:, s.start:s.stop].var(0).sum()
print(f"  style var total: train in-sample {v_in:.1f}, cross-fitted {v_x:.1f}, held {v_h:.1f}")
build(Xs, f"xfit ngram + style (folds {NF})")
