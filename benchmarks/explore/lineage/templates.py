"""Issue 12 exploration, step 5: syntactic templates and line-level "who would a classifier say".

PoS-template proxy (no tagger installs offline): each token becomes itself if it is a closed-class
word (sklearn's English stop-word list), punctuation, a newline or markdown, else a shape class
(capitalised / lower-case) plus a suffix class (-ing, -ed, -ly, -tion, -s, ...).  n-grams of that
skeleton approximate the PoS templates of Wadhwa et al. (ACL 2025).

Scoring: a multinomial classifier over *lines* (balanced classes, so a line with four snapshots
gets no more say) is trained on the references' `train` answers; for an audited model, the fraction
of its `dev` answers given to each line, divided by the fraction of *unrelated references'* `dev`
answers given to that line (lift: removes hubs that attract every model).  Lines are ranked by lift.

usage: python templates.py FEATS [C]   FEATS in tmpl, word, char, tmpl+word
"""

import sys
from collections import Counter

import numpy as np
import scipy.sparse as sp
from common import load_lineage, load_rows
from skeleton import skeleton
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from fingerprint.features.ngrams import WORD_TOKEN_PATTERN

lineage = load_lineage()
rows = load_rows(("train", "dev"))
roles, fam = lineage.roles(), lineage.families()
line, expected = lineage.line, lineage.expected
refs = lineage.references()

feats = sys.argv[1] if len(sys.argv) > 1 else "tmpl"
C = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
texts = [t for _, _, t, _ in rows]
blocks = []
if "tmpl" in feats:
    sk = [skeleton(t) for t in texts]
    blocks.append(TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(2, 5), lowercase=False,
                                  sublinear_tf=True, min_df=5, max_features=300_000).fit_transform(sk))
if "word" in feats:
    blocks.append(TfidfVectorizer(analyzer="word", token_pattern=WORD_TOKEN_PATTERN, ngram_range=(1, 2),
                                  lowercase=False, sublinear_tf=True, min_df=5, max_features=300_000).fit_transform(texts))
if "char" in feats:
    blocks.append(TfidfVectorizer(analyzer="char", ngram_range=(2, 4), lowercase=False, sublinear_tf=True,
                                  min_df=5, max_features=300_000).fit_transform(texts))
X = sp.hstack(blocks).tocsr()
model = np.array([r[0] for r in rows], dtype=object)
split = np.array([r[3] for r in rows], dtype=object)
is_ref = np.isin(model, refs)
tr = np.flatnonzero(is_ref & (split == "train"))
lines = np.array([line(m) for m in model[tr]], dtype=object)
clf = LinearSVC(C=C, class_weight="balanced").fit(X[tr], lines)
L = list(clf.classes_)
dv = np.flatnonzero(split == "dev")
pred = clf.predict(X[dv])
frac = {}
for m in sorted(set(model[dv])):
    cnt = Counter(pred[model[dv] == m])
    tot = sum(cnt.values())
    frac[m] = np.array([cnt.get(ln, 0) / tot for ln in L])
print(f"feats={feats} C={C}: reference dev accuracy (line) "
      f"{np.mean([p == line(m) for p, m in zip(pred, model[dv], strict=True) if m in refs]):.3f}")

res = []
for m in sorted(frac):
    if roles.get(m) not in ("student", "control", "derivative", "prompted"):
        continue
    raw, lift = {}, {}
    for j, ln in enumerate(L):
        if ln == line(m):
            continue
        others = [o for o in refs if o != m and line(o) != ln and fam[o] != fam[m]]
        base = np.mean([frac[o][j] for o in others])
        raw[ln] = frac[m][j]
        lift[ln] = (frac[m][j] + 0.005) / (base + 0.005)
    out = [m]
    for sc in (raw, lift):
        order = sorted(sc, key=lambda k: -sc[k])
        exp = expected(m)
        out += [order.index(exp) + 1 if exp in order else None, order[0], sc[order[0]]]
    res.append(out)
single = [r for r in res if roles[r[0]] == "student" and expected(r[0])]
derived = [r for r in res if roles[r[0]] in ("derivative", "prompted")]
for j, name in ((1, "raw"), (4, "lift")):
    print(f"  {name}: students@1 {sum(r[j] == 1 for r in single)}/20, mean rank "
          f"{np.mean([r[j] for r in single]):.2f}, parents@1 {sum(r[j] == 1 for r in derived)}/11")
for r in res:
    print(f"  {r[0]:<34} {roles[r[0]]:<10} {str(expected(r[0])):<32} raw {r[1]} {r[2]:<26} {r[3]:.2f}"
          f"  lift {r[4]} {r[5]:<26} {r[6]:.2f}")
