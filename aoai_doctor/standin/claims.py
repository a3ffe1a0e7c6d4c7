"""Access-token claim sets shaped like the ones Entra issues (v1.0 access tokens).

Azure resources such as ``https://cognitiveservices.azure.com`` accept v1.0 tokens, so ``iss`` is
``https://sts.windows.net/{tid}/`` and ``aud`` is the resource URI without ``/.default``.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from aoai_doctor.standin.scenario import App, ManagedIdentity, Tenant, User

#: Resources the stand-in's Entra knows service principals for (scope minus ``/.default``).
KNOWN_RESOURCES: frozenset[str] = frozenset(
    {
        "https://cognitiveservices.azure.com",
        "https://management.azure.com",
        "https://management.core.windows.net",
        "https://graph.microsoft.com",
        "https://ai.azure.com",
        "https://storage.azure.com",
        "https://vault.azure.net",
    }
)

#: Validity window: tokens are back-dated by five minutes like Entra does for clock skew.
SKEW_SECONDS = 300
LIFETIME_SECONDS = 3599
MANAGED_IDENTITY_LIFETIME_SECONDS = 86399


def known_resource(resource: str) -> bool:
    """Whether ``resource`` (with or without a trailing slash) has a service principal."""
    return resource.rstrip("/") in KNOWN_RESOURCES


def _opaque(length: int = 48) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(length)).decode().rstrip("=")


def _common(audience: str, tenant: Tenant, issued_at: int, lifetime: int) -> dict[str, Any]:
    issuer = f"https://sts.windows.net/{tenant.id}/"
    return {
        "aud": audience,
        "iss": issuer,
        "iat": issued_at - SKEW_SECONDS,
        "nbf": issued_at - SKEW_SECONDS,
        "exp": issued_at + lifetime,
        "aio": _opaque(60),
        "idp": issuer,
        "rh": f"0.{_opaque(40)}.",
        "tid": tenant.id,
        "uti": _opaque(16),
        "ver": "1.0",
    }


def app_claims(
    app: App, tenant: Tenant, audience: str, issued_at: int, *, certificate: bool
) -> dict[str, Any]:
    """Claims of an app-only token for ``app`` (client credentials)."""
    claims = _common(audience, tenant, issued_at, LIFETIME_SECONDS)
    claims.update(
        {
            "appid": app.client_id,
            "appidacr": "2" if certificate else "1",
            "idtyp": "app",
            "oid": app.object_id,
            "sub": app.object_id,
        }
    )
    return claims


def identity_claims(
    identity: ManagedIdentity, tenant: Tenant, audience: str, issued_at: int
) -> dict[str, Any]:
    """Claims of a managed-identity token."""
    claims = _common(audience, tenant, issued_at, MANAGED_IDENTITY_LIFETIME_SECONDS)
    claims.update(
        {
            "appid": identity.client_id,
            "appidacr": "2",
            "idtyp": "app",
            "oid": identity.object_id,
            "sub": identity.object_id,
            "xms_mirid": identity.resource_id,
        }
    )
    return claims


def user_claims(user: User, tenant: Tenant, audience: str, client_id: str, issued_at: int) -> dict[str, Any]:
    """Claims of a delegated token for ``user`` obtained by ``client_id``."""
    claims = _common(audience, tenant, issued_at, LIFETIME_SECONDS)
    given, _, family = user.display_name.partition(" ")
    claims.update(
        {
            "acr": "1",
            "amr": ["pwd", "mfa"] if user.mfa_required else ["pwd"],
            "appid": client_id,
            "appidacr": "0",
            "family_name": family or given,
            "given_name": given,
            "idtyp": "user",
            "ipaddr": "127.0.0.1",
            "name": user.display_name,
            "oid": user.object_id,
            "puid": uuid.uuid5(uuid.NAMESPACE_OID, user.object_id).hex[:16].upper(),
            "scp": "user_impersonation",
            "sub": _opaque(32),
            "unique_name": user.upn,
            "upn": user.upn,
        }
    )
    return claims
