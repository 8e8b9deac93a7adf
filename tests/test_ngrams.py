import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.pipeline import FeatureUnion

from fingerprint import CharNgrams, WordNgrams

TEXTS = ["Sure! Here it is.", "Certainly. Here is the answer!", "No."]


def test_char_ngrams_vocabulary_and_names():
    cn = CharNgrams(ngram_range=(2, 3)).fit(TEXTS)
    X = cn.transform(TEXTS)
    assert sp.issparse(X) and X.shape[0] == 3
    names = cn.get_feature_names_out()
    assert len(names) == X.shape[1] and "char:He" in set(names)
    np.testing.assert_allclose(sp.linalg.norm(X, axis=1), 1.0, rtol=1e-5)  # l2 rows


def test_word_ngrams_keep_punctuation_and_case():
    names = set(WordNgrams().fit(TEXTS).get_feature_names_out())
    assert "word:!" in names and "word:Here is" in names and "word:Sure" in names


def test_hashing_mode_has_fixed_width():
    cn = CharNgrams(n_features=2**10).fit(TEXTS)
    assert cn.transform(["a much longer and different text than before"]).shape == (1, 2**10)
    assert cn.get_feature_names_out()[0] == "char:hash_0"


def test_sublinear_weighting():
    lin = WordNgrams(sublinear_tf=False, use_idf=False).fit(["a a a a b"]).transform(["a a a a b"]).toarray()[0]
    sub = WordNgrams(use_idf=False).fit(["a a a a b"]).transform(["a a a a b"]).toarray()[0]
    assert lin.max() / lin.min() == pytest.approx(4.0)
    assert sub.max() / sub.min() == pytest.approx(np.log1p(4) / np.log1p(1))  # log(1 + tf)


def test_feature_union_and_not_fitted():
    X = FeatureUnion([("c", CharNgrams()), ("w", WordNgrams())]).fit_transform(TEXTS)
    assert X.shape[0] == 3
    with pytest.raises(Exception, match="not fitted"):
        CharNgrams().transform(TEXTS)


@pytest.mark.parametrize("max_features", [None, 3])
def test_a_custom_token_pattern_is_fitted_by_scikit_learn_with_the_same_result(max_features):
    from sklearn.feature_extraction.text import CountVectorizer

    texts = ["a-b c-d a-b", "c-d e!", "a-b"]
    got = WordNgrams((1, 1), token_pattern=r"\S+", use_idf=False, sublinear_tf=False, max_features=max_features)
    Z = got.fit_transform(texts)
    cv = CountVectorizer(token_pattern=r"\S+", lowercase=False)
    C = cv.fit_transform(texts).toarray().astype(np.float32)
    names = list(cv.get_feature_names_out())
    if max_features is not None:  # the n-grams found in most texts, ties alphabetical, in column order
        keep = sorted(np.argsort(-(C > 0).sum(axis=0), kind="stable")[:max_features])
        names, C = [names[i] for i in keep], C[:, keep]
    assert list(got.vocabulary_) == names
    np.testing.assert_allclose(Z.toarray(), C / np.linalg.norm(C, axis=1, keepdims=True), rtol=1e-6)


def test_numpy_integers_and_min_df_above_the_texts():
    """Probe findings: ngram_range of numpy integers was refused; min_df above the number of texts raised
    scikit-learn's message about max_df, a parameter the user never set."""
    from fingerprint.features.ngrams import WordNgrams

    assert WordNgrams(ngram_range=(np.int64(1), np.int64(2))).fit(["a b c", "c d e"]).transform(["a b"]).shape[0] == 1
    with pytest.raises(ValueError, match="min_df=5 is above the 2 texts"):
        WordNgrams(min_df=5).fit(["a b", "c d"])
