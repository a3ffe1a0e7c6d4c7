"""A small Azure Resource Manager (management.azure.com) stand-in.

Enough control plane for a client to find its resource: list subscriptions, read the account
(kind, endpoint, ``disableLocalAuth``, network settings), list and read its deployments
(``properties.model`` = ``{format, name, version}``, as in the spec's ``GetDeployment.json``) and list
the account's models (``ListAccountModels.json``: a retired version carries
``deprecation.inference``, the retirement date-time). A deployment itself has no deprecation field
in the Microsoft.CognitiveServices spec (``DeploymentModel`` is format, name, version, publisher,
source, sourceAccount, callRateLimit). Every role the stand-in knows includes
``Microsoft.CognitiveServices/*/read``, so any role assignment grants read.
"""

from __future__ import annotations

import uuid
from typing import Any

import jwt

from aoai_doctor.standin.directory import Directory
from aoai_doctor.standin.scenario import ServiceName
from aoai_doctor.standin.tokens import TokenSigner
from aoai_doctor.standin.wire import HttpRequest, HttpResponse

AUDIENCES = (
    "https://management.azure.com",
    "https://management.azure.com/",
    "https://management.core.windows.net",
    "https://management.core.windows.net/",
)


class ArmService:
    """Answers a few read-only ARM requests about the scenario's resource."""

    service = ServiceName.ARM

    def __init__(self, directory: Directory, signer: TokenSigner) -> None:
        self._dir = directory
        self._signer = signer

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request."""
        headers = (("x-ms-request-id", str(uuid.uuid4())), ("x-ms-correlation-request-id", str(uuid.uuid4())))
        scheme, _, token = request.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _arm_error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers,
            )
        try:
            claims = self._signer.verify(token, AUDIENCES).claims
        except jwt.PyJWTError:
            return _arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.", headers)
        resource = self._dir.scenario.resource
        tenant = self._dir.resource_tenant
        if str(claims.get("tid", "")).lower() != tenant.id.lower():
            return _arm_error(
                401,
                "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer '{claims.get('iss', '')}'. It must match the "
                "tenant "
                f"'https://sts.windows.net/{tenant.id}/' associated with this subscription. Please use the "
                "authority "
                f"(URL) 'https://login.windows.net/{tenant.id}' to get the token.",
                headers,
            )
        oid = str(claims.get("oid", ""))
        may_read = bool(self._dir.roles_of(oid))
        path = request.path.rstrip("/").lower()
        arm_id = resource.arm_id.lower()
        if path == "/subscriptions":
            value = [self._subscription()] if may_read else []
            return HttpResponse.json(
                200, {"value": value, "count": {"type": "Total", "value": len(value)}}, headers
            )
        accounts = f"/subscriptions/{resource.subscription_id}/providers/microsoft.cognitiveservices/accounts"
        if path == accounts.lower():  # list by subscription: only what the caller may read
            return HttpResponse.json(200, {"value": [self._account()] if may_read else []}, headers)
        deployment_prefix = f"{arm_id}/deployments/"
        if path in (arm_id, f"{arm_id}/deployments", f"{arm_id}/models") or path.startswith(deployment_prefix):
            if not may_read:
                action = "Microsoft.CognitiveServices/accounts/" + (
                    "read" if path == arm_id else "models/read" if path.endswith("/models") else "deployments/read"
                )
                return _arm_error(
                    403,
                    "AuthorizationFailed",
                    f"The client '{oid}' with object id '{oid}' does not have authorization to perform "
                    "action "
                    f"'{action}' over scope '{resource.arm_id}' or the scope is invalid. If access was "
                    "recently "
                    "granted, please refresh your credentials.",
                    headers,
                )
            if path == arm_id:
                return HttpResponse.json(200, self._account(), headers)
            if path.endswith("/models"):
                return HttpResponse.json(200, {"value": self._models()}, headers)
            deployments = self._deployments()
            if path.startswith(deployment_prefix):
                wanted = path[len(deployment_prefix) :]
                found = next((d for d in deployments if str(d["name"]).lower() == wanted), None)
                if found is None:
                    return _arm_error(
                        404, "ResourceNotFound", f"The Resource '{request.path}' was not found.", headers
                    )
                return HttpResponse.json(200, found, headers)
            return HttpResponse.json(200, {"value": deployments}, headers)
        return _arm_error(404, "ResourceNotFound", f"The Resource '{request.path}' was not found.", headers)

    def _subscription(self) -> dict[str, Any]:
        resource = self._dir.scenario.resource
        return {
            "id": f"/subscriptions/{resource.subscription_id}",
            "subscriptionId": resource.subscription_id,
            "tenantId": self._dir.resource_tenant.id,
            "displayName": "Stand-in subscription",
            "state": "Enabled",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
            "authorizationSource": "RoleBased",
        }

    def _account(self) -> dict[str, Any]:
        resource = self._dir.scenario.resource
        endpoint = (
            f"https://{resource.custom_host}/"
            if resource.custom_subdomain
            else f"https://{resource.regional_host}/"
        )
        acls: dict[str, Any] = {"defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []}
        if resource.allowed_ips:
            acls = {
                "defaultAction": "Deny",
                "ipRules": [{"value": c} for c in resource.allowed_ips],
                "virtualNetworkRules": [],
            }
        return {
            "id": resource.arm_id,
            "name": resource.name,
            "type": "Microsoft.CognitiveServices/accounts",
            "kind": resource.kind,
            "location": resource.region,
            "sku": {"name": "S0"},
            "properties": {
                "endpoint": endpoint,
                "allowProjectManagement": bool(resource.projects),
                "customSubDomainName": resource.name if resource.custom_subdomain else None,
                "disableLocalAuth": resource.disable_local_auth,
                "publicNetworkAccess": "Enabled" if resource.public_network_access else "Disabled",
                "networkAcls": acls,
                "provisioningState": "Succeeded",
            },
        }

    def _deployments(self) -> list[dict[str, Any]]:
        resource = self._dir.scenario.resource
        return [
            {
                "id": f"{resource.arm_id}/deployments/{d.name}",
                "name": d.name,
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "sku": {"name": "Standard", "capacity": max(1, d.tpm // 1000)},
                "properties": {
                    "model": {"format": "OpenAI", "name": d.model, "version": d.model_version},
                    "versionUpgradeOption": "NoAutoUpgrade" if d.retired else "OnceNewDefaultVersionAvailable",
                    "provisioningState": "Succeeded",
                    "rateLimits": [
                        {"key": "request", "renewalPeriod": 60, "count": d.rpm},
                        {"key": "token", "renewalPeriod": 60, "count": d.tpm},
                    ],
                },
            }
            for d in self._dir.scenario.deployments
        ]


    def _models(self) -> list[dict[str, Any]]:
        """The account's models (one per deployed model version); retired versions carry their date."""
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for d in self._dir.scenario.deployments:
            entry: dict[str, Any] = {
                "format": "OpenAI",
                "name": d.model,
                "version": d.model_version,
                "lifecycleStatus": "Deprecated" if d.retired else "GenerallyAvailable",
            }
            if d.retired is not None:
                retired = f"{d.retired.isoformat()}T00:00:00Z"
                entry["deprecation"] = {"fineTune": retired, "inference": retired}
            seen.setdefault((d.model, d.model_version), entry)
        return list(seen.values())


def _arm_error(status: int, code: str, message: str, headers: tuple[tuple[str, str], ...]) -> HttpResponse:
    return HttpResponse.json(status, {"error": {"code": code, "message": message}}, headers)
