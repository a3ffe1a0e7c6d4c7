"""Reading an access token's claims without verifying it: the identity they describe, the cloud they come
from, and whether an endpoint accepts them (audience, cloud, the Foundry scope).

The token itself is never stored in a report or printed; only the claims below are kept.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aoai_doctor.azure.endpoints import (
    CLOUD_NAMES,
    COGNITIVE_SERVICES_APP_ID,
    PROJECT_SCOPE,
    SCOPES,
    Cloud,
    EndpointInfo,
    HostFamily,
    PathShape,
)
from aoai_doctor.model import Finding, Severity
from aoai_doctor.record import record


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


@record
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


# Which cloud's Entra a token comes from, by the host in its ``iss`` claim:
# - v1 access tokens (the kind the Cognitive Services resource is issued) name ``https://sts.windows.net/<tid>/``
#   in the public cloud *and* in Azure Government: Azure/Azurite (src/blob/utils/constants.ts) lists the
#   storage service's issuer prefixes as "BlackForest: https://sts.microsoftonline.de/", "Fairfax:
#   https://sts.windows.net/", "Mooncake: https://sts.chinacloudapi.cn/", "Production: https://sts.windows.net/".
#   So ``sts.windows.net`` alone does not tell the public cloud from US Government.
# - Azure China: "In the tokens that Azure AD returns, the issuer is sts.chinacloudapi.cn" (Azure China's token
#   reference, MicrosoftDocs/mooncaketest articles/active-directory/active-directory-token-and-claims.md).
# - v2 tokens name the authority: ``https://login.microsoftonline.com/<tid>/v2.0`` in the public cloud, and the
#   sovereign authority hosts elsewhere (azure-identity ``AzureAuthorityHosts``: login.microsoftonline.us,
#   login.chinacloudapi.cn; MSAL ``msal/authority.py`` adds the aliases login.usgovcloudapi.net and
#   login.partner.microsoftonline.cn).
_ISSUER_HOSTS: Mapping[str, frozenset[Cloud]] = {
    "sts.windows.net": frozenset({Cloud.PUBLIC, Cloud.US_GOV}),
    "login.microsoftonline.com": frozenset({Cloud.PUBLIC}),
    "login.windows.net": frozenset({Cloud.PUBLIC}),
    "login.microsoft.com": frozenset({Cloud.PUBLIC}),
    "login.microsoftonline.us": frozenset({Cloud.US_GOV}),
    "login.usgovcloudapi.net": frozenset({Cloud.US_GOV}),
    "sts.chinacloudapi.cn": frozenset({Cloud.CHINA}),
    "login.chinacloudapi.cn": frozenset({Cloud.CHINA}),
    "login.partner.microsoftonline.cn": frozenset({Cloud.CHINA}),
}

# The authority host a credential signs in at (``AZURE_AUTHORITY_HOST``; azure-identity's default is
# login.microsoftonline.com). MSAL counts sts.windows.net among the public cloud's authority aliases
# (msal/application.py, regional authorities).
_AUTHORITY_HOSTS: Mapping[str, Cloud] = {
    "login.microsoftonline.com": Cloud.PUBLIC,
    "login.windows.net": Cloud.PUBLIC,
    "login.microsoft.com": Cloud.PUBLIC,
    "sts.windows.net": Cloud.PUBLIC,
    "login.microsoftonline.us": Cloud.US_GOV,
    "login.usgovcloudapi.net": Cloud.US_GOV,
    "login.chinacloudapi.cn": Cloud.CHINA,
    "login.partner.microsoftonline.cn": Cloud.CHINA,
}

# The data-plane audiences, by cloud: the cognitiveservices resource of each cloud (the service reference,
# token audience / scope) and the Foundry project resource, which exists in the public cloud.
_AUDIENCE_HOSTS: Mapping[str, Cloud] = {
    "cognitiveservices.azure.com": Cloud.PUBLIC,
    "cognitiveservices.azure.us": Cloud.US_GOV,
    "cognitiveservices.azure.cn": Cloud.CHINA,
    "ai.azure.com": Cloud.PUBLIC,
}


def host_of(value: str) -> str:
    """The lower-case host of a URL or bare host name ('' when there is none)."""
    value = value.strip()
    try:
        return (urlsplit(value if "://" in value else f"https://{value}").hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def issuer_clouds(issuer: str) -> frozenset[Cloud]:
    """The clouds whose Entra could have issued a token with this ``iss`` (empty when the host is unknown).
    ``sts.windows.net`` is both the public cloud's and US Government's."""
    return _ISSUER_HOSTS.get(host_of(issuer), frozenset())


def issuer_cloud(issuer: str) -> Cloud | None:
    """The one cloud an ``iss`` claim names, or None when its host is unknown or shared by two clouds."""
    clouds = issuer_clouds(issuer)
    return next(iter(clouds)) if len(clouds) == 1 else None


def authority_cloud(authority: str) -> Cloud | None:
    """The cloud of an authority host (``login.microsoftonline.us`` or ``https://login.microsoftonline.us/``)."""
    return _AUTHORITY_HOSTS.get(host_of(authority)) if authority else None


def audience_cloud(audience: str) -> Cloud | None:
    """The cloud of a data-plane audience (``https://cognitiveservices.azure.us`` …); None for others, and for
    the Cognitive Services app id, which every cloud shares."""
    return _AUDIENCE_HOSTS.get(host_of(audience)) if audience else None


@record
class TokenCloud:
    """What a token's claims (and the authority it came from, when known) say about its cloud."""

    audience: Cloud | None
    """The cloud of the resource the token is for, from ``aud``."""
    issuer: frozenset[Cloud]
    """The clouds whose Entra could have issued it, from ``iss`` and the authority host; empty when unknown."""
    evidence: tuple[str, ...]
    """What was read, for messages: ``aud https://cognitiveservices.azure.us (Azure Government)`` …"""

    @property
    def cloud(self) -> Cloud | None:
        """The one cloud every piece of evidence allows, or None when there is none or more than one."""
        if self.audience is None:
            return next(iter(self.issuer)) if len(self.issuer) == 1 else None
        if self.issuer and self.audience not in self.issuer:
            return None
        return self.audience

    @property
    def conflicting(self) -> bool:
        """Whether the audience names one cloud and the issuer another (a token of one cloud's Entra for
        another cloud's resource)."""
        return bool(self.issuer) and self.audience is not None and self.audience not in self.issuer


def token_cloud(claims: Mapping[str, Any], authority: str | None = None) -> TokenCloud:
    """Decide a token's cloud from its audience, its issuer, and the authority host the credential signed in
    at (pass it only when the token came from a credential that uses ``AZURE_AUTHORITY_HOST``)."""
    evidence: list[str] = []
    aud = claims.get("aud")
    aud_cloud = audience_cloud(aud) if isinstance(aud, str) else None
    if aud_cloud is not None:
        evidence.append(f"aud {aud} ({CLOUD_NAMES[aud_cloud]})")
    iss = claims.get("iss")
    iss_clouds = issuer_clouds(iss) if isinstance(iss, str) else frozenset()
    if iss_clouds:
        names = " or ".join(CLOUD_NAMES[c] for c in (Cloud.PUBLIC, Cloud.US_GOV, Cloud.CHINA) if c in iss_clouds)
        evidence.append(f"iss host {host_of(str(iss))} ({names})")
    auth_cloud = authority_cloud(authority) if authority else None
    if auth_cloud is not None:
        evidence.append(f"authority {host_of(str(authority))} ({CLOUD_NAMES[auth_cloud]})")
    issuer: frozenset[Cloud] = iss_clouds
    if auth_cloud is not None:
        both = iss_clouds & {auth_cloud}
        # The token's own iss wins over an authority it did not come from.
        issuer = both if both else (iss_clouds or frozenset({auth_cloud}))
    return TokenCloud(aud_cloud, issuer, tuple(evidence))


# --- What a token means for an endpoint ---------------------------------------------------------------------------

# Who accepts which audience, besides the cloud's cognitiveservices resource:
# - a Foundry project's surface wants https://ai.azure.com: azure-ai-projects 2.x asks for it, and a
#   cognitiveservices token gets 401 there, the body naming https://ai.azure.com as the audience it expects
#   (microsoft/agent-framework#7201, "every request fails with HTTP 401");
# - a Foundry (AIServices) resource takes both: its 401 reads "audience is incorrect
#   (https://cognitiveservices.azure.com/ or https://ai.azure.com/)" (Azure/azure-sdk-for-net#50872), and
#   Microsoft's samples call its /openai/v1 with the ai.azure.com scope (microsoft/agent-framework
#   dotnet/samples/02-agents/AgentProviders/azure/Agent_With_AzureFoundryModel);
# - a resource of kind OpenAI names only the cognitiveservices audience in its 401 ("audience is incorrect
#   (https://cognitiveservices.azure.com)", Azure-Samples/azure-search-openai-demo#458). Its host
#   (*.openai.azure.com, *.cognitiveservices.azure.com) is shared with AIServices resources, so an
#   ai.azure.com token there is a warning, not an error.
AI_AUDIENCE = PROJECT_SCOPE.removesuffix("/.default")
PROJECT_401 = ("the project surface answers such a token with 401, naming https://ai.azure.com as the audience it "
               "expects (microsoft/agent-framework#7201)")
CLASSIC_AI_SCOPE = ("a Foundry (AIServices) resource accepts https://ai.azure.com as well as cognitiveservices; a "
                    "resource of kind OpenAI names only https://cognitiveservices.azure.com in its 401 ('audience "
                    "is incorrect')")
FOUNDRY_BOTH = ("a Foundry resource's endpoints accept https://ai.azure.com as well as cognitiveservices; its 401 "
                "reads 'audience is incorrect (https://cognitiveservices.azure.com/ or https://ai.azure.com/)' "
                "(Azure/azure-sdk-for-net#50872)")

# Sources that sign in at AZURE_AUTHORITY_HOST (azure-identity 1.27: MSAL- and AadClient-based credentials call
# get_default_authority(); managed identity and the developer tools use their own cloud settings).
AUTHORITY_HOST_SOURCES = frozenset({"EnvironmentCredential", "WorkloadIdentityCredential",
                                    "SharedTokenCacheCredential"})
SIGN_IN_TO = {
    Cloud.PUBLIC: "az cloud set --name AzureCloud && az login (and unset AZURE_AUTHORITY_HOST)",
    Cloud.US_GOV: "az cloud set --name AzureUSGovernment && az login, or AZURE_AUTHORITY_HOST=https://login.microsoftonline.us",
    Cloud.CHINA: "az cloud set --name AzureChinaCloud && az login, or AZURE_AUTHORITY_HOST=https://login.chinacloudapi.cn",
}


def is_project(info: EndpointInfo | None) -> bool:
    """Whether the endpoint is a Foundry project."""
    return info is not None and info.shape is PathShape.FOUNDRY_PROJECT


def audience_problem(info: EndpointInfo | None, aud: str) -> Finding | None:
    """Whether the endpoint accepts the token's audience; None when it does."""
    resource = (info.default_scope if info and info.default_scope else SCOPES[Cloud.PUBLIC]).removesuffix("/.default")
    given = aud.rstrip("/")
    if is_project(info):
        if given == AI_AUDIENCE:
            return None
        if host_of(aud).startswith("cognitiveservices.azure") or aud == COGNITIVE_SERVICES_APP_ID:
            return Finding(
                Severity.ERROR,
                f"the token's audience is {aud}, but the Foundry project endpoint accepts only {AI_AUDIENCE}",
                cause="scope_wrong_resource",
                fix=f"request the token for {PROJECT_SCOPE} (AIProjectClient.get_openai_client() does)",
                detail=PROJECT_401,
            )
    elif given == resource or aud == COGNITIVE_SERVICES_APP_ID:
        return None
    elif given == AI_AUDIENCE:
        if info is not None and info.family is HostFamily.FOUNDRY:
            return None
        return Finding(
            Severity.WARNING,
            f"the token's audience is {aud}: the endpoint takes it only if it is a Foundry (AIServices) resource",
            cause="scope_wrong_resource",
            fix=f"request the token for {resource}/.default, which every Azure OpenAI and Foundry resource accepts",
            detail=CLASSIC_AI_SCOPE,
        )
    return Finding(
        Severity.ERROR,
        f"the token's audience is {aud or 'missing'}, not {resource}",
        cause="scope_wrong_resource",
        fix=f"request the token for {resource}/.default",
        detail="the service answers 401 'audience is incorrect' to such a token",
    )


def cloud_problem(info: EndpointInfo | None, cloud: TokenCloud) -> Finding | None:
    """An error when the token's audience or issuer belongs to another cloud than the endpoint's."""
    if info is None or info.cloud is Cloud.UNKNOWN:
        return None
    wrong_audience = cloud.audience is not None and cloud.audience is not info.cloud
    wrong_issuer = bool(cloud.issuer) and info.cloud not in cloud.issuer
    if not (wrong_audience or wrong_issuer):
        return None
    where = CLOUD_NAMES[info.cloud]
    return Finding(
        Severity.ERROR,
        f"the token belongs to another cloud than the endpoint ({where}): {', '.join(cloud.evidence)}",
        cause="scope_wrong_resource",
        fix=f"sign in to {where}: {SIGN_IN_TO[info.cloud]}; and ask for {info.default_scope}",
        detail="a token's cloud is its audience's and its issuer's; sts.windows.net issues v1 tokens in both the "
               "public cloud and Azure Government, so it alone decides nothing",
    )


def foundry_scope_problem(scope: str, info: EndpointInfo | None, expected: str) -> Finding | None:
    """The Foundry scope on an endpoint that is not a project, or a cognitiveservices scope on a project; None
    when neither (or when the endpoint takes it: a Foundry resource's own host)."""
    host = host_of(scope)
    if is_project(info) and host.startswith("cognitiveservices.azure"):
        return Finding(Severity.ERROR, f"{scope} is the Azure OpenAI resource scope; the Foundry project endpoint "
                       f"takes {PROJECT_SCOPE}", cause="scope_wrong_resource",
                       fix=f"use {PROJECT_SCOPE} (what AIProjectClient.get_openai_client() asks for)",
                       detail=PROJECT_401)
    if host != "ai.azure.com" or is_project(info) or (info is not None and info.family is HostFamily.FOUNDRY):
        return None
    if info is not None and info.cloud in (Cloud.US_GOV, Cloud.CHINA):
        return Finding(Severity.ERROR, f"{scope} is a public-cloud scope; the endpoint is in {CLOUD_NAMES[info.cloud]}",
                       cause="scope_wrong_resource", fix=f"use {expected}")
    return Finding(
        Severity.WARNING,
        f"{scope} is the Foundry scope; this endpoint may be a resource of kind OpenAI, which takes only {expected}",
        cause="scope_wrong_resource",
        fix=f"use {expected}, which every Azure OpenAI and Foundry resource accepts",
        detail=CLASSIC_AI_SCOPE,
    )
