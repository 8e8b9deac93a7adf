"""Input checks shared by every public entry point.

Errors say what came in and what was expected, so a notebook user can fix
the call without reading the source.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import json
import math
import os
import re
import sys
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

#: Texts longer than this are rejected unless truncation is asked for
#: (a 10 MB "answer" is nearly always a concatenation bug upstream).
MAX_TEXT_CHARS = 1_000_000


#: Characters that make no visible text: whitespace, and the format / control characters
#: (zero-width space and joiners, BOM, soft hyphen ...) that ``str.strip`` keeps.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp"})
_SURROGATE = re.compile("[\ud800-\udfff]")


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this package.

    Call it in the function that calls :func:`warnings.warn`: the warning then names the user's
    line however deep in the library it was raised (a method that delegates, a lazy generator).
    """
    here = inspect.currentframe()
    level, frame = 1, here.f_back if here is not None else None
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def is_blank(text: str) -> bool:
    """Whether a text shows nothing: empty, whitespace, or invisible format characters only (zero-width space, BOM)."""
    stripped = text.strip()
    return not stripped or all(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in stripped)


def table_columns(texts: Any) -> list[str] | None:
    """Column names of a table-like input (datasets.Dataset, pandas.DataFrame, mapping of columns), else None.

    Examples
    --------
    >>> table_columns({"text": ["a"], "prompt_id": ["p1"]}), table_columns(["a", "b"])
    (['text', 'prompt_id'], None)
    """
    if isinstance(texts, Mapping):
        return [str(k) for k in texts]
    if hasattr(texts, "column_names") and hasattr(texts, "__getitem__"):  # datasets.Dataset (duck-typed)
        return list(texts.column_names)
    if hasattr(texts, "columns") and hasattr(texts, "iloc"):  # pandas.DataFrame
        return [str(c) for c in texts.columns]
    return None


def check_model_metadata(metadata: Any, owner: str) -> None:
    """``metadata=`` of a build: None, or a mapping of model name to a mapping (checked before any work)."""
    if metadata is not None and not (isinstance(metadata, Mapping)
                                     and all(isinstance(v, Mapping) for v in metadata.values())):  # fmt: skip
        raise TypeError(f"{owner}: metadata must map each model name to a mapping, e.g. {{'gpt-4': {{'family': "
                        f"'openai'}}}}, got {type(metadata).__name__}")  # fmt: skip


def check_json_metadata(metadata: Mapping[str, Any], owner: str) -> str:
    """Metadata as a file stores it: JSON, with string keys (JSON would turn the key 1 into "1").

    NaN passes, as the files have always written it.  Returns the JSON text.

    Examples
    --------
    >>> check_json_metadata({"family": "mine", "lineage": {"teacher": None}}, "metadata")
    '{"family": "mine", "lineage": {"teacher": null}}'
    >>> check_json_metadata({1: "x"}, "metadata")
    Traceback (most recent call last):
    ...
    TypeError: metadata must be JSON (string keys; str, numbers, lists, dicts): keys must be strings, got 1
    """

    def check_keys(v: Any) -> None:
        if isinstance(v, Mapping):
            for k, x in v.items():
                if not isinstance(k, str):
                    raise TypeError(f"keys must be strings, got {k!r}")
                check_keys(x)
        elif isinstance(v, list | tuple):
            for x in v:
                check_keys(x)

    try:
        check_keys(metadata)
        return json.dumps(dict(metadata))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{owner} must be JSON (string keys; str, numbers, lists, dicts): {e}") from None


def groups_column(groups: Any, texts: Any) -> Any:
    """``groups`` named as a column of the table ``texts``: that column; any other value as given.

    Parameters
    ----------
    groups : str, sequence or None
        A column name (``"prompt_id"``), or the groups themselves.
    texts : Any
        What the caller was given as texts: a ``datasets.Dataset``, DataFrame or mapping of columns
        has columns, anything else none.

    Returns
    -------
    The column, or ``groups`` unchanged.  A string that names no column raises ``ValueError``
    (rather than being read as one group per character); pandas groups whose index is not the
    pandas texts' raise too (:func:`check_aligned`).
    """
    if not isinstance(groups, str):
        check_aligned(texts, groups, "groups")
        return groups
    columns = table_columns(texts) or []
    if groups not in columns:
        raise ValueError(f"groups={groups!r} is a string: pass the prompt id of each text, or the name of a "
                         f"column of the table passed as the texts (columns: {columns[:10]})")  # fmt: skip
    return texts[groups]


def as_text_list(texts: Any, what: str = "texts") -> list[Any]:
    """Turn a str / list / tuple / ndarray / pandas Series / datasets column into a list.

    A table (``datasets.Dataset``, ``pandas.DataFrame`` or a mapping of columns) gives its ``text``
    column; without one it is refused, never iterated (which would yield its column names).
    ``what`` names the values in errors (labels and groups go through here too).
    """
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, bytes):
        raise TypeError("texts must be str, not bytes: decode them first (e.g. b.decode('utf-8'))")
    columns = table_columns(texts)
    if columns is not None:
        if "text" not in columns:
            kind = type(texts).__name__
            raise ValueError(
                f"got a {kind} without a 'text' column (columns: {columns[:10]}); pass the column of texts, "
                "e.g. table['<column>']"
            )
        texts = texts["text"]
        if isinstance(texts, str | bytes):  # one record ({"text": "...", ...}), not a column: list() split it
            raise TypeError("got a mapping whose 'text' is one string: a table needs a list per column; pass the "
                            "text itself, or [record['text']], or {'text': [...], ...}")  # fmt: skip
        return list(texts.tolist()) if hasattr(texts, "tolist") else list(texts)
    if hasattr(texts, "tolist") and not isinstance(texts, np.ndarray | list):
        return list(texts.tolist())  # pandas Series / Index
    if not isinstance(texts, np.ndarray) and hasattr(texts, "__array__") and not isinstance(texts, Iterable):
        texts = np.asarray(texts)  # array-likes that only convert (e.g. scikit-learn's test wrappers)
    if isinstance(texts, np.ndarray):
        if texts.ndim == 2 and texts.shape[1] == 1:
            texts = texts[:, 0]
        if texts.ndim != 1:
            raise ValueError(f"expected a 1-D sequence of {what}, got an array of shape {texts.shape}")
        return texts.tolist()
    if isinstance(texts, set | frozenset):
        raise TypeError(f"texts must be ordered (a list, tuple, array or Series), got a {type(texts).__name__}, "
                        "whose order is arbitrary: results would not line up with your texts")  # fmt: skip
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
        No texts, a text that is empty or only whitespace and invisible characters (zero-width
        space, BOM ...), a text with an unpaired surrogate (not encodable), a text over
        ``max_chars`` characters, or a table without a ``text`` column.
    """
    items = as_text_list(texts)
    if not items:
        raise ValueError("expected at least one text, got an empty sequence")
    for i, t in enumerate(items):
        if not isinstance(t, str):
            what = "NaN" if isinstance(t, float) and math.isnan(t) else repr(t)[:40]
            fix = "; drop missing rows first (e.g. df.dropna(subset=['text']))" if is_missing(t) else ""
            if table_columns(t) is not None or isinstance(t, list | tuple) or hasattr(t, "iloc"):
                # [df1, df2]: batches given as one list; the streaming APIs take an iterator of them
                fix = ("; a list of tables or batches is not one table: pass one (pd.concat(batches)), or an "
                       "iterator of batches where a function takes one (iter(batches))")  # fmt: skip
            raise TypeError(f"text {_name(texts, i)} is {type(t).__name__} ({what}); every text must be a str{fix}")
        if is_blank(t):
            raise ValueError(
                f"text {_name(texts, i)} is empty or whitespace only (invisible characters such as zero-width "
                "spaces count as whitespace); drop it first"
            )
        bad = _SURROGATE.search(t)
        if bad:
            raise ValueError(
                f"text {_name(texts, i)} has an unpaired surrogate (U+{ord(bad.group()):04X}) at character "
                f"{bad.start()}: it is not valid Unicode text; decode the source with errors='replace'"
            )
        if max_chars is not None and len(t) > max_chars:
            raise ValueError(
                f"text {_name(texts, i)} has {len(t):,} characters (limit {max_chars:,}); split or truncate it"
            )
    return items


def pandas_index(texts: Any) -> Any:
    """The pandas index of the texts (a Series, a DataFrame, or a mapping whose ``text`` column is a
    Series), else None: what results and error messages should name a text by."""
    if isinstance(texts, Mapping) and "text" in texts:
        texts = texts["text"]
    index = getattr(texts, "index", None)
    return index if hasattr(texts, "iloc") and hasattr(index, "get_indexer") else None


def _name(texts: Any, i: int) -> str:
    """Position ``i``, and the pandas index label there when it differs (``text 3 (index 'q17')``)."""
    index = pandas_index(texts)
    if index is None or len(index) <= i:
        return str(i)
    label = plain_value(index[i])
    same = isinstance(label, int) and not isinstance(label, bool) and label == i  # a default RangeIndex
    return str(i) if same else f"{i} (index {label!r})"


def plain_value(value: Any) -> Any:
    """A value as Python (and JSON) writes it: 11, not np.int64(11); a tuple (a MultiIndex label) element by
    element; anything else as it is."""
    if isinstance(value, tuple):
        return tuple(plain_value(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def check_aligned(texts: Any, other: Any, name: str) -> None:
    """Refuse a pandas ``other`` (models, groups) whose index is not the pandas ``texts``' index.

    Texts and their models are paired by position, as in scikit-learn; pandas users pair by label,
    so ``build_references(df.text, shuffled.model)`` built every fingerprint from the wrong texts,
    silently.  Equal indexes (the same labels in the same order) and plain sequences pass.

    Examples
    --------
    >>> import pandas as pd
    >>> texts = pd.Series(["a", "b"], index=[1, 2])
    >>> check_aligned(texts, pd.Series(["m", "n"], index=[1, 2]), "models")
    >>> check_aligned(texts, ["m", "n"], "models")
    >>> check_aligned(texts, pd.Series(["n", "m"], index=[2, 1]), "models")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the texts and models are pandas objects with different indexes ...
    """
    a, b = pandas_index(texts), pandas_index(other)
    if a is None or b is None or a.equals(b):
        return
    raise ValueError(
        f"the texts and {name} are pandas objects with different indexes (texts {first_few(a.tolist(), 3)}, {name} "
        f"{first_few(b.tolist(), 3)}): they are paired by position, not by label, so these would pair texts with "
        f"another row's {name}. Align them first ({name}.loc[texts.index]), or pass plain values (.to_numpy())"
    )  # fmt: skip


def models_or_column(texts: Any, models: Any) -> Any:
    """``models``, or with ``models=None`` the ``model`` column of the table passed as ``texts``.

    What :func:`~fingerprint.building.build_references`, :meth:`FingerprintClassifier.fit
    <fingerprint.FingerprintClassifier.fit>` and :meth:`ReferenceSet.calibrate
    <fingerprint.refset.ReferenceSet.calibrate>` take; otherwise ``models=None`` is refused, naming it.
    """
    if models is not None:
        check_aligned(texts, models, "models")
        return models
    if "model" in (table_columns(texts) or []):
        return as_text_list(texts["model"])
    raise ValueError(
        "models= is missing: pass the model of each text, or a table with a 'model' column as texts "
        "(datasets.Dataset, DataFrame or mapping of columns)"
    )


def check_labels(labels: Any, n: int) -> np.ndarray:
    """Validate model labels: one non-empty string per text."""
    if isinstance(labels, str):
        raise TypeError("the models must be a sequence with one model name per text, not a single str (to use a "
                        "table's 'model' column, pass the table alone)")
    items = as_text_list(labels, "model names")
    if len(items) != n:
        raise ValueError(f"got {n} texts but {len(items)} labels; pass one model name per text")
    for i, lab in enumerate(items):
        # a missing model is a missing value (ValueError, as FingerprintClassifier.fit says it); a number
        # or other object where a model name belongs is a wrong type
        if is_missing(lab) or (isinstance(lab, str) and not lab.strip()):
            raise ValueError(f"label {i} is {lab!r}; every text needs the model that wrote it (a non-empty name)")
        if not isinstance(lab, str):
            raise TypeError(f"label {i} is {lab!r}; every label must be a non-empty model name (str)")
    _warn_near_duplicate_names(items)
    return np.asarray(items, dtype=object)


def _warn_near_duplicate_names(names: list[str]) -> None:
    """Two model names that differ only in case or surrounding spaces ("GPT-4", "gpt-4 ") are kept as two
    models, as given; almost always a typo in the labels, so say so."""
    seen: dict[str, str] = {}
    for name in dict.fromkeys(names):  # each distinct name once, in order
        key = name.strip().casefold()
        if key in seen:
            warnings.warn(
                f"model names {seen[key]!r} and {name!r} differ only in case or surrounding spaces; they are "
                "fitted as two models (normalise the labels if they are one)", UserWarning,
                stacklevel=caller_stacklevel(),
            )  # fmt: skip
            return
        seen[key] = name


def user_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`~pathlib.Path`, a leading ``~`` expanded to the home directory.

    What a shell does for a command line and pandas does for ``read_csv``; without it, ``save("~/refs")``
    in a notebook wrote a folder named ``~`` in the working directory.

    Examples
    --------
    >>> user_path("~/refs") == Path.home() / "refs", user_path("refs").as_posix()
    (True, 'refs')

    An empty path is refused: ``Path("")`` is the working directory, so ``save("")`` wrote a set
    there and ``load_corpus("")`` read every file in it (pass ``"."`` to mean it).
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"expected a path (str or os.PathLike), got {type(path).__name__}: {path!r:.80}")
    name = os.fspath(path)
    if not isinstance(name, str):  # a PathLike of bytes
        raise TypeError(f"expected a str path, got {type(name).__name__}: {name!r:.80}")
    if not name:
        raise ValueError("empty path: pass '.' for the working directory")
    return Path(name).expanduser()


def first_few(names: Any, k: int = 5) -> str:
    """``names`` for an error message: the first ``k`` as a list, then `` ...`` if there are more.

    Examples
    --------
    >>> first_few(["a", "b", "c"], 2), first_few(["a"])
    ("['a', 'b'] ...", "['a']")
    """
    names = list(names)
    return f"{names[:k]}{' ...' if len(names) > k else ''}"


def check_groups(groups: Any, n: int) -> np.ndarray | None:
    """Validate ``groups`` (one prompt id or other group label per text): an object array, or None.

    A group is a string or a number (a prompt id as a file or a table gives it); a missing one
    (``None``, NaN) is refused rather than made the group ``"None"`` of every text without one, and a
    list or other object rather than failing inside numpy.

    Examples
    --------
    >>> check_groups(["p1", 2, "p1"], 3).tolist()
    ['p1', 2, 'p1']
    >>> check_groups(["p1", None], 2)
    Traceback (most recent call last):
    ...
    ValueError: group 1 is None: every text needs its group (e.g. its prompt id), or pass groups=None
    """
    if groups is None:
        return None
    items = as_text_list(groups, "groups")
    if len(items) != n:
        raise ValueError(f"got {n} texts but {len(items)} groups; pass one group (e.g. prompt id) per text")
    for i, g in enumerate(items):
        if is_missing(g) or (isinstance(g, np.floating) and not np.isfinite(g)):
            raise ValueError(
                f"group {i} is {g!r}: every text needs its group (e.g. its prompt id), or pass groups=None"
            )
        if isinstance(g, bool | np.bool_) or not isinstance(g, str | int | float | np.integer | np.floating):
            raise TypeError(f"group {i} is {g!r}; a group (e.g. a prompt id) must be a string or a number")
    out = np.empty(len(items), dtype=object)  # element by element: equal-length lists would become a 2-D array
    out[:] = items
    return out


def is_missing(label: Any) -> bool:
    """A missing value: ``None``, NaN, or pandas' ``NA`` / ``NaT`` (a ``"string"`` column's missing value).

    ``pd.NA`` is hashable: as a label it became a model named ``"<NA>"``.
    """
    return label is None or (isinstance(label, float) and math.isnan(label)) or (
        not isinstance(label, str) and type(label).__name__ in ("NAType", "NaTType"))


def encode_labels(y: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Any hashable labels -> (labels as an object array, sorted classes, the model name of each class).

    Fingerprints name their model with a string, so each class is named ``str(label)``;
    two labels with the same string (``1`` and ``"1"``) are refused.
    """
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None: give the model of each text")
    if isinstance(y, str):
        raise TypeError("y must be a sequence with one label per text, not a single str")
    items = as_text_list(y, "labels")
    if len(items) != n:
        raise ValueError(f"got {n} texts but {len(items)} labels; pass one label (model) per text")
    for i, lab in enumerate(items):
        if is_missing(lab):
            raise ValueError(f"label {i} is {lab!r}; every text needs the model that wrote it")
        try:
            hash(lab)
        except TypeError:
            raise TypeError(f"label {i} is {type(lab).__name__} ({lab!r}); labels must be hashable") from None
    natural = np.asarray(items) if items else np.empty(0)
    if natural.ndim == 1 and natural.dtype.kind in "biuf":
        labels = natural  # numbers keep their dtype, as in scikit-learn's classes_
    else:
        labels = np.empty(n, dtype=object)
        labels[:] = items
    try:
        classes = np.unique(labels)
    except TypeError as e:
        raise TypeError(f"labels must be mutually comparable (all str, or all numbers): {e}") from None
    names = np.array([str(c) for c in classes], dtype=object)
    if len(set(names)) != len(names) or any(not s.strip() for s in names):
        raise ValueError(f"labels must have distinct, non-empty string forms, got {list(classes)[:10]}")
    return labels, classes, names


# -- parameter checks ----------------------------------------------------------
# Estimators validate their constructor parameters at ``fit`` (scikit-learn's contract: the
# constructor only stores them), with errors that name *our* parameter rather than failing
# later inside numpy or scikit-learn under another name.


def _where(owner: str | None, name: str) -> str:
    return f"{owner}: {name}" if owner else name


@overload
def check_int(
    value: Any, name: str, *, low: int | None = ..., high: int | None = ..., allow_none: Literal[False] = ...,
    owner: str | None = ...,
) -> int: ...  # fmt: skip
@overload
def check_int(
    value: Any, name: str, *, low: int | None = ..., high: int | None = ..., allow_none: bool = ...,
    owner: str | None = ...,
) -> int | None: ...  # fmt: skip
def check_int(
    value: Any, name: str, *, low: int | None = None, high: int | None = None, allow_none: bool = False,
    owner: str | None = None,
) -> int | None:  # fmt: skip
    """Return ``value`` as an int in ``[low, high]`` or raise naming the parameter.

    Examples
    --------
    >>> check_int(5, "n_char", low=0)
    5
    >>> check_int(-5, "n_char", low=0, owner="FeatureSpace")
    Traceback (most recent call last):
    ...
    ValueError: FeatureSpace: n_char must be an integer >= 0, got -5
    """
    if value is None and allow_none:
        return None
    bounds = (f" >= {low}" if low is not None else "") + (f" and <= {high}" if high is not None else "")
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{_where(owner, name)} must be an integer{bounds}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{_where(owner, name)} must be an integer{bounds}, got {value!r}")
    return int(value)


@contextlib.contextmanager
def in_batch(i: int) -> Iterator[None]:
    """Put ``batch i:`` before the message of a ValueError or TypeError raised inside (same type), for one
    batch of a stream; an exception type that cannot be rebuilt from a message keeps its own, with a note."""
    try:
        yield
    except (ValueError, TypeError) as e:
        try:
            named = type(e)(f"batch {i}: {e}")
        except Exception:  # e.g. UnicodeDecodeError takes five arguments
            if sys.version_info >= (3, 11):  # notes are 3.11's; 3.10 keeps the error as it was
                e.add_note(f"(in batch {i})")
            raise
        raise named from e


def check_one_model(texts: Any, what: str) -> None:
    """Refuse a table whose ``model`` column names more than one model (missing values aside): ``what``
    (an audit, a fingerprint) is of one model, and pooling several would describe none of them."""
    if "model" not in (table_columns(texts) or []):
        return
    named = sorted({str(m) for m in as_text_list(texts["model"]) if not is_missing(m)})
    if len(named) > 1:
        raise ValueError(
            f"{what} takes the outputs of ONE model; the texts' model column names {len(named)} models: "
            f"{first_few(named)}; use each model's rows on their own"
        )


def check_n_jobs(value: Any, owner: str | None = None) -> int | None:
    """``n_jobs`` as joblib reads it: None (one process), a positive count, or -1, -2 ... (all CPUs, all but one ...).

    Examples
    --------
    >>> check_n_jobs(-1), check_n_jobs(None)
    (-1, None)
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs must be None, a positive number of processes or -1 (all CPUs), -2 (all but one) ..., got 0
    """
    n = check_int(value, "n_jobs", allow_none=True, owner=owner)
    if n == 0:
        raise ValueError(f"{_where(owner, 'n_jobs')} must be None, a positive number of processes or -1 (all CPUs), "
                         f"-2 (all but one) ..., got {value!r}")  # fmt: skip
    return n


def check_bool(value: Any, name: str, *, owner: str | None = None) -> bool:
    """Return ``value`` as a bool, or raise naming the parameter (``calibrate="no"`` is truthy: it calibrated).

    Examples
    --------
    >>> check_bool(False, "calibrate")
    False
    >>> check_bool("no", "calibrate", owner="build_references()")
    Traceback (most recent call last):
    ...
    TypeError: build_references(): calibrate must be True or False, got 'no'
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{_where(owner, name)} must be True or False, got {value!r}")
    return bool(value)


@overload
def check_float(
    value: Any, name: str, *, low: float | None = ..., high: float | None = ..., low_open: bool = ...,
    high_open: bool = ..., allow_none: Literal[False] = ..., owner: str | None = ...,
) -> float: ...  # fmt: skip
@overload
def check_float(
    value: Any, name: str, *, low: float | None = ..., high: float | None = ..., low_open: bool = ...,
    high_open: bool = ..., allow_none: bool = ..., owner: str | None = ...,
) -> float | None: ...  # fmt: skip
def check_float(
    value: Any, name: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
    high_open: bool = False, allow_none: bool = False, owner: str | None = None,
) -> float | None:  # fmt: skip
    """Return ``value`` as a finite float in the given (closed or open) range or raise naming the parameter.

    Examples
    --------
    >>> check_float(0.3, "shrinkage", low=0, high=1)
    0.3
    >>> check_float(2.0, "shrinkage", low=0, high=1)
    Traceback (most recent call last):
    ...
    ValueError: shrinkage must be a number in [0, 1], got 2.0
    """
    if value is None and allow_none:
        return None
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    rng = f" in {lo}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}{hi}"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{_where(owner, name)} must be a number{rng}, got {value!r}")
    v = float(value)
    bad = not math.isfinite(v)
    if low is not None:
        bad |= v <= low if low_open else v < low
    if high is not None:
        bad |= v >= high if high_open else v > high
    if bad:
        raise ValueError(f"{_where(owner, name)} must be a number{rng}, got {value!r}")
    return v


def check_choice(value: Any, name: str, choices: Iterable[Any], *, owner: str | None = None) -> Any:
    """Return ``value`` if it is one of ``choices`` or raise naming the parameter and the choices.

    Examples
    --------
    >>> check_choice("mean", "pooling", ("mean", "mean+std"))
    'mean'
    """
    choices = tuple(choices)
    try:
        ok = value in choices
    except TypeError:  # unhashable / incomparable
        ok = False
    if not ok:
        raise ValueError(f"{_where(owner, name)} must be one of {list(choices)}, got {value!r}")
    return value


_UNSET: Any = object()
#: Default of a deprecated keyword: tells "not passed" from any value a user could pass.
UNSET: Any = _UNSET


def renamed(new_value: Any, old_value: Any, *, new: str, old: str, owner: str, default: Any = None) -> Any:
    """Resolve a keyword renamed in the public API: warn on the old name, refuse both at once.

    ``old_value`` is :data:`UNSET` unless the caller used the old name.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     renamed(None, 3, new="top_features", old="k", owner="explain()")
    ...     print(w[0].category.__name__)
    3
    FutureWarning
    """
    if old_value is UNSET:
        return new_value
    import warnings

    if new_value is not UNSET and not (new_value is default or new_value == default):
        raise TypeError(f"{owner} got both {new}= and its old name {old}=; pass {new}= only")
    warnings.warn(
        f"{owner}: {old}= is renamed {new}= and will be removed", FutureWarning, stacklevel=caller_stacklevel()
    )
    return old_value


def peek_batches(data: Any) -> Iterator[Any] | None:
    """``data`` as an iterator of batches when it is one (an iterator whose first item is not a str), else None.

    An iterator of str is refused as ambiguous (texts, or batches of one text each?): pass a list.
    """
    if not isinstance(data, Iterator):
        return None
    try:
        first = next(data)
    except StopIteration:
        raise ValueError("expected at least one batch of texts, got an empty iterator") from None
    if isinstance(first, str):
        raise TypeError("an iterator of texts is ambiguous: pass a list of texts, or an iterator of batches (tables)")
    return itertools.chain([first], data)


class _NoBar:
    """What :func:`progress_bar` returns when it shows nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int | None, desc: str, *, verbose: bool | None = None, unit: str = "text") -> Any:
    """A tqdm progress bar on stderr, or an object with the same ``update``/``close`` that shows nothing.

    ``verbose=None`` shows it only when stderr is a terminal (not in logs, CI, or notebooks, where
    ``verbose=True`` turns it on); ``False`` never.
    """
    import sys

    if verbose is None:
        verbose = sys.stderr.isatty()
    if not verbose:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False)
