"""Plain request and response values passed between the HTTP server and the service handlers.

Handlers are pure functions of an :class:`HttpRequest` returning an :class:`HttpResponse`; the
server does the socket work, fault injection and recording.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from aoai_doctor.record import record
from aoai_doctor.standin.scenario import ServiceName

#: Header and form-field names whose values are never recorded.
SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-identity-header", "secret", "cookie", "ocp-apim-subscription-key"}
)
SECRET_FIELDS = frozenset(
    {"client_secret", "client_assertion", "refresh_token", "assertion", "password", "code"}
)
#: Query parameters whose values are never recorded (API Management's subscription key).
SECRET_QUERY = frozenset({"subscription-key"})
REDACTED = "<redacted>"


@record
class HttpRequest:
    """One received HTTP request."""

    method: str
    path: str
    """Path without the query string."""
    query: Mapping[str, str]
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes
    client_ip: str
    host: str
    """The ``Host`` header without the port, lower-cased."""
    base_url: str
    """``scheme://host[:port]`` as the client addressed this server."""

    def header(self, name: str, default: str = "") -> str:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, str]:
        """The body decoded as ``application/x-www-form-urlencoded``."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        """The body decoded as JSON; ``None`` when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@record
class HttpResponse:
    """An answer to send. ``events`` (when set) are streamed with chunked transfer encoding."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    events: tuple[bytes, ...] | None = None

    @classmethod
    def json(cls, status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> HttpResponse:
        """A JSON answer."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, (("Content-Type", "application/json; charset=utf-8"), *headers))

    def with_headers(self, extra: tuple[tuple[str, str], ...]) -> HttpResponse:
        """The same answer with ``extra`` headers appended."""
        return HttpResponse(self.status, self.body, self.headers + extra, self.events)


class Site(Protocol):
    """A stand-in service reachable on a listener."""

    service: ServiceName

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer ``request``."""


@record
class RecordedRequest:
    """What a stand-in server received, with secret values replaced by ``<redacted>``."""

    service: ServiceName
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    form: Mapping[str, str]
    json_body: Any
    client_ip: str
    host: str
    status: int | None = None
    """Status sent, or ``None`` when no answer was sent (hang, reset)."""
    fault: str | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def recorded(
    service: ServiceName,
    request: HttpRequest,
    status: int | None,
    fault: str | None,
    secret_headers: frozenset[str] = frozenset(),
) -> RecordedRequest:
    """Build a redacted record of ``request``; ``secret_headers`` (lower-case) are redacted too."""
    hidden = SECRET_HEADERS | secret_headers
    headers = {k: (REDACTED if k in hidden else v) for k, v in request.headers.items()}
    content_type = request.header("content-type")
    form: dict[str, str] = {}
    json_body: Any = None
    if "x-www-form-urlencoded" in content_type:
        form = {k: (REDACTED if k in SECRET_FIELDS else v) for k, v in request.form().items()}
    elif "json" in content_type:
        json_body = request.json()
    return RecordedRequest(
        service=service,
        method=request.method,
        path=request.path,
        query={k: (REDACTED if k in SECRET_QUERY else v) for k, v in request.query.items()},
        headers=headers,
        form=form,
        json_body=json_body,
        client_ip=request.client_ip,
        host=request.host,
        status=status,
        fault=fault,
    )
