import json
import subprocess
import sys
import warnings

import pytest

from fingerprint.cli import main


def _write(path, texts, models, prompts):
    path.write_text(
        "\n".join(
            json.dumps({"text": t, "model": m, "prompt_id": p}) for t, m, p in zip(texts, models, prompts, strict=True)
        )
    )
    return path


def test_build_attribute_inspect(tmp_path, corpus, heldout, capsys):
    src = _write(tmp_path / "train.jsonl", *corpus)
    assert main(["build", str(src), "--out", str(tmp_path / "refs")]) == 0
    out = capsys.readouterr()
    assert "3 models" in out.out and "built references from" in out.err
    assert "texts/s)" in out.err or "s per text)" in out.err  # per text below 10 texts/s (a slow machine)
    test = _write(tmp_path / "test.jsonl", *heldout)
    assert main(["attribute", str(test), "--references", str(tmp_path / "refs"), "--json"]) == 0
    out = capsys.readouterr()
    assert f"attributed {len(heldout[0])} texts in" in out.err  # throughput on stderr, results alone on stdout
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert len(rows) == len(heldout[0])
    acc = sum(r["model"] == m for r, m in zip(rows, heldout[1], strict=True)) / len(rows)
    assert acc >= 0.9
    rc = main(["attribute", "--text", "Certainly! Here is an overview.", "--references", str(tmp_path / "refs")])
    assert rc == 0
    out = capsys.readouterr()
    assert "nearest model:" in out.out and "attributed 1 text in" in out.err
    assert main(["inspect", str(tmp_path / "refs")]) == 0
    assert "model-a" in capsys.readouterr().out


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing.npz")]) == 2
    assert "error:" in capsys.readouterr().err


def test_warnings_are_messages_not_source_lines(tmp_path, corpus):
    """A library warning reaches the command's user as one line, not as a pointer into cli.py; callers
    that record warnings still get them."""
    texts, models, prompts = corpus
    _write(tmp_path / "train.jsonl", [*texts, "   "], [*models, models[0]], [*prompts, prompts[0]])  # a blank row
    before = warnings.formatwarning
    with pytest.warns(UserWarning, match="load_corpus: dropped 1 of"):  # recorded, as for any caller
        assert main(["build", str(tmp_path / "train.jsonl"), "--out", str(tmp_path / "refs")]) == 0
    assert warnings.formatwarning is before  # restored
    train, out = str(tmp_path / "train.jsonl"), str(tmp_path / "r2")
    cmd = [sys.executable, "-m", "fingerprint", "build", train, "--out", out]  # python -m fingerprint: the command
    err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr  # as a shell user sees it
    assert "warning: load_corpus: dropped 1 of" in err and "cli.py" not in err and "UserWarning" not in err


def test_audit_command_with_plot(tmp_path, corpus, heldout, capsys):
    texts, models, prompts = corpus
    shouty = [t.upper() for t in texts[:30]]
    _write(tmp_path / "train.jsonl", texts + shouty, models + ["shouty"] * 30, prompts + prompts[:30])
    assert main(["build", str(tmp_path / "train.jsonl"), "--out", str(tmp_path / "refs")]) == 0
    unknown = [t for t, m in zip(*heldout[:2], strict=True) if m == "model-b"]
    _write(tmp_path / "u.jsonl", unknown, ["?"] * len(unknown), ["p"] * len(unknown))
    capsys.readouterr()
    with pytest.warns(UserWarning, match="auditing unpaired"):  # prompt ids the user's references never answered
        rc = main(["audit", str(tmp_path / "u.jsonl"), "--references", str(tmp_path / "refs"),
                   "--plot", str(tmp_path / "sim.png")])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert "Audit of 10 texts" in out and "model-b" in out
    assert (tmp_path / "sim.png").stat().st_size > 1000
    # paired mode: the references' own answers to the same prompts
    u_prompts = [p for p, m in zip(heldout[2], heldout[1], strict=True) if m == "model-b"]
    _write(tmp_path / "u.jsonl", unknown, ["?"] * len(unknown), u_prompts)
    hm = heldout[1] + ["shouty"] * len(heldout[0])
    _write(tmp_path / "ref.jsonl", heldout[0] + [t.upper() for t in heldout[0]], hm, heldout[2] * 2)
    rc = main(["audit", str(tmp_path / "u.jsonl"), "--references", str(tmp_path / "refs"),
               "--reference-corpus", str(tmp_path / "ref.jsonl"), "--json"])  # fmt: skip
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["candidates"][0]["model"] == "model-b"


@pytest.mark.slow
def test_demo_runs_on_shipped_data(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    from fingerprint import references

    n = len(references.load_sample())
    assert f"per-text top-1 on all {n} sample texts" in out and "family top-1" in out and "Audit of 20 texts" in out


def test_probe_then_audit_is_paired_by_default(tmp_path, capsys):
    """`fingerprint probe` writes the prompts; answers keeping their prompt_id are audited paired."""
    from fingerprint import references

    assert main(["probe", "--out", str(tmp_path / "probe.jsonl")]) == 0
    probes = [json.loads(line) for line in (tmp_path / "probe.jsonl").read_text().splitlines()]
    assert len(probes) == 20 and set(probes[0]) == {"prompt_id", "prompt"}
    sample = references.load_sample()
    mine = sample.filter(lambda r: r["model"] == "claude-2")  # stands in for "my model's answers"
    _write(tmp_path / "answers.jsonl", mine["text"], ["?"] * len(mine), mine["prompt_id"])
    capsys.readouterr()
    assert main(["audit", str(tmp_path / "answers.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["candidates"][0]["vote_share"] is not None and report["candidates"][0]["vote_share"] >= 0
    assert main(["audit", str(tmp_path / "answers.jsonl"), "--unpaired"]) == 0
    assert "unpaired" in capsys.readouterr().out
    # prompt ids that are not probe prompts: a note, then an unpaired audit
    _write(tmp_path / "other.jsonl", mine["text"], ["?"] * len(mine), [f"x{i}" for i in range(len(mine))])
    with pytest.warns(UserWarning, match="auditing unpaired"):  # from audit(), as in Python; stderr outside pytest
        assert main(["audit", str(tmp_path / "other.jsonl")]) == 0
    assert "(unpaired" in capsys.readouterr().out


def test_attribute_tells_a_path_from_a_text(tmp_path, capsys, monkeypatch):
    """A missing file is an error (it was attributed as a text), "" is no longer the current directory."""
    import io

    assert main(["attribute", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["attribute", ""]) == 2
    assert "--text" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("Certainly! Here is a concise overview of the topic."))
    assert main(["attribute", "-", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_every_cli_argument_has_help(monkeypatch):
    import argparse

    parsers = []

    def grab(self, *a, **k):  # stop main() once its parser is built
        parsers.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", grab)
    with pytest.raises(SystemExit):
        main(["inspect", "x"])
    subs = next(a for a in parsers[0]._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing = [f"{name} {act.dest}" for name, p in subs.items() for act in p._actions
               if act.help is None and not isinstance(act, argparse._HelpAction)]  # fmt: skip
    assert not missing, missing


def test_build_checks_out_before_fitting(tmp_path, corpus, capsys, monkeypatch):
    """--out a file, or a non-empty directory without a set, is refused at once (it failed after the fit)."""
    import fingerprint as fp

    src = _write(tmp_path / "train.jsonl", *corpus)
    monkeypatch.setattr(fp, "build_references", lambda *a, **k: pytest.fail("fitted before checking --out"))
    (tmp_path / "afile").write_text("x")
    assert main(["build", str(src), "--out", str(tmp_path / "afile")]) == 2
    assert "is a file" in capsys.readouterr().err
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    assert main(["build", str(src), "--out", str(tmp_path / "notes")]) == 2
    assert "refusing to write into it" in capsys.readouterr().err
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_deprecated_options_warn_and_misleading_errors_are_clear(tmp_path, capsys):
    """QA findings: --top / --none-below gave no FutureWarning (the Python aliases do), demo --unknown with
    a model not in the sample said 'expected at least one text', and a fingerprint file passed as a
    reference-set directory said 'no such directory'."""
    with pytest.warns(FutureWarning, match="--top is deprecated; use --top-features"):
        assert main(["attribute", "--text", "Certainly! Here is an overview.", "--top", "1"]) == 0
    with pytest.warns(FutureWarning, match="--none-below is deprecated; use --alpha"):
        assert main(["attribute", "--text", "Certainly! Here is an overview.", "--none-below", "0.01"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        assert main(["attribute", "--text", "Certainly! Here is an overview.", "--top-features", "1"]) == 0
    capsys.readouterr()
    assert main(["demo", "--unknown", "no-such-model"]) == 2
    assert "'no-such-model' has no answers in the sample; choose one of" in capsys.readouterr().err
    from fingerprint import references

    f = next(iter(references.builtin())).save(tmp_path / "one.fingerprint.npz")
    assert main(["attribute", "--text", "Hi there, friend.", "--references", str(f)]) == 2
    assert "is a file, not a reference-set directory" in capsys.readouterr().err


def test_cli_probe_findings(tmp_path, corpus, capsys, monkeypatch):
    """Probe findings: build could not rename columns though its error said --text-column; --unpaired was
    ignored beside --reference-corpus; --plot without a suffix named a file matplotlib did not write;
    attribute refused a corpus directory; an OSError (probe --out a directory) was a traceback."""
    import io

    texts, models, prompts = corpus
    (tmp_path / "t.jsonl").write_text("\n".join(
        json.dumps({"answer": t, "system": m, "prompt_id": p}) for t, m, p in zip(texts, models, prompts, strict=True)
    ))  # fmt: skip
    assert main(["build", str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "refs"),
                 "--text-column", "answer", "--model-column", "system"]) == 0  # fmt: skip
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["audit", str(tmp_path / "t.jsonl"), "--unpaired", "--reference-corpus", str(tmp_path / "t.jsonl")])
    assert "not allowed with argument" in capsys.readouterr().err
    (tmp_path / "u").mkdir()
    _write(tmp_path / "u" / "u.jsonl", texts[:12], ["?"] * 12, prompts[:12])
    with pytest.warns(UserWarning, match="auditing unpaired"):
        rc = main(["audit", str(tmp_path / "u" / "u.jsonl"), "--plot", str(tmp_path / "sim")])  # the built-in set
    assert rc == 0 and (tmp_path / "sim.png").is_file()
    assert f"written to {tmp_path / 'sim.png'}" in capsys.readouterr().err
    assert main(["audit", str(tmp_path / "u" / "u.jsonl"), "--plot", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    # refused before the audit runs (probe finding: both failed only after the whole audit had printed)
    assert main(["audit", str(tmp_path / "u" / "u.jsonl"), "--plot", str(tmp_path / "nowhere" / "x.png")]) == 2
    captured = capsys.readouterr()
    assert "no such directory" in captured.err and "Audit of" not in captured.out
    assert main(["audit", str(tmp_path / "u" / "u.jsonl"), "--plot", str(tmp_path / "x.xyz")]) == 2
    assert "unknown image format '.xyz'" in capsys.readouterr().err
    assert main(["attribute", str(tmp_path / "u"), "--references", str(tmp_path / "refs"), "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 12
    assert main(["probe", "--out", str(tmp_path)]) == 2 and "is a directory" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(texts[0] + "\n"))
    assert main(["attribute", "-", "--references", str(tmp_path / "refs"), "--json"]) == 0
    piped = json.loads(capsys.readouterr().out)
    assert main(["attribute", "--text", texts[0], "--references", str(tmp_path / "refs"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confidence"] == piped["confidence"]  # echo's newline dropped
