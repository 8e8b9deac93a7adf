"""Issue 12 exploration, step 10: does a student share its teacher's *content* rather than its style?

Every statistic measured so far (docs/method.md, "Lineage audit on 36 real lineages") compares
surface form: n-grams, style markers, PoS templates.  A distilled student's surface form is its base
model's as much as its teacher's.  What it learned from the teacher's answers is also *what to say*:
which points an answer makes, which examples it picks, how much it covers.  Sentence embeddings
encode that content (and little style: 6-8 % per-text attribution, docs/method.md, "Embedding
fusion"), and when every model answers the same prompt the topic is shared, so what differs between
two answers to one prompt is the content choices.  This script measures, with the same protocol and
scoring as ``beyond_base.py`` (44 references, audited models' `dev` answers, a model never its own
candidate, teacher line ranked first of 20; lines by their mean or best snapshot, raw or z-scored
against the other families' references):

1. raw paired cosine of the answers' embeddings, averaged over shared prompts;
2. prompt-centred: each answer minus the prompt's mean over the references (the topic), then the
   correlation summed over prompts;
3. double-centred: also minus the model's mean deviation (its constant content habits, e.g. length).

Embeddings: all-MiniLM-L6-v2 (the packaged default model), each answer's first 256 word pieces (plain
``encode``, no chunk pooling: 43 texts/s on 2 cores instead of 5-9, and the opening of an answer is
where its content choices show first), L2-normalised; cached in ``/tmp/lineage/content_emb.npy``
(5.5 min to compute on 2 cores).

usage: python benchmarks/explore/lineage/content.py     (log: content.log)
"""

import os
import time

import numpy as np
from common import CACHE, load_dev, load_lineage, prompt_index, rank_evaluator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

lineage, rows = load_lineage(), load_dev()
refs = lineage.references()
models, prompts, mi, at = prompt_index(rows)
M, P = at.shape
isref = np.array([m in refs for m in models])
texts = [t for _, _, t in rows]
row_model = np.array([mi[m] for m, _, _ in rows])
path = CACHE / "content_emb.npy"


def embed():
    if path.exists():
        E = np.load(path)
        if len(E) == len(texts):
            return E
    from sentence_transformers import SentenceTransformer

    from fingerprint.features.embedding_models import default_model_dir

    model = SentenceTransformer(str(default_model_dir()), device="cpu")
    model.max_seq_length = 256
    t = time.perf_counter()
    order = np.argsort([len(x) for x in texts])  # similar lengths per batch: less padding
    E = np.zeros((len(texts), model.get_embedding_dimension()), dtype=np.float32)
    E[order] = model.encode([texts[i] for i in order], batch_size=64, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
    print(f"embedded {len(texts)} answers in {time.perf_counter() - t:.0f} s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, E)
    return E


evaluate = rank_evaluator(lineage, models, mi, refs)


E = embed()
D = E.shape[1]
X = np.zeros((M, P, D))
have = at >= 0
X[have] = E[at[have]]
both = np.einsum("mp,kp->mk", have.astype(float), have.astype(float))

# 1. raw paired cosine
raw = np.einsum("mpd,kpd->mk", X, X) / np.maximum(both, 1)
evaluate(raw, "MiniLM raw paired cosine")

# 2. prompt-centred: minus the references' mean answer to the prompt
wref = (have & isref[:, None]).astype(float)
mu = np.einsum("mp,mpd->pd", wref, X) / wref.sum(0)[:, None]
Xc = (X - mu[None]) * have[..., None]
n = np.einsum("mpd,mpd->m", Xc, Xc)
pc = np.einsum("mpd,kpd->mk", Xc, Xc) / np.sqrt(np.outer(n, n))
per_student = evaluate(pc, "MiniLM prompt-centred")

# 3. double-centred: minus the model's mean deviation too
Xd = (Xc - Xc.sum(1, keepdims=True) / have.sum(1)[:, None, None]) * have[..., None]
n = np.einsum("mpd,mpd->m", Xd, Xd)
dc = np.einsum("mpd,kpd->mk", Xd, Xd) / np.sqrt(np.outer(n, n))
evaluate(dc, "MiniLM double-centred")

# 4. per-prompt cosine of the prompt-centred answers (each prompt weighs the same), averaged
unit = Xc / np.maximum(np.linalg.norm(Xc, axis=2, keepdims=True), 1e-12)
evaluate(np.einsum("mpd,kpd->mk", unit, unit) / np.maximum(both, 1), "MiniLM prompt-centred per-prompt")

print("\nper student (prompt-centred, z, mean): model, teacher line, its rank, top line")
for m, t, r, top in per_student[(True, "mean")]:
    print(f"  {m:<34} {t:<22} {r:3d}  {top}")
