"""HTTP(S) listeners: ``ThreadingHTTPServer`` with per-connection TLS, fault injection and a request log.

Each :class:`Listener` binds one address and serves one or more sites. With several sites the
``Host`` header picks the site (sealed mode serves Entra, the data plane and ARM on one :443).
The TLS handshake runs in the connection's own thread, so a client that never completes it cannot
stall the accept loop. Answers use HTTP/1.1 and always carry ``Content-Length``, except streamed
(SSE) answers, which use chunked transfer encoding.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aoai_doctor.standin import faults
from aoai_doctor.standin.certs import TlsMaterial
from aoai_doctor.standin.scenario import Fault, FaultKind
from aoai_doctor.standin.wire import HttpRequest, HttpResponse, RecordedRequest, Site, recorded

_LOG = logging.getLogger(__name__)
_HANDSHAKE_TIMEOUT = 10.0
_SLOW_BODY_DEFAULT_MS = 5000


class RequestLog:
    """Thread-safe list of :class:`RecordedRequest`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RecordedRequest] = []

    def add(self, entry: RecordedRequest) -> None:
        """Append ``entry``."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> tuple[RecordedRequest, ...]:
        """Everything recorded so far, oldest first."""
        with self._lock:
            return tuple(self._entries)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    listener: Listener

    def finish_request(self, request: Any, client_address: Any) -> None:
        conn = request
        self.listener.track(conn, True)
        try:
            if self.listener.tls is not None:
                request.settimeout(_HANDSHAKE_TIMEOUT)
                try:
                    conn = self.listener.tls.wrap_socket(request, server_side=True)
                except (OSError, ssl.SSLError):
                    return
                conn.settimeout(None)
                self.listener.track(conn, True)
            _Handler(conn, client_address, self)
        except OSError:
            pass
        finally:
            self.listener.track(conn, False)
            self.listener.track(request, False)
            with contextlib.suppress(OSError):
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        _LOG.debug("stand-in connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle holds the body back until the
    # client's delayed ACK (about 40 ms), which would show up as service latency that is not there.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        listener = self.server.listener
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        host_header = self.headers.get("Host", "")
        scheme = "https" if listener.tls is not None else "http"
        request = HttpRequest(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_ip=self.client_address[0],
            host=host_header.rsplit(":", 1)[0].lower()
            if host_header and not host_header.startswith("[")
            else "",
            base_url=f"{scheme}://{host_header or listener.address_text}",
        )
        site = listener.site_for(request.host)
        if site is None:
            self._send(HttpResponse(404, b"Not Found", (("Content-Type", "text/plain"),)))
            return
        fault = listener.faults.match(site.service, request.path)
        if fault is not None and fault.kind in (FaultKind.HANG, FaultKind.RESET):
            listener.log.add(recorded(site.service, request, None, fault.kind.value, listener.secret_headers))
            if fault.kind is FaultKind.HANG:
                listener.stopping.wait(fault.delay_ms / 1000 if fault.delay_ms else None)
                self.close_connection = True
            else:
                self._reset()
            return
        response = self._respond(site, request, fault)
        listener.log.add(
            recorded(
                site.service, request, response.status, fault.kind.value if fault else None, listener.secret_headers
            )
        )
        self._send(response, fault)

    def _respond(self, site: Site, request: HttpRequest, fault: Fault | None) -> HttpResponse:
        kind = fault.kind if fault else None
        if fault is not None and kind is FaultKind.HTML_ERROR:
            return faults.html_error(fault.status or 502)
        if fault is not None and kind is FaultKind.SERVER_ERROR:
            return faults.server_error(site.service, fault.status or 500)
        if kind is FaultKind.EMPTY_200:
            return faults.empty_200()
        if fault is not None and kind is FaultKind.OVERSIZED:
            return faults.oversized(fault.size_bytes)
        if fault is not None and kind is FaultKind.DELAY:
            self.server.listener.stopping.wait(fault.delay_ms / 1000)
        try:
            response = site.handle(request)
        except Exception:  # a handler bug must not kill the connection silently
            _LOG.exception("stand-in %s handler failed", site.service.value)
            response = HttpResponse.json(
                500, {"error": {"code": "InternalServerError", "message": "stand-in failure"}}
            )
        if kind is FaultKind.TRUNCATED_JSON:
            return faults.truncated(response)
        return response

    def _send(self, response: HttpResponse, fault: Fault | None = None) -> None:
        self.send_response_only(response.status)
        self.send_header("Date", self.date_time_string())
        names = set()
        for name, value in response.headers:
            self.send_header(name, value)
            names.add(name.lower())
        if response.events is not None and (fault is None or fault.kind is not FaultKind.TRUNCATED_JSON):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in response.events:
                self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        self.send_header("Content-Length", str(len(response.body)))
        if "connection" in names:
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault is not None and fault.kind is FaultKind.SLOW_BODY and response.body:
            self._drip(response.body, fault.delay_ms or _SLOW_BODY_DEFAULT_MS)
        else:
            self.wfile.write(response.body)
        self.wfile.flush()

    def _drip(self, body: bytes, total_ms: int) -> None:
        pieces = min(len(body), 10)
        step = max(1, len(body) // pieces)
        pause = total_ms / 1000 / pieces
        for start in range(0, len(body), step):
            self.wfile.write(body[start : start + step])
            self.wfile.flush()
            if self.server.listener.stopping.wait(pause):
                break

    def _reset(self) -> None:
        """Abort the connection with a TCP RST."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


class Listener:
    """One bound address serving one or more sites, optionally over TLS."""

    def __init__(
        self,
        host: str,
        port: int,
        sites: Mapping[str, Site],
        *,
        tls: TlsMaterial | None,
        fault_plan: faults.FaultPlan,
        log: RequestLog,
        stopping: threading.Event,
        secret_headers: frozenset[str] = frozenset(),
    ) -> None:
        """``sites`` maps a host name (or ``"*"`` for any) to the site that answers it; ``secret_headers``
        (lower-case) are redacted in the request log besides the usual ones."""
        self.sites = dict(sites)
        self.secret_headers = secret_headers
        self.tls = tls.server_context() if tls is not None else None
        self.faults = fault_plan
        self.log = log
        self.stopping = stopping
        self._lock = threading.Lock()
        self._open: set[Any] = set()
        self._server = _Server((host, port), _Handler, bind_and_activate=True)
        self._server.listener = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
            name=f"standin-{host}:{self.port}",
        )

    @property
    def host(self) -> str:
        """Bound address."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """Bound port."""
        return int(self._server.server_address[1])

    @property
    def address_text(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"

    def url(self, host: str | None = None) -> str:
        """Base URL for ``host`` (default: the bound address), omitting default ports."""
        scheme = "https" if self.tls is not None else "http"
        name = host or self.host
        default = 443 if self.tls is not None else 80
        return f"{scheme}://{name}" if self.port == default else f"{scheme}://{name}:{self.port}"

    def site_for(self, host: str) -> Site | None:
        """The site answering ``host``."""
        return self.sites.get(host) or self.sites.get("*")

    def track(self, conn: Any, opened: bool) -> None:
        """Remember open connections so :meth:`stop` can unblock their threads."""
        with self._lock:
            if opened:
                self._open.add(conn)
            else:
                self._open.discard(conn)

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close the socket and abort open connections."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=2)
