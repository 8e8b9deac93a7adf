"""Save the references of feats.py as the cache of benchmarks/audit_lineage.py (saves refitting the space).

Same steps as fp.build_references on the references' train answers: the space feats.py fitted (with
the same defaults), its cross-fitted training features, then fit_references (calibrated, 5 folds
grouped by prompt).
"""

import sys

import numpy as np
from common import CACHE, REFS_CACHE, load_meta

import fingerprint as fp
from fingerprint.building import fit_references

out = sys.argv[1] if len(sys.argv) > 1 else REFS_CACHE
meta = load_meta()
F = np.load(CACHE / "feats.npz")
space = fp.FeatureSpace.load(CACHE / "space.npz")
model = np.array(meta["model"], dtype=object)[F["tr"]]
groups = np.array(meta["prompt_id"], dtype=object)[F["tr"]]
lin = meta["lineage"]
md = {m: {k: lin[m][k] for k in ("family", "role", "line", "parent") if lin[m].get(k)} for m in set(model)}
refs = fit_references(F["Xtr"], model, space, calibrate=True, groups=groups, n_folds=5, shrinkage=0.3,
                      metadata=md, random_state=0)
refs.save(out)
print(refs)
