"""The vectorised n-gram counter equals scikit-learn's vectorizers exactly."""

import contextlib
import re
import shutil

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
from sklearn.utils import murmurhash3_32

from fingerprint.features import fastgrams as fg
from fingerprint.features.ngrams import LEGACY_TOKEN_PATTERN, WORD_TOKEN_PATTERN, weight_counts

_COMPILED = fg._C  # None where the C kernels could not be built


@pytest.fixture(scope="module", autouse=True, params=["compiled", "numpy"])
def implementation(request):
    """Every test here runs on the compiled kernels and on the numpy code they replace (same results).

    Module-scoped (set by hand, not monkeypatch) so that hypothesis' examples share it.
    """
    if request.param == "compiled" and _COMPILED is None:
        pytest.skip("the compiled kernels are not built here (no C compiler at install)")
    fg._C = _COMPILED if request.param == "compiled" else None
    yield request.param
    fg._C = _COMPILED


# letters, digits, punctuation, every kind of whitespace run, accents, CJK, emoji, combining marks
ALPHABET = st.sampled_from(list("aAbBzZ019 .,!?'-*#|_\n\t\r\x0b\x0c\u00a0\u2003éÉßİıſK日本😀🇫🇷\u0301\u200d—…"))
TEXTS = st.lists(st.text(ALPHABET, min_size=1, max_size=60), min_size=1, max_size=6)


def _sk(kind: str, **kw):
    common = {"dtype": np.float32, **kw}
    if kind == "hash":
        return HashingVectorizer(alternate_sign=False, norm=None, **common)
    return CountVectorizer(**common)


def _seen(texts, kw):
    try:
        return sorted(CountVectorizer(**kw).fit(texts).vocabulary_)
    except ValueError:  # no n-gram at all: scikit-learn refuses an empty vocabulary
        return []


def _same(A, B):
    assert A.shape == B.shape
    assert (A != B).nnz == 0


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 2**32 - 1))
def test_murmur3_equals_sklearn(data, seed):
    buf = np.frombuffer(b"xy" + data, dtype=np.uint8)
    got = fg.murmur3(buf, np.array([2]), np.array([len(data)]), seed=seed)
    assert int(got[0]) == murmurhash3_32(data, seed=seed)


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.integers(1, 4), st.integers(0, 2), st.booleans(), st.sampled_from([7, 2**10, 2**20]))
def test_char_ngrams_equal_sklearn(texts, lo, extra, lowercase, n_features):
    rng = (lo, lo + extra)
    spans = fg.char_spans(texts, rng, lowercase)
    kw = {"analyzer": "char", "ngram_range": rng, "lowercase": lowercase}
    _same(fg.hashed_counts(spans, n_features), _sk("hash", n_features=n_features, **kw).transform(texts))
    # a vocabulary of some n-grams of these texts and some absent ones
    vocab = [*_seen(texts, kw)[::2], "never-there", "日本語"]
    got = fg.vocabulary_counts(spans, fg.VocabularyIndex(vocab))
    _same(got, _sk("count", vocabulary=vocab, **kw).transform(texts))


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.sampled_from([(1, 1), (1, 2), (2, 2), (1, 3)]), st.booleans(),
       st.sampled_from([WORD_TOKEN_PATTERN, LEGACY_TOKEN_PATTERN]))  # fmt: skip
def test_word_ngrams_equal_sklearn(texts, rng, lowercase, pattern):
    spans = fg.word_spans(texts, rng, pattern, lowercase)
    kw = {"analyzer": "word", "ngram_range": rng, "lowercase": lowercase, "token_pattern": pattern}
    _same(fg.hashed_counts(spans, 2**20), _sk("hash", n_features=2**20, **kw).transform(texts))
    vocab = [*_seen(texts, kw)[1::2], "never there"]
    got = fg.vocabulary_counts(spans, fg.VocabularyIndex(vocab))
    _same(got, _sk("count", vocabulary=vocab, **kw).transform(texts))


def _colliding_pair():
    """Two different 7-letter words with the same 32-bit MurmurHash3 (found by the birthday bound)."""
    rng = np.random.default_rng(0)
    words = ["".join(w) for w in rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=(300_000, 7))]
    buf = np.frombuffer("".join(words).encode(), dtype=np.uint8)
    h = fg.murmur3(buf, np.arange(len(words)) * 7, np.full(len(words), 7))
    order = np.argsort(h, kind="stable")
    dup = np.flatnonzero(np.diff(h[order]) == 0)
    for i in dup:
        a, b = words[order[i]], words[order[i + 1]]
        if a != b:
            return a, b
    raise AssertionError("no collision found")  # pragma: no cover


def test_a_hash_collision_never_counts_as_a_vocabulary_entry():
    a, b = _colliding_pair()
    assert murmurhash3_32(a) == murmurhash3_32(b) and a != b
    index = fg.VocabularyIndex([a, "other"])
    texts = [f"{b} {b} {a}", b]
    got = fg.vocabulary_counts(fg.word_spans(texts, (1, 1), WORD_TOKEN_PATTERN), index)
    assert got.toarray().tolist() == [[1, 0], [0, 0]]


def test_large_vocabularies_with_shared_buckets_and_long_entries():
    """Thousands of entries share buckets (chains) and many exceed 8 bytes (compared byte by byte)."""
    rng = np.random.default_rng(1)
    letters = list("abcdeéß日😀 ")
    texts = ["".join(rng.choice(letters, size=400)) for _ in range(20)]
    kw = {"analyzer": "char", "ngram_range": (1, 4), "lowercase": False}
    vocab = sorted(CountVectorizer(**kw).fit(texts).vocabulary_)
    assert len(vocab) > 5000 and max(len(v.encode()) for v in vocab) > 8
    got = fg.vocabulary_counts(fg.char_spans(texts, (1, 4)), fg.VocabularyIndex(vocab))
    _same(got, _sk("count", vocabulary=vocab, **kw).transform(texts))


@pytest.mark.parametrize("texts", [["a"], ["!"], ["a", "bc"]])
def test_texts_shorter_than_the_ngrams(texts):
    spans = fg.char_spans(texts, (3, 4))
    assert fg.hashed_counts(spans, 16).nnz == 0
    words = fg.word_spans(texts, (3, 3), WORD_TOKEN_PATTERN)
    assert fg.vocabulary_counts(words, fg.VocabularyIndex(["a b c"])).nnz == 0


# --- learning a vocabulary: the n-grams found in most texts ------------------------------------------------


def _sk_top(texts, kw, max_features, min_df):
    """scikit-learn's vocabulary cut to the n-grams of highest document frequency (ties: alphabetical)."""
    try:
        cv = CountVectorizer(min_df=min_df, **kw)
        C = cv.fit_transform(texts).tocsc()
    except ValueError:  # nothing left: scikit-learn refuses an empty vocabulary
        return []
    names = cv.get_feature_names_out()
    if max_features is not None and max_features < len(names):
        names = names[np.sort(np.argsort(-np.diff(C.indptr), kind="stable")[:max_features])]
    return list(names)


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.sampled_from([None, 1, 3, 10, 40]), st.integers(1, 3), st.booleans(), st.booleans())
def test_top_ngrams_equal_sklearns_vocabulary(texts, max_features, min_df, words, lowercase):
    if words:
        kw = {"analyzer": "word", "ngram_range": (1, 2), "lowercase": lowercase, "token_pattern": WORD_TOKEN_PATTERN}
        spans = fg.word_spans(texts, (1, 2), WORD_TOKEN_PATTERN, lowercase)
    else:
        kw = {"analyzer": "char", "ngram_range": (1, 3), "lowercase": lowercase}
        spans = fg.char_spans(texts, (1, 3), lowercase)
    assert fg.top_ngrams(spans, max_features, min_df) == _sk_top(texts, kw, max_features, min_df)


@pytest.mark.parametrize("chunk", [1, 1 << 22])
def test_top_ngrams_split_a_hash_shared_by_two_ngrams(monkeypatch, chunk):
    """A colliding pair counted under one hash would be 3 texts; each is in 2 and ties with 'zz'."""
    monkeypatch.setattr(fg, "_HASH_CHUNK", chunk)  # one span at a time: a collision seen across chunks
    a, b = _colliding_pair()
    texts = [f"{a} zz", f"{a} zz", f"{b} zz", f"{b}", "q"]
    kw = {"analyzer": "word", "ngram_range": (1, 1), "lowercase": False, "token_pattern": WORD_TOKEN_PATTERN}
    spans = fg.word_spans(texts, (1, 1), WORD_TOKEN_PATTERN)
    for k in (1, 2, 3, None):
        assert fg.top_ngrams(spans, k) == _sk_top(texts, kw, k, 1)
    assert fg.top_ngrams(spans, 1) == ["zz"] and fg.top_ngrams(spans, 2) == sorted([min(a, b), "zz"])


def test_top_ngrams_of_many_long_ngrams():
    rng = np.random.default_rng(2)
    letters = list("abcdeéß日😀 ")
    texts = ["".join(rng.choice(letters, size=300)) for _ in range(30)]
    kw = {"analyzer": "char", "ngram_range": (1, 4), "lowercase": False}
    for k in (50, 2000, None):
        assert fg.top_ngrams(fg.char_spans(texts, (1, 4)), k) == _sk_top(texts, kw, k, 1)


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_hashing_in_chunks_gives_the_same_spans(monkeypatch, chunk):
    """Spans are hashed, looked up and compared a bounded number at a time (memory): any chunk size gives
    scikit-learn's counts and vocabulary."""
    texts = ["Hello wörld — a long-ish answer, with **markdown** and 日本語.", "Another one!\n\n- item", "x"]
    monkeypatch.setattr(fg, "_HASH_CHUNK", chunk)
    for spans, kw in ((fg.char_spans(texts, (1, 4)), {"analyzer": "char", "ngram_range": (1, 4), "lowercase": False}),
                      (fg.word_spans(texts, (1, 2), WORD_TOKEN_PATTERN),
                       {"analyzer": "word", "ngram_range": (1, 2), "lowercase": False,
                        "token_pattern": WORD_TOKEN_PATTERN})):  # fmt: skip
        _same(fg.hashed_counts(spans, 2**10), _sk("hash", n_features=2**10, **kw).transform(texts))
        seen = _seen(texts, kw)
        got = fg.vocabulary_counts(spans, fg.VocabularyIndex(seen[::2]))
        _same(got, _sk("count", vocabulary=seen[::2], **kw).transform(texts))
        for top in (3, None):
            assert fg.top_ngrams(spans, top) == _sk_top(texts, kw, top, 1)


# --- the compiled kernels themselves ----------------------------------------------------------------------


def test_the_compiled_kernels_are_built_where_a_compiler_is():
    """An install with a C compiler (CI, `make test`) builds the kernels: the numpy code is a fallback only."""
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler here")
    assert fg.COMPILED and _COMPILED is not None


def _kernels():
    if _COMPILED is None:
        pytest.skip("the compiled kernels are not built here")
    return _COMPILED


def test_kernels_refuse_spans_outside_their_buffer():
    C = _kernels()
    buf = np.frombuffer(b"hello", dtype=np.uint8)
    h, p = np.empty(1, np.int32), np.empty(1, np.uint64)
    for start, length in ((3, 3), (-1, 1), (0, -1), (6, 0)):
        with pytest.raises(ValueError, match="outside a buffer of 5 bytes"):
            C.hash_spans(buf, np.array([start]), np.array([length]), h, p)
    C.hash_spans(buf, np.array([5]), np.array([0]), h, p)  # an empty span at the end is inside
    assert int(h[0]) == murmurhash3_32(b"")


def test_kernels_refuse_mismatched_sizes_and_bad_tables():
    C = _kernels()
    buf = np.frombuffer(b"hello", dtype=np.uint8)
    with pytest.raises(ValueError, match="out_hash: 2 against 1"):
        C.hash_spans(buf, np.array([0]), np.array([1]), np.empty(2, np.int32), np.empty(1, np.uint64))
    with pytest.raises(ValueError, match="counts do not fit"):  # outputs not sized for the n-grams
        C.unit_ngrams(np.arange(3), np.arange(1, 4), np.array([3]), 1, 2, *(np.empty(4, t) for t in "qqi"))
    table = fg._HashTable(np.array([5, 7], dtype=np.int32))
    hashes, first, links, bits = table.links()
    looped = links.copy()
    looped[:] = 0  # a chain that points back: would never end
    out = np.empty(1, np.int64), np.empty(1, np.int64)
    with pytest.raises(ValueError, match="table link"):
        C.table_pairs(np.array([5], np.int32), hashes, first, looped, bits, *out)
    with pytest.raises(ValueError, match="bucket heads"):
        C.table_pairs(np.array([5], np.int32), hashes, first, links, bits + 1, *out)
    with pytest.raises(TypeError):  # a read-only output
        C.hashed_columns(np.zeros(1, np.int32), 8, np.frombuffer(b"\0\0\0\0", dtype=np.int32))


def test_table_pairs_grow_their_output_for_shared_hashes():
    """Entries sharing a hash give more pairs than queries: the compiled lookup asks again with room."""
    table = fg._HashTable(np.array([3, 3, 3, 9], dtype=np.int32))
    i, entry = table.pairs(np.array([3, 4], dtype=np.int32))
    assert sorted(zip(i.tolist(), entry.tolist(), strict=True)) == [(0, 0), (0, 1), (0, 2)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=20), min_size=1, max_size=8), st.lists(st.integers(-(2**31), 2**31 - 1), max_size=8))
def test_compiled_kernels_equal_the_numpy_code(parts, hashes):
    """Span by span: hashes, prefixes, n-gram spans and hashed columns of both implementations agree."""
    if _COMPILED is None:
        pytest.skip("the compiled kernels are not built here")
    buf = np.frombuffer(b"".join(parts), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    start, length = offsets[:-1], np.diff(offsets)
    def both():
        spans = fg._unit_ngrams(buf, start, offsets[1:], np.array([len(parts)]), (1, 3))
        return fg._hash_spans(buf, start, length), spans, fg.hashed_counts(spans, 2**20)

    before = fg._C
    try:
        fg._C = None
        ref = both()
        fg._C = _COMPILED
        got = both()
    finally:
        fg._C = before
    ref_cols, got_cols = ref[2], got[2]
    (ref_hash, ref_prefix), (got_hash, got_prefix) = ref[0], got[0]
    np.testing.assert_array_equal(ref_hash, got_hash)
    np.testing.assert_array_equal(ref_prefix, got_prefix)
    for f in ("start", "length", "row", "hash", "prefix"):
        np.testing.assert_array_equal(getattr(ref[1], f), getattr(got[1], f))
    _same(ref_cols, got_cols)
    h = np.array(hashes, dtype=np.int32)
    for n in (1, 7, 2**20, 2**31):
        col = np.empty(h.size, np.int32)
        _COMPILED.hashed_columns(h, n, col)
        expect = [(2**31 - 1 - (n - 1)) % n if x == -(2**31) else abs(x) % n for x in hashes]
        assert col.tolist() == expect


# --- the transform's dense and fused paths equal the sparse computation, to the last bit -----------------


def _vocab_of(texts, kw):
    return [*_seen(texts, kw)[::2], "never-there"]


@settings(max_examples=40, deadline=None)
@given(TEXTS, st.booleans())
def test_dense_weighted_counts_equal_the_sparse_weighting(texts, empty):
    texts = ["", *texts] if empty else texts  # a text with no n-gram: a row of zeros, left as it is
    chars, words = fg.char_spans(texts, (1, 4)), fg.word_spans(texts, (1, 2), WORD_TOKEN_PATTERN)
    ci = fg.VocabularyIndex(_vocab_of(texts, {"analyzer": "char", "ngram_range": (1, 4), "lowercase": False}))
    wi = fg.VocabularyIndex(["never", *_vocab_of(texts, {"analyzer": "word", "ngram_range": (1, 2), "lowercase": False,
                                                        "token_pattern": WORD_TOKEN_PATTERN})])  # fmt: skip
    want = sp.hstack([weight_counts(fg.vocabulary_counts(chars, ci)), weight_counts(fg.vocabulary_counts(words, wi))])
    got = fg.dense_weighted_counts([(chars, ci), (words, wi)])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want.toarray())


@settings(max_examples=40, deadline=None)
@given(TEXTS, st.sampled_from([16, 1000, 2**10, 2**20]), st.integers(0, 2**32 - 1), st.booleans())
def test_hashed_scores_equal_the_sparse_product(texts, n_features, seed, empty):
    """Any number of columns (not only powers of two: the blocks then meet inside a bitmap word), texts
    with no n-gram at all (an empty row)."""
    texts = [*texts, ""] if empty else texts
    rng = np.random.default_rng(seed)
    blocks = [fg.char_spans(texts, (1, 4)), fg.word_spans(texts, (1, 2), WORD_TOKEN_PATTERN)]
    H = sp.hstack([weight_counts(fg.hashed_counts(s, n_features)) for s in blocks]).tocsr()
    # some of the columns the texts have, some they do not
    kept = np.unique(np.concatenate([rng.choice(H.indices, size=min(H.nnz, 20)) if H.nnz else [],
                                     rng.integers(0, 2 * n_features, size=5)]).astype(np.int64))  # fmt: skip
    coef = rng.normal(size=(kept.size, 3)).astype(np.float16).astype(np.float32)
    got = fg.hashed_scores(blocks, n_features, fg.ColumnSelection(kept, 2 * n_features), coef)
    want = H[:, kept] @ coef
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("n", [65_535, 70_000])
def test_hashed_scores_at_the_end_of_the_kernels_table(n):
    """65,535 of one n-gram in a text is the table's last entry; past it the kernel declines and the
    sparse code answers.  The same scores either way."""
    texts = ["a" * n, "ab ab"]
    blocks = [fg.char_spans(texts, (1, 2))]
    H = weight_counts(fg.hashed_counts(blocks[0], 64))
    kept = np.unique(H.indices)
    coef = np.arange(kept.size * 2, dtype=np.float32).reshape(-1, 2)
    got = fg.hashed_scores(blocks, 64, fg.ColumnSelection(kept, 64), coef)
    np.testing.assert_array_equal(got, H[:, kept] @ coef)


def test_column_selection_checks_its_columns():
    s = fg.ColumnSelection([0, 63, 64, 200], 201)
    assert s.size == 4 and s.position[[0, 1, 63, 64, 200]].tolist() == [0, -1, 1, 2, 3]
    for bad in ([3, 3], [5, 2], [-1], [201]):
        with pytest.raises(ValueError, match="increasing and within"):
            fg.ColumnSelection(bad, 201)
    with pytest.raises(ValueError, match="rows of coefficients"):
        fg.hashed_scores([fg.char_spans(["ab"], (1, 1))], 8, fg.ColumnSelection([1], 16), np.zeros((2, 1)))


def test_dense_and_fused_kernels_refuse_bad_input():
    C = _kernels()
    spans = fg.char_spans(["abc"], (1, 1))
    index = fg.VocabularyIndex(["a", "b"])
    with pytest.raises(ValueError, match=r"columns 1 \.\. 3 of a matrix"):
        index.add_counts(spans, np.zeros((1, 2), np.float32), 1)  # the vocabulary does not fit
    with pytest.raises(ValueError, match="1 texts"):
        index.add_counts(spans, np.zeros((0, 2), np.float32))
    with pytest.raises(ValueError, match="its row"):  # the kernel checks too
        C.vocabulary_add(spans.buf, spans.start, spans.length, spans.hash, spans.row, index._buf, index._start,
                         index._length, *index._table.links(), np.zeros((0, 2), np.float32), 2, 0)  # fmt: skip
    with pytest.raises(ValueError, match=r"columns 0 \.\. 5"):
        C.normalize_rows(np.zeros((2, 4), np.float32), 4, 0, 5)
    kept = fg.ColumnSelection([1, 2], 64)
    table, coef, out = fg._log1p_table(), np.ones((2, 1), np.float32), np.zeros((2, 1), np.float32)
    unsorted = np.array([(1 << 6) | 1, 2], dtype=np.uint32)
    with pytest.raises(ValueError, match="not sorted"):
        C.score_block(unsorted, 4, 6, table, kept.bits, kept.rank, 0, coef, out, 2, 1)
    with pytest.raises(ValueError, match="out of range"):  # ranks that do not count the bits
        C.score_block(np.sort(unsorted), 4, 6, table, kept.bits, kept.rank + 1, 0, coef, out, 2, 1)
    with pytest.raises(ValueError, match="position out of range"):  # more kept columns than coefficient rows
        C.score_block(np.sort(unsorted), 4, 6, table, kept.bits, kept.rank, 0, coef[:1], out, 2, 1)
    C.score_block(np.sort(unsorted), 4, 6, table, kept.bits, kept.rank, 0, coef, out, 2, 1)
    assert out.ravel().tolist() == [1.0, 1.0]  # one kept column per row, each row of unit norm


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.sampled_from(list("aZ_9 \t\n.,!'-éß日😀\u0301\u200d\u2028\x1c\x85\u00a0²٣ⅫK\ud800\udfff")),
                        max_size=30), min_size=1, max_size=5))  # fmt: skip
def test_compiled_tokeniser_finds_what_re_finds(texts):
    """Word characters and whitespace as re sees them on str patterns: digits of other scripts, ², Ⅻ,
    the underscore, U+2028 and \\x1c (whitespace), lone surrogates (a token each, surrogatepass bytes)."""
    C = _kernels()
    counts = np.empty(len(texts), dtype=np.int64)
    got = C.word_tokens(texts, counts)
    tokens = [re.findall(fg.WORD_OR_MARK, t) for t in texts]
    assert got == " ".join(t for ts in tokens for t in ts).encode("utf-8", "surrogatepass")
    assert counts.tolist() == [len(t) for t in tokens]
    with pytest.raises(TypeError, match="text 1 is a bytes"):
        C.word_tokens(["a", b"b"], np.empty(2, dtype=np.int64))


def test_score_kernel_gives_the_same_for_both_key_widths():
    """uint32 keys (the usual: a chunk's rows and 2**20 columns fit) and uint64 keys."""
    C = _kernels()
    spans = fg.char_spans(["Hello wörld, hello again", "x", "another text here"], (1, 3))
    cols = fg._hashed_columns(spans, 2**20)
    kept = fg.ColumnSelection(np.unique(cols)[::2], 2**20)
    coef = np.random.default_rng(0).normal(size=(kept.size, 3)).astype(np.float32)
    outs = []
    for dtype in (np.uint32, np.uint64):
        key = np.sort((spans.row.astype(dtype) << dtype(20)) | cols.astype(dtype))
        out = np.zeros((3, 3), np.float32)
        assert C.score_block(key, key.itemsize, 20, fg._log1p_table(), kept.bits, kept.rank, 0, coef, out, 3, 3) == 0
        outs.append(out)
    np.testing.assert_array_equal(*outs)
    assert np.abs(outs[0]).sum() > 0


def test_kernels_survive_hostile_calls():
    """Calls no wrapper makes, each once a way to read or write outside a buffer: refused, or harmless."""
    C = _kernels()
    # counts whose sum wraps around 2**64 (with -fwrapv): refused before any unit is read
    with pytest.raises(ValueError, match="counts do not fit"):
        C.unit_ngrams(np.zeros(1, np.int64), np.ones(1, np.int64), np.array([2**62] * 3 + [2**62 + 1], np.int64),
                      1, 1, np.empty(1, np.int64), np.empty(1, np.int64), np.empty(1, np.int32))  # fmt: skip
    with pytest.raises(ValueError, match="ngram range"):  # an order loop that would never end
        C.unit_ngrams(np.zeros(1, np.int64), np.ones(1, np.int64), np.ones(1, np.int64), 1, 2**31 - 1,
                      *(np.empty(1, t) for t in (np.int64, np.int64, np.int32)))  # fmt: skip
    spans = fg.char_spans(["abc"], (1, 1))
    index = fg.VocabularyIndex(["a", "b"])
    args = (spans.buf, spans.start, spans.length, spans.hash, spans.row, index._buf, index._start, index._length,
            *index._table.links())  # fmt: skip
    with pytest.raises(ValueError, match="columns"):  # col0 + width would wrap around
        C.vocabulary_add(*args, np.zeros((1, 2), np.float32), 2, 2**63 - 1)
    with pytest.raises(ValueError, match="out of"):  # rows x columns would wrap around
        C.score_block(np.zeros(1, np.uint32), 4, 6, fg._log1p_table(), np.zeros(1, np.uint64), np.zeros(1, np.int64),
                      0, np.ones((1, 1), np.float32), np.zeros(1, np.float32), 2**62, 4)  # fmt: skip
    # a zero weight table: every row norm is 0, rows are left as they are (no slot left unwritten)
    kept = fg.ColumnSelection([1, 2], 64)
    out = np.zeros((2, 1), np.float32)
    C.score_block(np.array([1, (1 << 6) | 2], np.uint32), 4, 6, np.zeros(16, np.float32), kept.bits, kept.rank, 0,
                  np.ones((2, 1), np.float32), out, 2, 1)  # fmt: skip
    assert out.ravel().tolist() == [0.0, 0.0]
    # an output that overlaps an input: the kernel rewrites offsets as it goes; every one is checked where used
    buf = np.frombuffer(b"hello world", dtype=np.uint8)
    start = np.zeros(4, np.int64)
    with contextlib.suppress(ValueError):
        C.hash_spans(buf, start, np.full(4, 3, np.int64), np.empty(4, np.int32), start.view(np.uint64))
    with pytest.raises(TypeError, match="C-contiguous float32"):
        index.add_counts(spans, np.zeros((1, 2), np.float64))
