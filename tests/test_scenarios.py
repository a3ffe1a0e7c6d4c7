"""Every built-in stand-in scenario through the whole doctor: its root cause is the first failing check,
with the right cause id; the healthy one passes everything. Real credentials, real HTTPS, real servers."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main
from aoai_doctor.standin import scenario_names

# scenario -> (first failing check, its cause)
EXPECTED: dict[str, tuple[str, str] | None] = {
    "healthy": None,
    "scope-missing-default": ("AOAI201", "scope_missing_default"),
    "missing-role": ("AOAI501", "role_assignment_missing"),
    "wrong-tenant": ("AOAI501", "wrong_tenant"),
    "deployment-not-found": ("AOAI501", "deployment_not_found"),
    "retired-api-version": ("AOAI103", "api_version_invalid"),
    "chat-model-on-completions": ("AOAI501", "operation_not_supported"),
    "rate-limited": ("AOAI501", "rate_limited"),
    "key-auth-disabled": ("AOAI501", "key_auth_disabled"),
    "regional-endpoint": ("AOAI102", "custom_subdomain_required"),
    "network-blocked": ("AOAI501", "network_blocked"),
    "expired-secret": ("AOAI201", "client_secret_expired"),
    "invalid-secret": ("AOAI201", "client_secret_invalid"),
    "mi-not-assigned": ("AOAI210", "managed_identity_not_assigned"),
    "service-hangs": ("AOAI501", "service_unavailable"),
    # The demo sends the scenario's prompt, which the filter blocks: a warning, not a failure.
    "content-filtered": None,
    "reasoning-model": None,
    "responses-api": None,
    "v1-api": None,
    "foundry-project": None,
    "foundry-project-missing-role": ("AOAI501", "role_assignment_missing"),
    "retired-model": ("AOAI501", "model_retired"),
    "apim-gateway-key-missing": ("AOAI501", "gateway_key_missing"),
}


def run_demo(scenario: str, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    """One demo run: the JSON report's checks (written to a file) and the verbose text report (stdout)."""
    with tempfile.TemporaryDirectory(prefix="aoai-doctor-demo-") as tmp:
        report = Path(tmp) / "report.json"
        result = CliRunner().invoke(
            main,
            ["demo", "--scenario", scenario, "-v", "--format", "json", "--output", str(report), "--format", "text",
             *args],
            catch_exceptions=False,
        )
        checks = json.loads(report.read_text(encoding="utf-8"))["checks"]
    return result.exit_code, checks, result.output


def test_every_shipped_scenario_is_covered() -> None:
    assert set(scenario_names()) == set(EXPECTED)


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_scenario_root_cause_is_the_first_failure(scenario: str, clean_env: Path) -> None:
    (clean_env / "checks.toml").write_text("[checks.AOAI501]\nread_timeout = 2.0\n")
    code, checks, text = run_demo(scenario, "--checks", "checks.toml")
    failing = [c for c in checks if c["status"] in ("fail", "error")]
    expected = EXPECTED[scenario]
    if expected is None:
        assert failing == [], failing
        assert code == 0
        call = next(c for c in checks if c["id"] == "AOAI501")
        assert call["status"] == ("warn" if scenario == "content-filtered" else "pass")
        return
    first = failing[0]
    problem = next(f for f in first["findings"] if f["severity"] == "error")
    assert (first["id"], problem["cause"]) == expected, json.dumps(first, indent=1)
    assert problem["fix"]
    assert code == 1
    assert "Traceback" not in text


def test_missing_role_fix_is_a_ready_command(clean_env: Path) -> None:
    _code, checks, _text = run_demo("missing-role")
    call = next(c for c in checks if c["id"] == "AOAI501")
    fix = call["findings"][0]["fix"]
    assert fix.startswith("az role assignment create --assignee-object-id ")
    assert "--assignee-principal-type ServicePrincipal" in fix
    assert '--role "Cognitive Services OpenAI User"' in fix and "5 minutes" in fix
    assert "deployments/chat/completions/action" in call["findings"][0]["message"]


def test_healthy_report_measures_and_reads_limits() -> None:
    _code, checks, _text = run_demo("healthy")
    by_id = {c["id"]: c for c in checks}
    latency = by_id["AOAI601"]["findings"][0]["message"]
    assert "total" in latency and "first byte" in latency and "token" in latency
    assert "remaining-requests=" in by_id["AOAI602"]["findings"][0]["message"]
    assert any("1 billable call made" in f["message"] for f in by_id["AOAI501"]["findings"])
    assert by_id["AOAI305"]["status"] == "pass"


def test_no_live_skips_the_billable_call() -> None:
    code, checks, _ = run_demo("healthy", "--no-live")
    by_id = {c["id"]: c for c in checks}
    assert code == 0 and by_id["AOAI501"]["skip_reason"].startswith("--no-live")
    assert by_id["AOAI601"]["status"] == "skip"


def test_repeat_and_stream() -> None:
    _code, checks, _ = run_demo("healthy", "--repeat", "4", "--concurrency", "2", "--stream")
    messages = [f["message"] for f in next(c for c in checks if c["id"] == "AOAI601")["findings"]]
    assert any(m.startswith("4 more calls at concurrency 2: p50") and "0 errors" in m for m in messages)
    assert any(m.startswith("streamed: first token after") for m in messages)


SEED_CACHE = """
description = "the seed: a signed-in user through the shared token cache, scope without /.default"
[[tenants]]
name = "contoso"
[[users]]
name = "alice"
[resource]
name = "contoso-openai"
[[deployments]]
name = "chat"
model = "gpt-4o-mini"
model_version = "2024-07-18"
[[role_assignments]]
principal = "alice"
role = "Cognitive Services OpenAI User"
[client]
credential = "shared-token-cache"
user = "alice"
deployment = "chat"
api_version = "2024-10-21"
scope = "https://cognitiveservices.azure.com"
"""


def test_the_seed_situation(clean_env: Path) -> None:
    path = clean_env / "seed.toml"
    path.write_text(SEED_CACHE)
    code, checks, text = run_demo(str(path))
    by_id = {c["id"]: c for c in checks}
    cache = by_id["AOAI204"]
    assert cache["status"] == "fail" and "AADSTS70011" in cache["findings"][0]["message"]
    assert cache["findings"][0]["cause"] == "scope_missing_default"
    scope = by_id["AOAI301"]["findings"][0]
    assert scope["cause"] == "scope_missing_default"
    assert scope["fix"] == "ask for https://cognitiveservices.azure.com/.default"
    assert "only hides the bug" in scope["detail"]
    assert code == 1 and "AzureCliCredential" in text
