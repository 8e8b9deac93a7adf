import numpy as np
import pytest

from fingerprint import FeatureSpace, FingerprintFileError


def test_transform_shape_blocks_and_names(small_space, corpus):
    X = small_space.transform(corpus[0][:5])
    assert X.shape == (5, small_space.n_features_out_)
    names = small_space.get_feature_names_out()
    assert len(names) == X.shape[1]
    assert small_space.block("ngram").size == 16
    assert names[small_space.block("style").start] == "style:log_chars"
    with pytest.raises(KeyError):
        small_space.block("nope")


def test_save_load_same_space(small_space, corpus, tmp_path):
    p = small_space.save(tmp_path / "space.npz")
    loaded = FeatureSpace.load(p)
    assert loaded.space_id_ == small_space.space_id_
    np.testing.assert_allclose(loaded.transform(corpus[0][:4]), small_space.transform(corpus[0][:4]))


def test_space_id_depends_on_content(corpus):
    a = FeatureSpace(n_char=300, n_word=150, n_components=16).fit(corpus[0])
    b = FeatureSpace(n_char=300, n_word=150, n_components=16).fit(corpus[0])
    c = FeatureSpace(n_char=200, n_word=150, n_components=16).fit(corpus[0])
    assert a.space_id_ == b.space_id_ != c.space_id_


def test_tampered_space_file(small_space, tmp_path):
    p = small_space.save(tmp_path / "space.npz")
    raw = bytearray(p.read_bytes())
    raw[-100] ^= 0xFF
    p.write_bytes(bytes(raw))
    with pytest.raises(FingerprintFileError):
        FeatureSpace.load(p)


def test_fit_needs_two_texts():
    with pytest.raises(ValueError, match="at least 2 texts"):
        FeatureSpace().fit(["only one"])


def test_fit_transform_equals_fit_then_transform(corpus):
    texts = corpus[0]
    a = FeatureSpace(n_char=300, n_word=150, n_components=16)
    X = a.fit_transform(texts)
    np.testing.assert_allclose(X, a.transform(texts), atol=1e-6)  # float32 counts


# -- the supervised score block ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored_space(corpus):
    texts, models, prompts = corpus
    space = FeatureSpace(n_char=300, n_word=150, n_components=16, n_score_features=500)
    X = space.fit_transform(texts, models, groups=prompts)
    return space, X


def test_no_labels_no_score_block(small_space):
    assert [b.name for b in small_space.blocks_] == ["ngram", "style"]
    assert not any(n.startswith("score:") for n in small_space.get_feature_names_out())


def test_score_block_names_and_shape(scored_space, corpus):
    space, X = scored_space
    b = space.block("score")
    assert b.size == 3 and b.stop == space.n_features_out_ == X.shape[1]
    names = space.get_feature_names_out()[b.start : b.stop]
    assert list(names) == ["score:model-a", "score:model-b", "score:model-c"]
    assert space.score_index_.size == 500 and space.score_coef_.shape == (500, 3)


def test_score_block_separates_models_on_new_texts(scored_space, heldout):
    space, _ = scored_space
    texts, models, _ = heldout
    S = space.transform(texts)[:, space.block("score").start :]
    pred = np.array(["model-a", "model-b", "model-c"])[S.argmax(axis=1)]
    assert np.mean(pred == np.array(models)) > 0.9


def test_training_scores_are_cross_fitted(scored_space, corpus):
    # transform() scores training texts with the model that saw them: more confident than
    # the cross-fitted scores fit_transform returned, and different from them
    space, X = scored_space
    b = space.block("score")
    S_cf = X[:, b.start : b.stop]
    S_in = space.transform(corpus[0])[:, b.start : b.stop]
    assert not np.allclose(S_cf, S_in)
    # the other blocks are the same either way
    np.testing.assert_allclose(X[:, : b.start], space.transform(corpus[0])[:, : b.start], atol=1e-6)



def test_cross_fitted_scores_do_not_know_their_own_labels(corpus):
    """With labels shuffled there is nothing to learn: a model that saw a text scores its (random)
    label high, the model that did not scores it like any other.  Separable labels cannot show this:
    on the toy corpus both margins are ~16.9 and their order is noise."""
    texts, models, prompts = corpus
    shuffled = np.random.default_rng(0).permutation(models)
    space = FeatureSpace(n_char=300, n_word=150, n_components=16, n_score_features=500)
    X = space.fit_transform(texts, shuffled, groups=prompts)
    b = space.block("score")

    def margin(S):
        y = np.searchsorted(space.score_classes_, shuffled)
        own = S[np.arange(len(y)), y]
        S = S.copy()
        S[np.arange(len(y)), y] = -np.inf
        return float(np.mean(own - S.max(axis=1)))

    in_sample, cross_fitted = margin(space.transform(texts)[:, b.start : b.stop]), margin(X[:, b.start : b.stop])
    assert in_sample > 0 > cross_fitted


def test_cross_fitting_folds_respect_groups(corpus):
    # with one prompt id per text triple the folds must keep each prompt's answers together, so
    # changing how prompts are grouped changes the folds and so the cross-fitted scores
    texts, models, prompts = corpus
    kw = {"n_char": 300, "n_word": 150, "n_components": 16, "n_score_features": 500}
    a = FeatureSpace(**kw)
    Xa = a.fit_transform(texts, models, groups=prompts)
    b = FeatureSpace(**kw)
    Xb = b.fit_transform(texts, models, groups=[p[:-1] for p in prompts])  # 10-prompt groups
    sc = a.block("score")
    assert not np.allclose(Xa[:, sc.start :], Xb[:, sc.start :])
    np.testing.assert_allclose(Xa[:, : sc.start], Xb[:, : sc.start])  # unsupervised blocks: no folds


def test_score_block_round_trip(scored_space, heldout, tmp_path):
    space, _ = scored_space
    loaded = FeatureSpace.load(space.save(tmp_path / "space.npz"))
    assert loaded.space_id_ == space.space_id_
    np.testing.assert_allclose(loaded.transform(heldout[0][:6]), space.transform(heldout[0][:6]))


def test_two_models_have_one_score(corpus):
    texts, models, prompts = corpus
    rows = [i for i, m in enumerate(models) if m != "model-c"]
    space = FeatureSpace(n_char=300, n_word=150, n_components=16, n_score_features=200)
    X = space.fit_transform([texts[i] for i in rows], [models[i] for i in rows], groups=[prompts[i] for i in rows])
    assert space.block("score").size == 1 and X.shape[1] == space.n_features_out_
    assert space.get_feature_names_out()[-1] == "score:model-b"


def test_score_block_bad_input(corpus):
    texts, models, prompts = corpus
    with pytest.raises(ValueError, match="at least 2 models"):
        FeatureSpace(n_char=50, n_word=20, n_components=2).fit(texts, ["m"] * len(texts))
    with pytest.raises(ValueError, match="got 90 texts but 89 groups"):
        FeatureSpace(n_char=50, n_word=20, n_components=2).fit(texts, models, groups=prompts[:-1])
    with pytest.raises(ValueError, match="at least 2 groups"):
        FeatureSpace(n_char=50, n_word=20, n_components=2).fit(texts, models, groups=["g"] * len(texts))


def test_score_block_can_be_disabled(corpus):
    texts, models, prompts = corpus
    space = FeatureSpace(n_char=50, n_word=20, n_components=2, n_score_features=0).fit(texts, models, groups=prompts)
    assert [b.name for b in space.blocks_] == ["ngram", "style"]


def test_parallel_fit_does_not_change_the_result(corpus):
    texts, models, prompts = corpus
    kw = {"n_char": 100, "n_word": 50, "n_components": 4, "n_score_features": 300}
    a = FeatureSpace(**kw).fit(texts, models, groups=prompts)
    b = FeatureSpace(**kw, n_jobs=2).fit(texts, models, groups=prompts)
    assert a.space_id_ == b.space_id_
    # the n-gram block is fitted in this process while the workers run the score folds: same arrays
    assert np.array_equal(a.components_, b.components_) and np.array_equal(a.score_coef_, b.score_coef_)


@pytest.mark.parametrize("n_jobs", [1, 2, 8])
@pytest.mark.parametrize("n_tasks", [0, 1, 5])
def test_overlapped_run_returns_every_result_in_order(n_jobs, n_tasks):
    from joblib import delayed

    from fingerprint.features.space import _run_overlapped

    calls = []
    tasks = [delayed(pow)(i, 2) for i in range(n_tasks)]
    results, out = _run_overlapped(tasks, lambda: calls.append(1) or "main", n_jobs)
    assert results == [i**2 for i in range(n_tasks)] and out == "main" and calls == [1]


@pytest.mark.filterwarnings("ignore:.*still being processed by the workers have been cancelled")
def test_overlapped_run_passes_the_main_tasks_error():
    from joblib import delayed

    from fingerprint.features.space import _run_overlapped

    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _run_overlapped([delayed(pow)(i, 2) for i in range(3)], fail, 2)


def test_the_default_space_is_found_in_either_layout(tmp_path, small_space):
    """`references build --out DIR` writes a generation folder; the shipped set may be flat."""
    from fingerprint import Fingerprint, ReferenceSet
    from fingerprint.features.space import _default_space_file
    from fingerprint.io import FingerprintFileError, read_bundle, write_bundle

    rng = np.random.default_rng(0)
    d = small_space.n_features_out_
    fps = [Fingerprint.from_features(rng.normal(size=(20, d)), f"m{j}", small_space.space_id_) for j in range(3)]
    ReferenceSet(fps, small_space).save(tmp_path / "refs")
    found = _default_space_file(tmp_path / "refs")
    assert found.parent.name.startswith(".gen-") and FeatureSpace.load(found).space_id_ == small_space.space_id_
    assert _default_space_file(tmp_path / "none") == tmp_path / "none" / "space.npz"  # no index: the flat place
    meta, arrays = read_bundle(tmp_path / "refs" / "references.npz", "reference_set")
    write_bundle(tmp_path / "refs" / "references.npz", "reference_set", {**meta, "generation": "../x"}, arrays)
    with pytest.raises(FingerprintFileError, match="invalid generation folder"):
        _default_space_file(tmp_path / "refs")


def test_the_default_space_is_loaded_once():
    assert FeatureSpace.default() is FeatureSpace.default()


# -- how much less a new text varies than a training text ---------------------------------------------


def _noise_texts(n, seed):
    """Texts of random words: every principal component is fitted noise, so the fitted texts are
    spread more along it than new texts are (the case the spread estimate exists for)."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(200)]
    return [" ".join(rng.choice(vocab, size=40)) for _ in range(n)]


def test_heldout_spread_estimates_a_new_texts_variance():
    texts = _noise_texts(160, 0)
    models = ["a", "b"] * 80
    space = FeatureSpace(n_char=300, n_word=200, n_components=12, n_score_features=200)
    X = space.fit_transform(texts, models, groups=[i // 2 for i in range(160)])
    b = space.block("ngram")
    ratio = space.heldout_spread_[b.start : b.stop]
    # what the estimate is for: new texts' variance along the components over the fitted texts'
    truth = space.transform(_noise_texts(2000, 1))[:, b.start : b.stop].var(axis=0) / X[:, b.start : b.stop].var(axis=0)
    assert truth.mean() < 0.5  # the premise: fitted noise (0.29 here)
    assert abs(ratio.mean() - truth.mean()) < 0.08  # estimated 0.26
    assert np.all((ratio > 0) & (ratio <= 1))
    outside = np.delete(space.heldout_spread_, np.arange(b.start, b.stop))
    np.testing.assert_array_equal(outside, 1.0)  # the style block is scaled, the score block cross-fitted


def test_heldout_spread_is_one_without_folds(small_space):
    # an unsupervised fit has no cross-fitting folds to estimate it with
    np.testing.assert_array_equal(small_space.heldout_spread_, 1.0)
    assert small_space.heldout_spread_.shape == (small_space.n_features_out_,)


def test_set_params_after_fit_changes_nothing_until_a_refit(corpus, tmp_path):
    """Probe finding: set_params(ngram_scale=/score_scale=/score_words=) on a fitted space made save() write
    a file its own id check refused, and score_words changed transform's output under the same space_id_."""
    from sklearn.base import clone

    texts, models, prompts = corpus
    space = FeatureSpace(n_char=300, n_word=150, n_components=16, n_score_features=500).fit(texts, models,
                                                                                          groups=prompts)  # fmt: skip
    before, sid = space.transform(texts[:5]), space.space_id_
    space.set_params(ngram_scale=2.0, score_scale=3.0, score_words="lowercase")
    np.testing.assert_array_equal(space.transform(texts[:5]), before)
    back = FeatureSpace.load(space.save(tmp_path / "s.npz"))
    assert back.space_id_ == sid and back.get_params()["score_words"] == "cased"  # the file says what was fitted
    np.testing.assert_array_equal(back.transform(texts[:5]), before)
    refit = clone(space).fit(texts, models, groups=prompts)  # the new parameters take effect at the next fit
    assert refit.space_id_ != sid


@pytest.mark.parametrize(
    "edit",
    [
        lambda m, a: (m, {**a, "ngram_unit": np.array(0.0)}),  # was ZeroDivisionError
        lambda m, a: ({k: v for k, v in m.items() if k != "params"}, a),  # was KeyError: 'params'
        lambda m, a: ({**m, "params": [1, 2]}, a),  # was TypeError
        lambda m, a: (m, {k: v for k, v in a.items() if k != "vocabulary_char"}),  # was KeyError
        lambda m, a: (m, {**a, "ngram_unit": np.ones(3)}),  # was TypeError
        lambda m, a: (m, {**a, "components": a["components"].ravel()}),  # was a matmul ValueError
        lambda m, a: ({k: v for k, v in m.items() if k != "space_id"}, a),  # was KeyError
    ],
)
def test_a_malformed_space_file_is_a_file_error(small_space, tmp_path, edit):
    """Probe finding: FeatureSpace.load let a checksummed file's bad fields out as raw Python errors."""
    from fingerprint.io import read_bundle, write_bundle

    meta, arrays = read_bundle(small_space.save(tmp_path / "space.npz"), "feature_space")
    m, a = edit(meta, arrays)
    write_bundle(tmp_path / "bad.npz", "feature_space", m, a)
    with pytest.raises(FingerprintFileError):
        FeatureSpace.load(tmp_path / "bad.npz")


def test_the_shared_default_space_cannot_be_edited_or_refitted():
    """Probe finding: references.builtin() copies share the default space, whose arrays could be edited
    in place (every later default attribution changed) and which fit() refitted in place."""
    from sklearn.base import clone

    space = FeatureSpace.default()
    with pytest.raises(ValueError, match="read-only"):
        space.components_ *= 0
    with pytest.raises(ValueError, match="shared default space"):
        space.fit(["one text here", "another text there"])
    assert not clone(space).is_fitted()  # a clone is the way to fit one with its parameters


def test_fit_takes_groups_as_a_column_name_of_a_table(corpus):
    """Review finding (12-07): FeatureSpace.fit(table, models, groups="prompt_id") failed with "len() of
    unsized object"; build_references and the classifier take a column name."""
    import pandas as pd

    texts, models, prompts = corpus
    table = pd.DataFrame({"text": texts, "model": models, "prompt_id": prompts})
    params = {"n_char": 100, "n_word": 50, "n_components": 4}
    by_name = FeatureSpace(**params).fit(table, models, groups="prompt_id")
    by_value = FeatureSpace(**params).fit(texts, models, groups=prompts)
    assert by_name.space_id_ == by_value.space_id_
    with pytest.raises(ValueError, match="groups='prompt' is a string"):
        FeatureSpace(**params).fit(table, models, groups="prompt")


def test_a_crafted_space_with_non_finite_arrays_is_refused(tmp_path):
    """Review finding: a space whose checksum and id were made consistent, with NaN components, loaded
    and made every attribution fail deep in scipy."""
    import pickle

    for name in ("components_", "style_scale_"):
        space = pickle.loads(pickle.dumps(FeatureSpace.default()))
        a = getattr(space, name).copy()
        a[0] = np.nan if name == "components_" else 0.0
        setattr(space, name, a)
        space._finish()  # a consistent id: what a crafted file would carry
        path = space.save(tmp_path / f"{name}.npz")
        with pytest.raises(FingerprintFileError, match="malformed feature space"):
            FeatureSpace.load(path)
