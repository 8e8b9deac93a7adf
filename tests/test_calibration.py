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
