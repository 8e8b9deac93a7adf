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
``score`` (only when the space is fitted with labels)
    One linear score per model the space was fitted on: a linear SVM over
    *all* hashed character 1-4-grams and word 1-2-grams (sublinear tf, L2),
    pruned to the ``n_score_features`` most informative hashed n-grams.  This
    is how the fixed-size fingerprint still sees the long tail of rare
    n-grams that the PCA block cannot hold.  On the training texts the scores
    are *cross-fitted* (each text scored by a model that never saw its prompt
    group), and new texts are scored by the average of those fold models, so
    fingerprints built from the training texts have the centre and spread
    that new texts' scores will have.
``embedding`` (only with ``embeddings=``)
    Sentence-transformers embeddings (:class:`~fingerprint.features.embeddings.EmbeddingFeatures`),
    scaled to unit RMS per column times ``embedding_scale``.  Off by default:
    on ``alpaca_eval_train`` they encode the *topic* and lowered accuracy at
    every weight we measured (docs/method.md).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.svm import LinearSVC
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted

from fingerprint.features import fastgrams
from fingerprint.features.ngrams import LEGACY_TOKEN_PATTERN, WORD_TOKEN_PATTERN, weight_counts
from fingerprint.features.style import STYLE_MARKER_NAMES, StyleMarkers
from fingerprint.io import FingerprintFileError, generation_folder, read_bundle, write_bundle
from fingerprint.validation import (
    check_aligned,
    check_choice,
    check_float,
    check_groups,
    check_int,
    check_n_jobs,
    check_texts,
    encode_labels,
    groups_column,
    plain_value,
    progress_bar,
)

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


# hashed n-grams of the score block: 2**20 buckets per analyzer (few collisions, no vocabulary to store)
_HASH_BITS = 20


#: Word tokens of the score block: ``"cased"`` keeps case and punctuation marks (the library's word
#: n-grams); ``"lowercase"`` is the tokenisation of spaces saved before the choice existed
#: (lower-cased words of 2+ characters, punctuation dropped: scikit-learn's defaults), kept so they
#: load and transform exactly as they were fitted.
SCORE_WORDS = ("cased", "lowercase")


def _analyse(
    texts: list[str], score_words: str | None
) -> tuple[fastgrams.Spans, fastgrams.Spans, fastgrams.Spans | None]:
    """The texts' character 1-4-grams, word 1-2-grams and (with ``score_words``) the score block's word n-grams.

    One analysis serves the vocabulary block and the hashed score block (the same n-grams).
    """
    chars = fastgrams.char_spans(texts, (1, 4))
    words = fastgrams.word_spans(texts, (1, 2), WORD_TOKEN_PATTERN)
    if score_words is None:
        return chars, words, None
    # "lowercase": scikit-learn's default tokenisation of spaces saved before the choice existed
    score = words if score_words == "cased" else fastgrams.word_spans(texts, (1, 2), LEGACY_TOKEN_PATTERN, True)
    return chars, words, score


def _hashed_ngrams(spans: tuple[fastgrams.Spans, fastgrams.Spans, fastgrams.Spans | None]) -> sp.csr_matrix:
    """All character 1-4-grams and word 1-2-grams, hashed; log(1 + tf), L2 per analyzer."""
    chars, _, words = spans
    assert words is not None
    return sp.hstack(
        [weight_counts(fastgrams.hashed_counts(s, 2**_HASH_BITS)) for s in (chars, words)]
    ).tocsr()


def _positive_unit(a: np.ndarray) -> float:
    """A saved block's scale: one finite positive number (blocks are divided by it)."""
    if np.shape(a) != () or not (np.isfinite(a) and a > 0):
        raise ValueError(f"a block's unit must be one finite positive number, got {a!r}")
    return float(a)


def _chunk_bounds(lengths: list[int], max_chars: int) -> list[int]:
    """Start of each chunk of texts of at most ``max_chars`` characters (a longer text alone), then the end."""
    bounds, total = [0], 0
    for i, n in enumerate(lengths):
        if total and total + n > max_chars:
            bounds.append(i)
            total = 0
        total += n
    return [*bounds, len(lengths)]


def _even_runs(lengths: np.ndarray, jobs: int) -> list[tuple[int, int]]:
    """Bounds of ``jobs`` contiguous runs of texts with about equal numbers of characters."""
    ends = np.cumsum(lengths)
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, jobs) / jobs) if len(ends) else []
    return list(itertools.pairwise(sorted({0, *np.asarray(cuts).tolist(), len(lengths)})))


def _indexed(i: int, f: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, Any]:
    return i, f(*args, **kwargs)


def _run_overlapped(tasks: list[Any], main_task: Callable[[], Any], n_jobs: int | None) -> tuple[list[Any], Any]:
    """Run joblib ``tasks`` in worker processes and ``main_task`` in this one; return their results.

    ``main_task`` starts once every task has started and a worker has finished its last one, so it
    fills the time that worker would sit idle instead of slowing the others down.  In a fit, 5 score
    folds and the style markers on 2 workers leave one idle for most of the last fold (~80 s of a
    ~250 s fit), and the n-gram block's vocabulary, matrix and SVD (~25 s) fit in it.
    """
    results: list[Any] = [None] * len(tasks)
    # the main task's turn: after this many results (0: a worker is idle from the start)
    turn = max(len(tasks) - effective_n_jobs(n_jobs) + 1, 0)
    work = (delayed(_indexed)(i, f, *a, **kw) for i, (f, a, kw) in enumerate(tasks))
    done = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(work)  # dispatching starts here
    out = main_task() if turn == 0 else None
    for n_done, (i, r) in enumerate(done, 1):
        results[i] = r
        if n_done == turn:
            out = main_task()
    return results, out


def _signed_log(a: np.ndarray) -> np.ndarray:
    return np.sign(a) * np.log1p(np.abs(a))


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
    n_score_features : int, default=100000
        Hashed n-grams kept by the ``score`` block (0 disables the block).
        The block is learned only when :meth:`fit` is given labels.
    score_scale : float, default=8.0
        Multiplier of the ``score`` block after scaling it to unit RMS (the
        other blocks have unit RMS per column).  Chosen by prompt-grouped CV on
        ``alpaca_eval_train``'s train prompts (see docs/method.md): the LDA's
        shrinkage toward a scaled identity favours a strong block.
    score_C : float, default=0.5
        Regularisation of the score block's linear SVM.
    score_words : {"cased", "lowercase"}, default="cased"
        Word tokens of the score block: ``"cased"`` keeps case and punctuation
        marks, as the ``ngram`` block does; ``"lowercase"`` is the tokenisation
        of spaces saved by versions before this parameter (loaded as such).
    n_folds : int, default=4
        Folds for cross-fitting the training texts' scores (grouped by
        ``groups`` when :meth:`fit` gets them).  4 rather than 5: each fold fits
        the score block's SVM once, and 4 folds run in two rounds on 2 or 4
        cores where 5 take three (a fit of ``alpaca_eval_train`` on 2 cores: 173 s
        instead of 231 s, ``dev`` top-1 0.406 and 0.405; ``benchmarks/results/speed.md``).
    embeddings : EmbeddingFeatures, optional
        Add an ``embedding`` block from this (cloned) extractor.  Its model is
        recorded by content hash; runtime settings (``device``, ``cache_dir``,
        ``batch_size``) can be changed on ``embeddings_`` after loading.
    embedding_scale : float, default=1.0
        Multiplier of the ``embedding`` block (after scaling it to unit RMS per column).
    n_jobs : int, optional
        Worker processes for fitting the score block's cross-fitting models, and for
        :meth:`transform` of inputs of 500,000 characters or more (joblib convention: ``None`` is 1,
        ``-1`` all cores).  Results do not depend on it.  A saved space keeps it, so the built-in
        space has the 2 it was built with; set ``space.n_jobs`` for the machine at hand.
    random_state : int, default=0
        Seed of the randomized SVD and of ungrouped folds.

    Attributes
    ----------
    vocabulary_char_, vocabulary_word_ : ndarray of str
        The kept n-grams.
    components_ : ndarray of shape (n_components, n_char + n_word)
        Projection of the centred n-gram block.
    score_classes_ : ndarray of str
        Models the ``score`` block scores (empty when the space was fitted without labels).
    score_index_ : ndarray of int32
        Kept hashed n-gram columns of the score block.
    score_coef_ : ndarray of shape (n_kept, n_scores)
        Linear weights of the kept columns (stored float16).
    ngram_mean_ : ndarray of shape (n_char + n_word,)
    style_mean_, style_scale_ : ndarray of shape (n_style,)
    heldout_spread_ : ndarray of shape (n_features_out_,)
        Per column, a new text's variance over that of the texts the space was
        fitted on, estimated on the score block's cross-fitting folds (at most 1;
        1 outside the ``ngram`` block, and everywhere when there are no folds:
        without labels or with ``n_score_features=0``).  The texts a PCA is fitted
        on spread more along its components than new texts do;
        :func:`~fingerprint.building.fit_references` uses this to calibrate on the
        training texts as if they were new.  A property of the fit, not of the
        space: not written by :meth:`save` (a pickle keeps it), and not part of
        ``space_id_``.
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
        n_score_features: int = 100_000,
        score_scale: float = 8.0,
        score_C: float = 0.5,
        score_words: str = "cased",
        n_folds: int = 4,
        embeddings: Any = None,
        embedding_scale: float = 1.0,
        n_jobs: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_char = n_char
        self.n_word = n_word
        self.n_components = n_components
        self.ngram_scale = ngram_scale
        self.n_score_features = n_score_features
        self.score_scale = score_scale
        self.score_C = score_C
        self.score_words = score_words
        self.n_folds = n_folds
        self.embeddings = embeddings
        self.embedding_scale = embedding_scale
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------
    def fit(self, X: Any, y: Any = None, groups: Any = None) -> FeatureSpace:
        """Learn vocabularies, the n-gram projection, style scaling and (with labels) the score block.

        Parameters
        ----------
        X : sequence of str
            Texts; ideally many models' outputs on many prompts.
        y : sequence of str, optional
            Model of each text.  Without labels the space is unsupervised (no
            ``score`` block); with them it also learns one linear score per model.
        groups : sequence or str, optional
            Prompt id (or other group) per text: the score block's cross-fitting
            folds never split a group.  A string names a column of the table passed as ``X``.

        Returns
        -------
        self
        """
        texts = check_texts(X)
        check_aligned(X, y, "y")
        self._fit(texts, y, self._groups(groups, X, len(texts)))
        return self

    def fit_transform(self, X: Any, y: Any = None, groups: Any = None) -> np.ndarray:
        """Fit and return the features of the same texts in one pass over them.

        The ``score`` block of the returned training features is cross-fitted
        (see the class docstring), so it differs from ``transform`` on the
        same texts, which would score them with a model that saw them.

        Parameters
        ----------
        X : sequence of str
        y : sequence of str, optional
        groups : sequence, optional

        Returns
        -------
        ndarray of shape (n_texts, n_features_out_)
        """
        texts = check_texts(X)
        check_aligned(X, y, "y")
        return self._fit(texts, y, self._groups(groups, X, len(texts)))

    @staticmethod
    def _groups(groups: Any, X: Any, n: int) -> np.ndarray | None:
        """``groups``, or the column of the table ``X`` it names (``groups="prompt_id"``), checked for ``n`` texts."""
        return check_groups(groups_column(groups, X), n)

    def _check_params(self) -> None:
        own = "FeatureSpace"
        check_int(self.n_char, "n_char", low=1, owner=own)
        check_int(self.n_word, "n_word", low=1, owner=own)
        check_int(self.n_components, "n_components", low=1, owner=own)
        check_float(self.ngram_scale, "ngram_scale", low=0, low_open=True, owner=own)
        check_int(self.n_score_features, "n_score_features", low=0, owner=own)
        check_float(self.score_scale, "score_scale", low=0, low_open=True, owner=own)
        check_float(self.score_C, "score_C", low=0, low_open=True, owner=own)
        check_choice(self.score_words, "score_words", SCORE_WORDS, owner=own)
        check_int(self.n_folds, "n_folds", low=2, owner=own)
        check_float(self.embedding_scale, "embedding_scale", low=0, low_open=True, owner=own)
        check_n_jobs(self.n_jobs, owner=own)
        # an int, as everywhere in this library: None gave another space id at every fit, and a RandomState
        # fitted, then failed to save (not JSON)
        check_int(self.random_state, "random_state", low=0, owner=own)
        if self.embeddings is not None and not hasattr(self.embeddings, "fit_transform"):
            raise TypeError(f"{own}: embeddings must be an EmbeddingFeatures extractor, got {self.embeddings!r}")

    def _fit(self, texts: list[str], y: Any = None, groups: Any = None) -> np.ndarray:
        if _is_shared_default(self):
            raise ValueError(
                "this is the shared default space (FeatureSpace.default(), the built-in set's): fitting it would "
                "change every default attribution in this process; fit a clone: sklearn.base.clone(space).fit(...)"
            )
        self._check_params()
        if len(texts) < 2:
            raise ValueError(f"FeatureSpace.fit needs at least 2 texts, got n_samples={len(texts)}")
        self._no_scores()
        plan = self._score_folds(texts, y, groups) if y is not None and self.n_score_features > 0 else None
        spans = _analyse(texts, self.score_words if plan else None)  # one analysis for every block
        H = _hashed_ngrams(spans) if plan else None
        held = [spans[:2]]  # the n-gram block's spans, freed as soon as that block is fitted
        del spans
        self._style = StyleMarkers().fit(["x"])
        lengths, jobs = self._workers_for(texts)
        # the style markers run in the score block's workers, after its folds: 5 folds on 2 workers
        # leave one idle for the last fold, and the markers (~1 ms per answer) and, in this process,
        # the n-gram block fit in that time
        style_runs = [delayed(self._style.transform)(texts[a:b]) for a, b in _even_runs(lengths, jobs)]
        folds = plan[2] if plan else None
        scores, style_parts, (proj, ratio) = self._fit_scores(
            len(texts), H, plan, style_runs, lambda: self._fit_ngrams(held, folds)
        )
        emb = self._fit_embeddings(texts)
        S = _signed_log(np.vstack(style_parts))
        self.style_mean_ = S.mean(axis=0)
        sd = S.std(axis=0)
        self.style_scale_ = np.where(sd > 1e-9, sd, 1.0)
        self._finish()
        ng = self.block("ngram")
        self.heldout_spread_ = np.ones(self.n_features_out_)
        self.heldout_spread_[ng.start : ng.stop] = ratio
        parts = [proj * self._ngram_factor, (S - self.style_mean_) / self.style_scale_, scores]
        return np.hstack([*parts, emb * self._embedding_factor] if emb is not None else parts)

    def _fit_ngrams(
        self, held: list[tuple[fastgrams.Spans, fastgrams.Spans]], folds: list[Any] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fit the n-gram block on the spans in ``held`` (emptied: they are freed).

        Returns the texts' projection and, per component, the ratio of a new text's variance to a
        training text's, estimated over ``folds`` (the score block's; all ones without them).
        """
        chars, words = held.pop()
        # the n-grams found in most texts (the vocabularies CharNgrams((1, 4)) and WordNgrams((1, 2))
        # learn with max_features), log(1 + tf), no idf, L2 per analyzer
        self.vocabulary_char_ = np.asarray(fastgrams.top_ngrams(chars, self.n_char), dtype=str)
        self.vocabulary_word_ = np.asarray(fastgrams.top_ngrams(words, self.n_word), dtype=str)
        self._char_index = fastgrams.VocabularyIndex(list(self.vocabulary_char_))
        self._word_index = fastgrams.VocabularyIndex(list(self.vocabulary_word_))
        Z = self._ngram_matrix((chars, words, None))
        del chars, words  # the largest objects of a fit (~32 bytes per n-gram)
        self.ngram_mean_ = np.asarray(Z.mean(axis=0)).ravel()
        k = int(min(self.n_components, Z.shape[0] - 1, Z.shape[1]))
        Zc = Z.toarray() - self.ngram_mean_
        del Z
        _, _, vt = randomized_svd(Zc, k, n_iter=4, random_state=self.random_state)
        # stored in float16 (halves a shipped space); rounded now so fit and transform agree exactly
        self.components_ = vt.astype(np.float16).astype(np.float32)
        proj = Zc @ self.components_.T.astype(np.float64)
        # one scale for the whole block keeps relative PC variances intact
        self.ngram_unit_ = float(np.sqrt((proj**2).sum(axis=1).mean() / k)) or 1.0
        return proj, self._heldout_spread(Zc, k, folds)

    def _heldout_spread(self, Zc: np.ndarray, k: int, folds: list[Any] | None) -> np.ndarray:
        """Per component, a new text's variance over a training text's, by cross-validation (at most 1).

        The texts a PCA is fitted on are spread more along its components than new texts are
        (components 50-100 of ``alpaca_eval_train``'s space: 26 % more), so a calibration fitted on
        them expects more spread than new texts have, and the classifier comes out under-confident.
        Per fold: a PCA of the other folds, and the ratio of the held-out fold's variance to the
        fitted texts' along each of its components (matched by rank; unbiased variances, so that
        a small held-out fold is not read as a narrow one); averaged over folds.  Components a fold
        cannot estimate (beyond its texts' rank) keep 1.
        """
        if not folds:
            return np.ones(k)
        ratios = []
        for train, test in folds:
            kj = int(min(k, len(train) - 1))
            if kj < 1 or len(test) < 2:
                continue
            # float32, copied in chunks: a float64 copy of the fold would add ~0.5 GB to a fit's peak
            Zt = np.empty((len(train), Zc.shape[1]), dtype=np.float32)
            for a in range(0, len(train), 2048):
                Zt[a : a + 2048] = Zc[train[a : a + 2048]]
            mean = Zt.mean(axis=0, dtype=np.float64)
            Zt -= mean.astype(np.float32)
            _, _, vt = randomized_svd(Zt, kj, n_iter=4, random_state=self.random_state)
            inside = (Zt @ vt.T).var(axis=0, dtype=np.float64, ddof=1)
            del Zt
            outside = ((Zc[test] - mean) @ vt.T.astype(np.float64)).var(axis=0, ddof=1)
            r = np.ones(k)
            r[:kj] = outside / np.where(inside > 0, inside, 1.0)
            ratios.append(r)
        return np.minimum(np.mean(ratios, axis=0), 1.0) if ratios else np.ones(k)

    def _fit_embeddings(self, texts: list[str]) -> np.ndarray | None:
        self.embeddings_ = None
        self._embedding_saved_meta = self._embedding_missing = None  # fitted here: describe what was fitted
        self.embedding_model_hash_ = None
        self.embedding_unit_ = 1.0
        if self.embeddings is None:
            return None
        from sklearn.base import clone

        self.embeddings_ = clone(self.embeddings)
        E = self.embeddings_.fit_transform(texts)
        # fit already hashed the model when it uses a cache
        self.embedding_model_hash_ = self.embeddings_.model_hash_ or self.embeddings_.model_hash()
        self._embedding_checked = True
        self.embedding_unit_ = float(np.sqrt(((E - E.mean(axis=0)) ** 2).mean())) or 1.0
        return E

    def _no_scores(self) -> None:
        """The state of a space without a score block."""
        self.score_classes_ = np.array([], dtype=str)
        self.score_index_ = np.zeros(0, dtype=np.int32)
        self.score_coef_ = np.zeros((0, 0), dtype=np.float32)
        self.score_intercept_ = np.zeros(0)
        self.score_unit_ = 1.0

    def _score_folds(self, texts: list[str], y: Any, groups: Any) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """The score block's labels (as str), classes and cross-fitting folds; checked before any n-gram work."""
        labels, _, _ = encode_labels(y, len(texts))  # any hashable labels; each scored as str(label)
        y = np.array([str(lab) for lab in labels.tolist()], dtype=object)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError(f"the score block needs texts of at least 2 models, got {list(classes)}")
        if groups is not None:
            groups = np.asarray(groups)
            if len(groups) != len(texts):
                raise ValueError(f"groups has {len(groups)} entries for {len(texts)} texts")
            n_splits = min(self.n_folds, len(np.unique(groups)))
            splitter: Any = GroupKFold
        else:
            n_splits = min(self.n_folds, int(counts.min()))
            splitter = partial(StratifiedKFold, shuffle=True, random_state=self.random_state)
        if n_splits < 2:
            raise ValueError("cross-fitting the score block needs at least 2 groups and 2 texts per model")
        folds = list(splitter(n_splits).split(np.zeros((len(texts), 1)), y, groups))
        for train, _ in folds:
            if len(np.unique(y[train])) != len(classes):
                raise ValueError("a cross-fitting fold lacks some model's texts; give each model more groups")
        return y, classes, folds

    def _fit_scores(
        self, n_texts: int, H: sp.csr_matrix | None, plan: tuple[np.ndarray, np.ndarray, list[Any]] | None,
        side_tasks: list[Any], main_task: Callable[[], Any],
    ) -> tuple[np.ndarray, list[Any], Any]:
        """Learn the score block from the texts' hashed n-grams ``H``; return their cross-fitted, scaled scores.

        ``plan`` is :meth:`_score_folds`' (``None``: no score block).  ``side_tasks`` (joblib ``delayed``
        calls) run in the same workers after the folds; their results come back second.  ``main_task``
        runs in this process once a worker has nothing left to start (see :func:`_run_overlapped`);
        its result comes back third.
        """
        if plan is None or H is None:
            return np.zeros((n_texts, 0)), [f(*a, **kw) for f, a, kw in side_tasks], main_task()
        y, classes, folds = plan
        # the workers get these, not the space: main_task fits the rest of the space while they run
        C, seed, n_keep = self.score_C, self.random_state, self.n_score_features

        def fit_pruned(rows: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            svm = LinearSVC(C=C, random_state=seed).fit(H[rows], y[rows])
            coef = svm.coef_  # (n_scores, n_buckets); one row for two classes
            keep = np.sort(np.argsort(-np.einsum("kf,kf->f", coef, coef), kind="stable")[:n_keep])
            # float16 as stored, so cross-fitted and transformed scores use the same rounding
            return keep.astype(np.int32), coef[:, keep].T.astype(np.float16).astype(np.float32), svm.intercept_

        oof = np.zeros((n_texts, 1 if len(classes) == 2 else len(classes)))
        # processes, not threads: liblinear's random generator is global, so threads would make
        # the result depend on scheduling (joblib memory-maps H for the workers)
        done, main = _run_overlapped(
            [*(delayed(fit_pruned)(train) for train, _ in folds), *side_tasks], main_task, self.n_jobs
        )
        fitted, side = done[: len(folds)], done[len(folds) :]
        for (_, test), (keep, coef, b) in zip(folds, fitted, strict=True):
            oof[test] = H[test][:, keep] @ coef + b
        # New texts are scored by the *average* of the fold models (a bagged SVM), not by a model
        # refitted on all texts: the fold models are what produced the training fingerprints' scores,
        # so new texts' scores have the same centre and scale.  A refit model's scores on held-out
        # texts were ~11 % more spread and shifted toward the true model, which the set-level audit
        # (many texts, tiny standard errors) read as "not the same model".
        idx = np.concatenate([keep for keep, _, _ in fitted])
        union, inv = np.unique(idx, return_inverse=True)
        total = np.zeros((len(union), fitted[0][1].shape[1]))
        np.add.at(total, inv, np.concatenate([coef for _, coef, _ in fitted]))
        total /= len(fitted)
        top = np.sort(np.argsort(-np.einsum("fk,fk->f", total, total), kind="stable")[: self.n_score_features])
        self.score_index_ = union[top].astype(np.int32)
        self.score_coef_ = total[top].astype(np.float16).astype(np.float32)
        self.score_intercept_ = np.mean([b for _, _, b in fitted], axis=0)
        self.score_classes_ = classes.astype(str)
        # one scale for the block (unit RMS of the centred held-out scores) keeps score differences intact
        self.score_unit_ = float(np.sqrt(((oof - oof.mean(axis=0)) ** 2).mean())) or 1.0
        return oof * (self.score_scale / self.score_unit_), side, main

    def _finish(self) -> None:
        # the parameters as fitted: transform, the id and save read these, so set_params after a fit
        # changes nothing until the next fit (a saved file then failed its own id check, and score_words
        # changed the features under an unchanged id)
        self._fitted_params = self._own_params()
        # the embedding block's computing parameters likewise: transform refuses if they change before a refit
        self._embedding_fitted = None if self.embeddings_ is None else self._embedding_computing()
        k = self.components_.shape[0]
        ns = len(STYLE_MARKER_NAMES)
        nsc = self.score_coef_.shape[1] if self.score_coef_.size else 0
        blocks = [Block("ngram", 0, k), Block("style", k, k + ns)]
        if nsc:
            blocks.append(Block("score", k + ns, k + ns + nsc))
        n = k + ns + nsc
        if self.embeddings_ is not None:
            ne = self.embeddings_.n_features_out_
            blocks.append(Block("embedding", n, n + ne))
            n += ne
        self.blocks_ = tuple(blocks)
        self.n_features_out_ = n
        self._score_factor = self._fitted_params["score_scale"] / self.score_unit_
        self._embedding_factor = self._fitted_params["embedding_scale"] / self.embedding_unit_
        self.n_features_in_ = 1
        self.space_id_ = self._hash()
        self._ngram_factor = self._fitted_params["ngram_scale"] / self.ngram_unit_
        self._derive()

    #: Caches derived from the fitted arrays: not pickled (they would double what a worker receives).
    _DERIVED = ("_proj", "_proj_offset", "_ngram_names", "_char_index", "_word_index", "_score_columns",
                "_feature_names", "_explain_names")  # fmt: skip

    def _derive(self) -> None:
        # cached for the transform hot path: float64 projection and its constant offset
        self._proj = self.components_.T.astype(np.float64)
        self._proj_offset = self.ngram_mean_ @ self._proj
        self._ngram_names = np.concatenate(
            [
                np.char.add("char:", self.vocabulary_char_.astype(str)),
                np.char.add("word:", self.vocabulary_word_.astype(str)),
            ]
        )
        # lookup tables of the fixed vocabularies (fastgrams counts exactly what CountVectorizer would)
        self._char_index = fastgrams.VocabularyIndex(list(self.vocabulary_char_))
        self._word_index = fastgrams.VocabularyIndex(list(self.vocabulary_word_))
        self._score_columns = fastgrams.ColumnSelection(self.score_index_, 2 * 2**_HASH_BITS)
        # names, built once: building them took most of an explanation's time (0.8 of 1.5 ms per text)
        self._feature_names = self._build_feature_names()
        named = self._feature_names[self.block("ngram").stop :]
        self._explain_names = np.concatenate([self._ngram_names.astype(object), named])

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        # the embedding model's check is per process: an unpickled space hashes its model again on first use
        # (the model's files may have changed since; a space pickled after its check used a changed one)
        return {k: v for k, v in state.items() if k not in self._DERIVED and k != "_embedding_checked"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._embedding_checked = False
        if "space_id_" in state:
            if "_fitted_params" not in state:  # pickled before the fitted parameters were kept: take the
                # parameters it carries, which were the fitted ones unless changed after the fit
                self._fitted_params = self._own_params()
            self._derive()

    def _hash(self) -> str:
        h = hashlib.sha256()
        for name, a in sorted(self._arrays().items()):
            if (name.startswith("score_") and not self.score_coef_.size) or (
                name == "embedding_unit" and self.embeddings_ is None
            ):
                continue  # spaces without these blocks keep the ids they had before the blocks existed
            a = np.ascontiguousarray(a)
            h.update(a.dtype.str.encode())
            h.update(a.tobytes())
        fitted = self._fitted_params
        h.update(repr(float(fitted["ngram_scale"])).encode())
        if self.score_coef_.size:
            h.update(repr(float(fitted["score_scale"])).encode())
            if fitted["score_words"] != "lowercase":  # spaces saved before the choice keep their ids
                h.update(f"score_words={fitted['score_words']}".encode())
        if self.embeddings_ is not None:
            h.update(json.dumps(self._embedding_meta(), sort_keys=True).encode())
            h.update(repr(float(fitted["embedding_scale"])).encode())
        return h.hexdigest()[:16]

    # -- transforming -------------------------------------------------------
    def _ngram_matrix(self, spans: tuple[fastgrams.Spans, fastgrams.Spans, Any]) -> sp.csr_matrix:
        chars, words, _ = spans
        return sp.hstack(
            [
                weight_counts(fastgrams.vocabulary_counts(chars, self._char_index)),
                weight_counts(fastgrams.vocabulary_counts(words, self._word_index)),
            ]
        ).tocsr()

    def is_fitted(self) -> bool:
        """Whether the space is fitted (or loaded); a fitted space is never refitted by the estimators.

        Examples
        --------
        >>> FeatureSpace().is_fitted(), FeatureSpace.default().is_fitted()
        (False, True)
        """
        return hasattr(self, "space_id_")

    def __sklearn_is_fitted__(self) -> bool:
        return self.is_fitted()

    def transform(self, X: Any, *, verbose: bool | None = False) -> np.ndarray:
        """Map texts to ``(n_texts, n_features_out_)`` float64 vectors.

        Parameters
        ----------
        X : sequence of str
        verbose : bool or None, default=False
            Show a progress bar (``None``: when stderr is a terminal).

        Returns
        -------
        ndarray
        """
        return self._transform(check_texts(X), verbose=verbose)[0]

    def transform_with_ngrams(self, X: Any, *, verbose: bool | None = False) -> tuple[np.ndarray, sp.csr_matrix]:
        """:meth:`transform`, plus the texts' weighted n-gram vectors that :meth:`explain_linear` can name.

        Parameters
        ----------
        X : sequence of str

        Returns
        -------
        features : ndarray of shape (n_texts, n_features_out_)
        ngrams : scipy.sparse.csr_matrix of shape (n_texts, n_char + n_word)
            The n-gram block before its projection (log(1 + tf), L2 per analyzer).
        """
        return self._transform(check_texts(X), return_ngrams=True, verbose=verbose)

    #: Characters per transform chunk: bounds the n-gram counter's memory (~40 bytes per character,
    #: measured: about 40 MB per chunk) whatever the number of texts.
    _CHUNK_CHARS = 300_000
    #: Fewer characters than this are transformed in this process: starting workers and sending them
    #: the space (~30 MB) costs about what 300 answers take to featurise.
    _PARALLEL_CHARS = 500_000

    def _workers_for(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """The texts' lengths, and how many worker processes they are worth (1: this process)."""
        lengths = np.array([len(t) for t in texts], dtype=np.int64)
        return lengths, effective_n_jobs(self.n_jobs) if lengths.sum() >= self._PARALLEL_CHARS else 1

    def _transform(
        self, texts: list[str], return_ngrams: bool = False, verbose: bool | None = False
    ) -> tuple[np.ndarray, Any]:
        check_is_fitted(self, "space_id_", msg="This FeatureSpace is not fitted: call fit(texts) or load one.")
        self._check_embeddings()
        lengths, jobs = self._workers_for(texts)
        bar = progress_bar(len(texts), "featurising", verbose=verbose)
        if jobs > 1 and self.embeddings_ is None:  # the embedding model stays in this process
            # one contiguous run of about equal characters per worker: the space is sent once per worker
            work = (delayed(self._transform_run)(texts[a:b], return_ngrams) for a, b in _even_runs(lengths, jobs))
            parts = []
            for run in Parallel(n_jobs=jobs, return_as="generator")(work):  # in order, as each run finishes
                parts += run
                bar.update(sum(len(x) for x, _ in run))
        else:
            parts = self._transform_run(texts, return_ngrams, bar, lengths)
        bar.close()
        X = np.vstack([x for x, _ in parts])
        return X, (sp.vstack([z for _, z in parts]).tocsr() if return_ngrams else None)

    def _transform_run(
        self, texts: list[str], return_ngrams: bool, bar: Any = None, lengths: Any = None
    ) -> list[tuple[np.ndarray, Any]]:
        lengths = [len(t) for t in texts] if lengths is None else lengths
        out = []
        for a, b in itertools.pairwise(_chunk_bounds(lengths, self._CHUNK_CHARS)):
            out.append(self._transform_chunk(texts[a:b], return_ngrams))
            if bar is not None:
                bar.update(b - a)
        return out

    def _transform_chunk(self, texts: list[str], return_ngrams: bool) -> tuple[np.ndarray, Any]:
        spans = _analyse(texts, self._fitted_params["score_words"] if self.score_coef_.size else None)
        # dense: ~20 % of the columns are non-zero, where BLAS beats the sparse product ~3x (and the
        # counts go straight into the dense matrix); the values of _ngram_matrix exactly
        Z = fastgrams.dense_weighted_counts([(spans[0], self._char_index), (spans[1], self._word_index)])
        ng = (Z.astype(np.float64) @ self._proj - self._proj_offset) * self._ngram_factor
        st = (_signed_log(self._style.transform(texts)) - self.style_mean_) / self.style_scale_
        parts = [ng, st]
        if self.score_coef_.size:
            # _hashed_ngrams(spans)[:, self.score_index_] @ self.score_coef_, to the last bit, without its
            # 2 * 2**20 columns
            assert spans[2] is not None, "a score block's spaces analyse its word n-grams"
            H = fastgrams.hashed_scores([spans[0], spans[2]], 2**_HASH_BITS, self._score_columns, self.score_coef_)
            parts.append((H + self.score_intercept_) * self._score_factor)
        if self.embeddings_ is not None:
            parts.append(self.embeddings_.transform(texts) * self._embedding_factor)
        return np.hstack(parts), (sp.csr_matrix(Z) if return_ngrams else None)

    def _own_params(self) -> dict[str, Any]:
        """This space's parameters, without the embedding extractor (whose fitted state is its own)."""
        return {k: v for k, v in self.get_params(deep=False).items() if k != "embeddings"}

    def _embedding_computing(self) -> dict[str, Any]:
        """What of the fitted embedding block changes its vectors (not batch size, cache or device)."""
        assert self.embeddings_ is not None, "called for a space with an embedding block"
        params = self.embeddings_.get_params()
        return {k: v for k, v in params.items() if k not in self._EMBEDDING_RUNTIME}

    def _check_embeddings(self) -> None:
        if self.embeddings_ is not None:
            fitted, now = getattr(self, "_embedding_fitted", None), self._embedding_computing()
            if fitted is not None and now != fitted:
                changed = sorted(k for k, v in now.items() if fitted.get(k) != v)
                raise ValueError(
                    f"the embedding block's {', '.join(changed)} changed since the space was fitted (its id and "
                    "saved file describe the fitted block): set them back, or fit the space again"
                )
            missing = getattr(self, "_embedding_missing", None)
            if missing is not None:
                raise ValueError(
                    f"this space's embedding block was fitted with the model {missing!r} (content hash "
                    f"{self.embedding_model_hash_}); models named in files are never loaded (they can run code or "
                    "download): load the space with embedding_model=<that model's directory>"
                )
            if not self._embedding_checked:
                found = self.embeddings_.model_hash()
                if found != self.embedding_model_hash_:
                    raise ValueError(
                        f"this space's embedding block was fitted with model {self.embeddings_.model!r} "
                        f"(content hash {self.embedding_model_hash_}); the model found now has hash {found}"
                    )
                self._embedding_checked = True

    def explain_linear(
        self, w: np.ndarray, x: np.ndarray, mid: np.ndarray, z: np.ndarray | None, top_features: int
    ) -> tuple[tuple[str, float], ...]:
        """Top named terms of the linear score ``sum((x - mid) * w)`` over this space's columns.

        Style and score columns are named directly (``style:<marker>``, ``score:<model>``); when
        the text's (or a set's mean) n-gram vector ``z`` is given (from :meth:`transform_with_ngrams`),
        the n-gram principal components are projected back so the score splits exactly over
        concrete n-grams, otherwise they are reported as ``ngram_pc<i>``.

        Parameters
        ----------
        w : ndarray of shape (n_features_out_,)
            Linear weights.
        x : ndarray of shape (n_features_out_,)
            The input's features.
        mid : ndarray of shape (n_features_out_,)
            The reference point the score is measured from.
        z : ndarray of shape (n_char + n_word,) or None
            The input's n-gram vector.
        top_features : int
            How many terms to return.

        Returns
        -------
        tuple of (str, float)
            Name and contribution, largest first.
        """
        return self.linear_explainer(w, mid, ngrams=z is not None)(x, z, top_features)

    def linear_explainer(
        self, w: np.ndarray, mid: np.ndarray, *, ngrams: bool = True,
        ngram_parts: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Callable[..., tuple[tuple[str, float], ...]]:  # fmt: skip
        """:meth:`explain_linear` for many inputs with the same ``w`` and ``mid``: what depends on them alone
        (the n-gram back-projection, two products with the 6,000 x 512 projection) is computed once.

        Returns ``explain(x, z, top_features, scale=1.0)``; ``scale`` multiplies every contribution (a
        text's ``1 / temperature``: a positive scale never changes which terms are largest).  ``ngrams``
        says whether ``z`` will be given; ``ngram_parts``, when known, is ``(ngram_weights(w_ngram)[1],
        ngram_point(mid_ngram))`` (linear in ``w`` and ``mid``: computed once per class, combined per pair).
        """
        check_is_fitted(self, "space_id_")
        ng = self.block("ngram")
        st = slice(ng.stop, self.n_features_out_)  # style, score (and embedding) blocks: named columns
        w_s, mid_s = w[st], mid[st]
        if ngrams:
            names = self._explain_names
            if ngram_parts is not None:
                u, offset = ngram_parts
            else:
                _, u = self.ngram_weights(w[: ng.stop])
                offset = self.ngram_point(mid[: ng.stop])
        else:
            names = self._feature_names
            w_n, mid_n = w[: ng.stop], mid[: ng.stop]

        def explain(
            x: np.ndarray, z: np.ndarray | None, top_features: int, scale: float = 1.0
        ) -> tuple[tuple[str, float], ...]:
            contrib_s = (x[st] - mid_s) * w_s
            if ngrams:
                contrib = np.concatenate([(z - offset) * u, contrib_s])
            else:
                contrib = np.concatenate([(x[: ng.stop] - mid_n) * w_n, contrib_s])
            k = min(top_features, len(contrib))
            if k <= 0:
                return ()
            # the k largest, ties in column order (deterministic): every column tied with the k-th is a
            # candidate; NaN (only from inputs passed in by hand) ranks last
            key = np.where(np.isnan(contrib), -np.inf, contrib)
            kth = -np.partition(-key, k - 1)[k - 1]
            cand = np.flatnonzero(key >= kth)
            top = cand[np.lexsort((cand, -key[cand]))][:k]
            return tuple((str(names[j]), round(float(contrib[j] * scale), 4)) for j in top)

        return explain

    def ngram_point(self, m: np.ndarray) -> np.ndarray:
        """The n-gram vector(s) that n-gram PC coordinates ``m`` (a column per point) stand for: the mean
        n-gram vector plus the back-projection, so ``(z - ngram_point(m)) * u`` splits a linear score
        measured from ``m`` over concrete n-grams."""
        check_is_fitted(self, "space_id_")
        # the cached float64 projection: `@ self.components_` (float32) copied it to float64 on every
        # call, 25 ms of a 27 ms explanation
        back = self._proj @ (np.asarray(m, dtype=np.float64) / self._ngram_factor)
        return back + (self.ngram_mean_ if back.ndim == 1 else self.ngram_mean_[:, None])

    def ngram_weights(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Back-project weights on the n-gram PCs to weights on n-grams.

        Returns the n-gram names and ``components_.T @ w`` (rescaled), so a
        linear score over PCs can be explained by concrete n-grams.
        """
        check_is_fitted(self, "space_id_")
        return self._ngram_names, (self._proj @ w) * self._ngram_factor

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Column names: ``ngram_pc<i>``, ``style:<marker>``, then ``score:<model>`` (if the block exists).

        Parameters
        ----------
        input_features : ignored
            Kept for scikit-learn's API (the input is texts, not named columns).

        Returns
        -------
        ndarray of str, shape (n_features_out_,)
        """
        check_is_fitted(self, "space_id_")
        return self._feature_names.copy()

    def _build_feature_names(self) -> np.ndarray:
        k = self.components_.shape[0]
        names = [f"ngram_pc{i}" for i in range(k)] + [f"style:{n}" for n in STYLE_MARKER_NAMES]
        if self.score_coef_.size:
            # a two-model space has one score: the second model's margin over the first
            scored = self.score_classes_[-self.score_coef_.shape[1] :]
            names += [f"score:{c}" for c in scored]
        if self.embeddings_ is not None:
            names += [f"embedding:{n}" for n in self.embeddings_.get_feature_names_out()]
        return np.array(names, dtype=object)

    def block(self, name: str) -> Block:
        """Return the :class:`Block` called ``name``.

        Parameters
        ----------
        name : {"ngram", "style", "score", "embedding"}
            One of ``blocks_``' names.

        Returns
        -------
        Block
            Its name and its columns ``start:stop``.

        Raises
        ------
        KeyError
            This space has no such block.
        """
        for b in self.blocks_:
            if b.name == name:
                return b
        raise KeyError(f"no block {name!r}; blocks are {[b.name for b in self.blocks_]}")

    @property
    def length_column(self) -> int:
        """Column of the length feature in :meth:`transform`'s output.

        ``style:log_chars``: log(1 + log(1 + characters)), standardised on the space's fitting texts.

        The calibration makes a text's confidence temperature depend on it
        (:func:`~fingerprint.calibration.fit_length_temperature`).

        Examples
        --------
        >>> space = FeatureSpace.default()
        >>> space.get_feature_names_out()[space.length_column]
        'style:log_chars'
        """
        return self.block("style").start + STYLE_MARKER_NAMES.index("log_chars")

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
            "score_classes": self.score_classes_.astype(str),
            "score_index": self.score_index_.astype(np.int32),
            "score_coef": self.score_coef_.astype(np.float16),
            "score_intercept": np.asarray(self.score_intercept_, dtype=np.float64),
            "score_unit": np.array(self.score_unit_),
            "embedding_unit": np.array(self.embedding_unit_),
        }

    # runtime-only settings of the embedding extractor: not part of the space's identity
    _EMBEDDING_RUNTIME = ("batch_size", "cache_dir", "device", "show_progress_bar")

    def _embedding_meta(self) -> dict[str, Any]:
        saved = getattr(self, "_embedding_saved_meta", None)
        if saved is not None:  # loaded: the file's description (and so its space id), whatever model was supplied
            return saved
        params = self._embedding_computing()
        if params.get("model") is not None:
            params["model"] = os.fspath(params["model"])
        assert self.embeddings_ is not None, "called for a space with an embedding block"
        n = self.embeddings_.n_features_out_
        return {"params": params, "model_hash": self.embedding_model_hash_, "n_features": n}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save atomically as a checksummed ``.npz`` (no pickle).

        Parameters
        ----------
        path : path-like

        Returns
        -------
        Path
            ``path``.
        """
        check_is_fitted(self, "space_id_")
        params = {**self.get_params(deep=False), **self._fitted_params}  # as fitted: what the arrays are
        params = {k: plain_value(v) for k, v in params.items()}  # JSON numbers, not numpy scalars
        params["embeddings"] = None  # stored below, as plain JSON
        meta = {
            "params": params,
            "embeddings": self._embedding_meta() if self.embeddings_ is not None else None,
            "space_id": self.space_id_,
            "style_markers": list(STYLE_MARKER_NAMES),
        }
        return write_bundle(path, "feature_space", meta, self._arrays())

    #: Embedding settings a file may set: what the block computes, nothing that loads or runs code.
    _EMBEDDING_FROM_FILE = ("pooling", "normalize", "max_tokens")

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, embedding_model: str | os.PathLike[str] | None = None
    ) -> FeatureSpace:
        """Load a space saved by :meth:`save`, verifying its checksum and id.

        Loading never runs or downloads anything.  An embedding block's model is never taken from
        the file (a model path or Hub name, ``trust_remote_code`` or a backend could run code or
        download): it is the packaged default model when the space was fitted with it, else the
        ``embedding_model`` you pass; either way its content hash must match the one the file
        records, checked on first use.  Without it, such a space loads, but embedding texts raises.

        Parameters
        ----------
        path : path-like
        embedding_model : str or path-like, optional
            The embedding model (local directory or name) for a space fitted with a model other
            than the packaged default; loaded with ``trust_remote_code=False``.
        """
        meta, arr = read_bundle(path, "feature_space")
        try:
            return cls._from_bundle(path, meta, arr, embedding_model)
        except FingerprintFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as e:
            # a checksummed file that a save never writes (a field missing, of the wrong type or shape)
            raise FingerprintFileError(f"{path}: malformed feature space ({type(e).__name__}: {e})") from e

    @classmethod
    def _from_bundle(
        cls, path: str | os.PathLike[str], meta: dict[str, Any], arr: dict[str, np.ndarray],
        embedding_model: str | os.PathLike[str] | None,
    ) -> FeatureSpace:  # fmt: skip
        """:meth:`load` from a verified bundle's metadata and arrays."""
        if meta.get("style_markers") != list(STYLE_MARKER_NAMES):
            raise FingerprintFileError(
                f"{path}: saved with a different set of style markers than this library version has"
            )
        params = dict(meta["params"])
        params.setdefault("score_words", "lowercase")  # saved before the choice existed: the tokenisation then
        try:
            check_choice(params["score_words"], "score_words", SCORE_WORDS)
            self = cls(**params)
        except (TypeError, ValueError) as e:
            raise FingerprintFileError(f"{path}: unknown feature-space parameters ({e})") from e
        self.vocabulary_char_ = arr["vocabulary_char"]
        self.vocabulary_word_ = arr["vocabulary_word"]
        self.components_ = arr["components"].astype(np.float32)
        self.ngram_mean_ = arr["ngram_mean"]
        self.style_mean_ = arr["style_mean"]
        self.style_scale_ = arr["style_scale"]
        self.ngram_unit_ = _positive_unit(arr["ngram_unit"])
        if "score_coef" in arr:
            self.score_classes_ = arr["score_classes"]
            self.score_index_ = arr["score_index"]
            self.score_coef_ = arr["score_coef"].astype(np.float32)
            self.score_intercept_ = arr["score_intercept"]
            self.score_unit_ = _positive_unit(arr["score_unit"])
        else:  # saved before the score block existed
            self._no_scores()
        if self.score_index_.size and (
            self.score_index_.min() < 0 or self.score_index_.max() >= 2 * 2**_HASH_BITS
            or self.score_coef_.shape[0] != self.score_index_.size
            or np.any(np.diff(self.score_index_) <= 0)  # a fit keeps them sorted and distinct
        ):  # fmt: skip
            raise FingerprintFileError(f"{path}: malformed score block")
        # a file that passes its checksum may still be crafted: a NaN or a zero scale here made every
        # transform NaN, and attribution failed deep in scipy ("array must not contain infs or NaNs")
        arrays = {"components": self.components_, "ngram_mean": self.ngram_mean_, "style_mean": self.style_mean_,
                  "style_scale": self.style_scale_, "score_coef": self.score_coef_,
                  "score_intercept": self.score_intercept_}  # fmt: skip
        # in their stored dtypes: float64 copies of the score block and components cost 20 ms of a cold load
        bad = [f"{k} not finite" for k, a in arrays.items() if not np.isfinite(a).all()]
        bad += ["style_scale not positive"] if np.any(self.style_scale_ <= 0) else []
        if bad:
            raise FingerprintFileError(f"{path}: malformed feature space ({', '.join(bad)})")
        self.embeddings_, self.embedding_model_hash_, self.embedding_unit_ = None, None, 1.0
        em = meta.get("embeddings")
        if em is not None:
            from fingerprint.features.embeddings import EmbeddingFeatures

            try:
                kept = {k: em["params"][k] for k in cls._EMBEDDING_FROM_FILE if k in em["params"]}
                # a model named in the file is only a description: it is never loaded from there
                self._embedding_missing = em["params"].get("model") if embedding_model is None else None
                self._embedding_saved_meta = em
                self.embeddings_ = EmbeddingFeatures(embedding_model, **kept)
                nf = int(em["n_features"])
                # fitted state of an extractor that learns nothing from data: its output size
                self.embeddings_.n_features_out_, self.embeddings_.n_features_in_ = nf, 1
                self.embeddings_.embedding_dim_ = nf // (2 if self.embeddings_.pooling == "mean+std" else 1)
                self.embedding_model_hash_ = str(em["model_hash"])
                self.embedding_unit_ = _positive_unit(arr["embedding_unit"])
                self._embedding_checked = False  # the model's content hash is checked on first use
            except (KeyError, TypeError, ValueError) as e:
                raise FingerprintFileError(f"{path}: malformed embedding block description ({e})") from e
            self.embeddings = EmbeddingFeatures(embedding_model, **kept)
        self._style = StyleMarkers().fit(["x"])
        self._finish()
        if self.space_id_ != meta["space_id"]:
            raise FingerprintFileError(f"{path}: feature-space id mismatch (file was altered)")
        return self

    @classmethod
    def default(cls) -> FeatureSpace:
        """The space shipped with the package (fitted on many LLMs' answers).

        Fingerprints built in the default space are interoperable with each
        other and with the built-in references.  One object per process, shared with the
        built-in set: like any fitted space it keeps the parameters it was fitted with, so
        ``set_params`` on it changes none of its features (only ``n_jobs`` takes effect; fit a
        ``clone`` instead).

        Raises
        ------
        FileNotFoundError
            When this installation ships no default space.

        Examples
        --------
        >>> from fingerprint import FeatureSpace
        >>> space = FeatureSpace.default()
        >>> space.transform(["Certainly! Here is a concise overview."]).shape
        (1, 628)
        """
        return _load_default()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _default_space_file(directory: str | os.PathLike[str]) -> Path:
    """The space file of the reference set in ``directory`` (flat, or in the generation its index names).

    ``python -m fingerprint.references build --out DIR`` writes a generation folder; a set saved
    before generations existed keeps its files beside the index.
    """
    directory = Path(directory)
    try:
        meta, _ = read_bundle(directory / "references.npz", "reference_set")
    except FileNotFoundError:
        return directory / "space.npz"
    return generation_folder(directory, meta.get("generation")) / "space.npz"


@lru_cache(maxsize=1)
def _load_default() -> FeatureSpace:
    # the default space is the built-in reference set's space: one copy in the package
    p = _default_space_file(Path(str(resources.files("fingerprint") / "data" / "builtin_references")))
    if not p.is_file():
        raise FileNotFoundError(
            "this installation ships no default feature space; fit one with "
            "FeatureSpace().fit(texts) or pass space=refs.space"
        )
    space = FeatureSpace.load(p)
    # one object shared by every copy of the built-in set and every default attribute() in the process:
    # its arrays read-only (an in-place edit through one "copy" changed them all; probe, 2026-12-07)
    for a in vars(space).values():
        if isinstance(a, np.ndarray):
            a.setflags(write=False)
    return space


def _is_shared_default(space: FeatureSpace) -> bool:
    """Whether ``space`` is the process's :meth:`FeatureSpace.default` object (never refitted in place)."""
    return _load_default.cache_info().currsize > 0 and space is _load_default()
