"""Identity claims (fingerprint.features.identity): first-person claims of a name or maker."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fingerprint as fp
from fingerprint.features.identity import VENDOR_NAMES, identity_claims

# (text, maker claimed) -- most are quoted from answers in the shared corpora
CLAIMS = [
    ("I'm Claude, an AI assistant created by Anthropic.", "Anthropic"),
    ("I am an AI assistant created by DeepSeek to be helpful and harmless.", "DeepSeek"),
    ("As an intelligent assistant developed by DeepSeek company, I am different from ChatGPT.", "DeepSeek"),
    ("As an AI developed by OpenAI, I don't have personal opinions.", "OpenAI"),
    ("As a language model AI developed by OpenAI, my responses are generated step by step.", "OpenAI"),
    ("I am a large language model, trained by Google.", "Google"),
    ("ChatGPT is a model from OpenAI and I am a model from Mistral AI.", "Mistral AI"),
    ("While I strive to help, I was trained by Mistral AI and may not know.", "Mistral AI"),
    ("You can call me ChatGPT.", "OpenAI"),
    ("I\u2019m ChatGPT!", "OpenAI"),  # a typographic apostrophe
    ("Hello, I'm Open Assistant.", "LAION"),
    ("I am a different model developed by Alibaba Cloud, named Qwen.", "Alibaba"),
    ("As an AI developed by 01.AI, I can't browse the internet.", "01.AI"),
    ("My name is Vicuna.", "LMSYS"),
    ("My creators are Anthropic.", "Anthropic"),
]

# texts *about* a maker, denials and comparisons: not claims (the first four fire the selfid_* markers)
NOT_CLAIMS = [
    "Technology companies such as Google and Microsoft have data science teams.",
    "TensorFlow: an open-source library developed by Google.",
    "ChatGPT is a large language model developed by OpenAI.",
    "Use it as a command line tool.",
    "I am not ChatGPT, and I am not Claude.",
    "I am different from ChatGPT.",
    "I am a different AI system from ChatGPT.",
    "I'm not as capable as ChatGPT.",
    "I am a bard of the old school.",
    "As an AI language model, I don't have personal opinions.",
    "I'm going to google it and report back.",
    "The yield of the palm oil plantation rose.",
]


@pytest.mark.parametrize(("text", "maker"), CLAIMS)
def test_claims_are_found_with_their_maker(text, maker):
    df = identity_claims(text)
    assert df["vendor"].tolist() == [maker]
    claim = df["claim"].iloc[0]
    assert claim in text and claim in df["sentence"].iloc[0]


@pytest.mark.parametrize("text", NOT_CLAIMS)
def test_mentions_denials_and_comparisons_are_not_claims(text):
    assert identity_claims(text).empty


def test_selfid_markers_fire_where_no_claim_is_made():
    """The broad markers (features) and the strict claims (evidence) differ on texts about a maker."""
    sm = fp.StyleMarkers().fit(["x"])
    names = list(sm.get_feature_names_out())
    about = NOT_CLAIMS[:2]  # "such as Google", "developed by Google"
    fired = sm.transform(about)[:, names.index("selfid_google")]
    assert (fired > 0).all()
    assert identity_claims(about).empty


def test_rows_in_text_order_one_per_maker_and_text():
    texts = [
        "Nothing to see here.",
        "I'm Claude, an AI assistant created by Anthropic. I'm Claude, really.",
        "ChatGPT is a model from OpenAI and I am a model from Mistral AI. You can call me ChatGPT.",
    ]
    df = identity_claims(texts)
    assert df[["text", "vendor"]].values.tolist() == [[1, "Anthropic"], [2, "OpenAI"], [2, "Mistral AI"]]
    assert list(df.columns) == ["text", "vendor", "claim", "sentence"]


def test_no_claims_gives_an_empty_table_with_the_columns():
    df = identity_claims(["plain text", "more plain text"])
    assert df.empty and list(df.columns) == ["text", "vendor", "claim", "sentence"]


def test_sentence_is_the_claims_sentence_not_the_whole_text():
    text = "First sentence about cats. " * 20 + "I am an AI developed by OpenAI. " + "Dogs too. " * 30
    sentence = identity_claims(text)["sentence"].iloc[0]
    assert sentence == "I am an AI developed by OpenAI."


MAKER_AND_MODEL = {
    "OpenAI": ("OpenAI", "GPT-4"), "Anthropic": ("Anthropic", "Claude"), "Google": ("Google DeepMind", "Gemini"),
    "Meta": ("Meta AI", "Llama 2"), "Mistral AI": ("Mistral AI", "Mixtral"), "Alibaba": ("Alibaba Cloud", "Qwen"),
    "DeepSeek": ("DeepSeek", "DeepSeek"), "01.AI": ("01.AI", "Yi"), "Cohere": ("Cohere", "Command R, by Cohere"),
    "Microsoft": ("Microsoft", "Phi-2"), "Zhipu AI": ("Zhipu AI", "ChatGLM"), "Baichuan": ("Baichuan Inc.", "Baichuan"),
    "Shanghai AI Lab": ("Shanghai AI Laboratory", "InternLM"), "LMSYS": ("LMSYS", "Vicuna"),
    "LAION": ("LAION", "Open Assistant"),
}  # fmt: skip


@pytest.mark.parametrize("maker", list(VENDOR_NAMES))
def test_every_maker_is_claimed_by_name_and_by_its_models_name(maker):
    company, model = MAKER_AND_MODEL[maker]
    assert identity_claims(f"I am an AI assistant created by {company}.")["vendor"].tolist() == [maker]
    assert identity_claims(f"Hi! I'm {model}.")["vendor"].tolist() == [maker]


@pytest.mark.parametrize("bad", [[], [""], ["ok", None], [3]])
def test_bad_input_is_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        identity_claims(bad)


def test_a_table_with_a_text_column_is_taken():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"text": ["plain", "I'm Claude."], "model": ["a", "a"]})
    assert identity_claims(df)["text"].tolist() == [1]


@pytest.mark.parametrize(
    ("unit", "makers"),
    [("I am a gpt ", []), ("as an ai claude ", []), ("I am an ai model, openai ", []),
     ("my creators are meta ", ["Meta"]), ("I'm I'm I'm llama ", ["Meta"]), ("a " * 50 + "google ", [])],
)  # fmt: skip
def test_long_adversarial_inputs(unit, makers):
    """Runs of cues, descriptions and names: the patterns are bounded, so these take well under a second
    (measured: 0.3 s for 800,000 characters); an unbounded one would backtrack quadratically and hang."""
    text = (unit * (800_000 // len(unit)))[:800_000]
    assert identity_claims(text)["vendor"].tolist() == makers


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("I am an AI model created by OpenAI Claude, .\n'\u2019")), min_size=1))
def test_any_text_gives_claims_that_are_its_substrings(text):
    if not text.strip():
        return
    df = identity_claims(text)
    assert df["text"].eq(0).all()
    assert all(c in text for c in df["claim"])
    assert df["vendor"].is_unique
