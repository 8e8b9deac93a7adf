"""Calibrate a user-fitted classifier on prompts its own sub-fit never saw, then transfer (issue 13, item 2).

The calibration_shift protocol: the "final" classifier is fitted on 4/5 of the ``train`` prompts
(A; seed 1), scored on the held-out fifth (B, to choose on) and on ``dev`` (shown).
Calibrations compared, all applied to the same final classifier's scores:

* ``library``: the library's (cross-fitted scores of fold LDAs, rows spread as new texts);
* ``transfer``: a second classifier fitted on 4/5 of A's prompts (A1, seed 2) scores the other
  fifth (A2: features, vocabulary, projection and score block all out of sample) and the
  temperature, length slope and map are fitted on those scores, then set on the final classifier;
* ``transfer+lib``: the A2 scores and the library's cross-fitted scores pooled;
* ``sub``: the sub-classifier itself with the transferred calibration (what it costs in top-1).

Writes /tmp/ht/*.npz and prints one line per (calibration, scored on).
"""
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

import fingerprint as fp
from fingerprint.building import calibration_folds
from fingerprint.calibration import expected_calibration_error
from fingerprint.refset import ReferenceSet

DATA = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/alpaca_eval_train"
os.makedirs("/tmp/ht", exist_ok=True)
train = fp.load_corpus(DATA, split="train")
dev = fp.load_corpus(DATA, split="dev")
texts = np.array(train["text"], dtype=object)
models, prompts = np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
held = calibration_folds(prompts, 5, random_state=1) == 0
A = np.flatnonzero(~held)
sub_held = calibration_folds(prompts[A], 5, random_state=2) == 0
A1, A2 = A[~sub_held], A[sub_held]

seen = {}
orig = ReferenceSet.calibrate_from_scores


def record(self, scores, y_idx, own_distances, *, length_feature=None):
    seen.update(scores=scores, y_idx=y_idx, own=own_distances, L=length_feature)
    return orig(self, scores, y_idx, own_distances, length_feature=length_feature)


ReferenceSet.calibrate_from_scores = record
t = time.perf_counter()
clf = fp.FingerprintClassifier(n_jobs=2).fit(list(texts[A]), models[A], groups=prompts[A])
lib = dict(seen)
print(f"final fit {time.perf_counter() - t:.0f} s", flush=True)
t = time.perf_counter()
sub = fp.FingerprintClassifier(n_jobs=2).fit(list(texts[A1]), models[A1], groups=prompts[A1])
print(f"sub fit {time.perf_counter() - t:.0f} s", flush=True)
ReferenceSet.calibrate_from_scores = orig

refs, srefs = clf.references_, sub.references_
assert list(refs.models) == list(srefs.models)
classes = np.array(refs.models)


def raw(r, X):
    F = r.space.transform(list(X))
    lda = r.lda()
    return lda.scores(F), lda.distances(F), F[:, r.space.length_column]


y2 = np.searchsorted(classes, models[A2])
S2, D2, L2sub = raw(srefs, texts[A2])
own2 = D2[np.arange(len(y2)), y2]
L2 = refs.space.transform(list(texts[A2]))[:, refs.space.length_column]  # the final space's length feature
np.savez("/tmp/ht/a2.npz", S2=S2, own2=own2, L2=L2, L2sub=L2sub, y2=y2)
np.savez("/tmp/ht/lib.npz", **{k: v for k, v in lib.items()})


def calibrated(base, S, y, own, L):
    r = base.copy()
    r.calibrate_from_scores(S, y, own, length_feature=L)
    return r


cal = {
    "library": refs,
    "transfer": calibrated(refs, S2, y2, own2, L2),
    "transfer+lib": calibrated(refs, np.vstack([S2, lib["scores"]]), np.concatenate([y2, lib["y_idx"]]),
                               np.concatenate([own2, lib["own"]]), np.concatenate([L2, lib["L"]])),
    "sub": calibrated(srefs, S2, y2, own2, L2sub),
}
for k, r in cal.items():
    print(k, "T", round(r.temperature, 3), "slope", round(r.length_slope, 3), flush=True)
rng = np.random.default_rng(0)
for name, X, y, g in (("B", texts[held], models[held], prompts[held]),
                      ("dev", np.array(dev["text"], dtype=object), np.array(dev["model"]),
                       np.array(dev["prompt_id"]).astype(str))):
    yi = np.searchsorted(classes, y)
    uniq = np.unique(g)
    rows_of = [np.flatnonzero(g == p) for p in uniq]
    for k, r in cal.items():
        P = r.lda().proba(r.space.transform(list(X)))
        ok = P.argmax(1) == yi
        gaps = []
        for _ in range(300):
            rows = np.concatenate([rows_of[i] for i in rng.integers(0, len(rows_of), len(rows_of))])
            gaps.append(ok[rows].mean() - P.max(1)[rows].mean())
        lo, hi = np.percentile(gaps, [5, 95])
        nll = -np.log(np.clip(P[np.arange(len(yi)), yi], 1e-300, None)).mean()
        print(f"{name:4s} {k:13s} top1 {ok.mean():.3f} conf {P.max(1).mean():.3f} gap {ok.mean() - P.max(1).mean():+.3f} "
              f"({lo:+.3f}..{hi:+.3f}) ECE {expected_calibration_error(P, yi):.3f} NLL {nll:.3f}", flush=True)
