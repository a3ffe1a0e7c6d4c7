"""One answer for a whole run: the root cause, a sentence in this target's terms, the fix, and the
checks that show it; or, when nothing fails, what worked.

Computed once from the results (by :func:`diagnose`, when the report is built) and read by every
reporter and by the library. The root cause is that of the first check that fails the run, in
pipeline order; the evidence is every check whose findings name the same cause (an optional check
that saw it first included), and the fix is the root check's, else the first of theirs that has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aoai_doctor.model import CheckResult, Diagnosis, Finding, Report, Setting, Severity, Status


def diagnose(results: Sequence[CheckResult], target: Mapping[str, Setting],
             fail_on_warning: bool = False) -> Diagnosis:
    """The diagnosis of a run from its results, in pipeline order."""
    root = next((r for r in results if r.fails_gate(fail_on_warning)), None)
    if root is None:
        return _passed_with_warnings(results) or _ready(results, target)
    problem = _problem(root)
    if problem is None or problem.cause is None:  # a crash, or a check that failed without saying why
        return Diagnosis("other", f"{root.check_id} {root.name}: {root.status.value}", None, (root.check_id,))
    cause = problem.cause
    evidence = [r for r in results if any(f.cause == cause and f.severity >= Severity.WARNING for f in r.findings)]
    evidence.sort(key=lambda r: (r is not root, results.index(r)))
    fix = next((f.fix for r in evidence for f in r.findings  # the root check's own fix first
                if f.cause == cause and f.fix), None)
    return Diagnosis(cause, _sentence(root, problem), fix, tuple(r.check_id for r in evidence))


def diagnosis_of(report: Report, fail_on_warning: bool = False) -> Diagnosis:
    """The report's diagnosis: the one the run made, or, for a report built by hand, computed now."""
    return report.diagnosis or diagnose(report.results, report.target, fail_on_warning)


def told_by(result: CheckResult, diagnosis: Diagnosis) -> bool:
    """Whether this result's problem is told by the diagnosis (its cause, or the warning it names), so
    its line points there instead of saying it again."""
    return (diagnosis.cause or diagnosis.warning) is not None and result.check_id in diagnosis.checks


def _problem(result: CheckResult) -> Finding | None:
    worst = max((f.severity for f in result.findings), default=None)
    return next((f for f in result.findings if f.severity == worst and f.cause), None) if worst else None


def _sentence(root: CheckResult, problem: Finding) -> str:
    text = " ".join(problem.message.split())
    for prefix in ("failed: ", "unavailable: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


def _passed_with_warnings(results: Sequence[CheckResult]) -> Diagnosis | None:
    """Nothing fails the run, but a check warns (or an optional one fails): not "ready" without a word."""
    warned = [r for r in results if r.status is Status.WARN or (not r.required and r.status is Status.FAIL)]
    first = next((f for r in warned for f in r.findings if f.severity >= Severity.WARNING and f.cause), None)
    if first is None:
        return None
    ids = tuple(r.check_id for r in warned)
    return Diagnosis(None, f"passed, with a warning: {first.cause}: {_sentence(warned[0], first)}", first.fix, ids,
                     warning=first.cause)


def _ready(results: Sequence[CheckResult], target: Mapping[str, Setting]) -> Diagnosis:
    by_id = {r.check_id: r for r in results}
    parts: list[str] = []
    endpoint = target.get("endpoint")
    deployment = target.get("deployment")
    if deployment and endpoint:
        parts.append(f"{deployment.value.split(' (')[0]} on {_host(endpoint.value)}")
    elif endpoint:
        parts.append(_host(endpoint.value))
    shown = []
    chain = by_id.get("AOAI210")
    if chain is not None and chain.status is Status.PASS and chain.data.get("winner"):
        identity = chain.data.get("identity") or {}
        who = identity.get("user") or (f"app {identity['app_id']}" if identity.get("app_id") else None)
        parts.append(f"token from {chain.data['winner']}" + (f" for {who}" if who else ""))
        shown.append("AOAI210")
    call = by_id.get("AOAI501")
    if call is not None and call.status in (Status.PASS, Status.WARN):
        calls = call.data.get("calls") if isinstance(call.data.get("calls"), list) else []
        first = calls[0] if calls else call.data
        status = first.get("status") if isinstance(first, dict) else None
        total = (first.get("timings_ms") or {}).get("total") if isinstance(first, dict) else None
        if status:
            parts.append(f"the test call answered {status}" + (f" in {total:.0f} ms" if total else ""))
        shown.append("AOAI501")
    elif call is not None and call.status is Status.SKIP:
        parts.append("no test call made")
    summary = "ready: " + "; ".join(parts) if parts else "ready: every check that ran passed"
    return Diagnosis(None, summary, None, tuple(shown))


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0]
