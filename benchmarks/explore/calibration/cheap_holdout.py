"""A cheaper ``calibration="holdout"``: refit only the parts of the space fitted on the texts themselves.

The holdout calibration (``building._holdout_calibrated``) repeats the whole fit without a fifth of the
prompts; most of a fit is the score block's cross-fitted SVMs, whose scores of every training text are
already out of fold.  What the cross-fitted calibration scores in sample is the n-gram block (its
vocabulary and PCA are fitted on all the texts) and the style scaling.  So: fit the space once (as the
default does); fit an *unsupervised* space (n-gram vocabulary, PCA, style scaling; no score block) on
four fifths of the prompts; give each text that space's n-gram and style columns plus the full fit's
cross-fitted score columns; build fingerprints on the four fifths, score the held-out fifth, calibrate
the full set on those scores.

Protocol as ``benchmarks/calibration_shift.py`` (fit on 4/5 of the ``train`` prompts, seed 1; scored on
the held-out fifth and on ``dev``); the default (cross-fitted) calibration is computed from the same
cached fit for comparison; the true holdout's numbers are in that benchmark's report.
Run from the project root; caches the fitted space and its features under /tmp/chx.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

import fingerprint as fp
from fingerprint.building import HOLDOUT_PARTS, fit_references, resolve_space
from fingerprint.features.space import FeatureSpace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_shift import measure  # noqa: E402
from common import holdout_protocol  # noqa: E402

CACHE = Path("/tmp/chx")
CACHE.mkdir(exist_ok=True)
P = holdout_protocol()
T, Y, G, kw = P.T, P.Y, P.G, P.kw
if (CACHE / "full.pkl").exists():
    space, X, fit_s = pickle.loads((CACHE / "full.pkl").read_bytes())
else:
    t = time.perf_counter()
    space, X = resolve_space("fit", T, Y, G, n_folds=4, n_jobs=2, random_state=0, **kw)
    fit_s = time.perf_counter() - t
    (CACHE / "full.pkl").write_bytes(pickle.dumps((space, X, fit_s)))
print(f"full space fit {fit_s:.0f} s", flush=True)

common = dict(groups=G, **P.fit_kw)
default = fit_references(X, Y, space, calibrate=True, heldout_spread=space.heldout_spread_, **common)
final = fit_references(X, Y, space, calibrate=False, **common)


def part_scores(part_id: int, salt: str = "holdout") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The held-out part's LDA scores, true-model indices, own distances and length feature."""
    from fingerprint.building import _hash64  # exploration only

    held = np.array([_hash64(f"{salt}\x00{0}\x00{g}") % HOLDOUT_PARTS == part_id for g in G])
    part_space = FeatureSpace(n_char=kw["n_char"], n_word=kw["n_word"], n_components=kw["n_components"],
                              n_score_features=0, random_state=0)
    rows, hrows = np.flatnonzero(~held), np.flatnonzero(held)
    P = part_space.fit_transform([T[i] for i in rows])
    Q = part_space.transform([T[i] for i in hrows])
    sc = space.block("score")
    Xp = np.hstack([P, X[rows, sc.start:sc.stop]])
    Xq = np.hstack([Q, X[hrows, sc.start:sc.stop]])
    assert Xp.shape[1] == X.shape[1]
    part = fit_references(Xp, Y[rows], space, calibrate=False, **{**common, "groups": G[rows]})
    lda = part.lda()
    y_idx = np.searchsorted(np.array(final.models), Y[hrows])
    own = lda.distances(Xq)[np.arange(len(hrows)), y_idx]
    return lda.scores(Xq), y_idx, own, X[hrows, space.length_column]


def cheap(parts: list[int]) -> tuple[fp.ReferenceSet, float]:
    t = time.perf_counter()
    got = [part_scores(k) for k in parts]
    refs = fit_references(X, Y, space, calibrate=False, **common)
    refs.calibrate_from_scores(*(np.concatenate([g[i] for g in got]) for i in range(3)),
                               length_feature=np.concatenate([g[3] for g in got]))
    return refs, time.perf_counter() - t


R = {"fit_seconds": fit_s}
variants = {"default (crossfit)": (default, 0.0)}
for k in range(HOLDOUT_PARTS):
    variants[f"cheap holdout, part {k}"] = cheap([k])
variants["cheap holdout, 5 parts pooled"] = cheap(list(range(HOLDOUT_PARTS)))
evals = {name: (space.transform(list(Xt)), y, g) for name, Xt, y, g in P.evals}
for v, (refs, secs) in variants.items():
    R[v] = {"extra_seconds": secs, "temperature": refs.temperature, "slope": refs.length_slope}
    for name, (F, y, g) in evals.items():
        y_idx = np.searchsorted(np.array(refs.models), y)
        Pr = refs.lda().proba(F)
        R[v][name] = measure(Pr, y_idx, g, np.random.default_rng(0))
        r = R[v][name]
        print(f"{v:28s} {name:24s} top1 {r['top1']:.3f} conf {r['confidence']:.3f} gap {r['gap']:+.3f} "
              f"ECE {r['ece']:.3f} ({r['ece_90'][0]:.3f}-{r['ece_90'][1]:.3f})  T {refs.temperature:.3f} "
              f"slope {refs.length_slope:+.3f} extra {secs:.0f} s", flush=True)
(CACHE / "cheap_holdout.json").write_text(json.dumps(R, indent=1))
