"""What a data-plane answer means, as pure functions: a table of rules from status, code and message to
a cause and the knowledge base's fix. What to send is :mod:`aoai_doctor.azure.calls`.

Bodies, statuses and headers follow the service reference (error bodies and headers, verbatim from
public reports). Match on ``error.code`` first; the message text is a hint.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from aoai_doctor.azure import api_versions as av
from aoai_doctor.azure.calls import OUTPUT_LIMIT, UNSUPPORTED, Call, error_code, error_message, error_param, parse_body
from aoai_doctor.azure.endpoints import APIM_KEY_HEADER, EndpointInfo, HostFamily, PathShape
from aoai_doctor.azure.jwt import Identity
from aoai_doctor.azure.models import Lifecycle, Retirement, current_replacement, model_and_version
from aoai_doctor.explainer.fixes import fix_for
from aoai_doctor.model import Finding, Severity
from aoai_doctor.record import record

ROLE = "Cognitive Services OpenAI User"
ROLE_ID = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
# Foundry projects authorise their data actions (Microsoft.CognitiveServices/accounts/AIServices/…) with
# this role, not with Cognitive Services OpenAI User (aka.ms/FoundryPermissions; foundry-samples#692).
PROJECT_ROLE = "Azure AI User"
PROJECT_ROLE_ID = "53ca6127-db72-4b80-b1b0-d745d6d5456d"
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


@record
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
    retirement: Retirement | None = None
    """The retirement table's row for the deployment's model, when Resource Manager said which it runs."""
    named_retirement: Retirement | None = None
    """The row the deployment's name points at: a hint, never proof (names outlive model upgrades)."""
    gateway_key_sent: bool | None = None
    """Whether a configured gateway key went with the call (None: none is configured)."""
    gateway_header: str = APIM_KEY_HEADER
    """The header an API Management gateway takes its subscription key in."""
    today: dt.date = field(default_factory=dt.date.today)


@record
class Answer:
    """A data-plane answer, read once for the rules."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    data: dict[str, Any] | None
    code: str
    message: str
    where: str
    """``chat/completions on chat``: the operation and the deployment, for messages."""


@record
class Said:
    """What a rule makes of an answer. The cause and the fix come from the knowledge base ``signature``
    (the one ``explain`` matches for the same text), with ``values`` filled into its placeholders."""

    message: str
    signature: str
    values: Mapping[str, str | None] = field(default_factory=dict)
    severity: Severity = Severity.ERROR
    note: str = ""
    """An extra line for the detail (``-v``)."""


Rule = Callable[[Answer, Context], Said | None]
"""Looks at an answer; says what it means, or None when it does not apply."""


def interpret(status: int, headers: Mapping[str, str], body: bytes, ctx: Context) -> list[Finding]:
    """What an answer means: a passing note, or a finding with a cause and the exact fix. The first rule
    of :data:`RULES` that applies decides."""
    data = parse_body(body)
    answer = Answer(status, headers, body, data, error_code(data) if data else "", error_message(data),
                    f"{ctx.call.operation} on {ctx.deployment}")
    if 200 <= status < 300 and data is not None:
        return _success(data, headers, answer.where, ctx)
    ids = request_ids(headers)
    region = f"x-ms-region={headers['x-ms-region']}" if headers.get("x-ms-region") else ""
    detail = "; ".join(x for x in (ids, region) if x)
    for rule in RULES:
        said = rule(answer, ctx)
        if said is not None:
            cause, fix = fix_for(said.signature, {**_known(ctx), **said.values})
            return [Finding(said.severity, said.message, cause=cause, fix=fix,
                            detail="; ".join(x for x in (said.note, detail) if x) or None)]
    return [Finding(Severity.ERROR, f"{status} on {answer.where}: {answer.code + ': ' if answer.code else ''}"
                    f"{answer.message or 'no message'}", cause="other",
                    fix="aoai-doctor explain with the whole answer body may know this one",
                    detail=detail or None)]


def _known(ctx: Context) -> dict[str, str | None]:
    """The placeholders of the knowledge base's fixes this target fills in."""
    identity = ctx.identity
    return {
        "resource": ctx.info.resource_name,
        "endpoint": ctx.info.base_url,
        "deployment": ctx.deployment,
        "tenant-id": ctx.expected_tenant,
        "object-id": identity.object_id if identity else None,
        "principal-type": identity.principal_type if identity else None,
    }


def _service_said(message: str) -> str:
    return f"service said: {message}" if message else ""


def _redirect(a: Answer, ctx: Context) -> Said | None:
    if not 300 <= a.status < 400:
        return None
    location = a.headers.get("location", "(no Location header)")
    return Said(f"{a.status}: the endpoint redirects {a.where} to {location}", "http-redirect")


def _not_json(a: Answer, ctx: Context) -> Said | None:
    if a.data is not None:
        return None
    if not a.body.strip():
        return Said(f"{a.status} with an empty body on {a.where}", "http-empty-body")
    content_type = a.headers.get("content-type", "")
    looks_html = "html" in content_type or a.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
    title = re.search(rb"<title>(.{0,120}?)</title>", a.body, re.I | re.S)
    what = (
        f"an HTML page{(' (' + title.group(1).decode('utf-8', 'replace').strip() + ')') if title else ''}"
        if looks_html
        else "a body that is not JSON"
    )
    return Said(f"{a.status} with {what} on {a.where}: not Azure OpenAI's answer", "answer-not-json")


def _role_missing(a: Answer, ctx: Context) -> Said | None:
    if not (a.status in (401, 403) and a.code == "PermissionDenied"):
        return None
    who = ctx.identity.describe() if ctx.identity else "the caller"
    named = re.search(_DATA_ACTION, a.message)
    if ctx.info.shape is PathShape.FOUNDRY_PROJECT or (named and "/AIServices/" in named.group(0)):
        action = named.group(0) if named else "the project's data actions"
        short = (ctx.identity.user or f"app {ctx.identity.app_id or '?'}") if ctx.identity else "the caller"
        return Said(f"{a.status} PermissionDenied on the Foundry project: {short} lacks {action}",
                    "foundry-permission-denied", {"role": PROJECT_ROLE}, note=f"{who}; {_service_said(a.message)}")
    action = DATA_ACTIONS.get(ctx.call.kind) or (named.group(0) if named else f"the {ctx.call.operation} action")
    return Said(f"{a.status} PermissionDenied: {who} lacks the data action {action}", "aoai-permission-denied-code",
                note=_service_said(a.message))


def _gateway_key_missing(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 401 and re.search(_SUBSCRIPTION_KEY, a.message)):
        return None
    missing = "missing" in a.message.lower()
    signature = "apim-subscription-key-missing" if missing else "apim-subscription-key-invalid"
    header, said = ctx.gateway_header, f"401 from an API Management gateway on {a.where}: {a.message}"
    if missing and ctx.gateway_key_sent:  # sent, yet missing: the gateway reads another header
        header = "api-key" if header.lower() == APIM_KEY_HEADER.lower() else APIM_KEY_HEADER
        said += f" (the key was sent in {ctx.gateway_header}, which this gateway does not read)"
    elif ctx.gateway_key_sent is False:
        said += f" (the configured key was not sent: {ctx.info.host} is not an API Management host)"
    return Said(said, signature, {"header": header})


def _gateway_token(a: Answer, ctx: Context) -> Said | None:
    """APIM's validate-jwt policy refused the bearer token before Azure OpenAI saw it."""
    if not (a.status == 401 and ctx.info.family is HostFamily.APIM and a.data is not None and "statusCode" in a.data
            and ctx.auth != "api-key" and re.search(_GATEWAY_JWT, a.message)):
        return None
    return Said(f"401 from the API Management gateway's token validation on {a.where}: {a.message}",
                "apim-validate-jwt-401")


def _wrong_tenant(a: Answer, ctx: Context) -> Said | None:
    if not (a.status in (400, 401) and re.search(_TENANT_MISMATCH, a.message)):
        return None
    return Said(f"the token's tenant is not the resource's: {a.message}", "aoai-tenant-mismatch")


def _bad_token(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 401 and ((a.data is not None and "statusCode" in a.data) or ctx.auth != "api-key")):
        return None
    if ctx.token_expired:
        return Said(f"401: {a.message}", "aoai-401-token-audience-expiry-context")
    return Said(f"401: {a.message}", "aoai-401-token-audience")


def _bad_key(a: Answer, ctx: Context) -> Said | None:
    return Said(f"401 on {a.where}: {a.message}", "aoai-401-invalid-key") if a.status == 401 else None


def _key_auth_disabled(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 403 and a.code == "AuthenticationTypeDisabled"):
        return None
    return Said(f"403 AuthenticationTypeDisabled: {a.message}", "aoai-key-auth-disabled")


def _network_blocked(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 403 and re.search(_NETWORK_RULES, a.message)):
        return None
    public = (f"{ctx.info.host} resolves to the public address {ctx.public_address} here, so the call does not "
              "go through a private endpoint") if ctx.public_address else ""
    return Said(f"403 on {a.where}: {a.message}", "aoai-network-blocked", note=public)


def _gateway_quota(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 403 and ctx.info.family is HostFamily.APIM):
        return None
    return Said(f"403 from API Management on {a.where}: {a.message}", "apim-token-limit-403")


def _deployment_not_found(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 404 and a.code == "DeploymentNotFound"):
        return None
    return Said(f"404 DeploymentNotFound: no deployment named {ctx.deployment} on this resource",
                "aoai-deployment-not-found-code")


def _resource_not_found(a: Answer, ctx: Context) -> Said | None:
    if a.status != 404:
        return None
    row = ctx.retirement
    if row is not None and row.lifecycle is Lifecycle.RETIRED and row.on <= ctx.today:
        # A retired model's deployment answers exactly as a wrong api-version does (litellm#11116).
        return Said(f"404 Resource not found: {ctx.deployment} runs {row.describe()}, retired on {row.on.isoformat()}",
                    "aoai-model-retired", _retirement_values(row, ctx.today),
                    note=f"Resource Manager says so; retirement table: {row.source}")
    candidates = api_version_suspects(ctx.info, ctx.api_version, ctx.call.kind)
    version_suspect = bool(candidates)  # everything so far is about the api-version
    if ctx.info.doubled_slash:
        candidates.append("a doubled slash in the path")
    if ctx.info.family not in (HostFamily.OPENAI, HostFamily.COGNITIVE_SERVICES, HostFamily.FOUNDRY):
        candidates.append(f"the host {ctx.info.host} may not serve Azure OpenAI routes")
    if row is not None and row.on <= ctx.today:  # deprecating: retired on that date at the earliest
        candidates.append(f"the model {row.describe()} may be retired (no earlier than {row.on.isoformat()})")
    hint = ctx.named_retirement
    if row is None and hint is not None and hint.on <= ctx.today:
        candidates.append(f"the deployment's name suggests {hint.describe()}, retired on {hint.on.isoformat()}")
    if not candidates:
        candidates.append("the path or the api-version")
    return Said("404 Resource not found: " + "; ".join(candidates),
                "aoai-resource-not-found" if version_suspect else "endpoint-resource-not-found")


def api_version_suspects(info: EndpointInfo, api_version: str | None, kind: str) -> list[str]:
    """What about the api-version alone would explain a 404 on the /openai/deployments routes."""
    if info.is_v1 or info.models_inference:
        return []
    if api_version is None:
        return ["no api-version (the /openai/deployments routes need one)"]
    version = av.classify(api_version)
    if version.lifecycle in (av.Lifecycle.RETIRED, av.Lifecycle.UNKNOWN) or not version.well_formed:
        return [f"api-version {api_version} is {version.lifecycle.value}"]
    if kind == "chat" and not av.has_chat_route(api_version):
        return [f"api-version {api_version} has no chat completions route"]
    return []


def _parameter_refused(a: Answer, ctx: Context) -> Said | None:
    """A model that refuses a parameter or a value the call sent (reasoning models: ``max_tokens``,
    ``temperature``, budgets under 16), when the one adaptation did not help or did not apply."""
    if a.status != 400:
        return None
    code = a.code.lower()
    named = re.search(UNSUPPORTED, a.message)
    below = code == "integer_below_min_value" or "below minimum value" in a.message
    if re.search(OUTPUT_LIMIT, a.message):
        return Said(f"400 on {a.where}: the model used its whole {ctx.call.budget}-token budget before it could "
                    "answer", "aoai-output-limit-reached", note=_service_said(a.message))
    if not (below or named or code in ("unsupported_parameter", "unsupported_value")):
        return None
    param = error_param(a.data) or (named.group(2) if named else "") or (ctx.call.param or "")
    if below:
        signature = "aoai-budget-below-minimum"
    elif code == "unsupported_value" or (named and named.group(1).lower() == "value"):
        signature = "aoai-unsupported-value"
    else:
        signature = "aoai-unsupported-parameter"
    return Said(f"400 on {a.where}: the model refuses '{param}'", signature, {"param": param},
                note=_service_said(a.message))


def _model_deprecated(a: Answer, ctx: Context) -> Said | None:
    if a.code != "ServiceModelDeprecated":
        return None
    return Said(f"{a.status} ServiceModelDeprecated on {a.where}: {a.message}", "aoai-model-deprecated",
                _retirement_values(ctx.retirement, ctx.today))


def _retirement_values(row: Retirement | None, today: dt.date) -> dict[str, str | None]:
    if row is None:
        return {}
    model, version = model_and_version(current_replacement(row, today))
    return {"model": row.describe(), "retired-on": row.on.isoformat(), "replacement": model, "version": version}


def _operation_not_supported(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 400 and a.code == "OperationNotSupported"):
        return None
    model = re.search(r"specified model, ([\w.\-]+)", a.message)
    model_name = model.group(1) if model else "the deployed model"
    route = "embeddings" if "embedding" in model_name else "chat/completions"
    return Said(f"400 OperationNotSupported: {ctx.call.operation} does not work with {model_name}",
                "aoai-operation-not-supported", {"route": route}, note=_service_said(a.message))


def _content_filtered(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 400 and (a.code == "content_filter" or "content management policy" in a.message)):
        return None
    return Said("the test prompt was blocked by content filtering", "aoai-content-filter", severity=Severity.WARNING)


def _custom_subdomain(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 400 and "custom subdomain" in a.message.lower()):
        return None
    return Said(f"400: {a.message}", "aoai-custom-subdomain")


def _api_version(a: Answer, ctx: Context) -> Said | None:
    if not (a.status == 400 and re.search(r"api version|api-version", a.message, re.I)):
        return None
    return Said(f"400 on {a.where}: {a.message}", "aoai-api-version-not-supported")


def _rate_limited(a: Answer, ctx: Context) -> Said | None:
    if a.status != 429:
        return None
    wait = a.headers.get("retry-after-ms")
    wait_text = (
        f"{int(float(wait))} ms"
        if wait and wait.replace(".", "", 1).isdigit()
        else (f"{a.headers['retry-after']} s" if a.headers.get("retry-after") else "the time the message names")
    )
    limits = ", ".join(rate_limits(a.headers))
    return Said(f"429 on {a.where}: rate limit reached; retry after {wait_text}", "http-429",
                note="; ".join(x for x in (_service_said(a.message), limits) if x))


def _server_error(a: Answer, ctx: Context) -> Said | None:
    if a.status < 500:
        return None
    return Said(f"{a.status} from the service on {a.where}: {a.message or 'no message'}", "http-5xx")


_DATA_ACTION = r"(?i)Microsoft\.CognitiveServices/[\w./*-]+"
# APIM's own texts; Azure OpenAI's "invalid subscription key or wrong API endpoint" is a bad api-key.
_SUBSCRIPTION_KEY = r"(?i)missing subscription key|invalid subscription key\. make sure to provide a valid key"
_GATEWAY_JWT = r"(?i)access token is missing or invalid|invalid jwt|jwt (?:not present|validation)"
_TENANT_MISMATCH = r"(?i)tenant.{0,40}does not match|does not match resource tenant"
_NETWORK_RULES = r"(?i)public access is disabled|virtual network|firewall"

RULES: tuple[Rule, ...] = (
    _redirect,
    _not_json,
    _role_missing,
    _wrong_tenant,
    _gateway_key_missing,
    _gateway_token,
    _bad_token,
    _bad_key,
    _key_auth_disabled,
    _network_blocked,
    _gateway_quota,
    _deployment_not_found,
    _model_deprecated,
    _resource_not_found,
    _parameter_refused,
    _operation_not_supported,
    _content_filtered,
    _custom_subdomain,
    _api_version,
    _rate_limited,
    _server_error,
)
"""What an error answer means, in order: the first rule that applies decides. Each names the knowledge
base signature ``explain`` matches for the same answer, so both give the same cause and one wording of
its fix."""


def _success(data: Mapping[str, Any], headers: Mapping[str, str], where: str, ctx: Context) -> list[Finding]:
    """A 2xx answer. Running out of budget is success: the call proves the deployment answers, and a
    reasoning model may spend a small budget thinking (``finish_reason: length`` with no text, or a
    Responses ``incomplete`` for ``max_output_tokens``)."""
    model = data.get("model") or headers.get("x-ms-deployment-name") or ""
    region = headers.get("x-ms-region")
    text = f"{where} answered 200" + (f" ({model}" + (f", {region}" if region else "") + ")" if model else "")
    stop = _stop_reason(data)
    reasoning = _reasoning_tokens(data)
    if stop in ("length", "max_output_tokens") and ctx.call.budget:
        spent = f"{reasoning} of them reasoning" if reasoning else "no text yet"
        text += f"; it used its whole {ctx.call.budget}-token budget ({spent}), which is all the call asks"
    found = [Finding(Severity.INFO, text, detail=request_ids(headers) or None)]
    if stop == "content_filter":
        cause, fix = fix_for("aoai-content-filter", _known(ctx))
        found.append(Finding(Severity.WARNING, "the answer was cut by content filtering (content_filter)",
                             cause=cause, fix=fix))
    elif data.get("object") == "response" and data.get("status") == "failed":
        raw = data.get("error")
        error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        found.append(Finding(Severity.ERROR, f"{where} answered 200 with status failed: "
                             f"{error.get('code') or ''} {error.get('message') or ''}".rstrip(), cause="other",
                             fix="aoai-doctor explain with the whole answer body may know this one"))
    return found


def _stop_reason(data: Mapping[str, Any]) -> str | None:
    """Why the answer stopped: ``finish_reason`` of chat and completions, or a Responses object's
    ``incomplete_details.reason``."""
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        reason = choices[0].get("finish_reason")
        return str(reason) if reason else None
    details = data.get("incomplete_details")
    if data.get("object") == "response" and isinstance(details, dict):
        return str(details.get("reason") or "") or None
    return None


def _reasoning_tokens(data: Mapping[str, Any]) -> int:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return 0
    details = usage.get("completion_tokens_details") or usage.get("output_tokens_details")
    value = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return value if isinstance(value, int) else 0
