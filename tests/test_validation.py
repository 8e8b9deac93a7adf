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
        (["ok", None], TypeError, "text 1 is NoneType"),
        (["ok", math.nan], TypeError, "NaN"),
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


def test_bad_labels():
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        check_labels(["m"], 2)
    with pytest.raises(TypeError, match="non-empty model name"):
        check_labels(["m", None], 2)
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
