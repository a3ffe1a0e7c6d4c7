"""Target resolution: precedence, value sources, and the errors for malformed sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aoai_doctor import config


def _resolve(tmp_path: Path, *, flags: config.Overrides | None = None, env: dict[str, str] | None = None,
             config_json: dict[str, object] | None = None, toml: str | None = None) -> config.Target:
    cj = None
    if config_json is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config_json))
        cj = config.load_config_json(path)
    checks = config.ChecksFile(None)
    if toml is not None:
        path = tmp_path / "checks.toml"
        path.write_text(toml)
        checks = config.load_checks_file(path, explicit=True)
    return config.resolve_target(flags or config.Overrides(), env or {}, cj, checks)


def test_flags_beat_env_beat_config_json_beat_checks_toml(tmp_path: Path) -> None:
    toml = '[target]\nendpoint = "https://t.openai.azure.com"\napi_version = "2024-02-01"\ndeployment = "t"\n'
    cj = {"OPENAI_API_BASE": "https://j.openai.azure.com", "OPENAI_API_VERSION": "2024-06-01"}
    env = {"AZURE_OPENAI_ENDPOINT": "https://e.openai.azure.com"}
    target = _resolve(tmp_path, flags=config.Overrides(api_version="2024-10-21"), env=env, config_json=cj, toml=toml)
    assert target.endpoint is not None and target.endpoint.value == "https://e.openai.azure.com"
    assert target.endpoint.source == "env AZURE_OPENAI_ENDPOINT"
    assert target.api_version is not None and target.api_version.source == "flag --api-version"
    assert target.deployments[0].source == "checks.toml:[target].deployment"
    target = _resolve(tmp_path, config_json=cj, toml=toml)
    assert target.endpoint is not None and target.endpoint.source == "config.json:OPENAI_API_BASE"
    assert target.api_version is not None and target.api_version.value == "2024-06-01"
    assert target.auth.value == "entra" and target.auth.source == "default"


def test_seed_config_json_names_deployments_by_kind(tmp_path: Path) -> None:
    target = _resolve(tmp_path, config_json={
        "OPENAI_API_BASE": "https://r.openai.azure.com", "COMPLETIONS_MODEL": "text-davinci-003",
        "EMBEDDING_MODEL": "embed", "OPENAI_API_VERSION": "2022-12-01"})
    kinds = [(d.name, d.kind) for d in target.deployments]
    assert kinds == [("text-davinci-003", "completion"), ("embed", "embedding")]
    assert target.deployments[0].source == "config.json:COMPLETIONS_MODEL"


def test_api_version_variables_that_disagree_are_a_conflict(tmp_path: Path) -> None:
    target = _resolve(tmp_path, env={"OPENAI_API_VERSION": "2024-10-21", "AZURE_OPENAI_API_VERSION": "2024-06-01"})
    assert target.api_version is not None and target.api_version.source == "env OPENAI_API_VERSION"
    assert len(target.conflicts) == 1 and "AZURE_OPENAI_API_VERSION" in target.conflicts[0]


def test_pasted_request_url_fills_deployment_and_api_version(tmp_path: Path) -> None:
    url = "https://myres.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    target = _resolve(tmp_path, flags=config.Overrides(endpoint=url))
    assert target.deployments[0].name == "gpt-4o" and target.deployments[0].kind == "chat"
    assert target.deployments[0].source == "recovered from flag --endpoint"
    assert target.api_version is not None and target.api_version.value == "2024-10-21"
    assert target.notes and "recovered" in target.notes[0]


def test_api_key_is_never_shown(tmp_path: Path) -> None:
    target = _resolve(tmp_path, env={"AZURE_OPENAI_API_KEY": "canary-key-0123456789abcdef"})
    assert target.api_key is not None and target.api_key.reveal() == "canary-key-0123456789abcdef"
    assert "canary" not in repr(target) and "canary" not in str(target.settings())
    assert target.settings()["api_key"].value == "(set)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "config.json: not valid JSON"),
        ('["a"]', "config.json: expected a JSON object"),
        ('{"OPENAI_API_BAS": "x"}', "unknown key 'OPENAI_API_BAS' in the object (did you mean 'OPENAI_API_BASE'?)"),
        ('{"OPENAI_API_BASE": 3}', "OPENAI_API_BASE must be a string"),
    ],
)
def test_config_json_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as err:
        config.load_config_json(path)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[target\n", "checks.toml: not valid TOML"),
        ('[target]\nendpont = "x"\n', "unknown key 'endpont' in [target] (did you mean 'endpoint'?)"),
        ("[tagret]\n", "unknown key 'tagret' in the top level (did you mean 'target'?)"),
        ('[run]\nselect = 3\n', "[run] select must be a list of strings"),
        ("[target]\napi_version = 2024\n", "[target] api_version must be a string"),
        ('[target]\nauth = "entraid"\n', "auth must be one of entra, api-key, not 'entraid' (did you mean 'entra'?)"),
    ],
)
def test_checks_toml_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "checks.toml"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as err:
        target_checks = config.load_checks_file(path, explicit=True)
        config.resolve_target(config.Overrides(), {}, None, target_checks)
    assert expected in str(err.value)


def test_missing_checks_file_is_fine_unless_named(tmp_path: Path) -> None:
    assert config.load_checks_file(tmp_path / "checks.toml", explicit=False).path is None
    with pytest.raises(config.ConfigError, match="file not found"):
        config.load_checks_file(tmp_path / "nope.toml", explicit=True)


def test_the_shipped_example_checks_toml_is_valid() -> None:
    shipped = Path(__file__).resolve().parent.parent / "checks.toml"
    parsed = config.load_checks_file(shipped, explicit=True)
    assert parsed.select == () and "AOAI104" in parsed.check_options


@pytest.mark.parametrize(("env", "expected"), [
    ({"AOAI_DOCTOR_GATEWAY_KEY_HEADER": "Authorization"}, "carries something else in the call"),
    ({"AOAI_DOCTOR_GATEWAY_KEY_HEADER": "content-length"}, "carries something else in the call"),
    ({"AOAI_DOCTOR_GATEWAY_KEY_HEADER": "x-ms-client-request-id"}, "carries something else in the call"),
    ({"AOAI_DOCTOR_GATEWAY_KEY_HEADER": "api-key", "AOAI_DOCTOR_AUTH": "api-key"}, "carries something else"),
    ({"AOAI_DOCTOR_GATEWAY_KEY_HEADER": "bad header"}, "is not an HTTP header name"),
    ({"AOAI_DOCTOR_ARM_ENDPOINT": "https://[::1"}, "is not an https:// URL"),
    ({"AOAI_DOCTOR_ARM_ENDPOINT": "http://management.azure.com"}, "is not an https:// URL"),
])
def test_gateway_and_resource_manager_settings_are_checked(tmp_path: Path, env: dict[str, str],
                                                            expected: str) -> None:
    with pytest.raises(config.ConfigError, match=expected):
        _resolve(tmp_path, env=env)


def test_a_gateway_key_is_a_secret_with_its_header(tmp_path: Path) -> None:
    target = _resolve(tmp_path, env={"AOAI_DOCTOR_GATEWAY_KEY": "k" * 32, "AOAI_DOCTOR_GATEWAY_KEY_HEADER": "api-key"})
    assert target.gateway_key is not None and target.gateway_key.reveal() == "k" * 32
    assert target.settings()["gateway_key"].value == "(set, header api-key)"
    assert "k" * 32 not in repr(target)


def test_the_route_in_a_project_or_v1_url_names_the_deployment_kind(tmp_path: Path) -> None:
    for endpoint in ("https://r.openai.azure.com/openai/v1/responses",
                     "https://r.services.ai.azure.com/api/projects/p/openai/v1/responses"):
        target = _resolve(tmp_path, env={"AZURE_OPENAI_ENDPOINT": endpoint, "AZURE_OPENAI_DEPLOYMENT": "d"})
        assert target.deployments[0].kind == "responses", endpoint
