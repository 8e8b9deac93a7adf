"""Issue 12 exploration, step 6: paired answer similarity in the library's own n-gram block.

The cosine between two answers to the same prompt in the references' space's n-gram block (char +
word log(1+tf), L2 per analyzer; no idf), averaged over shared `dev` prompts.  Candidates are ranked
raw and by the p-value of "more similar than unrelated references are to this candidate" (t
prediction interval over the candidate's similarities to references of other lines and families).
Also prints the z-score of the expected candidate per role, to see whether weight sharing
(derivative / prompted) separates from learning (students).
"""

import json

import numpy as np
import scipy.sparse as sp
from common import CACHE, REFS_CACHE, load_dev, load_lineage, prompt_index
from scipy import stats

import fingerprint as fp

ZDEV = CACHE / "Zdev.npz"
lineage, rows = load_lineage(), load_dev()
refs = fp.load_references(REFS_CACHE)
if ZDEV.exists():
    Z = sp.load_npz(ZDEV)
else:
    Z = sp.vstack([refs.space.transform_with_ngrams([t for _, _, t in rows[i:i + 2000]])[1]
                   for i in range(0, len(rows), 2000)]).tocsr()
    sp.save_npz(ZDEV, Z)
roles, fam = lineage.roles(), lineage.families()
line, expected = lineage.line, lineage.expected
models, prompts, mi, at = prompt_index(rows)
norm = np.sqrt(np.asarray(Z.multiply(Z).sum(1)).ravel())
Zn = sp.diags(1 / np.maximum(norm, 1e-12)) @ Z
S = np.zeros((len(models), len(models)))
cnt = np.zeros_like(S)
for p in range(len(prompts)):
    have = np.flatnonzero(at[:, p] >= 0)
    V = Zn[at[have, p]]
    S[np.ix_(have, have)] += (V @ V.T).toarray()
    cnt[np.ix_(have, have)] += 1
S /= np.maximum(cnt, 1)
np.save(CACHE / "S.npy", S)
json.dump(models, open(CACHE / "S_models.json", "w"))
R = refs.models


def null(k, exclude):
    return np.array([S[mi[o], mi[k]] for o in R if o != k and o not in exclude and line(o) != line(k)
                     and not (fam[o] and fam[o] == fam[k])])


out = []
for m in models:
    if roles.get(m) not in ("student", "control", "derivative", "prompted"):
        continue
    cands = [k for k in R if k != m]
    raw = {k: S[mi[m], mi[k]] for k in cands}
    pv, zz = {}, {}
    for k in cands:
        nl = null(k, {m})
        zz[k] = (raw[k] - nl.mean()) / (nl.std(ddof=1) * np.sqrt(1 + 1 / len(nl)))
        pv[k] = stats.t.sf(zz[k], df=len(nl) - 1)
    exp = expected(m)
    res = [m]
    for sc in (raw, {k: -pv[k] for k in cands}):
        by = {}
        for k, v in sc.items():
            by[line(k)] = max(by.get(line(k), -np.inf), v)
        order = sorted(by, key=lambda ln: -by[ln])
        res += [order.index(exp) + 1 if exp in order else None, order[0]]
    kexp = max((k for k in cands if line(k) == exp), key=lambda k: raw[k], default=None)
    top = max(cands, key=lambda k: raw[k])
    res += [zz[kexp] if kexp else None, zz[top], raw[top], min(pv.values())]
    out.append(res)
single = [r for r in out if roles[r[0]] == "student" and expected(r[0])]
derived = [r for r in out if roles[r[0]] in ("derivative", "prompted")]
for j, name in ((1, "raw"), (3, "p")):
    print(f"{name}: students@1 {sum(r[j] == 1 for r in single)}/20 mean rank {np.mean([r[j] for r in single]):.2f}"
          f" parents@1 {sum(r[j] == 1 for r in derived)}/11")
for r in out:
    ze = "   –  " if r[5] is None else f"{r[5]:6.2f}"
    print(f"  {r[0]:<34} {roles[r[0]]:<10} {str(expected(r[0])):<30} raw {r[1]} {r[2]:<28} p {r[3]} {r[4]:<28}"
          f" z(exp) {ze} z(top) {r[6]:6.2f} sim(top) {r[7]:.3f} min p {r[8]:.2g}")
# references audited against the other references (leave one out): null behaviour of z for unrelated pairs
zs = []
for m in R:
    for k in R:
        if k == m or line(k) == line(m) or (fam[k] and fam[k] == fam[m]):
            continue
        nl = null(k, {m})
        zs.append((S[mi[m], mi[k]] - nl.mean()) / (nl.std(ddof=1) * np.sqrt(1 + 1 / len(nl))))
zs = np.array(zs)
print("unrelated reference pairs: z quantiles 50/90/95/99/max", np.round(np.quantile(zs, [.5, .9, .95, .99, 1]), 2),
      "frac p<0.05", np.mean(stats.t.sf(zs, df=30) < 0.05).round(3))
