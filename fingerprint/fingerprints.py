"""Per-model fingerprints: the value type of the package.

A :class:`Fingerprint` holds the sufficient statistics of one model's texts
in a :class:`~fingerprint.features.space.FeatureSpace`: the number of texts,
their mean vector and their scatter matrix (sum of squared deviations).
That is all the Gaussian attributor needs, so:

* a reference set can be assembled from fingerprint files alone, without any
  raw text (texts are often under terms that forbid redistribution);
* adding a model needs only that model's texts (and the shared space);
* two fingerprints of the same model, built on two shards, merge exactly
  (the pooled mean and scatter are what one pass over all texts would give).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from fingerprint.features.space import FeatureSpace
from fingerprint.io import (
    FingerprintFileError,
    pack_symmetric,
    read_bundle,
    triu_pairs,
    unpack_symmetric,
    write_bundle,
)  # fmt: skip
from fingerprint.validation import check_choice, check_json_metadata, check_one_model, check_texts

__all__ = ["PRECISIONS", "Fingerprint"]

#: How :meth:`Fingerprint.save` (and :meth:`ReferenceSet.save <fingerprint.refset.ReferenceSet.save>`) can
#: store the statistics.
PRECISIONS = ("float64", "float32", "float16", "int8")


#: int8 storage: correlations rounded to multiples of 1/127 (so |error| <= 1/254 ~ 0.004).
_INT8_STEPS = 127
#: the largest standard deviation whose products (times an int8 step of up to 128/127) stay finite
_INT8_SD_MAX = float(np.sqrt(np.finfo(np.float64).max / 128 * _INT8_STEPS))
#: The most texts a fingerprint may count: float64 holds every whole number up to 2**53 exactly.
MAX_N_TEXTS = 2**53
#: The largest dimension a fingerprint file may declare.  Its scatter unpacks to d x d float64 (2 GiB
#: here), while the file holds one int8 triangle: a 200 KB file declaring d = 20,000 needed 3.2 GB on
#: first use.  The default space has 628 dimensions; a fused space with a 1,024-d embedding about 2,000.
MAX_DIM = 16_384


@dataclass(frozen=True, eq=False, repr=False)
class Fingerprint:
    """The profile of one model: sufficient statistics of its texts in a feature space.

    Build one with :meth:`from_texts`; combine shards with :meth:`merge`.

    Attributes
    ----------
    model : str
        Model name, e.g. ``"gpt-4-0314"``.
    n_texts : int
        Number of texts it summarises.
    mean : ndarray of shape (d,)
        Mean feature vector.
    scatter : ndarray of shape (d, d)
        Sum over texts of ``(x - mean)(x - mean)^T``.  A fingerprint read by :meth:`load` keeps it
        packed as its file stored it until first read (attribution never reads it; an audit does).
    space_id : str
        Id of the :class:`FeatureSpace` the statistics live in.
    metadata : Mapping
        Free-form JSON-able facts: family, role, teacher, source corpus ...  Read-only, nested
        values too (every copy of a set shares its fingerprints).  ``family``, which attribution and
        audit group models by, must be a non-empty string (or absent, or None: the model is its own family).

    Notes
    -----
    Immutable, and compared by identity: ``==`` is ``is`` (a loaded copy is another object).  Compare
    statistics with numpy, e.g. ``np.allclose(f.mean, g.mean)``.

    Examples
    --------
    Fingerprint one model's outputs in the shipped feature space, in two shards, and merge them:

    >>> import numpy as np
    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> sample = references.load_sample()
    >>> texts = sample.filter(lambda r: r["model"] == "gemini-pro")["text"]
    >>> a = fp.Fingerprint.from_texts(texts[:12], model="my-model", metadata={"family": "mine"})
    >>> b = fp.Fingerprint.from_texts(texts[12:], model="my-model")
    >>> f = a.merge(b)
    >>> f
    Fingerprint(model='my-model', n_texts=20, dim=628, family='mine')
    >>> whole = fp.Fingerprint.from_texts(texts, model="my-model")
    >>> bool(np.allclose(f.mean, whole.mean) and np.allclose(f.scatter, whole.scatter))
    True

    It stores statistics, never text, and saves to one checksummed file:

    >>> f.mean.shape, f.scatter.shape
    ((628,), (628, 628))
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "my-model.fingerprint.npz")
    >>> fp.Fingerprint.load(f.save(path)).n_texts
    20
    """

    model: str
    n_texts: int
    mean: np.ndarray
    scatter: np.ndarray
    space_id: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._check_fields()
        scatter = np.array(self.scatter, dtype=np.float64)  # a copy: frozen below, the caller's stays writable
        if scatter.shape != (self.mean.size, self.mean.size):
            raise ValueError(f"mean {self.mean.shape} and scatter {scatter.shape} do not agree")
        if not np.all(np.isfinite(scatter)):
            raise ValueError(f"fingerprint of {self.model!r} has non-finite statistics")
        if (np.diagonal(scatter) < 0).any():  # a sum of squares; Fingerprint.load refuses one too
            raise ValueError(f"fingerprint of {self.model!r} has a scatter with a negative variance")
        scatter.setflags(write=False)
        object.__setattr__(self, "scatter", scatter)

    def _check_fields(self) -> None:
        """Validate and freeze every field but the scatter."""
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model must be a non-empty name, got {self.model!r}")
        mean = np.array(self.mean, dtype=np.float64)  # a copy: frozen below, the caller's stays writable
        if mean.ndim != 1:
            raise ValueError(f"mean must be a vector, got shape {mean.shape}")
        if not np.all(np.isfinite(mean)):
            raise ValueError(f"fingerprint of {self.model!r} has non-finite statistics")
        n = self.n_texts
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, float, np.integer, np.floating)) \
                or not 1 <= n <= MAX_N_TEXTS or not float(n).is_integer():  # fmt: skip
            raise ValueError(f"n_texts must be a whole number from 1 to 2**53, got {n!r}")
        if not isinstance(self.space_id, str) or not self.space_id:
            raise ValueError(f"space_id must be the id of a fitted FeatureSpace (a string), got {self.space_id!r}")
        mean.setflags(write=False)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "n_texts", int(self.n_texts))
        # JSON (what a file can hold), frozen all the way down: a set's copies share their fingerprints, so an
        # edit of a nested value (metadata["lineage"]["teacher"] = ...) reached every copy
        # string keys, JSON values: a key 1 became "1" silently, a numpy int failed inside json's encoder
        plain = json.loads(check_json_metadata(self.metadata, f"the metadata of fingerprint {self.model!r}"))
        family = plain.get("family")
        if family is not None and (not isinstance(family, str) or not family.strip()):
            # every attribution and audit groups models by it: a list or a number failed there, far from here
            raise TypeError(
                f"metadata['family'] of {self.model!r} must be a non-empty name (str) or None, got {family!r}"
            )
        object.__setattr__(self, "metadata", MappingProxyType({k: _freeze(v) for k, v in plain.items()}))

    @classmethod
    def _deferred(
        cls, model: str, n_texts: int, mean: np.ndarray, space_id: str, metadata: Mapping[str, Any],
        build: Callable[[], np.ndarray],
    ) -> Fingerprint:  # fmt: skip
        """A fingerprint whose (validated, packed) scatter is unpacked on first access to ``scatter``.

        Why: attribution needs only the means and the set's stored scatter sum, so loading the 81
        built-in fingerprints unpacked ~250 MB of float64 matrices (and ~0.3 s) that only an audit reads.
        """
        self = cls.__new__(cls)
        for name, value in (("model", model), ("n_texts", n_texts), ("mean", mean), ("space_id", space_id),
                            ("metadata", metadata)):  # fmt: skip
            object.__setattr__(self, name, value)
        self._check_fields()
        object.__setattr__(self, "_build_scatter", build)
        return self

    def __getattr__(self, name: str) -> Any:
        # reached only while a deferred scatter is still packed (see _deferred), or by a thread that
        # missed it while another was unpacking it (that one sets "scatter" before dropping the builder)
        state = self.__dict__
        build = state.get("_build_scatter") if name == "scatter" else None
        if build is None:
            if name == "scatter" and "scatter" in state:
                return state["scatter"]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)
        scatter = build()
        scatter.setflags(write=False)
        object.__setattr__(self, "scatter", scatter)  # two threads racing both build the same matrix
        self.__dict__.pop("_build_scatter", None)
        return scatter

    # -- construction ------------------------------------------------------
    @classmethod
    def from_features(
        cls, X: np.ndarray, model: str, space_id: str, metadata: Mapping[str, Any] | None = None
    ) -> Fingerprint:
        """Build from an already transformed ``(n_texts, d)`` feature matrix.

        Parameters
        ----------
        X : array-like of shape (n_texts, d)
            The model's texts in a fitted space (:meth:`FeatureSpace.transform`).
        model : str
        space_id : str
            That space's ``space_id_``.
        metadata : mapping, optional

        Returns
        -------
        Fingerprint
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 1:
            raise ValueError(f"expected a non-empty (n_texts, d) matrix, got shape {X.shape}")
        mean = X.mean(axis=0)
        R = X - mean
        return cls(model, X.shape[0], mean, R.T @ R, space_id, metadata or {})

    @classmethod
    def from_texts(
        cls,
        texts: Any,
        model: str,
        *,
        space: FeatureSpace | str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Fingerprint:
        """Fingerprint one model from its outputs.

        Parameters
        ----------
        texts : str, sequence of str, pandas Series or datasets.Dataset
            Outputs of the model (more is better; a few hundred is typical).
        model : str
            The model's name.
        space : FeatureSpace or "default", optional
            Space to build in; default :meth:`FeatureSpace.default`. Use
            ``refs.space`` to add the fingerprint to an existing reference set.
        metadata : mapping, optional
            JSON-able facts to keep with it (family, teacher ...).

        Returns
        -------
        Fingerprint
        """
        check_one_model(texts, "a fingerprint")
        texts = check_texts(texts)
        if isinstance(space, str) and space == "default":  # as build_references takes it
            space = None
        if space is not None and not isinstance(space, FeatureSpace):
            raise TypeError(f"space must be a fitted FeatureSpace or 'default', got {space!r}")
        space = space if space is not None else FeatureSpace.default()
        return cls.from_features(space.transform(texts), model, space.space_id_, metadata)

    # -- algebra -------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Dimension of the feature space."""
        return self.mean.size

    def covariance(self) -> np.ndarray:
        """Unbiased covariance of the model's feature vectors."""
        return self.scatter / max(self.n_texts - 1, 1)

    def merge(self, other: Fingerprint) -> Fingerprint:
        """Combine with a fingerprint of the same model built on other texts.

        Exact: equal to the fingerprint of the union of both text sets
        (Chan et al.'s parallel update of mean and scatter).

        Parameters
        ----------
        other : Fingerprint
            The same model, in the same space, from other texts.

        Returns
        -------
        Fingerprint
            A new one; metadata of both, this one's winning where they differ.

        Raises
        ------
        ValueError
            Different models or different feature spaces, or ``other`` is this very fingerprint
            (its texts would count twice).
        """
        if not isinstance(other, Fingerprint):
            raise TypeError(f"can only merge a Fingerprint, got {type(other).__name__}")
        if other.model != self.model:
            raise ValueError(f"cannot merge fingerprints of different models: {self.model!r} vs {other.model!r}")
        if other.space_id != self.space_id:
            raise ValueError(f"cannot merge fingerprints from different feature spaces for {self.model!r}")
        if other is self:
            raise ValueError(f"refusing to merge {self.model!r} with itself: that counts the same texts twice")
        n1, n2 = self.n_texts, other.n_texts
        n = n1 + n2
        delta = other.mean - self.mean
        mean = self.mean + delta * (n2 / n)
        scatter = self.scatter + other.scatter + np.outer(delta, delta) * (n1 * n2 / n)
        meta = {**dict(other.metadata), **dict(self.metadata)}
        return Fingerprint(self.model, n, mean, scatter, self.space_id, meta)

    # -- persistence -------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, precision: str = "float64") -> Path:
        """Save as one checksummed ``.npz`` file, atomically (no pickle).

        Parameters
        ----------
        path : path-like
        precision : {"float64", "float32", "float16", "int8"}, default="float64"
            ``"float32"`` halves the file (the scatter matrix dominates it) at a
            relative rounding of ~1e-7; merges of loaded files are then exact
            only to that precision.  ``"float16"`` quarters it: the scatter is stored
            divided by its largest entry (float16 overflows above 65,504), rounding each
            entry by up to ~5e-4 of that largest entry.  On the built-in set that changed
            no audit p-value and moved attribution probabilities by at most 1.5e-4
            (one argmax of 3,678 dev texts).  ``"int8"`` halves it again: the standard
            deviations are kept (float64) and the correlations rounded to multiples of
            1/127 (error <= 0.004 each, ~1 % of the matrix in Frobenius norm on the
            built-in set).  That is too coarse to pool as the LDA's covariance (it moved
            probabilities by up to 0.11), so :meth:`ReferenceSet.save` keeps the exact
            sum of its fingerprints' scatters beside them.  The mean is kept in float32
            by both ``"float16"`` and ``"int8"``.
        """
        check_choice(precision, "precision", PRECISIONS)
        if self.dim > MAX_DIM:  # load refuses it: never write a file that cannot be read back
            raise ValueError(f"a fingerprint file holds at most {MAX_DIM} dimensions; this one has {self.dim}")
        meta = {
            "model": self.model,
            "n_texts": self.n_texts,
            "space_id": self.space_id,
            "dim": self.dim,
            "metadata": dict(self.metadata),
        }
        if precision == "float16":
            scale = float(np.abs(self.scatter).max()) or 1.0
            arrays = {"mean": self.mean.astype(np.float32), "scatter": pack_symmetric(self.scatter / scale, np.float16),
                      "scatter_scale": np.array(scale)}  # fmt: skip
        elif precision == "int8":
            sd = np.sqrt(np.diag(self.scatter))
            safe = np.where(sd > 0, sd, 1.0)  # a constant feature has no correlations: stored as 0
            corr = np.clip(self.scatter / np.outer(safe, safe), -1.0, 1.0)
            arrays = {"mean": self.mean.astype(np.float32), "scatter_sd": sd,
                      "scatter": pack_symmetric(np.rint(corr * _INT8_STEPS), np.int8)}  # fmt: skip
        else:
            arrays = {"mean": self.mean, "scatter": pack_symmetric(self.scatter, np.dtype(precision).type)}
        return write_bundle(path, "fingerprint", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Fingerprint:
        """Load and verify a fingerprint file written by :meth:`save`.

        The file is read and checked at once (checksum, shapes, finite values); the scatter matrix
        is unpacked from its stored triangle when first used (an audit uses it, attribution does not).

        Parameters
        ----------
        path : path-like

        Returns
        -------
        Fingerprint

        Raises
        ------
        FingerprintFileError
            A damaged, altered or malformed file, or not a fingerprint file.
        """
        meta, arr = read_bundle(path, "fingerprint")
        scale = arr.get("scatter_scale", np.array(1.0))
        if scale.shape != () or not (np.isfinite(scale) and scale > 0):
            raise FingerprintFileError(f"{path}: malformed fingerprint (scatter scale {scale!r})")
        try:
            d = int(meta["dim"])
            if not 1 <= d <= MAX_DIM:
                raise ValueError(f"dimension {d} is outside 1 to {MAX_DIM}")
            packed = arr["scatter"]
            if packed.dtype.kind not in "fi" or arr["mean"].dtype.kind not in "fi":  # not complex, text or objects
                raise ValueError(f"statistics must be real numbers, got {arr['mean'].dtype} and {packed.dtype}")
            if packed.shape != (d * (d + 1) // 2,):
                raise ValueError(f"packed scatter has {packed.shape} values, expected {d * (d + 1) // 2} for d={d}")
            sd = None
            if packed.dtype == np.int8:  # correlations in 1/127 steps, and the standard deviations
                sd = arr.get("scatter_sd", np.zeros(0)).astype(np.float64)
                if sd.shape != (d,) or not np.all(np.isfinite(sd) & (sd >= 0)):
                    raise ValueError(f"int8 scatter needs {d} finite standard deviations, got {sd.shape}")
                if float(sd.max(initial=0.0)) > _INT8_SD_MAX:
                    raise ValueError("non-finite scatter (standard deviations too large to square)")
            elif not np.all(np.isfinite(packed)) or not np.isfinite(float(np.abs(packed).max(initial=0)) * scale):
                raise ValueError("non-finite scatter")
            else:  # a sum of squares: its diagonal (row i starts at i*d - i*(i-1)/2 in the triangle) is >= 0
                i = np.arange(d)
                if (packed[i * d - i * (i - 1) // 2] < 0).any():
                    raise ValueError("scatter with a negative variance")
            mean = arr["mean"].astype(np.float64)
            if mean.shape != (d,):
                raise ValueError(f"mean {mean.shape} and scatter of dimension {d} do not agree")
            return cls._deferred(
                meta["model"], meta["n_texts"], mean, meta["space_id"], meta.get("metadata", {}),
                partial(_unpack_scatter, packed, d, sd, float(scale)),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as e:
            raise FingerprintFileError(f"{path}: malformed fingerprint ({e})") from e

    def __reduce__(self) -> tuple[Any, ...]:
        # the read-only metadata view cannot be pickled: rebuild from plain values (pickle, deepcopy, joblib).
        # The scatter travels packed: as its file stored it if still so (int8: 1/8 of float64), else as its
        # upper triangle (half the bytes a Dask worker or joblib process receives); unpacked on first read
        build = self.__dict__.get("_build_scatter")
        if build is None:
            build = partial(_unpack_scatter, pack_symmetric(self.scatter), self.dim, None, 1.0)
        return (self._deferred, (self.model, self.n_texts, self.mean, self.space_id, dict(self.metadata), build))

    def to_dict(self) -> dict[str, Any]:
        """Summary as plain Python types (statistics omitted)."""
        return {"model": self.model, "n_texts": self.n_texts, "dim": self.dim,
                "space_id": self.space_id, "metadata": json.loads(json.dumps(dict(self.metadata)))}  # fmt: skip

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in list(self.metadata.items())[:3])
        return f"Fingerprint(model={self.model!r}, n_texts={self.n_texts}, dim={self.dim}" + (
            f", {extra})" if extra else ")"
        )


def _read_only(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise TypeError("a fingerprint's metadata is read-only; make a new Fingerprint (or pass metadata= when "
                    "building) to change it")  # fmt: skip


class _FrozenDict(dict):  # type: ignore[type-arg]
    """A read-only dict inside a fingerprint's metadata (a dict still: JSON and ``==`` work as for one)."""

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenDict, (dict(self),))


class _FrozenList(list):  # type: ignore[type-arg]
    """A read-only list inside a fingerprint's metadata (a list still: JSON and ``==`` work as for one)."""

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only  # type: ignore[assignment]
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenList, (list(self),))


def _freeze(value: Any) -> Any:
    """A JSON value with its dicts and lists made read-only, all the way down."""
    if isinstance(value, dict):
        return _FrozenDict({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return _FrozenList(_freeze(v) for v in value)
    return value


def _unpack_scatter(packed: np.ndarray, d: int, sd: np.ndarray | None, scale: float) -> np.ndarray:
    """The float64 scatter stored by :meth:`Fingerprint.save` (``sd``: the int8 format's standard deviations)."""
    if sd is not None:
        rows, cols, _, _ = triu_pairs(d)
        packed = packed * (sd[rows] * sd[cols] / _INT8_STEPS)  # scaled while packed: half the work
    scatter = unpack_symmetric(packed, d)
    if sd is not None:
        np.fill_diagonal(scatter, sd**2)
    elif scale != 1.0:
        scatter *= scale
    return scatter
