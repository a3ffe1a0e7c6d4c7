"""Connections kept open between requests, as a production client keeps them: what ``--repeat`` sends
on (AOAI601). Each request is :func:`aoai_doctor.services.http.send`'s, policy and measurement included."""

from __future__ import annotations

import select
import socket
import ssl
import threading
from collections.abc import Mapping

from aoai_doctor.services.http import (
    STANDIN_MARKER,
    Credential,
    Failure,
    Kept,
    Policy,
    Response,
    Route,
    ca_file,
    post_json,
    send_on,
    standin_trusted,
)

_DEFAULT_POLICY = Policy()


class Session:
    """Connections kept open between requests, as a production client (one ``AzureOpenAI`` per process)
    keeps them: a request reuses an idle connection to the same host, port, proxy and ``--resolve`` pin,
    else opens one, measured as :func:`send` measures it. Safe to share between threads; at most
    ``maxsize`` idle connections are kept per place (give it the number of threads), more are closed.

    Every guarantee of :func:`send` holds per request: the credential policy, the total deadline (a kept
    connection is cut at it like a new one, and never kept after), the body cap. Only a connection whose
    answer was read to its end, with no ``Connection: close`` and no cut, is kept. An idle connection the
    server has closed is dropped before use; one it closes as the request is sent (before any status
    line) is replaced once by a new connection (:attr:`Response.attempts`).
    """

    def __init__(self, maxsize: int = 1) -> None:
        self.maxsize = max(1, maxsize)
        self.opened = 0
        """Connections opened so far."""
        self._lock = threading.Lock()
        self._idle: dict[Route, list[Kept]] = {}
        self._contexts: dict[str | None, ssl.SSLContext] = {}
        self._trusted: dict[tuple[str, str, str], bool] = {}
        self._closed = False

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        credential: Credential | tuple[Credential, ...] | None = None,
        policy: Policy = _DEFAULT_POLICY,
        stream: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> Response | Failure:
        """As :func:`send`, on a kept connection when there is one."""
        return send_on(method, url, headers, body, credential, policy, stream, environ, self)

    def post_json(
        self,
        url: str,
        body: Mapping[str, object],
        credential: Credential | tuple[Credential, ...] | None,
        policy: Policy,
        environ: Mapping[str, str],
        stream: bool = False,
    ) -> Response | Failure:
        """As :func:`post_json`, on a kept connection when there is one."""
        return post_json(url, body, credential, policy, environ, stream, session=self)

    def close(self) -> None:
        """Close every idle connection; one still in use is closed when its request ends."""
        with self._lock:
            self._closed = True
            idle = [kept for kept_list in self._idle.values() for kept in kept_list]
            self._idle.clear()
        for kept in idle:
            kept.conn.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def context_for(self, env: Mapping[str, str]) -> ssl.SSLContext:
        """The TLS context for the CA bundle ``env`` names, loaded once per bundle."""
        ca = ca_file(env)
        with self._lock:
            context = self._contexts.get(ca)
        if context is None:
            context = ssl.create_default_context(cafile=ca)
            with self._lock:
                context = self._contexts.setdefault(ca, context)
        return context

    def trusts_standin(self, host: str, env: Mapping[str, str]) -> bool:
        """:func:`standin_trusted`, decided once per host, marker and bundle."""
        key = (host, env.get(STANDIN_MARKER, ""), env.get("REQUESTS_CA_BUNDLE", ""))
        with self._lock:
            known = self._trusted.get(key)
        if known is None:
            known = standin_trusted(host, env)
            with self._lock:
                self._trusted[key] = known
        return known

    def checkout(self, route: Route) -> Kept | None:
        """An idle connection to ``route`` the server has not closed, most recently used first."""
        while True:
            with self._lock:
                idle = self._idle.get(route)
                kept = idle.pop() if idle else None
            if kept is None:
                return None
            if kept.conn.sock is not None and not _dropped(kept.conn.sock):
                return kept
            kept.conn.close()

    def checkin(self, route: Route, kept: Kept) -> None:
        with self._lock:
            idle = self._idle.setdefault(route, [])
            if not self._closed and len(idle) < self.maxsize:
                idle.append(kept)
                return
        kept.conn.close()

    def count_open(self) -> None:
        with self._lock:
            self.opened += 1


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the server closed it (or sent what it should not
    have between answers). Either way it cannot carry another request."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])  # pragma: no cover - no poll() on Windows
    except (OSError, ValueError):
        return True
