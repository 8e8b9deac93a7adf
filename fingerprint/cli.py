"""Command-line interface: ``fingerprint build | attribute | inspect | demo``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

_REL = Path("shared") / "data" / "alpaca_eval_train"
# the shared corpus lies beside the project checkout
_SHARED = next(
    (p / _REL for p in (Path.cwd().parent, Path(__file__).resolve().parents[2]) if (p / _REL).is_dir()),
    Path.cwd().parent / _REL,
)


def _offline() -> None:
    for k, v in {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0"}.items():
        os.environ.setdefault(k, v)


def _cmd_build(a: argparse.Namespace) -> int:
    import fingerprint as fp

    ds = fp.load_corpus(a.corpus, split=a.split)
    groups = ds["prompt_id"] if "prompt_id" in ds.column_names else None
    refs = fp.build_references(ds["text"], ds["model"], groups=groups, space=a.space)
    refs.save(a.out)
    print(f"{refs}\nsaved to {a.out}")
    return 0


def _cmd_attribute(a: argparse.Namespace) -> int:
    import fingerprint as fp

    refs = fp.load_references(a.references) if a.references else None
    p = Path(a.input)
    texts = fp.load_corpus(p, text_column=a.text_column, model_column=None)["text"] if p.exists() else [a.input]
    res = fp.attribute(texts, references=refs, top_features=a.top, none_below=a.none_below)
    if a.json:
        for r in res:
            print(json.dumps(r.to_dict()))
    else:
        for r in res:
            print(r.explain(), end="\n\n")
    return 0


def _cmd_audit(a: argparse.Namespace) -> int:
    import fingerprint as fp

    refs = fp.load_references(a.references) if a.references else None
    ds = fp.load_corpus(a.input, text_column=a.text_column, model_column=None)
    paired = {}
    if a.reference_corpus:
        if "prompt_id" not in ds.column_names:
            raise ValueError("paired mode (--reference-corpus) needs a prompt_id column in the input")
        paired = {"prompts": ds["prompt_id"], "reference_texts": fp.load_corpus(a.reference_corpus)}
    report = fp.audit(ds["text"], references=refs, alpha=a.alpha, **paired)
    print(json.dumps(report.to_dict()) if a.json else report)
    if a.plot:
        from fingerprint.setlevel import plot_similarity

        plot_similarity(refs if refs is not None else fp.references.builtin(), report).figure.savefig(a.plot, dpi=150)
        print(f"similarity plot written to {a.plot}", file=sys.stderr)
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

    import fingerprint as fp

    data = Path(a.data)
    if not data.is_dir():
        print(f"demo data not found at {data}; pass --data DIR (a corpus with text/model/prompt_id)")
        return 2
    print(f"Loading {data} (train prompts for fingerprints, dev prompts to attribute) ...")
    train, dev = fp.load_corpus(data, split="train"), fp.load_corpus(data, split="dev")
    train, dev = fp.sample_per_model(train, a.per_model), fp.sample_per_model(dev, 4)
    print(f"Fingerprinting {len(set(train['model']))} models from {len(train)} texts ...")
    clf = fp.FingerprintClassifier(n_char=2000, n_word=1000, n_components=256)
    clf.fit(train["text"], train["model"], groups=train["prompt_id"])
    res = fp.attribute(dev["text"], references=clf)
    df = res.to_frame()
    df.insert(0, "true", dev["model"])
    acc = float(np.mean(df["true"] == df["model"]))
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_colwidth", 28, "display.max_rows", 200):
        print(df[["true", "model", "confidence", "runner_up", "top_feature"]].to_string(index=False))
    print(f"\nper-text top-1 on {len(df)} unseen-prompt texts: {acc:.1%} (chance {1 / len(clf.classes_):.1%})")
    print("\nWhy the first call was made:\n" + res[0].explain())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fingerprint`` command."""
    _offline()
    ap = argparse.ArgumentParser(prog="fingerprint", description="Stylometric fingerprinting of LLMs.")
    sub = ap.add_subparsers(dest="cmd", required=True)

    b = sub.add_parser("build", help="build a reference set from a corpus (text, model[, prompt_id])")
    b.add_argument("corpus")
    b.add_argument("--out", required=True)
    b.add_argument("--split", choices=["train", "dev"], default=None)
    b.add_argument("--space", choices=["fit", "default"], default="fit")
    b.set_defaults(func=_cmd_build)

    t = sub.add_parser("attribute", help="attribute a text or a corpus file")
    t.add_argument("input", help="a file (jsonl/csv/parquet with a text column) or a literal text")
    t.add_argument("--references", help="reference-set directory (default: built-in)")
    t.add_argument("--text-column", default="text")
    t.add_argument("--top", type=int, default=5, help="features to show per text")
    t.add_argument("--none-below", type=float, default=0.0)
    t.add_argument("--json", action="store_true", help="one JSON object per line")
    t.set_defaults(func=_cmd_attribute)

    u = sub.add_parser("audit", help="audit outputs of ONE unknown model: whose outputs was it trained on?")
    u.add_argument("input", help="jsonl/csv/parquet file with the unknown model's outputs")
    u.add_argument("--references", help="reference-set directory (default: built-in)")
    u.add_argument("--text-column", default="text")
    u.add_argument("--alpha", type=float, default=0.05)
    u.add_argument("--plot", help="write a model-similarity heatmap (PNG) here")
    u.add_argument(
        "--reference-corpus",
        help="outputs of the reference models (text, model, prompt_id): compare answers to the same prompts",
    )
    u.add_argument("--json", action="store_true")
    u.set_defaults(func=_cmd_audit)

    i = sub.add_parser("inspect", help="describe a fingerprint file or reference-set directory")
    i.add_argument("path")
    i.set_defaults(func=_cmd_inspect)

    d = sub.add_parser("demo", help="fit on the shared corpus's train prompts, attribute dev prompts")
    d.add_argument("--data", default=str(_SHARED))
    d.add_argument("--per-model", type=int, default=120)
    d.set_defaults(func=_cmd_demo)

    args = ap.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, FileNotFoundError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
