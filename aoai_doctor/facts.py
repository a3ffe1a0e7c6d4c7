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
from typing import Any

from aoai_doctor.azure import calls
from aoai_doctor.azure import endpoints as ep
from aoai_doctor.azure.chain import State, Verdict
from aoai_doctor.azure.endpoints import SCOPES, Cloud, EndpointInfo
from aoai_doctor.azure.jwt import Identity
from aoai_doctor.config import Target
from aoai_doctor.record import record
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


@record
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
    precondition: bool = False
    """Found unavailable from what the source needs and is missing here (a tool not on PATH, no cache file),
    without building the credential."""


@record
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


@record
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


@record
class ProbePath:
    """Where one credential source's HTTP request goes, and whether a proxy carries it (AOAI201–AOAI204
    publish it; made by :func:`aoai_doctor.services.probe_path.probe_path`). Holds no secret."""

    source: str
    """The credential class (``ManagedIdentityCredential``)."""
    url: str
    """The endpoint the source calls, without a query or a user name and password."""
    proxy: str | None
    """The proxy requests would send it through (user name and password removed), or None: direct."""
    bypassed_by: str | None = None
    """The ``NO_PROXY`` entry that sends it direct although a proxy is set for its scheme."""
    flavour: str | None = None
    """Which kind of endpoint: ``App Service``, ``IMDS``, ``Azure Arc``, ``Cloud Shell``, ``Azure ML``,
    ``Service Fabric``, ``workload identity``; None for Microsoft Entra ID."""
    proxy_var: str | None = None
    """The variable the proxy came from (``HTTP_PROXY``, ``https_proxy``, ``ALL_PROXY`` …)."""
    no_proxy_var: str = "NO_PROXY"
    """The ``NO_PROXY`` variable requests reads here (the lower-case one wins when both are set)."""
    proxy_login: bool = False
    """The proxy URL carries a user name or password (never kept)."""

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of :attr:`url`."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else self.url

    @property
    def host(self) -> str:
        """The host name or address of :attr:`url`, as requests compares it with ``NO_PROXY``."""
        from urllib.parse import urlsplit

        return urlsplit(self.url).hostname or ""

    def describe(self) -> str:
        """One line: ``ManagedIdentityCredential (IMDS) -> http://169.254.169.254 via proxy http://proxy:3128
        (NO_PROXY does not list 169.254.169.254)``."""
        who = f"{self.source} ({self.flavour})" if self.flavour else self.source
        if self.proxy is not None:
            return f"{who} -> {self.origin} via proxy {self.proxy} ({self.no_proxy_var} does not list {self.host})"
        if self.bypassed_by is not None:
            return f"{who} -> {self.origin} directly ({self.no_proxy_var} lists {self.bypassed_by})"
        scheme = self.url.split("://", 1)[0] if "://" in self.url else "http"
        return f"{who} -> {self.origin} directly (no proxy is set for {scheme} URLs)"
