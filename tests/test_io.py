import io
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fingerprint.io import FingerprintFileError, atomic_write_bytes, read_bundle, write_bundle

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=10,
)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in {"format", "kind", "schema_version", "sha256"}),
        json_values,
        max_size=5,
    )
)
def test_bundle_roundtrip(tmp_path_factory, meta):
    p = tmp_path_factory.mktemp("b") / "x.npz"
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.array(["x", "yz"])}
    write_bundle(p, "thing", meta, arrays)
    m, a = read_bundle(p, "thing")
    assert m == json.loads(json.dumps(meta))
    np.testing.assert_array_equal(a["a"], arrays["a"])
    np.testing.assert_array_equal(a["s"], arrays["s"])


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(TypeError, match="object dtype"):
        write_bundle(tmp_path / "x.npz", "thing", {}, {"o": np.array([object()], dtype=object)})


def test_pickled_payload_never_loads(tmp_path):
    # an .npz whose array is a pickle: np.load(allow_pickle=False) must refuse it
    p = tmp_path / "evil.npz"
    buf = io.BytesIO()
    np.savez(
        buf,
        __meta__=np.array(json.dumps({"format": "fingerprint", "kind": "thing", "schema_version": 1})),
        evil=np.array([{"a": 1}], dtype=object),
    )
    p.write_bytes(buf.getvalue())
    with pytest.raises(FingerprintFileError):
        read_bundle(p, "thing")


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "x.npz"
    write_bundle(p, "thing", {}, {})
    with np.load(p) as z:
        meta = json.loads(str(z["__meta__"]))
    meta["schema_version"] = 99
    np.savez(p, __meta__=np.array(json.dumps(meta)))
    with pytest.raises(FingerprintFileError, match="schema version 99"):
        read_bundle(p, "thing")


def test_atomic_write_keeps_old_file_on_crash(tmp_path, monkeypatch):
    p = tmp_path / "x.bin"
    atomic_write_bytes(p, b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(p, b"new content")
    assert p.read_bytes() == b"old"
    assert [f.name for f in tmp_path.iterdir()] == ["x.bin"]  # no temp file left behind


# -- issue 15, findings 5 and 7: bounded resources before unpacking, schema versions -----------------
def _forge(path, meta, **arrays):
    """An .npz laid out like a bundle, with whatever metadata and arrays (no valid checksum needed)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, __meta__=np.array(json.dumps(meta)), **arrays)
    path.write_bytes(buf.getvalue())
    return path


def test_a_compressed_giant_array_is_refused_before_unpacking(tmp_path):
    import tracemalloc

    from fingerprint.io import MAX_UNPACKED_BYTES

    p = _forge(tmp_path / "bomb.npz", {"format": "fingerprint"}, big=np.zeros(MAX_UNPACKED_BYTES // 8 + 1024))
    assert p.stat().st_size < 5_000_000  # ~1 GB of zeros in a few MB
    tracemalloc.start()
    with pytest.raises(FingerprintFileError, match="unpacks to"):
        read_bundle(p, "fingerprint")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50_000_000  # refused from the zip directory: nothing was unpacked


def test_too_many_members_are_refused_before_unpacking(tmp_path):
    from fingerprint.io import MAX_MEMBERS

    arrays = {f"a{i}": np.zeros(1) for i in range(MAX_MEMBERS + 1)}
    p = _forge(tmp_path / "many.npz", {"format": "fingerprint"}, **arrays)
    with pytest.raises(FingerprintFileError, match=f"{MAX_MEMBERS + 2:,} members"):
        read_bundle(p, "fingerprint")


def test_an_array_header_larger_than_its_member_is_refused(tmp_path):
    """A lying .npy header would make numpy allocate its shape before reading any data."""
    import zipfile

    p = _forge(tmp_path / "ok.npz", {"format": "fingerprint"}, a=np.zeros(4))
    with zipfile.ZipFile(p) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    npy = members["a.npy"]
    members["a.npy"] = npy.replace(b"(4,), }    ", b"(99999,), }")  # same header length: only the shape lies
    assert len(members["a.npy"]) == len(npy)
    q = tmp_path / "lying.npz"
    with zipfile.ZipFile(q, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(FingerprintFileError, match="claims"):
        read_bundle(q, "fingerprint")


@pytest.mark.parametrize("version", [0, -1, "1", True, 1.5])
def test_invalid_schema_versions_are_refused(tmp_path, version):
    p = _forge(tmp_path / "v.npz", {"format": "fingerprint", "kind": "fingerprint", "schema_version": version})
    with pytest.raises(FingerprintFileError, match="invalid schema version"):
        read_bundle(p, "fingerprint")


# --- property test (issue 15): a damaged file is refused, or reads back exactly what was written ---------


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_damaged_bundle_is_refused_or_reads_back_unchanged(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("d") / "x.npz"
    meta = {"k": [1, "two"]}
    arrays = {"a": np.arange(12, dtype=np.float64).reshape(3, 4), "s": np.array(["x", "yz"])}
    write_bundle(p, "thing", meta, arrays)
    raw = bytearray(p.read_bytes())
    how = data.draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
    at = data.draw(st.integers(0, len(raw) - 1))
    if how == "flip":
        raw[at] ^= data.draw(st.integers(1, 255))
    elif how == "truncate":
        del raw[at:]
    elif how == "insert":
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    else:
        chunk = data.draw(st.binary(min_size=1, max_size=64))
        raw[at : at + len(chunk)] = chunk
    p.write_bytes(bytes(raw))
    try:
        m, a = read_bundle(p, "thing")
    except FingerprintFileError as e:  # the only error a damaged file may raise, naming the file
        assert str(p) in str(e)
        return
    assert m == meta and sorted(a) == ["a", "s"]  # damage outside the data (zip padding, timestamps)
    np.testing.assert_array_equal(a["a"], arrays["a"])
    np.testing.assert_array_equal(a["s"], arrays["s"])


def test_a_leading_tilde_is_the_home_directory(tmp_path, monkeypatch, fitted, corpus):
    """Probe finding: ``save("~/refs")`` in a notebook wrote a folder named ``~`` in the working
    directory (only a shell expands ``~``).  Every public path is expanded, as pandas does."""
    import fingerprint as fp

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir(), work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    refs = fitted.references_
    refs.save("~/refs")
    refs["model-a"].save("~/a.fingerprint.npz")
    refs.space.save("~/space.npz")
    fitted.save("~/clf")
    (home / "texts.jsonl").write_text(json.dumps({"text": corpus[0][0], "model": corpus[1][0]}) + "\n")
    assert list(work.iterdir()) == []
    assert fp.load_references("~/refs").models == refs.models == fp.ReferenceSet.load("~/refs").models
    assert fp.ReferenceSet.files("~/refs")[0].is_relative_to(home)
    assert fp.Fingerprint.load("~/a.fingerprint.npz").model == "model-a"
    assert fp.FeatureSpace.load("~/space.npz").space_id_ == refs.space.space_id_
    assert fp.FingerprintClassifier.load("~/clf").references_.models == refs.models
    assert list(fp.load_corpus("~/texts.jsonl")["model"]) == [corpus[1][0]]
    # the command line too, where a shell leaves it alone ("--out=~/x", quotes)
    from fingerprint.cli import main

    assert main(["inspect", "~/refs"]) == 0 and main(["probe", "--out=~/probes.jsonl"]) == 0
    assert main(["attribute", "~/texts.jsonl", "--references=~/refs", "--json"]) == 0
    assert (home / "probes.jsonl").is_file() and list(work.iterdir()) == []
