"""The Gaussian model of a reference set: shrinkage LDA from fingerprints alone.

Class means and the pooled within-model covariance (shrunk toward a scaled
identity) give linear log-posteriors; a calibration temperature divides
them.  Only sufficient statistics are used, so a model assembled from shared
fingerprint files is the *same* model as one trained on the raw texts.

This is the layer between :mod:`fingerprint.fingerprints` (the value type)
and :mod:`fingerprint.refset` (the container that caches one of these).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular

from fingerprint.calibration import apply_confidence_map, length_temperatures, softmax_t
from fingerprint.fingerprints import Fingerprint

__all__ = ["LDAModel"]


class LDAModel:
    """Shrinkage linear discriminant analysis from per-model sufficient statistics.

    Parameters
    ----------
    classes : ndarray of str, shape (K,)
        Model names, in the row order of ``means``.
    means : ndarray of shape (K, d)
    cov : ndarray of shape (d, d)
        The (shrunk) pooled within-model covariance.
    temperature : float or None
        Divides the scores before the softmax; ``None`` means 1.
    confidence_map : ndarray of shape (2, m) or None
        Top-label confidence map applied after the softmax
        (:func:`~fingerprint.calibration.apply_confidence_map`); ``None``: none.
    length_slope : float, default=0.0
        With ``length_column``, a text's temperature is ``temperature * exp(length_slope * x[length_column])``
        (:func:`~fingerprint.calibration.length_temperatures`).
    length_column : int or None
        Column of the features holding the length feature (``style:log_chars``).

    Examples
    --------
    >>> import numpy as np
    >>> from fingerprint.fingerprints import Fingerprint
    >>> rng = np.random.default_rng(0)
    >>> fps = [Fingerprint.from_features(rng.normal(m, 1, (20, 3)), f"m{m}", "s") for m in (0, 3)]
    >>> lda = LDAModel.from_fingerprints(fps, shrinkage=0.1)
    >>> int(lda.proba(np.array([[3.0, 3.0, 3.0]])).argmax())
    1
    """

    #: Defaults for a model pickled before the length slope existed (one temperature).
    length_slope: float = 0.0
    length_column: int | None = None

    def __init__(
        self, classes: np.ndarray, means: np.ndarray, cov: np.ndarray, temperature: float | None = None,
        confidence_map: np.ndarray | None = None, length_slope: float = 0.0, length_column: int | None = None,
    ):  # fmt: skip
        self.classes = np.array(classes, dtype=object)  # copies: they are frozen below
        self.means = np.array(means, dtype=np.float64)
        self._set_calibration(temperature, confidence_map, length_slope, length_column)
        try:
            self.chol = cho_factor(cov, lower=True)
        except np.linalg.LinAlgError as e:  # scipy's "N-th leading minor ..." said neither why nor what to do
            raise ValueError(
                "the pooled within-model covariance is singular (a feature constant over every text, or fewer "
                "texts than dimensions): use shrinkage > 0 (the default is 0.3)"
            ) from e
        self.W = cho_solve(self.chol, self.means.T)  # (d, K): precision @ means
        self.b = -0.5 * np.einsum("kd,dk->k", self.means, self.W)
        if not (np.all(np.isfinite(self.W)) and np.all(np.isfinite(self.b))):  # else every probability is NaN
            raise ValueError(
                "the discriminant is not finite: the models' statistics are too large or too many texts are claimed "
                "(fingerprints built by this library never are; check hand-made or edited fingerprints)"
            )
        # read-only: copies with another calibration share them, and so do every copy of the built-in set
        # (a user's lda().W[:] = 0 changed what fp.attribute() returned in the whole process)
        for a in (self.classes, self.means, self.W, self.b, self.chol[0]):
            a.setflags(write=False)

    def __repr__(self) -> str:
        cal = "uncalibrated" if self.temperature is None else f"temperature={self.temperature:.3g}"
        if self.length_slope:
            cal += f", length_slope={self.length_slope:.3g}"
        return f"LDAModel({len(self.classes)} models, {self.means.shape[1]} features, {cal})"

    def _set_calibration(
        self, temperature: float | None, confidence_map: np.ndarray | None, length_slope: float,
        length_column: int | None,
    ) -> None:  # fmt: skip
        if not np.isfinite(length_slope) or (length_slope and length_column is None):
            raise ValueError(f"length_slope must be finite and come with a length_column, got {length_slope}")
        self.temperature = temperature
        self.confidence_map = confidence_map
        self.length_slope = length_slope
        self.length_column = length_column

    def with_calibration(
        self, temperature: float | None, confidence_map: np.ndarray | None = None, length_slope: float = 0.0,
        length_column: int | None = None,
    ) -> LDAModel:  # fmt: skip
        """A copy with another calibration, sharing the fitted means and covariance (no refit).

        Parameters are those of the constructor; ``length_slope`` is checked the same way.

        Examples
        --------
        >>> import numpy as np
        >>> lda = LDAModel(np.array(["a", "b"]), means=np.array([[0.0], [2.0]]), cov=np.eye(1))
        >>> hot = lda.with_calibration(temperature=5.0)
        >>> lda.proba(np.zeros((1, 1))).round(2), hot.proba(np.zeros((1, 1))).round(2), lda.temperature
        (array([[0.88, 0.12]]), array([[0.6, 0.4]]), None)
        """
        model = copy.copy(self)
        model._set_calibration(temperature, confidence_map, length_slope, length_column)
        return model

    @classmethod
    def from_fingerprints(
        cls,
        fingerprints: Sequence[Fingerprint],
        shrinkage: float,
        temperature: float | None = None,
        scatter_sum: np.ndarray | None = None,
    ) -> LDAModel:
        """Shrinkage LDA from fingerprints (pooled scatter, class means).

        The pooled covariance is shrunk toward ``trace/d * I``; ``shrinkage=0`` is plain LDA.
        ``scatter_sum`` replaces the sum of the fingerprints' scatters when known more exactly
        (:meth:`ReferenceSet.within_scatter` of a set saved at reduced precision).
        """
        fps = list(fingerprints)
        if len(fps) < 2:
            raise ValueError(f"need at least 2 models in the reference set, it has {len(fps)}")
        total = sum((f.scatter for f in fps[1:]), fps[0].scatter) if scatter_sum is None else scatter_sum
        return cls.from_statistics(
            [f.model for f in fps], np.stack([f.mean for f in fps]), sum(f.n_texts for f in fps), total, shrinkage,
            temperature,
        )  # fmt: skip

    @classmethod
    def from_statistics(
        cls, classes: Sequence[str], means: np.ndarray, n_texts: int, scatter_sum: np.ndarray, shrinkage: float,
        temperature: float | None = None,
    ) -> LDAModel:  # fmt: skip
        """Shrinkage LDA from class means, the total number of texts and the pooled within-model scatter.

        What :meth:`from_fingerprints` computes from fingerprints; cross-fitted calibration uses it
        with the statistics of the training folds, which need no per-model scatter.
        """
        k = len(classes)
        dof = n_texts - k if n_texts - k > 0 else n_texts
        sw = scatter_sum / dof
        d = sw.shape[0]
        target = float(np.trace(sw)) / d or 1.0
        cov = (1.0 - shrinkage) * sw + shrinkage * target * np.eye(d)
        return cls(np.array(list(classes), dtype=object), means, cov, temperature)

    @property
    def dim(self) -> int:
        """Dimension of the feature space."""
        return self.means.shape[1]

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Log-posteriors up to a per-row constant, uniform priors, *before* temperature."""
        return X @ self.W + self.b

    def temperatures(self, X: np.ndarray) -> np.ndarray:
        """Each row's calibration temperature (the same for all rows without a length slope)."""
        X = np.atleast_2d(X)
        if not self.length_slope or self.length_column is None:
            return np.full(len(X), self.temperature or 1.0)
        return length_temperatures(self.temperature, self.length_slope, X[:, self.length_column])

    def proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probabilities over ``classes``: tempered softmax, then the top-label confidence map."""
        tempered = self.scores(X) / self.temperatures(X)[:, None]
        return apply_confidence_map(softmax_t(tempered, None), self.confidence_map, logits=tempered)

    def distances(self, X: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of each row to each class mean, divided by d."""
        xpx = np.einsum("nd,dn->n", X, cho_solve(self.chol, X.T))
        mpm = np.einsum("kd,dk->k", self.means, self.W)
        return (xpx[:, None] - 2 * X @ self.W + mpm[None, :]) / X.shape[1]

    def solve(self, v: np.ndarray) -> np.ndarray:
        """``Σ⁻¹ v``: the linear weights that score direction ``v`` in this model's metric."""
        return cho_solve(self.chol, v)

    def whiten(self, X: np.ndarray) -> np.ndarray:
        """``L⁻¹ x`` per row, with ``Σ = L Lᵀ``: Euclidean distances there are Mahalanobis distances."""
        return solve_triangular(self.chol[0], np.atleast_2d(X).T, lower=True).T

    def whiten_both(self, S: np.ndarray) -> np.ndarray:
        """``L⁻¹ S L⁻ᵀ`` for a symmetric matrix ``S`` (a scatter in whitened coordinates)."""
        A = solve_triangular(self.chol[0], S, lower=True)
        return solve_triangular(self.chol[0], A.T, lower=True).T

    def contributions(self, a: int, b: int, temperature: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Weights and midpoint of the (tempered) score margin of class ``a`` over ``b``.

        Returns ``w`` and ``mid`` such that ``sum((x - mid) * w)`` is the margin for input ``x``.
        ``temperature`` is the text's (:meth:`temperatures`); default: the model's ``temperature``,
        which is every text's only without a length slope (with one, omitting it raises, rather than
        silently giving the margin of a text whose length feature is 0).
        """
        if temperature is None and self.length_slope and self.length_column is not None:
            raise ValueError("this model's temperature depends on a text's length: pass the text's own, "
                             "temperature=lda.temperatures(x)[0]")  # fmt: skip
        t = temperature if temperature is not None else (self.temperature or 1.0)
        w = (self.W[:, a] - self.W[:, b]) / t  # Σ⁻¹(μ_a − μ_b), from the stored Σ⁻¹μ: no solve per pair
        mid = 0.5 * (self.means[a] + self.means[b])
        return w, mid
