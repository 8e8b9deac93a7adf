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
