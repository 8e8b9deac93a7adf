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
