"""Building reference sets from labelled texts: the training pipeline.

``texts -> FeatureSpace -> features -> one Fingerprint per model -> calibrated ReferenceSet``.
:func:`fit_references` is the shared step from features on: :func:`build_references`
and :class:`~fingerprint.classifier.FingerprintClassifier` both use it, so they give the same set.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fingerprint.features.space import FeatureSpace
from fingerprint.fingerprints import Fingerprint
from fingerprint.lda import LDAModel
from fingerprint.refset import MIN_TEXTS_PER_MODEL, ReferenceSet
from fingerprint.validation import (
    as_text_list,
    caller_stacklevel,
    check_bool,
    check_choice,
    check_float,
    check_groups,
    check_int,
    check_labels,
    check_model_metadata,
    check_n_jobs,
    check_texts,
    first_few,
    groups_column,
    in_batch,
    models_or_column,
    pandas_index,
    peek_batches,
    progress_bar,
    table_columns,
    user_path,
)

__all__ = [
    "MAX_CALIBRATION_TEXTS",
    "MIN_TEXTS_PER_MODEL",
    "FoldedStatistics",
    "batch_statistics",
    "build_references",
    "calibration_folds",
    "check_groups",
    "check_model_counts",
    "check_training_data",
    "finish_statistics",
    "fit_references",
    "fixed_space",
    "heldout_spread_for",
    "load_references",
    "references_from_texts",
    "resolve_groups",
    "resolve_space",
    "text_keys",
]

#: Streamed and Dask builds calibrate on at most this many texts (those with the smallest
#: :func:`text_keys`), so their memory stops growing there (their features: ~100 MB at d = 628);
#: over 1,000 texts per bin of a 15-bin reliability curve.  In-memory builds calibrate on every text.
MAX_CALIBRATION_TEXTS = 20_000


def _hash64(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def calibration_folds(groups: Any, n_folds: int, random_state: int = 0) -> np.ndarray:
    """The calibration fold of each text: a stable hash of its group, modulo ``n_folds``.

    A function of each text's own group (e.g. its prompt id), so the folds are the same
    however the data are split into batches or Dask partitions: streamed, distributed and
    in-memory builds calibrate alike.  ``random_state`` salts the hash.

    Examples
    --------
    >>> folds = calibration_folds(["p1", "p2", "p1"], n_folds=5)
    >>> bool(folds[0] == folds[2] == calibration_folds(["p1"], 5)[0])
    True
    """
    labels = np.asarray([str(g) for g in groups], dtype=object)
    uniq, inv = np.unique(labels, return_inverse=True)
    fold = np.array([_hash64(f"{random_state}\x00{g}") % n_folds for g in uniq], dtype=np.int64)
    return fold[inv]


def text_keys(texts: Iterable[str]) -> np.ndarray:
    """A 64-bit hash of each text: which texts a bounded calibration keeps (the smallest keys)."""
    return np.array([_hash64(t) for t in texts], dtype=np.uint64)


_Calibration = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # features, labels, folds, keys


def _capped(cal: tuple[np.ndarray, ...], cap: int | None) -> _Calibration:
    X, y, folds, keys = cal
    if cap is None or len(X) <= cap:
        return X, y, folds, keys
    # the smallest keys, then model and fold: the same texts whatever the order they came in
    keep = np.lexsort((folds, y, keys))[:cap]
    return X[keep], y[keep], folds[keep], keys[keep]


@dataclass
class FoldedStatistics:
    """Mergeable sufficient statistics of labelled features, with what cross-fitted calibration needs.

    One :class:`Fingerprint` per model; per calibration fold ``j``, the count and mean of each
    model's texts in it and the fold's pooled within-model scatter (summed over models); and the
    texts kept to calibrate on.  Statistics of any split of the texts merge into those of the
    whole (:meth:`merge`, exact up to float rounding), which is how streamed and Dask builds
    equal an in-memory :func:`build_references`; :meth:`to_references` finishes the set.

    Attributes
    ----------
    space_id : str
    models : dict of str to Fingerprint
    fold_counts : dict of (model, fold) to int
    fold_means : dict of (model, fold) to ndarray of shape (d,)
    fold_scatter : dict of fold to ndarray of shape (d, d)
    calibration : tuple of (X, y, fold, key) arrays
        The kept texts' features, models, folds and :func:`text_keys`.
    max_calibration : int or None
        Keep at most this many texts (the smallest keys); ``None`` keeps all.
    """

    space_id: str
    models: dict[str, Fingerprint] = field(default_factory=dict)
    fold_counts: dict[tuple[str, int], int] = field(default_factory=dict)
    fold_means: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    fold_scatter: dict[int, np.ndarray] = field(default_factory=dict)
    calibration: _Calibration | None = None
    max_calibration: int | None = None

    @classmethod
    def from_features(
        cls, X: np.ndarray, y: np.ndarray, folds: np.ndarray, space_id: str, *, keys: np.ndarray | None = None,
        max_calibration: int | None = None, keep_calibration: bool = True,
    ) -> FoldedStatistics:  # fmt: skip
        """Statistics of features ``X`` of models ``y`` in calibration ``folds`` (ints)."""
        X, y, folds_in = np.asarray(X, dtype=np.float64), np.asarray(y).astype(str), np.asarray(folds)
        if X.ndim != 2 or y.ndim != 1 or folds_in.ndim != 1 or not len(X) == len(y) == len(folds_in):
            raise ValueError(f"need X of shape (n, d) and y, folds of length n; got X {X.shape}, y {y.shape}, "
                             f"folds {folds_in.shape}")  # fmt: skip
        folds = folds_in.astype(np.int64)
        if not np.array_equal(folds, folds_in):  # 0.5 would silently become fold 0
            raise ValueError("calibration folds must be integers")
        out = cls(space_id, max_calibration=max_calibration)
        # each model's fingerprint from its texts; each fold's pooled within-model scatter as one
        # product of its texts centred on their (model, fold) means: a d x d product per model and per
        # fold, not per (model, fold) pair (23 models x 4 folds made batches of 1,000 texts spend a
        # third of a streamed build here)
        centred: dict[int, list[np.ndarray]] = {}
        for c in np.unique(y):
            m, in_c = str(c), y == c
            Xm, fm = X[in_c], folds[in_c]
            out.models[m] = Fingerprint.from_features(Xm, m, space_id)
            for j in np.unique(fm).tolist():
                rows = Xm[fm == j]
                mean = rows.mean(axis=0)
                out.fold_counts[(m, j)], out.fold_means[(m, j)] = len(rows), mean
                centred.setdefault(j, []).append(rows - mean)
        for j, parts in centred.items():
            R = np.concatenate(parts)
            out.fold_scatter[j] = R.T @ R
        if keep_calibration:
            key = np.zeros(len(y), dtype=np.uint64) if keys is None else np.asarray(keys, dtype=np.uint64)
            out.calibration = _capped((X, y, folds, key), max_calibration)
        return out

    def merge(self, other: FoldedStatistics) -> FoldedStatistics:
        """The statistics of both sets of texts (a new object; neither input changes)."""
        if other.space_id != self.space_id:
            raise ValueError("cannot merge statistics of different feature spaces")
        out = FoldedStatistics(self.space_id, dict(self.models), dict(self.fold_counts), dict(self.fold_means),
                               dict(self.fold_scatter), None, self.max_calibration)  # fmt: skip
        for m, f in other.models.items():
            out.models[m] = out.models[m].merge(f) if m in out.models else f
        for j, s in other.fold_scatter.items():
            out.fold_scatter[j] = out.fold_scatter[j] + s if j in out.fold_scatter else s
        spread: dict[int, list[np.ndarray]] = {}  # per fold, the mean differences of the keys both sides hold
        for key, n2 in other.fold_counts.items():
            m2 = other.fold_means[key]
            if key not in out.fold_counts:
                out.fold_counts[key], out.fold_means[key] = n2, m2
                continue
            n1, m1 = out.fold_counts[key], out.fold_means[key]
            delta = m2 - m1
            out.fold_counts[key] = n1 + n2
            out.fold_means[key] = m1 + delta * (n2 / (n1 + n2))
            spread.setdefault(key[1], []).append(delta * np.sqrt(n1 * n2 / (n1 + n2)))
        for j, rows in spread.items():
            # Chan's update, sum over the fold's keys of n1 n2 / n * delta delta^T, as one product; in
            # place: a key both sides hold has its fold in both, so that fold's array is the fresh sum above
            D = np.stack(rows)
            out.fold_scatter[j] += D.T @ D
        if self.calibration is not None and other.calibration is not None:
            out.calibration = _capped(
                tuple(np.concatenate([a, b]) for a, b in zip(self.calibration, other.calibration, strict=True)),
                self.max_calibration,
            )
        else:
            out.calibration = self.calibration if other.calibration is None else other.calibration
        return out

    def fold_lda(self, fold: int, classes: list[str], shrinkage: float) -> LDAModel:
        """The LDA of every text outside ``fold`` (what a text in ``fold`` is scored by)."""
        d = next(iter(self.fold_scatter.values())).shape[0]
        means, n_total, scatter = np.zeros((len(classes), d)), 0, np.zeros((d, d))
        for j, s in self.fold_scatter.items():
            if j != fold:
                scatter += s
        for i, c in enumerate(classes):
            parts = [(self.fold_counts[(c, j)], self.fold_means[(c, j)])
                     for j in self.fold_scatter if j != fold and (c, j) in self.fold_counts]  # fmt: skip
            if not parts:
                raise ValueError("a calibration fold lacks a model; use fewer folds or more texts per model")
            n_c = sum(n for n, _ in parts)
            means[i] = sum(n * mu for n, mu in parts) / n_c
            for n, mu in parts:  # the spread of the fold means around the model's training mean
                scatter += np.outer(mu - means[i], mu - means[i]) * n
            n_total += n_c
        return LDAModel.from_statistics(classes, means, n_total, scatter, shrinkage)

    def _shrunk_to_fold_means(self, X: np.ndarray, y: np.ndarray, folds: np.ndarray, spread: Any) -> np.ndarray:
        """``X`` with each row's deviation from its (model, fold) mean scaled by ``sqrt(spread)``."""
        s = np.asarray(spread, dtype=np.float64)
        if s.shape != (X.shape[1],):
            raise ValueError(f"heldout_spread needs one factor per column ({X.shape[1]}), got shape {s.shape}")
        if not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError("heldout_spread needs finite, non-negative factors")
        f = np.sqrt(s)
        centre = np.stack([self.fold_means[(m, int(j))] for m, j in zip(y.tolist(), folds.tolist(), strict=True)])
        return centre + (X - centre) * f

    def to_references(
        self, space: FeatureSpace, *, calibrate: bool, shrinkage: float,
        metadata: Mapping[str, Mapping[str, Any]] | None = None, calibration_info: Mapping[str, Any] | None = None,
        heldout_spread: np.ndarray | None = None,
    ) -> ReferenceSet:  # fmt: skip
        """The reference set: one fingerprint per model, calibrated on the kept texts by their folds.

        Parameters
        ----------
        space : FeatureSpace
            The space the statistics are in.
        calibrate : bool
            Fit the temperature, confidence map and distance quantiles on the kept texts.
        shrinkage : float
        metadata : mapping of model name to mapping, optional
            Merged into each model's fingerprint metadata.
        calibration_info : mapping, optional
            Recorded in ``refs.metadata["calibration"]``.
        heldout_spread : ndarray of shape (n_features,), optional
            See :func:`fit_references`: each kept text's deviation from its model's mean in its
            fold is scaled by the square root before the fold's LDA scores it.

        Returns
        -------
        ReferenceSet
        """
        meta = metadata or {}
        unknown = sorted(set(meta) - set(self.models))
        if unknown:  # a typo in a model name dropped its metadata silently; a lineage file for more models is fine
            warnings.warn(
                f"metadata= names {len(unknown)} model(s) that have no texts, whose metadata is not used: "
                f"{first_few(unknown)}; models: {sorted(self.models)[:10]}",
                UserWarning, stacklevel=caller_stacklevel(),
            )  # fmt: skip
        fps = [Fingerprint(f.model, f.n_texts, f.mean, f.scatter, f.space_id, {**dict(f.metadata), **meta.get(m, {})})
               for m, f in sorted(self.models.items())]  # fmt: skip
        refs = ReferenceSet(fps, space, shrinkage=shrinkage)
        if not calibrate:
            return refs
        if self.calibration is None or not len(self.calibration[0]):
            raise ValueError("no texts kept to calibrate on")
        X, y, folds, _ = self.calibration
        if heldout_spread is not None:
            X = self._shrunk_to_fold_means(X, y, folds, heldout_spread)
        classes = refs.models
        y_idx = np.searchsorted(classes, y)  # the fold LDAs' classes are ``classes``, in this order
        scores, dist = np.zeros((len(y), len(classes))), np.zeros(len(y))
        for j in np.unique(folds):
            rows = np.flatnonzero(folds == j)
            lda = self.fold_lda(int(j), classes, shrinkage)
            scores[rows] = lda.scores(X[rows])
            dist[rows] = lda.distances(X[rows])[np.arange(len(rows)), y_idx[rows]]
        refs.calibrate_from_scores(scores, y_idx, dist, length_feature=X[:, space.length_column])
        refs.metadata["calibration"] = {"n_texts": len(y), **dict(calibration_info or {})}
        return refs


def build_references(
    texts: Any,
    models: Any = None,
    *,
    space: FeatureSpace | str = "fit",
    calibrate: bool = True,
    groups: Any = None,
    n_folds: int = 4,
    shrinkage: float = 0.3,
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    n_jobs: int | None = None,
    random_state: int = 0,
    verbose: bool | None = None,
    calibration: str = "crossfit",
) -> ReferenceSet:
    """Build one fingerprint per model and a calibrated reference set.

    Parameters
    ----------
    texts : sequence of str, pandas Series, datasets.Dataset, or an iterator of batches
        Outputs of several models.  A ``Dataset`` with ``text``/``model``
        columns may be passed as ``texts`` with ``models=None``.  An *iterator of
        batches* (tables with ``text``, ``model`` and optionally ``prompt_id`` columns,
        e.g. ``dataset.iter(batch_size=10_000)`` or a generator of DataFrames, or
        ``(texts, models[, groups])`` tuples) is read once, batch by batch, in memory
        that does not grow with the number of texts; it needs a fitted ``space`` (or
        ``"default"``), and calibrates on at most
        :data:`MAX_CALIBRATION_TEXTS` texts.  Up to that many, the set equals the
        in-memory call with ``groups=`` the prompt ids (or the texts themselves when the
        batches carry none).
    models : sequence of str or None
        The model that wrote each text (``None`` with a ``Dataset`` or batches).
    space : FeatureSpace, "fit" or "default", default="fit"
        ``"fit"`` learns a new space from ``texts``; ``"default"`` uses
        :meth:`FeatureSpace.default`; or pass a fitted space.
    calibrate : bool, default=True
        Cross-fit (``n_folds`` folds, grouped by ``groups`` such as prompt
        ids when given) to learn the confidence temperature and the
        "none of these" distances without scoring texts a fingerprint saw.
    groups : sequence or str, optional
        Group label per text (e.g. ``prompt_id``) so folds split by prompt, or the name of a
        column of the table passed as ``texts`` (``groups="prompt_id"``).  Default: the
        ``prompt_id`` column of a table passed as ``texts``, else groups inferred from the
        answers' shared content (:func:`resolve_groups`).
    n_folds : int, default=4
        Also the folds of the space's score block when it is fitted here (``space="fit"``; see
        :class:`~fingerprint.features.space.FeatureSpace`).
    shrinkage : float, default=0.3
    calibration : {"crossfit", "holdout"}, default="crossfit"
        How ``calibrate`` fits the confidences.  ``"crossfit"``: on every text, scored by fold models
        fitted without its fold.  ``"holdout"``, for a space fitted here (``space="fit"`` or an
        unfitted ``FeatureSpace``): the whole build is repeated without about a fifth of the groups
        (prompts; without groups, of the texts), which that build then scores, and the calibration
        fitted on those scores is the set's (``HOLDOUT_PARTS`` = 5).  The held-out texts are new to
        that build in every respect (vocabulary, projection, score block, fingerprints), as a user's
        texts are to the set, where cross-fitting can only refit the fingerprints; so its confidences
        stop running low (numbers: ``benchmarks/results/calibration-shift.md``).  It costs a second
        build on four fifths of the texts, so it is not the default.  In-memory builds only; with a
        fitted or the default space it is refused (their rows are already new texts' rows).
    metadata : mapping of model name to mapping, optional
        Per-model metadata (family, teacher, ...).
    n_jobs : int, optional
        Worker processes for fitting the space's score block when ``space="fit"``.
    random_state : int, default=0
    verbose : bool or None, default=None
        Show a progress bar while featurising texts a fitted space transforms, or while reading
        batches (``None``: when stderr is a terminal).  Fitting a space shows none.

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
    own = "build_references()"  # checked before any work, naming our parameters (not sklearn's or joblib's)
    n_folds = check_int(n_folds, "n_folds", low=2, owner=own)
    check_n_jobs(n_jobs, owner=own)
    check_float(shrinkage, "shrinkage", low=0, high=1, owner=own)
    # an int salts the calibration folds' hash: a RandomState object printed the same for every seed
    random_state = check_int(random_state, "random_state", low=0, owner=own)
    check_model_metadata(metadata, own)
    check_choice(calibration, "calibration", CALIBRATIONS, owner=own)
    calibrate = check_bool(calibrate, "calibrate", owner=own)
    batches = peek_batches(texts)
    if batches is not None:
        if models is not None or groups is not None:
            raise ValueError("batches carry their models (and prompt ids) as columns: pass models=None, groups=None")
        if calibrate and calibration == "holdout":
            raise ValueError("calibration='holdout' builds twice from the texts in memory; batches calibrate "
                             "by cross-fitting (calibration='crossfit')")  # fmt: skip
        return _build_streaming(
            batches, fixed_space(space), calibrate=calibrate, n_folds=n_folds, shrinkage=shrinkage,
            metadata=metadata, random_state=random_state, verbose=verbose,
        )  # fmt: skip
    source = texts
    texts, y = check_training_data(texts, models)
    groups, how = resolve_groups(
        groups, source, texts, y, space=space, calibrate=calibrate, n_folds=n_folds, random_state=random_state
    )
    return references_from_texts(
        texts, y, groups, space=space, calibrate=calibrate, n_folds=n_folds, shrinkage=shrinkage, metadata=metadata,
        random_state=random_state, groups_source=how, verbose=verbose, n_jobs=n_jobs, calibration=calibration,
    )  # fmt: skip


#: ``calibration=`` values of :func:`build_references` and :class:`~fingerprint.FingerprintClassifier`.
CALIBRATIONS = ("crossfit", "holdout")
#: ``calibration="holdout"`` holds out one part in this many of the groups: the split of
#: ``benchmarks/explore/calibration/holdout_transfer.py``, where it was measured.
HOLDOUT_PARTS = 5


def references_from_texts(
    texts: list[str], y: np.ndarray, groups: np.ndarray | None, *, space: FeatureSpace | str, calibrate: bool,
    n_folds: int, shrinkage: float, metadata: Mapping[str, Mapping[str, Any]] | None, random_state: int,
    groups_source: str | None = None, verbose: bool | None = False, n_jobs: int | None = None,
    calibration: str = "crossfit", **space_params: Any,
) -> ReferenceSet:  # fmt: skip
    """The in-memory build of checked training data: :func:`resolve_space`, then :func:`fit_references`,
    whose calibration is corrected (:func:`heldout_spread_for`) when the space was fitted on these texts.

    What :func:`build_references` and :meth:`FingerprintClassifier.fit
    <fingerprint.FingerprintClassifier.fit>` share once their inputs are validated; ``space_params`` go
    to a space fitted here.
    """
    if calibrate and calibration == "holdout":
        return _holdout_calibrated(
            texts, y, groups, space=space, n_folds=n_folds, shrinkage=shrinkage, metadata=metadata,
            random_state=random_state, groups_source=groups_source, verbose=verbose, n_jobs=n_jobs, **space_params,
        )  # fmt: skip
    fitted, X = resolve_space(
        space, texts, y, groups, verbose=verbose, n_folds=n_folds, n_jobs=n_jobs, random_state=random_state,
        **space_params,
    )  # fmt: skip
    return fit_references(
        X, y, fitted, calibrate=calibrate, groups=groups, n_folds=n_folds, shrinkage=shrinkage, metadata=metadata,
        random_state=random_state, groups_source=groups_source, heldout_spread=heldout_spread_for(space, fitted),
    )  # fmt: skip


def _holdout_calibrated(
    texts: list[str], y: np.ndarray, groups: np.ndarray | None, *, space: FeatureSpace | str, n_folds: int,
    shrinkage: float, metadata: Mapping[str, Mapping[str, Any]] | None, random_state: int,
    groups_source: str | None, verbose: bool | None, n_jobs: int | None, **space_params: Any,
) -> ReferenceSet:  # fmt: skip
    """``calibration="holdout"``: the set built on all texts, calibrated on the scores that the same
    build without one part of the groups gives that part (its texts are new to it in every respect)."""
    if not _fits_space(space):
        raise ValueError(
            "calibration='holdout' corrects for a space fitted on the texts it calibrates on (space='fit' or an "
            "unfitted FeatureSpace); with a fitted or the default space the cross-fitted calibration's texts are "
            "already new to it: use calibration='crossfit'"
        )  # fmt: skip
    y = np.asarray(y).astype(str)
    # a hash of each group (or, without groups, of each text), salted apart from every calibration_folds
    # split: a user who held out calibration_folds(prompts, 5, 1) == 0 beforehand (as the calibration-shift
    # benchmark does) would otherwise find this part empty
    keys = [str(g) for g in (texts if groups is None else groups)]
    held = np.array([_hash64(f"holdout\x00{random_state}\x00{k}") % HOLDOUT_PARTS == 0 for k in keys])
    models, kept = np.unique(y[~held], return_counts=True)
    short = sorted(set(y.tolist()) - set(models[kept >= MIN_TEXTS_PER_MODEL].tolist()))
    absent = sorted(set(y.tolist()) - set(y[held].tolist()))
    if short or absent:
        raise ValueError(
            f"calibration='holdout' holds out about 1/{HOLDOUT_PARTS} of the groups, which leaves "
            + (f"{short} with fewer than {MIN_TEXTS_PER_MODEL} texts to build on" if short
               else f"{absent} with no held-out texts")
            + "; give more texts or groups, or use calibration='crossfit'"
        )  # fmt: skip
    common = dict(space=space, calibrate=False, n_folds=n_folds, shrinkage=shrinkage, random_state=random_state,
                  verbose=verbose, n_jobs=n_jobs, **space_params)  # fmt: skip
    rows = np.flatnonzero(~held)
    part = references_from_texts([texts[i] for i in rows], y[rows], None if groups is None else groups[rows],
                                 metadata=None, **common)  # fmt: skip
    refs = references_from_texts(texts, y, groups, metadata=metadata, **common)
    held_texts = [texts[i] for i in np.flatnonzero(held)]
    F = part.space.transform(held_texts)
    lda = part.lda()
    y_idx = np.searchsorted(np.array(refs.models), y[held])  # both sets hold every model, sorted by name
    scores = lda.scores(F)
    own = lda.distances(F)[np.arange(len(y_idx)), y_idx]
    # the length enters the temperature through the set's own space (a space fitted on all the texts), as
    # new texts' lengths will
    lengths = refs.space.transform(held_texts)[:, refs.space.length_column]
    refs.calibrate_from_scores(scores, y_idx, own, length_feature=lengths)
    refs.metadata["calibration"] = {"n_texts": len(y_idx), "method": "holdout", "parts": HOLDOUT_PARTS,
                                    **_groups_info(groups, groups_source)}  # fmt: skip
    return refs


def fixed_space(space: FeatureSpace | str) -> FeatureSpace:
    """The fitted space that streamed and distributed builds need: a fitted FeatureSpace, or "default"."""
    if isinstance(space, str) and space == "default":
        return FeatureSpace.default()
    if isinstance(space, FeatureSpace) and space.is_fitted():
        return space
    raise ValueError(
        f"building from batches needs a fitted FeatureSpace or space='default', got {space!r}: fit one on a "
        "sample first, FeatureSpace().fit(texts, models, groups=prompt_ids), and leave that sample out"
    )


def batch_statistics(
    texts: Any, models: Any, groups: Any, space: FeatureSpace, *, calibrate: bool, n_folds: int,
    random_state: int, max_calibration: int | None = MAX_CALIBRATION_TEXTS,
) -> FoldedStatistics:  # fmt: skip
    """The :class:`FoldedStatistics` of one batch of labelled texts (a streamed batch or a Dask partition).

    Calibration folds come from ``groups`` (e.g. prompt ids) or, without them, from each text.
    """
    texts = check_texts(texts)
    y = check_labels(models, len(texts)).astype(str)
    if calibrate:
        folds = calibration_folds(as_text_list(groups) if groups is not None else texts, n_folds, random_state)
    else:
        folds = np.zeros(len(texts), dtype=np.int64)
    return FoldedStatistics.from_features(
        space.transform(texts), y, folds, space.space_id_, keys=text_keys(texts) if calibrate else None,
        max_calibration=max_calibration, keep_calibration=calibrate,
    )  # fmt: skip


def finish_statistics(
    stats: FoldedStatistics, space: FeatureSpace, *, calibrate: bool, shrinkage: float,
    metadata: Mapping[str, Mapping[str, Any]] | None, info: Mapping[str, Any],
) -> ReferenceSet:  # fmt: skip
    """The reference set of merged batch statistics, after the checks :func:`build_references` makes."""
    counts = {m: f.n_texts for m, f in stats.models.items()}
    check_model_counts(counts)
    n_folds = int(info.get("n_folds", 2))
    if calibrate:
        check_fold_sizes(min(counts.values()), n_folds)  # as the in-memory build (calibration_fold_array)
    if calibrate:
        check_filled_folds(len({j for (_, j) in stats.fold_counts}), n_folds)
    return stats.to_references(
        space, calibrate=calibrate, shrinkage=shrinkage, metadata=metadata, calibration_info=info
    )


def _batch_columns(batch: Any, i: int) -> tuple[Any, Any, Any]:
    """Texts, models and groups (or None) of one batch: a table with text/model[/prompt_id] columns, or a tuple."""
    if isinstance(batch, tuple) and len(batch) in (2, 3):
        return batch[0], batch[1], batch[2] if len(batch) == 3 else None
    columns = table_columns(batch)
    if columns is None or "text" not in columns or "model" not in columns:
        raise ValueError(
            f"batch {i} must be a table with 'text' and 'model' columns (and optionally 'prompt_id'), or a "
            f"(texts, models[, groups]) tuple; got {type(batch).__name__}"
            + (f" with columns {columns[:10]}" if columns else "")
        )
    return batch["text"], batch["model"], batch["prompt_id"] if "prompt_id" in columns else None


def _build_streaming(
    batches: Iterator[Any], space: FeatureSpace, *, calibrate: bool, n_folds: int, shrinkage: float,
    metadata: Mapping[str, Mapping[str, Any]] | None, random_state: int, verbose: bool | None = None,
) -> ReferenceSet:  # fmt: skip
    check_int(n_folds, "n_folds", low=2)
    shrinkage = check_float(shrinkage, "shrinkage", low=0, high=1)
    stats, grouped = FoldedStatistics(space.space_id_, max_calibration=MAX_CALIBRATION_TEXTS), None
    bar = progress_bar(None, "building", verbose=verbose)
    for i, batch in enumerate(batches):
        column, models, groups = _batch_columns(batch, i)
        texts = as_text_list(column)  # once: a generator of texts in a (texts, models) tuple is read here
        if not texts:  # an empty batch (a filter emptied it) adds nothing, as an empty Dask partition
            continue
        if grouped is not None and grouped != (groups is not None):
            raise ValueError(f"batch {i} {'lacks' if grouped else 'has'} prompt ids, unlike the first batch")
        grouped = groups is not None
        with in_batch(i):
            # a pandas column goes in as it is, so that an error names a text by its index label too
            named = column if pandas_index(column) is not None else texts
            part = batch_statistics(named, models, groups, space, calibrate=calibrate, n_folds=n_folds,
                                    random_state=random_state)  # fmt: skip
        stats = stats.merge(part)
        bar.update(sum(f.n_texts for f in part.models.values()))
    bar.close()
    info = {"n_folds": n_folds, "grouped": bool(grouped), "groups": "prompt_id column" if grouped else "text"}
    return finish_statistics(stats, space, calibrate=calibrate, shrinkage=shrinkage, metadata=metadata, info=info)


def resolve_groups(
    groups: Any, source: Any, texts: list[str], y: np.ndarray, *, space: Any, calibrate: bool, n_folds: int = 4,
    random_state: int = 0,
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
        return check_groups(groups_column(groups, source), len(texts)), "given"
    if "prompt_id" in (table_columns(source) or []):
        return check_groups(source["prompt_id"], len(texts)), "prompt_id column"
    fixed = (isinstance(space, FeatureSpace) and space.is_fitted()) or (isinstance(space, str) and space == "default")
    if not calibrate and fixed:  # nothing is cross-fitted
        return None, "none"
    from fingerprint.corpus import MAX_INFER_TEXTS, infer_prompt_groups

    if len(texts) > MAX_INFER_TEXTS:
        warnings.warn(
            f"no groups= for {len(texts):,} texts (too many to infer prompts from content): cross-fitting folds may "
            "split the answers to one prompt, which lowers accuracy (0.355 instead of 0.406 top-1 on alpaca_eval); "
            "pass groups= (the prompt id of each text)",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        return None, "none"
    inferred = infer_prompt_groups(texts, y)
    from sklearn.model_selection import GroupKFold

    n_groups = len(np.unique(inferred))
    classes = set(y.tolist())
    space_folds = (
        [train for train, _ in GroupKFold(n_splits=n_folds).split(texts, y, inferred)] if n_groups >= n_folds else []
    )
    calibration = calibration_folds(inferred, n_folds, random_state) if calibrate else np.zeros(0)
    if (
        n_groups >= n_folds
        and all(set(y[train].tolist()) == classes for train in space_folds)  # the score block's cross-fitting
        and all(set(y[calibration != j].tolist()) == classes for j in np.unique(calibration))
    ):
        return inferred, "inferred"
    warnings.warn(
        f"no groups=, and the {n_groups} prompt groups inferred from the texts cannot make {n_folds} folds that each "
        "train on every model: cross-fitting folds are not grouped; pass groups= (the prompt id of each text)",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
    return None, "none"


def resolve_space(
    space: FeatureSpace | str, texts: list[str], y: Any = None, groups: Any = None, *, verbose: bool | None = False,
    **space_params: Any,
) -> tuple[FeatureSpace, np.ndarray]:
    """Return the space to use and the texts' features in it (one pass over the texts).

    ``"fit"`` fits a new :class:`FeatureSpace` (with ``space_params``) on ``texts``
    and their labels ``y`` (so it learns the per-model ``score`` block, cross-fitted
    by ``groups``); ``"default"`` loads the shipped one; a fitted ``FeatureSpace``
    is used as is (a frozen component); an unfitted one is a template, cloned and
    fitted like ``"fit"``.
    """
    if _fits_space(space):
        from sklearn.base import clone

        # "fit": a new space; an unfitted one is a template: its parameters, fitted on these texts
        new = clone(space) if isinstance(space, FeatureSpace) else FeatureSpace(**space_params)
        return new, new.fit_transform(texts, y, groups=groups)
    if isinstance(space, FeatureSpace):  # a fitted space is a frozen component: used as is, never refitted
        return space, space.transform(texts, verbose=verbose)
    if isinstance(space, str) and space == "default":
        default = FeatureSpace.default()
        return default, default.transform(texts, verbose=verbose)
    raise ValueError(f"space must be 'fit', 'default' or a FeatureSpace, got {space!r}")


def _fits_space(space: FeatureSpace | str) -> bool:
    """Whether :func:`resolve_space` fits a space on the texts for this ``space`` argument: ``"fit"`` or an
    unfitted template (so the rows it returns are in sample for the space)."""
    return (isinstance(space, str) and space == "fit") or (isinstance(space, FeatureSpace) and not space.is_fitted())


def heldout_spread_for(requested: FeatureSpace | str, space: FeatureSpace) -> np.ndarray | None:
    """The ``heldout_spread`` for :func:`fit_references` of the rows :func:`resolve_space` returned.

    ``space.heldout_spread_`` when ``resolve_space(requested, ...)`` fitted ``space`` on the texts
    (``requested`` was ``"fit"`` or an unfitted template) and it has an estimate (some factor below
    1: a space fitted without a score block has no cross-fitting folds to estimate it on); else
    ``None``.  A space passed in fitted is taken as fitted on other texts: its rows are new texts'
    rows.  (Fitted on these very texts, they are in sample and the calibration leans under-confident,
    as it did for every fit before this correction.)
    """
    spread = getattr(space, "heldout_spread_", None) if _fits_space(requested) else None
    return spread if spread is not None and np.any(spread < 1) else None


def check_training_data(texts: Any, models: Any) -> tuple[list[str], np.ndarray]:
    """Validate labelled training texts: at least 2 models, each with :data:`MIN_TEXTS_PER_MODEL` texts."""
    checked = check_texts(texts)  # first: a list of tables is named as such, not as "models= is missing"
    y = check_labels(models_or_column(texts, models), len(checked))
    classes, counts = np.unique(y, return_counts=True)
    check_model_counts(dict(zip(classes.tolist(), counts.tolist(), strict=True)))
    return checked, y


def check_model_counts(counts: Mapping[str, int]) -> None:
    """Texts of at least 2 models, each with :data:`MIN_TEXTS_PER_MODEL` (``counts``: texts per model)."""
    if len(counts) < 2:
        n = len(counts)  # "1 class": the wording scikit-learn's estimator checks look for
        raise ValueError(f"need texts of at least 2 models to attribute between, got {n} class{'es' * (n != 1)}: "
                         f"{sorted(counts)}")  # fmt: skip
    small = [f"{m} ({k})" for m, k in sorted(counts.items()) if k < MIN_TEXTS_PER_MODEL]
    if small:
        raise ValueError(f"each model needs at least {MIN_TEXTS_PER_MODEL} texts; too few: {', '.join(small)}")


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
    heldout_spread: np.ndarray | None = None,
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
    groups_source : str, optional
        How ``groups`` were found (recorded in the calibration's metadata).
    heldout_spread : ndarray of shape (n_features,), optional
        For rows of the texts ``space`` was fitted on: per column, how much less a new text
        varies than these rows (:attr:`FeatureSpace.heldout_spread_ <fingerprint.FeatureSpace>`;
        :func:`heldout_spread_for` says when it applies).  The calibration scores each row with its
        deviation from its model's mean in its fold shrunk by the square root, so the temperature,
        the confidence map and the distance quantiles of "none of these" are fitted on texts spread
        as new ones will be.  The fingerprints themselves keep the rows as they are.

    Returns
    -------
    ReferenceSet
    """
    check_int(n_folds, "n_folds", low=2)
    shrinkage = check_float(shrinkage, "shrinkage", low=0, high=1)
    y = np.asarray(y).astype(str)
    folds = calibration_fold_array(y, groups, n_folds, random_state) if calibrate else np.zeros(len(y), dtype=np.int64)
    stats = FoldedStatistics.from_features(X, y, folds, space.space_id_, keep_calibration=calibrate)
    info = {"n_folds": n_folds, **_groups_info(groups, groups_source)}
    if heldout_spread is not None:
        info["heldout_spread"] = True
    return stats.to_references(space, calibrate=calibrate, shrinkage=shrinkage, metadata=metadata,
                               calibration_info=info, heldout_spread=heldout_spread)  # fmt: skip


def _groups_info(groups: Any, groups_source: str | None) -> dict[str, Any]:
    """What a calibration's metadata says of its groups: whether folds were grouped, and how groups were found."""
    return {"grouped": groups is not None, **({} if groups_source is None else {"groups": groups_source})}


def check_fold_sizes(smallest: int, n_folds: int) -> None:
    """Every model needs a text in each calibration fold: refuse a smallest model of fewer than ``n_folds``."""
    if smallest < max(n_folds, 2):
        raise ValueError(
            f"calibration needs at least {max(n_folds, 2)} texts per model (n_folds={n_folds}); "
            f"the smallest model has {smallest}: add texts, lower n_folds, or pass calibrate=False"
        )


def check_filled_folds(filled: int, n_folds: int) -> None:
    """The calibration folds that a hash of each group filled (:func:`calibration_folds`): at least 2 to
    cross-fit, and a warning when fewer than ``n_folds``.

    Counted alike in memory, from batches and from Dask partitions, which fold each group as it comes:
    a few groups often share a fold (8 prompts leave one of 4 folds empty about a third of the time),
    and refusing them, as batches once did, refused data an in-memory build took.
    """
    if filled < 2:
        raise ValueError(
            f"calibration needs texts in at least 2 of its n_folds={n_folds} folds (a hash of each group, e.g. "
            f"prompt id, salted by random_state); these groups all fall in {filled}: add texts or prompts, "
            "try another random_state, or pass calibrate=False"
        )
    if filled < n_folds:
        warnings.warn(
            f"the groups fill {filled} of the n_folds={n_folds} calibration folds (a hash of each group): the "
            f"calibration is cross-fitted over {filled}; add prompts for {n_folds}",
            UserWarning, stacklevel=caller_stacklevel(),
        )  # fmt: skip


def calibration_fold_array(y: np.ndarray, groups: Any, n_folds: int, random_state: int) -> np.ndarray:
    """Each text's calibration fold, after checking that every model can be cross-fitted.

    With ``groups``, :func:`calibration_folds` (a hash of the group); without, stratified folds
    (scikit-learn's ``StratifiedKFold``, shuffled by ``random_state``).
    """
    check_fold_sizes(int(np.unique(y, return_counts=True)[1].min()), n_folds)
    groups = check_groups(groups, len(y))
    if groups is not None:
        folds = calibration_folds(groups, n_folds, random_state)
        check_filled_folds(len(np.unique(folds)), n_folds)  # counted as batches count them: the same rule
    else:
        from sklearn.model_selection import StratifiedKFold

        folds = np.zeros(len(y), dtype=np.int64)
        for k, (_, test) in enumerate(StratifiedKFold(n_folds, shuffle=True, random_state=random_state).split(y, y)):
            folds[test] = k
    return folds  # FoldedStatistics.fold_lda refuses a fold whose training side lacks a model


def load_references(
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    space: FeatureSpace | str | None = None,
    embedding_model: str | os.PathLike[str] | None = None,
) -> ReferenceSet:
    """Load a reference set: a directory saved by :meth:`ReferenceSet.save`, or fingerprint files.

    Parameters
    ----------
    path : path-like or iterable of path-like
        A directory, or several ``.fingerprint.npz`` files to assemble.
    space : FeatureSpace or "default", optional
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
        # a file (with or without space=) gets ReferenceSet.load's "is a file, not a reference-set directory"
        if space is not None and not user_path(path).is_file():
            raise TypeError("load_references(directory) uses the directory's own space; space= is for files")
        return ReferenceSet.load(path, embedding_model=embedding_model)
    if not isinstance(path, Iterable) or isinstance(path, bytes):
        raise TypeError(f"load_references takes a directory or a list of fingerprint files, got "
                        f"{type(path).__name__}: {path!r:.80}")  # fmt: skip
    if embedding_model is not None:
        raise TypeError("embedding_model= is for a directory; fingerprint files use the space= you pass")
    return ReferenceSet.from_files(path, space)
