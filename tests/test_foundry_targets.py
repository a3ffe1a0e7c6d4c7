"""Today's targets through the config stage (AOAI1): Foundry projects, the Model Inference route, the v1 API and
AzureOpenAI pointed at it. The real command line, in-process, from an empty directory."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main

PROJECT = "https://NAME.services.ai.azure.com/api/projects/P"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, Any]]]:
    result = CliRunner().invoke(main, ["run", "--select", "AOAI1", "--format", "json", *args], env=env,
                                catch_exceptions=False)
    return result.exit_code, {c["id"]: c for c in json.loads(result.output)["checks"]}


def messages(check: dict[str, Any]) -> str:
    return "\n".join(f["message"] + " " + (f.get("detail") or "") + " " + (f.get("fix") or "")
                     for f in check["findings"])


def test_a_foundry_project_endpoint_is_a_valid_target() -> None:
    code, checks = run("--endpoint", PROJECT, "--deployment", "D")
    assert code == 0
    assert {c["status"] for c in checks.values()} == {"pass"}
    text = messages(checks["AOAI102"])
    assert "its OpenAI surface is https://name.services.ai.azure.com/api/projects/P/openai/v1" in text
    assert "token scope https://ai.azure.com/.default" in text
    assert "no api-version needed" in messages(checks["AOAI103"])


@pytest.mark.parametrize("suffix", ["/openai/v1", "/openai/v1/"])
def test_the_project_url_with_its_openai_surface_is_the_same_target(suffix: str) -> None:
    code, checks = run("--endpoint", "https://name.services.ai.azure.com/api/projects/_project" + suffix,
                       "--deployment", "D")
    assert code == 0
    assert "Foundry project '_project'" in messages(checks["AOAI102"])


def test_a_dated_version_on_a_project_is_the_azure_openai_client_pattern() -> None:
    code, checks = run("--endpoint", PROJECT, "--deployment", "D", env={"OPENAI_API_VERSION": "2024-10-21"})
    assert code == 0  # a warning
    (warning,) = checks["AOAI103"]["findings"]
    assert (warning["severity"], warning["cause"]) == ("warning", "api_version_invalid")
    assert "probably AzureOpenAI on" in warning["message"] and "/deployments/{model}" in warning["message"]
    assert 'OpenAI(base_url="https://name.services.ai.azure.com/api/projects/P/openai/v1/"' in warning["fix"]
    assert '"https://ai.azure.com/.default"' in warning["fix"] and "unset OPENAI_API_VERSION" in warning["fix"]


def test_a_v1_base_url_with_a_dated_version_gets_the_openai_client_fix() -> None:
    _code, checks = run("--endpoint", "https://myres.openai.azure.com/openai/v1/", "--deployment", "gpt-4o",
                        "--api-version", "2024-10-21")
    (warning,) = checks["AOAI103"]["findings"]
    assert warning["severity"] == "warning" and "openai/openai-python#2584" in warning["detail"]
    assert warning["fix"].startswith(
        'OpenAI(base_url="https://myres.openai.azure.com/openai/v1/", api_key=<token provider>)')
    assert "openai >= 1.106" in warning["fix"] and "drop --api-version" in warning["fix"]


@pytest.mark.parametrize(("version", "status"), [("v1", "pass"), ("preview", "pass"), ("latest", "warn")])
def test_v1_api_version_values(version: str, status: str) -> None:
    _code, checks = run("--endpoint", "https://myres.openai.azure.com/openai/v1", "--deployment", "d",
                        "--api-version", version)
    assert checks["AOAI103"]["status"] == status
    if status == "warn":
        assert "not a v1 API value" in checks["AOAI103"]["findings"][0]["message"]


def test_azure_openai_on_a_v1_base_url_in_a_pasted_url() -> None:
    url = "https://myres.openai.azure.com/openai/v1/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    code, checks = run("--endpoint", url, "--deployment", "gpt-4o")
    assert code == 1
    problem = next(f for f in checks["AOAI102"]["findings"] if f["severity"] == "error")
    assert problem["cause"] == "endpoint_wrong"
    assert "AzureOpenAI given a v1 base URL" in problem["message"]
    assert problem["fix"].startswith('OpenAI(base_url="https://myres.openai.azure.com/openai/v1/"')
    assert 'model="gpt-4o"' in problem["fix"]
    assert checks["AOAI103"]["status"] == "skip"


def test_the_model_inference_route_from_the_portals_target_uri() -> None:
    uri = "https://myres.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview"
    code, checks = run("--endpoint", uri, "--deployment", "Phi-4-mini-instruct")
    assert code == 0 and checks["AOAI102"]["status"] == "pass" and checks["AOAI103"]["status"] == "pass"
    text = messages(checks["AOAI102"])
    assert "Azure AI Model Inference route" in text and "'model' picks the deployment" in text
    assert "https://myres.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview" in text
    assert "recovered from flag --endpoint" in messages(checks["AOAI103"])


def test_the_model_inference_route_takes_its_own_version() -> None:
    _code, checks = run("--endpoint", "https://myres.services.ai.azure.com/models", "--deployment", "d")
    assert checks["AOAI103"]["status"] == "pass"
    assert "2024-05-01-preview" in messages(checks["AOAI103"])
    _code, checks = run("--endpoint", "https://myres.services.ai.azure.com/models", "--deployment", "d",
                        "--api-version", "2024-10-21")
    (warning,) = checks["AOAI103"]["findings"]
    assert (warning["severity"], warning["cause"]) == ("warning", "api_version_invalid")
    assert "api-version=2024-05-01-preview" in warning["fix"]


def test_a_project_path_on_the_openai_host_points_at_the_foundry_host() -> None:
    _code, checks = run("--endpoint", "https://myres.openai.azure.com/api/projects/p", "--deployment", "d",
                        "--api-version", "2024-10-21")
    warning = next(f for f in checks["AOAI102"]["findings"] if f["severity"] == "warning")
    assert warning["fix"].startswith("use https://myres.services.ai.azure.com/api/projects/p")
