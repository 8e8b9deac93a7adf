"""Are the audit's verdicts valid at every number of texts?  (issue 15, finding 4)

Usage::

    python benchmarks/audit_validity.py [--data ../shared/data/alpaca_eval_train] [--sizes 2 5 10 20 50]

Protocol, on the built-in references that answered the corpus's prompts (the 23 models of
``alpaca_eval_train``, fingerprinted on ``train`` prompts; the other built-in models are removed) and
each model's held-out ``dev`` answers (fixed seed):

* **Unpaired, the model among the references** (the issue's setting): ``n`` random ``dev`` answers
  of model ``u`` are audited against all 23 references.  A verdict naming a model of another family
  is false; so is p < 0.05 for such a candidate (the raw p-values should be uniform or larger).
  ``is-self`` counts the verdicts "is u" (the power of the test).
* **Paired, the model's family left out**: ``n`` answers of ``u`` on prompts every model answered,
  audited against the references of other families, paired with their ``dev`` answers to the same
  prompts.  Any verdict is false, except one naming a student's documented teacher (counted apart).

Writes ``benchmarks/results/audit-validity.{md,json}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")

import numpy as np

import fingerprint as fp
from fingerprint import references
from fingerprint.setlevel import ReferenceAnswers

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "alpaca_eval_train"


def summarise(outcomes: list[tuple[bool, bool, np.ndarray]]) -> dict:
    """(false verdict, right verdict, unrelated p-values) per audit -> rates."""
    p = np.concatenate([o[2] for o in outcomes])
    return {
        "audits": len(outcomes),
        "false_verdicts": int(sum(o[0] for o in outcomes)),
        "right_verdicts": int(sum(o[1] for o in outcomes)),
        "unrelated_pvalues": len(p),
        "p_below_0.05": float(np.mean(p < 0.05)),
        "p_below_0.01": float(np.mean(p < 0.01)),
        "min_p": float(p.min()),
    }


def unpaired(refs, family, texts, models, sizes, draws, rng) -> dict:
    out = {}
    for n in sizes:
        outcomes = []
        for u in refs.models:
            rows = np.flatnonzero(models == u)
            for _ in range(draws):
                pick = rng.choice(rows, n, replace=False)
                r = fp.audit([texts[i] for i in pick], references=refs, top_features=0, n_bootstrap=50,
                             random_state=int(rng.integers(1 << 30)))  # fmt: skip
                wrong = r.verdict is not None and family[r.verdict] != family[u]
                pv = np.array([c.p_value for c in r.candidates if family[c.model] != family[u]])
                outcomes.append((wrong, r.verdict == u, pv))
        out[n] = summarise(outcomes)
        print(json.dumps({"mode": "unpaired", "n": n, **out[n]}), flush=True)
    return out


def paired(refs, family, teacher, dev, sizes, draws, rng) -> dict:
    texts, models, pids = list(dev["text"]), np.array(dev["model"]), np.array(dev["prompt_id"])
    answers = ReferenceAnswers(refs, dev)
    count = Counter(pids.tolist())
    everyone = np.array([count[p] == len(refs.models) for p in pids])  # prompts every model answered
    out = {}
    for n in sizes:
        outcomes, teacher_verdicts = [], 0
        for u in refs.models:
            others = fp.ReferenceSet([f for f in refs if family[f.model] != family[u]], refs.space)
            related = {teacher[u]} if isinstance(teacher.get(u), str) else set()
            rows = np.flatnonzero((models == u) & everyone)
            for _ in range(draws):
                pick = rng.choice(rows, n, replace=False)
                r = fp.audit([texts[i] for i in pick], references=others, groups=list(pids[pick]),
                             reference_texts=answers, top_features=0, n_bootstrap=50,
                             random_state=int(rng.integers(1 << 30)))  # fmt: skip
                teacher_verdicts += r.verdict in related
                pv = np.array([c.p_value for c in r.candidates if c.model not in related])
                outcomes.append((r.verdict is not None and r.verdict not in related, False, pv))
        out[n] = {**summarise(outcomes), "teacher_verdicts": teacher_verdicts}
        print(json.dumps({"mode": "paired", "n": n, **out[n]}), flush=True)
    return out


def markdown(R: dict) -> str:
    lines = [
        "# Audit validity at small n (issue 15, finding 4)", "",
        f"{R['date']}, fingerprint {R['version']}, seed {R['seed']}, {R['seconds']:.0f} s. Protocol: "
        "`benchmarks/audit_validity.py` docstring. The references are the "
        f"{R['references']} built-in models that answered the corpus's prompts; the audited texts are their "
        "held-out `dev` answers.", "",
        "**Unpaired**, the audited model among the references (verdicts naming another family are false; "
        f"{R['draws_unpaired']} draws per model and n):", "",
        "| n | audits | false verdicts | unrelated p < 0.05 | p < 0.01 | min p | is-self |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for n, s in R["unpaired"].items():
        lines.append(f"| {n} | {s['audits']} | {s['false_verdicts']} ({s['false_verdicts'] / s['audits']:.1%}) | "
                     f"{s['p_below_0.05']:.3f} | {s['p_below_0.01']:.3f} | {s['min_p']:.2g} | "
                     f"{s['right_verdicts']} ({s['right_verdicts'] / s['audits']:.0%}) |")  # fmt: skip
    lines += [
        "", f"**Paired**, the audited model's family left out ({R['draws_paired']} draws per model and n; a verdict "
        "naming a student's documented teacher is not counted as false):", "",
        "| n | audits | false verdicts | teacher verdicts | unrelated p < 0.05 | p < 0.01 | min p |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for n, s in R["paired"].items():
        lines.append(f"| {n} | {s['audits']} | {s['false_verdicts']} ({s['false_verdicts'] / s['audits']:.1%}) | "
                     f"{s['teacher_verdicts']} | {s['p_below_0.05']:.3f} | {s['p_below_0.01']:.3f} | "
                     f"{s['min_p']:.2g} |")  # fmt: skip
    lines += ["", "Verdicts are Holm-corrected over candidates at alpha = 0.05: a valid audit gives a false verdict "
              "in at most 5 % of audits, and raw p-values of unrelated candidates below 0.05 at most 5 % of the time."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--sizes", nargs="+", type=int, default=[2, 5, 10, 20, 50])
    ap.add_argument("--draws", type=int, default=8, help="unpaired draws per model and size (paired: half)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # removing a family from the references warns about its calibration
    t = time.perf_counter()
    refs = references.builtin()
    dev = fp.load_corpus(args.data, split="dev")
    for m in [m for m in refs.models if m not in set(dev["model"])]:  # the models that answered these prompts
        refs.remove(m)
    info = refs.to_frame().set_index("model")
    family, teacher = info["family"].to_dict(), info["teacher"].to_dict()
    rng = np.random.default_rng(args.seed)
    R = {
        "date": dt.date.today().isoformat(), "version": fp.__version__, "seed": args.seed,
        "references": len(refs), "draws_unpaired": args.draws, "draws_paired": max(args.draws // 2, 1),
        "unpaired": unpaired(refs, family, list(dev["text"]), np.array(dev["model"]), args.sizes, args.draws, rng),
        "paired": paired(refs, family, teacher, dev, args.sizes, max(args.draws // 2, 1), rng),
    }  # fmt: skip
    R["seconds"] = time.perf_counter() - t
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "audit-validity.json").write_text(json.dumps(R, indent=2))
    (out / "audit-validity.md").write_text(markdown(R))
    print(markdown(R))
    return R


if __name__ == "__main__":
    main()
