"""Splitting texts into chunks of whole sentences that fit a model's token budget.

A sentence-transformers model reads at most ``max_seq_length`` word pieces
(256 for all-MiniLM-L6-v2, roughly the first 1,000 characters) and silently
drops the rest.  :func:`chunk_texts` cuts each text at sentence boundaries
into chunks that each fit, packing sentences greedily; a sentence longer than
the budget is cut between words (:func:`split_overlong`).  Chunks are slices
of the text, so joining them (with the whitespace between) gives it back.

Everything here is a pure function of its inputs; the only model part needed
is a Hugging Face tokenizer (fast or slow), passed in.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["SENTENCE_BOUNDARY", "chunk_texts", "split_overlong", "split_sentences", "token_budget"]

#: A sentence ends at . ! ? (plus closing quotes/brackets) followed by spaces or tabs, or at a line break.
SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*[ \t]+|\n+")


def token_budget(tokenizer: Any, max_seq_length: int | None = None) -> int:
    """Word pieces a chunk may hold: the model's sequence limit minus the special tokens it adds.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        The model's tokenizer.
    max_seq_length : int or None, default=None
        The model's ``max_seq_length``; ``None`` (or 0) uses ``tokenizer.model_max_length``.

    Returns
    -------
    int

    Examples
    --------
    >>> from transformers import AutoTokenizer
    >>> from fingerprint.features.embedding_models import default_model_dir
    >>> tok = AutoTokenizer.from_pretrained(default_model_dir())
    >>> token_budget(tok, 256)  # [CLS] and [SEP] take two
    254
    """
    limit = max_seq_length or tokenizer.model_max_length
    return int(limit) - int(tokenizer.num_special_tokens_to_add(pair=False))


def split_sentences(text: str) -> list[str]:
    """Cut a text into sentences (see :data:`SENTENCE_BOUNDARY`), keeping every character.

    The whitespace after a sentence stays with it, so ``"".join`` of the
    result is the text.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> split_sentences('Hi there. "Really?" she asked.\\n\\nYes!')
    ['Hi there. ', '"Really?" ', 'she asked.\\n\\n', 'Yes!']
    >>> split_sentences("Version 2.1 is out")  # no space after the dot: not a boundary
    ['Version 2.1 is out']
    """
    cuts = [0, *(m.end() for m in SENTENCE_BOUNDARY.finditer(text)), len(text)]
    out: list[str] = []
    for a, b in itertools.pairwise(cuts):
        if out and not text[a:b].strip():
            out[-1] += text[a:b]  # keep the text contiguous: whitespace stays with its sentence
        elif b > a:
            out.append(text[a:b])
    return out


def split_overlong(text: str, tokenizer: Any, budget: int) -> list[str]:
    """Cut one over-long piece into pieces of at most ``budget`` tokens, between words where possible.

    A word longer than the budget on its own is cut inside.  Pieces are
    stripped of surrounding whitespace.

    Parameters
    ----------
    text : str
        The piece (usually one sentence) to cut.
    tokenizer : transformers tokenizer
        Fast tokenizers are cut at token offsets; slow ones by packing whole words.
    budget : int
        Tokens per piece, special tokens not included (see :func:`token_budget`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from transformers import AutoTokenizer
    >>> from fingerprint.features.embedding_models import default_model_dir
    >>> tok = AutoTokenizer.from_pretrained(default_model_dir())
    >>> split_overlong("one two three four five six seven", tok, 3)
    ['one two three', 'four five six', 'seven']
    """
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offs = enc["offset_mapping"]
        words = enc.word_ids()
        pieces, i, n = [], 0, len(offs)
        while i < n:
            j = min(i + budget, n)
            if j < n and words[j] is not None and words[j] == words[j - 1]:
                k = j
                while k > i + 1 and words[k] == words[k - 1]:
                    k -= 1
                if words[k] != words[k - 1]:  # else one word is longer than the budget: cut inside it
                    j = k
            start = 0 if i == 0 else offs[i][0]
            end = len(text) if j == n else offs[j][0]
            pieces.append(text[start:end])
            i = j
    else:  # slow tokenizer: pack whole words, cutting a word only if it alone is too long
        pieces, cur, cur_n = [], "", 0
        for w in re.findall(r"\S+\s*", text):
            n_w = len(tokenizer.tokenize(w))
            if cur and cur_n + n_w > budget:
                pieces.append(cur)
                cur, cur_n = "", 0
            while n_w > budget:
                cut = max(1, len(w) * budget // n_w)
                pieces.append(w[:cut])
                w = w[cut:]
                n_w = len(tokenizer.tokenize(w))
            cur, cur_n = cur + w, cur_n + n_w
        if cur:
            pieces.append(cur)
    return [p.strip() for p in pieces if p.strip()] or [text.strip()]


def chunk_texts(texts: Sequence[str], tokenizer: Any, budget: int) -> list[list[str]]:
    """Chunks of whole sentences of at most ``budget`` tokens, per text.

    Sentences (:func:`split_sentences`) are packed greedily in order; a
    sentence over the budget is cut between words (:func:`split_overlong`).
    All texts are tokenised in one batch call.

    Parameters
    ----------
    texts : sequence of str
    tokenizer : transformers tokenizer
    budget : int
        Tokens per chunk, special tokens not included (see :func:`token_budget`).

    Returns
    -------
    list of list of str
        One non-empty list per text, in order; each chunk is a slice of the
        text with the whitespace at its ends stripped.

    Examples
    --------
    >>> from transformers import AutoTokenizer
    >>> from fingerprint.features.embedding_models import default_model_dir
    >>> tok = AutoTokenizer.from_pretrained(default_model_dir())
    >>> chunk_texts(["First point. Second point. Third point.", "Short."], tok, 7)
    [['First point. Second point.', 'Third point.'], ['Short.']]
    """
    if not texts:
        return []
    sents = [split_sentences(t) for t in texts]
    flat = [s for ss in sents for s in ss]
    counts = (
        iter(len(ids) for ids in tokenizer(flat, add_special_tokens=False, verbose=False)["input_ids"])
        if flat
        else iter(())
    )
    out: list[list[str]] = []
    for t, ss in zip(texts, sents, strict=True):
        chunks: list[str] = []
        cur: list[str] = []
        cur_n = 0
        for s in ss:
            n = next(counts)
            if n > budget:
                if cur:
                    chunks.append("".join(cur))
                    cur, cur_n = [], 0
                chunks.extend(split_overlong(s, tokenizer, budget))
                continue
            if cur and cur_n + n > budget:
                chunks.append("".join(cur))
                cur, cur_n = [], 0
            cur.append(s)
            cur_n += n
        if cur:
            chunks.append("".join(cur))
        chunks = [c.strip() for c in chunks if c.strip()] or [t.strip() or t]
        out.append(chunks)
    # token counts of joined sentences are not always additive (BPE, sentencepiece): check, re-split
    flat = [c for cs in out for c in cs]
    lens = [len(ids) for ids in tokenizer(flat, add_special_tokens=False, verbose=False)["input_ids"]]
    if lens and max(lens) > budget:
        it = iter(lens)
        out = [[p for c in cs for p in ([c] if next(it) <= budget else split_overlong(c, tokenizer, budget))]
               for cs in out]  # fmt: skip
    return out
