"""Reference sets and attributions from Dask DataFrames: millions of outputs, the result of one machine.

Fingerprints are sufficient statistics that merge exactly, so a build is a map-reduce: each
partition becomes per-model statistics (:class:`~fingerprint.building.FoldedStatistics`), merged
in a tree.  The feature space is fitted once, beforehand (or the shipped one is used), and sent
once to each worker.

Needs the ``dask`` extra (``pip install ".[dask]"`` in a checkout of this project: ``dask[dataframe]``
and ``distributed``); importing this module imports Dask, importing :mod:`fingerprint` does not.

Examples
--------
On a local cluster (the same code runs on any cluster: ``Client("tcp://scheduler:8786")``)::

    import dask.dataframe as dd
    from distributed import Client, LocalCluster
    import fingerprint.dask as fpd

    if __name__ == "__main__":  # in a script: the local cluster's workers re-import it (not needed in a notebook)
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
        outputs = dd.read_parquet("outputs/")              # columns: text, model, prompt_id
        refs = fpd.build_references(outputs, space="default", groups="prompt_id")
        refs.save("my-references")
        labels = fpd.attribute(dd.read_parquet("unknown/"), references=refs).compute()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

try:
    import dask
    import dask.dataframe as dd
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'fingerprint.dask needs Dask: pip install "dask[dataframe]" distributed (or, in a checkout of this '
        'project, pip install ".[dask]")'
    ) from e

from fingerprint.attribution import FRAME_COLUMNS, check_alpha, resolve_references
from fingerprint.attribution import attribute as _attribute_local
from fingerprint.building import (
    MAX_CALIBRATION_TEXTS,
    FoldedStatistics,
    batch_statistics,
    finish_statistics,
    fixed_space,
)
from fingerprint.features.space import FeatureSpace
from fingerprint.refset import ReferenceSet
from fingerprint.validation import UNSET, check_bool, check_float, check_int, check_model_metadata, renamed

__all__ = ["attribute", "build_references"]

#: The dtype of a text column: pandas 3's "str" (a missing value is NaN), or object before it, where
#: ``astype("str")`` turned an abstention's ``None`` into the string ``'None'``.
_TEXT_DTYPE = "str" if int(pd.__version__.split(".")[0]) >= 3 else "object"
#: Columns of :func:`attribute`'s result (those of ``Attributions.to_frame()`` that need no text).
RESULT_COLUMNS = {c: _TEXT_DTYPE if t == "object" else t for c, t in FRAME_COLUMNS.items()
                  if c not in ("top_feature", "text_preview")}  # fmt: skip


def _partition_statistics(
    df: pd.DataFrame, space: FeatureSpace | str, text: str, model: str, group: str | None, n_folds: int,
    random_state: int, calibrate: bool, max_calibration: int,
) -> FoldedStatistics:  # fmt: skip
    space = fixed_space(space)  # "default": each worker loads the shipped space from its own installation
    if not len(df):
        return FoldedStatistics(space.space_id_, max_calibration=max_calibration)
    return batch_statistics(
        df[text], df[model], df[group] if group is not None else None, space, calibrate=calibrate, n_folds=n_folds,
        random_state=random_state, max_calibration=max_calibration,
    )  # fmt: skip


def _merge(*parts: FoldedStatistics) -> FoldedStatistics:
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p)
    return out


def build_references(
    ddf: dd.DataFrame,
    space: FeatureSpace | str = "default",
    text_column: str = "text",
    model_column: str = "model",
    groups: str | None = None,
    *,
    calibrate: bool = True,
    n_folds: int = 4,
    shrinkage: float = 0.3,
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    random_state: int = 0,
    max_calibration_texts: int = MAX_CALIBRATION_TEXTS,
    split_every: int = 8,
    text: Any = UNSET,
    model: Any = UNSET,
    group: Any = UNSET,
) -> ReferenceSet:
    """:func:`fingerprint.build_references` on a Dask DataFrame, partition by partition.

    Each partition is featurised where it lives and summarised into per-model statistics; these
    merge in a tree (``split_every`` at a time) into the reference set.  For the same texts and
    space the result equals ``fingerprint.build_references(texts, models, space=space,
    groups=<the group column>)`` up to float rounding, with up to ``max_calibration_texts``
    texts (beyond that, calibration uses the texts with the smallest text hashes, so memory does
    not grow with the data).

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One row per output, with a text and a model column (and optionally a group column).
    space : FeatureSpace or "default", default="default"
        A fitted space (e.g. ``FeatureSpace().fit(sample_texts, sample_models, groups=...)`` on a
        sample that you then leave out of ``ddf``), or the shipped one.  A space is never fitted
        here: fitting needs its texts in one place, and texts a space was fitted on would get
        over-confident scores in it.
    text_column, model_column : str
        Column names (as in :func:`~fingerprint.corpus.load_corpus`).
    groups : str, optional
        Column of prompt ids (or other groups) that calibration folds keep together, as
        ``groups="prompt_id"`` does locally.  Without it each text is its own group (folds by text hash),
        like ``groups=texts`` locally; answers to one prompt then fall in different folds, which
        makes the calibration slightly over-confident.
    calibrate, n_folds, shrinkage, metadata, random_state
        As in :func:`fingerprint.build_references`.
    max_calibration_texts : int, default=:data:`~fingerprint.building.MAX_CALIBRATION_TEXTS`
        The most texts whose features are kept (and collected) to calibrate on.
    split_every : int, default=8
        Fan-in of the tree reduction.
    text, model, group
        Deprecated names of ``text_column``, ``model_column`` and ``groups``.

    Returns
    -------
    ReferenceSet
    """
    own = "fingerprint.dask.build_references()"
    text = renamed(text_column, text, new="text_column", old="text", owner=own, default="text")
    model = renamed(model_column, model, new="model_column", old="model", owner=own, default="model")
    group = renamed(groups, group, new="groups", old="group", owner=own, default=None)
    _check_dask_frame(ddf, "build_references")
    check_int(n_folds, "n_folds", low=2)
    calibrate = check_bool(calibrate, "calibrate", owner=own)  # "no" is truthy: it calibrated
    random_state = check_int(random_state, "random_state", low=0)  # as fingerprint.build_references checks it
    check_model_metadata(metadata, "fingerprint.dask.build_references()")
    shrinkage = check_float(shrinkage, "shrinkage", low=0, high=1)
    check_int(max_calibration_texts, "max_calibration_texts", low=1)
    check_int(split_every, "split_every", low=2)
    shipped = isinstance(space, str)  # "default" (fixed_space refuses any other string)
    space = fixed_space(space)
    missing = [c for c in (text, model, group) if c is not None and c not in ddf.columns]
    if missing:
        raise ValueError(f"ddf has no column {missing[0]!r}; its columns: {list(ddf.columns)}")
    # the shipped space is loaded by each worker from its installation; another space is one key in
    # the graph, sent once to each worker, not once per partition
    space_d = "default" if shipped else dask.delayed(space)
    parts = [
        dask.delayed(_partition_statistics)(
            p, space_d, text, model, group, n_folds, random_state, calibrate, max_calibration_texts
        )
        for p in ddf.to_delayed()
    ]
    while len(parts) > 1:  # a tree: no single task merges every partition's statistics
        parts = [dask.delayed(_merge)(*parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    (stats,) = dask.compute(parts[0])
    info = {"n_folds": n_folds, "grouped": group is not None, "groups": f"column {group!r}" if group else "text"}
    return finish_statistics(stats, space, calibrate=calibrate, shrinkage=shrinkage, metadata=metadata, info=info)


def _check_dask_frame(ddf: Any, fn: str) -> None:
    """A dask DataFrame, or a TypeError that says what to pass (a Bag or a pandas frame has no partitions of rows
    to featurise here)."""
    if isinstance(ddf, dd.DataFrame):
        return
    if isinstance(ddf, pd.DataFrame):
        hint = f"for a pandas DataFrame, call fingerprint.{fn} itself, or wrap it: dd.from_pandas(df, npartitions=4)"
    else:
        hint = "e.g. bag.to_dataframe(), or dd.read_parquet(...)"
    raise TypeError(f"fingerprint.dask.{fn} needs a dask.dataframe.DataFrame, got {type(ddf).__name__} ({hint})")


def _empty_result(index: Any = None) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in RESULT_COLUMNS.items()}, index=index)


def _attribute_partition(df: pd.DataFrame, refs: ReferenceSet, text: str, alpha: float) -> pd.DataFrame:
    if not len(df):
        return _empty_result(df.index)
    # the Series, not a list: an error names the text by its index label, as build's do
    out = _attribute_local(df[text], references=refs, top_features=0, alpha=alpha).to_frame()
    out = out[list(RESULT_COLUMNS)].astype(RESULT_COLUMNS)
    out.index = df.index
    return out


def attribute(
    ddf: dd.DataFrame, references: Any = None, text_column: str = "text", *, alpha: float = 0.0, text: Any = UNSET
) -> dd.DataFrame:
    """:func:`fingerprint.attribute` on a Dask DataFrame: one result row per text, lazily.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        With a column of texts.
    references : ReferenceSet or FingerprintClassifier, optional
        Default: the built-in reference set.  Sent once to each worker.
    text_column : str, default="text"
        The column of texts.
    alpha : float, default=0.0
        As in :func:`fingerprint.attribute` ("none of these" below this typicality).
    text
        Deprecated name of ``text_column``.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns ``model``, ``confidence``, ``family``, ``family_confidence``, ``nearest``,
        ``runner_up``, ``runner_up_confidence``, ``typicality`` (the names of
        ``Attributions.to_frame()``), on ``ddf``'s index; the values of the local call.
    """
    text = renamed(text_column, text, new="text_column", old="text", owner="fingerprint.dask.attribute()",
                   default="text")  # fmt: skip
    _check_dask_frame(ddf, "attribute")
    refs = resolve_references(references)
    alpha = check_alpha(alpha, refs)  # here, not on the workers at compute()
    if text not in ddf.columns:
        raise ValueError(f"ddf has no column {text!r}; its columns: {list(ddf.columns)}")
    return ddf.map_partitions(_attribute_partition, dask.delayed(refs), text, alpha, meta=_empty_result())
