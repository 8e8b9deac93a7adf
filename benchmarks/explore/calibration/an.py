"""Calibration of a classifier fitted on all train prompts (features from dump.py): where does dev ECE come from?"""
import os, sys
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
from fingerprint.features.space import FeatureSpace
from fingerprint.building import fit_references, FoldedStatistics, calibration_folds
from fingerprint.calibration import expected_calibration_error, softmax_t, fit_temperature, fit_confidence_map, apply_confidence_map
z = np.load("/tmp/ece/feats.npz", allow_pickle=False)
X, y, g, Xd, yd = z["X"], z["y"].astype(str), z["g"], z["Xd"], z["yd"].astype(str)
space = FeatureSpace.load("/tmp/ece/space.npz")
classes = sorted(set(y)); yi = np.searchsorted(classes, y); ydi = np.searchsorted(classes, yd)

def evaluate(folds, name):
    stats = FoldedStatistics.from_features(X, y, folds, space.space_id_)
    scores = np.zeros((len(y), len(classes)))
    for j in np.unique(folds):
        rows = np.flatnonzero(folds == j)
        scores[rows] = stats.fold_lda(int(j), classes, 0.3).scores(X[rows])
    refs = stats.to_references(space, calibrate=False, shrinkage=0.3)
    lda = refs.lda()
    sd = lda.scores(Xd)
    T = fit_temperature(scores, yi)
    cmap = fit_confidence_map(softmax_t(scores, T), yi)
    Pd_t = softmax_t(sd, T); Pd = apply_confidence_map(Pd_t, cmap)
    Pcv = softmax_t(scores, T)
    print(f"{name}: cv top1 {np.mean(scores.argmax(1)==yi):.3f} dev top1 {np.mean(sd.argmax(1)==ydi):.3f} T {T:.3f} "
          f"ECE dev temp {expected_calibration_error(Pd_t, ydi):.3f} map {expected_calibration_error(Pd, ydi):.3f} | "
          f"dev conf {Pd.max(1).mean():.3f}", flush=True)
    return scores, sd

if __name__ == "__main__":
    for k in (5, 10, 20):  # more calibration folds: each fold's LDA sees more of the texts
        evaluate(calibration_folds(g, k, 0), f"hash folds k={k}")
    X0, Xd0 = X.copy(), Xd.copy()
    b = [bl for bl in space.blocks_ if bl.name == "score"][0]
    cols = [i for i in range(X0.shape[1]) if not (b.start <= i < b.stop)]
    X, Xd = X0[:, cols], Xd0[:, cols]
    evaluate(calibration_folds(g, 5, 0), "without the score block")
    X, Xd = X0[:, b.start:b.stop], Xd0[:, b.start:b.stop]
    evaluate(calibration_folds(g, 5, 0), "score block only")
    X, Xd = X0, Xd0
    folds = calibration_folds(g, 5, 0)
    scores, _ = evaluate(folds, "per-fold CV accuracy, 5 folds:")
    print([round(float(np.mean(scores[folds == j].argmax(1) == yi[folds == j])), 3) for j in range(5)])
