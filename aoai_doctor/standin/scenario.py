"""Scenario files: the small TOML world the stand-in serves.

A scenario names tenants, app registrations, users, managed identities, one Azure OpenAI resource
with its deployments and role assignments, faults to inject, and — in ``[client]`` — the
client-side settings that reproduce it. :func:`load_scenario` parses a file strictly: an unknown
key or a reference to an undeclared name raises :class:`ScenarioError` naming the file and key.
The format is documented in ``docs/standin.md``.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aoai_doctor.standin.rbac import known_role

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "App",
    "ClientSettings",
    "CredentialKind",
    "Deployment",
    "DeploymentKind",
    "EndpointChoice",
    "Fault",
    "FaultKind",
    "FederatedCredential",
    "IdentityKind",
    "IdentitySelector",
    "ManagedIdentity",
    "Resource",
    "RoleAssignment",
    "Scenario",
    "ScenarioError",
    "ServiceName",
    "Tenant",
    "User",
    "load_scenario",
    "parse_scenario",
    "scenario_names",
]

_ID_NAMESPACE = uuid.UUID("5b7e6f3c-2f0e-4c1a-9a55-0a0d0c7e0d1e")
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
DEFAULT_FEDERATED_AUDIENCE = "api://AzureADTokenExchange"


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file and the offending key."""


class DeploymentKind(enum.Enum):
    """Which operations a deployed model supports."""

    CHAT = "chat"
    COMPLETION = "completion"
    EMBEDDING = "embedding"


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
    """Which host of the resource the client calls."""

    CUSTOM = "custom"
    """``https://<name>.openai.azure.com`` (custom subdomain)."""
    REGIONAL = "regional"
    """``https://<region>.api.cognitive.microsoft.com`` (shared regional host; keys only)."""


class ServiceName(enum.Enum):
    """The stand-in services a fault can target."""

    ANY = "any"
    ENTRA = "entra"
    MANAGED_IDENTITY = "managed-identity"
    AOAI = "aoai"
    ARM = "arm"


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


@dataclass(frozen=True)
class Tenant:
    """An Entra tenant."""

    name: str
    id: str
    domain: str
    display_name: str


@dataclass(frozen=True)
class FederatedCredential:
    """A federated identity credential on an app registration."""

    issuer: str
    subject: str
    audience: str = DEFAULT_FEDERATED_AUDIENCE


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ManagedIdentity:
    """A managed identity; ``assigned`` says whether it is attached to the compute the client runs on."""

    name: str
    kind: IdentityKind
    tenant: str
    client_id: str
    object_id: str
    resource_id: str
    assigned: bool


@dataclass(frozen=True)
class Resource:
    """The Azure OpenAI resource (``Microsoft.CognitiveServices/accounts``, kind OpenAI)."""

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

    @property
    def custom_host(self) -> str:
        """``<name>.openai.azure.com``."""
        return f"{self.name}.openai.azure.com"

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


@dataclass(frozen=True)
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

    @property
    def model_id(self) -> str:
        """Model name with version, as the ``model`` field of a response shows it."""
        return f"{self.model}-{self.model_version}" if self.model_version else self.model


@dataclass(frozen=True)
class RoleAssignment:
    """A role assignment on the resource scope."""

    principal: str
    """Name of an app, user or managed identity in the scenario, or a literal object id."""
    role: str
    """Built-in role name or id."""


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
    api_version: str
    scope: str
    operation: DeploymentKind
    prompt: str
    api_key: str | None
    """Key the client sends instead of the resource's first key (``api-key`` credential)."""


@dataclass(frozen=True)
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

    def tenant(self, name: str) -> Tenant:
        """The tenant called ``name``."""
        return next(t for t in self.tenants if t.name == name)


def derived_id(kind: str, name: str) -> str:
    """A stable GUID for a named object, so reports stay the same from run to run."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{kind}:{name}"))


class _Table:
    """Strict reader over one TOML table: every key must be consumed."""

    def __init__(self, data: Mapping[str, Any], where: str, source: str) -> None:
        self._data = dict(data)
        self._where = where
        self._source = source

    def error(self, key: str, problem: str) -> ScenarioError:
        path = f"{self._where}.{key}" if self._where else key
        return ScenarioError(f"scenario {self._source}: {path}: {problem}")

    def _get(self, key: str, types: type | tuple[type, ...], default: Any, required: bool) -> Any:
        if key not in self._data:
            if required:
                raise self.error(key, "is required")
            return default
        value = self._data.pop(key)
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise self.error(key, f"expected {_type_names(types)}, got a boolean")
        if not isinstance(value, types):
            raise self.error(key, f"expected {_type_names(types)}, got {type(value).__name__}")
        return value

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        return self._get(key, str, default, required)

    def flag(self, key: str, default: bool = False) -> bool:
        return bool(self._get(key, bool, default, False))

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        value = int(self._get(key, int, default, False))
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}")
        return value

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, [], False)
        if not all(isinstance(item, str) for item in value):
            raise self.error(key, "expected a list of strings")
        return tuple(value)

    def enum(self, key: str, cls: type[enum.Enum], default: Any) -> Any:
        raw = self._get(key, str, None, default is None)
        if raw is None:
            return default
        try:
            return cls(raw)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise self.error(key, f"unknown value {raw!r}; expected one of {choices}") from None

    def tables(self, key: str) -> list[_Table]:
        value = self._get(key, list, [], False)
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error(f"{key}[{index}]", "expected a table")
            where = f"{self._where}.{key}[{index}]" if self._where else f"{key}[{index}]"
            out.append(_Table(item, where, self._source))
        return out

    def table(self, key: str, *, required: bool = False) -> _Table:
        value = self._get(key, dict, {}, required)
        where = f"{self._where}.{key}" if self._where else key
        return _Table(value, where, self._source)

    def raw(self, key: str) -> Any:
        return self._data.pop(key, None)

    def done(self) -> None:
        """Raise on the first key nobody read."""
        for key in self._data:
            raise self.error(key, "unknown key")


def _type_names(types: type | tuple[type, ...]) -> str:
    items = types if isinstance(types, tuple) else (types,)
    names = {str: "a string", int: "an integer", bool: "a boolean", list: "a list", dict: "a table"}
    return " or ".join(names.get(t, t.__name__) for t in items)


def _unique(tables: list[Any], kind: str, parent: _Table, key: str) -> None:
    seen: set[str] = set()
    for item in tables:
        if item.name in seen:
            raise parent.error(key, f"duplicate {kind} name {item.name!r}")
        seen.add(item.name)


def _tenant_ref(table: _Table, key: str, tenants: Mapping[str, Tenant], default: str | None) -> str:
    name = table.text(key, default, required=default is None)
    if name not in tenants:
        raise table.error(key, f"unknown tenant {name!r}")
    return str(name)


def _parse_datetime(table: _Table, key: str) -> dt.datetime | None:
    value = table.raw(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    raise table.error(key, "expected a TOML date or date-time")


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


def _infer_kind(model: str) -> DeploymentKind:
    lowered = model.lower()
    if "embedding" in lowered:
        return DeploymentKind.EMBEDDING
    if "instruct" in lowered or lowered.startswith(("davinci", "babbage", "text-")):
        return DeploymentKind.COMPLETION
    return DeploymentKind.CHAT


def parse_scenario(data: Mapping[str, Any], *, name: str, source: str) -> Scenario:
    """Validate a decoded TOML document and build a :class:`Scenario`."""
    root = _Table(data, "", source)
    description = root.text("description", "")

    tenants: dict[str, Tenant] = {}
    tenant_tables = root.tables("tenants")
    if not tenant_tables:
        raise root.error("tenants", "at least one [[tenants]] table is required")
    for t in tenant_tables:
        tname = t.text("name", required=True)
        if tname in tenants:
            raise t.error("name", f"duplicate tenant name {tname!r}")
        tid = t.text("id", derived_id("tenant", tname))
        _check_guid(t, "id", tid)
        tenants[tname] = Tenant(
            name=tname,
            id=tid,
            domain=t.text("domain", f"{tname}.onmicrosoft.com"),
            display_name=t.text("display_name", tname.capitalize()),
        )
        t.done()
    first_tenant = next(iter(tenants))

    apps = []
    for a in root.tables("apps"):
        aname = a.text("name", required=True)
        secret_raw = a.raw("secret")
        if secret_raw is not None and not isinstance(secret_raw, (bool, str)):
            raise a.error("secret", "expected true or a string")
        federated = []
        for f in a.tables("federated"):
            federated.append(
                FederatedCredential(
                    issuer=f.text("issuer", ""),
                    subject=f.text("subject", required=True),
                    audience=f.text("audience", DEFAULT_FEDERATED_AUDIENCE),
                )
            )
            f.done()
        apps.append(
            App(
                name=aname,
                tenant=_tenant_ref(a, "tenant", tenants, first_tenant),
                client_id=_guid(a, "client_id", derived_id("app", aname)),
                object_id=_guid(a, "object_id", derived_id("sp", aname)),
                secret=secret_raw if isinstance(secret_raw, str) else None,
                has_secret=bool(secret_raw),
                secret_expires=_parse_datetime(a, "secret_expires"),
                certificate=a.flag("certificate"),
                federated=tuple(federated),
                conditional_access_blocked=a.flag("conditional_access_blocked"),
            )
        )
        a.done()
    _unique(apps, "app", root, "apps")

    users = []
    for u in root.tables("users"):
        uname = u.text("name", required=True)
        utenant = _tenant_ref(u, "tenant", tenants, first_tenant)
        users.append(
            User(
                name=uname,
                tenant=utenant,
                upn=u.text("upn", f"{uname}@{tenants[utenant].domain}"),
                object_id=_guid(u, "object_id", derived_id("user", uname)),
                display_name=u.text("display_name", uname.capitalize()),
                mfa_required=u.flag("mfa_required"),
                conditional_access_blocked=u.flag("conditional_access_blocked"),
                refresh_token_expired=u.flag("refresh_token_expired"),
            )
        )
        u.done()
    _unique(users, "user", root, "users")

    res_table = root.table("resource", required=True)
    res_name = res_table.text("name", required=True)
    subscription = _guid(res_table, "subscription_id", derived_id("subscription", res_name))
    resource_group = res_table.text("resource_group", "rg-openai")
    allowed_ips = res_table.str_list("allowed_ips")
    for cidr in allowed_ips:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise res_table.error("allowed_ips", f"{cidr!r} is not an IP address or CIDR") from None
    resource = Resource(
        name=res_name,
        tenant=_tenant_ref(res_table, "tenant", tenants, first_tenant),
        region=res_table.text("region", "eastus"),
        subscription_id=subscription,
        resource_group=resource_group,
        custom_subdomain=res_table.flag("custom_subdomain", True),
        disable_local_auth=res_table.flag("disable_local_auth"),
        public_network_access=res_table.flag("public_network_access", True),
        allowed_ips=allowed_ips,
        api_keys=res_table.str_list("api_keys"),
        delay_ms=res_table.integer("delay_ms", 0),
        content_filter_triggers=res_table.str_list("content_filter_triggers"),
    )
    res_table.done()

    identities = []
    for m in root.tables("managed_identities"):
        mname = m.text("name", required=True)
        kind = m.enum("kind", IdentityKind, IdentityKind.USER)
        identities.append(
            ManagedIdentity(
                name=mname,
                kind=kind,
                tenant=_tenant_ref(m, "tenant", tenants, resource.tenant),
                client_id=_guid(m, "client_id", derived_id("mi-client", mname)),
                object_id=_guid(m, "object_id", derived_id("mi-object", mname)),
                resource_id=m.text(
                    "resource_id",
                    f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
                    f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{mname}",
                ),
                assigned=m.flag("assigned", True),
            )
        )
        m.done()
    _unique(identities, "managed identity", root, "managed_identities")
    if sum(1 for i in identities if i.kind is IdentityKind.SYSTEM) > 1:
        raise root.error("managed_identities", "at most one system-assigned identity")

    deployments = []
    for d in root.tables("deployments"):
        model = d.text("model", required=True)
        deployments.append(
            Deployment(
                name=d.text("name", required=True),
                model=model,
                model_version=d.text("model_version", ""),
                kind=d.enum("kind", DeploymentKind, _infer_kind(model)),
                rpm=d.integer("rpm", 60, minimum=1),
                tpm=d.integer("tpm", 10000, minimum=1),
                exhausted=d.flag("exhausted"),
            )
        )
        d.done()
    _unique(deployments, "deployment", root, "deployments")

    principal_names = {a.name for a in apps} | {u.name for u in users} | {i.name for i in identities}
    assignments = []
    for r in root.tables("role_assignments"):
        principal = r.text("principal", required=True)
        if principal not in principal_names and not _is_guid(principal):
            raise r.error("principal", f"unknown principal {principal!r} (name an app, user or identity)")
        role = r.text("role", required=True)
        if not known_role(role):
            raise r.error("role", f"unknown built-in role {role!r}")
        assignments.append(RoleAssignment(principal=principal, role=role))
        r.done()

    faults = []
    for f in root.tables("faults"):
        faults.append(
            Fault(
                kind=f.enum("kind", FaultKind, None),
                service=f.enum("service", ServiceName, ServiceName.ANY),
                path=f.text("path", "/"),
                status=f.integer("status", 0, minimum=0) or None,
                delay_ms=f.integer("delay_ms", 0),
                size_bytes=f.integer("size_bytes", 8 * 1024 * 1024),
                times=f.integer("times", 0) or None,
            )
        )
        f.done()

    client = _parse_client(root.table("client", required=True), apps, users, identities, deployments, tenants)
    root.done()
    return Scenario(
        name=name,
        description=description,
        source=source,
        tenants=tuple(tenants.values()),
        apps=tuple(apps),
        users=tuple(users),
        managed_identities=tuple(identities),
        resource=resource,
        deployments=tuple(deployments),
        role_assignments=tuple(assignments),
        faults=tuple(faults),
        client=client,
    )


def _parse_client(
    c: _Table,
    apps: list[App],
    users: list[User],
    identities: list[ManagedIdentity],
    deployments: list[Deployment],
    tenants: Mapping[str, Tenant],
) -> ClientSettings:
    credential = c.enum("credential", CredentialKind, None)
    app = c.text("app")
    if app is not None and app not in {a.name for a in apps}:
        raise c.error("app", f"unknown app {app!r}")
    needs_app = credential in (
        CredentialKind.CLIENT_SECRET,
        CredentialKind.CLIENT_CERTIFICATE,
        CredentialKind.WORKLOAD_IDENTITY,
    )
    if needs_app and app is None:
        if not apps:
            raise c.error("app", f"credential {credential.value!r} needs an app and the scenario has none")
        app = apps[0].name
    identity = c.text("identity")
    if identity is not None and identity not in {i.name for i in identities}:
        raise c.error("identity", f"unknown managed identity {identity!r}")
    user = c.text("user")
    if user is not None and user not in {u.name for u in users}:
        raise c.error("user", f"unknown user {user!r}")
    if credential is CredentialKind.SHARED_TOKEN_CACHE and user is None:
        if not users:
            raise c.error("user", "credential 'shared-token-cache' needs a user and the scenario has none")
        user = users[0].name
    federated_token = c.text("federated_token", "valid")
    if federated_token not in ("valid", "expired"):
        raise c.error("federated_token", "expected 'valid' or 'expired'")
    default_deployment = deployments[0].name if deployments else "gpt-4o-mini"
    settings = ClientSettings(
        credential=credential,
        app=app,
        identity=identity,
        identity_selector=c.enum("identity_selector", IdentitySelector, IdentitySelector.CLIENT_ID),
        user=user,
        tenant=c.text("tenant"),
        client_secret=c.text("client_secret"),
        federated_token=federated_token,
        federated_subject=c.text("federated_subject"),
        endpoint=c.enum("endpoint", EndpointChoice, EndpointChoice.CUSTOM),
        deployment=c.text("deployment", default_deployment),
        api_version=c.text("api_version", "2024-10-21"),
        scope=c.text("scope", COGNITIVE_SERVICES_SCOPE),
        operation=c.enum("operation", DeploymentKind, DeploymentKind.CHAT),
        prompt=c.text("prompt", "ping"),
        api_key=c.text("api_key"),
    )
    c.done()
    if settings.tenant is not None and settings.tenant not in tenants and not settings.tenant.strip():
        raise c.error("tenant", "must not be empty")
    return settings


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _check_guid(table: _Table, key: str, value: str) -> None:
    if not _is_guid(value):
        raise table.error(key, f"{value!r} is not a GUID")


def _guid(table: _Table, key: str, default: str) -> str:
    value = str(table.text(key, default))
    _check_guid(table, key, value)
    return value


def _builtin_dir() -> Any:
    return resources.files("aoai_doctor.standin").joinpath("scenarios")


def scenario_names() -> tuple[str, ...]:
    """Names of the scenarios shipped with the package, sorted."""
    return tuple(
        sorted(p.name[: -len(".toml")] for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a shipped scenario by name, or a scenario file by path.

    Raises :class:`ScenarioError` for an unknown name, unreadable file, bad TOML or a bad key.
    """
    candidate = Path(name_or_path)
    if isinstance(name_or_path, Path) or candidate.suffix == ".toml" or "/" in str(name_or_path):
        if not candidate.is_file():
            raise ScenarioError(f"scenario {candidate}: no such file")
        text = candidate.read_text(encoding="utf-8")
        name, source = candidate.stem, str(candidate)
    else:
        name = str(name_or_path)
        entry = _builtin_dir().joinpath(f"{name}.toml")
        if not entry.is_file():
            known = ", ".join(scenario_names())
            raise ScenarioError(f"unknown scenario {name!r}; built-in scenarios: {known}")
        text = entry.read_text(encoding="utf-8")
        source = f"{name}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario {source}: invalid TOML: {exc}") from None
    return parse_scenario(data, name=name, source=source)
