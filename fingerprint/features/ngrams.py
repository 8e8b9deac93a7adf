"""Character and word n-gram extractors (scikit-learn transformers).

Validated wrappers over scikit-learn's vectorizers with the defaults that
work for model attribution: case and punctuation kept (they are style),
sublinear term frequency ``log(1 + tf)``, optional idf, L2 row normalisation,
a vocabulary of the n-grams found in most texts (or a fixed one), and an
optional hashing mode whose memory does not grow with the vocabulary.
:class:`~fingerprint.features.space.FeatureSpace` is built from these two.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from fingerprint.features import fastgrams
from fingerprint.validation import check_float, check_int, check_texts

__all__ = ["LEGACY_TOKEN_PATTERN", "WORD_TOKEN_PATTERN", "CharNgrams", "WordNgrams", "weight_counts"]

#: Words *and* single punctuation marks are tokens: "Sure!" -> "Sure", "!".
WORD_TOKEN_PATTERN = fastgrams.WORD_OR_MARK  # r"(?u)\b\w+\b|[^\w\s]"
#: scikit-learn's default token pattern (words of 2+ characters, punctuation dropped).
LEGACY_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
#: Patterns that never match whitespace: the vectorised counter (:mod:`~fingerprint.features.fastgrams`)
#: handles them; any other pattern is counted by scikit-learn (same result, ~20x slower).
_FAST_PATTERNS = (WORD_TOKEN_PATTERN, LEGACY_TOKEN_PATTERN)


def weight_counts(C: sp.spmatrix, *, sublinear_tf: bool = True, idf: np.ndarray | None = None) -> sp.csr_matrix:
    """Counts -> (sublinear) tf, times idf, rows scaled to unit L2 norm (float32 CSR)."""
    C = sp.csr_matrix(C, dtype=np.float32, copy=True)
    if sublinear_tf:
        C.data = np.log1p(C.data)
    if idf is not None:
        C = C @ sp.diags(idf)
    return normalize(C).tocsr()


class _Ngrams(TransformerMixin, BaseEstimator):
    _analyzer = "char"

    def _vectorizer_kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def _check_params(self) -> None:
        owner = type(self).__name__
        rng = self.ngram_range
        if not (isinstance(rng, tuple | list) and len(rng) == 2
                and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in rng)):  # fmt: skip
            raise TypeError(f"{owner}: ngram_range must be a pair of integers (min_n, max_n), got {rng!r}")
        if not 1 <= rng[0] <= rng[1]:
            raise ValueError(f"{owner}: ngram_range must satisfy 1 <= min_n <= max_n, got {rng!r}")
        check_int(self.max_features, "max_features", low=1, allow_none=True, owner=owner)
        check_int(self.n_features, "n_features", low=1, allow_none=True, owner=owner)
        if isinstance(self.min_df, float):
            check_float(self.min_df, "min_df", low=0, high=1, owner=owner)
        else:
            check_int(self.min_df, "min_df", low=1, owner=owner)
        if self.n_features is not None and (self.vocabulary is not None or self.max_features is not None):
            raise ValueError(f"{owner}: n_features (hashing) cannot be combined with vocabulary or max_features")

    def fit(self, X: Any, y: Any = None) -> _Ngrams:
        """Learn the vocabulary (or, when hashing, only the idf weights).

        Parameters
        ----------
        X : sequence of str
            Texts.
        y : ignored

        Returns
        -------
        self
        """
        self._fit(check_texts(X))
        return self

    def fit_transform(self, X: Any, y: Any = None) -> sp.csr_matrix:
        """Fit and transform in one pass over the texts."""
        return self._fit(check_texts(X))

    def _fit(self, texts: list[str]) -> sp.csr_matrix:
        self._check_params()
        learns_vocabulary = self.n_features is None and self.vocabulary is None
        if learns_vocabulary and isinstance(self.min_df, int | np.integer) and self.min_df > len(texts):
            # scikit-learn's own message blames max_df, which the user never set
            raise ValueError(f"{type(self).__name__}: min_df={self.min_df} is above the {len(texts)} texts fitted on")
        kw = self._vectorizer_kwargs()
        spans = self._spans(texts, kw)
        counted = None
        if self.n_features is not None:
            self.vectorizer_: Any = HashingVectorizer(
                n_features=self.n_features, alternate_sign=False, norm=None, dtype=np.float32, **kw
            )
            self._index = None
        else:
            if self.vocabulary is not None:
                names = list(self.vocabulary)
            else:
                # the n-grams found in most texts (MFW lists rank by document frequency; ties go to the
                # alphabetically first); counted by fastgrams when it handles the analyzer
                min_count = self.min_df * len(texts) if isinstance(self.min_df, float) else self.min_df
                names = [] if spans is None else fastgrams.top_ngrams(spans, self.max_features, min_count)
                if not names:  # scikit-learn's analyzers (their counts kept), and its errors when nothing is left
                    names, counted = self._fit_with_scikit_learn(texts, kw)
            # fitting on no texts validates the vocabulary (duplicates, empty) as scikit-learn would
            self.vectorizer_ = CountVectorizer(vocabulary=names, dtype=np.float32, **kw).fit([])
            # the vocabulary's lookup table for the vectorised counter (a fitted vocabulary never changes)
            self._index = fastgrams.VocabularyIndex(list(self.vectorizer_.get_feature_names_out()))
        C = counted if counted is not None else self._counts(texts, spans)
        if self.use_idf:
            df = np.bincount(C.indices, minlength=C.shape[1])
            # smoothed idf as in scikit-learn's TfidfTransformer: ln((1 + n) / (1 + df)) + 1
            self.idf_: np.ndarray | None = (np.log((1 + C.shape[0]) / (1 + df)) + 1).astype(np.float32)
        else:
            self.idf_ = None
        self.n_features_in_ = 1
        return self._weight(C)

    def _fit_with_scikit_learn(self, texts: list[str], kw: dict[str, Any]) -> tuple[list[str], sp.csr_matrix]:
        """The vocabulary scikit-learn learns, cut to ``max_features``, and the texts' counts of it."""
        cv = CountVectorizer(min_df=self.min_df, dtype=np.float32, **kw)
        C = cv.fit_transform(texts).tocsc()
        names = cv.get_feature_names_out()
        if self.max_features is not None and self.max_features < len(names):
            df = np.diff(C.indptr)  # names are sorted, so a stable sort gives ties to the first
            keep = np.sort(np.argsort(-df, kind="stable")[: self.max_features])
            names, C = names[keep], C[:, keep]
        return list(names), C.tocsr()

    def _weight(self, C: sp.spmatrix) -> sp.csr_matrix:
        return weight_counts(C, sublinear_tf=self.sublinear_tf, idf=self.idf_)

    def _spans(self, texts: list[str], kw: dict[str, Any]) -> fastgrams.Spans | None:
        """The texts' n-grams for the vectorised counter, or None when only scikit-learn handles this analyzer."""
        rng = tuple(kw["ngram_range"])
        if self._analyzer == "char":
            return fastgrams.char_spans(texts, rng, kw["lowercase"])
        pattern = kw["token_pattern"]
        return fastgrams.word_spans(texts, rng, pattern, kw["lowercase"]) if pattern in _FAST_PATTERNS else None

    def _counts(self, texts: list[str], spans: fastgrams.Spans | None) -> sp.csr_matrix:
        """Counts of the texts' n-grams from their spans (``None``: scikit-learn's analyzer counts them)."""
        if spans is None:
            return self.vectorizer_.transform(texts)
        if self.n_features is not None:
            return fastgrams.hashed_counts(spans, self.n_features)
        assert self._index is not None, "a vocabulary (not hashed) extractor's fit sets it"
        return fastgrams.vocabulary_counts(spans, self._index)

    @property
    def vocabulary_(self) -> np.ndarray:
        """The kept n-grams, in column order (vocabulary mode only)."""
        check_is_fitted(self, "vectorizer_")
        if self.n_features is not None:
            raise AttributeError("a hashing n-gram extractor has no vocabulary")
        return np.asarray(self.vectorizer_.get_feature_names_out(), dtype=str)

    def transform(self, X: Any) -> sp.csr_matrix:
        """Map texts to a sparse (n_texts, n_features) float32 matrix.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        scipy.sparse.csr_matrix
        """
        check_is_fitted(self, "vectorizer_", msg="This %(name)s is not fitted yet: call fit(texts) first.")
        texts = check_texts(X)
        return self._weight(self._counts(texts, self._spans(texts, self.vectorizer_.get_params())))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Feature names: ``'<kind>:<n-gram>'``, or ``'<kind>:hash_<i>'`` in hashing mode."""
        check_is_fitted(self, "vectorizer_")
        prefix = self._analyzer
        if self.n_features is None:
            return np.array([f"{prefix}:{g}" for g in self.vectorizer_.get_feature_names_out()], dtype=object)
        return np.array([f"{prefix}:hash_{i}" for i in range(self.n_features)], dtype=object)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


class CharNgrams(_Ngrams):
    """Character n-grams with sublinear TF-IDF weighting.

    Parameters
    ----------
    ngram_range : tuple of int, default=(1, 4)
        Smallest and largest n.
    lowercase : bool, default=False
        Case is a style signal, so it is kept by default.
    sublinear_tf : bool, default=True
        Use ``log(1 + tf)``: a word repeated 50 times is not 50x the evidence.
    use_idf : bool, default=True
        Weight n-grams by inverse document frequency.
    min_df : int or float, default=1
        Ignore n-grams in fewer texts (vocabulary mode only).
    max_features : int or None, default=None
        Keep the n-grams found in most texts (document frequency; ties
        alphabetical), as "most frequent words" stylometry does (vocabulary mode only).
    n_features : int or None, default=None
        If set, hash n-grams into this many columns instead of keeping a
        vocabulary: memory stays fixed however many texts are seen.
    vocabulary : sequence of str or None, default=None
        A fixed vocabulary (column order); ``fit`` then learns only the idf weights.

    Attributes
    ----------
    vectorizer_ : CountVectorizer or HashingVectorizer
        Counts n-grams (with the kept vocabulary, or hashed).
    vocabulary_ : ndarray of str
        The kept n-grams (vocabulary mode).
    idf_ : ndarray or None
        The idf weight of each column (``None`` when ``use_idf=False``).

    Examples
    --------
    >>> X = CharNgrams(ngram_range=(2, 3)).fit_transform(["Sure! Here it is.", "Certainly."])
    >>> X.shape[0]
    2
    """

    _analyzer = "char"

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 4),
        *,
        lowercase: bool = False,
        sublinear_tf: bool = True,
        use_idf: bool = True,
        min_df: int | float = 1,
        max_features: int | None = None,
        n_features: int | None = None,
        vocabulary: Any = None,
    ) -> None:
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.sublinear_tf = sublinear_tf
        self.use_idf = use_idf
        self.min_df = min_df
        self.max_features = max_features
        self.n_features = n_features
        self.vocabulary = vocabulary

    def _vectorizer_kwargs(self) -> dict[str, Any]:
        return {"analyzer": "char", "ngram_range": tuple(self.ngram_range), "lowercase": self.lowercase}


class WordNgrams(_Ngrams):
    """Word n-grams (punctuation marks count as words) with sublinear TF-IDF.

    Parameters
    ----------
    ngram_range : tuple of int, default=(1, 2)
        Smallest and largest n.
    lowercase : bool, default=False
    sublinear_tf : bool, default=True
    use_idf : bool, default=True
    min_df : int or float, default=1
    max_features : int or None, default=None
    n_features : int or None, default=None
        Hashing mode, as in :class:`CharNgrams`.
    vocabulary : sequence of str or None, default=None
        A fixed vocabulary, as in :class:`CharNgrams`.
    token_pattern : str or None, default=None
        Regular expression of a token; ``None`` is :data:`WORD_TOKEN_PATTERN`
        (words and single punctuation marks).

    Examples
    --------
    >>> wn = WordNgrams().fit(["I hope this helps!", "Let me know."])
    >>> "word:hope this" in set(wn.get_feature_names_out())
    True
    """

    _analyzer = "word"

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 2),
        *,
        lowercase: bool = False,
        sublinear_tf: bool = True,
        use_idf: bool = True,
        min_df: int | float = 1,
        max_features: int | None = None,
        n_features: int | None = None,
        vocabulary: Any = None,
        token_pattern: str | None = None,
    ) -> None:
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.sublinear_tf = sublinear_tf
        self.use_idf = use_idf
        self.min_df = min_df
        self.max_features = max_features
        self.n_features = n_features
        self.vocabulary = vocabulary
        self.token_pattern = token_pattern

    def _vectorizer_kwargs(self) -> dict[str, Any]:
        return {
            "analyzer": "word",
            "ngram_range": tuple(self.ngram_range),
            "lowercase": self.lowercase,
            "token_pattern": WORD_TOKEN_PATTERN if self.token_pattern is None else self.token_pattern,
        }
