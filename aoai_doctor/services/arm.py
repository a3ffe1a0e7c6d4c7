"""Reading a resource's deployments and their models from Azure Resource Manager, with the identity the run
already uses.

Asked when the answer alone cannot tell causes apart (a 404 "Resource not found" is the same body for a
retired model and a wrong api-version), and by ``--all-deployments``. Read-only ``GET`` requests; every role that lets
an identity call the data plane on its own resource does not necessarily grant
``Microsoft.CognitiveServices/accounts/deployments/read``, so "could not read" is a normal outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from aoai_doctor.azure.calls import parse_body
from aoai_doctor.azure.endpoints import Cloud
from aoai_doctor.record import record
from aoai_doctor.redaction import Secret
from aoai_doctor.services import http
from aoai_doctor.services.session import Session

HOSTS = {
    Cloud.PUBLIC: "management.azure.com",
    Cloud.US_GOV: "management.usgovcloudapi.net",
    Cloud.CHINA: "management.chinacloudapi.cn",
}
SUBSCRIPTIONS_API = "2022-12-01"
ACCOUNTS_API = "2024-10-01"  # Microsoft.CognitiveServices, stable
MAX_SUBSCRIPTIONS = 20
MAX_ACCOUNTS = 50
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def scope(cloud: Cloud) -> str:
    """The token scope for the cloud's Resource Manager."""
    return f"https://{HOSTS.get(cloud, HOSTS[Cloud.PUBLIC])}/.default"


def is_loopback(base: str) -> bool:
    """Whether a Resource Manager base URL is a loopback address (the stand-in's)."""
    return (urlsplit(base).hostname or "") in _LOOPBACK


def base_url(cloud: Cloud, override: str | None = None) -> str | None:
    """Where to reach the cloud's Resource Manager: ``https://<host>``, or ``override`` when it names one of
    the Resource Manager hosts or a loopback address (the stand-in's); None for any other host, which
    never receives a management token."""
    if not override:
        return f"https://{HOSTS.get(cloud, HOSTS[Cloud.PUBLIC])}"
    try:
        parts = urlsplit(override)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme != "https" or not (host in HOSTS.values() or host in _LOOPBACK):
        return None  # a loopback address gets a token only when it is the doctor's own stand-in (http.send)
    return f"https://{parts.netloc}"


@record
class DeploymentModel:
    """What ARM says a deployment runs."""

    name: str
    version: str | None
    deployment_id: str


Get = Callable[[str], "dict[str, Any] | str"]


def _reader(token: Secret, base: str, policy: http.Policy, environ: Mapping[str, str], session: Session) -> Get:
    """A GET on Resource Manager with ``token``: the decoded answer, or one line on why there is none. The
    GETs of one listing share ``session``'s connection (one TLS handshake, not one a request)."""
    host = urlsplit(base).hostname or ""
    allowed = policy.allow_hosts | ({host} if host in HOSTS.values() else set())
    policy = http.Policy(allow_hosts=allowed, resolve=policy.resolve, timeout=policy.timeout)
    credential = ("Authorization", Secret(f"Bearer {token.reveal()}"))

    def get(path: str) -> dict[str, Any] | str:
        answer = session.send("GET", f"{base}{path}", credential=credential, policy=policy, environ=environ)
        if isinstance(answer, http.Failure):
            return f"{host}: {answer.message}"
        data = parse_body(answer.body)  # size and depth limits: a hostile answer is just "not JSON"
        if data is None:
            return f"{host} answered {answer.status} without JSON"
        if answer.status != 200:
            error = data.get("error")
            code = error.get("code", "") if isinstance(error, dict) else ""
            return f"{host} answered {answer.status} {code}".rstrip()
        return data

    return get


def _accounts(get: Get, resource: str | None) -> Iterator[tuple[Mapping[str, Any], dict[str, Any] | str]] | str:
    """The Azure OpenAI accounts this identity can read (the one named ``resource``, when given), each with
    its deployments' listing; or why the subscriptions could not be listed."""
    subscriptions = get(f"/subscriptions?api-version={SUBSCRIPTIONS_API}")
    if isinstance(subscriptions, str):
        return subscriptions
    ids = [str(s["subscriptionId"]) for s in _values(subscriptions) if isinstance(s.get("subscriptionId"), str)]

    def walk() -> Iterator[tuple[Mapping[str, Any], dict[str, Any] | str]]:
        for subscription in ids[:MAX_SUBSCRIPTIONS]:
            accounts = get(f"/subscriptions/{quote(subscription)}/providers/Microsoft.CognitiveServices/accounts"
                           f"?api-version={ACCOUNTS_API}")
            if isinstance(accounts, str):
                continue
            for account in _values(accounts)[:MAX_ACCOUNTS]:
                if isinstance(account.get("id"), str) and (resource is None or _names(account, resource)):
                    yield account, get(f"{account['id']}/deployments?api-version={ACCOUNTS_API}")

    return walk()


def deployment_model(
    token: Secret,
    base: str,
    resource: str | None,
    deployment: str,
    policy: http.Policy,
    environ: Mapping[str, str],
) -> DeploymentModel | str:
    """The model and version behind ``resource``/``deployment``, or one line on why it could not be read.
    Without a resource name (a loopback endpoint), the one readable resource that has the deployment."""
    found: list[DeploymentModel] = []
    with Session() as session:
        accounts = _accounts(_reader(token, base, policy, environ, session), resource)
        if isinstance(accounts, str):
            return accounts
        for _account, deployments in accounts:
            model = _model(deployments, deployment) if not isinstance(deployments, str) else None
            if resource is not None:
                return model or (deployments if isinstance(deployments, str) else
                                 f"the resource {resource} has no deployment {deployment} in ARM")
            found += [model] if model else []
    if resource is not None:
        return f"no subscription this identity can read holds the resource {resource}"
    if len(found) != 1:  # a loopback endpoint names no resource: only an unambiguous deployment will do
        return f"{len(found) or 'no'} resources this identity can read have a deployment {deployment}"
    return found[0]


def deployments(token: Secret, base: str, resource: str | None, policy: http.Policy,
                environ: Mapping[str, str]) -> tuple[tuple[str, DeploymentModel], ...] | str:
    """Every deployment of ``resource`` (of the one readable resource, for a loopback endpoint): its name and
    its model; or one line on why they could not be listed."""
    with Session() as session:
        accounts = _accounts(_reader(token, base, policy, environ, session), resource)
        if isinstance(accounts, str):
            return accounts
        listings = list(accounts)
    if len(listings) != 1:
        named = f"the resource {resource}" if resource else "a resource"
        return (f"no subscription this identity can read holds {named}" if not listings else
                f"{len(listings)} resources this identity can read; name one with its endpoint")
    listing = listings[0][1]
    if isinstance(listing, str):
        return listing
    names = [str(item["name"]) for item in _values(listing) if isinstance(item.get("name"), str)]
    return tuple((name, model) for name in names if (model := _model(listing, name)) is not None)


def _model(deployments: Mapping[str, Any], deployment: str) -> DeploymentModel | None:
    for item in _values(deployments):
        if str(item.get("name", "")).lower() == deployment.lower():
            properties = item.get("properties")
            model = properties.get("model") if isinstance(properties, dict) else None
            if isinstance(model, dict) and isinstance(model.get("name"), str):
                version = model.get("version")
                return DeploymentModel(model["name"], version if isinstance(version, str) else None,
                                       str(item.get("id", "")))
    return None


def _values(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = data.get("value")
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _names(account: Mapping[str, Any], resource: str) -> bool:
    properties = account.get("properties")
    subdomain = properties.get("customSubDomainName") if isinstance(properties, dict) else None
    wanted = resource.lower()
    return str(account.get("name", "")).lower() == wanted or str(subdomain or "").lower() == wanted
