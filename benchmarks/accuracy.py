"""Per-text attribution accuracy on a corpus with a prompt split (train -> dev).

Usage::

    python benchmarks/accuracy.py [--data ../shared/data/alpaca_eval_train] [--quick] [--baseline]

Fits on ``train`` prompts only and evaluates on ``dev`` prompts, so the same
instruction never appears on both sides.  Prints and writes (JSON + Markdown,
under ``benchmarks/results/``) top-1, top-3, macro-F1, ECE (15 bins) and
Brier score, for raw-text fitting and for the reference set re-assembled
from saved fingerprint files alone, and optionally the plain TF-IDF +
LinearSVC baseline in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")

import numpy as np
from sklearn.metrics import f1_score

import fingerprint as fp

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "alpaca_eval_train"


def metrics(proba: np.ndarray, classes: np.ndarray, y: np.ndarray) -> dict[str, float]:
    idx = np.searchsorted(classes, y)
    order = np.argsort(-proba, axis=1)
    pred = classes[order[:, 0]]
    return {
        "top1": float(np.mean(pred == y)),
        "top3": float(np.mean((order[:, :3] == idx[:, None]).any(axis=1))),
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "ece": fp.expected_calibration_error(proba, idx),
        "brier": fp.brier_score(proba, idx),
    }


def baseline(train, dev) -> dict[str, float]:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vc = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, lowercase=False)
    vw = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
    Xtr = sp.hstack([vc.fit_transform(train["text"]), vw.fit_transform(train["text"])]).tocsr()
    Xte = sp.hstack([vc.transform(dev["text"]), vw.transform(dev["text"])]).tocsr()
    svc = LinearSVC(C=0.5).fit(Xtr, train["model"])
    pred = svc.predict(Xte)
    y = np.array(dev["model"])
    return {"top1": float(np.mean(pred == y)), "macro_f1": float(f1_score(y, pred, average="macro"))}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--quick", action="store_true", help="60 train / 20 dev texts per model, small space")
    ap.add_argument("--baseline", action="store_true", help="also run TF-IDF char1-4+word1-2 LinearSVC")
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)

    train = fp.load_corpus(args.data, split="train")
    dev = fp.load_corpus(args.data, split="dev")
    kw = {}
    if args.quick:
        train, dev = fp.sample_per_model(train, 60), fp.sample_per_model(dev, 20)
        kw = {"n_char": 1000, "n_word": 500, "n_components": 128}
    y_dev = np.array(dev["model"])
    report: dict = {
        "corpus": Path(args.data).name,
        "date": dt.date.today().isoformat(),
        "quick": args.quick,
        "n_train": len(train),
        "n_dev": len(dev),
        "n_models": len(set(train["model"])),
        "fingerprint_version": fp.__version__,
    }
    t = time.perf_counter()
    clf = fp.FingerprintClassifier(**kw).fit(train["text"], train["model"], groups=train["prompt_id"])
    report["fit_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    proba = clf.predict_proba(dev["text"])
    report["predict_texts_per_s"] = len(dev) / (time.perf_counter() - t)
    report["raw_texts"] = metrics(proba, clf.classes_, y_dev)
    report["temperature"] = clf.references_.temperature

    # fingerprint-only path: save every fingerprint, re-assemble from files alone
    with tempfile.TemporaryDirectory() as tmp:
        paths = [f.save(Path(tmp) / f"{i}.npz") for i, f in enumerate(clf.references_)]
        refs = fp.load_references(paths, space=clf.space_)
        p_uncal = fp.FingerprintClassifier.from_references(refs).predict_proba(dev["text"])
        report["fingerprint_files_uncalibrated"] = metrics(p_uncal, np.array(refs.models), y_dev)
    if args.baseline:
        t = time.perf_counter()
        report["baseline_tfidf_svc"] = baseline(train, dev)
        report["baseline_tfidf_svc"]["fit_predict_seconds"] = time.perf_counter() - t

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"accuracy-{report['corpus']}{'-quick' if args.quick else ''}"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# Attribution accuracy: {report['corpus']} ({report['date']})",
        "",
        f"{report['n_models']} models, {report['n_train']} train texts, {report['n_dev']} dev texts (split by prompt).",
        "",
        "| method | top-1 | top-3 | macro-F1 | ECE | Brier |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("raw_texts", "fingerprint_files_uncalibrated"):
        m = report[name]
        lines.append(
            f"| {name} | {m['top1']:.3f} | {m['top3']:.3f} | {m['macro_f1']:.3f} | {m['ece']:.3f} | {m['brier']:.3f} |"
        )
    if "baseline_tfidf_svc" in report:
        b = report["baseline_tfidf_svc"]
        lines.append(f"| TF-IDF char1-4+word1-2 LinearSVC | {b['top1']:.3f} | – | {b['macro_f1']:.3f} | – | – |")
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(json.dumps({k: v for k, v in report.items() if not isinstance(v, dict)}, indent=1))
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
