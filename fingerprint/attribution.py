"""Attribution: which known model most likely wrote a text, and how sure is that?

The attributor is linear discriminant analysis built from fingerprints
alone: class means and the pooled within-model covariance (shrunk toward
the identity) give Gaussian log-posteriors, divided by a calibration
temperature.  Because only sufficient statistics are used, training on raw
texts (:class:`FingerprintClassifier`) and assembling from shared
fingerprint files give the *same* model.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from fingerprint._validation import check_texts
from fingerprint.calibration import softmax_t
from fingerprint.features.space import FeatureSpace
from fingerprint.fingerprints import ReferenceSet, _references_from_features, _texts_and_labels, resolve_space
from fingerprint.io import FingerprintFileError, read_bundle, write_bundle

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Attribution", "Attributions", "FingerprintClassifier", "attribute"]


class _Attributor:
    """Shrinkage LDA from a reference set's sufficient statistics."""

    def __init__(self, classes: np.ndarray, means: np.ndarray, cov: np.ndarray):
        self.classes = classes
        self.means = means
        self.temperature: float | None = None
        self.chol = cho_factor(cov, lower=True)
        self.W = cho_solve(self.chol, means.T)  # (d, K): precision @ means
        self.b = -0.5 * np.einsum("kd,dk->k", means, self.W)

    @classmethod
    def from_references(cls, refs: ReferenceSet) -> _Attributor:
        """The set's LDA, cached on the set until its fingerprints or shrinkage change."""
        cached = refs._cache
        if cached is None or cached[0] != refs.shrinkage:
            cached = refs._cache = (refs.shrinkage, cls.from_fingerprints(list(refs), refs.shrinkage))
        att = cached[1]
        att.temperature = refs.temperature  # calibration may change without refitting the LDA
        return att

    @classmethod
    def from_fingerprints(cls, fps: list[Any], shrinkage: float) -> _Attributor:
        """Shrinkage LDA from fingerprints' sufficient statistics (pooled scatter, class means)."""
        if len(fps) < 2:
            raise ValueError(f"need at least 2 models in the reference set, it has {len(fps)}")
        means = np.stack([f.mean for f in fps])
        n = sum(f.n_texts for f in fps)
        dof = n - len(fps) if n - len(fps) > 0 else n
        sw = sum(f.scatter for f in fps) / dof
        d = sw.shape[0]
        target = float(np.trace(sw)) / d or 1.0
        cov = (1.0 - shrinkage) * sw + shrinkage * target * np.eye(d)
        return cls(np.array([f.model for f in fps], dtype=object), means, cov)

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Log-posteriors up to a constant, uniform priors, *before* temperature."""
        return X @ self.W + self.b

    def proba(self, X: np.ndarray) -> np.ndarray:
        return softmax_t(self.scores(X), self.temperature)

    def distances(self, X: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance to each class mean, divided by d."""
        xpx = np.einsum("nd,dn->n", X, cho_solve(self.chol, X.T))
        mpm = np.einsum("kd,dk->k", self.means, self.W)
        return (xpx[:, None] - 2 * X @ self.W + mpm[None, :]) / X.shape[1]

    def contributions(self, x: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension split of the (tempered) score margin of class a over b.

        Returns the weight vector ``w`` and the centred input ``x - mid`` so
        that ``sum((x - mid) * w)`` equals the margin.
        """
        w = cho_solve(self.chol, self.means[a] - self.means[b]) / (self.temperature or 1.0)
        mid = 0.5 * (self.means[a] + self.means[b])
        return w, mid


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

    Examples
    --------
    >>> import fingerprint as fp
    >>> a = fp.attribute("Certainly! Here is a short list:\\n\\n- one\\n- two\\n\\nI hope this helps!")[0]
    >>> a  # doctest: +ELLIPSIS
    Attribution(model='...', confidence=0..., runner_up=('...', 0...), typicality=...)
    >>> a.model == a.ranking[0][0] == a.nearest
    True
    >>> round(sum(p for _, p in a.ranking), 6)
    1.0
    >>> print(a.explain(k=2))  # doctest: +ELLIPSIS
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

    @property
    def runner_up(self) -> tuple[str, float] | None:
        """Second-ranked model and its probability."""
        return self.ranking[1] if len(self.ranking) > 1 else None

    def explain(self, k: int | None = None) -> str:
        """A readable account of the call: ranking head and the features behind it.

        Parameters
        ----------
        k : int, optional
            Number of features to show (default: all stored).

        Returns
        -------
        str
        """
        ru = self.runner_up
        lines = [
            f"text: {self.text_preview!r}",
            f"nearest model: {self.nearest} (confidence {self.confidence:.1%})"
            + (f"; runner-up {ru[0]} ({ru[1]:.1%})" if ru else ""),
        ]
        if self.model is None:
            lines.append(f"verdict: none of these (typicality {self.typicality:.3f})")
        if self.top_features:
            lines.append(f"features for {self.nearest} over {ru[0] if ru else '-'} (log-odds):")
            for name, c in self.top_features[: k or len(self.top_features)]:
                lines.append(f"  {c:+.3f}  {name}")
        return "\n".join(lines)

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
            + f"{typ})"
        )


class Attributions(list[Attribution]):
    """A list of :class:`Attribution` that converts to a DataFrame.

    Examples
    --------
    >>> import fingerprint as fp
    >>> res = fp.attribute(["Sure! Here you go.", "Certainly. Let me explain."], top_features=1)
    >>> len(res)
    2
    >>> list(res.to_frame().columns)  # doctest: +NORMALIZE_WHITESPACE
    ['model', 'confidence', 'nearest', 'runner_up', 'runner_up_confidence', 'typicality',
     'top_feature', 'text']
    """

    def to_frame(self) -> pd.DataFrame:
        """One row per text: model, confidence, nearest, runner-up, typicality, top feature."""
        import pandas as pd

        rows = []
        for a in self:
            ru = a.runner_up
            rows.append(
                {
                    "model": a.model,
                    "confidence": a.confidence,
                    "nearest": a.nearest,
                    "runner_up": ru[0] if ru else None,
                    "runner_up_confidence": ru[1] if ru else None,
                    "typicality": a.typicality,
                    "top_feature": a.top_features[0][0] if a.top_features else None,
                    "text": a.text_preview,
                }
            )
        return pd.DataFrame(rows)


def linear_contributions(
    space: FeatureSpace, w: np.ndarray, x: np.ndarray, mid: np.ndarray, z: np.ndarray | None, k: int
) -> tuple[tuple[str, float], ...]:
    """Top-``k`` named terms of the linear score ``sum((x - mid) * w)``.

    Style and score dimensions are named directly (``style:<marker>``, ``score:<model>``); when
    the text's (or a set's mean) n-gram vector ``z`` is given, the n-gram principal components are
    projected back so the score splits exactly over concrete n-grams, otherwise they are reported
    as ``ngram_pc<i>``.
    """
    ng = space.block("ngram")
    st = slice(ng.stop, space.n_features_out_)  # style and score blocks: named columns
    names_all = space.get_feature_names_out()
    contrib_s = (x[st] - mid[st]) * w[st]
    if z is None:
        names = names_all
        contrib = np.concatenate([(x[ng.start : ng.stop] - mid[ng.start : ng.stop]) * w[ng.start : ng.stop], contrib_s])
    else:
        ngram_names, u = space.ngram_weights(w[ng.start : ng.stop])
        mid_z = (mid[ng.start : ng.stop] / space._ngram_factor) @ space.components_
        names = np.concatenate([ngram_names, names_all[st]])
        contrib = np.concatenate([(z - space.ngram_mean_ - mid_z) * u, contrib_s])
    top = np.argsort(-contrib)[:k]
    return tuple((str(names[j]), round(float(contrib[j]), 4)) for j in top)


def _explain_features(
    refs: ReferenceSet, att: _Attributor, X: np.ndarray, Z: Any, pairs: list[tuple[int, int]], k: int
) -> list[tuple[tuple[str, float], ...]]:
    """Top-k features behind each text's margin of class a over class b (one (a, b) per text)."""
    out: list[tuple[tuple[str, float], ...]] = []
    for i, (a, b) in enumerate(pairs):
        if k <= 0 or a == b:
            out.append(())
            continue
        w, mid = att.contributions(X[i], a, b)
        out.append(linear_contributions(refs.space, w, X[i], mid, Z[i].toarray().ravel(), k))
    return out


def _typicality(refs: ReferenceSet, dist: float) -> float | None:
    q = refs.distance_quantiles
    if q is None:
        return None
    return float(1.0 - np.interp(dist, q, np.linspace(0, 1, len(q))))


def attribute(
    texts: Any,
    references: ReferenceSet | FingerprintClassifier | None = None,
    *,
    top_features: int = 5,
    none_below: float = 0.0,
) -> Attributions:
    """Attribute each text to the most likely reference model.

    Parameters
    ----------
    texts : str, sequence of str, pandas Series or datasets.Dataset
        Texts to attribute (a ``Dataset`` contributes its ``text`` column).
    references : ReferenceSet or FingerprintClassifier, optional
        Known models; default: the built-in reference set.
    top_features : int, default=5
        How many driving features to report per text (0 to skip, faster).
    none_below : float, default=0.0
        Answer ``model=None`` ("none of these") when the text's typicality
        is below this (e.g. 0.01).  0 never abstains.

    Returns
    -------
    Attributions
        One :class:`Attribution` per text, in order; ``.to_frame()`` gives a DataFrame.

    Examples
    --------
    Against the built-in references (the default):

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> res = fp.attribute("Certainly! Here is a concise overview of the topic.")
    >>> res[0]  # doctest: +ELLIPSIS
    Attribution(model='...', confidence=0..., runner_up=('...', 0...), typicality=...)

    A batch, with "none of these" for texts atypical of every reference:

    >>> sample = references.load_sample()
    >>> res = fp.attribute(sample["text"][:5], none_below=0.01)
    >>> df = res.to_frame()
    >>> df.shape[0], set(df["model"].dropna()) <= set(references.list_models())
    (5, True)
    """
    if references is None:
        from fingerprint.references import builtin

        references = builtin()
    if isinstance(references, FingerprintClassifier):
        check_is_fitted(references, "references_")
        references = references.references_
    if not isinstance(references, ReferenceSet):
        raise TypeError(
            f"references must be a ReferenceSet or a fitted FingerprintClassifier, got {type(references).__name__}"
        )
    if not 0.0 <= none_below <= 1.0:
        raise ValueError(f"none_below must be in [0, 1], got {none_below}")
    items = check_texts(texts)
    att = _Attributor.from_references(references)
    X, Z = references.space._transform(items, return_ngrams=top_features > 0)
    P = att.proba(X)
    D = att.distances(X)
    orders = np.argsort(-P, axis=1)
    pairs = [(int(o[0]), int(o[1]) if len(o) > 1 else int(o[0])) for o in orders]
    feats = _explain_features(references, att, X, Z, pairs, top_features)
    out = Attributions()
    for i, text in enumerate(items):
        order, a = orders[i], pairs[i][0]
        typ = _typicality(references, float(D[i, a]))
        nearest = str(att.classes[a])
        out.append(
            Attribution(
                model=None if (typ is not None and typ < none_below) else nearest,
                confidence=float(P[i, a]),
                ranking=tuple((str(att.classes[j]), float(P[i, j])) for j in order),
                top_features=feats[i],
                typicality=typ,
                nearest=nearest,
                text_preview=text[:60],
            )
        )
    return out


class FingerprintClassifier(ClassifierMixin, BaseEstimator):
    """Attribute texts to models: a scikit-learn classifier built on fingerprints.

    ``fit`` learns a :class:`FeatureSpace` (unless one is given), builds one
    :class:`Fingerprint` per model and calibrates confidences by cross-fitting;
    prediction is shrinkage LDA on the fingerprints.  The fitted
    ``references_`` can be saved and shared: assembling it again from the
    fingerprint files gives the same predictions.

    Parameters
    ----------
    space : FeatureSpace, "fit" or "default", default="fit"
        ``"fit"`` fits a new space on the training texts with ``n_char``,
        ``n_word`` and ``n_components``; ``"default"`` uses the shipped
        space; a fitted ``FeatureSpace`` is used as is.
    n_char, n_word, n_components, n_score_features : int
        Space size when it is fitted (see :class:`FeatureSpace`); the
        fitted space has a per-model ``score`` block learned from the
        training labels (``n_score_features=0`` leaves it out).
    shrinkage : float, default=0.3
        Covariance shrinkage toward the identity (0 = plain LDA).
    calibrate : bool, default=True
        Fit the confidence temperature by ``n_folds``-fold cross-fitting.
    n_folds : int, default=5
    n_jobs : int, optional
        Worker processes for the space's score block (``-1``: all cores); results do not depend on it.
    random_state : int, default=0

    Attributes
    ----------
    classes_ : ndarray of str
        Model names, sorted.
    references_ : ReferenceSet
        The fitted fingerprints.
    space_ : FeatureSpace

    Examples
    --------
    Fit on three models' answers from the shipped sample, in the shipped feature space
    (``space="fit"``, the default, learns a space from the training texts):

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> from fingerprint import FingerprintClassifier
    >>> sample = references.load_sample()
    >>> few = sample.filter(lambda r: r["model"] in ("claude-2", "gpt-4-0314", "llama-2-70b-chat"))
    >>> few = fp.sample_per_model(few, 8)  # 8 answers per model keep the example fast
    >>> clf = FingerprintClassifier(space="default").fit(few["text"], few["model"], groups=few["prompt_id"])
    >>> clf.classes_.tolist()
    ['claude-2', 'gpt-4-0314', 'llama-2-70b-chat']
    >>> clf.predict_proba(["Certainly! Here is a concise overview."]).shape
    (1, 3)
    >>> clf.predict(few["text"][:2]).shape
    (2,)
    """

    def __init__(
        self,
        space: FeatureSpace | str = "fit",
        n_char: int = 4000,
        n_word: int = 2000,
        n_components: int = 512,
        n_score_features: int = 100_000,
        shrinkage: float = 0.3,
        calibrate: bool = True,
        n_folds: int = 5,
        n_jobs: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.space = space
        self.n_char = n_char
        self.n_word = n_word
        self.n_components = n_components
        self.n_score_features = n_score_features
        self.shrinkage = shrinkage
        self.calibrate = calibrate
        self.n_folds = n_folds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: Any, groups: Any = None) -> FingerprintClassifier:
        """Fit on texts and their models.

        Parameters
        ----------
        X : sequence of str
            Texts.
        y : sequence of str
            Model of each text.
        groups : sequence, optional
            Prompt id (or other group) per text, so calibration folds never
            split one prompt's answers.

        Returns
        -------
        self
        """
        texts, labels = _texts_and_labels(X, y)
        space, feats = resolve_space(
            self.space, texts, labels, groups, n_char=self.n_char, n_word=self.n_word,
            n_components=self.n_components, n_score_features=self.n_score_features, n_folds=self.n_folds,
            n_jobs=self.n_jobs, random_state=self.random_state,
        )  # fmt: skip
        self.references_ = _references_from_features(
            feats, labels, space, calibrate=self.calibrate, groups=groups, n_folds=self.n_folds,
            shrinkage=self.shrinkage, metadata=None, random_state=self.random_state,
        )  # fmt: skip
        self._set_fitted()
        return self

    def _set_fitted(self) -> None:
        self.space_ = self.references_.space
        self.classes_ = np.array(self.references_.models, dtype=object)
        self.n_features_in_ = 1

    @classmethod
    def from_references(cls, references: ReferenceSet) -> FingerprintClassifier:
        """Wrap an existing reference set (e.g. assembled from shared files) as a classifier."""
        clf = cls(space=references.space, shrinkage=references.shrinkage)
        clf.references_ = references
        clf._set_fitted()
        return clf

    def _features(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "references_", msg="This FingerprintClassifier is not fitted: call fit(texts, models).")
        return self.space_.transform(check_texts(X))

    def decision_function(self, X: Any) -> np.ndarray:
        """Calibrated log-odds up to a per-row constant, shape ``(n_texts, n_classes)``."""
        X = self._features(X)
        att = _Attributor.from_references(self.references_)
        return att.scores(X) / (att.temperature or 1.0)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities over ``classes_``, shape ``(n_texts, n_classes)``."""
        X = self._features(X)
        return _Attributor.from_references(self.references_).proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Most likely model per text."""
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def attribute(self, X: Any, **kwargs: Any) -> Attributions:
        """:func:`attribute` against this classifier's fingerprints."""
        return attribute(X, self, **kwargs)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Save the fitted classifier (its reference set and parameters), without pickle."""
        check_is_fitted(self, "references_")
        directory = Path(directory)
        self.references_.save(directory)
        params = {k: v for k, v in self.get_params().items() if k != "space"}
        write_bundle(directory / "classifier.npz", "classifier", {"params": params}, {})
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> FingerprintClassifier:
        """Load a classifier saved with :meth:`save`."""
        meta, _ = read_bundle(Path(directory) / "classifier.npz", "classifier")
        refs = ReferenceSet.load(directory)
        try:
            clf = cls(space=refs.space, **meta["params"])
        except TypeError as e:
            raise FingerprintFileError(f"{directory}: unknown classifier parameters ({e})") from e
        clf.references_ = refs
        clf._set_fitted()
        return clf

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
