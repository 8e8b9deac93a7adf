import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from fingerprint import STYLE_MARKER_NAMES, StyleMarkers, describe_marker
from fingerprint.features.ngrams import WordNgrams
from fingerprint.features.style import MARKERS, Marker, marker_table


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


# -- the marker table: one source for names, units, descriptions and values -----------------

UNITS = {
    "log count",
    "words",
    "characters",
    "ratio",
    "per 100 words",
    "per 1,000 characters",
    "share of non-empty lines",
    "count",
    "0/1",
}


def test_names_and_descriptions_come_from_the_table():
    assert all(isinstance(m, Marker) for m in MARKERS)
    assert STYLE_MARKER_NAMES == tuple(m.name for m in MARKERS)
    for m in MARKERS:
        assert m.unit in UNITS, (m.name, m.unit)
        assert m.description.strip(), m.name
        assert describe_marker(m.name) == f"{m.description} [{m.unit}]"
    df = marker_table()
    assert list(df.columns) == ["name", "unit", "description"]
    assert df["name"].tolist() == list(STYLE_MARKER_NAMES)
    assert df["unit"].tolist() == [m.unit for m in MARKERS]


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        # described as "per 100 words" before the table existed
        ("newline_rate", "per 1,000 characters"),
        ("digit_rate", "per 1,000 characters"),
        ("non_ascii_rate", "per 1,000 characters"),
        ("emoji_rate", "per 1,000 characters"),
        ("md_table_lines", "share of non-empty lines"),
        ("md_blockquote_lines", "share of non-empty lines"),
        # stated no unit, or one in other words
        ("md_header_lines", "share of non-empty lines"),
        ("md_bold_list_lead", "share of non-empty lines"),
        ("md_code_fences", "count"),
        ("md_colon_before_list", "count"),
        ("md_bold", "per 100 words"),
        ("punct_em_dash", "per 1,000 characters"),
        ("first_person_singular", "per 100 words"),
        ("sentence_words_mean", "words"),
        ("word_length_mean", "characters"),
        ("uppercase_ratio", "ratio"),
        ("log_chars", "log count"),
        ("hedge_as_an_ai", "count"),
        ("opener_certainly", "0/1"),
        ("closer_question_end", "0/1"),
        ("selfid_openai", "0/1"),
    ],
)
def test_describe_marker_states_the_unit(name, unit):
    assert f"[{unit}]" in describe_marker(name)
    assert "per 100 words" not in describe_marker(name) or unit == "per 100 words"


def value(name, text):
    return float(col(StyleMarkers().fit([text]).transform([text]), name)[0])


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("punct_em_dash", "a — b", 200.0),  # 1 in 5 characters
        ("punct_em_dash", "no dash here", 0.0),
        ("punct_straight_quote", "'a' \"b\" xx", 400.0),  # 4 in 10 characters
        ("newline_rate", "abcd\nefgh\n", 200.0),  # 2 in 10 characters
        ("digit_rate", "a1b2c3d4e5", 500.0),  # 5 in 10 characters
        ("non_ascii_rate", "café", 250.0),  # 1 in 4 characters
        ("md_bullet_lines", "Intro:\n- a\n- b\n\nEnd.", 0.5),  # 2 of 4 non-empty lines
        ("md_header_lines", "# Title\ntext\n\nmore text\n## Sub", 0.5),  # 2 of 4
        ("md_colon_before_list", "Intro:\n- a\n- b\n\nEnd.", 1.0),
        ("md_code_fences", "Code:\n```python\nx = 1\n```\nDone.", 1.0),  # 2 fence lines = 1 block
        ("md_bold", "**One** two three four", 25.0),  # 1 in 4 words
        ("contraction_rate", "It's fine, we're done", 50.0),  # 2 in 4 words
        ("second_person", "You and your dog", 50.0),  # 2 in 4 words
        ("word_length_mean", "ab abcd", 3.0),
        ("uppercase_ratio", "ABcd", 0.5),
        ("type_token_ratio", "the cat the dog", 0.75),
        ("sentence_words_mean", "One two three. Four.", 2.0),
        ("sentence_words_std", "One two three. Four.", 1.0),
        ("paragraph_words_mean", "One two.\n\nThree four five six.", 3.0),
        ("log_words", "one two three", np.log1p(3)),
        ("log_sentences", "One. Two! Three?", np.log1p(3)),
        ("opener_certainly", "Certainly! Here you go.", 1.0),
        ("opener_certainly", "  **Certainly**, here you go.", 1.0),  # leading punctuation is skipped
        ("opener_certainly", "I certainly agree.", 0.0),
        ("opener_certainly", "x" * 80 + " Certainly", 0.0),  # only the first 80 characters count
        ("closer_hope_helps", "Done. I hope this helps!", 1.0),
        ("closer_hope_helps", "I hope this helps. " + "x" * 200, 0.0),  # only the last 200 count
        ("closer_question_end", "Shall I go on?  ", 1.0),
        ("hedge_as_an_ai", "As an AI, I can't. As an AI language model, no.", 2.0),
        ("selfid_anthropic", "I am Claude, made by Anthropic.", 1.0),
        ("selfid_anthropic", "Anthropic makes Claude.", 0.0),  # named, but not as an identity
        ("ends_with_punctuation", "It ends here.", 1.0),
        ("ends_with_punctuation", "It ends mid", 0.0),
    ],
)
def test_hand_computed_values(name, text, expected):
    assert value(name, text) == pytest.approx(expected, rel=1e-15)
    assert MARKERS[STYLE_MARKER_NAMES.index(name)].measure(text) == value(name, text)


def test_measure_matches_transform_for_every_marker():
    texts = [
        "Certainly! Here is a plan:\n\n## Steps\n\n- **First**: wash — then dry.\n- Second; done...\n\n"
        "| a | b |\n|---|---|\n\n```python\nprint(1)\n```\n\nI hope this helps! 🚀",
        "As an AI language model, I am ChatGPT, trained by OpenAI. I can't browse.",
        "Plain text without anything special",
    ]
    X = StyleMarkers().fit(texts).transform(texts)
    for j, m in enumerate(MARKERS):
        assert [m.measure(t) for t in texts] == X[:, j].tolist(), m.name


@pytest.mark.parametrize("bad", [-1, 0])
def test_max_chars_is_checked_at_fit(bad):
    sm = StyleMarkers(max_chars=bad)  # the constructor only stores
    assert sm.max_chars == bad
    with pytest.raises(ValueError, match="max_chars"):
        sm.fit(["some text"])


def test_max_chars_type_and_none():
    with pytest.raises(TypeError, match="max_chars"):
        StyleMarkers(max_chars=2.5).fit(["some text"])
    X = StyleMarkers(max_chars=None).fit(["a"]).transform(["a — b"])
    assert col(X, "punct_em_dash")[0] == 200.0
    # a text cut to max_chars: rates see the cut text, log_chars the full length
    x = StyleMarkers(max_chars=5).fit(["a"]).transform(["a — b" + "x" * 95])
    assert col(x, "punct_em_dash")[0] == 200.0 and col(x, "log_chars")[0] == np.log1p(100)


def test_unknown_marker_is_a_key_error():
    for bad in ("nope", "", "PUNCT_EM_DASH", None):
        with pytest.raises(KeyError, match="unknown style marker"):
            describe_marker(bad)


_PIECES = [
    "I", "i", "Me", "MY", "mine", "We", "OUR", "us", "you", "Your", "However", "In addition", "in  addition",
    "on the other hand", "Moreover,", "don't", "It's", "IT IS important", "worth noting", "Sure", "CERTAINLY",
    "Of course", "Absolutely", "Great question", "Here's", "Hi", "Hello", "Yes", "No", "I'm sorry", "I apologize",
    "I cannot", "I won't", "hope this helps", "Let me know", "feel free", "In conclusion", "Overall", "To summarise",
    "As an AI", "as a language model", "I don't have personal", "consult a", "Seek advice from your",
    "speak with an", "OpenAI", "ChatGPT", "gpt-4", "GPT-3.5-turbo", "Claude", "Anthropic", "Google DeepMind",
    "Llama", "Meta AI", "Mistral AI", "Qwen", "DeepSeek", "01.AI", "Yi", "Vicuna", "I am", "developed by",
    "trained by", "from", "my name is", "?", "!", ".", ",", ";", ":", "(", ")", "'", '"', "-", " - ", "...",
    "**bold**", "__b__", "*it*", "`code`", "```", "# Head", "## H2", "- item", "* item", "1. item", "2) item",
    "| a | b |", "> quote", "[link](http://x.y)", "https://a.b/c", "42", "3.5", "x_y", "hello_world",
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PIECES), st.sampled_from([" ", "  ", "\n", "\n\n", ", ", "\t"])),
                min_size=1, max_size=40))  # fmt: skip
def test_lowercased_fast_path_equals_the_case_insensitive_patterns(pieces):
    """ASCII texts run case-insensitive patterns case-sensitively on the lower-cased text: same values."""
    from fingerprint.features import style

    text = "".join(p + sep for p, sep in pieces).strip() or "x"
    fast = style._Text(text)
    slow = style._Text(text)
    slow.low = slow.ascii = None  # force the case-insensitive patterns and the str methods
    slow.has_vendor = style._ANY_VENDOR.search(text) is not None
    assert fast.low is not None and fast.has_vendor == slow.has_vendor
    assert [m.compute(fast) for m in MARKERS] == [m.compute(slow) for m in MARKERS]


# the pieces above, plus non-ASCII text and the edge cases of _Search's and _contractions' rewrites
_MORE_PIECES = [
    *_PIECES, "x's's", "rock'n'roll's", "90's", "it\u2019s", "\u2019s", "'s", "a'", "ai", "hi", "mine's", "l'm",
    "\u00e9t\u00e9", "\u00c9COLE", "\u2014", "\u2013", "\u201cq\u201d", "\u2026", "\U0001f680", "\u00bd", "\u0131",
    "\u212a", "*a* *b*", "**a*", "`a``b`", "\u0661\u0662", "x-ray", "I\u2019m",
]  # fmt: skip
_SEPARATORS = [" ", "  ", "\n", "\n\n", ", ", "\t", "", ". ", "\u00a0", "\n \n"]


def _all_patterns():
    """Every pattern the markers search with."""
    import re

    from fingerprint.features import style

    tables = [style._OPENERS, style._CLOSERS, style._HEDGES]
    return [
        *(v for v in vars(style).values() if isinstance(v, re.Pattern)),
        *(p for t in tables for _, p in t.values()),
        *style._SELF_ID.values(),
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_MORE_PIECES), st.sampled_from(_SEPARATORS)), min_size=1, max_size=30))
def test_rewritten_searches_equal_the_patterns_as_written(pieces):
    """_Search's leading-assertion and lower-casing rewrites, and _contractions, find what re finds."""
    from fingerprint.features import style

    text = "".join(p + sep for p, sep in pieces)
    c = style._Text(text)
    for part in (slice(None), style._HEAD, style._TAIL):
        for pattern in _all_patterns():
            s = style._Search(pattern)
            assert s.count(c, part) == len(pattern.findall(text[part])), pattern.pattern
            assert s.found(c, part) == (pattern.search(text[part]) is not None), pattern.pattern
    assert style._contractions(c) == len(style._CONTRACTION.findall(text))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_MORE_PIECES), st.sampled_from(_SEPARATORS)), min_size=0, max_size=30))
def test_text_quantities_equal_their_definitions(pieces):
    """Sentence and paragraph lengths from the text's shape, and counts from its ASCII bytes, are exact."""
    from fingerprint.features import style

    text = "".join(p + sep for p, sep in pieces)
    c = style._Text(text)

    def lengths(parts):
        return [len(style._WORD.findall(p)) for p in parts if p.strip()]

    assert c.words == style._WORD.findall(text)
    assert c.sents.tolist() == lengths(style._SENT_SPLIT.split(text))
    assert c.paras.tolist() == lengths(style._PARA_SPLIT.split(text))
    assert c.letters == sum(map(str.isalpha, text))
    plain = style._Text(text)
    plain.ascii = None
    for name in ("uppercase_ratio", "digit_rate", "emoji_rate", "punct_curly_quote", "punct_em_dash"):
        m = MARKERS[STYLE_MARKER_NAMES.index(name)]
        assert m.compute(c) == m.compute(plain), name


# the line-start patterns as written before 2026-12-07 (\s* for a line's leading blanks: quadratic on
# runs of blank lines), and the pieces that exercise them
_QUADRATIC_FORMS = {
    "_BULLET": r"^\s*[-*+•]\s+\S", "_NUMBERED": r"^\s*\d{1,3}[.)]\s+\S", "_FENCE": r"^\s*(```|~~~)",
    "_TABLE_ROW": r"^\s*\|.*\|\s*$", "_BLOCKQUOTE": r"^\s*>\s",
    "_LIST_COLON": r":\s*\n\s*(?:[-*+•]|\d{1,3}[.)])\s",
    "_BOLD_LEAD": r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\*\*[^*\n]+\*\*",
}  # fmt: skip
_LINE_PIECES = ["\n", " ", "\t", "\r", "\u2028", "\x0b", "\u00a0", "-", "*", "**", "+", "\u2022", "1", "12", ".", ")",
                "```", "~~~", "|", ">", ":", "a", "**b**"]  # fmt: skip
_LINK_PIECES = ["[", "]", "(", ")", "\n", " ", "a", "http", "https://", "://", "x", "s", "[a](b)", "]("]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LINE_PIECES), max_size=40))
def test_linear_line_start_patterns_count_as_the_quadratic_ones(pieces):
    """[^\\S\\n]* for a line's leading blanks counts what \\s* counted (one scan, not one per blank line)."""
    import re

    from fingerprint.features import style

    text = "".join(pieces)
    for name, written in _QUADRATIC_FORMS.items():
        pattern = getattr(style, name)
        assert pattern.pattern != written, name  # the linear form is in use
        assert len(pattern.findall(text)) == len(re.compile(written, re.MULTILINE).findall(text)), name


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_LINK_PIECES), max_size=40))
def test_links_are_counted_as_findall_counts_them(pieces):
    """_count_links (linear) gives len(_LINK.findall(text)) (quadratic on a line of "[")."""
    from fingerprint.features import style

    text = "".join(pieces)
    assert style._count_links(text) == len(style._LINK.findall(text))


def test_markers_of_runs_of_blank_lines_and_brackets():
    """A run of newlines or of "[" is counted as before (issue found by review: 16,000 newlines took 25 s).

    The time is measured in the reliability notes, not here; this checks the values on such texts.
    """
    from fingerprint.features import style

    for text in ("a:" + "\n" * 3000 + "- b\n", "x" + " \n" * 2000 + "1. y", "[" * 3000 + "a](b) https://c"):
        X = StyleMarkers().fit_transform([text])[0]
        c = style._Text(text)
        assert col(X[None], "md_links")[0] == pytest.approx(len(style._LINK.findall(text)) * c.per_word)
        for name in ("_BULLET", "_NUMBERED", "_LIST_COLON"):
            import re

            assert len(getattr(style, name).findall(text)) == len(
                re.compile(_QUADRATIC_FORMS[name], re.MULTILINE).findall(text))


@pytest.mark.parametrize(
    ("pattern", "top"),
    [(r"\ba|b", True), (r"\b(?:a|b)", False), (r"[|]a", False), (r"\|a", False), (r"(a)|b", True),
     (r"[]|]x", False), (r"[^]|]x", False), (r"\b[(]a|b", True), (r"a(?:b|c)d", False)],
)  # fmt: skip
def test_top_level_alternation_is_seen(pattern, top):
    """A leading \\b binds to the first alternative of "\\ba|b" only: such a pattern is not rewritten."""
    import re

    from fingerprint.features import style

    assert style._alternates_at_top(pattern) is top
    assert (style._Search(re.compile("(?<!x)" + pattern)).split is not None) is not top


def test_the_markers_leading_assertions_are_rewritten():
    """The rewrite is in use (else the equality test above compares findall with findall)."""
    from fingerprint.features import style

    for pattern in (style._FIRST_SING, style._TRANSITION, style._ITALIC, style._INLINE_CODE, style._ANY_VENDOR,
                    *(p for _, p in style._HEDGES.values())):  # fmt: skip
        s = style._Search(pattern)
        assert s.split is not None, pattern.pattern
        assert (s.split_lowered is not None) is (s.lowered is not None), pattern.pattern
    assert style._Search(style._FIRST_SING).split_lowered is not None


def test_a_text_past_max_chars_keeps_its_ending():
    """Probe finding: the cut kept the first max_chars characters, so a long answer's closer read as absent."""
    long = "Intro. " + "Words fill this paragraph. " * 5000 + "I hope this helps! Let me know if you have questions?"
    assert len(long) > 100_000
    row = dict(zip(STYLE_MARKER_NAMES, StyleMarkers().fit(["x"]).transform([long])[0], strict=True))
    assert row["closer_hope_helps"] == 1 and row["ends_with_punctuation"] == 1
