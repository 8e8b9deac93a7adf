/* Compiled kernels of fingerprint.features.fastgrams: the same results as its numpy code, one loop each.
 *
 * The numpy code hashes every n-gram span with ~40 whole-array passes (MurmurHash3's steps, one
 * pass per 4-byte block), looks spans up in a chained hash table one chain level at a time and
 * counts through sorted sparse matrices; each pass reads and writes every span's temporaries.  Here
 * each span is tokenised, hashed, looked up and counted once.  Measured on the `dev` answers of
 * alpaca_eval_train: benchmarks/results/speed.md.
 *
 * Safety.  Arguments are buffers (numpy arrays, C-contiguous) whose dtypes the Python wrappers in
 * fastgrams.py fix; the kernels check their byte sizes, and check every index they read from an
 * argument (offsets, lengths, rows, counts, table links, ranks, keys) where they use it, so a wrong
 * call -- or an input another thread changes meanwhile, or an output that overlaps an input --
 * raises ValueError instead of reading or writing outside a buffer (results are then garbage, and
 * the caller gets an exception, not them).  The loops run without the GIL, except word_tokens,
 * which reads str objects.
 *
 * Exactness.  Where a kernel replaces numpy, scipy or scikit-learn arithmetic it does the same
 * operations in the same order and precision; setup.py compiles it with -ffp-contract=off so no
 * multiply and add are fused (the bit-for-bit checks ran on x86-64).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* MurmurHash3_x86_32 (Austin Appleby, public domain), as scikit-learn's murmurhash3_32. */
static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

static inline uint32_t murmur3_32(const uint8_t *data, int64_t len) {
    const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
    uint32_t h = 0; /* seed 0: HashingVectorizer's */
    int64_t nblocks = len / 4, i;
    for (i = 0; i < nblocks; i++) {
        uint32_t k;
        memcpy(&k, data + 4 * i, 4); /* little-endian hosts only: checked at import */
        k *= c1; k = rotl32(k, 15); k *= c2;
        h ^= k; h = rotl32(h, 13); h = h * 5 + 0xe6546b64u;
    }
    const uint8_t *tail = data + 4 * nblocks;
    uint32_t k = 0;
    switch (len & 3) {
    case 3: k ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: k ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1: k ^= tail[0]; k *= c1; k = rotl32(k, 15); k *= c2; h ^= k;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16;
    return h;
}

/* --- argument helpers ------------------------------------------------------------------------ */

/* n items of `size` bytes in a buffer, or -1 with an exception when its length is not a multiple. */
static Py_ssize_t items(Py_buffer *b, Py_ssize_t size, const char *name) {
    if (b->len % size) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %zd-byte items", name, b->len, size);
        return -1;
    }
    return b->len / size;
}

static int same_count(Py_ssize_t a, Py_ssize_t b, const char *what) {
    if (a != b) {
        if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "%s: %zd against %zd items", what, a, b);
        return 0;
    }
    return 1;
}

/* Whether the span start:start + length lies inside a buffer of `size` bytes (no overflow). */
static inline int inside(int64_t start, int64_t length, Py_ssize_t size) {
    return start >= 0 && length >= 0 && start <= (int64_t)size - length;
}

/* A span or index found out of range in a loop run without the GIL: reported after it. */
static PyObject *out_of_range(const char *what, Py_ssize_t i) {
    PyErr_Format(PyExc_ValueError, "%s %zd is out of range (outside its buffer, table or matrix)", what, i);
    return NULL;
}

/* --- hash_spans ------------------------------------------------------------------------------ */

PyDoc_STRVAR(hash_spans_doc,
"hash_spans(buf, start, length, out_hash, out_prefix)\n\n"
"MurmurHash3 (seed 0, as int32) and the first 8 bytes (little-endian uint64, zero past the span)\n"
"of every span buf[start[i]:start[i] + length[i]], written into out_hash and out_prefix.");

static PyObject *hash_spans(PyObject *self, PyObject *args) {
    Py_buffer buf, st, ln, oh, op;
    if (!PyArg_ParseTuple(args, "y*y*y*w*w*", &buf, &st, &ln, &oh, &op)) return NULL;
    PyObject *ret = NULL;
    Py_ssize_t n = items(&st, 8, "start");
    if (n < 0 || !same_count(items(&ln, 8, "length"), n, "length") ||
        !same_count(items(&oh, 4, "out_hash"), n, "out_hash") ||
        !same_count(items(&op, 8, "out_prefix"), n, "out_prefix"))
        goto done;
    const uint8_t *data = buf.buf;
    const int64_t *start = st.buf, *length = ln.buf;
    int32_t *hash = oh.buf;
    uint64_t *prefix = op.buf;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t s = start[i], len = length[i]; /* read once: checked as used */
        if (!inside(s, len, buf.len)) { bad = i; break; }
        uint64_t p = 0;
        memcpy(&p, data + s, len < 8 ? (size_t)len : 8);
        prefix[i] = p;
        hash[i] = (int32_t)murmur3_32(data + s, len);
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "span %zd lies outside a buffer of %zd bytes", bad, buf.len);
        goto done;
    }
    ret = Py_None;
    Py_INCREF(ret);
done:
    PyBuffer_Release(&buf); PyBuffer_Release(&st); PyBuffer_Release(&ln);
    PyBuffer_Release(&oh); PyBuffer_Release(&op);
    return ret;
}

/* --- unit_ngrams ----------------------------------------------------------------------------- */

/* n-gram orders a call may ask for (the library asks for 1-4); bounds the loops and their sums. */
#define MAX_ORDERS 64

PyDoc_STRVAR(unit_ngrams_doc,
"unit_ngrams(unit_start, unit_end, counts, nmin, nmax, out_start, out_length, out_row)\n\n"
"The n-grams (nmin <= n <= nmax) of consecutive units of each text as byte spans: counts[t] units of\n"
"text t follow those of text t - 1, unit u is unit_start[u]:unit_end[u], an n-gram of units\n"
"u .. u + n - 1 spans unit_start[u]:unit_end[u + n - 1].  Order: by n, then text, then position\n"
"(fastgrams._unit_ngrams' order).  The outputs must hold exactly that many spans.");

static PyObject *unit_ngrams(PyObject *self, PyObject *args) {
    Py_buffer us, ue, ct, os, ol, orow;
    int nmin, nmax;
    if (!PyArg_ParseTuple(args, "y*y*y*iiw*w*w*", &us, &ue, &ct, &nmin, &nmax, &os, &ol, &orow)) return NULL;
    PyObject *ret = NULL;
    Py_ssize_t n_units = items(&us, 8, "unit_start"), n_texts = items(&ct, 8, "counts");
    Py_ssize_t n_out = items(&os, 8, "out_start");
    if (n_units < 0 || n_texts < 0 || n_out < 0 || !same_count(items(&ue, 8, "unit_end"), n_units, "unit_end") ||
        !same_count(items(&ol, 8, "out_length"), n_out, "out_length") ||
        !same_count(items(&orow, 4, "out_row"), n_out, "out_row"))
        goto done;
    if (nmin < 1 || nmax < nmin || nmax - nmin >= MAX_ORDERS || n_texts > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "ngram range (%d, %d) for %zd texts", nmin, nmax, n_texts);
        goto done;
    }
    const int64_t *ustart = us.buf, *uend = ue.buf, *counts = ct.buf;
    int64_t *ostart = os.buf, *olength = ol.buf;
    int32_t *row = orow.buf;
    Py_ssize_t at = 0, bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (int n = nmin; n <= nmax && bad < 0; n++) {
        int64_t first = 0;
        for (Py_ssize_t t = 0; t < n_texts; t++) {
            const int64_t c = counts[t]; /* read once; its units must be there */
            if (c < 0 || c > (int64_t)n_units - first) { bad = t; break; }
            for (int64_t k = 0; k + n <= c; k++, at++) {
                if (at >= n_out) { bad = t; break; }
                ostart[at] = ustart[first + k];
                olength[at] = uend[first + k + n - 1] - ostart[at];
                row[at] = (int32_t)t;
            }
            if (bad >= 0) break;
            first += c;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0 || at != n_out) {
        PyErr_Format(PyExc_ValueError, "counts do not fit: %zd units given, %zd n-gram outputs (text %zd)", n_units,
                     n_out, bad);
        goto done;
    }
    ret = Py_None;
    Py_INCREF(ret);
done:
    PyBuffer_Release(&us); PyBuffer_Release(&ue); PyBuffer_Release(&ct);
    PyBuffer_Release(&os); PyBuffer_Release(&ol); PyBuffer_Release(&orow);
    return ret;
}

/* --- chained hash tables (fastgrams._HashTable) ---------------------------------------------- */

/* A _HashTable's arrays: entry hashes, bucket heads (2**bits of them), chain links. */
typedef struct {
    Py_buffer hash, first, next;
    Py_ssize_t n, n_buckets;
    uint32_t mask;
} table_t;

static int table_open(table_t *t, int bits) {
    t->n = items(&t->hash, 4, "table hash");
    t->n_buckets = items(&t->first, 4, "table heads");
    if (t->n < 0 || t->n_buckets < 0 || !same_count(items(&t->next, 4, "table links"), t->n, "table links"))
        return 0;
    if (bits < 1 || bits > 30 || t->n_buckets != ((Py_ssize_t)1 << bits)) {
        PyErr_Format(PyExc_ValueError, "%zd bucket heads for %d bits", t->n_buckets, bits);
        return 0;
    }
    t->mask = (uint32_t)((1u << bits) - 1);
    return 1;
}

static void table_release(table_t *t) {
    PyBuffer_Release(&t->hash); PyBuffer_Release(&t->first); PyBuffer_Release(&t->next);
}

/* The next entry of a chain, checked: -1 ends it; anything else must lie after e (so every chain
 * ends) and inside the table.  Returns -2 for a broken link. */
static inline int32_t chain_next(const int32_t *next, int32_t e, Py_ssize_t n) {
    const int32_t f = next[e];
    return f == -1 ? -1 : (f > e && f < n ? f : -2);
}

static inline int32_t chain_head(const int32_t *first, uint32_t bucket, Py_ssize_t n) {
    const int32_t e = first[bucket];
    return e >= -1 && e < n ? e : -2;
}

PyDoc_STRVAR(table_pairs_doc,
"table_pairs(query, hash, first, next, bits, out_i, out_entry) -> int\n\n"
"Every (i, entry) with hash[entry] == query[i], query by query, entries in chain order, written\n"
"while they fit in out_i and out_entry; returns how many there are (more than fit: call again).");

static PyObject *table_pairs(PyObject *self, PyObject *args) {
    Py_buffer q, oi, oe;
    table_t t;
    int bits;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iw*w*", &q, &t.hash, &t.first, &t.next, &bits, &oi, &oe)) return NULL;
    PyObject *ret = NULL;
    Py_ssize_t nq = items(&q, 4, "query"), cap = items(&oi, 8, "out_i");
    if (nq < 0 || cap < 0 || !same_count(items(&oe, 8, "out_entry"), cap, "out_entry") || !table_open(&t, bits))
        goto done;
    const int32_t *query = q.buf, *hash = t.hash.buf, *first = t.first.buf, *next = t.next.buf;
    int64_t *out_i = oi.buf, *out_e = oe.buf;
    Py_ssize_t c = 0, bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < nq && bad < 0; i++) {
        const int32_t h = query[i];
        for (int32_t e = chain_head(first, (uint32_t)h & t.mask, t.n); e != -1; e = chain_next(next, e, t.n)) {
            if (e == -2) { bad = i; break; }
            if (hash[e] != h) continue;
            if (c < cap) { out_i[c] = i; out_e[c] = e; }
            c++;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range("a table link met by query", bad);
        goto done;
    }
    ret = PyLong_FromSsize_t(c);
done:
    PyBuffer_Release(&q); PyBuffer_Release(&oi); PyBuffer_Release(&oe);
    table_release(&t);
    return ret;
}

/* The vocabulary entry whose hash and bytes equal the span's (at most one: entries are distinct);
 * -1 for none, -2 for a broken link or a vocabulary span outside its buffer. */
static inline int32_t vocabulary_entry(const table_t *t, const int32_t *hash, const int32_t *first,
                                       const int32_t *next, int32_t h, const uint8_t *span, int64_t len,
                                       const uint8_t *vdata, Py_ssize_t vsize, const int64_t *vstart,
                                       const int64_t *vlength) {
    for (int32_t e = chain_head(first, (uint32_t)h & t->mask, t->n); e != -1; e = chain_next(next, e, t->n)) {
        if (e == -2) return -2;
        if (hash[e] != h || vlength[e] != len) continue;
        const int64_t vs = vstart[e];
        if (!inside(vs, len, vsize)) return -2;
        if (memcmp(span, vdata + vs, (size_t)len) == 0) return e;
    }
    return -1;
}

PyDoc_STRVAR(vocabulary_lookup_doc,
"vocabulary_lookup(buf, start, length, query, vbuf, vstart, vlength, hash, first, next, bits, out_i, out_col)"
" -> int\n\n"
"For each span i of buf, the vocabulary entry whose hash equals query[i] (its hash) and whose bytes\n"
"(vbuf[vstart[e]:vstart[e] + vlength[e]]) equal the span's: at most one, as entries are distinct.\n"
"Writes (i, entry) pairs in span order into out_i and out_col (as long as the spans) and returns\n"
"their number.");

static PyObject *vocabulary_lookup(PyObject *self, PyObject *args) {
    Py_buffer buf, st, ln, q, vbuf, vst, vln, oi, oc;
    table_t t;
    int bits;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*iw*w*", &buf, &st, &ln, &q, &vbuf, &vst, &vln, &t.hash,
                          &t.first, &t.next, &bits, &oi, &oc))
        return NULL;
    PyObject *ret = NULL;
    Py_ssize_t n = items(&st, 8, "start"), nv = items(&vst, 8, "vstart");
    if (n < 0 || nv < 0 || !same_count(items(&ln, 8, "length"), n, "length") ||
        !same_count(items(&q, 4, "query"), n, "query") || !same_count(items(&oi, 8, "out_i"), n, "out_i") ||
        !same_count(items(&oc, 8, "out_col"), n, "out_col") ||
        !same_count(items(&vln, 8, "vlength"), nv, "vlength") || !table_open(&t, bits) ||
        !same_count(t.n, nv, "table entries"))
        goto done;
    const int64_t *start = st.buf, *length = ln.buf, *vstart = vst.buf, *vlength = vln.buf;
    const uint8_t *data = buf.buf, *vdata = vbuf.buf;
    const int32_t *query = q.buf, *hash = t.hash.buf, *first = t.first.buf, *next = t.next.buf;
    int64_t *out_i = oi.buf, *out_c = oc.buf;
    Py_ssize_t c = 0, bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t s = start[i], len = length[i];
        if (!inside(s, len, buf.len)) { bad = i; break; }
        const int32_t e = vocabulary_entry(&t, hash, first, next, query[i], data + s, len, vdata, vbuf.len,
                                           vstart, vlength);
        if (e == -2) { bad = i; break; }
        if (e >= 0) { out_i[c] = i; out_c[c] = e; c++; }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range("span", bad);
        goto done;
    }
    ret = PyLong_FromSsize_t(c);
done:
    PyBuffer_Release(&buf); PyBuffer_Release(&st); PyBuffer_Release(&ln); PyBuffer_Release(&q);
    PyBuffer_Release(&vbuf); PyBuffer_Release(&vst); PyBuffer_Release(&vln);
    PyBuffer_Release(&oi); PyBuffer_Release(&oc);
    table_release(&t);
    return ret;
}

PyDoc_STRVAR(vocabulary_add_doc,
"vocabulary_add(buf, start, length, query, row, vbuf, vstart, vlength, hash, first, next, bits, out, stride, col0)"
" -> int\n\n"
"vocabulary_lookup, counted straight into a dense float32 matrix: out[row[i], col0 + entry] += 1 for\n"
"each span i that is an entry (out has `stride` columns; rows and columns are checked).  Counts are\n"
"exact while a cell stays below 2**24 (the caller keeps a call's spans fewer).  Returns the number\n"
"of spans counted.");

static PyObject *vocabulary_add(PyObject *self, PyObject *args) {
    Py_buffer buf, st, ln, q, rw, vbuf, vst, vln, ob;
    table_t t;
    int bits;
    Py_ssize_t stride, col0;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*y*iw*nn", &buf, &st, &ln, &q, &rw, &vbuf, &vst, &vln,
                          &t.hash, &t.first, &t.next, &bits, &ob, &stride, &col0))
        return NULL;
    PyObject *ret = NULL;
    Py_ssize_t n = items(&st, 8, "start"), nv = items(&vst, 8, "vstart"), cells = items(&ob, 4, "out");
    if (n < 0 || nv < 0 || cells < 0 || !same_count(items(&ln, 8, "length"), n, "length") ||
        !same_count(items(&q, 4, "query"), n, "query") || !same_count(items(&rw, 4, "row"), n, "row") ||
        !same_count(items(&vln, 8, "vlength"), nv, "vlength") || !table_open(&t, bits) ||
        !same_count(t.n, nv, "table entries"))
        goto done;
    if (stride < 1 || cells % stride || col0 < 0 || col0 > stride || nv > stride - col0) {
        PyErr_Format(PyExc_ValueError, "columns %zd .. %zd + %zd of a matrix of %zd cells, %zd per row", col0, col0,
                     nv, cells, stride);
        goto done;
    }
    const int64_t *start = st.buf, *length = ln.buf, *vstart = vst.buf, *vlength = vln.buf;
    const int32_t *row = rw.buf;
    const Py_ssize_t n_rows = cells / stride;
    const uint8_t *data = buf.buf, *vdata = vbuf.buf;
    const int32_t *query = q.buf, *hash = t.hash.buf, *first = t.first.buf, *next = t.next.buf;
    float *out = ob.buf;
    Py_ssize_t c = 0, bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t s = start[i], len = length[i];
        const int32_t r = row[i];
        if (!inside(s, len, buf.len) || r < 0 || r >= n_rows) { bad = i; break; }
        const int32_t e = vocabulary_entry(&t, hash, first, next, query[i], data + s, len, vdata, vbuf.len,
                                           vstart, vlength);
        if (e == -2) { bad = i; break; }
        if (e >= 0) {
            out[(Py_ssize_t)r * stride + col0 + e] += 1.0f;
            c++;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        out_of_range("span (or its row)", bad);
        goto done;
    }
    ret = PyLong_FromSsize_t(c);
done:
    PyBuffer_Release(&buf); PyBuffer_Release(&st); PyBuffer_Release(&ln); PyBuffer_Release(&q);
    PyBuffer_Release(&rw); PyBuffer_Release(&vbuf); PyBuffer_Release(&vst); PyBuffer_Release(&vln);
    PyBuffer_Release(&ob);
    table_release(&t);
    return ret;
}

/* --- normalize_rows ------------------------------------------------------------------------- */

PyDoc_STRVAR(normalize_rows_doc,
"normalize_rows(x, stride, col0, col1)\n\n"
"Scale columns col0 .. col1 - 1 of each row of a dense float32 matrix (`stride` columns) to unit L2\n"
"norm, in place, with scikit-learn's arithmetic for a CSR row (sparsefuncs_fast\n"
"_inplace_csr_row_normalize_l2): float32 squares summed in a double from left to right (zeros add\n"
"nothing), each value divided by the double square root; a row of zeros is left as it is.");

static PyObject *normalize_rows(PyObject *self, PyObject *args) {
    Py_buffer xb;
    Py_ssize_t stride, col0, col1;
    if (!PyArg_ParseTuple(args, "w*nnn", &xb, &stride, &col0, &col1)) return NULL;
    PyObject *ret = NULL;
    Py_ssize_t cells = items(&xb, 4, "x");
    if (cells < 0) goto done;
    if (stride < 1 || cells % stride || col0 < 0 || col1 < col0 || col1 > stride) {
        PyErr_Format(PyExc_ValueError, "columns %zd .. %zd of a matrix of %zd cells, %zd per row", col0, col1,
                     cells, stride);
        goto done;
    }
    float *x = xb.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < cells / stride; r++) {
        float *v = x + r * stride;
        double sum = 0.0;
        for (Py_ssize_t j = col0; j < col1; j++) sum += (float)(v[j] * v[j]);
        if (sum == 0.0) continue;
        sum = sqrt(sum);
        for (Py_ssize_t j = col0; j < col1; j++) v[j] = (float)(v[j] / sum);
    }
    Py_END_ALLOW_THREADS
    ret = Py_None;
    Py_INCREF(ret);
done:
    PyBuffer_Release(&xb);
    return ret;
}

/* --- score_block ---------------------------------------------------------------------------- */

PyDoc_STRVAR(score_block_doc,
"score_block(keys, key_size, col_bits, log1p, kept_bits, kept_rank, offset, coef, out, n_rows, n_out) -> int\n\n"
"Add one block of hashed n-grams' linear scores to out (float32, n_rows x n_out).  keys are the sorted\n"
"(row << col_bits | column) of every n-gram (uint32 or uint64: key_size 4 or 8), so equal keys are one\n"
"column's count in one row.  Each count c is weighted log1p[c] (a float32 table), each row scaled to\n"
"unit L2 norm with scikit-learn's arithmetic (normalize of a CSR row: a row of zero norm is left as\n"
"it is), and the weight w of a column kept at position p adds w * coef[p, :] to its row, in float32\n"
"and in increasing p as scipy's CSR product does.  Column j of the block is column offset + j of the\n"
"kept-column bitmap (kept_bits, uint64 words; kept_rank: int64, kept columns before each word).\n"
"Returns 0, or 1 without touching out when a count is beyond the table.");

/* Kept columns as a bitmap with the number of kept columns before each 64-bit word: a column's position
 * among the kept ones is a popcount away, from 1/32 of the memory of an int32 position per column (the
 * lookups are random: a 2**21-column table misses the cache on most of them). */
typedef struct {
    const uint64_t *bits;
    const int64_t *rank;
    Py_ssize_t n_words;
} kept_t;

static inline int popcount64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_popcountll(x);
#else
    int c = 0;
    for (; x; x &= x - 1) c++;
    return c;
#endif
}

/* The position of column j among the kept columns, -1 when it is not kept, or n_kept when j or the
 * rank is out of range (the caller treats any position >= n_kept as an error). */
static inline Py_ssize_t kept_position(const kept_t *kept, Py_ssize_t j, Py_ssize_t n_kept) {
    if (j < 0 || (j >> 6) >= kept->n_words) return n_kept;
    const uint64_t word = kept->bits[j >> 6], bit = (uint64_t)1 << (j & 63);
    if (!(word & bit)) return -1;
    const int64_t p = kept->rank[j >> 6] + popcount64(word & (bit - 1));
    return p >= 0 && p < n_kept ? (Py_ssize_t)p : n_kept;
}

/* The work of score_block for keys of one width; returns -1 (bad keys or positions), 0, 1 (a count
 * beyond the table: out untouched) or 2 (out of memory).
 *
 * Pass 0 finds where each distinct key starts without a branch per key (run ends are unpredictable);
 * pass 1 checks the keys and sums each row's squared weights; pass 2 lists the kept columns' (row,
 * weight) by position (a counting sort); pass 3 adds each position's coefficients to its rows.  A row
 * still receives its columns in increasing position, as in a CSR product row by row, so every sum
 * rounds the same; but each coefficient row is read once, in order, instead of once per text. */
#define SCORE_ROWS(NAME, KEY_T)                                                                                  \
    static int NAME(const KEY_T *keys, Py_ssize_t n, int col_bits, const float *table, Py_ssize_t n_table,      \
                    const kept_t *kept, Py_ssize_t offset, const float *coef, Py_ssize_t n_kept, float *out,    \
                    Py_ssize_t n_rows, Py_ssize_t n_out) {                                                       \
        const KEY_T col_mask = (KEY_T)(((uint64_t)1 << col_bits) - 1);                                           \
        int status = 2;                                                                                          \
        Py_ssize_t n_distinct = 0;                                                                               \
        double *norm = PyMem_RawCalloc((size_t)n_rows + 1, sizeof(double));                                     \
        Py_ssize_t *first = PyMem_RawCalloc((size_t)n_kept + 2, sizeof(Py_ssize_t));                             \
        Py_ssize_t *start = PyMem_RawMalloc(((size_t)n + 2) * sizeof(Py_ssize_t));                               \
        KEY_T *key_of = PyMem_RawMalloc(((size_t)n + 1) * sizeof(KEY_T));                                        \
        int32_t *row_of = PyMem_RawCalloc((size_t)n + 1, sizeof(int32_t));                                      \
        float *weight_of = PyMem_RawCalloc((size_t)n + 1, sizeof(float));                                       \
        if (!norm || !first || !start || !key_of || !row_of || !weight_of) goto end;                             \
        status = -1;                                                                                             \
        for (Py_ssize_t i = 0; i < n; i++) { /* 0: distinct keys (a private copy: read once) */                \
            const KEY_T key = keys[i];                                                                           \
            start[n_distinct] = i;                                                                               \
            key_of[n_distinct] = key;                                                                            \
            n_distinct += (i == 0) | (key != key_of[n_distinct - (n_distinct > 0)]);                             \
        }                                                                                                        \
        start[n_distinct] = n;                                                                                   \
        for (Py_ssize_t d = 0; d < n_distinct; d++) { /* 1: checks, norms, kept columns per position */         \
            const KEY_T key = key_of[d];                                                                         \
            const Py_ssize_t count = start[d + 1] - start[d];                                                    \
            if ((d && key <= key_of[d - 1]) || (uint64_t)(key >> col_bits) >= (uint64_t)n_rows) goto end;       \
            if (count >= n_table) { status = 1; goto end; }                                                      \
            const Py_ssize_t p = kept_position(kept, offset + (Py_ssize_t)(key & col_mask), n_kept);              \
            if (p >= n_kept) goto end;                                                                           \
            const float w = table[count];                                                                        \
            norm[key >> col_bits] += (float)(w * w);                                                             \
            if (p >= 0) first[p + 2]++;                                                                          \
        }                                                                                                        \
        for (Py_ssize_t p = 2; p < n_kept + 2; p++) first[p] += first[p - 1];                                    \
        for (Py_ssize_t r = 0; r < n_rows; r++) norm[r] = sqrt(norm[r]);                                         \
        for (Py_ssize_t d = 0; d < n_distinct; d++) { /* 2: (row, weight) of each kept column, by position */   \
            const KEY_T key = key_of[d], row = key >> col_bits;                                                  \
            const Py_ssize_t p = kept_position(kept, offset + (Py_ssize_t)(key & col_mask), n_kept);              \
            if (p < 0) continue;                                                                                 \
            if (p >= n_kept || first[p + 1] >= first[p + 2]) goto end; /* the table changed meanwhile */        \
            const Py_ssize_t at = first[p + 1]++;                                                                \
            const float w = table[start[d + 1] - start[d]];                                                      \
            row_of[at] = (int32_t)row;                                                                           \
            weight_of[at] = norm[row] == 0.0 ? w : (float)(w / norm[row]); /* scikit-learn: row left as is */   \
        }                                                                                                        \
        for (Py_ssize_t p = 0; p < n_kept; p++) { /* 3: coefficients, position by position */                   \
            const float *restrict c = coef + p * n_out;                                                          \
            for (Py_ssize_t at = first[p]; at < first[p + 1]; at++) {                                            \
                float *restrict y = out + (Py_ssize_t)row_of[at] * n_out;                                        \
                const float w = weight_of[at];                                                                   \
                for (Py_ssize_t k = 0; k < n_out; k++) y[k] += w * c[k];                                         \
            }                                                                                                    \
        }                                                                                                        \
        status = 0;                                                                                              \
    end:                                                                                                         \
        PyMem_RawFree(norm); PyMem_RawFree(first); PyMem_RawFree(start); PyMem_RawFree(key_of);                  \
        PyMem_RawFree(row_of); PyMem_RawFree(weight_of);                                                         \
        return status;                                                                                           \
    }
SCORE_ROWS(score_rows32, uint32_t)
SCORE_ROWS(score_rows64, uint64_t)
#undef SCORE_ROWS

static PyObject *score_block(PyObject *self, PyObject *args) {
    Py_buffer kb, tb, pb, rb, cb, ob;
    int key_size, col_bits;
    Py_ssize_t offset, n_rows, n_out;
    if (!PyArg_ParseTuple(args, "y*iiy*y*y*ny*w*nn", &kb, &key_size, &col_bits, &tb, &pb, &rb, &offset, &cb, &ob,
                          &n_rows, &n_out))
        return NULL;
    PyObject *ret = NULL;
    if ((key_size != 4 && key_size != 8) || col_bits < 1 || col_bits > 8 * key_size - 1) {
        PyErr_Format(PyExc_ValueError, "keys of %d bytes with %d column bits", key_size, col_bits);
        goto done;
    }
    Py_ssize_t n = items(&kb, key_size, "keys"), n_table = items(&tb, 4, "log1p"), n_words = items(&pb, 8, "kept_bits");
    Py_ssize_t n_coef = items(&cb, 4, "coef"), n_cells = items(&ob, 4, "out");
    if (n < 0 || n_table < 0 || n_words < 0 || n_coef < 0 || n_cells < 0 ||
        !same_count(items(&rb, 8, "kept_rank"), n_words, "kept_rank"))
        goto done;
    /* rows are stored as int32 (every row is checked against n_rows); out must hold n_rows x n_out */
    if (n_rows < 0 || n_rows > INT32_MAX || n_out < 1 || n_coef % n_out || n_rows > n_cells / n_out ||
        n_rows * n_out != n_cells || offset < 0) {
        PyErr_Format(PyExc_ValueError, "out of %zd cells for %zd rows of %zd; coef of %zd cells; offset %zd",
                     n_cells, n_rows, n_out, n_coef, offset);
        goto done;
    }
    const kept_t kept = {pb.buf, rb.buf, n_words};
    int status;
    Py_BEGIN_ALLOW_THREADS
    if (key_size == 4)
        status = score_rows32(kb.buf, n, col_bits, tb.buf, n_table, &kept, offset, cb.buf, n_coef / n_out, ob.buf,
                              n_rows, n_out);
    else
        status = score_rows64(kb.buf, n, col_bits, tb.buf, n_table, &kept, offset, cb.buf, n_coef / n_out, ob.buf,
                              n_rows, n_out);
    Py_END_ALLOW_THREADS
    if (status == 2)
        PyErr_NoMemory();
    else if (status < 0)
        PyErr_SetString(PyExc_ValueError, "keys not sorted, or a row, column or position out of range");
    else
        ret = PyLong_FromLong(status);
done:
    PyBuffer_Release(&kb); PyBuffer_Release(&tb); PyBuffer_Release(&pb); PyBuffer_Release(&rb);
    PyBuffer_Release(&cb); PyBuffer_Release(&ob);
    return ret;
}

/* --- hashed_columns ------------------------------------------------------------------------- */

PyDoc_STRVAR(hashed_columns_doc,
"hashed_columns(hash, n_features, out_col)\n\n"
"HashingVectorizer's column of each hash: abs(h) % n_features, with abs(-2**31) taken as\n"
"2**31 - 1 - (n_features - 1) (sklearn/feature_extraction/_hashing_fast.pyx), as int32.");

static PyObject *hashed_columns(PyObject *self, PyObject *args) {
    Py_buffer hb, ob;
    long long n_features;
    if (!PyArg_ParseTuple(args, "y*Lw*", &hb, &n_features, &ob)) return NULL;
    PyObject *ret = NULL;
    Py_ssize_t n = items(&hb, 4, "hash");
    if (n < 0 || !same_count(items(&ob, 4, "out_col"), n, "out_col")) goto done;
    if (n_features < 1 || n_features > ((long long)1 << 31)) {
        PyErr_Format(PyExc_ValueError, "n_features %lld outside 1 .. 2**31", n_features);
        goto done;
    }
    const int32_t *hash = hb.buf;
    int32_t *col = ob.buf;
    const int64_t nf = n_features, lowest = (((int64_t)1 << 31) - 1 - (nf - 1)) % nf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t h = hash[i];
        col[i] = (int32_t)(h == INT32_MIN ? lowest : (h < 0 ? -h : h) % nf);
    }
    Py_END_ALLOW_THREADS
    ret = Py_None;
    Py_INCREF(ret);
done:
    PyBuffer_Release(&hb); PyBuffer_Release(&ob);
    return ret;
}

/* --- word_tokens ---------------------------------------------------------------------------- */

/* UTF-8 of one code point; a lone surrogate as its 3 bytes ("surrogatepass", as fastgrams._encode). */
static inline char *put_utf8(char *o, Py_UCS4 ch) {
    if (ch < 0x80) { *o++ = (char)ch; }
    else if (ch < 0x800) { *o++ = (char)(0xC0 | (ch >> 6)); *o++ = (char)(0x80 | (ch & 0x3F)); }
    else if (ch < 0x10000) {
        *o++ = (char)(0xE0 | (ch >> 12)); *o++ = (char)(0x80 | ((ch >> 6) & 0x3F)); *o++ = (char)(0x80 | (ch & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (ch >> 18)); *o++ = (char)(0x80 | ((ch >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((ch >> 6) & 0x3F)); *o++ = (char)(0x80 | (ch & 0x3F));
    }
    return o;
}

/* re's \w on a str pattern (Modules/_sre: SRE_UNI_IS_WORD); \s is Py_UNICODE_ISSPACE (SRE_UNI_IS_SPACE). */
static inline int is_word(Py_UCS4 ch) { return Py_UNICODE_ISALNUM(ch) || ch == '_'; }

PyDoc_STRVAR(word_tokens_doc,
"word_tokens(texts, out_counts) -> bytes\n\n"
"The tokens re.findall(r\"(?u)\\b\\w+\\b|[^\\w\\s]\", text) finds in each text of a list (runs of word\n"
"characters, and every other character that is not whitespace), all texts' tokens joined by single\n"
"spaces in one UTF-8 buffer; out_counts (int64, one per text) gets each text's number of tokens.");

static PyObject *word_tokens(PyObject *self, PyObject *args) {
    PyObject *texts;
    Py_buffer cb;
    if (!PyArg_ParseTuple(args, "O!w*", &PyList_Type, &texts, &cb)) return NULL;
    PyObject *ret = NULL;
    char *buf = NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    if (!same_count(items(&cb, 8, "out_counts"), n, "out_counts")) goto done;
    size_t cap = 1;
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *s = PyList_GET_ITEM(texts, t);
        if (!PyUnicode_Check(s)) {
            PyErr_Format(PyExc_TypeError, "text %zd is a %s, not a str", t, Py_TYPE(s)->tp_name);
            goto done;
        }
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(s) < 0) goto done; /* a legacy str (3.10, 3.11): its canonical form */
#endif
        const size_t len = (size_t)PyUnicode_GET_LENGTH(s);
        if (len > (PY_SSIZE_T_MAX - cap) / 5) { /* 4 bytes a character at most, and a space */
            PyErr_NoMemory();
            goto done;
        }
        cap += 5 * len;
    }
    buf = PyMem_Malloc(cap);
    if (!buf) { PyErr_NoMemory(); goto done; }
    char *o = buf;
    int64_t *counts = cb.buf;
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *s = PyList_GET_ITEM(texts, t);
        const int kind = PyUnicode_KIND(s);
        const void *data = PyUnicode_DATA(s);
        const Py_ssize_t len = PyUnicode_GET_LENGTH(s);
        int64_t c = 0;
        for (Py_ssize_t i = 0; i < len;) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            if (Py_UNICODE_ISSPACE(ch)) { i++; continue; }
            if (o != buf) *o++ = ' ';
            if (is_word(ch)) {
                do { o = put_utf8(o, ch); i++; } while (i < len && is_word(ch = PyUnicode_READ(kind, data, i)));
            } else {
                o = put_utf8(o, ch);
                i++;
            }
            c++;
        }
        counts[t] = c;
    }
    ret = PyBytes_FromStringAndSize(buf, o - buf);
done:
    PyMem_Free(buf);
    PyBuffer_Release(&cb);
    return ret;
}

/* --- module ---------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"hash_spans", hash_spans, METH_VARARGS, hash_spans_doc},
    {"unit_ngrams", unit_ngrams, METH_VARARGS, unit_ngrams_doc},
    {"vocabulary_add", vocabulary_add, METH_VARARGS, vocabulary_add_doc},
    {"normalize_rows", normalize_rows, METH_VARARGS, normalize_rows_doc},
    {"score_block", score_block, METH_VARARGS, score_block_doc},
    {"word_tokens", word_tokens, METH_VARARGS, word_tokens_doc},
    {"hashed_columns", hashed_columns, METH_VARARGS, hashed_columns_doc},
    {"table_pairs", table_pairs, METH_VARARGS, table_pairs_doc},
    {"vocabulary_lookup", vocabulary_lookup, METH_VARARGS, vocabulary_lookup_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cgrams", "Compiled kernels of fingerprint.features.fastgrams.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cgrams(void) {
    const uint16_t one = 1;
    if (*(const uint8_t *)&one != 1) { /* the hashes read 4-byte blocks as little-endian words */
        PyErr_SetString(PyExc_ImportError, "fingerprint's compiled n-gram kernels need a little-endian host");
        return NULL;
    }
    return PyModule_Create(&module);
}
