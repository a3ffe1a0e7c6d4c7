"""Evidence across checks: a root cause moved from the check that saw a symptom to the fact that explains it.

One check sees a symptom ("the federated assertion is not within its valid time range", "403: public
access is disabled", an HTML page instead of an identity endpoint's answer); another check, or a fact the
doctor read, holds the reason (a clock minutes off, DNS that sends the call to a public address, a proxy
in the way). Each rule below is data: a name, what it looks at, and a function from the run's results and
facts to a :class:`Reattribution`, or None. They run after the checks and before the diagnosis
(docs/rules.md lists them). The symptom's finding takes the root cause, the fix and a pointer to the
evidence, so the first failing check carries the root cause; the explaining check shows it too, and the
diagnosis names both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from aoai_doctor.model import CheckResult, Finding, Severity, Status
from aoai_doctor.record import record

T = TypeVar("T")
SKEW_LIMIT_S = 300
"""Entra ID and the service allow about five minutes of clock skew."""


@record
class Reattribution:
    """What a rule concludes: which finding's cause was a symptom, and what explains it."""

    symptom: str
    """The check whose finding showed the symptom."""
    was: str
    """The cause that finding named."""
    cause: str
    message: str
    """The root cause in this run's terms."""
    fix: str
    explained_by: str | None = None
    """The check that holds the evidence (it shows the root cause too)."""


@record
class Run:
    """What the rules may look at: every result, every fact, and this machine's clock."""

    results: Sequence[CheckResult]
    facts: Sequence[object]
    now: float

    def result(self, check_id: str) -> CheckResult | None:
        """The result of one check, if it ran."""
        return next((r for r in self.results if r.check_id == check_id), None)

    def all(self, kind: type[T]) -> list[T]:
        """Every fact of one type."""
        return [f for f in self.facts if isinstance(f, kind)]

    def failing(self, causes: Iterable[str]) -> list[tuple[CheckResult, Finding]]:
        """Failing findings that name one of ``causes``, in pipeline order."""
        wanted = set(causes)
        return [(r, f) for r in self.results for f in r.findings
                if f.severity >= Severity.ERROR and f.cause in wanted]


@record
class Rule:
    """One cross-check: its id, what it says, and the function that applies it."""

    id: str
    summary: str
    applies: Callable[[Run], list[Reattribution]]


# -- clock: Entra's stated time against this machine's ------------------------------------------------

_ENTRA_TIME = r"(?i)(?:Current time|Timestamp):\s*(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})"
_TIME_RANGE = r"(?i)AADSTS700024|not within its valid time range|AADSTS50132|token is not yet valid"


def _clock(run: Run) -> list[Reattribution]:
    out: list[Reattribution] = []
    service_skew = _service_skew(run)
    for result, found in run.failing(("federated_token_expired", "token_expired", "other")):
        text = " ".join(x for x in (found.message, found.detail or "") if x)
        stated = re.search(_ENTRA_TIME, text)
        if not re.search(_TIME_RANGE, text) and not (service_skew and found.cause == "token_expired"):
            continue
        entra = _instant(stated.group(1), stated.group(2)) if stated else None
        if stated and entra is not None:
            skew, against = run.now - entra, f"Entra ID's stated time ({stated.group(1)} {stated.group(2)}Z)"
        elif service_skew:
            skew, against = service_skew, "the service's Date header"
        else:
            continue
        if abs(skew) < SKEW_LIMIT_S:
            continue
        direction = "ahead of" if skew > 0 else "behind"
        out.append(Reattribution(
            result.check_id, found.cause or "other", "clock_skew",
            f"this machine's clock is {abs(skew) / 60:.0f} min {direction} {against}: tokens and assertions look "
            "out of their valid time range", "sync the clock: sudo timedatectl set-ntp true (Windows: w32tm /resync; "
            "containers take the host's clock)", "AOAI303"))
    return out


def _instant(day: str, clock: str) -> float | None:
    """A UTC time from a peer's text, or None when it is not a real time (2024-02-30, 25:61:61)."""
    try:
        return dt.datetime.fromisoformat(f"{day}T{clock}+00:00").timestamp()
    except (ValueError, OverflowError):
        return None


def _service_skew(run: Run) -> float | None:
    from aoai_doctor.facts import CallOutcome

    for call in run.all(CallOutcome):
        if call.server_date is not None:
            skew = call.local_time - call.server_date
            if abs(skew) >= SKEW_LIMIT_S:
                return skew
    return None


# -- name resolution: a 403 from the network rules, while DNS gives a public address ---------------


# Only a resource that closed its public side (it has a private endpoint) is reached "wrongly" by a public
# address; an IP allow-list answers 403 too, and its fix is the client's address, not DNS.
_PUBLIC_CLOSED = r"(?i)public (?:network )?access is disabled|private endpoint"


def _dns(run: Run) -> list[Reattribution]:
    from aoai_doctor.facts import DnsAnswer

    answers = [a for a in run.all(DnsAnswer) if a.addresses and not a.private and not a.pinned]
    if not answers:
        return []
    answer = answers[0]
    return [Reattribution(
        result.check_id, "network_blocked", "dns_failure",
        f"{answer.host} resolves to the public address {answer.addresses[0]} here"
        + (f" (via {answer.canonical})" if answer.canonical and answer.canonical != answer.host else "")
        + ", so the call reaches the resource's public side, which its network rules close",
        f"make {answer.host} resolve to the private endpoint: link the privatelink.openai.azure.com private DNS "
        "zone to this network, or use a DNS server that forwards to Azure DNS (168.63.129.16); test with "
        f"--resolve {answer.host}:443:<private-ip>", "AOAI401")
        for result, finding in run.failing(("network_blocked",))
        if re.search(_PUBLIC_CLOSED, " ".join(x for x in (finding.message, finding.detail or "") if x))]


# -- proxies: an answer that came from a proxy, not from the service it meant -------------------------


def _proxy(run: Run) -> list[Reattribution]:
    network = run.result("AOAI403")
    if network is None:
        return []
    proxied = [f for f in network.findings if f.cause == "proxy_misconfigured" and f.severity >= Severity.ERROR]
    if not proxied:
        return []
    evidence = proxied[0]
    symptoms = ("managed_identity_unavailable", "managed_identity_not_assigned", "connection_failed",
                "service_unavailable", "tls_interception", "other",
                "proxy_misconfigured")  # already the cause: AOAI403 knows the exact host to exclude
    return [Reattribution(result.check_id, found.cause or "other", "proxy_misconfigured", evidence.message,
                          evidence.fix or "check HTTPS_PROXY and NO_PROXY", "AOAI403")
            for result, found in run.failing(symptoms) if result.check_id.startswith("AOAI2")]


# -- TLS: a verification failure that is a protocol version, not interception ---------------------

_PROTOCOL = (r"(?i)unsupported protocol|wrong version number|no protocols available|tlsv1 alert protocol "
             r"version|protocol version")


def _tls(run: Run) -> list[Reattribution]:
    from aoai_doctor.facts import TlsAnswer

    protocol = next((a for a in run.all(TlsAnswer) if a.error and re.search(_PROTOCOL, a.error)), None)
    if protocol is None:
        return []
    return [Reattribution(
        result.check_id, "tls_interception", "connection_failed",
        f"the TLS handshake with {protocol.host} failed on the protocol version ({protocol.error}), not on the "
        "certificate: nothing shows interception", "Azure OpenAI needs TLS 1.2 or later: update OpenSSL/Python, "
        "or the proxy or firewall that downgrades the connection", "AOAI402")
        for result, _found in run.failing(("tls_interception",)) if result.check_id != "AOAI402"]


RULES: tuple[Rule, ...] = (
    Rule("clock", "an Entra ID time-range error, or an expired token, while the local clock is more than 5 "
         "minutes off Entra ID's stated time (or the service's Date header): clock_skew", _clock),
    Rule("dns-public-address", "403 from the resource's network rules while the endpoint resolves to a public "
         "address here: dns_failure (the private endpoint's DNS zone is not used)", _dns),
    Rule("proxy-answered", "a credential source failed, and AOAI403 shows its request went through a proxy that "
         "answered in the service's place: proxy_misconfigured", _proxy),
    Rule("tls-protocol", "a TLS failure read as interception, while the handshake failed on the protocol version: "
         "connection_failed", _tls),
)
"""The cross-check rules, in the order they apply (docs/rules.md)."""


def apply(results: Sequence[CheckResult], facts: Sequence[object], now: float | None = None,
          rules: Sequence[Rule] = RULES) -> tuple[CheckResult, ...]:
    """``results`` with every rule's reattribution applied: the symptom's finding carries the root cause and
    points to its evidence; the explaining check shows the root cause as a failing finding."""
    run = Run(results, facts, time.time() if now is None else now)
    changes = [change for rule in rules for change in rule.applies(run)]
    if not changes:
        return tuple(results)
    out = list(results)
    for change in changes:
        out = [_rewrite(r, change) for r in out]
    return tuple(out)


def _rewrite(result: CheckResult, change: Reattribution) -> CheckResult:
    if result.check_id == change.symptom:
        see = f" (see {change.explained_by})" if change.explained_by else ""
        findings = tuple(
            dataclasses.replace(f, cause=change.cause, fix=change.fix, message=f"{change.message}{see}",
                                detail="; ".join(x for x in (f"what this check saw: {f.message}", f.detail) if x))
            if f.severity >= Severity.ERROR and f.cause == change.was else f
            for f in result.findings)
        return dataclasses.replace(result, findings=findings)
    if result.check_id == change.explained_by and not any(f.cause == change.cause for f in result.findings):
        shown = Finding(Severity.ERROR, change.message, cause=change.cause, fix=change.fix,
                        detail=f"explains what {change.symptom} saw")
        status = Status.FAIL if result.status in (Status.PASS, Status.WARN, Status.SKIP) else result.status
        data: dict[str, Any] = dict(result.data)
        return dataclasses.replace(result, findings=(shown, *result.findings), status=status, data=data,
                                   skip_reason=None if status is Status.FAIL else result.skip_reason)
    return result
