"""Issue 12 exploration, step 4: paired answer similarity on the same `dev` prompts.

For every model pair, the mean over shared `dev` prompts of the cosine between their answers'
TF-IDF vectors (char 1-4 / word 1-2, sublinear, idf from all dev answers).  A candidate's raw
similarity to the audited model is compared with its similarity to every other model (z-score over
the other models, own line and audited family left out), so a verbose candidate that overlaps with
everyone is not favoured.
"""

import sys

import numpy as np
from common import load_dev, load_meta, prompt_index
from sklearn.feature_extraction.text import TfidfVectorizer

from fingerprint.features.ngrams import WORD_TOKEN_PATTERN

meta = load_meta()
lineage, refs = meta["lineage"], meta["refs"]
roles, fam = lineage.roles(), lineage.families()
line, expected = lineage.line, lineage.expected

kind = sys.argv[1] if len(sys.argv) > 1 else "word"
NULL = sys.argv[2] if len(sys.argv) > 2 else "refs"  # the null population: other references, or all models
rows_text = load_dev()
models, prompts, mi, at = prompt_index(rows_text)
if kind == "tmpl":  # PoS-template proxy n-grams (skeleton.py)
    from skeleton import skeleton

    vec = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(2, 5), lowercase=False,
                          sublinear_tf=True, min_df=2)
    X = vec.fit_transform([skeleton(t) for _, _, t in rows_text])
else:
    vec = (TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=WORD_TOKEN_PATTERN, lowercase=False,
                           sublinear_tf=True, min_df=2) if kind == "word"
           else TfidfVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False, sublinear_tf=True, min_df=2))
    X = vec.fit_transform([t for _, _, t in rows_text])
S = np.zeros((len(models), len(models)))
for p in range(len(prompts)):
    have = np.flatnonzero(at[:, p] >= 0)
    V = X[at[have, p]]
    sim = (V @ V.T).toarray()
    S[np.ix_(have, have)] += sim
cnt = np.zeros_like(S)
for p in range(len(prompts)):
    have = (at[:, p] >= 0).astype(float)
    cnt += np.outer(have, have)
S /= np.maximum(cnt, 1)

res = []
for m in models:
    if roles.get(m) not in ("student", "control", "derivative", "prompted"):
        continue
    cands = [r for r in refs if r != m]
    scores = {}
    for k in cands:
        pool = refs if NULL == "refs" else models
        others = [o for o in pool if o not in (m, k) and line(o) != line(k) and fam[o] != fam[m] and fam[o] != fam[k]]
        vals = np.array([S[mi[o], mi[k]] for o in others])
        scores[k] = (S[mi[m], mi[k]] - vals.mean()) / vals.std(ddof=1)
    raw = {k: S[mi[m], mi[k]] for k in cands}
    out = [m]
    for sc in (raw, scores):
        by_line = {}
        for k, v in sc.items():
            by_line[line(k)] = max(by_line.get(line(k), -np.inf), v)
        order = sorted(by_line, key=lambda ln: -by_line[ln])
        exp = expected(m)
        out += [order.index(exp) + 1 if exp in order else None, order[0]]
    res.append(out)
single = [r for r in res if roles[r[0]] == "student" and expected(r[0])]
derived = [r for r in res if roles[r[0]] in ("derivative", "prompted")]
for j, name in ((1, "raw"), (3, "z")):
    print(f"{kind} null={NULL} {name}: students@1 {sum(r[j] == 1 for r in single)}/20, mean rank "
          f"{np.mean([r[j] for r in single]):.2f}, parents@1 {sum(r[j] == 1 for r in derived)}/11")
for r in res:
    print(f"  {r[0]:<36} {roles[r[0]]:<10} {str(expected(r[0])):<32} raw: {r[1]} {r[2]:<28} z: {r[3]} {r[4]}")


# --- hubness correction: score = raw - beta * (candidate's mean similarity to the null population) ---------
def ranks_for(beta):
    out = {}
    for m in models:
        if roles.get(m) not in ("student", "control", "derivative", "prompted"):
            continue
        cands = [r for r in refs if r != m]
        sc = {}
        for k in cands:
            pool = refs if NULL == "refs" else models
            others = [o for o in pool if o not in (m, k) and line(o) != line(k) and fam[o] != fam[m] and fam[o] != fam[k]]
            sc[k] = S[mi[m], mi[k]] - beta * np.mean([S[mi[o], mi[k]] for o in others])
        by_line = {}
        for k, v in sc.items():
            by_line[line(k)] = max(by_line.get(line(k), -np.inf), v)
        order = sorted(by_line, key=lambda ln: -by_line[ln])
        exp = expected(m)
        out[m] = (order.index(exp) + 1 if exp in order else None, order[0])
    return out


betas = np.round(np.linspace(0, 1, 11), 2)
R = {b: ranks_for(b) for b in betas}
single = [m for m in R[0.0] if roles[m] == "student" and expected(m)]
derived = [m for m in R[0.0] if roles[m] in ("derivative", "prompted")]
for b in betas:
    print(f"{kind} null={NULL} beta={b:.1f}: students@1 {sum(R[b][m][0] == 1 for m in single)}/20 "
          f"mean rank {np.mean([R[b][m][0] for m in single]):.2f} parents@1 {sum(R[b][m][0] == 1 for m in derived)}/11")
# leave-one-family-out: beta chosen on the other families' students and derivatives (rank-1 count, ties -> mean rank)
fams = sorted({fam[m] for m in single + derived})
hits_s, hits_d = 0, 0
for f in fams:
    train = [m for m in single + derived if fam[m] != f]
    best = max(betas, key=lambda b: (sum(R[b][m][0] == 1 for m in train), -np.mean([R[b][m][0] for m in train])))
    hits_s += sum(R[best][m][0] == 1 for m in single if fam[m] == f)
    hits_d += sum(R[best][m][0] == 1 for m in derived if fam[m] == f)
print(f"{kind} null={NULL} leave-one-family-out CV: students@1 {hits_s}/20, parents@1 {hits_d}/11")
