"""The test call through an HTTP CONNECT proxy: a real tunnel on 127.0.0.1 to a TLS server this machine
does not trust. The failure is diagnosed, and the connection to the proxy is closed at once, not left to
the garbage collector."""

from __future__ import annotations

import contextlib
import gc
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from aoai_doctor.redaction import Secret
from aoai_doctor.services import http
from aoai_doctor.services.session import Session
from aoai_doctor.standin.certs import make_tls_material


class TlsServer:
    """Accepts connections and completes TLS with an untrusted certificate, then closes."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.context = context
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                conn.close()


class ConnectProxy:
    """A CONNECT proxy that tunnels to one port and records when each client hangs up."""

    def __init__(self, upstream: int, silent: bool = False) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.upstream = upstream
        self.silent = silent
        """Read the CONNECT and never answer it."""
        self.closed = threading.Event()
        self.tunnels = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.tunnels += 1
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = client.recv(4096)
                if not chunk:
                    return
                request += chunk
            if self.silent:
                while client.recv(4096):
                    pass
                self.closed.set()
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with upstream:
                pump = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
                pump.start()
                self._pump(client, upstream)
            self.closed.set()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(4096):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


@pytest.fixture(params=["untrusted-tls", "silent"])
def proxy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConnectProxy]:
    (tmp_path / "untrusted").mkdir()
    server = TlsServer(make_tls_material(tmp_path / "untrusted").server_context())
    proxy = ConnectProxy(server.port, silent=request.param == "silent")
    yield proxy
    proxy.sock.close()
    server.sock.close()


def test_a_failed_tunnel_is_diagnosed_and_closed(proxy: ConnectProxy, tmp_path: Path) -> None:
    (tmp_path / "trusted").mkdir()
    trusted = make_tls_material(tmp_path / "trusted")
    environ = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}", "REQUESTS_CA_BUNDLE": str(trusted.ca_path)}
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        answer = http.send("POST", "https://contoso.openai.azure.com/openai/x", body=b"{}",
                           credential=("api-key", Secret("canary-key-0123456789")), environ=environ,
                           policy=http.Policy(timeout=0.5))
        gc.collect()
    assert isinstance(answer, http.Failure)
    if proxy.silent:
        assert answer.kind == "proxy" and answer.message.startswith(f"through proxy 127.0.0.1:{proxy.port}")
    else:
        assert answer.kind == "tls"
        assert answer.message.startswith(f"TLS verification failed through proxy 127.0.0.1:{proxy.port}")
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []
    assert proxy.closed.wait(10), "the client never hung up on the proxy"


def test_a_session_keeps_its_tunnel_through_the_proxy(tmp_path: Path) -> None:
    from tests.test_http_session import Counting

    material = make_tls_material(tmp_path, ("contoso.openai.azure.com",))
    upstream = Counting(material)
    proxy = ConnectProxy(upstream.port)
    environ = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}", "REQUESTS_CA_BUNDLE": str(material.ca_path)}
    key = (("api-key", Secret("k" * 32)),)
    try:
        with Session() as session:
            answers = [session.post_json("https://contoso.openai.azure.com/openai/x", {}, key, http.Policy(timeout=5),
                                         environ) for _ in range(3)]
    finally:
        proxy.sock.close()
        upstream.close()
    assert all(isinstance(a, http.Response) and a.status == 200 for a in answers)
    assert [a.reused for a in answers if isinstance(a, http.Response)] == [False, True, True]
    assert {a.address for a in answers if isinstance(a, http.Response)} == {f"via proxy 127.0.0.1:{proxy.port}"}
    assert proxy.tunnels == 1 and upstream.connections == 1
