"""The reference set shipped with the package, and the script that builds it.

The built-in set holds one fingerprint per model of the shared corpora
``alpaca_eval_train`` and ``alpaca_eval_wide`` (81 models: every original model, student,
human-data control and derivative; prompted variants belong to their parent), fitted on their
``train`` prompts, with each model's lineage (family, role, teacher, base model, parent) as
metadata.  Its feature space, the package's default space (:meth:`FeatureSpace.default`), was
fitted on the 44 original models' answers, so any ``Fingerprint.from_texts(texts, model=...)``
can join it as the students did.

Rebuild it (16.5 to 25 minutes on 2 cores, about 10 GB of memory), and the shipped sample corpus::

    python -m fingerprint.references build --data ../shared/data/alpaca_eval_train \\
        ../shared/data/alpaca_eval_wide --out fingerprint/data/builtin_references
    python -m fingerprint.references sample --data ../shared/data/alpaca_eval_train \\
        ../shared/data/alpaca_eval_wide --out fingerprint/data/sample.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fingerprint.refset import ReferenceSet, builtin_dir, builtin_sample_path
from fingerprint.validation import UNSET, renamed, user_path

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["build", "build_sample", "builtin", "builtin_dir", "info", "list_models", "load_sample", "probe_prompts"]

#: Cross-fitting folds of the built-in set's recipe (:func:`build`: its space's score block and its
#: calibration).  The shipped set was built with 5, before the library's default became 4 (faster on
#: 2-4 cores, same accuracy); the recipe keeps 5 so that rebuilding reproduces the shipped set.
BUILT_IN_FOLDS = 5
_LINEAGE_KEYS = ("family", "role", "teacher", "teacher_line", "base_model", "parent", "line", "confidence")
LICENCE_NOTE = (
    "Fingerprints are statistics of model outputs from tatsu-lab/alpaca_eval (Apache-2.0 repository); "
    "the texts themselves remain under their providers' terms and are not shipped. For research and "
    "evaluation of attribution methods."
)


def builtin() -> ReferenceSet:
    """The built-in reference set (a fresh copy: add or remove models freely).

    Returns
    -------
    ReferenceSet

    Raises
    ------
    FileNotFoundError
        When this installation ships none.

    Examples
    --------
    >>> from fingerprint import references
    >>> refs = references.builtin()
    >>> len(refs) >= 2
    True
    """
    return ReferenceSet.default()


def list_models() -> list[str]:
    """Names of the models in the built-in reference set.

    Examples
    --------
    >>> from fingerprint import references
    >>> "gpt-4-0314" in references.list_models()
    True
    """
    return ReferenceSet.default().models


def info() -> pd.DataFrame:
    """One row per built-in model: texts used and lineage metadata (family, role, teacher ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``n_texts`` and the lineage keys present (``family``, ``role``,
        ``teacher``, ``teacher_line``, ``base_model``, ``confidence``, ``line``, ``parent``).

    Examples
    --------
    >>> from fingerprint import references
    >>> df = references.info()
    >>> df.loc[df["model"] == "alpaca-7b", ["role", "teacher"]].values.tolist()
    [['student', 'text-davinci-003']]
    """
    return ReferenceSet.default().to_frame()


def build(
    data: str | os.PathLike[str] | list[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    split: str = "train",
    precision: str = "int8",
    space_roles: tuple[str, ...] = ("teacher", "base"),
    n_jobs: int | None = -1,
) -> ReferenceSet:
    """Build a reference set from corpus directories laid out like ``alpaca_eval_train``.

    The feature space (and its supervised score block) is fitted on the answers of the *original*
    models (lineage ``role`` in ``space_roles``, plus the parent of each prompted variant); every
    other model (students, controls, derivatives) is fingerprinted in that space without taking
    part in fitting it, as any model a user adds later would be.  Prompted variants (role
    ``prompted``) belong to their parent and are left out.  Without a ``lineage.json`` every model
    is an original.  All fingerprints are then calibrated together by cross-fitting, grouped by prompt.

    Parameters
    ----------
    data : path-like or list of path-like
        Directories with one JSONL file per model, ``prompts.jsonl`` and optionally ``lineage.json``
        (per-model metadata) and ``manifest.json`` (sources).
    out : path-like
        Output directory (saved all or nothing).
    split : {"train", "dev"} or "all", default="train"
        Prompts to fingerprint; ``train`` keeps ``dev`` free for evaluation.
    precision : {"int8", "float16", "float32", "float64"}, default="int8"
        Storage precision of the scatter matrices (:meth:`Fingerprint.save`).
    space_roles : tuple of str, default=("teacher", "base")
        Lineage roles whose answers fit the feature space.
    n_jobs : int, default=-1
        Worker processes for the space's score block.

    Returns
    -------
    ReferenceSet

    Examples
    --------
    Needs the shared corpora (16.5 to 25 minutes on 2 cores)::

        from fingerprint import references
        references.build(["../shared/data/alpaca_eval_train", "../shared/data/alpaca_eval_wide"], "my_refs/")
    """
    from fingerprint.building import resolve_space

    corpus = load_corpora(data, split=split, space_roles=space_roles)
    in_space = np.isin(np.asarray(corpus["model"], dtype=object), corpus["space_models"])
    a, b = np.flatnonzero(in_space).tolist(), np.flatnonzero(~in_space).tolist()
    pick = lambda rows, col: [corpus[col][i] for i in rows]  # noqa: E731
    space, X_a = resolve_space("fit", pick(a, "text"), np.asarray(pick(a, "model"), dtype=object),
                               pick(a, "prompt_id"), n_jobs=n_jobs, n_folds=BUILT_IN_FOLDS)  # fmt: skip
    X_b = space.transform(pick(b, "text")) if b else np.zeros((0, X_a.shape[1]))
    refs = assemble(corpus, space, np.concatenate([X_a, X_b]), a + b)
    refs.save(out, precision=precision)
    return refs


def load_corpora(
    data: str | os.PathLike[str] | list[str | os.PathLike[str]], *, split: str = "train",
    space_roles: tuple[str, ...] = ("teacher", "base"),
) -> dict[str, Any]:
    """The rows :func:`build` fingerprints: ``text``, ``model``, ``prompt_id`` lists, plus ``lineage``,
    ``sources``, ``corpora`` and ``space_models`` (the models whose answers fit the space)."""
    from fingerprint.corpus import load_corpus

    dirs = _corpus_dirs(data)
    out: dict[str, Any] = {"text": [], "model": [], "prompt_id": [], "lineage": _read_json(dirs, "lineage.json"),
                           "corpora": [d.name for d in dirs], "split": split}  # fmt: skip
    out["sources"] = {k: v for d in dirs for k, v in _read_json([d], "manifest.json").get("sources", {}).items()}
    for d in dirs:
        corpus = load_corpus(d, split=None if split == "all" else split)
        for col in ("text", "model", "prompt_id"):
            out[col] += list(corpus[col])
    lineage = out["lineage"]
    prompted = {m for m, v in lineage.items() if v.get("role") == "prompted"}
    keep = [i for i, m in enumerate(out["model"]) if m not in prompted]
    for col in ("text", "model", "prompt_id"):
        out[col] = [out[col][i] for i in keep]
    models = set(out["model"])
    originals = {m for m in models if lineage.get(m, {}).get("role", "teacher") in space_roles}
    parents = {v["parent"] for v in lineage.values() if v.get("role") == "prompted" and v.get("parent") in models}
    out["space_models"] = sorted(originals | parents) if lineage else sorted(models)
    return out


def _corpus_dirs(data: Any) -> list[Path]:
    return [user_path(data)] if isinstance(data, str | os.PathLike) else [user_path(d) for d in data]


def _read_json(dirs: list[Path], name: str) -> dict[str, Any]:
    """The JSON object ``name`` of each directory that has one, merged in order."""
    out: dict[str, Any] = {}
    for d in dirs:
        if (d / name).is_file():
            out.update(json.loads((d / name).read_text()))
    return out


def assemble(corpus: dict[str, Any], space: Any, X: Any, rows: list[int]) -> ReferenceSet:
    """Fingerprints of every model of ``corpus`` from features ``X`` (row ``i`` is corpus row ``rows[i]``),
    calibrated together by cross-fitting grouped by prompt, with lineage metadata."""
    from fingerprint import __version__
    from fingerprint.building import fit_references

    y = np.asarray([corpus["model"][i] for i in rows], dtype=object)
    groups = np.asarray([corpus["prompt_id"][i] for i in rows], dtype=object)
    present = set(y.tolist())  # the lineage also lists the prompted variants, which are left out
    meta = {m: {k: v[k] for k in _LINEAGE_KEYS if v.get(k) is not None}
            for m, v in corpus["lineage"].items() if m in present}  # fmt: skip
    refs = fit_references(np.asarray(X), y, space, calibrate=True, groups=groups, n_folds=BUILT_IN_FOLDS,
                          shrinkage=0.3, metadata=meta, random_state=0, groups_source="given")  # fmt: skip
    refs.metadata.update(
        {
            "corpus": " + ".join(corpus["corpora"]),
            "split": corpus["split"],
            "space_models": corpus["space_models"],
            "sources": corpus["sources"],
            "licence_note": LICENCE_NOTE,
            "built_with": f"fingerprint {__version__}",
            "built_on": dt.date.today().isoformat(),
            "n_texts": len(rows),
        }
    )
    return refs


def load_sample() -> Any:
    """The small sample corpus shipped with the package (``dev``-prompt answers of every built-in model).

    Returns
    -------
    datasets.Dataset
        Columns ``text``, ``model``, ``prompt_id``, ``prompt``, ``source``; see ``SAMPLE.md`` beside it
        for origin and terms.

    Examples
    --------
    >>> from fingerprint import references
    >>> sample = references.load_sample()
    >>> len(sample), len(set(sample["model"])), len(set(sample["prompt_id"]))
    (1620, 81, 20)
    """
    from fingerprint.corpus import load_corpus

    return load_corpus(builtin_sample_path())


def probe_prompts() -> dict[str, list[str]]:
    """The probe prompts: the shipped sample's prompts, which every built-in reference model answered.

    Answer them with the model to audit and pass the prompt ids as ``groups=`` to
    :func:`fingerprint.audit` (or keep a ``prompt_id`` column for ``fingerprint audit``): the answers are
    then compared with the references' answers to the same prompts (paired mode), which needs no
    ``reference_texts=`` with the built-in references.

    Returns
    -------
    dict
        ``{"prompt_id": [...], "prompt": [...]}``, sorted by prompt id.

    Examples
    --------
    >>> from fingerprint import references
    >>> probes = references.probe_prompts()
    >>> len(probes["prompt_id"]), sorted(probes)
    (20, ['prompt', 'prompt_id'])

    Auditing a model on its answers to them (here alpaca-7b's, from the sample itself; a real audit
    uses answers the model writes now, and would leave alpaca-7b out of the references):

    >>> import fingerprint as fp
    >>> sample = references.load_sample()
    >>> answers = sample.filter(lambda r: r["model"] == "alpaca-7b")
    >>> report = fp.audit(answers["text"], groups=answers["prompt_id"], n_bootstrap=50)
    >>> report.paired, report.nearest.model
    (True, 'alpaca-7b')
    """
    sample = load_sample()
    prompts = dict(zip(sample["prompt_id"], sample["prompt"], strict=True))
    ids = sorted(prompts)
    return {"prompt_id": ids, "prompt": [prompts[i] for i in ids]}


def build_sample(
    data: str | os.PathLike[str] | list[str | os.PathLike[str]], out: str | os.PathLike[str], *, n_prompts: int = 20,
    random_state: int = 0,
    seed: Any = UNSET,
) -> int:
    """Write ``n_prompts`` random ``dev`` prompts answered by every model of ``data`` as one JSONL file.

    Only ``dev`` prompts are taken, so the sample never overlaps what the built-in fingerprints saw.

    Parameters
    ----------
    data : path-like or list of path-like
        Corpus directories, as for :func:`build` (prompted variants left out).
    out : path-like
        JSONL file to write (atomically).
    n_prompts : int, default=20
        Prompts to draw among those every model answered.
    random_state : int, default=0
    seed : int
        Deprecated name of ``random_state``.

    Returns
    -------
    int
        The number of rows written.

    Examples
    --------
    Needs the shared corpus::

        from fingerprint import references
        references.build_sample("../shared/data/alpaca_eval_train", "sample.jsonl", n_prompts=20)
    """
    import numpy as np

    from fingerprint.corpus import load_corpus
    from fingerprint.io import atomic_write_bytes

    dirs = _corpus_dirs(data)
    prompted = {m for m, v in _read_json(dirs, "lineage.json").items() if v.get("role") == "prompted"}
    import datasets

    keep = ("text", "model", "prompt_id", "prompt", "source")
    dev = datasets.concatenate_datasets([load_corpus(d, split="dev").select_columns(list(keep)) for d in dirs])
    dev = dev.filter(lambda r: r["model"] not in prompted)  # prompted variants are not built-in references
    models = sorted(set(dev["model"]))
    by_prompt: dict[str, set[str]] = {}
    for m, p in zip(dev["model"], dev["prompt_id"], strict=True):
        by_prompt.setdefault(p, set()).add(m)
    complete = sorted(p for p, ms in by_prompt.items() if len(ms) == len(models))
    random_state = renamed(random_state, seed, new="random_state", old="seed", owner="build_sample()", default=0)
    chosen = set(np.random.default_rng(random_state).choice(complete, n_prompts, replace=False))
    rows = [{k: r[k] for k in keep} for r in dev if r["prompt_id"] in chosen]
    atomic_write_bytes(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m fingerprint.references build|list``."""
    for k, v in {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0"}.items():
        os.environ.setdefault(k, v)
    ap = argparse.ArgumentParser(prog="python -m fingerprint.references")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build a reference set from a corpus directory")
    b.add_argument("--data", required=True, nargs="+", help="corpus directories (lineage.json, one JSONL per model)")
    b.add_argument("--out", default=str(builtin_dir()), help="output directory")
    b.add_argument("--split", default="train", choices=["train", "dev", "all"], help="prompts to fingerprint")
    sub.add_parser("list", help="show the built-in reference set")
    sm = sub.add_parser("sample", help="write the shipped sample corpus (dev prompts only)")
    sm.add_argument("--data", required=True, nargs="+", help="corpus directories")
    sm.add_argument("--out", default=str(builtin_sample_path()), help="JSONL file to write")
    sm.add_argument("--n-prompts", type=int, default=20, help="dev prompts every model answered")
    a = ap.parse_args(argv)
    if a.cmd == "build":
        print(build(a.data, a.out, split=a.split))
    elif a.cmd == "sample":
        print(f"{build_sample(a.data, a.out, n_prompts=a.n_prompts)} rows written to {a.out}")
    else:
        print(ReferenceSet.default())
        print(info().to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
