"""Shared fixtures: offline settings and a small synthetic corpus with known styles."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

# Tests never touch the network (datasets would otherwise ping the hub).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_train"

TOPICS = [
    "bread",
    "rivers",
    "chess",
    "taxes",
    "volcanoes",
    "jazz",
    "python",
    "sleep",
    "gardens",
    "planets",
    "coffee",
    "trains",
    "memory",
    "oceans",
    "poetry",
    "bridges",
    "vaccines",
    "robots",
    "deserts",
    "music",
]
WORDS = [
    "time",
    "people",
    "water",
    "energy",
    "history",
    "practice",
    "system",
    "nature",
    "design",
    "light",
    "change",
    "balance",
    "growth",
    "method",
    "source",
    "value",
    "pattern",
    "signal",
    "effort",
    "detail",
]


def _model_a(rng: random.Random, topic: str) -> str:  # chatty, markdown, em dashes
    items = "\n".join(f"- **{w.title()}**: {rng.choice(WORDS)} matters — a lot." for w in rng.sample(WORDS, 4))
    return (
        f"Certainly! Here is an overview of {topic}:\n\n{items}\n\n"
        "I hope this helps! Let me know if you have questions."
    )


def _model_b(rng: random.Random, topic: str) -> str:  # terse, plain prose
    a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
    return f"{topic.title()} relates to {a} and {b}. It is often studied for its {c}."


def _model_c(rng: random.Random, topic: str) -> str:  # headers, numbered lists, hedges
    steps = "\n".join(f"{i}. Consider the {rng.choice(WORDS)} of {topic}." for i in range(1, 4))
    return (
        f"## Understanding {topic}\n\nAs an AI language model, I don't have personal opinions; however, "
        f"it is important to note the following:\n\n{steps}\n\nIn conclusion, {topic} depends on {rng.choice(WORDS)}."
    )


def make_corpus(n_per_model: int = 30, seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    """Texts, model labels and prompt ids; every model answers every prompt."""
    rng = random.Random(seed)
    texts, models, prompts = [], [], []
    for p in range(n_per_model):
        topic = TOPICS[p % len(TOPICS)] + ("" if p < len(TOPICS) else f" {p}")
        for name, gen in (("model-a", _model_a), ("model-b", _model_b), ("model-c", _model_c)):
            texts.append(gen(rng, topic))
            models.append(name)
            prompts.append(f"p{p:03d}")
    return texts, models, prompts


@pytest.fixture(scope="session")
def corpus() -> tuple[list[str], list[str], list[str]]:
    return make_corpus(30, seed=0)


@pytest.fixture(scope="session")
def heldout() -> tuple[list[str], list[str], list[str]]:
    return make_corpus(10, seed=1)


@pytest.fixture(scope="session")
def small_space(corpus):
    from fingerprint import FeatureSpace

    return FeatureSpace(n_char=300, n_word=150, n_components=16).fit(corpus[0])


@pytest.fixture(scope="session")
def fitted(corpus):
    from fingerprint import FingerprintClassifier

    texts, models, prompts = corpus
    return FingerprintClassifier(n_char=300, n_word=150, n_components=16).fit(texts, models, groups=prompts)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data/alpaca_eval_train is not present")
    return SHARED
