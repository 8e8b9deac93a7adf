"""Lineage audit benchmark (issue 12): every student, control, derivative and prompted variant.

Usage::

    python benchmarks/audit_lineage.py [--data ../shared/data] [--cache benchmarks/.cache/lineage-refs]

Protocol (issue 12, "Done when"):

* **References** (the candidates): every original model of ``alpaca_eval_train`` + ``alpaca_eval_wide``
  (lineage role ``teacher`` or ``base``) plus the parent of each prompted variant, fingerprinted on
  their ``train``-prompt answers in a feature space fitted on those answers only (no audited model
  takes part in the space).  Built once (~25 min on 2 cores) and cached under ``--cache``.
* **Audited**: each model whose role is ``student``, ``control``, ``derivative`` or ``prompted``, on
  its ``dev``-prompt answers; a model is never its own candidate (alpaca-7b is a reference only for
  its prompted variants).  Unpaired, and paired with the references' ``dev`` answers to the same
  prompts.
* **Scoring**: a candidate matches a student when its lineage ``line`` equals the student's
  ``teacher_line``; a derivative or prompted variant when it is the ``parent`` (at line level).
  Targets: teacher line ranked first for >= 14 of the 20 single-teacher students and named as the
  verdict (``learned-from``) for >= 10; no ``learned-from``/``is`` verdict for the 5 controls; the
  parent named (``is`` or ``derived-from``) for >= 9 of the 11 derivatives and prompted variants.

Writes ``benchmarks/results/audit-lineage.{md,json}``.
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
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")

import numpy as np

import fingerprint as fp
from fingerprint.setlevel import ReferenceAnswers

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"
CORPORA = ("alpaca_eval_train", "alpaca_eval_wide")
AUDITED_ROLES = ("student", "control", "derivative", "prompted")


def load(data: Path) -> tuple[dict, dict]:
    lineage: dict = {}
    cols: dict = {"text": [], "model": [], "prompt_id": [], "split": []}
    for c in CORPORA:
        lineage.update(json.loads((data / c / "lineage.json").read_text()))
        for split in ("train", "dev"):
            ds = fp.load_corpus(data / c, split=split)
            for k in ("text", "model", "prompt_id"):
                cols[k] += ds[k]
            cols["split"] += [split] * len(ds)
    return lineage, {k: np.array(v, dtype=object) for k, v in cols.items()}


def line_of(lineage: dict, model: str) -> str:
    return lineage[model].get("line") or model


def expected_line(lineage: dict, model: str) -> str | None:
    v = lineage[model]
    if v["role"] == "student":
        return v.get("teacher_line")
    if v["role"] in ("derivative", "prompted"):
        return line_of(lineage, v["parent"])
    return None


def reference_models(lineage: dict) -> list[str]:
    originals = {m for m, v in lineage.items() if v["role"] in ("teacher", "base")}
    return sorted(originals | {v["parent"] for v in lineage.values() if v["role"] == "prompted"})


def build_or_load(cache: Path, lineage: dict, cols: dict) -> tuple[fp.ReferenceSet, float]:
    if (cache / "references.npz").is_file():
        return fp.load_references(cache), 0.0
    refs_models = reference_models(lineage)
    rows = np.flatnonzero((cols["split"] == "train") & np.isin(cols["model"], refs_models))
    meta = {m: {k: lineage[m][k] for k in ("family", "role", "line", "parent") if lineage[m].get(k)}
            for m in refs_models}  # fmt: skip
    t = time.perf_counter()
    refs = fp.build_references(
        list(cols["text"][rows]), list(cols["model"][rows]), groups=list(cols["prompt_id"][rows]),
        metadata=meta, n_jobs=-1,
    )  # fmt: skip
    build_s = time.perf_counter() - t
    refs.save(cache)
    return refs, build_s


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--cache", default=str(HERE / ".cache" / "lineage-refs"))
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--only", nargs="*", help="audit only these models")
    ap.add_argument(
        "--modes", nargs="+", default=["unpaired", "paired"], choices=["unpaired", "paired"],
        help="unpaired: distances of means; paired: answers compared with the references' answers to the same prompts",
    )
    args = ap.parse_args(argv)
    lineage, cols = load(Path(args.data))
    refs, build_s = build_or_load(Path(args.cache), lineage, cols)
    dev = cols["split"] == "dev"
    ref_dev = np.flatnonzero(dev & np.isin(cols["model"], refs.models))
    # the references' dev answers, featurised once for all paired audits
    reference_texts = ReferenceAnswers(
        refs, {k: list(cols[k][ref_dev]) for k in ("text", "model", "prompt_id")}
    )
    audited = sorted(m for m, v in lineage.items() if v["role"] in AUDITED_ROLES)
    if args.only:
        audited = [m for m in audited if m in args.only]
    rows, seconds = [], []
    for m in audited:
        cands = fp.ReferenceSet([f for f in refs if f.model != m], refs.space, shrinkage=refs.shrinkage)
        idx = np.flatnonzero(dev & (cols["model"] == m))
        exp = expected_line(lineage, m)
        for mode in args.modes:
            kw = {}
            if mode == "paired":
                kw = {"groups": list(cols["prompt_id"][idx]), "reference_texts": reference_texts}
            t = time.perf_counter()
            r = fp.audit(list(cols["text"][idx]), references=cands, alpha=args.alpha, top_features=0, **kw)
            seconds.append((len(idx), time.perf_counter() - t))
            lines = [line_of(lineage, c.model) for c in r.candidates]
            rank = lines.index(exp) + 1 if exp in lines else None
            best = r.candidates[rank - 1] if rank else None
            verdict_line = line_of(lineage, r.verdict) if r.verdict else None
            role = lineage[m]["role"]
            if role == "student":
                found = verdict_line == exp and r.relation == "learned-from"
            elif role in ("derivative", "prompted"):
                found = verdict_line == exp and r.relation in ("is", "derived-from")
            else:  # control: right when it names no teacher
                found = r.relation not in ("is", "learned-from")
            rows.append({
                "model": m, "role": role, "expected": exp, "mode": mode, "n": r.n_texts,
                "verdict": r.verdict, "relation": r.relation, "top": r.candidates[0].model,
                "expected_rank": rank, "expected_p_holm": None if best is None else best.p_adjusted,
                "expected_same_model_p": None if best is None else best.same_model_p, "correct": bool(found),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    summary = {}
    for mode in args.modes:
        rs = [r for r in rows if r["mode"] == mode]
        single = [r for r in rs if r["role"] == "student" and r["expected"]]
        derived = [r for r in rs if r["role"] in ("derivative", "prompted")]
        controls = [r for r in rs if r["role"] == "control"]
        summary[mode] = {
            "students_rank1": sum(r["expected_rank"] == 1 for r in single), "students": len(single),
            "students_verdict": sum(r["correct"] for r in single),
            "controls_clean": sum(r["correct"] for r in controls), "controls": len(controls),
            "parents_named": sum(r["correct"] for r in derived), "derived": len(derived),
            "parents_rank1": sum(r["expected_rank"] == 1 for r in derived),
        }  # fmt: skip
    report = {"date": dt.date.today().isoformat(), "alpha": args.alpha, "references": refs.models,
              "build_seconds": build_s, "summary": summary, "rows": rows,
              "seconds_per_audit": seconds}  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.only:
        (out / "audit-lineage.json").write_text(json.dumps(report, indent=2))
        (out / "audit-lineage.md").write_text(markdown(report))
    print(markdown(report))
    return report


def markdown(R: dict) -> str:
    fmt = lambda v: "–" if v is None else (f"{v:.2g}" if isinstance(v, float) else str(v))  # noqa: E731
    lines = [f"# Lineage audit: {len(R['references'])} references, students, controls, derivatives ({R['date']})", "",
             "Protocol in `benchmarks/audit_lineage.py`. alpha = " + str(R["alpha"]) + ", Holm over candidates.", "",
             "| mode | teacher line ranked 1st (target >= 14/20) | named learned-from (>= 10/20) "
             "| controls with no is/learned-from (5/5) | parent named is/derived-from (>= 9/11) | parent ranked 1st |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for mode, s in R["summary"].items():
        lines.append(f"| {mode} | {s['students_rank1']}/{s['students']} | {s['students_verdict']}/{s['students']} | "
                     f"{s['controls_clean']}/{s['controls']} | {s['parents_named']}/{s['derived']} | "
                     f"{s['parents_rank1']}/{s['derived']} |")  # fmt: skip
    lines += ["", "| audited | role | expected | mode | n | verdict | relation | top | rank of expected | p (Holm) "
              "| same-model p | right |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in R["rows"]:
        lines.append(f"| {r['model']} | {r['role']} | {r['expected'] or '–'} | {r['mode']} | {r['n']} | "
                     f"{r['verdict'] or 'none of these'} | {r['relation']} | {r['top']} | {fmt(r['expected_rank'])} | "
                     f"{fmt(r['expected_p_holm'])} | {fmt(r['expected_same_model_p'])} | "
                     f"{'yes' if r['correct'] else 'no'} |")  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
