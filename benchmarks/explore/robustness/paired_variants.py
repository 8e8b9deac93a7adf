"""Prompted variants paired with the references' answers to the same `dev` prompts (2026-12-07, issue 13).

The builtin-set report attributes each prompted variant (a model told to be concise or verbose)
from pools of 20 `dev` answers unpaired (summed log-likelihoods: 3 of 6 named by more than half of
200 pools), and pairs it only on the 20 shipped probe prompts (one pool). Here the pools are paired
with the 81 built-in models' own answers to the same `dev` prompts (``reference_texts=``, featurised
once as a ``ReferenceAnswers``; those answers never entered the fingerprints, which were built on
`train` prompts): what a user gets who has the reference models' answers to the prompts the
suspect model answered. Per variant, over P random pools of N answers: the share whose top
candidate is the parent, whose ``consistent_with`` holds it, the relations given; and, for
comparison, the share of the same pools' unpaired audits naming the parent.

Usage: python benchmarks/explore/robustness/paired_variants.py [N] [P]  (~4 min at 20, 40)
"""

import collections
import os
import sys
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

import fingerprint as fp
from fingerprint import references
from fingerprint.setlevel import ReferenceAnswers

from common import dev_columns
from common import lineage as read_lineage

warnings.simplefilter("ignore")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20
P = int(sys.argv[2]) if len(sys.argv) > 2 else 40

refs = references.builtin()
lineage = read_lineage()
dev = dev_columns()
M = np.array(dev["model"], dtype=object)
known = np.isin(M, refs.models)
answers = ReferenceAnswers(refs, {k: [v for v, keep in zip(col, known, strict=True) if keep]
                                  for k, col in dev.items()})
rng = np.random.default_rng(3)
variants = sorted(m for m, v in lineage.items() if v.get("role") == "prompted" and v.get("parent") in refs)
total = collections.Counter()
for m in variants:
    parent = lineage[m]["parent"]
    idx = np.flatnonzero(M == m)
    top, held, unpaired_top, rel, first = 0, 0, 0, collections.Counter(), collections.Counter()
    for _ in range(P):
        pick = rng.choice(idx, min(N, len(idx)), replace=False)
        texts = [dev["text"][i] for i in pick]
        rep = fp.audit(texts, references=refs, groups=[dev["prompt_id"][i] for i in pick], reference_texts=answers,
                       top_features=0, n_bootstrap=100)
        top += rep.nearest.model == parent
        held += parent in rep.consistent_with
        rel[rep.relation] += 1
        first[rep.nearest.model] += 1
        unpaired_top += fp.audit(texts, references=refs, top_features=0, n_bootstrap=100).nearest.model == parent
    print(f"{m:36s} parent {parent}: paired top {top / P:.2f}, parent in consistent_with {held / P:.2f}, "
          f"relations {dict(rel)}; most often top {first.most_common(2)}; unpaired top {unpaired_top / P:.2f}",
          flush=True)
    total["paired"] += top / P > 0.5
    total["unpaired"] += unpaired_top / P > 0.5
print(f"N={N}, P={P}: variants whose parent is the top candidate in more than half of the pools: paired "
      f"{total['paired']}/{len(variants)}, unpaired {total['unpaired']}/{len(variants)}")
