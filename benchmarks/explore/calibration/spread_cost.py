"""What estimating ``heldout_spread_`` costs a fit: time and peak memory, against the same fit without it.

Each run is a fresh process fitting ``FeatureSpace(n_jobs=2)`` on the ``train`` answers of
alpaca_eval_train with labels and prompt ids (what ``FingerprintClassifier().fit`` does first);
the baseline replaces the estimate by ones (the fit before 2026-12-07).  Variants interleaved, 2 rounds;
wall time of the fit and the process's peak RSS (VmHWM; the score block's workers are separate
processes, so this is the main process, where the n-gram block is fitted).

Usage: python benchmarks/explore/calibration/spread_cost.py
"""

import json
import subprocess
import sys

CHILD = r"""
import os, sys, time, json
os.environ["HF_HUB_OFFLINE"] = "1"
import numpy as np
import fingerprint as fp
from fingerprint.features.space import FeatureSpace
if sys.argv[1] == "without":
    FeatureSpace._heldout_spread = lambda self, Zc, k, folds: np.ones(k)
import warnings; warnings.simplefilter("ignore")
train = fp.load_corpus("/work/shared/data/alpaca_eval_train", split="train")
t = time.perf_counter()
FeatureSpace(n_jobs=2).fit_transform(list(train["text"]), list(train["model"]), groups=list(train["prompt_id"]))
s = time.perf_counter() - t
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"variant": sys.argv[1], "fit_s": round(s, 1), "peak_rss_gb": round(int(hwm) / 2**20, 2)}))
"""

rows = []
for _ in range(2):
    for variant in ("without", "with"):
        out = subprocess.run([sys.executable, "-c", CHILD, variant], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
for v in ("without", "with"):
    r = [x for x in rows if x["variant"] == v]
    print(v, "median fit %.1f s, peak RSS %.2f GB" % (sorted(x["fit_s"] for x in r)[len(r) // 2 - 1 + len(r) % 2],
                                                      max(x["peak_rss_gb"] for x in r)))
