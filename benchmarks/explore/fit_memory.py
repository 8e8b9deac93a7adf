"""Peak RSS of a FingerprintClassifier fit on N train answers of alpaca_eval_train, in this process.

Usage: python benchmarks/explore/fit_memory.py [N]   (run once per code version; fit_memory.log)
"""

import sys
import time

import numpy as np

import fingerprint as fp

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
ds = fp.load_corpus("../shared/data/alpaca_eval_train", split="train")
ds = ds.select(np.random.default_rng(0).permutation(len(ds))[:n])
t = time.perf_counter()
clf = fp.FingerprintClassifier().fit(ds["text"], ds["model"], groups=ds["prompt_id"])
hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")).split()[1]
print(f"texts {n}  fit {time.perf_counter() - t:.0f} s  peak RSS {int(hwm) / 1024:.0f} MB  space id {clf.space_.space_id_}")
