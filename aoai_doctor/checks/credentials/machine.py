"""AOAI200: what this machine offers azure-identity: variables, developer CLIs, token files."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import ClassVar

from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.model import Finding, Severity
from aoai_doctor.services import environment as envsvc


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
