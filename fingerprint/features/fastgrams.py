"""Vectorised n-gram counting: scikit-learn's vectorizers' exact output, one numpy pass per batch.

scikit-learn's ``CountVectorizer`` and ``HashingVectorizer`` build every n-gram as a Python
string (about 5,000 per answer for character 1-4-grams) and hash each with a call per string.
Here a batch of texts becomes one UTF-8 buffer, every n-gram a ``(start, length)`` byte span of it,
and MurmurHash3 (x86, 32 bit: the hash ``HashingVectorizer`` uses) runs over all spans at once in
numpy.  The same hash serves both uses:

* hashing: column ``abs(h) % n_features``, as ``HashingVectorizer(alternate_sign=False)``;
* a fixed vocabulary: spans whose hash equals a vocabulary entry's are checked byte for byte
  against that entry (so a hash collision never counts), as ``CountVectorizer(vocabulary=...)``;
* learning a vocabulary: the n-grams found in most texts (:func:`top_ngrams`), counted by hash,
  with every hash that could enter the vocabulary confirmed byte for byte, as ``CountVectorizer``
  fitted and cut to its most frequent n-grams.

Supported analyzers (the library's own; anything else falls back to scikit-learn):

* ``"char"``: scikit-learn's preprocessing (optional lowercasing, runs of 2+ whitespace
  characters replaced by one space), then every character n-gram of the range;
* ``"word"``: tokens found by a token pattern that never matches whitespace (the library's
  :data:`~fingerprint.features.ngrams.WORD_TOKEN_PATTERN`, or scikit-learn's default), joined by
  single spaces into word n-grams.

Equality with scikit-learn is tested on random Unicode (``tests/test_fastgrams.py``); lone
surrogates, which scikit-learn's hashing cannot encode, are hashed as their ``surrogatepass`` bytes.

The per-span loops (hashing, building spans, looking spans up in a table) run in a small C module,
``_cgrams``, built when the package is installed; where it could not be built (no C compiler)
the numpy code below does the same work with the same results, about half as fast.
:data:`COMPILED` says which one runs; the tests run both.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = [
    "COMPILED", "WORD_OR_MARK", "ColumnSelection", "Spans", "VocabularyIndex", "char_spans", "dense_weighted_counts",
    "hashed_counts", "hashed_scores", "murmur3", "top_ngrams", "vocabulary_counts", "word_spans",
]  # fmt: skip

try:
    from . import _cgrams as _C  # type: ignore[attr-defined]  # a C extension, without a stub
except ImportError:  # not built (no C compiler at install): the numpy code below, same results
    _C = None

#: Whether the compiled kernels were built and imported (``False``: the numpy code runs, same results,
#: slower).  Set at import.
COMPILED = _C is not None

#: Word tokens and marks: runs of word characters, and every other character that is not whitespace
#: (the library's :data:`~fingerprint.features.ngrams.WORD_TOKEN_PATTERN`; the compiled kernels
#: tokenise it without ``re``).
WORD_OR_MARK = r"(?u)\b\w+\b|[^\w\s]"

#: scikit-learn's ``_VectorizerMixin._white_spaces`` (applied by the "char" analyzer only).
_WHITE_SPACES = re.compile(r"\s\s+")
_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)  # MurmurHash3_x86_32 constants (Appleby, 2011)
_M1, _M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_N, _FIVE = np.uint32(0xE6546B64), np.uint32(5)


@dataclass(frozen=True)
class Spans:
    """The n-grams of a batch of texts as byte spans of one UTF-8 buffer.

    ``row[i]`` is the text of span ``i``, which is ``buf[start[i]:start[i] + length[i]]``;
    ``hash[i]`` its MurmurHash3 (seed 0, signed 32 bit) and ``prefix[i]`` its first 8 bytes
    (little-endian, zero past the span).
    """

    buf: np.ndarray
    start: np.ndarray
    length: np.ndarray
    row: np.ndarray
    n_texts: int
    hash: np.ndarray
    prefix: np.ndarray


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _mix(k: np.ndarray) -> np.ndarray:
    k = k * _C1
    return _rotl(k, 15) * _C2


def _step(h: np.ndarray, k: np.ndarray) -> np.ndarray:
    return _rotl(h ^ _mix(k), 13) * _FIVE + _N


def _fmix(h: np.ndarray, length: np.ndarray) -> np.ndarray:
    h = np.bitwise_xor(h, length.astype(np.uint32))
    h ^= h >> np.uint32(16)
    h *= _M1
    h ^= h >> np.uint32(13)
    h *= _M2
    h ^= h >> np.uint32(16)
    return h.view(np.int32)


def murmur3(buf: np.ndarray, start: np.ndarray, length: np.ndarray, seed: int = 0) -> np.ndarray:
    """MurmurHash3_x86_32 of each byte span ``buf[start:start + length]``, as signed int32.

    Equals ``sklearn.utils.murmurhash3_32(bytes(span), seed)``; the work is proportional to the
    total number of bytes, whatever the spread of lengths.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import murmurhash3_32
    >>> b = np.frombuffer(b"hello world", dtype=np.uint8)
    >>> int(murmur3(b, np.array([0, 6]), np.array([5, 5]))[1]) == murmurhash3_32(b"world")
    True
    """
    buf = np.ascontiguousarray(buf, dtype=np.uint8)
    return _murmur3(_words64(buf), np.asarray(start, dtype=np.int64), np.asarray(length, dtype=np.int64), seed)


def _block32(words: np.ndarray, o: np.ndarray) -> np.ndarray:
    """The 4 bytes at each byte offset ``o`` as a little-endian uint32 (``words``: :func:`_words64`)."""
    return (words[o % 8, o // 8] & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _murmur3(words: np.ndarray, start: np.ndarray, length: np.ndarray, seed: int = 0) -> np.ndarray:
    """:func:`murmur3` on a buffer given as :func:`_words64` (built once per batch, not once per call)."""
    h = np.full(start.shape, np.uint32(seed & 0xFFFFFFFF), dtype=np.uint32)
    nblocks = length // 4
    active = np.flatnonzero(nblocks > 0)
    j = 0
    while active.size:
        h[active] = _step(h[active], _block32(words, start[active] + 4 * j))
        j += 1
        active = active[nblocks[active] > j]
    tail = length % 4
    t = np.flatnonzero(tail)
    if t.size:
        keep = (np.uint32(1) << (8 * tail[t]).astype(np.uint32)) - np.uint32(1)  # the tail's bytes
        k = _block32(words, start[t] + 4 * nblocks[t]) & keep
        h[t] ^= _mix(k)
    return _fmix(h, length)


def _encode(parts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """One UTF-8 buffer of ``parts`` back to back, and each part's byte offset (plus the end)."""
    encoded = [p.encode("utf-8", "surrogatepass") for p in parts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


#: Spans hashed, looked up or compared at a time: the temporaries of that work (~50 bytes a span) stay
#: near 200 MB however many n-grams a batch has (a fit on 5,000 answers peaked at 3.0 GB with all at
#: once, 2.0 GB in chunks: benchmarks/explore/fit_memory.log).
_HASH_CHUNK = 1 << 22


def _hash_spans(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MurmurHash3 (seed 0) and the 8-byte prefix of every span, from one 8-byte read per span.

    Spans of up to 8 bytes (every ASCII character 1-4-gram, most word n-grams' heads) are hashed
    from that read with whole-array operations; longer ones go through :func:`murmur3`.  The spans
    are hashed :data:`_HASH_CHUNK` at a time.
    """
    out = np.empty(len(start), dtype=np.int32)
    prefix = np.empty(len(start), dtype=np.uint64)
    if _C is not None:
        _C.hash_spans(buf, start, length, out, prefix)
        return out, prefix
    words = _words64(buf)
    for a in range(0, len(start), _HASH_CHUNK):
        part = slice(a, a + _HASH_CHUNK)
        out[part], prefix[part] = _hash_chunk(words, start[part], length[part])
    return out, prefix


def _hash_chunk(words: np.ndarray, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    prefix = _prefix64(words, start, length)
    short = length <= 8
    L = np.minimum(length, 8)
    nb = (L // 4).astype(np.uint64)
    k0 = (prefix & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    k1 = (prefix >> np.uint64(32)).astype(np.uint32)
    h = np.zeros(len(start), dtype=np.uint32)
    h = np.where(nb >= 1, _step(h, k0), h)
    h = np.where(nb >= 2, _step(h, k1), h)
    tail = (prefix >> (np.uint64(32) * nb)).astype(np.uint32)  # bytes past the blocks are zero already
    h = np.where((L % 4) > 0, h ^ _mix(tail), h)
    out = _fmix(h, length)
    long = np.flatnonzero(~short)
    if long.size:
        out[long] = _murmur3(words, start[long], length[long])
    return out, prefix


def _spans(buf: np.ndarray, start: np.ndarray, length: np.ndarray, row: np.ndarray, n_texts: int) -> Spans:
    h, prefix = _hash_spans(buf, start, length)
    return Spans(buf, start, length, row, n_texts, h, prefix)


def _unit_ngrams(
    buf: np.ndarray, unit_start: np.ndarray, unit_end: np.ndarray, counts: np.ndarray, ngram_range: tuple[int, int]
) -> Spans:
    """The n-grams of consecutive units (characters or tokens) of each text, as byte spans.

    ``counts[t]`` units of text ``t`` follow those of text ``t - 1``; unit ``u`` is the bytes
    ``unit_start[u]:unit_end[u]``.  An n-gram of units ``u .. u + n - 1`` spans
    ``unit_start[u]:unit_end[u + n - 1]`` (the separators between tokens included).
    """
    first = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])  # index of each text's first unit
    orders = range(ngram_range[0], ngram_range[1] + 1)
    per_order = [np.maximum(counts - n + 1, 0) for n in orders]
    size = int(sum(int(p.sum()) for p in per_order))
    # filled in place, one order at a time (not concatenated: that would hold every span twice)
    starts, lengths, rows = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64), np.empty(size, np.int32)
    if _C is not None:
        unit_start, unit_end = np.ascontiguousarray(unit_start, np.int64), np.ascontiguousarray(unit_end, np.int64)
        counts = np.ascontiguousarray(counts, np.int64)
        _C.unit_ngrams(unit_start, unit_end, counts, ngram_range[0], ngram_range[1], starts, lengths, rows)
        return _spans(buf, starts, lengths, rows, len(counts))
    at = 0
    for n, per_text in zip(orders, per_order, strict=True):
        total = int(per_text.sum())
        if not total:
            continue
        row = np.repeat(np.arange(len(counts), dtype=np.int32), per_text)
        # the k-th n-gram of its text starts at unit first[row] + k
        u = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(per_text) - per_text, per_text) + first[row]
        part = slice(at, at + total)
        starts[part] = unit_start[u]
        lengths[part] = unit_end[u + n - 1] - starts[part]
        rows[part] = row
        at += total
    return _spans(buf, starts, lengths, rows, len(counts))


def char_spans(texts: Sequence[str], ngram_range: tuple[int, int], lowercase: bool = False) -> Spans:
    """The character n-grams scikit-learn's ``analyzer="char"`` would produce, as spans."""
    docs = [_WHITE_SPACES.sub(" ", t.lower() if lowercase else t) for t in texts]
    buf, _ = _encode(docs)
    # a character starts at every byte that is not a UTF-8 continuation byte (10xxxxxx)
    bounds = np.append(np.flatnonzero((buf & 0xC0) != 0x80), buf.size)
    counts = np.array([len(d) for d in docs], dtype=np.int64)
    return _unit_ngrams(buf, bounds[:-1], bounds[1:], counts, ngram_range)


def word_spans(
    texts: Sequence[str], ngram_range: tuple[int, int], token_pattern: str, lowercase: bool = False
) -> Spans:
    """The word n-grams scikit-learn's ``analyzer="word"`` would produce with ``token_pattern``, as spans.

    The pattern must never match whitespace (the caller checks it):
    the tokens of all texts are then joined by single spaces, and a space byte in the buffer is
    always a separator, so an n-gram ``" ".join(tokens[i:i + n])`` is one contiguous span.
    """
    docs = [t.lower() for t in texts] if lowercase else list(texts)
    if _C is not None and token_pattern == WORD_OR_MARK:
        counts = np.empty(len(docs), dtype=np.int64)
        buf = np.frombuffer(_C.word_tokens(docs, counts), dtype=np.uint8)
    else:
        pattern = re.compile(token_pattern)
        tokens = [pattern.findall(t) for t in docs]
        counts = np.array([len(t) for t in tokens], dtype=np.int64)
        buf, _ = _encode([" ".join(t for ts in tokens for t in ts)])
    sep = np.flatnonzero(buf == 0x20)  # no token at all: one empty unit, and no n-gram
    return _unit_ngrams(buf, np.concatenate([[0], sep + 1]), np.append(sep, buf.size), counts, ngram_range)


def _runs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``x`` (sorted in place) and how often each occurs; a plain sort, several times
    faster here than ``np.unique``'s hash table on tens of millions of integers."""
    x.sort()
    if not x.size:
        return x, np.zeros(0, dtype=np.int64)
    start = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))
    return x[start], np.diff(np.append(start, x.size))


def _count(rows: np.ndarray, cols: np.ndarray, n_texts: int, n_cols: int) -> sp.csr_matrix:
    """Counts of the ``(row, col)`` pairs as a CSR matrix (sorted indices, no duplicates)."""
    col_bits = max(int(n_cols - 1).bit_length(), 1)
    row_bits = max(int(n_texts - 1).bit_length(), 1)
    # one sort of packed keys; uint32 keys sort ~3x faster than int64 (numpy's SIMD sort)
    dtype = np.uint32 if row_bits + col_bits <= 32 else np.uint64
    key, counts = _runs(np.left_shift(rows.astype(dtype), dtype(col_bits)) | cols.astype(dtype))
    counts = counts.astype(np.float32)
    row = (key >> dtype(col_bits)).astype(np.int64)
    col = (key & dtype((1 << col_bits) - 1)).astype(np.int32)
    indptr = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_texts), out=indptr[1:])
    return sp.csr_matrix((counts, col, indptr), shape=(n_texts, n_cols))


def hashed_counts(spans: Spans, n_features: int) -> sp.csr_matrix:
    """``HashingVectorizer(n_features, alternate_sign=False, norm=None)``'s counts of the spans."""
    return _count(spans.row, _hashed_columns(spans, n_features), spans.n_texts, n_features)


def _hashed_columns(spans: Spans, n_features: int) -> np.ndarray:
    """``HashingVectorizer``'s column of each span: ``abs(h) % n_features`` (see :func:`hashed_counts`)."""
    if _C is not None and n_features <= 2**31:
        col = np.empty(spans.hash.size, dtype=np.int32)
        _C.hashed_columns(spans.hash, n_features, col)
        return col
    col = np.empty(spans.hash.size, dtype=np.int64 if n_features > 2**31 else np.int32)
    for a in range(0, spans.hash.size, _HASH_CHUNK):
        h = spans.hash[a : a + _HASH_CHUNK].astype(np.int64)
        # scikit-learn takes abs(h) % n_features, with abs(-2**31) defined as 2**31 - 1 - (n_features - 1)
        # (sklearn/feature_extraction/_hashing_fast.pyx)
        col[a : a + _HASH_CHUNK] = np.where(h == -(2**31), (2**31 - 1 - (n_features - 1)) % n_features,
                                            np.abs(h) % n_features)  # fmt: skip
    return col


@functools.cache
def _log1p_table() -> np.ndarray:
    """log(1 + c) of the counts 0 .. 65535 in float32, by numpy (so the kernels round as numpy does)."""
    return np.log1p(np.arange(1 << 16, dtype=np.float32))


class ColumnSelection:
    """Some columns of a space of ``n_columns`` (hashed n-grams, blocks side by side), in increasing order.

    Held as a bitmap with the number of kept columns before each 64-bit word, so a column's position
    among the kept ones costs a popcount and the table stays small enough for the cache (256 KB for
    2 * 2**20 columns; an int32 position per column would be 8 MB, and most lookups would miss).

    Parameters
    ----------
    columns : array of int
        The kept columns, distinct, each below ``n_columns``.
    n_columns : int

    Examples
    --------
    >>> s = ColumnSelection([3, 70], 128)
    >>> s.position[[3, 4, 70]].tolist()
    [0, -1, 1]
    """

    def __init__(self, columns: Sequence[int] | np.ndarray, n_columns: int) -> None:
        columns = np.asarray(columns, dtype=np.int64)
        if columns.size and (columns.min() < 0 or columns.max() >= n_columns or np.any(np.diff(columns) <= 0)):
            raise ValueError(f"kept columns must be increasing and within 0 .. {n_columns - 1}")
        self.n_columns, self.size = int(n_columns), int(columns.size)
        kept = np.zeros(-(-n_columns // 64) * 64, dtype=bool)
        kept[columns] = True
        self.bits = np.packbits(kept, bitorder="little").view("<u8")
        counts = np.bitwise_count(self.bits) if hasattr(np, "bitwise_count") else np.unpackbits(
            self.bits.view(np.uint8)).reshape(-1, 64).sum(axis=1)  # fmt: skip
        self.rank = np.zeros(len(self.bits), dtype=np.int64)
        np.cumsum(counts[:-1], dtype=np.int64, out=self.rank[1:])
        self._columns = columns

    @functools.cached_property
    def position(self) -> np.ndarray:
        """Each column's position among the kept ones, or -1 (int32, ``n_columns`` of them)."""
        out = np.full(self.n_columns, -1, dtype=np.int32)
        out[self._columns] = np.arange(self.size, dtype=np.int32)
        return out


def hashed_scores(blocks: Sequence[Spans], n_features: int, kept: ColumnSelection, coef: np.ndarray) -> np.ndarray:
    """Linear scores of some columns of the blocks' hashed counts, as log(1 + tf) scaled to unit L2 norm per row.

    The blocks side by side have ``len(blocks) * n_features`` columns; ``kept`` selects some, and
    ``coef`` (``(kept.size, n_scores)``) holds a row for each.  Equals
    ``hstack([weight_counts(hashed_counts(s, n_features)) for s in blocks])[:, kept] @ coef``
    (float32) exactly, to the last bit: the compiled kernel counts, weights and scales each row with
    the same arithmetic and adds its columns in the same order, without building the
    ``len(blocks) * n_features`` columns.  All blocks must hold the same texts.

    Examples
    --------
    >>> spans = char_spans(["aab"], (1, 1))
    >>> a = int(hashed_counts(char_spans(["a"], (1, 1)), 16).indices[0])
    >>> # "a": log(1 + 2) / |(log(1 + 2), log(1 + 1))| times each coefficient
    >>> hashed_scores([spans], 16, ColumnSelection([a], 16), np.array([[1.0, -2.0]])).round(3)
    array([[ 0.846, -1.691]], dtype=float32)
    """
    n_texts = blocks[0].n_texts if blocks else 0
    coef = np.ascontiguousarray(coef, dtype=np.float32)
    if kept.n_columns != len(blocks) * n_features or coef.shape[0] != kept.size:
        raise ValueError(f"{kept.n_columns} columns selected from, {coef.shape[0]} rows of coefficients, for "
                         f"{len(blocks)} blocks of {n_features} columns with {kept.size} kept")  # fmt: skip
    if _C is not None and n_features <= 2**31:
        out = np.zeros((n_texts, coef.shape[1]), dtype=np.float32)
        col_bits = max(int(n_features - 1).bit_length(), 1)
        # one sort of packed (row, column) keys groups each row's columns in order; uint32 sorts ~3x faster
        dtype = np.uint32 if max(int(n_texts - 1).bit_length(), 1) + col_bits <= 32 else np.uint64
        for b, spans in enumerate(blocks):
            if spans.n_texts != n_texts:
                raise ValueError(f"blocks of {spans.n_texts} and {n_texts} texts")
            key = np.left_shift(spans.row.astype(dtype), dtype(col_bits))
            key |= _hashed_columns(spans, n_features).astype(dtype)
            key.sort()
            if _C.score_block(key, key.itemsize, col_bits, _log1p_table(), kept.bits, kept.rank, b * n_features, coef,
                              out, n_texts, coef.shape[1]):  # fmt: skip
                break  # a count beyond the table (65,536 of one n-gram in a text): the code below
        else:
            return out
    return _selected_hashed_weights(blocks, n_features, kept.position) @ coef


def _selected_hashed_weights(blocks: Sequence[Spans], n_features: int, position: np.ndarray) -> sp.csr_matrix:
    """The kept columns of ``hstack([weight_counts(hashed_counts(s, n_features)) for s in blocks])``, values
    and their order in each row as that matrix's (see :func:`hashed_scores`)."""
    from sklearn.preprocessing import normalize

    n_texts = blocks[0].n_texts if blocks else 0
    n_kept = int(position.max()) + 1 if position.size and position.max() >= 0 else 0
    rows, cols, values = [], [], []
    for b, spans in enumerate(blocks):
        counts = _count(spans.row, _hashed_columns(spans, n_features), n_texts, n_features)
        counts.data = np.log1p(counts.data)
        normalize(counts, copy=False)  # scikit-learn's row normalisation, in place: weight_counts' arithmetic
        pos = position[b * n_features + counts.indices]
        keep = pos >= 0
        rows.append(np.repeat(np.arange(n_texts, dtype=np.int32), np.diff(counts.indptr))[keep])
        cols.append(pos[keep])
        values.append(counts.data[keep])
    row = np.concatenate([np.zeros(0, np.int32), *rows])
    order = np.argsort(row, kind="stable")  # a row's entries: block by block, each in column order
    indptr = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_texts), out=indptr[1:])
    data = np.concatenate([np.zeros(0, np.float32), *values])[order]
    indices = np.concatenate([np.zeros(0, np.int64), *cols])[order]
    return sp.csr_matrix((data, indices, indptr), shape=(n_texts, n_kept))


def _tails_equal(buf_a: np.ndarray, a: np.ndarray, buf_b: np.ndarray, b: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Whether ``buf_a[a + 8:a + n]`` equals ``buf_b[b + 8:b + n]`` for each i (spans whose first 8 bytes agree).

    One byte position at a time over the spans still that long: memory stays linear in the number
    of spans whatever the longest one.
    """
    ok = np.ones(len(n), dtype=bool)
    live = np.flatnonzero(n > 8)
    j = 8
    while live.size:
        ok[live] &= buf_a[a[live] + j] == buf_b[b[live] + j]
        j += 1
        live = live[ok[live] & (n[live] > j)]
    return ok


def _words64(buf: np.ndarray) -> np.ndarray:
    """The buffer as little-endian uint64 words at each of the 8 byte offsets: any 8-byte read is one gather."""
    padded = np.zeros(buf.size + 16, dtype=np.uint8)
    padded[: buf.size] = buf
    m = (buf.size + 8) // 8
    return np.stack([padded[r : r + 8 * m].view("<u8") for r in range(8)])


def _prefix64(words: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each span (of the buffer given as :func:`_words64`), bytes past the span zeroed."""
    out = words[start % 8, start // 8]
    keep = np.minimum(length, 8).astype(np.uint64) * np.uint64(8)
    mask = np.where(keep >= 64, np.uint64(0xFFFFFFFFFFFFFFFF), (np.uint64(1) << (keep % np.uint64(64))) - np.uint64(1))
    return out & mask


class _HashTable:
    """Integer hashes in a direct-address table on their low bits, entries sharing a bucket chained.

    :meth:`pairs` finds, for many query hashes at once, every entry with an equal hash: most
    queries land in an empty bucket and stop there.
    """

    def __init__(self, hashes: np.ndarray) -> None:
        self.hash = np.asarray(hashes, dtype=np.int32)
        # at least 2**18 buckets (a 4,000-entry vocabulary fills 1.5 %), about two per entry beyond that,
        # at most 2**24 (64 MB of int32 heads)
        self._bits = min(max(18, int(2 * len(self.hash) - 1).bit_length()), 24)
        bucket = self.hash.view(np.uint32) & np.uint32((1 << self._bits) - 1)
        # chain each bucket's entries in entry order: head in _first, the rest through _next
        order = np.argsort(bucket, kind="stable").astype(np.int32)
        b = bucket[order]
        same = b[1:] == b[:-1]
        self._next = np.full(len(self.hash), -1, dtype=np.int32)
        self._next[order[:-1][same]] = order[1:][same]
        head = np.concatenate([[True], ~same]) if len(self.hash) else np.zeros(0, dtype=bool)
        self._first = np.full(1 << self._bits, -1, dtype=np.int32)
        self._first[b[head]] = order[head]

    def links(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """The table as the compiled kernels take it: entry hashes, bucket heads, chain links, bits."""
        return self.hash, self._first, self._next, self._bits

    def pairs(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(i, entry)`` for every query ``i`` and entry with ``hash[entry] == query[i]``."""
        if _C is not None:
            query = np.ascontiguousarray(query, dtype=np.int32)
            cap = query.size  # enough unless entries share hashes (a vocabulary's colliding n-grams)
            while True:
                i, entry = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
                n = _C.table_pairs(query, *self.links(), i, entry)
                if n <= cap:
                    return i[:n], entry[:n]
                cap = n
        entry = self._first[query.view(np.uint32) & np.uint32((1 << self._bits) - 1)]
        i = np.flatnonzero(entry >= 0)
        entry = entry[i]
        found, entries = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        while i.size:
            hit = self.hash[entry] == query[i]
            found.append(i[hit])
            entries.append(entry[hit])
            entry = self._next[entry]
            i, entry = i[entry >= 0], entry[entry >= 0]
        return np.concatenate(found), np.concatenate(entries)

    def chunked_pairs(self, query: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """:meth:`pairs` over :data:`_HASH_CHUNK` queries at a time (indices into the whole ``query``):
        what the caller does with each chunk's pairs stays bounded, however many queries there are."""
        for a in range(0, query.size, _HASH_CHUNK):
            i, entry = self.pairs(query[a : a + _HASH_CHUNK])
            yield i + a, entry

    def all_pairs(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`pairs`, looked up a chunk at a time (for the few entries whose pairs are all kept)."""
        found, entries = zip(*self.chunked_pairs(query), strict=True) if query.size else ((), ())
        return np.concatenate([np.zeros(0, np.int64), *found]), np.concatenate([np.zeros(0, np.int64), *entries])


def _spans_equal(
    buf_a: np.ndarray, start_a: np.ndarray, length_a: np.ndarray, prefix_a: np.ndarray,
    buf_b: np.ndarray, start_b: np.ndarray, length_b: np.ndarray, prefix_b: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Whether each span of ``buf_a`` holds the bytes of its span of ``buf_b``: length and first 8 bytes
    as integers, the rest (word n-grams, non-ASCII characters) byte by byte."""
    ok = (length_a == length_b) & (prefix_a == prefix_b)
    long = np.flatnonzero(ok & (length_a > 8))
    if long.size:
        ok[long] = _tails_equal(buf_a, start_a[long], buf_b, start_b[long], length_a[long])
    return ok


class VocabularyIndex:
    """A fixed vocabulary, looked up by hash and confirmed exactly.

    The vocabulary's hashes go into a direct-address table (:class:`_HashTable`); a span whose
    hash equals an entry's counts only when its length and bytes agree too, so a hash collision
    never counts.

    Parameters
    ----------
    vocabulary : sequence of str
        The n-grams, in column order.
    """

    def __init__(self, vocabulary: Sequence[str]) -> None:
        buf, offsets = _encode(list(vocabulary))
        self.size = len(offsets) - 1
        self._buf, self._start, self._length = buf, offsets[:-1], np.diff(offsets)
        self._table = _HashTable(murmur3(buf, self._start, self._length))
        self._prefix = _prefix64(_words64(buf), self._start, self._length)

    def columns(self, spans: Spans) -> tuple[np.ndarray, np.ndarray]:
        """``(span_index, column)`` of the spans that are vocabulary entries."""
        if _C is not None:
            i, col = np.empty(spans.hash.size, dtype=np.int64), np.empty(spans.hash.size, dtype=np.int64)
            n = _C.vocabulary_lookup(spans.buf, spans.start, spans.length, spans.hash, self._buf, self._start,
                                     self._length, *self._table.links(), i, col)  # fmt: skip
            return i[:n], col[:n]
        found, cols = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for idx, col in self._table.chunked_pairs(spans.hash):  # a chunk at a time: the comparison's temporaries
            ok = _spans_equal(spans.buf, spans.start[idx], spans.length[idx], spans.prefix[idx],
                              self._buf, self._start[col], self._length[col], self._prefix[col])  # fmt: skip
            found.append(idx[ok])
            cols.append(col[ok])
        return np.concatenate(found), np.concatenate(cols)

    def add_counts(self, spans: Spans, out: np.ndarray, col0: int = 0) -> None:
        """Add the spans' counts to a dense C-contiguous float32 matrix: ``out[row, col0 + column] += 1``."""
        if out.dtype != np.float32 or not out.flags.c_contiguous:
            raise TypeError(f"out must be a C-contiguous float32 matrix, got {out.dtype}")
        if out.ndim != 2 or col0 < 0 or col0 + self.size > out.shape[1] or spans.n_texts > out.shape[0]:
            raise ValueError(f"{spans.n_texts} texts, columns {col0} .. {col0 + self.size} of a matrix of "
                             f"shape {out.shape}")  # fmt: skip
        if _C is None:
            i, col = self.columns(spans)
            np.add.at(out, (spans.row[i], col0 + col), 1)
            return
        _C.vocabulary_add(spans.buf, spans.start, spans.length, spans.hash, spans.row, self._buf, self._start,
                          self._length, *self._table.links(), out, out.shape[1], col0)  # fmt: skip


def vocabulary_counts(spans: Spans, index: VocabularyIndex) -> sp.csr_matrix:
    """``CountVectorizer(vocabulary=...)``'s counts of the spans."""
    i, col = index.columns(spans)
    return _count(spans.row[i], col, spans.n_texts, index.size)


def dense_weighted_counts(blocks: Sequence[tuple[Spans, VocabularyIndex]]) -> np.ndarray:
    """Each block's vocabulary counts as log(1 + tf), scaled to unit L2 norm per row, side by side, dense.

    Equals ``hstack([weight_counts(vocabulary_counts(s, i)) for s, i in blocks]).toarray()`` (float32)
    exactly: the compiled kernels count into the dense matrix and normalise with scikit-learn's
    arithmetic (``normalize`` of a CSR row), so no sparse matrix is built or sorted.  All blocks must
    hold the same texts.

    Examples
    --------
    >>> X = dense_weighted_counts([(char_spans(["aab"], (1, 1)), VocabularyIndex(["a", "b", "c"]))])
    >>> X.astype(float).round(3).tolist()  # log(1 + [2, 1, 0]), unit norm
    [[0.846, 0.534, 0.0]]
    """
    n_texts = blocks[0][0].n_texts if blocks else 0
    widths = [index.size for _, index in blocks]
    bounds = np.concatenate([[0], np.cumsum(widths)]).astype(int)
    out = np.zeros((n_texts, int(bounds[-1])), dtype=np.float32)
    # float32 counts are exact below 2**24: fewer spans than that in a call keeps every cell below it
    if _C is None or out.size == 0 or max(spans.hash.size for spans, _ in blocks) >= 2**24:
        from sklearn.preprocessing import normalize

        for (spans, index), a, b in zip(blocks, bounds[:-1], bounds[1:], strict=True):
            counts = vocabulary_counts(spans, index)
            counts.data = np.log1p(counts.data)
            out[:, a:b] = normalize(counts).toarray()
        return out
    for (spans, index), a in zip(blocks, bounds[:-1], strict=True):
        if spans.n_texts != n_texts:
            raise ValueError(f"blocks of {spans.n_texts} and {n_texts} texts")
        index.add_counts(spans, out, int(a))
    np.log1p(out, out=out)  # zeros stay zero; the same float32 log1p as on a CSR matrix's values
    for a, b in itertools.pairwise(bounds):
        _C.normalize_rows(out, out.shape[1], int(a), int(b))
    return out


def _group_ids(spans: Spans, idx: np.ndarray) -> np.ndarray:
    """Exact identity of the spans ``idx`` as group numbers (equal bytes, equal number): for hash collisions only."""
    groups: dict[bytes, int] = {}
    return np.array([groups.setdefault(spans.buf[s : s + n].tobytes(), len(groups))
                     for s, n in zip(spans.start[idx].tolist(), spans.length[idx].tolist(), strict=True)])  # fmt: skip


def _same_bytes(spans: Spans, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether span ``a[i]`` and span ``b[i]`` of the same batch hold the same bytes."""
    return _spans_equal(spans.buf, spans.start[a], spans.length[a], spans.prefix[a],
                        spans.buf, spans.start[b], spans.length[b], spans.prefix[b])  # fmt: skip


def top_ngrams(spans: Spans, max_features: int | None = None, min_df: float = 1) -> list[str]:
    """The n-grams found in at least ``min_df`` texts; at most ``max_features``, those found in most texts.

    Ties go to the alphabetically first, and the result is sorted: the vocabulary of
    ``CountVectorizer(min_df=min_df)`` fitted on the same texts and cut to the ``max_features``
    n-grams of highest document frequency, as :class:`~fingerprint.features.ngrams.CharNgrams` does
    (tested against it).  Document frequencies are counted per hash; a hash enters only once all
    its spans are found byte-identical (a hash shared by several n-grams is split into them and
    each counted exactly), and hashes are confirmed from the most frequent down until no
    unconfirmed one can still enter.

    Examples
    --------
    >>> top_ngrams(char_spans(["abab", "ab"], (2, 2)), max_features=2)
    ['ab', 'ba']
    """
    if not spans.hash.size:
        return []
    # document frequency per hash: one count per distinct (text, hash) pair (one key array, built and sorted in place)
    key = spans.row.astype(np.uint64)
    key <<= np.uint64(32)
    key |= spans.hash.view(np.uint32)
    pairs, _ = _runs(key)
    del key
    hashes, df = _runs((pairs & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32))
    del pairs
    order = np.lexsort((hashes, -df))
    want = spans.hash.size + 1 if max_features is None else max_features  # None: more than there can be
    conf_df: list[np.ndarray] = []  # document frequency and a span of each confirmed n-gram
    conf_span: list[np.ndarray] = []
    done = 0
    while done < len(order):
        if conf_df:
            confirmed = np.concatenate(conf_df)
            if np.sum(confirmed > df[order[done]]) >= want:
                break  # no unconfirmed n-gram can enter, nor tie with the last to enter
        # every hash at least as frequent as the `want`-th best unconfirmed one (ties included)
        level = df[order[min(done + want, len(order)) - 1]] if not conf_df else df[order[done]]
        stop = done + int(np.searchsorted(-df[order[done:]], -level, side="right"))
        batch = hashes[order[done:stop]]
        table = _HashTable(batch)
        first = np.full(len(batch), -1, dtype=np.int64)  # some span of each hash: every one is checked against it
        bad = np.zeros(len(batch), dtype=bool)
        # the spans of the batch's hashes (most spans, for the most frequent n-grams) a chunk at a time
        for idx, k in table.chunked_pairs(spans.hash):
            new = first[k] < 0
            first[k[new]] = idx[new]
            bad[k[~_same_bytes(spans, idx, first[k])]] = True
        conf_df.append(df[order[done:stop]][~bad])
        conf_span.append(first[~bad])
        # the spans of hashes shared by different n-grams (rare), grouped by hash
        idx, k = _HashTable(batch[bad]).all_pairs(spans.hash) if bad.any() else (np.zeros(0, np.int64),) * 2
        sel = np.argsort(k, kind="stable")
        for members in np.split(idx[sel], np.flatnonzero(np.diff(k[sel])) + 1) if sel.size else []:
            gid = _group_ids(spans, members)  # count each n-gram exactly
            for g in range(int(gid.max()) + 1):
                m = members[gid == g]
                conf_df.append(np.array([len(np.unique(spans.row[m]))]))
                conf_span.append(m[:1])
        done = stop
    dfs, reps = np.concatenate(conf_df), np.concatenate(conf_span)
    keep = dfs >= min_df
    dfs, reps = dfs[keep], reps[keep]
    names = [spans.buf[a : a + n].tobytes().decode("utf-8", "surrogatepass")
             for a, n in zip(spans.start[reps].tolist(), spans.length[reps].tolist(), strict=True)]  # fmt: skip
    if len(names) > want:
        ranked = sorted(range(len(names)), key=lambda i: (-int(dfs[i]), names[i]))
        names = [names[i] for i in ranked[:want]]
    return sorted(names)
