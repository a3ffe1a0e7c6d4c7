"""AOAI5xx: the call itself: one minimal request per deployment, and what its answer means."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, ClassVar

from aoai_doctor import phase
from aoai_doctor.azure import answers as dp
from aoai_doctor.azure import calls
from aoai_doctor.azure.endpoints import EndpointInfo, HostFamily
from aoai_doctor.azure.models import Retirement, retirement, retirement_by_name
from aoai_doctor.check import Check, CheckContext, Outcome, finding
from aoai_doctor.config import ENV_GATEWAY_KEY
from aoai_doctor.facts import CallOutcome, SourceProbe, TokenUnderTest, endpoint_info
from aoai_doctor.model import Finding, Severity
from aoai_doctor.redaction import Secret
from aoai_doctor.services import http

if TYPE_CHECKING:
    from aoai_doctor.services.session import Session


class TestCall(Check):
    """Makes the smallest real call to each deployment and interprets the answer.

    ## What it detects
    The route is chosen from the configuration: chat completions by default, legacy completions for a
    `completion` deployment (the samples' `COMPLETIONS_MODEL`), embeddings for an `embedding` one, the
    Responses API (`/openai/v1/responses`) for a `responses` one, and the `/openai/v1` routes (the
    deployment name as `model`, no dated api-version) for a v1 endpoint or a Foundry project. The request
    sends no sampling parameters and asks for 16 tokens, the least every current model accepts, on the
    parameter the model family takes (`max_tokens`; `max_completion_tokens` for reasoning models such
    as gpt-5 and the o-series; `max_output_tokens` on Responses). When the service refuses a parameter
    and names what it wants (`max_completion_tokens` instead of `max_tokens`, a budget of at least 16),
    the call is made once more that way and the report says so. A model that spends the whole budget
    reasoning (`finish_reason: length` with no text, or a Responses `incomplete` answer) has answered:
    that is a pass. A `User-Agent` and an `x-ms-client-request-id` go with every request and the report
    quotes them. Every answer is read to a cause and an exact fix:
    401 PermissionDenied (the role to assign, as a ready `az role assignment create` command; Azure AI
    User for a Foundry project's data actions), 401 audience or expiry, 400 tenant mismatch, 404
    DeploymentNotFound versus 404 Resource not found (with the candidates, and `model_retired` when the
    deployment runs a retired model version of the dated table in `aoai_doctor/azure/models.py`, known
    from the deployment's name or read from Resource Manager with the run's own identity: a 404 alone
    cannot tell a retired model from a wrong api-version),
    400 OperationNotSupported (the route that fits), 400 unsupported parameters or values
    (`parameter_unsupported`), 403 key auth disabled, 403 network rules, 429 (the limit and
    `retry-after-ms`), 5xx (`service_unavailable`, with the request ids for support), content filtering,
    an API Management gateway's missing subscription key (`gateway_key_missing`, with the header it
    wants) or token validation, and HTML or other non-JSON answers from proxies and captive
    portals. Transport failures (DNS, refused or timed-out connections, TLS, resets, hangs) are
    diagnosed too.

    A bearer token or key is only sent to Azure OpenAI host names (`*.openai.azure.com`,
    `*.cognitiveservices.azure.com`, `*.services.ai.azure.com`, sovereign twins, `*.azure-api.net`)
    unless `--allow-host` names the host; redirects are not followed; TLS is always verified.

    ## Why it matters
    Only a real call proves that this identity may call this deployment on this route. The call is
    billable; it asks for the fewest tokens every model accepts (16), and the report says how many calls
    were made. Behind API Management, set `AOAI_DOCTOR_GATEWAY_KEY` (and
    `AOAI_DOCTOR_GATEWAY_KEY_HEADER` when the API renamed `Ocp-Apim-Subscription-Key`): the key goes
    with the token, to an API Management host (`*.azure-api.net`) or a host `--allow-host` names only.

    ## How to fix
    Follow the fix of the finding. `--no-live` skips the call (and the checks that read it).

    ## Options
    `live` (default true; `--no-live`): make the call. `read_timeout` (seconds, default 30).
    `expect_region` (`--expect-region`, e.g. `eastus`): fail when `x-ms-region` names another region.
    `prompt` (`--prompt`, default `ping`): the prompt the call sends; your own shows what the
    deployment's content filter does with it.
    """

    __test__ = False  # not a pytest test class

    id = "AOAI501"
    name = "test-call"
    summary = "one minimal billable call per deployment answers 200, or why not"
    requires = ("AOAI101", "AOAI102")
    uses = ("AOAI302", "AOAI401")
    options: ClassVar[Mapping[str, object]] = {"live": True, "read_timeout": 30.0, "expect_region": "",
                                               "prompt": "ping"}
    binds: ClassVar[Mapping[str, str]] = {"live": "live", "expect_region": "expect_region", "prompt": "prompt"}
    timeout = 90.0
    pool: ClassVar[Session | None] = None
    """Connections shared with other runs (a fleet's targets on one host); None: each call on its own, so
    that its connect and TLS times are measured."""

    def run(self, ctx: CheckContext) -> Outcome:
        if not ctx.options.get("live", True):
            return Outcome.skip("--no-live: the billable test call was not made")
        info = endpoint_info(ctx.target)
        if info is None or not ctx.target.deployments:
            return Outcome.skip("no endpoint or deployment")
        credential: tuple[http.Credential, ...]
        token = ctx.fact(TokenUnderTest)
        if ctx.target.auth.value == "api-key":
            if ctx.target.api_key is None:
                return Outcome.skip("no API key (see AOAI101)")
            credential = (("api-key", ctx.target.api_key),)
        elif token is None:
            return Outcome.skip("no token to call with (see AOAI210 and AOAI302)")
        else:
            credential = (("Authorization", Secret(f"Bearer {token.token.reveal()}")),)
        found: list[Finding] = []
        if ctx.target.gateway_key is not None:
            if info.family is HostFamily.APIM or info.host in ctx.target.allow_hosts:
                credential += ((ctx.target.gateway_key_header, ctx.target.gateway_key),)
            else:  # a subscription key is for the gateway: never sent to the resource itself
                found.append(finding(
                    Severity.WARNING, f"a gateway key is set ({ctx.target.gateway_key_source}) but {info.host} is not "
                    "an API Management host, so it was not sent", cause="config_invalid",
                    fix=f"unset {ENV_GATEWAY_KEY[0]}\n--allow-host {info.host}  (when this host is your gateway)"))
        policy = http.Policy(
            allow_hosts=ctx.target.allow_hosts,
            resolve=http.parse_resolve(list(ctx.target.resolve)),
            timeout=ctx.seconds_left(float(ctx.options.get("read_timeout", 30.0))),
        )
        api_version = ctx.target.api_version.value if ctx.target.api_version else None
        facts: list[object] = []
        calls = 0
        budget = 0
        management_token = functools.cache(lambda: _management_probe(info, token, ctx))
        for dep in ctx.target.deployments:
            outcome, dep_findings, made = self._one(
                info, dep.name, dep.kind, api_version, credential, policy, ctx, token, management_token,
                self.pool.post_json if self.pool is not None else http.post_json,
            )
            calls += made
            budget = max(budget, outcome.request[0].budget if outcome.request else 0)
            found += dep_findings
            facts.append(outcome)
        region = str(ctx.options.get("expect_region") or "")
        for outcome in (f for f in facts if isinstance(f, CallOutcome) and f.status == 200):
            served = outcome.headers.get("x-ms-region")
            if region and served and _region_key(served) != _region_key(region):
                found.append(
                    finding(
                        Severity.ERROR,
                        f"{outcome.deployment} was served from {served}, not {region}",
                        cause="other",
                        fix="a Global or DataZone deployment may be served from another region; use a "
                        "Standard (regional) deployment where data residency matters",
                    )
                )
        if calls:
            found.append(
                finding(
                    Severity.INFO,
                    f"{calls} billable call{'s' * (calls != 1)} made"
                    + (f" (at most {budget} tokens each)" if budget else ""),
                    fix="--no-live skips the call",
                )
            )
        data = {"billable_calls": calls, "calls": [_call_data(o) for o in facts if isinstance(o, CallOutcome)]}
        return Outcome(tuple(found), facts=tuple(facts), data=data)

    @staticmethod
    def _one(
        info: EndpointInfo,
        name: str,
        kind: str | None,
        api_version: str | None,
        credential: tuple[http.Credential, ...],
        policy: http.Policy,
        ctx: CheckContext,
        token: TokenUnderTest | None,
        management_token: Callable[[], SourceProbe],
        post: Callable[..., http.Response | http.Failure],
    ) -> tuple[CallOutcome, list[Finding], int]:
        prompt = str(ctx.options.get("prompt") or "ping")
        call = calls.plan_call(info, name, kind, api_version, prompt=prompt)
        phase.enter(f"waiting for {call.operation} on {name} ({info.host})")
        answer = post(call.url, call.body, credential, policy, ctx.environ)
        made = int(isinstance(answer, http.Response))
        changes: list[str] = []
        # The service named what it wants instead (a parameter, then a budget): ask again, at most twice.
        while isinstance(answer, http.Response) and len(changes) < calls.MAX_ADAPTATIONS:
            step = calls.adapt(call, answer.status, calls.parse_body(answer.body))
            if step is None:
                break
            call, change = step
            changes.append(change)
            answer = post(call.url, call.body, credential, policy, ctx.environ)
            made += isinstance(answer, http.Response)
        adapted = (call, "; then ".join(changes)) if changes else None
        now = time.time()
        if isinstance(answer, http.Failure):
            outcome = CallOutcome(
                name,
                call.kind,
                call.url,
                None,
                answer.kind,
                {},
                answer.timings,
                now,
                None,
                answer.client_request_id,
                token.acquired_ms if token else None,
                None,
                (call, credential),
            )
            return outcome, [_transport(answer, name), *_adapted(adapted)], made
        identity = token.identity if token else None
        expired = bool(token and isinstance(token.claims.get("exp"), (int, float)) and token.claims["exp"] < now)
        context = dp.Context(
            info,
            name,
            call,
            api_version,
            ctx.target.auth.value,
            identity,
            ctx.target.expected_tenant.value if ctx.target.expected_tenant else None,
            expired,
            _public_address(ctx),
            named_retirement=retirement_by_name(name),
            gateway_header=ctx.target.gateway_key_header,
            gateway_key_sent=None if ctx.target.gateway_key is None else any(
                header == ctx.target.gateway_key_header for header, _ in credential),
        )
        learned = ""
        if (answer.status == 404 and b"DeploymentNotFound" not in answer.body
                and not dp.api_version_suspects(info, api_version, call.kind)):
            # The answer is the same for a retired model and a wrong path: ask which model it runs.
            row, learned = _model_from_arm(info, name, token, policy, ctx, management_token)
            context = dataclasses.replace(context, retirement=row)
        findings = dp.interpret(answer.status, answer.headers, answer.body, context)
        cut = ("the body was cut at the read limit" if answer.truncated else "") or calls.body_unreadable(answer.body)
        # why the body was not read as JSON, where the finding says what it was; what ARM said of the model
        findings = _noted(findings, cut, Severity.WARNING)
        findings = _noted(findings, learned, Severity.ERROR)
        if adapted is not None and findings and findings[0].severity is Severity.INFO:
            # the answer line says it took a second call: shown at default verbosity, as the call is billable
            findings[0] = dataclasses.replace(findings[0], message=f"{findings[0].message} (after: {adapted[1]})")
        else:
            findings += _adapted(adapted)
        outcome = CallOutcome(
            name,
            call.kind,
            call.url,
            answer.status,
            None,
            answer.headers,
            answer.timings,
            now,
            _date(answer.headers.get("date")),
            answer.client_request_id,
            token.acquired_ms if token else None,
            calls.parse_body(answer.body),
            (call, credential),
        )
        return outcome, findings, made


def _management_probe(info: EndpointInfo, token: TokenUnderTest | None, ctx: CheckContext) -> SourceProbe:
    """A Resource Manager token from the source that won the chain (the caller checks there is one)."""
    from aoai_doctor.services import arm, identity

    assert token is not None and token.chain_source is not None
    return identity.probe(token.chain_source, arm.scope(info.cloud), identity.Bounds(), ctx.environ)


def _model_from_arm(info: EndpointInfo, deployment: str, token: TokenUnderTest | None, policy: http.Policy,
                    ctx: CheckContext, management_token: Callable[[], SourceProbe]) -> tuple[Retirement | None, str]:
    """What Resource Manager says the deployment runs, asked with the run's own identity (``management_token``,
    asked once per run however many deployments need it): its row in the retirement table, and a line for the
    detail. Only for a 404 the answer alone cannot explain."""
    from aoai_doctor.services import arm

    source = token.chain_source if token else None
    if source is None:
        return None, ""
    base = arm.base_url(info.cloud, ctx.target.arm_endpoint)
    if base is None:
        return None, f"ARM: {ctx.target.arm_endpoint} is not a Resource Manager endpoint, so the model was not read"
    if info.resource_name is None and not arm.is_loopback(base):
        # Only the stand-in's own ARM is searched for the deployment: never a whole tenant.
        return None, f"ARM: {info.host} names no Azure resource, so the deployment's model was not looked up"
    probe = management_token()
    if probe.token is None:
        return None, f"ARM: no token for {arm.scope(info.cloud)} from {source}, so the model was not read"
    found = arm.deployment_model(probe.token, base, info.resource_name, deployment, policy, ctx.environ)
    if isinstance(found, str):
        return None, f"ARM: {found}"
    model = f"{found.name} {found.version or ''}".rstrip()
    return retirement(found.name, found.version), f"ARM: {deployment} runs {model}"


def _noted(findings: list[Finding], note: str, at_least: Severity) -> list[Finding]:
    """``note`` added to the detail of every finding of ``at_least`` that severity (none when it is empty)."""
    if not note:
        return findings
    return [dataclasses.replace(f, detail="; ".join(x for x in (f.detail, note) if x)) if f.severity >= at_least
            else f for f in findings]


def _adapted(adapted: tuple[calls.Call, str] | None) -> list[Finding]:
    """The note that the call was changed to what the service asked for."""
    if adapted is None:
        return []
    return [Finding(Severity.INFO, f"adapted: {adapted[1]}", detail="each 400 named what the service wants; the "
                    "call was made again that way (every call is billable)")]


def _public_address(ctx: CheckContext) -> str | None:
    """The endpoint's address from AOAI401 when it is public (not a private endpoint)."""
    from aoai_doctor.services.netprobe import DnsAnswer

    answer = ctx.fact(DnsAnswer)
    if answer is None or answer.private or not answer.addresses:
        return None
    return answer.addresses[0]


def _call_data(outcome: CallOutcome) -> dict[str, object]:
    """The report's view of a call: where, what came back, the ids support asks for, and timings."""
    headers = outcome.headers
    return {
        "deployment": outcome.deployment,
        "route": outcome.kind,
        "url": outcome.url,
        "status": outcome.status,
        "failure": outcome.failure,
        "request_ids": {h: headers[h] for h in dp.REQUEST_ID_HEADERS if headers.get(h)}
        or {"x-ms-client-request-id": outcome.client_request_id},
        "region": headers.get("x-ms-region"),
        "served_by_deployment": headers.get("x-ms-deployment-name"),
        "service_headers": {h: headers[h] for h in dp.SERVICE_HEADERS if headers.get(h)},
        "timings_ms": {
            "dns": outcome.timings.dns_ms,
            "connect": outcome.timings.connect_ms,
            "tls": outcome.timings.tls_ms,
            "first_byte": outcome.timings.ttfb_ms,
            "total": outcome.timings.total_ms,
            "token": outcome.token_ms,
        },
    }


def _region_key(name: str) -> str:
    """``East US`` and ``eastus`` compare equal."""
    return "".join(name.lower().split())


def _date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


_CAUSES = {
    "dns": "dns_failure",
    "connect": "connection_failed",
    "tls": "tls_interception",
    "handshake": "connection_failed",
    "timeout": "service_unavailable",
    "reset": "connection_failed",
    "proxy": "proxy_misconfigured",
    "refused": "endpoint_wrong",
    "ca": "tls_interception",
    "protocol": "endpoint_wrong",
    "malformed": "service_unavailable",
    "other": "connection_failed",
}
"""The cause of each :class:`http.Failure` kind."""

_FIXES = {
    "dns": "check the resource name (nslookup <host>); on a private network, the privatelink.openai.azure.com zone "
    "must resolve it",
    "connect": "check firewalls and routes to the endpoint on port 443 (or test a private IP with --resolve)",
    "tls": "export REQUESTS_CA_BUNDLE=/path/to/bundle-with-your-proxy-root-ca.pem; never disable verification",
    "handshake": "the TLS handshake failed before any certificate was judged: the server (or a device in the "
    "path) speaks a TLS version or cipher this client refuses, demands a client certificate, or is not a TLS "
    "server; compare with: openssl s_client -connect <host>:443 -servername <host>",
    "timeout": "the service did not answer in time: retry later, raise [checks.AOAI501] read_timeout, and quote "
    "the x-ms-client-request-id to support if it persists",
    "reset": "something closed the connection mid-request (a proxy or firewall); check the network path",
    "proxy": "check HTTPS_PROXY (host, port, credentials) and that the proxy allows the endpoint",
    "refused": "give the Azure OpenAI resource endpoint, or --allow-host for a gateway of your own",
    "ca": "point REQUESTS_CA_BUNDLE at a readable PEM bundle (or unset it to use certifi's)",
    "protocol": "what answers on this host and port is not an HTTPS web server: check the endpoint's host and "
    "port (https://<resource>.openai.azure.com, port 443) and any --resolve pin",
    "malformed": "the server, or a gateway or proxy in front of it, sent a broken HTTP answer: retry, check the "
    "gateway or proxy in the path, and quote the x-ms-client-request-id to support if it persists",
    "other": "check the network path to the endpoint",
}
"""The fix for each :class:`http.Failure` kind."""

_DEADLINE_FIX = (
    "the peer kept the connection open but trickled its answer: raising read_timeout will not help. Check for "
    "a throttling or inspecting proxy or gateway in the path (try without HTTPS_PROXY, or with NO_PROXY for the "
    "host), retry later, and quote the x-ms-client-request-id to support if it persists"
)
"""The fix for a request cut at its total deadline (:attr:`http.Policy.deadline`)."""


def _transport(failure: http.Failure, deployment: str) -> Finding:
    fix = _DEADLINE_FIX if failure.deadline else _FIXES.get(failure.kind, _FIXES["other"])
    return finding(
        Severity.ERROR,
        f"{deployment}: {failure.message}",
        cause=_CAUSES.get(failure.kind, "other"),
        fix=fix,
        detail=f"x-ms-client-request-id={failure.client_request_id}",
    )
