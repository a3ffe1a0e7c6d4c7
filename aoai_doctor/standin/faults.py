"""Fault selection and the canned bodies faults answer with.

The server asks a :class:`FaultPlan` whether a request on a service and path should misbehave;
the transport-level part (hanging, resetting, dripping a body) lives in
:mod:`aoai_doctor.standin.server`.
"""

from __future__ import annotations

import json
import threading
import uuid

from aoai_doctor.standin.scenario import Fault, FaultKind, ServiceName
from aoai_doctor.standin.wire import HttpResponse

#: What a TLS-inspecting corporate proxy answers when it cannot reach the upstream.
PROXY_ERROR_PAGE = """<!DOCTYPE html>
<html><head><title>{status} {reason}</title>
<style>body{{font-family:Arial,sans-serif;margin:40px}}h1{{color:#c00}}</style></head>
<body><h1>{reason}</h1>
<p>The web gateway could not complete your request to the requested URL.</p>
<p>Reason: the upstream server did not respond or was rejected by policy.</p>
<p>If you believe this is an error, contact your IT service desk and quote the reference below.</p>
<hr><p><small>Corporate Web Gateway &middot; Reference #{reference}</small></p>
</body></html>
"""

_REASONS = {
    403: "Access Denied",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FaultPlan:
    """The scenario's faults with their remaining counts (thread-safe)."""

    def __init__(self, faults: tuple[Fault, ...]) -> None:
        self._lock = threading.Lock()
        self._faults = faults
        self._used = [0] * len(faults)

    def match(self, service: ServiceName, path: str) -> Fault | None:
        """The first fault that applies to a request on ``service`` for ``path``, counting it as used."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.service not in (ServiceName.ANY, service) or not path.startswith(fault.path):
                    continue
                if fault.times is not None and self._used[index] >= fault.times:
                    continue
                self._used[index] += 1
                return fault
        return None


def html_error(status: int) -> HttpResponse:
    """A proxy-style HTML error page."""
    reason = _REASONS.get(status, "Error")
    body = PROXY_ERROR_PAGE.format(status=status, reason=reason, reference=uuid.uuid4().hex[:16]).encode()
    return HttpResponse(status, body, (("Content-Type", "text/html; charset=utf-8"), ("Connection", "close")))


def server_error(service: ServiceName, status: int) -> HttpResponse:
    """The 5xx body ``service`` itself sends."""
    request_id = str(uuid.uuid4())
    if service is ServiceName.AOAI:
        if status == 503:
            message = (
                "That model is currently overloaded with other requests. You can retry your request, or "
                "contact us "
                "through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if "
                "the error "
                f"persists. (Please include the request ID {request_id} in your message.)"
            )
        else:
            message = (
                "The server had an error while processing your request. Sorry about that! You can retry "
                "your request, "
                "or contact us through an Azure support request at: "
                "https://go.microsoft.com/fwlink/?linkid=2213926 if "
                f"the error persists. (Please include the request ID {request_id} in your message.)"
            )
        payload: object = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
        headers: tuple[tuple[str, str], ...] = (("apim-request-id", request_id), ("x-request-id", request_id))
    elif service is ServiceName.ENTRA:
        payload = {
            "error": "temporarily_unavailable",
            "error_description": "AADSTS90033: A transient error has occurred. Please try again. "
            f"Trace ID: {request_id}",
            "error_codes": [90033],
            "trace_id": request_id,
        }
        headers = (("x-ms-request-id", request_id),)
    elif service is ServiceName.MANAGED_IDENTITY:
        payload = {
            "error": "server_error",
            "error_description": "An unexpected error occurred while fetching the token.",
        }
        headers = ()
    else:
        payload = {"error": {"code": "InternalServerError", "message": "Encountered internal server error."}}
        headers = (("x-ms-request-id", request_id),)
    return HttpResponse.json(status, payload, headers)


def empty_200() -> HttpResponse:
    """200 with no body."""
    return HttpResponse(200, b"", (("Content-Type", "application/json"),))


def oversized(size_bytes: int) -> HttpResponse:
    """200 with a JSON body of about ``size_bytes``."""
    padding = "x" * max(0, size_bytes - len('{"padding": ""}'))
    return HttpResponse(
        200, json.dumps({"padding": padding}).encode(), (("Content-Type", "application/json"),)
    )


def truncated(response: HttpResponse) -> HttpResponse:
    """``response`` with its body cut in half (the length header matches the cut body)."""
    body = response.body if response.events is None else b"".join(response.events)
    return HttpResponse(response.status, body[: max(1, len(body) // 2)], response.headers)


def describes(kind: FaultKind) -> str:
    """Short label recorded in the request log."""
    return kind.value
