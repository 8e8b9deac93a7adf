"""Named, interpretable style markers that LLM outputs are known to differ in.

Each marker is a single number per text with a stable name, so fingerprints
can be explained ("this model opens with *Certainly* 40x more often than the
others").  Counts are turned into rates so that long and short answers are
comparable; lengths are log-scaled so a 10 MB text cannot dominate a model.

Every marker's name, unit, description and computation live in one table,
:data:`MARKERS`; the column order, :data:`STYLE_MARKER_NAMES`,
:func:`describe_marker` and the documentation's marker table are read from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from fingerprint.validation import check_int, check_texts

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MARKERS", "STYLE_MARKER_NAMES", "Marker", "StyleMarkers", "describe_marker", "marker_table"]

# --- markdown structure ---------------------------------------------------
# A line's leading blanks are [^\S\n]* (whitespace but the newline), not \s*: with \s* every line start
# of a run of n blank lines scanned the rest of the run before failing, n^2 steps (a 16,000-character
# run of newlines took 25 s; 2026-12-07).  The counts are the same: \s* from a line start crosses only
# blank lines to reach the marker, which [^\S\n]* reaches from the marker's own line start, and the
# match ends where it did (tests/test_style.py checks both forms on generated texts).
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+\S", re.MULTILINE)  # at most 3 blanks: never long
_BULLET = re.compile(r"^[^\S\n]*[-*+•]\s+\S", re.MULTILINE)
_NUMBERED = re.compile(r"^[^\S\n]*\d{1,3}[.)]\s+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)[^*\n]+(?<!\s)\*(?![*\w])")
_FENCE = re.compile(r"^[^\S\n]*(```|~~~)", re.MULTILINE)
_INLINE_CODE = re.compile(r"(?<!`)`[^`\n]+`(?!`)")
_TABLE_ROW = re.compile(r"^[^\S\n]*\|.*\|\s*$", re.MULTILINE)
_BLOCKQUOTE = re.compile(r"^[^\S\n]*>\s", re.MULTILINE)
_LINK = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)|https?://\S+")  # what _count_links counts
_URL = re.compile(r"https?://\S+")
_TARGET_STOP = re.compile(r"[)\s]")
_LIST_COLON = re.compile(r":[^\S\n]*\n\s*(?:[-*+•]|\d{1,3}[.)])\s", re.MULTILINE)
_BOLD_LEAD = re.compile(r"^[^\S\n]*(?:[-*+•]|\d{1,3}[.)])\s+\*\*[^*\n]+\*\*", re.MULTILINE)

# --- punctuation ------------------------------------------------------------
_EM_DASH, _EN_DASH = "\u2014", "\u2013"
_SPACED_HYPHEN = re.compile(r"\s-\s")
_ELLIPSIS = re.compile(r"\.\.\.|\u2026")
_CURLY_QUOTES = ("\u2018", "\u2019", "\u201c", "\u201d")
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff\u2b50\u2b55\u203c\u2049]")

# --- words ------------------------------------------------------------------
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*", re.UNICODE)
# split() with the word as a group: the text's words and what lies between them, in one scan
_WORD_SPLIT = re.compile("(" + _WORD.pattern + ")", re.UNICODE)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_PARA_SPLIT = re.compile(r"\n\s*\n")
_CONTRACTION = re.compile(r"\b\w+['\u2019](?:s|t|re|ve|ll|d|m)\b", re.IGNORECASE)
# what _contractions searches for: the apostrophe and ending of a contraction, then its word before it
_CONTRACTION_END = re.compile(r"['\u2019](?:s|t|re|ve|ll|d|m)\b", re.IGNORECASE)
_AFTER_WORD_CHAR = re.compile(r"(?<=\w)")
_FIRST_SING = re.compile(r"\b(?:i|me|my|mine|myself)\b", re.IGNORECASE)
_FIRST_PLUR = re.compile(r"\b(?:we|us|our|ours|ourselves)\b", re.IGNORECASE)
_SECOND = re.compile(r"\b(?:you|your|yours|yourself|yourselves)\b", re.IGNORECASE)
_TRANSITION = re.compile(
    r"\b(?:additionally|furthermore|moreover|however|overall|ultimately|"
    r"in addition|on the other hand|in summary|in conclusion)\b",
    re.IGNORECASE,
)


# --- openers (matched against the first 80 characters) ----------------------
# name -> (what it is, pattern); the table below makes one 0/1 marker ``opener_<name>`` of each.
_OPENERS: dict[str, tuple[str, re.Pattern[str]]] = {
    "sure": ("'Sure'", re.compile(r"^\W*sure\b", re.IGNORECASE)),
    "certainly": ("'Certainly'", re.compile(r"^\W*certainly\b", re.IGNORECASE)),
    "of_course": ("'Of course'", re.compile(r"^\W*of course\b", re.IGNORECASE)),
    "absolutely": ("'Absolutely'", re.compile(r"^\W*absolutely\b", re.IGNORECASE)),
    "great_question": (
        "'Great question' (or good / excellent / interesting; 'What a' / 'That's a' may precede)",
        re.compile(
            r"^\W*(?:what a |that'?s a |this is a )?(?:great|good|excellent|interesting) question",
            re.IGNORECASE,
        ),
    ),
    "here_is": ("'Here is', 'Here's' or 'Here are'", re.compile(r"^\W*here(?:'s| is| are)\b", re.IGNORECASE)),
    "yes_no": ("'Yes' or 'No'", re.compile(r"^\W*(?:yes|no)\b", re.IGNORECASE)),
    "greeting": (
        "a greeting ('Hi', 'Hello', 'Hey', 'Greetings', 'Dear')",
        re.compile(r"^\W*(?:hi|hello|hey|greetings|dear)\b", re.IGNORECASE),
    ),
    "apology": (
        "an apology ('I'm sorry', 'Sorry', 'I apologise')",
        re.compile(r"^\W*(?:i'?m sorry|i am sorry|sorry|i apologi[sz]e)", re.IGNORECASE),
    ),
    "refusal": (
        "a refusal ('I can't', 'I cannot', 'I am unable to', 'I won't', 'I am not able to')",
        re.compile(r"^\W*(?:i (?:can(?:no|')t|cannot|am unable to|won'?t|am not able to))", re.IGNORECASE),
    ),
}

# --- closers (matched against the last 200 characters) ----------------------
_CLOSERS: dict[str, tuple[str, re.Pattern[str]]] = {
    "hope_helps": (
        "the last 200 characters say 'hope this helps' (or 'that' / 'it' / 'these'; 'was' / 'is helpful')",
        re.compile(r"\bhope (?:this|that|it|these) (?:helps|was helpful|is helpful)", re.IGNORECASE),
    ),
    "let_me_know": ("the last 200 characters say 'let me know'", re.compile(r"\blet me know\b", re.IGNORECASE)),
    "feel_free": ("the last 200 characters say 'feel free'", re.compile(r"\bfeel free\b", re.IGNORECASE)),
    "conclusion": (
        "the last 200 characters sum up ('in conclusion', 'in summary', 'overall', 'to summarise')",
        re.compile(r"\b(?:in conclusion|in summary|overall|to summari[sz]e)\b", re.I),
    ),
    "question_end": ("the answer ends with a question mark", re.compile(r"\?\s*$")),
}

# --- hedges and AI disclaimers (whole text) ---------------------------------
_HEDGES: dict[str, tuple[str, re.Pattern[str]]] = {
    "as_an_ai": (
        "'As an AI / a language model / an AI assistant …' disclaimers",
        re.compile(
            r"\bas an? (?:ai|artificial intelligence|(?:ai )?language model|large language model|"
            r"ai assistant|chatbot|virtual assistant)\b",
            re.IGNORECASE,
        ),
    ),
    "no_personal": (
        "'I don't have personal … / feelings / opinions / access / real-time …' disclaimers",
        re.compile(
            r"\bi (?:do not|don'?t) have (?:personal|the ability|access|feelings|emotions|opinions|"
            r"real-time|the capability)",
            re.IGNORECASE,
        ),
    ),
    "important_note": (
        "'It's important / worth / crucial / essential to note …' asides",
        re.compile(
            r"\b(?:it'?s|it is) (?:important|worth|crucial|essential) (?:to (?:note|remember|consider)|noting)",
            re.IGNORECASE,
        ),
    ),
    "consult": (
        "advice to consult someone ('consult a …', 'seek advice from your …', 'speak with an …')",
        re.compile(r"\b(?:consult|seek advice from|speak with) (?:a|an|your) ", re.I),
    ),
}

# --- self-identification ----------------------------------------------------
# A vendor name counts only after an identity cue ("I am ChatGPT", "trained by Anthropic").  The bare
# "as" and "from" also let texts *about* a vendor through ("such as Google", "a post from OpenAI"):
# a known limitation (docs/guide/features.md), kept because narrowing a marker changes every fitted
# space's features, the built-in set's included.
_ID_CONTEXT = (
    r"(?:\bi am\b|\bi'm\b|\bmy name is\b|\bas\b|\bdeveloped by\b|\bcreated by\b|"
    r"\btrained by\b|\bbuilt by\b|\bmade by\b|\bfrom\b)"
)
# name -> (who, names pattern)
_VENDORS: dict[str, tuple[str, str]] = {
    "openai": ("OpenAI (OpenAI, ChatGPT, GPT-3/3.5/4)", r"openai|chatgpt|gpt-?[34](?:\.5)?(?:-turbo)?"),
    "anthropic": ("Anthropic (Anthropic, Claude)", r"anthropic|claude"),
    "google": ("Google (Google, Gemini, Bard, PaLM, LaMDA)", r"google(?: deepmind)?|gemini|bard|palm|lamda"),
    "meta": ("Meta (Meta, Meta AI, Llama)", r"meta(?: ai)?|llama"),
    "mistral": ("Mistral (Mistral, Mistral AI, Mixtral)", r"mistral(?: ai)?|mixtral"),
    "qwen": ("Alibaba (Qwen, Tongyi, Alibaba Cloud)", r"qwen|tongyi|alibaba(?: cloud)?"),
    "deepseek": ("DeepSeek", r"deepseek"),
    "other_vendor": (
        "another vendor (01.AI, Yi, Cohere, Command, Vicuna, LMSYS, Open Assistant, LAION)",
        r"01\.?ai|yi|cohere|command|vicuna|lmsys|open ?assistant|laion",
    ),
}
# Every use wraps a names pattern in \b(?:...)\b, so no alternative needs a \b of its own; and
# with none, every alternative starts with a letter or digit and re skips to the positions where one
# of those starts (a 2.4x faster scan of a text that names no vendor, the common case).
_SELF_ID: dict[str, re.Pattern[str]] = {
    v: re.compile(_ID_CONTEXT + r"[^.\n]{0,40}?\b(?:" + pat + r")\b", re.IGNORECASE) for v, (_, pat) in _VENDORS.items()
}

_ANY_VENDOR = re.compile(r"\b(?:" + "|".join(pat for _, pat in _VENDORS.values()) + r")\b", re.IGNORECASE)


def _lengths(parts: Sequence[str]) -> np.ndarray:
    """Words per part (of a text's :attr:`_Text.shape`: each word one ``"w"``), over parts that are not blank."""
    return np.array([p.count("w") for p in parts if p.strip()], dtype=float)


# ASCII letters, upper-case letters and digits: what str.isalpha / isupper / isdigit accept in an ASCII text
_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_ASCII_UPPER, _ASCII_DIGITS = bytes(range(65, 91)), b"0123456789"


def _class_count(c: _Text, ascii_chars: bytes, test: Callable[[str], bool]) -> int:
    """How many characters of the text pass ``test`` (``str.isalpha`` ...): on an ASCII text, those in
    ``ascii_chars``, counted on its bytes (``bytes.translate`` deletes them at C speed)."""
    if c.ascii is not None:
        return len(c.ascii) - len(c.ascii.translate(None, ascii_chars))
    return sum(map(test, c.text))  # map over str methods: C speed


def _safe_stats(a: np.ndarray) -> tuple[float, float]:
    if a.size == 0:
        return 0.0, 0.0
    return float(a.mean()), float(a.std())


class _Text:
    """What the marker computations share about one text, computed once per text.

    ``full_len`` is the length before :class:`StyleMarkers` cut the text to ``max_chars``
    (``log_chars`` reports it); every other quantity is of ``text`` as given.
    """

    __slots__ = (
        "ascii", "full_len", "has_vendor", "letters", "low", "n_chars", "n_lines", "n_words", "para_mean",
        "para_std", "paras", "per_char", "per_word", "sent_mean", "sent_std", "sents", "text", "words",
    )  # fmt: skip

    def __init__(self, text: str, full_len: int | None = None) -> None:
        n_chars = len(text)
        self.text = text
        self.n_chars = n_chars
        self.full_len = n_chars if full_len is None else full_len
        pieces = _WORD_SPLIT.split(text)  # [between, word, between, word, ..., between]
        self.words = words = pieces[1::2]
        self.n_words = n_words = len(words)
        self.per_word = 100.0 / max(n_words, 1)  # rates per 100 words
        self.per_char = 1000.0 / max(n_chars, 1)  # rates per 1,000 characters
        self.n_lines = max(len([ln for ln in text.split("\n") if ln.strip()]), 1)  # non-empty lines
        # The text with each word replaced by one "w": no other letter is left, and sentences and
        # paragraphs split at whitespace (after . ! ? for sentences), which the words never contain,
        # so splitting it gives the same parts as splitting the text, and a part's words are its "w"s.
        # One scan of the text instead of one per sentence and one per paragraph.
        shape = "w".join(pieces[0::2])
        self.sents = _lengths(_SENT_SPLIT.split(shape))
        self.paras = _lengths(_PARA_SPLIT.split(shape))
        self.sent_mean, self.sent_std = _safe_stats(self.sents)
        self.para_mean, self.para_std = _safe_stats(self.paras)
        # an ASCII text lower-cased: case-insensitive patterns run case-sensitively on it (see _Search)
        ascii_text = text.isascii()
        self.low = text.lower() if ascii_text else None
        self.ascii = text.encode("ascii") if ascii_text else None  # its bytes, for counts of character classes
        self.letters = _class_count(self, _ASCII_LETTERS, str.isalpha)
        self.has_vendor = _ANY_VENDOR_SEARCH.found(self)  # cheap pre-check: most texts name none


# --- units: a small, exact vocabulary ---------------------------------------
_LOG_COUNT = "log count"
_WORDS = "words"
_CHARACTERS = "characters"
_RATIO = "ratio"
_PER_100_WORDS = "per 100 words"
_PER_1000_CHARS = "per 1,000 characters"
_SHARE_OF_LINES = "share of non-empty lines"
_COUNT = "count"
_BINARY = "0/1"
_UNITS = (_LOG_COUNT, _WORDS, _CHARACTERS, _RATIO, _PER_100_WORDS, _PER_1000_CHARS, _SHARE_OF_LINES, _COUNT, _BINARY)


@dataclass(frozen=True)
class Marker:
    """One style marker: its name, unit, description and how it is computed.

    The rows of :data:`MARKERS`, the single source of every marker's metadata and value.

    Parameters
    ----------
    name : str
        Stable column name (also in :data:`STYLE_MARKER_NAMES`).
    unit : str
        One of ``"log count"``, ``"words"``, ``"characters"``, ``"ratio"``, ``"per 100 words"``,
        ``"per 1,000 characters"``, ``"share of non-empty lines"``, ``"count"``, ``"0/1"``.
    description : str
        What it measures, without the unit.
    compute : callable
        Takes the per-text quantities that all markers share (words, lines, rates, ...) and
        returns the value; use :meth:`measure` to apply it to a string.

    Examples
    --------
    >>> from fingerprint.features.style import MARKERS, STYLE_MARKER_NAMES
    >>> m = MARKERS[STYLE_MARKER_NAMES.index("punct_em_dash")]
    >>> m.name, m.unit
    ('punct_em_dash', 'per 1,000 characters')
    >>> m.measure("a — b")  # one em dash in 5 characters
    200.0
    """

    name: str
    unit: str
    description: str
    compute: Callable[[_Text], float] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.unit not in _UNITS:
            raise ValueError(f"marker {self.name!r}: unit {self.unit!r} is not one of {_UNITS}")
        if not self.description.strip():
            raise ValueError(f"marker {self.name!r} has no description")

    def measure(self, text: str) -> float:
        """The marker's value on one text (as :class:`StyleMarkers` computes it, without ``max_chars``).

        Parameters
        ----------
        text : str

        Returns
        -------
        float

        Examples
        --------
        >>> from fingerprint.features.style import MARKERS, STYLE_MARKER_NAMES
        >>> MARKERS[STYLE_MARKER_NAMES.index("md_bullet_lines")].measure("Intro:\\n- a\\n- b\\n\\nEnd.")
        0.5
        """
        return self.compute(_Text(text))


# --- computation builders ---------------------------------------------------
# A leading word boundary or lookbehind: zero-width, so a pattern's match at a position is the rest's
# match there whenever it holds (see _Search)
_LEADING_ASSERTION = re.compile(r"\\b|\(\?<[!=](?:\[(?:[^\]\\]|\\.)*\]|\\.|[^()\\\[])*\)")


def _alternates_at_top(pattern: str) -> bool:
    """Whether ``pattern`` has a ``|`` outside every group and character class (``a|b``, not ``(?:a|b)``)."""
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1  # the escaped character is a literal
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]" or pattern[i + 1 : i + 3] == "^]":  # a leading ] is a member
                i += 1 if pattern[i + 1] == "]" else 2
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


class _Search:
    r"""A pattern that runs on a :class:`_Text`, faster than as written and with the same result.

    Two rewrites, each exact:

    * **Case.**  Python's ``re`` is 1.5-2.5x slower with ``IGNORECASE``.  On an ASCII text,
      matching a pattern whose letters are all lower case with ``IGNORECASE`` finds exactly what the
      same pattern without the flag finds in the lower-cased text (same length, same positions,
      ``\w`` and ``\b`` unchanged); other texts use the pattern as written.
    * **Leading assertion.**  A pattern that starts with ``\b`` or a lookbehind cannot use ``re``'s
      literal-prefix scan, and tries every position (2-20x slower on these markers, e.g. 30 us an
      answer instead of 2 for "as an AI": benchmarks/explore/style_patterns.log).  Such a pattern
      matches at a position exactly when its rest matches there and the assertion holds there
      (the assertion is zero-width and sees the whole string), with the same span.  So the rest
      is searched for, from left to right as ``re`` would, and a candidate where the assertion
      fails is skipped by searching again one character on.
      Counting resumes at each match's end, as ``findall`` does; a pattern that matches the empty
      string is counted as written.

    ``tests/test_style.py`` checks both against the patterns as written.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        letters = re.sub(r"\\.", "", pattern.pattern)  # escapes (\W, \S, \u2019 ...) are not literals
        lower_only = pattern.flags & re.IGNORECASE and not re.search("[A-Z]", letters)
        self.lowered = re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE) if lower_only else None
        self.split, self.split_lowered = _split_assertion(pattern), _split_assertion(self.lowered)

    def variant(
        self, c: _Text, part: slice = slice(None)
    ) -> tuple[str, re.Pattern[str], tuple[re.Pattern[str], ...] | None]:
        """The string to match in, the pattern to match with (lower-cased when it can) and its split."""
        if self.lowered is not None and c.low is not None:
            return c.low[part], self.lowered, self.split_lowered
        return c.text[part], self.pattern, self.split

    def count(self, c: _Text, part: slice = slice(None)) -> int:
        """``len(pattern.findall(text))``."""
        text, pattern, split = self.variant(c, part)
        if split is not None:
            try:
                return sum(1 for _ in _assertion_matches(text, *split))
            except _EmptyMatch:
                pass  # findall's rules for empty matches are not worth copying
        return len(pattern.findall(text))

    def found(self, c: _Text, part: slice = slice(None)) -> bool:
        """``pattern.search(text) is not None``."""
        text, pattern, split = self.variant(c, part)
        if split is None:
            return pattern.search(text) is not None
        return next(_assertion_matches(text, *split), None) is not None


class _EmptyMatch(Exception):
    """A rewritten pattern matched the empty string (its count is taken as written)."""


def _split_assertion(pattern: re.Pattern[str] | None) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """``(assertion, rest)`` of a pattern that starts with a zero-width assertion, else None (see _Search)."""
    head = _LEADING_ASSERTION.match(pattern.pattern) if pattern is not None else None
    if pattern is None or head is None or _alternates_at_top(pattern.pattern):
        return None  # "\\ba|b": the assertion belongs to the first alternative only
    return re.compile(head.group(), pattern.flags), re.compile(pattern.pattern[head.end() :], pattern.flags)


def _assertion_matches(text: str, assertion: re.Pattern[str], rest: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """The matches ``findall`` finds of the pattern ``assertion + rest``, from left to right.

    Raises ``_EmptyMatch`` after yielding an empty match.
    """
    m = rest.search(text)
    while m is not None:
        if assertion.match(text, m.start()):
            yield m
            if m.end() == m.start():
                raise _EmptyMatch
            m = rest.search(text, m.end())
        else:  # one character on (an empty match at the end has nowhere further to go)
            m = rest.search(text, m.start() + 1) if m.start() < len(text) else None


_HEAD, _TAIL = slice(None, 80), slice(-200, None)  # what openers and closers look at
_ANY_VENDOR_SEARCH = _Search(_ANY_VENDOR)


def _per_char(pattern: re.Pattern[str]) -> Callable[[_Text], float]:
    s = _Search(pattern)
    return lambda c: s.count(c) * c.per_char


def _chars_per_char(*chars: str) -> Callable[[_Text], float]:
    if len(chars) == 1:
        (ch,) = chars
        return lambda c: c.text.count(ch) * c.per_char
    return lambda c: sum(c.text.count(ch) for ch in chars) * c.per_char


def _per_word(pattern: re.Pattern[str]) -> Callable[[_Text], float]:
    s = _Search(pattern)
    return lambda c: s.count(c) * c.per_word


def _count_links(text: str) -> int:
    """``len(_LINK.findall(text))``, in time linear in the text.

    As a regular expression, every ``[`` of a line scanned the rest of the line for its ``]``: a line
    of 16,000 ``[`` took 0.3 s, of 100,000 (``max_chars``) about 12 s.  A ``[...](...)`` link's text
    ends at the first ``]`` or newline after its ``[``, so every ``[`` before that ``]`` matches or
    fails alike (but one right before it, with nothing between): the first decides, and the
    search goes on after the ``]``.  The link's target ``(...)`` ends at the first ``)`` or
    whitespace, remembered across ``]`` that share it.  Then, as ``findall``: the leftmost match
    of either alternative, and the next search from its end.  ``tests/test_style.py`` compares the
    count with ``findall``'s on generated texts.
    """
    size, n, pos = len(text), 0, 0
    stop = -1  # where the last target scan ended (the first ")" or whitespace after its "(")
    link: tuple[int, int] | None = None  # the next link match found (start, end), while start >= pos
    url: tuple[int, int] | None = None

    def next_link(i: int) -> tuple[int, int] | None:
        nonlocal stop
        i = text.find("[", i)
        while i != -1:
            j = text.find("]", i + 1)
            if j == -1:
                return None  # no "]" after i: no link from here on
            nl = text.find("\n", i + 1, j)
            if nl != -1:  # the line ends first: no "[" before the newline can match
                i = text.find("[", nl + 1)
                continue
            if j > i + 1 and j + 1 < size and text[j + 1] == "(":
                if stop < j + 2:
                    m = _TARGET_STOP.search(text, j + 2)
                    stop = m.start() if m else size
                if stop > j + 2 and stop < size and text[stop] == ")":
                    return i, stop + 1
            # j == i + 1 rules out this "[" only, and there is no other "[" before j
            i = text.find("[", j + 1)
        return None

    def next_url(k: int) -> tuple[int, int] | None:
        k = text.find("http", k)
        while k != -1:
            m = _URL.match(text, k)
            if m:
                return k, m.end()
            k = text.find("http", k + 1)
        return None

    while pos < size:
        if link is None or link[0] < pos:
            link = next_link(pos)
        if url is None or url[0] < pos:
            url = next_url(pos)
        if link is None and url is None:
            break
        first = link if url is None or (link is not None and link[0] < url[0]) else url
        assert first is not None  # one of the two is not None
        n += 1
        pos = first[1]
    return n


def _share_of_lines(pattern: re.Pattern[str]) -> Callable[[_Text], float]:
    s = _Search(pattern)
    return lambda c: s.count(c) / c.n_lines


def _count(pattern: re.Pattern[str]) -> Callable[[_Text], float]:
    s = _Search(pattern)
    return lambda c: float(s.count(c))


def _opens(pattern: re.Pattern[str]) -> Callable[[_Text], float]:
    s = _Search(pattern)
    return lambda c: float(s.found(c, _HEAD))


def _closes(pattern: re.Pattern[str]) -> Callable[[_Text], float]:
    s = _Search(pattern)
    return lambda c: float(s.found(c, _TAIL))


def _self_id(pattern: re.Pattern[str]) -> Callable[[_Text], float]:
    s = _Search(pattern)
    return lambda c: float(c.has_vendor and s.found(c))


def _mean_word_length(c: _Text) -> float:
    return (sum(map(len, c.words)) / c.n_words) if c.n_words else 0.0


def _type_token_ratio(c: _Text) -> float:
    return (len({w.lower() for w in c.words[:200]}) / min(c.n_words, 200)) if c.n_words else 0.0


def _uppercase_ratio(c: _Text) -> float:
    return (_class_count(c, _ASCII_UPPER, str.isupper) / c.letters) if c.letters else 0.0


def _digit_rate(c: _Text) -> float:
    return _class_count(c, _ASCII_DIGITS, str.isdigit) * c.per_char


_EMOJI_SEARCH = _Search(_EMOJI)


def _emoji_rate(c: _Text) -> float:
    return 0.0 if c.ascii is not None else _EMOJI_SEARCH.count(c) * c.per_char  # every emoji is non-ASCII


_CONTRACTION_END_SEARCH = _Search(_CONTRACTION_END)


def _contractions(c: _Text) -> int:
    r"""``len(_CONTRACTION.findall(text))``, found from the apostrophe (~6x faster).

    ``\b\w+'s\b`` can only match from the start of the run of word characters just before an
    apostrophe, and only if that run starts at or after the end of the previous match: the
    ending that matched last is followed by a non-word character, so the next match's run is
    then the one right before the apostrophe unless that run *is* the last ending (``x's's``).
    So: each ``'s``-like ending preceded by a word character that is not the previous match's
    last character counts once.
    """
    text, pattern, _ = _CONTRACTION_END_SEARCH.variant(c)  # lower-cased like every other pattern
    n = end = 0
    m = pattern.search(text)
    while m is not None:
        start = m.start()
        if start > end and _AFTER_WORD_CHAR.match(text, start):
            n += 1
            end = m.end()
            m = pattern.search(text, end)
        else:
            m = pattern.search(text, start + 1)
    return n


_M = Marker
MARKERS: tuple[Marker, ...] = (
    # length and shape
    _M(
        "log_chars",
        _LOG_COUNT,
        "log(1 + characters): answer length (of the whole text, even past max_chars)",
        lambda c: math.log1p(c.full_len),
    ),
    _M("log_words", _LOG_COUNT, "log(1 + words)", lambda c: math.log1p(c.n_words)),
    _M(
        "log_sentences",
        _LOG_COUNT,
        "log(1 + sentences); a sentence ends in . ! ? or a line break",
        lambda c: math.log1p(c.sents.size),
    ),
    _M("sentence_words_mean", _WORDS, "mean sentence length", lambda c: c.sent_mean),
    _M("sentence_words_std", _WORDS, "standard deviation of sentence length", lambda c: c.sent_std),
    _M(
        "log_paragraphs",
        _LOG_COUNT,
        "log(1 + paragraphs); paragraphs are separated by a blank line",
        lambda c: math.log1p(c.paras.size),
    ),
    _M("paragraph_words_mean", _WORDS, "mean paragraph length", lambda c: c.para_mean),
    _M("paragraph_words_std", _WORDS, "standard deviation of paragraph length", lambda c: c.para_std),
    _M("word_length_mean", _CHARACTERS, "mean word length", _mean_word_length),
    _M("type_token_ratio", _RATIO, "distinct / total words (case-folded) over the first 200 words", _type_token_ratio),
    _M("newline_rate", _PER_1000_CHARS, "line breaks", _chars_per_char("\n")),
    _M("uppercase_ratio", _RATIO, "uppercase letters / all letters", _uppercase_ratio),
    _M("digit_rate", _PER_1000_CHARS, "digits", _digit_rate),
    _M(
        "non_ascii_rate",
        _PER_1000_CHARS,
        "non-ASCII characters",
        lambda c: (c.n_chars - len(c.text.encode("ascii", "ignore"))) * c.per_char,
    ),
    # markdown structure
    _M("md_header_lines", _SHARE_OF_LINES, "markdown headers (# …)", _share_of_lines(_HEADER)),
    _M("md_bullet_lines", _SHARE_OF_LINES, "bullet items (-, *, +, •)", _share_of_lines(_BULLET)),
    _M("md_numbered_lines", _SHARE_OF_LINES, "numbered items (1. or 1))", _share_of_lines(_NUMBERED)),
    _M("md_table_lines", _SHARE_OF_LINES, "table rows (| … |)", _share_of_lines(_TABLE_ROW)),
    _M("md_blockquote_lines", _SHARE_OF_LINES, "blockquote lines (> …)", _share_of_lines(_BLOCKQUOTE)),
    _M("md_bold", _PER_100_WORDS, "bold spans (**…** or __…__)", _per_word(_BOLD)),
    _M("md_italic", _PER_100_WORDS, "italic spans (*…*)", _per_word(_ITALIC)),
    _M("md_bold_list_lead", _SHARE_OF_LINES, "list items that start in bold (- **…**)", _share_of_lines(_BOLD_LEAD)),
    _M(
        "md_code_fences",
        _COUNT,
        "fenced code blocks: lines opening with ``` or ~~~, halved",
        lambda c: len(_FENCE.findall(c.text)) / 2.0,
    ),
    _M("md_inline_code", _PER_100_WORDS, "inline code spans (`…`)", _per_word(_INLINE_CODE)),
    _M("md_links", _PER_100_WORDS, "links: markdown [text](url) or bare http(s) URLs",
       lambda c: _count_links(c.text) * c.per_word),
    _M("md_colon_before_list", _COUNT, "lists introduced by a line ending in ':'", _count(_LIST_COLON)),
    # punctuation
    _M("punct_em_dash", _PER_1000_CHARS, "em dashes (—)", _chars_per_char(_EM_DASH)),
    _M("punct_en_dash", _PER_1000_CHARS, "en dashes (–)", _chars_per_char(_EN_DASH)),
    _M("punct_spaced_hyphen", _PER_1000_CHARS, "hyphens between spaces ( - )", _per_char(_SPACED_HYPHEN)),
    _M("punct_colon", _PER_1000_CHARS, "colons (:)", _chars_per_char(":")),
    _M("punct_semicolon", _PER_1000_CHARS, "semicolons (;)", _chars_per_char(";")),
    _M("punct_exclamation", _PER_1000_CHARS, "exclamation marks (!)", _chars_per_char("!")),
    _M("punct_question", _PER_1000_CHARS, "question marks (?)", _chars_per_char("?")),
    _M("punct_ellipsis", _PER_1000_CHARS, "ellipses (... or …)", _per_char(_ELLIPSIS)),
    _M("punct_comma", _PER_1000_CHARS, "commas (,)", _chars_per_char(",")),
    _M("punct_parenthesis", _PER_1000_CHARS, "opening parentheses (()", _chars_per_char("(")),
    _M("punct_curly_quote", _PER_1000_CHARS, "curly quotes (‘ ’ “ ”)", _chars_per_char(*_CURLY_QUOTES)),
    _M("punct_straight_quote", _PER_1000_CHARS, "straight quotes (\" or ')", _chars_per_char('"', "'")),
    _M("emoji_rate", _PER_1000_CHARS, "emoji and pictographs", _emoji_rate),
    # voice
    _M(
        "contraction_rate",
        _PER_100_WORDS,
        "contractions (it's, don't, we'll, I'm …)",
        lambda c: _contractions(c) * c.per_word,
    ),
    _M("first_person_singular", _PER_100_WORDS, "I, me, my, mine, myself", _per_word(_FIRST_SING)),
    _M("first_person_plural", _PER_100_WORDS, "we, us, our, ours, ourselves", _per_word(_FIRST_PLUR)),
    _M("second_person", _PER_100_WORDS, "you, your, yours, yourself, yourselves", _per_word(_SECOND)),
    _M(
        "transition_rate",
        _PER_100_WORDS,
        "transitions (additionally, furthermore, moreover, however, overall, in addition, on the other hand, "
        "in summary, in conclusion)",
        _per_word(_TRANSITION),
    ),
    _M(
        "ends_with_punctuation",
        _BINARY,
        "the answer ends in . ! ? ) \" ' ` or * (0 hints truncation)",
        lambda c: float(c.text.rstrip()[-1:] in ".!?)\"'`*"),
    ),
    # phrase families, generated from their pattern tables above
    *(_M(f"opener_{k}", _BINARY, f"the answer opens with {what}", _opens(p)) for k, (what, p) in _OPENERS.items()),
    *(_M(f"closer_{k}", _BINARY, what, _closes(p)) for k, (what, p) in _CLOSERS.items()),
    *(_M(f"hedge_{k}", _COUNT, what, _count(p)) for k, (what, p) in _HEDGES.items()),
    *(
        _M(
            f"selfid_{k}",
            _BINARY,
            f"the text identifies itself with {who} in an identity context ('I am …', 'trained by …')",
            _self_id(_SELF_ID[k]),
        )
        for k, (who, _) in _VENDORS.items()
    ),
)
"""Every style marker, in the column order of :class:`StyleMarkers`: name, unit, description, computation.

Examples
--------
>>> from fingerprint.features.style import MARKERS
>>> len(MARKERS)
72
>>> MARKERS[10]
Marker(name='newline_rate', unit='per 1,000 characters', description='line breaks')
"""
del _M

_BY_NAME: dict[str, Marker] = {m.name: m for m in MARKERS}
_COMPUTES: tuple[Callable[[_Text], float], ...] = tuple(m.compute for m in MARKERS)

STYLE_MARKER_NAMES: tuple[str, ...] = tuple(m.name for m in MARKERS)
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
'em dashes (—) [per 1,000 characters]'
"""


def describe_marker(name: str) -> str:
    """Return a one-line, human-readable description of a style marker, with its unit.

    Parameters
    ----------
    name : str
        A name from :data:`STYLE_MARKER_NAMES`.

    Returns
    -------
    str
        What the marker measures, then its unit in brackets (from :data:`MARKERS`).

    Raises
    ------
    KeyError
        ``name`` is not a style marker.

    Examples
    --------
    >>> describe_marker("opener_certainly")
    "the answer opens with 'Certainly' [0/1]"
    >>> describe_marker("newline_rate")
    'line breaks [per 1,000 characters]'
    >>> describe_marker("md_header_lines")
    'markdown headers (# …) [share of non-empty lines]'
    """
    try:
        m = _BY_NAME[name]
    except (KeyError, TypeError):
        raise KeyError(f"unknown style marker {name!r}; see fingerprint.STYLE_MARKER_NAMES") from None
    return f"{m.description} [{m.unit}]"


def marker_table() -> pd.DataFrame:
    """The style markers as a table: one row per marker, in column order.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``unit`` and ``description`` (the description without the unit).

    Examples
    --------
    >>> df = marker_table()
    >>> df.shape
    (72, 3)
    >>> df.set_index("name").loc["md_code_fences", "unit"]
    'count'
    """
    import pandas as pd

    return pd.DataFrame([(m.name, m.unit, m.description) for m in MARKERS], columns=["name", "unit", "description"])


class StyleMarkers(TransformerMixin, BaseEstimator):
    """Extract named, interpretable style markers (a stateless transformer).

    Markers cover markdown structure, punctuation, sentence and paragraph
    shape, answer length, opening and closing phrases, hedges/AI disclaimers,
    self-identification with a model vendor, contractions and person.

    Parameters
    ----------
    max_chars : int >= 1 or None, default=100_000
        Longer texts are measured on this many characters: their beginning and
        their last 200 (what the closers read; half of ``max_chars`` below 400); ``log_chars`` still sees the full
        length.  Bounds time on huge inputs.  Checked at :meth:`fit`.

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

        Raises
        ------
        ValueError
            ``max_chars`` is below 1 (``TypeError`` if it is not an integer or None), or a text is
            empty.
        """
        check_int(self.max_chars, "max_chars", low=1, allow_none=True, owner="StyleMarkers")
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
        max_chars = self.max_chars
        for i, t in enumerate(texts):
            full_len = len(t)
            if max_chars is not None and full_len > max_chars:
                # its head and its ending: closers and "ends with punctuation" read the last 200 characters
                # (_TAIL), which a plain cut lost (a 119k-character answer's "I hope this helps!" read as absent)
                keep = min(-_TAIL.start, max_chars // 2)
                t = t[: max_chars - keep] + t[full_len - keep :]
            c = _Text(t, full_len)
            out[i] = [f(c) for f in _COMPUTES]
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
