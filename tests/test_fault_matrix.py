"""The fault matrix of the wire: the real CLI (`run --auth api-key`, AOAI501's test call) against hostile
peers on 127.0.0.1 (tests/hostile_servers.py), one case per fault. Every case must end in a finding with a
cause and a fix, exit 1 (a fault of the peer is a finding, never exit 3 "the check crashed"), no traceback
in the `-v` text or the JSON report, no API key in any output, and within a stated bound.

`[checks.AOAI501] read_timeout = 2` keeps hangs short: a hang ends at the per-read timeout (2 s), a trickle
at the request's total deadline (2 x 2 s); the bound is the deadline plus 6 s of slack for a loaded machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_doctor.azure import calls
from aoai_doctor.cli import main
from aoai_doctor.services import netprobe
from tests import hostile_servers as hs

API_KEY = "hostile-matrix-key-5f0c2a9e7d3b41c8"
READ_TIMEOUT = 2.0
BOUND = 2 * READ_TIMEOUT + 6.0
"""Seconds a case may take: the request's total deadline (twice read_timeout) and slack."""


@dataclass(frozen=True)
class Case:
    cls: str
    """The class of fault, as the module docstring's list counts them."""
    behaviour: hs.Behaviour
    causes: frozenset[str]
    """The causes that describe this fault."""
    via_proxy: bool = False
    deadline: bool = False
    """The run must say it was cut at the total deadline (a trickle), not advise a longer timeout."""


WIRE = frozenset({"connection_failed"})
SLOW = frozenset({"service_unavailable"})
ODD_BODY = frozenset({"proxy_misconfigured", "service_unavailable"})
"""A body that is not JSON (HTML, cut, endless, too deep) reads as a proxy or portal in the path
(aoai_doctor/azure/answers.py), or as the service failing."""
CASES: dict[str, Case] = {
    "status-line-not-http": Case("malformed-http", hs.answer(b"GARBAGE 42 nonsense\r\n\r\n"),
                                 frozenset({"endpoint_wrong"})),
    "banner-plain": Case("banner", hs.banner(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"),
                         frozenset({"endpoint_wrong"})),
    "banner-in-tls": Case("banner", hs.answer(b"220 mail.example.com ESMTP Postfix\r\n"),
                          frozenset({"endpoint_wrong"})),
    "plain-http-on-tls-port": Case("banner", hs.plain_http, frozenset({"endpoint_wrong"})),
    "header-line-over-64k": Case("malformed-http", hs.answer(
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\nContent-Length: 0\r\n\r\n"), SLOW),
    "over-100-headers": Case("malformed-http", hs.answer(
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"Content-Length: 0\r\n\r\n"),
        SLOW),
    "status-code-out-of-range": Case("malformed-http", hs.answer(b"HTTP/1.1 99999 Odd\r\n\r\n"),
                                     frozenset({"endpoint_wrong"})),
    "html-page": Case("html", hs.answer(
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 44\r\n\r\n"
        b"<html><body><h1>502 Bad Gateway</h1></body>\n"), ODD_BODY),
    "truncated-body": Case("truncated-body", hs.answer(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        b"{\"error\": {\"code\": \"Inter"), WIRE),
    "huge-body": Case("huge-body", hs.huge, ODD_BODY),
    "chunked-forever-fast": Case("endless-chunked", hs.chunked_forever(0.0), ODD_BODY),
    "chunked-forever-slow": Case("endless-chunked", hs.chunked_forever(0.5), SLOW, deadline=True),
    "reset-at-accept": Case("reset", hs.reset_at_accept, WIRE),
    "reset-after-tls": Case("reset", hs.reset_after_tls, WIRE),
    "reset-after-headers": Case("reset", hs.reset_after_headers, WIRE),
    "hang-at-accept": Case("hang", hs.hang_at_accept, SLOW),
    "hang-after-tls": Case("hang", hs.hang_after_tls, SLOW),
    "hang-after-headers": Case("hang", hs.hang_after_headers, SLOW),
    "one-byte-a-second": Case("trickle", hs.trickle, SLOW, deadline=True),
    "tls-untrusted-ca": Case("bad-tls", hs.bad_tls(lambda p: p.untrusted), frozenset({"tls_interception"})),
    "tls-wrong-name": Case("bad-tls", hs.bad_tls(lambda p: p.wrong_name), frozenset({"tls_interception"})),
    "tls-client-cert-demanded": Case("bad-tls", hs.bad_tls(lambda p: p.client_cert_required),
                                     frozenset({"tls_interception", "connection_failed"})),
    "tls-garbage-record": Case("bad-tls", hs.garbage_handshake, WIRE),
    "deeply-nested-json": Case("nested-json", hs.answer(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 400001\r\n\r\n"
        + b"[" * 200000 + b"1" + b"]" * 200000), ODD_BODY),
    "proxy-garbage": Case("hostile-proxy", hs.proxy(b"\x00\x01garbage\xff\r\n\r\n"),
                          frozenset({"proxy_misconfigured"}), via_proxy=True),
    "proxy-not-http-banner": Case("hostile-proxy", hs.proxy(b"SSH-2.0-OpenSSH_9.6\r\n"),
                                  frozenset({"proxy_misconfigured"}), via_proxy=True),
    "proxy-hang": Case("hostile-proxy", hs.proxy(None), frozenset({"proxy_misconfigured"}), via_proxy=True),
    "proxy-407": Case("hostile-proxy", hs.proxy(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
                      frozenset({"proxy_misconfigured"}), via_proxy=True),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, hs.Peer, dict[str, hs.Server]]]:
    bundle, peer = hs.contexts(tmp_path_factory.mktemp("hostile"))
    servers = {name: hs.Server(case.behaviour, peer) for name, case in CASES.items()}
    yield bundle, peer, servers
    peer.stop.set()
    for server in servers.values():
        server.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_hostile_peer_ends_in_a_finding(
    name: str, world: tuple[Path, hs.Peer, dict[str, hs.Server]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    bundle, _peer, servers = world
    port = servers[name].port
    endpoint_port = port
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    if case.via_proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        endpoint_port = 443  # never reached: the proxy answers first
    (tmp_path / "checks.toml").write_text(f"[checks.AOAI501]\nread_timeout = {READ_TIMEOUT}\n")
    report = tmp_path / "report.json"
    started = time.monotonic()
    result = CliRunner().invoke(main, [
        "run", "--auth", "api-key", "--endpoint", f"https://{hs.HOST}:{endpoint_port}",
        "--resolve", f"{hs.HOST}:{endpoint_port}:127.0.0.1", "--deployment", "chat", "--api-version", "2024-10-21",
        "--select", "AOAI5", "--checks", str(tmp_path / "checks.toml"), "-v",
        "--format", "text", "--format", f"json={report}",
    ])
    elapsed = time.monotonic() - started
    text = result.output + (result.stderr if result.stderr_bytes else "")
    written = report.read_text() if report.exists() else ""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, text
    assert elapsed < BOUND, f"{name} took {elapsed:.1f} s"
    for output in (text, written):
        assert "Traceback" not in output
        assert API_KEY not in output and API_KEY[:12] not in output
    checks = {c["id"]: c for c in json.loads(written)["checks"]}
    call = checks["AOAI501"]
    assert call["status"] == "fail", call
    first = call["findings"][0]
    assert first["cause"] in case.causes, first
    assert first["fix"], first
    if name == "huge-body":  # the finding says why the body was not read as JSON
        assert "the body was cut at the read limit" in (first["detail"] or ""), first
    if case.deadline:
        assert "total deadline" in first["message"] and "read_timeout will not help" in first["fix"]
    else:
        assert "raise [checks.AOAI501] read_timeout" not in first["fix"] or "no answer within" in first["message"]


@pytest.mark.parametrize("name", ["hang-at-accept", "banner-plain", "tls-garbage-record", "tls-untrusted-ca"])
def test_the_tls_probe_ends_in_an_error_not_an_exception(
    name: str, world: tuple[Path, hs.Peer, dict[str, hs.Server]]
) -> None:
    """AOAI4xx's own handshake (services/netprobe.py) meets the same peers: an error string, in bounded time."""
    bundle, _peer, servers = world
    started = time.monotonic()
    answer = netprobe.handshake(hs.HOST, servers[name].port, "127.0.0.1", {"REQUESTS_CA_BUNDLE": str(bundle)},
                                timeout=0.5)
    assert answer.error and answer.version is None
    assert time.monotonic() - started < 1.0 + 3.0


def test_deep_or_huge_json_is_not_parsed() -> None:
    """An error body nested past MAX_JSON_DEPTH, or larger than MAX_JSON_BYTES, is not JSON to the doctor:
    None, never RecursionError; ordinary bodies (brackets inside strings too) still parse."""
    deep = b'{"error":' * 100_000 + b"1" + b"}" * 100_000
    assert calls.json_depth(deep) == 100_000
    assert calls.parse_body(deep) is None
    assert "nests 100000 levels" in calls.body_unreadable(deep)
    assert calls.parse_body(b'{"a": "' + b"x" * calls.MAX_JSON_BYTES + b'"}') is None
    body = b'{"error": {"code": "x]]]", "message": "a \\" [[[ {{"}}'
    assert calls.json_depth(body) == 2
    assert calls.parse_body(body) == {"error": {"code": "x]]]", "message": 'a " [[[ {{'}}
    wide = b'{"data": [' + b",".join(b'{"i": [%d]}' % n for n in range(200)) + b"]}"  # 401 brackets, 4 deep
    assert calls.body_unreadable(wide) == "" and len(calls.parse_body(wide)["data"]) == 200  # type: ignore[index]
    limit = calls.MAX_JSON_DEPTH
    assert "nests 65 levels" in calls.body_unreadable(b"{" + b'"a":{' * limit + b"}" * (limit + 1))
