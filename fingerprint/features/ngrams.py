"""Character and word n-gram extractors (scikit-learn transformers).

Thin, validated wrappers over scikit-learn's vectorizers with the defaults
that work for model attribution: case and punctuation kept (they are style),
sublinear term frequency, L2 row normalisation, and an optional hashing mode
whose memory does not grow with the vocabulary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from fingerprint._validation import check_texts

__all__ = ["WORD_TOKEN_PATTERN", "CharNgrams", "WordNgrams"]

#: Words *and* single punctuation marks are tokens: "Sure!" -> "Sure", "!".
WORD_TOKEN_PATTERN = r"(?u)\b\w+\b|[^\w\s]"


class _Ngrams(TransformerMixin, BaseEstimator):
    _analyzer = "char"

    def _vectorizer_kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

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

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> sp.csr_matrix:
        """Fit and transform in one pass over the texts."""
        return self._fit(check_texts(X))

    def _fit(self, texts: list[str]) -> sp.csr_matrix:
        kw = self._vectorizer_kwargs()
        if self.n_features is None:
            self.vectorizer_ = TfidfVectorizer(
                sublinear_tf=self.sublinear_tf,
                use_idf=self.use_idf,
                min_df=self.min_df,
                max_features=self.max_features,
                dtype=np.float32,
                **kw,
            )
            Xt = self.vectorizer_.fit_transform(texts)
            self.idf_ = None
        else:
            self.vectorizer_ = HashingVectorizer(
                n_features=self.n_features, alternate_sign=False, norm=None, dtype=np.float32, **kw
            )
            self.idf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf, use_idf=self.use_idf)
            Xt = self.idf_.fit_transform(self.vectorizer_.transform(texts))
        self.n_features_in_ = 1
        return Xt.tocsr().astype(np.float32)

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
        if self.idf_ is None:
            Xt = self.vectorizer_.transform(texts)
        else:
            Xt = self.idf_.transform(self.vectorizer_.transform(texts))
        return Xt.tocsr().astype(np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Feature names: ``'<kind>:<n-gram>'``, or ``'<kind>:hash_<i>'`` in hashing mode."""
        check_is_fitted(self, "vectorizer_")
        prefix = self._analyzer
        if self.idf_ is None:
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
        Use ``1 + log(tf)``: a word repeated 50 times is not 50x the evidence.
    use_idf : bool, default=True
        Weight n-grams by inverse document frequency.
    min_df : int or float, default=1
        Ignore n-grams in fewer texts (vocabulary mode only).
    max_features : int or None, default=None
        Keep the most frequent n-grams (vocabulary mode only).
    n_features : int or None, default=None
        If set, hash n-grams into this many columns instead of keeping a
        vocabulary: memory stays fixed however many texts are seen.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer or HashingVectorizer
    idf_ : TfidfTransformer or None
        The idf weights in hashing mode.

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
    ) -> None:
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.sublinear_tf = sublinear_tf
        self.use_idf = use_idf
        self.min_df = min_df
        self.max_features = max_features
        self.n_features = n_features

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
    ) -> None:
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.sublinear_tf = sublinear_tf
        self.use_idf = use_idf
        self.min_df = min_df
        self.max_features = max_features
        self.n_features = n_features

    def _vectorizer_kwargs(self) -> dict[str, Any]:
        return {
            "analyzer": "word",
            "ngram_range": tuple(self.ngram_range),
            "lowercase": self.lowercase,
            "token_pattern": WORD_TOKEN_PATTERN,
        }
