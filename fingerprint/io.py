"""Safe, atomic persistence: JSON metadata + numpy arrays in one ``.npz`` file.

Why not pickle: fingerprints are meant to be shared between strangers, and
unpickling a file runs code from it.  An ``.npz`` read with
``allow_pickle=False`` can only ever yield numbers and strings.

Every file carries ``format``, ``schema_version`` and a SHA-256 over its
metadata and arrays, so truncation or tampering is reported instead of
silently loading wrong numbers.  Writes go to a temporary file in the same
directory and are renamed into place, so a crash never leaves a half-written
file under the final name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from fingerprint.validation import user_path

__all__ = [
    "SCHEMA_VERSION", "DirectoryLockedError", "FingerprintFileError", "atomic_write_bytes", "check_file_size",
    "exclusive_lock", "file_sha256", "fresh_directory", "generation_folder", "pack_symmetric", "read_bundle",
    "triu_pairs", "unpack_symmetric", "write_bundle",
]  # fmt: skip

#: Bumped when the on-disk layout changes incompatibly.
SCHEMA_VERSION = 1
_META_KEY = "__meta__"
#: Refuse absurd files early (a reference set of 1,000 models is ~100 MB).
MAX_FILE_BYTES = 2_000_000_000
#: The most a file may unpack to, checked from its zip directory and array headers *before* any
#: array is read (a few MB of zeros compress to gigabytes).  The largest real member is the shipped
#: space's score block (~25 MB unpacked); fingerprints are d x d floats (d ~ 600: ~3 MB).
MAX_UNPACKED_BYTES = 1_000_000_000
#: The most arrays a file may hold (real files hold under 30).
MAX_MEMBERS = 1_000


class FingerprintFileError(ValueError):
    """A fingerprint, reference-set or model file is malformed, tampered with or incompatible.

    Examples
    --------
    A modified file fails its checksum instead of loading wrong numbers:

    >>> import os, tempfile
    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> path = references.builtin()["claude-1"].save(os.path.join(tempfile.mkdtemp(), "c.fingerprint.npz"))
    >>> data = bytearray(path.read_bytes())
    >>> data[len(data) // 2] ^= 0xFF
    >>> _ = path.write_bytes(bytes(data))
    >>> try:
    ...     fp.Fingerprint.load(path)
    ... except fp.FingerprintFileError as e:
    ...     print("refused:", type(e).__name__)
    refused: FingerprintFileError
    """


class DirectoryLockedError(RuntimeError):
    """Another process (or thread) holds the write lock of a directory: a concurrent save was refused.

    Examples
    --------
    >>> import tempfile
    >>> from fingerprint.io import DirectoryLockedError, exclusive_lock
    >>> d = tempfile.mkdtemp()
    >>> with exclusive_lock(d):
    ...     try:
    ...         with exclusive_lock(d):
    ...             pass
    ...     except DirectoryLockedError:
    ...         print("refused")
    refused
    """


@contextmanager
def exclusive_lock(directory: str | os.PathLike[str]) -> Iterator[None]:
    """Non-blocking exclusive write lock on a directory (file ``.lock`` inside it), as a context manager.

    POSIX ``flock`` (``msvcrt.locking`` on Windows): released by the operating system when the holder
    exits or is killed, so a crashed writer never leaves the directory locked.  A second writer gets
    :class:`DirectoryLockedError` at once instead of interleaving its files with the first's.
    Readers take no lock: what they read is made consistent by the writer (see
    :meth:`fingerprint.refset.ReferenceSet.save`).
    """
    path = Path(directory) / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        try:
            if os.name == "nt":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows-only names
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            raise DirectoryLockedError(
                f"{path.parent} is being written by another process; try again when it has finished"
            ) from e
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same dir + fsync + rename).

    ``durable=False`` skips the fsync: still never a half-written file, but a crash may lose the
    write — right for caches that write one small file per entry and can recompute it.
    """
    path = user_path(path)
    if path.is_dir():  # else the rename failed at the end, naming the temporary file
        raise IsADirectoryError(f"{path} is a directory: give a file name (in it, or elsewhere)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fresh_directory(parent: str | os.PathLike[str], prefix: str) -> Path:
    """A new, uniquely named, empty directory in ``parent`` with the usual permissions (``mkdtemp`` makes 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(path, 0o777 & ~_umask())
    return path


#: A generation folder's name: what ``fresh_directory(parent, ".gen-")`` (``tempfile.mkdtemp``) makes.
_GENERATION = re.compile(r"\.gen-[A-Za-z0-9_]+")


def generation_folder(directory: str | os.PathLike[str], generation: object) -> Path:
    """The folder a set's files are in: its index's ``generation`` folder, or ``directory`` itself (flat layout).

    Raises :class:`FingerprintFileError` for a name that is not a generation folder (no path can
    escape ``directory``).

    Examples
    --------
    >>> generation_folder("refs", None).as_posix(), generation_folder("refs", ".gen-ab12").as_posix()
    ('refs', 'refs/.gen-ab12')
    """
    if generation is None:
        return Path(directory)
    if not (isinstance(generation, str) and _GENERATION.fullmatch(generation)):
        raise FingerprintFileError(f"{directory}: the index names an invalid generation folder {generation!r}")
    return Path(directory) / generation


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=4)
def triu_pairs(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns of the upper triangle of a ``(d, d)`` matrix, and their flat and mirrored flat indices.

    Cached: built once per dimension, they cost as much as an unpacking (a set loads ~80 matrices).
    """
    rows, cols = np.triu_indices(d)
    return rows, cols, rows * d + cols, cols * d + rows


def pack_symmetric(a: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """The upper triangle (diagonal included) of a symmetric ``(d, d)`` matrix, row by row, as ``dtype``."""
    return a.ravel()[triu_pairs(a.shape[0])[2]].astype(dtype)


def unpack_symmetric(v: np.ndarray, d: int) -> np.ndarray:
    """The float64 ``(d, d)`` matrix packed by :func:`pack_symmetric`; a wrong length is a damaged file."""
    if v.shape != (d * (d + 1) // 2,):
        raise FingerprintFileError(f"packed matrix has {v.shape} values, expected {d * (d + 1) // 2} for d={d}")
    _, _, upper, lower = triu_pairs(d)
    out = np.empty(d * d)
    out[upper] = v  # flat indices: about twice as fast as 2-d fancy indexing
    out[lower] = v
    return out.reshape(d, d)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _digest(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(meta, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype.str).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_bundle(
    path: str | os.PathLike[str], kind: str, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> Path:
    """Write metadata and arrays to one ``.npz`` file, atomically, with a checksum.

    Parameters
    ----------
    path : path-like
        Destination; written via a temporary file and renamed.
    kind : str
        What the file holds (``"fingerprint"``, ``"classifier"``...), checked on load.
    meta : mapping
        JSON-serialisable metadata.
    arrays : mapping of str to ndarray
        Numeric arrays (object arrays are refused).

    Returns
    -------
    Path
        The path written.
    """
    for name, a in arrays.items():
        if name == _META_KEY or np.asarray(a).dtype == object:
            raise TypeError(f"array {name!r} cannot be stored (reserved name or object dtype)")
    path = user_path(path)
    body = {"format": "fingerprint", "kind": kind, "schema_version": SCHEMA_VERSION, **meta}
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    body["sha256"] = _digest(body, arrays)
    buf = io.BytesIO()
    # numpy's stubs type **kwds as its keyword options (allow_pickle): the names here are array names
    np.savez_compressed(buf, **{_META_KEY: np.array(json.dumps(body))}, **arrays)  # type: ignore[arg-type]
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def check_file_size(path: str | os.PathLike[str]) -> Path:
    """Refuse a missing file, or one larger than any valid file, before reading (or hashing) it."""
    path = user_path(path)
    if path.is_dir():  # a reference set's directory given to Fingerprint.load, say
        raise IsADirectoryError(f"{path} is a directory, not a file (a reference set's directory: load_references)")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FingerprintFileError(f"{path}: {size:,} bytes is larger than any valid file")
    return path


#: What reading a damaged zip or .npy raises (the fuzz test of tests/test_io.py found zlib.error escaping;
#: NotImplementedError is an unknown compression method; json.JSONDecodeError is a ValueError).
_DAMAGE = (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError, struct.error)


def _check_unpacked_size(path: Path) -> None:
    """Bound what a bundle unpacks to, from its zip directory and each array's header, before unpacking.

    ``np.load`` allocates an array from its header's shape before reading the data, so a tiny file
    with a lying header could allocate gigabytes: the header's size must fit the member's.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise FingerprintFileError(f"{path}: {len(infos):,} members; a valid file has at most {MAX_MEMBERS}")
            total = sum(i.file_size for i in infos)
            if total > MAX_UNPACKED_BYTES:
                raise FingerprintFileError(
                    f"{path}: unpacks to {total:,} bytes (limit {MAX_UNPACKED_BYTES:,}): not a file this library wrote"
                )
            for info in infos:
                if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise FingerprintFileError(f"{path}: member {info.filename!r} is encrypted or oddly compressed")
                with zf.open(info) as fh:
                    fmt = np.lib.format
                    version = fmt.read_magic(fh)  # np.savez writes 1.0, or 2.0 for very long headers
                    read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                    shape, _, dtype = read(fh)
                    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                    if need > info.file_size:
                        raise FingerprintFileError(
                            f"{path}: array {info.filename!r} claims {need:,} bytes in a {info.file_size:,}-byte member"
                        )
    except FingerprintFileError:
        raise
    except _DAMAGE as e:
        raise FingerprintFileError(f"{path}: unreadable or truncated file ({type(e).__name__}: {e})") from e


def read_bundle(path: str | os.PathLike[str], kind: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a file written by :func:`write_bundle`.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    FingerprintFileError
        Not such a file, wrong kind, newer schema, truncated, or checksum mismatch.
    """
    path = check_file_size(path)
    _check_unpacked_size(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if _META_KEY not in z.files:
                raise FingerprintFileError(f"{path}: not a fingerprint file (no metadata)")
            meta = json.loads(str(z[_META_KEY]))
            arrays = {k: z[k] for k in z.files if k != _META_KEY}
    except FingerprintFileError:
        raise
    except (*_DAMAGE, KeyError, RecursionError) as e:  # RecursionError: JSON nested 100,000 deep
        raise FingerprintFileError(f"{path}: unreadable or truncated file ({type(e).__name__}: {e})") from e
    if not isinstance(meta, dict) or meta.get("format") != "fingerprint":
        raise FingerprintFileError(f"{path}: not a fingerprint file")
    if meta.get("kind") != kind:
        raise FingerprintFileError(f"{path}: holds a {meta.get('kind')!r}, expected a {kind!r}")
    version = meta.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FingerprintFileError(f"{path}: invalid schema version {version!r} (a positive integer)")
    if version > SCHEMA_VERSION:
        raise FingerprintFileError(
            f"{path}: schema version {version}; this library reads up to {SCHEMA_VERSION} "
            "(upgrade fingerprint to read it)"
        )
    stored = meta.pop("sha256", None)
    if stored != _digest(meta, arrays):
        raise FingerprintFileError(f"{path}: checksum mismatch: the file was modified or corrupted")
    for k in ("format", "kind", "schema_version"):
        meta.pop(k)
    return meta, arrays
