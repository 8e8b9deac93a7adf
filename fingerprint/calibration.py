"""Confidence calibration: temperature scaling, a top-label confidence map, and their diagnostics.

Gaussian class posteriors are far too sure of themselves on text (features
are correlated in ways a shrunk covariance does not capture), so scores are
divided by a temperature fitted on held-out texts by minimising the
negative log-likelihood (Guo et al., 2017); it keeps the ranking unchanged.
Its dependence on the text's length comes last below.

A temperature cannot fix the *shape* of the reliability curve: with tens of models the
probability mass spreads over a long tail, and the top model is right more often than its
tempered probability says at low confidence (0.17 → 0.21, 0.37 → 0.48 on the dev answers of
the previous built-in set's 23 models, even at the best temperature: ECE 0.052).  So the top-label
confidence then goes through a monotone map, fitted by isotonic regression of "was the top model right"
on the tempered confidence of cross-fitted texts (top-label calibration, Gupta & Ramdas 2021);
the other models' probabilities are rescaled to sum to the rest, and the ranking is kept.

One temperature for every text is also wrong *across lengths*: a Gaussian model with one shared
covariance gives a 100-character answer and a 3,000-character one the same noise, so short texts
are over-confident and long ones under-confident.  On the 81-model built-in set's ``dev`` answers,
with one temperature and the map, texts under 100 characters had confidence 0.25 and accuracy 0.09,
texts over 2,500 characters 0.30 and 0.36, while the ECE over all texts was 0.008.  So the
temperature of a text is ``T * exp(length_slope * u)``, with ``u`` its length feature (the style
feature ``log_chars``: log(1 + log(1 + characters)), standardised on the space's fitting texts),
both fitted by the same held-out likelihood (:func:`fit_length_temperature`); the map then comes
after.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from fingerprint.validation import check_int

__all__ = [
    "LENGTH_SLOPE_LR", "MAX_LENGTH_FEATURE", "MAX_LENGTH_SLOPE", "apply_confidence_map", "brier_score",
    "expected_calibration_error", "fit_confidence_map", "fit_length_temperature", "fit_temperature",
    "length_temperatures", "softmax_t",
]  # fmt: skip


def softmax_t(scores: np.ndarray, temperature: float | np.ndarray | None) -> np.ndarray:
    """Row-wise softmax of ``scores / temperature``.

    ``temperature`` is one positive number, one per row (shape ``(n,)``,
    :func:`length_temperatures`), or ``None`` (1).
    """
    scores = np.asarray(scores)
    if temperature is None:
        return softmax(scores, axis=1)
    t = np.asarray(temperature, dtype=np.float64)
    if t.ndim > 1 or (t.ndim == 1 and t.shape != (len(scores),)) or not np.all(np.isfinite(t) & (t > 0)):
        raise ValueError(f"temperature must be a positive number or one per row of scores ({len(scores)}), "
                         f"got shape {t.shape}")  # fmt: skip
    return softmax(scores / (t[:, None] if t.ndim == 1 else t), axis=1)


#: Largest |length slope| :func:`fit_length_temperature` may return: per standard deviation of the
#: length feature, the temperature changes by at most a factor e.  The fitted slopes are -0.30 (a
#: user-fitted classifier on ``alpaca_eval_train``) and -0.38 (the built-in set).
MAX_LENGTH_SLOPE = 1.0

#: The length feature is clipped to this many standard deviations before it sets a temperature: a
#: space fitted on texts of nearly one length can put a long text thousands of deviations out, where
#: ``exp`` would overflow to a temperature of 0 or inf (1 to 1,000,000 characters span -8.4 to +3.7
#: in the default space).
MAX_LENGTH_FEATURE = 10.0

#: Likelihood-ratio statistic the length slope must exceed to be kept (the chi-square(1) quantile at
#: p = 0.01): with no length effect, a few calibration texts would otherwise often fit a slope at the
#: bound (3-10 random texts: |slope| = 1 in a third to three quarters of fits).
LENGTH_SLOPE_LR = 6.635


def _length_feature(length_feature: Any, n: int | None = None) -> np.ndarray:
    """``length_feature`` as finite numbers, one per text (``n`` of them when given), clipped to ±10."""
    u = np.asarray(length_feature, dtype=np.float64)
    if u.ndim != 1 or (n is not None and len(u) != n) or not np.all(np.isfinite(u)):
        want = "one finite number per text" if n is None else f"{n} finite numbers, one per row of scores"
        raise ValueError(f"length_feature must be {want}, got shape {u.shape}")
    return np.clip(u, -MAX_LENGTH_FEATURE, MAX_LENGTH_FEATURE)


def length_temperatures(
    temperature: float | None, length_slope: float, length_feature: np.ndarray
) -> np.ndarray:  # fmt: skip
    """Each text's temperature, ``temperature * exp(length_slope * u)`` (``None`` means 1).

    ``u`` is ``length_feature`` clipped to ±:data:`MAX_LENGTH_FEATURE`.

    Examples
    --------
    >>> import numpy as np
    >>> length_temperatures(2.0, -0.5, np.array([-1.0, 0.0, 1.0])).round(3).tolist()
    [3.297, 2.0, 1.213]
    """
    return (temperature or 1.0) * np.exp(length_slope * _length_feature(length_feature))


def fit_temperature(scores: np.ndarray, y_idx: np.ndarray) -> float:
    """Temperature minimising the held-out negative log-likelihood.

    Parameters
    ----------
    scores : ndarray of shape (n, k)
        Unnormalised log-posteriors of held-out texts.
    y_idx : ndarray of shape (n,)
        Column of the true class per row.

    Returns
    -------
    float
        The temperature, searched on a log scale in [1e-2, 1e4].
    """
    scores = np.asarray(scores, dtype=np.float64)
    y_idx = np.asarray(y_idx)
    rows = np.arange(len(y_idx))

    def nll(log_t: float) -> float:
        return float(-log_softmax(scores / np.exp(log_t), axis=1)[rows, y_idx].mean())

    res = minimize_scalar(nll, bounds=(np.log(1e-2), np.log(1e4)), method="bounded")
    return float(np.exp(res.x))


def fit_length_temperature(
    scores: np.ndarray, y_idx: np.ndarray, length_feature: np.ndarray
) -> tuple[float, float]:  # fmt: skip
    """Temperature and length slope minimising the held-out negative log-likelihood.

    Row ``i`` is divided by ``T * exp(length_slope * u_i)`` (:func:`length_temperatures`).  The
    slope is kept only where it improves the likelihood beyond chance (likelihood ratio above
    :data:`LENGTH_SLOPE_LR`, p = 0.01); otherwise it is 0 and ``T`` is :func:`fit_temperature`'s.

    Parameters
    ----------
    scores : ndarray of shape (n, k)
        Unnormalised log-posteriors of held-out texts.
    y_idx : ndarray of shape (n,)
        Column of the true class per row.
    length_feature : ndarray of shape (n,)
        Each text's length feature (its :attr:`~fingerprint.features.space.FeatureSpace.length_column`
        value, ``style:log_chars``).

    Returns
    -------
    (float, float)
        ``T`` in [1e-2, 1e4] and ``length_slope`` in [-1, 1] (:data:`MAX_LENGTH_SLOPE`).

    Examples
    --------
    Scores that grow with length less than the evidence does: longer texts get a lower temperature.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> u = rng.normal(size=4000)
    >>> y = rng.integers(0, 3, 4000)
    >>> S = rng.normal(size=(4000, 3)) + 3.0 * np.exp(0.5 * u)[:, None] * np.eye(3)[y]
    >>> T, slope = fit_length_temperature(S, y, u)
    >>> slope < 0
    True
    """
    from scipy.optimize import minimize

    scores, y_idx = _checked(scores, y_idx, name="scores")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite")
    u = _length_feature(length_feature, len(scores))  # clipped as length_temperatures clips it
    rows = np.arange(len(y_idx))

    def nll_grad(p: np.ndarray) -> tuple[float, np.ndarray]:
        z = scores / np.exp(p[0] + p[1] * u)[:, None]
        logp = log_softmax(z, axis=1)
        # d(row loss)/d(log t_i) = z_iy - sum_k p_ik z_ik
        g = z[rows, y_idx] - (np.exp(logp) * z).sum(axis=1)
        return float(-logp[rows, y_idx].mean()), np.array([g.mean(), (g * u).mean()])

    start = np.array([np.log(fit_temperature(scores, y_idx)), 0.0])
    bounds = [(np.log(1e-2), np.log(1e4)), (-MAX_LENGTH_SLOPE, MAX_LENGTH_SLOPE)]
    res = minimize(nll_grad, start, jac=True, method="L-BFGS-B", bounds=bounds)
    # twice the summed log-likelihood gain of the one extra parameter
    if 2 * len(y_idx) * (nll_grad(start)[0] - res.fun) <= LENGTH_SLOPE_LR:
        return float(np.exp(start[0])), 0.0
    return float(np.exp(res.x[0])), float(res.x[1])


def fit_confidence_map(proba: np.ndarray, y_idx: np.ndarray) -> np.ndarray:
    """Isotonic map from a top-label confidence to the accuracy it had on held-out texts.

    Parameters
    ----------
    proba : ndarray of shape (n, k)
        Tempered probabilities of held-out (cross-fitted) texts.
    y_idx : ndarray of shape (n,)
        Column of the true class per row.

    Returns
    -------
    ndarray of shape (2, m)
        Knots: confidences (increasing) and the calibrated confidence at each; linear in between.

    Notes
    -----
    The most confident texts form the map's top block; if all of them were right, a plain
    isotonic fit maps them to 1.0, a certainty no finite sample shows (and a probability of 0 for
    every other model, so a log-loss of infinity when one is wrong).  One right and one wrong
    pseudo-text at the highest confidence give that block Laplace's rule of succession,
    ``(k + 1) / (n + 2)`` for ``k`` right of ``n``; the isotonic fit pools it with the blocks below
    if that breaks the order, and leaves every other block as it was.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.6, 0.4], [0.6, 0.4], [0.9, 0.1], [0.9, 0.1]])
    >>> fit_confidence_map(P, np.array([0, 1, 0, 0])).round(2).tolist()  # 2 of 2 right at 0.9: 3/4
    [[0.6, 0.9], [0.5, 0.75]]
    """
    from sklearn.isotonic import IsotonicRegression

    proba = np.asarray(proba, dtype=np.float64)
    c = proba.max(axis=1)
    right = (proba.argmax(axis=1) == np.asarray(y_idx)).astype(float)
    top = c.max(initial=0.0)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(np.append(c, [top, top]), np.append(right, [1.0, 0.0]))
    return np.stack([iso.X_thresholds_, iso.y_thresholds_])


def apply_confidence_map(
    proba: np.ndarray, knots: np.ndarray | None, *, logits: np.ndarray | None = None
) -> np.ndarray:
    """Give each row's top probability its mapped confidence, sharing the rest among the others.

    The others keep their proportions to one another; the mapped confidence is floored where the
    runner-up's share would overtake it, so the ranking never changes.  ``logits`` (the tempered
    scores ``proba`` is the softmax of) give those proportions exactly where the others' probabilities
    underflow next to a near-certain top: without them such a row's rest is shared equally.
    ``knots=None`` returns ``proba`` unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> knots = np.array([[0.0, 1.0], [0.2, 1.0]])  # confidence c -> 0.2 + 0.8 c
    >>> apply_confidence_map(np.array([[0.5, 0.3, 0.2]]), knots).round(3).tolist()
    [[0.6, 0.24, 0.16]]
    >>> top_knot = np.array([[0.0, 1.0], [0.2, 0.99]])  # a near-certain top keeps 1 % for the others ...
    >>> apply_confidence_map(np.array([[1.0, 0.0, 0.0]]), top_knot, logits=np.array([[900.0, 3.0, 1.0]])).round(4)
    array([[0.99  , 0.0088, 0.0012]])

    (... in their logits' proportions, though their probabilities underflowed to 0.)
    """
    if knots is None:
        return proba
    P = np.asarray(proba, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        return P
    rows = np.arange(len(P))
    top = P.argmax(axis=1)
    if logits is not None:  # the others' proportions from their logits: exact where their probabilities underflow
        W = np.asarray(logits, dtype=np.float64).copy()
        W[rows, top] = -np.inf
        W = np.exp(W - W.max(axis=1, keepdims=True))
    else:
        W = P.copy()
    W[rows, top] = 0.0
    rest = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # each other model's share of the rest; a row whose rest is exactly 0 shares it equally
        share = np.where(rest[:, None] > 0, W / rest[:, None], 1.0 / (P.shape[1] - 1))
    share[rows, top] = 0.0
    runner_up = share.max(axis=1)
    # h >= (1 - h) * runner_up keeps the top on top (strictly, so ties cannot flip argmax); at most 1/2 + 1e-9
    h = np.maximum(np.interp(P[rows, top], knots[0], knots[1]), runner_up / (1 + runner_up) + 1e-9)
    out = share * (1 - h)[:, None]  # sums to 1 with h by construction (not 1 - c, which loses digits near 1)
    out[rows, top] = h
    return out


def expected_calibration_error(proba: np.ndarray, y_idx: np.ndarray, n_bins: int = 15) -> float:
    """Top-label ECE with equal-width confidence bins.

    Parameters
    ----------
    proba : ndarray of shape (n, k)
    y_idx : ndarray of shape (n,)
        Column of the true class.
    n_bins : int, default=15

    Returns
    -------
    float
        Weighted mean |accuracy - confidence| over bins.

    Examples
    --------
    >>> import numpy as np
    >>> expected_calibration_error(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 1]))
    0.15
    """
    proba, y_idx = _checked_probabilities(proba, y_idx)
    n_bins = check_int(n_bins, "n_bins", low=1, owner="expected_calibration_error()")  # 0 bins read as 0.0 (perfect)
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_idx
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return round(float(ece), 12)


def brier_score(proba: np.ndarray, y_idx: np.ndarray) -> float:
    """Multi-class Brier score: mean squared error of the probability vectors.

    Parameters
    ----------
    proba : ndarray of shape (n, k)
    y_idx : ndarray of shape (n,)
        Column of the true class.

    Returns
    -------
    float
        0 for certain, correct predictions; 2 for certain, wrong ones.

    Examples
    --------
    >>> import numpy as np
    >>> round(brier_score(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 1])), 6)
    0.05
    """
    proba, y_idx = _checked_probabilities(proba, y_idx)
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(y_idx)), y_idx] = 1.0
    return float(((proba - onehot) ** 2).sum(axis=1).mean())


def _checked_probabilities(proba: Any, y_idx: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_checked`, and the values probabilities: finite and in [0, 1] (scores or logits passed by
    mistake gave an ECE of 3.0, a NaN one a number and a RuntimeWarning)."""
    proba, y_idx = _checked(proba, y_idx)
    if not np.all(np.isfinite(proba)) or proba.min() < 0 or proba.max() > 1:
        raise ValueError("proba must hold probabilities (finite, in [0, 1]), e.g. clf.predict_proba(texts); got "
                         f"values from {np.nanmin(proba):g} to {np.nanmax(proba):g}"
                         + (" and non-finite ones" if not np.all(np.isfinite(proba)) else ""))  # fmt: skip
    return proba, y_idx


def _checked(proba: Any, y_idx: Any, name: str = "proba") -> tuple[np.ndarray, np.ndarray]:
    """``proba`` (called ``name``) as an (n, k) float array and ``y_idx`` as n column indices, or a clear error."""
    proba, y = np.asarray(proba, dtype=np.float64), np.asarray(y_idx)
    if proba.ndim != 2:
        hint = "; e.g. clf.predict_proba(texts), not a column of confidences" if name == "proba" else ""
        raise ValueError(
            f"{name} must be a matrix of shape (n_texts, n_models), one value per model, got shape {proba.shape}{hint}"
        )
    if y.ndim != 1 or len(y) != len(proba):
        raise ValueError(f"y_idx must hold one class index per row of {name} ({len(proba)}), got shape {y.shape}")
    if len(y) == 0:
        raise ValueError("no texts to score")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= proba.shape[1]:
        raise ValueError(
            f"y_idx must be column indices of {name} (integers in [0, {proba.shape[1]})); map model names with "
            "list(clf.classes_).index(model)"
        )
    return proba, y
