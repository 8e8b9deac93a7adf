"""Per-model fingerprints and reference sets.

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
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from fingerprint._validation import check_labels, check_texts
from fingerprint.features.space import FeatureSpace
from fingerprint.io import FingerprintFileError, file_sha256, read_bundle, write_bundle

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MIN_TEXTS_PER_MODEL", "Fingerprint", "ReferenceSet", "build_references", "load_references"]

#: Fewer texts than this give a mean too noisy to attribute against.
MIN_TEXTS_PER_MODEL = 5


def _pack_sym(a: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    return a[np.triu_indices(a.shape[0])].astype(dtype)


def _unpack_sym(v: np.ndarray, d: int) -> np.ndarray:
    if v.shape != (d * (d + 1) // 2,):
        raise FingerprintFileError(f"scatter has {v.shape} values, expected {d * (d + 1) // 2} for d={d}")
    out = np.zeros((d, d))
    out[np.triu_indices(d)] = v
    return out + np.triu(out, 1).T


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
        Sum over texts of ``(x - mean)(x - mean)^T``.
    space_id : str
        Id of the :class:`FeatureSpace` the statistics live in.
    metadata : Mapping
        Free-form JSON-able facts: family, role, teacher, source corpus ...

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
    Fingerprint(model='my-model', n_texts=20, dim=607, family='mine')
    >>> whole = fp.Fingerprint.from_texts(texts, model="my-model")
    >>> bool(np.allclose(f.mean, whole.mean) and np.allclose(f.scatter, whole.scatter))
    True

    It stores statistics, never text, and saves to one checksummed file:

    >>> f.mean.shape, f.scatter.shape
    ((607,), (607, 607))
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
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model must be a non-empty name, got {self.model!r}")
        mean = np.asarray(self.mean, dtype=np.float64)
        scatter = np.asarray(self.scatter, dtype=np.float64)
        if mean.ndim != 1 or scatter.shape != (mean.size, mean.size):
            raise ValueError(f"mean {mean.shape} and scatter {scatter.shape} do not agree")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scatter))):
            raise ValueError(f"fingerprint of {self.model!r} has non-finite statistics")
        if int(self.n_texts) < 1:
            raise ValueError(f"n_texts must be >= 1, got {self.n_texts}")
        mean.setflags(write=False)
        scatter.setflags(write=False)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "scatter", scatter)
        object.__setattr__(self, "n_texts", int(self.n_texts))
        object.__setattr__(self, "metadata", MappingProxyType(json.loads(json.dumps(dict(self.metadata)))))

    # -- construction ------------------------------------------------------
    @classmethod
    def from_features(
        cls, X: np.ndarray, model: str, space_id: str, metadata: Mapping[str, Any] | None = None
    ) -> Fingerprint:
        """Build from an already transformed ``(n_texts, d)`` feature matrix."""
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
        space: FeatureSpace | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Fingerprint:
        """Fingerprint one model from its outputs.

        Parameters
        ----------
        texts : str, sequence of str, pandas Series or datasets.Dataset
            Outputs of the model (more is better; a few hundred is typical).
        model : str
            The model's name.
        space : FeatureSpace, optional
            Space to build in; default :meth:`FeatureSpace.default`. Use
            ``refs.space`` to add the fingerprint to an existing reference set.
        metadata : mapping, optional
            JSON-able facts to keep with it (family, teacher ...).

        Returns
        -------
        Fingerprint
        """
        texts = check_texts(texts)
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

        Raises
        ------
        ValueError
            Different models or different feature spaces.
        """
        if not isinstance(other, Fingerprint):
            raise TypeError(f"can only merge a Fingerprint, got {type(other).__name__}")
        if other.model != self.model:
            raise ValueError(f"cannot merge fingerprints of different models: {self.model!r} vs {other.model!r}")
        if other.space_id != self.space_id:
            raise ValueError(f"cannot merge fingerprints from different feature spaces for {self.model!r}")
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
        precision : {"float64", "float32"}, default="float64"
            ``"float32"`` halves the file (the scatter matrix dominates it) at a
            relative rounding of ~1e-7; merges of loaded files are then exact
            only to that precision.
        """
        if precision not in ("float64", "float32"):
            raise ValueError(f"precision must be 'float64' or 'float32', got {precision!r}")
        meta = {
            "model": self.model,
            "n_texts": self.n_texts,
            "space_id": self.space_id,
            "dim": self.dim,
            "metadata": dict(self.metadata),
        }
        arrays = {"mean": self.mean, "scatter": _pack_sym(self.scatter, np.dtype(precision).type)}
        return write_bundle(path, "fingerprint", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Fingerprint:
        """Load and verify a fingerprint file written by :meth:`save`."""
        meta, arr = read_bundle(path, "fingerprint")
        try:
            d = int(meta["dim"])
            return cls(
                meta["model"], meta["n_texts"], arr["mean"], _unpack_sym(arr["scatter"], d),
                meta["space_id"], meta.get("metadata", {}),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as e:
            raise FingerprintFileError(f"{path}: malformed fingerprint ({e})") from e

    def to_dict(self) -> dict[str, Any]:
        """Summary as plain Python types (statistics omitted)."""
        return {"model": self.model, "n_texts": self.n_texts, "dim": self.dim,
                "space_id": self.space_id, "metadata": dict(self.metadata)}  # fmt: skip

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in list(self.metadata.items())[:3])
        return f"Fingerprint(model={self.model!r}, n_texts={self.n_texts}, dim={self.dim}" + (
            f", {extra})" if extra else ")"
        )


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ReferenceSet:
    """Fingerprints of known models in one feature space, ready to attribute against.

    Parameters
    ----------
    fingerprints : iterable of Fingerprint
        One per model (fingerprints of the same model are merged).
    space : FeatureSpace, optional
        The space the fingerprints were built in; default
        :meth:`FeatureSpace.default`.  Must match their ``space_id``.
    temperature : float or None
        Calibration temperature for confidences; ``None`` until
        :meth:`calibrate` (or :func:`build_references`) sets it, in which
        case confidences are uncalibrated posteriors (temperature 1).
    shrinkage : float, default=0.3
        Covariance shrinkage toward the identity used by the attributor.
    distance_quantiles : ndarray or None
        Held-out distances of known models' texts to their own fingerprint
        (used to say "none of these"); set by calibration.

    Examples
    --------
    Start from the built-in set, drop a model, add one from its texts alone:

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> refs = references.builtin()
    >>> n = len(refs)
    >>> "claude-1" in refs
    True
    >>> _ = refs.remove("claude-1")
    >>> sample = references.load_sample()
    >>> mine = sample.filter(lambda r: r["model"] == "claude-1")["text"]
    >>> _ = refs.add(fp.Fingerprint.from_texts(mine, model="my-model", space=refs.space))
    >>> len(refs) == n, refs["my-model"].n_texts
    (True, 20)
    >>> refs.to_frame().columns[:2].tolist()
    ['model', 'n_texts']
    >>> fp.attribute(mine[:3], references=refs)[0].model in refs.models
    True
    """

    def __init__(
        self,
        fingerprints: Iterable[Fingerprint] = (),
        space: FeatureSpace | None = None,
        *,
        temperature: float | None = None,
        shrinkage: float = 0.3,
        distance_quantiles: np.ndarray | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.space = space if space is not None else FeatureSpace.default()
        self.temperature = temperature
        if not 0.0 <= shrinkage <= 1.0:
            raise ValueError(f"shrinkage must be in [0, 1], got {shrinkage}")
        self.shrinkage = float(shrinkage)
        self.distance_quantiles = distance_quantiles
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._fps: dict[str, Fingerprint] = {}
        self._cache: Any = None
        for f in fingerprints:
            self.add(f, merge=True)

    # -- container protocol ------------------------------------------------
    def add(self, fingerprint: Fingerprint, *, merge: bool = False, replace: bool = False) -> ReferenceSet:
        """Add a model's fingerprint (needs no other model's texts).

        Parameters
        ----------
        fingerprint : Fingerprint
        merge : bool, default=False
            If the model is already present, merge the statistics.
        replace : bool, default=False
            If the model is already present, replace it.

        Returns
        -------
        self
        """
        if not isinstance(fingerprint, Fingerprint):
            raise TypeError(f"expected a Fingerprint, got {type(fingerprint).__name__}")
        if fingerprint.space_id != self.space.space_id_:
            raise ValueError(
                f"fingerprint of {fingerprint.model!r} was built in feature space {fingerprint.space_id}, "
                f"this reference set uses {self.space.space_id_}; rebuild it with space=refs.space"
            )
        old = self._fps.get(fingerprint.model)
        if old is not None and not (merge or replace):
            raise ValueError(f"{fingerprint.model!r} is already in the set; pass merge=True or replace=True")
        self._fps[fingerprint.model] = old.merge(fingerprint) if (old is not None and merge) else fingerprint
        self._cache = None
        return self

    def remove(self, model: str) -> ReferenceSet:
        """Drop a model; raises ``KeyError`` naming the known models if absent."""
        self[model]
        del self._fps[model]
        self._cache = None
        return self

    @property
    def models(self) -> list[str]:
        """Model names, sorted."""
        return sorted(self._fps)

    def __getitem__(self, model: str) -> Fingerprint:
        try:
            return self._fps[model]
        except KeyError:
            raise KeyError(f"unknown model {model!r}; known: {self.models}") from None

    def __contains__(self, model: object) -> bool:
        return model in self._fps

    def __iter__(self) -> Iterator[Fingerprint]:
        return (self._fps[m] for m in self.models)

    def __len__(self) -> int:
        return len(self._fps)

    def __repr__(self) -> str:
        cal = "calibrated" if self.temperature is not None else "uncalibrated"
        shown = ", ".join(self.models[:5]) + (", ..." if len(self) > 5 else "")
        return f"ReferenceSet({len(self)} models: [{shown}], space={self.space.space_id_}, {cal})"

    def to_frame(self) -> pd.DataFrame:
        """One row per model: name, number of texts and metadata."""
        import pandas as pd

        return pd.DataFrame([{"model": f.model, "n_texts": f.n_texts, **dict(f.metadata)} for f in self])

    # -- calibration ---------------------------------------------------------
    def calibrate(self, texts: Any, labels: Any) -> ReferenceSet:
        """Fit the confidence temperature and "none of these" distances on held-out texts.

        The texts must not have been used to build the fingerprints.

        Parameters
        ----------
        texts : sequence of str
        labels : sequence of str
            True model of each text; all must be in the set.

        Returns
        -------
        self
        """
        from fingerprint.attribution import _Attributor

        texts = check_texts(texts)
        y = check_labels(labels, len(texts))
        unknown = sorted(set(y) - set(self._fps))
        if unknown:
            raise ValueError(f"labels name models not in the set: {unknown}; known: {self.models}")
        att = _Attributor.from_references(self)
        X = self.space.transform(texts)
        idx = np.searchsorted(att.classes, y)
        self._set_calibration(att.scores(X), idx, att.distances(X)[np.arange(len(y)), idx])
        return self

    def _set_calibration(self, scores: np.ndarray, y_idx: np.ndarray, own_distances: np.ndarray) -> None:
        """Temperature and "none of these" distances from held-out scores of known models' texts."""
        from fingerprint.calibration import fit_temperature

        self.temperature = fit_temperature(scores, y_idx)
        self.distance_quantiles = np.quantile(own_distances, np.linspace(0, 1, 101))

    # -- persistence -------------------------------------------------------------
    def save(self, directory: str | os.PathLike[str], *, precision: str = "float64") -> Path:
        """Save to a directory: one file per fingerprint, the space, and an index.

        ``precision`` is passed to :meth:`Fingerprint.save`.

        Each file is written atomically; the index (written last) records the
        checksum of every member, so a partly written directory fails to load.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        members = {}
        for f in self:
            name = _SAFE.sub("_", f.model) + ".fingerprint.npz"
            if name in members.values():
                name = f"{_SAFE.sub('_', f.model)}-{len(members)}.fingerprint.npz"
            f.save(directory / name, precision=precision)
            members[f.model] = name
        self.space.save(directory / "space.npz")
        arrays = {} if self.distance_quantiles is None else {"distance_quantiles": self.distance_quantiles}
        meta = {
            "members": members,
            "space_id": self.space.space_id_,
            "temperature": self.temperature,
            "shrinkage": self.shrinkage,
            "metadata": self.metadata,
            "member_sha256": {m: file_sha256(directory / n) for m, n in members.items()},
        }
        write_bundle(directory / "references.npz", "reference_set", meta, arrays)
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> ReferenceSet:
        """Load a directory written by :meth:`save`, verifying every checksum."""
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"no such reference-set directory: {directory}")
        meta, arr = read_bundle(directory / "references.npz", "reference_set")
        space = FeatureSpace.load(directory / "space.npz")
        if space.space_id_ != meta.get("space_id"):
            raise FingerprintFileError(f"{directory}: space.npz does not belong to this reference set")
        fps = []
        for model, name in meta["members"].items():
            p = directory / Path(name).name  # never follow paths out of the directory
            if not p.is_file():
                raise FingerprintFileError(f"{directory}: member file {name} for {model!r} is missing")
            if file_sha256(p) != meta["member_sha256"].get(model):
                raise FingerprintFileError(f"{p}: checksum differs from the index (modified or replaced)")
            fps.append(Fingerprint.load(p))
        return cls(
            fps, space, temperature=meta.get("temperature"), shrinkage=meta.get("shrinkage", 0.3),
            distance_quantiles=arr.get("distance_quantiles"), metadata=meta.get("metadata"),
        )  # fmt: skip

    @classmethod
    def from_files(
        cls, paths: Iterable[str | os.PathLike[str]], space: FeatureSpace | None = None, **kwargs: Any
    ) -> ReferenceSet:
        """Assemble a set from fingerprint files alone (e.g. shared by others)."""
        return cls((Fingerprint.load(p) for p in paths), space, **kwargs)


def build_references(
    texts: Any,
    models: Any,
    *,
    space: FeatureSpace | str = "fit",
    calibrate: bool = True,
    groups: Any = None,
    n_folds: int = 5,
    shrinkage: float = 0.3,
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    n_jobs: int | None = None,
    random_state: int = 0,
) -> ReferenceSet:
    """Build one fingerprint per model and a calibrated reference set.

    Parameters
    ----------
    texts : sequence of str, pandas Series or datasets.Dataset
        Outputs of several models.  A ``Dataset`` with ``text``/``model``
        columns may be passed as ``texts`` with ``models=None``.
    models : sequence of str or None
        The model that wrote each text.
    space : FeatureSpace, "fit" or "default", default="fit"
        ``"fit"`` learns a new space from ``texts``; ``"default"`` uses
        :meth:`FeatureSpace.default`; or pass a fitted space.
    calibrate : bool, default=True
        Cross-fit (``n_folds`` folds, grouped by ``groups`` such as prompt
        ids when given) to learn the confidence temperature and the
        "none of these" distances without scoring texts a fingerprint saw.
    groups : sequence, optional
        Group label per text (e.g. ``prompt_id``) so folds split by prompt.
    n_folds : int, default=5
    shrinkage : float, default=0.3
    metadata : mapping of model name to mapping, optional
        Per-model metadata (family, teacher, ...).
    n_jobs : int, optional
        Worker processes for fitting the space's score block when ``space="fit"``.
    random_state : int, default=0

    Returns
    -------
    ReferenceSet

    Raises
    ------
    ValueError
        Fewer than 2 models, or a model with fewer than
        :data:`MIN_TEXTS_PER_MODEL` texts (or too few to calibrate).

    Examples
    --------
    Three models' answers from the shipped sample, in the shipped feature space
    (``space="fit"``, the default, fits a new space on your texts):

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> sample = references.load_sample()
    >>> few = sample.filter(lambda r: r["model"] in ("claude-2", "gpt-4-0314", "llama-2-70b-chat"))
    >>> few = fp.sample_per_model(few, 10)  # 10 answers per model keep the example fast
    >>> refs = fp.build_references(few["text"], few["model"], space="default", groups=few["prompt_id"],
    ...                            metadata={"claude-2": {"family": "anthropic"}})
    >>> refs  # doctest: +ELLIPSIS
    ReferenceSet(3 models: [claude-2, gpt-4-0314, llama-2-70b-chat], space=..., calibrated)
    >>> refs["claude-2"].metadata["family"], refs["claude-2"].n_texts
    ('anthropic', 10)
    """
    texts, y = _texts_and_labels(texts, models)
    space, X = resolve_space(space, texts, y, groups, n_folds=n_folds, n_jobs=n_jobs, random_state=random_state)
    return _references_from_features(
        X, y, space, calibrate=calibrate, groups=groups, n_folds=n_folds, shrinkage=shrinkage,
        metadata=metadata, random_state=random_state,
    )  # fmt: skip


def resolve_space(
    space: FeatureSpace | str, texts: list[str], y: Any = None, groups: Any = None, **space_params: Any
) -> tuple[FeatureSpace, np.ndarray]:
    """Return the space to use and the texts' features in it (one pass over the texts).

    ``"fit"`` fits a new :class:`FeatureSpace` (with ``space_params``) on ``texts``
    and their labels ``y`` (so it learns the per-model ``score`` block, cross-fitted
    by ``groups``); ``"default"`` loads the shipped one; a fitted ``FeatureSpace``
    is used as is.
    """
    if isinstance(space, FeatureSpace):
        if not hasattr(space, "space_id_"):
            raise ValueError("space= must be a fitted FeatureSpace (call fit or FeatureSpace.load)")
        return space, space.transform(texts)
    if space == "fit":
        new = FeatureSpace(**space_params)
        return new, new.fit_transform(texts, y, groups=groups)
    if space == "default":
        default = FeatureSpace.default()
        return default, default.transform(texts)
    raise ValueError(f"space must be 'fit', 'default' or a fitted FeatureSpace, got {space!r}")


def _texts_and_labels(texts: Any, models: Any) -> tuple[list[str], np.ndarray]:
    if models is None:
        if hasattr(texts, "column_names") and "model" in texts.column_names:
            models = list(texts["model"])
        else:
            raise ValueError("models=None needs a datasets.Dataset with a 'model' column as texts")
    texts = check_texts(texts)
    y = check_labels(models, len(texts))
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"need texts of at least 2 models to attribute between, got {list(classes)}")
    small = [f"{c} ({k})" for c, k in zip(classes, counts, strict=True) if k < MIN_TEXTS_PER_MODEL]
    if small:
        raise ValueError(f"each model needs at least {MIN_TEXTS_PER_MODEL} texts; too few: {', '.join(small)}")
    return texts, y


def _references_from_features(
    X: np.ndarray,
    y: np.ndarray,
    space: FeatureSpace,
    *,
    calibrate: bool,
    groups: Any,
    n_folds: int,
    shrinkage: float,
    metadata: Mapping[str, Mapping[str, Any]] | None,
    random_state: int,
) -> ReferenceSet:
    from fingerprint.attribution import _Attributor

    meta = metadata or {}
    classes = np.unique(y)

    def fps(rows: np.ndarray) -> list[Fingerprint]:
        return [Fingerprint.from_features(X[rows][y[rows] == c], c, space.space_id_, meta.get(c, {})) for c in classes]

    refs = ReferenceSet(fps(np.arange(len(y))), space, shrinkage=shrinkage)
    if not calibrate:
        return refs
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    counts = np.unique(y, return_counts=True)[1]
    if counts.min() < max(n_folds, 2):
        raise ValueError(
            f"calibration needs at least {max(n_folds, 2)} texts per model (n_folds={n_folds}); "
            f"the smallest model has {counts.min()}: add texts, lower n_folds, or pass calibrate=False"
        )
    if groups is not None:
        g = np.asarray(list(groups))
        if len(g) != len(y):
            raise ValueError(f"got {len(y)} texts but {len(g)} groups")
        splitter = GroupKFold(n_splits=n_folds).split(X, y, g)
    else:
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=random_state).split(X, y)
    scores = np.zeros((len(y), len(classes)))
    dist = np.zeros(len(y))
    for train, test in splitter:
        present = set(y[train])
        if present != set(classes):
            raise ValueError("a calibration fold lacks a model; use fewer folds or more texts per model")
        att = _Attributor.from_references(ReferenceSet(fps(train), space, shrinkage=shrinkage))
        scores[test] = att.scores(X[test])
        idx = np.searchsorted(att.classes, y[test])
        dist[test] = att.distances(X[test])[np.arange(len(test)), idx]
    refs._set_calibration(scores, np.searchsorted(classes, y), dist)
    refs.metadata["calibration"] = {"n_texts": len(y), "n_folds": n_folds, "grouped": groups is not None}
    return refs


def load_references(path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], **kwargs: Any) -> ReferenceSet:
    """Load a reference set: a directory saved by :meth:`ReferenceSet.save`, or fingerprint files.

    Parameters
    ----------
    path : path-like or iterable of path-like
        A directory, or several ``.fingerprint.npz`` files to assemble.
    **kwargs
        Passed to :meth:`ReferenceSet.from_files` (e.g. ``space=``).

    Returns
    -------
    ReferenceSet

    Examples
    --------
    A directory written by :meth:`ReferenceSet.save`, or fingerprint files assembled into a set
    (uncalibrated until :meth:`ReferenceSet.calibrate`):

    >>> import tempfile
    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> refs = references.builtin()
    >>> for m in refs.models[4:]:
    ...     _ = refs.remove(m)
    >>> d = refs.save(tempfile.mkdtemp())
    >>> fp.load_references(d).models == refs.models
    True
    >>> files = sorted(d.glob("*.fingerprint.npz"))
    >>> shared = fp.load_references(files, space=refs.space)
    >>> len(shared), shared.temperature is None
    (4, True)
    """
    if isinstance(path, str | os.PathLike):
        return ReferenceSet.load(path)
    return ReferenceSet.from_files(path, **kwargs)
