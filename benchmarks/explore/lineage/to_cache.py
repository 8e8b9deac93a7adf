"""Save the references of feats.py as the cache of benchmarks/audit_lineage.py (saves refitting the space).

Same steps as fp.build_references on the references' train answers: the space feats.py fitted (with
the same defaults), its cross-fitted training features, then fit_references (calibrated, 5 folds
grouped by prompt).
"""

import json
import sys

import numpy as np

import fingerprint as fp
from fingerprint.building import fit_references

D = "/tmp/lineage"
out = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/.cache/lineage-refs"
meta = json.load(open(f"{D}/meta.json"))
F = np.load(f"{D}/feats.npz")
space = fp.FeatureSpace.load(f"{D}/space.npz")
model = np.array(meta["model"], dtype=object)[F["tr"]]
groups = np.array(meta["prompt_id"], dtype=object)[F["tr"]]
lin = meta["lineage"]
md = {m: {k: lin[m][k] for k in ("family", "role", "line", "parent") if lin[m].get(k)} for m in set(model)}
refs = fit_references(F["Xtr"], model, space, calibrate=True, groups=groups, n_folds=5, shrinkage=0.3,
                      metadata=md, random_state=0)
refs.save(out)
print(refs)
