import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import fingerprint as fp
from fingerprint import Fingerprint, FingerprintFileError, ReferenceSet


def _fp(X, model="m", space_id="s"):
    return Fingerprint.from_features(X, model, space_id)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 6)), elements=st.floats(-1e3, 1e3)),
    st.integers(1, 29),
)
def test_merge_of_shards_equals_fingerprint_of_union(X, cut):
    cut = min(cut, X.shape[0] - 1)
    whole = _fp(X)
    merged = _fp(X[:cut]).merge(_fp(X[cut:]))
    assert merged.n_texts == whole.n_texts
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(merged.scatter, whole.scatter, rtol=1e-7, atol=1e-4)


def test_merge_refuses_other_models_and_spaces():
    X = np.eye(3)
    with pytest.raises(ValueError, match="different models"):
        _fp(X, "a").merge(_fp(X, "b"))
    with pytest.raises(ValueError, match="different feature spaces"):
        _fp(X, "a", "s1").merge(_fp(X, "a", "s2"))


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 5)), elements=st.floats(-1e6, 1e6)),
    st.text(min_size=1, max_size=30).filter(str.strip),
    st.dictionaries(st.text(max_size=10), st.one_of(st.integers(), st.text(max_size=20), st.none()), max_size=4),
)
def test_save_load_roundtrip(tmp_path_factory, X, model, meta):
    f = Fingerprint.from_features(X, model, "space", meta)
    p = f.save(tmp_path_factory.mktemp("fp") / "f.npz")
    g = Fingerprint.load(p)
    assert (g.model, g.n_texts, g.space_id, dict(g.metadata)) == (
        f.model,
        f.n_texts,
        f.space_id,
        dict(f.metadata),
    )
    np.testing.assert_array_equal(g.mean, f.mean)
    np.testing.assert_allclose(g.scatter, f.scatter)


def test_fingerprint_is_immutable():
    f = _fp(np.eye(3))
    with pytest.raises(ValueError):
        f.mean[0] = 5.0
    with pytest.raises(AttributeError):
        f.model = "x"


def test_reference_set_add_remove_and_space_check(fitted, small_space):
    refs = fitted.references_
    assert refs.models == ["model-a", "model-b", "model-c"] and len(refs) == 3
    assert "model-a" in refs and "3 models" in repr(refs)
    copy = ReferenceSet(list(refs), refs.space)
    with pytest.raises(ValueError, match="already in the set"):
        copy.add(refs["model-a"])
    with pytest.raises(ValueError, match="with itself"):  # the same object: its texts would count twice
        copy.add(refs["model-a"], merge=True)
    import copy as copy_module

    with pytest.raises(ValueError, match="identical copy"):  # a copy, as from_files refuses a file twice
        copy.add(copy_module.deepcopy(refs["model-a"]), merge=True)
    # texts that really are others yet give the same statistics (duplicates): merged explicitly
    copy.add(refs["model-a"].merge(copy_module.deepcopy(refs["model-a"])), replace=True)
    assert copy["model-a"].n_texts == 2 * refs["model-a"].n_texts
    copy.remove("model-c")
    assert copy.models == ["model-a", "model-b"]
    alien = Fingerprint.from_features(np.zeros((2, refs.space.n_features_out_)), "z", "another-space")
    with pytest.raises(ValueError, match="feature space"):
        copy.add(alien)
    assert set(refs.to_frame()["model"]) == set(refs.models)


def test_a_set_refuses_a_model_with_fewer_than_5_texts_and_keeps_its_state(fitted, heldout):
    """A 1-text fingerprint was accepted by add(): attribute then gave its own text confidence 1.0."""
    refs = ReferenceSet(list(fitted.references_), fitted.space_)
    tiny = Fingerprint.from_texts(heldout[0][:4], model="tiny", space=refs.space)
    with pytest.raises(ValueError, match=r"'tiny' has 4 text.*at least 5"):
        refs.add(tiny)
    assert refs.models == ["model-a", "model-b", "model-c"]
    with pytest.raises(ValueError, match="at least 5"):
        ReferenceSet([*fitted.references_, tiny], fitted.space_)
    shard = Fingerprint.from_texts(heldout[0][:2], model="model-a", space=refs.space)
    refs.add(shard, merge=True)  # a small shard of a model already in the set: its total counts
    assert refs["model-a"].n_texts == fitted.references_["model-a"].n_texts + 2


def test_add_one_model_needs_only_its_texts(fitted, corpus, heldout):
    texts, models, _ = corpus
    refs = ReferenceSet([fitted.references_["model-a"], fitted.references_["model-b"]], fitted.space_)
    c_texts = [t for t, m in zip(texts, models, strict=True) if m == "model-c"]
    refs.add(Fingerprint.from_texts(c_texts, model="model-c", space=refs.space))
    res = fp.attribute([t for t, m in zip(*heldout[:2], strict=True) if m == "model-c"], references=refs)
    assert sum(r.model == "model-c" for r in res) >= 8


def test_reference_set_directory_roundtrip_and_tampering(fitted, heldout, tmp_path):
    refs = fitted.references_
    d = refs.save(tmp_path / "refs")
    loaded = fp.load_references(d)
    assert loaded.models == refs.models and loaded.temperature == pytest.approx(refs.temperature)
    a = fp.FingerprintClassifier.from_references(loaded).predict_proba(heldout[0])
    np.testing.assert_allclose(a, fitted.predict_proba(heldout[0]))
    # tamper with one member: flip a byte in the middle
    member = next(d.glob(".gen-*/*.fingerprint.npz"))
    raw = bytearray(member.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    member.write_bytes(bytes(raw))
    with pytest.raises(FingerprintFileError):
        fp.load_references(d)


def test_assembled_from_fingerprint_files_alone_matches(fitted, heldout, tmp_path):
    paths = [f.save(tmp_path / f"{f.model}.npz") for f in fitted.references_]
    refs = fp.load_references(paths, space=fitted.space_)
    pred = fp.FingerprintClassifier.from_references(refs).predict(heldout[0])
    np.testing.assert_array_equal(pred, fitted.predict(heldout[0]))


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "wrong_kind"])
def test_damaged_files_give_clear_errors(fitted, tmp_path, damage):
    p = fitted.references_["model-a"].save(tmp_path / "a.npz")
    raw = p.read_bytes()
    if damage == "truncate":
        p.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        b = bytearray(raw)
        b[len(b) // 3] ^= 0x01
        p.write_bytes(bytes(b))
    elif damage == "garbage":
        p.write_bytes(b"\x80\x04not a zip at all")
    else:
        fitted.space_.save(p)
    with pytest.raises(FingerprintFileError):
        Fingerprint.load(p)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        Fingerprint.load("/nonexistent/x.npz")


def test_calibrate_takes_effect_on_a_set_already_used(fitted, heldout, tmp_path):
    paths = [f.save(tmp_path / f"{f.model}.npz") for f in fitted.references_]
    refs = fp.load_references(paths, space=fitted.space_)
    texts, models, _ = heldout
    clf = fp.FingerprintClassifier.from_references(refs)
    before = clf.decision_function(texts[:4])  # builds and caches the LDA, temperature 1
    assert fp.attribute(texts[0], references=refs)[0].typicality is None
    refs.calibrate(texts, models)
    assert refs.temperature is not None and refs.temperature != 1.0
    t = refs.lda().temperatures(refs.space.transform(texts[:4]))  # the temperature of each text's length
    np.testing.assert_allclose(clf.decision_function(texts[:4]), before / t[:, None])
    assert fp.attribute(texts[0], references=refs)[0].typicality is not None


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 5)), elements=st.floats(-1e5, 1e5)))
def test_float16_storage_is_scaled_not_overflowed(tmp_path_factory, X):
    """float16 scatter (the built-in set's storage): stored divided by its largest entry, so entries far
    above float16's 65,504 survive; each is off by at most ~5e-4 of the largest."""
    f = Fingerprint.from_features(X, "m", "space")
    d = tmp_path_factory.mktemp("fp16")
    g = Fingerprint.load(f.save(d / "h.npz", precision="float16"))
    big = np.abs(f.scatter).max()
    np.testing.assert_allclose(g.scatter, f.scatter, rtol=0, atol=5e-4 * big + 1e-300)
    np.testing.assert_allclose(g.mean, f.mean, rtol=1e-6, atol=1e-30)


def test_float16_storage_quarters_the_file(tmp_path):
    f = Fingerprint.from_features(np.random.default_rng(0).normal(size=(300, 120)), "m", "space")
    sizes = {p: f.save(tmp_path / f"{p}.npz", precision=p).stat().st_size for p in ("float64", "float16")}
    assert sizes["float16"] < 0.3 * sizes["float64"]


@settings(max_examples=25, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(2, 12), st.integers(1, 5)),
        # values below 1e-100 give variances that underflow to 0 while a cross term does not (the
        # correlation, then stored as 0, is undefined): not a case real features reach
        elements=st.floats(-1e5, 1e5).filter(lambda v: v == 0 or abs(v) > 1e-100),
    )
)  # fmt: skip
def test_int8_storage_keeps_variances_and_rounds_correlations(tmp_path_factory, X):
    """int8 scatter: variances kept (float64), correlations off by at most 1/254, constant features stay 0."""
    f = Fingerprint.from_features(X, "m", "space")
    g = Fingerprint.load(f.save(tmp_path_factory.mktemp("i8") / "h.npz", precision="int8"))
    var = np.diag(f.scatter)
    np.testing.assert_allclose(np.diag(g.scatter), var, rtol=1e-12, atol=0)
    sd = np.sqrt(var)
    tol = np.outer(sd, sd) * (1 / 254 + 1e-6)
    assert np.all(np.abs(g.scatter - f.scatter) <= tol + 1e-300)
    np.testing.assert_array_equal(g.scatter, g.scatter.T)


def test_int8_storage_halves_float16(tmp_path):
    f = Fingerprint.from_features(np.random.default_rng(0).normal(size=(300, 120)), "m", "space")
    sizes = {p: f.save(tmp_path / f"{p}.npz", precision=p).stat().st_size for p in ("float16", "int8")}
    assert sizes["int8"] < 0.6 * sizes["float16"]


def test_int8_file_without_its_deviations_is_refused(tmp_path):
    from fingerprint.io import read_bundle, write_bundle

    f = Fingerprint.from_features(np.random.default_rng(0).normal(size=(20, 4)), "m", "space")
    meta, arrays = read_bundle(f.save(tmp_path / "a.npz", precision="int8"), "fingerprint")
    for broken in (
        {k: v for k, v in arrays.items() if k != "scatter_sd"},
        {**arrays, "scatter_sd": -arrays["scatter_sd"]},
    ):
        write_bundle(tmp_path / "b.npz", "fingerprint", meta, broken)
        with pytest.raises(FingerprintFileError, match="standard deviations"):
            Fingerprint.load(tmp_path / "b.npz")


@pytest.mark.parametrize("precision", ["float64", "float32", "float16", "int8"])
def test_loaded_scatter_is_unpacked_on_first_use_and_equals_the_saved_one(tmp_path, precision):
    """Attribution never reads a loaded fingerprint's scatter, so it stays packed until an audit asks."""
    import copy
    import pickle

    f = _fp(np.random.default_rng(1).normal(size=(30, 7)))
    path = f.save(tmp_path / "a.npz", precision=precision)
    g = Fingerprint.load(path)
    assert "scatter" not in vars(g)  # still packed
    assert g.dim == 7 and g.n_texts == 30 and repr(g).startswith("Fingerprint(model='m'")
    big = np.abs(f.scatter).max()
    # each storage's documented rounding (see Fingerprint.save)
    atol = {"float64": 0, "float32": 1e-6 * big, "float16": 5e-4 * big, "int8": big / 254 + 1e-12}[precision]
    np.testing.assert_allclose(g.scatter, f.scatter, rtol=0, atol=atol)
    assert "scatter" in vars(g) and "_build_scatter" not in vars(g)  # unpacked once, then kept
    assert g.scatter is g.scatter and not g.scatter.flags.writeable
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        g.nope  # noqa: B018
    h = Fingerprint.load(path)
    twin = pickle.loads(pickle.dumps(h))
    assert "scatter" not in vars(twin) and "scatter" not in vars(h)  # travels packed, as stored
    for other in (twin, copy.deepcopy(h), copy.copy(h), h.merge(_fp(np.eye(7)))):
        assert other.scatter.shape == (7, 7)
    np.testing.assert_array_equal(twin.scatter, g.scatter)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(h)).scatter, g.scatter)  # once unpacked, as its triangle


def test_concurrent_first_reads_of_a_packed_scatter_all_get_it(tmp_path):
    import threading

    f = _fp(np.random.default_rng(3).normal(size=(50, 40)))
    path = f.save(tmp_path / "a.npz", precision="int8")
    for _ in range(20):
        g = Fingerprint.load(path)
        barrier, got, errors = threading.Barrier(8), [], []

        def read(g=g, barrier=barrier, got=got, errors=errors):
            barrier.wait()
            try:
                got.append(g.scatter)
            except Exception as e:  # any failure of a read is the defect tested for
                errors.append(e)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and len(got) == 8
        assert all(np.array_equal(a, got[0]) for a in got)
    # the path a thread takes when it missed the scatter while another thread was unpacking it
    assert g.__getattr__("scatter") is g.scatter


def test_damaged_scatter_is_refused_at_load_not_at_first_use(tmp_path):
    """The checksum is no signature: a rewritten file with a valid checksum is still checked when loaded."""
    from fingerprint.io import read_bundle, write_bundle

    f = _fp(np.random.default_rng(0).normal(size=(20, 4)))
    for precision in ("float64", "float16", "int8"):
        meta, arrays = read_bundle(f.save(tmp_path / "a.npz", precision=precision), "fingerprint")
        bad = arrays["scatter"].copy()
        if precision == "int8":  # finite deviations whose products overflow
            damaged = {**arrays, "scatter_sd": np.full(4, 1e200)}
        else:
            bad[3] = np.inf
            damaged = {**arrays, "scatter": bad}
        for broken, message in ((damaged, "non-finite"),
                                ({**arrays, "scatter": arrays["scatter"][:-1]}, "expected 10"),
                                ({**arrays, "mean": arrays["mean"][:3]}, "do not agree")):  # fmt: skip
            write_bundle(tmp_path / "b.npz", "fingerprint", meta, broken)
            with pytest.raises(FingerprintFileError, match=message):
                Fingerprint.load(tmp_path / "b.npz")
    ok = {**arrays, "scatter_sd": np.full(4, 1e150)}  # large but squarable: loads, and unpacks finite
    write_bundle(tmp_path / "c.npz", "fingerprint", meta, ok)
    assert np.isfinite(Fingerprint.load(tmp_path / "c.npz").scatter).all()


def test_a_loaded_int8_fingerprint_pickles_at_its_stored_size(tmp_path):
    """What a Dask worker or joblib process receives of the built-in set: int8 triangles, not float64 ones."""
    import pickle

    f = _fp(np.random.default_rng(1).normal(size=(300, 120)))
    g = Fingerprint.load(f.save(tmp_path / "a.npz", precision="int8"))
    packed = len(pickle.dumps(g))
    _ = g.scatter
    assert packed < len(pickle.dumps(g)) / 4


def test_crafted_fields_are_refused_at_load(tmp_path):
    """Probe finding: a rewritten file with a valid checksum loaded complex or text statistics, n_texts 2.7
    (as 2) or True (as 1), a missing space id and a negative variance."""
    from fingerprint.io import read_bundle, write_bundle

    f = _fp(np.random.default_rng(1).normal(size=(20, 4)))
    meta, arrays = read_bundle(f.save(tmp_path / "a.npz"), "fingerprint")
    scatter = arrays["scatter"].copy()
    scatter[4] = -1.0  # row 1's diagonal in the packed triangle of a 4 x 4 matrix
    for m, a, message in (
        ({**meta, "n_texts": 2.7}, arrays, "whole number"),
        ({**meta, "n_texts": True}, arrays, "whole number"),
        ({**meta, "space_id": None}, arrays, "space_id"),
        ({**meta, "n_texts": 10**309}, arrays, "whole number"),  # was an OverflowError
        ({**meta, "n_texts": 2**53 + 1}, arrays, "whole number"),
        (meta, {**arrays, "mean": arrays["mean"].astype(complex)}, "real numbers"),
        (meta, {**arrays, "mean": arrays["mean"].astype(str)}, "real numbers"),
        (meta, {**arrays, "scatter": scatter}, "negative variance"),
    ):
        write_bundle(tmp_path / "b.npz", "fingerprint", m, a)
        with pytest.raises(FingerprintFileError, match=message):
            Fingerprint.load(tmp_path / "b.npz")


def test_nested_metadata_is_read_only_and_handed_out_as_copies():
    """Probe finding: MappingProxyType froze only the top level, so metadata["lin"]["t"] = ... edited a
    fingerprint every copy of its set shares, and to_dict() handed out the same inner dicts."""
    import copy
    import json
    import pickle

    f = Fingerprint("x", 10, np.zeros(3), np.eye(3), "sid", {"lin": {"t": "a", "l": [1, 2]}})
    with pytest.raises(TypeError, match="read-only"):
        f.metadata["lin"]["t"] = "X"
    with pytest.raises(TypeError, match="read-only"):
        f.metadata["lin"]["l"].append(3)
    d = f.to_dict()
    d["metadata"]["lin"]["t"] = "Y"  # a copy: the user's to edit
    assert f.metadata["lin"] == {"t": "a", "l": [1, 2]} and json.dumps(f.to_dict())
    merged = f.merge(Fingerprint("x", 5, np.ones(3), np.eye(3), "sid"))
    for g in (pickle.loads(pickle.dumps(f)), copy.deepcopy(f), merged):
        assert g.metadata["lin"] == {"t": "a", "l": [1, 2]}
        with pytest.raises(TypeError, match="read-only"):
            g.metadata["lin"]["t"] = "Z"


def test_files_that_would_unpack_huge_or_recurse_are_refused(tmp_path, monkeypatch):
    """Probe findings: a 200 KB file declaring d = 20,000 loaded and took 3.2 GB on first use of its
    scatter; metadata nested 100,000 deep raised RecursionError instead of a file error."""
    from fingerprint.fingerprints import MAX_DIM
    from fingerprint.io import read_bundle, write_bundle

    f = _fp(np.random.default_rng(1).normal(size=(20, 4)))
    meta, _ = read_bundle(f.save(tmp_path / "a.npz"), "fingerprint")
    d = MAX_DIM + 1
    write_bundle(tmp_path / "big.npz", "fingerprint", {**meta, "dim": d},
                 {"mean": np.zeros(d, np.float32), "scatter_sd": np.ones(d),
                  "scatter": np.zeros(d * (d + 1) // 2, np.int8)})  # fmt: skip
    with pytest.raises(FingerprintFileError, match="dimension"):
        Fingerprint.load(tmp_path / "big.npz")
    # and never written: a fingerprint wider than files may be is refused by save (MAX_DIM lowered to 3 here)
    import fingerprint.fingerprints as fingerprints_module

    monkeypatch.setattr(fingerprints_module, "MAX_DIM", 3)
    with pytest.raises(ValueError, match="at most 3 dimensions"):
        f.save(tmp_path / "wide.npz")
    assert not (tmp_path / "wide.npz").exists()
    np.savez(tmp_path / "deep.npz", __meta__=np.array('{"x":' + "[" * 100_000 + "]" * 100_000 + "}"))
    with pytest.raises(FingerprintFileError, match="RecursionError"):
        Fingerprint.load(tmp_path / "deep.npz")


def test_statistics_too_large_to_attribute_are_an_error_not_nan():
    """Probe finding: n_texts = 10**308 (or means times 1e160) gave NaN confidences without a word."""
    from fingerprint.lda import LDAModel

    rng = np.random.default_rng(0)
    a, b = _fp(rng.normal(size=(20, 4))), _fp(rng.normal(size=(20, 4)) + 1)
    huge = Fingerprint("big", a.n_texts, a.mean * 1e160, a.scatter, a.space_id)
    with pytest.raises(ValueError, match="not finite"):
        LDAModel.from_fingerprints([huge, b], shrinkage=0.3)
    with pytest.raises(ValueError, match="whole number"):
        Fingerprint("many", 10**308, a.mean, a.scatter, a.space_id)


def test_family_must_be_a_name(fitted, tmp_path):
    """Review finding (12-07): metadata={"family": ["x"]} was accepted by the build and saved, then every
    attribution and audit of the set failed with "unhashable type"; family=5 came back as an int."""
    f = next(iter(fitted.references_))
    for bad in (["x"], 5, " "):
        with pytest.raises(TypeError, match="family"):
            Fingerprint(f.model, f.n_texts, f.mean, f.scatter, f.space_id, {"family": bad})
    assert Fingerprint(f.model, f.n_texts, f.mean, f.scatter, f.space_id, {"family": None}).dim == f.dim
    texts = [f"Hello there, this is answer {i}." for i in range(5)] + [f"Another one, number {i}." for i in range(5)]
    models = ["a"] * 5 + ["b"] * 5
    with pytest.raises(TypeError, match="family"):
        fp.build_references(texts, models, space="default", calibrate=False, metadata={"a": {"family": ["x"]}})


def test_metadata_must_be_json_with_string_keys_as_a_sets_is():
    """Review finding: a key 1 became "1" silently, and numpy ints or sets failed inside json's encoder."""
    from fingerprint import references

    f = references.builtin()[references.list_models()[0]]
    for metadata, why in (({1: "x"}, "keys must be strings, got 1"), ({"a": {2: "b"}}, "got 2"),
                          ({"size": np.int64(7)}, "int64"), ({"s": {1, 2}}, "set")):  # fmt: skip
        with pytest.raises(TypeError, match=f"metadata of fingerprint {f.model!r} must be JSON.*{why}"):
            fp.Fingerprint(f.model, f.n_texts, f.mean, f.scatter, f.space_id, metadata)
    ok = fp.Fingerprint(f.model, f.n_texts, f.mean, f.scatter, f.space_id, {"x": [1, {"y": 2.5}], "n": None})
    assert ok.metadata == {"x": [1, {"y": 2.5}], "n": None}
