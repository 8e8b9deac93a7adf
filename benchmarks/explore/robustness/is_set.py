"""Is an "is" verdict the right model, and which other references are as consistent? (2026-12-07)

Each of the 81 built-in models' pools of N `dev` answers (P pools per model) is audited against the
whole built-in set. Reported per N:

* "is" verdicts: share of pools, and how many name the wrong model (a same-family sibling or not);
* ``AuditReport.consistent_with`` (every reference the relation rule, applied to it, calls "is"):
  for the "is" verdicts, how often it holds one reference or several, how often the verdict is wrong
  in each case, whether the true model is in it, whether all of it is of the true model's family;
  how often a pool whose relation is not "is" has a reference the rule calls "is" (a contradiction,
  which is why ``consistent_with`` is kept for "is" verdicts only);
* the alternative of naming the most likely (largest pooled posterior) consistent reference instead
  of the top-ranked (smallest p-value) one;
* the same-model test inverted into a confidence set (every reference with same-model p >= alpha,
  whether or not closer than unrelated models): coverage of the true model (>= 1 - alpha if the
  test means what it says) and size.

Usage: python benchmarks/explore/robustness/is_set.py N [P]  (~1 min per N with P = 2)
"""

import os
import sys
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np

import fingerprint as fp
from fingerprint import references
from fingerprint.setlevel import decide_relation

from common import dev_answers

warnings.simplefilter("ignore")
N = int(sys.argv[1])
P = int(sys.argv[2]) if len(sys.argv) > 2 else 2
ALPHA = 0.05

refs = references.builtin()
T, M = dev_answers()
rng = np.random.default_rng(2)
rows = []
for m in refs.models:
    for _ in range(P):
        pick = rng.choice(np.flatnonzero(M == m), N, replace=False)
        rep = fp.audit([T[i] for i in pick], references=refs, top_features=0)
        cand = {c.model: c for c in rep.candidates}
        alike = rep.consistent_with
        is_ = rep.relation == "is"
        likeliest = max(alike, key=lambda k: cand[k].posterior) if alike else None
        rows.append(dict(
            is_=is_, wrong=is_ and rep.verdict != m,
            wrong_sibling=is_ and rep.verdict != m and cand[rep.verdict].family == cand[m].family,
            single=is_ and len(alike) == 1, wrong_single=is_ and len(alike) == 1 and rep.verdict != m,
            several=is_ and len(alike) > 1, wrong_several=is_ and len(alike) > 1 and rep.verdict != m,
            true_in=is_ and m in alike, family=is_ and {cand[k].family for k in alike} == {cand[m].family},
            contradiction=(not is_) and any(  # consistent_with is empty then: ask the rule directly
                decide_relation(c.p_adjusted, c.same_model_p, alpha=ALPHA, vote_share=c.vote_share, lift=c.lift) == "is"
                for c in rep.candidates),
            wrong_likeliest=is_ and likeliest != m,
            cover=cand[m].same_model_p >= ALPHA, size=sum(c.same_model_p >= ALPHA for c in rep.candidates),
        ))
R = {k: np.array([r[k] for r in rows]) for k in rows[0]}
n_is = int(R["is_"].sum())
print(f"N={N}, {len(rows)} pools ({P} per model of {len(refs)}):")
print(f"  'is' {n_is} pools ({R['is_'].mean():.0%}); wrong {R['wrong'].sum()} (a same-family sibling: "
      f"{R['wrong_sibling'].sum()})")
print(f"  consistent_with of the 'is' pools: one reference {R['single'].sum()} (wrong {R['wrong_single'].sum()}), "
      f"several {R['several'].sum()} (wrong {R['wrong_several'].sum()}); true model in it {R['true_in'].sum()}; "
      f"all of it the true model's family {R['family'].sum()}")
print(f"  pools not 'is' with a consistent reference (contradiction): {R['contradiction'].sum()}")
print(f"  naming the likeliest consistent reference instead: wrong {R['wrong_likeliest'].sum()} of {n_is}")
print(f"  same-model confidence set: coverage {R['cover'].mean():.3f}, size mean {R['size'].mean():.1f}, "
      f"median {np.median(R['size']):.0f}")
