"""Where the doctor sends a credential: only to Azure OpenAI hosts or --allow-host, never across a
redirect, always over verified TLS. Real HTTPS servers on 127.0.0.1 record what reaches them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main
from aoai_doctor.redaction import Secret
from aoai_doctor.services import http
from aoai_doctor.standin.certs import TlsMaterial, make_tls_material

OK_BODY = json.dumps(
    {
        "id": "x",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "p"}}],
    }
).encode()


class Recorder(ThreadingHTTPServer):
    """An HTTPS server that records every request's headers and answers as told."""

    daemon_threads = True

    def __init__(self, tls: TlsMaterial, redirect_to: str | None = None) -> None:
        self.seen: list[dict[str, str]] = []
        self.redirect_to = redirect_to
        super().__init__(("127.0.0.1", 0), _Handler)
        self.socket = tls.server_context().wrap_socket(self.socket, server_side=True)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.server.redirect_to:
            self.send_response(307)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(OK_BODY)))
        self.end_headers()
        self.wfile.write(OK_BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TlsMaterial:
    material = make_tls_material(tmp_path, ("gateway.example.com", "contoso.openai.azure.com"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(material.ca_path))
    return material


@pytest.fixture
def servers(tls: TlsMaterial) -> Iterator[list[Recorder]]:
    started: list[Recorder] = []
    yield started
    for server in started:
        server.shutdown()


def token_file(tmp_path: Path) -> tuple[Path, str]:
    now = int(time.time())
    value = jwt.encode(
        {
            "aud": "https://cognitiveservices.azure.com",
            "iss": "https://sts.windows.net/t/",
            "tid": "t",
            "oid": "o",
            "appid": "a",
            "idtyp": "app",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
        },
        "test-signing-key-of-enough-length-for-hs256",
        algorithm="HS256",
    )
    path = tmp_path / "token.jwt"
    path.write_text(value)
    return path, value


def doctor(*args: str) -> dict[str, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(
        main,
        ["run", "--select", "AOAI5", "--format", "json", "--deployment", "chat", "--api-version", "2024-10-21", *args],
        catch_exceptions=False,
    )
    return {c["id"]: c for c in json.loads(result.output)["checks"]}


def test_send_refuses_a_credential_for_a_host_outside_the_list(tls: TlsMaterial, servers: list[Recorder]) -> None:
    server = Recorder(tls)
    servers.append(server)
    answer = http.send(
        "POST",
        f"https://127.0.0.1:{server.port}/x",
        body=b"{}",
        credential=("Authorization", Secret("Bearer canary-token-value")),
    )
    assert isinstance(answer, http.Failure) and answer.kind == "refused"
    assert server.seen == []
    allowed = http.send(
        "POST",
        f"https://127.0.0.1:{server.port}/x",
        body=b"{}",
        credential=("Authorization", Secret("Bearer canary-token-value")),
        policy=http.Policy(allow_hosts=frozenset({"127.0.0.1"})),
    )
    assert isinstance(allowed, http.Response) and allowed.status == 200
    assert server.seen[0]["authorization"] == "Bearer canary-token-value"


def test_the_doctor_sends_no_token_to_an_unlisted_host(
    tls: TlsMaterial, servers: list[Recorder], tmp_path: Path
) -> None:
    server = Recorder(tls)
    servers.append(server)
    path, _value = token_file(tmp_path)
    common = (
        "--endpoint",
        f"https://gateway.example.com:{server.port}",
        "--token-file",
        str(path),
        "--resolve",
        f"gateway.example.com:{server.port}:127.0.0.1",
    )
    checks = doctor(*common)
    call = checks["AOAI501"]["findings"][0]
    assert (
        checks["AOAI501"]["status"] == "fail" and "not sending a credential to gateway.example.com" in call["message"]
    )
    assert server.seen == []
    checks = doctor(*common, "--allow-host", "gateway.example.com")
    assert checks["AOAI501"]["status"] == "pass"
    assert len(server.seen) == 1 and server.seen[0]["authorization"].startswith("Bearer ")
    assert server.seen[0]["user-agent"].startswith("aoai-doctor/")
    assert server.seen[0]["x-ms-client-request-id"]


def test_no_credential_crosses_a_redirect(tls: TlsMaterial, servers: list[Recorder], tmp_path: Path) -> None:
    elsewhere = Recorder(tls)
    servers.append(elsewhere)
    redirector = Recorder(tls, redirect_to=f"https://gateway.example.com:{elsewhere.port}/steal")
    servers.append(redirector)
    path, value = token_file(tmp_path)
    checks = doctor(
        "--endpoint",
        f"https://contoso.openai.azure.com:{redirector.port}",
        "--token-file",
        str(path),
        "--resolve",
        f"contoso.openai.azure.com:{redirector.port}:127.0.0.1",
        "--resolve",
        f"gateway.example.com:{elsewhere.port}:127.0.0.1",
        "--allow-host",
        "gateway.example.com",
    )
    finding = checks["AOAI501"]["findings"][0]
    assert finding["cause"] == "endpoint_wrong" and finding["message"].startswith("307: the endpoint redirects")
    assert len(redirector.seen) == 1 and elsewhere.seen == []
    assert value not in json.dumps(checks)


def test_tls_is_verified(tmp_path: Path, servers: list[Recorder], monkeypatch: pytest.MonkeyPatch) -> None:
    """A server whose CA this machine does not trust (as behind a TLS-inspecting proxy) gets nothing."""
    (tmp_path / "proxy").mkdir()
    (tmp_path / "trusted").mkdir()
    server = Recorder(make_tls_material(tmp_path / "proxy"))
    servers.append(server)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(make_tls_material(tmp_path / "trusted").ca_path))
    answer = http.send(
        "POST",
        f"https://contoso.openai.azure.com:{server.port}/x",
        body=b"{}",
        credential=("api-key", Secret("canary-key")),
        policy=http.Policy(resolve={("contoso.openai.azure.com", server.port): "127.0.0.1"}),
    )
    assert isinstance(answer, http.Failure) and answer.kind == "tls"
    assert answer.message == "TLS verification failed: self-signed certificate in certificate chain"
    assert server.seen == []


def test_resolve_values_are_validated() -> None:
    with pytest.raises(http.ResolveError):
        http.parse_resolve(["contoso.openai.azure.com:443"])
    assert http.parse_resolve(["Contoso.openai.azure.com:443:[::1]"]) == {("contoso.openai.azure.com", 443): "::1"}
    result = CliRunner().invoke(main, ["run", "--resolve", "nonsense"])
    assert result.exit_code == 2 and "expected HOST:PORT:ADDRESS" in result.output
