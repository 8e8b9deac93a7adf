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

from fingerprint.building import HOLDOUT_PARTS, _hash64, fit_references, resolve_space

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_shift import measure  # noqa: E402
from common import holdout_protocol  # noqa: E402

CACHE = Path("/tmp/chx")
P = holdout_protocol()
T, Y, G, kw, common = P.T, P.Y, P.G, P.kw, P.fit_kw
space, X, _ = pickle.loads((CACHE / "full.pkl").read_bytes())
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


evals = {name.split(" prompts")[0]: (space.transform(list(Xt)), np.searchsorted(final_models, y), g)
         for name, Xt, y, g in P.evals}


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
