"""Pooled "none of these": which statistic separates a left-out family's pools from known ones?
(issue 13, item 3c, pools of 10; exploration, 2026-12-07)

The built-in set, leave one family out as ``benchmarks/builtin_set.py`` does (5 random pools of 10
`dev` answers per model). Statistics of a pool (higher = more likely unknown), all in the set's
whitened metric (the shrunk pooled within-model covariance of the remaining references):

* ``conf``      minus the mean calibrated top confidence (the report's row: 0.616)
* ``post``      minus the pooled posterior's top probability (summed log-likelihoods / T)
* ``dist``      debiased squared distance of the pool mean to the nearest reference mean:
                ||z̄ - m_k||² - tr(S)/n, S the pool's own covariance (whitened)
* ``dist_rel``  ``dist`` over the nearest reference's squared distance to *its* nearest other
                reference (how far apart known models are there)
* ``disc``      ``dist`` in the references' discriminant subspace (span of the centred whitened
                means, K-1 dims) and ``disc_out`` in its complement
* ``text``      mean over the pool of each text's distance to its nearest reference

First dumps the features (``/tmp/oset``). Mean AUROC over the 29 families; also on the odd and
even families separately (a statistic is chosen on one half, read on the other).
"""

import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
from sklearn.metrics import roc_auc_score

from fingerprint import references
from fingerprint.attribution import family_index

from common import dev_answers, families_left_out

warnings.simplefilter("ignore")
CACHE = Path("/tmp/oset")
CACHE.mkdir(exist_ok=True)
refs = references.builtin()
if not (CACHE / "X.npy").exists():
    T, M = dev_answers(refs.models)
    np.save(CACHE / "X.npy", refs.space.transform(T))
    np.save(CACHE / "M.npy", M.astype(str))
X = np.load(CACHE / "X.npy")
M = np.load(CACHE / "M.npy").astype(object)
classes = refs.models
names, fam = family_index(refs, classes)
rows_of = {m: np.flatnonzero(M == m) for m in np.unique(M)}
rng = np.random.default_rng(0)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10
pools = [(m, rng.choice(idx, min(N, len(idx)), replace=False)) for m, idx in rows_of.items() for _ in range(5)]

res: dict[str, list[float]] = {}
for f_name, gone, sub in families_left_out():
    lda = sub.lda()
    T0 = lda.temperature or 1.0
    conf = lda.proba(X).max(axis=1)
    S = lda.scores(X)
    Z = lda.whiten(X)
    Mz = lda.whiten(lda.means)
    D_ref = ((Mz[:, None, :] - Mz[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D_ref, np.inf)
    nn_ref = D_ref.min(axis=1)
    C = Mz - Mz.mean(axis=0)
    U, s, _ = np.linalg.svd(C.T, full_matrices=False)
    U = U[:, s > 1e-8 * s[0]]
    tdist = lda.distances(X).min(axis=1)
    stats = {k: [] for k in ("conf", "post", "dist", "dist_rel", "disc", "disc_out", "text")}
    labels = []
    for m, idx in pools:
        n = len(idx)
        z = Z[idx]
        zb = z.mean(axis=0)
        tr = ((z - zb) ** 2).sum() / (n - 1) / n
        d2 = ((Mz - zb) ** 2).sum(axis=1) - tr
        k = int(d2.argmin())
        zp, mp = z @ U, Mz @ U
        zpb = zp.mean(axis=0)
        trp = ((zp - zpb) ** 2).sum() / (n - 1) / n
        dp = ((mp - zpb) ** 2).sum(axis=1) - trp
        # complement: total minus in-subspace, per candidate
        dout = d2 - dp
        lp = S[idx].sum(axis=0) / T0
        lp = lp - lp.max()
        post = np.exp(lp) / np.exp(lp).sum()
        stats["conf"].append(-conf[idx].mean())
        stats["post"].append(-post.max())
        stats["dist"].append(d2.min())
        stats["dist_rel"].append(d2[k] / nn_ref[k])
        stats["disc"].append(dp.min())
        stats["disc_out"].append(dout.min())
        stats["text"].append(tdist[idx].mean())
        labels.append(m in gone)
    for k, v in stats.items():
        res.setdefault(k, []).append(roc_auc_score(labels, v))
print(f"pools of {N}; mean AUROC over {len(names)} families (odd / even halves)")
for k, v in res.items():
    v = np.array(v)
    print(f"{k:10s} {v.mean():.3f}  ({v[1::2].mean():.3f} / {v[0::2].mean():.3f})")
print("per family (disc, dist, post), hardest first:")
order = np.argsort(res["disc"])
for i in order:
    print(f"  {names[i]:26s} {res['disc'][i]:.3f} {res['dist'][i]:.3f} {res['post'][i]:.3f}")
