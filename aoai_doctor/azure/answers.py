"""The data-plane call, as pure functions: which route and body to send, and what an answer means.

Bodies, statuses and headers follow the service reference (error bodies and headers, verbatim from
public reports). Match on ``error.code`` first; the message text is a hint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aoai_doctor.azure import api_versions as av
from aoai_doctor.azure.endpoints import EndpointInfo, HostFamily
from aoai_doctor.azure.jwt import Identity
from aoai_doctor.model import Finding, Severity

ROLE = "Cognitive Services OpenAI User"
ROLE_ID = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
DATA_ACTIONS = {
    "chat": "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
    "completion": "Microsoft.CognitiveServices/accounts/OpenAI/deployments/completions/action",
    "embedding": "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action",
}
REQUEST_ID_HEADERS = ("apim-request-id", "x-request-id", "x-ms-client-request-id")
SERVICE_HEADERS = (
    "apim-request-id",
    "x-request-id",
    "x-ms-client-request-id",
    "x-ms-region",
    "x-ms-deployment-name",
    "openai-processing-ms",
    "x-envoy-upstream-service-time",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
    "retry-after",
    "retry-after-ms",
    "azure-openai-deployment-utilization",
    "x-ms-spillover-from-deployment",
    "x-ms-spillover-error",
)


@dataclass(frozen=True, slots=True)
class Call:
    """What to send for one deployment."""

    kind: str
    """chat, completion or embedding."""
    url: str
    body: dict[str, Any]
    operation: str
    """The route's operation, as the service names it in errors (chat/completions …)."""


def plan_call(
    info: EndpointInfo,
    deployment: str,
    kind: str | None,
    api_version: str | None,
    stream: bool = False,
    token_param: str = "max_tokens",
) -> Call:
    """The smallest request that proves the deployment answers on the route that fits it."""
    kind = kind or "chat"
    if info.is_v1:
        base = f"{info.base_url}/openai/v1"
        query = f"?api-version={api_version}" if api_version else ""
        if kind == "embedding":
            return Call(kind, f"{base}/embeddings{query}", {"model": deployment, "input": "ping"}, "embeddings")
        body: dict[str, Any] = {"model": deployment, "messages": [{"role": "user", "content": "ping"}], token_param: 1}
        if stream:
            body["stream"] = True
        return Call(kind, f"{base}/chat/completions{query}", body, "chat/completions")
    base = f"{info.base_url}/openai/deployments/{deployment}"
    query = f"?api-version={api_version}" if api_version else ""
    if kind == "embedding":
        return Call(kind, f"{base}/embeddings{query}", {"input": "ping"}, "embeddings")
    if kind == "completion":
        return Call(kind, f"{base}/completions{query}", {"prompt": "ping", "max_tokens": 1}, "completions")
    body = {"messages": [{"role": "user", "content": "ping"}], token_param: 1}
    if stream:
        body["stream"] = True
    return Call(kind, f"{base}/chat/completions{query}", body, "chat/completions")


def parse_body(body: bytes) -> dict[str, Any] | None:
    """The JSON object of an answer, or None when it is not JSON (an HTML page, nothing at all)."""
    try:
        data = json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def rate_limits(headers: Mapping[str, str]) -> list[str]:
    """The ``x-ratelimit-*`` headers an answer carries, as ``remaining-tokens=9998`` items."""
    return [
        f"{h[len('x-ratelimit-') :]}={headers[h]}"
        for h in SERVICE_HEADERS
        if h.startswith("x-ratelimit-") and headers.get(h)
    ]


def request_ids(headers: Mapping[str, str]) -> str:
    """The ids support asks for, as ``apim-request-id=…, x-request-id=…``."""
    return ", ".join(f"{h}={headers[h]}" for h in REQUEST_ID_HEADERS if headers.get(h))


@dataclass(frozen=True, slots=True)
class Context:
    """What the interpretation may use besides the answer."""

    info: EndpointInfo
    deployment: str
    call: Call
    api_version: str | None
    auth: str
    identity: Identity | None = None
    expected_tenant: str | None = None
    token_expired: bool = False
    public_address: str | None = None
    """The endpoint's public address, when DNS gave one here (AOAI401)."""


def is_max_tokens_refusal(status: int, data: dict[str, Any] | None) -> bool:
    """A reasoning model that wants ``max_completion_tokens`` instead of ``max_tokens``."""
    message = _message(data)
    return status == 400 and "max_tokens" in message and "max_completion_tokens" in message


def interpret(status: int, headers: Mapping[str, str], body: bytes, ctx: Context) -> list[Finding]:
    """What an answer means: a passing note, or findings with a cause and the exact fix."""
    data = parse_body(body)
    ids = request_ids(headers)
    where = f"{ctx.call.operation} on {ctx.deployment}"
    region = f"x-ms-region={headers['x-ms-region']}" if headers.get("x-ms-region") else ""
    detail = "; ".join(x for x in (ids, region) if x) or None
    name = ctx.info.resource_name or "<resource-name>"

    def problem(text: str, cause: str, fix: str, *, severity: Severity = Severity.ERROR,
                note: str = "") -> list[Finding]:
        return [Finding(severity, text, cause=cause, fix=fix,
                        detail="; ".join(x for x in (note, detail or "") if x) or None)]

    if 300 <= status < 400:
        location = headers.get("location", "(no Location header)")
        return problem(f"{status}: the endpoint redirects {where} to {location}", "endpoint_wrong",
                       "Azure OpenAI does not redirect; use the resource endpoint itself (a redirect comes from a "
                       "proxy, a custom domain or a wrong host). The doctor never follows redirects with a credential.")
    if data is None:
        return _not_json(status, headers.get("content-type", ""), body, where, detail)
    code = _code(data)
    message = _message(data)
    if 200 <= status < 300:
        return _success(data, headers, where, ctx)
    if status == 401 and code == "PermissionDenied":
        return [_role_missing(ctx, message, detail)]
    if status in (400, 401) and re.search(r"tenant.{0,40}does not match|does not match resource tenant", message, re.I):
        return [_wrong_tenant(ctx, message, detail)]
    if status == 401 and ("statusCode" in data or ctx.auth != "api-key"):
        return [_bad_token(ctx, message, detail)]
    if status == 401:
        return problem(f"401 on {where}: {message}", "api_key_invalid",
                       f"use key1 or key2 of this very resource: az cognitiveservices account keys list --name {name} "
                       "--resource-group <group>; an api.openai.com key does not work here")
    if status == 403 and code == "AuthenticationTypeDisabled":
        return problem(f"403 AuthenticationTypeDisabled: {message}", "key_auth_disabled",
                       "use Microsoft Entra ID (run with --auth entra and give the app a token provider); the "
                       "resource has disableLocalAuth=true")
    if status == 403 and re.search(r"public access is disabled|virtual network|firewall", message, re.I):
        public = (f"{ctx.info.host} resolves to the public address {ctx.public_address} here, so the call does not "
                  "go through a private endpoint") if ctx.public_address else ""
        return problem(f"403 on {where}: {message}", "network_blocked",
                       "call from inside the allowed network (private endpoint / VNet), make the private DNS zone "
                       "privatelink.openai.azure.com resolve the host to its private IP, or add this client's "
                       f"address: az cognitiveservices account network-rule add --name {name} --resource-group "
                       "<group> --ip-address <your-public-ip>", note=public)
    if status == 403 and ctx.info.family is HostFamily.APIM:
        return problem(f"403 from API Management on {where}: {message}", "rate_limited",
                       "API Management's azure-openai-token-limit policy answers 403 when a token quota is used up: "
                       "wait for the quota period, or raise token-quota in the policy")
    if status == 404 and code == "DeploymentNotFound":
        return problem(f"404 DeploymentNotFound: no deployment named {ctx.deployment} on this resource",
                       "deployment_not_found",
                       f"use a deployment name from: az cognitiveservices account deployment list --name {name} "
                       '--resource-group <group> --query "[].{name:name, model:properties.model.name}" --output '
                       "table (a deployment created less than 5 minutes ago may not answer yet)")
    if status == 404:
        return [_resource_not_found(ctx, detail)]
    if status == 400 and code == "OperationNotSupported":
        return [_operation_not_supported(ctx, message, detail)]
    if status == 400 and (code == "content_filter" or "content management policy" in message):
        return problem("the test prompt was blocked by content filtering", "content_filtered",
                       "the call itself works; review the deployment's content filter configuration if ordinary "
                       "prompts are blocked", severity=Severity.WARNING)
    if status == 400 and "custom subdomain" in message.lower():
        return problem(f"400: {message}", "custom_subdomain_required",
                       "call the resource's custom-subdomain endpoint (https://<resource-name>.openai.azure.com) "
                       "with the token, or use an API key on the regional endpoint")
    if status == 400 and re.search(r"api version|api-version", message, re.I):
        return problem(f"400 on {where}: {message}", "api_version_invalid",
                       f"export OPENAI_API_VERSION={av.LATEST_GA} (or the version the message names)")
    if status == 429:
        return [_rate_limited(headers, message, where, detail)]
    if status >= 500:
        return problem(f"{status} from the service on {where}: {message or 'no message'}", "service_unavailable",
                       f"retry later; if it persists, open a support request quoting {ids or 'the request ids'}")
    return problem(f"{status} on {where}: {code + ': ' if code else ''}{message or 'no message'}", "other",
                   "aoai-doctor explain '<the body>' may know this one")


def _code(data: Mapping[str, Any]) -> str:
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or "")
    return str(data.get("statusCode") or "")


def _message(data: Mapping[str, Any] | None) -> str:
    if not data:
        return ""
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(data.get("message") or "")


def _not_json(status: int, content_type: str, body: bytes, where: str, detail: str | None) -> list[Finding]:
    if not body.strip():
        return [
            Finding(
                Severity.ERROR,
                f"{status} with an empty body on {where}",
                cause="service_unavailable" if status >= 500 else "other",
                fix="something between the doctor and Azure OpenAI answered instead of the "
                "service; check proxies and the endpoint",
                detail=detail,
            )
        ]
    looks_html = "html" in content_type or body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
    title = re.search(rb"<title>(.{0,120}?)</title>", body, re.I | re.S)
    what = (
        f"an HTML page{(' (' + title.group(1).decode('utf-8', 'replace').strip() + ')') if title else ''}"
        if looks_html
        else "a body that is not JSON"
    )
    return [
        Finding(
            Severity.ERROR,
            f"{status} with {what} on {where}: not Azure OpenAI's answer",
            cause="proxy_misconfigured",
            fix="a proxy, captive portal or firewall answered; check HTTPS_PROXY / NO_PROXY, sign in to the "
            "network, or call from a network that reaches Azure OpenAI directly",
            detail=detail,
        )
    ]


def _success(data: Mapping[str, Any], headers: Mapping[str, str], where: str, ctx: Context) -> list[Finding]:
    choices = data.get("choices")
    finish = (
        choices[0].get("finish_reason")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict)
        else None
    )
    model = data.get("model") or headers.get("x-ms-deployment-name") or ""
    region = headers.get("x-ms-region")
    text = f"{where} answered 200" + (f" ({model}" + (f", {region}" if region else "") + ")" if model else "")
    found = [Finding(Severity.INFO, text, detail=request_ids(headers) or None)]
    if finish == "content_filter":
        found.append(
            Finding(
                Severity.WARNING,
                "the completion was cut by content filtering (finish_reason content_filter)",
                cause="content_filtered",
                fix="the call works; review the content filter if ordinary answers are cut",
            )
        )
    return found


def _role_missing(ctx: Context, message: str, detail: str | None) -> Finding:
    identity = ctx.identity
    oid = identity.object_id if identity and identity.object_id else "<object-id of the caller>"
    ptype = identity.principal_type if identity else "<User|ServicePrincipal>"
    name = ctx.info.resource_name or "<resource-name>"
    action = DATA_ACTIONS.get(ctx.call.kind, DATA_ACTIONS["chat"])
    scope = (
        f'$(az resource list --name {name} --resource-type Microsoft.CognitiveServices/accounts --query "[0].id" '
        "--output tsv)"
    )
    who = identity.describe() if identity else "the caller"
    return Finding(
        Severity.ERROR,
        f"401 PermissionDenied: {who} lacks the data action {action}",
        cause="role_assignment_missing",
        fix=f"az role assignment create --assignee-object-id {oid} --assignee-principal-type {ptype} "
        f'--role "{ROLE}" --scope "{scope}"\n'
        "Owner, Contributor and Cognitive Services Contributor do not grant inference; role changes take up to "
        "5 minutes to apply.",
        detail="; ".join(x for x in (f"service said: {message}", detail) if x),
    )


def _bad_token(ctx: Context, message: str, detail: str | None) -> Finding:
    if ctx.token_expired:
        return Finding(
            Severity.ERROR,
            f"401: {message}",
            cause="token_expired",
            fix="get a fresh token per call: pass azure_ad_token_provider=get_bearer_token_provider("
            "credential, 'https://cognitiveservices.azure.com/.default') instead of a fixed token",
            detail=detail,
        )
    return Finding(
        Severity.ERROR,
        f"401: {message}",
        cause="scope_wrong_resource",
        fix="request the token for https://cognitiveservices.azure.com/.default (.azure.us / .azure.cn in "
        "sovereign clouds); see the token checks (AOAI302) for its audience",
        detail=detail,
    )


def _wrong_tenant(ctx: Context, message: str, detail: str | None) -> Finding:
    tenant = ctx.expected_tenant or "<resource-tenant-id>"
    return Finding(
        Severity.ERROR,
        f"the token's tenant is not the resource's: {message}",
        cause="wrong_tenant",
        fix=f"az login --tenant {tenant}  (a service principal: AZURE_TENANT_ID={tenant}; azd: azd auth "
        f"login --tenant-id {tenant}); find the resource's tenant with: az account show --subscription "
        "<subscription-of-the-resource> --query tenantId --output tsv",
        detail=detail,
    )


def _resource_not_found(ctx: Context, detail: str | None) -> Finding:
    candidates = []
    version = ctx.api_version
    if not ctx.info.is_v1:
        if version is None:
            candidates.append("no api-version (the /openai/deployments routes need one)")
        else:
            info = av.classify(version)
            if info.lifecycle in (av.Lifecycle.RETIRED, av.Lifecycle.UNKNOWN) or not info.well_formed:
                candidates.append(f"api-version {version} is {info.lifecycle.value}")
            elif ctx.call.kind == "chat" and not av.has_chat_route(version):
                candidates.append(f"api-version {version} has no chat completions route")
    version_suspect = bool(candidates)  # everything so far is about the api-version
    if ctx.info.doubled_slash:
        candidates.append("a doubled slash in the path")
    if ctx.info.family not in (HostFamily.OPENAI, HostFamily.COGNITIVE_SERVICES, HostFamily.FOUNDRY):
        candidates.append(f"the host {ctx.info.host} may not serve Azure OpenAI routes")
    if not candidates:
        candidates.append("the path or the api-version")
    cause = "api_version_invalid" if version_suspect else "endpoint_wrong"
    return Finding(
        Severity.ERROR,
        "404 Resource not found: " + "; ".join(candidates),
        cause=cause,
        fix=f"call {ctx.call.url.split('?')[0]} with api-version={av.LATEST_GA} (or the v1 route "
        f"{ctx.info.base_url}/openai/v1/ without one)",
        detail=detail,
    )


def _operation_not_supported(ctx: Context, message: str, detail: str | None) -> Finding:
    model = re.search(r"specified model, ([\w.\-]+)", message)
    model_name = model.group(1) if model else "the deployed model"
    route, kind = ("embeddings", "embedding") if "embedding" in model_name else ("chat/completions", "chat")
    return Finding(
        Severity.ERROR,
        f"400 OperationNotSupported: {ctx.call.operation} does not work with {model_name}",
        cause="operation_not_supported",
        fix=f'call /{route} for this deployment (checks.toml [target] deployment_kind = "{kind}"; in the '
        f"openai SDK, client.{'embeddings' if kind == 'embedding' else 'chat.completions'}.create)",
        detail="; ".join(x for x in (f"service said: {message}", detail) if x),
    )


def _rate_limited(headers: Mapping[str, str], message: str, where: str, detail: str | None) -> Finding:
    wait = headers.get("retry-after-ms")
    wait_text = (
        f"{int(float(wait))} ms"
        if wait and wait.replace(".", "", 1).isdigit()
        else (f"{headers['retry-after']} s" if headers.get("retry-after") else "the time the message names")
    )
    limits = ", ".join(rate_limits(headers))
    return Finding(
        Severity.ERROR,
        f"429 on {where}: rate limit reached; retry after {wait_text}",
        cause="rate_limited",
        fix="honour retry-after-ms (the openai SDK does with max_retries), spread load, or raise the "
        "deployment's TPM: az cognitiveservices account deployment create … --sku-capacity <more>",
        detail="; ".join(x for x in (f"service said: {message}", limits, detail) if x),
    )
