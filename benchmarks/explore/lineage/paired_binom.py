"""Issue 12 exploration, step 7: per-prompt nearest-answer votes with a binomial test.

For each shared `dev` prompt, the reference whose answer is nearest (cosine in the space's n-gram
block, optionally idf-weighted with idf from the references' answers) gets the prompt's vote.  A
candidate's null vote rate is the rate at which it wins for *other references* audited the same way
(leave-one-out, same line/family excluded); p = binomial upper tail of the audited model's votes.
Prints ranks, Holm-significant verdicts, and the vote share of the expected candidate by role.
usage: python paired_binom.py [idf|noidf]
"""

import sys

import numpy as np
import scipy.sparse as sp
from common import CACHE, REFS_CACHE, answer_sims, load_dev, load_lineage, prompt_index
from scipy import stats

import fingerprint as fp

lineage, rows = load_lineage(), load_dev()
Z = sp.load_npz(CACHE / "Zdev.npz").tocsr()
R = fp.load_references(REFS_CACHE).models
roles, fam = lineage.roles(), lineage.families()
line, expected = lineage.line, lineage.expected
mode = sys.argv[1] if len(sys.argv) > 1 else "idf"
models, _, mi, at = prompt_index(rows)
if mode == "idf":
    refrows = at[[mi[k] for k in R]].ravel()
    df = np.asarray((Z[refrows[refrows >= 0]] > 0).sum(0)).ravel()
    idf = np.log((1 + len(refrows)) / (1 + df)) + 1
    Z = Z @ sp.diags(idf)
norm = np.sqrt(np.asarray(Z.multiply(Z).sum(1)).ravel())
Zn = (sp.diags(1 / np.maximum(norm, 1e-12)) @ Z).tocsr()
# sims[p] : (n_models, n_refs) cosine of every model's answer with each reference's answer to prompt p
sims = answer_sims(Zn, at, [mi[k] for k in R])


def votes(m, allowed):
    """votes per reference (index into R) among `allowed` candidates, over prompts m answered."""
    s = sims[:, mi[m], :][:, allowed]
    ok = ~np.isnan(s).any(1)
    win = np.argmax(s[ok], axis=1)
    return np.bincount(win, minlength=len(allowed)), int(ok.sum())


out = []
for m in models:
    if roles.get(m) not in ("student", "control", "derivative", "prompted"):
        continue
    cand = [j for j, k in enumerate(R) if k != m]
    v, n = votes(m, cand)
    rate = {}
    for a, j in enumerate(cand):  # null rate of candidate j: how often it wins for unrelated references
        k = R[j]
        w = t = 0
        for o in R:
            if o in (m, k) or line(o) == line(k) or (fam[o] and fam[o] == fam[k]):
                continue
            cand_o = [jj for jj in cand if R[jj] != o]
            vo, no = votes(o, cand_o)
            w += vo[cand_o.index(j)]
            t += no
        rate[j] = (w + 1) / (t + 2)
    p = np.array([stats.binom.sf(v[a] - 1, n, rate[j]) for a, j in enumerate(cand)])
    order = np.lexsort((-v, p))
    holm = np.minimum(1, np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p)))))
    exp = expected(m)
    lines_ranked = []
    for a in order:
        if line(R[cand[a]]) not in lines_ranked:
            lines_ranked.append(line(R[cand[a]]))
    rank = lines_ranked.index(exp) + 1 if exp in lines_ranked else None
    top = cand[order[0]]
    ea = next((a for a in order if line(R[cand[a]]) == exp), None)
    out.append((m, rank, R[top], holm[0], v[order[0]] / n, rate[top], None if ea is None else v[ea] / n,
                None if ea is None else rate[cand[ea]]))
single = [r for r in out if roles[r[0]] == "student" and expected(r[0])]
derived = [r for r in out if roles[r[0]] in ("derivative", "prompted")]
ctrl = [r for r in out if roles[r[0]] == "control"]
sig = lambda r: r[3] < 0.05  # noqa: E731
print(f"{mode}: students@1 {sum(r[1] == 1 for r in single)}/20 mean rank {np.mean([r[1] for r in single]):.2f}; "
      f"significant+right {sum(r[1] == 1 and sig(r) for r in single)}/20; parents@1 {sum(r[1] == 1 for r in derived)}/11 "
      f"sig+right {sum(r[1] == 1 and sig(r) for r in derived)}/11; controls with a verdict {sum(sig(r) for r in ctrl)}/5")
for r in out:
    es = "  –  " if r[6] is None else f"{r[6]:.3f}/{r[7]:.3f}"
    print(f"  {r[0]:<34} {roles[r[0]]:<10} {str(expected(r[0])):<30} rank {r[1]} top {r[2]:<30} holm {r[3]:.2g} "
          f"share {r[4]:.3f} null {r[5]:.3f}  expected share/null {es}")
