"""Issue 12 exploration, step 5: per-prompt votes instead of mean similarities.

For each shared `dev` prompt, the candidate whose answer is most similar (TF-IDF cosine) to the
audited model's answer gets the prompt's vote; candidates (at line level: best snapshot per prompt)
are ranked by their share of votes.  A hub that is a little similar to everything wins fewer
prompts outright than a teacher whose phrasing the student copies on some prompts.
"""

import sys

import numpy as np
from common import load_dev, load_meta, prompt_index
from sklearn.feature_extraction.text import TfidfVectorizer

from fingerprint.features.ngrams import WORD_TOKEN_PATTERN

meta = load_meta()
lineage, refs = meta["lineage"], meta["refs"]
roles = lineage.roles()
line, expected = lineage.line, lineage.expected

kind = sys.argv[1] if len(sys.argv) > 1 else "char"
# a line's similarity on a prompt: its best snapshot ("max"), or the mean of its snapshots ("mean": a
# line with four snapshots then gets no more chances than a line with one)
AGG = sys.argv[2] if len(sys.argv) > 2 else "max"
rows = load_dev()
models, prompts, mi, at = prompt_index(rows)
vec = (TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=WORD_TOKEN_PATTERN, lowercase=False,
                       sublinear_tf=True, min_df=2) if kind == "word"
       else TfidfVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False, sublinear_tf=True, min_df=2))
X = vec.fit_transform([t for _, _, t in rows])
ref_lines = sorted({line(r) for r in refs})
res = []
VOTES = {}
for m in models:
    if roles.get(m) not in ("student", "control", "derivative", "prompted") and m not in refs:
        continue
    cands = [r for r in refs if r != m]
    votes = dict.fromkeys(sorted({line(k) for k in cands}), 0.0)  # sorted: ties break the same way every run
    for p in range(len(prompts)):
        if at[mi[m], p] < 0:
            continue
        have = [k for k in cands if at[mi[k], p] >= 0]
        sims = (X[at[[mi[k] for k in have], p]] @ X[at[mi[m], p]].T).toarray().ravel()
        by_line = {}
        for k, v in zip(have, sims, strict=True):
            by_line.setdefault(line(k), []).append(v)
        score = {ln: (max(v) if AGG == "max" else float(np.mean(v))) for ln, v in by_line.items()}
        votes[max(score, key=score.get)] += 1
    order = sorted(votes, key=lambda ln: -votes[ln])
    exp = expected(m)
    VOTES[m] = votes
    if m in refs and roles.get(m) not in ("prompted",) and lineage[m]["role"] in ("teacher", "base"):
        continue  # a reference's own votes serve only the null below
    res.append((m, exp, order.index(exp) + 1 if exp in order else None, order[0], votes[order[0]]))
single = [r for r in res if roles[r[0]] == "student" and r[1]]
derived = [r for r in res if roles[r[0]] in ("derivative", "prompted")]
print(f"{kind} {AGG} votes: students@1 {sum(r[2] == 1 for r in single)}/20, mean rank {np.mean([r[2] for r in single]):.2f}, "
      f"parents@1 {sum(r[2] == 1 for r in derived)}/11")
for r in res:
    print(f"  {r[0]:<36} {roles[r[0]]:<10} {str(r[1]):<32} rank={r[2]} top={r[3]} ({r[4]:.0f} prompts)")


# --- excess over the human-data controls: what a fine-tune without a teacher gives each line ---------
controls = [m for m in VOTES if roles[m] == "control"]
res2 = []
for m, votes in VOTES.items():
    null = [c for c in controls if c != m]
    excess = {ln: v - np.mean([VOTES[c].get(ln, 0.0) for c in null]) for ln, v in votes.items()}
    order = sorted(excess, key=lambda ln: -excess[ln])
    exp = expected(m)
    res2.append((m, exp, order.index(exp) + 1 if exp in order else None, order[0], excess[order[0]]))
single = [r for r in res2 if roles[r[0]] == "student" and r[1]]
derived = [r for r in res2 if roles[r[0]] in ("derivative", "prompted")]
print(f"{kind} {AGG} votes minus controls' mean (leave-one-out): students@1 {sum(r[2] == 1 for r in single)}/20, "
      f"mean rank {np.mean([r[2] for r in single]):.2f}, parents@1 {sum(r[2] == 1 for r in derived)}/11")
for r in res2:
    if roles[r[0]] == "control" or (roles[r[0]] == "student" and r[1]):
        print(f"  {r[0]:<36} {roles[r[0]]:<10} {str(r[1]):<32} rank={r[2]} top={r[3]} (+{r[4]:.1f} prompts)")


# --- excess over the other references' votes (each reference's own dev answers; same line/family left out) ---
fam = lineage.families()
res3 = []
for m, votes in VOTES.items():
    if m in refs and lineage[m]["role"] in ("teacher", "base"):
        continue
    excess = {}
    for ln, v in votes.items():
        null = [j for j in refs if j != m and line(j) != ln and fam[j] != fam[m] and j in VOTES]
        excess[ln] = v - np.mean([VOTES[j].get(ln, 0.0) for j in null])
    order = sorted(excess, key=lambda ln: -excess[ln])
    exp = expected(m)
    res3.append((m, exp, order.index(exp) + 1 if exp in order else None, order[0], excess[order[0]]))
single = [r for r in res3 if roles[r[0]] == "student" and r[1]]
derived = [r for r in res3 if roles[r[0]] in ("derivative", "prompted")]
ctrl = [r for r in res3 if roles[r[0]] == "control"]
print(f"{kind} {AGG} votes minus the references' mean: students@1 {sum(r[2] == 1 for r in single)}/20, "
      f"mean rank {np.mean([r[2] for r in single]):.2f}, parents@1 {sum(r[2] == 1 for r in derived)}/11; "
      f"controls' top lines: {[r[3] for r in ctrl]}")
