import numpy as np
import pytest
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from fingerprint import STYLE_MARKER_NAMES, StyleMarkers, describe_marker
from fingerprint.features.ngrams import WordNgrams


def col(X, name):
    return X[:, list(STYLE_MARKER_NAMES).index(name)]


def test_at_least_30_unique_named_markers():
    assert len(STYLE_MARKER_NAMES) >= 30
    assert len(set(STYLE_MARKER_NAMES)) == len(STYLE_MARKER_NAMES)
    assert list(StyleMarkers().fit(["a"]).get_feature_names_out()) == list(STYLE_MARKER_NAMES)
    for group in ("md_", "punct_", "opener_", "closer_", "hedge_", "selfid_", "sentence_", "paragraph_"):
        assert any(n.startswith(group) for n in STYLE_MARKER_NAMES), group


def test_markers_detect_what_they_name():
    texts = [
        "Certainly! Here is a plan:\n\n## Steps\n\n- **First**: wash — then dry.\n- Second; done...\n\n"
        "| a | b |\n|---|---|\n\n```python\nprint(1)\n```\n\nI hope this helps! 🚀",
        "The river is long. It flows north.",
        "As an AI language model, I am ChatGPT, trained by OpenAI. I can't browse.",
        "OpenAI released a report about Google and Meta last year.",
        "Great question! I'm Claude, made by Anthropic. You'll love it. Let me know!",
    ]
    X = StyleMarkers().fit(texts).transform(texts)
    assert col(X, "opener_certainly")[0] == 1 and col(X, "opener_certainly")[1] == 0
    assert col(X, "md_header_lines")[0] > 0 and col(X, "md_header_lines")[1] == 0
    assert col(X, "md_bullet_lines")[0] > 0 and col(X, "md_bold")[0] > 0
    assert col(X, "md_table_lines")[0] > 0 and col(X, "md_code_fences")[0] == 1
    assert col(X, "punct_em_dash")[0] > 0 and col(X, "punct_semicolon")[0] > 0
    assert col(X, "punct_ellipsis")[0] > 0 and col(X, "emoji_rate")[0] > 0
    assert col(X, "closer_hope_helps")[0] == 1 and col(X, "closer_hope_helps")[1] == 0
    assert col(X, "hedge_as_an_ai")[2] == 1
    assert col(X, "selfid_openai")[2] == 1
    # a text *about* vendors is not a self-identification
    assert col(X, "selfid_openai")[3] == 0 and col(X, "selfid_google")[3] == 0
    assert col(X, "selfid_anthropic")[4] == 1 and col(X, "opener_great_question")[4] == 1
    assert col(X, "contraction_rate")[4] > 0 and col(X, "second_person")[4] > 0
    assert col(X, "closer_let_me_know")[4] == 1
    assert col(X, "log_chars")[0] > col(X, "log_chars")[1]
    assert np.isfinite(X).all()


def test_huge_text_is_bounded_but_length_is_kept():
    big = "word " * 400_000  # 2 MB
    sm = StyleMarkers(max_chars=10_000).fit([big])
    x = sm.transform([big])
    assert col(x, "log_chars")[0] == pytest.approx(np.log1p(len(big)))


def test_composes_in_pipeline_and_feature_union():
    texts = ["Sure! - a\n- b", "Certainly. It is so.", "No; never — ever."]
    union = FeatureUnion(
        [("style", Pipeline([("m", StyleMarkers()), ("s", StandardScaler())])), ("words", WordNgrams())]
    )
    X = union.fit_transform(texts)
    assert X.shape[0] == 3 and X.shape[1] > len(STYLE_MARKER_NAMES)


def test_every_marker_is_described():
    for name in STYLE_MARKER_NAMES:
        assert describe_marker(name)
    with pytest.raises(KeyError, match="unknown style marker"):
        describe_marker("nope")


def test_not_fitted_message():
    with pytest.raises(Exception, match="not fitted"):
        StyleMarkers().transform(["x"])
