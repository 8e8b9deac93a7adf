"""The on-disk cache of text embeddings: one atomic ``.npy`` file per text, never unpickled.

Embedding is the slow part of :class:`~fingerprint.features.embeddings.EmbeddingFeatures`
(measured 5-9 answers/s, ~10 chunks/s, on 2 shared CPU cores;
``benchmarks/results/embeddings-speed.md``), so results can be kept on disk;
a warm cache serves thousands of texts/s.

Layout
------
``<root>/<namespace>/meta.json`` and ``<root>/<namespace>/<k[:2]>/<k>.npy``,
where ``<namespace>`` is the first 24 hex digits of a SHA-256 of the settings
(:func:`namespace_key`: the model's content hash, backend, chunking, pooling,
normalisation ...) and ``<k>`` is the SHA-256 of the text (:func:`text_key`).
A change of model or settings therefore misses.  ``meta.json`` repeats the
settings for people and records the output size, so a later process can fit
without loading the model.

Safety
------
Entries are written to a temporary file and moved into place
(:func:`fingerprint.io.atomic_write_bytes`), and read with
``allow_pickle=False``: concurrent writers (threads or processes) cannot leave
a half-written entry, a corrupt entry is ignored (and recomputed by the
caller), and nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fingerprint.io import atomic_write_bytes
from fingerprint.validation import user_path

__all__ = ["EmbeddingCache", "cache_root", "default_cache_dir", "namespace_key", "text_key"]

# a child of the estimator's logger: configuring ``fingerprint.features.embeddings`` covers it too
logger = logging.getLogger("fingerprint.features.embeddings.cache")


def default_cache_dir() -> Path:
    """Where ``cache_dir=True`` puts embeddings.

    ``$FINGERPRINT_CACHE_DIR/embeddings`` when that variable is set, else
    ``$XDG_CACHE_HOME/fingerprint/embeddings``, else
    ``~/.cache/fingerprint/embeddings``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> default_cache_dir().name
    'embeddings'
    """
    root = os.environ.get("FINGERPRINT_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "embeddings"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "fingerprint" / "embeddings"


def cache_root(cache_dir: str | os.PathLike[str] | bool | None) -> Path | None:
    """The cache directory a ``cache_dir`` parameter means.

    Parameters
    ----------
    cache_dir : str, path-like, True, False or None
        ``None``/``False``: no cache; ``True``: :func:`default_cache_dir`; else that directory.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> cache_root(None) is None
    True
    >>> cache_root("/tmp/emb").as_posix()
    '/tmp/emb'
    """
    if cache_dir is None or cache_dir is False:
        return None
    if cache_dir is True:
        return default_cache_dir()
    return user_path(cache_dir)


def text_key(text: str) -> str:
    """The file name (without ``.npy``) of a text's entry: the SHA-256 of its UTF-8 bytes.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> text_key("hello")
    '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def namespace_key(settings: Mapping[str, Any]) -> str:
    """The folder name of a namespace: the first 24 hex digits of a SHA-256 of the settings (as sorted JSON).

    Parameters
    ----------
    settings : mapping
        JSON-serialisable settings that change the numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> namespace_key({"a": 1, "b": 2}) == namespace_key({"b": 2, "a": 1})
    True
    >>> len(namespace_key({"a": 1}))
    24
    """
    return hashlib.sha256(json.dumps(dict(settings), sort_keys=True).encode()).hexdigest()[:24]


class EmbeddingCache:
    """One namespace of the on-disk embedding cache: float32 vectors keyed by text.

    Creating the object touches nothing on disk; :meth:`put` and
    :meth:`write_meta` create folders as needed.  Reads and writes are safe
    from several threads and processes at once.

    Parameters
    ----------
    root : path-like
        The cache directory (see :func:`cache_root`).
    settings : mapping
        JSON-serialisable settings that change the numbers; they select the
        namespace (:func:`namespace_key`) and are written to ``meta.json``.
    meta : mapping, optional
        More fields for ``meta.json`` that are not part of the key (e.g. the
        model's name).

    Attributes
    ----------
    path : pathlib.Path
        The namespace folder, ``root / namespace_key(settings)``.
    corrupt : int
        Entries :meth:`get` found unreadable or of the wrong dtype/shape (and
        ignored) since this object was made.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), {"model": "demo", "pooling": "mean"})
    >>> cache.get("Hello.") is None  # a miss
    True
    >>> cache.put("Hello.", np.array([0.6, 0.8], dtype=np.float32))
    >>> cache.get("Hello.", size=2)
    array([0.6, 0.8], dtype=float32)
    >>> cache.write_meta(embedding_dim=2, n_features_out=2)
    >>> cache.dim()
    2
    """

    def __init__(
        self, root: str | os.PathLike[str], settings: Mapping[str, Any], *, meta: Mapping[str, Any] | None = None
    ) -> None:
        self.root = Path(root)
        self.settings = dict(settings)
        self.meta = dict(meta or {})
        self.path = self.root / namespace_key(self.settings)
        self.corrupt = 0

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r})"

    @property
    def meta_path(self) -> Path:
        """``meta.json`` of the namespace.

        Examples
        --------
        >>> EmbeddingCache("/tmp/c", {"x": 1}).meta_path.name
        'meta.json'
        """
        return self.path / "meta.json"

    def entry_path(self, text: str) -> Path:
        """Where the entry of ``text`` lives (whether or not it exists).

        Parameters
        ----------
        text : str

        Returns
        -------
        pathlib.Path

        Examples
        --------
        >>> p = EmbeddingCache("/tmp/c", {"x": 1}).entry_path("hello")
        >>> p.parent.name, p.name[:8], p.suffix
        ('2c', '2cf24dba', '.npy')
        """
        key = text_key(text)
        return self.path / key[:2] / f"{key}.npy"

    def get(self, text: str, size: int | None = None) -> np.ndarray | None:
        """The cached vector of ``text``, or None when absent or unusable.

        An entry that cannot be read as a plain ``.npy`` (truncated, garbled,
        a pickle), is not a finite float32 vector, or is not of length
        ``size`` is logged, counted in :attr:`corrupt` and treated as a miss;
        the caller's :meth:`put` then overwrites it.

        Parameters
        ----------
        text : str
        size : int, optional
            The expected length; any length is accepted when not given.

        Returns
        -------
        ndarray of shape (size,), float32, or None

        Examples
        --------
        >>> import tempfile
        >>> cache = EmbeddingCache(tempfile.mkdtemp(), {"x": 1})
        >>> cache.put("hi", np.ones(3, dtype=np.float32))
        >>> _ = cache.entry_path("hi").write_bytes(b"garbage")
        >>> cache.get("hi"), cache.corrupt
        (None, 1)
        """
        path = self.entry_path(text)
        try:
            arr = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except Exception as e:  # truncated, garbled or not an .npy: recompute (and overwrite)
            logger.warning("ignoring unreadable cache entry %s (%s)", path, type(e).__name__)
            self.corrupt += 1
            return None
        if (
            arr.dtype != np.float32
            or arr.ndim != 1
            or (size is not None and arr.shape != (size,))
            or not np.isfinite(arr).all()
        ):
            logger.warning("ignoring cache entry %s of unexpected dtype/shape %s %s", path, arr.dtype, arr.shape)
            self.corrupt += 1
            return None
        return arr

    def put(self, text: str, vec: np.ndarray) -> None:
        """Store the vector of ``text`` (atomically; a failed write is logged, not raised).

        Parameters
        ----------
        text : str
        vec : array-like of shape (n,)
            Stored as float32.

        Examples
        --------
        >>> import tempfile
        >>> cache = EmbeddingCache(tempfile.mkdtemp(), {"x": 1})
        >>> cache.put("hi", np.zeros(2))
        >>> cache.get("hi")
        array([0., 0.], dtype=float32)
        """
        path = self.entry_path(text)
        try:
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(vec, dtype=np.float32), allow_pickle=False)
            atomic_write_bytes(path, buf.getvalue(), durable=False)
        except OSError as e:  # a full or read-only disk must not fail the transform
            logger.warning("could not write cache entry %s: %s", path, e)

    def write_meta(self, *, embedding_dim: int | None = None, n_features_out: int | None = None) -> None:
        """Create the namespace and its ``meta.json`` unless there, adding the output size if it lacks one.

        ``meta.json`` holds the settings, the extra ``meta`` fields and, when
        given, ``embedding_dim`` and ``n_features_out``.  An existing file is
        rewritten only to add a missing ``embedding_dim``.

        Parameters
        ----------
        embedding_dim : int, optional
            The model's output dimension.
        n_features_out : int, optional
            The length of the stored vectors.

        Examples
        --------
        >>> import json, tempfile
        >>> cache = EmbeddingCache(tempfile.mkdtemp(), {"pooling": "mean"}, meta={"model": "demo"})
        >>> cache.write_meta()
        >>> cache.dim() is None
        True
        >>> cache.write_meta(embedding_dim=384, n_features_out=384)
        >>> json.loads(cache.meta_path.read_text())
        {'embedding_dim': 384, 'model': 'demo', 'n_features_out': 384, 'pooling': 'mean'}
        """
        meta = self.meta_path
        if not meta.is_file() or (embedding_dim is not None and self.dim() is None):
            doc = {**self.settings, **self.meta}
            if embedding_dim is not None:
                doc["n_features_out"] = int(n_features_out if n_features_out is not None else embedding_dim)
                doc["embedding_dim"] = int(embedding_dim)
            try:
                atomic_write_bytes(meta, json.dumps(doc, indent=1, sort_keys=True).encode(), durable=False)
            except OSError as e:  # as put: a full or read-only disk must not fail the fit or the transform
                logger.warning("could not write the cache's %s: %s (vectors are computed, not cached)", meta, e)

    def dim(self) -> int | None:
        """The model output dimension recorded in ``meta.json``, or None (absent, older or damaged file).

        Returns
        -------
        int or None

        Examples
        --------
        >>> import tempfile
        >>> EmbeddingCache(tempfile.mkdtemp(), {"x": 1}).dim() is None
        True
        """
        try:
            dim = json.loads(self.meta_path.read_text())["embedding_dim"]
            return int(dim) if int(dim) > 0 else None
        except Exception:  # absent, older or damaged meta: ask the model
            return None
