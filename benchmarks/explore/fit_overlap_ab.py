"""Full fit of alpaca_eval_train's `train` answers, before and after the n-gram block moved into the last fold round.

A fit's time varies by a third between runs on this machine, so the two versions alternate
(before, after, before, after), each in a fresh process importing its own copy of the package:
"before" is commit 31856db checked out as a git worktree (``git worktree add /tmp/fp_before 31856db``).
Run from /tmp (so the working directory does not shadow the package).

Usage: cd /tmp && python /work/main/benchmarks/explore/fit_overlap_ab.py   (fit_overlap_ab.log)
"""

import os
import subprocess
import sys

CODE = """
import os, time
import fingerprint as fp
tr = fp.load_corpus("/work/shared/data/alpaca_eval_train", split="train").to_pandas()
t = time.perf_counter()
refs = fp.build_references(list(tr["text"]), list(tr["model"]), groups=tr["prompt_id"], n_jobs=2)
s = time.perf_counter() - t
print(f"{os.path.dirname(fp.__file__)}  fit {s:.0f} s  space id {refs.space.space_id_}", flush=True)
"""
versions = {"before": "/tmp/fp_before", "after": "/work/main"}
for _ in range(2):
    for name, root in versions.items():
        env = {**os.environ, "PYTHONPATH": root, "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "PYTHONWARNINGS": "ignore"}
        out = subprocess.run([sys.executable, "-c", CODE], env=env, cwd="/tmp", capture_output=True, text=True)
        print(name, out.stdout.strip() or out.stderr[-2000:], flush=True)
