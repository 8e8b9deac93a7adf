"""Load corpora of model outputs through the ``datasets`` library.

A corpus is a table with at least a ``text`` and a ``model`` column
(``prompt_id``, ``prompt`` ... are kept when present).  Files are read by
``datasets`` (JSONL, JSON, CSV, Parquet), never by hand-written parsers.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fingerprint.validation import (
    UNSET,
    caller_stacklevel,
    check_int,
    check_labels,
    is_blank,
    renamed,
    table_columns,
    user_path,
)

if TYPE_CHECKING:  # datasets is heavy: import it only when a corpus is loaded
    import datasets
    import pandas as pd

__all__ = ["MAX_INFER_TEXTS", "infer_prompt_groups", "load_corpus", "prompt_split", "sample_per_model"]

#: Above this many texts :func:`infer_prompt_groups` declines (its neighbour search is quadratic:
#: about 20 s for 15,000 texts on 2 cores, so ~15 min at 100,000).
MAX_INFER_TEXTS = 100_000

_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _data_files(path: Path) -> tuple[str, list[str]]:
    if path.is_dir():
        files = sorted(
            str(p)
            for p in path.iterdir()
            if p.suffix in _BUILDERS and p.name not in {"prompts.jsonl", "manifest.json", "lineage.json"}
        )
        if not files:
            raise FileNotFoundError(f"{path}: no .jsonl/.json/.csv/.parquet files with outputs")
    else:
        files = [str(path)]
    kinds = {_BUILDERS.get(Path(f).suffix) for f in files}
    if None in kinds or len(kinds) != 1:
        raise ValueError(
            f"cannot read {path}: expected files ending in one of {sorted(_BUILDERS)} "
            f"(all of one kind), got {sorted({Path(f).suffix for f in files})}"
        )
    return kinds.pop() or "json", files


def prompt_split(prompt_id: str | int, dev_fraction_inverse: int = 5) -> str:
    """The shared corpora's fixed split: ``'dev'`` when sha256(prompt_id) % 5 == 0.

    Parameters
    ----------
    prompt_id : str or int
        The prompt's identifier (an integer splits as its decimal string: 7 as ``"7"``).
    dev_fraction_inverse : int, default=5
        One prompt in this many goes to ``dev``.

    Returns
    -------
    str
        ``"dev"`` or ``"train"``.

    Examples
    --------
    >>> prompt_split("ae-000")
    'dev'
    """
    dev_fraction_inverse = check_int(dev_fraction_inverse, "dev_fraction_inverse", low=1, owner="prompt_split()")
    h = int(hashlib.sha256(_prompt_key(prompt_id).encode()).hexdigest(), 16)
    return "dev" if h % dev_fraction_inverse == 0 else "train"


def _prompt_key(prompt_id: Any) -> str:
    """A prompt id as the split hashes it: a string, or an integer's decimal string (JSON and CSV readers
    give integer ids as int); anything else (a missing id, a float) is refused rather than guessed."""
    if isinstance(prompt_id, str):
        return prompt_id
    import numpy as np

    if isinstance(prompt_id, int | np.integer) and not isinstance(prompt_id, bool):
        return str(int(prompt_id))
    raise TypeError(f"a prompt_id must be a string or an integer to be split by, got {prompt_id!r}")


def load_corpus(
    source: str | os.PathLike[str] | datasets.Dataset,
    *,
    text_column: str = "text",
    model_column: str | None = "model",
    split: str | None = None,
    **load_kwargs: Any,
) -> datasets.Dataset:
    """Load model outputs as a :class:`datasets.Dataset` with ``text`` and ``model`` columns.

    Parameters
    ----------
    source : path, hub name, or datasets.Dataset
        A ``.jsonl``/``.json``/``.csv``/``.parquet`` file, a directory of such
        files (e.g. ``../shared/data/alpaca_eval_train``: one file per model),
        an already loaded ``Dataset``, or a hub dataset name (needs network).
    text_column, model_column : str
        Columns to rename to ``text`` and ``model``; ``model_column=None``
        reads texts of unknown origin (no ``model`` column needed).
    split : {"train", "dev"} or None
        Keep only prompts of this split.  Uses a ``split`` column when the
        rows have one, else the directory's ``prompts.jsonl``, else the
        corpus rule :func:`prompt_split` on ``prompt_id``.
    **load_kwargs
        Passed to :func:`datasets.load_dataset` (e.g. ``revision=``).  Files are read into memory and
        nothing is written to disk, unless ``cache_dir=`` is given: datasets then keeps its Arrow copy
        there (memory-mapped, and reused by the next load of the same files).  Without them, JSON
        Lines files are read by the library itself (every line is checked, and a text that is not a
        string is dropped and counted, whatever the datasets version); other formats, and JSON Lines
        with ``load_kwargs``, by datasets.

    Returns
    -------
    datasets.Dataset
        Rows with non-empty string texts; other columns kept.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        Missing ``text``/``model`` column, unreadable file, or no rows left.

    Examples
    --------
    A JSONL file with ``text`` and ``model`` columns (here the sample shipped with the package):

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> path = references.builtin_dir().parent / "sample.jsonl"
    >>> ds = fp.load_corpus(path)
    >>> ds.column_names
    ['text', 'model', 'prompt_id', 'prompt', 'source']
    >>> len(ds), len(fp.load_corpus(path, split="dev"))  # the sample holds dev prompts only
    (1620, 1620)

    Your own columns, e.g. ``{"answer": ..., "system": ...}``:

    >>> import json, os, tempfile
    >>> mine = os.path.join(tempfile.mkdtemp(), "mine.jsonl")
    >>> with open(mine, "w") as f:
    ...     for i in range(3):
    ...         print(json.dumps({"answer": f"Sure! Answer {i}.", "system": "bot-a"}), file=f)
    >>> fp.load_corpus(mine, text_column="answer", model_column="system")["model"][:2]
    ['bot-a', 'bot-a']
    """
    import datasets

    # datasets draws a progress bar for every split it generates and every filter, even for a file of
    # ten lines; a loader called from notebooks stays quiet (the setting is restored afterwards)
    quiet = not datasets.are_progress_bars_disabled()
    if quiet:
        with warnings.catch_warnings():
            # HF_DATASETS_DISABLE_PROGRESS_BARS=0 asks for bars: datasets keeps them and says so; the user's choice
            warnings.simplefilter("ignore")
            datasets.disable_progress_bars()
    if model_column is not None and model_column == text_column:  # one column cannot be both
        raise ValueError(f"text_column and model_column are both {text_column!r}: name the column of the texts and "
                         "the column of the models (model_column=None: the texts of one unknown model)")  # fmt: skip
    try:
        return _load_corpus(source, text_column=text_column, model_column=model_column, split=split, **load_kwargs)
    finally:
        if quiet:
            datasets.enable_progress_bars()


def _read_files(builder: str, files: list[str], load_kwargs: dict[str, Any]) -> datasets.Dataset:
    """The files as one Dataset, read into memory: datasets would otherwise leave an Arrow copy of every
    corpus under ~/.cache/huggingface/datasets, and the library writes nothing to disk unless asked
    (``cache_dir=`` asks: the Arrow copy is then kept there, memory-mapped, as datasets does)."""
    import tempfile

    import datasets

    if "cache_dir" in load_kwargs:
        return datasets.load_dataset(builder, data_files=files, split="train", **load_kwargs)
    with tempfile.TemporaryDirectory(prefix="fingerprint-corpus-") as tmp:
        kwargs = {**load_kwargs, "cache_dir": tmp, "keep_in_memory": True}  # the copy in tmp is read, then gone
        return datasets.load_dataset(builder, data_files=files, split="train", **kwargs)


def _csv_header(path: Path) -> list[str]:
    """The column names on a CSV file's first line (none for an empty file)."""
    import csv

    with path.open(encoding="utf-8", newline="") as fh:  # as pandas reads it (a BOM stays in the name)
        return next(csv.reader(fh), [])


def _load_corpus(
    source: str | os.PathLike[str] | datasets.Dataset, *, text_column: str, model_column: str | None,
    split: str | None, **load_kwargs: Any,
) -> datasets.Dataset:  # fmt: skip
    import datasets

    if isinstance(source, datasets.Dataset):
        ds = source
        prompts_file = None
    else:
        path = user_path(source)
        prompts_file = path / "prompts.jsonl" if path.is_dir() else None
        if path.exists():
            builder, files = _data_files(path)
            ds, why = None, ""
            if builder == "json" and not load_kwargs and all(f.endswith(".jsonl") for f in files):
                # read here (each line is parsed to check it anyway): datasets' JSON reader types a column
                # that mixes strings and numbers differently from one version to the next (an error, the
                # text "0" read as the number 0, or a Json column)
                ds, why, rows = _read_json_lines([Path(f) for f in files], text_column)
            else:
                rows = 0  # an empty shard (Spark and Dask write them) is fine; no rows at all is not
                for f in map(Path, files):  # one pass per file: JSON Lines are checked line by line, others as UTF-8
                    if f.suffix == ".jsonl":
                        rows += sum(1 for _ in _json_lines(f))
                    elif builder != "parquet":
                        rows += _check_utf8(f)
                    else:
                        rows += 1  # parquet: counted by datasets
            if not rows:
                raise ValueError(f"could not read {path}: it holds no rows" + (
                    " (one JSON object per line)" if builder == "json" else
                    " (a header line, then one row per text)" if builder == "csv" else ""))
            if builder == "csv":  # keep "NA", "nan", "null" as the texts they are, not missing values
                load_kwargs = {"keep_default_na": False, **load_kwargs}
                # and the names as written: guessed types made the prompt id "007" the number 7 (another
                # split than the same corpus in JSON Lines, merged with a prompt "7") and the models "1",
                # "2" numbers, which no set can be built on
                named = {text_column, "prompt_id", "split"} | ({model_column} if model_column is not None else set())
                kept = named & set(_csv_header(Path(files[0])))
                load_kwargs = {"converters": dict.fromkeys(sorted(kept), str), **load_kwargs}
            if ds is None:
                try:
                    ds = _read_files(builder, files, load_kwargs)
                except Exception as e:  # datasets raises many types; say which file and why (the root cause:
                    # datasets wraps the parser's "Expected 1 fields in line 7, saw 8" in a generic error)
                    root: BaseException = e
                    while (nxt := root.__cause__ or (None if root.__suppress_context__ else root.__context__)):
                        root = nxt
                    raise ValueError(f"could not read {path} as {builder}: " + (
                        why or f"{type(root).__name__}: {root}")) from e
        else:
            # "owner/name": a hub dataset, its "train" split (load other splits yourself and pass the Dataset);
            # not when "owner" is a local folder: "results/run1" is a mistyped path, not a dataset to download
            hub_like = isinstance(source, str) and source.count("/") == 1 and not source.startswith((".", "/")) and (
                Path(source).suffix not in _BUILDERS)  # fmt: skip
            local = path.parent.is_dir()
            if not hub_like or local:
                raise FileNotFoundError(f"no such file or directory: {source}" + (
                    f" ({path.parent} is a local folder, so it is not taken for a Hub dataset's name)" if hub_like
                    else ""))  # fmt: skip
            ds = datasets.load_dataset(source, split="train", **load_kwargs)

    renames = {text_column: "text"} if model_column is None else {text_column: "text", model_column: "model"}
    for src in renames:
        if src not in ds.column_names:
            raise ValueError(
                f"corpus has no {src!r} column (columns: {ds.column_names}); "
                f"pass text_column=/model_column= to name yours (model_column=None: the outputs of one "
                "unknown model, e.g. for fp.audit; on the command line --text-column / --model-column)"
            )
    # all at once, so that swapped names (text_column="model", model_column="text") swap; a column
    # already named like a destination, and not itself renamed, gives way
    moves = {src: dst for src, dst in renames.items() if src != dst}
    drop = [dst for dst in moves.values() if dst in ds.column_names and dst not in moves]
    if drop:
        ds = ds.remove_columns(drop)
    if moves:
        ds = ds.rename_columns(moves)

    if split is not None:
        if split not in {"train", "dev"}:
            raise ValueError(f"split must be 'train', 'dev' or None, got {split!r}")
        if "split" in ds.column_names:
            ds = ds.filter(lambda r: r["split"] == split)
        elif "prompt_id" in ds.column_names:
            table = _prompt_table(prompts_file)
            def in_split(row: dict[str, Any]) -> bool:
                key = _prompt_key(row["prompt_id"])  # once per row: the file's split, else the hash rule's
                return (table.get(key) or prompt_split(key)) == split

            ds = ds.filter(in_split)
        else:
            raise ValueError("split= needs a 'split' or 'prompt_id' column in the corpus")

    texts = ds["text"]
    dropped = [i for i, t in enumerate(texts) if not isinstance(t, str) or is_blank(t)]
    if dropped:
        warnings.warn(
            f"load_corpus: dropped {len(dropped):,} of {len(texts):,} rows whose text is missing, not a string, or "
            f"empty/whitespace (first rows, 0-based: {dropped[:5]})",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        gone = set(dropped)
        ds = ds.select([i for i in range(len(texts)) if i not in gone])
    if len(ds) == 0:
        raise ValueError(f"no non-empty texts in {source!r}" + (f" for split {split!r}" if split else ""))
    return ds


def sample_per_model(
    ds: datasets.Dataset | pd.DataFrame | Mapping[str, Any], k: int, random_state: int = 0, *, seed: Any = UNSET
) -> datasets.Dataset | pd.DataFrame | dict[str, list[Any]]:
    """At most ``k`` random rows of each model, in corpus order (deterministic given ``random_state``).

    Parameters
    ----------
    ds : datasets.Dataset, pandas.DataFrame or mapping of column name to sequence
        A corpus with a ``model`` column; the result is of the same kind (a mapping: a dict of lists).
    k : int
        Rows kept per model.
    random_state : int, default=0
    seed : int
        Deprecated name of ``random_state``.

    Returns
    -------
    datasets.Dataset, pandas.DataFrame or dict

    Examples
    --------
    >>> from collections import Counter
    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> small = fp.sample_per_model(references.load_sample(), 3)
    >>> len(small), set(Counter(small["model"]).values())
    (243, {3})
    """
    import numpy as np

    random_state = renamed(random_state, seed, new="random_state", old="seed", owner="sample_per_model()", default=0)
    k = check_int(k, "k", low=1, owner="sample_per_model()")  # -1 kept all but one row, 0 none
    check_int(random_state, "random_state", low=0, owner="sample_per_model()")  # None drew other rows every call
    columns = table_columns(ds)
    if columns is None:
        got = type(ds).__name__
        raise TypeError(f"sample_per_model() needs a Dataset, a DataFrame or a mapping of columns, got {got}")
    if "model" not in columns:
        raise ValueError(f"sample_per_model() needs a 'model' column; the columns are {columns}: rename the one "
                         "that names each row's model, e.g. df.rename(columns={'llm': 'model'})")  # fmt: skip
    if isinstance(ds, Mapping) and len({len(v) for v in ds.values()}) > 1:
        lengths = {c: len(v) for c, v in ds.items()}
        raise ValueError(f"sample_per_model(): the columns must be of one length (one value per row), got {lengths}")
    model_column = list(ds["model"])
    # model names as fitting takes them (non-empty strings): a missing model is an error, not a row to drop,
    # and 1 and "1" are not folded into one model by numpy's string conversion
    models = check_labels(model_column, len(model_column))
    rng = np.random.default_rng(random_state)
    per_model = [rng.permutation(np.flatnonzero(models == m))[:k] for m in sorted(set(model_column))]
    keep = np.sort(np.concatenate(per_model)) if per_model else np.zeros(0, dtype=int)
    if isinstance(ds, Mapping):  # each column by position: list() of a pandas Series is its values in order
        columns_in_order = {c: list(v) for c, v in ds.items()}
        return {c: [v[i] for i in keep.tolist()] for c, v in columns_in_order.items()}
    # a DataFrame's rows by position (its index may be anything); DataFrame.select is not Dataset.select
    return ds.iloc[keep] if hasattr(ds, "iloc") else ds.select(keep)


def _check_utf8(path: Path) -> int:
    """Fail early, naming the file and byte, on invalid UTF-8 (datasets fails late and vaguely); 1 if the
    file holds a row (for a CSV: a header and a filled line after it), else 0."""
    import codecs

    dec = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                raise ValueError(
                    f"could not read {path}: invalid UTF-8 at byte {offset + e.start}; re-encode the file as UTF-8"
                ) from e
            offset += len(chunk)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise ValueError(f"could not read {path}: truncated UTF-8 sequence at the end") from e
    with open(path, encoding="utf-8-sig", newline="") as fh:
        filled = (line for line in fh if line.strip())
        if path.suffix != ".csv":  # a JSON document: any content (datasets says if it holds no rows)
            return int(next(filled, None) is not None)
        return int(next(filled, None) is not None and next(filled, None) is not None)  # a header, then a row


def _int64(digits: str) -> int:
    """``json.loads`` hook: an integer Arrow can hold (datasets fails on others with "Value is too small")."""
    # more than 19 digits is out of range (and over 4,300 Python refuses to convert at all)
    value = int(digits) if len(digits.lstrip("-")) <= 19 else 2**64
    if not -(2**63) <= value < 2**63:
        raise OverflowError(digits if len(digits) <= 30 else digits[:27] + "...")
    return value


#: Rows per Arrow table when JSON Lines are read here: bounds the parsed Python rows held at once.
_JSON_CHUNK = 50_000


def _read_json_lines(files: list[Path], text_column: str) -> tuple[datasets.Dataset | None, str, int]:
    """The rows of JSON Lines files as one in-memory Dataset, why not (``""`` when read), and their number.

    Every line is checked (:func:`_json_lines`).  A text that is not a string (a number, a list) is read
    as missing, which :func:`load_corpus` then drops and counts.  Columns are the union of the rows' keys.
    Where Arrow cannot give a column one type (say, a ``prompt_id`` that is a number on one line and a
    string on another) the Dataset is None, and datasets' own reader is left to try (recent versions read
    such a column as JSON); the lines are still checked and counted.
    """
    import datasets
    import pyarrow as pa

    parts: list[datasets.Dataset] = []
    chunk: list[dict[str, Any]] = []
    rows, why = 0, ""

    def add_chunk() -> str:
        """Append the chunk as one Arrow-backed part; the reason when Arrow cannot type it."""
        names = dict.fromkeys(k for r in chunk for k in r)  # first-seen order
        data = {k: [r.get(k) for r in chunk] for k in names}
        if text_column in data:
            data[text_column] = [t if isinstance(t, str) else None for t in data[text_column]]
        try:
            part = datasets.Dataset.from_dict(data)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as e:
            return _mixed_types(chunk, rows - len(chunk), e)
        if text_column in data and part.features[text_column] != datasets.Value("string"):  # no string at all
            part = part.cast_column(text_column, datasets.Value("string"))
        parts.append(part)
        return ""

    for path in files:
        for row in _json_lines(path):
            rows += 1
            if why:
                continue  # only checked and counted from here on
            chunk.append(row)
            if len(chunk) == _JSON_CHUNK:
                why = add_chunk()
                chunk = []
    if not why and (chunk or not parts):
        why = add_chunk()
    if why:
        return None, why, rows
    try:
        return (parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)), "", rows
    except (pa.ArrowException, TypeError, ValueError) as e:  # parts typed a column differently, or lack one
        return None, f"{type(e).__name__}: {e}", rows


def _mixed_types(chunk: list[dict[str, Any]], first: int, error: BaseException) -> str:
    """Why Arrow could not type ``chunk`` (the files' rows ``first``, ..., 0-based): a column of two kinds."""
    for name in dict.fromkeys(k for r in chunk for k in r):
        seen: dict[str, int] = {}
        for i, r in enumerate(chunk):
            v = r.get(name)
            if v is not None:
                seen.setdefault(type(v).__name__, first + i)
        if len(seen) > 1:
            kinds = " and ".join(f"{t} (row {line})" for t, line in list(seen.items())[:2])
            return f"column {name!r} holds {kinds}, 0-based; give each column one type"
    return f"{type(error).__name__}: {error}"  # e.g. lists whose elements Arrow cannot type alike


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a JSON Lines file; fail with the file and line (or byte) of invalid UTF-8 or a malformed
    row (datasets names neither)."""
    offset = 0
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark (Windows tools write one)
                raw, offset = raw[3:], 3
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(
                    f"could not read {path}: invalid UTF-8 at byte {offset + e.start} (line {lineno}); "
                    "re-encode the file as UTF-8"
                ) from e
            offset += len(raw)
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_int=_int64)
            except json.JSONDecodeError as e:
                raise ValueError(
                    f"could not read {path}: line {lineno} is not valid JSON ({e.msg}, column {e.colno})"
                ) from e
            except OverflowError as e:
                raise ValueError(
                    f"could not read {path}: line {lineno} holds the integer {e}, outside the 64-bit range Arrow "
                    "stores; write it as a string"
                ) from e
            except RecursionError as e:
                raise ValueError(f"could not read {path}: line {lineno} is nested too deeply") from e
            if not isinstance(row, dict):
                raise ValueError(f"could not read {path}: line {lineno} is a {type(row).__name__}, not a JSON object")
            try:
                strings = list(_strings(row))
            except RecursionError as e:
                raise ValueError(f"could not read {path}: line {lineno} is nested too deeply") from e
            for key, value in strings:  # "\ud800" is valid JSON but no Unicode text: Arrow refuses it
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as e:
                    raise ValueError(
                        f"could not read {path}: line {lineno}, field {key} holds an unpaired surrogate "
                        f"(\\u{ord(value[e.start]):04x} at character {e.start}), which is not text; fix or drop it"
                    ) from e
            yield row


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a parsed JSON value, with where it is (``'text'``, ``'meta'.'tags'[0]``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k!r}" if path else repr(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _prompt_table(prompts_file: Path | None) -> dict[str, str]:
    if prompts_file is None or not prompts_file.is_file():
        return {}
    table = {}
    with open(prompts_file, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                table[_prompt_key(row["prompt_id"])] = row["split"]
    return table


def infer_prompt_groups(texts: list[str], models: Any, *, neighbours: int = 8) -> Any:
    """Group answers that answer the same prompt, from their shared content words, when prompt ids are unknown.

    Cross-fitting (the score block, the calibration) must keep all answers to a prompt in one fold:
    otherwise a fold's model has seen other models' answers to its test prompts, and the learned
    scores and temperature no longer match new prompts (top-1 0.355 instead of 0.406 on
    ``alpaca_eval_train``; with these inferred groups 0.401, ``benchmarks/results/default-groups.md``).
    Without ``groups=``, this recovers them: texts are linked to their
    ``neighbours`` most similar texts *of other models* (cosine of TF-IDF over content words that
    few texts share), and links are merged strongest first into groups holding at most one text
    per model (an answer set has one answer per model, and this constraint stops the chaining that
    single linkage suffers).  On the ``train`` answers of ``alpaca_eval_train`` (14,830 texts, 645
    prompts, 23 models) it found 782 groups, adjusted Rand index 0.977 against the prompt ids,
    99.3 % of texts grouped with their prompt's majority.

    Parameters
    ----------
    texts : list of str
    models : sequence of str
        The model of each text.
    neighbours : int, default=8
        Links per text (3 gave ARI 0.970, 8 gave 0.977 on the corpus above).

    Returns
    -------
    ndarray of int
        A group id per text.

    Raises
    ------
    ValueError
        More than :data:`MAX_INFER_TEXTS` texts (pass ``groups=`` yourself).

    Examples
    --------
    >>> import numpy as np
    >>> from fingerprint import references
    >>> from fingerprint.corpus import infer_prompt_groups
    >>> sample = references.load_sample()  # 20 prompts x 81 models
    >>> g = infer_prompt_groups(sample["text"], sample["model"])
    >>> from sklearn.metrics import adjusted_rand_score
    >>> adjusted_rand_score(sample["prompt_id"], g) > 0.9
    True
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    neighbours = check_int(neighbours, "neighbours", low=1, owner="infer_prompt_groups()")  # -3 gave no groups
    n = len(texts)
    if n > MAX_INFER_TEXTS:
        raise ValueError(f"cannot infer prompt groups for {n:,} texts (limit {MAX_INFER_TEXTS:,}); pass groups=")
    y = np.asarray(list(models), dtype=object)
    _, model_idx = np.unique(y.astype(str), return_inverse=True)
    k_models = int(model_idx.max()) + 1 if n else 0
    # a prompt's own words appear in about one answer per model: ignore words far more common than that
    max_df = max(2 * k_models, int(0.05 * n))
    vec = TfidfVectorizer(lowercase=True, stop_words="english", sublinear_tf=True, min_df=2,
                          max_df=1.0 if max_df >= n else max_df, token_pattern=r"(?u)\b[^\W\d_]{3,}\b")  # fmt: skip
    try:
        A = vec.fit_transform(texts)
    except ValueError:  # no word occurs in two texts: nothing links them
        return np.arange(n)
    rows, cols, sims = [], [], []
    chunk = max(1, min(2000, 32_000_000 // max(n, 1)))  # dense blocks of <= 256 MB
    for s in range(0, n, chunk):
        S = (A[s : s + chunk] @ A.T).toarray()
        S[model_idx[s : s + chunk, None] == model_idx[None, :]] = 0.0  # links only across models (and not to itself)
        k = min(neighbours, n - 1)
        if k <= 0:
            break
        nn = np.argpartition(-S, k - 1, axis=1)[:, :k]
        best = np.take_along_axis(S, nn, axis=1)
        keep = best > 0
        rows.append(np.repeat(np.arange(s, s + S.shape[0]), k)[keep.ravel()])
        cols.append(nn[keep])
        sims.append(best[keep])
    parent = np.arange(n)
    members = [{int(m)} for m in model_idx]  # models present in each group (at the root)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return int(x)

    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)
        for e in np.lexsort((c, r, -v)):  # strongest first; ties in a fixed order
            a, b = find(int(r[e])), find(int(c[e]))
            if a != b and members[a].isdisjoint(members[b]):
                if len(members[a]) < len(members[b]):
                    a, b = b, a
                parent[b] = a
                members[a] |= members[b]
    roots = np.array([find(i) for i in range(n)])
    return np.unique(roots, return_inverse=True)[1]
