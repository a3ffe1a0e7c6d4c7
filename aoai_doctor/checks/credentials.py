"""AOAI2xx: the credential sources, one by one, and the verdict of DefaultAzureCredential's chain."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from aoai_doctor import chain
from aoai_doctor.chain import State
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.checks.config import endpoint_info
from aoai_doctor.config import Target
from aoai_doctor.endpoint import SCOPES, Cloud
from aoai_doctor.model import Finding, Severity
from aoai_doctor.services import credentials as creds
from aoai_doctor.services import environment as envsvc

DEFAULT_BOUND = 5.0

# Sources whose "unavailable" still means something is set up wrong, by cause.
_MISCONFIGURED = frozenset(
    {
        "managed_identity_not_assigned",
        "env_credential_incomplete",
        "workload_identity_incomplete",
        "cli_timeout",
        "certificate_invalid",
        "tenant_not_allowed",
    }
)
# The variables that show a source is meant to be used; without any, "not fully configured" is normal.
_INTENT_VARS = {
    "EnvironmentCredential": ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"),
    "WorkloadIdentityCredential": ("AZURE_FEDERATED_TOKEN_FILE",),
}


def token_scope(target: Target) -> str:
    """The scope the app asks for: configured, else the one the endpoint's cloud needs."""
    if target.scope is not None:
        return target.scope.value
    info = endpoint_info(target)
    if info is not None and info.default_scope:
        return info.default_scope
    return SCOPES[Cloud.PUBLIC]


@functools.lru_cache(maxsize=64)
def diagnose(message: str) -> tuple[str | None, str | None]:
    """Root cause and fix for a credential's error text, from the explain knowledge base."""
    from aoai_doctor.explain import explain

    best = explain(message).best
    if best.cause in ("other", "not_an_error"):
        return None, None
    return best.cause, best.fix


def probe_cause(probe: creds.SourceProbe) -> tuple[str | None, str | None]:
    """Root cause and fix of a source's own error (cached: the source check and the verdict both ask)."""
    return diagnose(f"{probe.source}: {probe.error_type}: {probe.message or ''}")


def _intended(source: str, environ: Mapping[str, str]) -> bool:
    """Whether the variables that show a source is meant to be used are set (always, for sources without any)."""
    names = _INTENT_VARS.get(source)
    return names is None or any(environ.get(v) for v in names)


class IdentityEnvironment(Check):
    """Reports what this machine offers azure-identity: variables, developer CLIs, files.

    ## What it detects
    - Which identity and network variables are set (names only, never values): `AZURE_CLIENT_ID`,
      `AZURE_TENANT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH`,
      `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_AUTHORITY_HOST`, `IDENTITY_ENDPOINT`, `IDENTITY_HEADER`,
      `MSI_ENDPOINT`, `IMDS_ENDPOINT`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`, `AZURE_TOKEN_CREDENTIALS`,
      proxy and CA-bundle variables.
    - Half-set groups: a client secret or certificate without tenant and client id, a federated token
      file without them, `IDENTITY_ENDPOINT` without `IDENTITY_HEADER`, an `http://` authority host,
      `SSL_CERT_FILE` without `REQUESTS_CA_BUNDLE`.
    - `az`, `azd` and `pwsh` on PATH and their versions; whether az is signed in (`az account show`:
      tenant, user and user type; never a token).
    - The federated token file: readable, and its `exp` when it is a JWT.
    - The shared token cache (`~/.IdentityService/msal.cache*`).

    ## Why it matters
    Every credential source decides from these alone whether it applies. A half-set group makes a
    source silently unavailable, or makes it fail and stop DefaultAzureCredential's chain.

    ## How to fix
    Complete or remove the half-set group the finding names, for example
    `export AZURE_TENANT_ID=<tenant-id> AZURE_CLIENT_ID=<client-id>` next to `AZURE_CLIENT_SECRET`,
    or `unset AZURE_CLIENT_SECRET` when the app should not use a service principal. Use
    `REQUESTS_CA_BUNDLE=<ca.pem>` for a private CA: `requests` ignores `SSL_CERT_FILE`.

    ## Options
    `tool_timeout` (seconds, default 5): how long `az`, `azd` and `pwsh` may take to say their
    version.
    """

    id = "AOAI200"
    name = "identity-environment"
    summary = "identity variables, developer CLIs and token files on this machine"
    required = False
    options: ClassVar[Mapping[str, object]] = {"tool_timeout": 5.0}
    timeout = 30.0  # up to four tool calls (az version, az account show, azd, pwsh) of tool_timeout each

    def run(self, ctx: CheckContext) -> Outcome:
        facts = envsvc.collect(ctx.environ, float(ctx.options.get("tool_timeout", 5.0)))
        found: list[Finding] = []
        names = set(facts.set_vars)
        found += _half_set(names, ctx.environ)
        if facts.token_file is not None:
            found += _token_file_findings(facts.token_file)
        for tool in facts.tools:
            if tool.problem:
                found.append(
                    finding(
                        Severity.WARNING,
                        f"{tool.name} is on PATH but {tool.problem}",
                        cause="cli_timeout" if "did not answer" in tool.problem else "other",
                        fix=f"run '{tool.name} --version' yourself to see why it is slow or broken",
                    )
                )
        summary = "variables set: " + (", ".join(facts.set_vars) if facts.set_vars else "none")
        tools = "; ".join(_describe_tool(t, facts.az_account) for t in facts.tools)
        cache = ", ".join(facts.shared_cache) or "none"
        found.insert(0, ok(summary, detail=f"tools: {tools}\nshared token cache: {cache}"))
        data = {
            "variables_set": list(facts.set_vars),
            "tools": {
                t.name: {"found": t.path is not None, "version": t.version, "problem": t.problem} for t in facts.tools
            },
            "az_account": None
            if facts.az_account is None
            else {
                "signed_in": facts.az_account.signed_in,
                "tenant_id": facts.az_account.tenant_id,
                "user": facts.az_account.user,
                "user_type": facts.az_account.user_type,
            },
            "shared_token_cache": bool(facts.shared_cache),
        }
        return Outcome(tuple(found), facts=(facts,), data=data)


def _half_set(names: set[str], environ: Mapping[str, str]) -> list[Finding]:
    found: list[Finding] = []
    sp = {"AZURE_TENANT_ID", "AZURE_CLIENT_ID"}
    if names & {"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"} and not sp <= names:
        missing = ", ".join(sorted(sp - names))
        found.append(
            finding(
                Severity.WARNING,
                f"a client secret or certificate is set without {missing}",
                cause="env_credential_incomplete",
                fix=f"export {missing.replace(', ', '=<…> ')}=<…>, or unset AZURE_CLIENT_SECRET / "
                "AZURE_CLIENT_CERTIFICATE_PATH",
            )
        )
    if "AZURE_FEDERATED_TOKEN_FILE" in names and not sp <= names:
        missing = ", ".join(sorted(sp - names))
        found.append(
            finding(
                Severity.WARNING,
                f"AZURE_FEDERATED_TOKEN_FILE is set without {missing}",
                cause="workload_identity_incomplete",
                fix="set AZURE_TENANT_ID and AZURE_CLIENT_ID (the workload identity webhook injects "
                "them when the pod's service account carries azure.workload.identity/client-id)",
            )
        )
    if "IDENTITY_ENDPOINT" in names and not names & {"IDENTITY_HEADER", "IMDS_ENDPOINT"}:
        found.append(
            finding(
                Severity.WARNING,
                "IDENTITY_ENDPOINT is set without IDENTITY_HEADER",
                cause="managed_identity_unavailable",
                fix="both come from the hosting platform; do not set IDENTITY_ENDPOINT by hand",
            )
        )
    authority = environ.get("AZURE_AUTHORITY_HOST", "")
    if authority.lower().startswith("http://"):
        found.append(
            finding(
                Severity.ERROR,
                "AZURE_AUTHORITY_HOST uses http://; azure-identity refuses it",
                cause="config_invalid",
                fix="use https://login.microsoftonline.com (or your cloud's)",
            )
        )
    if "SSL_CERT_FILE" in names and not names & {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}:
        found.append(
            finding(
                Severity.WARNING,
                "SSL_CERT_FILE is set, but requests (and so azure-identity) ignores it",
                cause="tls_interception",
                fix='export REQUESTS_CA_BUNDLE="$SSL_CERT_FILE"',
            )
        )
    return found


def _token_file_findings(token_file: envsvc.TokenFile) -> list[Finding]:
    if not token_file.readable:
        return [
            finding(
                Severity.ERROR,
                f"the federated token file {token_file.path} cannot be read: {token_file.problem}",
                cause="workload_identity_incomplete",
                fix="check the projected service-account token volume (azure.workload.identity/use: "
                '"true" on the pod) or the path in AZURE_FEDERATED_TOKEN_FILE',
            )
        ]
    if token_file.expires_on is not None and token_file.expires_on < time.time():
        age = int(time.time() - token_file.expires_on)
        return [
            finding(
                Severity.ERROR,
                f"the federated token in {token_file.path} expired {age} s ago",
                cause="federated_token_expired",
                fix="the file must be refreshed by the platform (kubelet rotates projected tokens); "
                "in CI, request a fresh OIDC token right before the step",
            )
        ]
    return []


def _describe_tool(tool: envsvc.Tool, account: envsvc.AzAccount | None) -> str:
    if tool.path is None:
        return f"{tool.name} not found"
    text = f"{tool.name} {tool.version or '?'}"
    if tool.name == "az" and account is not None:
        if account.signed_in:
            text += f" (signed in as {account.user_type or '?'} {account.user or '?'} in tenant {account.tenant_id})"
        else:
            text += " (not signed in)"
    return text


class CredentialSource(Check):
    """Base of the per-source checks: ask one source for a token, on its own, within a bound."""

    source: ClassVar[str]
    required = False  # the chain verdict (AOAI210) decides whether the run fails
    options: ClassVar[Mapping[str, object]] = {"bound": DEFAULT_BOUND}
    timeout = DEFAULT_BOUND + 10

    def run(self, ctx: CheckContext) -> Outcome:
        if ctx.target.auth.value == "api-key":
            return Outcome.skip("auth mode is api-key")
        scope = token_scope(ctx.target)
        bound = creds.Bounds(float(ctx.options.get("bound", DEFAULT_BOUND)))
        probe = creds.probe(self.source, scope, bound, ctx.environ)
        data = _probe_data(probe)
        if probe.state is State.SUCCEEDED:
            assert probe.identity is not None
            expires = f"; expires in {int((probe.expires_on or 0) - time.time()) // 60} min" if probe.expires_on else ""
            return Outcome(
                (
                    ok(
                        f"token for {probe.identity.describe()}",
                        detail=f"scope {scope}; {probe.elapsed_ms:.0f} ms{expires}",
                    ),
                ),
                facts=(probe,),
                data=data,
            )
        message = probe.message or probe.error_type or "no message"
        headline = message.splitlines()[0]
        cause, fix = probe_cause(probe)
        if probe.state is State.UNAVAILABLE:
            if cause in _MISCONFIGURED and _intended(self.source, ctx.environ):
                return Outcome(
                    (finding(Severity.WARNING, f"unavailable: {headline}", cause=cause, fix=fix, detail=message),),
                    facts=(probe,),
                    data=data,
                )
            return Outcome.skip(f"unavailable: {headline}", facts=(probe,), data=data)
        return Outcome(
            (
                finding(
                    Severity.ERROR,
                    f"failed: {headline}",
                    cause=cause or "other",
                    fix=fix or "read the full message with -v",
                    detail=f"{probe.error_type}: {message}",
                ),
            ),
            facts=(probe,),
            data=data,
        )


_STS_IDS = re.compile(r"Trace ID: ([0-9a-f-]{36}).{0,40}?Correlation ID: ([0-9a-f-]{36})", re.I | re.S)
_AADSTS = re.compile(r"AADSTS(\d{5,7})")


def _probe_data(probe: creds.SourceProbe) -> dict[str, Any]:
    """The report's view of a probe: state, time, identity, and the STS ids support asks for."""
    data: dict[str, Any] = {"state": probe.state.value, "elapsed_ms": probe.elapsed_ms, "error_type": probe.error_type}
    if probe.identity is not None:
        data["identity"] = probe.identity.as_dict()
        data["expires_on"] = probe.expires_on
    message = probe.message or ""
    if ids := _STS_IDS.search(message):
        data["sts"] = {"trace_id": ids.group(1), "correlation_id": ids.group(2)}
    if codes := sorted(set(_AADSTS.findall(message))):
        data["aadsts"] = codes
    return data


def _source_check(check_id: str, name: str, source: str, doc: str) -> type[CredentialSource]:
    attrs: dict[str, Any] = {
        "__doc__": doc,
        "id": check_id,
        "name": name,
        "source": source,
        "summary": f"{source} on its own: succeeded, unavailable or failed, and why",
    }
    return type(source.replace("Credential", "Source"), (CredentialSource,), attrs)


_SOURCE_DOC = """Asks {source} alone for a token for the target's scope, within a hard time bound.

    ## What it detects
    Whether {source} {what} here, and if so whether it gets a token: `succeeded` (with the
    identity from the token's claims: tenant, object id, app id or user, token type),
    `unavailable` (not configured here; normal, shown as skipped) or `failed` (configured and
    broken), with the root cause and the fix. Errors that are not azure-identity's own (a
    `ValueError` from a malformed `expires_on`, a missing token file, an HTML answer) are diagnosed
    too.

    ## Why it matters
    DefaultAzureCredential tries the sources in order and stops at the first hard failure, so one
    broken source hides every source after it. Asking each source on its own shows them all.

    ## How to fix
    {fix}

    ## Options
    `bound` (seconds, default 5): the longest this source may take. HTTP sources get
    `connection_timeout`, `read_timeout` and `retry_total=0`; CLI sources get `process_timeout`.
    """

_SOURCES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "AOAI201",
        "environment-credential",
        "EnvironmentCredential",
        "is configured (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` or "
        "`AZURE_CLIENT_CERTIFICATE_PATH`)",
        "Use the secret's value, not its id; create a new one if it expired: `az ad app credential reset --id "
        "<client-id> --append`. Or `unset AZURE_CLIENT_SECRET` when the app should use another identity.",
    ),
    (
        "AOAI202",
        "workload-identity-credential",
        "WorkloadIdentityCredential",
        "is configured (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`)",
        "Add a federated credential whose issuer and subject match the token file: `az ad app federated-credential "
        "create --id <client-id> --parameters credential.json`.",
    ),
    (
        "AOAI203",
        "managed-identity-credential",
        "ManagedIdentityCredential",
        "has an endpoint (App Service, IMDS, Cloud Shell, Arc, Service Fabric)",
        "Assign the identity to the host (`az webapp identity assign`, `az vm identity assign`), and set "
        "`AZURE_CLIENT_ID` to the client id of a user-assigned identity.",
    ),
    (
        "AOAI204",
        "shared-token-cache-credential",
        "SharedTokenCacheCredential",
        "finds an account in the shared token cache",
        "Sign in again with the tool that wrote the cache (Visual Studio), or exclude the source.",
    ),
    (
        "AOAI205",
        "visual-studio-code-credential",
        "VisualStudioCodeCredential",
        "is usable (it needs `azure-identity-broker` and the Azure Resources extension)",
        "`pip install azure-identity-broker` and sign in from VS Code, or rely on another source.",
    ),
    (
        "AOAI206",
        "azure-cli-credential",
        "AzureCliCredential",
        "finds a signed-in `az`",
        "`az login` (with `--tenant <tenant-id>` for the resource's tenant); on a slow machine raise "
        "`process_timeout`.",
    ),
    (
        "AOAI207",
        "azure-powershell-credential",
        "AzurePowerShellCredential",
        "finds `pwsh` with Az.Accounts signed in",
        "`Connect-AzAccount -Tenant <tenant-id>` in PowerShell.",
    ),
    (
        "AOAI208",
        "azure-developer-cli-credential",
        "AzureDeveloperCliCredential",
        "finds a signed-in `azd`",
        "`azd auth login --tenant-id <tenant-id>`.",
    ),
    (
        "AOAI209",
        "broker-credential",
        "BrokerCredential",
        "is usable (Windows or WSL with `azure-identity-broker`)",
        "Install `azure-identity-broker` on Windows.",
    ),
)

SOURCE_CHECKS: dict[str, type[CredentialSource]] = {
    source: _source_check(cid, name, source, _SOURCE_DOC.format(source=source, what=what, fix=fix))
    for cid, name, source, what, fix in _SOURCES
}
EnvironmentSource = SOURCE_CHECKS["EnvironmentCredential"]
WorkloadIdentitySource = SOURCE_CHECKS["WorkloadIdentityCredential"]
ManagedIdentitySource = SOURCE_CHECKS["ManagedIdentityCredential"]
SharedTokenCacheSource = SOURCE_CHECKS["SharedTokenCacheCredential"]
VisualStudioCodeSource = SOURCE_CHECKS["VisualStudioCodeCredential"]
AzureCliSource = SOURCE_CHECKS["AzureCliCredential"]
AzurePowerShellSource = SOURCE_CHECKS["AzurePowerShellCredential"]
AzureDeveloperCliSource = SOURCE_CHECKS["AzureDeveloperCliCredential"]
BrokerSource = SOURCE_CHECKS["BrokerCredential"]


class CredentialChain(Check):
    """Predicts what DefaultAzureCredential does here: which source it uses, or where it stops.

    ## What it detects
    - Applies DefaultAzureCredential's rules to the per-source results (AOAI201-AOAI209):
      `AZURE_TOKEN_CREDENTIALS` (`dev`, `prod` or one credential's name), the exclusions configured
      here, "unavailable → next source", "any other failure → stop". Inside the chain,
      AzureCliCredential and AzureDeveloperCliCredential report their failures as unavailable, so the
      chain goes on past them.
    - The source it would use and the identity that yields; or the source whose failure stops the
      chain, and the working sources that failure hides ("AzureCliCredential works, but
      EnvironmentCredential fails first with AADSTS7000215 and DefaultAzureCredential never reaches it").
    - `wrong_identity_selected`: the winner is not the expected credential (`--expect-credential`),
      client id or tenant (`expected_client_id`, `expected_tenant`), or two working sources yield
      different identities.
    - An `AZURE_TOKEN_CREDENTIALS` value DefaultAzureCredential refuses (its constructor raises).
    - Where the time goes: the sources tried before the winner, and the setting that skips them.

    ## Why it matters
    DefaultAzureCredential's own error lists only the sources up to the first hard failure, and its
    success says nothing about which identity answered. Both hide the usual causes of a later 401/403.

    ## How to fix
    Fix the source that stops the chain, or take it out: `unset AZURE_CLIENT_SECRET`, or pin the
    source you mean with `export AZURE_TOKEN_CREDENTIALS=AzureCliCredential` (any single credential's
    name), `dev` (developer tools only) or `prod` (environment, workload and managed identity only).

    ## Options
    `exclude` (list of source names): sources your code excludes (`exclude_cli_credential=True` …).
    `expect_credential` (also `--expect-credential`): the source that must win.
    `expected_client_id`, `expected_tenant`: the identity that must win (the tenant also comes from
    `--expect-tenant`). `verify_chain` (also `--verify-chain`): run the real `DefaultAzureCredential()`
    once and confirm the prediction.
    """

    id = "AOAI210"
    name = "credential-chain"
    summary = "which source DefaultAzureCredential would use, and which identity that is"
    uses = ("AOAI200", *(c.id for c in SOURCE_CHECKS.values()))
    options: ClassVar[Mapping[str, object]] = {
        "exclude": [],
        "expect_credential": "",
        "expected_client_id": "",
        "expected_tenant": "",
        "verify_chain": False,
        "bound": DEFAULT_BOUND,
    }
    timeout = 60.0

    def run(self, ctx: CheckContext) -> Outcome:
        if ctx.target.auth.value == "api-key":
            return Outcome.skip("auth mode is api-key")
        probes = {p.source: p for p in ctx.all_facts(creds.SourceProbe)}
        if not probes:
            return Outcome.skip("no credential source was probed (select AOAI2)")
        configured = ctx.options.get("exclude", [])
        excluded = tuple(str(x) for x in configured) if isinstance(configured, list) else ()
        unknown = [x for x in excluded if x not in chain.SOURCES]
        if unknown:
            return Outcome(
                (
                    finding(
                        Severity.ERROR,
                        f"[checks.AOAI210] exclude names unknown sources: {', '.join(unknown)}",
                        cause="config_invalid",
                        fix="use names from: " + ", ".join(chain.SOURCES),
                    ),
                )
            )
        try:
            order = chain.chain_order(ctx.environ.get("AZURE_TOKEN_CREDENTIALS"), excluded)
        except chain.ChainConfigError as exc:
            return Outcome(
                (
                    finding(
                        Severity.ERROR,
                        str(exc),
                        cause="config_invalid",
                        fix="export AZURE_TOKEN_CREDENTIALS=dev (or prod, or one credential's name), or unset it",
                        detail="DefaultAzureCredential() raises ValueError in its constructor with this value",
                    ),
                )
            )
        states = {s: p.state for s, p in probes.items()}
        verdict = chain.predict(order, states)
        found = self._verdict(verdict, probes, order, ctx)
        if ctx.options.get("verify_chain"):
            found.append(self._verify(verdict, token_scope(ctx.target), excluded, ctx))
        winner = probes.get(verdict.winner) if verdict.winner else None
        data = {
            "order": list(order),
            "winner": verdict.winner,
            "identity": winner.identity.as_dict() if winner and winner.identity else None,
            "stopped_at": verdict.stopped_at,
            "hidden": list(verdict.hidden),
            "token_credentials": ctx.environ.get("AZURE_TOKEN_CREDENTIALS") or None,
        }
        return Outcome(tuple(found), facts=(verdict, *((winner,) if winner else ())), data=data)

    def _verdict(
        self, verdict: chain.Verdict, probes: Mapping[str, creds.SourceProbe], order: tuple[str, ...], ctx: CheckContext
    ) -> list[Finding]:
        found: list[Finding] = []
        pinned = ctx.environ.get("AZURE_TOKEN_CREDENTIALS", "").strip()
        scope_note = f" (AZURE_TOKEN_CREDENTIALS={pinned})" if pinned else ""
        hidden_text = _hidden(verdict, probes)
        if verdict.winner is not None:
            probe = probes[verdict.winner]
            assert probe.identity is not None
            before = [probes[s] for s in verdict.tried[:-1] if s in probes]
            spent = sum(p.elapsed_ms for p in before) / 1000
            times = ", ".join(f"{p.source} {p.elapsed_ms / 1000:.1f} s" for p in before) or "nothing"
            found.append(
                ok(
                    f"DefaultAzureCredential would use {verdict.winner}{scope_note}: {probe.identity.describe()}",
                    detail=f"tried first, one after another: {times} (~{spent:.1f} s before {verdict.winner}'s own "
                    f"{probe.elapsed_ms / 1000:.1f} s)",
                )
            )
            if spent >= 1.0 and not pinned:
                slowest = max(before, key=lambda p: p.elapsed_ms)
                mode = (
                    " (or dev)" if verdict.winner in chain.DEV else " (or prod)" if verdict.winner in chain.PROD else ""
                )
                found.append(
                    finding(
                        Severity.INFO,
                        f"{spent:.1f} s go to sources tried before {verdict.winner}, most to {slowest.source} "
                        f"({slowest.elapsed_ms / 1000:.1f} s)",
                        fix=f"export AZURE_TOKEN_CREDENTIALS={verdict.winner}{mode} skips them, or exclude them in "
                        "code (exclude_managed_identity_credential=True, …)",
                    )
                )
            found += self._expectations(verdict.winner, probe, probes, verdict, ctx)
            return found
        if verdict.stopped_at is not None:
            probe = probes[verdict.stopped_at]
            cause, fix = probe_cause(probe)
            reason = (probe.message or probe.error_type or "").splitlines()[0]
            msg = f"DefaultAzureCredential stops at {verdict.stopped_at}{scope_note}: {reason}"
            fixes = [fix or f"fix {verdict.stopped_at} (see its check above)"]
            if hidden_text:
                fixes.append(f"or skip it: export AZURE_TOKEN_CREDENTIALS={verdict.hidden[0]}")
            found.append(
                finding(
                    Severity.ERROR,
                    msg,
                    cause=cause or "other",
                    fix="; ".join(fixes),
                    detail=hidden_text or "no source after it would have produced a token either",
                )
            )
            if hidden_text:
                found.append(
                    finding(
                        Severity.WARNING,
                        hidden_text,
                        cause="wrong_identity_selected",
                        fix=f"export AZURE_TOKEN_CREDENTIALS={verdict.hidden[0]} if that is the identity you mean",
                    )
                )
            return found
        tried = ", ".join(order) or "none (every source is excluded)"
        closest = _closest(order, probes, ctx.environ)
        if closest is not None:
            cause, fix = probe_cause(closest)
            reason = (closest.message or "").splitlines()[0]
            found.append(
                finding(
                    Severity.ERROR,
                    f"no credential source gets a token here{scope_note}; the one set up, {closest.source}, "
                    f"says: {reason}",
                    cause=cause or "other",
                    fix=fix or f"fix {closest.source} (see its check above)",
                    detail=f"sources tried: {tried}",
                )
            )
            return found
        found.append(
            finding(
                Severity.ERROR,
                "no credential source can get a token here" + scope_note,
                cause="client_config_missing",
                fix="sign in with 'az login', or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                "AZURE_CLIENT_SECRET, or run where a managed identity is assigned",
                detail=f"sources tried: {tried}",
            )
        )
        return found

    @staticmethod
    def _expectations(
        winner: str,
        probe: creds.SourceProbe,
        probes: Mapping[str, creds.SourceProbe],
        verdict: chain.Verdict,
        ctx: CheckContext,
    ) -> list[Finding]:
        found: list[Finding] = []
        identity = probe.identity
        assert identity is not None
        expect = str(ctx.options.get("expect_credential") or "")
        if expect and expect.lower() != winner.lower():
            found.append(
                finding(
                    Severity.ERROR,
                    f"{winner} wins, but {expect} was expected",
                    cause="wrong_identity_selected",
                    fix=f"export AZURE_TOKEN_CREDENTIALS={expect}, or fix why {expect} does not get a "
                    "token (see its check)",
                )
            )
        client = str(ctx.options.get("expected_client_id") or "")
        if client and client not in (identity.app_id, identity.object_id):
            found.append(
                finding(
                    Severity.ERROR,
                    f"the winning identity is app {identity.app_id}, not {client}",
                    cause="wrong_identity_selected",
                    fix=f"pin the intended source with AZURE_TOKEN_CREDENTIALS, or set AZURE_CLIENT_ID={client}",
                )
            )
        tenant = str(
            ctx.options.get("expected_tenant")
            or (ctx.target.expected_tenant.value if ctx.target.expected_tenant else "")
        )
        if tenant and identity.tenant_id and tenant.lower() != identity.tenant_id.lower():
            found.append(
                finding(
                    Severity.ERROR,
                    f"the winning identity is in tenant {identity.tenant_id}, not {tenant}",
                    cause="wrong_identity_selected",
                    fix=f"az login --tenant {tenant}  (or AZURE_TENANT_ID={tenant} for a service principal)",
                )
            )
        for other in verdict.hidden:
            other_id = probes[other].identity
            if other_id is not None and not identity.same_principal(other_id):
                found.append(
                    finding(
                        Severity.WARNING,
                        f"{other} also works but yields another identity: {other_id.describe()}",
                        cause="wrong_identity_selected",
                        fix=f"if {other} is the one you mean, export AZURE_TOKEN_CREDENTIALS={other}",
                    )
                )
        return found

    @staticmethod
    def _verify(verdict: chain.Verdict, scope: str, excluded: tuple[str, ...], ctx: CheckContext) -> Finding:
        used, error = creds.verify_default_chain(
            scope, creds.Bounds(float(ctx.options.get("bound", DEFAULT_BOUND))), excluded
        )
        if used == verdict.winner:
            return ok(
                f"the real DefaultAzureCredential() agrees: {used or 'no token'}",
                detail=error.splitlines()[0] if error else None,
            )
        return finding(
            Severity.WARNING,
            f"the real DefaultAzureCredential() used {used or 'nothing'}, "
            f"the prediction was {verdict.winner or 'nothing'}",
            cause="other",
            fix="please report this with the output of -v",
            detail=error,
        )


def _closest(
    order: tuple[str, ...], probes: Mapping[str, creds.SourceProbe], environ: Mapping[str, str]
) -> creds.SourceProbe | None:
    """When no source gets a token: the first one that is set up but broken (it names the real cause)."""
    for source in order:
        probe = probes.get(source)
        if probe is None or probe.state is State.SUCCEEDED or not probe.message:
            continue
        if (probe.state is State.FAILED or probe_cause(probe)[0] in _MISCONFIGURED) and _intended(source, environ):
            return probe
    return None


def _hidden(verdict: chain.Verdict, probes: Mapping[str, creds.SourceProbe]) -> str:
    if not verdict.hidden or verdict.stopped_at is None:
        return ""
    working = ", ".join(verdict.hidden)
    verb = "works" if len(verdict.hidden) == 1 else "work"
    return f"{working} {verb}, but {verdict.stopped_at} fails first and DefaultAzureCredential never reaches it"
