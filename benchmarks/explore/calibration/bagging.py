"""Is the user-fitted classifier's under-confidence the bagged score block?  (issue 13, item 2)

Training texts' ``score`` columns are cross-fitted: each comes from the one fold SVM that did not see
the text (fitted on 3/4 of the texts).  New texts are scored by the *average* of the 4 fold SVMs, a
bagged model with less noise.  If that makes new texts' score columns more discriminative than the
training texts' ones, the LDA and its calibration (both fitted on training texts' features) see a
weaker block than the one they are applied to: accuracy higher than the confidences say.

Protocol as ``dump2.py`` / ``an2.py``: the space and the classifier are fitted on 4/5 of the `train`
prompts of ``alpaca_eval_train`` (R); scored on the held-out fifth (C, what a choice may be based on)
and on `dev` (shown).  Each scored text gets its features twice: as ``transform`` gives them (bagged
score block) and with the score block of *one* fold SVM (each of the 4 in turn: a model that never saw
the text, as the training texts' scores come from).  The LDA and calibration are the current method
fitted on R's cross-fitted features (4 calibration folds).

usage: python benchmarks/explore/calibration/bagging.py     (log: bagging.log; ~4 min on 2 cores)
"""

import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

import fingerprint as fp
import fingerprint.features.space as space_mod
from fingerprint.building import FoldedStatistics, calibration_folds
from fingerprint.calibration import apply_confidence_map, fit_confidence_map, fit_temperature, softmax_t
from fingerprint.calibration import expected_calibration_error as ece
from fingerprint.classifier import FingerprintClassifier
from fingerprint.features.space import FeatureSpace

captured = []
_run = space_mod._run_overlapped


def _capture(tasks, main_task, n_jobs):
    done, out = _run(tasks, main_task, n_jobs)
    captured.append(done)
    return done, out


space_mod._run_overlapped = _capture

D = "../shared/data/alpaca_eval_train"
train, dev = fp.load_corpus(D, split="train"), fp.load_corpus(D, split="dev")
c = FingerprintClassifier(n_jobs=2)
texts, y = np.array(train["text"], dtype=object), np.array(train["model"]).astype(str)
g = np.array(train["prompt_id"]).astype(str)
held = calibration_folds(g, 5, 1) == 0  # random_state 1: not the calibration folds' hash
t = time.perf_counter()
space = FeatureSpace(n_char=c.n_char, n_word=c.n_word, n_components=c.n_components,
                     n_score_features=c.n_score_features, n_folds=c.n_folds, n_jobs=2, random_state=c.random_state)
XR = space.fit_transform(list(texts[~held]), y[~held], groups=g[~held])
fold_models = captured[-1][: c.n_folds]  # (keep, coef, intercept) of each fold SVM
print(f"fit on R ({(~held).sum()} texts): {time.perf_counter() - t:.0f} s", flush=True)
sc = space.block("score")


def variants(tx):
    """Features of texts ``tx``: bagged (transform) and with each single fold SVM's score block."""
    X = space.transform(tx)
    H = space_mod._hashed_ngrams(space_mod._analyse(tx, space.score_words))
    out = [X]
    for keep, coef, b in fold_models:
        Xi = X.copy()
        Xi[:, sc.start:sc.stop] = (H[:, keep] @ coef + b) * space._score_factor
        out.append(Xi)
    return out


XC, Xd = variants(list(texts[held])), variants(list(dev["text"]))
yC, yd = y[held], np.array(dev["model"]).astype(str)
classes = sorted(set(y))
iR, iC, idv = (np.searchsorted(classes, v) for v in (y[~held], yC, yd))
folds = calibration_folds(g[~held], c.n_folds, 0)
st = FoldedStatistics.from_features(XR, y[~held], folds, space.space_id_)
sR = np.zeros((len(iR), len(classes)))
for j in np.unique(folds):
    r = folds == j
    sR[r] = st.fold_lda(int(j), classes, 0.3).scores(XR[r])
lda = st.to_references(space, calibrate=False, shrinkage=0.3).lda()
T = fit_temperature(sR, iR)
cmap = fit_confidence_map(softmax_t(sR, T), iR)


def row(name, S, i):
    P = apply_confidence_map(softmax_t(S, T), cmap)
    acc = np.mean(S.argmax(1) == i)
    print(f"  {name:<46} top-1 {acc:.3f}  mean conf {P.max(1).mean():.3f}  gap {acc - P.max(1).mean():+.3f}  "
          f"ECE {ece(P, i):.3f}", flush=True)
    return P


print(f"calibration on R (cross-fitted, {c.n_folds} folds): T {T:.2f}; CV top-1 {np.mean(sR.argmax(1) == iR):.3f}")
for label, Xs, i in (("held-out fifth C", XC, iC), ("dev", Xd, idv)):
    print(f"{label}:")
    row("bagged score block (transform, shipped)", lda.scores(Xs[0]), i)
    for k in range(1, len(Xs)):
        row(f"fold SVM {k - 1} alone", lda.scores(Xs[k]), i)
    # the score block's spread, per column: bagged against single-fold
    sd_bag = Xs[0][:, sc.start:sc.stop].std(0).mean()
    sd_one = np.mean([Xs[k][:, sc.start:sc.stop].std(0).mean() for k in range(1, len(Xs))])
    print(f"  score-block column sd: bagged {sd_bag:.3f}, single fold {sd_one:.3f}, "
          f"R cross-fitted {XR[:, sc.start:sc.stop].std(0).mean():.3f}")
    # the true model's margin on the score block: how much more it separates
    for name, Xk in (("bagged", Xs[0]), ("single", Xs[1])):
        B = Xk[:, sc.start:sc.stop]
        own = B[np.arange(len(i)), i]
        rest = (B.sum(1) - own) / (B.shape[1] - 1)
        print(f"  score block, own model's column minus the mean of the others ({name}): {np.mean(own - rest):.3f}")
B = XR[:, sc.start:sc.stop]
own = B[np.arange(len(iR)), iR]
print(f"R cross-fitted: own column minus others' mean {np.mean(own - (B.sum(1) - own) / (B.shape[1] - 1)):.3f}")
