"""A small Azure Resource Manager (management.azure.com) stand-in.

Enough control plane for a client to find its resource: list subscriptions, read the account
(endpoint, ``disableLocalAuth``, network settings) and list its deployments. Every role the
stand-in knows includes ``Microsoft.CognitiveServices/*/read``, so any role assignment grants read.
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
        if path in (arm_id, f"{arm_id}/deployments"):
            if not may_read:
                action = "Microsoft.CognitiveServices/accounts/" + (
                    "deployments/read" if path.endswith("s") else "read"
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
            return HttpResponse.json(200, {"value": self._deployments()}, headers)
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
            "kind": "OpenAI",
            "location": resource.region,
            "sku": {"name": "S0"},
            "properties": {
                "endpoint": endpoint,
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
                    "provisioningState": "Succeeded",
                    "rateLimits": [
                        {"key": "request", "renewalPeriod": 60, "count": d.rpm},
                        {"key": "token", "renewalPeriod": 60, "count": d.tpm},
                    ],
                },
            }
            for d in self._dir.scenario.deployments
        ]


def _arm_error(status: int, code: str, message: str, headers: tuple[tuple[str, str], ...]) -> HttpResponse:
    return HttpResponse.json(status, {"error": {"code": code, "message": message}}, headers)
