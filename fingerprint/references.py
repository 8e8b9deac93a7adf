"""The reference set shipped with the package (built-in fingerprints)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from fingerprint.fingerprints import ReferenceSet

__all__ = ["builtin", "list_models"]

_DIR = "builtin_references"


@lru_cache(maxsize=1)
def _load() -> ReferenceSet:
    ref = resources.files("fingerprint") / "data" / _DIR
    with resources.as_file(ref) as p:
        if not (Path(p) / "references.npz").is_file():
            raise FileNotFoundError(
                "this installation ships no built-in reference set yet; pass references= "
                "(e.g. fingerprint.build_references(texts, models))"
            )
        return ReferenceSet.load(p)


def builtin() -> ReferenceSet:
    """The built-in reference set (a fresh copy, safe to modify).

    Returns
    -------
    ReferenceSet

    Raises
    ------
    FileNotFoundError
        When this installation ships none.
    """
    refs = _load()
    return ReferenceSet(
        list(refs),
        refs.space,
        temperature=refs.temperature,
        shrinkage=refs.shrinkage,
        distance_quantiles=refs.distance_quantiles,
        metadata=refs.metadata,
    )


def list_models() -> list[str]:
    """Names of the models in the built-in reference set."""
    return _load().models
