"""Feature extractors: text -> numbers (scikit-learn transformers)."""

from fingerprint.features.embeddings import EmbeddingFeatures
from fingerprint.features.identity import identity_claims
from fingerprint.features.ngrams import CharNgrams, WordNgrams
from fingerprint.features.space import Block, FeatureSpace
from fingerprint.features.style import STYLE_MARKER_NAMES, StyleMarkers, describe_marker

__all__ = [
    "STYLE_MARKER_NAMES",
    "Block",
    "CharNgrams",
    "EmbeddingFeatures",
    "FeatureSpace",
    "StyleMarkers",
    "WordNgrams",
    "describe_marker",
    "identity_claims",
]
