"""Reading an Azure OpenAI endpoint value: host family, cloud, path shape, pasted request URLs.

Pure functions only. The host and path rules come from the service reference (endpoint shapes,
v1 base URL, URL hygiene): ``*.openai.azure.com``, ``*.cognitiveservices.azure.com``,
``*.services.ai.azure.com``, sovereign ``.azure.us`` / ``.azure.cn``, regional
``<region>.api.cognitive.microsoft.com``, API Management ``*.azure-api.net``.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


class HostFamily(str, enum.Enum):
    """What kind of host an endpoint names."""

    OPENAI = "openai"  # {name}.openai.azure.com and sovereign twins
    COGNITIVE_SERVICES = "cognitiveservices"  # {name}.cognitiveservices.azure.com
    FOUNDRY = "foundry"  # {name}.services.ai.azure.com
    REGIONAL = "regional"  # {region}.api.cognitive.microsoft.com
    APIM = "apim"  # {name}.azure-api.net
    OPENAI_PLATFORM = "openai-platform"  # api.openai.com: not Azure
    LOOPBACK = "loopback"  # 127.0.0.1, localhost: a local proxy or the stand-in
    OTHER = "other"


class Cloud(str, enum.Enum):
    """The Azure cloud an endpoint belongs to; it decides the token scope and authority."""

    PUBLIC = "public"
    US_GOV = "usgov"
    CHINA = "china"
    UNKNOWN = "unknown"


SCOPES = {
    Cloud.PUBLIC: "https://cognitiveservices.azure.com/.default",
    Cloud.US_GOV: "https://cognitiveservices.azure.us/.default",
    Cloud.CHINA: "https://cognitiveservices.azure.cn/.default",
}

_SUFFIXES: tuple[tuple[str, HostFamily, Cloud], ...] = (
    (".openai.azure.com", HostFamily.OPENAI, Cloud.PUBLIC),
    (".openai.azure.us", HostFamily.OPENAI, Cloud.US_GOV),
    (".openai.azure.cn", HostFamily.OPENAI, Cloud.CHINA),
    (".cognitiveservices.azure.com", HostFamily.COGNITIVE_SERVICES, Cloud.PUBLIC),
    (".cognitiveservices.azure.us", HostFamily.COGNITIVE_SERVICES, Cloud.US_GOV),
    (".cognitiveservices.azure.cn", HostFamily.COGNITIVE_SERVICES, Cloud.CHINA),
    (".services.ai.azure.com", HostFamily.FOUNDRY, Cloud.PUBLIC),
    (".api.cognitive.microsoft.com", HostFamily.REGIONAL, Cloud.PUBLIC),
    (".api.cognitive.microsoft.us", HostFamily.REGIONAL, Cloud.US_GOV),
    (".api.cognitive.azure.cn", HostFamily.REGIONAL, Cloud.CHINA),
    (".azure-api.net", HostFamily.APIM, Cloud.UNKNOWN),
    (".azure-api.us", HostFamily.APIM, Cloud.US_GOV),
    (".azure-api.cn", HostFamily.APIM, Cloud.CHINA),
)

# A custom subdomain: 2 to 64 letters, digits and hyphens, not starting or ending with a hyphen.
_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_PLACEHOLDER = re.compile(r"[<>{}]|your[-_ ]?(resource|endpoint|instance)|resource[-_ ]?name|xxxx|\.\.\.", re.I)
_OPERATIONS = ("chat/completions", "completions", "embeddings", "responses", "images/generations",
               "audio/transcriptions", "audio/speech", "audio/translations")
_REQUEST_PATH = re.compile(
    r"^(?P<prefix>.*?)/openai/deployments/(?P<deployment>[^/]+)(?:/(?P<operation>[a-z/_]+?))?/*$", re.I
)
_V1_PATH = re.compile(r"^(?P<prefix>.*?)/openai/v1(?:/(?P<operation>[a-z/_]+?))?/*$", re.I)
_PROJECT_PATH = re.compile(r"^/api/projects/(?P<project>[^/]+)/*$", re.I)


class PathShape(str, enum.Enum):
    """What the path of the endpoint value says about how it was meant."""

    ROOT = "root"  # the resource endpoint, as it should be
    OPENAI_SUFFIX = "openai-suffix"  # ends in /openai: the SDK adds it again
    DOUBLED_OPENAI = "doubled-openai"  # /openai/openai
    V1 = "v1"  # /openai/v1: the v1 base URL
    REQUEST_URL = "request-url"  # a whole request URL: /openai/deployments/{d}/{op}
    FOUNDRY_PROJECT = "foundry-project"  # /api/projects/{p}: the Foundry project API, not AOAI inference
    PREFIX = "prefix"  # another path: fine behind APIM, suspicious elsewhere


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    """Everything read off an endpoint value, before any network."""

    raw: str
    """The value exactly as given."""
    scheme: str
    host: str
    port: int | None
    path: str
    """The path as given, without query."""
    family: HostFamily
    cloud: Cloud
    resource_name: str | None
    """The custom subdomain (or region, for regional hosts)."""
    shape: PathShape
    base_url: str
    """``scheme://host[:port][/apim-prefix]`` without /openai or a trailing slash: what SDKs call the
    endpoint."""
    deployment: str | None = None
    """Deployment name recovered from a pasted request URL."""
    api_version: str | None = None
    """api-version recovered from a pasted URL's query."""
    operation: str | None = None
    """Operation recovered from a pasted request URL (``chat/completions`` …)."""
    has_query: bool = False
    doubled_slash: bool = False
    trailing_slash: bool = False
    quoted_or_padded: bool = False
    """The value carries surrounding quotes or white space (a common ``.env`` mistake)."""
    placeholder: bool = False
    """The value still holds a template placeholder such as ``<your-resource-name>``."""

    @property
    def is_v1(self) -> bool:
        """Whether the value points at the v1 surface (``/openai/v1``)."""
        return self.shape is PathShape.V1

    @property
    def default_scope(self) -> str | None:
        """The token scope this endpoint's cloud expects, when the cloud is known."""
        if self.shape is PathShape.FOUNDRY_PROJECT:
            return "https://ai.azure.com/.default"
        return SCOPES.get(self.cloud)


class EndpointParseError(ValueError):
    """The value is not a URL at all."""


def classify_host(host: str) -> tuple[HostFamily, Cloud, str | None]:
    """Host family, cloud and resource name (subdomain or region) of a host name."""
    host = host.lower().rstrip(".")
    if host in ("localhost",) or _is_loopback_ip(host):
        return HostFamily.LOOPBACK, Cloud.UNKNOWN, None
    if host == "api.openai.com":
        return HostFamily.OPENAI_PLATFORM, Cloud.UNKNOWN, None
    for suffix, family, cloud in _SUFFIXES:
        if host.endswith(suffix) and len(host) > len(suffix):
            name = host[: -len(suffix)]
            return family, cloud, name
    return HostFamily.OTHER, Cloud.UNKNOWN, None


def valid_subdomain(name: str) -> bool:
    """Whether a resource name is a legal custom subdomain."""
    return bool(_SUBDOMAIN.match(name)) and len(name) >= 2


def parse(raw: str) -> EndpointInfo:
    """Read an endpoint value. Raises :class:`EndpointParseError` only when there is no host at all."""
    value = raw.strip().strip("\"'").strip()
    padded = value != raw
    if "://" not in value and value and not value.startswith("/"):
        probe = urlsplit("https://" + value)
        scheme = ""
    else:
        probe = urlsplit(value)
        scheme = probe.scheme.lower()
    try:
        host = probe.hostname or ""
        port = probe.port
    except ValueError as exc:  # a port that is not a number
        raise EndpointParseError(f"not a valid URL: {exc}") from None
    if not host:
        raise EndpointParseError("no host name in the value")
    family, cloud, name = classify_host(host)
    path = probe.path
    doubled = "//" in path
    collapsed = re.sub(r"/{2,}", "/", path)
    trailing = (collapsed.endswith("/") and collapsed != "/") or (path == "/" and not doubled)
    query = parse_qs(probe.query)
    versions = query.get("api-version") or query.get("api_version") or []
    api_version = versions[0] if versions else None
    netloc = host if port is None else f"{host}:{port}"
    origin = f"{scheme or 'https'}://{netloc}"
    shape, prefix, deployment, operation = _path_shape(collapsed, family)
    return EndpointInfo(
        raw=raw,
        scheme=scheme,
        host=host.lower(),
        port=port,
        path=path,
        family=family,
        cloud=cloud,
        resource_name=name,
        shape=shape,
        base_url=origin + prefix.rstrip("/"),
        deployment=deployment,
        api_version=api_version,
        operation=operation,
        has_query=bool(probe.query),
        doubled_slash=doubled,
        trailing_slash=trailing,
        quoted_or_padded=padded,
        placeholder=bool(_PLACEHOLDER.search(value)),
    )


def _path_shape(path: str, family: HostFamily) -> tuple[PathShape, str, str | None, str | None]:
    """Shape of a (slash-collapsed) path, the prefix before ``/openai``, and recovered parts."""
    trimmed = path.rstrip("/")
    if not trimmed:
        return PathShape.ROOT, "", None, None
    if match := _REQUEST_PATH.match(trimmed):
        operation = match["operation"]
        return PathShape.REQUEST_URL, match["prefix"], match["deployment"], operation
    if match := _V1_PATH.match(trimmed):
        return PathShape.V1, match["prefix"], None, match["operation"]
    lowered = trimmed.lower()
    if lowered.endswith("/openai/openai"):
        return PathShape.DOUBLED_OPENAI, trimmed[: -len("/openai/openai")], None, None
    if lowered.endswith("/openai"):
        return PathShape.OPENAI_SUFFIX, trimmed[: -len("/openai")], None, None
    if _PROJECT_PATH.match(trimmed) and family in (HostFamily.FOUNDRY, HostFamily.OTHER):
        return PathShape.FOUNDRY_PROJECT, "", None, None
    return PathShape.PREFIX, trimmed, None, None


def known_operation(operation: str | None) -> bool:
    """Whether a recovered operation is one the data plane serves."""
    return operation is not None and operation.lower() in _OPERATIONS


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# The Cognitive Services first-party app: some tokens carry its id as their audience.
COGNITIVE_SERVICES_APP_ID = "7d312290-28c8-473c-a0ed-8e53749b6d6d"
# Scopes for the management plane or Graph: tokens for them never work on the data plane.
MANAGEMENT_SCOPE = re.compile(
    r"^https://(management\.(azure\.com|core\.windows\.net|usgovcloudapi\.net|chinacloudapi\.cn)"
    r"|graph\.microsoft\.com)/?",
    re.I,
)
