"""Is a user-fitted classifier's ECE on ``dev`` a calibration defect or a shift between prompt sets?  (issue 13)

Usage::

    python benchmarks/calibration_shift.py [--data ../shared/data/alpaca_eval_train]

``FingerprintClassifier(n_jobs=2)`` is fitted, with the prompt ids as groups, on the ``train``
answers of four fifths of the ``train`` prompts (a hash of the prompt id; seed 1, so not the
calibration's own folds).  Its calibrated probabilities are then scored on two kinds of unseen
prompts, by the same fitted model:

* the answers to the held-out fifth of the ``train`` prompts (drawn like the prompts the
  calibration was fitted on);
* the ``dev`` answers (the fixed prompt split every other benchmark reports on).

For each: top-1, mean top confidence, their gap, ECE (15 bins), and a 90 % interval of the gap
and the ECE from 500 bootstrap resamples of the prompts (answers to one prompt move together).
If the calibration is sound, the confidence matches the accuracy on the held-out ``train``
prompts; a ``dev`` gap then says the ``dev`` prompts are easier or harder than ``train`` ones,
which no calibration fitted on ``train`` prompts can see.

Each is scored twice from the same fit: with the library's calibration (a text's temperature
depends on its length, then the top-label map) and with one temperature for every text (the
calibration before 2026-12-06), fitted on the same cross-fitted scores; per calibration, the
reliability by answer length.  A second classifier, ``calibration="holdout"`` (the same fingerprints,
calibrated on a fifth of its prompts scored by the same fit without them), is scored the same way,
and both fit times are reported.

Writes ``benchmarks/results/calibration-shift.{md,json}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import numpy as np

import fingerprint as fp
from fingerprint.building import calibration_folds
from fingerprint.calibration import expected_calibration_error
from fingerprint.refset import ReferenceSet

HERE = Path(__file__).resolve().parent


def measure(P: np.ndarray, y_idx: np.ndarray, prompts: np.ndarray, rng: np.random.Generator) -> dict:
    ok = P.argmax(axis=1) == y_idx
    conf = P.max(axis=1)
    rows_of = [np.flatnonzero(prompts == p) for p in np.unique(prompts)]
    gaps, eces = [], []
    for _ in range(500):
        rows = np.concatenate([rows_of[i] for i in rng.integers(0, len(rows_of), len(rows_of))])
        gaps.append(ok[rows].mean() - conf[rows].mean())
        eces.append(expected_calibration_error(P[rows], y_idx[rows]))
    return {"texts": len(y_idx), "prompts": len(rows_of), "top1": float(ok.mean()), "confidence": float(conf.mean()),
            "gap": float(ok.mean() - conf.mean()), "gap_90": np.percentile(gaps, [5, 95]).tolist(),
            "ece": expected_calibration_error(P, y_idx), "ece_90": np.percentile(eces, [5, 95]).tolist()}  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "alpaca_eval_train"))
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from builtin_set import length_reliability, length_table

    train = fp.load_corpus(args.data, split="train")
    dev = fp.load_corpus(args.data, split="dev")
    texts = np.array(train["text"], dtype=object)
    models, prompts = np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
    held = calibration_folds(prompts, 5, random_state=1) == 0
    seen: dict = {}
    calibrate_from_scores = ReferenceSet.calibrate_from_scores

    def record(self, scores, y_idx, own_distances, *, length_feature=None):  # type: ignore[no-untyped-def]
        seen.update(scores=scores, y_idx=y_idx, own_distances=own_distances)
        return calibrate_from_scores(self, scores, y_idx, own_distances, length_feature=length_feature)

    ReferenceSet.calibrate_from_scores = record  # keep the fit's cross-fitted scores to calibrate a second way
    try:
        t = time.perf_counter()
        clf = fp.FingerprintClassifier(n_jobs=2).fit(list(texts[~held]), models[~held], groups=prompts[~held])
        fit_s = time.perf_counter() - t
    finally:
        ReferenceSet.calibrate_from_scores = calibrate_from_scores
    assert "scores" in seen, "the fit did not calibrate through ReferenceSet.calibrate_from_scores"
    t = time.perf_counter()
    hold = fp.FingerprintClassifier(n_jobs=2, calibration="holdout").fit(list(texts[~held]), models[~held],
                                                                        groups=prompts[~held])  # fmt: skip
    hold_s = time.perf_counter() - t
    refs = clf.references_
    one = ReferenceSet(list(refs), refs.space, shrinkage=refs.shrinkage, temperature=1.0)
    one.calibrate_from_scores(seen["scores"], seen["y_idx"], seen["own_distances"])  # no length: one temperature
    lda_one = one.lda()
    assert list(lda_one.classes) == list(clf.classes_)  # y_idx below indexes both
    rng = np.random.default_rng(0)
    R = {"date": dt.date.today().isoformat(), "version": fp.__version__, "fit_texts": int((~held).sum()),
         "fit_seconds": fit_s, "holdout_fit_seconds": hold_s}  # fmt: skip
    for name, X, y, g in (("held-out train prompts", texts[held], models[held], prompts[held]),
                          ("dev prompts", np.array(dev["text"], dtype=object), np.array(dev["model"]),
                           np.array(dev["prompt_id"]).astype(str))):  # fmt: skip
        F = refs.space.transform(list(X))
        n_chars = np.array([len(t) for t in X])
        y_idx = np.searchsorted(clf.classes_, y)  # classes_ are the set's models here (string labels)
        P = clf.predict_proba(list(X))
        R[name] = measure(P, y_idx, g, rng)
        R[name]["by_length"] = length_reliability(P.max(axis=1), P.argmax(axis=1) == y_idx, n_chars)
        P1 = lda_one.proba(F)
        R[name]["one_temperature"] = measure(P1, y_idx, g, rng)
        R[name]["one_temperature"]["by_length"] = length_reliability(P1.max(axis=1), P1.argmax(axis=1) == y_idx,
                                                                     n_chars)  # fmt: skip
        Ph = hold.predict_proba(list(X))
        R[name]["holdout"] = measure(Ph, y_idx, g, rng)
        R[name]["holdout"]["by_length"] = length_reliability(Ph.max(axis=1), Ph.argmax(axis=1) == y_idx, n_chars)
        print(name, json.dumps(R[name]), flush=True)
    R["temperature"], R["length_slope"], R["one_temperature"] = refs.temperature, refs.length_slope, one.temperature
    R["holdout_temperature"], R["holdout_length_slope"] = hold.references_.temperature, hold.references_.length_slope
    out = Path(args.out)
    (out / "calibration-shift.json").write_text(json.dumps(R, indent=2))
    md = [f"# Calibration of a user-fitted classifier on two kinds of unseen prompts (issue 13)\n\n{R['date']}, "
          f"fingerprint {R['version']}. Protocol: `benchmarks/calibration_shift.py` docstring. "
          f"`FingerprintClassifier(n_jobs=2)` fitted on {R['fit_texts']:,} answers to 4/5 of the `train` prompts "
          f"({fit_s:.0f} s; with `calibration=\"holdout\"` {hold_s:.0f} s, ratio {hold_s / fit_s:.2f}), with the "
          "prompt ids as groups.\n",
          "| scored on | texts (prompts) | top-1 | mean confidence | top-1 minus confidence (90 % interval) "
          "| ECE, 15 bins (90 % interval) |", "|---|---|---|---|---|---|"]  # fmt: skip
    md[-2] = md[-2].replace("| scored on |", "| scored on | calibration |")
    md[-1] += "---|"
    for name in ("held-out train prompts", "dev prompts"):
        for how, r in (("length-aware temperature + map (the library's default, cross-fitted)", R[name]),
                       ("one temperature + map", R[name]["one_temperature"]),
                       ('`calibration="holdout"`', R[name]["holdout"])):  # fmt: skip
            md.append(f"| {name} | {how} | {r['texts']:,} ({r['prompts']}) | {r['top1']:.3f} | {r['confidence']:.3f} "
                      f"| {r['gap']:+.3f} ({r['gap_90'][0]:+.3f} to {r['gap_90'][1]:+.3f}) | {r['ece']:.3f} "
                      f"({r['ece_90'][0]:.3f} to {r['ece_90'][1]:.3f}) |")  # fmt: skip
    md += ["", f"Temperature {R['temperature']:.3f} with length slope {R['length_slope']:+.3f} (per standard "
           "deviation of the length feature, `style:log_chars`); one temperature: "
           f"{R['one_temperature']:.3f}; `calibration=\"holdout\"`: {R['holdout_temperature']:.3f} with slope "
           f"{R['holdout_length_slope']:+.3f}."]  # fmt: skip
    for name in ("held-out train prompts", "dev prompts"):
        for how, r in (("length-aware temperature", R[name]), ("one temperature", R[name]["one_temperature"]),
                       ('`calibration="holdout"`', R[name]["holdout"])):  # fmt: skip
            md += ["", f"Reliability by answer length, {name}, {how}:", "", *length_table(r["by_length"])]
    md += ["", "The intervals resample prompts; a bootstrap's ECE is biased upward (resampled bins hold fewer "
           "distinct texts), so read them for their width."]  # fmt: skip
    (out / "calibration-shift.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return R


if __name__ == "__main__":
    main()
