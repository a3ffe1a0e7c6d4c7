"""Scenario files: strict parsing, defaults and the shipped library."""

from __future__ import annotations

import pytest

from aoai_doctor.standin import ScenarioError, load_scenario, scenario_names
from aoai_doctor.standin.scenario import CredentialKind, DeploymentKind, EndpointChoice, IdentityKind

MINIMAL = """
[[tenants]]
name = "contoso"

[resource]
name = "contoso-openai"

[client]
credential = "api-key"
"""


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_scenarios_load(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description
    assert scenario.client.deployment
    assert scenario.client.api_version


def test_minimal_defaults(scenario_file) -> None:
    scenario = load_scenario(scenario_file(MINIMAL))
    assert scenario.client.credential is CredentialKind.API_KEY
    assert scenario.client.endpoint is EndpointChoice.CUSTOM
    assert scenario.client.scope == "https://cognitiveservices.azure.com/.default"
    assert scenario.resource.region == "eastus"
    assert scenario.resource.custom_host == "contoso-openai.openai.azure.com"
    assert scenario.resource.regional_host == "eastus.api.cognitive.microsoft.com"
    assert scenario.tenants[0].domain == "contoso.onmicrosoft.com"


def test_ids_are_stable(scenario_file) -> None:
    first = load_scenario(scenario_file(MINIMAL, "a.toml"))
    second = load_scenario(scenario_file(MINIMAL, "b.toml"))
    assert first.tenants[0].id == second.tenants[0].id


def test_kind_is_inferred_from_model(scenario_file) -> None:
    text = MINIMAL + '\n[[deployments]]\nname = "e"\nmodel = "text-embedding-3-large"\n'
    text += '\n[[deployments]]\nname = "i"\nmodel = "gpt-35-turbo-instruct"\n'
    text += '\n[[deployments]]\nname = "c"\nmodel = "gpt-4o"\n'
    kinds = [d.kind for d in load_scenario(scenario_file(text)).deployments]
    assert kinds == [DeploymentKind.EMBEDDING, DeploymentKind.COMPLETION, DeploymentKind.CHAT]


def test_identity_kind(scenario_file) -> None:
    text = MINIMAL + '\n[[managed_identities]]\nname = "web"\nkind = "system"\n'
    assert load_scenario(scenario_file(text)).managed_identities[0].kind is IdentityKind.SYSTEM


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('\n[[apps]]\nname = "x"\nsecrett = true\n', "apps[0].secrett: unknown key"),
        ("\n[bogus]\n", "bogus: unknown key"),
        ('\n[[role_assignments]]\nprincipal = "nobody"\nrole = "Owner"\n', "role_assignments[0].principal"),
        (
            '\n[[apps]]\nname = "x"\n[[role_assignments]]\nprincipal = "x"\nrole = "Super User"\n',
            "unknown built-in role 'Super User'",
        ),
        (
            '\n[[deployments]]\nname = "d"\nmodel = "m"\nkind = "vision"\n',
            "deployments[0].kind: unknown value",
        ),
        (
            '\n[[deployments]]\nname = "d"\nmodel = "m"\nrpm = "10"\n',
            "deployments[0].rpm: expected an integer",
        ),
        ('\n[[faults]]\nkind = "explode"\n', "faults[0].kind: unknown value 'explode'"),
        ('\n[[apps]]\nname = "x"\ntenant = "nowhere"\n', "apps[0].tenant: unknown tenant 'nowhere'"),
        (
            '\n[[apps]]\nname = "x"\nclient_id = "not-a-guid"\n',
            "apps[0].client_id: 'not-a-guid' is not a GUID",
        ),
        ('\n[[apps]]\nname = "x"\ncertificate = "yes"\n', "apps[0].certificate: expected a boolean"),
    ],
)
def test_strict_errors_name_file_and_key(scenario_file, extra: str, message: str) -> None:
    head, client = MINIMAL.split("[client]")
    path = scenario_file(head + extra.replace("[client]", "") + "\n[client]" + client, "broken.toml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_unknown_client_key(scenario_file) -> None:
    path = scenario_file(MINIMAL + 'deploymnet = "chat"\n')
    with pytest.raises(ScenarioError, match=r"client\.deploymnet: unknown key"):
        load_scenario(path)


def test_missing_sections(scenario_file) -> None:
    with pytest.raises(ScenarioError, match="resource: is required"):
        load_scenario(scenario_file('[[tenants]]\nname = "t"\n[client]\ncredential = "api-key"\n'))
    with pytest.raises(ScenarioError, match="at least one"):
        load_scenario(scenario_file('[resource]\nname = "r"\n[client]\ncredential = "api-key"\n'))


def test_client_secret_credential_needs_an_app(scenario_file) -> None:
    path = scenario_file(MINIMAL.replace('"api-key"', '"client-secret"'))
    with pytest.raises(ScenarioError, match="needs an app"):
        load_scenario(path)


def test_bad_toml(scenario_file) -> None:
    with pytest.raises(ScenarioError, match="invalid TOML"):
        load_scenario(scenario_file("[[tenants]\n"))


def test_unknown_name() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'; built-in scenarios: "):
        load_scenario("nope")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "absent.toml")
