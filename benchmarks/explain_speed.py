"""What explanations cost: ``fp.attribute`` with and without ``top_features``, in one run.

Usage: ``python benchmarks/explain_speed.py``.  The 1,620 answers of the shipped sample attributed
with the built-in references, ``top_features`` 0 (no explanation: the speed report's setting), 1 and
5 (the default); median of 3 interleaved rounds, one process.  Writes
``benchmarks/results/explain-speed.{json,md}``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import warnings
from pathlib import Path

import numpy as np

import fingerprint as fp
from fingerprint import references

HERE = Path(__file__).resolve().parent
SETTINGS = (0, 1, 5)


def main() -> dict:
    warnings.simplefilter("ignore")
    texts = list(references.load_sample()["text"])
    refs = references.builtin()
    fp.attribute(texts[:20], references=refs)  # warm: the space's caches, the LDA
    times: dict[int, list[float]] = {k: [] for k in SETTINGS}
    for _ in range(3):
        for k in SETTINGS:
            t = time.perf_counter()
            fp.attribute(texts, references=refs, top_features=k)
            times[k].append(time.perf_counter() - t)
    rate = {k: len(texts) / float(np.median(v)) for k, v in times.items()}
    R = {"date": dt.date.today().isoformat(), "texts": len(texts), "texts_per_s": {str(k): r for k, r in rate.items()},
         "cost_ratio_default": rate[0] / rate[5]}  # fmt: skip
    lines = [f"# What explanations cost ({R['date']}, one process)\n",
             f"`fp.attribute` of the {len(texts):,} sample answers with the built-in references; median of 3 "
             "interleaved rounds.\n", "| top_features | texts/s |", "|---|---|"]  # fmt: skip
    lines += [f"| {k}{' (default)' if k == 5 else ''} | {rate[k]:,.0f} |" for k in SETTINGS]
    lines += ["", f"The default explanation costs {R['cost_ratio_default']:.1f}x the time of none."]
    out = HERE / "results"
    (out / "explain-speed.json").write_text(json.dumps(R, indent=2))
    (out / "explain-speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return R


if __name__ == "__main__":
    main()
