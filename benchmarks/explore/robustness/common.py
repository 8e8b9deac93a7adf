"""Helpers shared by the robustness exploration scripts (issue 13).

Run the scripts from the project root as ``python benchmarks/explore/robustness/X.py``; Python puts
the script's own folder first on ``sys.path``, so ``from common import ...`` needs no ``PYTHONPATH``.
"""

import json
from pathlib import Path

import numpy as np

import fingerprint as fp

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CORPORA = ("alpaca_eval_train", "alpaca_eval_wide")


def dev_answers(models: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """The `dev` answers of both corpora, as (texts, model names); only those of ``models`` if given."""
    dev = dev_columns()
    texts, names = dev["text"], np.array(dev["model"], dtype=object)
    if models is None:
        return texts, names
    keep = np.isin(names, list(models))
    return [t for t, k in zip(texts, keep) if k], names[keep]


def dev_columns() -> dict[str, list]:
    """The `dev` answers of both corpora as columns ``text``, ``model``, ``prompt_id`` (corpus order)."""
    out: dict[str, list] = {"text": [], "model": [], "prompt_id": []}
    for c in CORPORA:
        d = fp.load_corpus(DATA / c, split="dev")
        for k in out:
            out[k] += list(d[k])
    return out


def lineage() -> dict[str, dict]:
    """Both corpora's ``lineage.json``, merged."""
    out: dict[str, dict] = {}
    for c in CORPORA:
        out.update(json.loads((DATA / c / "lineage.json").read_text()))
    return out


def families_left_out():
    """Per family of the built-in set: (family, its models, the built-in set without them)."""
    from fingerprint import references
    from fingerprint.attribution import family_index

    refs = references.builtin()
    names, fam = family_index(refs, refs.models)
    for f_name in names:
        gone = [m for m, i in zip(refs.models, fam) if names[i] == f_name]
        sub = references.builtin()
        for m in gone:
            sub.remove(m)
        yield f_name, gone, sub
