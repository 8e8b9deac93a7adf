"""Named, interpretable style markers that LLM outputs are known to differ in.

Each marker is a single number per text with a stable name, so fingerprints
can be explained ("this model opens with *Certainly* 40x more often than the
others").  Counts are turned into rates so that long and short answers are
comparable; lengths are log-scaled so a 10 MB text cannot dominate a model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from fingerprint._validation import check_texts

__all__ = ["STYLE_MARKER_NAMES", "StyleMarkers", "describe_marker"]

# --- markdown structure ---------------------------------------------------
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+\S", re.MULTILINE)
_BULLET = re.compile(r"^\s*[-*+•]\s+\S", re.MULTILINE)
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)[^*\n]+(?<!\s)\*(?![*\w])")
_FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)
_INLINE_CODE = re.compile(r"(?<!`)`[^`\n]+`(?!`)")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)
_BLOCKQUOTE = re.compile(r"^\s*>\s", re.MULTILINE)
_LINK = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)|https?://\S+")
_LIST_COLON = re.compile(r":\s*\n\s*(?:[-*+•]|\d{1,3}[.)])\s", re.MULTILINE)
_BOLD_LEAD = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\*\*[^*\n]+\*\*", re.MULTILINE)

# --- punctuation ------------------------------------------------------------
_EM_DASH = re.compile("\u2014")
_EN_DASH = re.compile("\u2013")
_SPACED_HYPHEN = re.compile(r"\s-\s")
_ELLIPSIS = re.compile(r"\.\.\.|\u2026")
_CURLY_QUOTE = re.compile("[\u2018\u2019\u201c\u201d]")
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff\u2b50\u2b55\u203c\u2049]")

# --- words ------------------------------------------------------------------
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*", re.UNICODE)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_PARA_SPLIT = re.compile(r"\n\s*\n")
_CONTRACTION = re.compile(r"\b\w+['\u2019](?:s|t|re|ve|ll|d|m)\b", re.IGNORECASE)
_FIRST_SING = re.compile(r"\b(?:i|me|my|mine|myself)\b", re.IGNORECASE)
_FIRST_PLUR = re.compile(r"\b(?:we|us|our|ours|ourselves)\b", re.IGNORECASE)
_SECOND = re.compile(r"\b(?:you|your|yours|yourself|yourselves)\b", re.IGNORECASE)
_TRANSITION = re.compile(
    r"\b(?:additionally|furthermore|moreover|however|overall|ultimately|"
    r"in addition|on the other hand|in summary|in conclusion)\b",
    re.IGNORECASE,
)

# --- openers (matched against the first 80 characters) ----------------------
_OPENERS: dict[str, re.Pattern[str]] = {
    "sure": re.compile(r"^\W*sure\b", re.IGNORECASE),
    "certainly": re.compile(r"^\W*certainly\b", re.IGNORECASE),
    "of_course": re.compile(r"^\W*of course\b", re.IGNORECASE),
    "absolutely": re.compile(r"^\W*absolutely\b", re.IGNORECASE),
    "great_question": re.compile(
        r"^\W*(?:what a |that'?s a |this is a )?(?:great|good|excellent|interesting) question",
        re.IGNORECASE,
    ),
    "here_is": re.compile(r"^\W*here(?:'s| is| are)\b", re.IGNORECASE),
    "yes_no": re.compile(r"^\W*(?:yes|no)\b", re.IGNORECASE),
    "greeting": re.compile(r"^\W*(?:hi|hello|hey|greetings|dear)\b", re.IGNORECASE),
    "apology": re.compile(r"^\W*(?:i'?m sorry|i am sorry|sorry|i apologi[sz]e)", re.IGNORECASE),
    "refusal": re.compile(r"^\W*(?:i (?:can(?:no|')t|cannot|am unable to|won'?t|am not able to))", re.IGNORECASE),
}

# --- closers (matched against the last 200 characters) ----------------------
_CLOSERS: dict[str, re.Pattern[str]] = {
    "hope_helps": re.compile(r"\bhope (?:this|that|it|these) (?:helps|was helpful|is helpful)", re.IGNORECASE),
    "let_me_know": re.compile(r"\blet me know\b", re.IGNORECASE),
    "feel_free": re.compile(r"\bfeel free\b", re.IGNORECASE),
    "conclusion": re.compile(r"\b(?:in conclusion|in summary|overall|to summari[sz]e)\b", re.I),
    "question_end": re.compile(r"\?\s*$"),
}

# --- hedges and AI disclaimers (whole text) ---------------------------------
_HEDGES: dict[str, re.Pattern[str]] = {
    "as_an_ai": re.compile(
        r"\bas an? (?:ai|artificial intelligence|(?:ai )?language model|large language model|"
        r"ai assistant|chatbot|virtual assistant)\b",
        re.IGNORECASE,
    ),
    "no_personal": re.compile(
        r"\bi (?:do not|don'?t) have (?:personal|the ability|access|feelings|emotions|opinions|"
        r"real-time|the capability)",
        re.IGNORECASE,
    ),
    "important_note": re.compile(
        r"\b(?:it'?s|it is) (?:important|worth|crucial|essential) (?:to (?:note|remember|consider)|noting)",
        re.IGNORECASE,
    ),
    "consult": re.compile(r"\b(?:consult|seek advice from|speak with) (?:a|an|your) ", re.I),
}

# --- self-identification ----------------------------------------------------
# A vendor name counts only in an identity context ("I am ChatGPT",
# "trained by Anthropic"), so a text *about* Google search is not a self-ID.
_ID_CONTEXT = (
    r"(?:\bi am\b|\bi'm\b|\bmy name is\b|\bas\b|\bdeveloped by\b|\bcreated by\b|"
    r"\btrained by\b|\bbuilt by\b|\bmade by\b|\bfrom\b)"
)
_VENDORS: dict[str, str] = {
    "openai": r"openai|chatgpt|gpt-?[34](?:\.5)?(?:-turbo)?",
    "anthropic": r"anthropic|claude",
    "google": r"google(?: deepmind)?|gemini|bard|palm|lamda",
    "meta": r"meta(?: ai)?|llama",
    "mistral": r"mistral(?: ai)?|mixtral",
    "qwen": r"qwen|tongyi|alibaba(?: cloud)?",
    "deepseek": r"deepseek",
    "other_vendor": r"01\.?ai|\byi\b|cohere|command|vicuna|lmsys|open ?assistant|laion",
}
_SELF_ID: dict[str, re.Pattern[str]] = {
    v: re.compile(_ID_CONTEXT + r"[^.\n]{0,40}?\b(?:" + pat + r")\b", re.IGNORECASE) for v, pat in _VENDORS.items()
}

_ANY_VENDOR = re.compile(r"\b(?:" + "|".join(_VENDORS.values()) + r")\b", re.IGNORECASE)


def _lengths(parts: Sequence[str]) -> np.ndarray:
    return np.array([len(_WORD.findall(p)) for p in parts if p.strip()], dtype=float)


def _safe_stats(a: np.ndarray) -> tuple[float, float]:
    if a.size == 0:
        return 0.0, 0.0
    return float(a.mean()), float(a.std())


def _markers(text: str) -> dict[str, float]:
    n_chars = len(text)
    words = _WORD.findall(text)
    n_words = len(words)
    per_word = 100.0 / max(n_words, 1)  # rates per 100 words
    per_char = 1000.0 / max(n_chars, 1)  # punctuation per 1,000 characters
    lines = [ln for ln in text.split("\n") if ln.strip()]
    n_lines = max(len(lines), 1)
    sents = _lengths(_SENT_SPLIT.split(text))
    paras = _lengths(_PARA_SPLIT.split(text))
    sent_mean, sent_std = _safe_stats(sents)
    para_mean, para_std = _safe_stats(paras)
    head, tail = text[:80], text[-200:]
    letters = sum(map(str.isalpha, text))  # map over str methods: C speed
    out: dict[str, float] = {
        # length and shape
        "log_chars": math.log1p(n_chars),
        "log_words": math.log1p(n_words),
        "log_sentences": math.log1p(sents.size),
        "sentence_words_mean": sent_mean,
        "sentence_words_std": sent_std,
        "log_paragraphs": math.log1p(paras.size),
        "paragraph_words_mean": para_mean,
        "paragraph_words_std": para_std,
        "word_length_mean": (sum(map(len, words)) / n_words) if n_words else 0.0,
        "type_token_ratio": (len({w.lower() for w in words[:200]}) / min(n_words, 200)) if n_words else 0.0,
        "newline_rate": text.count("\n") * per_char,
        "uppercase_ratio": (sum(map(str.isupper, text)) / letters) if letters else 0.0,
        "digit_rate": sum(map(str.isdigit, text)) * per_char,
        "non_ascii_rate": (n_chars - len(text.encode("ascii", "ignore"))) * per_char,
        # markdown structure (share of non-empty lines, or counts per 100 words)
        "md_header_lines": len(_HEADER.findall(text)) / n_lines,
        "md_bullet_lines": len(_BULLET.findall(text)) / n_lines,
        "md_numbered_lines": len(_NUMBERED.findall(text)) / n_lines,
        "md_table_lines": len(_TABLE_ROW.findall(text)) / n_lines,
        "md_blockquote_lines": len(_BLOCKQUOTE.findall(text)) / n_lines,
        "md_bold": len(_BOLD.findall(text)) * per_word,
        "md_italic": len(_ITALIC.findall(text)) * per_word,
        "md_bold_list_lead": len(_BOLD_LEAD.findall(text)) / n_lines,
        "md_code_fences": len(_FENCE.findall(text)) / 2.0,
        "md_inline_code": len(_INLINE_CODE.findall(text)) * per_word,
        "md_links": len(_LINK.findall(text)) * per_word,
        "md_colon_before_list": float(len(_LIST_COLON.findall(text))),
        # punctuation per 1,000 characters
        "punct_em_dash": len(_EM_DASH.findall(text)) * per_char,
        "punct_en_dash": len(_EN_DASH.findall(text)) * per_char,
        "punct_spaced_hyphen": len(_SPACED_HYPHEN.findall(text)) * per_char,
        "punct_colon": text.count(":") * per_char,
        "punct_semicolon": text.count(";") * per_char,
        "punct_exclamation": text.count("!") * per_char,
        "punct_question": text.count("?") * per_char,
        "punct_ellipsis": len(_ELLIPSIS.findall(text)) * per_char,
        "punct_comma": text.count(",") * per_char,
        "punct_parenthesis": text.count("(") * per_char,
        "punct_curly_quote": len(_CURLY_QUOTE.findall(text)) * per_char,
        "punct_straight_quote": (text.count('"') + text.count("'")) * per_char,
        "emoji_rate": len(_EMOJI.findall(text)) * per_char,
        # voice, per 100 words
        "contraction_rate": len(_CONTRACTION.findall(text)) * per_word,
        "first_person_singular": len(_FIRST_SING.findall(text)) * per_word,
        "first_person_plural": len(_FIRST_PLUR.findall(text)) * per_word,
        "second_person": len(_SECOND.findall(text)) * per_word,
        "transition_rate": len(_TRANSITION.findall(text)) * per_word,
        "ends_with_punctuation": float(text.rstrip()[-1:] in ".!?)\"'`*"),
    }
    for name, pat in _OPENERS.items():
        out[f"opener_{name}"] = float(bool(pat.search(head)))
    for name, pat in _CLOSERS.items():
        out[f"closer_{name}"] = float(bool(pat.search(tail)))
    for name, pat in _HEDGES.items():
        out[f"hedge_{name}"] = float(len(pat.findall(text)))
    has_vendor = _ANY_VENDOR.search(text) is not None  # cheap pre-check: most texts name none
    for name, pat in _SELF_ID.items():
        out[f"selfid_{name}"] = float(has_vendor and bool(pat.search(text)))
    return out


STYLE_MARKER_NAMES: tuple[str, ...] = tuple(_markers("Sure. Example text.\n\nSecond paragraph."))
"""Names of the style markers, in the column order of :class:`StyleMarkers`.

Examples
--------
>>> from fingerprint import STYLE_MARKER_NAMES, describe_marker
>>> len(STYLE_MARKER_NAMES)
72
>>> STYLE_MARKER_NAMES[:3]
('log_chars', 'log_words', 'log_sentences')
>>> [n for n in STYLE_MARKER_NAMES if n.startswith("selfid_")][:2]
['selfid_openai', 'selfid_anthropic']
>>> describe_marker("punct_em_dash")
"'em dash' per 1,000 characters"
"""

_DESCRIPTIONS: dict[str, str] = {
    "log_chars": "log(1 + characters): answer length",
    "log_words": "log(1 + words)",
    "log_sentences": "log(1 + sentences); a sentence ends in . ! ? or a line break",
    "log_paragraphs": "log(1 + paragraphs); paragraphs are separated by a blank line",
    "type_token_ratio": "distinct / total words over the first 200 words",
    "md_header_lines": "share of non-empty lines that are markdown headers (# ...)",
    "md_bullet_lines": "share of non-empty lines that are bullet items (-, *, +, •)",
    "md_numbered_lines": "share of non-empty lines that are numbered items (1. or 1))",
    "md_bold_list_lead": "share of lines that are list items starting in **bold**",
    "md_code_fences": "number of fenced code blocks (``` or ~~~)",
    "md_colon_before_list": "times a line ending in ':' is followed by a list",
    "ends_with_punctuation": "1 if the answer ends in closing punctuation (0 hints truncation)",
}


def describe_marker(name: str) -> str:
    """Return a one-line, human-readable description of a style marker.

    Parameters
    ----------
    name : str
        A name from :data:`STYLE_MARKER_NAMES`.

    Returns
    -------
    str
        What the marker measures and in which unit.

    Examples
    --------
    >>> describe_marker("opener_certainly")
    "1 if the answer opens with 'certainly'"
    """
    if name not in STYLE_MARKER_NAMES:
        raise KeyError(f"unknown style marker {name!r}; see fingerprint.STYLE_MARKER_NAMES")
    if name in _DESCRIPTIONS:
        return _DESCRIPTIONS[name]
    kind, _, rest = name.partition("_")
    words = rest.replace("_", " ")
    templates: dict[str, Callable[[str], str]] = {
        "opener": lambda w: f"1 if the answer opens with '{w}'",
        "closer": lambda w: f"1 if the last 200 characters contain a '{w}' closing",
        "hedge": lambda w: f"count of '{w}' hedges/disclaimers",
        "selfid": lambda w: f"1 if the text identifies itself with {w} (e.g. 'I am …', 'trained by …')",
        "punct": lambda w: f"'{w}' per 1,000 characters",
        "md": lambda w: f"markdown {w} per 100 words",
    }
    if kind in templates:
        return templates[kind](words)
    return name.replace("_", " ") + (" per 100 words" if name.endswith("rate") else "")


class StyleMarkers(TransformerMixin, BaseEstimator):
    """Extract named, interpretable style markers (a stateless transformer).

    Markers cover markdown structure, punctuation, sentence and paragraph
    shape, answer length, opening and closing phrases, hedges/AI disclaimers,
    self-identification with a model vendor, contractions and person.

    Parameters
    ----------
    max_chars : int or None, default=100_000
        Texts are cut to this many characters before measuring (the length
        markers still see the full length).  Bounds time on huge inputs.

    Attributes
    ----------
    n_features_in_ : int
        Always 1 (one text column).
    feature_names_out_ : ndarray of str
        Marker names, identical to :data:`STYLE_MARKER_NAMES`.

    Examples
    --------
    >>> sm = StyleMarkers().fit(["Sure! Here is a list:\\n- a\\n- b"])
    >>> X = sm.transform(["Certainly! I hope this helps."])
    >>> X.shape[1] == len(sm.get_feature_names_out())
    True
    >>> markers = dict(zip(sm.get_feature_names_out(), X[0]))
    >>> float(markers["opener_certainly"]), float(markers["closer_hope_helps"])
    (1.0, 1.0)
    """

    def __init__(self, max_chars: int | None = 100_000) -> None:
        self.max_chars = max_chars

    def fit(self, X: object, y: object = None) -> StyleMarkers:
        """Validate input and record the marker names; learns nothing from data.

        Parameters
        ----------
        X : sequence of str
            Texts.
        y : ignored

        Returns
        -------
        self
        """
        check_texts(X, max_chars=None)
        self.n_features_in_ = 1
        self.feature_names_out_ = np.array(STYLE_MARKER_NAMES, dtype=object)
        return self

    def transform(self, X: object) -> np.ndarray:
        """Compute the markers.

        Parameters
        ----------
        X : sequence of str
            Texts.

        Returns
        -------
        ndarray of shape (n_texts, n_markers), float64
        """
        check_is_fitted(self, "feature_names_out_")
        texts = check_texts(X, max_chars=None)  # bounded by self.max_chars below
        out = np.empty((len(texts), len(STYLE_MARKER_NAMES)), dtype=np.float64)
        for i, t in enumerate(texts):
            full_len = len(t)
            if self.max_chars is not None and full_len > self.max_chars:
                t = t[: self.max_chars]
            row = _markers(t)
            if full_len != len(t):
                row["log_chars"] = math.log1p(full_len)
            out[i] = [row[k] for k in STYLE_MARKER_NAMES]
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Stable marker names, in column order.

        Returns
        -------
        ndarray of str
        """
        return np.array(STYLE_MARKER_NAMES, dtype=object)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags
