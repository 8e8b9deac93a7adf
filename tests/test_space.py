import numpy as np
import pytest

from fingerprint import FeatureSpace, FingerprintFileError


def test_transform_shape_blocks_and_names(small_space, corpus):
    X = small_space.transform(corpus[0][:5])
    assert X.shape == (5, small_space.n_features_out_)
    names = small_space.get_feature_names_out()
    assert len(names) == X.shape[1]
    assert small_space.block("ngram").size == 16
    assert names[small_space.block("style").start] == "style:log_chars"
    with pytest.raises(KeyError):
        small_space.block("nope")


def test_save_load_same_space(small_space, corpus, tmp_path):
    p = small_space.save(tmp_path / "space.npz")
    loaded = FeatureSpace.load(p)
    assert loaded.space_id_ == small_space.space_id_
    np.testing.assert_allclose(loaded.transform(corpus[0][:4]), small_space.transform(corpus[0][:4]))


def test_space_id_depends_on_content(corpus):
    a = FeatureSpace(n_char=300, n_word=150, n_components=16).fit(corpus[0])
    b = FeatureSpace(n_char=300, n_word=150, n_components=16).fit(corpus[0])
    c = FeatureSpace(n_char=200, n_word=150, n_components=16).fit(corpus[0])
    assert a.space_id_ == b.space_id_ != c.space_id_


def test_tampered_space_file(small_space, tmp_path):
    p = small_space.save(tmp_path / "space.npz")
    raw = bytearray(p.read_bytes())
    raw[-100] ^= 0xFF
    p.write_bytes(bytes(raw))
    with pytest.raises(FingerprintFileError):
        FeatureSpace.load(p)


def test_fit_needs_two_texts():
    with pytest.raises(ValueError, match="at least 2 texts"):
        FeatureSpace().fit(["only one"])


def test_fit_transform_equals_fit_then_transform(corpus):
    texts = corpus[0]
    a = FeatureSpace(n_char=300, n_word=150, n_components=16)
    X = a.fit_transform(texts)
    np.testing.assert_allclose(X, a.transform(texts), atol=1e-6)  # float32 counts
