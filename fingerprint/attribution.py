"""Attribution: which known model most likely wrote a text, and how sure is that?

Each text is scored by the reference set's :class:`~fingerprint.lda.LDAModel`
(shrinkage LDA from the fingerprints' sufficient statistics, divided by the
calibration temperature), ranked, checked for typicality ("none of these"),
and explained by the feature space (:meth:`~fingerprint.features.space.FeatureSpace.explain_linear`).
Because only sufficient statistics are used, training on raw texts
(:class:`~fingerprint.classifier.FingerprintClassifier`) and assembling from
shared fingerprint files give the *same* attributions.
"""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol, SupportsIndex, overload

import numpy as np

from fingerprint.lda import LDAModel
from fingerprint.refset import ReferenceSet
from fingerprint.validation import (
    UNSET,
    as_text_list,
    caller_stacklevel,
    check_float,
    check_int,
    check_texts,
    in_batch,
    pandas_index,
    peek_batches,
    renamed,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_TOP_FEATURES", "EXPLAIN_BUDGET", "FRAME_COLUMNS", "Attribution", "Attributions", "HasReferences",
    "attribute", "family_index", "family_probabilities", "feature_label", "resolve_references",
]  # fmt: skip

#: Features reported per explanation by default (attribution and audit alike).
DEFAULT_TOP_FEATURES = 5
#: Values in each of the two per-model n-gram matrices explanations precompute (16 MB each in float64:
#: the built-in set's 6,000 n-grams x 81 models is 0.5 M); above it, back-projection is per model pair.
EXPLAIN_BUDGET = 2_000_000


class HasReferences(Protocol):
    """Anything that carries a fitted reference set (e.g. a fitted ``FingerprintClassifier``)."""

    references_: ReferenceSet


@dataclass(frozen=True)
class Attribution:
    """The attribution of one text.

    Attributes
    ----------
    model : str or None
        Most likely reference model, or ``None`` ("none of these") when the
        text is atypical of every reference (see ``typicality``).
    confidence : float
        Calibrated probability of ``nearest`` among the reference models.
    ranking : tuple of (str, float)
        Every reference model with its probability, best first.
    top_features : tuple of (str, float)
        Features that most pushed the call from the runner-up to the chosen
        model, with their contribution in log-odds (positive = for it).
    typicality : float or None
        Share of held-out texts of known models that lay *farther* from
        their own model than this text lies from ``nearest`` (a p-value for
        "this text fits the references"); ``None`` when uncalibrated.
    nearest : str
        The best reference model, even when ``model`` is ``None``.
    text_preview : str
        The text's first 60 characters.
    family : str or None
        The most likely *family* (the ``family`` of the fingerprints' metadata; a model without one
        is a family of its own): the family whose models' probabilities sum highest.  Usually
        ``model``'s family, but not always (two OpenAI models at 0.3 each outweigh one Claude
        model at 0.35).  ``None`` with ``model`` ("none of these").
    family_confidence : float or None
        The summed probability of that family's models: "an OpenAI model, 0.93" when
        gpt-4-0613 against gpt-4-0314 is a coin flip.  ``None`` with ``family`` (no family is
        named, so no family's probability is given: a number beside ``family=None`` read as one).

    Examples
    --------
    >>> import fingerprint as fp
    >>> a = fp.attribute("Certainly! Here is a short list:\\n\\n- one\\n- two\\n\\nI hope this helps!")[0]
    >>> a  # doctest: +ELLIPSIS
    Attribution(model='...', confidence=0..., runner_up=(...), family='...', family_confidence=0..., typicality=...)
    >>> a.model == a.ranking[0][0] == a.nearest
    True
    >>> a.family_confidence >= a.confidence
    True
    >>> round(sum(p for _, p in a.ranking), 6)
    1.0
    >>> print(a.explain(top_features=2))  # doctest: +ELLIPSIS
    text: 'Certainly! Here is a short list:...'
    nearest model: ... (confidence ...%); runner-up ... (...%)
    features for ... over ... (log-odds):
      ...
    """

    model: str | None
    confidence: float
    ranking: tuple[tuple[str, float], ...]
    top_features: tuple[tuple[str, float], ...]
    typicality: float | None
    nearest: str
    text_preview: str
    family: str | None = None
    family_confidence: float | None = None

    @property
    def runner_up(self) -> tuple[str, float] | None:
        """Second-ranked model and its probability."""
        return self.ranking[1] if len(self.ranking) > 1 else None

    def explain(self, top_features: int | None = None, *, k: Any = UNSET) -> str:
        """A readable account of the call: ranking head and the features behind it.

        Parameters
        ----------
        top_features : int, optional
            Number of features to show (default: all stored).
        k : int, optional
            Deprecated name of ``top_features``.

        Returns
        -------
        str
        """
        top_features = renamed(top_features, k, new="top_features", old="k", owner="Attribution.explain()")
        top_features = check_int(top_features, "top_features", low=0, allow_none=True)
        ru = self.runner_up
        lines = [
            f"text: {self.text_preview!r}",
            f"nearest model: {self.nearest} (confidence {self.confidence:.1%})"
            + (f"; runner-up {ru[0]} ({ru[1]:.1%})" if ru else ""),
        ]
        if self.model is None:
            lines.append(f"verdict: none of these (typicality {self.typicality:.3f})")
        else:
            lines.append(f"family: {self.family} (confidence {self.family_confidence:.1%})")
        if self.top_features and top_features != 0:  # explain(top_features=0): no header over nothing
            lines.append(f"features for {self.nearest} over {ru[0] if ru else '-'} (log-odds):")
            shown = self.top_features if top_features is None else self.top_features[:top_features]
            for name, c in shown:
                lines.append(f"  {c:+.3f}  {feature_label(name)}")
        if top_features and top_features > len(self.top_features):
            # the features were computed at attribution time: explain() cannot add more
            lines.append(f"({len(self.top_features)} features stored; attribute(..., top_features={top_features}) "
                         "stores more)")  # fmt: skip
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The ranking as a table: one row per reference model, best first (``model``, ``probability``).

        One text's view; :meth:`Attributions.to_frame` gives one row per text.

        Examples
        --------
        >>> import fingerprint as fp
        >>> frame = fp.attribute("Certainly! Here is a short list:\\n\\n- one\\n- two")[0].to_frame()
        >>> list(frame.columns), frame["probability"].is_monotonic_decreasing
        (['model', 'probability'], True)
        """
        import pandas as pd

        return pd.DataFrame({"model": pd.Series([m for m, _ in self.ranking], dtype="object"),
                             "probability": pd.Series([p for _, p in self.ranking], dtype="float64")})  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON-serialisable)."""
        d = asdict(self)
        d["ranking"] = [list(r) for r in self.ranking]
        d["top_features"] = [list(f) for f in self.top_features]
        return d

    def __repr__(self) -> str:
        ru = self.runner_up
        typ = "" if self.typicality is None else f", typicality={self.typicality:.2f}"
        return (
            f"Attribution(model={self.model!r}, confidence={self.confidence:.3f}"
            + (f", runner_up=({ru[0]!r}, {ru[1]:.3f})" if ru else "")
            # abstained ("none of these"): no family is named, so no family confidence is shown beside it
            # named as the attributes they show (family is a name; a tuple here read as one)
            + (", family=None" if self.family is None
               else f", family={self.family!r}, family_confidence={self.family_confidence:.3f}")
            + f"{typ})"
        )


#: :meth:`Attributions.to_frame`'s columns and the dtypes of an empty frame's.
FRAME_COLUMNS = {
    "model": "object", "confidence": "float64", "family": "object", "family_confidence": "float64",
    "nearest": "object", "runner_up": "object", "runner_up_confidence": "float64", "typicality": "float64",
    "top_feature": "object", "text_preview": "object",
}  # fmt: skip


class Attributions(list[Attribution]):
    """A list of :class:`Attribution` that converts to a DataFrame.

    Slices, copies and sums stay ``Attributions``. Given a pandas Series or DataFrame,
    :func:`attribute` keeps its index (``input_index``), and :meth:`to_frame` uses it, so the frame
    joins back onto the input, also after sorting or slicing the results (results from elsewhere,
    or repeated, drop it).

    Examples
    --------
    >>> import fingerprint as fp
    >>> res = fp.attribute(["Sure! Here you go.", "Certainly. Let me explain."], top_features=1)
    >>> len(res), type(res[:1]).__name__
    (2, 'Attributions')
    >>> list(res.to_frame().columns)  # doctest: +NORMALIZE_WHITESPACE
    ['model', 'confidence', 'family', 'family_confidence', 'nearest', 'runner_up', 'runner_up_confidence',
     'typicality', 'top_feature', 'text_preview']
    """

    def __init__(self, items: Iterable[Attribution] = (), input_index: Any = None) -> None:
        super().__init__(items)
        #: The input's pandas index (a Series or DataFrame was attributed), else None.
        self.input_index = input_index
        self._rows = tuple(self)  # which input row each result came from: a reordered list keeps its labels

    def _labels(self) -> Any:
        """The input index of the results as they stand now (sorted, reversed or sliced), or None when a
        result did not come from this input or appears twice."""
        index, rows = getattr(self, "input_index", None), getattr(self, "_rows", ())
        if index is None or len(index) != len(rows):
            return None
        pos = {id(a): i for i, a in enumerate(rows)}
        where = [pos.get(id(a)) for a in self]
        if None in where or len(set(where)) != len(where):
            return None
        return index[where]

    @overload
    def __getitem__(self, i: SupportsIndex) -> Attribution: ...
    @overload
    def __getitem__(self, i: slice) -> Attributions: ...
    def __getitem__(self, i: SupportsIndex | slice) -> Attribution | Attributions:
        if isinstance(i, slice):
            items = super().__getitem__(i)
            labels = self._labels()
            return Attributions(items, None if labels is None else labels[i])
        return super().__getitem__(i)

    def __add__(self, other: Iterable[Attribution]) -> Attributions:  # type: ignore[override]
        return Attributions([*self, *other])  # the indexes of two inputs do not combine: dropped

    def copy(self) -> Attributions:
        return Attributions(self, self._labels())

    def __repr__(self) -> str:
        # a list's repr, cut like pandas' beyond 10 results: 200 results printed 28 KB into a notebook cell
        if len(self) <= 10:
            return super().__repr__()
        head, tail = ", ".join(map(repr, self[:3])), ", ".join(map(repr, self[-3:]))
        return f"[{head}, ... {len(self) - 6} more ..., {tail}]  ({len(self)} texts; .to_frame() has them all)"

    def _repr_html_(self) -> str | None:
        """A notebook shows the results as their :meth:`to_frame` table."""
        return self.to_frame()._repr_html_()  # type: ignore[operator,no-any-return]

    def to_dict(self) -> list[dict[str, Any]]:
        """One :meth:`Attribution.to_dict` per text, in order (JSON-serialisable)."""
        return [a.to_dict() for a in self]

    def to_frame(self) -> pd.DataFrame:
        """One row per text: model, confidence, family, nearest, runner-up, typicality, top feature.

        The columns are :class:`Attribution`'s names, flattened: ``runner_up`` and
        ``runner_up_confidence`` split the pair, ``top_feature`` is the first of ``top_features``.
        """
        import pandas as pd

        rows = []
        for a in self:
            ru = a.runner_up
            rows.append(
                {
                    "model": a.model,
                    "confidence": a.confidence,
                    "family": a.family,
                    "family_confidence": a.family_confidence,
                    "nearest": a.nearest,
                    "runner_up": ru[0] if ru else None,
                    "runner_up_confidence": ru[1] if ru else None,
                    "typicality": a.typicality,
                    "top_feature": a.top_features[0][0] if a.top_features else None,
                    "text_preview": a.text_preview,
                }
            )
        if not rows:  # the same columns as ever (a stream's empty batch): frame["model"] must not be a KeyError
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in FRAME_COLUMNS.items()}, index=self._labels())
        frame = pd.DataFrame(rows, index=self._labels(), columns=list(FRAME_COLUMNS))
        # numbers stay numbers when every row lacks one (all abstained: no family confidence; uncalibrated:
        # no typicality), as an empty frame's columns are
        return frame.astype({c: t for c, t in FRAME_COLUMNS.items() if t == "float64"})


def _explain_features(
    refs: ReferenceSet, lda: LDAModel, X: np.ndarray, Z: Any, pairs: list[tuple[int, int]], top_features: int
) -> list[tuple[tuple[str, float], ...]]:
    """Top features behind each text's margin of class a over class b (one (a, b) per text).

    Texts are taken pair by pair: the margin's weights and their n-gram back-projection depend on the
    pair alone, so they are computed once per pair (one at a time), from per-model back-projections
    while those fit in :data:`EXPLAIN_BUDGET`; a text's temperature only scales its contributions.
    """
    out: list[tuple[tuple[str, float], ...]] = [() for _ in pairs]
    if top_features <= 0:
        return out
    temperatures = lda.temperatures(X)  # each text's own (it depends on the text's length)
    by_pair: dict[tuple[int, int], list[int]] = {}
    for i, (a, b) in enumerate(pairs):
        if a != b:
            by_pair.setdefault((a, b), []).append(i)
    space = refs.space
    parts = None
    used = sorted({k for pair in by_pair for k in pair})
    # linear in the pair's classes: back-projected once per class and combined per pair, unless the two
    # (n-grams x models) matrices would pass EXPLAIN_BUDGET values each; then once per pair, as before
    per_class = Z is not None and Z.shape[1] * len(used) <= EXPLAIN_BUDGET
    if per_class:
        col = {k: j for j, k in enumerate(used)}
        ng = space.block("ngram").stop
        _, U = space.ngram_weights(lda.W[:ng, used])
        M = space.ngram_point(lda.means[used, :ng].T)
    for (a, b), rows in by_pair.items():
        w, mid = lda.contributions(a, b, 1.0)
        if per_class:
            parts = (U[:, col[a]] - U[:, col[b]], 0.5 * (M[:, col[a]] + M[:, col[b]]))
        explain = space.linear_explainer(w, mid, ngrams=Z is not None, ngram_parts=parts)
        for i in rows:
            z = Z[i].toarray().ravel() if Z is not None else None
            out[i] = explain(X[i], z, top_features, scale=1.0 / float(temperatures[i]))
    return out


def resolve_references(references: ReferenceSet | HasReferences | None) -> ReferenceSet:
    """The reference set to work against: the given set, a fitted classifier's, or the built-in one.

    Examples
    --------
    >>> resolve_references(None).models == ReferenceSet.default().models
    True
    """
    if references is None:
        return ReferenceSet.default()
    if isinstance(references, ReferenceSet):
        return references
    refs = getattr(references, "references_", None)
    if isinstance(refs, ReferenceSet):
        return refs
    if hasattr(references, "get_params"):  # an estimator without references_: not fitted
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"This {type(references).__name__} is not fitted: call fit(texts, models) first.")
    hint = ""
    if isinstance(references, (str, os.PathLike)):
        hint = f"; a saved set is loaded with fp.load_references({str(references)!r})"
    raise TypeError(
        f"references must be a ReferenceSet or a fitted FingerprintClassifier, got {type(references).__name__}{hint}"
    )


def check_alpha(alpha: Any, refs: ReferenceSet) -> float:
    """``alpha`` of :func:`attribute`, checked against the set it abstains with: above 0 it needs the set's
    typicality (its calibration's held-out distances), or it would be ignored."""
    alpha = check_float(alpha, "alpha", low=0, high=1)
    if alpha > 0 and refs.distance_quantiles is None:
        raise ValueError(
            f"alpha={alpha} needs a calibrated reference set (typicality is a percentile of its models' own "
            "held-out distances); this one has no such distances: call refs.calibrate(texts, models) on held-out "
            "texts of its models, or pass alpha=0"
        )
    return alpha


#: Uncalibrated sets already warned about (once per set, as for a stale calibration).
_WARNED_UNCALIBRATED: weakref.WeakSet[ReferenceSet] = weakref.WeakSet()


def _warn_if_uncalibrated(refs: ReferenceSet) -> None:
    if refs.temperature is None and refs not in _WARNED_UNCALIBRATED:
        _WARNED_UNCALIBRATED.add(refs)
        warnings.warn(
            "this reference set is uncalibrated (assembled from fingerprint files or built with calibrate=False): "
            "its confidences are untempered posteriors, often near 0 or 1; call refs.calibrate(texts, models) "
            "on held-out texts of its models",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


@overload
def attribute(
    texts: Iterator[Any], references: ReferenceSet | HasReferences | None = None, *, top_features: int = ...,
    alpha: float = ..., none_below: Any = ..., verbose: bool | None = ...,
) -> Iterator[Attributions]: ...  # fmt: skip


@overload
def attribute(
    texts: Any, references: ReferenceSet | HasReferences | None = None, *, top_features: int = ...,
    alpha: float = ..., none_below: Any = ..., verbose: bool | None = ...,
) -> Attributions: ...  # fmt: skip


def attribute(
    texts: Any,
    references: ReferenceSet | HasReferences | None = None,
    *,
    top_features: int = DEFAULT_TOP_FEATURES,
    alpha: float = 0.0,
    none_below: Any = UNSET,
    verbose: bool | None = None,
) -> Attributions | Iterator[Attributions]:
    """Attribute each text to the most likely reference model.

    Parameters
    ----------
    texts : str, sequence of str, pandas Series or datasets.Dataset
        Texts to attribute (a ``Dataset`` contributes its ``text`` column).
    references : ReferenceSet or FingerprintClassifier, optional
        Known models; default: the built-in reference set.
    top_features : int, default=5
        How many driving features to report per text (0 to skip, faster).
    alpha : float, default=0.0
        Answer ``model=None`` ("none of these") when the text's typicality (a
        p-value of "this text fits its nearest reference") is below ``alpha``,
        e.g. 0.01.  0 never abstains; above 0 it needs a calibrated set (else ``ValueError``).
        Typicality is read off the calibration's percentiles (levels 1/1000 apart).  On the
        built-in set's held-out answers, 0.05 abstains on fewer known texts than it says (3.1 %),
        0.01 on as many, 0.001 on about 5 times more (the attribution guide).
    none_below : float
        Deprecated name of ``alpha``.
    verbose : bool or None, default=None
        Show a progress bar while featurising (``None``: when stderr is a terminal).

    Returns
    -------
    Attributions
        One :class:`Attribution` per text, in order; ``.to_frame()`` gives a DataFrame.
        Given an *iterator of batches* (lists of texts or tables with a ``text`` column, e.g.
        ``dataset.iter(batch_size=1000)``), an iterator of one ``Attributions`` per batch,
        computed as it is consumed: memory does not grow with the number of texts.

    Examples
    --------
    Against the built-in references (the default):

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> res = fp.attribute("Certainly! Here is a concise overview of the topic.")
    >>> res[0]  # doctest: +ELLIPSIS
    Attribution(model='...', confidence=0..., runner_up=(...), family='...', family_confidence=0..., typicality=...)

    A batch, with "none of these" for texts atypical of every reference:

    >>> sample = references.load_sample()
    >>> res = fp.attribute(sample["text"][:5], alpha=0.01)
    >>> df = res.to_frame()
    >>> df.shape[0], set(df["model"].dropna()) <= set(references.list_models())
    (5, True)
    """
    alpha = renamed(alpha, none_below, new="alpha", old="none_below", owner="attribute()", default=0.0)
    top_features = check_int(top_features, "top_features", low=0)
    refs = resolve_references(references)
    alpha = check_alpha(alpha, refs)
    batches = peek_batches(texts)
    if batches is not None:
        return _attribute_batches(batches, refs, top_features=top_features, alpha=alpha, verbose=verbose)
    items = check_texts(texts)
    _warn_if_uncalibrated(refs)
    lda = refs.lda()
    if top_features > 0:
        X, Z = refs.space.transform_with_ngrams(items, verbose=verbose)
    else:
        X, Z = refs.space.transform(items, verbose=verbose), None
    P = lda.proba(X)
    orders = np.argsort(-P, axis=1)
    typicality = refs.typicality(lda.distances(X)[np.arange(len(items)), orders[:, 0]])
    fam_names, F = family_probabilities(refs, [str(c) for c in lda.classes], P)
    top_fam = F.argmax(axis=1)
    pairs = [(int(o[0]), int(o[1]) if len(o) > 1 else int(o[0])) for o in orders]
    feats = _explain_features(refs, lda, X, Z, pairs, top_features)
    names = np.array([str(c) for c in lda.classes], dtype=object)  # once, not per text and model
    results = []
    for i, text in enumerate(items):
        order, a = orders[i], pairs[i][0]
        typ = None if typicality is None else float(typicality[i])
        nearest = str(lda.classes[a])
        abstain = typ is not None and typ < alpha
        results.append(
            Attribution(
                model=None if abstain else nearest,
                confidence=float(P[i, a]),
                ranking=tuple(zip(names[order].tolist(), P[i, order].tolist(), strict=True)),
                top_features=feats[i],
                typicality=typ,
                nearest=nearest,
                text_preview=text[:60],
                family=None if abstain else fam_names[top_fam[i]],
                family_confidence=None if abstain else float(F[i, top_fam[i]]),
            )
        )
    return Attributions(results, input_index=pandas_index(texts))


def feature_label(name: str) -> str:
    """A feature name as printed: an n-gram with a newline, a tab or edge spaces is quoted with escapes.

    Examples
    --------
    >>> print(feature_label("char:\\n2. "), feature_label("style:md_bold"), feature_label("word:as an"))
    char:'\\n2. ' style:md_bold word:as an
    """
    block, sep, rest = name.partition(":")
    if not sep:
        block, rest = "", name
    if rest and (not rest.isprintable() or rest != rest.strip()):
        return f"{block}{sep}{rest!r}"
    return name


def _attribute_batches(batches: Iterator[Any], refs: ReferenceSet, **kwargs: Any) -> Iterator[Attributions]:
    """One :class:`Attributions` per batch; an empty batch gives an empty one (the output stays aligned with the
    input, and a stream is not stopped halfway by a filter that emptied one batch); errors name the batch."""
    for i, batch in enumerate(batches):
        if isinstance(batch, str):
            raise TypeError(f"batch {i} is a str: each batch must be a list of texts or a table with a 'text' column")
        with in_batch(i):
            if isinstance(batch, Iterator):  # a generator of texts is read once, here (as streamed builds do)
                batch = list(batch)
            if as_text_list(batch):
                out = attribute(batch, references=refs, **kwargs)
            else:
                out = Attributions(input_index=pandas_index(batch))
        yield out


def family_index(refs: ReferenceSet, models: list[str]) -> tuple[list[str], np.ndarray]:
    """The families of ``models`` (fingerprint metadata ``family``; a model without one is its own).

    Returns the distinct family names and, per model, the index of its family.

    Examples
    --------
    >>> from fingerprint import references
    >>> refs = references.builtin()
    >>> names, idx = family_index(refs, ["gpt-4-0314", "gpt-3.5-turbo-0613", "claude-2"])
    >>> [names[i] for i in idx]
    ['openai', 'openai', 'anthropic']
    """
    fams = [refs[m].metadata.get("family") or m for m in models]
    names = list(dict.fromkeys(fams))
    return names, np.array([names.index(f) for f in fams], dtype=int)


def family_probabilities(refs: ReferenceSet, models: list[str], proba: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each family's summed probability: ``proba`` has one column per name in ``models``.

    Returns the family names (:func:`family_index`) and an array of shape (n, n_families).

    Examples
    --------
    >>> import numpy as np
    >>> from fingerprint import references
    >>> names, F = family_probabilities(references.builtin(), ["gpt-4-0314", "gpt-3.5-turbo-0613", "claude-2"],
    ...                                 np.array([[0.3, 0.3, 0.4]]))
    >>> names, F.round(2).tolist()
    (['openai', 'anthropic'], [[0.6, 0.4]])
    """
    names, fam_of = family_index(refs, models)
    F = np.zeros((len(proba), len(names)))
    np.add.at(F.T, fam_of, np.asarray(proba).T)
    return names, F
