"""Compare calibrations on dump2.py's features: in-sample CV (current), a held-out slice (B), ECE on C and on dev."""
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
from fingerprint.features.space import FeatureSpace
from fingerprint.building import FoldedStatistics, calibration_folds
from fingerprint.calibration import expected_calibration_error as ece, softmax_t, fit_temperature, fit_confidence_map, apply_confidence_map
z = np.load("/tmp/ece/feats2.npz")
XR, yR, gR, XC, yC, gC, Xd, yd = (z[k] for k in ("XR", "yR", "gR", "XC", "yC", "gC", "Xd", "yd"))
yR, yC, yd = yR.astype(str), yC.astype(str), yd.astype(str)
space = FeatureSpace.load("/tmp/ece/space2.npz")
classes = sorted(set(yR)); iR, iC, idv = (np.searchsorted(classes, v) for v in (yR, yC, yd))
def lda_on(X, y):
    st = FoldedStatistics.from_features(X, y, np.zeros(len(y), int), space.space_id_, keep_calibration=False)
    return st.to_references(space, calibrate=False, shrinkage=0.3).lda()
def cv_scores(X, y, g, k=5):
    folds = calibration_folds(g, k, 0)
    st = FoldedStatistics.from_features(X, y, folds, space.space_id_)
    s = np.zeros((len(y), len(classes)))
    for j in np.unique(folds):
        r = folds == j; s[r] = st.fold_lda(int(j), classes, 0.3).scores(X[r])
    return s
acc = lambda s, i: np.mean(s.argmax(1) == i)
sR = cv_scores(XR, yR, gR); ldaR = lda_on(XR, yR); sC = ldaR.scores(XC); sdR = ldaR.scores(Xd)
print(f"CV within R (in-sample) {acc(sR, iR):.3f}; C by LDA(R) {acc(sC, iC):.3f}; dev by LDA(R) {acc(sdR, idv):.3f}")
sCC = cv_scores(XC, yC, gC); print(f"CV within C (out-of-sample features) {acc(sCC, iC):.3f}")
ldaAll = lda_on(np.vstack([XR, XC]), np.concatenate([yR, yC])); sd = ldaAll.scores(Xd)
print(f"dev by LDA(R+C) {acc(sd, idv):.3f}")
def report(name, s_cal, i_cal, s_dev):
    T = fit_temperature(s_cal, i_cal); m = fit_confidence_map(softmax_t(s_cal, T), i_cal)
    Pt = softmax_t(s_dev, T); P = apply_confidence_map(Pt, m)
    print(f"{name}: T {T:.2f} dev ECE temp {ece(Pt, idv):.3f} map {ece(P, idv):.3f} conf {P.max(1).mean():.3f} acc {acc(s_dev, idv):.3f}")
report("A: current (CV on R+C, in-sample R)", np.vstack([cv_scores(np.vstack([XR, XC]), np.concatenate([yR, yC]), np.concatenate([gR, gC]))]), np.concatenate([iR, iC]), sd)
report("B: calibrate on C scored by LDA(R); deploy LDA(R+C)", sC, iC, sd)
report("B': calibrate on C scored by LDA(R); deploy LDA(R)", sC, iC, sdR)
T = fit_temperature(sR, iR); m = fit_confidence_map(softmax_t(sR, T), iR)
for name, s, i in (("held-out train prompts C", sC, iC), ("dev", sdR, idv)):
    P = apply_confidence_map(softmax_t(s, T), m)
    print(f"current method fitted on R only -> {name}: ECE {ece(P, i):.3f} conf {P.max(1).mean():.3f} acc {acc(s, i):.3f}")
# bootstrap over prompts: ECE variability on dev
rng = np.random.default_rng(0); P = apply_confidence_map(softmax_t(sdR, T), m)
gd = z["gd"].astype(str); up = np.unique(gd); out = []
for _ in range(200):
    pick = rng.choice(up, len(up)); rows = np.concatenate([np.flatnonzero(gd == p) for p in pick])
    out.append(ece(P[rows], idv[rows]))
print("dev ECE bootstrap over prompts: 5-95%", np.percentile(out, [5, 50, 95]).round(3))
