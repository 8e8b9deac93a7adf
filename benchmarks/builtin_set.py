"""The shipped reference set on held-out answers (issue 13): accuracy, families, calibration, unknown models.

Usage::

    python benchmarks/builtin_set.py [--data ../shared/data/alpaca_eval_train ../shared/data/alpaca_eval_wide]

Everything is measured on the ``dev`` answers (prompts the built-in fingerprints never saw) of every
built-in model, in one run:

* size on disk and cold load time (a fresh process, best of 3);
* per-text top-1, top-3, family top-1, ECE (15 bins) and the reliability table; risk-coverage
  (accuracy of the texts whose confidence clears a threshold, and their share);
* leave-one-family-out ("none of these"): each family is removed from the set in turn (the other
  fingerprints and the calibration kept) and its models' answers are attributed: the share given
  confidence >= 0.9 (target <= 5 %), and the AUROC of known-vs-unknown per text by confidence and
  by typicality (target >= 0.80) and by the mean confidence of pools of 10 answers of one model (target >= 0.95);
  pools of 10 are also audited with ``fp.audit`` against the set without the family (scored by the
  largest same-model p-value over the references: "could these be one of them?"), for the left-out
  family's models and 12 other models drawn per family (auditing all 81 for each of 29 families
  would take half an hour), 2 pools each;
* "none of these" (``fp.attribute(alpha=)``): the share of texts whose typicality is below alpha
  (0.05, 0.01, 0.001), for the known models' texts against the whole set (at most alpha if
  typicality is a p-value) and, leaving each family out, for its texts and the others';
* the prompted variants (told to be concise or verbose): per-text accuracy of naming the parent;
  the share of 200 random pools of 20 answers whose summed log-likelihoods name it (the target's
  reading: named by more than half); and for one such pool, its summed log-likelihoods,
  ``fp.audit`` of the same 20 answers (its nearest reference), and ``fp.audit`` of the variant's
  answers to the shipped probe prompts, paired with the references' answers; and 100 random pools
  of 20 paired with the 81 models' own answers to the same `dev` prompts (``reference_texts=``; those
  answers are not in the fingerprints): the share whose top candidate is the parent, and whose
  ``consistent_with`` holds it.

Writes ``benchmarks/results/builtin-set.{md,json}``.  ``--only-load`` remeasures the size and cold load
alone and updates them in the existing report (dated), after a change to loading only.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import numpy as np
from sklearn.metrics import roc_auc_score

import fingerprint as fp
from fingerprint import references
from fingerprint.attribution import family_index, family_probabilities
from fingerprint.calibration import expected_calibration_error, softmax_t
from fingerprint.setlevel import ReferenceAnswers

HERE = Path(__file__).resolve().parent
POOLS = 200  # random pools of 20 per prompted variant: a share to +-0.035 (binomial sd at 0.5)
PAIRED_POOLS = 100  # paired audits cost ~0.5 s each: a share to +-0.05
DATA = HERE.parent.parent / "shared" / "data"


def cold_load_seconds() -> float:
    code = "import time; t = time.perf_counter(); from fingerprint import references; references.builtin().lda(); "
    code += "print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(3)]  # fmt: skip
    return min(runs)


def _binned(conf: np.ndarray, ok: np.ndarray, idx: np.ndarray, names: list[str], key: str) -> list[dict]:
    """Texts, mean confidence and accuracy of each non-empty bin (``idx`` a bin number per text)."""
    return [{key: name, "n": int((idx == b).sum()), "confidence": float(conf[idx == b].mean()),
             "accuracy": float(ok[idx == b].mean())} for b, name in enumerate(names) if (idx == b).any()]  # fmt: skip


def reliability(conf: np.ndarray, ok: np.ndarray, bins: int = 15) -> list[dict]:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges) - 1, 0, bins - 1)
    return _binned(conf, ok, idx, [f"{a:.2f}-{b:.2f}" for a, b in itertools.pairwise(edges)], "bin")


#: Answer lengths (characters) of the by-length reliability table: under 100 is a sentence or two,
#: the median ``dev`` answer is ~1,100.
LENGTH_EDGES = (100, 300, 600, 1200, 2500)


def length_reliability(conf: np.ndarray, ok: np.ndarray, n_chars: np.ndarray) -> list[dict]:
    """Mean confidence and accuracy per answer-length bin (calibration conditional on length)."""
    names = [f"< {LENGTH_EDGES[0]:,}"] + [f"{a:,}-{b:,}" for a, b in itertools.pairwise(LENGTH_EDGES)]
    return _binned(conf, ok, np.digitize(n_chars, LENGTH_EDGES), [*names, f">= {LENGTH_EDGES[-1]:,}"], "chars")


def length_table(rows: list[dict]) -> list[str]:
    """Markdown lines of :func:`length_reliability`."""
    out = ["| characters | texts | mean confidence | accuracy | accuracy - confidence |", "|---|---|---|---|---|"]
    return out + [f"| {r['chars']} | {r['n']:,} | {r['confidence']:.3f} | {r['accuracy']:.3f} | "
                  f"{r['accuracy'] - r['confidence']:+.3f} |" for r in rows]  # fmt: skip


#: the ``alpha`` of ``fp.attribute(alpha=)`` whose "none of these" rates the report shows
ALPHAS = (0.05, 0.01, 0.001)


def typicality(refs: fp.ReferenceSet, lda: Any, X: np.ndarray) -> np.ndarray:
    """What ``fp.attribute`` reports as ``typicality``: :meth:`ReferenceSet.typicality` of each text's
    distance to its top model."""
    return refs.typicality(lda.distances(X)[np.arange(len(X)), lda.proba(X).argmax(axis=1)])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", default=[str(DATA / "alpaca_eval_train"), str(DATA / "alpaca_eval_wide")])
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--only-load", action="store_true",
                    help="remeasure the size and cold load alone and update them in the existing report (dated)")
    args = ap.parse_args(argv)
    if args.only_load:
        return rerun_load(Path(args.out))
    warnings.simplefilter("ignore")  # removing families marks the calibration stale: expected here
    t0 = time.perf_counter()
    refs = references.builtin()
    mb, n_files = size_mb()
    R: dict = {"date": dt.date.today().isoformat(), "version": fp.__version__, "models": len(refs),
               "size_mb": mb, "cold_load_s": cold_load_seconds(), "n_files": n_files}  # fmt: skip
    lineage: dict = {}
    rows = {"text": [], "model": [], "prompt_id": []}
    for d in map(Path, args.data):
        lineage.update(json.loads((d / "lineage.json").read_text()))
        dev = fp.load_corpus(d, split="dev")
        rows["text"] += list(dev["text"])
        rows["model"] += list(dev["model"])
        rows["prompt_id"] += list(dev["prompt_id"])
    models = np.array(rows["model"], dtype=object)
    t = time.perf_counter()
    X = refs.space.transform(rows["text"])
    R["featurise_texts_per_s"] = len(X) / (time.perf_counter() - t)
    known = np.isin(models, refs.models)
    lda = refs.lda()
    classes = [str(c) for c in lda.classes]
    y = np.searchsorted(classes, models[known])
    P = lda.proba(X[known])
    names, fam = family_index(refs, classes)
    _, F = family_probabilities(refs, classes, P)
    conf, ok = P.max(axis=1), P.argmax(axis=1) == y
    R["dev_texts"] = int(known.sum())
    R["top1"] = float(ok.mean())
    R["top3"] = float(np.mean([y[i] in np.argsort(-P[i])[:3] for i in range(len(y))]))
    R["family_top1"] = float(np.mean(F.argmax(axis=1) == fam[y]))
    R["families"] = len(names)
    R["ece"] = expected_calibration_error(P, y)
    # the same without the confidence map: what the temperature alone gives (why the map exists)
    P_t = softmax_t(lda.scores(X[known]), lda.temperatures(X[known]))
    R["ece_temperature_only"] = expected_calibration_error(P_t, y)
    R["length_slope"] = refs.length_slope
    n_chars = np.array([len(t) for t, k in zip(rows["text"], known, strict=True) if k])
    R["reliability_by_length"] = length_reliability(conf, ok, n_chars)
    R["max_length_gap"] = max(abs(r["accuracy"] - r["confidence"]) for r in R["reliability_by_length"])
    # the models the space (and its score block) was fitted on: the originals, plus alpaca-7b as the
    # parent of prompted variants; the others are described by their resemblance to these
    original = np.isin(models[known], list(refs.metadata["space_models"]))
    R["top1_originals"], R["top1_others"] = float(ok[original].mean()), float(ok[~original].mean())
    R["n_originals"] = len(np.unique(models[known][original]))
    # the two groups' calibration apart: the space models' own training rows are in sample for the
    # space (spread wider than new texts), the others' are not, and one temperature serves both
    R["calibration_groups"] = [{"group": g, "gap": float(ok[r].mean() - conf[r].mean()),
                                "ece": expected_calibration_error(P[r], y[r])}
                               for g, r in (("originals", original), ("others", ~original))]  # fmt: skip
    R["family_ece"] = expected_calibration_error(F, fam[y])
    R["reliability"] = reliability(conf, ok)
    R["risk_coverage"] = [{"threshold": th, "coverage": float(np.mean(conf >= th)),
                           "accuracy": float(ok[conf >= th].mean()) if (conf >= th).any() else None}
                          for th in (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)]  # fmt: skip

    # "none of these" (attribute(alpha=)): a text is atypical when its distance to its top model lies
    # beyond all but a share alpha of the calibration's own-model distances; on known models' texts
    # the share flagged should be at most alpha
    R["typicality_known"] = {str(a): float(np.mean(typicality(refs, lda, X[known]) < a)) for a in ALPHAS}

    # leave one family out: its answers are "unknown"; every other family's are "known"
    rng = np.random.default_rng(0)
    high, auroc_text, auroc_pool, auroc_audit, audits = [], [], [], [], []
    auroc_typ, flagged = [], {a: ([], []) for a in ALPHAS}  # per alpha: (unknown, known) shares
    X_known, models_known = X[known], models[known]
    texts_known = [t for t, k in zip(rows["text"], known, strict=True) if k]
    rows_of = {m: np.flatnonzero(models_known == m) for m in np.unique(models_known)}
    for f_name in names:
        gone = [m for m, i in zip(classes, fam, strict=True) if names[i] == f_name]
        sub = references.builtin()  # the shipped set without the family (its exact scatter sum, less theirs)
        for m in gone:
            sub.remove(m)
        conf_all = sub.lda().proba(X_known).max(axis=1)
        unknown = np.isin(models_known, gone)
        high.append(float(np.mean(conf_all[unknown] >= 0.9)))
        auroc_text.append(roc_auc_score(~unknown, conf_all))
        typ = typicality(sub, sub.lda(), X_known)
        auroc_typ.append(roc_auc_score(~unknown, typ))
        for a in ALPHAS:
            flagged[a][0].append(float(np.mean(typ[unknown] < a)))
            flagged[a][1].append(float(np.mean(typ[~unknown] < a)))
        pools, labels = [], []
        for m, idx in rows_of.items():
            for _ in range(5):
                pools.append(conf_all[rng.choice(idx, min(10, len(idx)), replace=False)].mean())
                labels.append(m not in gone)
        auroc_pool.append(roc_auc_score(labels, pools))
        others = [m for m in classes if m not in gone]
        scores, labels = [], []
        for m in gone + [str(x) for x in rng.choice(others, min(12, len(others)), replace=False)]:
            for _ in range(2):
                pick = rng.choice(rows_of[m], min(10, len(rows_of[m])), replace=False)
                rep = fp.audit([texts_known[i] for i in pick], references=sub, top_features=0)
                scores.append(max(c.same_model_p for c in rep.candidates))
                labels.append(m not in gone)
                audits.append({"family": f_name, "model": m, "known": m not in gone, "relation": rep.relation,
                               "verdict": rep.verdict, "consistent_with": list(rep.consistent_with)})  # fmt: skip
        auroc_audit.append(roc_auc_score(labels, scores))
    unknown_pools = [a for a in audits if not a["known"]]
    known_pools = [a for a in audits if a["known"]]
    wrong_is = [a for a in known_pools if a["relation"] == "is" and a["verdict"] != a["model"]]
    R["lofo"] = {"families": len(names), "unknown_confident_share": float(np.mean(high)),
                 "auroc_text": float(np.mean(auroc_text)), "auroc_pool10": float(np.mean(auroc_pool)),
                 "auroc_text_typicality": float(np.mean(auroc_typ)),
                 "flagged": {str(a): {"unknown": float(np.mean(u)), "known": float(np.mean(k))}
                             for a, (u, k) in flagged.items()},
                 "auroc_pool10_audit": float(np.mean(auroc_audit)), "audited_pools": len(audits),
                 "audit_unknown_is": float(np.mean([a["relation"] == "is" for a in unknown_pools])),
                 "audit_known_is_right": float(np.mean([a["relation"] == "is" and a["verdict"] == a["model"]
                                                        for a in known_pools])),
                 "audit_known_is_wrong": len(wrong_is) / len(known_pools),
                 # of those wrong "is" verdicts, how many list the true model in consistent_with
                 "audit_known_is_wrong_n": len(wrong_is),
                 "audit_known_is_wrong_covered": sum(a["model"] in a["consistent_with"] for a in wrong_is)}  # fmt: skip

    # prompted variants: attributed to their parent?
    prompted = {m: v["parent"] for m, v in lineage.items() if v.get("role") == "prompted" and v["parent"] in classes}
    R["prompted"] = []
    probe = set(references.probe_prompts()["prompt_id"])
    # the known models' own answers to the `dev` prompts (never in the fingerprints, built on `train`
    # prompts), featurised once: a pool paired with them is what a user gets who has the references'
    # answers to the prompts the audited model answered (reference_texts=)
    answers = ReferenceAnswers(refs, {k: [v for v, keep in zip(col, known, strict=True) if keep]
                                      for k, col in rows.items()})  # fmt: skip
    rng_paired = np.random.default_rng(4)  # its own stream: the other draws stay as they were
    for m, parent in sorted(prompted.items()):
        idx = np.flatnonzero(models == m)
        Pm = lda.proba(X[idx])
        # pooled as fp.audit's posterior ranks (summed log-likelihoods: benchmarks/explore/robustness/
        # pool_rule.log). One pool decides little (a variant named in half its pools flips between
        # runs): the share of POOLS random pools of 20 naming the parent, and one pool as before
        logp = lda.scores(X[idx])
        shares = [classes[int(logp[rng.choice(len(idx), min(20, len(idx)), replace=False)].sum(axis=0).argmax())]
                  for _ in range(POOLS)]  # fmt: skip
        pick = rng.choice(len(idx), min(20, len(idx)), replace=False)
        pooled = classes[int(logp[pick].sum(axis=0).argmax())]
        per_text = float(np.mean(Pm.argmax(axis=1) == classes.index(parent)))
        unpaired = fp.audit([rows["text"][idx[i]] for i in pick], references=refs, top_features=0)
        on_probe = [i for i in idx if rows["prompt_id"][i] in probe]
        paired = fp.audit([rows["text"][i] for i in on_probe], references=refs, top_features=0,
                          groups=[rows["prompt_id"][i] for i in on_probe]) if len(on_probe) >= 2 else None  # fmt: skip
        paired_top, paired_alike = [], []
        for _ in range(PAIRED_POOLS):
            sub_idx = rng_paired.choice(idx, min(20, len(idx)), replace=False)
            rep = fp.audit([rows["text"][i] for i in sub_idx], references=refs, top_features=0,
                           groups=[rows["prompt_id"][i] for i in sub_idx], reference_texts=answers)  # fmt: skip
            paired_top.append(rep.nearest.model)
            paired_alike.append(parent in rep.consistent_with)
        R["prompted"].append({"model": m, "parent": parent, "per_text": per_text, "pooled_20": pooled,
                              "paired_20_share": float(np.mean([c == parent for c in paired_top])),
                              "paired_20_mode": " / ".join(_most_common(paired_top)),
                              "paired_20_consistent": float(np.mean(paired_alike)),
                              "pooled_20_share": float(np.mean([c == parent for c in shares])),
                              "pooled_20_mode": " / ".join(_most_common(shares)),
                              "pooled_right": pooled == parent, "audit_20": unpaired.nearest.model,
                              "audit_20_relation": unpaired.relation,
                              "audit_20_consistent": list(unpaired.consistent_with),
                              "audit_probe_consistent": list(paired.consistent_with) if paired else [],
                              "audit_probe": paired.nearest.model if paired else None,
                              "audit_probe_relation": paired.relation if paired else "not run",
                              "probe_answers": len(on_probe)})  # fmt: skip
    R["seconds"] = time.perf_counter() - t0
    out = Path(args.out)
    (out / "builtin-set.json").write_text(json.dumps(R, indent=2))
    (out / "builtin-set.md").write_text(markdown(R))
    print(markdown(R))
    return R


def _most_common(names: list[str]) -> list[str]:
    """Every most frequent name, sorted (max over a set broke ties by hash order, which varies by run)."""
    counts = collections.Counter(names)
    top = max(counts.values())
    return sorted(c for c, n in counts.items() if n == top)


def size_mb() -> tuple[float, int]:
    files = [f for f in references.builtin_dir().rglob("*") if f.is_file() and f.suffix == ".npz"]
    return sum(f.stat().st_size for f in files) / 1e6, len(files)


def rerun_load(out: Path) -> dict:
    """Remeasure size and cold load; the rest of the stored report is kept as it was measured."""
    R = json.loads((out / "builtin-set.json").read_text())
    R["size_mb"], R["n_files"] = size_mb()
    R["cold_load_s"] = cold_load_seconds()
    R["load_rerun"] = dt.date.today().isoformat()
    (out / "builtin-set.json").write_text(json.dumps(R, indent=2))
    (out / "builtin-set.md").write_text(markdown(R))
    print(markdown(R))
    return R


def markdown(R: dict) -> str:
    L = R["lofo"]
    yes = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    lines = [
        f"# The shipped reference set on held-out answers (issue 13)\n\n{R['date']}, fingerprint {R['version']}, "
        f"{R['seconds']:.0f} s. Protocol: `benchmarks/builtin_set.py` docstring.\n",
        *([f"Size and cold load remeasured alone on {R['load_rerun']} (`--only-load`); the rest as of "
           f"{R['date']}.\n"] if "load_rerun" in R else []),
        "| measure | value | target |", "|---|---|---|",
        f"| models / families | {R['models']} / {R['families']} | >= 80 models |",
        f"| size on disk | {R['size_mb']:.1f} MB | <= 40 MB ({yes(R['size_mb'] <= 40)}) |",
        f"| cold load (fresh process, best of 3) | {R['cold_load_s']:.2f} s | <= 2 s "
        f"({yes(R['cold_load_s'] <= 2)}) |",
        f"| dev texts | {R['dev_texts']:,} | |",
        f"| per-text top-1 / top-3 | {R['top1']:.3f} / {R['top3']:.3f} | |",
        f"| per-text top-1: the {R['n_originals']} models the space was fitted on / the other "
        f"{R['models'] - R['n_originals']} (students, controls, derivatives) | "
        f"{R['top1_originals']:.3f} / {R['top1_others']:.3f} | |",
        f"| family top-1 | {R['family_top1']:.3f} | |",
        f"| ECE (15 bins), models / families | {R['ece']:.3f} / {R['family_ece']:.3f} | <= 0.03 "
        f"({yes(R['ece'] <= 0.03)}) |",
        f"| ECE with the temperature alone (no confidence map) | {R['ece_temperature_only']:.3f} | |",
        "| ECE (accuracy - confidence): the {} space models / the other {} | {} | |".format(
            R["n_originals"], R["models"] - R["n_originals"],
            " / ".join(f"{g['ece']:.3f} ({g['gap']:+.3f})" for g in R["calibration_groups"])),
        f"| largest accuracy - confidence gap over answer lengths (table below; temperature slope "
        f"{R['length_slope']:+.3f}) | {R['max_length_gap']:.3f} | |",
        f"| left-out family answered with confidence >= 0.9 | {L['unknown_confident_share']:.1%} | <= 5 % "
        f"({yes(L['unknown_confident_share'] <= 0.05)}) |",
        f"| AUROC known vs unknown, per text | {L['auroc_text']:.3f} | >= 0.80 ({yes(L['auroc_text'] >= 0.8)}) |",
        f"| AUROC known vs unknown, per text, by typicality | {L['auroc_text_typicality']:.3f} | >= 0.80 "
        f"({yes(L['auroc_text_typicality'] >= 0.8)}) |",
        f"| AUROC known vs unknown, pools of 10, by mean confidence | {L['auroc_pool10']:.3f} | >= 0.95 "
        f"({yes(L['auroc_pool10'] >= 0.95)}) |",
        f"| AUROC known vs unknown, pools of 10, by `fp.audit` (largest same-model p) | "
        f"{L['auroc_pool10_audit']:.3f} | >= 0.95 ({yes(L['auroc_pool10_audit'] >= 0.95)}) |",
        f"| `fp.audit` of a left-out model's 10 answers says `is` some reference | {L['audit_unknown_is']:.1%} | |",
        f"| `fp.audit` of a known model's 10 answers says `is` that model | {L['audit_known_is_right']:.1%} | |",
        f"| ... says `is` another model (its `consistent_with` holding the true one in "
        f"{L['audit_known_is_wrong_covered']} of these {L['audit_known_is_wrong_n']}) | "
        f"{L['audit_known_is_wrong']:.1%} | |",
        f"| featurisation | {R['featurise_texts_per_s']:.0f} texts/s | |",
        "", "Risk-coverage (texts whose confidence clears the threshold):", "",
        "| threshold | coverage | accuracy |", "|---|---|---|",
    ]  # fmt: skip
    lines += [f"| {r['threshold']} | {r['coverage']:.1%} | {r['accuracy']:.3f} |" if r["accuracy"] is not None
              else f"| {r['threshold']} | 0 % | – |" for r in R["risk_coverage"]]  # fmt: skip
    lines += ["", "\"None of these\" (`fp.attribute(alpha=)`): share of texts abstained on, typicality below alpha "
              "(known models: the shipped set, `dev` answers; left-out family: mean over families, as above):", "",
              "| alpha | known models' texts (should be <= alpha) | left-out family's texts | the other families' "
              "texts, same sets |", "|---|---|---|---|"]
    lines += [f"| {a} | {R['typicality_known'][a]:.2%} | {f['unknown']:.2%} | {f['known']:.2%} |"
              for a, f in L["flagged"].items()]  # fmt: skip
    lines += ["", "Reliability (15 bins):", "", "| bin | texts | mean confidence | accuracy |", "|---|---|---|---|"]
    lines += [f"| {b['bin']} | {b['n']} | {b['confidence']:.3f} | {b['accuracy']:.3f} |" for b in R["reliability"]]
    lines += ["", "Reliability by answer length (a text's temperature depends on its length; "
              "`fingerprint.calibration.fit_length_temperature`):", "", *length_table(R["reliability_by_length"])]
    lines += ["", "Prompted variants (told to be concise or verbose), attributed to their parent:", "",
              f"| variant | parent | per-text accuracy | pools of 20 naming the parent, summed log-likelihoods "
              f"(of {POOLS}; most named) | one pool of 20, summed log-likelihoods | the same pool, "
              "`fp.audit` (nearest, relation) | probe-prompt answers, paired `fp.audit` | pools of 20 paired with "
              f"the references' answers to the same `dev` prompts: parent on top (of {PAIRED_POOLS}; most on top; "
              "parent in `consistent_with`) |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    mark = lambda m, p: f"{m} ({'right' if m == p['parent'] else 'wrong'})"  # noqa: E731

    def also(p: dict, key: str) -> str:
        """An "is" that names another model yet cannot tell it from the parent (consistent_with, only of an "is")."""
        alike = p.get(f"{key}_consistent", [])
        hidden = p[key] != p["parent"] and p["parent"] in alike
        return f"; parent not told apart ({len(alike)} consistent)" if hidden else ""

    lines += [f"| {p['model']} | {p['parent']} | {p['per_text']:.3f} | {p['pooled_20_share']:.2f} "
              f"({p['pooled_20_mode']}) | {mark(p['pooled_20'], p)} | "
              f"{mark(p['audit_20'], p)}, {p['audit_20_relation']}{also(p, 'audit_20')} | {mark(p['audit_probe'], p)}, "
              f"{p['audit_probe_relation']}{also(p, 'audit_probe')} ({p['probe_answers']} answers) | "
              f"{p['paired_20_share']:.2f} ({p['paired_20_mode']}; {p['paired_20_consistent']:.2f}) |"
              for p in R["prompted"]]  # fmt: skip
    right = [sum(p[k] == p["parent"] for p in R["prompted"]) for k in ("pooled_20", "audit_20", "audit_probe")]
    most = sum(p["pooled_20_share"] > 0.5 for p in R["prompted"])
    paired = sum(p["paired_20_share"] > 0.5 for p in R["prompted"])
    lines += ["", f"Parent named by more than half of the pools of 20: {most}/{len(R['prompted'])} unpaired, "
              f"{paired}/{len(R['prompted'])} paired with the references' answers to the same prompts; by the one "
              f"pool: {right[0]} (summed log-likelihoods), {right[1]} (`fp.audit`), {right[2]} (paired "
              f"`fp.audit`, probe prompts); target: all. \"parent not told apart\": the audit's `is` names "
              "another model and lists the parent among the references the texts are as consistent with."]  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
