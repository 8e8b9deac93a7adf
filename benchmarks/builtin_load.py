"""Size and load time of the built-in reference set.

Usage: ``python benchmarks/builtin_load.py``.  Load time is measured in fresh processes (imports
included, as a notebook user meets it; five of them, with the time of importing scikit-learn alone in
five more) and, in-process, as a ratio to reading the same ``.npz`` files with plain ``numpy.load``
(the floor any loader has to pay).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fingerprint import references
from fingerprint.refset import ReferenceSet

HERE = Path(__file__).resolve().parent


def main() -> dict:
    d = references.builtin_dir()
    files = sorted(d.glob("*.npz"))
    size = sum(p.stat().st_size for p in files)
    def fresh(code: str) -> float:
        out = subprocess.run([sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; "
                              "print(time.perf_counter()-t)"], capture_output=True, text=True, check=True)  # fmt: skip
        return float(out.stdout.strip())

    # fresh processes vary by tenths of a second here: five of each, and the floor that no loader
    # of a scikit-learn estimator can go under (importing scikit-learn)
    cold = [fresh("from fingerprint import references; references.builtin()") for _ in range(5)]
    sklearn_import = [fresh("import sklearn.base") for _ in range(5)]
    warm, raw = [], []
    for _ in range(5):
        t = time.perf_counter()
        ReferenceSet.load(references.builtin_dir())  # uncached: what the first builtin() call does
        warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        for p in files:
            with np.load(p) as z:
                [z[k] for k in z.files]
        raw.append(time.perf_counter() - t)
    report = {
        "files": len(files),
        "size_mb": size / 2**20,
        "cold_load_s_median": float(np.median(cold)),
        "cold_load_s_min_max": [min(cold), max(cold)],
        "sklearn_import_s_median": float(np.median(sklearn_import)),
        "sklearn_import_s_min_max": [min(sklearn_import), max(sklearn_import)],
        "load_s_median_after_imports": float(np.median(warm)),
        "ratio_to_plain_np_load": float(np.median(warm) / np.median(raw)),
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "builtin-load.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
