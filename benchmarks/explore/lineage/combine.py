"""Issue 12 exploration, step 11: a cross-validated combination of every statistic of step 9.

``combine_dump.py`` keeps the score matrices ``beyond_base.py`` evaluates (17: raw / prompt-centred /
double-centred answer similarity in char and word TF-IDF, their SVD versions, control contrasts,
candidate-distinctive phrases).  For each audited model and candidate *line* each matrix gives four
features (a line scored by its mean or best snapshot; raw or z-scored against the other families'
references, the hubness correction), standardised across the candidate lines of that audited model,
so that a feature says "this line stands out for this model".  A logistic ranker (L2, C chosen by an
inner leave-one-family-out loop) is trained on the single-teacher students of the other student
families and ranks the lines of the held-out family's students (outer leave-one-family-out): the
weights are chosen on lineages, never on the student being scored.  No feature names a candidate,
so the ranker cannot learn "answer gpt-3.5-turbo" outright; it can still learn statistics that
favour OpenAI-like lines, which the controls show.

Read against: the best single statistic (its own row below), and always answering
``openai/gpt-3.5-turbo`` (13 of the 20 students' teacher line: a base rate, not evidence).

usage: python benchmarks/explore/lineage/combine.py [both|mean]   (needs /tmp/lineage/stats.pkl; ~1 min)
``mean`` keeps only features that score a line by the mean of its snapshots: a line with four
snapshots (gpt-3.5-turbo) gets four chances under "best", an advantage a ranker can learn as a prior.
"""

import pickle
import sys
import warnings

import numpy as np
from common import CACHE, load_lineage
from sklearn.linear_model import LogisticRegression

warnings.simplefilter("ignore")
AGGS = {"both": (np.mean, np.max), "mean": (np.mean,)}[sys.argv[1] if len(sys.argv) > 1 else "both"]
lineage = load_lineage()
STATS = pickle.load(open(CACHE / "stats.pkl", "rb"))
models = STATS.pop("_models")
mi = {m: i for i, m in enumerate(models)}
refs = lineage.references()
R = [mi[r] for r in refs]
fam = {m: lineage[m].get("family") or m for m in models}
lines = sorted({lineage.line(r) for r in refs})
students = [m for m in models if lineage[m]["role"] == "student" and lineage[m].get("teacher_line")]
controls = [m for m in models if lineage[m]["role"] == "control"]
assert len(students) == 20, len(students)


def hub_z(S):
    T = S.copy()
    for k in R:
        o = [j for j in R if j != k and fam[models[j]] != fam[models[k]]]
        T[:, k] = (S[:, k] - S[o, k].mean()) / (S[o, k].std() or 1.0)
    return T


def line_features(m, mats):
    """(lines, features) for audited model m: each matrix x {mean, best} snapshot, standardised over lines."""
    cols = []
    for S in mats:
        by = {}
        for r in refs:
            if r != m:
                by.setdefault(lineage.line(r), []).append(S[mi[m], mi[r]])
        for agg in AGGS:
            v = np.array([agg(by[ln]) if ln in by else np.nan for ln in lines])
            v = np.where(np.isnan(v), np.nanmean(v), v)
            sd = v.std()
            cols.append((v - v.mean()) / sd if sd > 0 else np.zeros_like(v))
    return np.column_stack(cols)


labels = sorted(STATS)
mats = [M for lab in labels for M in (STATS[lab], hub_z(STATS[lab]))]
names = [f"{lab}{z} {agg}" for lab in labels for z in ("", " z") for agg in ("mean", "best")[: len(AGGS)]]
F = {m: line_features(m, mats) for m in students + controls}
teacher = {m: lines.index(lineage[m]["teacher_line"]) for m in students}
families = sorted({fam[m] for m in students})


def fit(train, C):
    X = np.vstack([F[m] for m in train])
    y = np.concatenate([np.arange(len(lines)) == teacher[m] for m in train])
    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(X, y)


def rank(model, m):
    s = model.decision_function(F[m])
    return int((s > s[teacher[m]]).sum()) + 1, s


GRID = (0.001, 0.01, 0.1, 1.0)
ranks, chosen = {}, {}
for f in families:
    train = [m for m in students if fam[m] != f]
    inner = sorted({fam[m] for m in train})
    score = {}
    for C in GRID:  # inner leave-one-family-out on the training families: mean reciprocal rank
        rr = []
        for g in inner:
            mdl = fit([m for m in train if fam[m] != g], C)
            rr += [1 / rank(mdl, m)[0] for m in train if fam[m] == g]
        score[C] = np.mean(rr)
    C = max(score, key=score.get)
    mdl = fit(train, C)
    for m in students:
        if fam[m] == f:
            ranks[m], chosen[m] = rank(mdl, m)[0], C

single = {}
for j, n in enumerate(names):  # each feature alone, as the ranker would use it (sign from the data: +)
    r = [int((F[m][:, j] > F[m][teacher[m], j]).sum()) + 1 for m in students]
    single[n] = (sum(x == 1 for x in r), np.mean(r))
best = sorted(single.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[:5]
print(f"features: {'mean and best snapshot' if len(AGGS) == 2 else 'mean snapshot only'}")
print(f"{len(labels)} statistics x {2 * len(AGGS)} = {len(names)} features, {len(lines)} candidate lines, 20 students, "
      f"{len(families)} student families (outer folds)")
print("best single features (all 20 students, no fitting):")
for n, (at1, mr) in best:
    print(f"  {n:<55} @1 {at1:2d}/20  mean rank {mr:.2f}")
r = np.array([ranks[m] for m in students])
print(f"\ncross-validated ranker: teacher line @1 {np.sum(r == 1)}/20, @3 {np.sum(r <= 3)}, mean rank {r.mean():.2f}; "
      f"C chosen {sorted(set(chosen.values()))}")
gpt35 = [m for m in students if lineage[m]["teacher_line"] == "openai/gpt-3.5-turbo"]
print(f"  students of gpt-3.5-turbo @1: {sum(ranks[m] == 1 for m in gpt35)}/{len(gpt35)}; of other teachers: "
      f"{sum(ranks[m] == 1 for m in students if m not in gpt35)}/{20 - len(gpt35)}")
print(f"  always openai/gpt-3.5-turbo: {len(gpt35)}/20")
for m in students:
    print(f"    {m:<32} teacher {lineage[m]['teacher_line'].split('/')[-1]:<18} rank {ranks[m]}")
mdl = fit(students, max(set(chosen.values()), key=list(chosen.values()).count))
print("\ncontrols (ranker trained on all 20 students): top line, its margin over the 2nd (in decision units)")
margins = {}
for m in controls:
    s = mdl.decision_function(F[m])
    o = np.argsort(-s)
    margins[m] = s[o[0]] - s[o[1]]
    print(f"  {m:<24} {lines[o[0]]:<34} margin {margins[m]:.2f}  (top score {s[o[0]]:.2f})")
# naming: a student's held-out top line counts only if its score beats every control's top score
top_ctl = max(mdl.decision_function(F[m]).max() for m in controls)
named = 0
for f in families:
    m_f = fit([m for m in students if fam[m] != f], chosen[next(m for m in students if fam[m] == f)])
    for m in students:
        if fam[m] == f:
            s = m_f.decision_function(F[m])
            named += int(np.argmax(s) == teacher[m] and s.max() > top_ctl)
print(f"\nnamed above every control's top score (a threshold set on the 5 controls, optimistic): {named}/20")
# the same threshold without the control it is tested on (leave one control out): false namings
tops = {m: mdl.decision_function(F[m]).max() for m in controls}
false = [m for m in controls if tops[m] > max(v for c, v in tops.items() if c != m)]
print(f"leave one control out: {len(false)}/5 controls would be named ({', '.join(false) or '-'}), "
      "each as learned from openai/gpt-3.5-turbo")
