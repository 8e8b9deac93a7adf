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


def holdout_protocol() -> SimpleNamespace:
    """The split of ``benchmarks/calibration_shift.py`` as ``cheap_holdout.py``, ``holdout_parts.py`` and
    ``holdout_pooling.py`` use it: ``T``/``Y``/``G`` are the texts, models and prompt ids of the four
    fifths of the ``train`` prompts fitted on; ``evals`` the held-out fifth's and ``dev``'s (name, texts,
    models, prompt ids); ``kw`` the space parameters and ``fit_kw`` the ``fit_references`` keywords of
    ``FingerprintClassifier()``'s defaults (without ``groups``).
    """
    from pathlib import Path

    import fingerprint as fp
    from fingerprint.building import calibration_folds

    data = Path(__file__).resolve().parents[4] / "shared" / "data" / "alpaca_eval_train"
    train, dev = fp.load_corpus(str(data), split="train"), fp.load_corpus(str(data), split="dev")
    texts = np.array(train["text"], dtype=object)
    models, prompts = np.array(train["model"]).astype(str), np.array(train["prompt_id"]).astype(str)
    outer = calibration_folds(prompts, 5, random_state=1) == 0
    clf = fp.FingerprintClassifier()
    evals = [("held-out train prompts", texts[outer], models[outer], prompts[outer]),
             ("dev prompts", np.array(dev["text"], dtype=object), np.array(dev["model"]).astype(str),
              np.array(dev["prompt_id"]).astype(str))]  # fmt: skip
    return SimpleNamespace(
        T=list(texts[~outer]), Y=models[~outer], G=prompts[~outer], evals=evals,
        kw=dict(n_char=clf.n_char, n_word=clf.n_word, n_components=clf.n_components,
                n_score_features=clf.n_score_features),
        fit_kw=dict(n_folds=4, shrinkage=clf.shrinkage, metadata=None, random_state=0),
    )  # fmt: skip
