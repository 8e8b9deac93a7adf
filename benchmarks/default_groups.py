"""Does the default call (no ``groups=``) get the accuracy of a grouped fit?  (issue 13, item 4)

Usage::

    python benchmarks/default_groups.py [--data ../shared/data/alpaca_eval_train]

Fits ``FingerprintClassifier()`` on the ``train`` answers three ways in one run: with the true prompt
ids, with nothing (the default: prompt groups inferred from content), and with ungrouped folds
(one group per text, what the default did before); scores top-1 on the ``dev`` answers.
Writes ``benchmarks/results/default-groups.{md,json}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import numpy as np

import fingerprint as fp
from fingerprint.calibration import expected_calibration_error

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "alpaca_eval_train"))
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    train = fp.load_corpus(args.data, split="train")
    dev = fp.load_corpus(args.data, split="dev")
    texts, models = list(train["text"]), list(train["model"])
    y_dev = np.array(dev["model"])
    runs = {"default (no groups=)": None, "prompt ids given": list(train["prompt_id"]),
            "ungrouped folds (one group per text)": list(range(len(texts)))}  # fmt: skip
    rows = []
    for name, groups in runs.items():
        t = time.perf_counter()
        clf = fp.FingerprintClassifier(n_jobs=2).fit(texts, models, groups=groups)
        fit_s = time.perf_counter() - t
        P = clf.predict_proba(list(dev["text"]))
        pred = clf.classes_[P.argmax(axis=1)]
        y_idx = np.searchsorted(clf.classes_, y_dev)
        rows.append({"run": name, "groups": clf.references_.metadata["calibration"]["groups"],
                     "top1": float(np.mean(pred == y_dev)), "ece": expected_calibration_error(P, y_idx),
                     "fit_seconds": fit_s})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
        R = write(rows, len(texts), len(y_dev), Path(args.out))  # after each fit: a partial run still reports
    return R


def write(rows: list[dict], n_train: int, n_dev: int, out: Path) -> dict:
    R = {"date": dt.date.today().isoformat(), "version": fp.__version__, "n_train": n_train, "n_dev": n_dev,
         "rows": rows}  # fmt: skip
    (out / "default-groups.json").write_text(json.dumps(R, indent=2))
    md = [f"# Default fit without groups= (issue 13, item 4)\n\n{R['date']}, fingerprint {R['version']}; "
          f"`FingerprintClassifier()` fitted on {R['n_train']:,} `train` answers, scored on {R['n_dev']:,} "
          "`dev` answers.\n",
          "| fit | groups used | top-1 (dev) | ECE (15 bins) | fit time |", "|---|---|---|---|---|"]  # fmt: skip
    md += [f"| {r['run']} | {r['groups']} | {r['top1']:.3f} | {r['ece']:.3f} | {r['fit_seconds']:.0f} s |"
           for r in rows]  # fmt: skip
    (out / "default-groups.md").write_text("\n".join(md) + "\n")
    return R


if __name__ == "__main__":
    main()
