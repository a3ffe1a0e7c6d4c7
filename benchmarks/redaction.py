"""Known-secret masking time against the size of the secret.

Builds a typical report (a dozen checks with findings, fixes, details and data, about 20 KB of text) and
redacts it with a known secret of 1 KB, 256 KB and 20 MB, and with no known secret as the anchor. Runs
are interleaved in one process (anchor, 1 KB, 256 KB, 20 MB, anchor, ...) and the median of each is
printed as a ratio to the anchor, with the absolute 20 MB time (the target is under 1 s). Every timing
starts with no index cached, as a run's first report does: what indexing costs is in the figure.

    python benchmarks/redaction.py [--rounds N]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time

from aoai_doctor.model import CheckResult, Finding, Report, Setting, Severity, Status
from aoai_doctor.redaction import redact_report
from aoai_doctor.secret_slices import _index

SIZES = {"1 KB": 1024, "256 KB": 256 * 1024, "20 MB": 20 * 1024 * 1024}


def typical_report(secret: str) -> Report:
    """Twelve checks; three of them quote a piece of the secret, as a failing call would."""
    results = []
    for n in range(12):
        leak = secret[n * 97 : n * 97 + 48] if secret and n % 4 == 0 else ""
        findings = tuple(
            Finding(Severity.ERROR if k == 0 else Severity.INFO, f"check {n} finding {k}: the call answered 401 {leak}",
                    cause="token_audience_mismatch", fix=f"az role assignment create --assignee {n} --role x",
                    detail=f"response body: {{'error': {{'code': 'PermissionDenied', 'message': '{'x' * 600}'}}}}")
            for k in range(2)
        )
        results.append(CheckResult(f"AOAI{500 + n}", f"check-{n}", "s", Status.FAIL, 1.0, findings,
                                   data={"request_id": f"req-{n}", "headers": [f"x-ms-{n}: value {leak}"] * 4}))
    target = {"endpoint": Setting("https://contoso.openai.azure.com", "env AZURE_OPENAI_ENDPOINT")}
    return Report("bench", target, tuple(results), "t", 1.0)


def timed(report: Report, known: tuple[str, ...]) -> float:
    _index.cache_clear()
    start = time.perf_counter()
    redact_report(report, "standard", known)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    cases: dict[str, tuple[Report, tuple[str, ...]]] = {"anchor": (typical_report(""), ())}
    for label, size in SIZES.items():
        secret = secrets.token_urlsafe(size)[:size]
        cases[label] = (typical_report(secret), (secret,))
    times: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(args.rounds):
        for label, (report, known) in cases.items():
            times[label].append(timed(report, known))
    anchor = statistics.median(times["anchor"])
    print(f"anchor (no known secret): {anchor * 1000:8.2f} ms  ({args.rounds} interleaved rounds, median)")
    for label in SIZES:
        median = statistics.median(times[label])
        print(f"secret {label:>6}:            {median * 1000:8.2f} ms  {median / anchor:6.2f}x anchor")
    worst = statistics.median(times["20 MB"])
    print(f"20 MB secret: {worst:.3f} s for a report, indexing included "
          f"({'under' if worst < 1 else 'OVER'} the 1 s target)")


if __name__ == "__main__":
    main()
