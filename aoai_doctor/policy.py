"""Gate policies applied to results before they are reported: what a flaky network means, and what
fails the run."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from aoai_doctor.model import CheckResult, Severity, Status

# Causes a flaky runner network can produce on its own.
NETWORK_CAUSES = frozenset({"dns_failure", "connection_failed", "proxy_misconfigured", "service_unavailable"})


def soften_network_errors(results: Sequence[CheckResult]) -> tuple[CheckResult, ...]:
    """``--network-errors warn``: a check whose every error is a network cause warns instead of failing."""
    out: list[CheckResult] = []
    for result in results:
        errors = [f for f in result.findings if f.severity >= Severity.ERROR]
        if result.status is Status.FAIL and errors and all(f.cause in NETWORK_CAUSES for f in errors):
            findings = tuple(
                dataclasses.replace(f, severity=Severity.WARNING, message=f"{f.message} (--network-errors warn)")
                if f in errors else f
                for f in result.findings
            )
            out.append(dataclasses.replace(result, status=Status.WARN, findings=findings))
        else:
            out.append(result)
    return tuple(out)


def exit_code(results: Sequence[CheckResult], fail_on_warning: bool) -> int:
    """0 every required check passed; 1 a required check failed (or warned, with ``--fail-on warning``);
    3 a required check crashed and none failed."""
    failing = [r for r in results if r.fails_gate(fail_on_warning)]
    if any(r.status in (Status.FAIL, Status.WARN) for r in failing):
        return 1
    if failing:
        return 3
    return 0

