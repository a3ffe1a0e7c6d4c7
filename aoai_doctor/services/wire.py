"""What a bad peer can make the standard library raise, read as a failure kind and a message, the
watchdog that holds a request to its total deadline, and the measured opening of a connection (DNS or a
``--resolve`` pin, TCP connect or a proxy's CONNECT, TLS). Used by :mod:`aoai_doctor.services.http` and
:mod:`aoai_doctor.services.netprobe`."""

from __future__ import annotations

import base64
import contextlib
import heapq
import http.client
import itertools
import os
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import unquote, urlsplit

from aoai_doctor.record import record

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
        _DEADLINES.add(time.monotonic() + seconds, self)

    def watch(self, sock: socket.socket) -> socket.socket:
        """Shut ``sock`` down at the deadline (at once when it has passed)."""
        with self._lock:
            self._socks.append(sock)
            fired = self.fired
        if fired:
            _shut(sock)
        return sock

    def fire(self) -> None:
        """The deadline has come: shut the watched sockets down, unless the request has ended."""
        with self._lock:
            if self._cancelled:  # the deadline came just as the request ended: its sockets may be kept
                return
            self.fired = True
            socks = list(self._socks)
        for sock in socks:
            _shut(sock)

    @property
    def cancelled(self) -> bool:
        """Whether the request has ended (the watchdog need not fire)."""
        return self._cancelled

    def cancel(self) -> bool:
        """Stop watching; whether the deadline had fired. After this a late deadline shuts nothing down, so
        a socket the request leaves open (kept for the next request) is never cut under another one."""
        with self._lock:
            self._cancelled = True
            self._socks.clear()
            return self.fired


class _Deadlines:
    """One thread that fires every watchdog at its deadline (a timer thread started for each request cost
    0.3 ms of CPU, more than a kept connection's whole request). Started on first use; a cancelled watchdog
    is dropped when it reaches the front or its time comes."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Start afresh: also in a forked child, where the parent's thread is not and its lock may have been
        held at the fork."""
        self._wake = threading.Condition(threading.Lock())
        self._due: list[tuple[float, int, Watchdog]] = []  # a heap: the earliest deadline first
        self._order = itertools.count()  # ties broken by arrival, never by comparing watchdogs
        self._thread: threading.Thread | None = None

    def add(self, when: float, watchdog: Watchdog) -> None:
        with self._wake:
            heapq.heappush(self._due, (when, next(self._order), watchdog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="aoai-doctor-deadlines", daemon=True)
                self._thread.start()
            elif self._due[0][2] is watchdog:  # a new earliest deadline: wait for it instead
                self._wake.notify()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while True:
                    while self._due and self._due[0][2].cancelled:
                        heapq.heappop(self._due)
                    now = time.monotonic()
                    if self._due and self._due[0][0] <= now:
                        watchdog = heapq.heappop(self._due)[2]
                        break
                    self._wake.wait(self._due[0][0] - now if self._due else None)
            watchdog.fire()


_DEADLINES = _Deadlines()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_DEADLINES.forget)


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


class WirePolicy(Protocol):
    """What opening a connection needs of :class:`aoai_doctor.services.http.Policy`."""

    @property
    def timeout(self) -> float: ...

    @property
    def deadline(self) -> float: ...

    @property
    def resolve(self) -> Mapping[tuple[str, int], str]: ...


@record
class Timings:
    """Milliseconds spent in each phase; None where the phase did not happen (a proxy hides TCP/TLS)."""

    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    """From sending the request to the response's status line and headers."""
    first_event_ms: float | None = None
    """For a stream: from sending the request to the first data event (time to first token)."""
    total_ms: float | None = None


class Stop(Exception):
    """A phase ended without an HTTP answer; becomes a :class:`Failure`."""

    def __init__(self, kind: str, message: str, timings: Timings, deadline: bool = False) -> None:
        super().__init__(message)
        self.kind, self.message, self.timings, self.deadline = kind, message, timings, deadline


def ms_since(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def stop_for(exc: BaseException, phase: str, policy: WirePolicy, watchdog: Watchdog, timings: Timings) -> Stop:
    """The failure a wire error stands for (:func:`wire.classify`); a cut at the deadline comes first."""
    if isinstance(exc, Stop):
        return exc
    if watchdog.fired:
        return Stop("timeout", deadline_message(phase, policy.deadline), timings, deadline=True)
    return Stop(*classify(exc, phase, policy.timeout), timings)


def with_total(phases: Timings, t0: float) -> Timings:
    return Timings(phases.dns_ms, phases.connect_ms, phases.tls_ms, total_ms=ms_since(t0))


def handshake(raw: socket.socket, host: str, context: ssl.SSLContext, watchdog: Watchdog) -> ssl.SSLSocket:
    """TLS over ``raw``, with the handshake itself under the watchdog."""
    wrapped = context.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False)
    watchdog.watch(wrapped)
    try:
        wrapped.do_handshake()
    except BaseException:
        wrapped.close()
        raise
    return wrapped


def through_proxy(
    proxy: str, host: str, port: int, context: ssl.SSLContext, policy: WirePolicy, t0: float, watchdog: Watchdog,
    state: State,
) -> tuple[http.client.HTTPSConnection, str, Timings]:
    """A CONNECT tunnel through the proxy, with its login when the proxy URL carries one, then TLS with the
    endpoint inside it."""
    pparts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    try:
        proxy_port = pparts.port or 80
    except ValueError as exc:
        raise Stop("proxy", f"the proxy URL {proxy!r} has a bad port: {exc}", Timings()) from None
    where = f"{pparts.hostname}:{proxy_port}"
    tunnel = http.client.HTTPConnection(pparts.hostname or "", proxy_port, timeout=policy.timeout)
    tunnel_headers = {}
    if pparts.username:
        login = f"{unquote(pparts.username)}:{unquote(pparts.password or '')}"
        tunnel_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
    tunnel.set_tunnel(host, port, headers=tunnel_headers)

    def create(address: tuple[str, int], timeout: float, source: object = None) -> socket.socket:
        return watchdog.watch(socket.create_connection(address, timeout))

    tunnel._create_connection = create  # type: ignore[attr-defined]  # http.client's own seam for the socket
    state.phase = "proxy"
    try:
        tunnel.connect()
        connect = ms_since(t0)
        state.phase = "tls"
        t2 = time.perf_counter()
        raw = tunnel.sock
        tunnel.sock = None  # the TLS socket below owns the descriptor now
        wrapped = handshake(raw, host, context, watchdog)
    except WIRE_ERRORS as exc:
        tunnel.close()  # a failed CONNECT leaves the socket to the proxy open
        stop = stop_for(exc, state.phase, policy, watchdog, Timings(total_ms=ms_since(t0)))
        if stop.kind == "tls" and exc.__class__ is ssl.SSLCertVerificationError:
            stop.message = stop.message.replace("TLS verification failed", f"TLS verification failed through "
                                                f"proxy {where}", 1)
        elif state.phase == "proxy" and not stop.deadline:
            stop = Stop("proxy", f"through proxy {where}: {stop.message if stop.kind != 'other' else exc}",
                         stop.timings)
        raise stop from None
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=policy.timeout)
    conn.auto_open = 0  # never a silent reconnect by http.client, unmeasured and unwatched
    conn.sock = wrapped
    return conn, f"via proxy {where}", Timings(connect_ms=connect, tls_ms=ms_since(t2))


def direct_connection(
    host: str, port: int, context: ssl.SSLContext, policy: WirePolicy, t0: float, watchdog: Watchdog, state: State
) -> tuple[http.client.HTTPSConnection, str, Timings]:
    """DNS (or a --resolve pin), TCP connect and TLS handshake, each timed."""
    pinned = policy.resolve.get((host, port))
    try:
        infos = socket.getaddrinfo(pinned or host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Stop("dns", f"{host} does not resolve: {exc.strerror or exc}", Timings(dns_ms=ms_since(t0))) from None
    except (OSError, ValueError) as exc:  # UnicodeError: a label the idna codec refuses
        raise Stop("dns", f"{host} cannot be looked up: {exc}", Timings(dns_ms=ms_since(t0))) from None
    dns = ms_since(t0)
    address = str(infos[0][4][0])
    t1 = time.perf_counter()
    state.phase = "connect"
    try:
        raw = watchdog.watch(socket.create_connection((address, port), timeout=policy.timeout))
    except TimeoutError:
        raise Stop(
            "connect",
            f"TCP connect to {address}:{port} timed out after {policy.timeout:g} s",
            Timings(dns_ms=dns, connect_ms=ms_since(t1)),
        ) from None
    except OSError as exc:
        raise Stop(
            "connect",
            f"TCP connect to {address}:{port} failed: {exc.strerror or exc}",
            Timings(dns_ms=dns, connect_ms=ms_since(t1)),
        ) from None
    connect = ms_since(t1)
    no_delay(raw)
    t2 = time.perf_counter()
    state.phase = "tls"
    try:
        wrapped = handshake(raw, host, context, watchdog)
    except WIRE_ERRORS as exc:
        raw.close()
        raise stop_for(exc, "tls", policy, watchdog, Timings(dns_ms=dns, connect_ms=connect, tls_ms=ms_since(t2))) \
            from None
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=policy.timeout)
    conn.auto_open = 0  # never a silent reconnect by http.client, unmeasured and unwatched
    conn.sock = wrapped
    return conn, address, Timings(dns_ms=dns, connect_ms=connect, tls_ms=ms_since(t2))


def no_delay(sock: socket.socket) -> None:
    """TCP_NODELAY, as http.client's own connect() and urllib3 set it: http.client writes a request's
    headers and body separately, and on a kept connection Nagle would hold the body back until the
    server's delayed ACK (about 40 ms), time that would show up as the service's."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
