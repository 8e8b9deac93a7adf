"""Issue 12 exploration, step 3: centring on peers, column blocks, line-level aggregation.

"peer" centring: the audited model's deviation is taken from the mean of the *other audited models*
(students, controls, derivatives, prompted variants) outside its own family, instead of the
references' centroid: what fine-tuned open models share (base-model and capability style) is removed,
what is specific to this one is kept.  Candidates' deviations stay relative to the references'
centroid.  Lines are scored by their best member or by the mean member.
"""

import sys

import numpy as np
from common import CACHE, load_meta

from fingerprint.fingerprints import Fingerprint
from fingerprint.lda import LDAModel

meta = load_meta()
F = np.load(CACHE / "feats.npz")
model = np.array(meta["model"], dtype=object)
lineage, refs = meta["lineage"], meta["refs"]
blocks = {n: (a, b) for n, a, b in meta["blocks"]}
mtr, mdv = model[F["tr"]], model[F["dv"]]
roles, fam = lineage.roles(), lineage.families()
line, expected = lineage.line, lineage.expected
audited = sorted(m for m in set(mdv) if roles.get(m) in ("student", "control", "derivative", "prompted"))


def run(cols, centring, stat, agg, shrink=0.3):
    keep = np.concatenate([np.arange(*blocks[b]) for b in cols.split("+")])
    Xtr, Xdv = F["Xtr"][:, keep], F["Xdv"][:, keep]
    fps = {r: Fingerprint.from_features(Xtr[mtr == r], r, "x") for r in refs}
    lda = LDAModel.from_fingerprints([fps[r] for r in refs], shrink)
    M = lda.whiten(lda.means)
    centre = M.mean(0)
    C = M - centre
    means = {m: lda.whiten(Xdv[mdv == m]).mean(0) for m in set(mdv)}
    res = []
    for m in audited:
        if centring == "refs":
            d = means[m] - centre
        else:
            peers = [p for p in audited if p != m and fam[p] != fam[m]]
            d = means[m] - np.mean([means[p] for p in peers], axis=0)
        cands = [i for i, r in enumerate(refs) if r != m]
        if stat == "cos":
            s = C @ d / (np.linalg.norm(C, axis=1) * np.linalg.norm(d) + 1e-12)
        elif stat == "proj":
            s = C @ d / (np.linalg.norm(C, axis=1) + 1e-12)
        else:  # negative distance of the (re-centred) mean to each candidate
            s = -((d + centre - M) ** 2).sum(1)
        by_line = {}
        for i in cands:
            by_line.setdefault(line(refs[i]), []).append(s[i])
        score = {ln: (max(v) if agg == "max" else np.mean(v)) for ln, v in by_line.items()}
        order = sorted(score, key=lambda ln: -score[ln])
        exp = expected(m)
        res.append((m, exp, order.index(exp) + 1 if exp in order else None, order[0]))
    return res


def summary(res):
    single = [r for r in res if roles[r[0]] == "student" and r[1]]
    derived = [r for r in res if roles[r[0]] in ("derivative", "prompted")]
    return (sum(r[2] == 1 for r in single), np.mean([r[2] for r in single]), sum(r[2] == 1 for r in derived))


if __name__ == "__main__":
    print(f"{'columns':<22} {'centring':<6} {'stat':<5} {'agg':<5} {'students@1':>10} {'mean rank':>9} {'parents@1':>9}")
    grid = [(c, ce, st, ag) for c in ("ngram+style+score", "score", "style", "ngram", "ngram+style")
            for ce in ("refs", "peers") for st in ("cos", "proj", "dist") for ag in ("max", "mean")]
    for cfg in grid:
        s = summary(run(*cfg))
        print(f"{cfg[0]:<22} {cfg[1]:<6} {cfg[2]:<5} {cfg[3]:<5} {s[0]:>7}/20 {s[1]:>9.2f} {s[2]:>6}/11", flush=True)
    if len(sys.argv) > 1:
        for r in run(*sys.argv[1:5]):
            print(r)
