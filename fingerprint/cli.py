"""Command-line interface: ``fingerprint build | attribute | audit | probe | inspect | demo``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

# the library's default, repeated here so `fingerprint --help` does not import the library
DEFAULT_TOP_FEATURES = 5
_EMBEDDING_MODEL_HELP = (
    "the embedding model of a reference set whose space was fitted with a non-default one (models named in a "
    "set's files are never loaded)"
)


#: Image formats matplotlib writes without extra backends (its savefig's common formats).
_PLOT_FORMATS = frozenset({".png", ".svg", ".pdf", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp"})


def _offline() -> None:
    offline = {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_UPDATE_DOWNLOAD_COUNTS": "0",
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",  # a command's output is its report
    }
    for k, v in offline.items():
        os.environ.setdefault(k, v)


def _cmd_build(a: argparse.Namespace) -> int:
    import fingerprint as fp

    out = Path(a.out)  # checked before the fit, not after it
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a directory for the reference set")
    if out.is_dir() and any(out.iterdir()) and not (out / "references.npz").is_file():
        raise ValueError(f"--out {out} is a non-empty directory without a reference set; refusing to write into it")
    existing = next(q for q in (out, *out.absolute().parents) if q.exists())  # what the save will write into
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"--out {out}: {existing} is not writable")
    if (out / "references.npz").is_file():
        print(f"note: replacing the reference set in {out} (saved all or nothing)", file=sys.stderr)
    ds = fp.load_corpus(a.corpus, split=a.split, text_column=a.text_column, model_column=a.model_column)
    groups = ds["prompt_id"] if "prompt_id" in ds.column_names else None
    t = time.perf_counter()
    refs = fp.build_references(ds["text"], ds["model"], groups=groups, space=a.space, n_jobs=a.jobs,
                               calibration=a.calibration)  # fmt: skip
    _throughput("built references from", len(ds), time.perf_counter() - t)
    refs.save(a.out)
    print(f"{refs}\nsaved to {a.out}")
    return 0


def _throughput(what: str, n: int, seconds: float) -> None:
    """One line on stderr (stdout stays the result): how many texts, how long, how fast."""
    texts = "text" if n == 1 else "texts"
    rate = n / max(seconds, 1e-9)
    speed = f"{rate:,.0f} texts/s" if rate >= 10 else f"{seconds / max(n, 1):.2f} s per text"  # not "(0 texts/s)"
    print(f"{what} {n:,} {texts} in {seconds:.1f} s ({speed})", file=sys.stderr)


def _cmd_attribute(a: argparse.Namespace) -> int:
    import fingerprint as fp

    refs = fp.load_references(a.references, embedding_model=a.embedding_model) if a.references else None
    if a.text:
        texts = [a.input]
    elif a.input == "-":
        text = sys.stdin.read()  # without the newline `echo` and most editors end the input with
        texts = [text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text]
    else:
        p = Path(_user_path(a.input))  # expanded here, not by its type=: with --text, INPUT is the text
        if not a.input.strip() or not p.exists():  # a file, or a corpus directory as build and audit take ("": no)
            raise FileNotFoundError(
                f"no such file: {a.input!r} (to attribute a literal text, pass --text; to read one from stdin, pass -)"
            )
        texts = fp.load_corpus(p, text_column=a.text_column, model_column=None)["text"]
    t = time.perf_counter()
    res = fp.attribute(texts, references=refs, top_features=a.top_features, alpha=a.alpha)  # a bar on a terminal
    _throughput("attributed", len(res), time.perf_counter() - t)
    if a.json:
        for r in res:
            print(json.dumps(r.to_dict()))
    else:
        for r in res:
            print(r.explain(), end="\n\n")
    return 0


def _cmd_audit(a: argparse.Namespace) -> int:
    import fingerprint as fp

    plot = None
    if a.plot:  # checked before the audit, not after it; matplotlib adds ".png" to a name without a suffix
        plot = Path(a.plot) if Path(a.plot).suffix else Path(a.plot + ".png")
        if Path(a.plot).is_dir() or plot.is_dir():
            raise ValueError(f"--plot {a.plot} is a directory; give a file name such as {Path(a.plot) / 'audit.png'}")
        if not plot.parent.is_dir():
            raise ValueError(f"--plot {a.plot}: no such directory {plot.parent}")
        if plot.suffix.lower() not in _PLOT_FORMATS:
            formats = ", ".join(sorted(_PLOT_FORMATS))
            raise ValueError(f"--plot {a.plot}: unknown image format {plot.suffix!r}; use one of {formats}")
    refs = fp.load_references(a.references, embedding_model=a.embedding_model) if a.references else None
    ds = fp.load_corpus(a.input, text_column=a.text_column, model_column=None)
    paired = {}
    if a.reference_corpus:
        if "prompt_id" not in ds.column_names:
            raise ValueError("paired mode (--reference-corpus) needs a prompt_id column in the input")
        try:
            reference_texts = fp.load_corpus(a.reference_corpus)
        except ValueError as e:
            raise ValueError(f"--reference-corpus needs text, model and prompt_id columns: {e}") from e
        paired = {"groups": ds["prompt_id"], "reference_texts": reference_texts}
    # paired by default: audit() pairs a table on its prompt_id column when the references answered those
    # prompts (the built-in set and the probe prompts of `fingerprint probe`); --unpaired passes the texts alone
    texts = ds["text"] if (paired or a.unpaired) else ds
    # a table whose prompts the references did not answer is audited unpaired, with a warning from audit()
    report = fp.audit(texts, references=refs, alpha=a.alpha, top_features=a.top_features, **paired)
    print(json.dumps(report.to_dict()) if a.json else report)
    if a.plot:
        from fingerprint.setlevel import plot_similarity

        plot_similarity(refs if refs is not None else fp.references.builtin(), report).figure.savefig(plot, dpi=150)
        print(f"similarity plot written to {plot}", file=sys.stderr)
    return 0


def _cmd_probe(a: argparse.Namespace) -> int:
    import fingerprint as fp

    rows = fp.references.probe_prompts()
    lines = "".join(json.dumps({"prompt_id": i, "prompt": p}, ensure_ascii=False) + "\n"
                    for i, p in zip(rows["prompt_id"], rows["prompt"], strict=True))  # fmt: skip
    if a.out:
        from fingerprint.io import atomic_write_bytes

        if Path(a.out).is_dir():
            raise ValueError(f"--out {a.out} is a directory; give a file name such as {Path(a.out) / 'probes.jsonl'}")
        atomic_write_bytes(a.out, lines.encode())
        print(f"{len(rows['prompt_id'])} probe prompts written to {a.out}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
    return 0


def _cmd_inspect(a: argparse.Namespace) -> int:
    import fingerprint as fp

    p = Path(a.path)
    obj = fp.load_references(p) if p.is_dir() else fp.Fingerprint.load(p)
    print(obj)
    if isinstance(obj, fp.ReferenceSet):
        print(obj.to_frame().to_string(index=False))
    return 0


def _cmd_demo(a: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    import fingerprint as fp
    from fingerprint import references
    from fingerprint.attribution import family_index

    refs = references.builtin()
    sample = references.load_sample()
    if a.unknown not in set(sample["model"]):  # before the attribution step's seconds, not after
        raise ValueError(f"--unknown {a.unknown!r} has no answers in the sample; choose one of "
                         f"{sorted(set(sample['model']))}")  # fmt: skip
    print(f"{refs}\nSample: {len(sample)} answers to {len(set(sample['prompt_id']))} held-out prompts "
          "(see fingerprint/data/SAMPLE.md for origin and terms)\n")  # fmt: skip

    # 1. per-text attribution against the built-in fingerprints
    res = fp.attribute(sample["text"], references=refs, top_features=1)
    df = res.to_frame()
    df.insert(0, "true", sample["model"])
    first = df.groupby("true", sort=True).head(1)
    with pd.option_context("display.width", 160, "display.max_colwidth", 26):
        cols = ["true", "model", "confidence", "family", "family_confidence", "top_feature"]
        print(first[cols].to_string(index=False))
    acc = float(np.mean(df["true"] == df["model"]))
    names, fam_of = family_index(refs, refs.models)
    family = dict(zip(refs.models, (names[i] for i in fam_of), strict=True))
    fam_acc = float(np.mean([family[t] == f for t, f in zip(df["true"], df["family"], strict=True)]))
    print(f"\nper-text top-1 on all {len(df)} sample texts: {acc:.1%} (chance {1 / len(refs):.1%}); "
          f"family top-1: {fam_acc:.1%}\n")  # fmt: skip

    # 2. audit one "unknown" model against the teachers, pairing answers to the same prompts
    unknown = a.unknown
    students = [f.model for f in refs if f.metadata.get("role") in ("student", "control")]
    with warnings.catch_warnings():
        # the calibration is kept as an estimate (refs.calibration_stale); the audit's p-values do not use it
        warnings.simplefilter("ignore", UserWarning)
        for m in students:
            refs.remove(m)
    is_u = np.array(sample["model"]) == unknown
    report = fp.audit(
        [t for t, u in zip(sample["text"], is_u, strict=True) if u], references=refs,
        groups=[p for p, u in zip(sample["prompt_id"], is_u, strict=True) if u],
        reference_texts=sample.filter(lambda r: r["model"] in refs), top_features=5,
    )  # fmt: skip
    print(f"Audit of {unknown} (removed from the references with the other students), paired mode:")
    print(report)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fingerprint`` command."""
    _offline()
    ap = argparse.ArgumentParser(prog="fingerprint", description="Stylometric fingerprinting of LLMs.")
    sub = ap.add_subparsers(dest="cmd", required=True)

    b = sub.add_parser("build", help="build a reference set from a corpus (text, model[, prompt_id])")
    b.add_argument(
        "corpus", type=_user_path, help="corpus directory or jsonl/csv/parquet file with text and model columns"
    )
    b.add_argument("--out", required=True, type=_user_path, help="directory to save the reference set in")
    b.add_argument("--split", choices=["train", "dev"], default=None, help="use only this prompt split")
    b.add_argument(
        "--space", choices=["fit", "default"], default="fit",
        help="fit a feature space on the corpus, or use the shipped one",
    )  # fmt: skip
    b.add_argument("--jobs", type=int, default=None, help="worker processes for the score block (-1: all cores)")
    b.add_argument(
        "--calibration", choices=["crossfit", "holdout"], default="crossfit",
        help="holdout: calibrate on about a fifth of the prompts scored by a second build without them (better "
        "calibrated when the space is fitted here, at the cost of a second build; see build_references)",
    )  # fmt: skip
    b.add_argument("--text-column", default="text", help="column holding the texts")
    b.add_argument("--model-column", default="model", help="column naming the model of each text")
    b.set_defaults(func=_cmd_build)

    t = sub.add_parser("attribute", help="attribute a text or a corpus file")
    t.add_argument(
        "input", help="a jsonl/csv/parquet file with a text column; with --text, a literal text; - reads stdin"
    )
    t.add_argument("--text", action="store_true", help="INPUT is the text itself, not a file name")
    t.add_argument("--references", type=_user_path, help="reference-set directory (default: built-in)")
    t.add_argument("--embedding-model", help=_EMBEDDING_MODEL_HELP)
    t.add_argument("--text-column", default="text", help="column holding the texts in a file")
    t.add_argument(
        "--top-features", "--top", type=int, default=DEFAULT_TOP_FEATURES, action=_Renamed,
        help="features to show per text (--top: deprecated name)",
    )  # fmt: skip
    t.add_argument(
        "--alpha", "--none-below", type=float, default=0.0, action=_Renamed,
        help="answer 'none of these' when a text's typicality is below this (0: never; --none-below: deprecated name)",
    )  # fmt: skip
    t.add_argument("--json", action="store_true", help="one JSON object per line")
    t.set_defaults(func=_cmd_attribute)

    u = sub.add_parser("audit", help="audit outputs of ONE unknown model: whose outputs was it trained on?")
    u.add_argument("input", type=_user_path, help="jsonl/csv/parquet file with the unknown model's outputs")
    u.add_argument("--references", type=_user_path, help="reference-set directory (default: built-in)")
    u.add_argument("--embedding-model", help=_EMBEDDING_MODEL_HELP)
    u.add_argument("--text-column", default="text", help="column holding the texts")
    u.add_argument("--alpha", type=float, default=0.05, help="significance level of the verdict")
    u.add_argument("--top-features", type=int, default=DEFAULT_TOP_FEATURES, help="features to show")
    u.add_argument("--plot", type=_user_path, help="write a model-similarity heatmap (PNG) here")
    mode = u.add_mutually_exclusive_group()
    mode.add_argument(
        "--reference-corpus", type=_user_path,
        help="outputs of the reference models (text, model, prompt_id): compare answers to the same prompts",
    )
    mode.add_argument(
        "--unpaired", action="store_true",
        help="compare set means only, even when the input's prompt_id column names probe prompts",
    )  # fmt: skip
    u.add_argument("--json", action="store_true", help="the report as one JSON object")
    u.set_defaults(func=_cmd_audit)

    pr = sub.add_parser(
        "probe", help="write the probe prompts (prompt_id, prompt) the built-in references answered",
        description="Answer these prompts with the model to audit, keep the prompt_id column, and run "
        "`fingerprint audit answers.jsonl`: answers are then compared with the references' answers to the "
        "same prompts (paired mode).",
    )  # fmt: skip
    pr.add_argument("--out", type=_user_path, help="JSONL file to write (default: stdout)")
    pr.set_defaults(func=_cmd_probe)

    i = sub.add_parser("inspect", help="describe a fingerprint file or reference-set directory")
    i.add_argument("path", type=_user_path, help="a .fingerprint.npz file or a reference-set directory")
    i.set_defaults(func=_cmd_inspect)

    d = sub.add_parser("demo", help="attribute the shipped sample with the built-in references and audit one model")
    d.add_argument("--unknown", default="alpaca-7b", help="sample model to audit as if unknown")
    d.set_defaults(func=_cmd_demo)

    args = ap.parse_args(argv)
    # a warning is a message to the user here, not a pointer into this module's source; only its
    # formatting changes, so callers that record warnings (pytest, logging.captureWarnings) still do
    format_before = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        for used, name in getattr(args, "renamed_options", []):
            warnings.warn(f"{used} is deprecated; use {name}", FutureWarning, stacklevel=1)
        return int(args.func(args))
    except BrokenPipeError:  # the output piped into a reader that stopped early (`| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second traceback at exit
        return 0
    except (ValueError, TypeError, KeyError, OSError) as e:  # a user's error (or a full disk): one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:  # another process saving to the same directory (io is loaded if it raised that)
        io = sys.modules.get("fingerprint.io")
        if io is None or not isinstance(e, io.DirectoryLockedError):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = format_before


def _user_path(value: str) -> str:
    """The ``type=`` of every argument naming a file or directory: a shell leaves ``~`` alone after
    ``--out=`` or in quotes, and the Python API expands it, so the checks here (a non-empty ``--out``
    refused, ``--plot``'s directory) look where the command will write.  ``validation.user_path``'s
    rule, repeated so that parsing (and ``--help``) does not import the library."""
    return os.path.expanduser(value)


class _Renamed(argparse.Action):
    """Stores the value; used by a deprecated name (any but the first), notes it for a FutureWarning, as the
    Python API's renamed parameters give one."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:  # fmt: skip
        setattr(namespace, self.dest, values)
        if option_string is not None and option_string != self.option_strings[0]:
            used = (option_string, self.option_strings[0])
            namespace.renamed_options = [*getattr(namespace, "renamed_options", []), used]


def _format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                    line: str | None = None) -> str:  # fmt: skip
    return f"warning: {message}\n"


if __name__ == "__main__":
    raise SystemExit(main())
