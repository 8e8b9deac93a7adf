"""Issue 12 exploration, step 8: see through the base with a same-base control.

For a student whose base model also has a human-data fine-tune (Guanaco: LLaMA-1 on OASST1, no LLM
teacher), score each candidate by how much more the student resembles it than the control does,
on the same `dev` prompts: mean over prompts of cos(student, k) - cos(control, k) (char 1-4 TF-IDF,
idf from all dev answers), and per-prompt votes for argmax_k of that difference.  Lines ranked by
their best snapshot.  14 single-teacher LLaMA-1 students have a same-size Guanaco.
usage: python paired_contrast.py [char|word]
"""

import sys

import numpy as np
from common import answer_sims, load_dev, load_lineage, prompt_index
from sklearn.feature_extraction.text import TfidfVectorizer

from fingerprint.features.ngrams import WORD_TOKEN_PATTERN

lineage, rows = load_lineage(), load_dev()
line = lineage.line
refs = lineage.references()  # teachers/bases + alpaca-7b (the other prompted variants' parents are teachers)
kind = sys.argv[1] if len(sys.argv) > 1 else "char"
vec = (TfidfVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False, sublinear_tf=True, min_df=2)
       if kind == "char" else
       TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=WORD_TOKEN_PATTERN, lowercase=False,
                       sublinear_tf=True, min_df=2))
X = vec.fit_transform([t for _, _, t in rows])
_, _, mi, at = prompt_index(rows)
sims = answer_sims(X, at, [mi[k] for k in refs])  # sims[p, model, ref]
CONTROL = {"LLaMA-7B": "guanaco-7b", "LLaMA-13B": "guanaco-13b", "LLaMA-33B": "guanaco-33b",
           "LLaMA-30B": "guanaco-33b", "LLaMA-65B": "guanaco-65b"}


def rank_lines(score, exclude):
    by = {}
    for j, k in enumerate(refs):
        if k in exclude or not np.isfinite(score[j]):
            continue
        by[line(k)] = max(by.get(line(k), -np.inf), score[j])
    return sorted(by, key=lambda ln: -by[ln])


res = {"raw mean": [], "contrast mean": [], "raw votes": [], "contrast votes": []}
for m, v in sorted(lineage.items()):
    if v["role"] != "student" or not v.get("teacher_line") or v.get("base_model") not in CONTROL:
        continue
    c = CONTROL[v["base_model"]]
    s, sc = sims[:, mi[m], :], sims[:, mi[c], :]
    ok = ~np.isnan(s).any(1) & ~np.isnan(sc).any(1)
    diff = s[ok] - sc[ok]
    exclude = {m}
    for name, score in (("raw mean", s[ok].mean(0)), ("contrast mean", diff.mean(0)),
                        ("raw votes", np.bincount(s[ok].argmax(1), minlength=len(refs)).astype(float)),
                        ("contrast votes", np.bincount(diff.argmax(1), minlength=len(refs)).astype(float))):
        order = rank_lines(score, exclude)
        res[name].append((m, order.index(v["teacher_line"]) + 1, order[0]))
for name, rs in res.items():
    print(f"{kind} {name}: teacher line @1 {sum(r[1] == 1 for r in rs)}/{len(rs)}, mean rank "
          f"{np.mean([r[1] for r in rs]):.2f}")
    for r in rs:
        print(f"    {r[0]:<30} rank {r[1]:<3} top {r[2]}")
# the controls against each other: what does "contrast" name for a control (guanaco-X minus guanaco-Y)?
for a, b in (("guanaco-7b", "guanaco-13b"), ("guanaco-13b", "guanaco-7b"), ("guanaco-33b", "guanaco-65b")):
    s, sc = sims[:, mi[a], :], sims[:, mi[b], :]
    ok = ~np.isnan(s).any(1) & ~np.isnan(sc).any(1)
    print(f"control {a} minus {b}: top line {rank_lines((s[ok] - sc[ok]).mean(0), set())[:3]}")
