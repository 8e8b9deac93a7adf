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
