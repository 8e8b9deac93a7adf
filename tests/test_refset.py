"""ReferenceSet persistence: a save is all or nothing, concurrent writers fail clearly, crashes lose nothing."""

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import fingerprint as fp
from fingerprint import Fingerprint, ReferenceSet
from fingerprint.io import DirectoryLockedError, exclusive_lock


def _set(space, tag, k, seed):
    """``k`` synthetic fingerprints named ``<tag>-<j>``: two sets differ in every file."""
    rng = np.random.default_rng(seed)
    d = space.n_features_out_
    fps = [Fingerprint.from_features(rng.normal(size=(40, d)), f"{tag}-{j}", space.space_id_) for j in range(k)]
    return ReferenceSet(fps, space)


def _same(a, b):
    return a.models == b.models and all(np.array_equal(a[m].mean, b[m].mean) for m in a.models)


def test_save_switches_generations_and_keeps_one_previous(small_space, tmp_path):
    a, b = _set(small_space, "a", 3, 0), _set(small_space, "b", 4, 1)
    d = tmp_path / "refs"
    a.save(d)
    b.save(d)
    assert _same(ReferenceSet.load(d), b)
    a.save(d)
    assert _same(ReferenceSet.load(d), a)
    assert len(list(d.glob(".gen-*"))) == 2  # the current and the previous generation
    assert [p.parent for p in ReferenceSet.files(d)] == [ReferenceSet.files(d)[0].parent] * 3


def test_save_refused_while_another_writer_holds_the_lock(small_space, tmp_path):
    a, b = _set(small_space, "a", 3, 0), _set(small_space, "b", 4, 1)
    d = a.save(tmp_path / "refs")
    before = sorted(p.name for p in d.rglob("*"))
    with exclusive_lock(d), pytest.raises(DirectoryLockedError, match="being written by another process"):
        b.save(d)
    assert sorted(p.name for p in d.rglob("*")) == before and _same(ReferenceSet.load(d), a)
    b.save(d)  # the lock is released with its holder
    assert _same(ReferenceSet.load(d), b)


def test_flat_layout_of_older_versions_still_loads(small_space, tmp_path):
    """Directories written before generations (every file beside the index) load as before."""
    import fingerprint.refset as refset_module

    a = _set(small_space, "a", 3, 0)
    d = a.save(tmp_path / "refs")
    (gen,) = {p.parent for p in ReferenceSet.files(d)}
    flat = tmp_path / "flat"
    flat.mkdir()
    for p in gen.iterdir():
        (flat / p.name).write_bytes(p.read_bytes())
    meta, arrays = fp.io.read_bundle(d / "references.npz", "reference_set")
    meta = {k: v for k, v in meta.items() if k not in ("generation", "space_sha256")}
    fp.io.write_bundle(flat / "references.npz", "reference_set", meta, arrays)
    assert _same(refset_module.ReferenceSet.load(flat), a)
    b = _set(small_space, "b", 2, 1)
    b.save(flat)  # saving over a flat set moves it to a generation and removes the flat files
    assert _same(ReferenceSet.load(flat), b)
    assert sorted(p.name for p in flat.iterdir() if p.is_file()) == [".lock", "references.npz"]
    meta["generation"] = "../elsewhere"
    fp.io.write_bundle(flat / "references.npz", "reference_set", meta, arrays)
    with pytest.raises(fp.FingerprintFileError, match="invalid generation"):
        ReferenceSet.load(flat)


_WRITER = textwrap.dedent(
    """
    import sys
    from fingerprint import ReferenceSet
    from fingerprint.io import DirectoryLockedError
    sets = [ReferenceSet.load(p) for p in sys.argv[2:]]
    print("ready", flush=True)
    i = 0
    while True:
        try:
            sets[i % len(sets)].save(sys.argv[1])
        except DirectoryLockedError:
            pass
        i += 1
    """
)


def _writer(target, *sources):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target), *map(str, sources)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.slow
def test_sigkill_at_any_point_of_a_save_leaves_the_old_or_the_new_set(small_space, tmp_path):
    """Crash test: a writer alternates two sets and is killed at random moments; every time, the
    directory loads as exactly one of them."""
    a, b = _set(small_space, "a", 30, 0), _set(small_space, "b", 31, 1)
    src_a, src_b = a.save(tmp_path / "a"), b.save(tmp_path / "b")
    target = a.save(tmp_path / "target")
    rng = np.random.default_rng(0)
    for delay in rng.uniform(0.02, 0.6, 8):
        proc = _writer(target, src_b, src_a)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        loaded = ReferenceSet.load(target)
        assert _same(loaded, a) or _same(loaded, b)
    assert len(list(target.glob(".gen-*"))) <= 3  # current, previous, and at most one killed mid-write


@pytest.mark.slow
def test_two_concurrent_writers_never_mix_sets(small_space, tmp_path):
    a, b = _set(small_space, "a", 20, 0), _set(small_space, "b", 21, 1)
    src_a, src_b = a.save(tmp_path / "a"), b.save(tmp_path / "b")
    target = a.save(tmp_path / "target")
    writers = [_writer(target, src_a), _writer(target, src_b)]
    try:
        deadline = time.monotonic() + 3.0
        reads = failures = 0
        while time.monotonic() < deadline:  # readers meanwhile see one set or the other, whole
            try:
                loaded = ReferenceSet.load(target)
            except (fp.FingerprintFileError, FileNotFoundError):  # removed under a reader 3 times: an error, no mix
                failures += 1
                continue
            assert _same(loaded, a) or _same(loaded, b)
            reads += 1
    finally:
        for w in writers:
            w.kill()
            w.wait()
    assert reads > 10 * failures  # a reader retries when a writer switched generations under it
    loaded = ReferenceSet.load(target)
    assert _same(loaded, a) or _same(loaded, b)


# -- issue 15, findings 5 and 7 --------------------------------------------------------------------
def test_one_file_loaded_twice_is_refused_not_double_counted(small_space, tmp_path):
    a = _set(small_space, "a", 2, 0)
    p = a["a-0"].save(tmp_path / "a0.fingerprint.npz")
    with pytest.raises(ValueError, match="same fingerprint file"):
        fp.load_references([p, p], space=small_space)
    (tmp_path / "copy.fingerprint.npz").write_bytes(p.read_bytes())
    with pytest.raises(ValueError, match="same fingerprint file"):
        fp.load_references([p, tmp_path / "copy.fingerprint.npz"], space=small_space)
    with pytest.raises(ValueError, match="counts the same texts twice"):
        a["a-0"].merge(a["a-0"])


def test_a_huge_member_is_refused_before_it_is_hashed(small_space, tmp_path, monkeypatch):
    import fingerprint.refset as refset_module
    from fingerprint.io import MAX_FILE_BYTES, file_sha256

    d = _set(small_space, "a", 2, 0).save(tmp_path / "refs")
    member = ReferenceSet.files(d)[0]
    with open(member, "r+b") as fh:  # sparse: no disk used, but hashing it would read gigabytes
        fh.truncate(MAX_FILE_BYTES + 1)
    hashed = []
    monkeypatch.setattr(refset_module, "file_sha256", lambda p: hashed.append(p) or file_sha256(p))
    with pytest.raises(fp.FingerprintFileError, match="larger than any valid file"):
        ReferenceSet.load(d)
    assert member not in hashed


def test_a_negative_temperature_in_an_index_is_refused(small_space, tmp_path):
    d = _set(small_space, "a", 3, 0).save(tmp_path / "refs")
    meta, arrays = fp.io.read_bundle(d / "references.npz", "reference_set")
    meta["temperature"] = -5.0  # would invert every confidence
    fp.io.write_bundle(d / "references.npz", "reference_set", meta, arrays)
    with pytest.raises(ValueError, match="temperature"):
        ReferenceSet.load(d)


@pytest.mark.parametrize("precision", ["float16", "int8"])
def test_reduced_precision_set_keeps_the_exact_pooled_scatter(small_space, tmp_path, precision):
    """The index stores the sum of the full-precision scatters, so the loaded set's LDA is the original's,
    and removing a model subtracts only that model's (rounded) scatter."""
    refs = _set(small_space, "p", 4, seed=3)
    exact = refs.within_scatter().copy()
    tol = 1e-6 * np.abs(exact).max()
    back = ReferenceSet.load(refs.save(tmp_path / "s", precision=precision))
    np.testing.assert_allclose(back.within_scatter(), exact, rtol=1e-6, atol=tol)
    assert np.abs(sum(f.scatter for f in back) - exact).max() > 10 * tol  # the fingerprints alone are rounded
    X = np.random.default_rng(0).normal(size=(5, exact.shape[0]))
    np.testing.assert_allclose(back.lda().scores(X), refs.lda().scores(X), rtol=1e-5, atol=1e-5)
    gone = back["p-0"]
    back.remove("p-0")
    np.testing.assert_allclose(back.within_scatter(), exact - gone.scatter, rtol=1e-6, atol=tol)
    back.add(gone)
    np.testing.assert_allclose(back.within_scatter(), exact, rtol=1e-6, atol=tol)


def test_damage_is_reported_in_reading_order_and_members_keep_their_order(small_space, tmp_path):
    """Members are read on a thread pool: the set keeps the index's order, and with both the space and a
    member damaged the space's error is the one raised (as a serial read would)."""
    refs = _set(small_space, "o", 6, 5)
    d = refs.save(tmp_path / "refs")
    assert ReferenceSet.load(d).models == refs.models
    member = ReferenceSet.files(d)[-1]
    member.write_bytes(member.read_bytes()[:-10])
    with pytest.raises(fp.FingerprintFileError, match=re.escape(member.name)):
        ReferenceSet.load(d)
    space_file = member.parent / "space.npz"
    space_file.write_bytes(space_file.read_bytes()[:-10])
    with pytest.raises(fp.FingerprintFileError, match=r"space\.npz"):
        ReferenceSet.load(d)


def test_long_model_names_save_and_a_failed_save_leaves_nothing_behind(small_space, tmp_path, monkeypatch):
    """A 250-character model name made save fail with 'File name too long' and left an empty
    generation folder (QA finding)."""
    rng = np.random.default_rng(3)
    d = small_space.n_features_out_
    names = ["a" * 250, "a" * 249 + "b", "short"]  # the long two share their first 80 characters
    refs = ReferenceSet([Fingerprint.from_features(rng.normal(size=(20, d)), m, small_space.space_id_) for m in names],
                        small_space)  # fmt: skip
    out = tmp_path / "refs"
    back = ReferenceSet.load(refs.save(out))
    assert back.models == sorted(names) and _same(back, refs)
    assert all(len(p.name) < 120 for p in out.rglob("*"))

    def boom(self, path, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(Fingerprint, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        _set(small_space, "new", 2, 1).save(out)
    assert _same(ReferenceSet.load(out), refs)  # the old set, untouched
    assert len(list(out.glob(".gen-*"))) == 1  # no leftover generation from the failed save


def test_review_fixes_for_saving_and_loading(small_space, tmp_path, monkeypatch):
    """A set saved before the 5-text rule still loads (with a warning); cut or cleaned file names never
    collide; a failed index write leaves no generation behind."""
    import fingerprint.refset as refset_module

    rng = np.random.default_rng(4)
    d = small_space.n_features_out_
    monkeypatch.setattr(refset_module, "MIN_TEXTS_PER_MODEL", 1)  # what an earlier version let through
    old = ReferenceSet([Fingerprint.from_features(rng.normal(size=(n, d)), f"m{n}", small_space.space_id_)
                        for n in (3, 20, 20)], small_space)  # fmt: skip
    old.save(tmp_path / "old")
    monkeypatch.undo()
    with pytest.warns(UserWarning, match="'m3' has 3 text.*loaded as saved"):
        back = ReferenceSet.load(tmp_path / "old")
    assert back.models == old.models
    names = ["b/", "b/-2", "b?"]  # "b/" and "b?" both clean to "b_"; the second took "b_-2", b/-2's own name
    refs = ReferenceSet([Fingerprint.from_features(rng.normal(size=(6 + i, d)), m, small_space.space_id_)
                         for i, m in enumerate(names)], small_space)  # fmt: skip
    back = ReferenceSet.load(refs.save(tmp_path / "names"))
    assert back.models == sorted(names) and [back[m].n_texts for m in names] == [6, 7, 8]

    def broken_index(*args, **kwargs):
        raise TypeError("metadata is not JSON")

    monkeypatch.setattr(refset_module, "write_bundle", broken_index)
    with pytest.raises(TypeError, match="not JSON"):
        refs.save(tmp_path / "names")
    monkeypatch.undo()
    assert len(list((tmp_path / "names").glob(".gen-*"))) == 1 and ReferenceSet.load(tmp_path / "names").models


def test_a_copy_shares_nothing_mutable(small_space):
    """Probe finding: the built-in set's copies shared its metadata and calibration arrays, so editing one
    changed every later ``fp.attribute()``; ``copy()`` (which ``default()`` returns) owns its own."""
    refs = _set(small_space, "c", 3, 1)
    refs.distance_quantiles = np.linspace(0, 5, 101)
    refs.confidence_map = np.array([[0.0, 1.0], [0.0, 0.9]])
    refs.metadata["lineage"] = {"c-0": {"family": "x"}}
    mine = refs.copy()
    mine.metadata["lineage"]["c-0"]["family"] = "changed"
    mine.distance_quantiles[:] = 0
    mine.confidence_map[1, :] = 0
    mine.remove("c-0")
    assert refs.metadata["lineage"]["c-0"]["family"] == "x" and refs.distance_quantiles[-1] == 5
    assert refs.confidence_map[1, 1] == 0.9 and refs.models == ["c-0", "c-1", "c-2"]
    given = np.linspace(0, 5, 101)
    held = ReferenceSet(list(refs), small_space, distance_quantiles=given, metadata={"a": [1]})
    given[:] = 0  # the caller's array stays the caller's
    assert held.distance_quantiles[-1] == 5


def test_builtin_copies_are_independent():
    mine = ReferenceSet.default()
    mine.metadata["calibration"] = "edited"
    mine.confidence_map[1, :] = 0
    again = ReferenceSet.default()
    assert again.metadata.get("calibration") != "edited" and again.confidence_map[1].max() > 0


@pytest.mark.parametrize("bad", [[0.1, np.nan, 0.3], [[0.1, 0.2]], [0.3, 0.2, 0.1], [-1.0, 0.0], ["a", "b"], [1.0]])
def test_distance_quantiles_are_checked(small_space, bad):
    with pytest.raises(ValueError, match="distance_quantiles"):
        ReferenceSet(list(_set(small_space, "q", 2, 0)), small_space, distance_quantiles=np.array(bad, dtype=object))


def test_a_float64_save_of_a_rounded_set_keeps_its_exact_scatter_sum(small_space, tmp_path):
    """Probe finding: a set loaded from int8 files, saved again at float64, lost its exact pooled scatter
    (the index kept it only at float16/int8) and attributed differently after the round trip."""
    refs = _set(small_space, "r", 4, seed=5)
    exact = refs.within_scatter().copy()
    rounded = ReferenceSet.load(refs.save(tmp_path / "int8", precision="int8"))
    again = ReferenceSet.load(rounded.save(tmp_path / "f64", precision="float64"))
    np.testing.assert_allclose(again.within_scatter(), rounded.within_scatter(), rtol=0, atol=0)
    np.testing.assert_allclose(again.within_scatter(), exact, rtol=1e-6, atol=1e-6 * np.abs(exact).max())


def _rewrite_index(d, edit):
    """Rewrite a saved set's index with ``edit(meta)`` applied and a valid checksum (a hand-made file)."""
    from fingerprint.io import read_bundle, write_bundle

    meta, arrays = read_bundle(d / "references.npz", "reference_set")
    edit(meta)
    write_bundle(d / "references.npz", "reference_set", meta, arrays)


def test_an_index_entry_must_name_the_model_in_its_file(small_space, tmp_path):
    """Probe finding: two index entries pointing at one file loaded it twice (its texts counted twice)."""
    d = _set(small_space, "m", 3, 2).save(tmp_path / "s")

    def alias(meta):
        meta["members"]["m-1"] = meta["members"]["m-0"]
        meta["member_sha256"]["m-1"] = meta["member_sha256"]["m-0"]

    _rewrite_index(d, alias)
    with pytest.raises(fp.FingerprintFileError, match="each once"):
        ReferenceSet.load(d)
    d2 = _set(small_space, "n", 3, 2).save(tmp_path / "s2")

    def rename(meta):
        meta["members"]["evil"] = meta["members"].pop("n-0")
        meta["member_sha256"]["evil"] = meta["member_sha256"].pop("n-0")

    _rewrite_index(d2, rename)
    with pytest.raises(fp.FingerprintFileError, match="holds 'n-0', but the index lists it as 'evil'"):
        ReferenceSet.load(d2)


@pytest.mark.parametrize("edit", [
    lambda m: m.pop("members"),
    lambda m: m.update(members=list(m["members"].values())),
    lambda m: m.update(temperature="hot"),
    lambda m: m.update(calibrated_models="abc"),
    lambda m: m.update(metadata=[1]),
    lambda m: m.update(shrinkage=None),
    lambda m: m.update(temperature=-1.0),
])  # fmt: skip
def test_a_malformed_index_is_a_file_error(small_space, tmp_path, edit):
    """Probe finding: a hand-edited index with a recomputed checksum raised KeyError/TypeError, or read
    ``calibrated_models="abc"`` as ('a', 'b', 'c')."""
    refs = _set(small_space, "x", 2, 4)
    refs.temperature, refs.calibrated_models = 2.0, tuple(refs.models)
    d = refs.save(tmp_path / "s")
    _rewrite_index(d, edit)
    with pytest.raises(fp.FingerprintFileError, match="malformed"):
        ReferenceSet.load(d)


def test_metadata_that_is_not_json_is_refused_before_anything_is_written(small_space, tmp_path):
    refs = _set(small_space, "j", 2, 6)
    refs.metadata[1] = "x"
    with pytest.raises(TypeError, match="metadata must be JSON"):
        refs.save(tmp_path / "s")
    refs.metadata.pop(1)
    refs.metadata["n"] = np.int64(3)
    with pytest.raises(TypeError, match="metadata must be JSON"):
        refs.save(tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_an_unreadable_index_keeps_every_generation(small_space, tmp_path):
    """Probe finding: saving over a set whose index could not be read removed all its generation folders,
    one of which the damaged index had named."""
    d = _set(small_space, "u", 2, 7).save(tmp_path / "s")
    old = [p.name for p in d.glob(".gen-*")]
    (d / "references.npz").write_bytes(b"garbage")
    _set(small_space, "v", 2, 8).save(d)
    assert set(old) <= {p.name for p in d.glob(".gen-*")}
    assert ReferenceSet.load(d).models == ["v-0", "v-1"]


def test_model_names_differing_in_case_get_distinct_files(small_space, tmp_path):
    """On macOS and Windows "GPT-4" and "gpt-4" would be one file; their files differ in more than case."""
    rng = np.random.default_rng(9)
    d = small_space.n_features_out_
    fps = [Fingerprint.from_features(rng.normal(size=(20, d)), m, small_space.space_id_) for m in ("GPT-4", "gpt-4")]
    out = ReferenceSet(fps, small_space).save(tmp_path / "s")
    names = [p.name.casefold() for p in ReferenceSet.files(out)]
    assert len(set(names)) == 2


def test_unknown_model_suggests_the_nearest_names(small_space):
    refs = _set(small_space, "gpt-4-0314", 2, 1)
    with pytest.raises(KeyError, match=r"did you mean 'gpt-4-0314-\d' or 'gpt-4-0314-\d'\?"):
        refs["gpt-4-0314"]


def test_a_set_saved_with_names_differing_in_case_still_loads(small_space, tmp_path):
    """Review finding: the index check compared file names without case and refused a set an earlier
    version saved on Linux as GPT-4.fingerprint.npz and gpt-4.fingerprint.npz."""
    rng = np.random.default_rng(9)
    d = small_space.n_features_out_
    fps = [Fingerprint.from_features(rng.normal(size=(20, d)), m, small_space.space_id_) for m in ("GPT-4", "gpt-4")]
    out = ReferenceSet(fps, small_space).save(tmp_path / "s")

    def as_before(meta):  # the names an earlier version gave them
        gen = out / meta["generation"]
        for model in ("GPT-4", "gpt-4"):
            (gen / meta["members"][model]).rename(gen / f"{model}.fingerprint.npz")
            meta["members"][model] = f"{model}.fingerprint.npz"

    _rewrite_index(out, as_before)
    assert ReferenceSet.load(out).models == ["GPT-4", "gpt-4"]
    refs = _set(small_space, "nan", 2, 3)
    refs.metadata["score"] = float("nan")  # as earlier versions wrote it: still saves
    assert np.isnan(ReferenceSet.load(refs.save(tmp_path / "n")).metadata["score"])


def test_api_probe_findings(small_space):
    """Probe findings (in-memory API): lda() arrays were writable and shared by every copy of a set; a
    metadata key 'model' overwrote to_frame's column; the Fingerprint constructor froze the caller's arrays;
    a shrinkage changed after calibration did not mark it stale; build_references took a RandomState as
    random_state (every seed the same folds) and a malformed metadata= only after the fit."""
    refs = _set(small_space, "a", 3, 11)
    with pytest.raises(ValueError, match="read-only"):
        refs.lda().W[:] = 0
    rng = np.random.default_rng(0)
    d = small_space.n_features_out_
    mean, scatter = rng.normal(size=d), np.eye(d)
    f = Fingerprint("odd", 10, mean, scatter, small_space.space_id_, {"model": "other", "n_texts": 99999})
    assert mean.flags.writeable and scatter.flags.writeable and not np.shares_memory(f.mean, mean)
    refs.add(f)
    row = refs.to_frame().set_index("model").loc["odd"]
    assert row["n_texts"] == 10 and list(refs.to_frame().columns[:2]) == ["model", "n_texts"]
    refs.temperature, refs.calibrated_models = 2.0, tuple(refs.models)
    refs._calibrated_shrinkage = refs.shrinkage  # as a calibration records it
    assert not refs.calibration_stale
    refs.shrinkage = 0.9
    assert refs.calibration_stale
    texts, models = ["Some text here."] * 12, ["a"] * 6 + ["b"] * 6
    with pytest.raises(TypeError, match="random_state"):
        fp.build_references(texts, models, space=small_space, random_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="metadata must map each model name to a mapping"):
        fp.build_references(texts, models, space=small_space, metadata={"a": "anthropic"})


def test_a_saved_set_keeps_what_made_its_calibration_stale(small_space, tmp_path):
    """Review finding: a set stale because its shrinkage changed loaded as freshly calibrated."""
    refs = _set(small_space, "s", 3, 12)
    refs.temperature, refs.calibrated_models = 2.0, tuple(refs.models)
    refs.shrinkage = 0.5
    assert refs.calibration_stale
    assert ReferenceSet.load(refs.save(tmp_path / "a")).calibration_stale
    fresh = _set(small_space, "t", 3, 13)
    fresh.temperature, fresh.calibrated_models = 2.0, tuple(fresh.models)
    assert not ReferenceSet.load(fresh.save(tmp_path / "b")).calibration_stale


def test_the_classifier_refuses_a_random_state_object():
    with pytest.raises(TypeError, match="random_state"):
        fp.FingerprintClassifier(space="default", random_state=np.random.RandomState(0)).fit(
            ["Some text here."] * 12, ["a"] * 6 + ["b"] * 6)


def test_a_fingerprint_of_another_size_is_refused_and_leaves_the_set_unchanged(small_space, tmp_path):
    """Probe finding: a fingerprint with the space's id but another dimension was accepted by the
    constructor; add() raised a broadcast error yet kept it, and save() wrote a set that loaded but
    could not attribute."""
    refs = _set(small_space, "a", 3, 0)
    refs.within_scatter()  # a set that keeps its scatter sum updated, as a loaded one does
    bad = Fingerprint.from_features(np.random.default_rng(0).normal(size=(10, 3)), "bad", small_space.space_id_)
    with pytest.raises(ValueError, match="has 3 features"):
        refs.add(bad)
    assert "bad" not in refs and refs.models == ["a-0", "a-1", "a-2"]
    with pytest.raises(ValueError, match="has 3 features"):
        ReferenceSet([*refs, bad], small_space)


def test_a_killed_saves_temporary_index_is_removed_by_the_next_save(small_space, tmp_path):
    """Probe finding: a save killed while writing the index left ``.references.npz.<random>.tmp`` for good."""
    d = tmp_path / "refs"
    _set(small_space, "a", 2, 0).save(d)
    (d / ".references.npz.abc123.tmp").write_bytes(b"half an index")
    _set(small_space, "b", 2, 1).save(d)
    assert not list(d.glob("*.tmp")) and _same(ReferenceSet.load(d), _set(small_space, "b", 2, 1))


def test_a_missing_space_file_is_a_file_error(small_space, tmp_path):
    d = _set(small_space, "a", 2, 0).save(tmp_path / "refs")
    (ReferenceSet.files(d)[0].parent / "space.npz").unlink()
    with pytest.raises(fp.io.FingerprintFileError, match=r"space\.npz is missing"):
        ReferenceSet.load(d)


def test_space_default_is_accepted_wherever_a_space_is(tmp_path):
    refs = fp.references.builtin()
    first = refs[refs.models[0]]
    assert ReferenceSet([first], "default").space is refs.space
    p = first.save(tmp_path / "a.fingerprint.npz")
    assert fp.load_references([p], space="default").models == [first.model]
    with pytest.raises(TypeError, match="'default'"):
        ReferenceSet([first], "defualt")


def test_replacing_a_fingerprint_to_change_its_metadata_keeps_the_calibration_fresh(small_space):
    """The docs' recipe for editing a fingerprint's metadata must not mark the calibration stale."""
    refs = _set(small_space, "t", 3, 14)
    refs.temperature, refs.calibrated_models = 2.0, tuple(refs.models)
    f = refs["t-0"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "fitted for other models" warning
        refs.add(Fingerprint(f.model, f.n_texts, f.mean, f.scatter, f.space_id, {"family": "x"}), replace=True)
    assert refs["t-0"].metadata["family"] == "x" and not refs.calibration_stale
    other = _set(small_space, "t", 1, 15)["t-0"]  # other statistics under the same name: stale
    with pytest.warns(UserWarning, match="calibration"):
        refs.add(other, replace=True)
    assert refs.calibration_stale


def test_typicality_is_resolved_to_a_thousandth(small_space):
    """Probe finding: a set kept 101 percentiles of its calibration distances, so beyond the 99th
    typicality was a straight line to the largest distance and overstated the tail (at the true 0.003
    tail of an exponential, 20,000 texts: 0.008).  It keeps DISTANCE_LEVELS (1,001) now."""
    from fingerprint.refset import DISTANCE_LEVELS

    refs = _set(small_space, "t", 3, 2)
    rng = np.random.default_rng(0)
    y = np.arange(20_000) % 3
    scores = rng.normal(size=(len(y), 3))
    scores[np.arange(len(y)), y] += 1.0
    refs.calibrate_from_scores(scores, y, rng.exponential(size=len(y)))
    assert len(refs.distance_quantiles) == DISTANCE_LEVELS == 1001
    for tail in (0.05, 0.01, 0.003):
        assert refs.typicality(-np.log(tail)) == pytest.approx(tail, rel=0.25)


def test_parameters_set_after_construction_are_checked_and_save_writes_only_what_loads(fitted, tmp_path):
    """Review finding (12-07): ``shrinkage`` and ``temperature`` were plain attributes checked only by the
    constructor, so ``refs.shrinkage = 1.5; refs.save(d)`` replaced a good set with one load() refused, and
    a negative or NaN temperature scored silently."""
    refs = fitted.references_.copy()
    d = refs.save(tmp_path / "r")
    for name, value in (("shrinkage", 1.5), ("temperature", -1.0), ("temperature", float("nan")),
                        ("length_slope", 10.0)):  # fmt: skip
        with pytest.raises(ValueError, match=name):
            setattr(refs, name, value)
    refs.shrinkage = 0.5  # a valid change is kept, and makes the calibration stale as before
    assert refs.shrinkage == 0.5 and refs.calibration_stale
    for name, value, message in (("distance_quantiles", np.array([3.0, 2.0]), "distance_quantiles"),
                                 ("temperature", None, "length_slope")):  # fmt: skip
        broken = fitted.references_.copy()
        broken.length_slope = -0.2  # (the fixture's calibration may have fitted none)
        setattr(broken, name, value)
        with pytest.raises(ValueError, match=message):
            broken.save(d)
        assert fp.load_references(d).models == refs.models  # the set on disk untouched
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        refs.save(tmp_path / "file")


def test_an_identical_copy_of_a_fingerprint_is_not_merged_as_more_texts(fitted, tmp_path):
    """Review finding (12-07): from_files refused the same file twice, but the constructor and
    ``add(merge=True)`` counted a copy's texts twice, silently."""
    refs = fitted.references_
    d = refs.save(tmp_path / "r")
    with pytest.raises(ValueError, match="identical copy"):
        fp.ReferenceSet(list(refs) + list(fp.ReferenceSet.load(d)), refs.space)
    mine = refs.copy()
    with pytest.raises(ValueError, match="identical copy"):
        mine.add(fp.Fingerprint.load(fp.ReferenceSet.files(d)[0]), merge=True)
    assert [f.n_texts for f in mine] == [f.n_texts for f in refs]  # unchanged
    half = next(iter(refs))
    X = refs.space.transform(["One more answer about bread and water.", "A second one about rivers."])
    more = fp.Fingerprint.from_features(X, half.model, refs.space.space_id_)
    assert mine.copy().add(more, merge=True)[half.model].n_texts == half.n_texts + 2  # other texts still merge


def test_calibrate_takes_a_table_and_names_a_missing_models_argument(fitted, heldout):
    """Review finding (12-07): the label error told the user to pass the table alone, which calibrate()
    refused; calibrate(texts) without models said "got NoneType"."""
    refs = fitted.references_.copy()
    texts, models, _ = heldout
    with pytest.raises(ValueError, match="models= is missing"):
        refs.calibrate(texts)
    t_table = refs.calibrate({"text": texts, "model": models}).temperature
    assert t_table == refs.copy().calibrate(texts, models).temperature


def test_a_bad_precision_leaves_no_lock(fitted, tmp_path):
    """Review finding (12-07): save(precision="float8") raised after taking the directory's lock, and the
    bare .lock then made `fingerprint build --out` refuse the directory as not a reference set."""
    with pytest.raises(ValueError, match="precision"):
        fitted.references_.save(tmp_path / "r", precision="float8")
    assert not (tmp_path / "r").exists() or list((tmp_path / "r").iterdir()) == []
