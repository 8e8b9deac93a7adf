"""Building reference sets from labelled texts: the training pipeline.

``texts -> FeatureSpace -> features -> one Fingerprint per model -> calibrated ReferenceSet``.
:func:`fit_references` is the shared step from features on: :func:`build_references`
and :class:`~fingerprint.classifier.FingerprintClassifier` both use it, so they give the same set.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from fingerprint.features.space import FeatureSpace
from fingerprint.fingerprints import Fingerprint
from fingerprint.lda import LDAModel
from fingerprint.refset import ReferenceSet
from fingerprint.validation import as_text_list, check_float, check_int, check_labels, check_texts, table_columns

__all__ = [
    "MIN_TEXTS_PER_MODEL",
    "build_references",
    "check_groups",
    "check_training_data",
    "fit_references",
    "load_references",
    "resolve_groups",
    "resolve_space",
]

#: Fewer texts than this give a mean too noisy to attribute against.
MIN_TEXTS_PER_MODEL = 5


def build_references(
    texts: Any,
    models: Any,
    *,
    space: FeatureSpace | str = "fit",
    calibrate: bool = True,
    groups: Any = None,
    n_folds: int = 5,
    shrinkage: float = 0.3,
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    n_jobs: int | None = None,
    random_state: int = 0,
) -> ReferenceSet:
    """Build one fingerprint per model and a calibrated reference set.

    Parameters
    ----------
    texts : sequence of str, pandas Series or datasets.Dataset
        Outputs of several models.  A ``Dataset`` with ``text``/``model``
        columns may be passed as ``texts`` with ``models=None``.
    models : sequence of str or None
        The model that wrote each text.
    space : FeatureSpace, "fit" or "default", default="fit"
        ``"fit"`` learns a new space from ``texts``; ``"default"`` uses
        :meth:`FeatureSpace.default`; or pass a fitted space.
    calibrate : bool, default=True
        Cross-fit (``n_folds`` folds, grouped by ``groups`` such as prompt
        ids when given) to learn the confidence temperature and the
        "none of these" distances without scoring texts a fingerprint saw.
    groups : sequence, optional
        Group label per text (e.g. ``prompt_id``) so folds split by prompt.  Default: the
        ``prompt_id`` column of a table passed as ``texts``, else groups inferred from the
        answers' shared content (:func:`resolve_groups`).
    n_folds : int, default=5
    shrinkage : float, default=0.3
    metadata : mapping of model name to mapping, optional
        Per-model metadata (family, teacher, ...).
    n_jobs : int, optional
        Worker processes for fitting the space's score block when ``space="fit"``.
    random_state : int, default=0

    Returns
    -------
    ReferenceSet

    Raises
    ------
    ValueError
        Fewer than 2 models, or a model with fewer than
        :data:`MIN_TEXTS_PER_MODEL` texts (or too few to calibrate).

    Examples
    --------
    Three models' answers from the shipped sample, in the shipped feature space
    (``space="fit"``, the default, fits a new space on your texts):

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> sample = references.load_sample()
    >>> few = sample.filter(lambda r: r["model"] in ("claude-2", "gpt-4-0314", "llama-2-70b-chat"))
    >>> few = fp.sample_per_model(few, 10)  # 10 answers per model keep the example fast
    >>> refs = fp.build_references(few["text"], few["model"], space="default", groups=few["prompt_id"],
    ...                            metadata={"claude-2": {"family": "anthropic"}})
    >>> refs  # doctest: +ELLIPSIS
    ReferenceSet(3 models: [claude-2, gpt-4-0314, llama-2-70b-chat], space=..., calibrated)
    >>> refs["claude-2"].metadata["family"], refs["claude-2"].n_texts
    ('anthropic', 10)
    """
    source = texts
    texts, y = check_training_data(texts, models)
    groups, how = resolve_groups(groups, source, texts, y, space=space, calibrate=calibrate, n_folds=n_folds)
    space, X = resolve_space(space, texts, y, groups, n_folds=n_folds, n_jobs=n_jobs, random_state=random_state)
    return fit_references(
        X, y, space, calibrate=calibrate, groups=groups, n_folds=n_folds, shrinkage=shrinkage,
        metadata=metadata, random_state=random_state, groups_source=how,
    )  # fmt: skip


def resolve_groups(
    groups: Any, source: Any, texts: list[str], y: np.ndarray, *, space: Any, calibrate: bool, n_folds: int = 5
) -> tuple[Any, str]:
    """The groups cross-fitting uses, and where they came from.

    In order: ``groups`` as given; the ``prompt_id`` column of a table passed as the texts
    (``datasets.Dataset``, ``pandas.DataFrame``, mapping of columns); else, when cross-fitting
    needs them (``calibrate``, or a ``space`` still to be fitted), groups inferred from the answers' shared content
    (:func:`~fingerprint.corpus.infer_prompt_groups`), so that the default call gets the
    accuracy of a grouped one.  Above :data:`~fingerprint.corpus.MAX_INFER_TEXTS` texts a warning
    says the folds are not grouped.  To cross-fit without groups on purpose, pass one group per
    text (``groups=range(n)``).

    Returns
    -------
    groups : ndarray or None
    how : {"given", "prompt_id column", "inferred", "none"}
    """
    if groups is not None:
        return check_groups(groups, len(texts)), "given"
    if "prompt_id" in (table_columns(source) or []):
        return check_groups(source["prompt_id"], len(texts)), "prompt_id column"
    fixed = (isinstance(space, FeatureSpace) and space.is_fitted()) or (isinstance(space, str) and space == "default")
    if not calibrate and fixed:  # nothing is cross-fitted
        return None, "none"
    from fingerprint.corpus import MAX_INFER_TEXTS, infer_prompt_groups

    if len(texts) > MAX_INFER_TEXTS:
        warnings.warn(
            f"no groups= for {len(texts):,} texts (too many to infer prompts from content): cross-fitting folds may "
            "split the answers to one prompt, which lowers accuracy (0.375 instead of 0.405 top-1 on alpaca_eval); "
            "pass groups= (the prompt id of each text)",
            UserWarning,
            stacklevel=3,
        )
        return None, "none"
    inferred = infer_prompt_groups(texts, y)
    from sklearn.model_selection import GroupKFold

    n_groups = len(np.unique(inferred))
    classes = set(y.tolist())
    if n_groups >= n_folds and all(
        set(y[train].tolist()) == classes for train, _ in GroupKFold(n_splits=n_folds).split(texts, y, inferred)
    ):
        return inferred, "inferred"
    warnings.warn(
        f"no groups=, and the {n_groups} prompt groups inferred from the texts cannot make {n_folds} folds that each "
        "train on every model: cross-fitting folds are not grouped; pass groups= (the prompt id of each text)",
        UserWarning,
        stacklevel=3,
    )
    return None, "none"


def resolve_space(
    space: FeatureSpace | str, texts: list[str], y: Any = None, groups: Any = None, **space_params: Any
) -> tuple[FeatureSpace, np.ndarray]:
    """Return the space to use and the texts' features in it (one pass over the texts).

    ``"fit"`` fits a new :class:`FeatureSpace` (with ``space_params``) on ``texts``
    and their labels ``y`` (so it learns the per-model ``score`` block, cross-fitted
    by ``groups``); ``"default"`` loads the shipped one; a fitted ``FeatureSpace``
    is used as is (a frozen component); an unfitted one is a template, cloned and
    fitted like ``"fit"``.
    """
    if isinstance(space, FeatureSpace):
        if space.is_fitted():  # a fitted space is a frozen component: used as is, never refitted
            return space, space.transform(texts)
        from sklearn.base import clone

        new = clone(space)  # an unfitted space is a template: its parameters, fitted on these texts
        return new, new.fit_transform(texts, y, groups=groups)
    if isinstance(space, str) and space == "fit":
        new = FeatureSpace(**space_params)
        return new, new.fit_transform(texts, y, groups=groups)
    if isinstance(space, str) and space == "default":
        default = FeatureSpace.default()
        return default, default.transform(texts)
    raise ValueError(f"space must be 'fit', 'default' or a FeatureSpace, got {space!r}")


def check_groups(groups: Any, n: int) -> np.ndarray | None:
    """Validate ``groups`` (one prompt id or other group label per text): an array, or None."""
    if groups is None:
        return None
    g = np.asarray(as_text_list(groups), dtype=object)
    if len(g) != n:
        raise ValueError(f"got {n} texts but {len(g)} groups; pass one group (e.g. prompt id) per text")
    return g


def check_training_data(texts: Any, models: Any) -> tuple[list[str], np.ndarray]:
    """Validate labelled training texts: at least 2 models, each with :data:`MIN_TEXTS_PER_MODEL` texts."""
    if models is None:
        if hasattr(texts, "column_names") and "model" in texts.column_names:
            models = list(texts["model"])
        else:
            raise ValueError("models=None needs a datasets.Dataset with a 'model' column as texts")
    texts = check_texts(texts)
    y = check_labels(models, len(texts))
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"need texts of at least 2 models to attribute between, got 1 class: {list(classes)}")
    small = [f"{c} ({k})" for c, k in zip(classes, counts, strict=True) if k < MIN_TEXTS_PER_MODEL]
    if small:
        raise ValueError(f"each model needs at least {MIN_TEXTS_PER_MODEL} texts; too few: {', '.join(small)}")
    return texts, y


def fit_references(
    X: np.ndarray,
    y: np.ndarray,
    space: FeatureSpace,
    *,
    calibrate: bool,
    groups: Any,
    n_folds: int,
    shrinkage: float,
    metadata: Mapping[str, Mapping[str, Any]] | None,
    random_state: int,
    groups_source: str | None = None,
) -> ReferenceSet:
    """One fingerprint per model from features, and the calibration by cross-fitting.

    The step shared by :func:`build_references` and
    :class:`~fingerprint.classifier.FingerprintClassifier` once the texts are features
    (:func:`resolve_space`), so both give the same set.  The keywords are those of
    :func:`build_references`.

    Parameters
    ----------
    X : ndarray of shape (n_texts, n_features)
        The texts' features in ``space`` (cross-fitted ones for the texts a space was fitted on).
    y : ndarray of str
        The model of each row.
    space : FeatureSpace
        The fitted space ``X`` is in.
    calibrate : bool
    groups : sequence or None
    n_folds : int
    shrinkage : float
    metadata : mapping of model name to mapping, or None
    random_state : int

    Returns
    -------
    ReferenceSet
    """
    check_int(n_folds, "n_folds", low=2)
    shrinkage = check_float(shrinkage, "shrinkage", low=0, high=1)
    meta = metadata or {}
    classes, counts = np.unique(y, return_counts=True)

    def fps(rows: np.ndarray) -> list[Fingerprint]:
        Xr, yr = X[rows], y[rows]  # once, not once per model
        return [Fingerprint.from_features(Xr[yr == c], c, space.space_id_, meta.get(c, {})) for c in classes]

    refs = ReferenceSet(fps(np.arange(len(y))), space, shrinkage=shrinkage)
    if not calibrate:
        return refs
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    if counts.min() < max(n_folds, 2):
        raise ValueError(
            f"calibration needs at least {max(n_folds, 2)} texts per model (n_folds={n_folds}); "
            f"the smallest model has {counts.min()}: add texts, lower n_folds, or pass calibrate=False"
        )
    groups = check_groups(groups, len(y))
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups < n_folds:
            raise ValueError(f"calibration needs at least n_folds={n_folds} distinct groups, got {n_groups}")
        splitter = GroupKFold(n_splits=n_folds).split(X, y, groups)
    else:
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=random_state).split(X, y)
    scores = np.zeros((len(y), len(classes)))
    dist = np.zeros(len(y))
    for train, test in splitter:
        present = set(y[train])
        if present != set(classes):
            raise ValueError("a calibration fold lacks a model; use fewer folds or more texts per model")
        lda = LDAModel.from_fingerprints(fps(train), shrinkage)
        scores[test] = lda.scores(X[test])
        idx = np.searchsorted(lda.classes, y[test])
        dist[test] = lda.distances(X[test])[np.arange(len(test)), idx]
    refs.calibrate_from_scores(scores, np.searchsorted(classes, y), dist)
    refs.metadata["calibration"] = {"n_texts": len(y), "n_folds": n_folds, "grouped": groups is not None}
    if groups_source is not None:
        refs.metadata["calibration"]["groups"] = groups_source
    return refs


def load_references(
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    space: FeatureSpace | None = None,
    embedding_model: str | os.PathLike[str] | None = None,
) -> ReferenceSet:
    """Load a reference set: a directory saved by :meth:`ReferenceSet.save`, or fingerprint files.

    Parameters
    ----------
    path : path-like or iterable of path-like
        A directory, or several ``.fingerprint.npz`` files to assemble.
    space : FeatureSpace, optional
        The space of the fingerprint files (default :meth:`FeatureSpace.default`); a
        directory carries its own space, so ``space=`` is refused with one.
    embedding_model : str or path-like, optional
        For a directory whose space has an embedding block fitted with a model other than the
        packaged default: that model (models named in files are never loaded; see
        :meth:`FeatureSpace.load`).

    Returns
    -------
    ReferenceSet

    Examples
    --------
    A directory written by :meth:`ReferenceSet.save`, or fingerprint files assembled into a set
    (uncalibrated until :meth:`ReferenceSet.calibrate`):

    >>> import tempfile
    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> refs = references.builtin()
    >>> for m in refs.models[4:]:
    ...     _ = refs.remove(m)
    >>> d = refs.save(tempfile.mkdtemp())
    >>> fp.load_references(d).models == refs.models
    True
    >>> files = fp.ReferenceSet.files(d)  # the fingerprint files, e.g. to share them
    >>> shared = fp.load_references(files, space=refs.space)
    >>> len(shared), shared.temperature is None
    (4, True)
    """
    if isinstance(path, str | os.PathLike):
        if space is not None:
            raise TypeError("load_references(directory) uses the directory's own space; space= is for files")
        return ReferenceSet.load(path, embedding_model=embedding_model)
    if embedding_model is not None:
        raise TypeError("embedding_model= is for a directory; fingerprint files use the space= you pass")
    return ReferenceSet.from_files(path, space)
