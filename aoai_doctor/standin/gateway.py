"""An Azure API Management gateway in front of the data plane (``<name>.azure-api.net``).

Applied in APIM's order: the API's URL suffix (a path outside it is no API), the subscription key
(header, default ``Ocp-Apim-Subscription-Key``, or the ``subscription-key`` query parameter), an
optional ``validate-jwt`` policy, then the request goes to the backend with the suffix, the key
header and the key query parameter removed; the backend's answer comes back unchanged.

APIM's own answers use its ``{"statusCode": N, "message": ...}`` shape:

* missing key: 401 "Access denied due to missing subscription key. Make sure to include
  subscription key when making requests to an API." (Azure-Samples/openai-apim-lb#31,
  openai/openai-python#1527, MicrosoftDocs/azure-docs#15130);
* wrong key: 401 "Access denied due to invalid subscription key. Make sure to provide a valid key for
  an active subscription." (felixrieseberg/project-oxford#24 and APIM FAQ texts);
* ``validate-jwt``: 401 "Unauthorized. Access token is missing or invalid." (the
  ``failed-validation-error-message`` of the policy samples in the APIM docs, and the body the
  "secure API Management with Azure AD B2C" tutorial shows);
* no API at the path: 404 "Resource not found" (a reconstruction, see ``docs/standin.md``).
"""

from __future__ import annotations

import dataclasses

import jwt

from aoai_doctor.standin.errors import AoaiError, gateway_error
from aoai_doctor.standin.scenario import Gateway, ServiceName
from aoai_doctor.standin.tokens import TokenSigner
from aoai_doctor.standin.wire import HttpRequest, HttpResponse, Site

__all__ = ["INVALID_KEY_MESSAGE", "JWT_MESSAGE", "MISSING_KEY_MESSAGE", "QUERY_KEY", "GatewayService"]

MISSING_KEY_MESSAGE = (
    "Access denied due to missing subscription key. Make sure to include subscription key when making "
    "requests to an API."
)
INVALID_KEY_MESSAGE = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
)
JWT_MESSAGE = "Unauthorized. Access token is missing or invalid."
#: The query parameter APIM also reads the subscription key from.
QUERY_KEY = "subscription-key"


class GatewayService:
    """Answers requests to the gateway host and forwards the admitted ones to ``backend``."""

    service = ServiceName.GATEWAY

    def __init__(
        self, gateway: Gateway, keys: tuple[str, ...], backend: Site, backend_host: str, signer: TokenSigner
    ) -> None:
        self._gateway = gateway
        self._keys = keys
        self._backend = backend
        self._backend_host = backend_host
        self._signer = signer

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request."""
        try:
            forwarded = self._admit(request)
        except AoaiError as refusal:
            return HttpResponse.json(refusal.status, refusal.body)
        return self._backend.handle(forwarded)

    def _admit(self, request: HttpRequest) -> HttpRequest:
        gateway = self._gateway
        prefix = gateway.path
        if prefix and request.path != prefix and not request.path.startswith(prefix + "/"):
            raise gateway_error(404, "Resource not found")
        header = gateway.subscription_key_header.lower()
        key = request.header(header) or request.query.get(QUERY_KEY, "")
        if gateway.subscription_required:
            if not key:
                raise gateway_error(401, MISSING_KEY_MESSAGE)
            if key not in self._keys:
                raise gateway_error(401, INVALID_KEY_MESSAGE)
        if gateway.validate_jwt:
            scheme, _, token = request.header("authorization").partition(" ")
            audiences = (gateway.jwt_audience.rstrip("/"), gateway.jwt_audience.rstrip("/") + "/")
            try:
                if scheme.lower() != "bearer":
                    raise jwt.InvalidTokenError("no bearer token")
                self._signer.verify(token.strip(), audiences)
            except jwt.PyJWTError:
                raise gateway_error(401, JWT_MESSAGE) from None
        return dataclasses.replace(
            request,
            path=request.path[len(prefix) :] or "/",
            query={k: v for k, v in request.query.items() if k != QUERY_KEY},
            headers={k: v for k, v in request.headers.items() if k != header},
            host=self._backend_host,
        )
