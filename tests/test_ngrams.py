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
