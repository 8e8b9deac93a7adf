"""Reference sets: fingerprints of known models in one feature space.

A :class:`ReferenceSet` is the container that attribution and audit work
against: one :class:`~fingerprint.fingerprints.Fingerprint` per model, the
shared :class:`~fingerprint.features.space.FeatureSpace`, the calibration
(temperature and "none of these" distances) and the set's
:class:`~fingerprint.lda.LDAModel`, cached until the fingerprints change.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import difflib
import hashlib
import os
import re
import shutil
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fingerprint.calibration import MAX_LENGTH_SLOPE
from fingerprint.features.space import FeatureSpace
from fingerprint.fingerprints import PRECISIONS, Fingerprint
from fingerprint.io import (
    FingerprintFileError,
    check_file_size,
    exclusive_lock,
    file_sha256,
    fresh_directory,
    generation_folder,
    pack_symmetric,
    read_bundle,
    unpack_symmetric,
    write_bundle,
)  # fmt: skip
from fingerprint.lda import LDAModel
from fingerprint.validation import (
    UNSET,
    caller_stacklevel,
    check_choice,
    check_float,
    check_json_metadata,
    check_labels,
    check_texts,
    models_or_column,
    renamed,
    user_path,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DISTANCE_LEVELS", "MIN_CALIBRATION_TEXTS", "MIN_TEXTS_PER_MODEL", "ReferenceSet", "builtin_dir",
    "builtin_sample_path",
]


#: Set while a saved set is read (:func:`_loading`): a too-small model then warns, not raises.
_LOADING: contextvars.ContextVar[bool] = contextvars.ContextVar("fingerprint_refset_loading", default=False)


@contextlib.contextmanager
def _loading() -> Iterator[None]:
    """Sets built inside read files: files saved before :data:`MIN_TEXTS_PER_MODEL` was enforced (or shared
    by others) keep a too-small model, with a warning, instead of becoming unreadable."""
    token = _LOADING.set(True)
    try:
        yield
    finally:
        _LOADING.reset(token)

#: Fewer texts than this give a mean too noisy to attribute against: no model of a set has fewer.
MIN_TEXTS_PER_MODEL = 5

#: Percentiles of the calibration's own-model distances a set keeps (levels 0, 1/1000, ..., 1), so
#: typicality resolves to 0.001.  With 101 (before 2026-12-07) the tail beyond the 99th percentile
#: was a straight line to the largest distance, and typicality below 0.01 was overstated (built-in set,
#: `dev` answers: 0.0098 at a distance beyond which 0.0044 of them lay).  8 KB per set.
DISTANCE_LEVELS = 1001

#: Fewest held-out texts :meth:`ReferenceSet.calibrate` accepts: typicality is a percentile of their
#: distances, and its 5 % tail (``alpha=0.05``) is not one text below 20.
MIN_CALIBRATION_TEXTS = 20


def _member_name(model: str, taken: set[str]) -> str:
    """A fingerprint's file name in a saved set: the model name made file-safe; a long one (file systems
    allow 255 bytes) is cut and told apart by a hash of the whole name; a collision gets a number."""
    stem = _SAFE.sub("_", model)
    if len(stem.encode()) > 100:
        stem = f"{stem[:80]}-{hashlib.sha256(model.encode()).hexdigest()[:12]}"
    name, k = f"{stem}.fingerprint.npz", len(taken)
    # a cut or cleaned name met another's: number it until it is free; compared without case, because
    # "GPT-4" and "gpt-4" are one file on macOS and Windows file systems
    folded = {t.casefold() for t in taken}
    while name.casefold() in folded:
        name, k = f"{stem}-{k}.fingerprint.npz", k + 1
    return name


def _check_confidence_map(knots: Any) -> np.ndarray:
    """A (2, m) array of finite knots, confidences increasing, values in [0, 1] (a file may hold anything)."""
    try:
        k = np.array(knots, dtype=np.float64)  # a copy: the caller's array (or another set's) stays its own
    except (TypeError, ValueError):
        k = np.empty(0)
    if (
        k.ndim != 2
        or k.shape[0] != 2
        or k.shape[1] < 1
        or not np.isfinite(k).all()
        or (np.diff(k[0]) < 0).any()
        or ((k < 0) | (k > 1)).any()
    ):
        raise ValueError("confidence_map must be 2 x m finite knots in [0, 1] with increasing confidences")
    return k


def _same_statistics(a: Fingerprint, b: Fingerprint) -> bool:
    return a.n_texts == b.n_texts and np.array_equal(a.mean, b.mean) and np.array_equal(a.scatter, b.scatter)


def _check_slope_has_temperature(length_slope: float, temperature: float | None) -> None:
    """The constructor's and save's rule: a length slope is part of a calibration, so it needs a temperature."""
    if length_slope and temperature is None:
        raise ValueError("length_slope is part of a calibration: it needs a temperature (set both, or neither)")


def _check_distance_quantiles(q: Any) -> np.ndarray:
    """The calibration's own-distance percentiles: at least 2 finite, non-negative, non-decreasing values."""
    try:
        a = np.array(q, dtype=np.float64)  # a copy: the caller's array (or another set's) stays its own
    except (TypeError, ValueError):
        a = np.empty(0)
    if a.ndim != 1 or a.size < 2 or not np.isfinite(a).all() or (a < 0).any() or (np.diff(a) < 0).any():
        raise ValueError(
            "distance_quantiles must be a vector of at least 2 finite, non-negative, non-decreasing distances"
        )
    return a


def _check_json(metadata: Mapping[str, Any]) -> None:
    """A set's metadata as the index stores it: JSON, with string keys (JSON would turn 1 into "1")."""
    check_json_metadata(metadata, "ReferenceSet.metadata")


def _check_index(meta: dict[str, Any], path: Path) -> None:
    """A set's index names its parts with the right types (a hand-edited index with a recomputed
    checksum reads as any other file): a damaged one is a :class:`FingerprintFileError`, not a
    ``KeyError`` or ``TypeError`` deep in the loading."""

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    members, sums = meta.get("members"), meta.get("member_sha256")
    problems = [
        what for what, ok in (
            ("members (model -> file name)", isinstance(members, dict)
             and all(isinstance(k, str) and isinstance(v, str) for k, v in members.items())),
            ("member_sha256 (a checksum per member)", isinstance(sums, dict) and isinstance(members, dict)
             and set(sums) == set(members) and all(isinstance(v, str) for v in sums.values())),
            # exact names: a set saved on Linux may hold "GPT-4" and "gpt-4" (new saves keep them apart
            # without case too, _member_name); two entries naming one file are caught by the model check
            ("member file names (each once)", not isinstance(members, dict)
             or len({Path(v).name for v in members.values()}) == len(members)),
            ("space_id", isinstance(meta.get("space_id"), str)),
            ("generation", meta.get("generation") is None or isinstance(meta.get("generation"), str)),
            ("temperature", meta.get("temperature") is None or number(meta.get("temperature"))),
            ("shrinkage", number(meta.get("shrinkage", 0.3))),
            ("length_slope", number(meta.get("length_slope", 0.0))),
            ("calibrated_shrinkage", number(meta.get("calibrated_shrinkage", 0.3))),
            ("changed_since_calibration", isinstance(meta.get("changed_since_calibration", False), bool)),
            ("metadata", meta.get("metadata") is None or isinstance(meta.get("metadata"), dict)),
            ("calibrated_models", meta.get("calibrated_models") is None or (
                isinstance(meta.get("calibrated_models"), list)
                and all(isinstance(m, str) for m in meta["calibrated_models"]))),
        ) if not ok
    ]  # fmt: skip
    if problems:
        raise FingerprintFileError(f"{path}: malformed reference-set index ({', '.join(problems)})")


def builtin_dir() -> Path:
    """Directory of the built-in reference set inside the installed package.

    Examples
    --------
    >>> from fingerprint.refset import builtin_dir
    >>> (builtin_dir() / "references.npz").is_file()
    True
    """
    return Path(str(resources.files("fingerprint") / "data" / "builtin_references"))


def builtin_sample_path() -> Path:
    """The shipped sample of held-out answers (``sample.jsonl``: the probe prompts' answers), beside the set."""
    return builtin_dir().parent / "sample.jsonl"


@lru_cache(maxsize=1)
def _load_builtin() -> ReferenceSet:
    d = builtin_dir()
    if not (d / "references.npz").is_file():
        raise FileNotFoundError(
            "this installation ships no built-in reference set; pass references= "
            "(e.g. fingerprint.build_references(texts, models))"
        )
    # the default feature space is this set's space: one object per process, loaded once
    return ReferenceSet._load(d, None, FeatureSpace.default)


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ReferenceSet:
    """Fingerprints of known models in one feature space, ready to attribute against.

    Parameters
    ----------
    fingerprints : iterable of Fingerprint
        One per model (fingerprints of the same model are merged).
    space : FeatureSpace or "default", optional
        The space the fingerprints were built in; default (``None`` or ``"default"``)
        :meth:`FeatureSpace.default`.  Must match their ``space_id``.
    temperature : float or None
        Calibration temperature for confidences (of a text whose length feature is 0, see
        ``length_slope``); ``None`` until :meth:`calibrate` (or :func:`build_references`) sets
        it, in which case confidences are uncalibrated posteriors (temperature 1).
    shrinkage : float, default=0.3
        Covariance shrinkage toward the identity used by the attributor.
    distance_quantiles : ndarray or None
        Held-out distances of known models' texts to their own fingerprint at evenly spaced
        levels from 0 to 1 (``DISTANCE_LEVELS`` of them when set by calibration; a set saved
        with 101 still loads), used to say "none of these".
    metadata : mapping, optional
        JSON-able facts about the set (corpus, split, licence ...).
    calibrated_models : iterable of str, optional
        The models the calibration was fitted for (default: the set's models
        when ``temperature`` is given); see :attr:`calibration_stale`.
    confidence_map : ndarray of shape (2, m), optional
        Top-label confidence map (:func:`~fingerprint.calibration.fit_confidence_map`).
    length_slope : float, default=0.0
        A text's temperature is ``temperature * exp(length_slope * u)``, ``u`` its length
        feature (:attr:`FeatureSpace.length_column`); set by calibration, needs ``temperature``.

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
    >>> refs.calibration_stale  # fitted for the 81 built-in models: refit with refs.calibrate(texts, models)
    True
    >>> refs.to_frame().columns[:2].tolist()
    ['model', 'n_texts']
    >>> fp.attribute(mine[:3], references=refs)[0].model in refs.models
    True
    """

    def __init__(
        self,
        fingerprints: Iterable[Fingerprint] = (),
        space: FeatureSpace | str | None = None,
        *,
        temperature: float | None = None,
        shrinkage: float = 0.3,
        distance_quantiles: np.ndarray | None = None,
        metadata: Mapping[str, Any] | None = None,
        calibrated_models: Iterable[str] | None = None,
        confidence_map: np.ndarray | None = None,
        length_slope: float = 0.0,
    ) -> None:
        if isinstance(space, str) and space == "default":  # as build_references and from_texts take it
            space = None
        if space is not None and not isinstance(space, FeatureSpace):
            raise TypeError(f"space must be a fitted FeatureSpace or 'default', got {space!r}")
        self.space = space if space is not None else FeatureSpace.default()
        self.temperature = temperature  # the three checked by their setters, here and when a user sets them
        self.shrinkage = shrinkage
        self.distance_quantiles = None if distance_quantiles is None else _check_distance_quantiles(distance_quantiles)
        self.confidence_map = None if confidence_map is None else _check_confidence_map(confidence_map)
        self.length_slope = length_slope
        _check_slope_has_temperature(self.length_slope, self.temperature)
        # a deep copy: a set's metadata is its own (the built-in set's copies share nothing mutable)
        self.metadata: dict[str, Any] = copy.deepcopy(dict(metadata or {}))
        self._fps: dict[str, Fingerprint] = {}
        self._lda: tuple[float, LDAModel] | None = None
        self._scatter_sum: np.ndarray | None = None  # within_scatter(), computed on first use
        self._changed_since_calibration = False
        self._warned_stale = False
        for f in fingerprints:
            self._check_fingerprint(f)
            self._put(f, merge=True)
        self._check_sizes({m: f.n_texts for m, f in self._fps.items()})  # after merging: a model may come in parts
        # the models the calibration was fitted for; None when there is none
        self.calibrated_models: tuple[str, ...] | None = None
        if temperature is not None:
            self.calibrated_models = (
                tuple(sorted(calibrated_models)) if calibrated_models is not None else tuple(self.models)
            )
        self._calibrated_shrinkage = self.shrinkage

    # -- checked parameters ------------------------------------------------
    # Properties, not plain attributes: a user may set them (calibration_stale follows a changed shrinkage),
    # and a value the constructor and load() refuse (shrinkage 1.5, temperature -1 or NaN) must be refused
    # when set too, not scored silently or saved into a set that no longer loads.
    @property
    def temperature(self) -> float | None:
        """The calibration temperature (``None``: uncalibrated, confidences at temperature 1); a number > 0."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: float | None) -> None:
        self._temperature = check_float(value, "temperature", low=0, low_open=True, allow_none=True)

    @property
    def shrinkage(self) -> float:
        """Covariance shrinkage toward the identity used by the attributor, in [0, 1]."""
        return self._shrinkage

    @shrinkage.setter
    def shrinkage(self, value: float) -> None:
        self._shrinkage = check_float(value, "shrinkage", low=0, high=1, owner="ReferenceSet")

    @property
    def length_slope(self) -> float:
        """The calibration's length slope (see the class's parameters), within ``±MAX_LENGTH_SLOPE``."""
        return self._length_slope

    @length_slope.setter
    def length_slope(self, value: float) -> None:
        self._length_slope = check_float(value, "length_slope", low=-MAX_LENGTH_SLOPE, high=MAX_LENGTH_SLOPE)

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

        Notes
        -----
        The calibration (temperature, "none of these" distances) was fitted for the models the set
        had then; after ``add`` (but for a ``replace`` with the same statistics, e.g. to change a
        fingerprint's metadata) it is kept as the best available estimate but marked stale
        (:attr:`calibration_stale`, shown in ``repr``, and a warning once): call :meth:`calibrate`
        on held-out texts to refit it.
        """
        self._check_fingerprint(fingerprint)
        present = self._fps.get(fingerprint.model)
        old = present if merge else None
        self._check_sizes({fingerprint.model: fingerprint.n_texts + (old.n_texts if old is not None else 0)})
        self._put(fingerprint, merge=merge, replace=replace)
        # the calibration depends on the statistics only: a replacement that changes the metadata alone keeps it
        if merge or present is None or not _same_statistics(present, fingerprint):
            self._warn_if_stale()
        return self

    @staticmethod
    def _check_sizes(counts: Mapping[str, int]) -> None:
        """Refuse a model with fewer than :data:`MIN_TEXTS_PER_MODEL` texts (``counts``: the texts each model
        will have); while files are read (:func:`_loading`) only warn, so nothing saved becomes unreadable."""
        for m, n in counts.items():
            if n < MIN_TEXTS_PER_MODEL:
                msg = (f"{m!r} has {n} text(s); a model needs at least {MIN_TEXTS_PER_MODEL} to be fingerprinted "
                       "(its mean would be too noisy to attribute against)")  # fmt: skip
                if not _LOADING.get():
                    raise ValueError(msg)
                warnings.warn(msg + "; loaded as saved", UserWarning, stacklevel=caller_stacklevel())

    def _put(self, fingerprint: Fingerprint, *, merge: bool = False, replace: bool = False) -> None:
        """Store a fingerprint its caller has checked (:meth:`_check_fingerprint`)."""
        old = self._fps.get(fingerprint.model)
        if old is not None and not (merge or replace):
            raise ValueError(f"{fingerprint.model!r} is already in the set; pass merge=True or replace=True")
        if old is not None and merge and old is not fingerprint and _same_statistics(old, fingerprint):
            # a copy (a set's member loaded again, a set's fingerprints passed with the set), as from_files
            # refuses the same file twice; Fingerprint.merge, which cannot tell, takes two equal shards
            raise ValueError(
                f"refusing to merge {fingerprint.model!r} with an identical copy of itself (the same statistics): "
                "that counts the same texts twice; texts that are not the same but give these statistics to the "
                "last bit (duplicates): merge them with Fingerprint.merge and add(..., replace=True)"
            )
        new = old.merge(fingerprint) if (old is not None and merge) else fingerprint
        self._update_scatter_sum(new, old)  # first: if it raises, the set is unchanged
        self._fps[fingerprint.model] = new
        self._lda = None

    def _check_fingerprint(self, fingerprint: Fingerprint) -> None:
        if not isinstance(fingerprint, Fingerprint):
            raise TypeError(f"expected a Fingerprint, got {type(fingerprint).__name__}")
        if fingerprint.space_id != self.space.space_id_:
            raise ValueError(
                f"fingerprint of {fingerprint.model!r} was built in feature space {fingerprint.space_id}, "
                f"this reference set uses {self.space.space_id_}; rebuild it with space=refs.space (loading "
                "fingerprint files: pass the space they were built in, load_references(paths, space=...))"
            )
        if fingerprint.dim != self.space.n_features_out_:  # an id can be copied; the size is checked as well
            raise ValueError(
                f"fingerprint of {fingerprint.model!r} has {fingerprint.dim} features, its feature space "
                f"{self.space.space_id_} has {self.space.n_features_out_}"
            )

    def _update_scatter_sum(self, new: Fingerprint | None, old: Fingerprint | None) -> None:
        # updated, not recomputed: a set loaded with a stored exact sum keeps it exact for the models it kept
        if self._scatter_sum is not None:
            total = self._scatter_sum.copy()
            if new is not None:
                total += new.scatter
            if old is not None:
                total -= old.scatter
            total.setflags(write=False)
            self._scatter_sum = total

    def remove(self, model: str) -> ReferenceSet:
        """Drop a model; raises ``KeyError`` (with the nearest names, or the known ones) if absent.

        The calibration is then stale, as after :meth:`add`.

        Parameters
        ----------
        model : str

        Returns
        -------
        self
        """
        self._update_scatter_sum(None, self[model])
        del self._fps[model]
        self._lda = None
        self._warn_if_stale()
        return self

    @property
    def calibration_stale(self) -> bool:
        """True when models were added, merged or removed, or the shrinkage changed, since the calibration."""
        return self.calibrated_models is not None and (
            self.calibrated_models != tuple(self.models) or self._changed_since_calibration
            or self._calibrated_shrinkage != self.shrinkage  # the temperature was fitted on scores at that one
        )

    def _warn_if_stale(self) -> None:
        if self.calibrated_models is None:
            return
        self._changed_since_calibration = True
        if not self._warned_stale:
            self._warned_stale = True
            warnings.warn(
                "the reference set's calibration was fitted for other models; confidences and typicality keep "
                "it as an estimate; call refs.calibrate(texts, models) on held-out texts to refit it",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )

    def lda(self) -> LDAModel:
        """The set's Gaussian model (shrinkage LDA) with its current temperature.

        Cached on the set until its fingerprints or shrinkage change.

        Returns
        -------
        LDAModel

        Examples
        --------
        >>> from fingerprint import references
        >>> refs = references.builtin()
        >>> refs.lda().classes.tolist() == refs.models
        True
        """
        if self._lda is None or self._lda[0] != self.shrinkage:
            lda = LDAModel.from_fingerprints(list(self), self.shrinkage, scatter_sum=self.within_scatter())
            self._lda = (self.shrinkage, lda)
        # a shallow copy carries the current temperature (calibration changes without refitting the LDA)
        # and never alters a model shared with another copy of the set
        return self._lda[1].with_calibration(
            self.temperature, self.confidence_map, self.length_slope, self.space.length_column
        )  # fmt: skip

    def within_scatter(self) -> np.ndarray:
        """Sum of the fingerprints' scatter matrices: the within-model scatter the LDA pools (read-only).

        A saved set's index stores this sum (float64 at ``precision="float64"``, else float32)
        beside its possibly rounded fingerprints, and a loaded set keeps it exact through
        :meth:`add` and :meth:`remove` (only the added or removed fingerprint's rounding enters),
        so the built-in set's LDA is the one its full-precision statistics give.
        """
        if self._scatter_sum is None:
            fps = list(self)
            total = np.zeros((0, 0)) if not fps else fps[0].scatter.copy()
            for f in fps[1:]:
                total += f.scatter
            total.setflags(write=False)
            self._scatter_sum = total
        return self._scatter_sum

    @property
    def models(self) -> list[str]:
        """Model names, sorted."""
        return sorted(self._fps)

    def __getitem__(self, model: str) -> Fingerprint:
        try:
            return self._fps[model]
        except KeyError:
            close = difflib.get_close_matches(str(model), self.models, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else f"; known: {self.models}"
            raise KeyError(f"unknown model {model!r}{hint}") from None

    def __contains__(self, model: object) -> bool:
        return model in self._fps

    def __iter__(self) -> Iterator[Fingerprint]:
        return (self._fps[m] for m in self.models)

    def __len__(self) -> int:
        return len(self._fps)

    def __repr__(self) -> str:
        cal = (
            "uncalibrated"
            if self.temperature is None
            else "calibrated" + (" (stale: models or shrinkage changed since)" if self.calibration_stale else "")
        )
        shown = ", ".join(self.models[:5]) + (", ..." if len(self) > 5 else "")
        models = "1 model" if len(self) == 1 else f"{len(self)} models"
        return f"ReferenceSet({models}: [{shown}], space={self.space.space_id_}, {cal})"

    def to_frame(self) -> pd.DataFrame:
        """One row per model: name, number of texts and metadata."""
        import pandas as pd

        fixed = ("model", "n_texts")  # a metadata key of the same name must not overwrite them
        rows = [{"model": f.model, "n_texts": f.n_texts,
                 **{k: v for k, v in f.to_dict()["metadata"].items() if k not in fixed}}  # plain copies
                for f in self]  # fmt: skip
        return pd.DataFrame(rows, columns=None if rows else list(fixed))

    # -- calibration ---------------------------------------------------------
    def calibrate(self, texts: Any, models: Any = None, *, labels: Any = UNSET) -> ReferenceSet:
        """Fit the calibration on held-out texts: temperature, its length slope, confidence map, "none of these".

        The texts must not have been used to build the fingerprints.  The temperature depends on
        each text's length only when the texts show it (:meth:`calibrate_from_scores`); a few dozen
        texts usually give one temperature.

        Parameters
        ----------
        texts : sequence of str, or a table
            At least ``MIN_CALIBRATION_TEXTS`` (20), of at least 2 of the set's models; or a table
            (``datasets.Dataset``, DataFrame or mapping of columns) with ``text`` and ``model`` columns.
        models : sequence of str, optional
            True model of each text; all must be in the set.  Default: the table's ``model`` column.
        labels : sequence of str
            Deprecated name of ``models``.

        Returns
        -------
        self
        """
        models = renamed(models, labels, new="models", old="labels", owner="ReferenceSet.calibrate()")
        checked = check_texts(texts)  # before the models: a list of tables is named as such
        y = check_labels(models_or_column(texts, models), len(checked))
        texts = checked
        unknown = sorted(set(y) - set(self._fps))
        if unknown:
            raise ValueError(f"models= names models that are not in the set: {unknown}; known: {self.models}")
        if len(set(y)) < 2 or len(y) < MIN_CALIBRATION_TEXTS:
            # one model's texts fit a temperature that favours that model; and "none of these" reads a
            # text's distance as a percentile of these texts', so alpha = 0.05 needs 20 to mean anything
            raise ValueError(
                f"calibration needs held-out texts of at least 2 of the set's models and at least "
                f"{MIN_CALIBRATION_TEXTS} texts, got {len(y)} of {len(set(y))}; a few hundred texts over many "
                "models calibrate well, and a length-dependent temperature needs about 400"
            )  # fmt: skip
        covered = len(set(y))
        if covered < len(self) / 2:  # the temperature and the map learn these models' texts, and apply to all
            warnings.warn(
                f"calibrating on texts of {covered} of the set's {len(self)} models: confidences for the other "
                f"{len(self) - covered} are calibrated on theirs only; give held-out texts of most models",
                UserWarning, stacklevel=caller_stacklevel(),
            )  # fmt: skip
        lda = self.lda()
        X = self.space.transform(texts)
        idx = np.searchsorted(lda.classes, y)
        self.calibrate_from_scores(lda.scores(X), idx, lda.distances(X)[np.arange(len(y)), idx],
                                   length_feature=X[:, self.space.length_column])  # fmt: skip
        return self

    def typicality(self, distances: Any) -> np.ndarray | None:
        """Share of the calibration's own-model distances beyond each of ``distances``: a p-value of
        "this text fits the references" (``None`` for an uncalibrated set).

        Read off ``distance_quantiles`` (``DISTANCE_LEVELS`` percentiles, linear between them).

        Parameters
        ----------
        distances : float or array-like
            A text's distance to its top model (:meth:`LDAModel.distances`).

        Returns
        -------
        ndarray or None
            Same shape as ``distances``.
        """
        q = self.distance_quantiles
        if q is None:
            return None
        return 1.0 - np.interp(distances, q, np.linspace(0, 1, len(q)))

    def calibrate_from_scores(
        self, scores: np.ndarray, y_idx: np.ndarray, own_distances: np.ndarray, *,
        length_feature: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        """Fit the calibration from held-out LDA scores of known models' texts.

        Sets the temperature and its length slope, the top-label confidence map and the
        "none of these" distances.

        Parameters
        ----------
        scores : ndarray of shape (n, K)
            Untempered scores (:meth:`LDAModel.scores`) over :attr:`models`.
        y_idx : ndarray of shape (n,)
            Column of each text's true model.
        own_distances : ndarray of shape (n,)
            Each text's distance to its own model (:meth:`LDAModel.distances`).
        length_feature : ndarray of shape (n,), optional
            Each text's length feature (its :attr:`FeatureSpace.length_column` value): the
            temperature then depends on length
            (:func:`~fingerprint.calibration.fit_length_temperature`).  Without it, one temperature.
        """
        from fingerprint.calibration import (
            fit_confidence_map,
            fit_length_temperature,
            fit_temperature,
            length_temperatures,
            softmax_t,
        )  # fmt: skip

        y_idx = np.asarray(y_idx)
        if len(y_idx) < MIN_CALIBRATION_TEXTS or len(np.unique(y_idx)) < 2:
            # builds calibrate here on their cross-fitted texts (calibrate() refuses too few held-out texts
            # before): 10 texts of 2 models fitted a temperature of about 1,500. A warning, not an error,
            # so that tiny fits (scikit-learn's estimator checks use 10 texts) still run
            warnings.warn(
                f"calibrating on {len(y_idx)} texts of {len(np.unique(y_idx))} model(s): fewer than "
                f"{MIN_CALIBRATION_TEXTS} texts of 2 models give a temperature and confidences that mean little; "
                "add texts, or build with calibrate=False",
                UserWarning, stacklevel=caller_stacklevel(),
            )  # fmt: skip
        if length_feature is None:
            self.temperature, self.length_slope = fit_temperature(scores, y_idx), 0.0
            t: Any = self.temperature
        else:
            self.temperature, self.length_slope = fit_length_temperature(scores, y_idx, length_feature)
            t = length_temperatures(self.temperature, self.length_slope, length_feature)
        self.confidence_map = fit_confidence_map(softmax_t(scores, t), y_idx)
        self.distance_quantiles = np.quantile(own_distances, np.linspace(0, 1, DISTANCE_LEVELS))
        self.calibrated_models = tuple(self.models)
        self._calibrated_shrinkage = self.shrinkage
        self._changed_since_calibration = False
        self._warned_stale = False

    # -- persistence -------------------------------------------------------------
    def save(self, directory: str | os.PathLike[str], *, precision: str = "float64") -> Path:
        """Save to a directory, all or nothing: the fingerprints, the space and an index.

        ``precision`` is passed to :meth:`Fingerprint.save`.  The index also keeps
        :meth:`within_scatter` (float64 at ``"float64"``, else float32), so the loaded set's LDA is the
        one in memory (to float32 rounding below ``"float64"``), also when the fingerprints are stored
        rounded or were loaded rounded (the built-in set is saved at ``"int8"``).  ``metadata`` must
        be JSON with string keys: it is checked before anything is written.

        The files go to a new *generation* folder (``.gen-…``) beside the current one; the index
        ``references.npz``, which names the generation and the checksum of every file in it, is
        then replaced atomically.  A reader therefore sees the old set or the new one, never a
        mix, and a crash at any point leaves the old set loadable.  A lock (``.lock``) makes a
        concurrent save to the same directory fail with :class:`~fingerprint.io.DirectoryLockedError`
        instead of interleaving.  The previous generation is kept (a reader may still be loading
        it); older ones are removed.

        Parameters
        ----------
        directory : path-like
            Created if missing.
        precision : {"float64", "float32", "float16", "int8"}, default="float64"
            How the fingerprints' statistics are stored (:meth:`Fingerprint.save`).

        Returns
        -------
        Path
            ``directory``.

        Raises
        ------
        DirectoryLockedError
            Another process is saving to ``directory``.

        Examples
        --------
        >>> import tempfile
        >>> from fingerprint import references
        >>> from fingerprint.refset import ReferenceSet
        >>> d = ReferenceSet(list(references.builtin())[:3], references.builtin().space).save(tempfile.mkdtemp())
        >>> ReferenceSet.load(d).models == list(references.builtin().models)[:3]
        True
        """
        directory = user_path(directory)
        if directory.exists() and not directory.is_dir():
            raise FileExistsError(f"{directory} is a file; a reference set is saved to a directory")
        check_choice(precision, "precision", PRECISIONS)  # before the lock: a bad one left a bare .lock behind
        # before anything is written (a failure after the members left a bare lock): what load() checks of
        # the set's own values, which a user may have set since the constructor checked them
        _check_json(self.metadata)
        if self.distance_quantiles is not None:
            _check_distance_quantiles(self.distance_quantiles)
        if self.confidence_map is not None:
            _check_confidence_map(self.confidence_map)
        _check_slope_has_temperature(self.length_slope, self.temperature)
        directory.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(directory):
            previous, flat = self._current_layout(directory)
            # an index that exists but cannot be read: keep every generation, one may be what it named
            unreadable = previous is None and not flat and (directory / "references.npz").exists()
            gen = fresh_directory(directory, ".gen-")
            try:
                members: dict[str, str] = {}
                for f in self:
                    name = _member_name(f.model, taken=set(members.values()))
                    f.save(gen / name, precision=precision)
                    members[f.model] = name
                self.space.save(gen / "space.npz")
                self._write_index(directory, gen, members, precision)  # the atomic switch
            except BaseException:
                # the old set stays as it was, with no leftovers; unless the switch happened before the
                # error (the index already names the new generation), which then must stay
                if self._current_layout(directory)[0] != gen.name:
                    shutil.rmtree(gen, ignore_errors=True)
                raise
            keep = {gen.name, previous}
            for old in directory.glob(".gen-*"):  # earlier generations and crashed saves' leftovers
                if old.is_dir() and old.name not in keep and not unreadable:
                    shutil.rmtree(old, ignore_errors=True)
            for tmp in directory.glob(".references.npz.*.tmp"):  # a killed save's index, never renamed (we hold
                tmp.unlink(missing_ok=True)                       # the lock: no other writer is writing one now)
            for name in flat:  # the files of a set saved in the flat layout of earlier versions
                (directory / name).unlink(missing_ok=True)
        return directory

    def _write_index(self, directory: Path, gen: Path, members: dict[str, str], precision: str) -> None:
        """Write ``references.npz`` naming generation ``gen`` and its members: the save's atomic switch."""
        arrays = {} if self.distance_quantiles is None else {"distance_quantiles": self.distance_quantiles}
        if self.confidence_map is not None:
            arrays["confidence_map"] = self.confidence_map
        if len(self):  # kept whatever the precision: a set loaded from rounded files has a finer sum than its members
            dtype = np.float64 if precision == "float64" else np.float32
            arrays["scatter_sum"] = pack_symmetric(self.within_scatter(), dtype)
        meta = {
            "generation": gen.name,
            "members": members,
            "space_id": self.space.space_id_,
            "temperature": self.temperature,
            "length_slope": self.length_slope,
            "shrinkage": self.shrinkage,
            "metadata": self.metadata,
            "calibrated_models": None if self.calibrated_models is None else list(self.calibrated_models),
            # what makes a calibration stale besides its models: kept, so a loaded set still says so
            "calibrated_shrinkage": self._calibrated_shrinkage,
            "changed_since_calibration": bool(self._changed_since_calibration),
            "member_sha256": {m: file_sha256(gen / n) for m, n in members.items()},
            "space_sha256": file_sha256(gen / "space.npz"),
        }
        write_bundle(directory / "references.npz", "reference_set", meta, arrays)

    @classmethod
    def files(cls, directory: str | os.PathLike[str]) -> list[Path]:
        """The fingerprint files of the set saved in ``directory`` (its current generation), in set order.

        To share single models, or to assemble a set from them with
        :func:`~fingerprint.building.load_references` (``space=`` needed).  Checksums are verified
        when they are loaded, not here.

        Parameters
        ----------
        directory : path-like
            A directory written by :meth:`save`.

        Returns
        -------
        list of Path
        """
        meta, _, base = cls._read_index(user_path(directory))
        return [base / Path(name).name for name in meta["members"].values()]  # names only: never leave base

    @staticmethod
    def _read_index(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray], Path]:
        """The index's metadata and arrays, and the folder its files are in (its generation, or the flat layout)."""
        meta, arrays = read_bundle(directory / "references.npz", "reference_set")
        _check_index(meta, directory / "references.npz")
        return meta, arrays, generation_folder(directory, meta.get("generation"))

    @staticmethod
    def _current_layout(directory: Path) -> tuple[str | None, list[str]]:
        """The generation the index names now, and the files of a flat (pre-generation) set.

        ``(None, [])`` when there is no readable index: nothing of an unreadable set is removed.
        """
        try:
            meta, _ = read_bundle(directory / "references.npz", "reference_set")
            _check_index(meta, directory / "references.npz")
        except (OSError, ValueError):
            return None, []
        gen = meta.get("generation")
        if gen is not None:
            return gen, []
        names = [Path(n).name for n in meta.get("members", {}).values()]
        return None, [*names, "space.npz"]

    @classmethod
    def load(
        cls, directory: str | os.PathLike[str], *, embedding_model: str | os.PathLike[str] | None = None
    ) -> ReferenceSet:
        """Load a directory written by :meth:`save`, verifying every checksum.

        Directories written before generations existed (all files beside the index) load too.
        Nothing is run or downloaded: ``embedding_model`` is passed to :meth:`FeatureSpace.load`
        (needed only for a space with an embedding block fitted with a non-default model).

        Parameters
        ----------
        directory : path-like
        embedding_model : str or path-like, optional

        Returns
        -------
        ReferenceSet

        Raises
        ------
        FingerprintFileError
            A file is damaged, altered, missing or of another set.
        """
        return cls._load(user_path(directory), embedding_model)

    @classmethod
    def _load(
        cls, directory: Path, embedding_model: str | os.PathLike[str] | None,
        space: FeatureSpace | Callable[[], FeatureSpace] | None = None,
    ) -> ReferenceSet:  # fmt: skip
        """:meth:`load`, with the set's space (or how to get it) when known (checked by its id)."""
        if directory.is_file():
            raise NotADirectoryError(
                f"{directory} is a file, not a reference-set directory (what ReferenceSet.save writes); a fingerprint "
                "file loads with fp.load_references([path, ...], space=<the space it was built in>) or "
                "Fingerprint.load(path)"
            )  # fmt: skip
        if not directory.is_dir():
            raise FileNotFoundError(f"no such reference-set directory: {directory}")
        for attempt in range(3):
            meta, arrays, base = cls._read_index(directory)
            try:
                return cls._from_index(directory, meta, arrays, base, embedding_model, space)
            except (FileNotFoundError, FingerprintFileError):
                # a writer switched generations and removed the one being read: read the new one
                if attempt == 2 or cls._current_layout(directory)[0] == meta.get("generation"):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _from_index(
        cls, directory: Path, meta: dict[str, Any], arr: dict[str, np.ndarray], base: Path,
        embedding_model: str | os.PathLike[str] | None, space: FeatureSpace | Callable[[], FeatureSpace] | None = None,
    ) -> ReferenceSet:  # fmt: skip
        def load_space() -> FeatureSpace:
            if space is not None:
                return space if isinstance(space, FeatureSpace) else space()
            if not (base / "space.npz").is_file():  # damage like a missing member file, not a wrong path
                raise FingerprintFileError(f"{directory}: space.npz is missing or not a file")
            if "space_sha256" in meta and file_sha256(check_file_size(base / "space.npz")) != meta["space_sha256"]:
                raise FingerprintFileError(
                    f"{base / 'space.npz'}: checksum differs from the index (modified or replaced)"
                )
            return FeatureSpace.load(base / "space.npz", embedding_model=embedding_model)

        def load_member(item: tuple[str, str]) -> Fingerprint:
            model, name = item
            p = base / Path(name).name  # names only: never leave base
            if not p.is_file():
                raise FingerprintFileError(f"{directory}: member file {name} for {model!r} is missing")
            check_file_size(p)  # before hashing: a huge (or sparse) file is refused at once
            if file_sha256(p) != meta["member_sha256"].get(model):
                raise FingerprintFileError(f"{p}: checksum differs from the index (modified or replaced)")
            f = Fingerprint.load(p)
            if f.model != model:  # the index's entry and the file must name one model: no file counts twice
                raise FingerprintFileError(f"{p}: holds {f.model!r}, but the index lists it as {model!r}")
            return f

        # threads: zlib, hashing and numpy release the GIL, so reading the ~80 built-in files and the
        # space on 2 cores takes about half the time of one after another (measured 0.36 vs 0.71 s)
        pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))
        try:
            space_job = pool.submit(load_space)
            members = pool.map(load_member, meta["members"].items())
            space = space_job.result()  # errors in the order of a serial read: the space, then each member
            if space.space_id_ != meta.get("space_id"):
                raise FingerprintFileError(f"{directory}: space.npz does not belong to this reference set")
            fps = list(members)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # on an error, the members not yet read are not
        try:
            with _loading():
                refs = cls(
                    fps, space, temperature=meta.get("temperature"), shrinkage=meta.get("shrinkage", 0.3),
                    distance_quantiles=arr.get("distance_quantiles"), metadata=meta.get("metadata"),
                    confidence_map=arr.get("confidence_map"), length_slope=meta.get("length_slope", 0.0),
                    calibrated_models=meta.get("calibrated_models"),
                )  # fmt: skip
        except (TypeError, ValueError) as e:  # values a save never writes: a damaged or hand-made index
            raise FingerprintFileError(f"{directory}: malformed reference set ({e})") from e
        refs._calibrated_shrinkage = meta.get("calibrated_shrinkage", refs.shrinkage)  # saved before: as loaded
        refs._changed_since_calibration = meta.get("changed_since_calibration", False)
        if "scatter_sum" in arr and fps:
            try:
                total = unpack_symmetric(arr["scatter_sum"], fps[0].dim)
            except ValueError as e:
                raise FingerprintFileError(f"{directory}: malformed scatter sum in the index ({e})") from e
            if not np.all(np.isfinite(total)):
                raise FingerprintFileError(f"{directory}: the index's scatter sum is not finite")
            total.setflags(write=False)
            refs._scatter_sum = total
        return refs

    @classmethod
    def from_files(
        cls, paths: Iterable[str | os.PathLike[str]], space: FeatureSpace | str | None = None, *,
        shrinkage: float = 0.3,
    ) -> ReferenceSet:
        """Assemble an (uncalibrated) set from fingerprint files alone (e.g. shared by others).

        Files of the same model are merged (shards); the same file given twice, or two files with
        identical bytes, are refused: their texts would count twice.

        Parameters
        ----------
        paths : iterable of path-like
            ``.fingerprint.npz`` files.
        space : FeatureSpace or "default", optional
            The space they were built in (default: the shipped one).
        shrinkage : float, default=0.3

        Returns
        -------
        ReferenceSet
            Uncalibrated: call :meth:`calibrate` on held-out texts.
        """
        if isinstance(paths, str | os.PathLike):  # one path: a str would be read character by character
            raise TypeError(
                f"from_files takes a list of fingerprint files, got one path {os.fspath(paths)!r}: pass [path], or "
                "load_references(directory) for a saved set"
            )  # fmt: skip
        loaded = [(Path(p), Fingerprint.load(p)) for p in paths]
        for i, (p, f) in enumerate(loaded):  # an identical fingerprint is the same file (or a copy of it)
            for q, g in loaded[:i]:
                if f.model == g.model and _same_statistics(f, g):  # named here by file; the set refuses it too
                    raise ValueError(f"{p} and {q} are the same fingerprint file: its texts would count twice")
        with _loading():  # shared files: a model of fewer than 5 texts warns, it is not lost
            return cls((f for _, f in loaded), space, shrinkage=shrinkage)

    @classmethod
    def default(cls) -> ReferenceSet:
        """The built-in reference set shipped with the package (a fresh copy: add or remove models freely).

        :mod:`fingerprint.references` describes it (``info()``, ``list_models()``, the sample corpus).

        Raises
        ------
        FileNotFoundError
            When this installation ships none.

        Examples
        --------
        >>> from fingerprint import ReferenceSet
        >>> len(ReferenceSet.default()) >= 2
        True
        """
        refs = _load_builtin()
        refs.lda()  # fitted once per process, shared by every copy until it changes its models
        return refs.copy()

    def copy(self) -> ReferenceSet:
        """An independent copy: add, remove, merge or recalibrate either without changing the other.

        Cheap: fingerprints are immutable and shared, as are the fitted LDA and the scatter sum (a set
        that changes its models replaces them, never edits them); the metadata and the calibration's
        arrays are copied.

        Examples
        --------
        >>> from fingerprint import ReferenceSet
        >>> refs = ReferenceSet.default()
        >>> mine = refs.copy()
        >>> mine.metadata["note"] = "mine"
        >>> "note" in refs.metadata
        False
        """
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._fps = dict(self._fps)
        new.metadata = copy.deepcopy(self.metadata)
        for name in ("distance_quantiles", "confidence_map"):
            value = getattr(self, name)
            setattr(new, name, None if value is None else np.array(value))
        return new

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lda"] = None  # a cache: refitted on demand, not worth pickling
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # a set pickled before the length slope existed was calibrated with one temperature; one pickled before
        # the calibration's shrinkage was kept is taken to have been calibrated at its present one
        state = dict(state)
        for name in ("temperature", "shrinkage", "length_slope"):  # plain attributes in sets pickled before 12-07
            if name in state:
                state[f"_{name}"] = state.pop(name)
        self.__dict__.update({"_length_slope": 0.0, "_calibrated_shrinkage": state.get("_shrinkage"), **state})
