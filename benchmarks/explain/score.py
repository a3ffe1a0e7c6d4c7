"""Score the explain engine on the labelled corpus of real error texts.

Prints top-1 accuracy (all, dev and holdout splits), per-cause confusion, the number of wrong answers
given at high confidence, and mean / max time per text.

    python benchmarks/explain/score.py [--split dev|holdout|all] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aoai_doctor.explainer import Confidence, explain  # noqa: E402

CORPUS = Path(__file__).with_name("corpus.jsonl")


@dataclass(frozen=True)
class Result:
    """Outcome of one corpus text."""

    expected: str
    got: str
    confidence: Confidence
    split: str
    fmt: str
    source: str
    seconds: float

    @property
    def correct(self) -> bool:
        return self.expected == self.got


def load(path: Path = CORPUS) -> list[dict[str, str]]:
    """The corpus records."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run(records: list[dict[str, str]]) -> list[Result]:
    """Explain every record and time it."""
    results = []
    for record in records:
        start = time.perf_counter()
        best = explain(record["text"]).best
        elapsed = time.perf_counter() - start
        results.append(
            Result(
                record["cause"],
                best.cause,
                best.confidence,
                record.get("split", "dev"),
                record.get("format", "?"),
                record.get("source", "?"),
                elapsed,
            )
        )
    return results


def accuracy(results: list[Result]) -> float:
    """Share of texts whose best cause is the expected one."""
    return sum(r.correct for r in results) / len(results) if results else 0.0


def wrong_high(results: list[Result]) -> list[Result]:
    """Wrong answers given at high confidence."""
    return [r for r in results if not r.correct and r.confidence is Confidence.HIGH]


def report(results: list[Result], show_misses: bool) -> str:
    """The printable score report."""
    lines = [f"texts: {len(results)}"]
    for split in ("dev", "holdout"):
        part = [r for r in results if r.split == split]
        lines.append(
            f"top-1 accuracy [{split}]: {accuracy(part):.1%} ({sum(r.correct for r in part)}/{len(part)})"
        )
    lines.append(f"top-1 accuracy [all]: {accuracy(results):.1%}")
    lines.append(f"wrong at high confidence: {len(wrong_high(results))}")
    times = [r.seconds for r in results]
    lines.append(
        f"time per text: mean {sum(times) / len(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
    )
    formats = Counter(r.fmt for r in results)
    lines.append("formats: " + ", ".join(f"{k} {v}" for k, v in formats.most_common()))
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        confusion[r.expected][r.got] += 1
    lines.append("")
    lines.append("per-cause (expected: n, correct, confused with):")
    for cause in sorted(confusion):
        row = confusion[cause]
        total = sum(row.values())
        wrong = ", ".join(f"{got}×{n}" for got, n in row.most_common() if got != cause)
        lines.append(f"  {cause:<30} {total:>3} {row[cause]:>3}  {wrong}")
    if show_misses:
        lines.append("")
        lines.append("misses:")
        for r in results:
            if not r.correct:
                lines.append(
                    f"  [{r.split}] {r.source}: expected {r.expected}, got {r.got} ({r.confidence.value})"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "holdout", "all"), default="all")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    records = load()
    if args.split != "all":
        records = [r for r in records if r.get("split", "dev") == args.split]
    print(report(run(records), args.show_misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
