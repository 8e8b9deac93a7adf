"""Style markers and featurisation, before and after the exact regex rewrites, interleaved in one process.

The machine's speed drifts by the minute, so the two versions alternate, three times each, on the
same 3,678 `dev` answers of alpaca_eval_train; the markers of every answer of both corpora (train
and dev) are also compared cell by cell.  The "before" module is read from git (commit 31856db).

Usage: python benchmarks/explore/style_ab.py   (style_ab.log)
"""

import importlib.util
import subprocess
import sys
import tempfile
import time

import numpy as np

import fingerprint as fp
from fingerprint.features.space import FeatureSpace

source = subprocess.run(["git", "show", "31856db:fingerprint/features/style.py"], capture_output=True, text=True,
                        check=True).stdout  # fmt: skip
with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
    f.write(source)
spec = importlib.util.spec_from_file_location("style_before", f.name)
before = importlib.util.module_from_spec(spec)
sys.modules["style_before"] = before
spec.loader.exec_module(before)

corpora = {d: fp.load_corpus(f"../shared/data/{d}", split=None).to_pandas() for d in
           ("alpaca_eval_train", "alpaca_eval_wide")}  # fmt: skip
every = [t for df in corpora.values() for t in df["text"]]
A = before.StyleMarkers().fit(["x"]).transform(every)
B = fp.StyleMarkers().fit(["x"]).transform(every)
print(f"{len(every):,} answers of both corpora: cells that differ {int((A != B).sum())}, "
      f"non-ASCII answers {sum(not t.isascii() for t in every):,}")

train = corpora["alpaca_eval_train"]
texts = list(train[[fp.prompt_split(p) == "dev" for p in train["prompt_id"]]]["text"])
space = FeatureSpace.default().set_params(n_jobs=1)
space.transform(texts[:600])
versions = {"before": before.StyleMarkers().fit(["x"]), "after": space._style}
for _ in range(3):
    for name, style in versions.items():
        space._style = style
        t = time.perf_counter()
        space.transform(texts)
        whole = time.perf_counter() - t
        t = time.perf_counter()
        style.transform(texts)
        alone = time.perf_counter() - t
        print(f"{name:6s}  featurisation {len(texts) / whole:4.0f} texts/s (1 core)  "
              f"style markers alone {1e6 * alone / len(texts):4.0f} us per answer", flush=True)
