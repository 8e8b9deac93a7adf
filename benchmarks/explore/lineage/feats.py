"""Issue 12 exploration, step 1: one feature space for the lineage audit, and every model's features.

References (the candidates of the audit benchmark): every original model (role teacher/base) of
alpaca_eval_train + alpaca_eval_wide, plus the parent of each prompted variant.  The space is fitted
on the references' `train`-prompt answers only (cross-fitted score block, grouped by prompt); the
references' fingerprints come from those cross-fitted features.  Every model's `dev`-prompt answers
are transformed (references and audited models alike).  Writes /tmp/lineage/feats.npz + meta.json.
"""

import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
from common import CACHE, DATA, load_lineage, load_rows

import fingerprint as fp

SHARED = sys.argv[1] if len(sys.argv) > 1 else DATA
CACHE.mkdir(exist_ok=True)

lineage = load_lineage(SHARED)
refs = lineage.references()
print(len(lineage), "models;", len(refs), "references", flush=True)

answers = load_rows(("train", "dev"), SHARED)  # (model, prompt_id, text, split), corpus by corpus
rows = {k: [a[i] for a in answers] for i, k in enumerate(("model", "prompt_id", "text", "split"))}
model = np.array(rows["model"], dtype=object)
split = np.array(rows["split"], dtype=object)
tr = np.flatnonzero((split == "train") & np.isin(model, refs))
dv = np.flatnonzero(split == "dev")
print(f"{len(tr)} reference train texts, {len(dv)} dev texts of {len(set(model[dv]))} models", flush=True)

t = time.perf_counter()
space = fp.FeatureSpace(n_jobs=2)
Xtr = space.fit_transform([rows["text"][i] for i in tr], model[tr], groups=[rows["prompt_id"][i] for i in tr])
print(f"fit {time.perf_counter() - t:.0f}s", flush=True)
space.save(CACHE / "space.npz")
t = time.perf_counter()
Xdv = space.transform([rows["text"][i] for i in dv])
print(f"transform {time.perf_counter() - t:.0f}s", flush=True)
np.savez(CACHE / "feats.npz", Xtr=Xtr, Xdv=Xdv, tr=tr, dv=dv)
json.dump({"model": rows["model"], "prompt_id": rows["prompt_id"], "split": rows["split"], "refs": refs,
           "lineage": lineage, "blocks": [[b.name, b.start, b.stop] for b in space.blocks_]},
          open(CACHE / "meta.json", "w"))
print("done", flush=True)
