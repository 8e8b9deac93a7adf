"""What the 2026-12-07 calibration explorations share: the cached fit of ``xpca_dump.py`` and its scoring.

``load()`` returns the cached training features of a classifier fitted on 4/5 of the ``train``
prompts (/tmp/cal/xpca.pkl: features ``X``, models ``y``, n-gram matrix ``Z``, the fit's keywords,
and the held-out fifth's and ``dev``'s features under ``ev``) and its space (/tmp/cal/clf.pkl).
"""

import os
import pickle
from types import SimpleNamespace

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sklearn.utils.extmath import randomized_svd

from fingerprint.calibration import expected_calibration_error as ece


def load() -> SimpleNamespace:
    d = pickle.load(open("/tmp/cal/xpca.pkl", "rb"))
    sp = pickle.load(open("/tmp/cal/clf.pkl", "rb")).space_
    b = sp.block("ngram")
    return SimpleNamespace(d=d, sp=sp, X=d["X"], y=d["y"], Z=d["Z"], kw=d["kw"], ev=d["ev"], b=b,
                           k=b.stop - b.start, sid=sp.space_id_)


def scored(lda, ev, conf: bool = True) -> str:
    """Top-1, mean confidence, their gap and ECE of ``lda`` on each evaluation set, one line."""
    out = []
    for name, (F, yy) in ev.items():
        P = lda.proba(F)
        t = np.searchsorted(lda.classes.astype(str), yy)
        ok = P.argmax(1) == t
        c = f" conf {P.max(1).mean():.3f}" if conf else ""
        out.append(f"{name} top1 {ok.mean():.3f}{c} gap {ok.mean() - P.max(1).mean():+.3f} ece {ece(P, t):.3f}")
    return " | ".join(out)


def cv_ratio(Zd: np.ndarray, folds: np.ndarray, k: int, ddof: int = 0) -> np.ndarray:
    """Per component, held-out over fitted variance along a PCA of the other folds, averaged over folds."""
    ratios = []
    for j in np.unique(folds):
        out, rows = folds != j, folds == j
        m = Zd[out].mean(0)
        _, _, vt = randomized_svd(Zd[out] - m, k, n_iter=4, random_state=0)
        ratios.append(((Zd[rows] - m) @ vt.T).var(0, ddof=ddof) / ((Zd[out] - m) @ vt.T).var(0, ddof=ddof))
    return np.mean(ratios, axis=0)
