"""Issue 15 finding 4, paired mode: held-out dev answers of model u audited against the built-in
references without u's family, paired with the other models' dev answers (exploration)."""

import sys
import warnings
from collections import Counter

import numpy as np

import fingerprint as fp
from fingerprint import references
from fingerprint.corpus import load_corpus
from fingerprint.setlevel import ReferenceAnswers

refs = references.builtin()
info = refs.to_frame().set_index("model")
fam = info["family"].to_dict()
teacher = info["teacher"].to_dict()
dev = load_corpus("../shared/data/alpaca_eval_train", split="dev")
texts, models, pids = list(dev["text"]), np.array(dev["model"]), np.array(dev["prompt_id"])
answers = ReferenceAnswers(refs, dev)
warnings.simplefilter("ignore")
count = Counter(pids.tolist())
everyone = np.array([count[p] == len(refs.models) for p in pids])  # prompts every model answered
sizes = [int(s) for s in sys.argv[1:]] or [2, 5, 10, 20, 50]
rng = np.random.default_rng(0)
for n in sizes:
    false_v, related_v, total, pvals = 0, 0, 0, []
    for u in refs.models:
        sub = references.builtin()
        for m in [m for m in sub.models if fam[m] == fam[u]]:
            sub.remove(m)
        rows = np.flatnonzero((models == u) & everyone)
        for _ in range(4):
            idx = rng.choice(rows, n, replace=False)
            r = fp.audit([texts[i] for i in idx], references=sub, groups=list(pids[idx]), reference_texts=answers,
                         top_features=0, n_bootstrap=30, random_state=int(rng.integers(1 << 30)))
            total += 1
            rel = isinstance(teacher.get(u), str) and fam[teacher[u]] == fam.get(r.verdict)
            related_v += r.verdict is not None and rel
            false_v += r.verdict is not None and not rel
            pvals += [c.p_value for c in r.candidates if not (isinstance(teacher.get(u), str) and fam[teacher[u]] == fam[c.model])]
    pv = np.array(pvals)
    print(f"n={n:3d} false verdicts {false_v}/{total} (teacher {related_v})  P(p<.05)={np.mean(pv < .05):.3f} "
          f"P(p<.01)={np.mean(pv < .01):.3f} min p={pv.min():.2g}", flush=True)
