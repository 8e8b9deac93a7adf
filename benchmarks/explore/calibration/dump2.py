"""Fit the space on 4/5 of the train prompts; features of the held-out fifth (C) and dev, out of sample."""
import os, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
from fingerprint.features.space import FeatureSpace
from fingerprint.building import calibration_folds
from fingerprint.classifier import FingerprintClassifier
import fingerprint as fp
D = "/work/shared/data/alpaca_eval_train"
train = fp.load_corpus(D, split="train"); dev = fp.load_corpus(D, split="dev")
c = FingerprintClassifier(n_jobs=2)
texts, y, g = np.array(train["text"], dtype=object), np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
held = calibration_folds(g, 5, 1) == 0   # random_state 1: not the calibration folds' hash
t = time.perf_counter()
space = FeatureSpace(n_char=c.n_char, n_word=c.n_word, n_components=c.n_components, n_score_features=c.n_score_features,
                     n_folds=c.n_folds, n_jobs=2, random_state=c.random_state)
XR = space.fit_transform(list(texts[~held]), y[~held], groups=g[~held])
print("fit", time.perf_counter() - t, flush=True)
XC = space.transform(list(texts[held])); Xd = space.transform(list(dev["text"]))
np.savez("/tmp/ece/feats2.npz", XR=XR, yR=y[~held], gR=g[~held], XC=XC, yC=y[held], gC=g[held], Xd=Xd,
         yd=np.array(dev["model"]), gd=np.array(dev["prompt_id"]).astype(str))
space.save("/tmp/ece/space2.npz")
print("done", time.perf_counter() - t)
