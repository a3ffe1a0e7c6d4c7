"""Reading an access token's claims without verifying it, and the identity they describe.

The token itself is never stored in a report or printed; only the claims below are kept.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aoai_doctor.azure.endpoints import Cloud


def decode_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT as a dict, or None when the value is not a JWT (no signature check)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a token speaks for, from its claims."""

    tenant_id: str | None
    object_id: str | None
    app_id: str | None
    """``appid`` (v1 tokens) or ``azp`` (v2): the client application."""
    user: str | None
    """``upn``, ``unique_name`` or ``preferred_username`` for user tokens."""
    kind: str | None
    """``idtyp`` (``app`` or ``user``), inferred from the claims when absent."""

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Identity:
        """Read the identity claims of an Entra ID access token."""
        def text(*names: str) -> str | None:
            for name in names:
                value = claims.get(name)
                if isinstance(value, str) and value:
                    return value
            return None

        user = text("upn", "unique_name", "preferred_username")
        kind = text("idtyp") or ("user" if user or "scp" in claims else ("app" if "roles" in claims or
                                                                         text("appid", "azp") else None))
        return cls(tenant_id=text("tid"), object_id=text("oid"), app_id=text("appid", "azp"), user=user, kind=kind)

    @property
    def principal_type(self) -> str:
        """``User`` or ``ServicePrincipal``, as ``az role assignment create`` wants it."""
        return "User" if self.kind == "user" else "ServicePrincipal"

    def describe(self) -> str:
        """One line: ``user alice@contoso.com (oid …) in tenant …`` or ``app … (oid …) in tenant …``."""
        who = f"user {self.user}" if self.user else f"app {self.app_id or '?'}"
        return f"{who} (object id {self.object_id or '?'}) in tenant {self.tenant_id or '?'}"

    def as_dict(self) -> dict[str, str | None]:
        """For the JSON report."""
        return {"tenant_id": self.tenant_id, "object_id": self.object_id, "app_id": self.app_id, "user": self.user,
                "kind": self.kind}

    def same_principal(self, other: Identity) -> bool:
        """Whether two identities are the same principal in the same tenant."""
        return (self.tenant_id, self.object_id) == (other.tenant_id, other.object_id)


_ISSUER_CLOUDS = (
    ("login.microsoftonline.us", Cloud.US_GOV),
    ("login.chinacloudapi.cn", Cloud.CHINA),
    ("sts.chinacloudapi.cn", Cloud.CHINA),
    ("login.microsoftonline.com", Cloud.PUBLIC),
    ("sts.windows.net", Cloud.PUBLIC),
)


def issuer_cloud(issuer: str) -> Cloud | None:
    """The cloud whose Entra host issued a token (from its ``iss`` claim), if the host is known."""
    host = urlsplit(issuer).hostname or ""
    for suffix, cloud in _ISSUER_CLOUDS:
        if host == suffix:
            return cloud
    return None
