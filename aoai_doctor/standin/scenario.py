"""Scenarios: the small world the stand-in serves.

A scenario names tenants, app registrations, users, managed identities, one Azure OpenAI resource
(or AI Services account with Foundry projects) with its deployments and role assignments, an
optional API Management gateway in front of it, faults to inject, and — in ``[client]`` — the
client-side settings that reproduce it. This module is the model: frozen dataclasses and enums.
:mod:`aoai_doctor.standin.scenario_toml` reads scenario files into it, strictly: an unknown key or a
reference to an undeclared name raises :class:`ScenarioError` naming the file and key. The format is
documented in ``docs/standin.md``.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from aoai_doctor.record import record

__all__ = [
    "App",
    "BudgetExhausted",
    "ClientSettings",
    "CredentialKind",
    "Deployment",
    "DeploymentKind",
    "EndpointChoice",
    "Fault",
    "FaultKind",
    "FederatedCredential",
    "Gateway",
    "GatewayKey",
    "IdentityKind",
    "IdentitySelector",
    "ManagedIdentity",
    "Operation",
    "Project",
    "Resource",
    "RoleAssignment",
    "Sampling",
    "Scenario",
    "ScenarioError",
    "ServiceName",
    "Tenant",
    "User",
]

_ID_NAMESPACE = uuid.UUID("5b7e6f3c-2f0e-4c1a-9a55-0a0d0c7e0d1e")
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
#: The scope ``AIProjectClient`` asks for by default (azure-ai-projects ``_configuration.py``).
FOUNDRY_SCOPE = "https://ai.azure.com/.default"
#: APIM's default subscription-key header (learn.microsoft.com/azure/api-management/api-management-subscriptions).
APIM_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_FEDERATED_AUDIENCE = "api://AzureADTokenExchange"


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file and the offending key."""


class DeploymentKind(enum.Enum):
    """Which operations a deployed model supports (a chat model also answers the Responses API)."""

    CHAT = "chat"
    COMPLETION = "completion"
    EMBEDDING = "embedding"


class Operation(enum.Enum):
    """The call a scenario's client makes."""

    CHAT = "chat"
    COMPLETION = "completion"
    EMBEDDING = "embedding"
    RESPONSES = "responses"


class Sampling(enum.Enum):
    """What a deployment does with ``temperature`` and ``top_p``."""

    ANY = "any"
    """Any value (non-reasoning models)."""
    DEFAULT_ONLY = "default-only"
    """Only the default (1): gpt-5 and o3/o4 style reasoning models."""
    UNSUPPORTED = "unsupported"
    """Refused whenever present: o1 style reasoning models."""


class BudgetExhausted(enum.Enum):
    """How a reasoning deployment answers when reasoning uses up the whole output budget."""

    LENGTH = "length"
    """200 with ``finish_reason: "length"`` and empty content (Responses: ``status: "incomplete"``)."""
    ERROR = "error"
    """400 "Could not finish the message because max_tokens or model output limit was reached." """


class GatewayKey(enum.Enum):
    """The API Management subscription key a scenario's client sends."""

    VALID = "valid"
    WRONG = "wrong"
    NONE = "none"


class IdentityKind(enum.Enum):
    """System- or user-assigned managed identity."""

    SYSTEM = "system"
    USER = "user"


class IdentitySelector(enum.Enum):
    """How a client names a user-assigned identity to the managed-identity endpoint."""

    CLIENT_ID = "client_id"
    OBJECT_ID = "object_id"
    RESOURCE_ID = "resource_id"


class CredentialKind(enum.Enum):
    """The credential a scenario's client uses."""

    CLIENT_SECRET = "client-secret"
    CLIENT_CERTIFICATE = "client-certificate"
    WORKLOAD_IDENTITY = "workload-identity"
    MANAGED_IDENTITY_APP_SERVICE = "managed-identity-app-service"
    MANAGED_IDENTITY_IMDS = "managed-identity-imds"
    MANAGED_IDENTITY_CLOUD_SHELL = "managed-identity-cloud-shell"
    SHARED_TOKEN_CACHE = "shared-token-cache"
    API_KEY = "api-key"


class EndpointChoice(enum.Enum):
    """Which endpoint of the resource the client calls."""

    CUSTOM = "custom"
    """``https://<name>.openai.azure.com`` (custom subdomain)."""
    REGIONAL = "regional"
    """``https://<region>.api.cognitive.microsoft.com`` (shared regional host; keys only)."""
    V1 = "v1"
    """``https://<name>.openai.azure.com/openai/v1`` (the v1 base URL, no api-version)."""
    PROJECT = "project"
    """``https://<name>.services.ai.azure.com/api/projects/<project>`` (a Foundry project endpoint)."""
    GATEWAY = "gateway"
    """``https://<gateway>.azure-api.net/<path>`` (API Management in front of the resource)."""


class ServiceName(enum.Enum):
    """The stand-in services a fault can target."""

    ANY = "any"
    ENTRA = "entra"
    MANAGED_IDENTITY = "managed-identity"
    AOAI = "aoai"
    ARM = "arm"
    GATEWAY = "gateway"


class FaultKind(enum.Enum):
    """Transport-level misbehaviour the stand-in can inject."""

    HANG = "hang"
    """Accept the request and never answer."""
    SLOW_BODY = "slow-body"
    """Send the real answer's headers at once, then drip its body over ``delay_ms``."""
    RESET = "reset"
    """Reset the TCP connection (RST) instead of answering."""
    TRUNCATED_JSON = "truncated-json"
    """Send the real answer with its JSON body cut in half (Content-Length matches the cut body)."""
    HTML_ERROR = "html-error"
    """Answer with a corporate-proxy style HTML error page (status ``status``, default 502)."""
    EMPTY_200 = "empty-200"
    """Answer 200 with an empty body."""
    SERVER_ERROR = "server-error"
    """Answer with the service's own 5xx body (status ``status``, default 500)."""
    OVERSIZED = "oversized"
    """Answer 200 with a JSON body of ``size_bytes`` (default 8 MiB)."""
    DELAY = "delay"
    """Wait ``delay_ms`` and then answer normally."""


@record
class Tenant:
    """An Entra tenant."""

    name: str
    id: str
    domain: str
    display_name: str


@record
class FederatedCredential:
    """A federated identity credential on an app registration."""

    issuer: str
    subject: str
    audience: str = DEFAULT_FEDERATED_AUDIENCE


@record
class App:
    """An app registration and its service principal."""

    name: str
    tenant: str
    client_id: str
    object_id: str
    secret: str | None
    """A literal secret, or ``None``; see :attr:`has_secret`."""
    has_secret: bool
    """``True`` when the app has a client secret (generated at start-up unless :attr:`secret` is set)."""
    secret_expires: dt.datetime | None
    certificate: bool
    federated: tuple[FederatedCredential, ...]
    conditional_access_blocked: bool


@record
class User:
    """A user account, used by the refresh-token grant and Cloud Shell."""

    name: str
    tenant: str
    upn: str
    object_id: str
    display_name: str
    mfa_required: bool
    conditional_access_blocked: bool
    refresh_token_expired: bool


@record
class ManagedIdentity:
    """A managed identity; ``assigned`` says whether it is attached to the compute the client runs on."""

    name: str
    kind: IdentityKind
    tenant: str
    client_id: str
    object_id: str
    resource_id: str
    assigned: bool


@record
class Project:
    """A Foundry project on an AI Services account."""

    name: str


@record
class Resource:
    """The ``Microsoft.CognitiveServices/accounts`` resource: kind OpenAI, or AIServices when it has projects."""

    name: str
    tenant: str
    region: str
    """Region slug, e.g. ``eastus``."""
    subscription_id: str
    resource_group: str
    custom_subdomain: bool
    disable_local_auth: bool
    public_network_access: bool
    allowed_ips: tuple[str, ...]
    """CIDRs allowed by the firewall; empty means all networks."""
    api_keys: tuple[str, ...]
    """Literal keys; empty means two keys are generated at start-up."""
    delay_ms: int
    content_filter_triggers: tuple[str, ...]
    projects: tuple[Project, ...] = ()
    """Foundry projects; any project makes the account an AI Services (Foundry) resource."""

    @property
    def kind(self) -> str:
        """The account kind ARM reports: ``AIServices`` with projects, else ``OpenAI``."""
        return "AIServices" if self.projects else "OpenAI"

    @property
    def custom_host(self) -> str:
        """``<name>.openai.azure.com``."""
        return f"{self.name}.openai.azure.com"

    @property
    def services_host(self) -> str:
        """``<name>.services.ai.azure.com``, the Foundry host of an AI Services account."""
        return f"{self.name}.services.ai.azure.com"

    def project(self, name: str) -> Project | None:
        """The project called ``name``."""
        return next((p for p in self.projects if p.name == name), None)

    @property
    def regional_host(self) -> str:
        """``<region>.api.cognitive.microsoft.com``."""
        return f"{self.region}.api.cognitive.microsoft.com"

    @property
    def arm_id(self) -> str:
        """The resource's ARM id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{self.name}"
        )


@record
class Deployment:
    """A model deployment on the resource."""

    name: str
    model: str
    model_version: str
    kind: DeploymentKind
    rpm: int
    tpm: int
    exhausted: bool
    """When true, other traffic has used this minute's quota: every call gets 429."""
    reasoning: bool = False
    """A reasoning model (gpt-5, o-series): ``max_tokens`` refused, budgets checked, reasoning tokens spent."""
    reasoning_tokens: int = 0
    """Tokens the model reasons for before it answers; a smaller output budget is used up by reasoning."""
    min_output_tokens: int = 16
    """Smallest ``max_completion_tokens`` / ``max_output_tokens`` a reasoning deployment accepts."""
    sampling: Sampling = Sampling.ANY
    budget_exhausted: BudgetExhausted = BudgetExhausted.LENGTH
    retired: dt.date | None = None
    """The model version's retirement date: every inference call answers 404 "Resource not found"."""

    @property
    def model_id(self) -> str:
        """Model name with version, as the ``model`` field of a response shows it."""
        return f"{self.model}-{self.model_version}" if self.model_version else self.model


@record
class RoleAssignment:
    """A role assignment on the resource scope."""

    principal: str
    """Name of an app, user or managed identity in the scenario, or a literal object id."""
    role: str
    """Built-in role name or id."""


@record
class Fault:
    """A fault injected on requests whose path starts with ``path`` on ``service``."""

    kind: FaultKind
    service: ServiceName
    path: str
    status: int | None
    delay_ms: int
    size_bytes: int
    times: int | None
    """Inject on the first ``times`` matching requests only; ``None`` means always."""


@record
class Gateway:
    """An Azure API Management gateway in front of the resource."""

    name: str
    path: str
    """API URL suffix the gateway serves the resource under (``/openai-proxy``), or ``""``."""
    subscription_required: bool
    subscription_key_header: str
    subscription_keys: tuple[str, ...]
    """Literal keys; empty means one key is generated at start-up."""
    validate_jwt: bool
    """A ``validate-jwt`` policy: a missing or invalid bearer token gets APIM's 401."""
    jwt_audience: str

    @property
    def host(self) -> str:
        """``<name>.azure-api.net``."""
        return f"{self.name}.azure-api.net"


@record
class ClientSettings:
    """The client-side settings that reproduce a scenario (its ``[client]`` table)."""

    credential: CredentialKind
    app: str | None
    identity: str | None
    identity_selector: IdentitySelector
    user: str | None
    tenant: str | None
    """Tenant the client asks for: a tenant name from the scenario or a literal id/domain."""
    client_secret: str | None
    """Secret the client sends instead of the registered one."""
    federated_token: str
    """``valid`` or ``expired``: the projected service-account token the client presents."""
    federated_subject: str | None
    endpoint: EndpointChoice
    deployment: str
    api_version: str | None
    """``None`` on the v1 and project endpoints, which take no dated api-version."""
    scope: str
    operation: Operation
    prompt: str
    api_key: str | None
    """Key the client sends instead of the resource's first key (``api-key`` credential)."""
    project: str | None = None
    """The project a ``project`` endpoint names (default: the first)."""
    gateway_key: GatewayKey = GatewayKey.VALID


@record
class Scenario:
    """A parsed, validated scenario."""

    name: str
    description: str
    source: str
    tenants: tuple[Tenant, ...]
    apps: tuple[App, ...]
    users: tuple[User, ...]
    managed_identities: tuple[ManagedIdentity, ...]
    resource: Resource
    deployments: tuple[Deployment, ...]
    role_assignments: tuple[RoleAssignment, ...]
    faults: tuple[Fault, ...]
    client: ClientSettings
    gateway: Gateway | None = None

    def tenant(self, name: str) -> Tenant:
        """The tenant called ``name``."""
        return next(t for t in self.tenants if t.name == name)


def derived_id(kind: str, name: str) -> str:
    """A stable GUID for a named object, so reports stay the same from run to run."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{kind}:{name}"))


_REGION_NAMES = {
    "eastus": "East US",
    "eastus2": "East US 2",
    "westus": "West US",
    "westus3": "West US 3",
    "northcentralus": "North Central US",
    "southcentralus": "South Central US",
    "swedencentral": "Sweden Central",
    "westeurope": "West Europe",
    "francecentral": "France Central",
    "uksouth": "UK South",
    "japaneast": "Japan East",
    "australiaeast": "Australia East",
    "canadaeast": "Canada East",
}


def region_display_name(slug: str) -> str:
    """``eastus`` → ``East US`` (the ``x-ms-region`` header value)."""
    return _REGION_NAMES.get(slug, slug)
