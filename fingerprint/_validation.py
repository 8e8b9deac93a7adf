"""Input checks shared by every public entry point.

Errors say what came in and what was expected, so a notebook user can fix
the call without reading the source.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

#: Texts longer than this are rejected unless truncation is asked for
#: (a 10 MB "answer" is nearly always a concatenation bug upstream).
MAX_TEXT_CHARS = 1_000_000


def as_text_list(texts: Any) -> list[Any]:
    """Turn a str / list / tuple / ndarray / pandas Series / datasets column into a list."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, bytes):
        raise TypeError("texts must be str, not bytes: decode them first (e.g. b.decode('utf-8'))")
    # datasets.Dataset: take its 'text' column (duck-typed to keep imports light)
    if hasattr(texts, "column_names") and hasattr(texts, "__getitem__"):
        if "text" not in texts.column_names:
            raise ValueError(
                f"dataset has no 'text' column (columns: {texts.column_names}); pass dataset['<column>'] instead"
            )
        return list(texts["text"])
    if hasattr(texts, "tolist") and not isinstance(texts, np.ndarray | list):
        return list(texts.tolist())  # pandas Series / Index
    if isinstance(texts, np.ndarray):
        if texts.ndim == 2 and texts.shape[1] == 1:
            texts = texts[:, 0]
        if texts.ndim != 1:
            raise ValueError(f"expected a 1-D sequence of texts, got an array of shape {texts.shape}")
        return texts.tolist()
    if isinstance(texts, Iterable):
        return list(texts)
    raise TypeError(f"expected a string or a sequence of strings, got {type(texts).__name__}")


def check_texts(texts: Any, *, max_chars: int | None = MAX_TEXT_CHARS) -> list[str]:
    """Validate texts and return them as a list of str.

    Raises
    ------
    TypeError
        A text is not a ``str`` (``None``, NaN, numbers, bytes ...).
    ValueError
        No texts, a text that is empty or whitespace only, or a text over
        ``max_chars`` characters.
    """
    items = as_text_list(texts)
    if not items:
        raise ValueError("expected at least one text, got an empty sequence")
    for i, t in enumerate(items):
        if not isinstance(t, str):
            what = "NaN" if isinstance(t, float) and math.isnan(t) else repr(t)[:40]
            raise TypeError(f"text {i} is {type(t).__name__} ({what}); every text must be a str")
        if not t.strip():
            raise ValueError(f"text {i} is empty or whitespace only; drop it before attributing")
        if max_chars is not None and len(t) > max_chars:
            raise ValueError(
                f"text {i} has {len(t):,} characters (limit {max_chars:,}); split or truncate it, or raise max_chars"
            )
    return items


def check_labels(labels: Any, n: int) -> np.ndarray:
    """Validate model labels: one non-empty string per text."""
    if isinstance(labels, str):
        raise TypeError("labels must be a sequence with one model name per text, not a single str")
    items = as_text_list(labels)
    if len(items) != n:
        raise ValueError(f"got {n} texts but {len(items)} labels; pass one model name per text")
    for i, lab in enumerate(items):
        if not isinstance(lab, str) or not lab.strip():
            raise TypeError(f"label {i} is {lab!r}; every label must be a non-empty model name (str)")
    return np.asarray(items, dtype=object)
