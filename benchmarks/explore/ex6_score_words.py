"""Issue 11: the score block's word tokens, "cased" (case and punctuation kept, as the docs say and the
n-gram block does) vs "lowercase" (the tokenisation shipped before: lower-cased words of 2+ characters).

Choice by prompt-grouped 5-fold CV on `train` prompts only (dev is not read):
- svm_cv: accuracy of the cross-fitted score block alone (argmax of the out-of-fold SVM scores);
- lda_cv: the whole model (shrinkage LDA on [n-gram PCs, style, score]) cross-validated on the
  cross-fitted training features, folds grouped by prompt (the calibration folds of build_references).
"""

import os
import sys
import time

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
import fingerprint as fp
from fingerprint.fingerprints import Fingerprint
from fingerprint.lda import LDAModel
from sklearn.model_selection import GroupKFold

data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/alpaca_eval_train"
train = fp.load_corpus(data, split="train")
texts, y, g = list(train["text"]), np.array(train["model"], dtype=object), np.array(train["prompt_id"], dtype=object)
print(f"{len(texts)} train texts, {len(set(y))} models, {len(set(g))} prompts", flush=True)
for words in ("cased", "lowercase"):
    t = time.perf_counter()
    space = fp.FeatureSpace(score_words=words, n_jobs=2)
    X = space.fit_transform(texts, y, groups=g)
    sc = space.block("score")
    classes = np.unique(y)
    svm_cv = float(np.mean(classes[X[:, sc.start : sc.stop].argmax(1)] == y))
    hits = []
    for tr, te in GroupKFold(5).split(X, y, g):
        fps = [Fingerprint.from_features(X[tr][y[tr] == c], c, space.space_id_) for c in classes]
        lda = LDAModel.from_fingerprints(fps, 0.3)
        hits.append(classes[lda.scores(X[te]).argmax(1)] == y[te])
    lda_cv = float(np.mean(np.concatenate(hits)))
    print(f"score_words={words:<10} svm_cv={svm_cv:.4f} lda_cv={lda_cv:.4f} ({time.perf_counter() - t:.0f}s)", flush=True)
