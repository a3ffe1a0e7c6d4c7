"""DNS and TLS, looked at on their own: what the endpoint's name resolves to, and who signs its certificate."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping

from aoai_doctor import phase
from aoai_doctor.record import record
from aoai_doctor.services.http import DEADLINE_FACTOR, ca_problem, cert_name, tls_context
from aoai_doctor.services.wire import Watchdog


@record
class DnsAnswer:
    """What a host name resolves to."""

    host: str
    canonical: str | None
    aliases: tuple[str, ...]
    """The CNAME chain, as the resolver reports it."""
    addresses: tuple[str, ...]
    elapsed_ms: float
    error: str | None = None
    pinned: bool = False
    """The address came from ``--resolve``, not from DNS."""

    @property
    def private(self) -> bool:
        """Whether every address is private (a private endpoint, or a pinned loopback)."""
        return bool(self.addresses) and all(_private(a) for a in self.addresses)


@record
class TlsAnswer:
    """The outcome of a TLS handshake with the endpoint."""

    host: str
    port: int
    address: str | None
    version: str | None = None
    issuer: str | None = None
    subject: str | None = None
    not_after: str | None = None
    error: str | None = None
    verify_error: bool = False
    hostname_mismatch: bool = False
    ca_error: bool = False
    """The CA bundle itself could not be loaded (REQUESTS_CA_BUNDLE points at nothing readable)."""


def _private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback


def resolve(host: str, port: int, pins: Mapping[tuple[str, int], str]) -> DnsAnswer:
    """Resolve ``host`` (honouring ``--resolve`` pins)."""
    phase.enter(f"resolving {host}")
    t0 = time.perf_counter()
    pinned = pins.get((host.lower(), port))
    if pinned:
        return DnsAnswer(host, None, (), (pinned,), 0.0, pinned=True)
    try:
        canonical, aliases, addresses = socket.gethostbyname_ex(host)
    except OSError as exc:
        return DnsAnswer(
            host,
            None,
            (),
            (),
            round((time.perf_counter() - t0) * 1000, 1),
            error=getattr(exc, "strerror", None) or str(exc),
        )
    chain = tuple(a for a in (*aliases, canonical) if a and a.lower() != host.lower())
    return DnsAnswer(host, canonical, chain, tuple(addresses), round((time.perf_counter() - t0) * 1000, 1))


def handshake(host: str, port: int, address: str | None, environ: Mapping[str, str],
              timeout: float = 10.0) -> TlsAnswer:
    """A TLS handshake with certificate verification, as the data-plane call will make it. Each operation
    waits at most ``timeout``; the whole probe is cut at ``DEADLINE_FACTOR * timeout`` (a peer that trickles
    its handshake a byte at a time)."""
    phase.enter(f"in the TLS handshake with {host}:{port}")
    try:
        context = tls_context(environ)
    except (OSError, ssl.SSLError) as exc:
        return TlsAnswer(host, port, address, error=ca_problem(environ, exc), ca_error=True)
    watchdog = Watchdog(DEADLINE_FACTOR * timeout)
    try:
        raw = watchdog.watch(socket.create_connection((address or host, port), timeout=timeout))
    except (OSError, ValueError) as exc:  # ValueError: UnicodeError, a name the idna codec refuses
        watchdog.cancel()
        return TlsAnswer(host, port, address, error=f"TCP connect failed: {getattr(exc, 'strerror', None) or exc}")
    try:
        with context.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False) as tls:
            watchdog.watch(tls)
            tls.do_handshake()
            cert = tls.getpeercert() or {}
            return TlsAnswer(
                host,
                port,
                address,
                tls.version(),
                cert_name(cert.get("issuer", ())),
                cert_name(cert.get("subject", ())),
                str(cert.get("notAfter") or "") or None,
            )
    except ssl.SSLCertVerificationError as exc:
        # verify_code 62: X509_V_ERR_HOSTNAME_MISMATCH, the certificate is for another name
        return TlsAnswer(host, port, address, error=str(exc.verify_message or exc), verify_error=True,
                         hostname_mismatch=exc.verify_code == 62)
    except (ssl.SSLError, OSError, ValueError) as exc:
        if watchdog.fired:
            return TlsAnswer(host, port, address, error=f"the handshake was cut at its {DEADLINE_FACTOR * timeout:g} s "
                             "deadline: the peer answers too slowly")
        return TlsAnswer(host, port, address, error=str(exc))
    finally:
        watchdog.cancel()
        raw.close()
