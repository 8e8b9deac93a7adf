"""Features of alpaca_eval_train train (cross-fitted, as FingerprintClassifier sees them) and dev."""
import os, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
import fingerprint as fp
from fingerprint.building import resolve_space
from fingerprint.classifier import FingerprintClassifier
D = "/work/shared/data/alpaca_eval_train"
train = fp.load_corpus(D, split="train"); dev = fp.load_corpus(D, split="dev")
c = FingerprintClassifier(n_jobs=2)
texts, y, g = list(train["text"]), np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
t = time.perf_counter()
space, X = resolve_space("fit", texts, y, g, n_char=c.n_char, n_word=c.n_word, n_components=c.n_components,
                         n_score_features=c.n_score_features, n_folds=c.n_folds, n_jobs=2, random_state=c.random_state)
print("fit", time.perf_counter() - t, flush=True)
Xd = space.transform(list(dev["text"]))
space.save("/tmp/ece/space.npz")
np.savez("/tmp/ece/feats.npz", X=X, y=y, g=g, Xd=Xd, yd=np.array(dev["model"]), gd=np.array(dev["prompt_id"]).astype(str))
print("done", time.perf_counter() - t)
