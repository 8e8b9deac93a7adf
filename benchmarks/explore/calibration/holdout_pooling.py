"""How many held-out parts does ``calibration="holdout"`` need?  Every combination of the five parts.

Reads the part scores ``holdout_parts.py`` cached under /tmp/chx (run it first) and calibrates the same
final set on every combination of K = 1..5 parts, pooled; ECE and gap on the held-out fifth of the
``train`` prompts (to choose on) and on ``dev`` (shown), per K: the mean, min and max over the
combinations.
"""

from __future__ import annotations

import itertools
import os
import pickle
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

from fingerprint.building import HOLDOUT_PARTS, fit_references
from fingerprint.calibration import expected_calibration_error

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import holdout_protocol  # noqa: E402

CACHE = Path("/tmp/chx")
P = holdout_protocol()
Y, G, common = P.Y, P.G, P.fit_kw
space, X, _ = pickle.loads((CACHE / "full.pkl").read_bytes())
final_models = np.array(fit_references(X, Y, space, calibrate=False, groups=G, **common).models)
parts = [pickle.loads((CACHE / f"part{k}.pkl").read_bytes()) for k in range(HOLDOUT_PARTS)]
evals = {name: (space.transform(list(Xt)), np.searchsorted(final_models, y)) for name, Xt, y, _ in P.evals}
rows: dict[int, list[tuple[float, ...]]] = {}
for K in range(1, HOLDOUT_PARTS + 1):
    for combo in itertools.combinations(range(HOLDOUT_PARTS), K):
        got = [parts[k] for k in combo]
        refs = fit_references(X, Y, space, calibrate=False, groups=G, **common)
        refs.calibrate_from_scores(*(np.concatenate([s[i] for s in got]) for i in range(3)),
                                   length_feature=np.concatenate([s[3] for s in got]))
        lda, r = refs.lda(), [refs.temperature]
        for F, y_idx in evals.values():
            P = lda.proba(F)
            r += [expected_calibration_error(P, y_idx), float((P.argmax(1) == y_idx).mean() - P.max(1).mean())]
        rows.setdefault(K, []).append(tuple(r))
        print(f"K={K} parts {combo}: T {r[0]:.3f} | held-out train ECE {r[1]:.3f} gap {r[2]:+.3f} "
              f"| dev ECE {r[3]:.3f} gap {r[4]:+.3f}", flush=True)
for K, rs in rows.items():
    a = np.array(rs)
    print(f"K={K} ({len(rs)} combinations): held-out train ECE mean {a[:, 1].mean():.3f} "
          f"(min {a[:, 1].min():.3f}, max {a[:, 1].max():.3f}); dev ECE mean {a[:, 3].mean():.3f} "
          f"(min {a[:, 3].min():.3f}, max {a[:, 3].max():.3f}); T {a[:, 0].min():.2f}-{a[:, 0].max():.2f}")
