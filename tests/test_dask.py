"""fingerprint.dask on a 2-process LocalCluster: the local call's results, partition by partition."""

import numpy as np
import pandas as pd
import pytest

import fingerprint as fp
from fingerprint import references

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
fpd = pytest.importorskip("fingerprint.dask")

MODELS = ("claude-2", "gpt-4-0314", "llama-2-70b-chat", "vicuna-13b-v1.3")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def outputs():
    sample = references.load_sample().to_pandas()
    return sample[sample["model"].isin(MODELS)].reset_index(drop=True)


def _same_sets(a, b, rtol=1e-7):
    assert a.models == b.models
    for m in a.models:
        assert a[m].n_texts == b[m].n_texts
        np.testing.assert_allclose(a[m].mean, b[m].mean, rtol=rtol, atol=1e-10)
        np.testing.assert_allclose(a[m].scatter, b[m].scatter, rtol=rtol, atol=1e-8)
        assert dict(a[m].metadata) == dict(b[m].metadata)
    np.testing.assert_allclose(a.temperature, b.temperature, rtol=1e-6)
    np.testing.assert_allclose(a.length_slope, b.length_slope, atol=1e-6)
    np.testing.assert_allclose(a.confidence_map, b.confidence_map, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(a.distance_quantiles, b.distance_quantiles, rtol=1e-6)


@pytest.mark.parametrize("group", ["prompt_id", None])
def test_build_references_equals_the_local_call(client, outputs, tmp_path, group):
    """From a Parquet folder (the docs' snippet), 4 partitions on 2 worker processes."""
    outputs.to_parquet(tmp_path / "outputs", partition_cols=None)
    ddf = dd.read_parquet(tmp_path / "outputs").repartition(npartitions=4)
    meta = {"claude-2": {"family": "anthropic"}}
    got = fpd.build_references(ddf, space="default", groups=group, metadata=meta, split_every=2)
    groups = outputs["prompt_id"] if group else outputs["text"]
    want = fp.build_references(outputs["text"], outputs["model"], space="default", groups=groups, metadata=meta)
    _same_sets(got, want)
    assert got.metadata["calibration"]["groups"] == ("column 'prompt_id'" if group else "text")


def test_bounded_calibration_keeps_the_same_texts_whatever_the_partitions(client, outputs):
    ddf = dd.from_pandas(outputs, npartitions=3)
    a = fpd.build_references(ddf, groups="prompt_id", max_calibration_texts=40)
    b = fpd.build_references(ddf.repartition(npartitions=5), groups="prompt_id", max_calibration_texts=40)
    assert a.metadata["calibration"]["n_texts"] == 40
    _same_sets(a, b)


def test_attribute_equals_the_local_call(client, outputs):
    refs = references.builtin()
    ddf = dd.from_pandas(outputs[["text"]], npartitions=3)
    got = fpd.attribute(ddf, references=refs, alpha=0.01).compute()
    want = fp.attribute(outputs["text"], references=refs, top_features=0, alpha=0.01).to_frame()
    assert list(got.columns) == list(fpd.RESULT_COLUMNS)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want[list(fpd.RESULT_COLUMNS)], check_exact=False)
    # "none of these" is a missing value, not the string 'None' (review finding, 12-07: astype("str") on
    # pandas 2); at alpha 0.5 about half the texts abstain
    half = fpd.attribute(ddf, references=refs, alpha=0.5).compute()
    local = fp.attribute(outputs["text"], references=refs, top_features=0, alpha=0.5).to_frame()
    assert 0 < half["model"].isna().sum() == local["model"].isna().sum() and "None" not in set(half["model"].dropna())


def test_clear_errors(client, outputs):
    ddf = dd.from_pandas(outputs, npartitions=2)
    with pytest.raises(ValueError, match="no column 'answer'"):
        fpd.build_references(ddf, text_column="answer")
    with pytest.raises(ValueError, match=r"fitted FeatureSpace or space=.default."):
        fpd.build_references(ddf, space="fit")
    with pytest.raises(ValueError, match="at least 5 texts"):
        fpd.build_references(dd.from_pandas(outputs.iloc[:23], npartitions=2), calibrate=False)
    with pytest.raises(TypeError, match=r"needs a dask\.dataframe\.DataFrame, got DataFrame.*dd\.from_pandas"):
        fpd.build_references(outputs)
    with pytest.raises(TypeError, match=r"needs a dask\.dataframe\.DataFrame, got Bag"):
        fpd.attribute(ddf.to_bag())
    with pytest.raises(TypeError, match="random_state"):
        fpd.build_references(ddf, random_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="metadata must map each model name"):
        fpd.build_references(ddf, metadata={"claude-2": "anthropic"})
    with pytest.raises(TypeError, match="calibrate must be True or False"):  # "no" calibrated (12-07)
        fpd.build_references(ddf, calibrate="no")


def test_old_column_keywords_still_work_with_a_warning(client, outputs):
    """text=, model= and group= were renamed text_column=, model_column= and groups= (the names of
    load_corpus and build_references); the old ones give the same set, with a FutureWarning."""
    ddf = dd.from_pandas(outputs, npartitions=2)
    new = fpd.build_references(ddf, text_column="text", model_column="model", groups="prompt_id")
    with pytest.warns(FutureWarning, match="group= is renamed groups="):
        old = fpd.build_references(ddf, text="text", model="model", group="prompt_id")
    _same_sets(new, old)
    with pytest.raises(TypeError, match="both groups= and its old name group="):
        fpd.build_references(ddf, groups="prompt_id", group="prompt_id")
    with pytest.warns(FutureWarning, match="text= is renamed text_column="):
        fpd.attribute(dd.from_pandas(outputs[["text"]], npartitions=1), text="text")
