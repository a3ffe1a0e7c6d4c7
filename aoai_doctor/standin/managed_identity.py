"""Managed-identity endpoints (plain HTTP, like the real ones).

One listener serves three flavours on distinct paths:

* App Service — ``GET /msi/token?api-version=2019-08-01&resource=…`` with ``X-IDENTITY-HEADER``
  (``IDENTITY_ENDPOINT`` / ``IDENTITY_HEADER``); answers with ``expires_on``.
* IMDS — ``GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`` with
  ``Metadata: true`` (``AZURE_POD_IDENTITY_AUTHORITY_HOST`` or 169.254.169.254 in sealed mode);
  answers with ``expires_in``. Without the header: the 400 the credential chain's probe expects.
* Cloud Shell — ``POST /oauth2/token`` with a form ``resource=…`` (``MSI_ENDPOINT``); the token is
  the signed-in user's.
"""

from __future__ import annotations

import uuid

from aoai_doctor.standin.claims import identity_claims, known_resource, user_claims
from aoai_doctor.standin.directory import Directory
from aoai_doctor.standin.scenario import ManagedIdentity, ServiceName
from aoai_doctor.standin.tokens import TokenSigner, now
from aoai_doctor.standin.wire import HttpRequest, HttpResponse

APP_SERVICE_PATH = "/msi/token"
IMDS_PATH = "/metadata/identity/oauth2/token"
CLOUD_SHELL_PATH = "/oauth2/token"
_AZURE_CLI_APP = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


class ManagedIdentityService:
    """Answers App Service, IMDS and Cloud Shell token requests."""

    service = ServiceName.MANAGED_IDENTITY

    def __init__(
        self, directory: Directory, signer: TokenSigner, identity_header: str, cloud_shell_user: str | None
    ) -> None:
        self._dir = directory
        self._signer = signer
        self._identity_header = identity_header
        self._cloud_shell_user = cloud_shell_user

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Route one request."""
        if request.path == APP_SERVICE_PATH and request.method == "GET":
            return self._app_service(request)
        if request.path == IMDS_PATH and request.method == "GET":
            return self._imds(request)
        if request.path == CLOUD_SHELL_PATH and request.method == "POST":
            return self._cloud_shell(request)
        return HttpResponse.json(
            400, {"error": "invalid_request", "error_description": "Invalid request path"}
        )

    def _token_for(self, identity: ManagedIdentity, resource: str) -> tuple[str, int]:
        tenant = self._dir.tenant_by_name(identity.tenant)
        issued_at = now()
        claims = identity_claims(identity, tenant, resource, issued_at)
        return self._signer.sign(claims), int(claims["exp"])

    # App Service -------------------------------------------------------------------------------

    def _app_service(self, request: HttpRequest) -> HttpResponse:
        correlation = str(uuid.uuid4())
        if request.header("x-identity-header") != self._identity_header:
            return HttpResponse.json(
                401,
                {
                    "statusCode": 401,
                    "message": "Unauthorized: the X-IDENTITY-HEADER header is missing or invalid.",
                    "correlationId": correlation,
                },
            )
        query = request.query
        if query.get("api-version") != "2019-08-01":
            return HttpResponse.json(
                400,
                {
                    "statusCode": 400,
                    "message": f"Invalid api-version '{query.get('api-version', '')}'.",
                    "correlationId": correlation,
                },
            )
        resource = query.get("resource", "")
        identity = self._dir.assigned_identity(
            client_id=query.get("client_id", ""),
            object_id=query.get("principal_id", query.get("object_id", "")),
            resource_id=query.get("mi_res_id", ""),
        )
        if identity is None:
            return HttpResponse.json(
                400,
                {
                    "statusCode": 400,
                    "message": "No Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
                    "correlationId": correlation,
                },
            )
        if not known_resource(resource):
            return HttpResponse.json(
                400,
                {
                    "statusCode": 400,
                    "message": f"AADSTS500011: The resource principal named {resource} was not "
                    "found in the tenant.",
                    "correlationId": correlation,
                },
            )
        token, expires_on = self._token_for(identity, resource)
        return HttpResponse.json(
            200,
            {
                "access_token": token,
                "expires_on": str(expires_on),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": identity.client_id,
            },
        )

    # IMDS --------------------------------------------------------------------------------------

    def _imds(self, request: HttpRequest) -> HttpResponse:
        if request.header("metadata").lower() != "true":
            return HttpResponse.json(
                400,
                {"error": "invalid_request", "error_description": "Required metadata header not specified"},
            )
        query = request.query
        if not query.get("api-version"):
            return HttpResponse.json(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Required query variable 'api-version' is missing",
                },
            )
        resource = query.get("resource", "")
        if not resource:
            return HttpResponse.json(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Required query variable 'resource' is missing",
                },
            )
        identity = self._dir.assigned_identity(
            client_id=query.get("client_id", ""),
            object_id=query.get("object_id", ""),
            resource_id=query.get("msi_res_id", query.get("mi_res_id", "")),
        )
        if identity is None:
            return HttpResponse.json(
                400, {"error": "invalid_request", "error_description": "Identity not found"}
            )
        if not known_resource(resource):
            return HttpResponse.json(
                400,
                {
                    "error": "invalid_resource",
                    "error_description": f"AADSTS500011: The resource principal named {resource} was not "
                    "found in the "
                    "tenant named Default Directory. This can happen if the application has not been "
                    "installed by the "
                    "administrator of the tenant or consented to by any user in the tenant. You might have "
                    "sent your "
                    "authentication request to the wrong tenant.",
                },
            )
        token, expires_on = self._token_for(identity, resource)
        issued = expires_on - 86399
        return HttpResponse.json(
            200,
            {
                "access_token": token,
                "client_id": identity.client_id,
                "expires_in": "86399",
                "expires_on": str(expires_on),
                "ext_expires_in": "86399",
                "not_before": str(issued),
                "resource": resource,
                "token_type": "Bearer",
            },
        )

    # Cloud Shell -------------------------------------------------------------------------------

    def _cloud_shell(self, request: HttpRequest) -> HttpResponse:
        if request.header("metadata").lower() != "true":
            return HttpResponse.json(
                400,
                {"error": "invalid_request", "error_description": "Required metadata header not specified"},
            )
        resource = request.form().get("resource", "")
        if self._cloud_shell_user is None:
            return HttpResponse.json(
                400, {"error": "invalid_request", "error_description": "Identity not found"}
            )
        if not known_resource(resource):
            return HttpResponse.json(
                400,
                {
                    "error": "invalid_resource",
                    "error_description": f"AADSTS500011: The resource principal named {resource} "
                    "was not found.",
                },
            )
        user = self._dir.user(self._cloud_shell_user)
        tenant = self._dir.tenant_by_name(user.tenant)
        issued_at = now()
        claims = user_claims(user, tenant, resource, _AZURE_CLI_APP, issued_at)
        token = self._signer.sign(claims)
        return HttpResponse.json(
            200,
            {
                "access_token": token,
                "refresh_token": "",
                "expires_in": "3599",
                "expires_on": str(claims["exp"]),
                "not_before": str(claims["nbf"]),
                "resource": resource,
                "token_type": "Bearer",
            },
        )
