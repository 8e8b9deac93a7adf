"""One name per concept (docs/api.md, "Naming"): renamed keywords keep working with a FutureWarning,
give the same result, and refuse being passed together with their new name."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import fingerprint as fp
from fingerprint import references
from fingerprint.attribution import DEFAULT_TOP_FEATURES
from fingerprint.cli import DEFAULT_TOP_FEATURES as CLI_DEFAULT_TOP_FEATURES
from fingerprint.cli import main


def test_attribute_none_below_is_alpha(fitted, heldout):
    texts = heldout[0][:4]
    new = fp.attribute(texts, fitted, alpha=0.5)
    with pytest.warns(FutureWarning, match="none_below= is renamed alpha="):
        old = fp.attribute(texts, fitted, none_below=0.5)
    assert [a.model for a in old] == [a.model for a in new]
    with pytest.raises(TypeError, match="both alpha= and its old name none_below="):
        fp.attribute(texts, fitted, alpha=0.1, none_below=0.5)


def test_explain_k_is_top_features(fitted, heldout):
    a = fp.attribute(heldout[0][0], fitted)[0]
    with pytest.warns(FutureWarning, match="k= is renamed top_features="):
        old = a.explain(k=2)
    assert old == a.explain(top_features=2) != a.explain()


def test_audit_prompts_is_groups(fitted, heldout, corpus):
    texts, models, prompts = corpus
    base = list(fitted.references_)
    # an audit needs four references for its null: two shifted copies join the three models
    extra = [fp.Fingerprint(f"{f.model}-2", f.n_texts, f.mean + 0.5, f.scatter, f.space_id) for f in base[:2]]
    refs = fp.ReferenceSet([*base, *extra], fitted.space_)
    copied = [i for i, m in enumerate(models) if m in ("model-a", "model-b")]
    ref_texts = {
        "text": texts + [texts[i] for i in copied],
        "model": models + [models[i] + "-2" for i in copied],
        "prompt_id": prompts + [prompts[i] for i in copied],
    }
    mine = [(t, p) for t, m, p in zip(*heldout, strict=True) if m == "model-a"][:6]
    kw = {"references": refs, "n_bootstrap": 20, "reference_texts": ref_texts}
    new = fp.audit([t for t, _ in mine], groups=[p for _, p in mine], **kw)
    with pytest.warns(FutureWarning, match="prompts= is renamed groups="):
        old = fp.audit([t for t, _ in mine], prompts=[p for _, p in mine], **kw)
    assert old.to_dict() == new.to_dict()


def test_sample_per_model_seed_is_random_state():
    sample = references.load_sample()
    new = fp.sample_per_model(sample, 2, random_state=3)
    with pytest.warns(FutureWarning, match="seed= is renamed random_state="):
        old = fp.sample_per_model(sample, 2, seed=3)
    assert old["text"] == new["text"]


def test_calibrate_labels_is_models(fitted, heldout):
    refs = fitted.references_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns about nothing
        t_new = fp.ReferenceSet(list(refs), refs.space).calibrate(heldout[0], models=heldout[1]).temperature
    with pytest.warns(FutureWarning, match="labels= is renamed models="):
        t_old = fp.ReferenceSet(list(refs), refs.space).calibrate(heldout[0], labels=heldout[1]).temperature
    assert t_old == t_new


def test_one_default_for_top_features(fitted, heldout):
    assert CLI_DEFAULT_TOP_FEATURES == DEFAULT_TOP_FEATURES == 5
    assert len(fp.attribute(heldout[0][0], fitted)[0].top_features) == DEFAULT_TOP_FEATURES


@pytest.mark.parametrize("flags", [["--top-features", "2", "--alpha", "0"], ["--top", "2", "--none-below", "0"]])
def test_cli_new_and_old_flags(flags, capsys):
    assert main(["attribute", "--text", "Certainly! Here is an overview.", "--json", *flags]) == 0
    out = capsys.readouterr().out
    assert len(json.loads(out)["top_features"]) == 2


def test_stale_calibration_is_flagged_then_refit(fitted, heldout):
    refs = fp.ReferenceSet(list(fitted.references_), fitted.space_, temperature=2.0,
                           distance_quantiles=fitted.references_.distance_quantiles)  # fmt: skip
    assert not refs.calibration_stale and "stale" not in repr(refs)
    f = refs[refs.models[0]]
    with pytest.warns(UserWarning, match="calibration was fitted for other models"):
        refs.remove(f.model)
    assert refs.calibration_stale and "stale" in repr(refs)
    refs.add(f)  # back to the same models, but changed since: still stale (and no second warning)
    assert refs.calibration_stale
    refs.calibrate(heldout[0], heldout[1])
    assert not refs.calibration_stale and refs.temperature != 2.0


def test_load_references_refuses_unknown_keywords(tmp_path, fitted):
    d = fitted.references_.save(tmp_path / "refs")
    with pytest.raises(TypeError):
        fp.load_references(d, shrinkage=0.5)
    with pytest.raises(TypeError, match="own space"):
        fp.load_references(d, space=fitted.space_)
    files = fp.ReferenceSet.files(d)
    assert fp.load_references(files, space=fitted.space_).models == fitted.references_.models
    assert np.isfinite(fp.load_references(d).temperature)


def test_sample_per_model_random_state_is_an_int():
    """Probe finding: None and RandomState were accepted silently (None drew other rows at every call)."""
    rows = {"text": [f"t{i}" for i in range(6)], "model": ["a", "b"] * 3}
    for bad in (None, np.random.RandomState(0)):
        with pytest.raises(TypeError, match="random_state"):
            fp.sample_per_model(rows, 2, random_state=bad)
