"""Helpers shared by the robustness exploration scripts (issue 13).

Run the scripts from the project root as ``python benchmarks/explore/robustness/X.py``; Python puts
the script's own folder first on ``sys.path``, so ``from common import ...`` needs no ``PYTHONPATH``.
"""

from pathlib import Path

import numpy as np

import fingerprint as fp

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CORPORA = ("alpaca_eval_train", "alpaca_eval_wide")


def dev_answers(models: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """The `dev` answers of both corpora, as (texts, model names); only those of ``models`` if given."""
    texts, names = [], []
    for c in CORPORA:
        dev = fp.load_corpus(DATA / c, split="dev")
        texts += list(dev["text"])
        names += list(dev["model"])
    names = np.array(names, dtype=object)
    if models is None:
        return texts, names
    keep = np.isin(names, list(models))
    return [t for t, k in zip(texts, keep) if k], names[keep]


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
