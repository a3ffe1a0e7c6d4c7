"""What a bad peer can make the standard library raise, read as a failure kind and a message, and the
watchdog that holds a request to its total deadline. Used by :mod:`aoai_doctor.services.http` and
:mod:`aoai_doctor.services.netprobe`; no I/O of its own beyond shutting sockets down."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time

WIRE_ERRORS = (OSError, http.client.HTTPException, ValueError)
"""What a bad peer can make the standard library raise: socket and ssl errors (``OSError``), every
``http.client.HTTPException`` (``BadStatusLine``, ``LineTooLong``, ``IncompleteRead``, ``RemoteDisconnected``,
"got more than 100 headers"), and ``ValueError``/``UnicodeError`` (a host name the idna codec refuses)."""

_PHASES = {
    "dns": "name lookup",
    "connect": "TCP connect",
    "proxy": "proxy CONNECT",
    "tls": "TLS handshake",
    "request": "wait for the answer's status line and headers",
    "body": "answer's body",
}

_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE", "HTTP_REQUEST",
                      "PACKET_LENGTH_TOO_LONG", "UNEXPECTED_RECORD", "RECORD_TOO_LARGE"})
"""OpenSSL reasons (``ssl.SSLError.reason``) for bytes that are not a TLS record at all: the port speaks
something else (plain HTTP, an SSH or SMTP banner)."""


class State:
    """Which phase a request is in, for the failure's message."""

    __slots__ = ("phase",)

    def __init__(self) -> None:
        self.phase = "dns"


class Watchdog:
    """Shuts a request's sockets down at its total deadline, whatever call is blocked on them: a per-read
    timeout never fires for a peer that sends a byte a second."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._cancelled = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> socket.socket:
        """Shut ``sock`` down at the deadline (at once when it has passed)."""
        with self._lock:
            self._socks.append(sock)
            fired = self.fired
        if fired:
            _shut(sock)
        return sock

    def _fire(self) -> None:
        with self._lock:
            if self._cancelled:  # the timer ran out just as the request ended: its sockets may be kept
                return
            self.fired = True
            socks = list(self._socks)
        for sock in socks:
            _shut(sock)

    def cancel(self) -> bool:
        """Stop watching; whether the deadline had fired. After this a late timer shuts nothing down, so
        a socket the request leaves open (kept for the next request) is never cut under another one."""
        self._timer.cancel()
        with self._lock:
            self._cancelled = True
            self._socks.clear()
            return self.fired


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, not SSLSocket's, which drops the TLS object under a blocked read
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def deadline_message(phase: str, deadline: float) -> str:
    """The message of a request cut at its total deadline in ``phase``."""
    return (f"the request was cut at its {deadline:g} s total deadline during the {_PHASES.get(phase, phase)}: "
            "the peer kept the connection open but sent too slowly to finish")


def _short(value: object, limit: int = 80) -> str:
    text = str(value)
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def classify(exc: BaseException, phase: str, timeout: float) -> tuple[str, str]:
    """The failure kind and message a wire error stands for, by what was raised and the phase it was
    raised in (see :class:`aoai_doctor.services.http.Failure` for the kinds)."""
    where = _PHASES.get(phase, phase)
    if isinstance(exc, TimeoutError):
        return "timeout", f"no answer within {timeout:g} s ({where})"
    if isinstance(exc, http.client.IncompleteRead):
        return "reset", f"the answer stopped after {len(exc.partial)} bytes"
    if isinstance(exc, (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        # ConnectionError holds reset, aborted, refused and BrokenPipeError; RemoteDisconnected is one too
        return "reset", f"the connection was closed during the {where}: {exc}"
    if isinstance(exc, http.client.LineTooLong):
        return "malformed", f"the answer has a line longer than http.client's 64 KiB limit ({exc})"
    if isinstance(exc, http.client.BadStatusLine):
        return "protocol", f"the answer does not start with an HTTP status line: {_short(exc)}"
    if isinstance(exc, http.client.HTTPException):
        # "got more than 100 headers", UnknownProtocol, ImproperConnectionState …
        return "malformed", f"the answer is not valid HTTP: {type(exc).__name__}: {_short(exc)}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls", f"TLS verification failed: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        if exc.reason in _NOT_TLS:
            return "protocol", f"the server does not speak TLS on this port ({exc.reason})"
        if phase == "tls":
            return "handshake", f"TLS handshake failed: {exc}"
        return "reset", f"TLS error during the {where}: {exc}"
    if isinstance(exc, UnicodeError):
        return "dns", f"the host name cannot be looked up: {exc}"
    if isinstance(exc, ValueError):
        return "malformed", f"the answer could not be read ({where}): {_short(exc)}"
    return "other", f"{where}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"


def read_stream(answer: http.client.HTTPResponse, t_sent: float, limit: int) -> tuple[bytes, float | None, bool]:
    """Read server-sent events, noting when the first data event arrives: at most ``limit`` bytes kept, and
    whether there was more."""
    chunks: list[bytes] = []
    first: float | None = None
    size = 0
    while size <= limit:
        line = answer.readline(limit + 1 - size)
        if not line:
            break
        chunks.append(line)
        size += len(line)
        if first is None and line.startswith(b"data:") and line.strip() != b"data: [DONE]":
            first = round((time.perf_counter() - t_sent) * 1000, 1)
        if line.strip() == b"data: [DONE]":
            break
    data = b"".join(chunks)
    return data[:limit], first, len(data) > limit
