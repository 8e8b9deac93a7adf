"""fingerprint: stylometric fingerprinting of large language models.

Which model wrote this text, and whose outputs was a model trained on?

Data flows one way: ``text -> features -> fingerprint -> reference set -> attribution/audit``;
each module imports only the layers below it (docs: "Architecture").
Importing the package is light: submodules (and scikit-learn, ``datasets``,
torch) load on first use of a name that needs them.

Examples
--------
Attribute a text with the built-in fingerprints of 81 LLMs (offline, no training):

>>> import fingerprint as fp
>>> from fingerprint import references
>>> res = fp.attribute("Certainly! Here is a concise overview of the topic.")
>>> res[0].model in references.list_models()
True

Build references from your own labelled outputs and attribute against them:

>>> sample = references.load_sample()
>>> few = sample.filter(lambda r: r["model"] in ("claude-2", "gpt-4-0314", "llama-2-70b-chat"))
>>> few = fp.sample_per_model(few, 8)  # 8 answers per model keep the example fast
>>> refs = fp.build_references(few["text"], few["model"], space="default", groups=few["prompt_id"])
>>> refs.models
['claude-2', 'gpt-4-0314', 'llama-2-70b-chat']
>>> fp.attribute(few["text"][:1], references=refs)[0].model in refs.models
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
"""The package version (PEP 440).

Examples
--------
>>> import fingerprint
>>> fingerprint.__version__.count(".") >= 1
True
"""

# public name -> defining module (resolved lazily, PEP 562)
_EXPORTS: dict[str, str] = {
    "load_corpus": "fingerprint.corpus",
    "audit": "fingerprint.setlevel",
    "AuditReport": "fingerprint.setlevel",
    "Candidate": "fingerprint.setlevel",
    "prompt_split": "fingerprint.corpus",
    "sample_per_model": "fingerprint.corpus",
    "CharNgrams": "fingerprint.features.ngrams",
    "WordNgrams": "fingerprint.features.ngrams",
    "StyleMarkers": "fingerprint.features.style",
    "EmbeddingFeatures": "fingerprint.features.embeddings",
    "STYLE_MARKER_NAMES": "fingerprint.features.style",
    "describe_marker": "fingerprint.features.style",
    "identity_claims": "fingerprint.features.identity",
    "FeatureSpace": "fingerprint.features.space",
    "Fingerprint": "fingerprint.fingerprints",
    "ReferenceSet": "fingerprint.refset",
    "build_references": "fingerprint.building",
    "load_references": "fingerprint.building",
    "Attribution": "fingerprint.attribution",
    "Attributions": "fingerprint.attribution",
    "FingerprintClassifier": "fingerprint.classifier",
    "attribute": "fingerprint.attribution",
    "expected_calibration_error": "fingerprint.calibration",
    "brier_score": "fingerprint.calibration",
    "FingerprintFileError": "fingerprint.io",
    "DirectoryLockedError": "fingerprint.io",
}

__all__ = [
    "STYLE_MARKER_NAMES",
    "Attribution",
    "Attributions",
    "AuditReport",
    "Candidate",
    "CharNgrams",
    "DirectoryLockedError",
    "EmbeddingFeatures",
    "FeatureSpace",
    "Fingerprint",
    "FingerprintClassifier",
    "FingerprintFileError",
    "ReferenceSet",
    "StyleMarkers",
    "WordNgrams",
    "__version__",
    "attribute",
    "audit",
    "brier_score",
    "build_references",
    "describe_marker",
    "expected_calibration_error",
    "identity_claims",
    "load_corpus",
    "load_references",
    "prompt_split",
    "sample_per_model",
]


# submodules reachable as attributes (``fp.references.list_models()``) without an explicit import
_SUBMODULES = frozenset(
    {
        "attribution", "building", "calibration", "classifier", "cli", "corpus", "features", "fingerprints", "io",
        "lda", "references", "refset", "setlevel", "validation",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"fingerprint.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fingerprint' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from fingerprint.attribution import Attribution, Attributions, attribute
    from fingerprint.building import build_references, load_references
    from fingerprint.calibration import brier_score, expected_calibration_error
    from fingerprint.classifier import FingerprintClassifier
    from fingerprint.corpus import load_corpus, prompt_split, sample_per_model
    from fingerprint.features.embeddings import EmbeddingFeatures
    from fingerprint.features.identity import identity_claims
    from fingerprint.features.ngrams import CharNgrams, WordNgrams
    from fingerprint.features.space import FeatureSpace
    from fingerprint.features.style import STYLE_MARKER_NAMES, StyleMarkers, describe_marker
    from fingerprint.fingerprints import Fingerprint
    from fingerprint.io import DirectoryLockedError, FingerprintFileError
    from fingerprint.refset import ReferenceSet
    from fingerprint.setlevel import AuditReport, Candidate, audit
