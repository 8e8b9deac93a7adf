import importlib
import json
import warnings

import pandas as pd
import pytest

import fingerprint as fp
from fingerprint import corpus


def _rows():
    return [{"text": f"answer {i}", "model": f"m{i % 2}", "prompt_id": f"ae-{i:03d}"} for i in range(10)]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_load_formats(tmp_path, fmt):
    df = pd.DataFrame(_rows())
    p = tmp_path / f"out.{fmt}"
    if fmt == "jsonl":
        p.write_text("\n".join(json.dumps(r) for r in _rows()))
    elif fmt == "csv":
        df.to_csv(p, index=False)
    else:
        df.to_parquet(p)
    ds = fp.load_corpus(p)
    assert len(ds) == 10 and {"text", "model", "prompt_id"} <= set(ds.column_names)


def test_rename_columns_and_missing_column(tmp_path):
    p = tmp_path / "o.jsonl"
    p.write_text("\n".join(json.dumps({"output": "hi there", "generator": "g"}) for _ in range(3)))
    ds = fp.load_corpus(p, text_column="output", model_column="generator")
    assert ds["model"] == ["g"] * 3
    with pytest.raises(ValueError, match="no 'text' column"):
        fp.load_corpus(p)


def test_split_by_prompt_rule(tmp_path):
    p = tmp_path / "o.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in _rows()))
    dev = fp.load_corpus(p, split="dev")
    train = fp.load_corpus(p, split="train")
    assert len(dev) + len(train) == 10
    assert all(fp.prompt_split(pid) == "dev" for pid in dev["prompt_id"])


def test_empty_texts_dropped_and_bad_input(tmp_path):
    p = tmp_path / "o.jsonl"
    p.write_text("\n".join(json.dumps({"text": t, "model": "m"}) for t in ["ok", "", "  "]))
    with pytest.warns(UserWarning, match=r"dropped 2 of 3 rows .* \[1, 2\]"):
        assert len(fp.load_corpus(p)) == 1
    with pytest.raises(FileNotFoundError):
        fp.load_corpus(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "\xff\xfe broken", "model": "m"}\n')
    with pytest.raises(ValueError, match="could not read"):
        fp.load_corpus(bad)
    with pytest.raises(ValueError, match="expected files ending"):
        fp.load_corpus(tmp_path / "o.jsonl", split="nope") if False else fp.load_corpus(_touch(tmp_path / "x.txt"))


def _touch(p):
    p.write_text("x")
    return p


def test_shared_corpus_directory(shared_data):
    dev = fp.load_corpus(shared_data, split="dev")
    assert len(set(dev["model"])) == 23
    assert set(dev["split"] if "split" in dev.column_names else ["dev"]) == {"dev"}
    prompts = {json.loads(line)["prompt_id"]: json.loads(line)["split"] for line in open(shared_data / "prompts.jsonl")}
    assert all(prompts[p] == "dev" for p in dev["prompt_id"])


def test_sample_per_model_is_deterministic(tmp_path):
    p = tmp_path / "o.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in _rows()))
    ds = fp.load_corpus(p)
    a, b = fp.sample_per_model(ds, 2, random_state=3), fp.sample_per_model(ds, 2, random_state=3)
    assert a["text"] == b["text"] and sorted(a["model"]) == ["m0", "m0", "m1", "m1"]


def test_sample_per_model_takes_a_data_frame_by_position(tmp_path):
    # a DataFrame with an index that is not 0..n-1 (a filtered frame): the same rows as the Dataset's
    p = tmp_path / "o.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in _rows()))
    ds = fp.load_corpus(p)
    df = ds.to_pandas()
    df.index = df.index[::-1] * 7
    got = fp.sample_per_model(df, 2, random_state=3)
    assert list(got["text"]) == fp.sample_per_model(ds, 2, random_state=3)["text"]
    as_dict = fp.sample_per_model({c: list(df[c]) for c in df.columns}, 2, random_state=3)
    assert as_dict["text"] == list(got["text"])  # a mapping of columns: a dict of lists, the same rows
    # columns that are Series with that odd index: still by position, not by index label
    of_series = fp.sample_per_model({"text": df["text"], "model": df["model"]}, 2, random_state=3)
    assert of_series["text"] == list(got["text"]) and sorted(of_series["model"]) == ["m0", "m0", "m1", "m1"]
    with pytest.raises(TypeError, match="mapping of columns"):
        fp.sample_per_model(["a", "b"], 2)
    with pytest.raises(ValueError, match="'model' column"):
        fp.sample_per_model(df.drop(columns="model"), 2)


# -- issue 15, finding 6: nothing dropped without a word, errors that point at the line --------------
def test_dropped_rows_are_counted_and_literal_na_texts_kept(tmp_path):
    p = tmp_path / "o.jsonl"
    rows = [{"text": "fine", "model": "m"}, {"text": None, "model": "m"}, {"text": 3, "model": "m"},
            {"text": "\u200b", "model": "m"}]  # fmt: skip
    p.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.warns(UserWarning, match=r"dropped 3 of 4 rows .* \[1, 2, 3\]"):
        assert fp.load_corpus(p)["text"] == ["fine"]
    c = tmp_path / "o.csv"
    pd.DataFrame({"text": ["NA", "nan", "null", "real text"], "model": ["m"] * 4}).to_csv(c, index=False)
    assert fp.load_corpus(c)["text"] == ["NA", "nan", "null", "real text"]  # texts, not missing values


def test_a_malformed_jsonl_line_is_named(tmp_path):
    p = tmp_path / "o.jsonl"
    p.write_text('{"text": "a", "model": "m"}\n\n{"text": "b", "model": \n{"text": "c", "model": "m"}\n')
    with pytest.raises(ValueError, match=r"line 3 is not valid JSON"):
        fp.load_corpus(p)
    p.write_text('{"text": "a", "model": "m"}\n["a list"]\n')
    with pytest.raises(ValueError, match=r"line 2 is a list"):
        fp.load_corpus(p)
    # valid JSON, no text (probe finding: Arrow's "Trailing data at position 37" named neither)
    p.write_text('{"text": "a", "model": "m"}\n{"text": "ok \\ud800 x", "model": "m"}\n')
    with pytest.raises(ValueError, match=r"line 2, field 'text' holds an unpaired surrogate \(\\ud800"):
        fp.load_corpus(p)
    p.write_text('{"text": "a", "model": "m", "meta": {"tags": ["x \\udc00"]}}\n')  # nested too
    with pytest.raises(ValueError, match=r"line 1, field 'meta'.'tags'\[0\] holds an unpaired surrogate"):
        fp.load_corpus(p)
    p.write_text('{"text": "a", "model": "m", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(ValueError, match="line 1 is nested too deeply"):
        fp.load_corpus(p)


def test_a_missing_relative_path_is_a_file_error_not_a_hub_download(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        fp.load_corpus("data/x.jsonl")
    with pytest.raises(FileNotFoundError, match="no such file"):
        fp.load_corpus("data/sub/outputs")


def test_a_mistyped_local_folder_is_not_taken_for_a_hub_name(tmp_path, monkeypatch):
    """Review finding: "results/run1" with a local "results/" went to the Hub (offline: a ConnectionError)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    with pytest.raises(FileNotFoundError, match="results is a local folder"):
        fp.load_corpus("results/run1")


def test_an_empty_path_is_refused_not_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "o.jsonl").write_text('{"text": "a", "model": "m"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="empty path"):
        fp.load_corpus("")
    with pytest.raises(TypeError, match="expected a path"):
        fp.load_corpus(None)


def test_csv_names_and_prompt_ids_are_read_as_written(tmp_path):
    """Review finding: a CSV's prompt id "007" became 7 (another split than the same JSON Lines) and the
    models "1", "2" numbers no set could be built on."""
    import json

    import pandas as pd

    rows = [{"text": f"answer {i}", "model": str(i % 2 + 1), "prompt_id": f"{i:03d}", "score": i} for i in range(12)]
    pd.DataFrame(rows).to_csv(tmp_path / "o.csv", index=False)
    (tmp_path / "o.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    csv, jsonl = fp.load_corpus(tmp_path / "o.csv"), fp.load_corpus(tmp_path / "o.jsonl")
    assert csv["prompt_id"] == jsonl["prompt_id"] == [r["prompt_id"] for r in rows]
    assert csv["model"][:2] == ["1", "2"]
    assert csv["score"] == list(range(12))  # other columns keep their types
    for split in ("train", "dev"):
        assert fp.load_corpus(tmp_path / "o.csv", split=split)["prompt_id"] == fp.load_corpus(
            tmp_path / "o.jsonl", split=split)["prompt_id"]


def test_one_column_cannot_be_texts_and_models_and_swapped_names_swap(tmp_path):
    """Review finding: text_column == model_column silently took the prompt as the texts."""
    import json

    p = tmp_path / "o.jsonl"
    p.write_text(json.dumps({"text": "the prompt", "answer": "an answer", "model": "m"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="both 'answer'"):
        fp.load_corpus(p, text_column="answer", model_column="answer")
    row = fp.load_corpus(p, text_column="model", model_column="text")[0]
    assert (row["text"], row["model"]) == ("m", "the prompt")
    row = fp.load_corpus(p, text_column="answer")[0]
    assert (row["text"], row["model"]) == ("an answer", "m")


def test_prompt_group_inference_checks_its_neighbours():
    from fingerprint.corpus import infer_prompt_groups

    for bad in (-3, 0, 2.5):
        with pytest.raises((ValueError, TypeError), match="neighbours"):
            infer_prompt_groups(["a text here", "another text"], ["m", "n"], neighbours=bad)


def test_an_integer_too_long_for_python_to_convert_is_named_with_its_line(tmp_path):
    p = tmp_path / "o.jsonl"
    p.write_text('{"text": "ok", "model": "m"}\n{"text": ' + "9" * 5000 + ', "model": "m"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2 holds the integer 9{27}\.\.\., outside the 64-bit range"):
        fp.load_corpus(p)


# --- property test (issue 15, finding 6): every row kept or counted, every malformed line named -----------

import itertools  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fingerprint.validation import is_blank  # noqa: E402

_int64_edges = st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1])  # the last two: refused with their line
_text = st.one_of(st.text(max_size=12), st.none(), st.integers(), _int64_edges, st.just("\u200b \ufeff"))
_row = st.fixed_dictionaries({"text": _text, "model": st.just("m")})
_files = itertools.count()
# a garbage line is written to a UTF-8 file first: lone surrogates (category Cs) cannot be
_garbage = st.text(alphabet=st.characters(exclude_characters="\n\r", exclude_categories=("Cs",)), max_size=10).map(
    lambda s: "#" + s
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_row | _garbage, min_size=1, max_size=6), st.booleans())
def test_load_corpus_keeps_or_counts_every_row_and_names_a_bad_line(tmp_path, lines, ascii_only):
    import warnings

    p = tmp_path / f"o{next(_files)}.jsonl"  # a new file each time: datasets caches by path
    p.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=ascii_only) for x in lines) + "\n",
                 encoding="utf-8")  # fmt: skip
    def huge(x):  # an integer Arrow cannot store: refused with its line, never a vague datasets error
        return type(x["text"]) is int and not -(2**63) <= x["text"] < 2**63

    bad = [(i, isinstance(x, str)) for i, x in enumerate(lines, 1) if isinstance(x, str) or huge(x)]
    rows = [x for x in lines if not isinstance(x, str)]
    kept = [r["text"] for r in rows if isinstance(r["text"], str) and not is_blank(r["text"])]
    if bad:
        line, garbage = bad[0]
        why = "is not valid JSON" if garbage else "holds the integer"
        with pytest.raises(ValueError, match=rf"line {line} {why}"):
            fp.load_corpus(p)
    elif not kept:
        with pytest.raises(ValueError, match="no non-empty texts"):
            fp.load_corpus(p)
    else:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert fp.load_corpus(p)["text"] == kept
        dropped = [str(x.message) for x in w if "dropped" in str(x.message)]
        if len(kept) < len(rows):
            assert len(dropped) == 1 and f"dropped {len(rows) - len(kept)} of {len(rows)} rows" in dropped[0]
        else:
            assert not dropped


# --- issue 13, item 4: prompt groups when none are given ---------------------------------------------------


def test_inferred_prompt_groups_recover_the_prompts_of_the_sample():
    from sklearn.metrics import adjusted_rand_score

    from fingerprint import references
    from fingerprint.corpus import infer_prompt_groups

    sample = references.load_sample()  # 20 dev prompts x 81 models
    g = infer_prompt_groups(sample["text"], sample["model"])
    assert adjusted_rand_score(sample["prompt_id"], g) > 0.9
    per_group_model = pd.DataFrame({"g": g, "m": sample["model"]}).value_counts()
    assert per_group_model.max() == 1  # never two answers of one model in a group
    assert (infer_prompt_groups(sample["text"], sample["model"]) == g).all()  # deterministic


def test_inferring_groups_refuses_huge_inputs(monkeypatch):
    import fingerprint.corpus as corpus_module

    monkeypatch.setattr(corpus_module, "MAX_INFER_TEXTS", 3)
    with pytest.raises(ValueError, match="pass groups="):
        corpus_module.infer_prompt_groups(["a b c"] * 4, ["m", "n", "m", "n"])
    assert (corpus_module.infer_prompt_groups(["x"], ["m"]) == [0]).all()  # trivial inputs do not fail


def test_default_fit_groups_by_prompt_column_or_inference(corpus):
    """build_references / FingerprintClassifier without groups=: a table's prompt_id column, else inferred."""
    texts, models, prompts = corpus
    small = {"space": fp.FeatureSpace(n_char=300, n_word=150, n_components=16)}
    how = lambda refs: refs.metadata["calibration"]["groups"]  # noqa: E731
    assert how(fp.build_references(texts, models, groups=prompts, **small)) == "given"
    table = pd.DataFrame({"text": texts, "model": models, "prompt_id": prompts})
    assert how(fp.build_references(table, table["model"], **small)) == "prompt_id column"
    assert how(fp.build_references(texts, models, **small)) == "inferred"
    clf = fp.FingerprintClassifier(n_char=300, n_word=150, n_components=16).fit(texts, models)
    assert clf.references_.metadata["calibration"]["groups"] == "inferred"


def test_loading_draws_no_progress_bars_and_restores_the_setting(tmp_path, capfd, monkeypatch):
    import datasets

    hf_tqdm = importlib.import_module("datasets.utils.tqdm")  # the module, not the class of that name
    monkeypatch.setattr(hf_tqdm, "HF_DATASETS_DISABLE_PROGRESS_BARS", None)  # no environment override
    path = tmp_path / "few.jsonl"
    rows = [{"text": f"answer {i}", "model": "m", "prompt_id": f"p{i}"} for i in range(5)]
    path.write_text("\n".join(map(json.dumps, rows)))
    before = datasets.are_progress_bars_disabled()
    try:
        datasets.enable_progress_bars()  # a caller who has bars on
        capfd.readouterr()
        assert len(fp.load_corpus(path)) == 5
        assert "Generating" not in capfd.readouterr().err
        assert not datasets.are_progress_bars_disabled()  # the caller's setting, restored
        datasets.disable_progress_bars()  # a caller who has them off
        fp.load_corpus(path)
        assert datasets.are_progress_bars_disabled()  # left as the caller had it
    finally:
        (datasets.disable_progress_bars if before else datasets.enable_progress_bars)()
    with pytest.raises(ValueError, match="model_column=None"):
        fp.load_corpus(path, model_column="system")


def test_a_users_progress_bar_setting_is_left_alone(tmp_path, monkeypatch):
    path = tmp_path / "few.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"answer {i}", "model": "m"}) for i in range(3)))
    hf_tqdm = importlib.import_module("datasets.utils.tqdm")  # the module, not the class of that name

    # HF_DATASETS_DISABLE_PROGRESS_BARS=0 in the environment when datasets was imported: the user asked for bars
    monkeypatch.setattr(hf_tqdm, "HF_DATASETS_DISABLE_PROGRESS_BARS", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # datasets warns when a disable overrides that variable
        assert len(fp.load_corpus(path)) == 3


def test_dropped_rows_warning_names_the_callers_line(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_text(json.dumps({"text": "an answer", "model": "m"}) + "\n" + json.dumps({"text": "  ", "model": "m"}))
    with pytest.warns(UserWarning, match="dropped 1 of 2 rows") as rec:
        fp.load_corpus(path)
    assert rec[0].filename == __file__  # not the library's own line


def test_empty_files_a_bom_and_parser_errors_say_what_is_wrong(tmp_path):
    """Probe findings: an empty JSONL said 'StopIteration', an empty or header-only CSV datasets' generic
    error, a semicolon CSV hid the parser's line; a JSONL with a byte-order mark was refused."""
    for name, content, message in (("e.jsonl", "", "holds no rows"), ("blank.jsonl", "\n\n", "holds no rows"),
                                   ("e.csv", "", "holds no rows"), ("h.csv", "text,model\n", "holds no rows"),
                                   ("s.csv", "text;model\nhi;a\nho,ha,hu;b\n", r"ParserError.*line 3")):  # fmt: skip
        (tmp_path / name).write_text(content)
        with pytest.raises(ValueError, match=message):
            fp.load_corpus(tmp_path / name)
    (tmp_path / "bom.jsonl").write_bytes(b'\xef\xbb\xbf{"text": "hello there", "model": "a"}\n')
    assert fp.load_corpus(tmp_path / "bom.jsonl")["text"] == ["hello there"]


def test_an_empty_shard_is_fine_when_others_hold_rows(tmp_path):
    """Review finding: Spark and Dask write empty partitions; one empty file of a directory is no error."""
    (tmp_path / "part-0.jsonl").write_text('{"text": "hello there", "model": "a"}\n')
    (tmp_path / "part-1.jsonl").write_text("")
    assert fp.load_corpus(tmp_path).num_rows == 1
    (tmp_path / "arr.json").write_text('[{"text": "hi you", "model": "a"}]')  # a JSON document on one line
    assert fp.load_corpus(tmp_path / "arr.json").num_rows == 1


def test_integer_and_missing_prompt_ids_under_split(tmp_path):
    """Review finding (12-07): integer prompt ids (what a JSON or CSV reader gives) crashed split= with
    AttributeError ('int' object has no attribute 'encode'), which the CLI printed as a traceback."""
    rows = [{"text": f"answer {i}", "model": "a", "prompt_id": i} for i in range(40)]
    (tmp_path / "ints.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    train = fp.load_corpus(tmp_path / "ints.jsonl", split="train")
    assert list(train["prompt_id"]) == [i for i in range(40) if fp.prompt_split(str(i)) == "train"]
    assert 0 < len(train) < 40 and fp.prompt_split(7) == fp.prompt_split("7")
    rows[3]["prompt_id"] = None
    (tmp_path / "none.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(TypeError, match="prompt_id must be a string or an integer"):
        fp.load_corpus(tmp_path / "none.jsonl", split="dev")
    for bad in (0, -5):
        with pytest.raises(ValueError, match="dev_fraction_inverse"):
            fp.prompt_split("x", bad)


def test_sample_per_model_refuses_what_would_lose_rows():
    """Review finding (12-07): a missing model gave numpy's "'<' not supported", an empty table "need at
    least one array to concatenate", ragged columns an IndexError, and models 1 and "1" became one."""
    assert fp.sample_per_model({"model": [], "text": []}, 2) == {"model": [], "text": []}
    with pytest.raises(ValueError, match="label 1 is None"):
        fp.sample_per_model({"model": ["a", None], "text": ["x", "y"]}, 1)
    with pytest.raises(ValueError, match="one length"):
        fp.sample_per_model({"model": ["a", "b"], "text": ["x"]}, 1)
    with pytest.raises(TypeError, match="label 0 is 1"):
        fp.sample_per_model({"model": [1, "1"], "text": ["x", "y"]}, 1)
    df = pd.DataFrame({"model": ["b", "a", "b"], "text": ["1", "2", "3"]}, index=[5, 6, 7])
    assert sorted(fp.sample_per_model(df, 1)["model"]) == ["a", "b"]


def test_load_corpus_writes_nothing_unless_asked(tmp_path, monkeypatch):
    """Review finding (12-07): load_corpus left an Arrow copy of every corpus under
    ~/.cache/huggingface/datasets, though the library writes nothing to disk unless asked."""
    home = tmp_path / "home"
    home.mkdir()
    for var in ("HOME", "XDG_CACHE_HOME", "HF_HOME", "HF_DATASETS_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr("datasets.config.HF_DATASETS_CACHE", home / ".cache" / "huggingface" / "datasets")
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"text": f"answer {i}", "model": "a", "prompt_id": str(i)}) + "\n"
                            for i in range(30)))  # fmt: skip
    scratch = tmp_path / "tmp"  # datasets' copy is read from a temporary directory, removed after
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    ds = fp.load_corpus(data, split="dev")
    assert len(ds) == sum(fp.prompt_split(str(i)) == "dev" for i in range(30)) and ds.cache_files == []
    assert list(home.rglob("*")) == [] and list(scratch.iterdir()) == []
    cached = fp.load_corpus(data, cache_dir=str(tmp_path / "cache"))  # asked: datasets keeps its copy there
    assert len(cached) == 30 and any((tmp_path / "cache").rglob("*.arrow"))


def test_json_lines_are_typed_the_same_whatever_datasets_version(tmp_path, monkeypatch):
    # datasets 5.0 read {"text": "0"} next to {"text": 0} as two numbers and dropped the text "0";
    # 2.16-4.x failed with "Extra data: line 2 column 1"; the library reads JSON Lines itself
    p = tmp_path / "o.jsonl"
    p.write_text('{"text": "0", "model": "m"}\n{"text": 0, "model": "m"}\n{"text": [1], "model": "m"}\n')
    with pytest.warns(UserWarning, match=r"dropped 2 of 3 rows .* \[1, 2\]"):
        ds = fp.load_corpus(p)
    assert ds["text"] == ["0"] and ds.features["text"].dtype == "string"
    p.write_text('{"text": 5, "model": "m"}\n')  # no string at all: a string column of missing texts
    with pytest.raises(ValueError, match="no non-empty texts"):
        fp.load_corpus(p)
    # rows read in several Arrow tables: order kept, keys united (a later table's new column is
    # datasets' to read, as before)
    monkeypatch.setattr(corpus, "_JSON_CHUNK", 2)
    p.write_text("".join(json.dumps({"text": f"t{i}", "model": "m", "prompt_id": i}) + "\n" for i in range(5)))
    assert fp.load_corpus(p)["prompt_id"] == [0, 1, 2, 3, 4]
    p.write_text(p.read_text() + json.dumps({"text": "t5", "model": "m", "prompt_id": 5, "extra": "x"}) + "\n")
    assert fp.load_corpus(p)["extra"] == [None] * 5 + ["x"]


def test_a_column_of_two_types_is_read_or_named(tmp_path):
    p = tmp_path / "o.jsonl"
    p.write_text('{"text": "a b", "model": "m", "prompt_id": 1}\n{"text": "c d", "model": "m", "prompt_id": "p2"}\n')
    try:  # datasets >= 5.2 reads such a column as JSON
        ds = fp.load_corpus(p)
    except ValueError as e:  # older versions cannot: the message names the column, not "Extra data"
        assert "column 'prompt_id' holds int (row 0) and str (row 1)" in str(e)
    else:
        assert ds["prompt_id"] == [1, "p2"]
