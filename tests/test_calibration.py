import numpy as np
import pytest

from fingerprint.calibration import brier_score, expected_calibration_error, fit_temperature, softmax_t


def test_ece_and_brier_known_values():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert expected_calibration_error(p, np.array([0, 1])) == pytest.approx(0.15)
    assert brier_score(p, np.array([0, 1])) == pytest.approx(((0.1**2) * 2 + (0.2**2) * 2) / 2)


def test_fit_temperature_recovers_true_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5000, 4)) * 2.0
    true_t = 3.0
    p = softmax_t(logits, 1.0)
    y = np.array([rng.choice(4, p=row) for row in p])
    # scores that are 3x too sharp should be cooled by ~3
    t = fit_temperature(logits * true_t, y)
    assert t == pytest.approx(true_t, rel=0.15)
    assert expected_calibration_error(softmax_t(logits * true_t, t), y) < 0.03


def test_confidence_map_fixes_a_shape_a_temperature_cannot():
    """Top-label map (issue 13, item 2): a long tail of classes makes the top label right more often
    than its tempered probability says at low confidence; no temperature fixes that, the map does."""
    from fingerprint.calibration import apply_confidence_map, fit_confidence_map

    rng = np.random.default_rng(0)
    n, k = 6000, 40
    logits = rng.normal(size=(n, k))
    y = rng.integers(0, k, n)
    boost = rng.uniform(0, 4, n)  # how clearly each text shows its model
    logits[np.arange(n), y] += boost
    true_top = rng.random(n) < np.clip(0.15 + 0.2 * boost, 0, 0.95)  # top label right more often than softmax says
    logits[np.arange(n), y] += np.where(true_top, 3.0, -3.0)
    fit, test = slice(0, 3000), slice(3000, n)
    t = fit_temperature(logits[fit], y[fit])
    P = softmax_t(logits, t)
    knots = fit_confidence_map(P[fit], y[fit])
    Q = apply_confidence_map(P[test], knots)
    np.testing.assert_allclose(Q.sum(axis=1), 1.0, atol=1e-9)
    assert (Q.argmax(axis=1) == P[test].argmax(axis=1)).all()  # the ranking is kept
    before, after = expected_calibration_error(P[test], y[test]), expected_calibration_error(Q, y[test])
    assert after < 0.03 and after < before
    assert apply_confidence_map(P, None) is P


def test_confidence_map_round_trips_and_refuses_bad_knots(tmp_path, small_space, corpus):
    import fingerprint as fp

    texts, models, prompts = corpus
    refs = fp.build_references(texts, models, groups=prompts, space=small_space)
    assert refs.confidence_map is not None and refs.confidence_map.shape[0] == 2
    loaded = fp.load_references(refs.save(tmp_path / "r"))
    np.testing.assert_array_equal(loaded.confidence_map, refs.confidence_map)
    np.testing.assert_allclose(loaded.lda().proba(small_space.transform(texts[:5])),
                               refs.lda().proba(small_space.transform(texts[:5])))  # fmt: skip
    with pytest.raises(ValueError, match="confidence_map"):
        fp.ReferenceSet(list(refs), small_space, temperature=1.0, confidence_map=np.array([[0.5, 0.2], [0.3, 1.7]]))


def test_calibration_metrics_refuse_what_they_cannot_score():
    P, y = np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 1])
    for metric in (expected_calibration_error, brier_score):
        with pytest.raises(ValueError, match="matrix of shape"):
            metric(P.max(axis=1), y)  # a column of confidences, not the probabilities
        with pytest.raises(ValueError, match="one class index per row"):
            metric(P, y[:1])
        with pytest.raises(ValueError, match="column indices"):
            metric(P, np.array(["a", "b"]))
        with pytest.raises(ValueError, match="column indices"):
            metric(P, np.array([0, 2]))
        with pytest.raises(ValueError, match="no texts"):
            metric(np.zeros((0, 2)), np.zeros(0, int))


def _length_data(n=6000, k=5, slope=-0.4, t=3.0, seed=0):
    """Scores ``t * exp(slope * u)`` times too sharp: the right temperature depends on ``u``."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    logits = rng.normal(size=(n, k)) * 1.5
    y = np.array([rng.choice(k, p=row) for row in softmax_t(logits, 1.0)])
    return logits * (t * np.exp(slope * u))[:, None], y, u


def test_fit_length_temperature_recovers_the_length_effect():
    """A text's temperature depends on its length (issue 13): one temperature leaves short and long
    texts miscalibrated in opposite directions; the fitted (T, slope) recovers the truth and fixes both."""
    from fingerprint.calibration import fit_length_temperature, length_temperatures

    S, y, u = _length_data()
    T, slope = fit_length_temperature(S, y, u)
    assert T == pytest.approx(3.0, rel=0.1) and slope == pytest.approx(-0.4, abs=0.06)
    one = softmax_t(S, fit_temperature(S, y))
    per_text = softmax_t(S, length_temperatures(T, slope, u))
    short, long_ = u < -0.5, u > 0.5
    gap = lambda P, m: (P[m].argmax(1) == y[m]).mean() - P[m].max(1).mean()  # noqa: E731
    assert gap(one, short) < -0.04 and gap(one, long_) > 0.04  # over-confident short, under-confident long
    assert abs(gap(per_text, short)) < 0.03 and abs(gap(per_text, long_)) < 0.03


def test_fit_length_temperature_without_a_length_effect_is_one_temperature():
    from fingerprint.calibration import MAX_LENGTH_SLOPE, fit_length_temperature

    S, y, u = _length_data(slope=0.0)
    T, slope = fit_length_temperature(S, y, u)
    assert abs(slope) < 0.05 and T == pytest.approx(fit_temperature(S, y), rel=0.05)
    S2, y2, u2 = _length_data(n=3000, slope=-5.0)  # far steeper than any measured: bounded
    assert fit_length_temperature(S2, y2, u2)[1] == -MAX_LENGTH_SLOPE
    for bad in (u[:-1], np.where(np.arange(len(u)) == 3, np.nan, u)):
        with pytest.raises(ValueError, match="length_feature"):
            fit_length_temperature(S, y, bad)


def test_softmax_t_takes_one_temperature_per_row():
    rng = np.random.default_rng(0)
    S, t = rng.normal(size=(4, 3)), np.array([0.5, 1.0, 2.0, 4.0])
    rows = np.vstack([softmax_t(S[i : i + 1], float(t[i])) for i in range(4)])
    np.testing.assert_allclose(softmax_t(S, t), rows)
    np.testing.assert_allclose(softmax_t(S, None), softmax_t(S, 1.0))


def test_lda_with_calibration_copies_without_refitting_and_checks_the_slope():
    from fingerprint.fingerprints import Fingerprint
    from fingerprint.lda import LDAModel

    rng = np.random.default_rng(0)
    fps = [Fingerprint.from_features(rng.normal(m, 1, (30, 3)), f"m{m}", "s") for m in (0, 1, 2)]
    lda = LDAModel.from_fingerprints(fps, shrinkage=0.1)
    X = rng.normal(1, 1, (5, 3))
    hot = lda.with_calibration(2.0, None, -0.5, 0)
    assert hot.W is lda.W and lda.temperature is None and lda.length_slope == 0.0  # shared fit, original kept
    np.testing.assert_allclose(hot.temperatures(X), 2.0 * np.exp(-0.5 * X[:, 0]))
    np.testing.assert_allclose(hot.proba(X), softmax_t(lda.scores(X), hot.temperatures(X)))
    with pytest.raises(ValueError, match="length_slope"):
        lda.with_calibration(2.0, None, -0.5, None)  # a slope needs its column
    with pytest.raises(ValueError, match="length_slope"):
        lda.with_calibration(2.0, None, float("nan"), 0)
    # a margin needs the text's own temperature once it depends on length
    with pytest.raises(ValueError, match="depends on a text's length"):
        hot.contributions(0, 1)
    w, _ = hot.contributions(0, 1, float(hot.temperatures(X[:1])[0]))
    np.testing.assert_allclose(w * hot.temperatures(X[:1])[0], lda.contributions(0, 1)[0])


def test_a_set_carries_its_length_slope_through_lda_save_and_load(tmp_path, fitted, heldout):
    import fingerprint as fp
    from fingerprint.calibration import apply_confidence_map, length_temperatures

    refs = fp.ReferenceSet(list(fitted.references_), fitted.space_, temperature=2.0, length_slope=-0.3,
                           confidence_map=fitted.references_.confidence_map)  # fmt: skip
    X = refs.space.transform(heldout[0][:6])
    lda = refs.lda()
    t = length_temperatures(2.0, -0.3, X[:, refs.space.length_column])
    np.testing.assert_allclose(lda.temperatures(X), t)
    np.testing.assert_allclose(lda.proba(X), apply_confidence_map(softmax_t(lda.scores(X), t), refs.confidence_map,
                                                                  logits=lda.scores(X) / t[:, None]))  # fmt: skip
    assert len(np.unique(t.round(9))) > 1  # the fixture's texts differ in length
    loaded = fp.load_references(refs.save(tmp_path / "r"))
    assert loaded.length_slope == -0.3
    np.testing.assert_allclose(loaded.lda().proba(X), lda.proba(X))
    # an index written before the slope existed loads with one temperature
    meta, arrays = fp.io.read_bundle(tmp_path / "r" / "references.npz", "reference_set")
    del meta["length_slope"]
    fp.io.write_bundle(tmp_path / "r" / "references.npz", "reference_set", meta, arrays)
    old = fp.load_references(tmp_path / "r")
    assert old.length_slope == 0.0
    np.testing.assert_allclose(old.lda().temperatures(X), 2.0)
    meta["length_slope"] = 7.0  # tampered: a slope no calibration returns
    fp.io.write_bundle(tmp_path / "r" / "references.npz", "reference_set", meta, arrays)
    with pytest.raises(ValueError, match="length_slope"):
        fp.load_references(tmp_path / "r")


@pytest.mark.parametrize("path", ["build", "calibrate"])
def test_calibration_fits_the_temperature_on_each_texts_length(monkeypatch, small_space, corpus, heldout, path):
    """Both calibration paths (cross-fitted in a build, held-out texts in calibrate) give the fit the
    texts' own length feature, and the set keeps the slope it returns."""
    import fingerprint as fp
    import fingerprint.calibration as cal

    seen = {}

    def spy(scores, y_idx, length_feature):
        seen["length"] = np.asarray(length_feature)
        return 1.5, -0.25

    monkeypatch.setattr(cal, "fit_length_temperature", spy)
    texts, models, prompts = corpus
    if path == "build":
        refs = fp.build_references(texts, models, groups=prompts, space=small_space)
        expected = small_space.transform(texts)[:, small_space.length_column]
    else:
        refs = fp.ReferenceSet(list(fp.build_references(texts, models, space=small_space, calibrate=False)),
                               small_space).calibrate(heldout[0], heldout[1])  # fmt: skip
        expected = small_space.transform(heldout[0])[:, small_space.length_column]
    np.testing.assert_allclose(seen["length"], expected)  # row by row: each score row's own length
    assert (refs.temperature, refs.length_slope) == (1.5, -0.25)


def test_a_set_pickled_before_the_length_slope_unpickles_with_one_temperature(fitted, heldout):
    import pickle

    refs = fitted.references_
    state = refs.__getstate__()
    # what an earlier version pickled: plain temperature and shrinkage attributes (properties since 12-07),
    # no length slope
    del state["_length_slope"]
    state["temperature"], state["shrinkage"] = state.pop("_temperature"), state.pop("_shrinkage")
    old = object.__new__(type(refs))
    old.__setstate__(state)
    X = refs.space.transform(heldout[0][:3])
    assert old.length_slope == 0.0 and (old.temperature, old.shrinkage) == (refs.temperature, refs.shrinkage)
    assert not old.calibration_stale
    np.testing.assert_allclose(old.lda().temperatures(X), refs.temperature)
    again = pickle.loads(pickle.dumps(refs))
    assert again.length_slope == refs.length_slope


def test_a_few_calibration_texts_keep_one_temperature():
    """Without a length effect, a handful of texts used to fit a slope at the bound; the likelihood-ratio
    test keeps it at 0 unless the data show one."""
    from fingerprint.calibration import fit_length_temperature

    rng = np.random.default_rng(0)
    slopes = []
    for _ in range(40):
        n = int(rng.integers(2, 11))
        S, y, u = rng.normal(size=(n, 4)) * 2, rng.integers(0, 4, n), rng.normal(size=n)
        T, slope = fit_length_temperature(S, y, u)
        slopes.append(slope)
        if slope == 0.0:
            assert T == pytest.approx(fit_temperature(S, y))
    assert np.mean(np.abs(slopes) > 0) <= 0.1


def test_extreme_length_features_give_finite_confidences():
    from fingerprint.calibration import MAX_LENGTH_FEATURE, length_temperatures
    from fingerprint.lda import LDAModel

    t = length_temperatures(2.0, -1.0, np.array([-3000.0, 0.0, 3000.0]))
    assert np.all(np.isfinite(t)) and t[0] == pytest.approx(2.0 * np.exp(MAX_LENGTH_FEATURE))
    lda = LDAModel(np.array(["a", "b"]), np.array([[0.0, 0.0], [1.0, 0.0]]), np.eye(2), temperature=2.0,
                   length_slope=-0.3, length_column=1)  # fmt: skip
    P = lda.proba(np.array([[0.3, 3000.0], [0.3, -3000.0]]))
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(axis=1), 1.0)
    for bad in ({"length_slope": float("nan"), "length_column": 1}, {"length_slope": 0.5}):
        with pytest.raises(ValueError, match="length_slope"):
            LDAModel(np.array(["a", "b"]), np.zeros((2, 2)), np.eye(2), temperature=1.0, **bad)


def test_a_length_slope_needs_a_temperature(fitted):
    import fingerprint as fp

    with pytest.raises(ValueError, match="needs a temperature"):
        fp.ReferenceSet(list(fitted.references_), fitted.space_, length_slope=-0.3)


def test_decision_function_and_explanations_use_each_texts_temperature(fitted, heldout):
    """With a length slope, a text's scores and explanation weights are divided by its own temperature."""
    import fingerprint as fp

    refs = fitted.references_
    flat = fp.ReferenceSet(list(refs), refs.space, temperature=2.0)
    sloped = fp.ReferenceSet(list(refs), refs.space, temperature=2.0, length_slope=-0.5)
    texts = heldout[0][:6]
    t = sloped.lda().temperatures(refs.space.transform(texts))
    assert np.ptp(t) > 0.1  # the texts differ in length
    d_flat = fp.FingerprintClassifier.from_references(flat).decision_function(texts)
    d_sloped = fp.FingerprintClassifier.from_references(sloped).decision_function(texts)
    np.testing.assert_allclose(d_sloped, d_flat * 2.0 / t[:, None])
    for i, text in enumerate(texts):
        a = fp.attribute(text, references=flat, top_features=3)[0]
        b = fp.attribute(text, references=sloped, top_features=3)[0]
        assert [n for n, _ in a.top_features] == [n for n, _ in b.top_features]
        got, want = [c for _, c in b.top_features], [c * 2.0 / t[i] for _, c in a.top_features]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)  # contributions are stored rounded


def test_calibration_inputs_are_checked():
    from fingerprint.calibration import fit_length_temperature, length_temperatures

    S, y = np.zeros((3, 2)), np.array([0, 1, 0])
    with pytest.raises(ValueError, match="temperature"):
        softmax_t(S, np.array([1.0, 2.0]))  # one per row, and there are 3 rows
    with pytest.raises(ValueError, match="temperature"):
        softmax_t(S, 0.0)
    with pytest.raises(ValueError, match="scores must be a matrix"):
        fit_length_temperature(np.zeros(3), y, np.zeros(3))
    with pytest.raises(ValueError, match="y_idx"):
        fit_length_temperature(S, np.array([0, 2, 0]), np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        fit_length_temperature(np.full((3, 2), np.nan), y, np.zeros(3))
    with pytest.raises(ValueError, match="length_feature"):
        length_temperatures(2.0, -0.3, np.array([0.0, np.nan]))


def test_no_confidence_is_certain():
    """Probe finding: an isotonic map whose top block was all right mapped it to 1.0, and a saturated row
    kept 1.0 with every other model at 0 (log-probability -inf for the true model when it was wrong)."""
    from fingerprint.calibration import apply_confidence_map, fit_confidence_map

    rng = np.random.default_rng(0)
    n, k = 400, 4
    P = rng.dirichlet(np.ones(k) * 0.3, size=n)
    y = np.where(P.max(axis=1) > 0.9, P.argmax(axis=1), rng.integers(0, k, n))  # every confident row right
    knots = fit_confidence_map(P, y)
    top = P.max(axis=1) >= knots[0][np.searchsorted(knots[1], knots[1][-1])]  # the rows of the top block
    n_top, k_top = int(top.sum()), int((P.argmax(axis=1) == y)[top].sum())
    assert knots[1][-1] == pytest.approx((k_top + 1) / (n_top + 2)) and knots[1][-1] < 1
    saturated = np.array([[1.0, 0.0, 0.0, 0.0], [0.6, 0.4, 0.0, 0.0]])
    out = apply_confidence_map(saturated, knots)
    assert (out[0] > 0).all() and out[0, 0] < 1 and out[0].argmax() == 0
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    # a map fitted before the pseudo-texts (top knot 1.0) still gives a certain row 1.0: nothing made up
    old = np.array([[0.0, 1.0], [0.0, 1.0]])
    assert apply_confidence_map(saturated, old)[0].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_a_saturated_row_keeps_its_top_model_under_any_map():
    """Review finding: a weak map (top value 0.364 for 2 models) flipped a saturated row's winner."""
    from fingerprint.calibration import apply_confidence_map

    out = apply_confidence_map(np.array([[1.0, 0.0]]), np.array([[0.6, 0.99], [0.364, 0.364]]))
    assert out[0].argmax() == 0 and out[0].sum() == pytest.approx(1.0)


def test_near_certain_rows_keep_their_runner_up_and_sum_to_one():
    """Probe findings (2026-12-07): a top of exactly 1.0 beside a tiny runner-up got confidence 1.0 (the
    ranking floor reached 1); a rest below 1e-12 was shared equally, so the runner-up was named by column
    order; rows summed to 1 only within 3e-8 (the rest was scaled by 1 - c, which loses digits near 1)."""
    from fingerprint.calibration import apply_confidence_map
    from fingerprint.lda import LDAModel

    knots = np.array([[0.0, 0.5, 1.0], [0.1, 0.6, 0.99]])
    out = apply_confidence_map(np.array([[1.0, 1e-30, 0.0], [1 - 1e-13, 1e-13, 0.0], [1 - 3e-10, 1e-10, 2e-10]]),
                               knots)  # fmt: skip
    assert (out[:, 0] < 1).all() and out[0, 1] > out[0, 2] and out[1, 1] > out[1, 2] and out[2, 2] > out[2, 1]
    assert np.abs(out.sum(axis=1) - 1).max() < 1e-12
    # the library passes the tempered scores: the others' order survives their underflow to exactly 0
    lda = LDAModel(np.array(["a", "b", "c"]), np.array([[0.0, 0.0], [40.0, 0.0], [0.0, 60.0]]), np.eye(2),
                   temperature=1.0, confidence_map=knots)  # fmt: skip
    x = np.array([[-30.0, -5.0]])  # far nearer a (score 0; b -2000, c -2100): b nearer than c
    raw = lda.scores(x)[0]
    assert raw[1] > raw[2] and np.exp(raw[1] - raw[0]) == 0.0  # underflows
    p = lda.proba(x)[0]
    assert p[0] == pytest.approx(0.99) and p[1] > p[2] > 0 and p.sum() == pytest.approx(1.0, abs=1e-12)


def test_a_singular_covariance_without_shrinkage_says_what_to_do():
    """Probe finding: shrinkage=0 with fewer texts than dimensions raised scipy's bare LinAlgError."""
    from fingerprint.fingerprints import Fingerprint
    from fingerprint.lda import LDAModel

    rng = np.random.default_rng(0)
    fps = [Fingerprint.from_features(rng.normal(size=(5, 12)), m, "s") for m in ("a", "b")]  # 10 texts, 12 dims
    with pytest.raises(ValueError, match=r"singular.*shrinkage > 0"):
        LDAModel.from_fingerprints(fps, shrinkage=0.0)
    assert LDAModel.from_fingerprints(fps, shrinkage=0.3).dim == 12


def test_calibration_metrics_refuse_what_is_not_probabilities():
    """Review finding (12-07): n_bins=0 returned 0.0 (perfect), logits an ECE of 3.0, a NaN a number."""
    P, y = np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 1])
    for bins in (0, -3, 1.5):
        with pytest.raises((ValueError, TypeError), match="n_bins"):
            expected_calibration_error(P, y, n_bins=bins)
    for bad in (P * 3, P - 0.5, np.array([[np.nan, 0.1], [0.2, 0.8]])):
        for metric in (expected_calibration_error, brier_score):
            with pytest.raises(ValueError, match="probabilities"):
                metric(bad, y)
    assert expected_calibration_error(P, y, n_bins=1) == pytest.approx(abs(1.0 - 0.85))
