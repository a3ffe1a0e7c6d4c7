"""Kept connections: ``--repeat`` reuses connections as a production client does, and each request on a
kept connection is held to the same policy as a new one. A real HTTPS server on 127.0.0.1 counts the
connections it accepts and misbehaves on the request it is told to."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main
from aoai_doctor.redaction import Secret
from aoai_doctor.services import http
from aoai_doctor.services.session import Session
from aoai_doctor.services.wire import Watchdog
from aoai_doctor.standin.certs import TlsMaterial, make_tls_material
from tests.test_http_policy import OK_BODY, token_file

HOST = "contoso.openai.azure.com"
KEY = ("api-key", Secret("canary-key-0123456789abcdef"))


class Counting(ThreadingHTTPServer):
    """An HTTPS server that keeps connections alive, counts them, and on the n-th request of a connection
    (``at``) does what ``mode`` says: ``close`` (answer, then close without saying so), ``drop`` (read the
    request, close without an answer), ``trickle`` (answer a byte every 50 ms), ``huge`` (a body over the
    doctor's cap), ``goodbye`` (answer with ``Connection: close``)."""

    daemon_threads = True

    def __init__(self, tls: TlsMaterial, mode: str = "", at: int = 0) -> None:
        self.mode, self.at = mode, at
        self.ca = str(tls.ca_path)
        self.connections = 0
        self.received = 0
        self.answered = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)
        self.socket = tls.server_context().wrap_socket(self.socket, server_side=True)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)

    def close(self) -> None:
        self.stop.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Counting
    served = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.served += 1
        server = self.server
        with server.lock:
            server.received += 1
        mode = server.mode if self.served == server.at else ""
        if mode == "drop":
            self.close_connection = True
            return
        body = b"x" * (http.MAX_BODY + 4096) if mode == "huge" else OK_BODY
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if mode == "goodbye":
            self.send_header("Connection", "close")
        self.end_headers()
        with server.lock:  # counted before the body goes out: the client may be done as soon as it has it
            server.answered += 1
        if mode == "trickle":
            for byte in body:
                if server.stop.wait(0.05):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        else:
            self.wfile.write(body)
        if mode in ("close", "goodbye"):
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    return make_tls_material(tmp_path_factory.mktemp("tls"), (HOST,))


@pytest.fixture
def tls(material: TlsMaterial, monkeypatch: pytest.MonkeyPatch) -> TlsMaterial:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(material.ca_path))
    return material


@pytest.fixture
def servers(tls: TlsMaterial) -> Iterator[list[Counting]]:
    started: list[Counting] = []
    yield started
    for server in started:
        server.close()


def serve(tls: TlsMaterial, servers: list[Counting], mode: str = "", at: int = 0) -> Counting:
    server = Counting(tls, mode, at)
    servers.append(server)
    return server


def call(session: Session, server: Counting, timeout: float = 5.0) -> http.Response | http.Failure:
    return session.post_json(f"https://{HOST}:{server.port}/openai/x", {"ping": 1}, (KEY,),
                             http.Policy(resolve={(HOST, server.port): "127.0.0.1"}, timeout=timeout),
                             {"REQUESTS_CA_BUNDLE": server.ca})


def repeat_run(server: Counting, tmp_path: Path, repeat: int, concurrency: int) -> dict[str, Any]:
    path, _value = token_file(tmp_path)
    result = CliRunner().invoke(
        main,
        ["run", "--select", "AOAI6", "--ignore", "AOAI2", "--format", "json", "-v", "--deployment", "chat",
         "--api-version", "2024-10-21", "--endpoint", f"https://{HOST}:{server.port}",
         "--resolve", f"{HOST}:{server.port}:127.0.0.1",
         "--token-file", str(path), "--repeat", str(repeat), "--concurrency", str(concurrency)],
        catch_exceptions=False,
    )
    checks = {c["id"]: c for c in json.loads(result.output)["checks"]}
    return checks["AOAI601"]  # type: ignore[no-any-return]


def test_repeated_calls_reuse_at_most_one_connection_per_worker(
    tls: TlsMaterial, servers: list[Counting], tmp_path: Path
) -> None:
    server = serve(tls, servers)
    latency = repeat_run(server, tmp_path, repeat=24, concurrency=4)
    messages = [f["message"] for f in latency["findings"]]
    # the test call's phases are measured on its own new connection, as before
    assert re.fullmatch(r"chat: total \d+ ms \(DNS \d+ ms, connect \d+ ms, TLS \d+ ms, first byte \d+ ms\); token .+",
                        messages[0])
    assert re.fullmatch(r"24 more calls at concurrency 4: p50 \d+ ms, p95 \d+ ms, max \d+ ms, 0 errors", messages[1])
    assert latency["data"]["billable_calls"] == 24
    assert server.answered == 25
    assert server.connections <= 4 + 1
    assert latency["findings"][1]["detail"] == f"{server.connections - 1} connections for 24 calls, kept open"


def test_a_connection_the_server_closes_mid_run_is_replaced(
    tls: TlsMaterial, servers: list[Counting], tmp_path: Path
) -> None:
    server = serve(tls, servers, "close", at=3)  # every connection ends, unannounced, after its third answer
    latency = repeat_run(server, tmp_path, repeat=12, concurrency=2)
    assert re.fullmatch(r"12 more calls at concurrency 2: p50 \d+ ms, p95 \d+ ms, max \d+ ms, 0 errors",
                        latency["findings"][1]["message"])
    assert server.answered == 13
    assert server.connections >= 13 // 3 + 1  # none carried a fourth request


def test_a_kept_connection_closed_as_the_request_goes_out_is_replaced_once(
    tls: TlsMaterial, servers: list[Counting]
) -> None:
    server = serve(tls, servers, "drop", at=2)
    with Session() as session:
        first = call(session, server)
        second = call(session, server)
    assert isinstance(first, http.Response) and first.status == 200 and not first.reused
    assert first.timings.connect_ms is not None and first.timings.tls_ms is not None
    assert isinstance(second, http.Response) and second.status == 200
    assert second.attempts == 2 and not second.reused and second.timings.tls_ms is not None
    assert (server.connections, server.received, server.answered, session.opened) == (2, 3, 2, 2)


def test_a_kept_connection_carries_the_next_request_without_connect_or_tls(
    tls: TlsMaterial, servers: list[Counting]
) -> None:
    server = serve(tls, servers)
    with Session() as session:
        answers = [call(session, server) for _ in range(3)]
    assert all(isinstance(a, http.Response) and a.status == 200 for a in answers)
    kept = answers[2]
    assert isinstance(kept, http.Response) and kept.reused and kept.attempts == 1
    assert (kept.timings.dns_ms, kept.timings.connect_ms, kept.timings.tls_ms) == (None, None, None)
    assert kept.tls_version and kept.address == "127.0.0.1"
    assert server.connections == 1 and session.opened == 1


@pytest.mark.parametrize("mode", ["huge", "goodbye"])
def test_a_connection_is_not_kept_after_a_capped_body_or_connection_close(
    tls: TlsMaterial, servers: list[Counting], mode: str
) -> None:
    server = serve(tls, servers, mode, at=1)
    with Session() as session:
        first = call(session, server)
        second = call(session, server)
    assert isinstance(first, http.Response) and first.truncated == (mode == "huge")
    assert isinstance(second, http.Response) and second.status == 200 and not second.reused
    assert server.connections == 2


def test_the_total_deadline_cuts_a_request_on_a_kept_connection(tls: TlsMaterial, servers: list[Counting]) -> None:
    server = serve(tls, servers, "trickle", at=2)  # a byte every 50 ms: the 0.2 s per-read timeout never fires
    with Session() as session:
        call(session, server, timeout=0.2)
        cut = call(session, server, timeout=0.2)
        after = call(session, server, timeout=0.2)
    assert isinstance(cut, http.Failure) and cut.kind == "timeout" and cut.deadline
    assert isinstance(after, http.Response) and after.status == 200 and not after.reused
    assert server.connections == 2


def test_a_session_refuses_a_credential_for_a_host_outside_the_list(
    tls: TlsMaterial, servers: list[Counting]
) -> None:
    server = serve(tls, servers)
    with Session() as session:
        answer = session.post_json(f"https://127.0.0.1:{server.port}/x", {}, (KEY,), http.Policy(),
                                   {"REQUESTS_CA_BUNDLE": server.ca})
    assert isinstance(answer, http.Failure) and answer.kind == "refused"
    assert server.connections == 0


def test_a_watchdog_cancelled_before_its_timer_runs_shuts_nothing_down() -> None:
    left, right = socket.socketpair()
    with left, right:
        watchdog = Watchdog(60)
        watchdog.watch(left)
        assert watchdog.cancel() is False
        watchdog.fire()  # the deadline coming late, just after the request ended
        left.sendall(b"still open")
        assert right.recv(64) == b"still open" and not watchdog.fired


def test_watchdogs_fire_in_deadline_order_from_one_thread_and_cancelled_ones_do_not() -> None:
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        threads = threading.active_count()
        late, cancelled, early = (Watchdog(seconds) for seconds in (0.6, 0.3, 0.15))
        for watchdog, (left, _right) in zip((late, cancelled, early), pairs, strict=True):
            left.settimeout(5)  # a watchdog that never fires fails the test, not hangs it
            watchdog.watch(left)
        cancelled.cancel()
        assert threading.active_count() <= threads + 1  # one thread for every deadline, started at most once
        started = time.monotonic()
        assert pairs[2][0].recv(8) == b""  # early's socket shut down at its deadline, the others still open
        assert 0.1 <= time.monotonic() - started < 0.5 and early.fired and not late.fired
        assert pairs[0][0].recv(8) == b"" and late.fired
        assert not cancelled.fired
        pairs[1][0].sendall(b"open")
        assert pairs[1][1].recv(8) == b"open"
    finally:
        for left, right in pairs:
            left.close()
            right.close()
