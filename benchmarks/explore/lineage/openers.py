"""Openers and closers (2026-12-07): does a student open and close its answers as its teacher does?

The issue names openers as a habit a student inherits. The library's style block has 20-odd fixed
opener/closer markers; this measures the data-driven version: each model's distribution of its answers'
first k tokens (and last k), the audited model on its `dev` answers, each reference on its `train`
answers (the benchmark's protocol), compared by cosine of counts, of counts weighted by an idf over the
references (openers every model uses count less), and by the Jensen-Shannon divergence; ranked by
`common.rank_evaluator` (lines by mean or best snapshot, raw or z-scored). Paired too: the share of
`dev` prompts on which the audited model's opener equals the candidate's. ~1 min.
"""

import re

import numpy as np
from common import load_lineage, load_rows, prompt_index, rank_evaluator

TOK = re.compile(r"\w+|[^\w\s]")
lineage = load_lineage()
rows = load_rows(("train", "dev"))
dev = [r[:3] for r in rows if r[3] == "dev"]
train = [r[:3] for r in rows if r[3] == "train"]
models, prompts, mi, at = prompt_index(dev)
refs = [m for m in lineage.references() if m in mi]
evaluate = rank_evaluator(lineage, models, mi, refs)
print(f"{len(models)} models, {len(refs)} references, {len(dev)} dev / {len(train)} train answers")


def head(t, k):
    return " ".join(TOK.findall(t.lower())[:k])


def tail(t, k):
    return " ".join(TOK.findall(t.lower())[-k:])


def counts(rowset, f):
    """Model -> {key: count}."""
    out = {m: {} for m in models}
    for m, _, t in rowset:
        if m in out:
            key = f(t)
            out[m][key] = out[m].get(key, 0) + 1
    return out


for part, fn in (("opener", head), ("closer", tail)):
    for k in (1, 2, 3, 5):
        f = lambda t, k=k, fn=fn: fn(t, k)  # noqa: E731
        A, B = counts(dev, f), counts(train, f)
        vocab = sorted({key for c in (A, B) for d in c.values() for key in d})
        vi = {v: i for i, v in enumerate(vocab)}
        Xa, Xb = np.zeros((len(models), len(vocab))), np.zeros((len(models), len(vocab)))
        for X, C in ((Xa, A), (Xb, B)):
            for m, d in C.items():
                for key, n in d.items():
                    X[mi[m], vi[key]] = n
        Pa, Pb = Xa / Xa.sum(1, keepdims=True), Xb / Xb.sum(1, keepdims=True)
        ref_rows = [mi[r] for r in refs]
        df = (Pb[ref_rows] > 0).sum(0)
        idf = np.log((1 + len(refs)) / (1 + df)) + 1

        def cos(U, V):
            U = U / np.linalg.norm(U, axis=1, keepdims=True)
            V = V / np.linalg.norm(V, axis=1, keepdims=True)
            return U @ V.T

        S_cos = cos(Pa, Pb)
        S_idf = cos(Pa * idf, Pb * idf)
        eps = 0.5 / len(vocab)
        Qa, Qb = (Pa + eps) / (1 + eps * len(vocab)), (Pb + eps) / (1 + eps * len(vocab))
        S_js = np.zeros((len(models), len(models)))
        for i in range(len(models)):
            Mx = (Qa[i] + Qb) / 2
            S_js[i] = -(0.5 * (Qa[i] * np.log(Qa[i] / Mx)).sum(1) + 0.5 * (Qb * np.log(Qb / Mx)).sum(1))
        print(f"\n{part} k={k}: {len(vocab)} distinct")
        evaluate(S_cos, f"{part}{k} cosine")
        evaluate(S_idf, f"{part}{k} idf cosine")
        evaluate(S_js, f"{part}{k} -JS")
        # paired: the share of dev prompts on which the two answers open (close) alike
        keys = {(m, p): f(t) for m, p, t in dev}
        S_pair = np.zeros((len(models), len(models)))
        for i, a in enumerate(models):
            for j, b in enumerate(models):
                same = [keys[a, p] == keys[b, p] for p in prompts if (a, p) in keys and (b, p) in keys]
                S_pair[i, j] = np.mean(same) if same else 0
        evaluate(S_pair, f"{part}{k} paired agreement")
