"""Folds of the score block against folds of the calibration: which costs calibration when the default
drops from 5 to 4?

The benchmark suite rerun with ``n_folds=4`` everywhere (score block and calibration) gave `dev` ECE
0.047 against 0.040 with 5 (top-1 0.406 / 0.405).  ``n_folds`` sets two things: the folds of the space's
score block (its SVMs: 4 run in two rounds on 2 cores, 5 in three) and the calibration folds of
``fit_references`` (cheap: LDA fits on fingerprints).  Here each is varied alone.

Protocol (as ``benchmarks/calibration_shift.py``): fit on the answers to 4/5 of the ``train`` prompts,
score the held-out fifth (what a choice may be based on) and the ``dev`` prompts (shown, not used to
choose).  The space is fitted once per score-block fold count (S = 5, 4) and calibrated with C = 4, 5,
10 folds on the same features.

usage: python benchmarks/explore/calibration/folds.py     (log: folds.log, ~15 min on 2 cores)
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

import fingerprint as fp
from fingerprint.building import calibration_folds, fit_references

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from calibration_shift import measure  # noqa: E402

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "alpaca_eval_train"
train, dev = fp.load_corpus(DATA, split="train"), fp.load_corpus(DATA, split="dev")
texts = np.array(train["text"], dtype=object)
models, prompts = np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
held = calibration_folds(prompts, 5, random_state=1) == 0
sets = {"held-out train prompts": (list(texts[held]), models[held], prompts[held]),
        "dev prompts": (list(dev["text"]), np.array(dev["model"]), np.array(dev["prompt_id"]).astype(str))}

for S in (5, 4):
    t = time.perf_counter()
    space = fp.FeatureSpace(n_folds=S, n_jobs=2)
    X = space.fit_transform(list(texts[~held]), models[~held], groups=prompts[~held])
    fit_s = time.perf_counter() - t
    feats = {name: space.transform(tx) for name, (tx, _, _) in sets.items()}
    for C in (4, 5, 10):
        refs = fit_references(X, models[~held], space, calibrate=True, groups=prompts[~held], n_folds=C,
                              shrinkage=0.3, metadata=None, random_state=0)
        lda = refs.lda()
        for name, (_, y, g) in sets.items():
            P = lda.proba(feats[name])  # what fp.attribute reports, from the same features
            r = measure(P, np.searchsorted(np.asarray(lda.classes).astype(str), y), g, np.random.default_rng(0))
            print(json.dumps({"score_folds": S, "calibration_folds": C, "set": name, "space_fit_s": round(fit_s),
                              "top1": round(r["top1"], 4), "confidence": round(r["confidence"], 4),
                              "gap": round(r["gap"], 4), "ece": round(r["ece"], 4),
                              "ece_90": [round(v, 4) for v in r["ece_90"]]}), flush=True)
