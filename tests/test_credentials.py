"""The credential stage end to end: real azure-identity credentials against the loopback stand-in,
real subprocesses for the developer CLIs (fake az/azd/pwsh scripts with the real tools' shapes)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main
from aoai_doctor.standin import StandIn

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass

FAKES = Path(__file__).resolve().parent / "fakes"
SCOPE_AUD = "https://cognitiveservices.azure.com"


def user_token(
    s: StandIn,
    upn: str = "dev@contoso.example",
    tid: str = "72f988bf-86f1-41af-91ab-2d7cd011db47",
    lifetime: int = 3600,
) -> str:
    now = int(time.time())
    return s.mint_access_token(
        {
            "aud": SCOPE_AUD,
            "iss": f"https://sts.windows.net/{tid}/",
            "tid": tid,
            "oid": "0b7e4c1e-1111-4c4c-9c9c-000000000001",
            "upn": upn,
            "idtyp": "user",
            "scp": "user_impersonation",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        }
    )


def doctor(*args: str) -> tuple[int, dict[str, Any], str]:
    """Run the credential stage once; return the exit code, the JSON report by check id (written to a file), and
    the verbose text report."""
    common = (
        "run",
        "--select",
        "AOAI2",
        "--endpoint",
        "https://contoso-openai.openai.azure.com",
        "--deployment",
        "chat",
        "--api-version",
        "2024-10-21",
        *args,
    )
    with tempfile.TemporaryDirectory(prefix="aoai-doctor-credentials-") as tmp:
        path = Path(tmp) / "report.json"
        result = CliRunner().invoke(
            main, [*common, "-v", "--format", "json", "--output", str(path), "--format", "text"], catch_exceptions=False
        )
        report = json.loads(path.read_text(encoding="utf-8"))
    return result.exit_code, {c["id"]: c for c in report["checks"]}, result.output


def problem(check: dict[str, Any]) -> dict[str, Any]:
    return next(f for f in check["findings"] if f["severity"] != "info")


def test_nothing_configured() -> None:
    code, checks, text = doctor()
    assert code == 1
    for check_id in ("AOAI201", "AOAI202", "AOAI203", "AOAI204", "AOAI206", "AOAI207", "AOAI208"):
        assert checks[check_id]["status"] == "skip", check_id
    assert checks["AOAI203"]["skip_reason"].startswith(
        "unavailable: ManagedIdentityCredential authentication unavailable"
    )
    assert checks["AOAI206"]["skip_reason"] == "unavailable: Azure CLI not found on path"
    chain = problem(checks["AOAI210"])
    assert chain["cause"] == "client_config_missing" and "no credential source can get a token" in chain["message"]
    assert "az not found; azd not found; pwsh not found" in text


def test_only_az_signed_in(standin, tools) -> None:  # type: ignore[no-untyped-def]
    s = standin("healthy", env=False)
    token = user_token(s)
    os.environ["FAKE_AZ_TOKEN"] = token
    try:
        tools("az")
        code, checks, text = doctor()
    finally:
        del os.environ["FAKE_AZ_TOKEN"]
    assert code == 0
    assert checks["AOAI206"]["status"] == "pass"
    assert "user dev@contoso.example" in checks["AOAI206"]["findings"][0]["message"]
    verdict = checks["AOAI210"]["findings"][0]["message"]
    assert verdict.startswith("DefaultAzureCredential would use AzureCliCredential: user dev@contoso.example")
    assert "az 2.91.0 (signed in as user dev@contoso.example in tenant 72f988bf" in text
    assert token not in text and token.split(".")[1] not in json.dumps(checks)


def test_bad_secret_shadows_a_working_az(standin, tools, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    s = standin("invalid-secret")
    monkeypatch.setenv("FAKE_AZ_TOKEN", user_token(s))
    tools("az")
    code, checks, text = doctor()
    assert code == 1
    env = problem(checks["AOAI201"])
    assert checks["AOAI201"]["status"] == "fail" and env["cause"] == "client_secret_invalid"
    assert "AADSTS7000215" in env["message"]
    assert checks["AOAI206"]["status"] == "pass"
    chain = checks["AOAI210"]["findings"]
    assert chain[0]["cause"] == "client_secret_invalid"
    assert chain[0]["message"].startswith("DefaultAzureCredential stops at EnvironmentCredential: ")
    assert any(
        f["message"] == "AzureCliCredential works, but EnvironmentCredential fails first and "
        "DefaultAzureCredential never reaches it"
        for f in chain
    )
    assert "export AZURE_TOKEN_CREDENTIALS=AzureCliCredential" in chain[0]["fix"]
    for secret in s.issued_secrets():
        assert secret not in text and secret not in json.dumps(checks)


def test_managed_identity_not_assigned(standin) -> None:  # type: ignore[no-untyped-def]
    standin("mi-not-assigned")
    code, checks, _ = doctor()
    mi = checks["AOAI203"]
    assert mi["status"] == "warn" and problem(mi)["cause"] == "managed_identity_not_assigned"
    assert "No Managed Identity found" in problem(mi)["message"] or "No Managed Identity found" in (
        problem(mi)["detail"] or ""
    )
    chain = problem(checks["AOAI210"])
    assert code == 1 and chain["cause"] == "managed_identity_not_assigned"
    assert chain["message"].startswith(
        "no credential source gets a token here; the one meant is ManagedIdentityCredential (IDENTITY_ENDPOINT is set)"
    )


FEDERATED = """
description = "workload identity"
[[tenants]]
name = "contoso"
[[apps]]
name = "orders-api"
[[apps.federated]]
subject = "system:serviceaccount:orders:orders-sa"
[resource]
name = "contoso-openai"
[[deployments]]
name = "chat"
model = "gpt-4o-mini"
model_version = "2024-07-18"
[[role_assignments]]
principal = "orders-api"
role = "Cognitive Services OpenAI User"
[client]
credential = "workload-identity"
app = "orders-api"
deployment = "chat"
api_version = "2024-10-21"
"""


def test_workload_identity_with_a_stale_assertion(standin) -> None:  # type: ignore[no-untyped-def]
    standin(FEDERATED.replace("[client]\n", '[client]\nfederated_token = "expired"\n'))
    code, checks, _ = doctor()
    wi = checks["AOAI202"]
    assert wi["status"] == "fail" and problem(wi)["cause"] == "federated_token_expired"
    assert "AADSTS700024" in problem(wi)["message"]
    assert code == 1
    assert problem(checks["AOAI210"])["message"].startswith(
        "DefaultAzureCredential stops at WorkloadIdentityCredential"
    )


def test_workload_identity_succeeds(standin) -> None:  # type: ignore[no-untyped-def]
    s = standin(FEDERATED)
    code, checks, _ = doctor("--expect-credential", "WorkloadIdentityCredential")
    app = s.directory.app_by_name("orders-api")
    assert code == 0 and checks["AOAI202"]["status"] == "pass"
    assert f"app {app.client_id}" in checks["AOAI202"]["findings"][0]["message"]
    assert checks["AOAI210"]["findings"][0]["message"].startswith(
        "DefaultAzureCredential would use WorkloadIdentityCredential"
    )


def test_invalid_token_credentials_value() -> None:
    os.environ["AZURE_TOKEN_CREDENTIALS"] = "bogus"
    try:
        code, checks, _ = doctor()
    finally:
        del os.environ["AZURE_TOKEN_CREDENTIALS"]
    chain = problem(checks["AOAI210"])
    assert code == 1 and chain["cause"] == "config_invalid"
    assert chain["message"].startswith("Invalid value for AZURE_TOKEN_CREDENTIALS: bogus. Valid values are: dev, prod")


def test_healthy_service_principal_and_expectations(standin, tools, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    s = standin("healthy")
    app = s.directory.app_by_name("orders-api")
    code, checks, _ = doctor("--verify-chain")
    assert code == 0 and checks["AOAI201"]["status"] == "pass"
    messages = [f["message"] for f in checks["AOAI210"]["findings"]]
    assert messages[0].startswith(f"DefaultAzureCredential would use EnvironmentCredential: app {app.client_id}")
    assert "the real DefaultAzureCredential() agrees: EnvironmentCredential" in messages

    code, checks, _ = doctor("--expect-credential", "azureclicredential")
    assert code == 1
    assert problem(checks["AOAI210"])["message"] == "EnvironmentCredential wins, but AzureCliCredential was expected"
    assert problem(checks["AOAI210"])["cause"] == "wrong_identity_selected"

    monkeypatch.setenv("FAKE_AZ_TOKEN", user_token(s))
    tools("az")
    code, checks, _ = doctor()
    other = problem(checks["AOAI210"])
    assert code == 0 and other["severity"] == "warning" and other["cause"] == "wrong_identity_selected"
    assert other["message"].startswith("AzureCliCredential also works but yields another identity: user dev@")

    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")
    code, checks, _ = doctor()
    assert checks["AOAI210"]["findings"][0]["message"].startswith(
        "DefaultAzureCredential would use AzureCliCredential (AZURE_TOKEN_CREDENTIALS=dev)"
    )


def test_unknown_expected_credential_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["run", "--expect-credential", "AzureCliCredentail"])
    assert result.exit_code == 2
    assert "unknown source 'AzureCliCredentail' (did you mean 'AzureCliCredential'?)" in result.output


@pytest.mark.parametrize(
    ("mode", "status", "cause"),
    [
        ("not-logged-in", "skip", None),
        ("aadsts", "fail", "refresh_token_expired"),
        ("garbage", "fail", None),
    ],
)
def test_az_failure_modes(tools, monkeypatch, mode: str, status: str, cause: str | None) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_AZ_MODE", mode)
    tools("az")
    _code, checks, _ = doctor()
    az = checks["AOAI206"]
    assert az["status"] == status
    if mode == "not-logged-in":
        assert az["skip_reason"] == "unavailable: Please run 'az login' to set up an account"
    else:
        assert problem(az)["severity"] == "error"
        if cause:
            assert problem(az)["cause"] == cause
        # inside DefaultAzureCredential, az's failures only make it unavailable: the chain goes on
        assert "stops at AzureCliCredential" not in json.dumps(checks["AOAI210"])


def test_az_that_hangs_is_bounded(tools, monkeypatch, clean_env) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_AZ_MODE", "hang")
    tools("az")
    (clean_env / "checks.toml").write_text("[checks.AOAI206]\nbound = 1.5\n[checks.AOAI200]\ntool_timeout = 1.0\n")
    _code, checks, _ = doctor()
    az = problem(checks["AOAI206"])
    assert checks["AOAI206"]["status"] == "warn" and az["cause"] == "cli_timeout"
    assert az["message"] == "unavailable: Failed to invoke the Azure CLI" and "process_timeout" in az["fix"]
    assert checks["AOAI206"]["duration_ms"] < 10_000  # bounded by process_timeout, not the 60 s hang


def test_azd_and_pwsh(standin, tools, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    s = standin("healthy", env=False)
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FAKE_AZD_TOKEN", user_token(s, upn="azd@contoso.example"))
    monkeypatch.setenv("FAKE_PWSH_TOKEN", user_token(s, upn="pwsh@contoso.example"))
    tools("azd", "pwsh")
    code, checks, text = doctor()
    assert code == 0
    assert "user azd@contoso.example" in checks["AOAI208"]["findings"][0]["message"]
    assert "user pwsh@contoso.example" in checks["AOAI207"]["findings"][0]["message"]
    # PowerShell comes before azd in the chain
    assert checks["AOAI210"]["findings"][0]["message"].startswith(
        "DefaultAzureCredential would use AzurePowerShellCredential"
    )
    assert "azd azd version 1.11.0" in text and "pwsh 7.4.6" in text

    monkeypatch.setenv("FAKE_AZD_MODE", "not-logged-in")
    monkeypatch.setenv("FAKE_PWSH_MODE", "no-module")
    _code, checks, _ = doctor()
    assert checks["AOAI208"]["skip_reason"].startswith("unavailable: Please run 'azd auth login'")
    assert checks["AOAI207"]["skip_reason"].startswith("unavailable: Az.Account module >= 2.2.0 is not installed")


MI_SCENARIO = (
    FEDERATED.replace('[[apps.federated]]\nsubject = "system:serviceaccount:orders:orders-sa"\n', "")
    .replace('principal = "orders-api"', 'principal = "web"')
    .replace("[resource]", '[[managed_identities]]\nname = "web"\nkind = "system"\n\n[resource]')
)


@pytest.mark.parametrize("kind", ["managed-identity-app-service", "managed-identity-imds"])
def test_managed_identity_sources_succeed(standin, kind: str) -> None:  # type: ignore[no-untyped-def]
    s = standin(
        MI_SCENARIO.replace(
            'credential = "workload-identity"\napp = "orders-api"', f'credential = "{kind}"\nidentity = "web"'
        )
    )
    code, checks, _ = doctor()
    identity = s.directory.identity("web")
    assert checks["AOAI203"]["status"] == "pass", checks["AOAI203"]
    assert f"object id {identity.object_id}" in checks["AOAI203"]["findings"][0]["message"]
    assert checks["AOAI210"]["findings"][0]["message"].startswith(
        "DefaultAzureCredential would use ManagedIdentityCredential"
    )
    assert code == 0


def test_shared_token_cache(standin) -> None:  # type: ignore[no-untyped-def]
    text = (
        FEDERATED.replace(
            '[[apps]]\nname = "orders-api"\n[[apps.federated]]\nsubject = "system:serviceaccount:orders:orders-sa"\n',
            '[[users]]\nname = "alice"\n',
        )
        .replace('principal = "orders-api"', 'principal = "alice"')
        .replace(
            'credential = "workload-identity"\napp = "orders-api"', 'credential = "shared-token-cache"\nuser = "alice"'
        )
    )
    s = standin(text)
    code, checks, _ = doctor()
    assert checks["AOAI204"]["status"] == "pass", checks["AOAI204"]
    assert s.directory.user("alice").upn in checks["AOAI204"]["findings"][0]["message"]
    assert code == 0

    expired = text.replace('[[users]]\nname = "alice"\n', '[[users]]\nname = "alice"\nrefresh_token_expired = true\n')
    standin(expired)
    code, checks, _ = doctor()
    assert checks["AOAI204"]["status"] == "fail" and problem(checks["AOAI204"])["cause"] == "refresh_token_expired"
    assert problem(checks["AOAI210"])["message"].startswith(
        "DefaultAzureCredential stops at SharedTokenCacheCredential"
    )


# Errors that are not azure-identity's own ----------------------------------------------------------

HTML_MI = MI_SCENARIO.replace(
    'credential = "workload-identity"\napp = "orders-api"',
    'credential = "managed-identity-app-service"\nidentity = "web"',
) + ('\n[[faults]]\nservice = "managed-identity"\npath = "/"\nkind = "html-error"\nstatus = 200\n')


def test_html_from_the_identity_endpoint_is_diagnosed(standin) -> None:  # type: ignore[no-untyped-def]
    standin(HTML_MI)
    _code, checks, _ = doctor()
    mi = problem(checks["AOAI203"])
    assert checks["AOAI203"]["status"] == "fail"
    assert mi["detail"].startswith("JSONDecodeError: ")
    assert mi["cause"] == "proxy_misconfigured"
    assert problem(checks["AOAI210"])["message"].startswith("DefaultAzureCredential stops at ManagedIdentityCredential")


def test_missing_federated_token_file_is_diagnosed(standin, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    standin(FEDERATED)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(tmp_path / "gone" / "azure-identity-token"))
    _code, checks, _ = doctor()
    wi = problem(checks["AOAI202"])
    assert wi["detail"].startswith("FileNotFoundError: ") and wi["cause"] == "workload_identity_incomplete"
    env = problem(checks["AOAI200"])
    assert env["cause"] == "workload_identity_incomplete" and "cannot be read" in env["message"]


def test_a_token_echoed_in_an_error_is_scrubbed(standin, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The Azure Arc path puts the whole response body, access token included, in its error message."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    s = standin("healthy", env=False)
    token = user_token(s)
    body = json.dumps({"access_token": token, "expires_in": "3599", "token_type": "Bearer"}).encode()

    class Arc(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Arc)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        monkeypatch.setenv("IDENTITY_ENDPOINT", f"http://127.0.0.1:{port}/metadata/identity/oauth2/token")
        monkeypatch.setenv("IMDS_ENDPOINT", f"http://127.0.0.1:{port}")
        _code, checks, text = doctor()
    finally:
        server.shutdown()
    mi = checks["AOAI203"]
    assert "Azure Arc managed identity" in json.dumps(mi)
    for part in (token, *token.split(".")):
        assert part not in text and part not in json.dumps(checks)


def test_time_spent_before_the_winner_is_shown_with_the_setting_that_skips_it(  # type: ignore[no-untyped-def]
    standin, tools, monkeypatch
) -> None:
    import socket

    s = standin("healthy", env=False)
    monkeypatch.setenv("FAKE_AZ_TOKEN", user_token(s))
    tools("az")
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    port = hole.getsockname()[1]
    fillers = []
    for _ in range(3):  # fill the backlog: further connects are neither accepted nor refused
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{port}")
    try:
        _code, checks, _text = doctor()
    finally:
        for sock in (*fillers, hole):
            sock.close()
    messages = [f["message"] for f in checks["AOAI210"]["findings"]]
    assert messages[0].startswith("DefaultAzureCredential would use AzureCliCredential")
    note = next(f for f in checks["AOAI210"]["findings"] if "go to sources tried before" in f["message"])
    assert "most to ManagedIdentityCredential" in note["message"]
    assert note["fix"].startswith("export AZURE_TOKEN_CREDENTIALS=AzureCliCredential (or dev) skips them")
