"""Each cross-check rule (aoai_doctor/crosscheck.py) on the results and facts of a run, built as the checks
build them: the symptom's finding takes the root cause and points at its evidence, the explaining check
shows it, and a run without the evidence is left alone. The proxy rule also runs end to end in
tests/test_probe_path.py."""

from __future__ import annotations

import time

from aoai_doctor import crosscheck
from aoai_doctor.diagnosis import diagnose
from aoai_doctor.facts import CallOutcome, DnsAnswer, TlsAnswer
from aoai_doctor.model import CheckResult, Finding, Severity, Status
from aoai_doctor.services.http import Timings

NOW = time.time()


def result(check_id: str, *findings: Finding, status: Status = Status.FAIL) -> CheckResult:
    return CheckResult(check_id, check_id.lower(), "", status, 1.0, findings)


def error(cause: str, message: str) -> Finding:
    return Finding(Severity.ERROR, message, cause=cause, fix="the symptom's own fix")


# azure-identity's WorkloadIdentityCredential text for AADSTS700024, as Entra words it (Current time is Entra's).
ASSERTION_RANGE = ("WorkloadIdentityCredential: ClientAuthenticationError: AADSTS700024: Client assertion is not "
                   "within its valid time range. Current time: {now}, assertion valid from 2026-11-30T03:00:00Z, "
                   "expiry time of assertion 2026-11-30T04:00:00Z.")


def _entra_time(offset: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(NOW + offset))


def test_clock_a_time_range_error_with_the_clock_off_is_clock_skew() -> None:
    symptom = result("AOAI202", error("federated_token_expired", ASSERTION_RANGE.format(now=_entra_time(-900))))
    out = crosscheck.apply([symptom, result("AOAI303", status=Status.PASS)], [], now=NOW)
    assert out[0].findings[0].cause == "clock_skew" and "15 min ahead of Entra ID" in out[0].findings[0].message
    assert out[1].status is Status.FAIL and out[1].findings[0].cause == "clock_skew"
    assert diagnose(out, {}).cause == "clock_skew"


def test_clock_a_time_range_error_with_a_good_clock_stays_federated_token_expired() -> None:
    symptom = result("AOAI202", error("federated_token_expired", ASSERTION_RANGE.format(now=_entra_time(-20))))
    out = crosscheck.apply([symptom], [], now=NOW)
    assert out[0].findings[0].cause == "federated_token_expired"


def test_clock_an_expired_token_while_the_service_date_is_far_off_is_clock_skew() -> None:
    call = CallOutcome("chat", "chat", "https://r.openai.azure.com/x", 401, None, {}, Timings(), NOW, NOW + 600, "id")
    out = crosscheck.apply([result("AOAI303", error("token_expired", "the token expired 2 min ago"))], [call], now=NOW)
    assert out[0].findings[0].cause == "clock_skew" and "behind the service's Date header" in out[0].findings[0].message


def test_dns_a_403_from_network_rules_with_a_public_address_is_dns() -> None:
    dns = DnsAnswer("r.openai.azure.com", "r.privatelink.openai.azure.com", ("r.privatelink.openai.azure.com",),
                    ("20.42.73.1",), 3.0)
    call = result("AOAI501", error("network_blocked", "403: Public access is disabled. Please configure private "
                                                      "endpoint."))
    out = crosscheck.apply([result("AOAI401", status=Status.PASS), call], [dns], now=NOW)
    assert out[1].findings[0].cause == "dns_failure" and "public address 20.42.73.1" in out[1].findings[0].message
    assert out[0].status is Status.FAIL and diagnose(out, {}).cause == "dns_failure"
    private = DnsAnswer("r.openai.azure.com", None, (), ("10.0.0.5",), 3.0)
    assert crosscheck.apply([call], [private], now=NOW)[0].findings[0].cause == "network_blocked"


def test_proxy_a_source_failure_while_aoai403_names_the_proxy() -> None:
    proxy = Finding(Severity.ERROR, "ManagedIdentityCredential: an HTML page came back through the proxy",
                    cause="proxy_misconfigured", fix="export NO_PROXY=169.254.169.254,$NO_PROXY")
    source = result("AOAI203", error("managed_identity_unavailable", "unavailable: no response"))
    out = crosscheck.apply([source, result("AOAI403", proxy)], [], now=NOW)
    assert out[0].findings[0].cause == "proxy_misconfigured" and out[0].findings[0].fix == proxy.fix
    assert crosscheck.apply([source, result("AOAI403", status=Status.PASS)], [], now=NOW)[0] == source


def test_tls_a_protocol_version_failure_is_not_interception() -> None:
    tls = TlsAnswer("r.openai.azure.com", 443, "20.42.73.1", error="[SSL: UNSUPPORTED_PROTOCOL] unsupported "
                    "protocol (_ssl.c:1006)")
    call = result("AOAI501", error("tls_interception", "chat: TLS verification failed"))
    out = crosscheck.apply([result("AOAI402", status=Status.PASS), call], [tls], now=NOW)
    assert out[1].findings[0].cause == "connection_failed" and "protocol version" in out[1].findings[0].message
    interception = TlsAnswer("r.openai.azure.com", 443, "20.42.73.1", issuer="Contoso Inspection CA",
                             error="certificate verify failed: self-signed certificate in certificate chain")
    assert crosscheck.apply([call], [interception], now=NOW)[0] == call


def test_every_rule_is_documented() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in crosscheck.RULES:
        assert f"`{rule.id}`" in page, rule.id


def test_a_peer_stated_time_that_is_no_time_is_ignored() -> None:
    text = ASSERTION_RANGE.format(now="2024-02-30T10:00:00.0000000Z")
    symptom = result("AOAI202", error("federated_token_expired", text))
    assert crosscheck.apply([symptom], [], now=NOW)[0] == symptom


def test_dns_an_ip_allow_list_403_stays_network_blocked() -> None:
    dns = DnsAnswer("r.openai.azure.com", None, (), ("20.42.73.1",), 3.0)
    call = result("AOAI501", error("network_blocked", "403: Access denied due to Virtual Network/Firewall rules."))
    assert crosscheck.apply([call], [dns], now=NOW)[0] == call
