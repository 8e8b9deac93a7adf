"""The scikit-learn contract: scikit-learn's own estimator checks, pickling, cloning, routing, shapes.

scikit-learn's checks feed numeric matrices, and every estimator here takes texts (its tags say so,
so ``parametrize_with_checks`` would skip them all).  The checks therefore run on *text-adapted*
subclasses that turn each numeric row into a text ("v12 v-3 v55 ...": one token per cell, the
value rounded to one decimal) and otherwise run the real code.  The checks that still fail are
listed in ``EXPECTED_FAILURES`` with the reason; they run in strict-xfail mode, so one that starts
passing fails the suite until it is taken off the list.
"""

from __future__ import annotations

import copy
import functools
import inspect
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import fingerprint as fp
from fingerprint import CharNgrams, FeatureSpace, FingerprintClassifier, StyleMarkers, WordNgrams


def _to_text(X):
    """One text per row of a numeric matrix (a stand-in for texts in scikit-learn's checks).

    What a numeric matrix can get wrong and a list of texts cannot (complex values, NaN, zero
    columns) is refused here, with scikit-learn's messages: those are properties of the adapter.
    """
    if isinstance(X, list) and all(isinstance(t, str) for t in X):
        return X  # already adapted (a method calling another public method)
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError("Complex data not supported")
    A = np.asarray(X, dtype=np.float64)  # raises on non-numeric input, as the checks expect
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise ValueError(f"Expected 2D array, got {A.ndim}D array instead")
    if A.shape[1] == 0:
        raise ValueError(f"0 feature(s) (shape={A.shape}) while a minimum of 1 is required.")
    if not np.all(np.isfinite(A)):
        raise ValueError("Input contains NaN or infinity")
    return [" ".join(f"v{v:.1f}" for v in row) + " ." for row in A]


def _adapted(cls):
    class Adapted(cls):
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.two_d_array = True
            tags.input_tags.sparse = True  # the adapter densifies
            tags.input_tags.string = False
            return tags

    for name in ("fit", "transform", "fit_transform", "predict", "predict_proba", "predict_log_proba",
                 "decision_function", "score"):  # fmt: skip
        if hasattr(cls, name):

            def method(self, X, *args, _name=name, **kw):
                return getattr(super(Adapted, self), _name)(_to_text(X), *args, **kw)

            # the original signature (checks read it: fit(X, y), score(X, y) ...)
            setattr(Adapted, name, functools.wraps(getattr(cls, name))(method))
    Adapted.__name__ = Adapted.__qualname__ = f"TextAdapted{cls.__name__}"
    Adapted.__module__ = __name__
    return Adapted


# module-level names so that pickling (a check) finds the classes
TextAdaptedCharNgrams = _adapted(CharNgrams)
TextAdaptedWordNgrams = _adapted(WordNgrams)
TextAdaptedStyleMarkers = _adapted(StyleMarkers)
TextAdaptedFeatureSpace = _adapted(FeatureSpace)
TextAdaptedFingerprintClassifier = _adapted(FingerprintClassifier)

SMALL_SPACE = {"n_char": 60, "n_word": 30, "n_components": 4}
ESTIMATORS = [
    TextAdaptedCharNgrams(),
    TextAdaptedWordNgrams(),
    TextAdaptedStyleMarkers(),
    TextAdaptedFeatureSpace(**SMALL_SPACE, n_score_features=300),
    TextAdaptedFingerprintClassifier(**SMALL_SPACE, n_score_features=300, n_folds=2),
]

# check name -> why it fails for a text estimator (by estimator class name; "*" = all)
_N_FEATURES = (
    "text estimators take one column of texts: n_features_in_ is 1, and the number of numeric cells "
    "in the adapted input is not a feature count"
)
_ONE_D = "a 1-D input is a list of texts, the estimators' normal input, not an error"
_MIN_TEXTS = "a model needs >= 5 texts to be fingerprinted (MIN_TEXTS_PER_MODEL); the check gives fewer"
EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "*": {
        "check_n_features_in_after_fitting": _N_FEATURES,
        "check_n_features_in": _N_FEATURES,
        "check_fit2d_predict1d": _ONE_D,
    },
    "TextAdaptedCharNgrams": {
        "check_fit1d": _ONE_D,
        "check_transformer_general": _N_FEATURES,
        "check_transformer_general(readonly_memmap=True)": _N_FEATURES,
        "check_transformer_preserve_dtypes": "n-gram matrices are float32 whatever the input (texts have no dtype)",
    },
    "TextAdaptedWordNgrams": {
        "check_fit1d": _ONE_D,
        "check_transformer_general": _N_FEATURES,
        "check_transformer_general(readonly_memmap=True)": _N_FEATURES,
        "check_transformer_preserve_dtypes": "n-gram matrices are float32 whatever the input (texts have no dtype)",
    },
    "TextAdaptedStyleMarkers": {
        "check_fit1d": _ONE_D,
        "check_transformer_general": _N_FEATURES,
        "check_transformer_general(readonly_memmap=True)": _N_FEATURES,
    },
    "TextAdaptedFeatureSpace": {
        "check_fit1d": _ONE_D,
        "check_transformer_general": (
            "by design fit_transform returns *cross-fitted* score-block features of the training texts, so they "
            "differ from transform on the same texts (FeatureSpace docs, 'Cross-fitting')"
        ),
        "check_transformer_general(readonly_memmap=True)": "as check_transformer_general",
        "check_transformer_data_not_an_array": "as check_transformer_general (it compares fit_transform too)",
    },
    "TextAdaptedFingerprintClassifier": {
        "check_classifiers_train": _MIN_TEXTS,
        "check_supervised_y_2d": _MIN_TEXTS,
        "check_fit2d_1feature": _MIN_TEXTS,
        "check_classifiers_regression_target": "continuous targets are labels here (any hashable)",
    },
}


def _expected(estimator):
    name = type(estimator).__name__
    return {**EXPECTED_FAILURES["*"], **EXPECTED_FAILURES.get(name, {})}


_CHECK_OPTIONS = inspect.signature(parametrize_with_checks).parameters


def _checks(estimators):
    """scikit-learn's checks with the listed failures expected; strict (a listed check that starts passing
    fails the suite) from scikit-learn 1.8, plain xfails before (the only kind Python 3.10 gets); skipped
    before 1.6, which cannot be told which checks to expect to fail."""
    if "expected_failed_checks" not in _CHECK_OPTIONS:
        why = "parametrize_with_checks(expected_failed_checks=) needs scikit-learn >= 1.6"
        skipped = pytest.param(None, None, marks=pytest.mark.skip(reason=why))
        return pytest.mark.parametrize("estimator, check", [skipped])
    strict = {"xfail_strict": True} if "xfail_strict" in _CHECK_OPTIONS else {}
    return parametrize_with_checks(estimators, expected_failed_checks=_expected, **strict)


@_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _embedding_estimators():
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:  # the embeddings extra is optional
        return []
    from fingerprint.features.embeddings import EmbeddingFeatures

    global TextAdaptedEmbeddingFeatures
    TextAdaptedEmbeddingFeatures = _adapted(EmbeddingFeatures)
    return [TextAdaptedEmbeddingFeatures()]


EXPECTED_FAILURES["TextAdaptedEmbeddingFeatures"] = {
    "check_fit1d": _ONE_D,
    "check_transformer_general": _N_FEATURES,
    "check_transformer_general(readonly_memmap=True)": _N_FEATURES,
    "check_transformer_preserve_dtypes": "embeddings are float32 whatever the input (texts have no dtype)",
    "check_dict_unchanged": (
        "transform keeps the model it loads on first use (so fit stays cheap and a fully cached call never loads "
        "it) and the last call's cache statistics in cache_info_"
    ),
}


# the real MiniLM model embeds every text the checks make (about a minute on 2 cores)
@pytest.mark.slow
@_checks(_embedding_estimators())
def test_sklearn_compatible_embeddings(estimator, check):
    check(estimator)


# -- what the contract promises users, checked on the real (text) estimators ------------------------


@pytest.mark.parametrize("dump", ["pickle", "joblib", "deepcopy"])
def test_fitted_objects_round_trip_with_identical_predictions(fitted, heldout, tmp_path, dump):
    texts = heldout[0][:6]
    if dump == "pickle":
        back = pickle.loads(pickle.dumps(fitted))
    elif dump == "joblib":
        joblib.dump(fitted, tmp_path / "clf.joblib")
        back = joblib.load(tmp_path / "clf.joblib")
    else:
        back = copy.deepcopy(fitted)
    np.testing.assert_array_equal(back.predict_proba(texts), fitted.predict_proba(texts))
    refs = pickle.loads(pickle.dumps(fitted.references_))
    f = refs[refs.models[0]]
    assert f.metadata == fitted.references_[refs.models[0]].metadata
    np.testing.assert_array_equal(fp.attribute(texts, refs)[0].ranking, fp.attribute(texts, fitted)[0].ranking)


def test_clone_keeps_a_fitted_space_and_cross_validates(corpus, small_space):
    texts, models, prompts = corpus
    clf = FingerprintClassifier(space=small_space, n_folds=2)
    cloned = clone(clf)
    assert cloned.space is small_space and not hasattr(cloned, "references_")
    g = np.array(prompts)
    scores = cross_val_score(
        clf, np.array(texts, dtype=object), np.array(models), groups=g, cv=GroupKFold(3), params={"groups": g}
    )
    assert scores.shape == (3,) and scores.mean() > 0.9  # three very different synthetic styles


def test_a_fitted_space_stays_frozen_through_set_params(small_space):
    """Review finding (12-07): set_params(space__n_char=7) on a clone wrote into the user's fitted space
    (shared, used as is, so its features did not change)."""
    before = small_space.get_params()
    with pytest.raises(ValueError, match="cannot set space__n_char: the space is a fitted FeatureSpace"):
        clone(FingerprintClassifier(space=small_space)).set_params(space__n_char=7)
    assert small_space.get_params() == before
    template = FeatureSpace(**SMALL_SPACE)  # a template's parameters are for the search to set
    assert clone(FingerprintClassifier(space=template)).set_params(space__n_char=7).space.n_char == 7


def test_unfitted_space_is_a_template(corpus):
    texts, models, prompts = corpus
    template = FeatureSpace(**SMALL_SPACE, score_C=2.0, n_score_features=0)
    clf = FingerprintClassifier(space=template).fit(texts, models, groups=prompts)
    assert not template.is_fitted() and clf.space_.is_fitted() and clf.space_.score_C == 2.0
    assert clf.get_params()["space__score_C"] == 2.0  # reachable for a grid search


def test_two_classes_decision_function_is_1d(corpus):
    texts, models, prompts = corpus
    keep = [i for i, m in enumerate(models) if m != "model-c"]
    clf = FingerprintClassifier(**SMALL_SPACE).fit([texts[i] for i in keep], [models[i] for i in keep],
                                                   groups=[prompts[i] for i in keep])  # fmt: skip
    d = clf.decision_function([texts[0], texts[1]])
    assert d.shape == (2,)
    # positive = classes_[1], as in scikit-learn's linear classifiers
    np.testing.assert_array_equal(clf.predict([texts[0], texts[1]]), clf.classes_[(d > 0).astype(int)])


def test_integer_labels(corpus):
    texts, models, prompts = corpus
    codes = {"model-a": 10, "model-b": 2, "model-c": 7}  # str order differs from numeric order
    y = [codes[m] for m in models]
    clf = FingerprintClassifier(**SMALL_SPACE).fit(texts, y, groups=prompts)
    assert clf.classes_.tolist() == [2, 7, 10]
    pred = clf.predict(texts[:6])
    assert pred.dtype.kind == "i" and pred.tolist() == y[:6]  # the labels' own dtype, as scikit-learn's
    with pytest.raises(TypeError, match="comparable"):  # 1 and "1" would both be fingerprint "1"
        FingerprintClassifier(**SMALL_SPACE).fit(texts, [1 if m == "model-a" else "1" for m in models])


def test_not_fitted_errors():
    for method in ("predict", "predict_proba", "decision_function", "attribute"):
        with pytest.raises(NotFittedError):
            getattr(FingerprintClassifier(), method)(["some text"])
    with pytest.raises(NotFittedError):
        fp.attribute("some text", references=FingerprintClassifier())
    with pytest.raises(NotFittedError):
        FeatureSpace().transform(["some text"])


@pytest.mark.parametrize(
    ("make", "param"),
    [
        (lambda: FeatureSpace(n_char=-5), "n_char"),
        (lambda: FeatureSpace(score_C=0), "score_C"),
        (lambda: FeatureSpace(n_folds=1), "n_folds"),
        (lambda: FeatureSpace(score_words="upper"), "score_words"),
        (lambda: FingerprintClassifier(shrinkage=2.0), "shrinkage"),
        (lambda: FingerprintClassifier(space="magic"), "space"),
        (lambda: FingerprintClassifier(n_folds=0), "n_folds"),
        (lambda: FingerprintClassifier(space="default", n_char=10), "n_char"),
        (lambda: FingerprintClassifier(space="default", n_jobs="lots"), "n_jobs"),  # was accepted (probe)
        (lambda: FingerprintClassifier(space="default", n_jobs=0), "n_jobs"),
        (lambda: FingerprintClassifier(calibration="later"), "calibration"),
        (lambda: FeatureSpace(random_state=None), "random_state"),  # another space id at every fit (probe)
        (lambda: CharNgrams(ngram_range=(3, 1)), "ngram_range"),
        (lambda: WordNgrams(max_features=0), "max_features"),
        (lambda: StyleMarkers(max_chars=-1), "max_chars"),
    ],
)
def test_parameters_validated_at_fit_with_our_names(make, param, corpus):
    est = make()  # the constructor only stores
    texts, models, _ = corpus
    with pytest.raises((ValueError, TypeError), match=param):
        est.fit(texts, models)


def test_unknown_fit_params_are_refused(corpus):
    with pytest.raises(TypeError):
        FeatureSpace(**SMALL_SPACE).fit_transform(corpus[0], color="red")
    with pytest.raises(TypeError):
        fp.load_references(["x.npz"], color="red")
