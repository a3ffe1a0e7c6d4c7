"""Loopback HTTP servers that answer every request the same way, and remember what they were asked.

``HostileProxy`` stands where a corporate proxy stands (``HTTP_PROXY`` / ``HTTPS_PROXY``) and answers
every request itself: a plain-http request (a proxied ``GET http://host/path``) and a tunnel request
(``CONNECT host:443``) alike get an HTML "Access denied by proxy" 403, or a 407 Proxy Authentication
Required. ``FixedAnswer`` is the same server answering with a given status and JSON body: an identity
endpoint reached directly.
"""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass
from types import TracebackType

DENIED_PAGE = (b"<html><head><title>Access denied</title></head>"
               b"<body><h1>Access denied by proxy</h1></body></html>")
SIGN_IN_PAGE = b"<html><head><title>407 Proxy Authentication Required</title></head><body></body></html>"


@dataclass(frozen=True)
class Asked:
    """One request as the server saw it: the method and the request target (absolute for a proxy)."""

    method: str
    target: str


class FixedAnswer:
    """A threaded HTTP/1.1 server on 127.0.0.1 that answers every request with one status and body."""

    def __init__(self, status: int, reason: str, content_type: str, body: bytes,
                 headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.asked: list[Asked] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                owner.asked.append(Asked(self.command, self.path))
                self.send_response(status, reason)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_CONNECT = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll: shutdown() waits for the loop to look, and the default half second adds up across tests.
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self) -> FixedAnswer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class HostileProxy(FixedAnswer):
    """A proxy that reaches nothing: every request gets its own HTML 403 page (or a 407)."""

    def __init__(self, status: int = 403) -> None:
        if status == 407:
            super().__init__(407, "Proxy Authentication Required", "text/html", SIGN_IN_PAGE,
                             (("Proxy-Authenticate", 'Basic realm="proxy"'),))
        else:
            super().__init__(status, "Forbidden" if status == 403 else "Bad Gateway", "text/html", DENIED_PAGE)


def app_service_without_identity() -> FixedAnswer:
    """An App Service identity endpoint on a host with no such identity: the 400 and text of
    shared/reference/azure-identity-offline.md §1 (App Service, "400 {"statusCode":400,…}")."""
    body = {"statusCode": 400,
            "message": "No Managed Identity found for specified ClientId/ResourceId/PrincipalId."}
    return FixedAnswer(400, "Bad Request", "application/json", json.dumps(body).encode())
