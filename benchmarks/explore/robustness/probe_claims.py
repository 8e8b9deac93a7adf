"""Claims from the 2026-12-07 probes, reproduced (issue 13: honest confidences; docs that say what is measured).

1. ``space="default"`` has seen AlpacaEval: prompt-grouped 3-fold CV of ``FingerprintClassifier`` on 40
   ``train``-prompt answers of 6 models of ``alpaca_eval_train`` (the prompts the shipped space and its
   score block were fitted on) and on 40 ``dev``-prompt answers, with ``space="default"`` and ``"fit"``.
2. Typicality of texts that are no English chat answer, against the built-in set, and the share of the
   shipped sample's own answers below the same thresholds.
3. ``explain()``: of the positive ``score:<model>`` terms in the shipped sample's first 300 answers, how
   many come from the text lying *below* the two compared models' midpoint on that column.

Run from the project root: ``python benchmarks/explore/robustness/probe_claims.py [SECTION ...]`` (~5 min
on 2 cores for all three; ``2`` alone, under a minute, was rerun on 2026-12-07 after the set's typicality went
to 1,001 percentiles: ``probe_claims_typicality.log``).
"""

import json
import random
import sys
import warnings

import numpy as np
from sklearn.model_selection import GroupKFold, cross_val_score

import fingerprint as fp
from fingerprint import FingerprintClassifier, references
from fingerprint.corpus import prompt_split

warnings.simplefilter("ignore", UserWarning)
DATA = "../shared/data/alpaca_eval_train/"
SECTIONS = set(sys.argv[1:]) or {"1", "2", "3"}
MODELS = ["alpaca-7b", "claude-2", "gpt-4-0314", "llama-2-70b-chat", "vicuna-13b-v1.1", "mixtral-8x7b-instruct-v0.1"]


def rows(split, n=40):
    X, y, g = [], [], []
    for m in MODELS:
        with open(DATA + m + ".jsonl", encoding="utf-8") as f:
            rs = [r for r in map(json.loads, f) if prompt_split(r["prompt_id"]) == split][:n]
        X += [r["text"] for r in rs]
        y += [m] * len(rs)
        g += [r["prompt_id"] for r in rs]
    return np.array(X, dtype=object), np.array(y), np.array(g)


if "1" in SECTIONS:
    print("1. prompt-grouped 3-fold CV top-1, 6 models x 40 answers")
    for split in ("train", "dev"):
        X, y, g = rows(split)
        for space in ("default", "fit"):
            s = cross_val_score(FingerprintClassifier(space=space, n_jobs=2), X, y, groups=g, cv=GroupKFold(3),
                                params={"groups": g})  # fmt: skip
            print(f"  {split:5s} prompts, space={space!r:9s}: {s.mean():.3f}  (folds {np.round(s, 3).tolist()})")

if "2" in SECTIONS:
    print("2. typicality against the built-in set")
    rng = random.Random(0)
    abc = "abcdefghijklmnopqrstuvwxyz"
    odd = {
        "500 random lowercase letters and spaces": "".join(rng.choice(abc + " ") for _ in range(500)),
        "500 random lowercase letters, no spaces": "".join(rng.choice(abc) for _ in range(500)),
        "German news sentences": "Die Bundesregierung hat am Mittwoch beschlossen, die Förderung für erneuerbare "
        "Energien auszuweiten. Kritiker bemängeln jedoch, dass die Mittel nicht ausreichen.",
        "lorem ipsum": "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
        "labore et dolore magna aliqua.",
        "Python code": "import os\nfor root, dirs, files in os.walk('.'):\n    for f in files:\n"
        "        print(os.path.join(root, f))\n",
        "Chinese": "今天天气很好，我们去公园散步吧。公园里有很多人在跑步和打太极拳。",
        "CSV of numbers": "\n".join(",".join(str(rng.randint(0, 999)) for _ in range(8)) for _ in range(30)),
    }
    res = fp.attribute(list(odd.values()), top_features=0)
    for name, a in zip(odd, res, strict=True):
        print(f"  {name:42s} typicality {a.typicality:.3f}  confidence {a.confidence:.3f}  nearest {a.nearest}")
    sample = references.load_sample()
    typ = np.array([a.typicality for a in fp.attribute(sample["text"], top_features=0)])
    for alpha in (0.01, 0.05):
        print(f"  below {alpha}: {np.mean([a.typicality < alpha for a in res]):.2f} of these, "
              f"{(typ < alpha).mean():.3f} of the 1,620 sample answers")  # fmt: skip

if "3" in SECTIONS:
    print("3. positive score:<model> terms of explain() whose text lies below the compared models' midpoint")
    refs = references.builtin()
    sample = references.load_sample()
    lda, space = refs.lda(), refs.space
    names = list(space.get_feature_names_out())
    texts = sample["text"][:300]
    X = space.transform(texts)
    classes = [str(c) for c in lda.classes]
    below = total = 0
    for i, a in enumerate(fp.attribute(texts, references=refs, top_features=10)):
        w, mid = lda.contributions(classes.index(a.nearest), classes.index(a.runner_up[0]), 1.0)
        for name, c in a.top_features:
            if name.startswith("score:") and c > 0:
                j = names.index(name)
                total += 1
                below += bool(X[i, j] < mid[j])
    print(f"  {below} of {total} positive score: terms ({below / max(total, 1):.0%}) have the text below the midpoint")
