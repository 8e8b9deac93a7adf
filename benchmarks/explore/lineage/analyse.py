"""Issue 12 exploration, step 2: statistics that rank a student's teacher line first (on cached features).

Reads /tmp/lineage/{feats.npz,meta.json} (feats.py).  For every audited model (student, control,
derivative, prompted variant) its `dev` answers are compared with the references' fingerprints
(cross-fitted `train` features); the model itself is never a reference.  Each statistic ranks the
candidates; a student counts as found when the top candidate's `line` is its `teacher_line`.

Statistics (whitened space of the pooled within-model covariance, shrinkage 0.3):
  dist     debiased squared distance of means (today's audit)
  cos      cosine between the audited mean's and the candidate's deviation from the references' centroid
  proj     length of that projection (cos x |audited deviation|)
  nnls     weight of the candidate in a non-negative decomposition of the audited deviation
  post     pooled LDA log-posterior (sum over texts)
Each raw statistic is also turned into a relative one: its z-score against the same statistic of
the *other references* (each one's own dev answers, leave-one-out) toward the candidate, with the
candidate's own line left out of that null.
"""

import sys
from collections import defaultdict

import numpy as np
from common import CACHE, load_meta
from scipy.optimize import nnls

from fingerprint.fingerprints import Fingerprint
from fingerprint.lda import LDAModel

meta = load_meta()
F = np.load(CACHE / "feats.npz")
model = np.array(meta["model"], dtype=object)
lineage, refs = meta["lineage"], meta["refs"]
blocks = {n: (a, b) for n, a, b in meta["blocks"]}
cols = sys.argv[1] if len(sys.argv) > 1 else "all"
if cols == "all":
    keep = np.arange(F["Xtr"].shape[1])
else:
    keep = np.concatenate([np.arange(*blocks[b]) for b in cols.split("+")])
Xtr, Xdv = F["Xtr"][:, keep], F["Xdv"][:, keep]
mtr, mdv = model[F["tr"]], model[F["dv"]]
line, expected = lineage.line, lineage.expected

fps = {r: Fingerprint.from_features(Xtr[mtr == r], r, "x") for r in refs}
dev = {m: Xdv[mdv == m] for m in set(mdv)}


def stats(U_rows, cands):
    """Raw statistics of a set of rows toward each candidate (references = cands)."""
    lda = LDAModel.from_fingerprints([fps[c] for c in cands], 0.3)
    M = lda.whiten(lda.means)
    Y = lda.whiten(U_rows)
    d = M.shape[1]
    ybar = Y.mean(0)
    n = len(Y)
    own = ((Y - ybar) ** 2).sum() / max(n - 1, 1) / n
    noise = np.array([np.trace(lda.whiten_both(fps[c].scatter)) / (fps[c].n_texts - 1) / fps[c].n_texts for c in cands])
    dist = (((ybar - M) ** 2).sum(1) - own - noise) / d
    centre = M.mean(0)
    dev_u = ybar - centre
    C = M - centre
    cos = C @ dev_u / (np.linalg.norm(C, axis=1) * np.linalg.norm(dev_u) + 1e-12)
    proj = C @ dev_u / (np.linalg.norm(C, axis=1) + 1e-12)
    w, _ = nnls(C.T, dev_u)
    post = np.log(np.clip(lda.proba(U_rows), 1e-300, None)).sum(0)
    post = post - post.max()
    return {"dist": -dist, "cos": cos, "proj": proj, "nnls": w, "post": post}  # larger = closer


roles = lineage.roles()
audited = sorted(m for m in dev if roles.get(m) in ("student", "control", "derivative", "prompted"))
STATS = ("dist", "cos", "proj", "nnls", "post")

# null: each reference's own dev answers against the other references (leave itself out)
null = defaultdict(dict)  # stat -> {(audited ref j, candidate k): value}
for j in refs:
    cands = [c for c in refs if c != j]
    s = stats(dev[j], cands)
    for st in STATS:
        for c, v in zip(cands, s[st], strict=True):
            null[st][(j, c)] = v


def relative(st, k, value, exclude_line):
    vals = np.array([v for (j, c), v in null[st].items() if c == k and line(j) != exclude_line and line(j) != line(k)])
    return (value - vals.mean()) / (vals.std(ddof=1) + 1e-12)


rows = []
for m in audited:
    cands = [c for c in refs if c != m]
    s = stats(dev[m], cands)
    exp = expected(m)
    out = {"model": m, "role": roles[m], "expected": exp}
    for st in STATS:
        raw = s[st]
        rel = np.array([relative(st, k, raw[i], line(m)) for i, k in enumerate(cands)])
        for name, v in (("raw", raw), ("rel", rel)):
            order = np.argsort(-v)
            lines = [line(cands[i]) for i in order]
            out[f"{st}_{name}_top"] = cands[order[0]]
            out[f"{st}_{name}_rank"] = (lines.index(exp) + 1) if exp in lines else None
            out[f"{st}_{name}_z1"] = float(v[order[0]]) if name == "rel" else None
    rows.append(out)

single = [r for r in rows if r["role"] == "student" and r["expected"]]
derived = [r for r in rows if r["role"] in ("derivative", "prompted")]
print(f"{len(single)} single-teacher students, {len(derived)} derivatives/prompted, "
      f"{sum(r['role'] == 'control' for r in rows)} controls; columns: {cols}")
print(f"{'statistic':<12} {'students rank1':>15} {'mean rank':>10} {'parents rank1':>14}")
for st in STATS:
    for name in ("raw", "rel"):
        k = f"{st}_{name}_rank"
        r1 = sum(r[k] == 1 for r in single)
        mr = np.mean([r[k] for r in single if r[k]])
        p1 = sum(r[k] == 1 for r in derived)
        print(f"{st + '_' + name:<12} {r1:>10}/{len(single)} {mr:>10.2f} {p1:>9}/{len(derived)}")
best = sys.argv[2] if len(sys.argv) > 2 else "cos_rel"
print(f"\nper model ({best}):")
for r in rows:
    print(f"  {r['model']:<36} {r['role']:<10} {str(r['expected']):<32} top={r[best + '_top']:<30} "
          f"rank={r[best + '_rank']} z={r.get(best + '_z1')}")
