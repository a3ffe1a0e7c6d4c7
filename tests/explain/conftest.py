"""Shared helpers for the explain tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "benchmarks" / "explain" / "corpus.jsonl"


def load_corpus() -> list[dict[str, str]]:
    """The benchmark corpus of real error texts."""
    with CORPUS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def corpus() -> list[dict[str, str]]:
    return load_corpus()
