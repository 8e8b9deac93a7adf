"""Helpers shared by the lineage exploration scripts (issue 12): data, lineage, references, prompt index.

The scripts are run from the project root as ``python benchmarks/explore/lineage/X.py``; Python puts
the script's own folder first on ``sys.path``, so ``from common import ...`` (like ``from skeleton
import skeleton``) needs no ``PYTHONPATH``.  Paths are relative to the project root.
"""

import json
from pathlib import Path

import numpy as np

import fingerprint as fp

DATA = Path("../shared/data")
CORPORA = ("alpaca_eval_train", "alpaca_eval_wide")
CACHE = Path("/tmp/lineage")  # feats.py's space, features and meta.json; later scripts' caches
REFS_CACHE = "benchmarks/.cache/lineage-refs"  # to_cache.py's reference set (benchmarks/audit_lineage.py's cache)


class Lineage(dict):
    """Model name -> its lineage record (role, family, line, teacher_line, parent, base_model, ...)."""

    def line(self, m):
        """The model's line (what its snapshots share), else its own name."""
        return self[m].get("line") or m

    def expected(self, m):
        """The line an audit should name: a student's teacher_line, the parent's line of a derivative or
        prompted variant; None for any other role."""
        v = self[m]
        if v["role"] == "student":
            return v.get("teacher_line")
        if v["role"] in ("derivative", "prompted"):
            return self.line(v["parent"])
        return None

    def references(self):
        """The audit's candidates, sorted: every original model (role teacher/base) plus the parents of
        prompted variants."""
        return sorted({m for m, v in self.items() if v["role"] in ("teacher", "base")}
                      | {v["parent"] for v in self.values() if v["role"] == "prompted"})

    def roles(self):
        """Model -> role."""
        return {m: v["role"] for m, v in self.items()}

    def families(self):
        """Model -> family (None where the record has none)."""
        return {m: v.get("family") for m, v in self.items()}


def load_lineage(data=DATA):
    """Both corpora's ``lineage.json`` merged (train first, then wide)."""
    lineage = Lineage()
    for c in CORPORA:
        lineage.update(json.loads((Path(data) / c / "lineage.json").read_text()))
    return lineage


def load_meta():
    """feats.py's ``meta.json``: rows' model/prompt_id/split, references, lineage (as a Lineage), blocks."""
    meta = json.load(open(CACHE / "meta.json"))
    meta["lineage"] = Lineage(meta["lineage"])
    return meta


def load_rows(splits=("dev",), data=DATA):
    """(model, prompt_id, text, split) of every answer, corpus by corpus, split by split, in file order."""
    rows = []
    for c in CORPORA:
        for split in splits:
            ds = fp.load_corpus(Path(data) / c, split=split)
            rows += [(m, p, t, split) for m, p, t in zip(ds["model"], ds["prompt_id"], ds["text"], strict=True)]
    return rows


def load_dev(data=DATA):
    """(model, prompt_id, text) of every `dev` answer of both corpora, in load_rows' order."""
    return [(m, p, t) for m, p, t, _ in load_rows(("dev",), data)]


def prompt_index(rows):
    """Sorted models and prompts of `rows`, each model's position, and ``at[model, prompt]`` = the row
    index of that answer (-1 where the model did not answer the prompt)."""
    models = sorted({r[0] for r in rows})
    prompts = sorted({r[1] for r in rows})
    mi, pi = {m: i for i, m in enumerate(models)}, {p: i for i, p in enumerate(prompts)}
    at = np.full((len(models), len(prompts)), -1)
    for i, r in enumerate(rows):
        at[mi[r[0]], pi[r[1]]] = i
    return models, prompts, mi, at


def answer_sims(X, at, ri):
    """``sims[p, model, j]``: dot product of rows of `X` (cosine when they are L2-normalised) between each
    model's answer to prompt p and reference j's (``ri[j]`` = its model index); NaN where either has none."""
    n_models, n_prompts = at.shape
    sims = np.full((n_prompts, n_models, len(ri)), np.nan)
    for p in range(n_prompts):
        have = np.flatnonzero(at[:, p] >= 0)
        hr = [j for j, k in enumerate(ri) if at[k, p] >= 0]
        sims[p][np.ix_(have, hr)] = (X[at[have, p]] @ X[at[[ri[j] for j in hr], p]].T).toarray()
    return sims


def rank_evaluator(lineage, models, mi, refs):
    """``evaluate(S, label)``: print the teacher-line / parent ranks of a score matrix ``S[audited,
    candidate]`` (higher = closer; rows and columns in ``models`` order), as ``beyond_base.py`` and
    ``content.py`` report them.

    Lines are scored by the mean over their snapshots ("mean") and by their best snapshot ("best");
    ``z`` standardises each candidate's column by the scores of the references of other families (a
    hubness correction).  A model is never its own candidate; a student counts when the top line is
    its ``teacher_line``.  Returns ``{(z, agg): [(student, teacher line, its rank, top line), ...]}``.
    """
    fam = {m: lineage[m].get("family") or m for m in models}
    R = [mi[r] for r in refs]

    def evaluate(S, label):
        out = {}
        for z in (False, True):
            T = S.copy()
            if z:
                for k in R:
                    o = [j for j in R if j != k and fam[models[j]] != fam[models[k]]]
                    T[:, k] = (S[:, k] - S[o, k].mean()) / S[o, k].std()
            for agg in ("mean", "best"):
                st, par, ctl, detail = [], [], [], []
                for m in models:
                    role = lineage[m]["role"]
                    if role not in ("student", "derivative", "prompted", "control"):
                        continue
                    by = {}
                    for r in refs:
                        if r != m:
                            by.setdefault(lineage.line(r), []).append(T[mi[m], mi[r]])
                    score = {ln: (np.mean(v) if agg == "mean" else np.max(v)) for ln, v in by.items()}
                    order = sorted(score, key=lambda ln: -score[ln])
                    exp = lineage.expected(m)
                    if role == "control":
                        # a control that was not scored (a contrast needs it as the control) shows "-"
                        ctl.append(order[0].split("/")[-1] if np.ptp(list(score.values())) > 0 else "-")
                    elif exp is not None:
                        (st if role == "student" else par).append(order.index(exp) + 1)
                        if role == "student":
                            detail.append((m, exp.split("/")[-1], order.index(exp) + 1, order[0].split("/")[-1]))
                st = np.array(st)
                out[(z, agg)] = detail
                print(f"{label + (' z' if z else ''):<34} {agg:<4}  students@1 {np.sum(st == 1):2d}/20  "
                      f"@3 {np.sum(st <= 3):2d}  mean rank {st.mean():5.2f}  "
                      f"parents@1 {np.sum(np.array(par) == 1):2d}/11  controls' top: {', '.join(ctl)}", flush=True)
        return out

    return evaluate
