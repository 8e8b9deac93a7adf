"""The fixed feature space that fingerprints live in.

A fingerprint is a set of sufficient statistics (count, mean, scatter) of a
model's texts *in some feature space*.  For fingerprints built by different
people, on different machines, from different texts to be comparable, they
must share the space: a :class:`FeatureSpace` is fitted once (most-frequent
character and word n-grams, a PCA projection of them, and style-marker
scaling), saved, and identified by a content hash (``space_id``).

Blocks, in column order:

``ngram``
    Sublinear term frequencies of the most frequent character 1-4-grams and
    word 1-2-grams (classical "most frequent words" stylometry), each block
    L2-normalised, centred and projected on its top principal components.
``style``
    :class:`~fingerprint.features.style.StyleMarkers`, signed-log scaled and
    standardised.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted

from fingerprint._validation import check_texts
from fingerprint.features.ngrams import WORD_TOKEN_PATTERN
from fingerprint.features.style import STYLE_MARKER_NAMES, StyleMarkers
from fingerprint.io import FingerprintFileError, read_bundle, write_bundle

__all__ = ["Block", "FeatureSpace"]


@dataclass(frozen=True)
class Block:
    """A named, contiguous slice of the feature space's columns."""

    name: str
    start: int
    stop: int

    @property
    def size(self) -> int:
        """Number of columns."""
        return self.stop - self.start


def _signed_log(a: np.ndarray) -> np.ndarray:
    return np.sign(a) * np.log1p(np.abs(a))


def _sublinear_l2(C: sp.csr_matrix) -> sp.csr_matrix:
    """Counts -> sublinear tf ``log(1 + tf)``, rows scaled to unit L2 norm (copies its input)."""
    C = C.astype(np.float32)
    C.data = np.log1p(C.data)
    return normalize(C)


class FeatureSpace(TransformerMixin, BaseEstimator):
    """Map texts to dense vectors in a fixed, shareable space.

    Parameters
    ----------
    n_char : int, default=4000
        Most frequent character 1-4-grams kept.
    n_word : int, default=2000
        Most frequent word 1-2-grams kept (punctuation marks are words).
    n_components : int, default=512
        Principal components kept of the n-gram block (capped by the data).
    ngram_scale : float, default=1.0
        Multiplier of the n-gram block relative to the (unit-variance) style
        block; a per-block weight for the downstream Gaussian model.
    random_state : int, default=0
        Seed of the randomized SVD.

    Attributes
    ----------
    vocabulary_char_, vocabulary_word_ : ndarray of str
        The kept n-grams.
    components_ : ndarray of shape (n_components, n_char + n_word)
        Projection of the centred n-gram block.
    ngram_mean_ : ndarray of shape (n_char + n_word,)
    style_mean_, style_scale_ : ndarray of shape (n_style,)
    blocks_ : tuple of Block
    space_id_ : str
        Content hash; fingerprints record it and refuse to mix spaces.

    Examples
    --------
    >>> texts = ["Sure! Here is how.", "Certainly. **Step 1**: do it.", "I hope this helps!"]
    >>> space = FeatureSpace(n_char=50, n_word=20, n_components=2).fit(texts)
    >>> space.transform(texts).shape == (3, space.n_features_out_)
    True
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "space.npz")
    >>> FeatureSpace.load(space.save(path)).space_id_ == space.space_id_
    True
    """

    def __init__(
        self,
        n_char: int = 4000,
        n_word: int = 2000,
        n_components: int = 512,
        ngram_scale: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.n_char = n_char
        self.n_word = n_word
        self.n_components = n_components
        self.ngram_scale = ngram_scale
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> FeatureSpace:
        """Learn vocabularies, the n-gram projection and style scaling from texts.

        Parameters
        ----------
        X : sequence of str
            Texts; ideally many models' outputs on many prompts.
        y : ignored
            The space is unsupervised, so it does not favour the models it was fitted on.

        Returns
        -------
        self
        """
        self._fit(check_texts(X))
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit and return the features of the same texts in one pass over them.

        Parameters
        ----------
        X : sequence of str
        y : ignored

        Returns
        -------
        ndarray of shape (n_texts, n_features_out_)
        """
        return self._fit(check_texts(X))

    def _fit(self, texts: list[str]) -> np.ndarray:
        if len(texts) < 2:
            raise ValueError(f"FeatureSpace.fit needs at least 2 texts, got {len(texts)}")
        vocabs, blocks = [], []
        for analyzer, kw, k in (
            ("char", {"ngram_range": (1, 4)}, self.n_char),
            ("word", {"ngram_range": (1, 2), "token_pattern": WORD_TOKEN_PATTERN}, self.n_word),
        ):
            # one counting pass: keep the k n-grams in most texts (MFW lists rank by document
            # frequency; ties go to the alphabetically first, names being sorted already)
            cv = CountVectorizer(analyzer=analyzer, lowercase=False, dtype=np.float32, **kw)
            C = cv.fit_transform(texts).tocsc()
            df = np.diff(C.indptr)
            keep = np.sort(np.argsort(-df, kind="stable")[:k])
            vocabs.append(cv.get_feature_names_out()[keep].astype(str))
            blocks.append(_sublinear_l2(C[:, keep].tocsr()))
        self.vocabulary_char_, self.vocabulary_word_ = vocabs
        self._build_vectorizers()
        Z = sp.hstack(blocks).tocsr()
        self.ngram_mean_ = np.asarray(Z.mean(axis=0)).ravel()
        k = int(min(self.n_components, Z.shape[0] - 1, Z.shape[1]))
        Zc = Z.toarray() - self.ngram_mean_
        _, _, vt = randomized_svd(Zc, k, n_iter=4, random_state=self.random_state)
        # stored in float16 (halves a shipped space); rounded now so fit and transform agree exactly
        self.components_ = vt.astype(np.float16).astype(np.float32)
        proj = Zc @ self.components_.T.astype(np.float64)
        # one scale for the whole block keeps relative PC variances intact
        self.ngram_unit_ = float(np.sqrt((proj**2).sum(axis=1).mean() / k)) or 1.0
        S = _signed_log(self._style.transform(texts))
        self.style_mean_ = S.mean(axis=0)
        sd = S.std(axis=0)
        self.style_scale_ = np.where(sd > 1e-9, sd, 1.0)
        self._finish()
        return np.hstack([proj * self._ngram_factor, (S - self.style_mean_) / self.style_scale_])

    def _build_vectorizers(self) -> None:
        self._cv_char = CountVectorizer(
            analyzer="char", ngram_range=(1, 4), lowercase=False, vocabulary=list(self.vocabulary_char_)
        )
        self._cv_word = CountVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            lowercase=False,
            token_pattern=WORD_TOKEN_PATTERN,
            vocabulary=list(self.vocabulary_word_),
        )
        self._style = StyleMarkers().fit(["x"])

    def _finish(self) -> None:
        k = self.components_.shape[0]
        ns = len(STYLE_MARKER_NAMES)
        self.blocks_ = (Block("ngram", 0, k), Block("style", k, k + ns))
        self.n_features_out_ = k + ns
        self.n_features_in_ = 1
        self.space_id_ = self._hash()
        # cached for the transform hot path: float64 projection and its constant offset
        self._ngram_factor = self.ngram_scale / self.ngram_unit_
        self._proj = self.components_.T.astype(np.float64)
        self._proj_offset = self.ngram_mean_ @ self._proj
        self._ngram_names = np.concatenate(
            [
                np.char.add("char:", self.vocabulary_char_.astype(str)),
                np.char.add("word:", self.vocabulary_word_.astype(str)),
            ]
        )

    def _hash(self) -> str:
        h = hashlib.sha256()
        for _name, a in sorted(self._arrays().items()):
            a = np.ascontiguousarray(a)
            h.update(a.dtype.str.encode())
            h.update(a.tobytes())
        h.update(repr(float(self.ngram_scale)).encode())
        return h.hexdigest()[:16]

    # -- transforming -------------------------------------------------------
    def _ngram_matrix(self, texts: list[str]) -> sp.csr_matrix:
        blocks = [_sublinear_l2(cv.transform(texts)) for cv in (self._cv_char, self._cv_word)]
        return sp.hstack(blocks).tocsr()

    def transform(self, X: Any) -> np.ndarray:
        """Map texts to ``(n_texts, n_features_out_)`` float64 vectors.

        Parameters
        ----------
        X : sequence of str

        Returns
        -------
        ndarray
        """
        return self._transform(check_texts(X))[0]

    def _transform(self, texts: list[str], return_ngrams: bool = False) -> tuple[np.ndarray, Any]:
        check_is_fitted(self, "space_id_", msg="This FeatureSpace is not fitted: call fit(texts) or load one.")
        Z = self._ngram_matrix(texts)
        ng = (Z @ self._proj - self._proj_offset) * self._ngram_factor
        st = (_signed_log(self._style.transform(texts)) - self.style_mean_) / self.style_scale_
        return np.hstack([np.asarray(ng), st]), (Z if return_ngrams else None)

    def ngram_weights(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Back-project weights on the n-gram PCs to weights on n-grams.

        Returns the n-gram names and ``components_.T @ w`` (rescaled), so a
        linear score over PCs can be explained by concrete n-grams.
        """
        check_is_fitted(self, "space_id_")
        return self._ngram_names, (self._proj @ w) * self._ngram_factor

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Column names: ``ngram_pc<i>`` then ``style:<marker>``."""
        check_is_fitted(self, "space_id_")
        k = self.components_.shape[0]
        return np.array([f"ngram_pc{i}" for i in range(k)] + [f"style:{n}" for n in STYLE_MARKER_NAMES], dtype=object)

    def block(self, name: str) -> Block:
        """Return the :class:`Block` called ``name``."""
        for b in self.blocks_:
            if b.name == name:
                return b
        raise KeyError(f"no block {name!r}; blocks are {[b.name for b in self.blocks_]}")

    # -- persistence --------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "vocabulary_char": self.vocabulary_char_,
            "vocabulary_word": self.vocabulary_word_,
            "components": self.components_.astype(np.float16),
            "ngram_mean": self.ngram_mean_,
            "style_mean": self.style_mean_,
            "style_scale": self.style_scale_,
            "ngram_unit": np.array(self.ngram_unit_),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save atomically as a checksummed ``.npz`` (no pickle)."""
        check_is_fitted(self, "space_id_")
        meta = {
            "params": self.get_params(),
            "space_id": self.space_id_,
            "style_markers": list(STYLE_MARKER_NAMES),
        }
        return write_bundle(path, "feature_space", meta, self._arrays())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FeatureSpace:
        """Load a space saved by :meth:`save`, verifying its checksum and id."""
        meta, arr = read_bundle(path, "feature_space")
        if meta.get("style_markers") != list(STYLE_MARKER_NAMES):
            raise FingerprintFileError(
                f"{path}: saved with a different set of style markers than this library version has"
            )
        self = cls(**meta["params"])
        self.vocabulary_char_ = arr["vocabulary_char"]
        self.vocabulary_word_ = arr["vocabulary_word"]
        self.components_ = arr["components"].astype(np.float32)
        self.ngram_mean_ = arr["ngram_mean"]
        self.style_mean_ = arr["style_mean"]
        self.style_scale_ = arr["style_scale"]
        self.ngram_unit_ = float(arr["ngram_unit"])
        self._build_vectorizers()
        self._finish()
        if self.space_id_ != meta["space_id"]:
            raise FingerprintFileError(f"{path}: feature-space id mismatch (file was altered)")
        return self

    @classmethod
    def default(cls) -> FeatureSpace:
        """The space shipped with the package (fitted on many LLMs' answers).

        Fingerprints built in the default space are interoperable with each
        other and with the built-in references.

        Raises
        ------
        FileNotFoundError
            When this installation ships no default space.

        Examples
        --------
        >>> from fingerprint import FeatureSpace
        >>> space = FeatureSpace.default()
        >>> space.transform(["Certainly! Here is a concise overview."]).shape
        (1, 584)
        """
        return _load_default()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


@lru_cache(maxsize=1)
def _load_default() -> FeatureSpace:
    # the default space is the built-in reference set's space: one copy in the package
    p = Path(str(resources.files("fingerprint") / "data" / "builtin_references" / "space.npz"))
    if not p.is_file():
        raise FileNotFoundError(
            "this installation ships no default feature space; fit one with "
            "FeatureSpace().fit(texts) or pass space=refs.space"
        )
    return FeatureSpace.load(p)
