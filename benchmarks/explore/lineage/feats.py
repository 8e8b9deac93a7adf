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
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
import fingerprint as fp

SHARED = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = Path("/tmp/lineage")
OUT.mkdir(exist_ok=True)

lineage = {}
for c in ("alpaca_eval_train", "alpaca_eval_wide"):
    lineage.update(json.loads((SHARED / c / "lineage.json").read_text()))
refs = sorted({m for m, v in lineage.items() if v["role"] in ("teacher", "base")}
              | {v["parent"] for v in lineage.values() if v["role"] == "prompted"})
print(len(lineage), "models;", len(refs), "references", flush=True)

rows = {"text": [], "model": [], "prompt_id": [], "split": []}
for c in ("alpaca_eval_train", "alpaca_eval_wide"):
    for split in ("train", "dev"):
        ds = fp.load_corpus(SHARED / c, split=split)
        rows["text"] += ds["text"]
        rows["model"] += ds["model"]
        rows["prompt_id"] += ds["prompt_id"]
        rows["split"] += [split] * len(ds)
model = np.array(rows["model"], dtype=object)
split = np.array(rows["split"], dtype=object)
tr = np.flatnonzero((split == "train") & np.isin(model, refs))
dv = np.flatnonzero(split == "dev")
print(f"{len(tr)} reference train texts, {len(dv)} dev texts of {len(set(model[dv]))} models", flush=True)

t = time.perf_counter()
space = fp.FeatureSpace(n_jobs=2)
Xtr = space.fit_transform([rows["text"][i] for i in tr], model[tr], groups=[rows["prompt_id"][i] for i in tr])
print(f"fit {time.perf_counter() - t:.0f}s", flush=True)
space.save(OUT / "space.npz")
t = time.perf_counter()
Xdv = space.transform([rows["text"][i] for i in dv])
print(f"transform {time.perf_counter() - t:.0f}s", flush=True)
np.savez(OUT / "feats.npz", Xtr=Xtr, Xdv=Xdv, tr=tr, dv=dv)
json.dump({"model": rows["model"], "prompt_id": rows["prompt_id"], "split": rows["split"], "refs": refs,
           "lineage": lineage, "blocks": [[b.name, b.start, b.stop] for b in space.blocks_]},
          open(OUT / "meta.json", "w"))
print("done", flush=True)
