import math

import numpy as np
import pandas as pd
import pytest

import fingerprint as fp
from fingerprint.validation import check_labels, check_texts


@pytest.mark.parametrize(
    ("bad", "err", "msg"),
    [
        ([], ValueError, "empty sequence"),
        ([""], ValueError, "empty or whitespace"),
        (["ok", "   \n"], ValueError, "text 1 is empty"),
        (["ok", None], TypeError, r"text 1 is NoneType \(None\); every text must be a str; drop missing rows"),
        (["ok", math.nan], TypeError, "NaN"),
        ([pd.DataFrame({"text": ["a"]})] * 2, TypeError, r"a list of tables or batches is not one table"),
        ([["a", "b"], ["c"]], TypeError, r"a list of tables or batches is not one table"),
        (pd.Series(["ok", None], dtype="string"), TypeError, r"NAType \(<NA>\); every text must be a str; drop"),
        ([3], TypeError, "every text must be a str"),
        (b"bytes", TypeError, "decode"),
        (["x" * 1_000_001], ValueError, "limit 1,000,000"),
        (12, TypeError, "expected a string"),
        (np.array([["a", "b"]]), ValueError, "1-D"),
        # regressions (issue 15, finding 3): tables were iterated (their column names attributed),
        # zero-width-only text passed, a lone surrogate failed deep inside scikit-learn
        (pd.DataFrame({"answer": ["hello there"]}), ValueError, "DataFrame without a 'text' column"),
        ({"answer": ["hello there"]}, ValueError, "dict without a 'text' column"),
        (["ok", "\u200b\u200b \ufeff"], ValueError, "text 1 is empty or whitespace"),
        (["ok", "fine \ud800 text"], ValueError, "unpaired surrogate"),
    ],
)
def test_bad_texts(bad, err, msg):
    with pytest.raises(err, match=msg):
        check_texts(bad)


@pytest.mark.parametrize("wrap", [lambda s: s, lambda s: {"text": s}, lambda s: pd.DataFrame({"text": s})])
def test_errors_name_a_pandas_text_by_its_index_label_too(wrap):
    texts = pd.Series(["fine text", "   ", "x"], index=["q1", "q2", "q3"])
    with pytest.raises(ValueError, match=r"text 1 \(index 'q2'\) is empty"):
        check_texts(wrap(texts))
    shifted = pd.Series(["fine text", None], index=[10, 11])
    with pytest.raises(TypeError, match=r"text 1 \(index 11\) is "):
        check_texts(wrap(shifted))
    with pytest.raises(TypeError, match=r"text 1 is "):  # a default index adds nothing
        check_texts(wrap(pd.Series(["fine text", None])))
    with pytest.raises(ValueError, match=r"text 1 \(index True\) is empty"):  # True == 1, yet not position 1
        check_texts(wrap(pd.Series(["fine text", " "], index=[False, True])))
    multi = pd.MultiIndex.from_tuples([("x", 1), ("y", 2)])
    with pytest.raises(ValueError, match=r"text 1 \(index \('y', 2\)\) is empty"):
        check_texts(wrap(pd.Series(["fine text", " "], index=multi)))


def test_accepted_containers():
    assert check_texts("one") == ["one"]
    assert check_texts(("a", "b")) == ["a", "b"]
    assert check_texts(pd.Series(["a", "b"])) == ["a", "b"]
    assert check_texts(np.array(["a", "b"])) == ["a", "b"]
    assert check_texts(pd.DataFrame({"text": ["a", "b"], "model": ["m", "n"]})) == ["a", "b"]
    assert check_texts({"text": ["a"], "model": ["m"]}) == ["a"]
    assert check_texts(["zero\u200bwidth inside is fine"]) == ["zero\u200bwidth inside is fine"]


def test_attribute_and_audit_refuse_a_table_without_texts():
    df = pd.DataFrame({"answer": ["hello there", "general kenobi"]})
    with pytest.raises(ValueError, match="'text' column"):
        fp.attribute(df)
    with pytest.raises(ValueError, match="'text' column"):
        fp.audit(df)
    import datasets

    ds = datasets.Dataset.from_dict({"answer": ["hello there"]})
    with pytest.raises(ValueError, match="Dataset without a 'text' column"):
        check_texts(ds)
    assert check_texts(datasets.Dataset.from_dict({"text": ["hi"], "model": ["m"]})) == ["hi"]


def test_bad_labels():
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        check_labels(["m"], 2)
    for missing in (None, float("nan"), "  "):  # a missing model: ValueError, as FingerprintClassifier.fit says
        with pytest.raises(ValueError, match="every text needs the model that wrote it"):
            check_labels(["m", missing], 2)
    with pytest.raises(TypeError, match="non-empty model name"):
        check_labels(["m", 3], 2)
    with pytest.raises(TypeError, match="not a single str"):
        check_labels("m", 1)


def test_build_references_rejects_bad_corpora(corpus):
    texts, models, _ = corpus
    with pytest.raises(ValueError, match="at least 2 models"):
        fp.build_references(texts[:10], ["m"] * 10)
    with pytest.raises(ValueError, match="at least 5 texts"):
        fp.build_references(texts[:12], ["a"] * 10 + ["b"] * 2)
    with pytest.raises(ValueError, match="calibration needs at least 7 texts per model"):
        fp.FingerprintClassifier(n_char=50, n_word=20, n_components=4, n_folds=7).fit(texts[:12], ["a"] * 6 + ["b"] * 6)
    with pytest.raises(ValueError, match="3 texts but 2 labels"):
        fp.FingerprintClassifier().fit(texts[:3], models[:2])


def test_unknown_model_errors(fitted, heldout):
    refs = fitted.references_
    with pytest.raises(KeyError, match="unknown model 'gpt-9'"):
        refs["gpt-9"]
    with pytest.raises(ValueError, match="not in the set"):
        refs.calibrate(heldout[0][:2], ["model-a", "gpt-9"])


def test_calibrate_refuses_too_few_texts_or_one_model_and_keeps_the_calibration(fitted, heldout):
    refs = fp.ReferenceSet(list(fitted.references_), fitted.space_, temperature=2.0,
                           confidence_map=fitted.references_.confidence_map)  # fmt: skip
    texts, models, _ = heldout
    of_one = [t for t, m in zip(texts, models, strict=True) if m == models[0]] * 3  # 30 texts, one model
    for t, m in ((texts[:1], models[:1]), (of_one, [models[0]] * len(of_one)), (texts[:19], models[:19])):
        with pytest.raises(ValueError, match="at least 2 of the set's models and at least 20 texts"):
            refs.calibrate(t, m)
        assert refs.temperature == 2.0 and not refs.calibration_stale  # nothing lost
    refs.calibrate(texts[:20], models[:20])  # 20 texts of 2+ models: accepted
    assert refs.temperature != 2.0


# --- property tests (issue 15): any input is either accepted unchanged or refused with its index ---------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fingerprint.validation import is_blank  # noqa: E402

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u202e"  # zero-width, BOM, soft hyphen, direction marks
_texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=25) | st.text(
    alphabet=st.sampled_from(list(_INVISIBLE + " \t\n\r\x0b\x0c\u3000a\u00e9\u4e2d\U0001f600\ud800")), max_size=6
)
_items = st.one_of(_texts, st.none(), st.integers(), st.floats(allow_nan=True), st.binary(max_size=4))


def _acceptable(t):
    return isinstance(t, str) and not is_blank(t) and not any("\ud800" <= c <= "\udfff" for c in t)


@settings(max_examples=300, deadline=None)
@given(st.lists(_items, max_size=6))
def test_check_texts_accepts_exactly_the_visible_strings(items):
    if items and all(_acceptable(t) for t in items):
        assert check_texts(items) == items
        return
    with pytest.raises((TypeError, ValueError)) as err:
        check_texts(items)
    if items:  # the message names the first offending text
        first = next(i for i, t in enumerate(items) if not _acceptable(t))
        assert f"text {first} " in str(err.value)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_is_blank_means_nothing_visible(t):
    import unicodedata

    visible = [c for c in t if not (c.isspace() or unicodedata.category(c) in {"Cf", "Cc", "Zs", "Zl", "Zp"})]
    assert is_blank(t) == (not visible)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_texts.filter(_acceptable), min_size=1, max_size=4))
def test_any_accepted_text_is_featurised_to_finite_numbers(small_space, texts):
    """Emoji, combining marks, control characters, scripts the space never saw: no crash, no NaN."""
    X = small_space.transform(texts)
    assert X.shape == (len(texts), small_space.n_features_out_) and np.isfinite(X).all()


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    from fingerprint.validation import progress_bar

    quiet = progress_bar(10, "x", verbose=None)  # pytest captures stderr: not a terminal
    quiet.update(3)
    quiet.close()
    assert progress_bar(10, "x", verbose=False).__class__.__name__ == "_NoBar"
    texts = list(fp.references.load_sample()["text"][:3])
    fp.attribute(texts, top_features=0, verbose=True)
    assert "featurising" in capsys.readouterr().err
    fp.attribute(texts, top_features=0)
    assert capsys.readouterr().err == ""


def test_errors_name_our_parameters_and_nothing_is_silently_ignored(corpus, fitted, heldout):
    """QA findings: sklearn's and joblib's messages leaked through, a typo in metadata= was dropped
    silently, sample_per_model(-1) kept all but one row, and a set of texts (no order) was accepted."""
    texts, models, prompts = corpus
    space = fitted.space_
    with pytest.raises(ValueError, match=r"build_references\(\): n_folds must be an integer >= 2"):
        fp.build_references(texts, models, groups=prompts, space=space, n_folds=1)
    with pytest.raises(ValueError, match=r"build_references\(\): n_jobs must be None, a positive number"):
        fp.build_references(texts, models, groups=prompts, space=space, n_jobs=0)
    with pytest.raises(ValueError, match="FeatureSpace: n_jobs must be None"):
        fp.FeatureSpace(n_jobs=0).fit(texts, models)
    with pytest.warns(UserWarning, match=r"metadata= names 1 model\(s\) that have no texts.*\['model-z'\]"):
        fp.build_references(texts, models, groups=prompts, space=space, metadata={"model-z": {"family": "x"}})
    with pytest.raises(ValueError, match=r"reference_texts needs text, model and prompt_id columns.*\['model'\]"):
        fp.audit(heldout[0][:4], groups=heldout[2][:4], reference_texts={"text": heldout[0], "prompt_id": heldout[2]})
    sample = fp.references.load_sample()
    for k in (-1, 0):
        with pytest.raises(ValueError, match=r"sample_per_model\(\): k must be an integer >= 1"):
            fp.sample_per_model(sample, k)
    with pytest.raises(TypeError, match="texts must be ordered"):
        fp.attribute({"a set of texts"}, references=fitted)


def test_model_names_differing_only_in_case_or_spaces_warn(corpus):
    texts, models, prompts = corpus
    odd = [m.upper() if i % 2 else m for i, m in enumerate(models)]  # "model-a" and "MODEL-A"
    with pytest.warns(UserWarning, match="differ only in case or surrounding spaces"):
        fp.build_references(texts, odd, groups=prompts, calibrate=False,
                            space=fp.FeatureSpace(n_char=300, n_word=150, n_components=16))  # fmt: skip


def test_calibrating_a_large_set_on_few_of_its_models_warns(fitted, heldout):
    texts, models, _ = heldout
    refs = fp.ReferenceSet(list(fitted.references_), fitted.space_)
    for k in range(3):  # three more models: 6 in all, calibrated on texts of 2
        refs.add(fp.Fingerprint.from_features(np.random.default_rng(k).normal(size=(20, refs.space.n_features_out_)),
                                              f"extra-{k}", refs.space.space_id_))  # fmt: skip
    two = [i for i, m in enumerate(models) if m in ("model-a", "model-b")][:24]
    with pytest.warns(UserWarning, match="calibrating on texts of 2 of the set's 6 models"):
        refs.calibrate([texts[i] for i in two], [models[i] for i in two])


def test_flags_and_groups_are_checked_not_coerced(corpus):
    """Review finding (12-07): build_references(calibrate="no") calibrated (a truthy string), audit's
    exclude_family was not checked, None groups became one group "None", and a list per text failed
    inside numpy."""
    from fingerprint.validation import check_groups

    texts, models, prompts = corpus
    with pytest.raises(TypeError, match="calibrate must be True or False"):
        fp.build_references(texts, models, space="default", calibrate="no")
    with pytest.raises(TypeError, match="exclude_family must be True or False"):
        fp.audit(texts[:5], exclude_family="no")
    with pytest.raises(ValueError, match="group 1 is None"):
        check_groups(["p", None, "q"], 3)
    with pytest.raises(ValueError, match=r"group 0 is .*nan"):
        check_groups([np.float32("nan")], 1)
    with pytest.raises(TypeError, match="string or a number"):
        check_groups([["p", 1], ["q", 2]], 2)
    with pytest.raises(ValueError, match="group 2 is None"):
        fp.build_references(texts, models, space="default", groups=[*prompts[:2], None, *prompts[3:]])
    assert check_groups(pd.Series(["p", 2], index=[7, 8]), 2).tolist() == ["p", 2]


def test_one_record_is_not_split_into_characters():
    """Review finding (12-07): fp.attribute({"text": "Hello"}) attributed 'H', 'e', 'l', 'l', 'o'."""
    with pytest.raises(TypeError, match="whose 'text' is one string"):
        check_texts({"text": "Hello", "prompt_id": "p"})
    assert check_texts({"text": ["Hello"]}) == ["Hello"]


def test_pandas_missing_values_are_missing_labels_and_groups():
    """pd.NA is hashable: as a label it became a model named "<NA>" (found reviewing is_missing's callers)."""
    from fingerprint.validation import check_groups, encode_labels

    with pytest.raises(ValueError, match="label 1 is <NA>; every text needs the model"):
        encode_labels(["a", pd.NA], 2)
    with pytest.raises(ValueError, match="group 1 is <NA>: every text needs its group"):
        check_groups(["p", pd.NA], 2)
    with pytest.raises(ValueError, match="group 1 is NaT"):
        check_groups(["p", pd.NaT], 2)
