"""Reading an Azure OpenAI endpoint value: host family, cloud, path shape, pasted request URLs; and how
each kind of target is called (the notes AOAI102 gives for it).

Pure functions only. The host and path rules come from the service reference (endpoint shapes,
v1 base URL, URL hygiene): ``*.openai.azure.com``, ``*.cognitiveservices.azure.com``,
``*.services.ai.azure.com``, sovereign ``.azure.us`` / ``.azure.cn``, regional
``<region>.api.cognitive.microsoft.com``, API Management ``*.azure-api.net``.

Besides the resource endpoint, three newer targets are read:

- a Microsoft Foundry project, ``https://<resource>.services.ai.azure.com/api/projects/<project>``
  (``_project`` for the default one). azure-ai-projects 2.x (``azure/ai/projects/_patch.py``,
  checked in 2.10.0) builds its OpenAI client as ``OpenAI(base_url=<project endpoint> + "/openai/v1",
  api_key=get_bearer_token_provider(credential, "https://ai.azure.com/.default"))``
  (``_resolve_openai_base_url``, ``_get_openai_api_key``); ``_configuration.py`` defaults
  ``credential_scopes`` to ``["https://ai.azure.com/.default"]``;
- the Azure AI Model Inference route, ``https://<resource>.services.ai.azure.com/models`` with
  ``/models/chat/completions?api-version=2024-05-01-preview`` (azure-ai-inference's default
  ``api_version``, ``azure/ai/inference/_configuration.py`` in 1.0.0b9); the body's ``model`` picks the
  deployment;
- ``/openai/v1/deployments/<d>/...``: what ``AzureOpenAI`` sends when given a v1 base URL. Its
  maintainers: "The 404 comes from using `AzureOpenAI` with a `/openai/v1/` base URL: that client adds
  the older `/deployments/{model}` route" (openai/openai-python#2584); the fix is ``OpenAI(base_url=
  ".../openai/v1/", api_key=token_provider)``, with a callable key from openai 1.106.0 on.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
from urllib.parse import parse_qs, urlsplit

from aoai_doctor.model import Finding, Severity
from aoai_doctor.record import record


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


CLOUD_NAMES = {
    Cloud.PUBLIC: "public cloud",
    Cloud.US_GOV: "Azure Government",
    Cloud.CHINA: "Azure China",
    Cloud.UNKNOWN: "unknown cloud",
}

APIM_KEY_HEADER = "Ocp-Apim-Subscription-Key"
"""The header API Management reads a subscription key from, unless the API renames it (often to api-key)."""

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
_MODELS_OPERATIONS = ("chat/completions", "embeddings", "images/embeddings", "info")
_REQUEST_PATH = r"(?i)^(?P<prefix>.*?)/openai/deployments/(?P<deployment>[^/]+)(?:/(?P<operation>[a-z/_]+?))?/*$"
_V1_DEPLOYMENTS_PATH = (r"(?i)^(?P<prefix>.*?)/openai/v1/deployments/(?P<deployment>[^/]+)"
                        r"(?:/(?P<operation>[a-z/_]+?))?/*$")
_V1_PATH = r"(?i)^(?P<prefix>.*?)/openai/v1(?:/(?P<operation>[a-z/_]+?))?/*$"
_PROJECT_PATH = r"(?i)^(?P<prefix>/api/projects/(?P<project>[^/]+))(?:/openai/v1(?:/(?P<operation>[a-z/_]+?))?)?/*$"
_MODELS_PATH = r"(?i)^/models(?:/(?P<operation>[a-z/_]+?))?/*$"
# Hosts a project or Model Inference path is read on: the Foundry host, a custom domain in front of it,
# and loopback (a local proxy or the stand-in).
_PROJECT_FAMILIES = (HostFamily.FOUNDRY, HostFamily.OTHER, HostFamily.LOOPBACK)
_MODELS_FAMILIES = (HostFamily.FOUNDRY, HostFamily.LOOPBACK)

# The Azure AI Model Inference route (``https://<resource>.services.ai.azure.com/models/...``) takes its
# own api-version: azure-ai-inference sends ``2024-05-01-preview`` (``api_version`` default in
# azure/ai/inference/_configuration.py, 1.0.0b9), the version the Foundry portal's Target URI shows.
MODELS_INFERENCE_VERSION = "2024-05-01-preview"

PROJECT_SCOPE = "https://ai.azure.com/.default"
"""The Foundry project scope: azure-ai-projects 2.x asks for it (``_configuration.py``, ``_patch.py``)."""


class PathShape(str, enum.Enum):
    """What the path of the endpoint value says about how it was meant."""

    ROOT = "root"  # the resource endpoint, as it should be
    OPENAI_SUFFIX = "openai-suffix"  # ends in /openai: the SDK adds it again
    DOUBLED_OPENAI = "doubled-openai"  # /openai/openai
    V1 = "v1"  # /openai/v1: the v1 base URL
    REQUEST_URL = "request-url"  # a whole request URL: /openai/deployments/{d}/{op}
    V1_DEPLOYMENTS = "v1-deployments"  # /openai/v1/deployments/{d}/...: AzureOpenAI given a v1 base URL (404)
    FOUNDRY_PROJECT = "foundry-project"  # /api/projects/{p}[/openai/v1]: a Foundry project, OpenAI surface v1
    MODELS_INFERENCE = "models-inference"  # /models[/chat/completions]: the Azure AI Model Inference route
    PREFIX = "prefix"  # another path: fine behind APIM, suspicious elsewhere


@record
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
    endpoint. For a Foundry project, ``https://<host>/api/projects/<project>`` (what ``AIProjectClient``
    takes); for the Model Inference route, the origin (the route is ``{base_url}/models/...``)."""
    deployment: str | None = None
    """Deployment name recovered from a pasted request URL."""
    project: str | None = None
    """The Foundry project's name (``_project`` for the default project)."""
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
    userinfo: bool = False
    """The value carries ``user[:password]@`` before the host."""

    @property
    def is_v1(self) -> bool:
        """Whether calls go to the v1 surface (``/openai/v1``): the v1 base URL, or a Foundry project,
        whose OpenAI surface is ``<project endpoint>/openai/v1``."""
        return self.shape in (PathShape.V1, PathShape.FOUNDRY_PROJECT)

    @property
    def v1_base_url(self) -> str | None:
        """``base_url + "/openai/v1"`` for the v1 and Foundry project shapes (what ``OpenAI(base_url=...)``
        takes), else None."""
        return f"{self.base_url}/openai/v1" if self.is_v1 else None

    @property
    def models_inference(self) -> bool:
        """Whether the value is the Azure AI Model Inference route: calls go to
        ``{base_url}/models/chat/completions?api-version=2024-05-01-preview`` with the deployment as
        the body's ``model``."""
        return self.shape is PathShape.MODELS_INFERENCE

    @property
    def default_scope(self) -> str | None:
        """The token scope this endpoint expects: the Foundry project scope for a project, else the
        cognitiveservices scope of the endpoint's cloud, when the cloud is known."""
        if self.shape is PathShape.FOUNDRY_PROJECT:
            return PROJECT_SCOPE
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


@functools.lru_cache(maxsize=256)
def parse(raw: str) -> EndpointInfo:
    """Read an endpoint value. Raises :class:`EndpointParseError` only when there is no host at all."""
    value = raw.strip().strip("\"'").strip()
    padded = value != raw
    try:
        if "://" not in value and value and not value.startswith("/"):
            probe = urlsplit("https://" + value)
            scheme = ""
        else:
            probe = urlsplit(value)
            scheme = probe.scheme.lower()
    except ValueError as exc:  # "Invalid IPv6 URL" for https://[::1 and the like
        raise EndpointParseError(f"not a valid URL: {exc}") from None
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
    shape, prefix, deployment, operation, project = _path_shape(collapsed, family)
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
        project=project,
        api_version=api_version,
        operation=operation,
        has_query=bool(probe.query),
        doubled_slash=doubled,
        trailing_slash=trailing,
        quoted_or_padded=padded,
        placeholder=bool(_PLACEHOLDER.search(value)),
        userinfo=probe.username is not None or "@" in probe.netloc,
    )


def _path_shape(path: str, family: HostFamily) -> tuple[PathShape, str, str | None, str | None, str | None]:
    """Shape of a (slash-collapsed) path, the prefix the base URL keeps, and the recovered deployment,
    operation and project."""
    trimmed = path.rstrip("/")
    if not trimmed:
        return PathShape.ROOT, "", None, None, None
    if match := re.match(_V1_DEPLOYMENTS_PATH, trimmed):
        return PathShape.V1_DEPLOYMENTS, match["prefix"], match["deployment"], match["operation"], None
    if match := re.match(_REQUEST_PATH, trimmed):
        return PathShape.REQUEST_URL, match["prefix"], match["deployment"], match["operation"], None
    if family in _PROJECT_FAMILIES and (match := re.match(_PROJECT_PATH, trimmed)):
        return PathShape.FOUNDRY_PROJECT, match["prefix"], None, match["operation"], match["project"]
    if match := re.match(_V1_PATH, trimmed):
        return PathShape.V1, match["prefix"], None, match["operation"], None
    if family in _MODELS_FAMILIES and (match := re.match(_MODELS_PATH, trimmed)):
        return PathShape.MODELS_INFERENCE, "", None, match["operation"], None
    lowered = trimmed.lower()
    if lowered.endswith("/openai/openai"):
        return PathShape.DOUBLED_OPENAI, trimmed[: -len("/openai/openai")], None, None, None
    if lowered.endswith("/openai"):
        return PathShape.OPENAI_SUFFIX, trimmed[: -len("/openai")], None, None, None
    return PathShape.PREFIX, trimmed, None, None, None


def looks_like_project_path(path: str) -> bool:
    """Whether a path has the Foundry project form (``/api/projects/<p>``), whatever the host."""
    return bool(re.match(_PROJECT_PATH, re.sub(r"/{2,}", "/", path).rstrip("/")))


def known_operation(operation: str | None) -> bool:
    """Whether a recovered operation is one the data plane serves."""
    return operation is not None and operation.lower() in _OPERATIONS


def known_models_operation(operation: str | None) -> bool:
    """Whether a recovered operation is one the Model Inference route serves (``chat/completions``,
    ``embeddings``, ``images/embeddings``, ``info``; azure-ai-inference 1.0.0b9's routes)."""
    return operation is not None and operation.lower() in _MODELS_OPERATIONS


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# The Cognitive Services first-party app: some tokens carry its id as their audience.
COGNITIVE_SERVICES_APP_ID = "7d312290-28c8-473c-a0ed-8e53749b6d6d"
# Scopes for the management plane or Graph: tokens for them never work on the data plane.
MANAGEMENT_SCOPE = (r"(?i)^https://(management\.(azure\.com|core\.windows\.net|usgovcloudapi\.net|chinacloudapi\.cn)"
                    r"|graph\.microsoft\.com)/?")


# --- How each target is called -------------------------------------------------------------------------------------


def describe(info: EndpointInfo) -> str:
    """One line: host family, resource, project, cloud."""
    families = {
        HostFamily.OPENAI: "Azure OpenAI resource",
        HostFamily.COGNITIVE_SERVICES: "Azure AI services resource",
        HostFamily.FOUNDRY: "Foundry resource",
        HostFamily.REGIONAL: "regional endpoint",
        HostFamily.APIM: "API Management gateway",
        HostFamily.LOOPBACK: "loopback",
        HostFamily.OPENAI_PLATFORM: "OpenAI platform",
        HostFamily.OTHER: "unknown host",
    }
    parts = [families[info.family]]
    if info.resource_name and info.family is not HostFamily.REGIONAL:
        parts[0] += f" '{info.resource_name}'"
    if info.project:
        parts.append(f"project '{info.project}'")
    if info.cloud is not Cloud.UNKNOWN:
        parts.append(CLOUD_NAMES[info.cloud])
    return ", ".join(parts)


def openai_v1_client(base_url: str, scope: str | None) -> str:
    """The v1 client as openai/openai-python#2584's maintainers give it, ``OpenAI(base_url=..., api_key=<token
    provider>)``. The provider is written as a placeholder: ``api_key=<value>`` is redacted as a secret."""
    scope = scope or SCOPES[Cloud.PUBLIC]
    return (f'OpenAI(base_url="{base_url}", api_key=<token provider>) with <token provider> = '
            f'get_bearer_token_provider(credential, "{scope}") (openai >= 1.106)')


def project_finding(info: EndpointInfo) -> Finding:
    """How a Foundry project is called: azure-ai-projects 2.x's get_openai_client()."""
    return Finding(
        Severity.INFO,
        f"Foundry project '{info.project}': its OpenAI surface is {info.v1_base_url}, token scope {PROJECT_SCOPE}",
        detail=f'AIProjectClient(endpoint="{info.base_url}", credential=...).get_openai_client() returns '
               f"{openai_v1_client(info.v1_base_url or '', PROJECT_SCOPE)} (azure-ai-projects 2.x); no api-version, "
               "the request's 'model' is a deployment name, and the data-plane role is Azure AI User")


def v1_deployments_finding(info: EndpointInfo) -> Finding:
    """The error for AzureOpenAI's ``/openai/v1/deployments/...`` URL."""
    deployment = info.deployment or "<deployment>"
    client = openai_v1_client(info.base_url + "/openai/v1/", info.default_scope)
    return Finding(
        Severity.ERROR,
        f"the URL puts /deployments/{deployment} under /openai/v1: that is AzureOpenAI given a v1 base URL, which "
        "adds the older /deployments/{model} route and gets 404",
        cause="endpoint_wrong",
        fix=f'{client}; model="{deployment}", no api_version',
        detail="openai/openai-python#2584: the v1 API is called with OpenAI, not AzureOpenAI. To stay on AzureOpenAI, "
               f"give it azure_endpoint={info.base_url} and a dated api_version instead")


def models_inference_findings(info: EndpointInfo) -> list[Finding]:
    """How the Model Inference route is called, and an operation it does not serve."""
    version = info.api_version or MODELS_INFERENCE_VERSION
    found = [Finding(
        Severity.INFO,
        f"{info.base_url}/models is the Azure AI Model Inference route: the request body's 'model' picks the "
        f"deployment, with api-version {MODELS_INFERENCE_VERSION}",
        detail=f"calls go to {info.base_url}/models/chat/completions?api-version={version}; azure-ai-inference's "
               f"ChatCompletionsClient takes endpoint={info.base_url}/models")]
    if info.operation and not known_models_operation(info.operation):
        found.append(Finding(Severity.WARNING, f"'{info.operation}' is not a Model Inference operation",
                             cause="endpoint_wrong",
                             fix=f"use {info.base_url}/models (operations: chat/completions, embeddings, info)"))
    return found
