"""Set-level attribution: whose outputs was an unknown model trained on?

Many outputs of ONE unknown model are pooled into a set mean and compared
with every reference fingerprint in the attributor's metric (the shrunk
pooled within-model covariance ``Σ``).

Statistics (all computed in the whitened space ``y = L⁻¹x`` with ``Σ = LLᵀ``):

distance
    ``d²(U, k) = |ȳ_U − m_k|² − tr(Σ⁻¹Σ_U)/n_U − tr(Σ⁻¹Σ_k)/n_k``, divided by
    the dimension: an unbiased estimate of the squared distance between the
    *model* means, so it does not shrink or grow with the number of texts.
p-value (closer than unrelated models?)
    The null for candidate ``k`` is the set of debiased distances between
    ``k`` and the *other* references (same-family references excluded when
    the fingerprints carry a ``family``).  ``log d²`` of a new, unrelated
    model is treated as one more draw from that population, so the p-value
    is the lower tail of a Student-t prediction interval fitted to the null
    log-distances.  p-values are Holm-corrected over candidates.
verdict
    The nearest candidate if its corrected p-value is below ``alpha``, else
    ``None`` ("none of these").
same-model test (typicality)
    Under "the unknown IS model k" the true distance is 0; the p-value is
    the upper tail of ``d²`` over its bootstrap standard error (texts
    resampled).  A significant verdict with a small same-model p-value reads
    "closer to k than unrelated models, yet clearly not k": *learned from k*.
texts needed
    Random subsets of increasing size are audited; the smallest size at
    which >= 80 % of subsets reach the full-set verdict is reported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from fingerprint.attribution import DEFAULT_TOP_FEATURES, HasReferences, resolve_references
from fingerprint.refset import ReferenceSet
from fingerprint.validation import UNSET, as_text_list, check_float, check_int, check_texts, renamed

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AuditReport", "Candidate", "ReferenceAnswers", "audit", "distance_matrix", "plot_similarity"]

_SUBSET_SIZES = (2, 3, 5, 8, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000)


@dataclass(frozen=True)
class Candidate:
    """One reference model's standing in an audit.

    Attributes
    ----------
    model : str
    distance : float
        Debiased squared distance (per dimension) between the unknown model's
        mean and this model's mean; 0 means indistinguishable on average.
    posterior : float
        Probability over the references from pooling every text's calibrated
        log-posterior (assumes texts are independent given the model: read it
        as a ranking, not as a frequency, for large sets).
    p_value : float
        Raw p-value of "closer to this candidate than unrelated models are".
    p_adjusted : float
        Holm-corrected p-value.
    same_model_p : float
        p-value of "the unknown model IS this model" (small = distinguishable).
    family : str or None

    Examples
    --------
    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> sample = references.load_sample()
    >>> unknown = sample.filter(lambda r: r["model"] == "alpaca-7b")["text"]
    >>> report = fp.audit(unknown, n_bootstrap=50)
    >>> c = report.candidates[0]
    >>> c.model in references.list_models(), 0.0 <= c.p_value <= c.p_adjusted <= 1.0
    (True, True)
    """

    model: str
    distance: float
    posterior: float
    p_value: float
    p_adjusted: float
    same_model_p: float
    family: str | None


@dataclass(frozen=True)
class AuditReport:
    """The result of :func:`audit`.

    Attributes
    ----------
    n_texts : int
    alpha : float
    candidates : tuple of Candidate
        Every reference, most unusually close first (smallest p-value, then distance).
    verdict : str or None
        Nearest reference if significantly closer than unrelated models, else ``None``.
    relation : {"is", "learned-from", "none"}
        ``"is"``: the texts look like a fresh sample of ``verdict``;
        ``"learned-from"``: closer to it than to unrelated models yet clearly
        not it; ``"none"``: no verdict.
    texts_needed : int or None
        Smallest subset size reaching the full-set verdict in >= 80 % of random subsets.
    toward_nearest : tuple of (str, float)
        Features that bring the unknown model closer to its nearest candidate
        than to the other references (contribution to that margin).
    differs_from_nearest : tuple of (str, float)
        Features where the unknown model differs most from its nearest
        candidate (contribution to their distance).
    evidence : str
        The verdict in plain words.

    Examples
    --------
    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> sample = references.load_sample()
    >>> unknown = sample.filter(lambda r: r["model"] == "alpaca-7b")["text"]
    >>> report = fp.audit(unknown, n_bootstrap=50)
    >>> report.n_texts, report.relation in ("is", "learned-from", "none")
    (20, True)
    >>> report.verdict in (None, report.nearest.model)
    True
    >>> report.to_frame().columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['model', 'distance', 'posterior', 'p_value', 'p_adjusted', 'same_model_p', 'family']
    >>> print(report)  # doctest: +ELLIPSIS
    Audit of 20 texts (alpha=0.05): ...
    <BLANKLINE>
    candidate                     distance posterior         p   p(Holm)   p(same)
    ...
    """

    n_texts: int
    alpha: float
    candidates: tuple[Candidate, ...]
    verdict: str | None
    relation: str
    texts_needed: int | None
    toward_nearest: tuple[tuple[str, float], ...]
    differs_from_nearest: tuple[tuple[str, float], ...]
    evidence: str

    @property
    def nearest(self) -> Candidate:
        """The top-ranked candidate (whether or not significant)."""
        return self.candidates[0]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON-serialisable)."""
        d = asdict(self)
        d["toward_nearest"] = [list(t) for t in self.toward_nearest]
        d["differs_from_nearest"] = [list(t) for t in self.differs_from_nearest]
        return d

    def to_frame(self) -> pd.DataFrame:
        """The candidates table."""
        import pandas as pd

        return pd.DataFrame([asdict(c) for c in self.candidates])

    def __str__(self) -> str:
        lines = [f"Audit of {self.n_texts} texts (alpha={self.alpha}): {self.evidence}", ""]
        lines.append(f"{'candidate':<28} {'distance':>9} {'posterior':>9} {'p':>9} {'p(Holm)':>9} {'p(same)':>9}")
        for c in self.candidates:
            lines.append(
                f"{c.model:<28} {c.distance:>9.4f} {c.posterior:>9.3f} {c.p_value:>9.2g} "
                f"{c.p_adjusted:>9.2g} {c.same_model_p:>9.2g}"
            )
        if self.toward_nearest:
            lines += ["", f"closer to {self.nearest.model} than to the rest because of:"]
            lines += [f"  {v:+.3f}  {n}" for n, v in self.toward_nearest]
            lines += ["", f"differs most from {self.nearest.model} in:"]
            lines += [f"  {v:+.3f}  {n}" for n, v in self.differs_from_nearest]
        return "\n".join(lines)

    def __repr__(self) -> str:
        c = self.nearest
        return (
            f"AuditReport(verdict={self.verdict!r}, relation={self.relation!r}, nearest={c.model!r}, "
            f"p_adjusted={c.p_adjusted:.2g}, n_texts={self.n_texts}, texts_needed={self.texts_needed})"
        )


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


class _Geometry:
    """Whitened reference means and per-model noise terms, shared by all audits of a set."""

    def __init__(self, refs: ReferenceSet) -> None:
        self.att = refs.lda()
        fps = list(refs)
        self.models = [f.model for f in fps]
        self.families = [f.metadata.get("family") for f in fps]
        self.d = self.att.dim
        self.m = self.whiten(self.att.means)
        self.n = np.array([f.n_texts for f in fps], dtype=float)
        # tr(Σ⁻¹ Σ_k) / n_k: the noise in each reference mean
        self.noise = np.array(
            [np.trace(self.att.whiten_both(f.scatter)) / max(f.n_texts - 1, 1) / f.n_texts for f in fps]
        )
        diff = self.m[:, None, :] - self.m[None, :, :]
        self.pair = ((diff**2).sum(-1) - self.noise[:, None] - self.noise[None, :]) / self.d

    def whiten(self, X: np.ndarray) -> np.ndarray:
        return self.att.whiten(X)

    def distances(self, Y: np.ndarray) -> np.ndarray:
        """Debiased per-dimension squared distances of a whitened set to every reference."""
        n = Y.shape[0]
        ybar = Y.mean(axis=0)
        own = ((Y - ybar) ** 2).sum() / max(n - 1, 1) / n if n > 1 else 0.0
        return (((ybar - self.m) ** 2).sum(axis=1) - own - self.noise) / self.d

    def null_pvalues(self, dist: np.ndarray, exclude_family: bool, pair: np.ndarray | None = None) -> np.ndarray:
        pair = self.pair if pair is None else pair
        p = np.full(len(self.models), np.nan)
        for k in range(len(self.models)):
            others = [
                j for j in range(len(self.models))
                if j != k and not (exclude_family and self.families[k] and self.families[j] == self.families[k])
            ]  # fmt: skip
            null = pair[k, others]
            null = null[np.isfinite(null)]
            floor = max(float(np.median(np.abs(null))) * 1e-3, 1e-12)
            logs = np.log(np.maximum(null, floor))
            if len(logs) < 3 or not np.isfinite(dist[k]):
                continue
            scale = logs.std(ddof=1) * np.sqrt(1 + 1 / len(logs))
            t = (np.log(max(dist[k], floor)) - logs.mean()) / scale
            p[k] = stats.t.cdf(t, df=len(logs) - 1)
        return p


def _debiased(D: np.ndarray, d: int) -> float:
    """Unbiased |E[D]|² / d from rows D (differences or deviations), as in :meth:`_Geometry.distances`."""
    m = D.shape[0]
    if m < 2:
        return float("nan")
    mean = D.mean(axis=0)
    return float(((mean**2).sum() - ((D - mean) ** 2).sum() / (m - 1) / m) / d)


class _Unpaired:
    """Distances of a subset of the unknown model's texts to every reference mean."""

    def __init__(self, geo: _Geometry, Y: np.ndarray) -> None:
        self.geo, self.Y, self.pair = geo, Y, geo.pair

    def distances(self, idx: np.ndarray) -> np.ndarray:
        return self.geo.distances(self.Y[idx])


class _Paired:
    """Distances from answers to the *same prompts*: prompt effects cancel in the differences.

    ``raw`` maps each reference model to ``{prompt: features}``.  The null's model-to-model
    distances are computed the same way, on the prompts shared in ``raw``.
    """

    def __init__(self, geo: _Geometry, Y: np.ndarray, prompts: list[Any], raw: dict[str, dict[Any, np.ndarray]]):
        self.geo = geo
        ref = {m: dict(zip(v, geo.whiten(np.stack(list(v.values()))), strict=True)) for m, v in raw.items() if v}
        self.diffs, self.pos = [], []
        for model in geo.models:
            rows = [i for i, p in enumerate(prompts) if p in ref.get(model, {})]
            if len(rows) < 2:
                raise ValueError(f"paired audit: fewer than 2 shared prompts with {model!r}")
            pos = np.full(len(prompts), -1)
            pos[rows] = np.arange(len(rows))
            self.pos.append(pos)
            self.diffs.append(Y[rows] - np.stack([ref[model][prompts[i]] for i in rows]))
        K = len(geo.models)
        self.pair = np.zeros((K, K))
        for a in range(K):
            for b in range(a + 1, K):
                shared = sorted(set(ref[geo.models[a]]) & set(ref[geo.models[b]]), key=str)
                D = np.stack([ref[geo.models[a]][p] - ref[geo.models[b]][p] for p in shared])
                self.pair[a, b] = self.pair[b, a] = _debiased(D, geo.d) if len(shared) >= 2 else np.nan

    def distances(self, idx: np.ndarray) -> np.ndarray:
        out = np.empty(len(self.diffs))
        for k, (D, pos) in enumerate(zip(self.diffs, self.pos, strict=True)):
            rows = pos[idx]
            out[k] = _debiased(D[rows[rows >= 0]], self.geo.d)
        return out


def _rank(dist: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Candidates by relative closeness (p-value), then by distance.

    A "hub" model that is close to every other model is near the unknown too; its p-value, taken
    against its own distances to the others, is what says whether the unknown is *unusually* close.
    """
    return np.lexsort((dist, p))


def _verdict(dist: np.ndarray, p: np.ndarray, p_adj: np.ndarray, alpha: float) -> int | None:
    k = int(_rank(dist, p)[0])
    return k if p_adj[k] < alpha else None


def audit(
    texts: Any,
    references: ReferenceSet | HasReferences | None = None,
    *,
    alpha: float = 0.05,
    exclude_family: bool = True,
    n_bootstrap: int = 200,
    top_features: int = DEFAULT_TOP_FEATURES,
    random_state: int = 0,
    groups: Any = None,
    reference_texts: Any = None,
    prompts: Any = UNSET,
) -> AuditReport:
    """Audit outputs of ONE unknown model against reference fingerprints.

    Parameters
    ----------
    texts : sequence of str, pandas Series or datasets.Dataset
        Outputs of the unknown model (tens to hundreds; more is better).
    references : ReferenceSet or FingerprintClassifier, optional
        Candidate models; default: the built-in reference set.
    alpha : float, default=0.05
        Significance level for the Holm-corrected verdict and the same-model test.
    exclude_family : bool, default=True
        Leave references of the candidate's own ``family`` (fingerprint
        metadata) out of its null, so siblings do not count as "unrelated".
    n_bootstrap : int, default=200
        Resamples for the same-model test (at least 2).
    top_features : int, default=5
        Features reported in the explanations.
    random_state : int, default=0
    groups : sequence, optional
        Prompt id of each text (the same ``groups`` as in
        :func:`~fingerprint.building.build_references`).  With ``reference_texts`` this
        switches on **paired mode**: each answer is compared with the
        references' answers to the same prompt, so what the prompt asks for
        cancels out.
    reference_texts : datasets.Dataset or mapping of columns, optional
        Reference models' outputs with ``text``, ``model`` and ``prompt_id``
        columns (e.g. from :func:`~fingerprint.corpus.load_corpus`); only prompts the
        unknown model answered are used (the first answer per prompt).  A
        :class:`ReferenceAnswers` holds them featurised once, for many audits.
    prompts : sequence, optional
        Deprecated name of ``groups``.

    Returns
    -------
    AuditReport

    Examples
    --------
    Audit the 20 sample answers of alpaca-7b (fine-tuned on text-davinci-003 outputs) against
    the built-in references without the students, pairing answers to the same prompts:

    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> sample = references.load_sample()
    >>> refs = references.builtin()
    >>> for m in refs.to_frame().query("role != 'teacher'")["model"]:
    ...     _ = refs.remove(m)
    >>> alpaca = sample.filter(lambda r: r["model"] == "alpaca-7b")
    >>> report = fp.audit(alpaca["text"], references=refs, groups=alpaca["prompt_id"],
    ...                   reference_texts=sample.filter(lambda r: r["model"] in refs))
    >>> report.nearest.model in refs
    True
    >>> report.nearest.model, report.verdict, report.relation  # doctest: +SKIP
    ('text-davinci-003', None, 'none')

    With the shipped references the nearest candidate is the teacher, text-davinci-003, but with
    only 20 texts its Holm-corrected p-value stays just above 0.05, so ``verdict`` is ``None``;
    ``print(report)`` shows the table.
    """
    groups = renamed(groups, prompts, new="groups", old="prompts", owner="audit()")
    references = resolve_references(references)
    alpha = check_float(alpha, "alpha", low=0, high=1, low_open=True, high_open=True)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=2)
    top_features = check_int(top_features, "top_features", low=0)
    items = check_texts(texts)
    if len(items) < 2:
        raise ValueError(f"audit needs at least 2 texts of the unknown model, got {len(items)}")
    if len(references) < 4:
        raise ValueError(f"audit needs at least 4 reference models to build a null, got {len(references)}")
    if top_features > 0:
        X, Z = references.space.transform_with_ngrams(items)
        zbar = np.asarray(Z.mean(axis=0)).ravel()
    else:
        X, zbar = references.space.transform(items), None
    paired = None
    if (groups is None) != (reference_texts is None):
        raise ValueError("paired mode needs both groups= (prompt ids) and reference_texts=")
    if groups is not None:
        groups = list(as_text_list(groups))
        paired = (
            _first_per_prompt(groups, len(items)),
            _reference_features(references, reference_texts, groups),
        )
    return _audit_features(
        X, zbar, references, alpha=alpha, exclude_family=exclude_family, n_bootstrap=n_bootstrap,
        top_features=top_features, random_state=random_state, paired=paired,
    )  # fmt: skip


def _first_per_prompt(prompts: list[Any], n: int) -> list[Any]:
    if len(prompts) != n:
        raise ValueError(f"got {n} texts but {len(prompts)} prompts")
    seen: set[Any] = set()
    out = []
    for p in prompts:  # later answers to an already seen prompt take no part in pairing
        out.append(p if p not in seen else ("__duplicate__", len(out)))
        seen.add(p)
    return out


class ReferenceAnswers:
    """The reference models' answers to shared prompts, featurised once, for paired audits.

    Pass it as ``reference_texts=`` to :func:`audit` instead of the texts when auditing several
    models against the same answers (a probe set): featurising the references' answers is most of a
    paired audit's time.

    Parameters
    ----------
    references : ReferenceSet
        Only these models' answers are kept, in its feature space.
    reference_texts : datasets.Dataset or mapping of columns
        ``text``, ``model`` and ``prompt_id`` columns; the first answer per (model, prompt) is used.

    Examples
    --------
    >>> import fingerprint as fp
    >>> from fingerprint import references
    >>> from fingerprint.setlevel import ReferenceAnswers
    >>> sample = references.load_sample()
    >>> refs = references.builtin()
    >>> answers = ReferenceAnswers(refs, sample)
    >>> len(answers.prompts), answers.space_id == refs.space.space_id_
    (20, True)
    """

    def __init__(self, references: ReferenceSet, reference_texts: Any) -> None:
        cols = {c: list(reference_texts[c]) for c in ("text", "model", "prompt_id")}
        first: dict[tuple[str, Any], str] = {}
        for t, m, p in zip(cols["text"], cols["model"], cols["prompt_id"], strict=True):
            if m in references and (m, p) not in first and isinstance(t, str) and t.strip():
                first[(m, p)] = t
        keys = list(first)
        X = references.space.transform([first[k] for k in keys]) if keys else np.zeros((0, 0))
        self.space_id = references.space.space_id_
        self.features: dict[str, dict[Any, np.ndarray]] = {}
        for (m, p), x in zip(keys, X, strict=True):
            self.features.setdefault(m, {})[p] = x
        self.prompts = sorted({p for _, p in keys}, key=str)

    def for_audit(self, refs: ReferenceSet, prompts: Any) -> dict[str, dict[Any, np.ndarray]]:
        """The answers of ``refs``'s models to ``prompts``: model -> prompt -> features."""
        if refs.space.space_id_ != self.space_id:
            raise ValueError("these reference answers were featurised in another feature space than the references'")
        wanted = set(prompts)
        out = {m: {p: x for p, x in self.features.get(m, {}).items() if p in wanted} for m in refs.models}
        missing = sorted(m for m, v in out.items() if not v)
        if missing:
            raise ValueError(f"reference_texts has no answers to these prompts from: {missing}")
        return out


def _reference_features(refs: ReferenceSet, corpus: Any, prompts: Any) -> dict[str, dict[Any, np.ndarray]]:
    if isinstance(corpus, ReferenceAnswers):
        return corpus.for_audit(refs, prompts)
    wanted = set(prompts)
    cols = {c: list(corpus[c]) for c in ("text", "model", "prompt_id")}
    keep = [i for i, p in enumerate(cols["prompt_id"]) if p in wanted]  # featurise only what this audit pairs
    return ReferenceAnswers(refs, {c: [v[i] for i in keep] for c, v in cols.items()}).for_audit(refs, prompts)


def _audit_features(
    X: np.ndarray,
    zbar: np.ndarray | None,
    refs: ReferenceSet,
    *,
    alpha: float,
    exclude_family: bool,
    n_bootstrap: int,
    top_features: int,
    random_state: int,
    paired: tuple[list[Any], dict[str, dict[Any, np.ndarray]]] | None = None,
) -> AuditReport:
    geo = _Geometry(refs)
    rng = np.random.default_rng(random_state)
    n = X.shape[0]
    Y = geo.whiten(X)
    stat: _Unpaired | _Paired = _Unpaired(geo, Y) if paired is None else _Paired(geo, Y, *paired)
    dist = stat.distances(np.arange(n))
    p = geo.null_pvalues(dist, exclude_family, stat.pair)
    p_filled = np.where(np.isnan(p), 1.0, p)
    p_adj = _holm(p_filled)

    # same-model test: bootstrap standard error of each debiased distance
    boots = np.stack([stat.distances(rng.integers(0, n, n)) for _ in range(n_bootstrap)])
    se = np.maximum(np.nanstd(boots, axis=0, ddof=1), 1e-12)
    same_p = stats.norm.sf(dist / se)

    logp = np.log(np.clip(geo.att.proba(X), 1e-300, None)).sum(axis=0)
    post = np.exp(logp - logp.max())
    post /= post.sum()

    k_best = _verdict(dist, p_filled, p_adj, alpha)
    needed = _texts_needed(geo, stat, n, k_best, alpha, exclude_family, rng)
    order = _rank(dist, p_filled)
    cands = tuple(
        Candidate(
            model=geo.models[k],
            distance=float(dist[k]),
            posterior=float(post[k]),
            p_value=float(p_filled[k]),
            p_adjusted=float(p_adj[k]),
            same_model_p=float(same_p[k]),
            family=geo.families[k],
        )
        for k in order
    )
    nearest = int(order[0])
    if k_best is None:
        relation = "none"
        evidence = (
            f"none of these: the nearest reference, {geo.models[nearest]}, is not significantly closer than "
            f"unrelated models are (Holm p = {p_adj[nearest]:.2g} >= {alpha})"
        )
    else:
        relation = "is" if same_p[k_best] >= alpha else "learned-from"
        evidence = f"closest to {geo.models[k_best]} (Holm p = {p_adj[k_best]:.2g} < {alpha}); " + (
            f"the texts are consistent with being {geo.models[k_best]} itself (same-model p = {same_p[k_best]:.2g})"
            if relation == "is"
            else f"yet clearly not {geo.models[k_best]} itself (same-model p = {same_p[k_best]:.2g}): "
            "consistent with a model that learned from it"
        )
    toward, differs = (), ()
    if top_features > 0:
        xbar = X.mean(axis=0)
        rest = np.delete(geo.att.means, nearest, axis=0).mean(axis=0)
        mu = geo.att.means[nearest]
        w = geo.att.solve(mu - rest)
        toward = refs.space.explain_linear(w, xbar, 0.5 * (mu + rest), zbar, top_features)
        # contribution of each feature to the distance (x̄ − μ)ᵀ Σ⁻¹ (x̄ − μ)
        w2 = geo.att.solve(xbar - mu)
        differs = refs.space.explain_linear(w2, xbar, mu, zbar, top_features)
    return AuditReport(
        n_texts=n, alpha=alpha, candidates=cands, verdict=None if k_best is None else geo.models[k_best],
        relation=relation, texts_needed=needed, toward_nearest=toward, differs_from_nearest=differs,
        evidence=evidence,
    )  # fmt: skip


def _texts_needed(
    geo: _Geometry, stat: _Unpaired | _Paired, n: int, k_full: int | None, alpha: float, exclude_family: bool,
    rng: np.random.Generator, draws: int = 30,
) -> int | None:  # fmt: skip
    if k_full is None:
        return None
    for size in [s for s in _SUBSET_SIZES if s < n] + [n]:
        hits = 0
        for _ in range(draws if size < n else 1):
            dist = stat.distances(rng.choice(n, size, replace=False))
            p = np.nan_to_num(geo.null_pvalues(dist, exclude_family, stat.pair), nan=1.0)
            hits += _verdict(dist, p, _holm(p), alpha) == k_full
        if hits >= 0.8 * (draws if size < n else 1):
            return size
    return n


def distance_matrix(references: ReferenceSet, report: AuditReport | None = None) -> tuple[list[str], np.ndarray]:
    """Debiased squared distances (per dimension) between reference models, plus the audited one.

    Parameters
    ----------
    references : ReferenceSet
    report : AuditReport, optional
        Adds a row/column ``"<unknown>"`` with the audited model's distances.

    Returns
    -------
    names : list of str
    D : ndarray of shape (len(names), len(names))

    Examples
    --------
    >>> from fingerprint import references
    >>> from fingerprint.setlevel import distance_matrix
    >>> names, D = distance_matrix(references.builtin())
    >>> D.shape == (len(names), len(names)), bool((D.diagonal() == 0).all())
    (True, True)
    """
    geo = _Geometry(references)
    names, D = list(geo.models), geo.pair.copy()
    np.fill_diagonal(D, 0.0)
    if report is not None:
        by = {c.model: c.distance for c in report.candidates}
        row = np.array([by[m] for m in names])
        D = np.block([[D, row[:, None]], [row[None, :], np.zeros((1, 1))]])
        names.append("<unknown>")
    return names, D


def plot_similarity(references: ReferenceSet, report: AuditReport | None = None, ax: Any = None) -> Any:
    """Heatmap of model distances (reference models, and the audited one if given).

    Rows are ordered by average-linkage clustering so families sit together.  Needs matplotlib
    (``pip install fingerprint[plot]``).

    Parameters
    ----------
    references : ReferenceSet
    report : AuditReport, optional
        Adds the audited model as ``"<unknown>"``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default: a new figure sized to the number of models.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # no display needed
    >>> from fingerprint import references
    >>> from fingerprint.setlevel import plot_similarity
    >>> ax = plot_similarity(references.builtin())
    >>> len(ax.get_xticklabels()) == len(references.list_models())
    True
    >>> ax.figure.savefig("similarity.png")  # doctest: +SKIP
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'fingerprint[plot]'") from e
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    names, D = distance_matrix(references, report)
    Dc = np.maximum(D, 0.0)
    order = leaves_list(linkage(squareform(0.5 * (Dc + Dc.T), checks=False), "average"))
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * len(names) + 3, 0.35 * len(names) + 2))
    im = ax.imshow(Dc[np.ix_(order, order)], cmap="viridis")  # small distances dark
    ax.set_xticks(range(len(names)), [names[i] for i in order], rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), [names[i] for i in order], fontsize=7)
    ax.figure.colorbar(im, ax=ax, label="debiased squared distance / dim")
    ax.set_title("model distances (darker = closer)")
    ax.figure.tight_layout()
    return ax
