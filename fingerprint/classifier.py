"""A scikit-learn classifier built on fingerprints.

It composes the layers below it: :func:`~fingerprint.building.references_from_texts` (the space,
then the fingerprints and their calibration) to fit, the reference set's
:class:`~fingerprint.lda.LDAModel` to predict, and :func:`~fingerprint.attribution.attribute`
for explained attributions.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from fingerprint.attribution import Attributions, attribute
from fingerprint.building import CALIBRATIONS, check_training_data, references_from_texts, resolve_groups
from fingerprint.features.space import FeatureSpace
from fingerprint.io import FingerprintFileError, read_bundle
from fingerprint.refset import ReferenceSet
from fingerprint.validation import (
    caller_stacklevel,
    check_aligned,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_n_jobs,
    check_texts,
    encode_labels,
    first_few,
    plain_value,
    user_path,
)

#: Where :meth:`FingerprintClassifier.save` keeps its parameters and labels: the saved set's metadata.
_SAVED_KEY = "fingerprint_classifier"

__all__ = ["FingerprintClassifier"]

_NOT_FITTED = "This FingerprintClassifier is not fitted: call fit(texts, models)."


def _json_exact(value: Any) -> bool:
    """True when JSON gives ``value`` back unchanged (str, int, float, bool, None and lists/dicts of them)."""
    try:
        return bool(json.loads(json.dumps(value)) == value)
    except (TypeError, ValueError):
        return False


def _space_param(space: FeatureSpace | str) -> dict[str, Any]:
    """How :meth:`FingerprintClassifier.save` records the ``space`` parameter, so a loaded classifier
    refits as the saved one would: "fit"/"default" as such, a template by its parameters, a fitted
    space (or a template JSON cannot hold, e.g. one with an embedding model) as the set's space."""
    if isinstance(space, str):
        return {"kind": space}
    if not space.is_fitted():
        params = space.get_params(deep=False)
        if _json_exact(params):
            return {"kind": "template", "params": params}
    return {"kind": "fitted"}


class FingerprintClassifier(ClassifierMixin, BaseEstimator):
    """Attribute texts to models: a scikit-learn classifier built on fingerprints.

    ``fit`` learns a :class:`FeatureSpace` (unless a fitted one is given), builds
    one :class:`Fingerprint` per model and calibrates confidences by
    cross-fitting; prediction is shrinkage LDA on the fingerprints.  The fitted
    ``references_`` can be saved and shared: assembling it again from the
    fingerprint files gives the same predictions.

    Parameters
    ----------
    space : FeatureSpace, "fit" or "default", default="fit"
        ``"fit"`` fits a new space on the training texts with ``n_char``,
        ``n_word``, ``n_components`` and ``n_score_features``; ``"default"``
        uses the shipped space (fitted, its score block's SVMs included, on the ``train``-prompt
        answers of the built-in set's 44 original models: evaluating it on those AlpacaEval answers is leaky,
        score it on other prompts); an *unfitted* ``FeatureSpace`` is a template
        (cloned and fitted, so every space parameter is reachable, e.g.
        ``space__score_C`` in a grid search); a *fitted* one is a frozen
        component, used as is and kept as is by :func:`sklearn.base.clone` of the classifier (its
        ``space__*`` parameters cannot be set).  A fitted space given as a grid-search *value*
        (``{"space": [space_a, space_b]}``) is cloned by scikit-learn like any value, unfitted, and so
        fitted as a template: to compare fitted spaces, cross-validate one classifier per space.
    n_char, n_word, n_components, n_score_features : int
        Space size with ``space="fit"`` (see :class:`FeatureSpace`); the
        fitted space has a per-model ``score`` block learned from the
        training labels (``n_score_features=0`` leaves it out).
    shrinkage : float, default=0.3
        Covariance shrinkage toward the identity (0 = plain LDA).
    calibrate : bool, default=True
        Fit the confidence temperature by ``n_folds``-fold cross-fitting.  When the
        space is fitted here, the training texts are scored with their n-gram
        spread shrunk to what a new text's will be (:attr:`FeatureSpace.heldout_spread_
        <fingerprint.FeatureSpace>`): in sample they spread more, and the
        confidences came out too low.
    n_folds : int, default=4
        Folds of the calibration's cross-fitting, and with ``space="fit"`` of the space's score block.
    n_jobs : int, optional
        Worker processes for fitting the space's score block with ``space="fit"`` (``-1``: all cores);
        results do not depend on it.  A template or fitted ``FeatureSpace`` uses its own ``n_jobs``,
        ``n_folds`` and ``random_state``.
    random_state : int, default=0
        Seeds the calibration folds, and with ``space="fit"`` the space's.
    calibration : {"crossfit", "holdout"}, default="crossfit"
        With a space fitted here, ``"holdout"`` calibrates on about a fifth of the prompts scored by
        the same fit without them: better calibrated, at the cost of a second fit (see
        :func:`~fingerprint.building.build_references`).

    Attributes
    ----------
    classes_ : ndarray
        The labels seen in ``fit``, sorted (any hashable labels: model names, integers ...).
    model_names_ : ndarray of str
        The fingerprint name of each class (``str(label)``).
    references_ : ReferenceSet
        The fitted fingerprints.
    space_ : FeatureSpace

    Notes
    -----
    ``groups`` (the prompt id of each text) keeps every cross-fitting fold from
    splitting one prompt's answers; if folds split them, the answers to one prompt leak
    across folds and accuracy drops (top-1 0.355 instead of 0.406 on ``alpaca_eval_train``'s
    dev answers, ``benchmarks/results/default-groups.md``, 2026-12-07).  Without ``groups``, a table's
    ``prompt_id`` column is used, else the prompts are inferred from the answers' shared
    content (:func:`~fingerprint.corpus.infer_prompt_groups`: top-1 0.401;
    ``references_.metadata["calibration"]["groups"]`` says which).  ``cross_val_score(clf, X, y, groups=g,
    params={"groups": g})`` passes it to the splitter and to ``fit``; with
    ``sklearn.set_config(enable_metadata_routing=True)`` call
    ``clf.set_fit_request(groups=True)`` instead.

    Examples
    --------
    Fit on three models' answers from the shipped sample, in the shipped feature space
    (``space="fit"``, the default, learns a space from the training texts):

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> from fingerprint import FingerprintClassifier
    >>> sample = references.load_sample()
    >>> few = sample.filter(lambda r: r["model"] in ("claude-2", "gpt-4-0314", "llama-2-70b-chat"))
    >>> few = fp.sample_per_model(few, 8)  # 8 answers per model keep the example fast
    >>> clf = FingerprintClassifier(space="default").fit(few["text"], few["model"], groups=few["prompt_id"])
    >>> clf.classes_.tolist()
    ['claude-2', 'gpt-4-0314', 'llama-2-70b-chat']
    >>> clf.predict_proba(["Certainly! Here is a concise overview."]).shape
    (1, 3)
    >>> clf.predict(few["text"][:2]).shape
    (2,)

    A fitted space survives :func:`~sklearn.base.clone`, so model selection reuses it:

    >>> from sklearn.base import clone
    >>> space = fp.FeatureSpace.default()
    >>> clone(FingerprintClassifier(space=space)).space is space
    True
    """

    def __init__(
        self,
        space: FeatureSpace | str = "fit",
        n_char: int = 4000,
        n_word: int = 2000,
        n_components: int = 512,
        n_score_features: int = 100_000,
        shrinkage: float = 0.3,
        calibrate: bool = True,
        n_folds: int = 4,
        n_jobs: int | None = None,
        random_state: int = 0,
        calibration: str = "crossfit",
    ) -> None:
        self.space = space
        self.n_char = n_char
        self.n_word = n_word
        self.n_components = n_components
        self.n_score_features = n_score_features
        self.shrinkage = shrinkage
        self.calibrate = calibrate
        self.n_folds = n_folds
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.calibration = calibration

    _SPACE_SHORTHAND = ("n_char", "n_word", "n_components", "n_score_features")

    def _check_params(self) -> None:
        own = "FingerprintClassifier"
        named = isinstance(self.space, str) and self.space in ("fit", "default")
        if not (named or isinstance(self.space, FeatureSpace)):
            raise ValueError(f"{own}: space must be 'fit', 'default' or a FeatureSpace, got {self.space!r}")
        # the space's own parameters (n_char ... n_jobs) are checked by FeatureSpace.fit before it does any work;
        # these two are used only after the space is fitted, so they are checked now
        check_float(self.shrinkage, "shrinkage", low=0, high=1, owner=own)
        check_int(self.n_folds, "n_folds", low=2, owner=own)
        # an int salts the calibration folds' hash: a RandomState object printed the same for every seed
        check_int(self.random_state, "random_state", low=0, owner=own)
        check_n_jobs(self.n_jobs, owner=own)  # checked whatever the space: "lots" was accepted with space="default"
        check_choice(self.calibration, "calibration", CALIBRATIONS, owner=own)
        check_bool(self.calibrate, "calibrate", owner=own)
        if not (isinstance(self.space, str) and self.space == "fit"):
            defaults = type(self)().get_params()
            changed = [k for k in self._SPACE_SHORTHAND if getattr(self, k) != defaults[k]]
            if changed:
                raise ValueError(
                    f"{own}: {', '.join(changed)} apply only with space='fit'; with a FeatureSpace set them on it "
                    "(e.g. space=FeatureSpace(n_char=...))"
                )

    def fit(self, X: Any, y: Any, groups: Any = None) -> FingerprintClassifier:
        """Fit on texts and their models.

        Parameters
        ----------
        X : sequence of str
            Texts.
        y : sequence of hashable
            Model of each text (names, integers ...).
        groups : sequence or str, optional
            Prompt id (or other group) per text, so cross-fitting folds never
            split one prompt's answers, or the name of a column of the table ``X``;
            default: a ``prompt_id`` column of ``X``, else
            inferred from the texts (see Notes).

        Returns
        -------
        self
        """
        self._check_params()
        texts = check_texts(X)
        check_aligned(X, y, "y")
        labels, classes, names = encode_labels(y, len(texts))
        lookup = dict(zip(classes.tolist(), names.tolist(), strict=True))
        texts, models = check_training_data(texts, [lookup[lab] for lab in labels.tolist()])
        groups, how = resolve_groups(groups, X, texts, models, space=self.space, calibrate=self.calibrate,
                                     n_folds=self.n_folds, random_state=self.random_state)  # fmt: skip
        self.references_ = references_from_texts(
            texts, models, groups, space=self.space, calibrate=self.calibrate, n_folds=self.n_folds,
            shrinkage=self.shrinkage, metadata=None, random_state=self.random_state, groups_source=how,
            n_jobs=self.n_jobs, calibration=self.calibration, n_char=self.n_char, n_word=self.n_word,
            n_components=self.n_components, n_score_features=self.n_score_features,
        )  # fmt: skip
        self._set_fitted(classes, names)
        return self

    def _set_fitted(self, classes: np.ndarray, names: np.ndarray) -> None:
        self.space_ = self.references_.space
        self.classes_ = classes
        self.model_names_ = names
        # column of each class in the reference set's (name-sorted) LDA
        self._columns = np.searchsorted(np.array(self.references_.models, dtype=object), names)
        self.n_features_in_ = 1

    @classmethod
    def from_references(cls, references: ReferenceSet) -> FingerprintClassifier:
        """Wrap an existing reference set (e.g. assembled from shared files) as a fitted classifier.

        Parameters
        ----------
        references : ReferenceSet

        Returns
        -------
        FingerprintClassifier

        Examples
        --------
        >>> from fingerprint import FingerprintClassifier, references
        >>> clf = FingerprintClassifier.from_references(references.builtin())
        >>> len(clf.classes_) == len(references.list_models())
        True
        """
        if not isinstance(references, ReferenceSet):
            raise TypeError(f"expected a ReferenceSet, got {type(references).__name__}")
        clf = cls(space=references.space, shrinkage=references.shrinkage)
        clf.references_ = references
        names = np.array(references.models, dtype=object)
        clf._set_fitted(names.copy(), names)
        return clf

    def set_params(self, **params: Any) -> FingerprintClassifier:
        """Set parameters (scikit-learn's), refusing ``space__*`` ones for a fitted space.

        A fitted space is a frozen component, shared and used as is: setting its parameters would
        change the object passed in (and every clone sharing it) without changing its features.

        Returns
        -------
        self
        """
        space = params.get("space", self.space)
        nested = sorted(k for k in params if k.startswith("space__"))
        if nested and isinstance(space, FeatureSpace) and space.is_fitted():
            raise ValueError(
                f"cannot set {nested[0]}: the space is a fitted FeatureSpace, used as is (its parameters would "
                "change the object you passed, not the features); search over an unfitted FeatureSpace, a "
                "template fitted with the classifier, e.g. space=FeatureSpace(n_components=64)"
            )  # fmt: skip
        return super().set_params(**params)  # type: ignore[no-any-return]

    def __sklearn_clone__(self) -> FingerprintClassifier:
        # scikit-learn's clone, except that a fitted space is a frozen component: it is shared, not
        # refitted (clone would return an unfitted copy, and fit would then learn a new space)
        params = self.get_params(deep=False)
        space = params.pop("space")
        new = type(self)(
            space=space if isinstance(space, FeatureSpace) and space.is_fitted() else clone(space, safe=False),
            **{k: clone(v, safe=False) for k, v in params.items()},
        )
        if hasattr(self, "_metadata_request"):
            new._metadata_request = copy.deepcopy(self._metadata_request)
        return new

    def _lda_features(self, X: Any) -> tuple[Any, np.ndarray]:
        check_is_fitted(self, "references_", msg=_NOT_FITTED)
        return self.references_.lda(), self.space_.transform(check_texts(X))

    def decision_function(self, X: Any) -> np.ndarray:
        """Calibrated log-odds.

        Parameters
        ----------
        X : str or sequence of str
            Texts to score, as for :meth:`predict_proba`.

        Returns
        -------
        ndarray of shape (n_texts, n_classes), or (n_texts,) for two classes
            Per-class scores up to a per-row constant; with two classes, the log-odds of
            ``classes_[1]`` over ``classes_[0]`` (as scikit-learn's linear classifiers).
        """
        lda, F = self._lda_features(X)
        scores = (lda.scores(F) / lda.temperatures(F)[:, None])[:, self._columns]
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities over ``classes_``.

        Parameters
        ----------
        X : str or sequence of str
            Texts (a table with a ``text`` column, a ``Series`` or a ``Dataset`` column too).

        Returns
        -------
        ndarray of shape (n_texts, n_classes)
        """
        lda, F = self._lda_features(X)
        return lda.proba(F)[:, self._columns]

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba` (``-inf`` where a probability is 0).

        Parameters
        ----------
        X : str or sequence of str
            Texts, as for :meth:`predict_proba`.

        Returns
        -------
        ndarray of shape (n_texts, n_classes)
            Log-probabilities over ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Most likely model per text.

        Parameters
        ----------
        X : str or sequence of str
            Texts to label, as for :meth:`predict_proba`.

        Returns
        -------
        ndarray of shape (n_texts,)
            Elements of ``classes_``.
        """
        proba = self.predict_proba(X)  # first: it raises NotFittedError on an unfitted classifier
        return self.classes_[np.argmax(proba, axis=1)]

    def attribute(self, X: Any, **kwargs: Any) -> Attributions:
        """:func:`~fingerprint.attribution.attribute` against these fingerprints (models named ``str(label)``).

        Parameters
        ----------
        X : str, sequence of str, or an iterator of batches
            As ``texts`` of :func:`~fingerprint.attribution.attribute`.
        **kwargs
            Its keywords (``top_features``, ``alpha``, ``verbose``).

        Returns
        -------
        Attributions
        """
        return attribute(X, self, **kwargs)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Save the fitted classifier (its reference set, parameters and labels), without pickle.

        All or nothing, as :meth:`ReferenceSet.save`: the parameters and labels travel in the set's
        index (its metadata, under ``"fingerprint_classifier"``), so a crash or a concurrent save
        never pairs one fit's set with another's parameters.

        Parameters
        ----------
        directory : path-like
            Created if missing; a set saved there before is replaced.

        Returns
        -------
        Path
            ``directory``.
        """
        check_is_fitted(self, "references_", msg=_NOT_FITTED)
        directory = user_path(directory)
        # numpy scalars (a grid search over np.arange) as plain numbers: the index is JSON
        params = {k: plain_value(v) for k, v in self.get_params(deep=False).items() if k != "space"}
        if params.get("calibration") == "crossfit":  # the default: left out, so earlier versions still load the file
            del params["calibration"]
        classes = self.classes_.tolist()
        if not _json_exact(classes) and self.classes_.dtype.kind not in "biuf":
            # tuples, enums, dates ...: the file keeps each as the string the fingerprints are named by
            warnings.warn(
                f"the labels {first_few(classes)} are not JSON values: the saved classifier's classes_ and "
                "predictions will be their strings (str(label)); relabel with strings to keep them as they are",
                UserWarning, stacklevel=caller_stacklevel(),
            )  # fmt: skip
        meta = {"params": params, "classes": classes if _json_exact(classes) else None,
                "classes_dtype": self.classes_.dtype.str if self.classes_.dtype.kind in "biuf" else None,
                "space": _space_param(self.space)}  # fmt: skip
        tagged = self.references_.copy()  # the fitted set itself keeps its metadata as it was
        tagged.metadata[_SAVED_KEY] = meta
        tagged.save(directory)
        (directory / "classifier.npz").unlink(missing_ok=True)  # a save by an earlier version: now stale
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> FingerprintClassifier:
        """Load a classifier saved with :meth:`save` (also by earlier versions, which wrote ``classifier.npz``).

        Parameters
        ----------
        directory : path-like

        Returns
        -------
        FingerprintClassifier
            Fitted, with the saved parameters and labels.

        Raises
        ------
        FingerprintFileError
            A damaged directory, or a reference set that is not a saved classifier.
        """
        refs = ReferenceSet.load(directory)
        meta = refs.metadata.pop(_SAVED_KEY, None)
        if meta is None:
            legacy = user_path(directory) / "classifier.npz"
            if not legacy.is_file():
                raise FingerprintFileError(
                    f"{directory}: a reference set, not a saved FingerprintClassifier (load it with fp.load_references)"
                )
            meta, _ = read_bundle(legacy, "classifier")
        if not isinstance(meta, dict) or not isinstance(meta.get("params"), dict):
            raise FingerprintFileError(f"{directory}: malformed classifier parameters")
        space = meta.get("space") or {"kind": "fitted"}  # saved before the parameter was kept: the set's space
        try:
            if space.get("kind") in ("fit", "default"):
                param: FeatureSpace | str = space["kind"]
            elif space.get("kind") == "template":
                param = FeatureSpace(**space["params"])
            else:
                param = refs.space
            clf = cls(space=param, **meta["params"])
        except (TypeError, AttributeError, KeyError) as e:
            raise FingerprintFileError(f"{directory}: unknown classifier parameters ({e})") from e
        clf.references_ = refs
        try:
            if meta.get("classes") is not None and meta.get("classes_dtype"):
                classes = np.asarray(meta["classes"], dtype=np.dtype(meta["classes_dtype"]))  # numbers keep their dtype
            elif meta.get("classes") is not None:
                classes = np.empty(len(meta["classes"]), dtype=object)
                classes[:] = meta["classes"]
            else:
                classes = np.array(refs.models, dtype=object)
        except (TypeError, ValueError) as e:
            raise FingerprintFileError(f"{directory}: malformed classifier labels ({e})") from e
        names = np.array([str(c) for c in classes], dtype=object)
        if sorted(names) != refs.models:
            raise FingerprintFileError(f"{directory}: classifier labels do not match the reference set's models")
        clf._set_fitted(classes, names)
        return clf

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
