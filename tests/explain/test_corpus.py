"""The engine against the benchmark corpus of real error texts."""

from __future__ import annotations

from aoai_doctor.explainer import Confidence, cause_ids, explain

FORMATS = {
    "python-traceback",
    "http-body",
    "dac-chain",
    "az-cli",
    "dotnet",
    "js",
    "log",
    "java",
    "go",
    "powershell",
}


def test_corpus_is_large_varied_and_well_formed(corpus: list[dict[str, str]]) -> None:
    assert len(corpus) >= 150
    known = set(cause_ids())
    for record in corpus:
        assert set(record) == {"text", "cause", "source", "format", "split"}
        assert record["cause"] in known
        assert record["format"] in FORMATS
        assert record["split"] in ("dev", "holdout")
        assert record["text"].strip() and record["source"].strip()
    assert len({r["format"] for r in corpus}) >= 8
    assert len({r["cause"] for r in corpus}) >= 35
    holdout = sum(r["split"] == "holdout" for r in corpus) / len(corpus)
    assert 0.1 <= holdout <= 0.3


def test_top1_accuracy_and_no_wrong_high_confidence(corpus: list[dict[str, str]]) -> None:
    correct = 0
    wrong_high = []
    for record in corpus:
        best = explain(record["text"]).best
        if best.cause == record["cause"]:
            correct += 1
        elif best.confidence is Confidence.HIGH:
            wrong_high.append((record["source"], record["cause"], best.cause))
    assert correct / len(corpus) >= 0.95
    assert wrong_high == []
