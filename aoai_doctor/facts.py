"""The typed facts checks publish for one another, in one module every check may import.

A check returns facts in its :class:`~aoai_doctor.check.Outcome`; the checks that require or use it
read them with ``ctx.fact(Kind)``. No check module imports another check module: what one check tells
another passes through here.

- :class:`EndpointInfo` (parsed by :func:`endpoint_info`, read by most checks)
- :class:`SourceProbe` (AOAI201–AOAI209: what each credential source did on its own)
- :class:`Verdict` (AOAI210: which source DefaultAzureCredential would use, or where it stops)
- :class:`TokenUnderTest` (AOAI302: the token the call will use, and its claims)
- :class:`DnsAnswer`, :class:`TlsAnswer` (AOAI401, AOAI402)
- :class:`CallOutcome` (AOAI501: the test call, for the latency and clock checks)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aoai_doctor.azure import calls
from aoai_doctor.azure import endpoints as ep
from aoai_doctor.azure.chain import State, Verdict
from aoai_doctor.azure.endpoints import SCOPES, Cloud, EndpointInfo
from aoai_doctor.azure.jwt import Identity
from aoai_doctor.config import Target
from aoai_doctor.redaction import Secret
from aoai_doctor.services.http import Credential, Timings
from aoai_doctor.services.netprobe import DnsAnswer, TlsAnswer

__all__ = [
    "CallOutcome",
    "DnsAnswer",
    "EndpointInfo",
    "SourceProbe",
    "TlsAnswer",
    "TokenUnderTest",
    "Verdict",
    "endpoint_info",
    "token_scope",
]


def endpoint_info(target: Target) -> EndpointInfo | None:
    """The parsed endpoint, or None when there is none or it is not a URL."""
    if target.endpoint is None:
        return None
    try:
        return ep.parse(target.endpoint.value)
    except ep.EndpointParseError:
        return None


def token_scope(target: Target) -> str:
    """The scope the app asks for: configured, else the one the endpoint's cloud needs."""
    if target.scope is not None:
        return target.scope.value
    info = endpoint_info(target)
    if info is not None and info.default_scope:
        return info.default_scope
    return SCOPES[Cloud.PUBLIC]


@dataclass(frozen=True, slots=True)
class SourceProbe:
    """What one source did when asked for a token on its own. Published as a fact by its check."""

    source: str
    state: State
    elapsed_ms: float
    error_type: str | None = None
    """Exception class name (``CredentialUnavailableError``, ``ClientAuthenticationError``, ``ValueError`` …)."""
    message: str | None = None
    """The exception's message, with anything secret-shaped removed."""
    identity: Identity | None = None
    claims: Mapping[str, Any] | None = None
    """Decoded claims of the token (never the token itself)."""
    expires_on: int | None = None
    token: Secret | None = None
    """The token, for the checks that call the service with it; never printed."""
    at_construction: bool = False
    """The error came from building the credential, not from asking it for a token."""


@dataclass(frozen=True, slots=True)
class TokenUnderTest:
    """The token the data-plane call will use, and what it says. The token itself is never printed."""

    token: Secret
    source: str
    claims: Mapping[str, Any]
    identity: Identity
    expires_on: int | None
    """What the credential reported, when a credential produced it."""
    acquired_ms: float | None = None
    chain_source: str | None = None
    """The DefaultAzureCredential source that produced it (None for a given token)."""


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """One test call: what was sent where, what came back, and how long each phase took."""

    deployment: str
    kind: str
    url: str
    status: int | None
    """None when there was no HTTP answer (see ``failure``)."""
    failure: str | None
    headers: Mapping[str, str]
    timings: Timings
    local_time: float
    """This machine's clock when the answer arrived."""
    server_date: float | None
    """The service's clock, from its Date header."""
    client_request_id: str
    token_ms: float | None = None
    """How long the credential took to get the token."""
    body: dict[str, object] | None = None
    request: tuple[calls.Call, tuple[Credential, ...] | None] | None = None
    """The request, for checks that repeat it (AOAI601). Holds the credential: never printed."""
