"""AOAI3xx: the scope the app asks for, and the token it gets: audience, tenant, cloud, lifetime, clock."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import urlsplit

from aoai_doctor.azure.chain import SCOPE_FORGIVING, SCOPE_STRICT
from aoai_doctor.azure.endpoints import (
    MANAGEMENT_SCOPE,
    SCOPES,
    Cloud,
)
from aoai_doctor.azure.jwt import (
    AUTHORITY_HOST_SOURCES,
    FOUNDRY_BOTH,
    Identity,
    audience_problem,
    cloud_problem,
    decode_claims,
    foundry_scope_problem,
    host_of,
    is_project,
    token_cloud,
)
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.facts import CallOutcome, SourceProbe, TokenUnderTest, Verdict, endpoint_info, token_scope
from aoai_doctor.model import Finding, Severity


def _resource(scope: str) -> str:
    return scope[: -len("/.default")] if scope.endswith("/.default") else scope


class Scope(Check):
    """Checks the token scope the app asks for against the one the endpoint needs.

    ## What it detects
    - A scope without `/.default` (`https://cognitiveservices.azure.com`): Entra refuses it for the
      client-credential and refresh-token flows (AADSTS1002012 / AADSTS70011), so EnvironmentCredential,
      WorkloadIdentityCredential and SharedTokenCacheCredential fail, while ManagedIdentityCredential,
      AzureCliCredential and AzurePowerShellCredential strip or ignore the suffix and succeed. Switching to
      AzureCliCredential only hides the bug.
    - A trailing-slash resource (`https://cognitiveservices.azure.com//.default`), spaces or several
      scopes in one string.
    - The wrong resource: `api.openai.com`, a management-plane scope (`management.azure.com`,
      `graph.microsoft.com`), or the public-cloud scope on a sovereign (`.azure.us` / `.azure.cn`)
      endpoint.
    - Foundry projects (`https://<resource>.services.ai.azure.com/api/projects/<project>`) take
      `https://ai.azure.com/.default`, the scope azure-ai-projects 2.x asks for; a cognitiveservices
      scope there gets 401. The other way round, `https://ai.azure.com/.default` is accepted by a Foundry
      resource's own endpoints (`*.services.ai.azure.com`, whose 401 names both audiences), and is a
      warning on `*.openai.azure.com` / `*.cognitiveservices.azure.com`, which a resource of kind
      OpenAI serves with the cognitiveservices audience only.

    ## Why it matters
    The wrong scope fails far from its cause: as an AADSTS error for one credential, or as a 401
    "audience is incorrect" from the service for another.

    ## How to fix
    Ask for the scope of the endpoint's cloud: `https://cognitiveservices.azure.com/.default` (Azure
    Government: `https://cognitiveservices.azure.us/.default`; Azure China:
    `https://cognitiveservices.azure.cn/.default`), for example
    `get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")`.
    For a Foundry project endpoint, ask for `https://ai.azure.com/.default` (or let
    `AIProjectClient(...).get_openai_client()` do it).

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI301"
    name = "scope"
    summary = "the token scope fits the endpoint: right resource, right cloud, ends in /.default"

    def run(self, ctx: CheckContext) -> Outcome:
        if ctx.target.auth.value == "api-key":
            return Outcome.skip("auth mode is api-key")
        info = endpoint_info(ctx.target)
        scope = token_scope(ctx.target)
        if ctx.target.scope:
            source = ctx.target.scope.source
        else:
            source = "derived from the endpoint" if info is not None else "the default"
        expected = info.default_scope if info is not None and info.default_scope else SCOPES[Cloud.PUBLIC]
        found: list[Finding] = []
        parts = scope.split()
        if len(parts) > 1 or "," in scope:
            found.append(
                finding(
                    Severity.ERROR,
                    f"the scope ({source}) holds several scopes: {scope!r}",
                    cause="scope_missing_default",
                    fix=f"ask for exactly one scope: {expected}",
                )
            )
            return Outcome(tuple(found))
        lowered = scope.lower()
        if "api.openai.com" in lowered:
            found.append(
                finding(
                    Severity.ERROR,
                    f"{scope} is OpenAI's own API, not Azure's",
                    cause="scope_wrong_resource",
                    fix=f"use {expected}",
                )
            )
        elif re.match(MANAGEMENT_SCOPE, scope):
            found.append(
                finding(
                    Severity.ERROR,
                    f"{scope} is a management-plane scope; the data plane needs {expected}",
                    cause="scope_wrong_resource",
                    fix=f"use {expected}",
                )
            )
        elif (problem := foundry_scope_problem(scope, info, expected)) is not None:
            found.append(problem)
        elif "cognitiveservices.azure" in lowered and not lowered.startswith(_resource(expected).lower()):
            found.append(
                finding(
                    Severity.ERROR,
                    f"{scope} is for another cloud than the endpoint's",
                    cause="scope_wrong_resource",
                    fix=f"use {expected}",
                )
            )
        elif not scope.endswith("/.default"):
            found.append(
                finding(
                    Severity.ERROR,
                    f"the scope {scope} ({source}) lacks /.default",
                    cause="scope_missing_default",
                    fix=f"ask for {_resource(scope).rstrip('/')}/.default",
                    detail=f"still works with: {', '.join(SCOPE_FORGIVING)} (they strip or ignore the suffix); "
                    "fails with: "
                    f"{', '.join(SCOPE_STRICT)} (AADSTS1002012 / AADSTS70011). Switching to AzureCliCredential, as "
                    "some samples suggest, only hides the bug: the same code fails under a service principal, "
                    "workload identity or the shared token cache.",
                )
            )
        elif scope.endswith("//.default") or urlsplit(_resource(scope)).path.endswith("/"):
            found.append(
                finding(
                    Severity.WARNING,
                    f"the scope {scope} has a trailing slash before /.default",
                    cause="scope_missing_default",
                    fix=f"use {expected}",
                    detail="Entra may issue a token whose audience ends in '/', or refuse the scope",
                )
            )
        if not found:
            fits = "fits the endpoint" if info is not None else "is the public cloud's; no endpoint to compare it with"
            detail = FOUNDRY_BOTH if host_of(scope) == "ai.azure.com" and not is_project(info) else None
            found.append(ok(f"scope {scope} ({source}) {fits}", detail=detail))
        return Outcome(tuple(found))


class TokenClaims(Check):
    """Reads the token the call will use (never printing it): audience, tenant, cloud, identity.

    ## What it detects
    The token comes from `--token-file` (or `-` for standard input), a static `AZURE_OPENAI_AD_TOKEN`,
    or else the source DefaultAzureCredential would use (AOAI210). It is decoded without verifying its
    signature, and:
    - `aud` must be a resource the endpoint accepts: the cognitiveservices resource of its cloud
      (`https://cognitiveservices.azure.com`, with or without a trailing slash, or its app id); for a
      Foundry project endpoint `https://ai.azure.com`; a Foundry resource's own host takes either.
      A cognitiveservices token sent to a project gets 401, and an `ai.azure.com` token on
      `*.openai.azure.com` works only if the resource is a Foundry (AIServices) one;
    - `tid` must match `--expect-tenant` when given;
    - the token's cloud must be the endpoint's. The cloud is read from evidence that holds: the
      audience (`https://cognitiveservices.azure.us` is Azure Government's), the issuer
      (`sts.chinacloudapi.cn` is Azure China's, but `sts.windows.net` issues the v1 tokens of both
      the public cloud and Azure Government, so it alone decides nothing), and, for a token from
      EnvironmentCredential, WorkloadIdentityCredential or SharedTokenCacheCredential, the
      authority host they signed in at (`AZURE_AUTHORITY_HOST`);
    - who it speaks for: `idtyp`, `appid`, `oid`, `upn`.
    A value that is not a JWT (an API key pasted as a token) is reported.

    ## Why it matters
    A token for the wrong audience, tenant or cloud is refused with the same 401 or 400 as an expired
    one; the claims say which it is.

    ## How to fix
    Request the token for the endpoint's scope (see AOAI301) from the tenant that holds the resource:
    `az login --tenant <tenant-id>`, or `AZURE_TENANT_ID=<tenant-id>` for a service principal. For a
    sovereign endpoint, sign in to its cloud: `az cloud set --name AzureUSGovernment` (or
    `AzureChinaCloud`) before `az login`, or `AZURE_AUTHORITY_HOST=https://login.microsoftonline.us`
    (`https://login.chinacloudapi.cn`) for the credentials that read it.

    ## Options
    None besides the common `required` and `timeout`. The token is given with `--token-file PATH` (or `-`).
    """

    id = "AOAI302"
    name = "token-claims"
    summary = "the token's audience, tenant and cloud fit the endpoint, and whose token it is"
    uses = ("AOAI210",)

    def run(self, ctx: CheckContext) -> Outcome:
        if ctx.target.auth.value == "api-key":
            return Outcome.skip("auth mode is api-key")
        got = _token_under_test(ctx)
        if got is None:
            return Outcome.skip("no token: no credential source got one (see AOAI210)")
        if isinstance(got, Finding):
            return Outcome((got,))
        token, authority = got
        claims, identity = token.claims, token.identity
        info = endpoint_info(ctx.target)
        cloud = token_cloud(claims, authority)
        found: list[Finding] = [
            ok(
                f"token from {token.source}: {identity.describe()}",
                detail=f"idtyp={identity.kind} appid={identity.app_id} aud={claims.get('aud')} iss={claims.get('iss')}"
                + (f"; cloud evidence: {', '.join(cloud.evidence)}" if cloud.evidence else ""),
            )
        ]
        wrong_cloud = cloud_problem(info, cloud)
        if wrong_cloud is not None:
            found.append(wrong_cloud)
        audience = audience_problem(info, str(claims.get("aud", "")))
        if audience is not None and not (wrong_cloud is not None and cloud.audience is not None):
            found.append(audience)
        tenant = ctx.target.expected_tenant.value if ctx.target.expected_tenant else None
        if tenant and identity.tenant_id and tenant.lower() != identity.tenant_id.lower():
            found.append(
                finding(
                    Severity.ERROR,
                    f"the token is from tenant {identity.tenant_id}, not {tenant}",
                    cause="wrong_tenant",
                    fix=f"az login --tenant {tenant}  (or AZURE_TENANT_ID={tenant})",
                )
            )
        return Outcome(tuple(found), facts=(token,))


class TokenLifetime(Check):
    """Checks how long the token has left, that its times agree, and the local clock against them.

    ## What it detects
    - An expired token, or one with less than the refresh margin left (default 5 minutes).
    - `exp` in the token disagreeing with the `expires_on` the credential reported.
    - `nbf` or `iat` more than 5 minutes in the future by the local clock: the clock is behind.

    ## Why it matters
    An expired token gets a 401 that looks like every other 401; a skewed clock makes fresh tokens look
    not-yet-valid or already expired.

    ## How to fix
    Let the SDK refresh tokens: `azure_ad_token_provider=get_bearer_token_provider(credential, scope)`,
    never a token captured once. Fix the clock with NTP (`timedatectl set-ntp true`; on Windows
    `w32tm /resync`).

    ## Options
    `refresh_margin_minutes` (default 5): warn when less than this is left.
    """

    id = "AOAI303"
    name = "token-lifetime"
    summary = "the token is not expired or about to expire, and the local clock agrees with it"
    requires = ("AOAI302",)
    options: ClassVar[Mapping[str, object]] = {"refresh_margin_minutes": 5.0}

    def run(self, ctx: CheckContext) -> Outcome:
        token = ctx.fact(TokenUnderTest)
        if token is None:
            return Outcome.skip("no token")
        now = time.time()
        claims = token.claims
        found: list[Finding] = []
        exp = _number(claims.get("exp"))
        margin = float(ctx.options.get("refresh_margin_minutes", 5.0)) * 60
        if exp is None:
            found.append(
                finding(
                    Severity.WARNING,
                    "the token has no exp claim",
                    cause="other",
                    fix="request a fresh token from Entra ID",
                )
            )
        elif exp <= now:
            found.append(
                finding(
                    Severity.ERROR,
                    f"the token expired {_ago(now - exp)} ago",
                    cause="token_expired",
                    fix="get a fresh token per call: azure_ad_token_provider=get_bearer_token_provider("
                    "credential, scope)",
                )
            )
        elif exp - now < margin:
            found.append(
                finding(
                    Severity.WARNING,
                    f"the token expires in {_ago(exp - now)}",
                    cause="token_expired",
                    fix="refresh before it expires; get_bearer_token_provider does this for you",
                )
            )
        if exp is not None and token.expires_on and abs(token.expires_on - exp) > 300:
            found.append(
                finding(
                    Severity.WARNING,
                    f"the credential said the token expires at {token.expires_on}, the token says {int(exp)}",
                    cause="other",
                    fix="a credential or token endpoint that misreports expiry makes the SDK refresh at "
                    "the wrong time; update azure-identity",
                )
            )
        for claim in ("nbf", "iat"):
            value = _number(claims.get(claim))
            if value is not None and value - now > 300:
                found.append(
                    finding(
                        Severity.ERROR,
                        f"the token's {claim} is {_ago(value - now)} in the future by this machine's clock",
                        cause="clock_skew",
                        fix="sync the clock: timedatectl set-ntp true (Windows: w32tm /resync)",
                    )
                )
                break
        if not found and exp is not None:
            found.append(ok(f"the token is valid for another {_ago(exp - now)}"))
        return Outcome(tuple(found))


class StaticToken(Check):
    """Flags a fixed token where a token provider belongs.

    ## What it detects
    `AZURE_OPENAI_AD_TOKEN` (read by the openai SDK as a static token), with how long it has left.

    ## Why it matters
    Entra ID tokens live about an hour. A token captured once and passed as `azure_ad_token` is never
    refreshed: the app works, then fails with 401 an hour later.

    ## How to fix
    Pass a provider instead of a token:
    `AzureOpenAI(azure_ad_token_provider=get_bearer_token_provider(DefaultAzureCredential(),
    "https://cognitiveservices.azure.com/.default"), ...)` and `unset AZURE_OPENAI_AD_TOKEN`.

    ## Options
    None besides the common `required` and `timeout`.
    """

    id = "AOAI304"
    name = "static-token"
    summary = "no fixed AZURE_OPENAI_AD_TOKEN that will expire without refresh"

    def run(self, ctx: CheckContext) -> Outcome:
        source = ctx.target.token_source or ""
        if not source.startswith("env ") or ctx.target.token is None:
            return Outcome.skip("no static token configured")
        claims = decode_claims(ctx.target.token.reveal()) or {}
        exp = _number(claims.get("exp"))
        left = (
            f"; it expires in {_ago(exp - time.time())}"
            if exp and exp > time.time()
            else (f"; it expired {_ago(time.time() - exp)} ago" if exp else "")
        )
        severity = Severity.ERROR if exp and exp <= time.time() else Severity.WARNING
        return Outcome(
            (
                finding(
                    severity,
                    f"a static token is set ({source}){left}",
                    cause="token_expired",
                    fix="unset AZURE_OPENAI_AD_TOKEN and pass azure_ad_token_provider="
                    "get_bearer_token_provider(credential, 'https://cognitiveservices.azure.com/.default')",
                ),
            )
        )


class ClockSkew(Check):
    """Compares this machine's clock with the service's `Date` header.

    ## What it detects
    A difference of more than 5 minutes between the local clock and the time Azure OpenAI reports in
    the `Date` header of its answer (from the test call, AOAI501).

    ## Why it matters
    Token validation allows about 5 minutes of skew. Beyond that, fresh tokens look not yet valid or
    already expired, and the errors say nothing about clocks.

    ## How to fix
    Sync the clock: `timedatectl set-ntp true` (Linux), `w32tm /resync` (Windows), or the container
    host's time service.

    ## Options
    `max_skew_seconds` (default 300).
    """

    id = "AOAI305"
    name = "clock-skew"
    summary = "the local clock agrees with the service's Date header"
    uses = ("AOAI501",)
    options: ClassVar[Mapping[str, object]] = {"max_skew_seconds": 300.0}

    def run(self, ctx: CheckContext) -> Outcome:

        outcomes = [o for o in ctx.all_facts(CallOutcome) if o.server_date is not None]
        if not outcomes:
            return Outcome.skip("no answer with a Date header (see AOAI501)")
        call = outcomes[0]
        assert call.server_date is not None
        skew = call.local_time - call.server_date
        limit = float(ctx.options.get("max_skew_seconds", 300.0))
        if abs(skew) > limit:
            direction = "ahead of" if skew > 0 else "behind"
            return Outcome(
                (
                    finding(
                        Severity.ERROR,
                        f"this machine's clock is {_ago(abs(skew))} {direction} the service's",
                        cause="clock_skew",
                        fix="sync the clock: timedatectl set-ntp true (Windows: w32tm /resync)",
                    ),
                )
            )
        return Outcome((ok(f"the local clock is within {abs(skew):.0f} s of the service's"),))


def _token_under_test(ctx: CheckContext) -> tuple[TokenUnderTest, str | None] | Finding | None:
    """The token the call will use, and the authority host it was signed in at when that is known."""
    target = ctx.target
    if target.token is not None:
        value = target.token.reveal()
        claims = decode_claims(value)
        if claims is None:
            looks_like_key = bool(re.fullmatch(r"[0-9a-fA-F]{32}|[A-Za-z0-9]{84}", value.strip()))
            return finding(
                Severity.ERROR,
                f"the token ({target.token_source}) is not a JWT"
                + (": it looks like an API key" if looks_like_key else ""),
                cause="auth_mode_mismatch" if looks_like_key else "other",
                fix="send a key in the api-key header (--auth api-key), or get a token with "
                "get_bearer_token_provider(credential, 'https://cognitiveservices.azure.com/.default')",
            )
        given = TokenUnderTest(
            target.token, target.token_source or "given token", claims, Identity.from_claims(claims), None
        )
        return given, None
    winner = next((p for p in ctx.all_facts(SourceProbe) if p.token is not None and _is_winner(ctx, p)), None)
    if winner is None or winner.token is None or winner.identity is None:
        return None
    chosen = TokenUnderTest(
        winner.token,
        f"{winner.source} (DefaultAzureCredential's choice)",
        winner.claims or {},
        winner.identity,
        winner.expires_on,
        winner.elapsed_ms,
        winner.source,
    )
    # azure-identity's default authority is login.microsoftonline.com (_internal/utils.py get_default_authority).
    authority = (ctx.environ.get("AZURE_AUTHORITY_HOST") or "login.microsoftonline.com"
                 if winner.source in AUTHORITY_HOST_SOURCES else None)
    return chosen, authority


def _is_winner(ctx: CheckContext, probe: SourceProbe) -> bool:

    verdict = ctx.fact(Verdict)
    return verdict is not None and verdict.winner == probe.source


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ago(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
