"""Audit statistics on synthetic feature vectors where the truth is known, plus the text path."""

import gc
import warnings
import weakref

import numpy as np
import pandas as pd
import pytest

import fingerprint as fp
from fingerprint import Fingerprint, ReferenceSet
from fingerprint.setlevel import ReferenceAnswers, _audit_features, _holm

TAU = 0.6  # spread of model means relative to the within-model spread


def _refs(space, rng, k=12, n=200):
    d = space.n_features_out_
    means = rng.normal(0, TAU, (k, d))
    fps = [
        Fingerprint.from_features(mu + rng.normal(size=(n, d)), f"m{j}", space.space_id_, {"family": f"f{j}"})
        for j, mu in enumerate(means)
    ]
    return ReferenceSet(fps, space, shrinkage=0.0), means


def _run(X, refs, **kw):
    kw = {"alpha": 0.05, "exclude_family": True, "n_bootstrap": 100, "top_features": 3, "random_state": 0, **kw}
    return _audit_features(X, None, refs, **kw)


def test_holm():
    np.testing.assert_allclose(_holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])


def test_null_gives_roughly_uniform_p_values(small_space):
    rng = np.random.default_rng(0)
    pvals, verdicts = [], []
    for _ in range(4):
        refs, _ = _refs(small_space, rng)
        for _ in range(25):
            mu_u = rng.normal(0, TAU, small_space.n_features_out_)  # an unrelated model
            r = _run(mu_u + rng.normal(size=(100, small_space.n_features_out_)), refs)
            pvals += [c.p_value for c in r.candidates]
            verdicts.append(r.verdict)
    pvals = np.array(pvals)
    assert 0.4 < pvals.mean() < 0.6
    assert 0.02 < np.mean(pvals < 0.1) < 0.2
    assert np.mean([v is not None for v in verdicts]) <= 0.1  # Holm keeps false verdicts rare


def test_planted_teacher_is_found_and_told_apart_from_identity(small_space):
    rng = np.random.default_rng(1)
    refs, means = _refs(small_space, rng)
    d = small_space.n_features_out_
    student = means[3] + rng.normal(0, TAU * 0.35, d)  # learned from m3, but not m3
    r = _run(student + rng.normal(size=(150, d)), refs)
    assert r.verdict == "m3" and r.relation == "learned-from"
    assert r.candidates[0].p_adjusted < 0.05 and r.texts_needed is not None and r.texts_needed <= 150
    same = _run(means[3] + rng.normal(size=(150, d)), refs)  # a fresh sample of m3 itself
    assert same.verdict == "m3" and same.relation == "is"
    assert "m3" in str(same) and "AuditReport(verdict='m3'" in repr(same)
    assert f"nearest.model='m3', nearest.p_adjusted={same.nearest.p_adjusted:.2g}," in repr(same)
    assert same.consistent_with == ("m3",) and r.consistent_with == ()  # one reference fits: no "not told apart"
    assert "not told apart" not in str(same)
    assert len(same.to_frame()) == 12 and same.to_dict()["verdict"] == "m3"


def test_an_is_verdict_names_every_reference_the_texts_cannot_tell_apart(small_space):
    """Two snapshots of one model (same family, nearly the same mean): a fresh sample of one is
    consistent with both, and the report says so instead of naming one alone."""
    from fingerprint.setlevel import decide_relation, plot_similarity

    rng = np.random.default_rng(11)
    d = small_space.n_features_out_
    means = rng.normal(0, TAU, (12, d))
    means[1] = means[0] + rng.normal(0, 0.02, d)  # a sibling snapshot
    fam = ["twins", "twins"] + [f"f{j}" for j in range(2, 12)]
    fps = [
        Fingerprint.from_features(mu + rng.normal(size=(200, d)), f"m{j}", small_space.space_id_, {"family": fam[j]})
        for j, mu in enumerate(means)
    ]
    refs = ReferenceSet(fps, small_space, shrinkage=0.0)
    r = _run(means[0] + rng.normal(size=(40, d)), refs)
    assert r.relation == "is" and r.verdict in ("m0", "m1")
    assert set(r.consistent_with) == {"m0", "m1"} and r.consistent_with[0] == r.verdict
    for c in r.candidates:  # the set is exactly the references the rule calls "is"
        rel = decide_relation(c.p_adjusted, c.same_model_p, alpha=r.alpha, vote_share=c.vote_share, lift=c.lift)
        assert (rel == "is") == (c.model in r.consistent_with)
    other = ({"m0", "m1"} - {r.verdict}).pop()
    assert f"not told apart from {other}" in str(r)
    assert r.to_dict()["consistent_with"] == list(r.consistent_with)

    import matplotlib

    matplotlib.use("Agg")
    assert f"not told apart from {other})" in plot_similarity(refs, r).get_title()
    assert f"consistent_with={r.consistent_with!r}" in repr(r) and "both are twins models" in r.evidence
    stranger = Fingerprint.from_features(rng.normal(size=(200, d)), "m99", small_space.space_id_, {"family": "f99"})
    other_refs = ReferenceSet([*fps[:5], stranger], small_space, shrinkage=0.0)  # m99 was never audited against
    with pytest.raises(ValueError, match="audited against other references"):
        plot_similarity(other_refs, r)


def test_posterior_pools_log_likelihoods_under_the_sets_temperature(small_space):
    """``posterior`` is the softmax of the summed LDA scores over the set's one temperature: neither
    the per-text length temperature nor the confidence map enters a pooled ranking."""
    rng = np.random.default_rng(5)
    refs, means = _refs(small_space, rng)
    d = small_space.n_features_out_
    y = np.repeat(np.arange(len(means)), 40)
    H = means[y] + rng.normal(size=(len(y), d))  # held-out texts of every model: a real calibration
    refs.calibrate_from_scores(refs.lda().scores(H), y, refs.lda().distances(H)[np.arange(len(y)), y])
    refs.length_slope = -0.5  # a length-dependent temperature, which a pooled ranking must not use
    lda = refs.lda()
    assert lda.temperature is not None and lda.temperature != 1.0
    X = means[4] + rng.normal(size=(30, d))
    X[:, small_space.length_column] = np.linspace(-3, 3, 30)  # texts of many lengths: per-text temperatures differ
    assert np.ptp(lda.temperatures(X)) > 1.0
    r = _run(X, refs)
    post = {c.model: c.posterior for c in r.candidates}
    logp = lda.scores(X).sum(axis=0) / lda.temperature
    want = np.exp(logp - logp.max())
    want /= want.sum()
    np.testing.assert_allclose([post[m] for m in lda.classes], want, rtol=1e-9, atol=1e-300)
    assert max(post, key=post.get) == "m4"
    uncalibrated, _ = _refs(small_space, np.random.default_rng(5))  # temperature None: taken as 1
    r = _run(X, uncalibrated)
    assert np.isclose(sum(c.posterior for c in r.candidates), 1.0)


@pytest.mark.parametrize("k", [4, 5, 6])
def test_small_reference_sets_give_valid_p_values(small_space, k):
    """With 3-5 unrelated references per candidate the null's t has 2-4 degrees of freedom and its top
    levels overflowed: every p-value came out NaN, read as 1, so no verdict was ever possible."""
    rng = np.random.default_rng(11)
    refs, means = _refs(small_space, rng, k=k)
    with warnings.catch_warnings(), np.errstate(over="raise"):
        warnings.simplefilter("error", RuntimeWarning)
        r = _run(means[1] + rng.normal(size=(80, small_space.n_features_out_)), refs)
    p = {c.model: c.p_value for c in r.candidates}
    assert p["m1"] < 0.01 and r.verdict == "m1"
    assert all(0.0 < v <= 1.0 for m, v in p.items() if m != "m1") and min(v for m, v in p.items() if m != "m1") < 1.0


def test_repeated_audits_reuse_the_geometry_until_the_set_changes(small_space):
    from fingerprint.setlevel import _geometry

    rng = np.random.default_rng(2)
    refs, means = _refs(small_space, rng)
    X = means[3] + rng.normal(size=(40, small_space.n_features_out_))
    first = _run(X, refs)
    geo = _geometry(refs)
    assert _run(X, refs).to_dict() == first.to_dict() and _geometry(refs) is geo  # cached, same answer
    gone = weakref.ref(refs["m3"])
    refs.remove("m3")  # the set changes: a new geometry, and the audit is that of a fresh set without m3
    gc.collect()
    assert gone() is None  # the cached geometry does not keep a removed fingerprint alive
    after = _run(X, refs)
    assert _geometry(refs) is not geo and "m3" not in {c.model for c in after.candidates}
    fresh = ReferenceSet([f for f in refs], small_space, shrinkage=0.0)
    again = _run(X, fresh)  # equal up to rounding: remove() updates the scatter sum, a new set sums it afresh
    assert (after.verdict, after.relation, after.texts_needed) == (again.verdict, again.relation, again.texts_needed)
    pd.testing.assert_frame_equal(after.to_frame(), again.to_frame(), rtol=1e-9)
    refs.shrinkage = 0.2  # so does a new shrinkage
    assert _geometry(refs).shrinkage == 0.2


def test_texts_needed_shrinks_with_a_stronger_signal(small_space):
    rng = np.random.default_rng(2)
    refs, means = _refs(small_space, rng)
    d = small_space.n_features_out_
    weak = _run(means[5] + rng.normal(0, TAU * 0.5, d) + rng.normal(size=(300, d)), refs)
    strong = _run(means[5] + rng.normal(size=(300, d)), refs)
    assert weak.verdict == strong.verdict == "m5"
    assert strong.texts_needed <= weak.texts_needed


def test_audit_on_texts(fitted, heldout, corpus):
    texts = corpus[0]
    refs = ReferenceSet(list(fitted.references_), fitted.space_)
    # add a fourth reference so a null can be built
    refs.add(Fingerprint.from_texts([t.upper() for t in texts[:30]], model="shouty", space=refs.space))
    a_texts = [t for t, m in zip(*heldout[:2], strict=True) if m == "model-a"]
    r = fp.audit(a_texts, references=refs, n_bootstrap=50)
    assert r.nearest.model == "model-a"
    assert all(n.startswith(("char:", "word:", "style:", "score:")) for n, _ in r.toward_nearest)


def test_audit_reports_identity_claims(fitted, heldout, corpus):
    refs = ReferenceSet(list(fitted.references_), fitted.space_)
    refs.add(Fingerprint.from_texts([t.upper() for t in corpus[0][:30]], model="shouty", space=refs.space))
    a_texts = [t for t, m in zip(*heldout[:2], strict=True) if m == "model-a"]
    plain = fp.audit(a_texts, references=refs, n_bootstrap=20)
    assert plain.identity_claims == () and "identity claims" not in str(plain)
    claims = ["You can call me ChatGPT.", "As an AI developed by OpenAI, I can't.", "I'm Claude, made by Anthropic."]
    texts = [f"{t} {c}" for t, c in zip(a_texts, claims, strict=False)] + a_texts[3:]
    r = fp.audit(texts, references=refs, n_bootstrap=20)
    assert r.identity_claims == (("OpenAI", 2), ("Anthropic", 1))
    assert f"identity claims (first person, fp.identity_claims lists them): OpenAI in 2 of {len(texts)}" in str(r)
    assert r.to_dict()["identity_claims"] == {"OpenAI": 2, "Anthropic": 1}


def test_audit_bad_input(fitted):
    with pytest.raises(ValueError, match="at least 2 texts"):
        fp.audit(["one"], references=fitted.references_)
    with pytest.raises(ValueError, match="at least 4 reference models"):
        fp.audit(["one", "two"], references=fitted.references_)
    with pytest.raises(ValueError, match="alpha"):
        fp.audit(["one", "two"], references=fitted.references_, alpha=0)
    # issue 15, finding 4: n_bootstrap=1 gave a NaN p and "learned-from", 0 crashed in numpy
    refs = ReferenceSet(list(fitted.references_), fitted.space_)
    refs.add(Fingerprint.from_features(np.zeros((5, refs.space.n_features_out_)), "zeros", refs.space.space_id_))
    for bad in (0, 1, -3):
        with pytest.raises(ValueError, match="n_bootstrap"):
            fp.audit(["one text here", "two texts here"], references=refs, n_bootstrap=bad)
    with pytest.raises(ValueError, match="top_features"):
        fp.audit(["one text here", "two texts here"], references=refs, top_features=-1)


def test_paired_mode_cancels_prompt_effects(small_space):
    rng = np.random.default_rng(3)
    d = small_space.n_features_out_
    means = rng.normal(0, TAU, (12, d))
    prompts = list(range(300))
    effect = {p: rng.normal(0, 1.5, d) for p in prompts}  # what each prompt asks for dominates the text
    raw = {f"m{j}": {p: means[j] + effect[p] + rng.normal(size=d) for p in prompts} for j in range(12)}
    refs = ReferenceSet(
        [Fingerprint.from_features(np.stack(list(v.values())), m, small_space.space_id_) for m, v in raw.items()],
        small_space,
        shrinkage=0.0,
    )
    student = means[4] + rng.normal(0, TAU * 0.35, d)
    asked = prompts[:80]
    X = np.stack([student + effect[p] + rng.normal(size=d) for p in asked])
    unpaired = _run(X, refs)
    answers = _synthetic_answers(raw, small_space.space_id_)
    paired = _run(X, refs, paired=(asked, answers, answers.weigh(X)))
    assert paired.verdict == "m4" and paired.relation in ("learned-from", "derived-from")
    by_u = {c.model: c for c in unpaired.candidates}["m4"]
    by_p = {c.model: c for c in paired.candidates}["m4"]
    # both estimate the same distance; pairing removes the prompt noise, so it tells m4 apart sooner
    assert 0.5 < by_p.distance / by_u.distance < 2.0
    assert by_p.same_model_p < by_u.same_model_p
    assert paired.texts_needed is not None and paired.texts_needed <= len(asked)
    m4 = paired.candidates[0]  # the votes: m4's answer is nearest far more often than for unrelated models
    assert m4.model == "m4" and m4.lift > 3 and m4.vote_share > 0.2


def _synthetic_answers(raw, space_id):
    """Reference answers whose "n-grams" are their feature vectors (the votes compare those)."""
    keys = [(m, p) for m, v in raw.items() for p in v]
    X = np.stack([raw[m][p] for m, p in keys])
    return ReferenceAnswers.from_features(space_id, keys, X, X)


def _paired_setup(fitted, heldout, corpus):
    """Four references (three styles and an upper-cased one), their held-out answers, model-a's answers."""
    refs = ReferenceSet(list(fitted.references_), fitted.space_)
    refs.add(Fingerprint.from_texts([t.upper() for t in corpus[0][:30]], model="shouty", space=refs.space))
    ref_texts = {
        "text": list(heldout[0]) + [t.upper() for t in heldout[0][:12]],
        "model": list(heldout[1]) + ["shouty"] * 12,
        "prompt_id": list(heldout[2]) + list(heldout[2][:12]),
    }
    return refs, ref_texts, [(t, p) for t, m, p in zip(*heldout, strict=True) if m == "model-a"]


def test_paired_mode_on_texts(fitted, heldout, corpus):
    refs, ref_texts, a = _paired_setup(fitted, heldout, corpus)
    r = fp.audit(
        [t for t, _ in a], references=refs, groups=[p for _, p in a], reference_texts=ref_texts, n_bootstrap=50
    )
    assert r.nearest.model == "model-a"
    with pytest.raises(ValueError, match=r"paired mode needs reference_texts="):
        fp.audit(heldout[0][:4], references=refs, groups=["a"] * 4)
    with pytest.raises(ValueError, match=r"needs groups= \(the prompt id of each text\)"):
        fp.audit(heldout[0][:4], references=refs, reference_texts=ref_texts)
    with pytest.raises(ValueError, match="have fewer than 2 to these prompts from"):
        fp.audit(
            [t for t, _ in a],
            references=refs,
            groups=[p for _, p in a],
            reference_texts={k: v[:30] for k, v in ref_texts.items()},
        )


def test_a_table_of_texts_pairs_on_its_prompt_ids_and_must_hold_one_model(fitted, heldout, corpus):
    """Paired by default when prompts are known (issue 12, item 3), in Python as in the CLI: a table's
    prompt_id column is the groups when the audit can pair on it; a model column naming several models is
    refused (it pooled both models silently)."""
    refs, ref_texts, a = _paired_setup(fitted, heldout, corpus)
    table = {"text": [t for t, _ in a], "prompt_id": [p for _, p in a], "model": ["unknown"] * len(a)}
    by_table = fp.audit(table, references=refs, reference_texts=ref_texts, n_bootstrap=50, top_features=0)
    by_hand = fp.audit(table["text"], references=refs, groups=table["prompt_id"], reference_texts=ref_texts,
                       n_bootstrap=50, top_features=0)  # fmt: skip
    assert by_table.paired and by_table.to_dict() == by_hand.to_dict()
    # groups= may name the table's column
    by_name = fp.audit(table, references=refs, groups="prompt_id", reference_texts=ref_texts, n_bootstrap=50,
                       top_features=0)  # fmt: skip
    assert by_name.to_dict() == by_hand.to_dict()
    with pytest.raises(ValueError, match="is a string: pass the prompt id of each text, or the name of a column"):
        fp.audit(table, references=refs, groups="prompt", reference_texts=ref_texts)
    # no answers to pair with (a user's own set, no reference_texts): unpaired, no error, and it says so
    with pytest.warns(UserWarning, match="auditing unpaired: the references live in another feature space"):
        assert not fp.audit(table, references=refs, n_bootstrap=50, top_features=0).paired
    several = {"text": heldout[0][:6], "model": heldout[1][:6]}
    with pytest.raises(ValueError, match=r"ONE model; the texts' model column names 3"):
        fp.audit(several, references=refs)


def test_builtin_audit_of_a_table_on_probe_prompts_is_paired():
    from fingerprint import references

    sample = references.load_sample()
    alpaca = sample.filter(lambda r: r["model"] == "alpaca-7b")
    with pytest.warns(UserWarning, match="20 of the texts are alpaca-7b's own answers"):  # the sample is them
        assert fp.audit(alpaca, n_bootstrap=20, top_features=0).paired
    assert not fp.audit(alpaca["text"], n_bootstrap=20, top_features=0).paired  # the text column alone
    without = references.builtin()
    without.remove("alpaca-7b")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # audited as an unknown model: nothing to warn about
        warnings.filterwarnings("ignore", message="the reference set's calibration")  # removing marks it stale
        assert fp.audit(alpaca, references=without, n_bootstrap=20, top_features=0).paired
    other_ids = {"text": alpaca["text"], "prompt_id": [f"mine-{i}" for i in range(len(alpaca))]}
    with pytest.warns(UserWarning, match="auditing unpaired"):  # ids that are not probe prompts
        assert not fp.audit(other_ids, n_bootstrap=20, top_features=0).paired
    # a set of the user's own models in the built-in space answered no probe prompt: unpaired, no error
    refs = references.builtin()
    mine = ReferenceSet([Fingerprint(f"mine-{i}", f.n_texts, f.mean, f.scatter, f.space_id, {})
                         for i, f in enumerate(list(refs)[:5])], refs.space)  # fmt: skip
    with pytest.warns(UserWarning, match="auditing unpaired"):
        assert not fp.audit(alpaca, references=mine, n_bootstrap=20, top_features=0).paired


def test_paired_audit_says_how_many_texts_it_paired(fitted, heldout, corpus):
    """Texts on prompts the references did not answer take no part in a paired audit: it warns, and the
    report says how many were paired, rather than reporting all of them as audited."""
    refs, ref_texts, a = _paired_setup(fitted, heldout, corpus)
    texts, groups = [t for t, _ in a], [p for _, p in a]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all paired: no warning about unpaired texts
        # (the fixture's reference answers hold model-a's own: that warning is tested elsewhere)
        warnings.filterwarnings("ignore", message="paired audit: .* own answers")
        whole = fp.audit(texts, references=refs, groups=groups, reference_texts=ref_texts, n_bootstrap=20)
    assert whole.n_paired == whole.n_texts == len(texts) and "(paired," in str(whole)
    extra = ["An answer to a prompt no reference saw.", "Another one, elsewhere."]
    with pytest.warns(UserWarning, match=rf"{len(texts)} of {len(texts) + 2} texts answer prompts"):
        part = fp.audit([*texts, *extra], references=refs, groups=[*groups, "new-1", "new-2"],
                        reference_texts=ref_texts, n_bootstrap=20)  # fmt: skip
    assert part.n_texts == len(texts) + 2 and part.n_paired == len(texts)
    assert f"paired on {len(texts)} of them" in str(part) and part.to_dict()["n_paired"] == len(texts)
    assert fp.audit(texts, references=refs, n_bootstrap=20).n_paired is None  # unpaired
    solo = {k: [*v, x] for (k, v), x in zip(ref_texts.items(), ["One reference's answer.", "model-a", "solo"],
                                                strict=True)}  # fmt: skip
    with pytest.warns(UserWarning, match="at least 2 references answered"):  # one answer: nothing to vote on
        one = fp.audit([*texts, "My answer to it."], references=refs, groups=[*groups, "solo"], reference_texts=solo,
                       n_bootstrap=20)  # fmt: skip
    assert one.n_paired == len(texts)
    with pytest.raises(ValueError, match="got 10 texts but 1 groups"):
        fp.audit(texts, references=refs, groups=groups[:1], reference_texts=ref_texts)


def test_reference_answers_featurised_once_give_the_same_audit(fitted, heldout, corpus, small_space):
    from fingerprint.setlevel import ReferenceAnswers

    refs, ref_texts, a = _paired_setup(fitted, heldout, corpus)
    kw = {"references": refs, "groups": [p for _, p in a], "n_bootstrap": 50}
    from_texts = fp.audit([t for t, _ in a], reference_texts=ref_texts, **kw)
    answers = ReferenceAnswers(refs, ref_texts)
    assert fp.audit([t for t, _ in a], reference_texts=answers, **kw).to_dict() == from_texts.to_dict()
    other = ReferenceSet(
        [Fingerprint.from_texts(corpus[0][i::3], model=f"m{i}", space=small_space) for i in range(4)], small_space
    )
    with pytest.raises(ValueError, match="another feature space"):
        fp.audit([t for t, _ in a], references=other, groups=[p for _, p in a], reference_texts=answers)


def test_reference_answers_agree_with_the_corpus_on_some_prompts_and_fewer_references(fitted, heldout, corpus):
    """Texts answering only some of the corpus's prompts, against a set without one of its models: answers
    made once and the corpus given directly weigh n-grams (idf) over the same answers, the references'
    answers to every prompt (before, a corpus given directly was weighed over the texts' prompts only: a
    probe found the top candidate changing in 7 of 18 audits)."""
    from fingerprint.setlevel import _reference_answers

    refs, ref_texts, a = _paired_setup(fitted, heldout, corpus)
    more = ReferenceSet(list(refs), refs.space)  # answers made with a fifth reference the audits leave out
    more.add(Fingerprint.from_texts([t.lower() for t in corpus[0][:30]], model="quiet", space=refs.space))
    quiet = {"text": [t.lower() for t in heldout[0][:12]], "model": ["quiet"] * 12, "prompt_id": heldout[2][:12]}
    ref_texts = {k: list(v) + list(quiet[k]) for k, v in ref_texts.items()}
    answers = ReferenceAnswers(more, ref_texts)
    some = a[: max(4, len(a) // 3)]
    assert len({p for _, p in some}) < len(answers.prompts)
    for references in (more, refs):
        assert np.array_equal(_reference_answers(references, answers).idf,
                              _reference_answers(references, ref_texts).idf)  # fmt: skip
        kw = {"references": references, "groups": [p for _, p in some], "n_bootstrap": 50, "top_features": 0}
        direct = fp.audit([t for t, _ in some], reference_texts=ref_texts, **kw)
        assert fp.audit([t for t, _ in some], reference_texts=answers, **kw).to_dict() == direct.to_dict()
    part = answers.restricted(["model-a", "shouty"])
    assert set(part.features) == {"model-a", "shouty"} and part.prompts == answers.prompts
    assert not np.allclose(part.idf, answers.idf)
    assert answers.restricted(more.models) is answers and answers.restricted(["shouty", "model-a"]) is part


def _paired_world(rng, d, k=20, n_prompts=120):
    means = rng.normal(0, TAU, (k, d))
    prompts = list(range(n_prompts))
    effect = {p: rng.normal(0, 1.5, d) for p in prompts}
    raw = {f"m{j}": {p: means[j] + effect[p] + rng.normal(size=d) for p in prompts} for j in range(k)}
    return means, prompts, effect, raw


def _paired_refs(raw, space):
    fps = [
        Fingerprint.from_features(np.stack(list(v.values())), m, space.space_id_, {"family": m}) for m, v in raw.items()
    ]
    return ReferenceSet(fps, space, shrinkage=0.0)


def test_paired_votes_null_is_calibrated(small_space):
    """An unrelated model, audited paired: vote p-values roughly uniform, few false verdicts."""
    rng = np.random.default_rng(5)
    d = small_space.n_features_out_
    pvals, verdicts = [], []
    for _ in range(3):
        _, prompts, effect, raw = _paired_world(rng, d)
        refs, answers = _paired_refs(raw, small_space), _synthetic_answers(raw, small_space.space_id_)
        for _ in range(8):
            mu = rng.normal(0, TAU, d)
            X = np.stack([mu + effect[p] + rng.normal(size=d) for p in prompts])
            r = _run(X, refs, paired=(prompts, answers, answers.weigh(X)), n_bootstrap=20)
            pvals += [c.p_value for c in r.candidates]
            verdicts.append(r.verdict)
    pvals = np.array(pvals)
    assert 0.35 < pvals.mean() < 0.75  # discrete binomial p-values sit a little above uniform
    assert np.mean(pvals < 0.05) < 0.1
    assert np.mean([v is not None for v in verdicts]) <= 0.1


def test_paired_relations_is_and_derived_from(small_space):
    rng = np.random.default_rng(6)
    d = small_space.n_features_out_
    means, prompts, effect, raw = _paired_world(rng, d)
    refs, answers = _paired_refs(raw, small_space), _synthetic_answers(raw, small_space.space_id_)

    def audit_of(mu):
        X = np.stack([mu + effect[p] + rng.normal(size=d) for p in prompts])
        return _run(X, refs, paired=(prompts, answers, answers.weigh(X)))

    same = audit_of(means[7])  # a fresh sample of m7
    assert (same.verdict, same.relation) == ("m7", "is") and same.paired
    tuned = audit_of(means[7] + rng.normal(0, TAU * 0.3, d))  # m7's weights, shifted
    assert (tuned.verdict, tuned.relation) == ("m7", "derived-from")
    assert "relation: derived-from m7" in str(tuned) and "lift" in str(tuned)


def test_report_to_dict_is_strict_json(small_space):
    import json

    rng = np.random.default_rng(7)
    refs, means = _refs(small_space, rng)
    r = _run(means[2] + rng.normal(size=(40, small_space.n_features_out_)), refs, n_bootstrap=20)
    d = r.to_dict()
    assert d["candidates"][0]["vote_share"] is None and d["candidates"][0]["lift"] is None
    assert d["paired"] is False and d["candidates"][0] == r.candidates[0].to_dict()  # --json says the mode
    assert set(d["candidates"][0]) == set(r.to_frame().columns)  # one name per field, dict and frame
    json.dumps(d, allow_nan=False)
    json.dumps(r.nearest.to_dict(), allow_nan=False)


def test_plot_states_the_relation(small_space):
    import matplotlib

    matplotlib.use("Agg")
    from fingerprint.setlevel import plot_similarity

    rng = np.random.default_rng(8)
    refs, means = _refs(small_space, rng)
    r = _run(means[3] + rng.normal(size=(150, small_space.n_features_out_)), refs, n_bootstrap=20)
    ax = plot_similarity(refs, r)
    assert f"<unknown>: {r.relation}" in ax.get_title()
    assert (r.verdict or "") in ax.get_title()
    assert len(ax.get_xticklabels()) == len(refs) + 1


# --- issue 15, finding 4: verdicts valid at every n, on real held-out texts -------------------------

VALIDITY_SIZES = (2, 5, 10, 20)


@pytest.fixture(scope="module")
def builtin_world():
    """The built-in references, their families and the shipped sample (20 held-out dev answers per model)."""
    from fingerprint import references

    refs, sample = references.builtin(), references.load_sample()
    family = dict(zip(refs.to_frame()["model"], refs.to_frame()["family"], strict=True))
    return refs, sample, family


def _false_rates(outcomes):
    """Per n: (share of audits whose verdict names an unrelated model, share of unrelated p < 0.05)."""
    return {n: (np.mean([f for f, _ in v]), np.mean(np.concatenate([p for _, p in v]) < 0.05))
            for n, v in outcomes.items()}  # fmt: skip


@pytest.mark.slow
def test_unpaired_audit_of_held_out_texts_names_no_unrelated_model(builtin_world):
    """A model's own held-out texts, audited with it among the references (the issue's setting): a verdict
    naming a model of another family is a false positive, and so is p < alpha for such a candidate.
    Before the null accounted for the audited set's sampling noise, 2 texts named another model in
    30-40 % of audits, with Holm p down to 1e-17."""
    refs, sample, family = builtin_world
    rng = np.random.default_rng(0)
    outcomes = {n: [] for n in VALIDITY_SIZES}
    for u in refs.models[:: max(1, len(refs) // 25)]:  # about 25 audited models, whatever the set's size
        texts = [t for t, m in zip(sample["text"], sample["model"], strict=True) if m == u]
        for n in VALIDITY_SIZES:
            for _ in range(2):
                pick = [texts[i] for i in rng.choice(len(texts), n, replace=False)]
                r = fp.audit(pick, references=refs, top_features=0, n_bootstrap=20, random_state=int(rng.integers(99)))
                wrong = r.verdict is not None and family[r.verdict] != family[u]
                outcomes[n].append((wrong, np.array([c.p_value for c in r.candidates if family[c.model] != family[u]])))
    for n, (false_verdicts, small_p) in _false_rates(outcomes).items():
        assert false_verdicts <= 0.10, (n, false_verdicts)  # ~50 audits per n; alpha = 0.05 family-wise
        assert small_p <= 0.08, (n, small_p)


@pytest.mark.slow
def test_paired_audit_of_held_out_texts_names_no_unrelated_model(builtin_world):
    """Paired with the other models' answers to the same prompts, the model's own family left out of the
    references: no candidate is related (students' teachers aside, whose verdicts are not counted).
    Before the vote null accounted for the share's noise at n prompts, 2 prompts gave a verdict in half
    of the audits."""
    refs, sample, family = builtin_world
    teacher = refs.to_frame().set_index("model")["teacher"].to_dict()
    answers = ReferenceAnswers(refs, sample)
    rng = np.random.default_rng(1)
    outcomes = {n: [] for n in VALIDITY_SIZES}
    for u in refs.models[:: max(1, len(refs) // 25)]:
        rows = [i for i, m in enumerate(sample["model"]) if m == u]
        others = ReferenceSet([f for f in refs if family[f.model] != family[u]], refs.space)
        related = {teacher[u]} if isinstance(teacher[u], str) else set()
        for n in VALIDITY_SIZES:
            pick = [rows[i] for i in rng.choice(len(rows), n, replace=False)]
            texts, prompts = [sample["text"][i] for i in pick], [sample["prompt_id"][i] for i in pick]
            r = fp.audit(texts, references=others, groups=prompts, reference_texts=answers, top_features=0,
                         n_bootstrap=20, random_state=n)  # fmt: skip
            wrong = r.verdict is not None and r.verdict not in related
            outcomes[n].append((wrong, np.array([c.p_value for c in r.candidates if c.model not in related])))
    for n, (false_verdicts, small_p) in _false_rates(outcomes).items():
        assert false_verdicts <= 0.15, (n, false_verdicts)  # ~25 audits per n
        assert small_p <= 0.10, (n, small_p)


def test_audit_and_attribute_name_families_alike(fitted, heldout, corpus):
    """One family rule: a reference without a ``family`` is its own family, in audits as in attributions."""
    refs, _, a = _paired_setup(fitted, heldout, corpus)  # four references, none with a family
    texts = [t for t, _ in a]
    report = fp.audit(texts, references=refs, n_bootstrap=20, top_features=0)
    assert all(c.family == c.model for c in report.candidates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an uncalibrated set: said once, not the point here
        assert fp.attribute(texts[:2], references=refs, top_features=0)[0].family == report.nearest.family


def test_duplicates_and_untestable_candidates_warn():
    """Probe findings: texts given twice read 'learned-from' instead of 'is' without a word; candidates with
    fewer than 3 references of other families got p = 1 silently, and the report named another model."""
    from fingerprint import references

    sample = references.load_sample()
    texts = [t for t, m in zip(sample["text"], sample["model"], strict=True) if m == "claude-2"]
    refs = references.builtin()
    refs.remove("claude-2")
    with pytest.warns(UserWarning, match="20 of the 40 texts repeat another verbatim"):
        fp.audit(texts * 2, references=refs, n_bootstrap=20)
    small = fp.ReferenceSet([refs[m] for m in ("claude-1", "claude-2.1", "claude-instant-1.2", "gpt-4-0314")],
                            refs.space)  # fmt: skip
    with pytest.warns(UserWarning, match=r"3 of the 4 candidates cannot be tested \(claude-1"):
        fp.audit(texts, references=small, n_bootstrap=20)
    with pytest.raises(TypeError, match="random_state"):
        fp.audit(texts, references=refs, random_state=None)


def test_an_unpaired_candidate_equals_its_pickled_copy():
    """Probe finding: NaN vote_share / lift made an unpaired report unequal to itself after a pickle
    round trip, with another hash."""
    import pickle

    from fingerprint.setlevel import AuditReport, Candidate

    c = Candidate("m", 0.1, 0.5, 0.01, 0.02, 0.3, "fam", float("nan"), float("nan"))
    r = AuditReport(10, 0.05, (c,), None, "none", None, (), (), "no verdict")
    r2 = pickle.loads(pickle.dumps(r))
    assert r2 == r and hash(r2) == hash(r) and r2.candidates[0] == c
    assert c != Candidate("m", 0.1, 0.5, 0.01, 0.02, 0.3, "fam", 0.5, float("nan"))
    assert c != "m"


def test_a_model_added_to_the_builtin_set_makes_probe_audits_unpaired_or_says_what_to_do():
    """Probe finding: after refs.add(my fingerprint), as the references guide shows, every paired probe
    audit failed with "reference_texts has no answers ..." (an option the user never passed), a table
    too; and reference_texts naming none of the references' models blamed the prompt ids."""
    from fingerprint import references

    sample = references.load_sample()
    alpaca = sample.filter(lambda r: r["model"] == "alpaca-7b")
    refs = references.builtin()
    refs.remove("alpaca-7b")
    gemini = sample.filter(lambda r: r["model"] == "gemini-pro")["text"]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="the reference set's calibration")
        refs.add(fp.Fingerprint.from_texts(gemini, model="mine"))
    with pytest.warns(UserWarning, match=r"auditing unpaired: the shipped probe answers have none from \['mine'\]"):
        assert not fp.audit(alpaca, references=refs, n_bootstrap=20, top_features=0).paired
    with pytest.raises(ValueError, match=r"fewer than 2 to these prompts from \['mine'\].*reference_texts= with their"):
        fp.audit(alpaca["text"], references=refs, groups=alpaca["prompt_id"], n_bootstrap=20, top_features=0)
    # a reference that answered one of the prompts only (review finding, 12-07: a bare "fewer than 2 shared
    # prompts with 'gemini-pro'" without a remedy)
    first = alpaca["prompt_id"][0]
    one = [i for i, (m, p) in enumerate(zip(sample["model"], sample["prompt_id"], strict=True))
           if m != "gemini-pro" or p == first]  # fmt: skip
    with pytest.raises(ValueError, match=r"fewer than 2 to these prompts from \['gemini-pro'\].*refs.remove"):
        fp.audit(alpaca["text"], references=references.builtin().remove("alpaca-7b"), groups=alpaca["prompt_id"],
                 reference_texts=sample.select(one), n_bootstrap=20, top_features=0)  # fmt: skip
    renamed = {"text": sample["text"], "model": [m.upper() for m in sample["model"]], "prompt_id": sample["prompt_id"]}
    with pytest.raises(ValueError, match="reference_texts names none of the references' models"):
        fp.audit(alpaca["text"], references=refs, groups=alpaca["prompt_id"], reference_texts=renamed,
                 n_bootstrap=20, top_features=0)  # fmt: skip


def test_texts_needed_draws_from_the_texts_that_take_part():
    """Probe finding: 10 paired texts among 70 read "texts_needed=70" and "70 texts do not tell them apart":
    subsets were drawn from all texts, the 60 unpaired ones diluting them."""
    from fingerprint.setlevel import _texts_needed

    pool = np.arange(60, 70)
    seen = []

    def verdict(idx):
        seen.append(np.asarray(idx))
        return 3 if len(idx) >= 5 else None

    assert _texts_needed(pool, 3, verdict, np.random.default_rng(0)) == 5
    assert all(set(s.tolist()) <= set(pool.tolist()) for s in seen)
    assert _texts_needed(pool, None, verdict, np.random.default_rng(0)) is None


def test_restricted_refuses_one_model_name_as_a_string():
    """Review finding (12-07): restricted("model-a") kept the answers of models named by its characters: none."""
    from fingerprint import references
    from fingerprint.setlevel import ReferenceAnswers

    sample = references.load_sample()
    few = sample.filter(lambda r: r["model"] in ("claude-2", "gpt-4-0314"))
    answers = ReferenceAnswers(references.builtin(), few)
    with pytest.raises(TypeError, match="one str"):
        answers.restricted("claude-2")
    assert set(answers.restricted(["claude-2"]).features) == {"claude-2"}


def test_reprs_name_what_they_show(fitted, heldout):
    """Review finding (12-07): the LDA model and the reference answers printed as <object at 0x...>."""
    from fingerprint.setlevel import ReferenceAnswers

    refs = fitted.references_  # (the audit's repr: test_planted_teacher_is_found_and_told_apart_from_identity)
    assert repr(refs.lda()).startswith(f"LDAModel({len(refs)} models, {refs.space.n_features_out_} features, ")
    answers = ReferenceAnswers(refs, {"text": heldout[0][:4], "model": heldout[1][:4], "prompt_id": ["p", "q"] * 2})
    assert repr(answers).startswith("ReferenceAnswers(4 answers of ") and "to 2 prompts" in repr(answers)


def test_n_bootstrap_has_a_ceiling():
    """Review finding: n_bootstrap=10**9 grew past 4 GB for minutes instead of failing."""
    from fingerprint.setlevel import MAX_BOOTSTRAP

    with pytest.raises(ValueError, match=f"n_bootstrap must be an integer >= 2 and <= {MAX_BOOTSTRAP}"):
        fp.audit(["one text here", "another text"], n_bootstrap=10**9)
