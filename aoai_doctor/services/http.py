"""The doctor's own HTTPS requests to the data plane, measured phase by phase and held to a policy.

Built on the standard library's ``http.client`` over a socket the doctor connects itself, so DNS,
TCP connect, TLS handshake, time to first byte and total are measured rather than guessed (requests
does not expose them). Trust follows requests' rules: ``REQUESTS_CA_BUNDLE`` (or ``CURL_CA_BUNDLE``),
else certifi's bundle; verification is never turned off. ``HTTPS_PROXY``/``NO_PROXY`` are honoured.

Policy: a bearer token or key is only attached for a host in the Azure suffix list or named with
``--allow-host``; redirects are never followed, so no credential crosses one; ``--resolve`` (curl
semantics) pins ``host:port`` to an address.

:func:`send` opens a connection for the one request and closes it, so every phase is measured. A
:class:`~aoai_doctor.services.session.Session` keeps connections open between requests to the same
place, as a production client does (``--repeat``): the same policy, deadline and body cap hold for each
request on a kept connection.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import time
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from aoai_doctor._version import __version__
from aoai_doctor.record import record
from aoai_doctor.redaction import Secret
from aoai_doctor.services.wire import (
    WIRE_ERRORS,
    State,
    Stop,
    Watchdog,
    deadline_message,
    direct_connection,
    ms_since,
    read_stream,
    stop_for,
    through_proxy,
    with_total,
)
from aoai_doctor.services.wire import Timings as Timings  # re-exported: the phases a Response carries

USER_AGENT = f"aoai-doctor/{__version__} (+https://pypi.org/project/aoai-doctor)"
AZURE_SUFFIXES: tuple[str, ...] = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
    ".api.cognitive.microsoft.com",
    ".openai.azure.us",
    ".cognitiveservices.azure.us",
    ".api.cognitive.microsoft.us",
    ".openai.azure.cn",
    ".cognitiveservices.azure.cn",
    ".api.cognitive.azure.cn",
    ".azure-api.net",
    ".azure-api.us",
    ".azure-api.cn",
)
MAX_BODY = 1 << 20


class ResolveError(ValueError):
    """A ``--resolve`` value that is not ``HOST:PORT:ADDRESS``."""


def parse_resolve(values: tuple[str, ...] | list[str]) -> dict[tuple[str, int], str]:
    """``HOST:PORT:ADDRESS`` entries (curl's ``--resolve``) as a lookup table."""
    table: dict[tuple[str, int], str] = {}
    for value in values:
        host, sep1, rest = value.partition(":")
        port, sep2, address = rest.partition(":")
        if not (sep1 and sep2 and host and port.isdigit() and address):
            raise ResolveError(
                f"--resolve {value!r}: expected HOST:PORT:ADDRESS, e.g. myres.openai.azure.com:443:10.0.0.5"
            )
        table[(host.lower(), int(port))] = address.strip("[]")
    return table


def host_allowed(host: str, allow_hosts: frozenset[str]) -> bool:
    """Whether a credential may be sent to ``host``: an Azure service suffix or an allowed name."""
    host = host.lower().rstrip(".")
    return host.endswith(AZURE_SUFFIXES) or host in allow_hosts


STANDIN_MARKER = "AOAI_DOCTOR_STANDIN"
"""Set by ``aoai-doctor emulate``: the SHA-256 fingerprint of the stand-in's CA certificate."""


def standin_trusted(host: str, environ: Mapping[str, str]) -> bool:
    """Whether a loopback ``host`` is the doctor's own stand-in, which may receive the credentials it
    issued. Only loopback hosts qualify, and only when ``AOAI_DOCTOR_STANDIN`` holds the fingerprint of
    the one CA certificate in ``REQUESTS_CA_BUNDLE`` (``emulate`` prints both): TLS is verified against
    that bundle, so a server that completes the handshake holds a key the stand-in's CA issued."""
    import hashlib
    import hmac
    import ipaddress

    try:
        if not (host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback):
            return False
    except ValueError:
        return False
    marker, bundle = environ.get(STANDIN_MARKER, ""), environ.get("REQUESTS_CA_BUNDLE", "")
    if not marker or not bundle:
        return False
    try:  # what TLS will trust is what ssl loads from the bundle: exactly one CA, the stand-in's
        loaded = ssl.create_default_context(cafile=bundle).get_ca_certs(binary_form=True)
    except (OSError, ValueError, ssl.SSLError):
        return False
    return len(loaded) == 1 and hmac.compare_digest(hashlib.sha256(loaded[0]).hexdigest(), marker.strip().lower())


@record
class Policy:
    """What the doctor may do on the wire."""

    allow_hosts: frozenset[str] = frozenset()
    resolve: Mapping[tuple[str, int], str] = field(default_factory=dict)
    timeout: float = 30.0
    """Seconds any one network operation (connect, handshake, one read) may wait."""

    @property
    def deadline(self) -> float:
        """Seconds the whole request (connect + TLS + headers + body, or a proxy's CONNECT first) may take:
        twice :attr:`timeout`. The per-read timeout alone never stops a server that sends one byte a
        second; at the deadline the connection is shut down whatever phase it is in."""
        return DEADLINE_FACTOR * self.timeout


DEADLINE_FACTOR = 2.0
"""The total deadline of one request, as a multiple of the per-operation timeout (:attr:`Policy.deadline`)."""


@record
class Response:
    """An HTTP answer, with what the doctor measured around it."""

    url: str
    status: int
    reason: str
    headers: Mapping[str, str]
    """Response headers, names lower-cased."""
    body: bytes
    timings: Timings
    address: str
    client_request_id: str
    tls_version: str | None = None
    peer_issuer: str | None = None
    truncated: bool = False
    reused: bool = False
    """Sent on a connection a :class:`~aoai_doctor.services.session.Session` kept from an earlier request:
    no DNS, connect or TLS."""
    attempts: int = 1
    """2 when a kept connection turned out closed by the server before any answer and the request was
    sent again on a new one (the server saw it at most once with an answer)."""


@record
class Failure:
    """No HTTP answer. ``kind`` is one of dns, connect, tls (verification), handshake (TLS failed before
    or apart from verification), timeout, reset, proxy, refused, ca, protocol (the peer does not speak
    TLS or HTTP), malformed (broken HTTP), other."""

    url: str
    kind: str
    message: str
    timings: Timings
    client_request_id: str
    deadline: bool = False
    """The request was cut at :attr:`Policy.deadline` while the peer was still (slowly) sending."""
    attempts: int = 1
    """As :attr:`Response.attempts`."""


def ca_file(environ: Mapping[str, str]) -> str | None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if environ.get(name):
            return environ[name]
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests always brings certifi
        return None
    return certifi.where()


def tls_context(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """A verifying TLS context that trusts what requests would trust."""
    env = os.environ if environ is None else environ
    return ssl.create_default_context(cafile=ca_file(env))


def bypasses_proxy(host: str, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` exempts ``host`` (urllib's own reading, as requests uses it)."""
    bypass = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009 - absent from the type stubs
    return bool(bypass(host, {"no": no_proxy}))


def proxy_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """``*_PROXY`` variables by scheme (lower-case names win, as in urllib and requests)."""
    found: dict[str, str] = {}
    for name, value in environ.items():
        if name.lower().endswith("_proxy") and value and name.lower() != "no_proxy":
            scheme = name.lower()[: -len("_proxy")]
            if name.islower() or scheme not in found:
                found[scheme] = value
    return found


def proxy_for(host: str, environ: Mapping[str, str], scheme: str = "https") -> str | None:
    """The proxy requests would use for ``scheme://host``, or None when it goes direct (NO_PROXY)."""
    proxies = proxy_settings(environ)
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy:
        return None
    no_proxy = environ.get("NO_PROXY") or environ.get("no_proxy")
    if no_proxy and bypasses_proxy(host, no_proxy):
        return None
    return proxy


def ca_problem(environ: Mapping[str, str], exc: BaseException) -> str:
    """Why the CA bundle could not be loaded, naming the variable that points at it."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if environ.get(name):
            return f"cannot load the CA bundle {name}={environ[name]}: {getattr(exc, 'strerror', None) or exc}"
    return f"cannot load the CA bundle: {exc}"


Credential = tuple[str, Secret]
"""A header that carries a secret: ``("Authorization", Secret("Bearer …"))``, ``("api-key", …)``."""


def credential_headers(credential: Credential | tuple[Credential, ...] | None) -> tuple[Credential, ...]:
    """One credential header or several (a bearer token and a gateway's subscription key) as a tuple."""
    if not credential:
        return ()
    if isinstance(credential[0], str):
        return (credential,)
    return credential


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    credential: Credential | tuple[Credential, ...] | None = None,
    policy: Policy = Policy(),
    stream: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Response | Failure:
    """Send one request on a new connection and measure it. Never raises for network trouble: that is a
    :class:`Failure`."""
    return send_on(method, url, headers, body, credential, policy, stream, environ, None)


Route = tuple[str, int, str | None, str | None, str | None]
"""Where a kept connection leads: host, port, proxy, ``--resolve`` pin, CA bundle."""


@dataclass(slots=True)
class Kept:
    """An open connection and what was learnt when it was made."""

    conn: http.client.HTTPSConnection
    address: str
    tls_version: str | None
    issuer: str | None


class Pool(Protocol):
    """What :func:`send_on` asks of the connections it may reuse (:class:`aoai_doctor.services.session.Session`)."""

    def trusts_standin(self, host: str, env: Mapping[str, str]) -> bool: ...

    def context_for(self, env: Mapping[str, str]) -> ssl.SSLContext: ...

    def checkout(self, route: Route) -> Kept | None: ...

    def checkin(self, route: Route, kept: Kept) -> None: ...

    def count_open(self) -> None: ...


def _standin(session: Pool | None, host: str, env: Mapping[str, str]) -> bool:
    return session.trusts_standin(host, env) if session is not None else standin_trusted(host, env)


def _closed_by_peer(exc: BaseException) -> bool:
    """A kept connection's failure before any answer that means the server had closed it."""
    return isinstance(exc, (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError))


def send_on(
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    credential: Credential | tuple[Credential, ...] | None,
    policy: Policy,
    stream: bool,
    environ: Mapping[str, str] | None,
    session: Pool | None,
) -> Response | Failure:
    """:func:`send`, on a connection ``session`` kept when it has one (and keeping this one after)."""
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or 443
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request_id = str(uuid.uuid4())
    if parts.scheme != "https":
        return Failure(url, "refused", "the doctor only calls https endpoints", Timings(), request_id)
    proxy = proxy_for(host, env)
    pinned = policy.resolve.get((host, port))
    # The stand-in exception holds only for a direct connection: no proxy, no --resolve pin elsewhere.
    direct = pinned is None and proxy is None
    secrets = credential_headers(credential)
    if secrets and not (host_allowed(host, policy.allow_hosts) or (direct and _standin(session, host, env))):
        return Failure(
            url,
            "refused",
            f"not sending a credential to {host}: it is not an Azure OpenAI host (pass --allow-host {host} if it is "
            "yours)",
            Timings(),
            request_id,
        )
    all_headers = {
        "User-Agent": USER_AGENT,
        "x-ms-client-request-id": request_id,
        "Accept": "application/json",
        **(headers or {}),
    }
    for name, secret in secrets:
        all_headers[name] = secret.reveal()
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    try:
        context = session.context_for(env) if session is not None else tls_context(env)
    except (OSError, ssl.SSLError) as exc:
        return Failure(url, "ca", ca_problem(env, exc), Timings(), request_id)
    route: Route = (host, port, proxy, pinned, ca_file(env))
    t0 = time.perf_counter()
    watchdog = Watchdog(policy.deadline)
    state = State()
    attempts = 1
    try:
        kept = session.checkout(route) if session is not None else None
        while True:
            reused = kept is not None
            if kept is None:
                t1 = t0 if attempts == 1 else time.perf_counter()  # a second attempt's phases are its own
                if proxy:
                    conn, address, phases = through_proxy(proxy, host, port, context, policy, t1, watchdog, state)
                else:
                    conn, address, phases = direct_connection(host, port, context, policy, t1, watchdog, state)
                if session is not None:
                    session.count_open()
                kept = Kept(conn, address, _tls_version(conn.sock), _issuer(conn.sock))
            else:
                watchdog.watch(kept.conn.sock)
                phases = Timings()
            held, conn, keep = kept, kept.conn, False
            t3 = time.perf_counter()
            try:
                state.phase = "request"
                conn.request(method, target, body=body, headers=all_headers)
                answer = conn.getresponse()
                ttfb = ms_since(t3)
                state.phase = "body"
                first_event = None
                truncated = False
                if stream and answer.status == 200:
                    data, first_event, truncated = read_stream(answer, t3, MAX_BODY)
                else:
                    data = answer.read(MAX_BODY + 1)
                    truncated = len(data) > MAX_BODY
                    data = data[:MAX_BODY]
                    declared = answer.getheader("content-length", "")
                    if not truncated and declared.isdigit() and len(data) < int(declared):
                        # read(amt) returns a short body quietly where read() would raise IncompleteRead
                        raise http.client.IncompleteRead(data, int(declared) - len(data))
                if watchdog.fired:  # a close-delimited body cut by the deadline reads as a short, clean answer
                    raise Stop("timeout", deadline_message(state.phase, policy.deadline), with_total(phases, t0),
                                deadline=True)
                # kept only when the answer was read to its end and the server will take another request
                keep = session is not None and not truncated and answer.isclosed() and conn.sock is not None
            except WIRE_ERRORS as exc:
                if reused and attempts == 1 and state.phase == "request" and _closed_by_peer(exc) \
                        and not watchdog.fired:
                    attempts, kept = 2, None  # the server closed the kept connection: once more on a new one
                    continue
                raise stop_for(exc, state.phase, policy, watchdog, with_total(phases, t0)) from None
            finally:
                if keep and session is not None and not watchdog.cancel():
                    session.checkin(route, held)
                else:
                    conn.close()
            break
    except Stop as stop:
        return Failure(url, stop.kind, stop.message, stop.timings, request_id, stop.deadline, attempts)
    except WIRE_ERRORS as exc:  # pragma: no cover - every phase raises Stop; a last net for the unforeseen
        last = stop_for(exc, state.phase, policy, watchdog, Timings(total_ms=ms_since(t0)))
        return Failure(url, last.kind, last.message, last.timings, request_id, last.deadline, attempts)
    finally:
        watchdog.cancel()
    timings = Timings(phases.dns_ms, phases.connect_ms, phases.tls_ms, ttfb, first_event, ms_since(t0))
    headers_out = {k.lower(): v for k, v in answer.getheaders()}
    return Response(
        url,
        answer.status,
        answer.reason,
        headers_out,
        data,
        timings,
        held.address,
        request_id,
        held.tls_version,
        held.issuer,
        truncated,
        reused,
        attempts,
    )


def _tls_version(sock: object) -> str | None:
    return sock.version() if isinstance(sock, ssl.SSLSocket) else None


def _issuer(sock: object) -> str | None:
    if not isinstance(sock, ssl.SSLSocket):
        return None
    return cert_name((sock.getpeercert() or {}).get("issuer", ()))


def cert_name(rdns: object) -> str | None:
    """The common name (else the organisation) of a certificate's issuer or subject, as ``getpeercert`` gives it."""
    parts: dict[str, str] = {}
    for rdn in rdns if isinstance(rdns, tuple) else ():
        for pair in rdn:
            if isinstance(pair, tuple) and len(pair) == 2:
                parts[str(pair[0])] = str(pair[1])
    return parts.get("commonName") or parts.get("organizationName")


def post_json(
    url: str,
    body: Mapping[str, object],
    credential: Credential | tuple[Credential, ...] | None,
    policy: Policy,
    environ: Mapping[str, str],
    stream: bool = False,
    session: Pool | None = None,
) -> Response | Failure:
    """POST a JSON body (the test call, and AOAI601's repeats), on a connection ``session`` keeps, if given."""
    return send_on("POST", url, None, json.dumps(body).encode(), credential, policy, stream, environ, session)
