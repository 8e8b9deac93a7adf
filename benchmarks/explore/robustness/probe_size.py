"""How many probe prompts should the built-in set ship? (2026-12-07, issue 12 item 3)

A user audits a model against the built-in references by answering the shipped probe prompts
(today the sample's 20 `dev` prompts); the audit pairs those answers with the references' answers.
Here each model of the corpora that is not an original (students, human-data controls,
derivatives, prompted variants; 44) is audited paired against the built-in set without itself (its
parent or teacher kept), on its answers to K probe prompts: the 20 shipped ones, and 50 / 100 / 160
`dev` prompts (the 20 plus random others, seed 0). Reported per K: derivatives and prompted variants
with the parent on top / named (is or derived-from) / in consistent_with; controls and students
given any verdict (a false one unless it is the documented teacher line or base); seconds per audit
and to featurise the references' answers (once per process).

Usage: python benchmarks/explore/robustness/probe_size.py  (~10 min)
"""

import collections
import os
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

import fingerprint as fp
from fingerprint import references
from fingerprint.setlevel import ReferenceAnswers

from common import dev_columns
from common import lineage as read_lineage

warnings.simplefilter("ignore")
refs_all = references.builtin()
lineage = read_lineage()
dev = dev_columns()
probe20 = list(references.probe_prompts()["prompt_id"])
rng = np.random.default_rng(0)
others = [p for p in sorted(set(dev["prompt_id"])) if p not in set(probe20)]
extra = list(rng.permutation(others))
line = {m: v.get("line", m) for m, v in lineage.items()}
audited = sorted(m for m, v in lineage.items() if v.get("role") in ("student", "control", "derivative", "prompted"))

for K in (20, 50, 100, 160):
    probes = set(probe20 + extra[: K - 20])
    keep = [i for i, p in enumerate(dev["prompt_id"]) if p in probes]
    t = time.perf_counter()
    answers = ReferenceAnswers(refs_all, {k: [dev[k][i] for i in keep if dev["model"][i] in refs_all]
                                          for k in dev})  # fmt: skip
    featurise_s = time.perf_counter() - t
    out = collections.defaultdict(list)
    t = time.perf_counter()
    for m in audited:
        refs = references.builtin()
        if m in refs:
            refs.remove(m)
        idx = [i for i in keep if dev["model"][i] == m]
        rep = fp.audit([dev["text"][i] for i in idx], references=refs, groups=[dev["prompt_id"][i] for i in idx],
                       reference_texts=answers, top_features=0)
        v = lineage[m]
        role = v["role"]
        if role in ("derivative", "prompted"):
            par = v["parent"]
            out["parent_top"].append(rep.nearest.model == par)
            out["parent_named"].append(rep.verdict == par and rep.relation in ("is", "derived-from"))
            out["parent_consistent"].append(par in rep.consistent_with)
        else:
            good = {v.get("teacher_line"), v.get("base")} - {None}
            named = rep.verdict is not None
            wrong = named and line.get(rep.verdict) not in good and rep.verdict not in good
            out[f"{role}_verdict"].append(named)
            out[f"{role}_wrong"].append(wrong)
            if named:
                out["verdicts"].append(f"{m} {rep.relation} {rep.verdict}")
    per_audit = (time.perf_counter() - t) / len(audited)
    s = {k: f"{sum(v)}/{len(v)}" for k, v in out.items() if k != "verdicts"}
    print(f"K={K}: {s}; featurise {featurise_s:.1f} s, {per_audit:.2f} s per audit", flush=True)
    print("   verdicts on students/controls:", out["verdicts"], flush=True)
