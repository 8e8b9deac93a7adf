"""Identity claims: sentences in which a text says which model it is or who made it.

The ``selfid_*`` style markers (:mod:`fingerprint.features.style`) are *features*: they fire when a
vendor is named within 40 characters after a broad cue, including the bare words "as" and "from",
so they also fire on texts *about* a vendor ("tech giants such as Google", "TensorFlow, developed
by Google"). In the shared corpora's answers ``selfid_google`` fires 335 times, nearly all on such
mentions. That is harmless for attribution, where a feature only has to be
consistent, but it is not evidence that a model calls itself something.

:func:`identity_claims` is the strict reading, for evidence (the audit's worked example): a
first-person claim of a name ("I am Claude", "my name is ChatGPT") or of a maker ("I am an AI
assistant created by Anthropic", "As an AI developed by OpenAI", "I was trained by Mistral AI",
"I am a model from Mistral AI"). A denial or a comparison ("I am not ChatGPT", "I am different
from ChatGPT") is not a claim, nor is a sentence about another model ("ChatGPT is a language
model developed by OpenAI"). Each claim comes with its sentence, so a reader can check it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fingerprint.validation import check_texts

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["VENDOR_NAMES", "identity_claims"]

#: Maker -> (pattern of the maker's names, pattern of its models' names).  The makers of the shared
#: corpora's models; a model name claimed ("I am Claude") counts for its maker.
VENDOR_NAMES: dict[str, tuple[str, str]] = {
    "OpenAI": (r"openai", r"chatgpt|gpt-?(?:3|3\.5|4)(?:-turbo|o)?"),
    "Anthropic": (r"anthropic", r"claude"),
    "Google": (r"google(?: deepmind| brain| ai)?|deepmind", r"gemini|gemma|bard|palm|lamda"),
    "Meta": (r"meta(?: ai)?|facebook", r"llama(?: ?[23])?"),
    "Mistral AI": (r"mistral(?: ai)?", r"mistral|mixtral"),
    "Alibaba": (r"alibaba(?: cloud| group)?", r"qwen|tongyi(?: qianwen)?"),
    "DeepSeek": (r"deepseek(?: ai)?", r"deepseek(?: chat| llm)?"),
    "01.AI": (r"01\.?ai", r"yi"),
    "Cohere": (r"cohere", r"command(?: r)?(?=,|\s+(?:by|from|developed|created|made|trained))"),
    "Microsoft": (r"microsoft", r"phi(?:-[123])?"),
    "Zhipu AI": (r"zhipu(?: ai)?|tsinghua university", r"chatglm"),
    "Baichuan": (r"baichuan(?: intelligence| inc\.?)?", r"baichuan"),
    "Shanghai AI Lab": (r"shanghai (?:ai|artificial intelligence) (?:lab|laboratory)", r"internlm"),
    "LMSYS": (r"lmsys", r"vicuna"),
    "LAION": (r"laion", r"open ?assistant"),
}


def _stems(pattern: str) -> tuple[str, ...]:
    """The literal lower-case start of each top-level alternative of ``pattern`` ("google(?: ai)?|deepmind"
    -> ("google", "deepmind")): a name the pattern matches contains one of them."""
    alternatives, depth, start = [], 0, 0
    for i, ch in enumerate(pattern + "|"):
        depth += (ch == "(") - (ch == ")")
        if ch == "|" and depth == 0:
            alternatives.append(pattern[start:i])
            start = i + 1
    # letters, digits and spaces up to the first one a quantifier makes optional ("open ?assistant" -> "open")
    return tuple(re.match(r"(?:[a-z0-9 ](?![?*{]))*", alt).group(0) for alt in alternatives)  # type: ignore[union-attr]


# A text is searched for a maker's claims only if it holds one of its names' stems (plain substring
# tests on the lower-cased text; most texts name no maker at all) ...
_STEMS = {v: tuple(dict.fromkeys(_stems(maker) + _stems(model))) for v, (maker, model) in VENDOR_NAMES.items()}
# ... and only if it holds one of the cues every claim starts with
_CUES = ("i am", "i'm", "i\u2019m", "name is", "call me", "as a", "as the", "i was", "been",
         "my creator", "my develop", "my maker")  # fmt: skip

_SELF_NOUN = r"(?:ai|assistant|model|chatbot|bot|llm|program|system|agent)"
_VERB = r"(?:developed|created|trained|built|made|designed|programmed|fine-tuned|finetuned|powered)"
_I_AM = r"(?:i am|i['\u2019]m)"


def _claim_pattern(maker: str, model: str) -> re.Pattern[str]:
    # "I am Claude", "I'm ChatGPT", "my name is Qwen", "call me Bard": the name right after the cue
    # (an article, "not" or "like" in between makes it something else)
    name = rf"\b(?:{_I_AM}|my name is|call me)\s+(?:{model})\b"
    # "I am an AI assistant created by Anthropic", "As an AI developed by OpenAI", "I am a model from
    # Mistral AI": the speaker described as an AI, then its maker (after "from" only a maker: "a
    # different system from ChatGPT" is a comparison); at most four words of description ("a large
    # language model") between the article and the noun
    maker_of_me = (
        rf"\b(?:{_I_AM}|as)\s+(?:an?|the)\s+(?:[\w-]+\s+){{0,4}}?{_SELF_NOUN}\b,?\s+"
        rf"(?:(?:that|which|who) was\s+)?(?:{_VERB}\s+by\s+(?:the\s+(?:team|researchers|engineers)\s+at\s+)?"
        rf"(?:{maker}|{model})|from\s+(?:{maker}))\b"
    )
    # "I was trained by OpenAI", "I have been developed by Google", "my creators are Anthropic"
    passive = (
        rf"\b(?:i was|i['\u2019]ve been|i have been|{_I_AM})\s+{_VERB}\s+by\s+"
        rf"(?:the\s+(?:team|researchers|engineers)\s+at\s+)?(?:{maker})\b"
        rf"|\bmy (?:creators?|developers?|makers?)\s+(?:are|is|at|from)\s+(?:{maker})\b"
    )
    return re.compile(f"{name}|{maker_of_me}|{passive}", re.IGNORECASE)


_CLAIMS = {vendor: _claim_pattern(maker, model) for vendor, (maker, model) in VENDOR_NAMES.items()}
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")

#: Characters of context kept around a claim (its sentence, cut to this length).
CONTEXT_CHARS = 200


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence holding ``text[start:end]``, cut to about :data:`CONTEXT_CHARS` characters."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, max(0, start - CONTEXT_CHARS), start)), default=None)
    lo = left if left is not None else max(0, start - CONTEXT_CHARS // 2)
    m = _SENTENCE_END.search(text, end)
    hi = m.end() if m is not None and m.end() - lo <= 2 * CONTEXT_CHARS else min(len(text), end + CONTEXT_CHARS // 2)
    return " ".join(text[lo:hi].split())


def identity_claims(texts: Any) -> pd.DataFrame:
    """The first-person identity claims in each text: a claimed name or maker, with its sentence.

    Parameters
    ----------
    texts : str or sequence of str
        One text, a sequence of texts, a pandas Series or a table with a ``text`` column.

    Returns
    -------
    pandas.DataFrame
        One row per claim, in text order: ``text`` (the text's position), ``vendor`` (the maker
        claimed, a key of :data:`VENDOR_NAMES`; a claimed model name counts for its maker),
        ``claim`` (the words that make the claim) and ``sentence`` (its sentence, for reading).
        A text claims each maker at most once; texts without a claim have no row.

    Notes
    -----
    Stricter than the ``selfid_*`` style markers, which fire on texts about a vendor as well.
    A claim is a pattern, not an understanding: role-play ("I am Claude, your tour guide"),
    quotation and hypotheticals count too, so read the sentences before drawing a conclusion.

    Examples
    --------
    >>> import fingerprint as fp
    >>> df = fp.identity_claims([
    ...     "I am an AI assistant created by Anthropic to be helpful.",
    ...     "Tech giants such as Google and Microsoft hire data scientists.",
    ...     "As an AI developed by OpenAI, I don't browse the web. I am not Claude.",
    ... ])
    >>> df[["text", "vendor", "claim"]].values.tolist()
    [[0, 'Anthropic', 'I am an AI assistant created by Anthropic'], [2, 'OpenAI', 'As an AI developed by OpenAI']]
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for i, text in enumerate(check_texts(texts)):
        low = text.lower()
        if not any(c in low for c in _CUES):
            continue
        for vendor, pattern in _CLAIMS.items():
            m = pattern.search(text) if any(s in low for s in _STEMS[vendor]) else None
            if m is not None:
                rows.append({"text": i, "vendor": vendor, "claim": m.group(0),
                             "sentence": _sentence(text, m.start(), m.end())})  # fmt: skip
    rows.sort(key=lambda r: r["text"])  # stable: makers in table order within a text
    return pd.DataFrame(rows, columns=["text", "vendor", "claim", "sentence"])
