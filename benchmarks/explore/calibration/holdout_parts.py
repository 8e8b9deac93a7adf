"""Does ``calibration="holdout"``'s dev ECE depend on which fifth of the prompts it holds out?

``building._holdout_calibrated`` holds out part 0 of 5 (a salted hash of the prompt id).  Here the same
calibration is made with each of the 5 parts held out in turn, and with all five parts' scores pooled
(each text scored by a full fit without its part: five extra fits).  The final set is the one
``cheap_holdout.py`` caches (the space fitted as ``FingerprintClassifier(n_jobs=2)`` fits it on 4/5 of
the ``train`` prompts, seed 1; run that script first); scored on the held-out fifth of ``train`` and
on ``dev``.  The part fits are cached under /tmp/chx too (about 4 min each on 2 cores).
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

import fingerprint as fp
from fingerprint.building import HOLDOUT_PARTS, _hash64, calibration_folds, fit_references, resolve_space

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from calibration_shift import measure  # noqa: E402

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "alpaca_eval_train"
CACHE = Path("/tmp/chx")
train = fp.load_corpus(str(DATA), split="train")
dev = fp.load_corpus(str(DATA), split="dev")
texts = np.array(train["text"], dtype=object)
models, prompts = np.array(train["model"]).astype(str), np.array(train["prompt_id"]).astype(str)
outer = calibration_folds(prompts, 5, random_state=1) == 0
T, Y, G = list(texts[~outer]), models[~outer], prompts[~outer]
clf = fp.FingerprintClassifier()
kw = dict(n_char=clf.n_char, n_word=clf.n_word, n_components=clf.n_components, n_score_features=clf.n_score_features)
space, X, _ = pickle.loads((CACHE / "full.pkl").read_bytes())
common = dict(n_folds=4, shrinkage=clf.shrinkage, metadata=None, random_state=0)
final_models = np.array(fit_references(X, Y, space, calibrate=False, groups=G, **common).models)
part_of = np.array([_hash64(f"holdout\x00{0}\x00{g}") % HOLDOUT_PARTS for g in G])


def part_scores(k: int) -> tuple[np.ndarray, ...]:
    f = CACHE / f"part{k}.pkl"
    if f.exists():
        return pickle.loads(f.read_bytes())
    rows, hrows = np.flatnonzero(part_of != k), np.flatnonzero(part_of == k)
    pspace, Xp = resolve_space("fit", [T[i] for i in rows], Y[rows], G[rows], n_folds=4, n_jobs=2,
                               random_state=0, **kw)  # fmt: skip
    lda = fit_references(Xp, Y[rows], pspace, calibrate=False, groups=G[rows], **common).lda()
    Fq = pspace.transform([T[i] for i in hrows])
    y_idx = np.searchsorted(final_models, Y[hrows])
    out = (lda.scores(Fq), y_idx, lda.distances(Fq)[np.arange(len(hrows)), y_idx], X[hrows, space.length_column])
    f.write_bytes(pickle.dumps(out))
    return out


evals = {}
for name, Xt, y, g in (("held-out train", texts[outer], models[outer], prompts[outer]),
                       ("dev", np.array(dev["text"], dtype=object), np.array(dev["model"]).astype(str),
                        np.array(dev["prompt_id"]).astype(str))):  # fmt: skip
    evals[name] = (space.transform(list(Xt)), np.searchsorted(final_models, y), g)


def report(label: str, parts: list[int]) -> None:
    got = [part_scores(k) for k in parts]
    refs = fit_references(X, Y, space, calibrate=False, groups=G, **common)
    refs.calibrate_from_scores(*(np.concatenate([s[i] for s in got]) for i in range(3)),
                               length_feature=np.concatenate([s[3] for s in got]))
    lda = refs.lda()
    line = [f"{label:18s} T {refs.temperature:.3f} slope {refs.length_slope:+.3f}"]
    for name, (F, y_idx, g) in evals.items():
        r = measure(lda.proba(F), y_idx, g, np.random.default_rng(0))
        line.append(f"{name} top1 {r['top1']:.3f} conf {r['confidence']:.3f} gap {r['gap']:+.3f} ECE {r['ece']:.3f}")
    print(" | ".join(line), flush=True)


for k in range(HOLDOUT_PARTS):
    report(f"holdout part {k}", [k])
report("5 parts pooled", list(range(HOLDOUT_PARTS)))
