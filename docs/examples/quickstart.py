# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Example notebook: the shipped data, end to end
#
# This page is a [jupytext](https://jupytext.readthedocs.io/) percent-format script,
# `docs/examples/quickstart.py`, **executed when the site is built** (`make docs`; a failing cell
# fails the build). It uses only what ships with the package, offline: the built-in fingerprints
# of 81 LLMs and `sample.jsonl`, 1,620 answers of those models to 20 held-out `dev` prompts that the
# fingerprints never saw (origin and terms: [built-in references](../../guide/references/)).
#
# Open it in Jupyter with `jupytext --to notebook docs/examples/quickstart.py`, or run it as a
# script.

# %%
import os

for k, v in {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0",
             "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}.items():  # fmt: skip
    os.environ.setdefault(k, v)

import tempfile
import time
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by datasets

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

import fingerprint as fp
from fingerprint import references
from fingerprint.setlevel import plot_similarity

pd.set_option("display.width", 140)
pd.set_option("display.max_colwidth", 40)
print("fingerprint", fp.__version__)

# %% [markdown]
# ## The built-in references
#
# One fingerprint per model, with lineage metadata (family, role, documented teacher).

# %%
t0 = time.perf_counter()
refs = references.builtin()
print(f"{refs}\nloaded in {time.perf_counter() - t0:.1f} s")
display(references.info())

# %% [markdown]
# ## Attribute one text
#
# `fp.attribute` without `references=` uses the built-in set. The confidence is a calibrated
# probability *among these 81 models*; the explanation lists the n-grams and style markers that
# pushed the call from the runner-up to the chosen model.

# %%
res = fp.attribute("Certainly! Here is a concise overview of the topic:\n\n- **Point one**\n\nI hope this helps!")
print(res[0])
print(res[0].explain())

# %% [markdown]
# ## Attribute a batch: the held-out sample
#
# Every answer of the sample, attributed at once; `to_frame()` gives one row per text.

# %%
sample = references.load_sample()
t0 = time.perf_counter()
res = fp.attribute(sample["text"], references=refs, top_features=1)
elapsed = time.perf_counter() - t0
df = res.to_frame()
df.insert(0, "true", sample["model"])
acc = float(np.mean(df["true"] == df["model"]))
print(f"{len(df)} texts in {elapsed:.1f} s; per-text top-1 {acc:.1%} (chance {1 / len(refs):.1%})")
display(df[["true", "model", "confidence", "runner_up", "top_feature"]].head(8))

# %% [markdown]
# Single texts carry weak evidence (see [limits](../../limits/)). How well do the confidences
# match the hit rate on these 1,620 texts? A reliability diagram bins texts by confidence:

# %%
conf = df["confidence"].to_numpy()
hit = (df["true"] == df["model"]).to_numpy()
bins = np.linspace(0, 1, 11)
idx = np.clip(np.digitize(conf, bins) - 1, 0, 9)
rows = [(conf[idx == b].mean(), hit[idx == b].mean(), (idx == b).sum()) for b in range(10) if (idx == b).any()]
mean_conf, hit_rate, counts = map(np.array, zip(*rows, strict=True))
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
ax.scatter(mean_conf, hit_rate, s=counts, label="sample texts (size = count)")
ax.set(xlabel="confidence", ylabel="share correct", title="reliability on the shipped sample")
ax.legend(loc="upper left", fontsize=8)
plt.show()
y_idx = np.searchsorted(refs.models, sample["model"])
P = np.array([[dict(r.ranking)[m] for m in refs.models] for r in res])
print(f"ECE {fp.expected_calibration_error(P, y_idx):.3f}, Brier {fp.brier_score(P, y_idx):.3f} "
      f"on {len(df)} texts (20 prompts: a small, noisy sample; the benchmark uses 3,678)")  # fmt: skip

# %% [markdown]
# ## Audit an unknown model
#
# Treat `alpaca-7b` (fine-tuned on `text-davinci-003` outputs) as unknown: remove it and the other
# students and the control from the references, and audit its 20 sample answers. With the
# references' answers to the same prompts available, **paired mode** compares answers prompt by
# prompt. Twenty texts are few; read the p-values with [how to read a verdict](../../limits/#how-to-read-a-verdict).
#
# Removing models keeps the set's calibration (fitted for all 81 models) as an estimate and marks
# it stale; `teachers.calibrate(texts, models)` would refit it, but only on held-out texts other
# than the ones audited here, and the sample has no others.

# %%
teachers = references.builtin()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # the stale-calibration notice: shown by the repr below
    for m in [f.model for f in teachers if f.metadata.get("role") in ("student", "control")]:
        teachers.remove(m)
print(teachers, "| calibration stale:", teachers.calibration_stale)
is_u = np.array(sample["model"]) == "alpaca-7b"
unknown = [t for t, u in zip(sample["text"], is_u, strict=True) if u]
report = fp.audit(
    unknown, references=teachers,
    groups=[p for p, u in zip(sample["prompt_id"], is_u, strict=True) if u],
    reference_texts=sample.filter(lambda r: r["model"] in teachers),
)  # fmt: skip
print(report)

# %% [markdown]
# The model-similarity heatmap: debiased distances among the reference models and the audited
# one (`<unknown>`), ordered by clustering so that families sit together. Bright (yellow) cells are
# close pairs — the diagonal is 0 — and dark cells distant ones.

# %%
ax = plot_similarity(teachers, report)
ax.set_title("model distances (brighter = closer)")  # the default title has the shades the wrong way round
plt.show()

# %% [markdown]
# ## Your own fingerprints: build, merge, save, share
#
# A fingerprint needs only one model's texts and the shared feature space. Here the sample's
# `guanaco-33b` answers stand in for "my model"; two shards merge into exactly the fingerprint of
# all of them.

# %%
mine = [t for t, m in zip(sample["text"], sample["model"], strict=True) if m == "guanaco-33b"]
full = fp.Fingerprint.from_texts(mine, model="my-model", space=teachers.space)
merged = fp.Fingerprint.from_texts(mine[:10], model="my-model", space=teachers.space).merge(
    fp.Fingerprint.from_texts(mine[10:], model="my-model", space=teachers.space)
)
print(full, "| merge exact:", np.allclose(merged.mean, full.mean) and np.allclose(merged.scatter, full.scatter))

teachers.add(full)
with tempfile.TemporaryDirectory() as d:
    teachers.save(d)
    print(sorted(os.listdir(d))[:4], "...")
    again = fp.load_references(d)  # verifies every checksum
    same = [a.model for a in fp.attribute(unknown, references=again, top_features=0)]
    before = [a.model for a in fp.attribute(unknown, references=teachers, top_features=0)]
print("same predictions after save/load:", same == before)
