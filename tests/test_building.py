"""Building from batches: mergeable statistics give the in-memory build, in bounded memory."""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fingerprint as fp
from fingerprint import references
from fingerprint.building import MAX_CALIBRATION_TEXTS, FoldedStatistics, calibration_folds, fit_references
from fingerprint.lda import LDAModel

MODELS = ("claude-2", "gpt-4-0314", "llama-2-70b-chat")


@pytest.fixture(scope="module")
def outputs():
    sample = references.load_sample().to_pandas()
    return sample[sample["model"].isin(MODELS)].reset_index(drop=True)


def _same_sets(a, b):
    assert a.models == b.models
    for m in a.models:
        assert a[m].n_texts == b[m].n_texts
        np.testing.assert_allclose(a[m].mean, b[m].mean, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(a[m].scatter, b[m].scatter, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(a.temperature, b.temperature, rtol=1e-6)
    np.testing.assert_allclose(a.length_slope, b.length_slope, atol=1e-6)
    np.testing.assert_allclose(a.confidence_map, b.confidence_map, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(a.distance_quantiles, b.distance_quantiles, rtol=1e-6)


def test_batches_of_tables_equal_the_in_memory_build(outputs):
    """DataFrame batches with a prompt_id column: the same set as one call with groups=prompt ids."""
    batches = (outputs.iloc[i : i + 17] for i in range(0, len(outputs), 17))
    got = fp.build_references(batches, space="default")
    want = fp.build_references(outputs["text"], outputs["model"], space="default", groups=outputs["prompt_id"])
    _same_sets(got, want)
    assert got.metadata["calibration"]["groups"] == "prompt_id column"


def test_dataset_read_in_chunks_and_tuples(outputs):
    ds = references.load_sample().filter(lambda r: r["model"] in MODELS)
    got = fp.build_references(ds.iter(batch_size=16), space="default")
    want = fp.build_references(ds["text"], ds["model"], space="default", groups=ds["prompt_id"])
    _same_sets(got, want)
    # (texts, models) tuples: without prompt ids each text is its own group, like groups=texts
    tuples = ((list(b["text"]), list(b["model"])) for b in (outputs.iloc[:25], outputs.iloc[25:]))
    got = fp.build_references(tuples, space="default", calibrate=True)
    _same_sets(got, fp.build_references(outputs["text"], outputs["model"], space="default", groups=outputs["text"]))


def test_attribute_streams_batches(outputs):
    refs = references.builtin()
    texts = list(outputs["text"][:12])
    stream = fp.attribute(iter([texts[:5], texts[5:]]), references=refs, top_features=0)
    assert not isinstance(stream, list)  # lazy: nothing attributed before it is consumed
    got = [a for batch in stream for a in batch]
    want = fp.attribute(texts, references=refs, top_features=0)
    assert [(a.model, round(a.confidence, 12)) for a in got] == [(a.model, round(a.confidence, 12)) for a in want]


def test_batch_errors_are_clear(outputs):
    with pytest.raises(ValueError, match="pass models=None"):
        fp.build_references(iter([outputs]), outputs["model"], space="default")
    with pytest.raises(TypeError, match="iterator of texts is ambiguous"):
        fp.build_references(iter(["a", "b"]), space="default")
    with pytest.raises(ValueError, match="batch 0 must be a table with 'text' and 'model'"):
        fp.build_references(iter([outputs[["text"]]]), space="default")
    with pytest.raises(ValueError, match="batch 1 lacks prompt ids"):
        fp.build_references(iter([outputs.iloc[:30], outputs.iloc[30:][["text", "model"]]]), space="default")
    with pytest.raises(ValueError, match="needs a fitted FeatureSpace"):
        fp.build_references(iter([outputs]))  # space="fit" cannot be streamed
    with pytest.raises(ValueError, match="empty iterator"):
        fp.build_references(iter([]), space="default")


def test_empty_batches_are_skipped_and_errors_name_the_batch(outputs):
    """QA findings: an empty batch stopped a streamed build (and a streamed attribution halfway)."""
    empty = outputs.iloc[0:0]
    chunks = [outputs.iloc[i : i + 20] for i in range(0, len(outputs), 20)]
    got = fp.build_references(iter([chunks[0], empty, *chunks[1:], {"text": [], "model": []}]), space="default")
    _same_sets(got, fp.build_references(iter(chunks), space="default"))
    refs = references.builtin()
    parts = list(fp.attribute(iter([outputs["text"][:3], empty, outputs["text"][3:5]]), references=refs,
                              top_features=0))  # fmt: skip
    assert [len(p) for p in parts] == [3, 0, 2] and parts[1].to_frame().empty
    bad = outputs.iloc[20:40].copy()
    bad.loc[bad.index[7], "text"] = "   "
    with pytest.raises(ValueError, match=r"batch 1: text 7 \(index 27\) is empty or whitespace only"):
        fp.build_references(iter([chunks[0], bad]), space="default")
    with pytest.raises(ValueError, match=r"batch 1: text 7 \(index 27\) is empty"):  # the Series' own label
        list(fp.attribute(iter([outputs["text"][:2], bad["text"]]), references=refs, top_features=0))
    with pytest.raises(TypeError, match="batch 1 is a str"):
        list(fp.attribute(iter([outputs["text"][:2], "one text"]), references=refs, top_features=0))
    # a batch that is itself a generator of texts is read once (it was read to test emptiness, then empty)
    texts = list(outputs["text"][:4])
    lazy = list(fp.attribute(iter([(t for t in texts[:2]), (t for t in texts[2:])]), references=refs, top_features=0))
    whole = fp.attribute(texts, references=refs, top_features=0)
    assert [a.nearest for p in lazy for a in p] == [a.nearest for a in whole]
    np.testing.assert_allclose([a.confidence for p in lazy for a in p], [a.confidence for a in whole], rtol=1e-6)


def test_streamed_builds_refuse_what_the_in_memory_build_refuses(outputs):
    """QA finding: 3 prompt groups with n_folds=4, or a model with fewer texts than folds, were refused in
    memory and calibrated anyway from batches."""
    # a hash of each group picks its calibration fold, counted alike in memory and from batches (review
    # finding, 12-07: batches refused 8 prompts whose hashes left one of 4 folds empty, which memory took)
    folds = fp.building.calibration_folds([f"g{i}" for i in range(40)], 4, 0)
    one = [g for g, f in zip(range(40), folds, strict=True) if f == 0][:3]  # 3 groups in one fold
    two = [*one[:2], next(g for g, f in zip(range(40), folds, strict=True) if f == 1)]  # 3 groups, 2 folds
    def both_ways(picked):  # in memory, and from two batches
        grouped = outputs.assign(prompt_id=[f"g{picked[i % 3]}" for i in range(len(outputs))])
        yield lambda: fp.build_references(grouped["text"], grouped["model"], groups=grouped["prompt_id"],
                                          space="default")  # fmt: skip
        yield lambda: fp.build_references(iter([grouped.iloc[:30], grouped.iloc[30:]]), space="default")

    for call in both_ways(one):
        with pytest.raises(ValueError, match="at least 2 of its n_folds=4 folds"):
            call()
    got = []
    for call in both_ways(two):
        with pytest.warns(UserWarning, match="fill 2 of the n_folds=4 calibration folds"):
            got.append(call())
    assert got[0].temperature == pytest.approx(got[1].temperature)
    few = outputs.groupby("model").head(5)
    with pytest.raises(ValueError, match="calibration needs at least 6 texts per model"):
        fp.build_references(few["text"], few["model"], groups=few["prompt_id"], space="default", n_folds=6)
    with pytest.raises(ValueError, match="calibration needs at least 6 texts per model"):
        fp.build_references(iter([few]), space="default", n_folds=6)


def test_a_table_carries_its_models_in_memory_too(outputs):
    """build_references(table, None) took only a datasets.Dataset (a DataFrame was refused)."""
    got = fp.build_references(outputs, None, space="default")
    want = fp.build_references(outputs["text"], outputs["model"], space="default", groups=outputs["prompt_id"])
    _same_sets(got, want)
    with pytest.raises(ValueError, match="models= is missing"):
        fp.build_references(outputs[["text"]], None, space="default")


def test_groups_may_name_a_column_as_in_audit(outputs):
    """Probe finding: fp.audit took groups="prompt_id" but build and fit said '40 texts but 1 groups'."""
    shuffled = outputs.assign(other=outputs["prompt_id"].sample(frac=1, random_state=0).to_numpy())
    named = fp.build_references(shuffled, None, space="default", groups="other")
    _same_sets(named, fp.build_references(shuffled, None, space="default", groups=shuffled["other"]))
    clf = fp.FingerprintClassifier(space="default").fit(shuffled, shuffled["model"], groups="other")
    assert clf.references_.metadata["calibration"]["groups"] == "given"
    with pytest.raises(ValueError, match=r"groups='prompt_ids' is a string.*columns"):
        fp.build_references(shuffled, None, space="default", groups="prompt_ids")


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 59), st.integers(1, 59), st.integers(0, 3))
def test_statistics_of_any_split_merge_to_those_of_the_whole(a, b, seed):
    """Merging is exact (up to rounding) and associative: three shards in any grouping equal the whole."""
    rng = np.random.default_rng(seed)
    n, d = 60, 4
    X, y = rng.normal(size=(n, d)), rng.choice(["m1", "m2", "m3"], size=n)
    folds = calibration_folds([f"p{i % 13}" for i in range(n)], 5)
    lo, hi = sorted((a, b))
    cuts = (slice(0, lo), slice(lo, hi), slice(hi, n))
    part = [FoldedStatistics.from_features(X[s], y[s], folds[s], "s") for s in cuts]
    whole = FoldedStatistics.from_features(X, y, folds, "s")
    for merged in (part[0].merge(part[1]).merge(part[2]), part[0].merge(part[1].merge(part[2]))):
        assert merged.fold_counts == whole.fold_counts
        for m, f in whole.models.items():
            np.testing.assert_allclose(merged.models[m].scatter, f.scatter, rtol=1e-9, atol=1e-9)
        for j, s in whole.fold_scatter.items():
            np.testing.assert_allclose(merged.fold_scatter[j], s, rtol=1e-9, atol=1e-9)
        for k in ("m1", "m2"):
            for j in whole.fold_scatter:
                if (k, j) in whole.fold_means:
                    np.testing.assert_allclose(merged.fold_means[(k, j)], whole.fold_means[(k, j)], atol=1e-12)


def _two_pass_scatter(A):
    D = A - A.mean(axis=0)
    return D.T @ D


@pytest.mark.parametrize(
    "case", ["random", "non-contiguous folds", "single texts", "a model in one fold", "large offset", "float32"]
)
def test_fold_statistics_are_their_definition(case):
    """Per fold, the scatter of each model's texts in it around their own mean, summed over models; per
    model, the count, mean and scatter of all its texts (computed as one product per fold and per model)."""
    rng = np.random.default_rng(1)
    X, y, folds = rng.normal(size=(80, 5)) * 3 + 1, rng.choice(["a", "b", "c"], size=80), rng.integers(0, 4, 80)
    if case == "non-contiguous folds":
        folds = np.where(folds < 2, 0, 3)
    elif case == "single texts":  # a model with one text, and a fold holding one text of a model
        X, y, folds = X[:9], np.array(list("abbbccccc")), np.array([0, 0, 1, 1, 0, 0, 1, 1, 2])
    elif case == "a model in one fold":
        folds = np.where(y == "a", 2, folds)
    elif case == "large offset":  # cancellation: features near 1e6 that vary by 1e-2
        X = 1e6 + X * 1e-2
    elif case == "float32":
        X = X.astype(np.float32)
    stats = FoldedStatistics.from_features(X, y, folds, "s")
    Xd = np.asarray(X, dtype=np.float64)
    assert sorted(stats.fold_scatter) == sorted(set(folds.tolist()))
    for j in set(folds.tolist()):
        want = sum(_two_pass_scatter(Xd[(y == m) & (folds == j)]) for m in set(y) if ((y == m) & (folds == j)).any())
        scale = max(np.abs(want).max(), 1e-300)
        np.testing.assert_allclose(stats.fold_scatter[j] / scale, want / scale, rtol=0, atol=1e-12)
        for m in set(y):
            n = int(((y == m) & (folds == j)).sum())
            assert stats.fold_counts.get((m, j), 0) == n
    for m in set(y):
        f = stats.models[m]
        assert f.n_texts == int((y == m).sum())
        np.testing.assert_allclose(f.mean, Xd[y == m].mean(axis=0), rtol=1e-14)
        want = _two_pass_scatter(Xd[y == m])
        scale = max(np.abs(want).max(), 1e-300)
        np.testing.assert_allclose(f.scatter / scale, want / scale, rtol=0, atol=1e-12)


def test_fold_statistics_refuse_malformed_input():
    X, y = np.zeros((4, 2)), np.array(list("aabb"))
    with pytest.raises(ValueError, match="length n"):
        FoldedStatistics.from_features(X, y[:3], np.zeros(4, int), "s")
    with pytest.raises(ValueError, match="length n"):
        FoldedStatistics.from_features(X, y, np.zeros(3, int), "s")
    with pytest.raises(ValueError, match="integers"):
        FoldedStatistics.from_features(X, y, np.array([0, 0.5, 1, 1]), "s")


def test_fold_lda_equals_an_lda_of_the_other_folds():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(90, 3)), np.repeat(["a", "b", "c"], 30)
    folds = np.tile(np.arange(3), 30)
    stats = FoldedStatistics.from_features(X, y, folds, "s")
    lda = stats.fold_lda(1, ["a", "b", "c"], shrinkage=0.2)
    keep = folds != 1
    direct = LDAModel.from_fingerprints(
        [fp.Fingerprint.from_features(X[keep & (y == c)], c, "s") for c in "abc"], shrinkage=0.2
    )
    np.testing.assert_allclose(lda.scores(X), direct.scores(X), rtol=1e-10, atol=1e-10)


def test_calibration_folds_depend_only_on_the_group():
    groups = [f"p{i}" for i in range(200)]
    whole = calibration_folds(groups, 5)
    assert np.array_equal(whole[50:60], calibration_folds(groups[50:60], 5))
    assert set(whole.tolist()) == set(range(5)) and max(np.bincount(whole)) < 60  # all folds, roughly even
    assert not np.array_equal(whole, calibration_folds(groups, 5, random_state=1))
    assert MAX_CALIBRATION_TEXTS >= 15 * 1000  # a thousand texts per bin of a 15-bin reliability curve


def test_a_streamed_build_fits_the_same_length_slope():
    """The length-aware temperature (issue 13) from batches equals the in-memory one, on enough texts
    (all 1,620 sample answers) for the slope to be kept."""
    sample = references.load_sample().to_pandas()
    want = fp.build_references(sample["text"], sample["model"], space="default", groups=sample["prompt_id"])
    got = fp.build_references((sample.iloc[i : i + 250] for i in range(0, len(sample), 250)), space="default")
    assert want.length_slope < -0.1
    _same_sets(got, want)


def test_review_fixes_for_builds(outputs):
    """A generator of texts inside a (texts, models) batch is read once; a build with fewer than 20
    calibration texts warns (10 texts of 2 models fitted a temperature of about 1,500, silently); one
    fingerprint is of one model."""
    texts, models = list(outputs["text"]), list(outputs["model"])
    got = fp.build_references(iter([((t for t in texts), models)]), space="default")
    _same_sets(got, fp.build_references(texts, models, space="default", groups=texts))
    two = outputs[outputs["model"].isin(MODELS[:2])].groupby("model").head(5)
    with pytest.warns(UserWarning, match="calibrating on 10 texts of 2 model.*fewer than 20 texts"):
        fp.build_references(two["text"], two["model"], groups=two["prompt_id"], space="default", n_folds=2)
    assert fp.build_references(two["text"], two["model"], space="default", calibrate=False).temperature is None
    with pytest.raises(ValueError, match="model column names 3 models"):
        fp.Fingerprint.from_texts(outputs, model="mixed")
    one = outputs[outputs["model"] == MODELS[0]]
    assert fp.Fingerprint.from_texts(one, model=MODELS[0]).n_texts == len(one)


def test_heldout_spread_shrinks_the_calibration_rows_to_their_fold_means(outputs):
    """The calibration scores rows shrunk toward their (model, fold) mean; the fingerprints keep them."""
    space = fp.FeatureSpace.default()
    X, y = space.transform(list(outputs["text"])), np.asarray(outputs["model"])
    folds = calibration_folds(outputs["prompt_id"], 4)
    stats = FoldedStatistics.from_features(X, y, folds, space.space_id_)
    d = X.shape[1]
    # the centre is each row's (model, fold) mean, not the model's or the corpus's
    collapsed = stats._shrunk_to_fold_means(X, y, folds, np.zeros(d))
    for i in (0, len(y) // 2, len(y) - 1):
        np.testing.assert_allclose(collapsed[i], X[(y == y[i]) & (folds == folds[i])].mean(axis=0))
    same = stats.to_references(space, calibrate=True, shrinkage=0.1)
    ones = stats.to_references(space, calibrate=True, shrinkage=0.1, heldout_spread=np.ones(d))
    assert ones.temperature == pytest.approx(same.temperature)
    half = stats.to_references(space, calibrate=True, shrinkage=0.1, heldout_spread=np.full(d, 0.5))
    assert half.temperature < same.temperature  # less spread around the means: more confident
    assert half.distance_quantiles[95] < same.distance_quantiles[95]  # and nearer their own model
    for m in same.models:
        np.testing.assert_array_equal(half[m].mean, same[m].mean)
        np.testing.assert_array_equal(half[m].scatter, same[m].scatter)
    with pytest.raises(ValueError, match="one factor per column"):
        stats.to_references(space, calibrate=True, shrinkage=0.1, heldout_spread=np.ones(d - 1))
    with pytest.raises(ValueError, match="finite, non-negative"):
        stats.to_references(space, calibrate=True, shrinkage=0.1, heldout_spread=np.full(d, -1.0))


def test_only_a_space_fitted_on_the_texts_shrinks_the_calibration(outputs):
    sub = fp.sample_per_model(outputs, 12)
    kw = {"groups": sub["prompt_id"], "n_folds": 3}
    fitted = fp.build_references(sub["text"], sub["model"], space="fit", **kw)
    assert fitted.metadata["calibration"]["heldout_spread"] is True
    assert np.all(fitted.space.heldout_spread_ <= 1) and np.any(fitted.space.heldout_spread_ < 1)
    # the same space passed in fitted: its rows are taken as new texts' rows (no correction)
    frozen = fp.build_references(sub["text"], sub["model"], space=fitted.space, **kw)
    assert "heldout_spread" not in frozen.metadata["calibration"]
    ng = fitted.space.block("ngram")  # in sample either way (the score block is cross-fitted only in a fit)
    np.testing.assert_allclose(frozen["claude-2"].mean[ng.start : ng.stop], fitted["claude-2"].mean[ng.start : ng.stop],
                               atol=1e-6)  # float32 counts in transform
    # the same fit's rows calibrated as they are: less sure (the shrunk rows are scored more surely)
    space = fp.FeatureSpace(n_folds=3)
    X = space.fit_transform(list(sub["text"]), list(sub["model"]), groups=list(sub["prompt_id"]))
    as_is = fit_references(X, np.asarray(sub["model"]), space, calibrate=True, groups=list(sub["prompt_id"]),
                           n_folds=3, shrinkage=0.3, metadata=None, random_state=0)  # fmt: skip
    assert fitted.temperature < as_is.temperature
    template = fp.build_references(sub["text"], sub["model"], space=fp.FeatureSpace(n_folds=3), **kw)
    assert template.metadata["calibration"]["heldout_spread"] is True
    assert template.temperature == pytest.approx(fitted.temperature)
    default = fp.build_references(sub["text"], sub["model"], space="default", **kw)
    assert "heldout_spread" not in default.metadata["calibration"]
    no_folds = fp.build_references(sub["text"], sub["model"], space=fp.FeatureSpace(n_score_features=0), **kw)
    assert "heldout_spread" not in no_folds.metadata["calibration"]  # no cross-fitting folds: no estimate
    clf = fp.FingerprintClassifier(n_folds=3).fit(sub["text"], sub["model"], groups=sub["prompt_id"])
    assert clf.references_.metadata["calibration"]["heldout_spread"] is True
    assert clf.references_.temperature == pytest.approx(fitted.temperature)


def test_holdout_calibration_is_fitted_on_the_partial_builds_scores(outputs):
    """calibration="holdout": the fingerprints are the whole build's; the calibration is fitted on the
    scores that the build without a fifth of the prompts gives that fifth (recomputed here by hand)."""
    texts, models, groups = list(outputs["text"]), np.asarray(outputs["model"]), np.asarray(outputs["prompt_id"])
    space = fp.FeatureSpace(n_char=300, n_word=150, n_components=16, n_folds=3)
    kw = {"space": space, "groups": groups, "n_folds": 3}
    holdout = fp.build_references(texts, models, calibration="holdout", **kw)
    plain = fp.build_references(texts, models, calibrate=False, **kw)
    assert holdout.models == plain.models and holdout.space.space_id_ == plain.space.space_id_
    for m in plain.models:
        np.testing.assert_array_equal(holdout[m].mean, plain[m].mean)
    def hashed(key):  # the documented split: blake2b-64 of "holdout", random_state and the group
        return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")

    held = np.array([hashed(f"holdout\x000\x00{g}") % 5 == 0 for g in groups])
    # salted apart from the calibration's folds (a benchmark that held out calibration_folds(..., 5, 1) == 0
    # beforehand found the part empty)
    assert held.any() and not (held == (calibration_folds(groups, 5, random_state=1) == 0)).all()
    part = fp.build_references([t for t, h in zip(texts, held, strict=True) if not h], models[~held],
                               calibrate=False, space=space, groups=groups[~held], n_folds=3)  # fmt: skip
    held_texts = [t for t, h in zip(texts, held, strict=True) if h]
    F, lda = part.space.transform(held_texts), part.lda()
    y_idx = np.searchsorted(np.array(plain.models), models[held])
    by_hand = plain.copy()
    by_hand.calibrate_from_scores(lda.scores(F), y_idx, lda.distances(F)[np.arange(len(y_idx)), y_idx],
                                  length_feature=plain.space.transform(held_texts)[:, plain.space.length_column])
    assert holdout.temperature == pytest.approx(by_hand.temperature)
    assert holdout.length_slope == pytest.approx(by_hand.length_slope)
    np.testing.assert_allclose(holdout.confidence_map, by_hand.confidence_map)
    np.testing.assert_allclose(holdout.distance_quantiles, by_hand.distance_quantiles)
    assert holdout.metadata["calibration"] == {"n_texts": int(held.sum()), "method": "holdout", "parts": 5,
                                               "grouped": True, "groups": "given"}  # fmt: skip
    crossfit = fp.build_references(texts, models, **kw)
    assert crossfit.temperature != pytest.approx(holdout.temperature)
    clf = fp.FingerprintClassifier(space=space, n_folds=3, calibration="holdout").fit(texts, models, groups=groups)
    assert clf.references_.temperature == pytest.approx(holdout.temperature)


def test_holdout_calibration_refuses_what_it_cannot_do(outputs):
    small = fp.FeatureSpace(n_char=300, n_word=150, n_components=16, n_folds=3)
    few = fp.sample_per_model(outputs, 5)
    with pytest.raises(ValueError, match="holds out about 1/5 of the groups, which leaves"):  # 5 less a fifth
        fp.build_references(few["text"], few["model"], groups=few["prompt_id"], space=small, n_folds=3,
                            calibration="holdout")  # fmt: skip
    with pytest.raises(ValueError, match="already new to it"):  # a fixed space gains nothing from it
        fp.build_references(outputs["text"], outputs["model"], groups=outputs["prompt_id"], space="default",
                            calibration="holdout")  # fmt: skip
    with pytest.raises(ValueError, match="calibration='holdout'"):
        fp.build_references(iter([outputs]), space="default", calibration="holdout")
    with pytest.raises(ValueError, match="calibration"):
        fp.build_references(few["text"], few["model"], space="default", calibration="later")


def test_pandas_inputs_with_different_indexes_are_refused_not_paired_by_position():
    """Review finding: build_references(shuffled.text, df.model) built every fingerprint from other
    models' texts, silently (top-1 on the aligned texts 0.32 instead of 1.0)."""
    df = references.load_sample().to_pandas()
    df = df[df.model.isin(["claude-2", "gpt-4-0314", "llama-2-70b-chat"])]
    shuffled = df.sample(frac=1, random_state=0)
    with pytest.raises(ValueError, match="texts and models are pandas objects with different indexes"):
        fp.build_references(shuffled.text, df.model, groups=shuffled.prompt_id, space="default")
    with pytest.raises(ValueError, match="texts and groups are pandas objects with different indexes"):
        fp.build_references(shuffled.text, shuffled.model, groups=df.prompt_id, space="default")
    with pytest.raises(ValueError, match="texts and y are pandas objects with different indexes"):
        fp.FingerprintClassifier(space="default").fit(shuffled.text, df.model)
    with pytest.raises(ValueError, match="texts and groups"):
        fp.audit(shuffled.text[shuffled.model == "claude-2"], groups=df.prompt_id[df.model == "claude-2"])
    # aligned, or plain values, are paired by position as before
    refs = fp.build_references(shuffled.text, shuffled.model, groups=shuffled.prompt_id, space="default")
    same = fp.build_references(shuffled.text, shuffled.model.to_numpy(), groups=list(shuffled.prompt_id),
                               space="default")  # fmt: skip
    assert refs.models == same.models and np.allclose(refs["claude-2"].mean, same["claude-2"].mean)


@pytest.mark.filterwarnings("ignore:the reference set.s calibration was fitted")
def test_load_references_names_what_it_takes():
    """Review findings: a file path said "uses the directory's own space", None "not iterable"."""
    import tempfile

    refs = references.builtin()
    for m in refs.models[3:]:
        refs.remove(m)
    d = refs.save(tempfile.mkdtemp())
    f = fp.ReferenceSet.files(d)[0]
    for kw in ({}, {"space": refs.space}):  # with space= it said "uses the directory's own space"
        with pytest.raises(NotADirectoryError, match="is a file, not a reference-set directory"):
            fp.load_references(f, **kw)
    with pytest.raises(TypeError, match="a directory or a list of fingerprint files, got NoneType"):
        fp.load_references(None)
    with pytest.raises(TypeError, match="from_files takes a list of fingerprint files, got one path"):
        fp.ReferenceSet.from_files(str(f))
    assert fp.load_references([f], space=refs.space).models == [refs.models[0]]
    with pytest.raises(IsADirectoryError, match="is a directory: give a file name"):
        refs[refs.models[0]].save(d)


def test_a_list_of_tables_is_named_as_such():
    """Review finding: build_references([df1, df2]) said "models= is missing"."""
    import pandas as pd

    d = pd.DataFrame({"text": ["hello there"] * 5, "model": ["m"] * 5})
    with pytest.raises(TypeError, match="a list of tables or batches is not one table"):
        fp.build_references([d, d], space="default")
