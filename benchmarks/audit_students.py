"""Set-level audit of real distilled students (and a control) against teacher fingerprints.

Usage::

    python benchmarks/audit_students.py [--data ../shared/data/alpaca_eval_train]

References are built from the ``train`` prompts of every model that is not a student or
control (lineage.json roles); each student's outputs are then audited, on its ``dev``-prompt
answers and on all its answers.  Scored at the level of the documented teacher *line* (any
snapshot of it).  Teachers' own ``dev`` answers are audited as a sanity check: they should come
out as "is <themselves>".  Writes Markdown + JSON under ``benchmarks/results/``.
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

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "alpaca_eval_train"


def in_line(model: str, line: str | None) -> bool:
    """``openai/gpt-4`` covers gpt-4-0314 and gpt-4-1106-preview."""
    return bool(line) and model.startswith(line.split("/", 1)[1])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    data = Path(args.data)
    lineage = json.loads((data / "lineage.json").read_text())
    corpus = fp.load_corpus(data)
    split = {json.loads(x)["prompt_id"]: json.loads(x)["split"] for x in (data / "prompts.jsonl").open()}
    models = np.array(corpus["model"])
    is_train = np.array([split[p] == "train" for p in corpus["prompt_id"]])
    audited = sorted(m for m, v in lineage.items() if v["role"] in ("student", "control"))
    ref_rows = np.flatnonzero(is_train & ~np.isin(models, audited))
    t = time.perf_counter()
    refs = fp.build_references(
        [corpus["text"][i] for i in ref_rows], models[ref_rows],
        groups=[corpus["prompt_id"][i] for i in ref_rows],
        metadata={m: {"family": v["family"]} for m, v in lineage.items()}, n_jobs=-1,
    )  # fmt: skip
    build_s = time.perf_counter() - t
    texts = corpus["text"]
    prompt_ids = np.array(corpus["prompt_id"])
    dev_refs = np.flatnonzero(~is_train & np.isin(models, refs.models))
    reference_texts = {  # held-out answers of the references, for paired mode
        "text": [texts[i] for i in dev_refs],
        "model": list(models[dev_refs]),
        "prompt_id": list(prompt_ids[dev_refs]),
    }
    rows = []
    for m in audited + [r for r in refs.models]:
        line = lineage[m].get("teacher_line")
        for subset in ("dev", "dev-paired", "all") if m in audited else ("dev",):
            idx = np.flatnonzero((models == m) & (True if subset == "all" else ~is_train))
            paired = (
                {"groups": list(prompt_ids[idx]), "reference_texts": reference_texts} if "paired" in subset else {}
            )
            r = fp.audit([texts[i] for i in idx], references=refs, alpha=args.alpha, **paired)
            names = [c.model for c in r.candidates]
            target = (lambda c, line=line: in_line(c, line)) if m in audited else (lambda c, m=m: c == m)
            rank = next((i + 1 for i, c in enumerate(names) if target(c)), None)
            best = r.candidates[rank - 1] if rank else None
            rows.append({
                "model": m, "role": lineage[m]["role"], "teacher_line": line, "texts": subset, "n": r.n_texts,
                "verdict": r.verdict, "relation": r.relation, "top": names[0],
                "target_rank": rank, "target_p_holm": None if best is None else best.p_adjusted,
                "target_same_model_p": None if best is None else best.same_model_p,
                "texts_needed": r.texts_needed,
            })  # fmt: skip
            print(rows[-1], flush=True)
    report = {"corpus": data.name, "date": dt.date.today().isoformat(), "alpha": args.alpha,
              "references": refs.models, "build_seconds": build_s, "rows": rows}  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"audit-students-{data.name}.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# Set-level audit of distilled students: {data.name} ({report['date']})", "",
        f"References: the {len(refs.models)} non-student models, fingerprinted on `train` prompts. "
        f"alpha = {args.alpha}, Holm-corrected over candidates. Target = documented teacher line "
        "(students), none (control), the model itself (teachers' own `dev` answers). `dev-paired`: each "
        "answer is compared with the references' held-out answers to the same prompt. `all` includes "
        "answers to the prompts the fingerprints were built on (unpaired distances are then biased low).", "",
        "| audited model | role | teacher line | texts | n | verdict | relation | target rank | target p (Holm) "
        "| target same-model p | texts needed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for r in rows:
        fmt = lambda v: "–" if v is None else (f"{v:.2g}" if isinstance(v, float) else str(v))  # noqa: E731
        lines.append(
            f"| {r['model']} | {r['role']} | {r['teacher_line'] or '–'} | {r['texts']} | {r['n']} | "
            f"{r['verdict'] or 'none of these'} | {r['relation']} | {fmt(r['target_rank'])} | "
            f"{fmt(r['target_p_holm'])} | {fmt(r['target_same_model_p'])} | {fmt(r['texts_needed'])} |"
        )
    (out / f"audit-students-{data.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
