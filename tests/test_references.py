"""The built-in reference set and the shipped sample corpus."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import fingerprint as fp
from fingerprint import FingerprintFileError, references

ROOT = Path(__file__).resolve().parents[1]


def test_builtin_set_contents_and_provenance():
    refs = references.builtin()
    assert len(refs) >= 80 and refs.temperature is not None and refs.distance_quantiles is not None
    assert "gpt-4-0314" in references.list_models()
    alpaca = refs["alpaca-7b"]
    assert alpaca.metadata["role"] == "student" and alpaca.metadata["teacher"] == "text-davinci-003"
    assert refs["llama-3-8b-instruct-simpo"].metadata["parent"] == "llama-3-8b-instruct"  # wide corpus, lineage
    assert refs["gpt-4-turbo-2024-04-09"].metadata["family"] == refs["gpt-4-0314"].metadata["family"] == "openai"
    meta = refs.metadata
    assert meta["corpus"] == "alpaca_eval_train + alpaca_eval_wide" and meta["split"] == "train"
    assert "alpaca-7b" in meta["space_models"]  # as the parent of prompted variants
    assert "vicuna-13b-v1.1" not in meta["space_models"]  # students are fingerprinted, not in the space
    assert not any(m.endswith(("-concise", "-verbose")) for m in refs.models)  # prompted variants: their parent's
    assert "tatsu-lab/alpaca_eval" in json.dumps(meta["sources"]) and "not shipped" in meta["licence_note"]
    assert meta["built_with"].startswith("fingerprint ")
    assert refs.space.space_id_ == fp.FeatureSpace.default().space_id_
    assert set(references.info()["model"]) == set(refs.models)


def test_builtin_copy_is_independent():
    a = references.builtin()
    a.remove("claude-1")
    assert "claude-1" in references.builtin()


def test_builtin_files_are_verified(tmp_path):
    d = tmp_path / "refs"
    shutil.copytree(references.builtin_dir(), d)
    assert fp.load_references(d).models == references.list_models()
    member = next(d.rglob("gpt-4-0314.fingerprint.npz"))
    raw = bytearray(member.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    member.write_bytes(bytes(raw))
    with pytest.raises(FingerprintFileError):
        fp.load_references(d)


def test_shipped_size_budget():
    size = sum(p.stat().st_size for p in (ROOT / "fingerprint" / "data").rglob("*") if p.is_file())
    # 81 float16 fingerprints (~29 MB) + the space: PCA components (~6 MB) and a 44-model score block (~8 MB),
    # plus the sample (3 MB).  Issue 13's budget is 40 MB for the set; it is 43.5 MB (not met): this guards growth.
    assert size < 48 * 2**20


def test_sample_corpus_is_held_out():
    sample = references.load_sample()
    assert len(sample) == 20 * len(references.list_models()) and set(sample["model"]) == set(references.list_models())
    assert all(fp.prompt_split(p) == "dev" for p in sample["prompt_id"])  # never seen by the fingerprints


def test_shipped_confidences_hold_for_short_and_long_answers():
    """The shipped calibration on its held-out sample, by length (issue 13): with one temperature,
    answers under 300 characters got confidence 0.240 for accuracy 0.149 and the longest quarter 0.270
    for 0.363 (gaps -0.091 and +0.093 on these 1,620 answers); with the length-aware temperature both
    gaps are within 0.06."""
    refs = references.builtin()
    assert -0.6 < refs.length_slope < -0.1  # fitted: -0.377
    sample = references.load_sample()
    X = refs.space.transform(sample["text"])
    lda = refs.lda()
    P = lda.proba(X)
    ok = P.argmax(axis=1) == np.searchsorted(lda.classes.astype(str), np.array(sample["model"]))
    n_chars = np.array([len(t) for t in sample["text"]])
    for rows in (n_chars < 300, n_chars > np.quantile(n_chars, 0.75)):
        assert abs(ok[rows].mean() - P[rows].max(axis=1).mean()) < 0.06


def test_attribute_without_references_uses_builtin():
    res = fp.attribute("Certainly! Here is a concise overview of the topic.\n\n1. **First**: ...")
    assert res[0].model in references.list_models() and len(res[0].ranking) == len(references.list_models())


def test_user_fingerprint_takes_part():
    sample = references.load_sample()
    shouty = [t.upper() for t in sample["text"]]
    refs = references.builtin()
    refs.add(fp.Fingerprint.from_texts(shouty[::2], model="shouty-lm", metadata={"family": "test"}))
    res = fp.attribute(shouty[1::2][:40], references=refs, top_features=0)
    assert np.mean([r.model == "shouty-lm" for r in res]) > 0.9


@pytest.mark.slow
def test_builtin_reproduces_benchmark_accuracy_on_dev(shared_data):
    latest = sorted((ROOT / "benchmarks" / "results").glob("*-alpaca_eval_train/report.json"))[-1]
    report = json.loads(latest.read_text())
    dev = fp.load_corpus(shared_data, split="dev")
    refs = references.builtin()  # 81 models; restricted to the benchmark's 23 for a like-for-like check
    with pytest.warns(UserWarning, match="calibration"):
        for m in [m for m in refs.models if m not in set(dev["model"])]:
            refs.remove(m)
    clf = fp.FingerprintClassifier.from_references(refs)
    acc = float(np.mean(clf.predict(dev["text"]) == np.array(dev["model"])))
    # its space was fitted on 44 original models, the benchmark's on these 23: 0.395 against 0.403 measured
    assert acc > report["per_text"]["top1"] - 0.02, (acc, report["per_text"]["top1"])
    # issue 2's bar: not below the plain TF-IDF + LinearSVC baseline measured in the same report run
    baseline = report["peers"]["TF-IDF char1-4+word1-2 LinearSVC"]["top1"]
    assert acc > baseline, (acc, baseline)


@pytest.mark.slow
def test_build_from_two_corpora_fits_the_space_on_originals_only(tmp_path):
    """references.build over several corpus directories (issue 13): the space is fitted on the
    original models; students are fingerprinted in it; prompted variants are left out; lineage kept."""
    import json

    from conftest import make_corpus

    texts, models, prompts = make_corpus(40, seed=3)
    source = {"orig-a": "model-a", "orig-b": "model-b", "student-c": "model-c", "orig-a-terse": "model-a"}
    dirs = {"one": ["orig-a", "orig-b"], "two": ["student-c", "orig-a-terse"]}
    lineage = {"orig-a": {"role": "teacher", "family": "lab-a"}, "orig-b": {"role": "teacher", "family": "lab-b"},
               "student-c": {"role": "student", "family": "c", "teacher": "orig-a", "base_model": "B"},
               "orig-a-terse": {"role": "prompted", "family": "lab-a", "parent": "orig-a"}}  # fmt: skip
    for name, members in dirs.items():
        d = tmp_path / name
        d.mkdir()
        (d / "lineage.json").write_text(json.dumps({m: lineage[m] for m in members}))
        for m in members:
            rows = [{"text": t + ("" if m != "orig-a-terse" else " Short."), "model": m, "prompt_id": p}
                    for t, mm, p in zip(texts, models, prompts, strict=True) if mm == source[m]]  # fmt: skip
            (d / f"{m}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    refs = references.build([tmp_path / "one", tmp_path / "two"], tmp_path / "out", split="all", n_jobs=1)
    assert refs.models == ["orig-a", "orig-b", "student-c"]  # the prompted variant is its parent's
    assert refs.metadata["space_models"] == ["orig-a", "orig-b"]
    assert len(refs.space.score_classes_) == 2  # the score block knows the originals only
    assert refs["student-c"].metadata["teacher"] == "orig-a" and refs.temperature is not None
    loaded = fp.load_references(tmp_path / "out")
    assert loaded.models == refs.models and loaded["orig-a"].metadata["family"] == "lab-a"


def test_the_builtin_set_and_the_default_space_share_one_space():
    from fingerprint import FeatureSpace

    assert references.builtin().space is FeatureSpace.default()
