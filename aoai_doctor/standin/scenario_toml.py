"""Scenario files: parsing the TOML that describes a stand-in world into :mod:`.scenario`'s model.

:func:`load_scenario` reads a shipped scenario by name or a file by path; :func:`parse_scenario`
validates a decoded document. Both are strict: an unknown key or a reference to an undeclared name
raises :class:`ScenarioError` naming the file and key. The format is documented in ``docs/standin.md``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from aoai_doctor import strict_toml
from aoai_doctor.standin.rbac import known_role
from aoai_doctor.standin.scenario import (
    APIM_KEY_HEADER,
    COGNITIVE_SERVICES_SCOPE,
    DEFAULT_FEDERATED_AUDIENCE,
    FOUNDRY_SCOPE,
    App,
    BudgetExhausted,
    ClientSettings,
    CredentialKind,
    Deployment,
    DeploymentKind,
    EndpointChoice,
    Fault,
    FaultKind,
    FederatedCredential,
    Gateway,
    GatewayKey,
    IdentityKind,
    IdentitySelector,
    ManagedIdentity,
    Operation,
    Project,
    Resource,
    RoleAssignment,
    Sampling,
    Scenario,
    ScenarioError,
    ServiceName,
    Tenant,
    User,
    derived_id,
)
from aoai_doctor.strict_toml import Table, TomlError, TomlSyntaxError

__all__ = ["load_scenario", "parse_scenario", "scenario_names"]


def _unique(tables: list[Any], kind: str, parent: Table, key: str) -> None:
    seen: set[str] = set()
    for item in tables:
        if item.name in seen:
            raise parent.error(key, f"duplicate {kind} name {item.name!r}")
        seen.add(item.name)


def _tenant_ref(table: Table, key: str, tenants: Mapping[str, Tenant], default: str | None) -> str:
    name = table.text(key, required=True) if default is None else table.text(key, default)
    if name not in tenants:
        raise table.error(key, f"unknown tenant {name!r}{strict_toml.did_you_mean(name, tenants)}")
    return name


def _parse_datetime(table: Table, key: str) -> dt.datetime | None:
    value = table.raw(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    raise table.error(key, "expected a TOML date or date-time")


def _parse_date(table: Table, key: str) -> dt.date | None:
    value = table.raw(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise table.error(key, "expected a TOML date, e.g. 2025-06-06")


#: Model families that reason before answering (gpt-5.x, o-series); see docs/standin.md.
_REASONING_PREFIXES = ("gpt-5", "o1", "o3", "o4")


def _is_reasoning(model: str) -> bool:
    return model.lower().startswith(_REASONING_PREFIXES)


def _default_sampling(model: str, reasoning: bool) -> Sampling:
    if not reasoning:
        return Sampling.ANY
    # o1 refused temperature outright (cline/cline#2643); later families accept only the default (1).
    return Sampling.UNSUPPORTED if model.lower().startswith("o1") else Sampling.DEFAULT_ONLY


def _deployment(d: Table) -> Deployment:
    present = set(d.unread_keys())
    model = d.text("model", required=True)
    reasoning = d.flag("reasoning", _is_reasoning(model))
    if not reasoning:
        for key in ("reasoning_tokens", "min_output_tokens", "budget_exhausted"):
            if key in present:
                raise d.error(key, "only a reasoning deployment (reasoning = true) takes this key")
    return Deployment(
        name=d.text("name", required=True),
        model=model,
        model_version=d.text("model_version", ""),
        kind=d.enum("kind", DeploymentKind, _infer_kind(model)),
        rpm=d.integer("rpm", 60, minimum=1),
        tpm=d.integer("tpm", 10000, minimum=1),
        exhausted=d.flag("exhausted"),
        reasoning=reasoning,
        reasoning_tokens=d.integer("reasoning_tokens", 0, minimum=0),
        min_output_tokens=d.integer("min_output_tokens", 16, minimum=1),
        sampling=d.enum("sampling", Sampling, _default_sampling(model, reasoning)),
        budget_exhausted=d.enum("budget_exhausted", BudgetExhausted, BudgetExhausted.LENGTH),
        retired=_parse_date(d, "retired"),
    )


def _gateway(g: Table) -> Gateway:
    path = g.text("path", "")
    if path and (not path.startswith("/") or path.endswith("/") or "?" in path):
        raise g.error("path", f"{path!r}: expected '' or a path such as '/openai-proxy' (leading '/', no trailing '/')")
    header = g.text("subscription_key_header", APIM_KEY_HEADER)
    if not header.strip() or any(c in header for c in " :\r\n"):
        raise g.error("subscription_key_header", f"{header!r} is not an HTTP header name")
    gateway = Gateway(
        name=g.text("name", required=True),
        path=path,
        subscription_required=g.flag("subscription_required", True),
        subscription_key_header=header,
        subscription_keys=g.strings("subscription_keys"),
        validate_jwt=g.flag("validate_jwt"),
        jwt_audience=g.text("jwt_audience", COGNITIVE_SERVICES_SCOPE.removesuffix("/.default")),
    )
    g.done()
    return gateway


def _infer_kind(model: str) -> DeploymentKind:
    lowered = model.lower()
    if "embedding" in lowered:
        return DeploymentKind.EMBEDDING
    if "instruct" in lowered or lowered.startswith(("davinci", "babbage", "text-")):
        return DeploymentKind.COMPLETION
    return DeploymentKind.CHAT


def parse_scenario(data: Mapping[str, Any], *, name: str, source: str) -> Scenario:
    """Validate a decoded TOML document and build a :class:`Scenario`; raises :class:`ScenarioError`."""
    try:
        return _scenario(Table(data, source=source), name=name, source=source)
    except TomlError as exc:
        raise ScenarioError(f"scenario {exc}") from None


def _scenario(root: Table, *, name: str, source: str) -> Scenario:
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

    projects = []
    for pt in root.tables("projects"):
        projects.append(Project(name=pt.text("name", required=True)))
        pt.done()
    _unique(projects, "project", root, "projects")

    res_table = root.table("resource", required=True)
    res_name = res_table.text("name", required=True)
    subscription = _guid(res_table, "subscription_id", derived_id("subscription", res_name))
    resource_group = res_table.text("resource_group", "rg-openai")
    allowed_ips = res_table.strings("allowed_ips")
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
        api_keys=res_table.strings("api_keys"),
        delay_ms=res_table.integer("delay_ms", 0, minimum=0),
        content_filter_triggers=res_table.strings("content_filter_triggers"),
        projects=tuple(projects),
    )
    res_table.done()
    if projects and not resource.custom_subdomain:
        raise root.error("projects", "projects need a custom subdomain (resource.custom_subdomain = true)")

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
        deployments.append(_deployment(d))
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
                kind=f.enum("kind", FaultKind),
                service=f.enum("service", ServiceName, ServiceName.ANY),
                path=f.text("path", "/"),
                status=f.integer("status", 0, minimum=0) or None,
                delay_ms=f.integer("delay_ms", 0, minimum=0),
                size_bytes=f.integer("size_bytes", 8 * 1024 * 1024, minimum=0),
                times=f.integer("times", 0, minimum=0) or None,
            )
        )
        f.done()

    gateway = _gateway(root.table("gateway")) if "gateway" in root.unread_keys() else None
    client = _parse_client(
        root.table("client", required=True), apps, users, identities, deployments, tenants, resource, gateway
    )
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
        gateway=gateway,
    )


def _parse_client(
    c: Table,
    apps: list[App],
    users: list[User],
    identities: list[ManagedIdentity],
    deployments: list[Deployment],
    tenants: Mapping[str, Tenant],
    resource: Resource,
    gateway: Gateway | None,
) -> ClientSettings:
    credential = c.enum("credential", CredentialKind)
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
    federated_token = c.choice("federated_token", ("valid", "expired"), "valid")
    default_deployment = deployments[0].name if deployments else "gpt-4o-mini"
    endpoint = c.enum("endpoint", EndpointChoice, EndpointChoice.CUSTOM)
    project = c.text("project")
    if endpoint is EndpointChoice.PROJECT and not resource.projects:
        raise c.error("endpoint", "endpoint 'project' needs a [[projects]] table")
    if project is not None:
        if endpoint is not EndpointChoice.PROJECT:
            raise c.error("project", "only endpoint = 'project' names a project")
        if resource.project(project) is None:
            known = {p.name: p for p in resource.projects}
            raise c.error("project", f"unknown project {project!r}{strict_toml.did_you_mean(project, known)}")
    if endpoint is EndpointChoice.PROJECT and project is None:
        project = resource.projects[0].name
    if endpoint is EndpointChoice.GATEWAY and gateway is None:
        raise c.error("endpoint", "endpoint 'gateway' needs a [gateway] table")
    if "gateway_key" in c.unread_keys() and gateway is None:
        raise c.error("gateway_key", "the scenario has no [gateway]")
    versionless = endpoint in (EndpointChoice.V1, EndpointChoice.PROJECT)
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
        endpoint=endpoint,
        deployment=c.text("deployment", default_deployment),
        api_version=c.text("api_version") if versionless else c.text("api_version", "2024-10-21"),
        scope=c.text("scope", FOUNDRY_SCOPE if endpoint is EndpointChoice.PROJECT else COGNITIVE_SERVICES_SCOPE),
        operation=c.enum("operation", Operation, Operation.CHAT),
        prompt=c.text("prompt", "ping"),
        api_key=c.text("api_key"),
        project=project,
        gateway_key=c.enum("gateway_key", GatewayKey, GatewayKey.VALID),
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


def _check_guid(table: Table, key: str, value: str) -> None:
    if not _is_guid(value):
        raise table.error(key, f"{value!r} is not a GUID")


def _guid(table: Table, key: str, default: str) -> str:
    value = table.text(key, default)
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
    file: strict_toml.Readable
    if isinstance(name_or_path, Path) or candidate.suffix == ".toml" or "/" in str(name_or_path):
        if not candidate.is_file():
            raise ScenarioError(f"scenario {candidate}: no such file")
        file, name, source = candidate, candidate.stem, str(candidate)
    else:
        name = str(name_or_path)
        entry = _builtin_dir().joinpath(f"{name}.toml")
        if not entry.is_file():
            known = ", ".join(scenario_names())
            raise ScenarioError(f"unknown scenario {name!r}; built-in scenarios: {known}")
        file, source = entry, f"{name}.toml"
    try:
        data = strict_toml.read(file, source=source)
    except TomlSyntaxError as exc:
        raise ScenarioError(f"scenario {source}: invalid TOML: {exc.detail}") from None
    except TomlError as exc:
        raise ScenarioError(f"scenario {exc}") from None
    return parse_scenario(data, name=name, source=source)
