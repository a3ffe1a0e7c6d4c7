"""The Microsoft Entra ID (login.microsoftonline.com) stand-in.

Serves OIDC discovery, instance discovery, signing keys and the v2.0 token endpoint for the
client-credentials grant (client secret, certificate assertion, federated workload assertion) and
the refresh-token grant. Failures are answered with Entra's JSON error bodies: ``error``,
``error_description`` ("AADSTSnnnn: … Trace ID: … Correlation ID: … Timestamp: …"),
``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id`` and ``error_uri``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from aoai_doctor.standin.claims import app_claims, known_resource, user_claims
from aoai_doctor.standin.directory import Directory, secret_expired
from aoai_doctor.standin.scenario import App, ServiceName, Tenant
from aoai_doctor.standin.tokens import TokenSigner, now
from aoai_doctor.standin.wire import HttpRequest, HttpResponse

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ALIAS_TENANTS = frozenset({"common", "organizations", "consumers"})
_TOKEN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token/?$")
_OIDC_PATH = re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration/?$")
_DISCOVERY_PATH = re.compile(r"^/(?P<tenant>[^/]+)/discovery/instance/?$")
_KEYS_PATH = re.compile(r"^/(?P<tenant>[^/]+)/discovery/(v2\.0/)?keys/?$")
_CERT_DOCS = (
    "Review the documentation at "
    "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
)
_FIC_DOCS = (
    "Check your federated identity credential Subject, Audience and Issuer against the presented assertion. "
    "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
)


class EntraError(Exception):
    """An AADSTS failure, rendered by :func:`aadsts_response`."""

    def __init__(
        self,
        status: int,
        error: str,
        code: int,
        message: str,
        *,
        suberror: str | None = None,
        claims: str | None = None,
    ) -> None:
        super().__init__(f"AADSTS{code}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message
        self.suberror = suberror
        self.claims = claims


def aadsts_response(failure: EntraError, correlation_id: str) -> HttpResponse:
    """Entra's JSON error body for ``failure``."""
    trace_id = str(uuid.uuid4())
    stamp = dt.datetime.now(dt.timezone.utc)
    description = (
        f"AADSTS{failure.code}: {failure.message} Trace ID: {trace_id} Correlation ID: {correlation_id} "
        f"Timestamp: {stamp.strftime('%Y-%m-%d %H:%M:%SZ')}"
    )
    body: dict[str, Any] = {
        "error": failure.error,
        "error_description": description,
        "error_codes": [failure.code],
        "timestamp": stamp.strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={failure.code}",
    }
    if failure.suberror:
        body["suberror"] = failure.suberror
    if failure.claims:
        body["claims"] = failure.claims
    return HttpResponse.json(failure.status, body, _entra_headers(trace_id))


def _entra_headers(trace_id: str) -> tuple[tuple[str, str], ...]:
    return (
        ("Cache-Control", "no-store, no-cache"),
        ("Pragma", "no-cache"),
        ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
        ("X-Content-Type-Options", "nosniff"),
        ("x-ms-request-id", trace_id),
        ("x-ms-ests-server", "2.1.19283.5 - EUS ProdSlices"),
    )


def tenant_not_found(tenant: str, *, discovery: bool) -> EntraError:
    """AADSTS90002 (``invalid_tenant`` from discovery, ``invalid_request`` from the token endpoint)."""
    return EntraError(
        400,
        "invalid_tenant" if discovery else "invalid_request",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
        "into the correct cloud. Check with your subscription administrator, this may happen if there are no "
        "active subscriptions for the tenant.",
    )


class EntraService:
    """Answers Entra requests from a :class:`Directory`."""

    service = ServiceName.ENTRA

    def __init__(self, directory: Directory, signer: TokenSigner) -> None:
        self._dir = directory
        self._signer = signer

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Route one request."""
        correlation_id = request.header("client-request-id") or str(uuid.uuid4())
        try:
            return self._route(request)
        except EntraError as failure:
            return aadsts_response(failure, correlation_id)

    def _route(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if request.method == "GET":
            if match := _OIDC_PATH.match(path):
                return self._openid_configuration(request, match["tenant"])
            if match := _DISCOVERY_PATH.match(path):
                return self._instance_discovery(request)
            if _KEYS_PATH.match(path):
                return HttpResponse.json(200, self._signer.jwks())
        if request.method == "POST" and (match := _TOKEN_PATH.match(path)):
            return self._token(request, match["tenant"])
        return HttpResponse(
            404,
            b"<html><body><h2>Sorry, but we're having trouble signing you in.</h2></body></html>",
            (("Content-Type", "text/html; charset=utf-8"),),
        )

    # discovery ---------------------------------------------------------------------------------

    def _openid_configuration(self, request: HttpRequest, tenant_ref: str) -> HttpResponse:
        base = request.base_url
        if tenant_ref.lower() in _ALIAS_TENANTS:
            tid = "{tenantid}"
        else:
            tenant = self._dir.tenant(tenant_ref)
            if tenant is None:
                raise tenant_not_found(tenant_ref, discovery=True)
            tid = tenant.id
        body = {
            "token_endpoint": f"{base}/{tid if tid != '{tenantid}' else tenant_ref}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/{tenant_ref}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/{tenant_ref}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tenant_ref}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tenant_ref}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "tid",
                "ver",
            ],
            "kerberos_endpoint": f"{base}/{tenant_ref}/kerberos",
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }
        return HttpResponse.json(200, body, _entra_headers(str(uuid.uuid4())))

    def _instance_discovery(self, request: HttpRequest) -> HttpResponse:
        host = request.base_url.split("://", 1)[1]
        authorize = request.query.get("authorization_endpoint", "")
        tenant = "common"
        if authorize:
            parts = authorize.split("://", 1)[-1].split("/")
            tenant = parts[1] if len(parts) > 1 and parts[1] else "common"
        body = {
            "tenant_discovery_endpoint": f"{request.base_url}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [
                {
                    "preferred_network": host,
                    "preferred_cache": host,
                    "aliases": sorted(
                        {host, "login.microsoftonline.com", "login.windows.net", "login.microsoft.com"}
                    ),
                }
            ],
        }
        return HttpResponse.json(200, body, _entra_headers(str(uuid.uuid4())))

    # token endpoint ----------------------------------------------------------------------------

    def _token(self, request: HttpRequest, tenant_ref: str) -> HttpResponse:
        form = request.form()
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            return self._client_credentials(request, tenant_ref, form)
        if grant == "refresh_token":
            return self._refresh(tenant_ref, form)
        raise EntraError(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'.",
        )

    def _resolve_tenant(self, tenant_ref: str) -> Tenant:
        tenant = self._dir.tenant(tenant_ref)
        if tenant is None:
            raise tenant_not_found(tenant_ref, discovery=False)
        return tenant

    def _client_credentials(
        self, request: HttpRequest, tenant_ref: str, form: dict[str, str]
    ) -> HttpResponse:
        tenant = self._resolve_tenant(tenant_ref)
        client_id = form.get("client_id", "")
        app = self._dir.app(client_id)
        if app is None or app.tenant != tenant.name:
            raise EntraError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant.display_name}'. "
                "This can happen if the application has not been installed by the administrator of the "
                "tenant or "
                "consented to by any user in the tenant. You may have sent your authentication request to "
                "the "
                "wrong tenant.",
            )
        audience = self._client_credential_resource(form.get("scope", ""), tenant)
        certificate = self._authenticate_client(request, app, tenant, form)
        if app.conditional_access_blocked:
            raise _conditional_access()
        claims = app_claims(app, tenant, audience, now(), certificate=certificate)
        token = self._signer.sign(claims)
        body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
        return HttpResponse.json(200, body, _entra_headers(str(uuid.uuid4())))

    @staticmethod
    def _client_credential_resource(scope: str, tenant: Tenant) -> str:
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            if len(scopes) == 1:
                raise EntraError(
                    400,
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {scope} is not valid. Client credential flows must have "
                    "a scope "
                    "value with /.default suffixed to the resource identifier (application ID URI).",
                )
            raise EntraError(
                400,
                "invalid_scope",
                70011,
                "The provided request must include a 'scope' input parameter. The provided value for the "
                "input "
                f"parameter 'scope' is not valid. The scope {scope} is not valid.",
            )
        resource = scopes[0][: -len("/.default")]
        _require_resource(resource, tenant)
        return resource

    def _authenticate_client(
        self, request: HttpRequest, app: App, tenant: Tenant, form: dict[str, str]
    ) -> bool:
        """Check the client's secret or assertion; return whether a certificate/assertion was used."""
        if "client_secret" in form:
            secret = self._dir.secret(app)
            if secret is None or form["client_secret"] != secret:
                raise EntraError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the "
                    "client "
                    f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
                )
            if secret_expired(app, dt.datetime.now(dt.timezone.utc)):
                raise EntraError(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{app.client_id}' are expired. Visit the "
                    "Azure portal "
                    "to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
                    "certificate "
                    "credentials for added security: https://aka.ms/certCreds.",
                )
            return False
        assertion = form.get("client_assertion", "")
        if not assertion or form.get("client_assertion_type") != JWT_BEARER:
            raise EntraError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise EntraError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        if unverified.get("iss") == app.client_id:
            self._check_certificate_assertion(request, app, header, assertion)
        else:
            self._check_federated_assertion(app, assertion, unverified)
        return True

    def _check_certificate_assertion(
        self, request: HttpRequest, app: App, header: dict[str, Any], assertion: str
    ) -> None:
        registered = self._dir.certificate(app)
        presented = _thumbprint_from_header(header)
        matches = registered is not None and presented in (registered.sha1, registered.sha256)
        if registered is None or not matches:
            raise EntraError(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint "
                "of key "
                f"used by client: '{presented}', Please visit the Azure Portal, Graph Explorer or directly "
                "use MS "
                f"Graph to see configured keys for app Id '{app.client_id}'. Review the documentation at "
                "https://docs.microsoft.com/en-us/graph/deployment to determine the corresponding service "
                "endpoint "
                "and "
                "https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to "
                "build a query request URL, such as "
                f"'https://graph.microsoft.com/beta/applications/{app.client_id}'.]",
            )
        public_key = registered.cert.public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        try:
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256", "PS256"],
                options={"verify_aud": False, "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise EntraError(
                401,
                "invalid_client",
                700027,
                f"Client assertion failed signature validation. {_CERT_DOCS}",
            ) from None
        _check_lifetime(claims)
        audience = claims.get("aud", "")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(
            str(a).rstrip("/").endswith(("/oauth2/v2.0/token", "/oauth2/token", "/v2.0")) for a in audiences
        ):
            raise EntraError(
                401,
                "invalid_client",
                700021,
                f"Client assertion audience claim does not match Realm issuer. {_CERT_DOCS}",
            )

    def _check_federated_assertion(self, app: App, assertion: str, unverified: dict[str, Any]) -> None:
        try:
            claims = jwt.decode(
                assertion,
                self._signer.key.public_key(),
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            raise EntraError(
                401,
                "invalid_client",
                700211,
                f"No matching federated identity record found for presented assertion issuer "
                f"'{unverified.get('iss', '')}'. {_FIC_DOCS}",
            ) from None
        _check_lifetime(claims)
        issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
        raw_aud = claims.get("aud", [])
        audiences = [str(a) for a in (raw_aud if isinstance(raw_aud, list) else [raw_aud])]
        records = [(f.issuer or self._dir.federated_issuer(app), f) for f in app.federated]
        by_issuer = [f for iss, f in records if iss == issuer]
        if not by_issuer:
            raise EntraError(
                401,
                "invalid_client",
                700211,
                f"No matching federated identity record found for presented assertion issuer '{issuer}'. "
                f"{_FIC_DOCS}",
            )
        by_subject = [f for f in by_issuer if f.subject == subject]
        if not by_subject:
            raise EntraError(
                401,
                "invalid_client",
                700213,
                f"No matching federated identity record found for presented assertion subject '{subject}'. "
                f"{_FIC_DOCS}",
            )
        if not any(f.audience in audiences for f in by_subject):
            raise EntraError(
                401,
                "invalid_client",
                700212,
                "No matching federated identity record found for presented assertion audience "
                f"'{' '.join(audiences)}'. {_FIC_DOCS}",
            )

    # refresh-token grant -----------------------------------------------------------------------

    def _refresh(self, tenant_ref: str, form: dict[str, str]) -> HttpResponse:
        grant = self._dir.redeem_refresh_token(form.get("refresh_token", ""))
        if grant is None:
            raise EntraError(
                400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        tenant = self._dir.tenant_by_name(grant.user.tenant)
        if tenant_ref.lower() not in _ALIAS_TENANTS and self._dir.tenant(tenant_ref) != tenant:
            if self._dir.tenant(tenant_ref) is None:
                raise tenant_not_found(tenant_ref, discovery=False)
            raise EntraError(
                400,
                "invalid_grant",
                50020,
                f"User account '{grant.user.upn}' from identity provider "
                f"'https://sts.windows.net/{tenant.id}/' does "
                f"not exist in tenant '{tenant_ref}' and cannot access the application "
                f"'{form.get('client_id', '')}' in that tenant.",
            )
        if grant.expired:
            issued = dt.datetime.fromtimestamp(grant.issued_at - 91 * 86400, dt.timezone.utc)
            raise EntraError(
                400,
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity. The token was issued on "
                f"{issued.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z and was inactive for 90.00:00:00.",
            )
        scope = form.get("scope", "")
        resources = [s for s in scope.split() if s not in ("offline_access", "openid", "profile", "email")]
        if len(resources) != 1 or not resources[0].endswith(("/.default", "/user_impersonation")):
            raise EntraError(
                400,
                "invalid_scope",
                70011,
                f"The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is "
                "not valid.",
            )
        resource = resources[0].rsplit("/", 1)[0]
        _require_resource(resource, tenant)
        if grant.user.conditional_access_blocked:
            raise _conditional_access()
        if grant.user.mfa_required:
            claims_challenge = json.dumps(
                {"access_token": {"capolids": {"essential": True, "values": [str(uuid.uuid4())]}}}
            )
            raise EntraError(
                400,
                "interaction_required",
                50076,
                "Due to a configuration change made by your administrator, or because you moved to a new "
                "location, "
                f"you must use multi-factor authentication to access '{resource}'.",
                suberror="basic_action",
                claims=claims_challenge,
            )
        issued_at = now()
        client_id = form.get("client_id", "")
        access = self._signer.sign(user_claims(grant.user, tenant, resource, client_id, issued_at))
        refresh = self._dir.issue_refresh_token(grant.user, issued_at)
        client_info = _b64(json.dumps({"uid": grant.user.object_id, "utid": tenant.id}))
        id_token = self._signer.sign(
            {
                "aud": client_id,
                "iss": f"https://login.microsoftonline.com/{tenant.id}/v2.0",
                "iat": issued_at,
                "nbf": issued_at,
                "exp": issued_at + 3600,
                "name": grant.user.display_name,
                "oid": grant.user.object_id,
                "preferred_username": grant.user.upn,
                "sub": grant.user.object_id,
                "tid": tenant.id,
                "ver": "2.0",
            }
        )
        body = {
            "token_type": "Bearer",
            "scope": f"{resource}/user_impersonation {resource}/.default",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": id_token,
            "client_info": client_info,
        }
        return HttpResponse.json(200, body, _entra_headers(str(uuid.uuid4())))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _thumbprint_from_header(header: dict[str, Any]) -> str:
    for name in ("x5t#S256", "x5t"):
        value = header.get(name)
        if isinstance(value, str):
            padded = value + "=" * (-len(value) % 4)
            try:
                return base64.urlsafe_b64decode(padded).hex().upper()
            except ValueError:
                return value
    return ""


def _check_lifetime(claims: dict[str, Any]) -> None:
    current = now()
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    if (
        not isinstance(exp, (int, float))
        or exp < current
        or (isinstance(nbf, (int, float)) and nbf > current + 300)
    ):

        def iso(value: Any) -> str:
            if not isinstance(value, (int, float)):
                return "unknown"
            return dt.datetime.fromtimestamp(value, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")

        raise EntraError(
            400,
            "invalid_client",
            700024,
            f"Client assertion is not within its valid time range. Current time: {iso(current)}, assertion "
            "valid "
            f"from {iso(nbf)}, expiry time of assertion {iso(exp)}. {_CERT_DOCS}",
        )


def _require_resource(resource: str, tenant: Tenant) -> None:
    if not known_resource(resource):
        raise EntraError(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant named "
            f"{tenant.display_name}. "
            "This can happen if the application has not been installed by the administrator of the tenant or "
            "consented to by any user in the tenant. You might have sent your authentication request to the "
            "wrong "
            "tenant.",
        )


def _conditional_access() -> EntraError:
    return EntraError(
        400,
        "invalid_grant",
        53003,
        "Access has been blocked by Conditional Access policies. The access policy does not allow token "
        "issuance.",
        suberror="message_only",
    )
